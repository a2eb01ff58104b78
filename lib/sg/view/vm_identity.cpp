// Who a VM is, as its rules say: its chains by role, the naming generation,
// its own address set, its MAC, and which anti-spoofing protections cover
// which of its VIFs.
#include "build_parts.hpp"
#include "rule_match.hpp"
#include "sg_names.hpp"
#include "text.hpp"
#include "vmops_layout.hpp"

namespace vifwall::view_detail {

namespace {

bool owns_chain(const VmView &vm, const std::string &table, const std::string &chain) {
  auto found = vm.chains.find(table);
  return found != vm.chains.end() && contains(found->second, chain);
}

// ingress_chain, egress_chain, def_chain and naming from the iptables chains.
void fill_chains(VmView &vm) {
  for (const auto &chains : vm.chains) {
    if (chains.first != "iptables")
      continue;
    for (const auto &chain : chains.second) {
      auto recognized = recognize_chain(chain);
      if (!recognized)
        continue;
      switch (recognized->kind) {
      case ChainKind::ingress:
        vm.ingress_chain = chain;
        break;
      case ChainKind::egress:
        vm.egress_chain = chain;
        break;
      case ChainKind::def:
      case ChainKind::system:
        vm.def_chain = chain;
        break;
      case ChainKind::global:
        break;
      }
    }
  }
  if (!vm.def_chain.empty() && !vm.system) {
    const VmNames names = names_for_vm(vm.name);
    auto recognized = recognize_chain(vm.def_chain);
    if (vm.def_chain != names.def && recognized && recognized->base != vm.name)
      vm.naming = Naming::old;
  }
}

// The VM's own set: what its default chain checks source addresses against.
void fill_ipset(VmView &vm, const FirewallSnapshot &snapshot, const SetMembers &members) {
  for (const auto &rule : vm.raw) {
    if (rule.table != "iptables" || rule.chain != vm.def_chain)
      continue;
    if (auto match = set_match(rule.args); match && match->negated) {
      vm.ipset = match->name;
      break;
    }
  }
  if (vm.ipset.empty() && snapshot.ipsets && !vm.system) {
    const std::string own = names_for_vm(vm.name).ipset;
    if (snapshot.ipsets->find(own))
      vm.ipset = own;
  }
  if (!vm.ipset.empty()) {
    auto found = members.find(vm.ipset);
    if (found == members.end())
      vm.ipset_missing = snapshot.ipsets.has_value();
    else
      vm.ips = found->second;
  }
}

// The MAC: what the ebtables anti-spoofing rule lets through, else what the
// ARP rules allow.
void fill_mac(VmView &vm) {
  for (const auto &rule : vm.raw) {
    if (rule.table == "ebtables" && owns_chain(vm, "ebtables", rule.chain)) {
      auto source = option_value(rule.args, {"-s", "--source", "--src"});
      if (source && source->negated)
        if (auto mac = normalize_mac(source->value)) {
          vm.mac = *mac;
          return;
        }
    }
  }
  for (const auto &rule : vm.raw)
    if (rule.table == "ebtables-nat")
      if (auto mac = vmops_nat_mac_rule_mac(FwRule{rule.chain, rule.args, std::nullopt, 0}))
        if (auto normalized = normalize_mac(*mac)) {
          vm.mac = *normalized;
          return;
        }
  for (const auto &rule : vm.raw) {
    if (rule.table != "arptables" && rule.table != "ebtables")
      continue;
    auto source = option_value(rule.args, {"--src-mac", "--source-mac", "--arp-mac-src"});
    if (source && !source->negated)
      if (auto mac = normalize_mac(source->value)) {
        vm.mac = *mac;
        return;
      }
  }
}

struct Protections {
  Protection ip{"ip", "iptables", {}, {}};
  Protection mac{"mac", "ebtables", {}, {}};
  Protection arp{"arp", "", {}, {}};
  Protection dhcp{"dhcp", "ebtables", {}, {}};
  bool mac_in_filter = false;
};

// The VIFs one rule protects, into `p`.
void add_protected_vifs(const VmView &vm, const ViewRule &rule, Protections &p) {
  const std::string target = target_of(rule.args);
  if (rule.table == "iptables" && rule.chain == vm.def_chain && target == "DROP") {
    auto match = set_match(rule.args);
    auto in = option_value(rule.args, {"--physdev-in"});
    if (match && match->negated && match->direction == "src" && in && !in->negated)
      add_unique(p.ip.vifs, in->value);
  }
  if (rule.table == "ebtables" && owns_chain(vm, "ebtables", rule.chain)) {
    auto in = option_value(rule.args, {"-i", "--in-interface", "--in-if"});
    if (!in || in->negated)
      return;
    auto source = option_value(rule.args, {"-s", "--source", "--src"});
    if (source && source->negated && target == "DROP") {
      add_unique(p.mac.vifs, in->value);
      p.mac_in_filter = true;
    }
    auto dport = option_value(rule.args, {"--ip-dport", "--ip-destination-port"});
    if (dport && dport->value == "68" && target == "DROP")
      add_unique(p.dhcp.vifs, in->value);
    if (option_value(rule.args, {"--arp-mac-src"})) {
      add_unique(p.arp.vifs, in->value);
      p.arp.how = "ebtables";
    }
  }
  // CloudStack's vmops puts the MAC check in the nat table when it can.
  if (rule.table == "ebtables-nat")
    if (auto vif = vmops_nat_mac_rule_vif(FwRule{rule.chain, rule.args, std::nullopt, 0})) {
      add_unique(p.mac.vifs, *vif);
      p.mac.how = p.mac_in_filter ? "ebtables+ebtables nat" : "ebtables nat";
    }
  if (rule.table == "arptables" && owns_chain(vm, "arptables", rule.chain)) {
    auto in = option_value(rule.args, {"-i", "--in-interface"});
    if (in && !in->negated && option_value(rule.args, {"--src-mac", "--source-mac"})) {
      add_unique(p.arp.vifs, in->value);
      p.arp.how = p.arp.how.empty() || p.arp.how == "arptables" ? "arptables" : p.arp.how + "+arptables";
    }
  }
}

} // namespace

void fill_identity(VmView &vm, const FirewallSnapshot &snapshot, const SetMembers &members) {
  fill_chains(vm);
  fill_ipset(vm, snapshot, members);
  fill_mac(vm);
}

void fill_protections(VmView &vm) {
  if (vm.system)
    return;
  Protections p;
  for (const auto &rule : vm.raw)
    add_protected_vifs(vm, rule, p);
  for (Protection *one : {&p.ip, &p.mac, &p.arp, &p.dhcp}) {
    for (const auto &vif : vm.vifs)
      if (!contains(one->vifs, vif.name))
        one->missing_vifs.push_back(vif.name);
    vm.protections.push_back(*one);
  }
}

} // namespace vifwall::view_detail
