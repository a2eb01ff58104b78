// One VM's desired tables and sets against the live ones, its VIFs against
// the running domain; the host setup against the host chains and FORWARD.
// See compare_internal.hpp.
#include "compare_internal.hpp"
#include "netfilter.hpp"
#include "sg_names.hpp"
#include "text.hpp"

namespace vifwall::compare_detail {

namespace {

SetMembers desired_sets_of(const VmPlan &plan) {
  SetMembers sets;
  for (const auto &set : plan.sets) {
    std::vector<std::string> members;
    for (const auto &member : set.members)
      members.push_back(normalize_ipset_member(set.type, member));
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    sets[set.name] = members;
  }
  return sets;
}

bool plan_has_content(const TablePlan &plan) {
  return !plan.owned_chains.empty() || !plan.jumps_first.empty() || !plan.jumps_last.empty();
}

void compare_vm_table(Family family, const std::string &vm, const DesiredVm &desired,
                      const TablePlan &plan, const Context &ctx,
                      const SetMembers &want_sets, std::vector<Difference> &out,
                      Unread &unread) {
  const FwTable *live = live_table(ctx.actual, family);
  const std::string table = table_name(family);
  if (!live) {
    if (plan_has_content(plan))
      unread[table].push_back(vm);
    return;
  }
  const VmNames names = names_for_vm(vm);
  const auto &live_chains = ctx.indexed(family).chains_owned_by(vm);
  std::set<std::string> vm_chains(live_chains.begin(), live_chains.end());
  for (const auto &chain : plan.owned_chains)
    vm_chains.insert(chain.name);

  std::vector<std::string> planned;
  for (const auto &chain : plan.owned_chains) {
    if (desired.rules_only && chain.name != names.ingress && chain.name != names.egress)
      continue;
    planned.push_back(chain.name);
    if (!live->chain(chain.name)) {
      out.push_back({DiffKind::missing, table, chain.name,
                     "(the whole chain, " + counted(chain.rules.size(), "rule") + ")", {},
                     "chain does not exist"});
      continue;
    }
    compare_chain(family, chain.name, chain.rules, want_sets, ctx.indexed(family).rules_of(chain.name), ctx,
                  vm_chains, out);
  }
  if (desired.rules_only)
    return;
  for (const auto &live_chain : live_chains) {
    if (contains(planned, live_chain))
      continue;
    out.push_back({DiffKind::extra, table, live_chain,
                   "(the whole chain, " +
                       counted(ctx.indexed(family).rules_of(live_chain).size(), "rule") + ")",
                   {}, "chain not desired"});
  }
  std::vector<SharedRule> want;
  for (const auto *list : {&plan.jumps_first, &plan.jumps_last})
    for (const auto &rule : *list)
      want.push_back({rule.chain, rule.args});
  const auto &jumps = ctx.indexed(family).jumps_to;
  auto found = jumps.find(vm);
  const std::vector<const FwRule *> have =
      found == jumps.end() ? std::vector<const FwRule *>{} : found->second;
  compare_shared(family, want, have, ctx, [](const FwRule &) { return DiffKind::extra; }, out);
}

std::vector<std::string> view_vifs(const VmView *view) {
  std::vector<std::string> out;
  if (view)
    for (const auto &vif : view->vifs)
      out.push_back(vif.name);
  return out;
}

// The NIC devices the desired plan filters (the devices of the VIFs its
// BRIDGE-FIREWALL jumps name).
std::set<std::int64_t> desired_devices(const VmPlan &plan) {
  std::set<std::int64_t> devices;
  for (const TablePlan *table : {&plan.iptables, &plan.ip6tables})
    for (const auto *list : {&table->jumps_first, &table->jumps_last})
      for (const auto &rule : *list)
        for (const auto &vif : mentioned_vifs(rule.args))
          if (auto parsed = parse_vif_name(vif))
            devices.insert(parsed->device);
  return devices;
}

// A running VM's VIFs: the stale ones (of another domain, as after a reboot,
// or of no interface) replace the findings about their rules; the VM's
// filtered interfaces that no rule covers are unprotected: device 0's, and
// those of the other NICs the desired state has.
void compare_vifs(const std::string &vm, const VmView *view, const RunningVm &running,
                  const std::vector<std::string> *interfaces, const VmPlan &plan,
                  std::vector<Difference> &out) {
  std::vector<std::string> stale;
  std::vector<Difference> stale_diffs;
  for (const auto &vif : view_vifs(view)) {
    auto parsed = parse_vif_name(vif);
    std::string why;
    if (parsed && parsed->dom_id != running.dom_id)
      why = "dom-id " + std::to_string(parsed->dom_id) + " is gone: " + vm + " runs as dom-id " +
            std::to_string(running.dom_id) + " now";
    else if (interfaces && !contains(*interfaces, vif))
      why = "the interface does not exist";
    if (why.empty())
      continue;
    stale.push_back(vif);
    std::vector<std::string> where;
    for (const auto &rule : view->raw)
      if (contains(rule.args, vif) && !contains(where, rule.table + " " + rule.chain))
        where.push_back(rule.table + " " + rule.chain);
    stale_diffs.push_back({DiffKind::stale_vif, "", "", vif, {},
                           why + "; rules for it in " + join_strings(where, ", ")});
  }
  if (!stale.empty()) {
    // Rules about a stale VIF are one finding, not one per rule.
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](const Difference &d) {
                               for (const auto &vif : mentioned_vifs(d.args))
                                 if (contains(stale, vif))
                                   return true;
                               return false;
                             }),
              out.end());
    out.insert(out.end(), stale_diffs.begin(), stale_diffs.end());
  }
  std::vector<std::string> covered;
  if (view)
    for (const auto &vif : view->vifs)
      if (!vif.jumps.empty())
        covered.push_back(vif.name);
  std::vector<std::string> filtered = running.filtered_ifaces;
  if (!running.other_nic_ifaces.empty()) {
    const std::set<std::int64_t> devices = desired_devices(plan);
    for (const auto &iface : running.other_nic_ifaces)
      if (auto parsed = parse_vif_name(iface); parsed && devices.count(parsed->device))
        filtered.push_back(iface);
  }
  for (const auto &iface : filtered)
    if (!contains(covered, iface))
      out.push_back({DiffKind::unprotected, "", "", iface, {},
                     "no rule sends " + iface + "'s traffic through " + vm + "'s chains"});
}

} // namespace

