// The change of a run: per table, what the VMs' plans (or the host setup's)
// need done to the live firewall.  See vm_change.hpp.
#include "vm_change.hpp"

#include <algorithm>
#include <unordered_map>

#include "model.hpp"
#include "sg_names.hpp"
#include "text.hpp"
#include "vmops_layout.hpp"

namespace vifwall::apply_detail {

namespace {

const std::set<std::string> kHostChains = {kBridgeFirewall, kBridgeDefaultFirewall,
                                           kDefaultEbtables};

// The interfaces a VM's rules in shared chains name (old domids included).
void collect_vifs(const FwTable &table, const std::set<std::string> &targets,
                  std::set<std::string> &vifs) {
  for (const auto &rule : table.rules) {
    if (!targets.count(std::string(rule.target_name())))
      continue;
    for (std::size_t i = 0; i + 1 < rule.args.size(); ++i) {
      const auto &word = rule.args[i];
      if (word == "-i" || word == "-o" || word == "--physdev-in" || word == "--physdev-out" ||
          word == "--in-interface" || word == "--out-interface")
        if (rule.args[i + 1] != "!" && parse_vif_name(rule.args[i + 1]))
          vifs.insert(rule.args[i + 1]);
    }
  }
}

// A VIF's "-i/-o VIF -j RETURN" in the IPv6 gate (sg_names.hpp kIpv6Gate):
// the VM's whose VIF it names (the gate is shared, so no jump says whose).
bool is_ipv6_gate_rule(const FwRule &rule, const std::set<std::string> &vifs) {
  if (rule.chain != kIpv6Gate || rule.target_name() != "RETURN")
    return false;
  for (std::size_t i = 0; i + 1 < rule.args.size(); ++i)
    if ((rule.args[i] == "-i" || rule.args[i] == "-o") && vifs.count(rule.args[i + 1]))
      return true;
  return false;
}

// What the targets own, by name: their chains (in `change`), their sets and
// set bases, and every VIF that is theirs (their own, and those the live
// rules jumping to their chains name).
struct Owned {
  std::vector<std::string> vm_names;
  std::set<std::string> sets, set_bases, vifs;
};

Owned own_objects(const LiveFirewall &live, const std::vector<VmTarget> &targets, Change &change) {
  Owned own;
  for (const auto &target : targets)
    own.vm_names.push_back(target.vm_name);
  for (const auto &target : targets) {
    const VmNames names = names_for_vm(target.vm_name);
    change.owned_ipt.insert({names.ingress, names.egress, names.def});
    change.owned_ip6.insert({names.ingress, names.egress, names.def});
    change.owned_eb.insert(names.ingress);
    change.owned_arp.insert(names.ingress);
    own.sets.insert(names.ipset);
    own.set_bases.insert(names.set_base);
    own.vifs.insert(target.vifs.begin(), target.vifs.end());
  }
  collect_vifs(live.iptables, change.owned_ipt, own.vifs);
  collect_vifs(live.ip6tables, change.owned_ip6, own.vifs);
  collect_vifs(live.ebtables, change.owned_eb, own.vifs);
  if (live.arptables)
    collect_vifs(*live.arptables, change.owned_arp, own.vifs);
  return own;
}

// The tables' edits: `plan` (nullptr: nothing of the targets stays) against
// the live tables, our rules told from others' by `change`'s owned chains
// and the targets' cut-off rules.
void diff_tables(const LiveFirewall &live, const VmPlan *plan, const std::set<std::string> &vifs,
                 bool ebtables_nft, Change &change) {
  const auto owned_ipt = change.owned_ipt;
  const auto owned_eb = change.owned_eb;
  change.ours_ipt = [owned_ipt](const FwRule &r) { return owned_ipt.count(std::string(r.target_name())) > 0; };
  const auto owned_ip6 = change.owned_ip6;
  change.ours_ip6 = [owned_ip6](const FwRule &r) { return owned_ip6.count(std::string(r.target_name())) > 0; };
  change.ours_eb = [owned_eb, vifs](const FwRule &r) {
    return owned_eb.count(std::string(r.target_name())) > 0 || is_quarantine_rule(r, vifs) ||
           is_ipv6_gate_rule(r, vifs);
  };
  change.ours_arp = change.ours_eb;

  const TablePlan empty_plan;
  change.iptables = diff_table(Family::iptables, plan ? plan->iptables : empty_plan, &live.iptables,
                               change.owned_ipt, change.ours_ipt);
  change.ip6tables = diff_table(Family::ip6tables, plan ? plan->ip6tables : empty_plan, &live.ip6tables,
                                change.owned_ip6, change.ours_ip6);
  change.ebtables = diff_table(Family::ebtables, ebtables_plan(plan ? plan->ebtables : empty_plan, ebtables_nft),
                               &live.ebtables, change.owned_eb, change.ours_eb);
  change.ebtables.result = without_unused_cutoff(change.ebtables.result);
  if (live.arptables)
    change.arptables = diff_table(Family::arptables, plan ? plan->arptables : empty_plan,
                                  &*live.arptables, change.owned_arp, change.ours_arp);
}

void destroy_vmops_sets(const LiveFirewall &live, const std::set<std::string> &planned,
                        const Owned &own, Change &change);

// Sets: load new or changed ones, destroy ours that the plan dropped, and
// scratch sets a killed run left.
void diff_sets(const LiveFirewall &live, const VmPlan *plan, const Owned &own, Change &change) {
  std::set<std::string> planned_sets;
  if (plan)
    for (const auto &set : plan->sets) {
      planned_sets.insert(set.name);
      const IpSet *current = live.ipsets.find(set.name);
      std::vector<std::string> wanted;
      for (const auto &member : set.members)
        wanted.push_back(normalize_ipset_member(set.type, member));
      std::sort(wanted.begin(), wanted.end());
      // The family too: an inet set is no inet6 one (ipset would refuse to
      // swap them, which fails the change loudly instead of keeping it).
      const std::string family = set.family.empty() ? "inet" : set.family;
      if (current && current->type == set.type && current->members == wanted &&
          (current->family.empty() ? "inet" : current->family) == family)
        continue;
      change.sets_to_load.push_back(set);
      if (current) {
        change.existing_sets.push_back(set.name);
        change.refills_existing_set = true;
      }
    }
  for (const auto &set : live.ipsets.sets) {
    if (planned_sets.count(set.name))
      continue;
    // Swap scratch sets live only inside one ipset restore under our lock;
    // one that exists now was left by a killed run.
    if (set.name.rfind("vifwall-tmp-", 0) == 0) {
      bool reused = false; // the load below recreates, swaps and destroys it
      for (const auto &existing : change.existing_sets)
        reused = reused || swap_set_name(existing) == set.name;
      if (!reused)
        change.sets_to_destroy.push_back(set.name);
      continue;
    }
    const auto base = set_base_of(set.name); // per-rule and per-NIC sets
    if (own.sets.count(set.name) || (base && own.set_bases.count(*base)))
      change.sets_to_destroy.push_back(set.name);
  }
  destroy_vmops_sets(live, planned_sets, own, change);
}

// The sets any rule outside `owned` chains matches (--match-set, or the
// old --set).
std::set<std::string> sets_used_outside(const FwTable &table, const std::set<std::string> &owned) {
  std::set<std::string> used;
  for (const auto &rule : table.rules) {
    if (owned.count(rule.chain))
      continue;
    for (std::size_t i = 0; i + 1 < rule.args.size(); ++i)
      if (rule.args[i] == "--match-set" || rule.args[i] == "--set")
        used.insert(rule.args[i + 1]);
  }
  return used;
}

// The targets' per-rule sets in vmops' naming, which our plans never use:
// destroyed after iptables stopped using them, unless a rule of another
// chain (of iptables or ip6tables: the kernel refuses to destroy a set
// either references) still does (vmops' 13-character prefixes are shared by VMs whose
// long names start alike).
void destroy_vmops_sets(const LiveFirewall &live, const std::set<std::string> &planned,
                        const Owned &own, Change &change) {
  std::unordered_map<std::string, const std::string *> by_prefix;
  std::size_t longest = 0;
  for (const auto &vm : own.vm_names)
    for (auto &prefix : vmops_rule_set_prefixes(vm)) {
      longest = std::max(longest, prefix.size());
      by_prefix.emplace(std::move(prefix), &vm);
    }
  std::optional<std::set<std::string>> used_elsewhere;
  for (const auto &set : live.ipsets.sets) {
    if (planned.count(set.name) || own.sets.count(set.name))
      continue;
    bool theirs = false;
    for (std::size_t length = 3; length <= std::min(longest, set.name.size() - 1) && !theirs; ++length)
      if (auto found = by_prefix.find(set.name.substr(0, length)); found != by_prefix.end())
        theirs = is_vmops_rule_set_of(set.name, *found->second);
    if (!theirs)
      continue;
    if (!used_elsewhere) {
      used_elsewhere = sets_used_outside(live.iptables, change.owned_ipt);
      used_elsewhere->merge(sets_used_outside(live.ip6tables, change.owned_ip6));
    }
    if (!used_elsewhere->count(set.name))
      change.sets_to_destroy.push_back(set.name);
  }
}

// vmops' MAC checks in the ebtables nat table for the targets' VIFs.
void delete_vmops_nat_rules(const LiveFirewall &live, const Owned &own, Change &change) {
  if (!live.ebtables_nat)
    return;
  std::size_t position = 0;
  for (const auto *rule : live.ebtables_nat->rules_of("PREROUTING")) {
    ++position;
    if (auto vif = vmops_nat_mac_rule_vif(*rule); vif && own.vifs.count(*vif))
      change.nat_deletions.push_back(RuleDeletion{"PREROUTING", rule->args, position});
  }
}

} // namespace

std::string describe_vms(const std::vector<std::string> &names) {
  constexpr std::size_t kListed = 4;
  std::string out;
  if (names.size() <= kListed) {
    for (const auto &name : names)
      out += (out.empty() ? "" : ", ") + name;
    return out;
  }
  out = std::to_string(names.size()) + " VMs (";
  for (std::size_t i = 0; i + 1 < kListed; ++i)
    out += names[i] + ", ";
  return out + "..., " + names.back() + ")";
}

LiveIndex index_live(const LiveFirewall &live) {
  LiveIndex index;
  auto add_table = [&](const FwTable &table) {
    for (const auto &chain : table.chains)
      index.chains_and_targets.insert(chain.name);
    for (const auto &rule : table.rules) {
      const auto target = rule.target_name();
      if (target.empty())
        continue;
      index.chains_and_targets.emplace(target);
      if (target == kCutoffChain)
        for (std::size_t i = 0; i + 1 < rule.args.size(); ++i)
          if (rule.args[i] == "-i" || rule.args[i] == "-o")
            index.walled_vifs.insert(rule.args[i + 1]);
    }
  };
  add_table(live.iptables);
  add_table(live.ip6tables);
  add_table(live.ebtables);
  if (live.arptables)
    add_table(*live.arptables);
  for (const auto &set : live.ipsets.sets) {
    index.sets.insert(set.name);
    if (auto base = set_base_of(set.name))
      index.set_bases.insert(*base);
  }
  return index;
}

bool has_live_objects(const LiveIndex &index, const std::vector<std::string> &vm_names,
                      const std::set<std::string> &vifs) {
  for (const auto &vm : vm_names) {
    const VmNames names = names_for_vm(vm);
    for (const auto *chain : {&names.ingress, &names.egress, &names.def})
      if (index.chains_and_targets.count(*chain))
        return true;
    if (index.sets.count(names.ipset) || index.set_bases.count(names.set_base))
      return true;
  }
  for (const auto &vif : vifs)
    if (index.walled_vifs.count(vif))
      return true;
  return false;
}

TablePlan ebtables_plan(TablePlan plan, bool nft) {
  if (nft)
    for (auto &chain : plan.owned_chains)
      chain.policy = "RETURN";
  return plan;
}

Change vm_change(const LiveFirewall &live, const std::vector<VmTarget> &targets, bool ebtables_nft,
                 const LiveIndex *index) {
  Change change;
  const Owned own = own_objects(live, targets, change);
  change.what = describe_vms(own.vm_names);
  VmPlan combined;
  bool any_plan = false;
  for (const auto &target : targets)
    if (target.plan) {
      append_plan(combined, *target.plan);
      any_plan = true;
    }
  change.use_arptables = live.arptables.has_value();
  change.quarantine_vifs.assign(own.vifs.begin(), own.vifs.end());
  const VmPlan *plan = any_plan ? &combined : nullptr;
  diff_tables(live, plan, own.vifs, ebtables_nft, change);
  diff_sets(live, plan, own, change);
  delete_vmops_nat_rules(live, own, change);

  // ip6tables counts as a layer of its own: a change of iptables and
  // ip6tables alone is two commits (conservative: each family's packets
  // meet only one of them, but with ebtables or a set refill they do not).
  const int layers = int(!change.iptables.empty()) + int(!change.ip6tables.empty()) +
                     int(!change.ebtables.empty()) + int(change.refills_existing_set);
  // VMs with nothing in any table yet (new ones, the common case of a
  // host's first programming) need no wall: the loads only add, ebtables
  // (which only restricts) before iptables' single commit, so every moment
  // lets through at most what the host let through before (ip6tables'
  // commit only adds as well).  Not so with
  // arptables, whose commands each change a little.
  const bool only_new_vms = change.arptables.empty() &&
                            !has_live_objects(index ? *index : index_live(live), own.vm_names, own.vifs);
  change.quarantine = !change.quarantine_vifs.empty() &&
                      (!change.arptables.empty() || layers >= 2) && !only_new_vms;
  return change;
}

Change host_setup_change(const LiveFirewall &live, const VmPlan &plan, bool ebtables_nft) {
  Change change;
  change.what = "host setup";
  change.owned_ipt = {kBridgeDefaultFirewall};
  change.owned_ip6 = {kBridgeDefaultFirewall};
  change.owned_eb = {kDefaultEbtables};
  change.ours_ipt = [](const FwRule &r) { return kHostChains.count(r.target()) > 0; };
  change.ours_ip6 = change.ours_ipt;
  change.ours_eb = change.ours_ipt;
  change.iptables = diff_table(Family::iptables, plan.iptables, &live.iptables, change.owned_ipt,
                               change.ours_ipt);
  // No IPv6 layer planned: ip6tables as it is (vm_change.hpp says why).
  if (!(plan.ip6tables == TablePlan{}))
    change.ip6tables = diff_table(Family::ip6tables, plan.ip6tables, &live.ip6tables, change.owned_ip6,
                                  change.ours_ip6);
  else
    change.ip6tables.family = Family::ip6tables;
  change.ebtables = diff_table(Family::ebtables, ebtables_plan(plan.ebtables, ebtables_nft),
                               &live.ebtables, change.owned_eb, change.ours_eb);
  return change;
}

std::vector<std::string> change_summary(const Change &change) {
  std::vector<std::string> lines;
  auto add = [&](const std::string &table, const TableEdit &edit) {
    if (!edit.empty())
      lines.push_back(change.what + ": " + table + " " + edit.summary());
  };
  add("iptables", change.iptables);
  add("ip6tables", change.ip6tables);
  add("ebtables", change.ebtables);
  add("arptables", change.arptables);
  if (!change.nat_deletions.empty())
    lines.push_back(change.what + ": ebtables nat -" + counted(change.nat_deletions.size(), "rule") +
                    " (CloudStack's MAC checks)");
  if (!change.sets_to_load.empty() || !change.sets_to_destroy.empty())
    lines.push_back(change.what + ": ipset " + std::to_string(change.sets_to_load.size()) +
                    " loaded, " + std::to_string(change.sets_to_destroy.size()) + " destroyed");
  return lines;
}

} // namespace vifwall::apply_detail
