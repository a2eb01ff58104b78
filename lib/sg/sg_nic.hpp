// A user VM's NICs beyond the first, as sg-apply renders and records them.
//
// NIC 0 is the VM's own ip/mac/vifs (the values CloudStack's calls and its
// rule log carry); each further NIC is a VmNic with its own MAC and
// addresses, filtered on its own VIFs against its own sets (sg_names.hpp's
// nic_set_name), under the VM's one pair of ingress and egress chains.
#pragma once

#include <string>
#include <vector>

namespace vifwall {

// Xen numbers a VM's VIF devices from 0; XenServer allows up to 16 (0..15)
// in its VM templates, and the per-NIC set names leave room for two digits.
inline constexpr int kMaxNicDevice = 15;

struct VmNic {
  int device = 1;                          // 1..kMaxNicDevice
  std::string ip;                          // primary IPv4
  std::vector<std::string> secondary_ips;  // IPv4
  // Its IPv6 addresses (global or unique local); the link-local address the
  // guest derives from `mac` (link_local_from_mac) is allowed as well.
  std::vector<std::string> ipv6;
  std::string mac;
  std::vector<std::string> vifs;           // vif<domid>.<device> [, tap<domid>.<device>]
  bool operator==(const VmNic &) const = default;
};

} // namespace vifwall
