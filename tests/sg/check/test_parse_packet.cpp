// The packet spec (lib/sg/check/parse_packet.cpp): words in, a validated
// PacketSpec out, errors naming source, line and what was expected.
#include <catch2/catch.hpp>

#include "sg_check.hpp"

using namespace vifwall;

TEST_CASE("packet words: a full spec", "[sg_check][parse_packet]") {
  auto spec = parse_packet_line("from=i-2-5-VM to=10.147.41.238 proto=TCP sport=1234 dport=22 "
                                "src-mac=6:F8:c8:0:0:b state=established id=p7 in=vif8.0",
                                "batch", 3);
  REQUIRE(spec);
  CHECK(spec->from == "i-2-5-VM");
  CHECK(spec->to == "10.147.41.238");
  CHECK(spec->protocol == "tcp");
  CHECK(spec->sport == 1234);
  CHECK(spec->dport == 22);
  CHECK(spec->src_mac == "06:f8:c8:00:00:0b");
  CHECK(spec->flow == Flow::established);
  CHECK(spec->id == "p7");
  CHECK(spec->in == "vif8.0");
}

TEST_CASE("packet words: defaults and other protocols", "[sg_check][parse_packet]") {
  auto icmp = parse_packet_line("from=vif7.0 to=i-2-5-VM proto=icmp", "x", 1);
  REQUIRE(icmp);
  CHECK(icmp->icmp_type == 8);
  CHECK(icmp->from == "vif7.0");
  auto named = parse_packet_line("from=a to=b proto=icmp icmp=port-unreachable", "x", 1);
  REQUIRE(named);
  CHECK(named->icmp_type == 3);
  CHECK(named->icmp_code == 3);
  auto arp = parse_packet_line("from=a to=b proto=arp", "x", 1);
  REQUIRE(arp);
  CHECK(arp->arp_op == "request");
  auto gre = parse_packet_line("from=a to=b proto=47", "x", 1);
  REQUIRE(gre);
  CHECK(gre->protocol == "47");
  auto v6 = parse_packet_line("from=FE80::1 to=fe80::2 proto=udp dport=53", "x", 1);
  REQUIRE(v6);
  CHECK(v6->from == "fe80::1");
}

TEST_CASE("packet words: bad input names the line and what was expected", "[sg_check][parse_packet]") {
  auto error = [](const std::string &line) {
    auto spec = parse_packet_line(line, "batch.txt", 12);
    REQUIRE_FALSE(spec);
    return spec.error().str();
  };
  CHECK(error("from=a to=b dport") == "batch.txt:12: expected KEY=VALUE, got \"dport\"");
  CHECK(error("from=a to=b colour=red") ==
        "batch.txt:12: expected one of from, to, proto, sport, dport, icmp, arp, src-ip, dst-ip, src-mac, "
        "dst-mac, in, out, bridge, state, id, got \"colour\"");
  CHECK(error("to=b proto=tcp dport=1") == "batch.txt:12: expected from=VM|VIF|IP");
  CHECK(error("from=a to=b proto=tcp") == "batch.txt:12: expected dport=PORT for proto=tcp");
  CHECK(error("from=a to=b proto=icmp dport=1") == "batch.txt:12: expected proto=tcp or proto=udp with ports, got proto=icmp");
  CHECK(error("from=a to=b dport=70000").find("batch.txt:12: dport: ") == 0);
  CHECK(error("from=a to=b dport=1 src-mac=zz").find("batch.txt:12: src-mac: ") == 0);
  CHECK(error("from=a to=b proto=bogus") ==
        "batch.txt:12: proto: expected tcp, udp, icmp, arp or a protocol number 1-255, got \"bogus\"");
  CHECK(error("from=a to=b dport=1 state=sleepy") ==
        "batch.txt:12: state: expected new, established or related, got \"sleepy\"");
  CHECK(error("from=-x to=b dport=1") ==
        "batch.txt:12: from: expected a VM name, a VIF or an IP address, got \"-x\"");
  CHECK(error("from=a to=b dport=1 dport=2") == "batch.txt:12: expected dport once, got it twice");
  CHECK(error("   ") == "batch.txt:12: expected a packet (from=... to=...), got an empty line");
  CHECK(error("from=a to=b proto=icmp icmp=any") ==
        "batch.txt:12: icmp: expected an ICMP type (8, 8/0, echo-request), got \"any\"");
}
