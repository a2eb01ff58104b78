// Internal to lib/sg/apply: what a one-VM job reads instead of the whole
// host (narrow_read.cpp).  Not part of the layer's API: sg_apply.hpp is.
//
// Contract: narrow_scope() names every chain and set a change of these VMs
// can touch in our layout (vm_change.hpp): in iptables their three chains
// and BRIDGE-FIREWALL, which holds their jumps; in ip6tables the same
// chains, all optional (a host without the IPv6 layer has no
// BRIDGE-FIREWALL there, and a plan without ip6tables content must not
// need one); in ebtables their chain and
// FORWARD; in arptables (`with_arptables`) their chain and FORWARD; their
// sets (ours, either generation) and scratch sets a killed
// run left.  CloudStack vmops' per-rule sets of these VMs rule it out (a
// rule of another VM may share them: only the whole iptables table tells).
// scope_covers() checks, after planning, that every chain and set a plan
// names is in the scope, and that ip6tables' BRIDGE-FIREWALL was read when a plan
// has ip6tables content (what `required` is for iptables, checked after the
// read because only the plan tells whether it is needed); the caller reads
// everything when it is not.  A change that
// edits ebtables needs the whole ebtables table (ebtables-restore loads it
// whole): the caller reads it before loading.
#pragma once

#include <string>
#include <vector>

#include "firewall_io.hpp"
#include "vm_change.hpp"

namespace vifwall::apply_detail {

// `ipv6`: a VM has or had NICs with IPv6, so its ip6tables chains,
// ip6tables' BRIDGE-FIREWALL and the IPv6 gate are read too.
ReadScope narrow_scope(const std::vector<std::string> &vm_names, bool whole_ebtables, bool with_arptables,
                       bool ipv6 = false);

// `live`: what read_scope(scope) read.
bool scope_covers(const ReadScope &scope, const std::vector<VmTarget> &targets, const LiveFirewall &live);

} // namespace vifwall::apply_detail
