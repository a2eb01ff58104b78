// Internal to lib/sg: the pieces sg_render.cpp (IPv4, ebtables, ARP, the
// restore formats) and sg_render_ipv6.cpp (the ip6tables twin) share.  Not
// part of the layer's API: sg_render.hpp is.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "sg_render.hpp"

namespace vifwall::render_detail {

using Args = std::vector<std::string>;

// "-m physdev [--physdev-in IN] [--physdev-out OUT] --physdev-is-bridged"
Args physdev(const std::string &in, const std::string &out);
Args concat(std::initializer_list<Args> parts);
// "-m set [!] --match-set SET src|dst"
Args match_set(const std::string &set, const char *direction, bool negate);
inline Args jump(const std::string &target) { return {"-j", target}; }

// The protocol part of an SG rule in iptables, and whether it gets
// "-m state --state NEW".
struct ProtocolArgs {
  Args args;
  bool stateful = true;
};
ProtocolArgs protocol_args(const SgRule &rule);

// A NIC after validation: what the renderers of both families read.
struct CheckedNic {
  int device = 0;
  std::string ip;                          // primary IPv4
  std::vector<std::string> secondary_ips;  // IPv4, without the primary
  std::vector<std::string> ipv6;           // canonical, link-local first
  std::string mac;                         // validate_mac's form
  std::vector<std::string> vifs;
  std::string set4, set6;                  // nic_set_name(); set6 empty without IPv6
};

// The ip6tables <c>-def rules of one VIF of `nic` (sg_render.hpp's
// render_user_vm_defaults lists them), appended to `def`.
void append_ipv6_def_rules(ChainContent &def, const CheckedNic &nic, const std::string &vif,
                           const VmNames &names);

// "-m u32 --u32 EXPR" matching an ICMPv6 neighbour advertisement whose
// target is `address` (canonical IPv6), written as ip6tables-save prints it.
Args nd_target_match(const std::string &address);

// One SG rule's IPv6 CIDRs (the "any" ::/0 folded into one rule) rendered
// into `chain` with `protocol` (the rule's protocol words for ip6tables),
// ACCEPT (ingress) or RETURN (egress).
void append_ipv6_rule(ChainContent &chain, const SgRule &rule, const std::vector<std::string> &cidrs,
                      bool any);

// "a.b.c.d/n" or an IPv6 CIDR with its host bits cleared, as `ipset save`
// prints hash:net members: a host without "/32" ("/128").
std::string canonical_set_member(const std::string &cidr);

} // namespace vifwall::render_detail