void compare_vm(const std::string &vm, const DesiredVm &desired, const VmView *view,
                const RunningVm *running, const std::vector<std::string> *interfaces,
                const Context &ctx, VmComparison &result, Unread &unread) {
  const SetMembers want_sets = desired_sets_of(desired.plan);
  auto &out = result.differences;
  compare_vm_table(Family::iptables, vm, desired, desired.plan.iptables, ctx, want_sets, out,
                   unread);
  compare_vm_table(Family::ip6tables, vm, desired, desired.plan.ip6tables, ctx, want_sets, out,
                   unread);
  if (!desired.rules_only) {
    compare_vm_table(Family::ebtables, vm, desired, desired.plan.ebtables, ctx, want_sets,
                     out, unread);
    compare_vm_table(Family::arptables, vm, desired, desired.plan.arptables, ctx, want_sets,
                     out, unread);
    if (view)
      for (const auto &set : view->unused_sets)
        out.push_back({DiffKind::extra, "ipset", "", set, {}, "set of the VM that no rule uses"});
  }
  if (!desired.plan.sets.empty() && !ctx.actual.ipsets)
    unread["ipset"].push_back(vm);
  if (running)
    compare_vifs(vm, view, *running, interfaces, desired.plan, out);
}

void compare_host(const DesiredFirewall &desired, const ChainOwners &owners, const Context &ctx,
                  std::vector<Difference> &out, Unread &unread) {
  const VmPlan &plan = *desired.host;
  for (Family family : {Family::iptables, Family::ip6tables, Family::ebtables, Family::arptables}) {
    const TablePlan &table_plan = family == Family::iptables    ? plan.iptables
                                  : family == Family::ip6tables ? plan.ip6tables
                                  : family == Family::ebtables  ? plan.ebtables
                                                                : plan.arptables;
    const FwTable *live = live_table(ctx.actual, family);
    const std::string table = table_name(family);
    if (!live) {
      if (plan_has_content(table_plan))
        unread[table].push_back("the host setup");
      continue;
    }
    for (const auto &chain : table_plan.owned_chains) {
      if (!live->chain(chain.name)) {
        out.push_back({DiffKind::missing, table, chain.name,
                       "(the whole chain, " + counted(chain.rules.size(), "rule") + ")", {},
                       "chain does not exist"});
        continue;
      }
      compare_chain(family, chain.name, chain.rules, {}, ctx.indexed(family).rules_of(chain.name), ctx,
                    {}, out);
    }
    const auto &table_owners = owners_for(owners, family);
    std::vector<SharedRule> want;
    std::set<std::string> shared;
    std::set<std::string> want_keys;
    for (const auto *list : {&table_plan.jumps_first, &table_plan.jumps_last})
      for (const auto &rule : *list) {
        want.push_back({rule.chain, rule.args});
        shared.insert(rule.chain);
        want_keys.insert(rule.chain + " " + canonical_args(family, rule.args));
      }
    auto is_global = [](const std::string &chain) {
      auto recognized = recognize_chain(chain);
      return recognized && recognized->kind == ChainKind::global;
    };
    // Which live rules of a shared chain are the host setup's: in
    // BRIDGE-FIREWALL (ours) everything that is not a VM's jump; in FORWARD
    // (shared with other software) what jumps to our host chains, what the
    // plan has, or, for a snapshot, every rule that is not a VM's.
    std::vector<const FwRule *> have;
    for (const auto &rule : live->rules) {
      if (!shared.count(rule.chain) && rule.chain != kBridgeFirewall)
        continue;
      if (!owner_of(table_owners, rule.target()).empty())
        continue;
      if (family == Family::ebtables && !ipv6_gate_owner(rule, owners).empty())
        continue; // the IPv6 gate's rule for a VM's VIF: the VM's
      const bool mine = rule.chain == kBridgeFirewall || desired.host_exact ||
                        is_global(rule.target()) ||
                        want_keys.count(rule.chain + " " + canonical_args(family, rule.args));
      if (mine)
        have.push_back(&rule);
    }
    compare_shared(family, want, have, ctx,
                   [&](const FwRule &rule) {
                     return rule.chain == kBridgeFirewall && !is_global(rule.target()) &&
                                    !desired.host_exact
                                ? DiffKind::foreign
                                : DiffKind::extra;
                   },
                   out);
    for (const auto &rule : table_plan.remove_rules)
      for (const auto *live_rule : ctx.indexed(family).rules_of(rule.chain))
        if (canonical_args(family, live_rule->args) == canonical_args(family, rule.args))
          out.push_back({DiffKind::extra, table, rule.chain, join_rule_words(live_rule->args),
                         live_rule->args, "XenServer's stock rule, which the setup removes"});
  }
}

} // namespace vifwall::compare_detail
