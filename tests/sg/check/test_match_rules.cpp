// Rules read into matches (lib/sg/check/match_rules.cpp): addresses, MACs,
// both negation spellings, unknowns.
#include <catch2/catch.hpp>

#include "check_internal.hpp"

using namespace vifwall;
using namespace vifwall::check_detail;

namespace {

Truth truth_of(Family family, const std::vector<std::string> &args, const Packet &p, std::string *why = nullptr) {
  FwRule rule{"FORWARD", args, std::nullopt, 1};
  const CompiledRule c = compile_rule(family, rule);
  const std::string state = conntrack_state(p);
  const SetMembers sets;
  const IpsetDump dump;
  std::string w;
  Truth t = rule_truth(family, c, MatchContext{p, state, sets, &dump}, w);
  if (why)
    *why = w;
  return t;
}

Packet tcp_packet() {
  Packet p;
  p.in_port = "vif7.0";
  p.out_port = "eth0";
  p.src_ip = "10.1.1.5";
  p.dst_ip = "10.1.2.9";
  p.src_mac = "06:f8:c8:00:00:09";
  p.protocol = 6;
  p.sport = 40000;
  p.dport = 22;
  return p;
}

} // namespace

TEST_CASE("match: addresses as numbers", "[sg_check][match_rules]") {
  CHECK(ipv4_number("10.1.2.3") == 0x0a010203u);
  CHECK_FALSE(ipv4_number("10.1.2"));
  CHECK_FALSE(ipv4_number("10.1.2.256"));
  CHECK_FALSE(ipv4_number("10.1.2.3.4"));
  CHECK(cidr_contains("10.1.0.0/16", 0x0a01ffffu) == true);
  CHECK(cidr_contains("10.1.0.0/16", 0x0a020000u) == false);
  CHECK(cidr_contains("0.0.0.0/0", 1u) == true);
  CHECK(cidr_contains("10.1.2.3", 0x0a010203u) == true);
  CHECK_FALSE(cidr_contains("fe80::/64", 1u));
}

TEST_CASE("match: iptables and ebtables spellings mean the same", "[sg_check][match_rules]") {
  const Packet p = tcp_packet();
  CHECK(truth_of(Family::iptables, {"-p", "6", "--dport", "22"}, p) == Truth::yes);
  CHECK(truth_of(Family::iptables, {"-s", "!", "10.1.1.0/255.255.255.0"}, p) == Truth::no);
  CHECK(truth_of(Family::iptables, {"!", "-s", "10.1.1.0/24"}, p) == Truth::no);
  CHECK(truth_of(Family::iptables, {"-m", "physdev", "--physdev-in", "vif+"}, p) == Truth::yes);
  CHECK(truth_of(Family::iptables, {"-m", "physdev", "!", "--physdev-out", "eth0"}, p) == Truth::no);
  CHECK(truth_of(Family::iptables, {"-p", "tcp", "--syn"}, p) == Truth::yes);
  CHECK(truth_of(Family::iptables, {"-m", "state", "--state", "ESTABLISHED,RELATED"}, p) == Truth::no);
  CHECK(truth_of(Family::ebtables, {"-s", "!", "6:f8:c8:0:0:9", "-j", "DROP"}, p) == Truth::no);
  CHECK(truth_of(Family::ebtables, {"!", "-s", "06:F8:C8:00:00:09", "-j", "DROP"}, p) == Truth::no);
  CHECK(truth_of(Family::ebtables, {"-d", "Multicast", "-j", "DROP"}, p) == Truth::no); // unknown unicast MAC
  CHECK(truth_of(Family::ebtables, {"-d", "Unicast", "-j", "DROP"}, p) == Truth::yes);
  CHECK(truth_of(Family::ebtables, {"-p", "0x0800", "--ip-proto", "tcp", "--ip-dport", "20:30"}, p) == Truth::yes);
  CHECK(truth_of(Family::ebtables, {"-p", "ARP", "-j", "DROP"}, p) == Truth::no);
  std::string why;
  CHECK(truth_of(Family::iptables, {"-m", "recent", "--rcheck"}, p, &why) == Truth::unknown);
  CHECK(why == "match -m recent is not modelled");
  CHECK(truth_of(Family::ebtables, {"--among-src", "x", "-j", "DROP"}, p, &why) == Truth::unknown);
  CHECK(why == "option --among-src is not modelled");
}

TEST_CASE("match: arptables", "[sg_check][match_rules]") {
  Packet p = tcp_packet();
  p.ether = EtherType::arp;
  p.arp_op = 2;
  p.arp_target_mac = "06:f8:c8:00:00:0b";
  CHECK(truth_of(Family::arptables, {"-j", "ACCEPT", "-i", "vif7.0", "-o", "*", "-s", "10.1.1.5",
                                     "--src-mac", "06:f8:c8:00:00:09", "--h-length", "6", "--opcode", "2"}, p) ==
        Truth::yes);
  CHECK(truth_of(Family::arptables, {"-j", "ACCEPT", "--opcode", "Request"}, p) == Truth::no);
  CHECK(truth_of(Family::arptables, {"-j", "ACCEPT", "-o", "vif8.0"}, p) == Truth::no);
}
