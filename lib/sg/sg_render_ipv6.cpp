// The ip6tables twin of a user VM's chains (sg_render.hpp says what they
// hold; docs/ipv6-and-nics.md why).
#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>

#include "sg_render_internal.hpp"
#include "text.hpp"

namespace vifwall::render_detail {

namespace {

// ICMPv6 types (RFC 4443, RFC 4861, RFC 3810).
constexpr const char *kRouterSolicitation = "133";
constexpr const char *kRouterAdvertisement = "134";
constexpr const char *kNeighbourSolicitation = "135";
constexpr const char *kNeighbourAdvertisement = "136";
constexpr const char *kRedirect = "137";
constexpr const char *kMldv2Report = "143";
// RFC 4890 4.3.1, traffic that must not be dropped: destination
// unreachable, packet too big, time exceeded, parameter problem, echo
// request and reply.
const std::vector<std::string> kIcmpv6Always = {"1", "2", "3", "4", "128", "129"};

Args icmp6(const std::string &type) { return {"-m", "icmp6", "--icmpv6-type", type}; }
const Args kIcmp6Protocol = {"-p", "ipv6-icmp"};
const Args kHopLimit255 = {"-m", "hl", "--hl-eq", "255"};
const Args kUnspecified = {"-s", "::/128"};

} // namespace

Args nd_target_match(const std::string &address) {
  in6_addr bytes{};
  inet_pton(AF_INET6, address.c_str(), &bytes);
  // The target follows the 40-byte IPv6 header and the ICMPv6 type, code,
  // checksum and flags (8 bytes): offsets 48, 52, 56, 60.
  std::string expression;
  for (int word = 0; word < 4; ++word) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i)
      value = (value << 8) | bytes.s6_addr[word * 4 + i];
    char text[40];
    std::snprintf(text, sizeof text, "%s0x%x=0x%x", word == 0 ? "" : "&&", 48 + 4 * word, value);
    expression += text;
  }
  return {"-m", "u32", "--u32", expression};
}

void append_ipv6_def_rules(ChainContent &def, const CheckedNic &nic, const std::string &vif,
                           const VmNames &names) {
  const Args from = physdev(vif, "");
  const Args to = physdev("", vif);
  auto add = [&](std::initializer_list<Args> parts) { def.rules.push_back(concat(parts)); };
  // From the VM: what no guest may send, first.
  add({kIcmp6Protocol, from, icmp6(kRouterAdvertisement), jump("DROP")});
  add({kIcmp6Protocol, from, icmp6(kRedirect), jump("DROP")});
  add({{"-p", "udp"}, from, {"-m", "udp", "--sport", "547"}, jump("DROP")});
  // Duplicate address detection and router solicitation before the guest
  // has an address come from :: (RFC 4862 5.4, RFC 4861 4.1, RFC 3590).
  add({kUnspecified, kIcmp6Protocol, from, icmp6(kNeighbourSolicitation), kHopLimit255,
       jump("ACCEPT")});
  add({kUnspecified, kIcmp6Protocol, from, icmp6(kRouterSolicitation), kHopLimit255,
       jump("ACCEPT")});
  add({kUnspecified, kIcmp6Protocol, from, icmp6(kMldv2Report), jump("ACCEPT")});
  add({from, match_set(nic.set6, "src", true), jump("DROP")});
  // Neighbour advertisements only for its own addresses.
  for (const auto &address : nic.ipv6)
    add({kIcmp6Protocol, from, icmp6(kNeighbourAdvertisement), kHopLimit255,
         nd_target_match(address), jump("ACCEPT")});
  add({kIcmp6Protocol, from, icmp6(kNeighbourAdvertisement), jump("DROP")});
  add({kIcmp6Protocol, from, icmp6(kRouterSolicitation), kHopLimit255, jump("ACCEPT")});
  add({kIcmp6Protocol, from, icmp6(kNeighbourSolicitation), kHopLimit255, jump("ACCEPT")});
  add({kIcmp6Protocol, from, icmp6(kMldv2Report), jump("ACCEPT")});
  for (const auto &type : kIcmpv6Always)
    add({kIcmp6Protocol, from, icmp6(type), jump("ACCEPT")});
  add({{"-p", "udp"}, from, {"-m", "udp", "--sport", "546", "--dport", "547"}, jump("ACCEPT")});
  add({{"-p", "udp"}, from, match_set(nic.set6, "src", false), {"-m", "udp", "--dport", "53"},
       jump("RETURN")});
  add({from, match_set(nic.set6, "src", false), jump(names.egress)});
  // To the VM: neighbour discovery and router advertisements from the link.
  add({kIcmp6Protocol, to, icmp6(kRouterAdvertisement), kHopLimit255, jump("ACCEPT")});
  add({kIcmp6Protocol, to, icmp6(kNeighbourSolicitation), kHopLimit255, jump("ACCEPT")});
  add({kIcmp6Protocol, to, icmp6(kNeighbourAdvertisement), kHopLimit255, jump("ACCEPT")});
  add({{"-p", "udp"}, to, {"-m", "udp", "--sport", "547", "--dport", "546"}, jump("ACCEPT")});
  add({to, match_set(nic.set6, "dst", true), jump("DROP")});
  for (const auto &type : kIcmpv6Always)
    add({kIcmp6Protocol, to, icmp6(type), jump("ACCEPT")});
  add({to, jump(names.ingress)});
}

void append_ipv6_rule(ChainContent &chain, const SgRule &rule, const std::vector<std::string> &cidrs,
                      bool any) {
  Args protocol;
  bool stateful = true;
  if (rule.protocol == "icmp" || rule.protocol == "icmpv6") {
    protocol = kIcmp6Protocol;
    stateful = false;
    if (rule.start != -1)
      protocol = concat({protocol, icmp6(std::to_string(rule.start) +
                                         (rule.end == -1 ? "" : "/" + std::to_string(rule.end)))});
  } else {
    const ProtocolArgs v4 = protocol_args(rule);
    protocol = v4.args;
    stateful = v4.stateful;
  }
  if (stateful)
    protocol = concat({protocol, {"-m", "state", "--state", "NEW"}});
  const bool ingress = rule.direction == Direction::ingress;
  const Args target = jump(ingress ? "ACCEPT" : "RETURN");
  if (any) {
    chain.rules.push_back(concat({protocol, target}));
    return;
  }
  for (const auto &member : cidrs) {
    const std::string cidr = member.find('/') == std::string::npos ? member + "/128" : member;
    chain.rules.push_back(concat({{ingress ? "-s" : "-d", cidr}, protocol, target}));
  }
}

std::string canonical_set_member(const std::string &cidr) {
  const std::size_t slash = cidr.find('/');
  const std::string address = cidr.substr(0, slash);
  const bool v6 = address.find(':') != std::string::npos;
  const int bits = v6 ? 128 : 32;
  const int length = slash == std::string::npos ? bits : std::stoi(cidr.substr(slash + 1));
  unsigned char bytes[16] = {};
  if (inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), bytes) != 1)
    return cidr; // validated before; never here
  for (int bit = length; bit < bits; ++bit)
    bytes[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, text, sizeof text);
  return length == bits ? std::string(text) : std::string(text) + "/" + std::to_string(length);
}

} // namespace vifwall::render_detail
