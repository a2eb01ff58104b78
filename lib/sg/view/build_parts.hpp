// Internal to lib/sg/view: the pieces build_view() (build_view.cpp) is made of,
// each in the file named for it.
//
// Contract: pure functions of the snapshot's tables.  owners_of() decides
// which VM a chain is (chain_owners() and build_view() both call it, so
// sg-diff and sg-show group rules the same way); the fill_* functions work
// on a VmView whose `chains`, `vifs` and `raw` build_view() has already
// filled, and read nothing else of it but the fields their comments name.
// Not part of the layer's API: sg_view.hpp is.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sg_view.hpp"

namespace vifwall::view_detail {

// ---- chain_owners.cpp --------------------------------------------------------

// Chain name -> VM name, for the chains of the VMs we know by name (hashed
// chain names of long VM names).
using ChainAlias = std::map<std::string, std::string>;
ChainAlias known_chain_names(const std::vector<std::string> &known_vms);

// The VM of every chain of `table` that names one (recognize_chain); an
// older-generation iptables default chain goes to the VM whose chains it
// jumps to.  `iptables`: the table is iptables or ip6tables.
std::map<std::string, std::string> owners_of(const FwTable &table, bool iptables, const ChainAlias &alias);

// The VIFs of the rules of `table` that are a VM's (in its chains or jumping
// to them), to that VM, into `gate_vifs` (the first VM found keeps a VIF).
void add_gate_vifs(const FwTable &table, const std::map<std::string, std::string> &owners,
                   std::map<std::string, std::string> &gate_vifs);

// The VM an ebtables rule of the IPv6 gate (kIpv6Gate) lets through: the
// owner of the first VIF it names; "" for any other rule.
std::string gate_rule_owner(const FwRule &rule, const std::map<std::string, std::string> &gate_vifs);

// ---- vm_identity.cpp ---------------------------------------------------------

// The VM's iptables chains by role, its naming generation, its own address
// set and addresses (`members`: set_members_of the dump; `snapshot` for
// whether an ipset dump was read) and its MAC.  Reads chains, raw.
void fill_identity(VmView &vm, const FirewallSnapshot &snapshot, const SetMembers &members);

// The user VM's NICs (ViewNic): the VIFs grouped by the set their -def
// rules check (iptables and ip6tables), the sets' members, each NIC's MAC.
// Reads system, name, vifs, def_chain, def6_chain, ipset, chains, raw
// (after fill_identity).
void fill_nics(VmView &vm, const FirewallSnapshot &snapshot, const SetMembers &members);

// The anti-spoofing protections of a user VM and the VIFs each covers, for
// the VM and for each of its NICs.  Reads system, vifs, def_chain,
// def6_chain, chains, raw, nics (after fill_nics).
void fill_protections(VmView &vm);

// ---- vmops_traits.cpp --------------------------------------------------------

// vmops' MAC checks of the ebtables nat table (PREROUTING) to the VM whose
// VIF they name (as raw rules of table "ebtables-nat"), or to the host's
// leftovers when no VM has the VIF.  After every filter table was added.
void add_nat_rules(std::map<std::string, VmView> &vms, HostView &host, const FwTable &nat);

// The VM's vmops traits and leftovers: the vmops-named sets its rules use,
// its MAC checks in nat, rules of shared chains that appear twice, and
// vmops-named sets of the VM that no rule uses (added to sets and
// unused_sets too).  Reads name, raw, sets (after fill_sets).  `unused`:
// unused_sets_of(snapshot), built once for every VM (a scan of every rule
// and set per VM made the view of 1000 VMs quadratic).
void fill_vmops_traits(VmView &vm, const std::vector<const IpSet *> &unused);

// The snapshot's sets that no iptables or ip6tables rule matches, in the
// dump's order (empty when the sets were not read).
std::vector<const IpSet *> unused_sets_of(const FirewallSnapshot &snapshot);

// Sets in vmops' per-rule naming that no rule uses and no VM claims, as
// host leftovers (their VM is gone: vmops' destroy misses the sets of
// names over 14 characters).  `unused`: unused_sets_of(snapshot).
void find_orphan_vmops_sets(FirewallView &view, const std::vector<const IpSet *> &unused);

// ---- drop_counts.cpp ---------------------------------------------------------

// The VM's drops (DropCount), from its DROP rules' counters.  Reads system,
// ingress_chain, egress_chain, def_chain, raw.
void fill_drops(VmView &vm);

// The host's drops: each DROP rule of host.raw, then each built-in chain of
// the snapshot's filter tables whose policy is DROP.
void fill_host_drops(HostView &host, const FirewallSnapshot &snapshot);

} // namespace vifwall::view_detail
