#include <catch2/catch.hpp>

#include <utility>

#include "protocols.hpp"

using namespace vifwall;

TEST_CASE("ip_protocol_number reads names in any case and numbers", "[protocols]") {
  CHECK(ip_protocol_number("tcp") == 6);
  CHECK(ip_protocol_number("TCP") == 6);
  CHECK(ip_protocol_number("udp") == 17);
  CHECK(ip_protocol_number("17") == 17);
  CHECK(ip_protocol_number("ospf") == 89);
  CHECK(ip_protocol_number("89") == 89);
  CHECK(ip_protocol_number("all") == 0);
  CHECK(ip_protocol_number("0") == 0);
  CHECK(ip_protocol_number("255") == 255);
  // Both names of 58; ip6tables' "icmp6" only for IPv6.
  CHECK(ip_protocol_number("ipv6-icmp") == 58);
  CHECK(ip_protocol_number("icmpv6") == 58);
  CHECK(ip_protocol_number("icmp6", true) == 58);
  CHECK_FALSE(ip_protocol_number("icmp6"));
  CHECK_FALSE(ip_protocol_number("256"));
  CHECK_FALSE(ip_protocol_number("nosuchproto"));
  CHECK_FALSE(ip_protocol_number(""));
  CHECK_FALSE(ip_protocol_number("-1"));
}

TEST_CASE("ip_protocol_name prints the name iptables-save prints", "[protocols]") {
  CHECK(ip_protocol_name(6) == "tcp");
  CHECK(ip_protocol_name(17) == "udp");
  CHECK(ip_protocol_name(0) == "all");
  CHECK(ip_protocol_name(89) == "ospf");
  CHECK(ip_protocol_name(58) == "ipv6-icmp"); // the first of its two names
  CHECK(ip_protocol_name(200) == "200");      // no name: decimal
  for (int number = 0; number <= 255; ++number) {
    INFO(number);
    CHECK(ip_protocol_number(ip_protocol_name(number)) == number);
  }
}

TEST_CASE("icmp_type_code reads names, TYPE, TYPE/CODE and any", "[protocols]") {
  using TypeCode = std::pair<int, int>;
  CHECK(icmp_type_code("echo-request") == TypeCode{8, -1});
  CHECK(icmp_type_code("ping") == TypeCode{8, -1});
  CHECK(icmp_type_code("Echo-Request") == TypeCode{8, -1});
  CHECK(icmp_type_code("8") == TypeCode{8, -1});
  CHECK(icmp_type_code("port-unreachable") == TypeCode{3, 3});
  CHECK(icmp_type_code("3/3") == TypeCode{3, 3});
  CHECK(icmp_type_code("any") == TypeCode{-1, -1});
  CHECK_FALSE(icmp_type_code("256"));
  CHECK_FALSE(icmp_type_code("3/256"));
  CHECK_FALSE(icmp_type_code("3/"));
  CHECK_FALSE(icmp_type_code("no-such-type"));
  CHECK_FALSE(icmp_type_code(""));
  // ICMPv6 has its own numbers for the same names.
  CHECK(icmp_type_code("echo-request", true) == TypeCode{128, -1});
  CHECK(icmp_type_code("port-unreachable", true) == TypeCode{1, 4});
  CHECK(icmp_type_code("neighbor-solicitation", true) == TypeCode{135, -1});
  CHECK(icmp_type_code("neighbour-solicitation", true) == TypeCode{135, -1});
  CHECK(icmp_type_code("128", true) == TypeCode{128, -1});
  CHECK_FALSE(icmp_type_code("neighbor-solicitation")); // IPv6 only
}
