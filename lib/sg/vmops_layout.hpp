// What CloudStack's own XenServer plugin (vmops) leaves in a host's firewall
// that sg-apply's layout does not have, so that a host vmops programmed can
// be described (sg-show, sg-diff) and taken over (sg-apply takeover) --
// cloudstack-sg.md §1, §2b, §5.
//
// Most of vmops' layout is sg-apply's (same chains, same VM set, same -def
// rules); what differs:
//  * per-rule ipsets in vmops' naming: <prefix><p><start>_<end> and
//    <prefix>_<p>_any, where the prefix is the chain name (its first 13
//    characters for i-/r- names over 14), "-e" added for egress, p the first
//    letter of the protocol (i-2-3-VMt22_22, i-2-3-VM-eu53_53,
//    i-2-3-VM_i_any); before 4.9: <chain>_<protocol>_<start>_<end> and
//    <chain>-eg_... (i-2-3-VM_tcp_22_22);
//  * the MAC check in the ebtables nat table: PREROUTING -i VIF -s ! MAC -j
//    DROP (vmops tries nat first), which destroy never removes;
//  * its leftovers: duplicated jumps (default_network_rules run twice for
//    one dom-id), rule sets of long names that destroy misses.
//
// Pure functions of names and rule words.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netfilter.hpp"

namespace vifwall {

// The prefixes of a VM's per-rule sets in vmops' naming, current and
// pre-4.9, ingress and egress ("i-2-3-VM", "i-2-3-VM-e", "i-2-3-VM_",
// "i-2-3-VM-eg_").
std::vector<std::string> vmops_rule_set_prefixes(const std::string &vm_name);

// Whether `set_name` is one of the VM's per-rule sets in vmops' naming
// (either generation).  The 13-character prefix of long names is shared by
// VMs whose names start alike, so callers must still check that no other
// VM's rule uses the set.
bool is_vmops_rule_set_of(const std::string &set_name, const std::string &vm_name);

// Whether a set name has the shape of a vmops per-rule set of some VM
// (i-/r-/s-/v-/l- and a digit, then a rule suffix): for the sweep of sets
// whose VM is gone.
bool looks_like_vmops_rule_set(const std::string &set_name);

// vmops' MAC check in the ebtables nat table: a PREROUTING rule that is
// exactly "-i VIF -s ! MAC -j DROP" (words in any order, "! -s" too).  The
// VIF when it is one; nullopt for any other rule.
std::optional<std::string> vmops_nat_mac_rule_vif(const FwRule &rule);
// ... and its MAC.
std::optional<std::string> vmops_nat_mac_rule_mac(const FwRule &rule);

// Rules that occur more than once in a chain of `table` (same chain, same
// words): every copy after the first, by 1-based position.
struct DuplicateRule {
  std::string chain;
  std::vector<std::string> args;
  std::size_t position = 0;
};
std::vector<DuplicateRule> duplicate_rules(const FwTable &table, const std::string &chain);

} // namespace vifwall
