// Building the view: the snapshot's tables grouped by VM (its chains, the
// shared chains' jumps to them, its VIFs), each VM's rules read back and
// the sets they use, and the host-wide setup checks.
#include <algorithm>
#include <optional>
#include <unordered_map>

#include "build_parts.hpp"
#include "model.hpp"
#include "rule_match.hpp"
#include "sg_names.hpp"
#include "sg_state.hpp"
#include "text.hpp"

namespace vifwall {

using namespace view_detail;

const char *to_string(Naming naming) { return naming == Naming::old ? "old" : "current"; }

bool HostView::complete() const {
  for (const auto &check : checks)
    if (check.required && !check.present)
      return false;
  return true;
}

bool HostView::absent() const {
  for (const auto &check : checks)
    if (check.required && check.present)
      return false;
  return true;
}

const VmView *FirewallView::find(const std::string &name) const {
  // vms is sorted by natural_less (build_view), so a binary search finds it.
  auto it = std::lower_bound(vms.begin(), vms.end(), name,
                             [](const VmView &vm, const std::string &wanted) { return natural_less(vm.name, wanted); });
  return it != vms.end() && it->name == name ? &*it : nullptr;
}

namespace {

// A rule of FORWARD that is part of the host setup (not a VM's).
bool host_forward_rule(const FwRule &rule, bool last) {
  const std::string target = rule.target();
  if (target == kBridgeFirewall || target == kDefaultEbtables || target == "RH-Firewall-1-INPUT")
    return true;
  if (last && is_unconditional(rule.args))
    return true;
  auto out = option_value(rule.args, {"--physdev-out"});
  return target == "ACCEPT" && out && !out->negated && ends_with(out->value, "+");
}

// The final unconditional target of a chain's rules ("" when there is none),
// taken off the list.
std::string take_default(std::vector<const ViewRule *> &rules) {
  if (rules.empty() || !is_unconditional(rules.back()->args))
    return "";
  std::string target = target_of(rules.back()->args);
  rules.pop_back();
  return target;
}

std::vector<const ViewRule *> chain_rules(const VmView &vm, const std::string &chain,
                                          const std::string &table = "iptables") {
  std::vector<const ViewRule *> rules;
  for (const auto &rule : vm.raw)
    if (rule.table == table && rule.chain == chain)
      rules.push_back(&rule);
  return rules;
}

// The IPv6 layer of `sg-apply setup --ipv6`: the ip6tables twin of the
// layout and the ebtables IPv6 gate.  Without any of it, one informational
// check says IPv6 is dropped for every port; with part of it, every piece
// is required, so a half-made layer shows the setup INCOMPLETE.
void ipv6_layer_checks(HostView &host, const FirewallSnapshot &snapshot) {
  const FwTable *ip6 = snapshot.ip6tables ? &*snapshot.ip6tables : nullptr;
  const FwTable *eb = snapshot.ebtables ? &*snapshot.ebtables : nullptr;
  if (!ip6 && !eb)
    return; // nothing read that could say
  auto jumps = [](const FwTable *table, const std::string &chain, const std::string &target) {
    for (const auto *rule : table ? table->rules_of(chain) : std::vector<const FwRule *>{})
      if (rule->target() == target)
        return true;
    return false;
  };
  bool gate_drops = false;
  if (eb)
    if (auto rules = eb->rules_of(kIpv6Gate); !rules.empty())
      gate_drops = is_unconditional(rules.back()->args) && rules.back()->target() == "DROP";
  const std::vector<HostCheck> layer = {
      {"ip6tables chain BRIDGE-FIREWALL", ip6 && ip6->chain(kBridgeFirewall), true},
      {"ip6tables chain BRIDGE-DEFAULT-FIREWALL", ip6 && ip6->chain(kBridgeDefaultFirewall), true},
      {"ip6tables BRIDGE-FIREWALL jumps to BRIDGE-DEFAULT-FIREWALL",
       jumps(ip6, kBridgeFirewall, kBridgeDefaultFirewall), true},
      {"ip6tables FORWARD jumps to BRIDGE-FIREWALL", jumps(ip6, kForward, kBridgeFirewall), true},
      {"ebtables chain DEFAULT_EBTABLES_IPV6 (the IPv6 gate)", eb && eb->chain(kIpv6Gate), true},
      {"DEFAULT_EBTABLES sends IPv6 to the IPv6 gate", jumps(eb, kDefaultEbtables, kIpv6Gate), true},
      {"the IPv6 gate ends with DROP", gate_drops, true},
  };
  if (std::none_of(layer.begin(), layer.end(), [](const HostCheck &c) { return c.present; })) {
    host.checks.push_back({"IPv6 layer (setup --ipv6): none, IPv6 is dropped for every port", false, false});
    return;
  }
  host.checks.insert(host.checks.end(), layer.begin(), layer.end());
}

// The host-wide checks of the setup sg-apply (and CloudStack) make.
void host_checks(HostView &host, const FirewallSnapshot &snapshot) {
  const FwTable *ipt = snapshot.iptables ? &*snapshot.iptables : nullptr;
  const FwTable *eb = snapshot.ebtables ? &*snapshot.ebtables : nullptr;
  auto has_jump = [](const FwTable *table, const std::string &chain, const std::string &target) {
    if (!table)
      return false;
    for (const auto *rule : table->rules_of(chain))
      if (rule->target() == target)
        return true;
    return false;
  };
  auto check = [&](std::string what, bool present, bool required = true) {
    host.checks.push_back({std::move(what), present, required});
  };
  if (ipt) {
    check("iptables chain BRIDGE-FIREWALL", ipt->chain(kBridgeFirewall) != nullptr);
    check("iptables chain BRIDGE-DEFAULT-FIREWALL", ipt->chain(kBridgeDefaultFirewall) != nullptr);
    check("BRIDGE-FIREWALL jumps to BRIDGE-DEFAULT-FIREWALL",
          has_jump(ipt, kBridgeFirewall, kBridgeDefaultFirewall));
    check("FORWARD jumps to BRIDGE-FIREWALL", has_jump(ipt, kForward, kBridgeFirewall));
    const auto forward = ipt->rules_of(kForward);
    const FwChain *forward_chain = ipt->chain(kForward);
    const bool drops = (!forward.empty() && is_unconditional(forward.back()->args) &&
                        forward.back()->target() == "DROP") ||
                       (forward_chain && forward_chain->policy == "DROP");
    check("FORWARD ends with DROP", drops);
    for (const auto *rule : forward)
      if (host_forward_rule(*rule, false) && rule->target() == "ACCEPT")
        host.uplinks.push_back(option_value(rule->args, {"--physdev-out"})->value);
    check("FORWARD accepts bridged traffic out of the uplinks", !host.uplinks.empty());
  }
  if (eb) {
    check("ebtables chain DEFAULT_EBTABLES", eb->chain(kDefaultEbtables) != nullptr);
    check("ebtables FORWARD jumps to DEFAULT_EBTABLES", has_jump(eb, kForward, kDefaultEbtables));
  }
  ipv6_layer_checks(host, snapshot);
  if (ipt)
    check("no stock FORWARD -j RH-Firewall-1-INPUT (CloudStack removes it)",
          !has_jump(ipt, kForward, "RH-Firewall-1-INPUT"), false);
}

struct Builder {
  const FirewallSnapshot &snapshot;
  ChainAlias alias;
  std::map<std::string, VmView> vms;
  SetMembers members;
  FirewallView view;
  // VIF -> VM for the IPv6 gate's rules (chain_owners()'s gate_vifs).
  std::map<std::string, std::string> gate_vifs;

