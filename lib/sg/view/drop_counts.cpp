// Why packets were dropped: the counters of the DROP rules of each VM and of
// the host, summed by reason (sg_view.hpp, DropCount).  sg-show prints them
// beside the rules so that "my VM can't be reached" starts from a number.
#include <algorithm>
#include <array>

#include "build_parts.hpp"
#include "rule_match.hpp"
#include "text.hpp"

namespace vifwall::view_detail {

namespace {

bool drops(const ViewRule &rule) { return target_of(rule.args) == "DROP"; }

// DHCP's ports in any table's spelling (iptables --sport/--dport, ebtables
// --ip-sport/--ip-dport, with or without ranges' first port); DHCPv6's
// server port too (ip6tables -def drops udp sport 547 from the VM).
bool dhcp_rule(const ViewRule &rule) {
  for (const char *option : {"--sport", "--dport", "--ip-sport", "--ip-dport",
                             "--ip-source-port", "--ip-destination-port"})
    if (auto value = option_value(rule.args, {option}))
      if (value->value == "67" || value->value == "68" || value->value == "547")
        return true;
  return false;
}

const char *vm_drop_kind(const VmView &vm, const ViewRule &rule) {
  const bool iptables = rule.table == "iptables" || rule.table == "ip6tables";
  const bool final_rule = is_unconditional(rule.args);
  if (iptables && final_rule && rule.chain == vm.ingress_chain)
    return "ingress-default";
  if (iptables && final_rule && rule.chain == vm.egress_chain)
    return "egress-default";
  if (iptables && final_rule && vm.system && rule.chain == vm.def_chain)
    return "ingress-default";
  if (dhcp_rule(rule))
    return "dhcp-server";
  if (iptables && (rule.chain == vm.ingress_chain || rule.chain == vm.egress_chain))
    return "other";
  return "spoofing";
}

constexpr std::array<std::pair<const char *, const char *>, 5> kVmKinds{{
    {"ingress-default", "ingress default"},
    {"egress-default", "egress default"},
    {"spoofing", "spoofing"},
    {"dhcp-server", "DHCP server"},
    {"other", "other DROP rules"},
}};

void add(DropCount &drop, const ViewRule &rule) {
  drop.counters.packets += rule.counters->packets;
  drop.counters.bytes += rule.counters->bytes;
  drop.counters.approximate = drop.counters.approximate || rule.counters->approximate;
  drop.rules.push_back(rule);
}

// The rule's words without its "-j DROP": what it matches.
std::string matched_words(const ViewRule &rule) {
  std::vector<std::string> words;
  for (std::size_t i = 0; i < rule.args.size(); ++i) {
    if ((rule.args[i] == "-j" || rule.args[i] == "--jump") && i + 1 < rule.args.size()) {
      ++i;
      continue;
    }
    words.push_back(rule.args[i]);
  }
  return words.empty() ? std::string("everything else") : join_strings(words, " ");
}

void add_policy(HostView &host, const char *table, const FwTable &rules) {
  for (const auto &chain : rules.chains) {
    if (chain.policy != "DROP" || !chain.counters)
      continue;
    DropCount drop;
    drop.kind = "policy";
    drop.text = std::string(table) + " " + chain.name + ": policy DROP";
    drop.counters = *chain.counters;
    drop.rules.push_back(ViewRule{table, chain.name, {}, chain.counters, 0});
    host.drops.push_back(std::move(drop));
  }
}

} // namespace

void fill_drops(VmView &vm) {
  std::array<DropCount, kVmKinds.size()> by_kind;
  for (const auto &rule : vm.raw) {
    if (!rule.counters || !drops(rule))
      continue;
    const std::string kind = vm_drop_kind(vm, rule);
    for (std::size_t i = 0; i < kVmKinds.size(); ++i)
      if (kind == kVmKinds[i].first)
        add(by_kind[i], rule);
  }
  for (std::size_t i = 0; i < kVmKinds.size(); ++i) {
    if (by_kind[i].rules.empty())
      continue;
    by_kind[i].kind = kVmKinds[i].first;
    by_kind[i].text = kVmKinds[i].second;
    vm.drops.push_back(std::move(by_kind[i]));
  }
}

void fill_host_drops(HostView &host, const FirewallSnapshot &snapshot) {
  for (const auto &rule : host.raw) {
    if (!rule.counters || !drops(rule))
      continue;
    DropCount drop;
    const bool last_word = is_unconditional(rule.args);
    drop.kind = rule.chain == "DEFAULT_EBTABLES" ? "default-ebtables" : last_word ? "no-vm" : "host-rule";
    drop.text = rule.table + " " + rule.chain + ": " +
                (last_word && drop.kind == "no-vm" ? std::string("bridged traffic of no VM")
                                                   : matched_words(rule));
    add(drop, rule);
    host.drops.push_back(std::move(drop));
  }
  if (snapshot.iptables)
    add_policy(host, "iptables", *snapshot.iptables);
  if (snapshot.ebtables)
    add_policy(host, "ebtables", *snapshot.ebtables);
  if (snapshot.arptables)
    add_policy(host, "arptables", *snapshot.arptables);
}

} // namespace vifwall::view_detail
