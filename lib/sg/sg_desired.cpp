#include "sg_desired.hpp"

#include "sg_names.hpp"
#include "sg_rules.hpp"
#include "text.hpp"

namespace vifwall {

Result<VmPlan> plan_for_vm(const VmState &state, const std::vector<SgRule> &rules, char generation,
                           ArpFilter arp) {
  if (state.kind == VmKind::system)
    return render_system_vm(state.vm_name, state.vifs);
  const VmIdentity identity{state.vm_name, state.vm_id, state.ip,   state.secondary_ips,
                            state.mac,     state.vifs,  state.ipv6, state.other_nics};
  auto plan = render_user_vm_defaults(identity, arp);
  if (!plan)
    return plan;
  auto rule_plan =
      render_vm_rules(names_for_vm(state.vm_name), rules, generation, has_ipv6(identity));
  if (!rule_plan)
    return tl::unexpected(rule_plan.error());
  append_plan(*plan, *rule_plan);
  return plan;
}

Result<VmPlan> plan_for_state(const VmState &state) {
  std::vector<SgRule> rules;
  if (!state.rules.empty()) {
    auto parsed = parse_rule_string(state.rules, state.vm_name + ".state");
    if (!parsed)
      return tl::unexpected(parsed.error());
    rules = std::move(*parsed);
  }
  return plan_for_vm(state, rules, state.generation, parse_arp_filter_name(state.arp_filter));
}

std::string host_state_path(const std::string &state_dir) { return state_dir + "/_host.state"; }

std::string format_host_state(const HostSetupState &state) {
  std::string out = "vifwall-host 1\nuplinks";
  for (const auto &uplink : state.uplinks)
    out += " " + uplink;
  out += std::string("\narp-filter ") + to_string(state.arp_filter) + "\n";
  if (state.ipv6)
    out += "ipv6 yes\n";
  return out;
}

Result<HostSetupState> parse_host_state(std::string_view raw, const std::string &source) {
  const std::string text = clean_text(raw);
  const auto lines = split_lines(text);
  if (lines.empty() || trim(lines.front().text) != "vifwall-host 1")
    return fail(source, 1, "expected \"vifwall-host 1\" (written by sg-apply setup)");
  HostSetupState state;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto words = split_blanks(lines[i].text);
    if (words.empty() || words[0].front() == '#')
      continue;
    if (words[0] == "uplinks")
      for (std::size_t k = 1; k < words.size(); ++k)
        state.uplinks.emplace_back(words[k]);
    else if (words[0] == "arp-filter" && words.size() == 2)
      state.arp_filter = parse_arp_filter_name(std::string(words[1]));
    else if (words[0] == "ipv6" && words.size() == 2)
      state.ipv6 = words[1] == "yes";
  }
  return state;
}

ArpFilter parse_arp_filter_name(const std::string &name) {
  return name == "ebtables" ? ArpFilter::ebtables : ArpFilter::arptables;
}

const char *to_string(ArpFilter filter) {
  return filter == ArpFilter::ebtables ? "ebtables" : "arptables";
}

} // namespace vifwall