  VmView &vm(const std::string &name) {
    auto [it, inserted] = vms.try_emplace(name);
    if (inserted) {
      it->second.name = name;
      it->second.system = is_system_vm(name);
    }
    return it->second;
  }

  static ViewVif &vif(VmView &vm, const std::string &name) {
    for (auto &existing : vm.vifs)
      if (existing.name == name)
        return existing;
    ViewVif added;
    added.name = name;
    if (auto parsed = parse_vif_name(name))
      added.dom_id = parsed->dom_id;
    vm.vifs.push_back(added);
    return vm.vifs.back();
  }

  // Every rule of the table to its VM (its chains' rules and the shared
  // chains' jumps to them) or to the host.
  // Returns the table's chain owners.
  std::map<std::string, std::string> add_table(const std::string &name, const FwTable &table, bool iptables) {
    auto owners = owners_of(table, iptables, alias);
    for (const auto &[chain, owner] : owners)
      vm(owner).chains[name].push_back(chain);
    std::map<std::string, std::size_t> position;
    std::map<std::string, std::size_t> chain_size;
    for (const auto &rule : table.rules)
      ++chain_size[rule.chain];
    for (const auto &rule : table.rules) {
      const std::size_t at = ++position[rule.chain];
      ViewRule entry{name, rule.chain, rule.args, rule.counters, at};
      auto chain_owner = owners.find(rule.chain);
      auto target_owner = owners.find(rule.target());
      if (chain_owner != owners.end()) {
        VmView &owner = vm(chain_owner->second);
        owner.raw.push_back(entry);
        for (const auto &use : vif_uses(rule.args))
          vif(owner, use.name);
      } else if (target_owner != owners.end()) {
        VmView &owner = vm(target_owner->second);
        owner.raw.push_back(entry);
        for (const auto &use : vif_uses(rule.args))
          vif(owner, use.name).jumps.push_back(name + (use.in ? " in" : " out"));
      } else if (const std::string gated = name == "ebtables" ? gate_rule_owner(rule, gate_vifs) : "";
                 !gated.empty()) {
        vm(gated).raw.push_back(entry); // the IPv6 gate lets its VIF through
      } else if (auto recognized = recognize_chain(rule.chain);
                 (recognized && recognized->kind == ChainKind::global) ||
                 (rule.chain == kForward && host_forward_rule(rule, at == chain_size[rule.chain]))) {
        view.host.raw.push_back(entry);
      }
    }
    return owners;
  }

