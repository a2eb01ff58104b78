#include "adopt.hpp"

#include <algorithm>

#include "model.hpp"
#include "netfilter.hpp"
#include "sg_render.hpp"
#include "sg_names.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

namespace {

// "name,ip;ip;,id" -> the secondary IPs (none for "0;").
std::optional<std::vector<std::string>> secondary_ips_of(const std::string &text, const std::string &source) {
  const std::string line(trim(text));
  const auto first = line.find(',');
  const auto last = line.rfind(',');
  if (first == std::string::npos || last == first)
    return std::nullopt;
  auto ips = parse_secondary_ips(line.substr(first + 1, last - first - 1), source);
  if (!ips)
    return std::nullopt;
  return *ips;
}

// vif<d>.<n> before tap<d>.<n>, then by device: the order sg-apply resolves them in.
std::vector<std::string> ordered_vifs(const VmView &view) {
  std::vector<std::string> vifs;
  for (const auto &vif : view.vifs)
    vifs.push_back(vif.name);
  std::sort(vifs.begin(), vifs.end(), [](const std::string &a, const std::string &b) {
    const auto pa = parse_vif_name(a), pb = parse_vif_name(b);
    if (!pa || !pb)
      return a < b;
    if (pa->device != pb->device)
      return pa->device < pb->device;
    return pa->kind == VifKind::vif && pb->kind != VifKind::vif;
  });
  return vifs;
}

Result<void> refuse(const VmView &view, const std::string &why) {
  return fail(view.name, 0,
              "expected the layout CloudStack's vmops writes, got " + why +
                  ": taking it over would change what the VM lets through (remove that rule, or program the VM "
                  "with `sg-apply rules`)");
}

// The words vmops writes for `rule` (cloudstack-sg.md §3): a set match when
// it has a set, ICMP without a state match, ACCEPT in ingress and RETURN in
// egress.
std::vector<std::string> vmops_words(const ReadBackRule &rule) {
  const SgRule &sg = rule.sg;
  std::vector<std::string> words;
  if (sg.protocol == "icmp") {
    words = {"-p", "icmp", "--icmp-type",
             sg.start == -1 ? std::string("any") : std::to_string(sg.start) + "/" + std::to_string(sg.end)};
  } else if (sg.protocol == "all") {
    words = {"-m", "state", "--state", "NEW"};
  } else {
    words = {"-p", sg.protocol, "-m", sg.protocol, "--dport",
             std::to_string(sg.start) + ":" + std::to_string(sg.end), "-m", "state", "--state", "NEW"};
  }
  if (!rule.set.empty())
    words.insert(words.end(), {"-m", "set", "--match-set", rule.set,
                               sg.direction == Direction::ingress ? "src" : "dst"});
  words.insert(words.end(), {"-j", sg.direction == Direction::ingress ? "ACCEPT" : "RETURN"});
  return words;
}

// The words sg-apply writes for it, with the live rule's set in place of
// ours (the VM lost its .state, say).
std::optional<std::vector<std::string>> our_words(const VmView &view, const ReadBackRule &rule) {
  auto plan = render_vm_rules(names_for_vm(view.name), {rule.sg}, 'a');
  if (!plan)
    return std::nullopt;
  const std::string chain = rule.sg.direction == Direction::ingress ? names_for_vm(view.name).ingress
                                                                    : names_for_vm(view.name).egress;
  for (const auto &content : plan->iptables.owned_chains)
    if (content.name == chain && content.rules.size() > 1) {
      std::vector<std::string> words = content.rules.front();
      for (std::size_t i = 0; i + 1 < words.size(); ++i)
        if (words[i] == "--match-set")
          words[i + 1] = rule.set;
      return words;
    }
  return std::nullopt;
}

// Whether the live rule is exactly one CloudStack (or sg-apply) writes for
// what it was read back as: read_back_rule() is lenient (it reads an
// admin's "-m comment" rule as the security-group rule it resembles), a
// takeover must not be.
bool written_by_cloudstack(const VmView &view, const ReadBackRule &rule) {
  const std::string live = canonical_args(Family::iptables, rule.rule.args);
  if (live == canonical_args(Family::iptables, vmops_words(rule)))
    return true;
  const auto ours = our_words(view, rule);
  return ours && live == canonical_args(Family::iptables, *ours);
}

// The VM's rules as CloudStack's rule string, from its chains read back.
Result<std::vector<SgRule>> rules_of(const VmView &view) {
  std::vector<SgRule> rules;
  for (const auto *list : {&view.ingress, &view.egress})
    for (const auto &rule : *list) {
      if (!rule.understood || !written_by_cloudstack(view, rule))
        if (auto r = refuse(view, "the rule \"-A " + rule.rule.chain + " " + join_rule_words(rule.rule.args) +
                                       "\" (not one CloudStack writes)");
            !r)
          return tl::unexpected(r.error());
      if (rule.set_missing)
        if (auto r = refuse(view, "a rule matching the set " + rule.set + ", which does not exist"); !r)
          return tl::unexpected(r.error());
      rules.push_back(rule.sg);
    }
  if (view.ingress_default != "DROP")
    if (auto r = refuse(view, "an ingress chain " + view.ingress_chain + " ending in " +
                                  (view.ingress_default.empty() ? std::string("no final rule")
                                                                : view.ingress_default));
        !r)
      return tl::unexpected(r.error());
  const bool egress_rules = !view.egress.empty();
  if (view.egress_default != (egress_rules ? "DROP" : "RETURN"))
    if (auto r = refuse(view, "an egress chain " + view.egress_chain + (egress_rules ? " with rules" : " without rules") +
                                  " ending in " +
                                  (view.egress_default.empty() ? std::string("no final rule") : view.egress_default));
        !r)
      return tl::unexpected(r.error());
  return rules;
}

} // namespace

