// Internal to lib/sg/apply: the change, what a run wants to do to each table
// (vm_change.cpp).  Not part of the layer's API: sg_apply.hpp is.
//
// Contract: pure functions of the live firewall as read and the plans.  A
// Change holds, per table, the smallest edit (diff_table) that makes the
// live table hold the plans and nothing else of the VMs', the ipsets to load
// and to destroy, the VIFs to cut off while the tables change and whether
// that wall is needed, and what a rollback needs to tell our rules from
// anybody else's.  Nothing here runs a command: transaction.hpp loads a
// Change.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "firewall_io.hpp"
#include "sg_plan.hpp"
#include "sg_render.hpp"

namespace vifwall::apply_detail {

// One VM's (or the host setup's) change across all tables.
struct Change {
  std::string what; // "i-2-3-VM" or "host setup"
  // ip6tables: the IPv6 twin of iptables (same chain names and "ours",
  // its own table, family-agnostic restore text).
  TableEdit iptables, ip6tables, ebtables, arptables;
  bool use_arptables = false;
  std::vector<SetContent> sets_to_load;
  std::vector<std::string> existing_sets; // of sets_to_load, those that exist
  bool refills_existing_set = false;
  std::vector<std::string> sets_to_destroy;
  // CloudStack's vmops MAC checks in the ebtables nat table for the VMs'
  // VIFs (vmops_layout.hpp): deleted once the filter table holds ours (or
  // the VM is gone).  Positions are those of the live PREROUTING chain.
  std::vector<RuleDeletion> nat_deletions;
  std::vector<std::string> quarantine_vifs;
  bool quarantine = false;
  // For rollbacks.
  std::set<std::string> owned_ipt, owned_ip6, owned_eb, owned_arp;
  IsOurs ours_ipt, ours_ip6, ours_eb, ours_arp;

  bool empty() const {
    return iptables.empty() && ip6tables.empty() && ebtables.empty() && arptables.empty() &&
           sets_to_load.empty() && sets_to_destroy.empty() && nat_deletions.empty();
  }
};

// The VMs of a change for messages: their names, or for a batch of many
// "1000 VMs (i-2-1-VM, i-2-2-VM, ..., i-2-1000-VM)", so that what failed
// stays on screen after the names.
std::string describe_vms(const std::vector<std::string> &names);

// What the live firewall holds, by name, in one pass: tells without a diff
// whether VMs have anything in it yet (a chain, a jump to one, a wall rule
// of their VIFs, a set).  Families are not told apart: a name found
// anywhere (iptables, ip6tables, ebtables, arptables) counts (at worst a
// wall too many).
struct LiveIndex {
  std::unordered_set<std::string> chains_and_targets;
  std::unordered_set<std::string> walled_vifs; // VIFs with a cut-off rule
  std::unordered_set<std::string> sets, set_bases;
};
LiveIndex index_live(const LiveFirewall &live);

// Whether the live firewall holds anything of VMs with these names and VIFs.
bool has_live_objects(const LiveIndex &index, const std::vector<std::string> &vm_names,
                      const std::set<std::string> &vifs);

// ebtables-nft cannot give a user chain any policy but RETURN (it accepts
// and ignores ACCEPT).  The plan of what it will really hold (`nft`: the
// host's ebtables is ebtables-nft), or every run would find the chain
// "different" and rewrite it.  RETURN is the stricter one: a frame that
// passes a VM's chain still meets the other rules of FORWARD.
TablePlan ebtables_plan(TablePlan plan, bool nft);

// One VM's part of a change: its name, its desired plan (nullopt: remove
// everything of it) and the VIFs the plan uses.
struct VmTarget {
  std::string vm_name;
  std::optional<VmPlan> plan;
  std::vector<std::string> vifs;
};

// The change that makes the live tables hold every target's plan.  The
// VMs' objects are disjoint (their own chains and sets, jumps to them), so
// their plans are combined and diffed once: one load per table for all.
// `index`: index_live(live), when the caller has it (else made here).
// `ebtables_nft` as for ebtables_plan().
Change vm_change(const LiveFirewall &live, const std::vector<VmTarget> &targets, bool ebtables_nft,
                 const LiveIndex *index = nullptr);

// The host setup's change (`sg-apply setup`): the host-wide chains of `plan`
// in iptables, ip6tables and ebtables; arptables and ipsets are not touched.
// An empty ip6tables plan leaves ip6tables alone: tearing the IPv6 layer
// down would let the IPv6 traffic of VMs that still have ip6tables chains
// past them (FORWARD no longer jumping to BRIDGE-FIREWALL).
Change host_setup_change(const LiveFirewall &live, const VmPlan &plan, bool ebtables_nft);

// One line per table the change edits: "i-2-3-VM: iptables +12 -0 rules",
// "i-2-3-VM: ip6tables +4 -0 rules".
std::vector<std::string> change_summary(const Change &change);

} // namespace vifwall::apply_detail