  void fill_rules(VmView &vm) {
    if (vm.system) {
      // One chain: from the VM RETURN (unfiltered), to it the final target.
      std::vector<const ViewRule *> rules = chain_rules(vm, vm.def_chain);
      if (!rules.empty() && is_unconditional(rules.back()->args))
        vm.ingress_default = target_of(rules.back()->args);
      for (const auto *rule : rules)
        if (option_value(rule->args, {"--physdev-in"}) && target_of(rule->args) == "RETURN")
          vm.egress_default = "RETURN";
      return;
    }
    auto read_chain = [&](const std::string &chain, Direction direction,
                          std::vector<ReadBackRule> &into, std::string &default_target, bool ipv6) {
      if (chain.empty())
        return;
      std::vector<const ViewRule *> rules = chain_rules(vm, chain, ipv6 ? "ip6tables" : "iptables");
      default_target = take_default(rules);
      for (const auto *rule : rules) {
        ReadBackRule read = read_back_rule(direction, rule->args, members, ipv6);
        read.rule = *rule;
        into.push_back(std::move(read));
      }
      if (ipv6)
        into = group_cidr_rules(std::move(into));
    };
    read_chain(vm.ingress_chain, Direction::ingress, vm.ingress, vm.ingress_default, false);
    read_chain(vm.egress_chain, Direction::egress, vm.egress, vm.egress_default, false);
    read_chain(vm.ingress6_chain, Direction::ingress, vm.ingress6, vm.ingress6_default, true);
    read_chain(vm.egress6_chain, Direction::egress, vm.egress6, vm.egress6_default, true);
  }

  // The sets by name and, for rule sets, by the VM part of their name (in
  // printed order): built once, looked up per VM.
  struct SetIndex {
    std::unordered_map<std::string, const IpSet *> by_name;
    std::unordered_map<std::string, std::vector<std::size_t>> rule_sets_by_base; // and NIC sets
  };
  std::optional<SetIndex> set_index;

  const SetIndex &sets_indexed() {
    if (!set_index) {
      set_index.emplace();
      const auto &sets = snapshot.ipsets->sets;
      for (std::size_t i = 0; i < sets.size(); ++i) {
        set_index->by_name.emplace(sets[i].name, &sets[i]);
        if (auto base = set_base_of(sets[i].name)) // per-rule and per-NIC sets
          set_index->rule_sets_by_base[*base].push_back(i);
      }
    }
    return *set_index;
  }