Result<VmState> adopt_vm_state(const VmView &view, const AdoptSources &sources) {
  const RuleLog &log = sources.log;
  VmState state;
  state.vm_name = view.name;
  state.kind = view.system || log.vm_ip == "_ignore_" ? VmKind::system : VmKind::user;
  state.dom_id = log.dom_id;
  state.signature = log.signature;
  state.seqno = log.seqno;
  state.vifs = ordered_vifs(view);
  state.generation = 'a';
  state.arp_filter = sources.arp_filter;
  if (state.vifs.empty())
    return fail(view.name, 0, "expected the VM's VIFs in its jumps, got no rule naming one");
  if (state.kind == VmKind::system)
    return state;
  state.vm_id = log.vm_id;
  if (!validate_vm_id(state.vm_id))
    return fail(sources.log_path, 1, "expected the VM's id in field 2, got \"" + state.vm_id + "\"");
  state.ip = log.vm_ip;
  if (!validate_ipv4(state.ip))
    return fail(sources.log_path, 1, "expected the VM's IPv4 address in field 3, got \"" + state.ip + "\"");
  std::string mac = log.mac;
  if (mac.empty() || normalize_mac(mac) == std::optional<std::string>("ff:ff:ff:ff:ff:ff"))
    mac = view.mac.value_or("");
  auto normalized = normalize_mac(mac);
  if (!normalized)
    return fail(sources.log_path, 1, "expected the VM's MAC (in the log or its anti-spoofing rules), got none");
  state.mac = *normalized;
  std::optional<std::vector<std::string>> secondary;
  if (sources.ip_file)
    secondary = secondary_ips_of(*sources.ip_file, sources.ip_path);
  if (!secondary) {
    secondary.emplace();
    for (const auto &ip : view.ips)
      if (ip != state.ip && ip != state.ip + "/32")
        secondary->push_back(ip);
  }
  state.secondary_ips = *secondary;
  const bool any_rule = !view.ingress.empty() || !view.egress.empty();
  if (view.ingress_chain.empty() || (view.ingress_default.empty() && !any_rule)) {
    state.rules_applied = false; // only default_network_rules ran
    return state;
  }
  auto rules = rules_of(view);
  if (!rules)
    return tl::unexpected(rules.error());
  state.rules = format_rule_string(*rules);
  state.rules_applied = true;
  return state;
}

} // namespace vifwall
