#include "sg_render.hpp"

#include <algorithm>
#include <cstdint>
#include <set>

#include "sg_names.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

namespace {

using Args = std::vector<std::string>;

const std::string kBroadcastMac = "ff:ff:ff:ff:ff:ff";

// "-m physdev [--physdev-in IN] [--physdev-out OUT] --physdev-is-bridged"
Args physdev(const std::string &in, const std::string &out) {
  Args args = {"-m", "physdev"};
  if (!in.empty())
    args.insert(args.end(), {"--physdev-in", in});
  if (!out.empty())
    args.insert(args.end(), {"--physdev-out", out});
  args.push_back("--physdev-is-bridged");
  return args;
}

Args concat(std::initializer_list<Args> parts) {
  Args out;
  for (const auto &part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

Args match_set(const std::string &set, const char *direction, bool negate) {
  Args args = {"-m", "set"};
  if (negate)
    args.push_back("!");
  args.insert(args.end(), {"--match-set", set, direction});
  return args;
}

Args jump(const std::string &target) { return {"-j", target}; }

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

// "10.1.2.3/16" -> "10.1.0.0/16"; "/32" -> bare address (ipset save form).
std::string canonical_ipv4_member(const std::string &cidr) {
  const std::size_t slash = cidr.find('/');
  const std::string address = cidr.substr(0, slash);
  const int length =
      slash == std::string::npos ? 32 : std::stoi(cidr.substr(slash + 1));
  std::uint32_t value = 0;
  std::size_t start = 0;
  for (int part = 0; part < 4; ++part) {
    const std::size_t dot = address.find('.', start);
    value = (value << 8) |
            static_cast<std::uint32_t>(std::stoul(address.substr(start, dot - start)));
    start = dot + 1;
  }
  const std::uint32_t mask =
      length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
  value &= mask;
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    if (!out.empty())
      out.push_back('.');
    out += std::to_string((value >> shift) & 0xff);
  }
  if (length != 32)
    out += "/" + std::to_string(length);
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

// The protocol part of an SG rule, and whether it gets "--state NEW".
struct ProtocolArgs {
  Args args;
  bool stateful = true;
};

ProtocolArgs protocol_args(const SgRule &rule) {
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

Result<VmPlan> render_host_setup(const std::vector<std::string> &uplinks,
                                 ArpFilter arp) {
  VmPlan plan;
  TablePlan &ipt = plan.iptables;
  ipt.owned_chains.push_back(
      {kBridgeDefaultFirewall,
       {
           {"-m", "state", "--state", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
           concat({{"-p", "udp"}, physdev("", ""),
                   {"-m", "udp", "--sport", "68", "--dport", "67"},
                   jump("ACCEPT")}),
           concat({{"-p", "udp"}, physdev("", ""),
                   {"-m", "udp", "--sport", "67", "--dport", "68"},
                   jump("ACCEPT")}),
       },
       ""});
  ipt.shared_chains.push_back(kBridgeFirewall);
  ipt.jumps_first.push_back({kBridgeFirewall, jump(kBridgeDefaultFirewall)});
  ipt.jumps_first.push_back(
      {kForward, concat({physdev("", ""), jump(kBridgeFirewall)})});
  std::vector<std::string> seen;
  for (const auto &uplink : uplinks) {
    auto valid = validate_iface(uplink);
    if (!valid)
      return tl::unexpected(valid.error());
    const std::string pattern = ends_with(*valid, "+") ? *valid : *valid + "+";
    if (contains(seen, pattern))
      continue;
    seen.push_back(pattern);
    ipt.jumps_first.push_back(
        {kForward, concat({physdev("", pattern), jump("ACCEPT")})});
  }
  ipt.jumps_last.push_back({kForward, jump("DROP")});
  ipt.remove_rules.push_back({kForward, jump("RH-Firewall-1-INPUT")});

  const std::string arp_target =
      arp == ArpFilter::arptables ? "ACCEPT" : "RETURN";
  plan.ebtables.owned_chains.push_back(
      {kDefaultEbtables,
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
           {"-p", "IPv6", "-j", "DROP"},
           {"-p", "802_1Q", "-j", "DROP"},
           {"-j", "DROP"},
       },
       "ACCEPT"});
  plan.ebtables.jumps_first.push_back({kForward, jump(kDefaultEbtables)});
  return plan;
}

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
  auto ip = validate_ipv4(vm.ip);
  if (!ip)
    return tl::unexpected(ip.error());
  std::vector<std::string> secondaries;
  for (const auto &secondary : vm.secondary_ips) {
    auto valid = validate_ipv4(secondary);
    if (!valid)
      return tl::unexpected(valid.error());
    if (*valid != *ip)
      add_unique(secondaries, *valid);
  }
  auto mac = validate_mac(vm.mac);
  if (!mac)
    return tl::unexpected(mac.error());
  auto vifs = check_vifs(vm.vifs);
  if (!vifs)
    return tl::unexpected(vifs.error());

  const VmNames names = names_for_vm(*name);
  VmPlan plan;

  SetContent own{names.ipset, "hash:net", "inet", {*ip}};
  for (const auto &secondary : secondaries)
    own.members.push_back(secondary);
  plan.sets.push_back(own);

  ChainContent def{names.def, {}, ""};
  for (const auto &vif : *vifs) {
    def.rules.push_back(concat({{"-p", "udp"}, physdev(vif, ""),
                                match_set(names.ipset, "src", false),
                                {"-m", "udp", "--dport", "53"},
                                jump("RETURN")}));
    def.rules.push_back(concat(
        {physdev(vif, ""), match_set(names.ipset, "src", true), jump("DROP")}));
    def.rules.push_back(concat(
        {physdev("", vif), match_set(names.ipset, "dst", true), jump("DROP")}));
    def.rules.push_back(concat({physdev(vif, ""),
                                match_set(names.ipset, "src", false),
                                jump(names.egress)}));
    def.rules.push_back(concat({physdev("", vif), jump(names.ingress)}));
    plan.iptables.jumps_first.push_back(
        {kBridgeFirewall, concat({physdev(vif, ""), jump(names.def)})});
    plan.iptables.jumps_last.push_back(
        {kBridgeFirewall, concat({physdev("", vif), jump(names.def)})});
  }
  plan.iptables.owned_chains.push_back(def);

  if (*mac == kBroadcastMac) {
    plan.notes.push_back("VM " + *name +
                         ": MAC ff:ff:ff:ff:ff:ff (unknown), so no MAC or ARP "
                         "anti-spoofing rules, as in CloudStack");
    return plan;
  }

  std::vector<std::string> arp_ips = secondaries;
  arp_ips.push_back(*ip);

  ChainContent bridge{names.ingress, {}, "ACCEPT"};
  for (const auto &vif : *vifs) {
    bridge.rules.push_back({"-s", "!", short_mac(*mac), "-i", vif, "-j", "DROP"});
    bridge.rules.push_back({"-p", "IPv4", "-i", vif, "--ip-proto", "udp",
                            "--ip-dport", "68", "-j", "DROP"});
    bridge.rules.push_back({"-p", "IPv4", "-o", vif, "--ip-proto", "udp",
                            "--ip-dport", "67", "-j", "DROP"});
    plan.ebtables.jumps_first.push_back({kForward, {"-i", vif, "-j", names.ingress}});
    plan.ebtables.jumps_last.push_back({kForward, {"-o", vif, "-j", names.ingress}});
  }

  if (arp == ArpFilter::ebtables) {
    for (const auto &address : arp_ips)
      for (const auto &vif : *vifs)
        ebtables_arp_rules_for(bridge, vif, address, *mac);
    bridge.rules.push_back({"-p", "ARP", "-j", "DROP"});
  } else {
    ChainContent arp_chain{names.ingress, {}, ""};
    for (const auto &address : arp_ips)
      for (const auto &vif : *vifs)
        arptables_rules_for(arp_chain, vif, address, *mac);
    arp_chain.rules.push_back({"-j", "DROP"});
    plan.arptables.owned_chains.push_back(arp_chain);
    for (const auto &vif : *vifs) {
      plan.arptables.jumps_first.push_back(
          {kForward, {"-j", names.ingress, "-i", vif}});
      plan.arptables.jumps_last.push_back(
          {kForward, {"-j", names.ingress, "-o", vif}});
    }
  }
  plan.ebtables.owned_chains.push_back(bridge);
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
                               char generation) {
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
    bool has_ipv6 = false;
    std::vector<std::string> members;
    for (const auto &cidr : rule->cidrs) {
      if (is_ipv6_cidr(cidr))
        has_ipv6 = true;
      else if (is_any_ipv4(cidr))
        any = true;
      else
        add_unique(members, canonical_ipv4_member(cidr));
    }
    if (has_ipv6)
      plan.notes.push_back(rule_label(*rule, position) +
                           ": IPv6 CIDRs left out (the bridge firewall of "
                           "XenServer drops IPv6)");

    const ProtocolArgs protocol = protocol_args(*rule);
    Args args = protocol.args;
    if (protocol.stateful)
      args.insert(args.end(), {"-m", "state", "--state", "NEW"});
    const char *direction = is_ingress ? "src" : "dst";
    const std::string target = is_ingress ? "ACCEPT" : "RETURN";
    ChainContent &chain = is_ingress ? ingress : egress;
    if (any) {
      chain.rules.push_back(concat({args, jump(target)}));
    } else if (!members.empty()) {
      const std::string set =
          rule_set_name(names, rule->direction, position, generation);
      plan.sets.push_back(SetContent{set, "hash:net", "inet", members});
      chain.rules.push_back(
          concat({args, match_set(set, direction, false), jump(target)}));
    } else {
      plan.notes.push_back(rule_label(*rule, position) +
                           ": no IPv4 address to allow, nothing rendered");
    }
  }
  ingress.rules.push_back(jump("DROP"));
  egress.rules.push_back(jump(egress_count == 0 ? "RETURN" : "DROP"));
  plan.iptables.owned_chains.push_back(ingress);
  plan.iptables.owned_chains.push_back(egress);
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