  // The sets the VM's rules use (its own address set first), then the sets
  // named after it that no rule uses.
  void fill_sets(VmView &vm) {
    std::vector<std::string> used;
    if (!vm.ipset.empty())
      used.push_back(vm.ipset);
    for (const auto &rule : vm.raw)
      if (rule.table == "iptables" || rule.table == "ip6tables")
        if (auto match = set_match(rule.args))
          add_unique(used, match->name);
    if (!snapshot.ipsets)
      return;
    const SetIndex &index = sets_indexed();
    for (const auto &name : used)
      if (auto found = index.by_name.find(name); found != index.by_name.end())
        vm.sets.push_back(*found->second);
    const VmNames names = names_for_vm(vm.name);
    std::vector<std::size_t> candidates;
    if (auto found = index.rule_sets_by_base.find(names.set_base); found != index.rule_sets_by_base.end())
      candidates = found->second;
    if (auto found = index.by_name.find(names.ipset); found != index.by_name.end() && !vm.system)
      candidates.push_back(static_cast<std::size_t>(found->second - snapshot.ipsets->sets.data()));
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (std::size_t i : candidates) {
      const IpSet &set = snapshot.ipsets->sets[i];
      if (contains(used, set.name))
        continue;
      vm.sets.push_back(set);
      vm.unused_sets.push_back(set.name);
    }
  }

  FirewallView build() {
    if (snapshot.ipsets)
      members = set_members_of(*snapshot.ipsets);
    view.warnings = snapshot.warnings;
    view.have_iptables = snapshot.iptables.has_value();
    view.have_ip6tables = snapshot.ip6tables.has_value();
    view.have_ebtables = snapshot.ebtables.has_value();
    view.have_arptables = snapshot.arptables.has_value();
    view.have_ipsets = snapshot.ipsets.has_value();
    if (snapshot.iptables)
      add_gate_vifs(*snapshot.iptables, add_table("iptables", *snapshot.iptables, true), gate_vifs);
    if (snapshot.ip6tables)
      add_gate_vifs(*snapshot.ip6tables, add_table("ip6tables", *snapshot.ip6tables, true), gate_vifs);
    if (snapshot.ebtables)
      add_table("ebtables", *snapshot.ebtables, false);
    if (snapshot.arptables)
      add_table("arptables", *snapshot.arptables, false);
    if (snapshot.ebtables_nat)
      add_nat_rules(vms, view.host, *snapshot.ebtables_nat);
    const std::vector<const IpSet *> unused = unused_sets_of(snapshot);
    for (auto &[name, vm] : vms) {
      fill_identity(vm, snapshot, members);
      fill_nics(vm, snapshot, members);
      fill_protections(vm);
      fill_rules(vm);
      fill_sets(vm);
      fill_vmops_traits(vm, unused);
      fill_drops(vm);
      view.vms.push_back(std::move(vm));
    }
    find_orphan_vmops_sets(view, unused);
    std::sort(view.vms.begin(), view.vms.end(),
              [](const VmView &a, const VmView &b) { return natural_less(a.name, b.name); });
    host_checks(view.host, snapshot);
    fill_host_drops(view.host, snapshot);
    return std::move(view);
  }
};

} // namespace

FirewallView build_view(const FirewallSnapshot &snapshot, const std::vector<std::string> &known_vms) {
  Builder builder{snapshot, known_chain_names(known_vms), {}, {}, {}, {}, std::nullopt};
  return builder.build();
}

Result<FirewallReading> read_firewall_view(const std::string &from_dir, CommandRunner &runner,
                                           const CaptureOptions &options, const std::string &state_dir) {
  auto snapshot = read_firewall(from_dir, runner, options);
  if (!snapshot)
    return tl::unexpected(snapshot.error());
  FirewallReading out{std::move(*snapshot), {}};
  out.view = build_view(out.snapshot, recorded_vm_names(state_dir));
  return out;
}

std::string render_vm_names(const FirewallView &view) {
  std::string out;
  for (const auto &vm : view.vms)
    out += vm.name + "\n";
  return out;
}

} // namespace vifwall
