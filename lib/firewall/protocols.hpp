// IP protocol names and ICMP/ICMPv6 type names, as iptables, ip6tables,
// ebtables and /etc/protocols spell them.  The one table of each: the
// canonical rule forms (canonical_values.cpp) and the readable rules of sg-show
// (sg_view) both read them, so "89" and "ospf" mean the same to both.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace vifwall {

// "tcp" -> 6, "TCP" -> 6, "17" -> 17, "icmpv6"/"ipv6-icmp" -> 58;
// "icmp6" -> 58 only when `ipv6` (ip6tables' spelling).  nullopt for an
// unknown name or a number over 255.
std::optional<int> ip_protocol_number(std::string_view name_or_number, bool ipv6 = false);

// 6 -> "tcp", 0 -> "all", 58 -> "ipv6-icmp": the name iptables-save prints;
// a number without a name as decimal.
std::string ip_protocol_name(int number);

// An ICMP (or ICMPv6 when `ipv6`) type as the tools accept it: a libxt_icmp /
// libip6t_icmp6 name ("echo-request", "port-unreachable"), "TYPE" or
// "TYPE/CODE", or "any" -> {type, code}, -1 meaning any.  nullopt when it
// is none of these or a number is over 255.
std::optional<std::pair<int, int>> icmp_type_code(std::string_view text, bool ipv6 = false);

} // namespace vifwall
