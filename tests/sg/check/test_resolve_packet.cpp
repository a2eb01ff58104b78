// Resolving a packet spec against the firewall view
// (lib/sg/check/resolve_packet.cpp): ports, addresses and MACs from the
// firewall itself.
#include "check_fixtures.hpp"
#include "sg/view/view_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

Result<ResolvedPacket> resolve(const FirewallView &view, const std::string &words) {
  auto spec = parse_packet_line(words, "batch", 4);
  REQUIRE(spec);
  return resolve_packet(*spec, view, "batch", 4);
}

} // namespace

TEST_CASE("resolve: VMs, VIFs and addresses from the firewall", "[sg_check][resolve_packet]") {
  const FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-arptables");
  const FirewallView view = build_view(snapshot);
  SECTION("a VM name: its netback VIF, first address, MAC") {
    auto r = resolve(view, "from=i-2-5-VM to=i-2-3-VM proto=tcp dport=22");
    REQUIRE(r);
    CHECK(r->packet.in_port == "vif8.0"); // not tap8.0
    CHECK(r->packet.out_port == "vif7.0");
    CHECK(r->packet.src_ip == "10.147.41.240");
    CHECK(r->packet.dst_mac == "06:f8:c8:00:00:09");
    CHECK(r->ends.from_vm == "i-2-5-VM");
    REQUIRE(r->notes.size() == 1);
    CHECK(r->notes[0] == "i-2-5-VM has 2 addresses, using 10.147.41.240");
  }
  SECTION("an address of a VM's set is that VM; any other is outside, through the first uplink") {
    auto r = resolve(view, "from=10.147.41.241 to=192.0.2.1 proto=udp dport=53");
    REQUIRE(r);
    CHECK(r->ends.from_vm == "i-2-5-VM");
    CHECK(r->packet.src_ip == "10.147.41.241");
    CHECK(r->ends.to_vm.empty());
    CHECK(r->packet.out_port == "eth0");
    CHECK(r->packet.dst_mac.empty()); // some unicast MAC
  }
  SECTION("a VIF, and ports given by hand") {
    auto r = resolve(view, "from=tap8.0 to=10.147.40.1 out=eth1 proto=icmp");
    REQUIRE(r);
    CHECK(r->packet.in_port == "tap8.0");
    CHECK(r->packet.out_port == "eth1");
    CHECK(r->packet.icmp_type == 8);
  }
  SECTION("ARP: a request is a broadcast with a zero target MAC") {
    auto r = resolve(view, "from=i-2-3-VM to=i-2-5-VM proto=arp");
    REQUIRE(r);
    CHECK(r->packet.ether == EtherType::arp);
    CHECK(r->packet.dst_mac == "ff:ff:ff:ff:ff:ff");
    CHECK(r->packet.arp_target_mac == "00:00:00:00:00:00");
    auto reply = resolve(view, "from=i-2-3-VM to=i-2-5-VM proto=arp arp=reply");
    REQUIRE(reply);
    CHECK(reply->packet.arp_target_mac == "06:f8:c8:00:00:0b");
  }
  SECTION("errors name the line") {
    auto error = [&](const std::string &words) {
      auto r = resolve(view, words);
      REQUIRE_FALSE(r);
      return r.error().str();
    };
    CHECK(error("from=i-9-9-VM to=i-2-3-VM proto=icmp") == "batch:4: no rules for VM i-9-9-VM in the firewall");
    CHECK(error("from=vif99.0 to=i-2-3-VM proto=icmp") == "batch:4: no VM in the firewall has the VIF vif99.0");
    CHECK(error("from=10.1.1.1 to=10.1.1.2 proto=icmp") ==
          "batch:4: expected two different bridge ports, got eth0 for both ends (a bridge never sends a frame "
          "back out of its port)");
    CHECK(error("from=i-2-3-VM to=fe80::1 proto=icmp") ==
          "batch:4: expected two IPv4 or two IPv6 addresses, got 10.147.41.238 and fe80::1");
    CHECK(error("from=r-4-VM to=i-2-3-VM proto=icmp") ==
          "batch:4: expected an address for r-4-VM (its VM has none in the firewall): give src-ip= or dst-ip=");
  }
}
