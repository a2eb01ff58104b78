// What the files of sg-diff's engine share, and nothing else: not part of
// sg_compare.hpp's API, not for other folders.
//
//   compare_inputs.cpp   where desired and running come from (state files,
//                        rules, another snapshot; the host map's running VMs)
//   sg_compare.cpp       compare_firewall(): which VMs, the live tables
//                        indexed once, per-VM verdicts, what was not read
//   compare_vm.cpp       one VM (per table, its VIFs) and the host setup
//   match_rules.cpp      the rules of one chain, and of the shared chains
//   print_comparison.cpp the comparison as text, summary and JSON (one walk
//                        through report::Printer, print_sink.hpp)
//
// The contract:
//  - Every comparison appends to the `out` list it is given, in the order the
//    findings are made (that order is the report's order), and to `unread`
//    what it could not judge because a table was not read.  The one removal:
//    compare_vm() folds its VM's findings about a stale VIF into one.
//  - A Context and its TableIndex are built once per compare_firewall() and
//    are read-only afterwards; they point into the FirewallSnapshot, which
//    must outlive them.  Rules are never copied out of the snapshot: indexes
//    hold pointers (the sg-diff of 1000 VMs is benchmarked).
//  - Names of tables in findings are table_name()'s ("iptables", ...) and
//    "ipset"; "" for findings about a whole VM.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "firewall_snapshot.hpp"
#include "sg_compare.hpp"
#include "sg_view.hpp"
#include "text.hpp"

namespace vifwall::compare_detail {

using Args = std::vector<std::string>;

inline bool contains(const std::vector<std::string> &list, const std::string &value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

using vifwall::join_strings;

// "iptables", "ip6tables", "ebtables", "arptables".
std::string table_name(Family family);

// The snapshot's table of `family`, or nullptr when it was not read.
const FwTable *live_table(const FirewallSnapshot &actual, Family family);

// chain_owners()'s map for `family` and one chain's owner
// in it ("" for a chain of no VM).
const std::map<std::string, std::string> &owners_for(const ChainOwners &owners, Family family);

inline std::string owner_of(const std::map<std::string, std::string> &owners,
                            const std::string &chain) {
  auto found = owners.find(chain);
  return found == owners.end() ? std::string() : found->second;
}

// What could not be compared: table ("arptables", "ipset") -> whose rules
// (VM names, "the host setup"), in the order they were found.
using Unread = std::map<std::string, std::vector<std::string>>;

// One live table, indexed once for all VMs.
struct TableIndex {
  RulesByChain by_chain;
  // VM -> the rules of chains not its own that jump to its chains (FORWARD,
  // BRIDGE-FIREWALL).
  std::map<std::string, std::vector<const FwRule *>> jumps_to;
  // VM -> its chains, in the table's order.
  std::map<std::string, std::vector<std::string>> chains_of;

  const std::vector<std::string> &chains_owned_by(const std::string &vm) const {
    static const std::vector<std::string> none;
    auto found = chains_of.find(vm);
    return found == chains_of.end() ? none : found->second;
  }

  const std::vector<const FwRule *> &rules_of(const std::string &chain) const {
    static const std::vector<const FwRule *> none;
    auto found = by_chain.find(chain);
    return found == by_chain.end() ? none : found->second;
  }
};

// The live side of a comparison: the snapshot, its set members, its tables
// indexed (only the tables that were read).
struct Context {
  const FirewallSnapshot &actual;
  SetMembers live_sets;
  std::map<Family, TableIndex> index;

  const TableIndex &indexed(Family family) const {
    static const TableIndex none;
    auto found = index.find(family);
    return found == index.end() ? none : found->second;
  }
};

// ---- match_rules.cpp ---------------------------------------------------------

// The rules of one chain we own, desired (`want`, their sets `want_sets`)
// against live (`have`), in order: changed (moved, other set members,
// another default), missing, then extra or foreign.  `vm_chains`: the VM's
// chains, which its rules may jump to.
void compare_chain(Family family, const std::string &chain, const std::vector<Args> &want,
                   const SetMembers &want_sets, const std::vector<const FwRule *> &have,
                   const Context &ctx, const std::set<std::string> &vm_chains,
                   std::vector<Difference> &out);

// A rule of ours in a chain shared with others (a jump in FORWARD).
struct SharedRule {
  std::string chain;
  Args args;
};

// Shared rules as a multiset, by meaning: the desired ones not in `have` are
// missing, the rules of `have` left over are `unmatched_kind(rule)`.
void compare_shared(Family family, const std::vector<SharedRule> &want,
                    const std::vector<const FwRule *> &have, const Context &ctx,
                    const std::function<DiffKind(const FwRule &)> &unmatched_kind,
                    std::vector<Difference> &out);

// Interfaces named like VIFs anywhere in a rule, each once.
std::vector<std::string> mentioned_vifs(const Args &args);

// ---- compare_vm.cpp ----------------------------------------------------------

// One VM with a desired state: its tables, its sets, and when `running` is
// known its VIFs (`interfaces`: dom0's, nullptr when unknown).  `view`:
// the VM's rules as build_view() found them, nullptr for none.
void compare_vm(const std::string &vm, const DesiredVm &desired, const VmView *view,
                const RunningVm *running, const std::vector<std::string> *interfaces,
                const Context &ctx, VmComparison &result, Unread &unread);

// The host setup (`desired.host`, which must be set) into `out`.
void compare_host(const DesiredFirewall &desired, const ChainOwners &owners, const Context &ctx,
                  std::vector<Difference> &out, Unread &unread);

} // namespace vifwall::compare_detail
