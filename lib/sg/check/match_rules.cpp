// A rule's words read into matches and tested against a packet, for each
// family.  The words go through canonical_args first (netfilter.hpp), so
// every spelling the tools print or accept (aliases, both negation forms,
// `-p 6`, `/255.255.0.0`, `--icmp-type echo-request`, short MACs) arrives
// in one form.  A match this file does not model is never guessed: it makes
// the rule's truth unknown, with the reason.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "check_internal.hpp"
#include "protocols.hpp"
#include "text.hpp"

namespace vifwall::check_detail {

std::optional<std::uint32_t> ipv4_number(std::string_view text) {
  std::uint32_t value = 0;
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    std::size_t start = i;
    unsigned part = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3)
      part = part * 10 + static_cast<unsigned>(text[i++] - '0');
    if (i == start || part > 255)
      return std::nullopt;
    value = (value << 8) | part;
    ++parts;
    if (parts < 4) {
      if (i >= text.size() || text[i] != '.')
        return std::nullopt;
      ++i;
    }
  }
  if (i != text.size())
    return std::nullopt;
  return value;
}

std::optional<bool> cidr_contains(std::string_view cidr, std::uint32_t address) {
  const auto slash = cidr.find('/');
  auto net = ipv4_number(cidr.substr(0, slash));
  if (!net)
    return std::nullopt;
  int bits = 32;
  if (slash != std::string_view::npos) {
    auto b = parse_u64(cidr.substr(slash + 1));
    if (!b || *b > 32)
      return std::nullopt;
    bits = static_cast<int>(*b);
  }
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (address & mask) == (*net & mask);
}

namespace {

// ---- reading a rule --------------------------------------------------------------

std::vector<std::string> split_on_comma(const std::string &list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = list.find(',', start);
    out.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos)
      return out;
    start = comma + 1;
  }
}

bool looks_like_option(const std::string &word) {
  return word.size() >= 2 && word[0] == '-' && word != "-" &&
         (word[1] == '-' || std::isalpha(static_cast<unsigned char>(word[1])) != 0);
}

// What a target does; any other name is taken for a chain (the walk checks
// that the table has it, and names the target unknown otherwise).
Action action_of(Family family, const std::string &target, bool go_to, bool has_target) {
  if (!has_target)
    return Action::cont; // no target: the rule only counts
  if (target == "ACCEPT")
    return Action::accept;
  if (target == "DROP")
    return Action::drop;
  if (target == "REJECT" && family != Family::ebtables)
    return Action::reject;
  if (target == "RETURN")
    return Action::ret;
  if (target == "CONTINUE" && family != Family::iptables)
    return Action::cont;
  if (family == Family::iptables && (target == "LOG" || target == "NFLOG" || target == "ULOG"))
    return Action::cont;
  return go_to ? Action::go_to : Action::jump;
}

} // namespace

CompiledRule compile_rule(Family family, const FwRule &rule) {
  CompiledRule out;
  out.rule = &rule;
  auto words = split_rule_words(canonical_args(family, rule.args)).value_or(rule.args);
  bool negated = false, has_target = false, go_to = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string &w = words[i];
    if (w == "!") {
      negated = true;
      continue;
    }
    if (w == "-j" || w == "-g" || w == "--jump" || w == "--goto") {
      has_target = true;
      go_to = w == "-g" || w == "--goto";
      out.target = i + 1 < words.size() ? words[i + 1] : "";
      break; // the rest are the target's options
    }
    if (!looks_like_option(w)) {
      if (out.options.empty() || negated) {
        out.unreadable = "the word " + quote_for_error(w) + " belongs to no option";
        out.options.push_back(Option{negated, "", {w}});
      } else {
        out.options.back().values.push_back(w);
      }
      negated = false;
      continue;
    }
    out.options.push_back(Option{negated, w, {}});
    negated = false;
  }
  out.action = action_of(family, out.target, go_to, has_target);
  return out;
}

