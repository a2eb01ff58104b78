// Internal to lib/sg/apply: the bridge netfilter sysctls a table needs
// (bridge_sysctls.cpp).  Not part of the layer's API: sg_apply.hpp is.
//
// Contract: pure reads of files under `proc_sys` (/proc/sys, or a test's
// directory); nothing is set (sg-apply does not set sysctls, as vmops does
// not).  A failure's message names the file or the sysctl and the fix, so
// that setup can list it as a problem as it is.
#pragma once

#include <string>

#include "error.hpp"

namespace vifwall::apply_detail {

// <proc_sys>/net/bridge/<knob> ("bridge-nf-call-iptables") holds "1":
// bridged frames pass that family's FORWARD.  Fails with "<path> is missing:
// load the bridge netfilter module (modprobe br_netfilter)" or
// "net.bridge.<knob> is not 1: run `sysctl -w net.bridge.<knob>=1` and add it
// to /etc/sysctl.conf".
Result<void> check_bridge_sysctl(const std::string &proc_sys, const std::string &knob);

// The same for the IPv6 layer: net.bridge.bridge-nf-call-ip6tables, without
// which bridged IPv6 never meets ip6tables (every VM's IPv6 unfiltered).
Result<void> check_bridge_ip6tables(const std::string &proc_sys);

} // namespace vifwall::apply_detail
