// The narrow read of one VM's job.  See narrow_read.hpp.
#include "narrow_read.hpp"

#include <algorithm>
#include <memory>
#include <set>

#include "sg_names.hpp"
#include "vmops_layout.hpp"

namespace vifwall::apply_detail {

ReadScope narrow_scope(const std::vector<std::string> &vm_names, bool whole_ebtables, bool with_arptables,
                       bool ipv6) {
  ReadScope scope;
  scope.iptables_required = {kBridgeFirewall};
  // ip6tables and the IPv6 gate (the RETURNs of the VIFs of NICs with IPv6)
  // hold nothing of VMs that never had IPv6: no listing for them, which a
  // one-VM update would pay for on every host.
  if (ipv6) {
    scope.ip6tables_optional = {kBridgeFirewall};
    scope.ebtables_optional = {kIpv6Gate};
  }
  scope.ebtables_required = {kForward};
  scope.whole_ebtables = whole_ebtables;
  scope.with_arptables = with_arptables;
  if (with_arptables)
    scope.arptables_required = {kForward};
  auto sets = std::make_shared<std::set<std::string>>();
  auto bases = std::make_shared<std::set<std::string>>();
  for (const auto &vm : vm_names) {
    const VmNames names = names_for_vm(vm);
    for (const auto *chain : {&names.ingress, &names.egress, &names.def})
      if (std::find(scope.iptables_optional.begin(), scope.iptables_optional.end(), *chain) ==
          scope.iptables_optional.end())
        scope.iptables_optional.push_back(*chain);
    for (const auto *chain : {&names.ingress, &names.egress, &names.def})
      if (ipv6 && std::find(scope.ip6tables_optional.begin(), scope.ip6tables_optional.end(), *chain) ==
                      scope.ip6tables_optional.end())
        scope.ip6tables_optional.push_back(*chain);
    scope.ebtables_optional.push_back(names.ingress);
    if (with_arptables)
      scope.arptables_optional.push_back(names.ingress);
    sets->insert(names.ipset);
    bases->insert(names.set_base);
  }
  scope.wants_set = [sets, bases](const std::string &name) {
    if (sets->count(name) || name.rfind("vifwall-tmp-", 0) == 0)
      return true;
    const auto base = set_base_of(name); // per-rule and per-NIC sets
    return base && bases->count(*base) > 0;
  };
  scope.needs_whole_read = [vm_names](const std::string &name) {
    for (const auto &vm : vm_names)
      if (is_vmops_rule_set_of(name, vm))
        return true;
    return false;
  };
  return scope;
}

namespace {

bool table_covered(const TablePlan &plan, const std::vector<std::string> &required,
                   const std::vector<std::string> &optional) {
  auto in_scope = [&](const std::string &chain) {
    return std::find(required.begin(), required.end(), chain) != required.end() ||
           std::find(optional.begin(), optional.end(), chain) != optional.end();
  };
  for (const auto &chain : plan.owned_chains)
    if (!in_scope(chain.name))
      return false;
  for (const auto &chain : plan.shared_chains)
    if (!in_scope(chain))
      return false;
  for (const auto *list : {&plan.jumps_first, &plan.jumps_last, &plan.remove_rules})
    for (const auto &rule : *list)
      if (!in_scope(rule.chain))
        return false;
  return true;
}

} // namespace

bool scope_covers(const ReadScope &scope, const std::vector<VmTarget> &targets, const LiveFirewall &live) {
  for (const auto &target : targets) {
    if (!target.plan)
      continue;
    // A planned set the scope does not read would look missing, and be
    // loaded again by every run (an inet6 set in a naming of its own).
    for (const auto &set : target.plan->sets)
      if (!scope.wants_set || !scope.wants_set(set.name))
        return false;
    const bool with_ip6 = !(target.plan->ip6tables == TablePlan{});
    if (with_ip6 && !live.ip6tables.chain(kBridgeFirewall))
      return false;
    if (!table_covered(target.plan->iptables, scope.iptables_required, scope.iptables_optional) ||
        !table_covered(target.plan->ip6tables, scope.ip6tables_required, scope.ip6tables_optional) ||
        !table_covered(target.plan->ebtables, scope.ebtables_required, scope.ebtables_optional) ||
        (scope.with_arptables
             ? !table_covered(target.plan->arptables, scope.arptables_required, scope.arptables_optional)
             : !(target.plan->arptables == TablePlan{})))
      return false;
  }
  return true;
}

} // namespace vifwall::apply_detail