namespace {

// ---- shared tests ------------------------------------------------------------------------

// An interface pattern as iptables/ebtables take it: "vif7.0", "eth0+".
bool iface_matches(const std::string &pattern, const std::string &name) {
  if (!pattern.empty() && pattern.back() == '+')
    return starts_with(name, std::string_view(pattern).substr(0, pattern.size() - 1));
  return pattern == name;
}

// "22", "22:25" contains port.
Truth port_in(const std::string &range, int port) {
  if (port < 0)
    return Truth::no;
  const auto colon = range.find(':');
  auto lo = parse_u64(std::string_view(range).substr(0, colon));
  auto hi = colon == std::string::npos ? lo : parse_u64(std::string_view(range).substr(colon + 1));
  if (!lo || !hi)
    return Truth::unknown;
  return truth(static_cast<std::uint64_t>(port) >= *lo && static_cast<std::uint64_t>(port) <= *hi);
}

// A comma list of ranges (multiport).
Truth port_in_list(const std::string &list, int port) {
  for (const auto &range : split_on_comma(list))
    if (port_in(range, port) == Truth::yes)
      return Truth::yes;
  return Truth::no;
}

Truth address_in(const std::string &cidr, const std::string &address) {
  auto a = ipv4_number(address);
  if (!a)
    return Truth::unknown;
  auto in = cidr_contains(cidr, *a);
  return in ? truth(*in) : Truth::unknown;
}

// A MAC[/MASK] (or ebtables' names) against a MAC; "" is a unicast MAC not known.
Truth mac_matches(const std::string &pattern, const std::string &mac) {
  std::string value = pattern, mask = "ff:ff:ff:ff:ff:ff";
  if (pattern == "Broadcast")
    value = "ff:ff:ff:ff:ff:ff";
  else if (pattern == "Multicast")
    value = mask = "01:00:00:00:00:00";
  else if (pattern == "Unicast")
    value = "00:00:00:00:00:00", mask = "01:00:00:00:00:00";
  else if (pattern == "BGA")
    value = "01:80:c2:00:00:00";
  else if (auto slash = pattern.find('/'); slash != std::string::npos)
    value = pattern.substr(0, slash), mask = pattern.substr(slash + 1);
  if (mac.empty()) {
    // Some unicast MAC: only the multicast bit (bit 0 of the first octet) is known.
    const auto first = [](const std::string &s) { return std::strtoul(s.substr(0, 2).c_str(), nullptr, 16); };
    if (first(mask) & 1) {
      if (first(value) & 1)
        return Truth::no;
      if (mask == "01:00:00:00:00:00")
        return Truth::yes;
    }
    return Truth::unknown;
  }
  auto m = normalize_mac(mac), v = normalize_mac(value), k = normalize_mac(mask);
  if (!m || !v || !k)
    return Truth::unknown;
  for (std::size_t i = 0; i < m->size(); i += 3) {
    const auto byte = [&](const std::string &s) { return std::strtoul(s.substr(i, 2).c_str(), nullptr, 16); };
    if ((byte(*m) & byte(*k)) != (byte(*v) & byte(*k)))
      return Truth::no;
  }
  return Truth::yes;
}

std::string flow_flags(const Packet &p) {
  return p.flow == Flow::new_flow ? "SYN" : "ACK";
}

// --tcp-flags MASK COMP: the packet's flags masked equal COMP.
Truth tcp_flags(const Packet &p, const std::string &mask, const std::string &comp) {
  const std::string have = flow_flags(p);
  auto listed = [](const std::string &list, const std::string &flag) {
    if (list == "ALL")
      return true;
    for (const auto &f : split_on_comma(list))
      if (f == flag)
        return true;
    return false;
  };
  for (const char *flag : {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}) {
    if (!listed(mask, flag))
      continue;
    const bool set = have == flag;
    if (set != listed(comp, flag))
      return Truth::no;
  }
  return Truth::yes;
}

Truth icmp_matches(const Packet &p, const std::string &value) {
  if (p.protocol != 1)
    return Truth::no;
  if (value == "any")
    return Truth::yes;
  auto tc = icmp_type_code(value);
  if (!tc)
    return Truth::unknown;
  if (tc->first != p.icmp_type)
    return Truth::no;
  return truth(tc->second < 0 || tc->second == p.icmp_code);
}

Truth state_in(const std::string &list, const std::string &state) {
  for (const auto &s : split_on_comma(list))
    if (s == state)
      return Truth::yes;
  return Truth::no;
}

// -m set --match-set NAME DIR: a one-dimension set of addresses.
Truth set_matches(const Option &o, const MatchContext &c, std::string &why) {
  if (o.values.size() != 2) {
    why = "--match-set without a set and a direction";
    return Truth::unknown;
  }
  const std::string &name = o.values[0], &dir = o.values[1];
  const IpSet *set = c.ipsets ? c.ipsets->find(name) : nullptr;
  if (!set) {
    why = "set " + name + (c.ipsets ? " is not in the ipset dump" : ": ipset was not captured");
    return Truth::unknown;
  }
  if (dir != "src" && dir != "dst") {
    why = "set " + name + " matched on " + dir + " (only one of src or dst is modelled)";
    return Truth::unknown;
  }
  if ((set->type != "hash:net" && set->type != "hash:ip") || set->family == "inet6") {
    why = "set " + name + " is of type " + set->type + " (only hash:ip and hash:net of IPv4 are modelled)";
    return Truth::unknown;
  }
  auto address = ipv4_number(dir == "src" ? c.packet.src_ip : c.packet.dst_ip);
  if (!address) {
    why = "set " + name + " holds IPv4 addresses, the packet is not IPv4";
    return Truth::unknown;
  }
  for (const auto &member : set->members) {
    if (member.find(' ') != std::string::npos) {
      why = "set " + name + " has nomatch elements (not modelled)";
      return Truth::unknown;
    }
    if (cidr_contains(member, *address).value_or(false))
      return Truth::yes;
  }
  return Truth::no;
}

const std::string &one(const Option &o) {
  static const std::string none;
  return o.values.empty() ? none : o.values.front();
}

// ---- iptables ------------------------------------------------------------------------------

Truth iptables_option(const Option &o, const MatchContext &c, std::string &why) {
  const Packet &p = c.packet;
  const std::string &n = o.name;
  const std::string &v = one(o);
  if (n == "-s" || n == "-d")
    return address_in(v, n == "-s" ? p.src_ip : p.dst_ip);
  if (n == "-p") {
    auto number = ip_protocol_number(v);
    if (!number) {
      why = "protocol " + v + " is not known";
      return Truth::unknown;
    }
    return truth(*number == 0 || *number == p.protocol);
  }
  if (n == "-i" || n == "-o") {
    if (p.bridge.empty()) {
      why = n + " " + v + ": the bridge is not known (give bridge=)";
      return Truth::unknown;
    }
    return truth(iface_matches(v, p.bridge));
  }
  if (n == "-f")
    return Truth::no; // the packets checked are never fragments
  if (n == "-m") {
    static const std::vector<std::string> known = {"tcp", "udp", "icmp", "physdev", "set", "state",
                                                   "conntrack", "comment", "multiport", "mac"};
    if (std::find(known.begin(), known.end(), v) == known.end()) {
      why = "match -m " + v + " is not modelled";
      return Truth::unknown;
    }
    return Truth::yes;
  }
  if (n == "--sport" || n == "--dport")
    return port_in(v, n == "--sport" ? p.sport : p.dport);
  if (n == "--sports" || n == "--dports" || n == "--ports") {
    if (n == "--ports")
      return truth(port_in_list(v, p.sport) == Truth::yes || port_in_list(v, p.dport) == Truth::yes);
    return port_in_list(v, n == "--sports" ? p.sport : p.dport);
  }
  if (n == "--syn")
    return tcp_flags(p, "FIN,SYN,RST,ACK", "SYN");
  if (n == "--tcp-flags" && o.values.size() == 2)
    return tcp_flags(p, o.values[0], o.values[1]);
  if (n == "--icmp-type")
    return icmp_matches(p, v);
  if (n == "--physdev-in" || n == "--physdev-out")
    return truth(iface_matches(v, n == "--physdev-in" ? p.in_port : p.out_port));
  if (n == "--physdev-is-bridged" || n == "--physdev-is-in" || n == "--physdev-is-out")
    return Truth::yes; // a bridged frame has both ports
  if (n == "--match-set" || n == "--set")
    return set_matches(o, c, why);
  if (n == "--state" || n == "--ctstate")
    return state_in(v, c.ct_state);
  if (n == "--comment")
    return Truth::yes;
  if (n == "--mac-source") {
    if (p.src_mac.empty()) {
      why = "--mac-source " + v + ": the source MAC is not known (give src-mac=)";
      return Truth::unknown;
    }
    return mac_matches(v, p.src_mac);
  }
  why = "option " + n + " is not modelled";
  return Truth::unknown;
}

// ---- ebtables ---------------------------------------------------------------------------------

const char *ether_name(EtherType e) {
  return e == EtherType::ipv4 ? "IPv4" : e == EtherType::arp ? "ARP" : "IPv6";
}

Truth ebtables_option(const Option &o, const MatchContext &c, std::string &why) {
  const Packet &p = c.packet;
  const std::string &n = o.name;
  const std::string &v = one(o);
  const bool ip4 = p.ether == EtherType::ipv4, arp = p.ether == EtherType::arp;
  if (n == "-p") {
    if (v == "Length")
      return Truth::no; // an 802.3 length field: our frames are Ethernet II
    return truth(v == ether_name(p.ether));
  }
  if (n == "-s" || n == "-d") {
    Truth t = mac_matches(v, n == "-s" ? p.src_mac : p.dst_mac);
    if (t == Truth::unknown)
      why = n + " " + v + ": the " + (n == "-s" ? "source" : "destination") + " MAC is not known (give " +
            (n == "-s" ? "src-mac=" : "dst-mac=") + ")";
    return t;
  }
  if (n == "-i" || n == "-o")
    return truth(iface_matches(v, n == "-i" ? p.in_port : p.out_port));
  if (n == "--logical-in" || n == "--logical-out") {
    if (p.bridge.empty()) {
      why = n + " " + v + ": the bridge is not known (give bridge=)";
      return Truth::unknown;
    }
    return truth(iface_matches(v, p.bridge));
  }
  if (starts_with(n, "--ip-") && !ip4)
    return Truth::no; // ebtables takes --ip-* only with -p IPv4
  if (starts_with(n, "--arp-") && !arp)
    return Truth::no;
  if (starts_with(n, "--ip6-")) {
    if (p.ether != EtherType::ipv6)
      return Truth::no;
    why = "option " + n + " (IPv6) is not modelled";
    return Truth::unknown;
  }
  if (n == "--ip-src" || n == "--ip-dst")
    return address_in(v, n == "--ip-src" ? p.src_ip : p.dst_ip);
  if (n == "--ip-proto") {
    auto number = ip_protocol_number(v);
    return number ? truth(*number == p.protocol) : Truth::unknown;
  }
  if (n == "--ip-sport" || n == "--ip-dport") {
    if (p.protocol != 6 && p.protocol != 17)
      return Truth::no;
    return port_in(v, n == "--ip-sport" ? p.sport : p.dport);
  }
  if (n == "--arp-op")
    return truth((v == "Request" && p.arp_op == 1) || (v == "Reply" && p.arp_op == 2) ||
                 v == std::to_string(p.arp_op));
  if (n == "--arp-ip-src" || n == "--arp-ip-dst")
    return address_in(v, n == "--arp-ip-src" ? p.src_ip : p.dst_ip);
  if (n == "--arp-mac-src" || n == "--arp-mac-dst") {
    const std::string &mac = n == "--arp-mac-src" ? p.src_mac : p.arp_target_mac;
    Truth t = mac_matches(v, mac);
    if (t == Truth::unknown)
      why = n + " " + v + ": the MAC is not known";
    return t;
  }
  if (n == "--arp-htype")
    return truth(v == "1" || v == "Ethernet");
  if (n == "--arp-ptype")
    return truth(v == "0x0800" || v == "IPv4" || v == "0x800");
  if (starts_with(n, "--log") || starts_with(n, "--nflog") || starts_with(n, "--ulog"))
    return Truth::yes; // watchers: they log, they do not match
  why = "option " + n + " is not modelled";
  return Truth::unknown;
}

// ---- arptables -------------------------------------------------------------------------------------

Truth arptables_option(const Option &o, const MatchContext &c, std::string &why) {
  const Packet &p = c.packet;
  const std::string &n = o.name;
  const std::string &v = one(o);
  if (n == "-i" || n == "-o")
    return truth(iface_matches(v, n == "-i" ? p.in_port : p.out_port));
  if (n == "-s" || n == "-d")
    return address_in(v, n == "-s" ? p.src_ip : p.dst_ip);
  if (n == "--src-mac" || n == "--dst-mac") {
    Truth t = mac_matches(v, n == "--src-mac" ? p.src_mac : p.arp_target_mac);
    if (t == Truth::unknown)
      why = n + " " + v + ": the MAC is not known";
    return t;
  }
  if (n == "--opcode")
    return truth((v == "Request" && p.arp_op == 1) || (v == "Reply" && p.arp_op == 2) ||
                 v == std::to_string(p.arp_op));
  if (n == "--h-length")
    return truth(v == "6");
  if (n == "--h-type")
    return truth(v == "1");
  if (n == "--proto-type")
    return truth(v == "0x800" || v == "0x0800");
  why = "option " + n + " is not modelled";
  return Truth::unknown;
}

} // namespace

Truth rule_truth(Family family, const CompiledRule &rule, const MatchContext &context,
                 std::string &why) {
  Truth result = Truth::yes;
  std::string first_why;
  for (const auto &o : rule.options) {
    std::string w;
    Truth t = Truth::unknown;
    if (o.name.empty())
      w = rule.unreadable;
    else if (family == Family::iptables)
      t = iptables_option(o, context, w);
    else if (family == Family::ebtables)
      t = ebtables_option(o, context, w);
    else
      t = arptables_option(o, context, w);
    t = negate_if(t, o.negated);
    if (t == Truth::no)
      return Truth::no; // one false match: the rule does not match, whatever else
    if (t == Truth::unknown && result == Truth::yes) {
      result = Truth::unknown;
      first_why = w.empty() ? "match " + o.name + " " + one(o) + " could not be evaluated" : w;
    }
  }
  if (result == Truth::unknown)
    why = first_why;
  return result;
}

} // namespace vifwall::check_detail
