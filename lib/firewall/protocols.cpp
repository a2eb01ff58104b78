#include "protocols.hpp"

#include <array>

#include "text.hpp"

namespace vifwall {

namespace {

struct NamedNumber {
  std::string_view name;
  int number;
};

// /etc/protocols names of the protocols a bridge firewall meets.  Where two
// names share a number, the first is the one iptables-save prints.
constexpr std::array<NamedNumber, 21> kProtocols{{
    {"all", 0},     {"icmp", 1},       {"igmp", 2},    {"ipencap", 4}, {"tcp", 6},
    {"udp", 17},    {"dccp", 33},      {"ipv6", 41},   {"gre", 47},    {"esp", 50},
    {"ah", 51},     {"ipv6-icmp", 58}, {"icmpv6", 58}, {"ospf", 89},   {"ipip", 94},
    {"pim", 103},   {"vrrp", 112},     {"l2tp", 115},  {"sctp", 132},  {"udplite", 136},
    {"mh", 135},
}};

struct NamedType {
  std::string_view name;
  int type;
  int code; // -1: any code
};

// libxt_icmp's names.
constexpr NamedType kIcmpTypes[] = {
    {"any", -1, -1},
    {"echo-reply", 0, -1}, {"pong", 0, -1},
    {"destination-unreachable", 3, -1}, {"network-unreachable", 3, 0},
    {"host-unreachable", 3, 1}, {"protocol-unreachable", 3, 2},
    {"port-unreachable", 3, 3}, {"fragmentation-needed", 3, 4},
    {"source-route-failed", 3, 5}, {"network-unknown", 3, 6},
    {"host-unknown", 3, 7}, {"network-prohibited", 3, 9},
    {"host-prohibited", 3, 10}, {"tos-network-unreachable", 3, 11},
    {"tos-host-unreachable", 3, 12}, {"communication-prohibited", 3, 13},
    {"host-precedence-violation", 3, 14}, {"precedence-cutoff", 3, 15},
    {"source-quench", 4, -1}, {"redirect", 5, -1}, {"network-redirect", 5, 0},
    {"host-redirect", 5, 1}, {"tos-network-redirect", 5, 2},
    {"tos-host-redirect", 5, 3}, {"echo-request", 8, -1}, {"ping", 8, -1},
    {"router-advertisement", 9, -1}, {"router-solicitation", 10, -1},
    {"time-exceeded", 11, -1}, {"ttl-exceeded", 11, -1},
    {"ttl-zero-during-transit", 11, 0}, {"ttl-zero-during-reassembly", 11, 1},
    {"parameter-problem", 12, -1}, {"ip-header-bad", 12, 0},
    {"required-option-missing", 12, 1}, {"timestamp-request", 13, -1},
    {"timestamp-reply", 14, -1}, {"address-mask-request", 17, -1},
    {"address-mask-reply", 18, -1},
};

// libip6t_icmp6's names.
constexpr NamedType kIcmpv6Types[] = {
    {"any", -1, -1},
    {"destination-unreachable", 1, -1}, {"no-route", 1, 0},
    {"communication-prohibited", 1, 1}, {"beyond-scope", 1, 2},
    {"address-unreachable", 1, 3}, {"port-unreachable", 1, 4},
    {"failed-policy", 1, 5}, {"reject-route", 1, 6},
    {"packet-too-big", 2, -1}, {"time-exceeded", 3, -1}, {"ttl-exceeded", 3, -1},
    {"ttl-zero-during-transit", 3, 0}, {"ttl-zero-during-reassembly", 3, 1},
    {"parameter-problem", 4, -1}, {"bad-header", 4, 0},
    {"unknown-header-type", 4, 1}, {"unknown-option", 4, 2},
    {"echo-request", 128, -1}, {"ping", 128, -1}, {"echo-reply", 129, -1},
    {"pong", 129, -1}, {"router-solicitation", 133, -1},
    {"router-advertisement", 134, -1}, {"neighbour-solicitation", 135, -1},
    {"neighbor-solicitation", 135, -1}, {"neighbour-advertisement", 136, -1},
    {"neighbor-advertisement", 136, -1}, {"redirect", 137, -1},
};

std::optional<int> byte_value(std::string_view text) {
  auto number = parse_u64(text);
  if (!number || *number > 255)
    return std::nullopt;
  return static_cast<int>(*number);
}

} // namespace

std::optional<int> ip_protocol_number(std::string_view name_or_number, bool ipv6) {
  const std::string name = to_lower(name_or_number);
  for (const auto &entry : kProtocols)
    if (entry.name == name)
      return entry.number;
  if (ipv6 && name == "icmp6")
    return 58;
  return byte_value(name);
}

std::string ip_protocol_name(int number) {
  for (const auto &entry : kProtocols)
    if (entry.number == number)
      return std::string(entry.name);
  return std::to_string(number);
}

std::optional<std::pair<int, int>> icmp_type_code(std::string_view text, bool ipv6) {
  const std::string name = to_lower(text);
  auto find = [&](const auto &table) -> std::optional<std::pair<int, int>> {
    for (const NamedType &entry : table)
      if (entry.name == name)
        return std::make_pair(entry.type, entry.code);
    return std::nullopt;
  };
  if (auto named = ipv6 ? find(kIcmpv6Types) : find(kIcmpTypes))
    return named;
  const auto slash = name.find('/');
  auto type = byte_value(std::string_view(name).substr(0, slash));
  if (!type)
    return std::nullopt;
  if (slash == std::string::npos)
    return std::make_pair(*type, -1);
  auto code = byte_value(std::string_view(name).substr(slash + 1));
  if (!code)
    return std::nullopt;
  return std::make_pair(*type, *code);
}

} // namespace vifwall
