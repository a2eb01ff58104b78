// What the firewall should hold, from what sg-apply recorded: the one place
// that turns a VmState (and the host's setup record) into a VmPlan, shared by
// sg-apply (to diff before loading) and sg-diff (to check the live firewall
// against the state directory with no other input).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "sg_render.hpp"
#include "sg_state.hpp"

namespace vifwall {

// A user VM's defaults plus its rules (rendered with `generation`), or a
// system VM's chain.  `rules` are the VM's parsed rules (state.rules).
Result<VmPlan> plan_for_vm(const VmState &state, const std::vector<SgRule> &rules,
                           char generation, ArpFilter arp);

// plan_for_vm() with the state's own rules, generation and ARP filter.
Result<VmPlan> plan_for_state(const VmState &state);

// <state-dir>/_host.state, written by `sg-apply setup` ("_" cannot start a VM
// name, so it never collides with <vm>.state).
struct HostSetupState {
  std::vector<std::string> uplinks;
  ArpFilter arp_filter = ArpFilter::arptables;
  bool ipv6 = false; // setup --ipv6: the IPv6 layer (ip6tables twin, ebtables gate)
  bool operator==(const HostSetupState &) const = default;
};
std::string host_state_path(const std::string &state_dir);
std::string format_host_state(const HostSetupState &state);
Result<HostSetupState> parse_host_state(std::string_view text, const std::string &source);

ArpFilter parse_arp_filter_name(const std::string &name); // "ebtables" -> ebtables, else arptables
const char *to_string(ArpFilter filter);

} // namespace vifwall
