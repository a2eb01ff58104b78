// What CloudStack's own plugin (vmops) left on the host, in the view: its
// MAC checks in the ebtables nat table, its per-rule sets, and its
// leftovers (duplicated jumps, stale MAC checks, unused sets).  See
// vmops_layout.hpp for the shapes and build_parts.hpp for the contract.
#include <map>
#include <tuple>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "build_parts.hpp"
#include "rule_match.hpp"
#include "text.hpp"
#include "vmops_layout.hpp"

namespace vifwall::view_detail {

namespace {

std::string rule_text(const std::string &table, const std::string &chain, std::size_t position,
                      const std::vector<std::string> &args) {
  return table + " " + chain + " " + std::to_string(position) + ": " + join_rule_words(args);
}

} // namespace

std::vector<const IpSet *> unused_sets_of(const FirewallSnapshot &snapshot) {
  std::vector<const IpSet *> unused;
  if (!snapshot.ipsets)
    return unused;
  // Sets any iptables rule matches.
  std::unordered_set<std::string> used;
  for (const auto *table : {snapshot.iptables ? &*snapshot.iptables : nullptr,
                            snapshot.ip6tables ? &*snapshot.ip6tables : nullptr})
    if (table)
      for (const auto &rule : table->rules)
        if (auto match = set_match(rule.args))
          used.insert(std::move(match->name));
  for (const auto &set : snapshot.ipsets->sets)
    if (!used.count(set.name))
      unused.push_back(&set);
  return unused;
}

void add_nat_rules(std::map<std::string, VmView> &vms, HostView &host, const FwTable &nat) {
  std::unordered_map<std::string, VmView *> by_vif;
  for (auto &[name, vm] : vms)
    for (const auto &vif : vm.vifs)
      by_vif.emplace(vif.name, &vm);
  std::size_t position = 0;
  for (const auto *rule : nat.rules_of("PREROUTING")) {
    ++position;
    const auto vif = vmops_nat_mac_rule_vif(*rule);
    if (!vif)
      continue; // somebody else's nat rule: not ours to show
    ViewRule entry{"ebtables-nat", rule->chain, rule->args, rule->counters, position};
    if (auto found = by_vif.find(*vif); found != by_vif.end()) {
      found->second->raw.push_back(std::move(entry));
      continue;
    }
    host.leftovers.push_back(Leftover{"stale-nat-mac-check", "ebtables-nat", rule->chain, rule->args, position,
                                      rule_text("ebtables nat", rule->chain, position, rule->args) +
                                          " (CloudStack's MAC check of " + *vif +
                                          ", which no VM's chains use)"});
  }
}

void fill_vmops_traits(VmView &vm, const std::vector<const IpSet *> &unused) {
  // The vmops-named sets the VM's rules use.
  for (const auto *list : {&vm.ingress, &vm.egress})
    for (const auto &rule : *list)
      if (!rule.set.empty() && is_vmops_rule_set_of(rule.set, vm.name))
        add_unique(vm.vmops.rule_sets, rule.set);
  // Its MAC checks in nat, and rules of shared chains that appear twice
  // (vmops' default_network_rules run again for one dom-id inserts the
  // arptables jumps again; nat MAC checks likewise).
  std::map<std::tuple<std::string, std::string, std::vector<std::string>>, int> copies;
  for (const auto &rule : vm.raw) {
    if (rule.table == "ebtables-nat")
      if (auto vif = vmops_nat_mac_rule_vif(FwRule{rule.chain, rule.args, std::nullopt, 0}))
        add_unique(vm.vmops.nat_mac_vifs, *vif);
    const auto own = vm.chains.find(rule.table);
    const bool shared = own == vm.chains.end() || !contains(own->second, rule.chain);
    if (!shared)
      continue;
    if (copies[{rule.table, rule.chain, rule.args}]++ > 0) {
      const std::string table = rule.table == "ebtables-nat" ? "ebtables nat" : rule.table;
      vm.leftovers.push_back(Leftover{"duplicate", rule.table, rule.chain, rule.args, rule.position,
                                      rule_text(table, rule.chain, rule.position, rule.args) +
                                          " (another copy of a rule before it)"});
    }
  }
  // vmops-named sets of the VM that no rule uses.
  for (const IpSet *unused_set : unused) {
    const IpSet &set = *unused_set;
    if (!is_vmops_rule_set_of(set.name, vm.name) || contains(vm.unused_sets, set.name))
      continue;
    vm.sets.push_back(set);
    vm.unused_sets.push_back(set.name);
    vm.leftovers.push_back(Leftover{"unused-set", "ipset", "", {set.name}, 0,
                                    "ipset " + set.name + " (a CloudStack per-rule set no rule uses)"});
  }
}

void find_orphan_vmops_sets(FirewallView &view, const std::vector<const IpSet *> &unused) {
  if (unused.empty())
    return;
  std::unordered_set<std::string> claimed;
  for (const auto &vm : view.vms)
    for (const auto &set : vm.sets)
      claimed.insert(set.name);
  for (const IpSet *unused_set : unused)
    if (const IpSet &set = *unused_set; !claimed.count(set.name) && looks_like_vmops_rule_set(set.name))
      view.host.leftovers.push_back(Leftover{"unused-set", "ipset", "", {set.name}, 0,
                                             "ipset " + set.name +
                                                 " (a CloudStack per-rule set no rule uses; its VM is gone)"});
}

} // namespace vifwall::view_detail
