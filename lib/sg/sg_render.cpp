#include "sg_render.hpp"

#include <algorithm>
#include <cstdint>
#include <set>

#include "sg_names.hpp"
#include "sg_render_internal.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

using namespace render_detail;

Args render_detail::physdev(const std::string &in, const std::string &out) {
  Args args = {"-m", "physdev"};
  if (!in.empty())
    args.insert(args.end(), {"--physdev-in", in});
  if (!out.empty())
    args.insert(args.end(), {"--physdev-out", out});
  args.push_back("--physdev-is-bridged");
  return args;
}

Args render_detail::concat(std::initializer_list<Args> parts) {
  Args out;
  for (const auto &part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

Args render_detail::match_set(const std::string &set, const char *direction, bool negate) {
  Args args = {"-m", "set"};
  if (negate)
    args.push_back("!");
  args.insert(args.end(), {"--match-set", set, direction});
  return args;
}

ProtocolArgs render_detail::protocol_args(const SgRule &rule) {
  const std::string &protocol = rule.protocol;
  if (protocol == "tcp" || protocol == "udp") {
    if (rule.start == 0 && rule.end == 65535)
      return {{"-p", protocol}, true};
    const std::string ports =
        rule.start == rule.end
            ? std::to_string(rule.start)
            : std::to_string(rule.start) + ":" + std::to_string(rule.end);
    return {{"-p", protocol, "-m", protocol, "--dport", ports}, true};
  }
  if (protocol == "icmp") {
    std::string type = "any";
    if (rule.start != -1) {
      type = std::to_string(rule.start);
      if (rule.end != -1)
        type += "/" + std::to_string(rule.end);
    }
    return {{"-p", "icmp", "-m", "icmp", "--icmp-type", type}, false};
  }
  if (protocol == "all" || protocol == "0")
    return {{}, true};
  // A number.  The three iptables always prints by name are written so.
  if (protocol == "1")
    return {{"-p", "icmp"}, false};
  if (protocol == "6")
    return {{"-p", "tcp"}, true};
  if (protocol == "17")
    return {{"-p", "udp"}, true};
  return {{"-p", protocol}, true};
}

namespace {

const std::string kBroadcastMac = "ff:ff:ff:ff:ff:ff";

// Legacy ebtables prints MACs with ether_ntoa: no leading zeros.
std::string short_mac(const std::string &mac) {
  std::string out;
  std::size_t start = 0;
  while (start <= mac.size()) {
    std::size_t colon = mac.find(':', start);
    if (colon == std::string::npos)
      colon = mac.size();
    std::string octet = mac.substr(start, colon - start);
    while (octet.size() > 1 && octet.front() == '0')
      octet.erase(0, 1);
    if (!out.empty())
      out.push_back(':');
    out += octet;
    start = colon + 1;
  }
  return out;
}

void add_unique(std::vector<std::string> &list, const std::string &value) {
  if (std::find(list.begin(), list.end(), value) == list.end())
    list.push_back(value);
}

Result<std::vector<std::string>> check_vifs(const std::vector<std::string> &vifs) {
  if (vifs.empty())
    return fail("expected at least one VIF (vif<domid>.<device>)");
  std::vector<std::string> out;
  for (const auto &vif : vifs) {
    auto valid = validate_iface(vif);
    if (!valid)
      return tl::unexpected(valid.error());
    if (std::find(out.begin(), out.end(), *valid) != out.end())
      return fail("VIF " + quote_for_error(vif) + " is listed twice");
    out.push_back(*valid);
  }
  return out;
}

// ---- ARP rules, arptables and ebtables flavours -----------------------------

// The four checks CloudStack makes for one IP on one VIF (§2b step 9).
void arptables_rules_for(ChainContent &chain, const std::string &vif,
                         const std::string &ip, const std::string &mac) {
  chain.rules.push_back({"-j", "ACCEPT", "-i", vif, "-s", ip, "--src-mac", mac,
                         "--h-length", "6", "--opcode", "Reply"});
  chain.rules.push_back({"-j", "RETURN", "-i", vif, "-s", ip, "--src-mac", mac,
                         "--h-length", "6", "--opcode", "Request"});
  chain.rules.push_back(
      {"-j", "ACCEPT", "-o", vif, "-d", ip, "--opcode", "Request"});
  chain.rules.push_back({"-j", "ACCEPT", "-o", vif, "-d", ip, "--dst-mac", mac,
                         "--h-length", "6", "--opcode", "Reply"});
}

void ebtables_arp_rules_for(ChainContent &chain, const std::string &vif,
                            const std::string &ip, const std::string &mac) {
  const std::string legacy_mac = short_mac(mac);
  chain.rules.push_back({"-p", "ARP", "-i", vif, "--arp-op", "Reply",
                         "--arp-ip-src", ip, "--arp-mac-src", legacy_mac, "-j",
                         "ACCEPT"});
  chain.rules.push_back({"-p", "ARP", "-i", vif, "--arp-op", "Request",
                         "--arp-ip-src", ip, "--arp-mac-src", legacy_mac, "-j",
                         "RETURN"});
  chain.rules.push_back({"-p", "ARP", "-o", vif, "--arp-op", "Request",
                         "--arp-ip-dst", ip, "-j", "ACCEPT"});
  chain.rules.push_back({"-p", "ARP", "-o", vif, "--arp-op", "Reply",
                         "--arp-ip-dst", ip, "--arp-mac-dst", legacy_mac, "-j",
                         "ACCEPT"});
}

// ---- SG rule rendering ------------------------------------------------------

std::string rule_label(const SgRule &rule, std::size_t position) {
  return std::string(to_string(rule.direction)) + " rule " +
         std::to_string(position) + " (" + format_rule_readable(rule) + ")";
}

std::string quote_word(const std::string &word) {
  bool plain = !word.empty();
  for (char c : word)
    if (c == ' ' || c == '\t' || c == '"' || c == '\\' || c == '\'' ||
        c == '\n')
      plain = false;
  if (plain)
    return word;
  std::string out = "\"";
  for (char c : word) {
    if (c == '"' || c == '\\')
      out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool contains(const std::vector<std::string> &list, const std::string &value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::size_t first_position(const RestoreOptions &options,
                           const std::string &chain) {
  auto found = options.first_position.find(chain);
  return found == options.first_position.end() || found->second == 0
             ? 1
             : found->second;
}

// The rule lines shared by the iptables and ebtables restore formats, after
// the chain declarations.
void append_rule_lines(std::string &out, const TablePlan &plan,
                       const RestoreOptions &options) {
  for (const auto &rule : options.deletions)
    out += format_rule_line("-D", rule) + "\n";
  for (const auto &chain : options.destroy_chains)
    out += "-F " + chain + "\n";
  for (const auto &chain : options.destroy_chains)
    out += "-X " + chain + "\n";
  for (const auto &chain : plan.owned_chains)
    for (const auto &args : chain.rules)
      out += format_rule_line("-A", RuleSpec{chain.name, args}) + "\n";
  std::map<std::string, std::size_t> next;
  for (const auto &rule : plan.jumps_first) {
    auto [it, inserted] = next.try_emplace(rule.chain, first_position(options, rule.chain));
    out += format_rule_line("-I", RuleSpec{rule.chain, {}}) + " " +
           std::to_string(it->second++);
    for (const auto &word : rule.args)
      out += " " + quote_word(word);
    out += "\n";
  }
  for (const auto &rule : plan.jumps_last)
    out += format_rule_line("-A", rule) + "\n";
}

} // namespace

void append_plan(VmPlan &into, const VmPlan &from) {
  auto table = [](TablePlan &to, const TablePlan &add) {
    to.owned_chains.insert(to.owned_chains.end(), add.owned_chains.begin(),
                           add.owned_chains.end());
    for (const auto &chain : add.shared_chains)
      add_unique(to.shared_chains, chain);
    to.jumps_first.insert(to.jumps_first.end(), add.jumps_first.begin(),
                          add.jumps_first.end());
    to.jumps_last.insert(to.jumps_last.end(), add.jumps_last.begin(),
                         add.jumps_last.end());
    to.remove_rules.insert(to.remove_rules.end(), add.remove_rules.begin(),
                           add.remove_rules.end());
  };
  table(into.iptables, from.iptables);
  table(into.ip6tables, from.ip6tables);
  table(into.ebtables, from.ebtables);
  table(into.arptables, from.arptables);
  into.sets.insert(into.sets.end(), from.sets.begin(), from.sets.end());
  into.notes.insert(into.notes.end(), from.notes.begin(), from.notes.end());
}

std::vector<std::vector<std::string>> planned_rules(const TablePlan &table,
                                                    const std::string &chain) {
  for (const auto &owned : table.owned_chains)
    if (owned.name == chain)
      return owned.rules;
  std::vector<std::vector<std::string>> out;
  for (const auto &rule : table.jumps_first)
    if (rule.chain == chain)
      out.push_back(rule.args);
  for (const auto &rule : table.jumps_last)
    if (rule.chain == chain)
      out.push_back(rule.args);
  return out;
}

namespace {

// FORWARD -> BRIDGE-FIREWALL -> BRIDGE-DEFAULT-FIREWALL, the uplinks' ACCEPT
// and the final DROP: the same in iptables and its IPv6 twin.
Result<void> bridge_firewall_layout(TablePlan &table, std::vector<Args> default_rules,
                                    const std::vector<std::string> &uplinks) {
  table.owned_chains.push_back({kBridgeDefaultFirewall, std::move(default_rules), ""});
  table.shared_chains.push_back(kBridgeFirewall);
  table.jumps_first.push_back({kBridgeFirewall, jump(kBridgeDefaultFirewall)});
  table.jumps_first.push_back({kForward, concat({physdev("", ""), jump(kBridgeFirewall)})});
  std::vector<std::string> seen;
  for (const auto &uplink : uplinks) {
    auto valid = validate_iface(uplink);
    if (!valid)
      return tl::unexpected(valid.error());
    const std::string pattern = ends_with(*valid, "+") ? *valid : *valid + "+";
    if (contains(seen, pattern))
      continue;
    seen.push_back(pattern);
    table.jumps_first.push_back({kForward, concat({physdev("", pattern), jump("ACCEPT")})});
  }
  table.jumps_last.push_back({kForward, jump("DROP")});
  table.remove_rules.push_back({kForward, jump("RH-Firewall-1-INPUT")});
  return {};
}

} // namespace

Result<VmPlan> render_host_setup(const std::vector<std::string> &uplinks,
                                 ArpFilter arp, bool ipv6) {
  VmPlan plan;
  const Args established = {"-m", "state", "--state", "RELATED,ESTABLISHED", "-j", "ACCEPT"};
  if (auto ok = bridge_firewall_layout(
          plan.iptables,
          {established,
           concat({{"-p", "udp"}, physdev("", ""), {"-m", "udp", "--sport", "68", "--dport", "67"},
                   jump("ACCEPT")}),
           concat({{"-p", "udp"}, physdev("", ""), {"-m", "udp", "--sport", "67", "--dport", "68"},
                   jump("ACCEPT")})},
          uplinks);
      !ok)
    return tl::unexpected(ok.error());
  if (ipv6)
    if (auto ok = bridge_firewall_layout(plan.ip6tables, {established}, uplinks); !ok)
      return tl::unexpected(ok.error());

  const std::string arp_target =
      arp == ArpFilter::arptables ? "ACCEPT" : "RETURN";
  std::vector<Args> ipv6_rules = {{"-p", "IPv6", "-j", "DROP"}};
  if (ipv6) {
    ipv6_rules = {{"-p", "IPv6", "-j", kIpv6Gate}, {"-p", "IPv6", "-j", "RETURN"}};
    plan.ebtables.shared_chains.push_back(kIpv6Gate);
    plan.ebtables.jumps_last.push_back({kIpv6Gate, jump("DROP")});
  }
  ChainContent default_ebtables{
      kDefaultEbtables,
      {
          {"-p", "IPv4", "--ip-dst", "255.255.255.255", "--ip-proto", "udp",
           "--ip-dport", "67", "-j", "ACCEPT"},
          {"-p", "IPv4", "--ip-dst", "255.255.255.255", "--ip-proto", "udp",
           "--ip-dport", "68", "-j", "ACCEPT"},
          {"-p", "ARP", "--arp-op", "Request", "-j", arp_target},
          {"-p", "ARP", "--arp-op", "Reply", "-j", arp_target},
          {"-p", "IPv4", "-d", "Broadcast", "-j", "DROP"},
          {"-p", "IPv4", "-d", "Multicast", "-j", "DROP"},
          {"-p", "IPv4", "--ip-dst", "255.255.255.255", "-j", "DROP"},
          {"-p", "IPv4", "--ip-dst", "224.0.0.0/4", "-j", "DROP"},
          {"-p", "IPv4", "-j", "RETURN"},
      },
      "ACCEPT"};
  for (auto &rule : ipv6_rules)
    default_ebtables.rules.push_back(std::move(rule));
  default_ebtables.rules.push_back({"-p", "802_1Q", "-j", "DROP"});
  default_ebtables.rules.push_back({"-j", "DROP"});
  plan.ebtables.owned_chains.push_back(std::move(default_ebtables));
  plan.ebtables.jumps_first.push_back({kForward, jump(kDefaultEbtables)});
  return plan;
}

bool has_ipv6(const VmIdentity &vm) {
  if (!vm.ipv6.empty())
    return true;
  for (const auto &nic : vm.other_nics)
    if (!nic.ipv6.empty())
      return true;
  return false;
}

namespace {

// One NIC's values, validated; `name` says which NIC in errors.
Result<CheckedNic> check_nic(const VmNames &names, int device, const std::string &ip,
                             const std::vector<std::string> &secondary_ips,
                             const std::vector<std::string> &ipv6, const std::string &mac_text,
                             const std::vector<std::string> &vif_list) {
  const std::string where = device == 0 ? "" : "NIC " + std::to_string(device) + ": ";
  auto located = [&](const Error &error) { return fail(where + error.message); };
  CheckedNic nic;
  nic.device = device;
  auto primary = validate_ipv4(ip);
  if (!primary)
    return located(primary.error());
  nic.ip = *primary;
  for (const auto &secondary : secondary_ips) {
    auto valid = validate_ipv4(secondary);
    if (!valid)
      return located(valid.error());
    if (*valid != nic.ip)
      add_unique(nic.secondary_ips, *valid);
  }
  auto mac = validate_mac(mac_text);
  if (!mac)
    return located(mac.error());
  nic.mac = *mac;
  auto vifs = check_vifs(vif_list);
  if (!vifs)
    return located(vifs.error());
  nic.vifs = std::move(*vifs);
  nic.set4 = nic_set_name(names, device, false);
  if (!ipv6.empty()) {
    nic.ipv6.push_back(link_local_from_mac(nic.mac));
    for (const auto &address : ipv6) {
      auto valid = validate_ipv6_host(address);
      if (!valid)
        return located(valid.error());
      add_unique(nic.ipv6, *valid);
    }
    nic.set6 = nic_set_name(names, device, true);
  }
  return nic;
}

// Every NIC of `vm`, NIC 0 first, each validated; devices and VIFs unique.
Result<std::vector<CheckedNic>> check_nics(const VmIdentity &vm, const VmNames &names) {
  std::vector<CheckedNic> nics;
  auto first = check_nic(names, 0, vm.ip, vm.secondary_ips, vm.ipv6, vm.mac, vm.vifs);
  if (!first)
    return tl::unexpected(first.error());
  nics.push_back(std::move(*first));
  std::vector<std::string> all_vifs = nics.front().vifs;
  for (const auto &other : vm.other_nics) {
    if (other.device < 1 || other.device > kMaxNicDevice)
      return fail("invalid NIC device " + std::to_string(other.device) + ": expected 1-" +
                  std::to_string(kMaxNicDevice) + " (NIC 0 is the VM's own --ip/--mac)");
    for (const auto &nic : nics)
      if (nic.device == other.device)
        return fail("NIC " + std::to_string(other.device) + " is listed twice");
    auto nic = check_nic(names, other.device, other.ip, other.secondary_ips, other.ipv6, other.mac,
                         other.vifs);
    if (!nic)
      return tl::unexpected(nic.error());
    for (const auto &vif : nic->vifs) {
      if (contains(all_vifs, vif))
        return fail("VIF " + quote_for_error(vif) + " is listed twice");
      all_vifs.push_back(vif);
    }
    nics.push_back(std::move(*nic));
  }
  return nics;
}

// iptables <c>-def's five rules for one VIF of a NIC.
void append_ipv4_def_rules(ChainContent &def, const std::string &vif, const std::string &set,
                           const VmNames &names) {
  def.rules.push_back(concat({{"-p", "udp"}, physdev(vif, ""), match_set(set, "src", false),
                              {"-m", "udp", "--dport", "53"}, jump("RETURN")}));
  def.rules.push_back(concat({physdev(vif, ""), match_set(set, "src", true), jump("DROP")}));
  def.rules.push_back(concat({physdev("", vif), match_set(set, "dst", true), jump("DROP")}));
  def.rules.push_back(
      concat({physdev(vif, ""), match_set(set, "src", false), jump(names.egress)}));
  def.rules.push_back(concat({physdev("", vif), jump(names.ingress)}));
}

// BRIDGE-FIREWALL's two jumps of a VIF to the VM's -def chain.
void add_bridge_firewall_jumps(TablePlan &table, const std::string &vif, const std::string &def) {
  table.jumps_first.push_back({kBridgeFirewall, concat({physdev(vif, ""), jump(def)})});
  table.jumps_last.push_back({kBridgeFirewall, concat({physdev("", vif), jump(def)})});
}

// The ebtables chain's rules of the NICs whose MAC is known, and the ARP
// checks (ebtables rules or the arptables chain).
void add_link_layer_rules(VmPlan &plan, const std::vector<CheckedNic> &nics, const VmNames &names,
                          const std::string &vm_name, ArpFilter arp) {
  ChainContent bridge{names.ingress, {}, "ACCEPT"};
  ChainContent arp_chain{names.ingress, {}, ""};
  for (const auto &nic : nics) {
    if (nic.mac == kBroadcastMac) {
      plan.notes.push_back("VM " + vm_name +
                           (nic.device == 0 ? "" : " NIC " + std::to_string(nic.device)) +
                           ": MAC ff:ff:ff:ff:ff:ff (unknown), so no MAC or ARP "
                           "anti-spoofing rules, as in CloudStack");
      continue;
    }
    for (const auto &vif : nic.vifs) {
      bridge.rules.push_back({"-s", "!", short_mac(nic.mac), "-i", vif, "-j", "DROP"});
      bridge.rules.push_back({"-p", "IPv4", "-i", vif, "--ip-proto", "udp", "--ip-dport", "68",
                              "-j", "DROP"});
      bridge.rules.push_back({"-p", "IPv4", "-o", vif, "--ip-proto", "udp", "--ip-dport", "67",
                              "-j", "DROP"});
      plan.ebtables.jumps_first.push_back({kForward, {"-i", vif, "-j", names.ingress}});
      plan.ebtables.jumps_last.push_back({kForward, {"-o", vif, "-j", names.ingress}});
    }
  }
  if (bridge.rules.empty())
    return;
  for (const auto &nic : nics) {
    if (nic.mac == kBroadcastMac)
      continue;
    std::vector<std::string> arp_ips = nic.secondary_ips;
    arp_ips.push_back(nic.ip);
    for (const auto &address : arp_ips)
      for (const auto &vif : nic.vifs) {
        if (arp == ArpFilter::ebtables)
          ebtables_arp_rules_for(bridge, vif, address, nic.mac);
        else
          arptables_rules_for(arp_chain, vif, address, nic.mac);
      }
  }
  if (arp == ArpFilter::ebtables) {
    bridge.rules.push_back({"-p", "ARP", "-j", "DROP"});
  } else {
    arp_chain.rules.push_back({"-j", "DROP"});
    plan.arptables.owned_chains.push_back(arp_chain);
    for (const auto &nic : nics)
      if (nic.mac != kBroadcastMac)
        for (const auto &vif : nic.vifs) {
          plan.arptables.jumps_first.push_back({kForward, {"-j", names.ingress, "-i", vif}});
          plan.arptables.jumps_last.push_back({kForward, {"-j", names.ingress, "-o", vif}});
        }
  }
  plan.ebtables.owned_chains.push_back(bridge);
}

} // namespace

Result<VmPlan> render_user_vm_defaults(const VmIdentity &vm, ArpFilter arp) {
  auto name = validate_vm_name(vm.vm_name);
  if (!name)
    return tl::unexpected(name.error());
  if (is_system_vm(*name))
    return fail("expected a user VM name, got system VM " +
                quote_for_error(*name) +
                " (r-, s-, v- and l- VMs get render_system_vm)");
  if (!vm.vm_id.empty())
    if (auto id = validate_vm_id(vm.vm_id); !id)
      return tl::unexpected(id.error());
  const VmNames names = names_for_vm(*name);
  auto nics = check_nics(vm, names);
  if (!nics)
    return tl::unexpected(nics.error());

  VmPlan plan;
  ChainContent def{names.def, {}, ""};
  ChainContent def6{names.def, {}, ""};
  for (const auto &nic : *nics) {
    SetContent own{nic.set4, "hash:net", "inet", {nic.ip}};
    for (const auto &secondary : nic.secondary_ips)
      own.members.push_back(secondary);
    plan.sets.push_back(own);
    for (const auto &vif : nic.vifs) {
      append_ipv4_def_rules(def, vif, nic.set4, names);
      add_bridge_firewall_jumps(plan.iptables, vif, names.def);
    }
    if (nic.set6.empty())
      continue;
    SetContent own6{nic.set6, "hash:net", "inet6", {}};
    for (const auto &address : nic.ipv6)
      add_unique(own6.members, address);
    plan.sets.push_back(own6);
    for (const auto &vif : nic.vifs) {
      append_ipv6_def_rules(def6, nic, vif, names);
      add_bridge_firewall_jumps(plan.ip6tables, vif, names.def);
      plan.ebtables.shared_chains.push_back(kIpv6Gate);
      plan.ebtables.jumps_first.push_back({kIpv6Gate, {"-i", vif, "-j", "RETURN"}});
      plan.ebtables.jumps_first.push_back({kIpv6Gate, {"-o", vif, "-j", "RETURN"}});
    }
  }
  plan.iptables.owned_chains.push_back(def);
  if (!def6.rules.empty())
    plan.ip6tables.owned_chains.push_back(def6);
  std::sort(plan.ebtables.shared_chains.begin(), plan.ebtables.shared_chains.end());
  plan.ebtables.shared_chains.erase(
      std::unique(plan.ebtables.shared_chains.begin(), plan.ebtables.shared_chains.end()),
      plan.ebtables.shared_chains.end());
  add_link_layer_rules(plan, *nics, names, *name, arp);
  return plan;
}

Result<VmPlan> render_system_vm(const std::string &vm_name,
                                const std::vector<std::string> &vifs) {
  auto name = validate_vm_name(vm_name);
  if (!name)
    return tl::unexpected(name.error());
  if (!is_system_vm(*name))
    return fail("expected a system VM name (r-, s-, v- or l-), got " +
                quote_for_error(*name));
  auto valid_vifs = check_vifs(vifs);
  if (!valid_vifs)
    return tl::unexpected(valid_vifs.error());
  const VmNames names = names_for_vm(*name);
  VmPlan plan;
  ChainContent chain{names.def, {}, ""};
  for (const auto &vif : *valid_vifs) {
    chain.rules.push_back(concat({physdev(vif, ""), jump("RETURN")}));
    plan.iptables.jumps_first.push_back(
        {kBridgeFirewall, concat({physdev(vif, ""), jump(names.def)})});
    plan.iptables.jumps_last.push_back(
        {kBridgeFirewall, concat({physdev("", vif), jump(names.def)})});
  }
  chain.rules.push_back(jump("ACCEPT"));
  plan.iptables.owned_chains.push_back(chain);
  return plan;
}

Result<VmPlan> render_vm_rules(const VmNames &names,
                               const std::vector<SgRule> &rules,
                               char generation, bool ipv6) {
  if (generation != 'a' && generation != 'b')
    return fail("invalid set generation " +
                quote_for_error(std::string(1, generation)) +
                ": expected 'a' or 'b'");
  if (names.def == names.ingress)
    return fail("expected a user VM, got the system VM chain " +
                quote_for_error(names.ingress) +
                " (system VMs take no security group rules)");
  VmPlan plan;
  ChainContent ingress{names.ingress, {}, ""};
  ChainContent egress{names.egress, {}, ""};
  ChainContent ingress6{names.ingress, {}, ""};
  ChainContent egress6{names.egress, {}, ""};
  std::size_t ingress_count = 0;
  std::size_t egress_count = 0;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    auto rule = normalize_rule(rules[i]);
    if (!rule)
      return fail("rule " + std::to_string(i + 1) + ": " +
                  rule.error().message);
    const bool is_ingress = rule->direction == Direction::ingress;
    const std::size_t position = is_ingress ? ++ingress_count : ++egress_count;
    if (position > kMaxRulesPerDirection)
      return fail("expected at most " + std::to_string(kMaxRulesPerDirection) +
                  " " + to_string(rule->direction) + " rules, got more");

    bool any = false;
    bool any6 = false;
    std::vector<std::string> members;
    std::vector<std::string> members6;
    for (const auto &cidr : rule->cidrs) {
      if (is_ipv6_cidr(cidr)) {
        if (ends_with(cidr, "/0"))
          any6 = true;
        else
          add_unique(members6, canonical_set_member(cidr));
      } else if (is_any_ipv4(cidr)) {
        any = true;
      } else {
        add_unique(members, canonical_set_member(cidr));
      }
    }
    const bool has_v6 = any6 || !members6.empty();
    if (has_v6 && !ipv6)
      plan.notes.push_back(rule_label(*rule, position) +
                           ": IPv6 CIDRs left out (the VM has no IPv6 address, so its "
                           "IPv6 is dropped)");
    if (has_v6 && ipv6)
      append_ipv6_rule(is_ingress ? ingress6 : egress6, *rule, members6, any6);

    const char *direction = is_ingress ? "src" : "dst";
    const std::string target = is_ingress ? "ACCEPT" : "RETURN";
    ChainContent &chain = is_ingress ? ingress : egress;
    if (rule->protocol == "icmpv6")
      continue; // IPv6 only (normalize_rule refuses IPv4 CIDRs for it)
    const ProtocolArgs protocol = protocol_args(*rule);
    Args args = protocol.args;
    if (protocol.stateful)
      args.insert(args.end(), {"-m", "state", "--state", "NEW"});
    if (any) {
      chain.rules.push_back(concat({args, jump(target)}));
    } else if (!members.empty()) {
      const std::string set =
          rule_set_name(names, rule->direction, position, generation);
      plan.sets.push_back(SetContent{set, "hash:net", "inet", members});
      chain.rules.push_back(
          concat({args, match_set(set, direction, false), jump(target)}));
    } else if (!has_v6) {
      plan.notes.push_back(rule_label(*rule, position) +
                           ": no address to allow, nothing rendered");
    }
  }
  // One policy for the VM, whatever the family: egress is open until the VM
  // has an egress rule, of either family.
  const std::string egress_end = egress_count == 0 ? "RETURN" : "DROP";
  ingress.rules.push_back(jump("DROP"));
  egress.rules.push_back(jump(egress_end));
  plan.iptables.owned_chains.push_back(ingress);
  plan.iptables.owned_chains.push_back(egress);
  if (ipv6) {
    ingress6.rules.push_back(jump("DROP"));
    egress6.rules.push_back(jump(egress_end));
    plan.ip6tables.owned_chains.push_back(ingress6);
    plan.ip6tables.owned_chains.push_back(egress6);
  }
  return plan;
}

// ---- restore formats --------------------------------------------------------

std::string format_rule_line(const std::string &command, const RuleSpec &rule) {
  std::string out = command + " " + rule.chain;
  for (const auto &word : rule.args)
    out += " " + quote_word(word);
  return out;
}

std::string render_iptables_restore(const TablePlan &plan,
                                    const RestoreOptions &options) {
  std::string out = "*filter\n";
  for (const auto &chain : plan.owned_chains)
    out += ":" + chain.name + " - [0:0]\n";
  for (const auto &chain : plan.shared_chains)
    if (!contains(options.existing_chains, chain))
      out += ":" + chain + " - [0:0]\n";
  append_rule_lines(out, plan, options);
  out += "COMMIT\n";
  return out;
}

std::string render_ebtables_restore(const TablePlan &plan,
                                    const RestoreOptions &options) {
  std::string out = "*filter\n";
  for (const auto &chain : plan.owned_chains)
    if (!contains(options.existing_chains, chain.name))
      out += ":" + chain.name + " " +
             (chain.policy.empty() ? "ACCEPT" : chain.policy) + "\n";
  for (const auto &chain : plan.shared_chains)
    if (!contains(options.existing_chains, chain))
      out += ":" + chain + " ACCEPT\n";
  for (const auto &chain : plan.owned_chains)
    if (contains(options.existing_chains, chain.name))
      out += "-F " + chain.name + "\n";
  append_rule_lines(out, plan, options);
  return out;
}

std::vector<std::vector<std::string>>
render_arptables_commands(const TablePlan &plan, const RestoreOptions &options) {
  std::vector<std::vector<std::string>> out;
  for (const auto &chain : plan.owned_chains)
    out.push_back({contains(options.existing_chains, chain.name) ? "-F" : "-N",
                   chain.name});
  for (const auto &chain : plan.shared_chains)
    if (!contains(options.existing_chains, chain))
      out.push_back({"-N", chain});
  auto command = [](std::vector<std::string> head, const Args &args) {
    head.insert(head.end(), args.begin(), args.end());
    return head;
  };
  for (const auto &rule : options.deletions)
    out.push_back(command({"-D", rule.chain}, rule.args));
  for (const auto &chain : options.destroy_chains)
    out.push_back({"-F", chain});
  for (const auto &chain : options.destroy_chains)
    out.push_back({"-X", chain});
  for (const auto &chain : plan.owned_chains)
    for (const auto &args : chain.rules)
      out.push_back(command({"-A", chain.name}, args));
  std::map<std::string, std::size_t> next;
  for (const auto &rule : plan.jumps_first) {
    auto [it, inserted] =
        next.try_emplace(rule.chain, first_position(options, rule.chain));
    out.push_back(
        command({"-I", rule.chain, std::to_string(it->second++)}, rule.args));
  }
  for (const auto &rule : plan.jumps_last)
    out.push_back(command({"-A", rule.chain}, rule.args));
  return out;
}

std::string render_ipset_restore(const std::vector<SetContent> &sets,
                                 const std::vector<std::string> &existing_sets) {
  std::string out;
  for (const auto &set : sets) {
    const std::string header = " " + set.type + " family " + set.family + "\n";
    if (contains(existing_sets, set.name)) {
      const std::string scratch = swap_set_name(set.name);
      out += "create " + scratch + header;
      out += "flush " + scratch + "\n";
      for (const auto &member : set.members)
        out += "add " + scratch + " " + member + "\n";
      out += "swap " + scratch + " " + set.name + "\n";
      out += "destroy " + scratch + "\n";
    } else {
      out += "create " + set.name + header;
      for (const auto &member : set.members)
        out += "add " + set.name + " " + member + "\n";
    }
  }
  return out;
}

std::string render_ipset_destroy(const std::vector<std::string> &set_names) {
  std::string out;
  for (const auto &name : set_names)
    out += "destroy " + name + "\n";
  return out;
}

} // namespace vifwall
