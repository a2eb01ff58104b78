// Who a VM is, as its rules say: its chains by role, the naming generation,
// its own address set, its MAC, its NICs, and which anti-spoofing
// protections cover which of its VIFs.
#include <map>

#include "build_parts.hpp"
#include "model.hpp"
#include "protocols.hpp"
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

// ingress_chain, egress_chain, def_chain and naming from the iptables
// chains; their twins from the ip6tables ones.
void fill_chains(VmView &vm) {
  for (const auto &chains : vm.chains) {
    if (chains.first != "iptables" && chains.first != "ip6tables")
      continue;
    const bool v6 = chains.first == "ip6tables";
    for (const auto &chain : chains.second) {
      auto recognized = recognize_chain(chain);
      if (!recognized)
        continue;
      switch (recognized->kind) {
      case ChainKind::ingress:
        (v6 ? vm.ingress6_chain : vm.ingress_chain) = chain;
        break;
      case ChainKind::egress:
        (v6 ? vm.egress6_chain : vm.egress_chain) = chain;
        break;
      case ChainKind::def:
      case ChainKind::system:
        (v6 ? vm.def6_chain : vm.def_chain) = chain;
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
  Protection ipv6{"ipv6", "ip6tables", {}, {}};
  Protection ra{"ra", "ip6tables", {}, {}};
  Protection na{"na", "ip6tables", {}, {}};
  Protection dhcpv6{"dhcpv6", "ip6tables", {}, {}};
  bool mac_in_filter = false;
  // VIFs with IPv6: in an ip6tables rule of the VM or let through the gate.
  std::vector<std::string> ipv6_vifs;
};

// The ICMPv6 type an ip6tables rule matches, -1 for none.
int icmpv6_type(const Args &args) {
  auto type = option_value(args, {"--icmpv6-type"});
  if (!type || type->negated)
    return -1;
  auto parsed = icmp_type_code(type->value, true);
  return parsed ? parsed->first : -1;
}

// The IPv6 protections one ip6tables rule of the -def chain gives its VIF
// (sg_render.hpp, render_user_vm_defaults: RFC 4890 and the ND checks).
void add_ipv6_protected_vifs(const VmView &vm, const ViewRule &rule, Protections &p) {
  for (const auto &use : vif_uses(rule.args))
    add_unique(p.ipv6_vifs, use.name);
  auto in = option_value(rule.args, {"--physdev-in"});
  if (rule.table != "ip6tables" || rule.chain != vm.def6_chain || !in || in->negated ||
      target_of(rule.args) != "DROP")
    return;
  auto match = set_match(rule.args);
  if (match && match->negated && match->direction == "src")
    add_unique(p.ipv6.vifs, in->value);
  const int type = icmpv6_type(rule.args);
  if (type == 134) // router advertisement (redirects, 137, are dropped beside it)
    add_unique(p.ra.vifs, in->value);
  if (type == 136 && !option_value(rule.args, {"--u32"})) // the NA drop after the own targets
    add_unique(p.na.vifs, in->value);
  auto sport = option_value(rule.args, {"--sport", "--source-port"});
  if (sport && !sport->negated && sport->value == "547")
    add_unique(p.dhcpv6.vifs, in->value);
}

// The VIFs one rule protects, into `p`.
void add_protected_vifs(const VmView &vm, const ViewRule &rule, Protections &p) {
  const std::string target = target_of(rule.args);
  if (rule.table == "ip6tables" || (rule.table == "ebtables" && rule.chain == kIpv6Gate)) {
    add_ipv6_protected_vifs(vm, rule, p);
    return;
  }
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

// `all` over the VIFs `vifs`: those it covers and those it misses.
Protection over(const Protection &all, const std::vector<std::string> &vifs) {
  Protection out{all.name, all.how, {}, {}};
  for (const auto &vif : vifs)
    (contains(all.vifs, vif) ? out.vifs : out.missing_vifs).push_back(vif);
  return out;
}

void fill_protections(VmView &vm) {
  if (vm.system)
    return;
  Protections p;
  for (const auto &rule : vm.raw)
    add_protected_vifs(vm, rule, p);
  std::vector<std::string> vifs, ipv6_vifs;
  for (const auto &vif : vm.vifs) {
    vifs.push_back(vif.name);
    if (contains(p.ipv6_vifs, vif.name))
      ipv6_vifs.push_back(vif.name);
  }
  for (const Protection *one : {&p.ip, &p.mac, &p.arp, &p.dhcp})
    vm.protections.push_back(over(*one, vifs));
  if (!ipv6_vifs.empty())
    for (const Protection *one : {&p.ipv6, &p.ra, &p.na, &p.dhcpv6})
      vm.protections.push_back(over(*one, ipv6_vifs));
  for (auto &nic : vm.nics) {
    std::vector<std::string> nic_ipv6;
    for (const auto &vif : nic.vifs)
      if (contains(ipv6_vifs, vif))
        nic_ipv6.push_back(vif);
    for (const Protection *one : {&p.ip, &p.mac, &p.arp, &p.dhcp})
      nic.protections.push_back(over(*one, nic.vifs));
    if (!nic_ipv6.empty() || !nic.ipset6.empty())
      for (const Protection *one : {&p.ipv6, &p.ra, &p.na, &p.dhcpv6})
        nic.protections.push_back(over(*one, nic_ipv6.empty() ? nic.vifs : nic_ipv6));
  }
}

namespace {

// The device a NIC set's name says (sg_names.hpp, nic_set_name): NIC 0's
// IPv4 set is the VM's own set; the others are <set_base>-n<N>, -6, -6n<N>.
std::optional<int> device_of_set(const std::string &set, const std::string &own_set, bool ipv6) {
  if (!ipv6 && set == own_set)
    return 0;
  auto base = set_base_of(set);
  if (!base)
    return std::nullopt;
  std::string_view rest = std::string_view(set).substr(base->size());
  const std::string_view prefix = ipv6 ? "-6" : "-";
  if (rest.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  rest.remove_prefix(prefix.size());
  if (rest.empty())
    return ipv6 ? std::optional<int>(0) : std::nullopt;
  if (rest.front() != 'n')
    return std::nullopt;
  auto number = parse_u64(rest.substr(1));
  if (!number || *number > 99)
    return std::nullopt;
  return static_cast<int>(*number);
}

// VIF -> the set its -def rule drops other sources against, in `table`.
std::map<std::string, std::string> source_sets(const VmView &vm, const std::string &table,
                                               const std::string &def) {
  std::map<std::string, std::string> out;
  for (const auto &rule : vm.raw) {
    if (rule.table != table || rule.chain != def || def.empty() || target_of(rule.args) != "DROP")
      continue;
    auto match = set_match(rule.args);
    auto in = option_value(rule.args, {"--physdev-in"});
    if (match && match->negated && match->direction == "src" && in && !in->negated)
      out.emplace(in->value, match->name);
  }
  return out;
}

// VIF -> the MAC its ebtables rule lets through.
std::map<std::string, std::string> vif_macs(const VmView &vm) {
  std::map<std::string, std::string> out;
  for (const auto &rule : vm.raw) {
    if (rule.table != "ebtables" || !owns_chain(vm, "ebtables", rule.chain))
      continue;
    auto in = option_value(rule.args, {"-i", "--in-interface", "--in-if"});
    auto source = option_value(rule.args, {"-s", "--source", "--src"});
    if (in && !in->negated && source && source->negated)
      if (auto mac = normalize_mac(source->value))
        out.emplace(in->value, *mac);
  }
  return out;
}

} // namespace

void fill_nics(VmView &vm, const FirewallSnapshot &snapshot, const SetMembers &members) {
  if (vm.system)
    return;
  const auto sets4 = source_sets(vm, "iptables", vm.def_chain);
  const auto sets6 = source_sets(vm, "ip6tables", vm.def6_chain);
  const auto macs = vif_macs(vm);
  const std::string own = vm.ipset.empty() ? names_for_vm(vm.name).ipset : vm.ipset;
  std::map<int, ViewNic> nics;
  for (const auto &vif : vm.vifs) {
    auto set4 = sets4.find(vif.name);
    auto set6 = sets6.find(vif.name);
    std::optional<int> device;
    if (set4 != sets4.end())
      device = device_of_set(set4->second, own, false);
    if (!device && set6 != sets6.end())
      device = device_of_set(set6->second, own, true);
    if (!device)
      if (auto parsed = parse_vif_name(vif.name))
        device = static_cast<int>(parsed->device);
    ViewNic &nic = nics[device.value_or(0)];
    nic.device = device.value_or(0);
    nic.vifs.push_back(vif.name);
    if (auto mac = macs.find(vif.name); mac != macs.end() && !nic.mac)
      nic.mac = mac->second;
    if (set4 != sets4.end() && nic.ipset.empty())
      nic.ipset = set4->second;
    if (set6 != sets6.end() && nic.ipset6.empty())
      nic.ipset6 = set6->second;
  }
  for (auto &[device, nic] : nics) {
    if (device == 0) { // what the VM-wide fields found, when its rules name nothing
      if (!nic.mac)
        nic.mac = vm.mac;
      if (nic.ipset.empty())
        nic.ipset = vm.ipset;
    }
    auto fill = [&](const std::string &set, std::vector<std::string> &into, bool &missing) {
      if (set.empty())
        return;
      if (auto found = members.find(set); found != members.end())
        into = found->second;
      else
        missing = snapshot.ipsets.has_value();
    };
    fill(nic.ipset, nic.ipv4, nic.ipset_missing);
    fill(nic.ipset6, nic.ipv6, nic.ipset6_missing);
    vm.nics.push_back(std::move(nic));
  }
}

} // namespace vifwall::view_detail
