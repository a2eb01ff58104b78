// A VM that CloudStack's own plugin (vmops) programmed, as the record
// sg-apply keeps of the VMs it programs (VmState): what `sg-apply takeover`
// applies in sg-apply's layout, and what sg-diff compares such a VM with
// before any takeover.
//
// Where each fact comes from:
//   identity (vmID, IP, dom-id, signature, seqno, MAC)  CloudStack's <vm>.log
//   secondary IPs                                       its <vm>.ip ("name,ip;ip;,id"),
//                                                       else the VM set minus the IP
//   MAC when the log has none (KVM's 6 fields)           the anti-spoofing rules
//   VIFs                                                 the live jumps (view)
//   ingress and egress rules                             the live chains read back
//
// Contract: pure.  Refuses, naming the rule, a VM whose chains hold a rule
// vmops does not write (an admin's, another tool's) or whose defaults are
// not vmops' (ingress not ending in DROP, egress with rules not ending in
// DROP): taking it over would change what it lets through.  A user VM
// whose ingress chain has no final rule yet (network_rules never ran) is
// adopted with its defaults only (rules_applied = false).
#pragma once

#include <optional>
#include <string>

#include "error.hpp"
#include "sg_state.hpp"
#include "sg_view.hpp"

namespace vifwall {

struct AdoptSources {
  RuleLog log;                        // <vm>.log
  std::optional<std::string> ip_file; // <vm>.ip's text, when there is one
  std::string log_path, ip_path;      // for messages
  std::string arp_filter = "arptables"; // how sg-apply is to filter ARP
};

Result<VmState> adopt_vm_state(const VmView &view, const AdoptSources &sources);

} // namespace vifwall
