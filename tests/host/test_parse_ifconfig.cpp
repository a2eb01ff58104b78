#include <catch2/catch.hpp>

#include "parse_ifconfig.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::read_data;
using vifwall::test::read_source;

namespace {

std::vector<Link> parse_ok(const std::string &text, const std::string &source) {
  auto links = parse_ifconfig(text, source);
  if (!links)
    FAIL("unexpected error: " << links.error().str());
  return *links;
}

const Link &find_link(const std::vector<Link> &links, const std::string &name) {
  for (const auto &link : links)
    if (link.name == name)
      return link;
  FAIL("no link named " << name);
  throw std::logic_error("unreachable");
}

std::vector<std::string> names_of(const std::vector<Link> &links) {
  std::vector<std::string> names;
  for (const auto &link : links)
    names.push_back(link.name);
  return names;
}

using Flags = std::vector<std::string>;

Counters counters(std::uint64_t packets, std::uint64_t bytes,
                  std::uint64_t errors, std::uint64_t dropped) {
  return Counters{packets, bytes, errors, dropped};
}

Error parse_error(const std::string &text) {
  auto links = parse_ifconfig(text, "ifconfig.txt");
  REQUIRE_FALSE(links);
  return links.error();
}

} // namespace

// ---- the seed: XenServer 6 dom0, net-tools 1.60, NBSP indentation -----------

TEST_CASE("seed ifconfig (old format, NBSP indented): all 17 records", "[ifconfig]") {
  const auto links = parse_ok(read_source("examples/xen6/ifconfig"), "ifconfig");
  CHECK(names_of(links) ==
        std::vector<std::string>{"eth0", "eth1", "lo", "vif0.0", "vif2.0",
                                 "vif2.1", "vif2.2", "vif4.0", "vif4.1",
                                 "vif4.2", "vif4.3", "vif6.0", "vif6.1",
                                 "vif7.0", "xapi0", "xenbr0", "xenbr1"});
  for (const auto &link : links)
    CHECK_FALSE(link.name_truncated);

  const Link &eth0 = links[0];
  CHECK(eth0.line == 1);
  CHECK(eth0.mac == "d4:ae:52:bc:e6:51");
  CHECK(eth0.mtu == 1500u);
  CHECK(eth0.flags == Flags{"UP", "BROADCAST", "RUNNING", "MULTICAST"});
  CHECK(eth0.state == "up");
  CHECK(eth0.rx == counters(8705992, 1427874321, 0, 0));
  CHECK(eth0.tx == counters(8915911, 997557971, 0, 0));
  CHECK_FALSE(eth0.ifindex);
  CHECK_FALSE(eth0.master);

  const Link &eth1 = links[1];
  CHECK(eth1.state == "down"); // UP without RUNNING: no carrier
  CHECK(eth1.line == 9);

  const Link &lo = find_link(links, "lo");
  CHECK(lo.line == 17);
  CHECK_FALSE(lo.mac);
  CHECK(lo.mtu == 16436u);
  CHECK(lo.flags == Flags{"UP", "LOOPBACK", "RUNNING"});
  CHECK(lo.state == "up");
  CHECK(lo.rx == counters(97703, 129495503, 0, 0));
  CHECK(lo.tx == counters(97703, 129495503, 0, 0));

  const Link &vif20 = find_link(links, "vif2.0");
  CHECK(vif20.line == 32);
  CHECK(vif20.mac == "fe:ff:ff:ff:ff:ff");
  CHECK(vif20.flags == Flags{"UP", "BROADCAST", "RUNNING", "NOARP", "PROMISC"});
  CHECK(vif20.state == "up");
  CHECK(vif20.rx == counters(12, 780, 0, 0));
  CHECK(vif20.tx == counters(64, 3228, 0, 6));

  const Link &vif70 = find_link(links, "vif7.0");
  CHECK(vif70.line == 95);
  CHECK(vif70.mtu == 1500u);
  CHECK(vif70.rx.packets == 11u);
  CHECK(vif70.tx.dropped == 7u);
  CHECK(vif70.rx.bytes == 1098u);
  CHECK(vif70.tx.bytes == 13418u);
  CHECK(vif70.tx.packets == 40u);

  const Link &xenbr0 = find_link(links, "xenbr0");
  CHECK(xenbr0.line == 110);
  CHECK(xenbr0.mac == "d4:ae:52:bc:e6:51");
  CHECK(xenbr0.flags == Flags{"UP", "BROADCAST", "RUNNING", "MULTICAST"});
  CHECK(xenbr0.rx == counters(8697445, 1270037854, 0, 0));
  CHECK(xenbr0.tx == counters(7091372, 838818223, 0, 0));
}

TEST_CASE("seed notes: the single vif7.0 record quoted under #ifconfig", "[ifconfig]") {
  const std::string notes = read_data("seed/xenserver-cloudstack-notes.txt");
  const auto start = notes.find("#ifconfig\n");
  REQUIRE(start != std::string::npos);
  const auto begin = start + std::string("#ifconfig\n").size();
  const std::string record = notes.substr(begin, notes.find("\n\n", begin) - begin + 1);
  REQUIRE(looks_like_ifconfig(record));

  const auto links = parse_ok(record, "notes");
  REQUIRE(links.size() == 1);
  const Link &vif = links[0];
  CHECK(vif.name == "vif7.0");
  CHECK(vif.line == 1);
  CHECK(vif.mac == "fe:ff:ff:ff:ff:ff");
  CHECK(vif.mtu == 1500u);
  CHECK(vif.state == "up");
  CHECK(vif.rx == counters(11, 1098, 0, 0));
  CHECK(vif.tx == counters(38, 12734, 0, 7));
}

// ---- new format: Debian net-tools 2.10 samples ----------------------------

TEST_CASE("ifconfig.txt (new format): up interfaces, aliases without statistics", "[ifconfig]") {
  const auto links = parse_ok(read_data("samples/ifconfig.txt"), "ifconfig.txt");
  CHECK(names_of(links) ==
        std::vector<std::string>{"eth0", "eth1", "eth1:1", "lo", "tap5.0",
                                 "vif12.0", "vif2.0", "vif2.1", "vif4.0",
                                 "xenbr0", "xenbr0:1", "xenbr-longname1"});
  for (const auto &link : links)
    CHECK_FALSE(link.name_truncated);

  const Link &eth1 = find_link(links, "eth1");
  CHECK(eth1.line == 9);
  CHECK(eth1.mac == "00:16:3e:5a:01:11");
  CHECK(eth1.rx == counters(14, 1104, 0, 0));
  CHECK(eth1.tx == counters(15, 1270, 0, 0));

  const Link &alias = find_link(links, "eth1:1");
  CHECK(alias.line == 19);
  CHECK(alias.mac == "00:16:3e:5a:01:11");
  CHECK(alias.mtu == 1500u);
  CHECK(alias.state == "up");
  CHECK(alias.rx == Counters{});
  CHECK(alias.tx == Counters{});

  const Link &lo = find_link(links, "lo");
  CHECK_FALSE(lo.mac);
  CHECK(lo.mtu == 65536u);
  CHECK(lo.flags == Flags{"UP", "LOOPBACK", "RUNNING"});

  const Link &tap = find_link(links, "tap5.0");
  CHECK(tap.flags == Flags{"UP", "BROADCAST", "MULTICAST"});
  CHECK(tap.state == "down"); // a tap nobody opened has no carrier

  const Link &xenbr0 = find_link(links, "xenbr0");
  CHECK(xenbr0.mac == "00:16:3e:5a:01:10");
  CHECK(xenbr0.tx == counters(35, 5894, 0, 1));
  CHECK(xenbr0.rx == counters(81, 8220, 0, 0));

  CHECK(find_link(links, "xenbr0:1").rx.packets == std::nullopt);
  CHECK(find_link(links, "xenbr-longname1").line == 85);
}

TEST_CASE("ifconfig-a.txt adds the down bridge xapi1", "[ifconfig]") {
  const auto links = parse_ok(read_data("samples/ifconfig-a.txt"), "ifconfig-a.txt");
  REQUIRE(links.size() == 13);
  const Link &xapi1 = find_link(links, "xapi1");
  CHECK(xapi1.line == 71);
  CHECK(xapi1.flags == Flags{"BROADCAST", "MULTICAST"});
  CHECK(xapi1.state == "down");
  CHECK(xapi1.mac == "ea:9c:8a:a6:43:67");
  CHECK(xapi1.mtu == 1500u);
  CHECK(xapi1.rx == counters(0, 0, 0, 0));
  CHECK(xapi1.tx == counters(0, 0, 0, 0));

  const Link &vif40 = find_link(links, "vif4.0");
  CHECK(vif40.rx == counters(35, 2914, 0, 0));
  CHECK(vif40.tx == counters(77, 9318, 0, 0));
}

TEST_CASE("ifconfig-vif2.0.txt: one record, PROMISC bridge port", "[ifconfig]") {
  const auto links = parse_ok(read_data("samples/ifconfig-vif2.0.txt"), "vif2.0");
  REQUIRE(links.size() == 1);
  const Link &vif = links[0];
  CHECK(vif.name == "vif2.0");
  CHECK(vif.line == 1);
  CHECK(vif.mac == "fe:ff:ff:ff:ff:ff");
  CHECK(vif.mtu == 1500u);
  CHECK(vif.flags == Flags{"UP", "BROADCAST", "RUNNING", "PROMISC", "MULTICAST"});
  CHECK(vif.state == "up");
  CHECK(vif.rx == counters(53, 7422, 0, 0));
  CHECK(vif.tx == counters(72, 6104, 0, 0));
}

TEST_CASE("ifconfig-eth1-alias.txt: the alias alone, split at the last \": flags=\"", "[ifconfig]") {
  const auto links =
      parse_ok(read_data("samples/ifconfig-eth1-alias.txt"), "alias");
  REQUIRE(links.size() == 1);
  CHECK(links[0].name == "eth1:1");
  CHECK(links[0].mac == "00:16:3e:5a:01:11");
  CHECK(links[0].flags == Flags{"UP", "BROADCAST", "RUNNING", "MULTICAST"});
  CHECK(links[0].rx == Counters{});
  CHECK(links[0].tx == Counters{});
}

TEST_CASE("ifconfig-s-a.txt: the netstat -i table, mapped by header word", "[ifconfig]") {
  const std::string text = read_data("samples/ifconfig-s-a.txt");
  CHECK(looks_like_ifconfig(text));
  const auto links = parse_ok(text, "ifconfig-s-a.txt");
  REQUIRE(links.size() == 13);
  CHECK(links[0].name == "eth0");
  CHECK(links[0].line == 2);

  const Link &xenbr0 = find_link(links, "xenbr0");
  CHECK(xenbr0.mtu == 1500u);
  CHECK(xenbr0.rx.packets == 81u);
  CHECK(xenbr0.tx.packets == 35u);
  CHECK(xenbr0.tx.dropped == 1u);
  CHECK(xenbr0.rx.errors == 0u);
  CHECK_FALSE(xenbr0.rx.bytes); // the table has no byte counts
  CHECK_FALSE(xenbr0.mac);
  CHECK(xenbr0.flags == Flags{"BROADCAST", "MULTICAST", "RUNNING", "UP"});
  CHECK(xenbr0.state == "up");

  const Link &vif20 = find_link(links, "vif2.0");
  CHECK(vif20.flags == Flags{"BROADCAST", "MULTICAST", "PROMISC", "RUNNING", "UP"});
  CHECK(vif20.rx.packets == 53u);

  const Link &lo = find_link(links, "lo");
  CHECK(lo.mtu == 65536u);
  CHECK(lo.flags == Flags{"LOOPBACK", "RUNNING", "UP"});

  const Link &alias = find_link(links, "eth1:1");
  CHECK(alias.line == 4);
  CHECK(alias.mtu == 1500u);
  CHECK(alias.rx == Counters{});
  CHECK(alias.tx == Counters{});
  CHECK(alias.state == "up");

  const Link &xapi1 = find_link(links, "xapi1");
  CHECK(xapi1.state == "down");
  CHECK(xapi1.flags == Flags{"BROADCAST", "MULTICAST"});

  // The 15-character name pushes its row right; words still line up.
  const Link &longname = find_link(links, "xenbr-longname1");
  CHECK(longname.mtu == 1500u);
  CHECK(longname.tx.packets == 0u);
}

TEST_CASE("ifconfig -s: old header with Met, NOARP point-to-point, no flags", "[ifconfig]") {
  const std::string text =
      "Kernel Interface table\n"
      "Iface   MTU Met   RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n"
      "eth0   1500   0 8705992      0      0      0 8915911      0      0      0 BMRU\n"
      "ppp0   1492   0     120      1      2      0      99      3      4      0 MOPRU\n"
      "vif7.  1500   0      11      0      0      0      40      0      7      0 BMPORU\n"
      "eth0:  1500   0     - no statistics available -                         BMRU\n"
      "dummy  1500   0       0      0      0      0       0      0      0      0 [NO FLAGS]\n";
  CHECK(looks_like_ifconfig(text));
  const auto links = parse_ok(text, "netstat-i");
  REQUIRE(links.size() == 5);
  CHECK(links[0].rx.packets == 8705992u);
  CHECK(links[0].line == 3);
  CHECK_FALSE(links[0].name_truncated);
  CHECK(links[1].flags == Flags{"MULTICAST", "NOARP", "POINTOPOINT", "RUNNING", "UP"});
  CHECK(links[1].rx == Counters{120, std::nullopt, 1, 2});
  CHECK(links[1].tx == Counters{99, std::nullopt, 3, 4});
  CHECK(links[2].name == "vif7.");
  CHECK(links[2].name_truncated); // 1.60 prints "%-5.5s" names here
  CHECK(links[2].flags ==
        Flags{"BROADCAST", "MULTICAST", "PROMISC", "NOARP", "RUNNING", "UP"});
  CHECK(links[2].tx.dropped == 7u);
  CHECK(links[3].rx == Counters{});
  CHECK(links[3].flags == Flags{"BROADCAST", "MULTICAST", "RUNNING", "UP"});
  CHECK(links[4].flags.empty());
  CHECK(links[4].state == "down");
}

// ---- hard cases ------------------------------------------------------------

TEST_CASE("CRLF copy of old-format records", "[ifconfig]") {
  const std::string text = read_data("ifconfig/old-crlf.txt");
  REQUIRE(text.find("\r\n") != std::string::npos);
  const auto links = parse_ok(text, "crlf");
  REQUIRE(names_of(links) == std::vector<std::string>{"eth0", "eth1", "lo"});
  CHECK(links[0].mac == "d4:ae:52:bc:e6:51");
  CHECK(links[0].tx.bytes == 997557971u);
  CHECK(links[1].mac == "d4:ae:52:bc:e6:52");
  CHECK(links[2].rx.bytes == 129495503u);
  CHECK(links[2].line == 17);
}

TEST_CASE("indentation stripped or turned into tabs", "[ifconfig]") {
  const auto old_links =
      parse_ok(read_data("ifconfig/old-stripped-indent.txt"), "stripped");
  REQUIRE(names_of(old_links) == std::vector<std::string>{"eth0", "vif7.0"});
  CHECK(old_links[0].flags == Flags{"UP", "BROADCAST", "RUNNING", "MULTICAST"});
  CHECK(old_links[0].rx == counters(8705992, 1427874321, 0, 0));
  CHECK(old_links[1].line == 10);
  CHECK(old_links[1].tx == counters(40, 13418, 0, 7));

  const auto new_links = parse_ok(read_data("ifconfig/new-tabs.txt"), "tabs");
  REQUIRE(new_links.size() == 1);
  CHECK(new_links[0].mac == "fe:ff:ff:ff:ff:ff");
  CHECK(new_links[0].rx == counters(53, 7422, 0, 0));
}

TEST_CASE("old format: a 9-character name may be cut (vif32752.)", "[ifconfig]") {
  const auto links =
      parse_ok(read_data("ifconfig/old-truncated-name.txt"), "truncated");
  REQUIRE(links.size() == 2);
  CHECK(links[0].name == "vif32752.");
  CHECK(links[0].name_truncated);
  CHECK(links[0].mac == "fe:ff:ff:ff:ff:ff");
  CHECK(links[0].tx == counters(4410, 281234, 0, 12));
  CHECK(links[1].name == "vif1.0");
  CHECK_FALSE(links[1].name_truncated);
  CHECK(links[1].flags == Flags{"UP", "BROADCAST", "RUNNING", "NOARP"});
  CHECK(links[1].tx.bytes == 106033983u);
}

TEST_CASE("old format: RHEL prints long names in full (cvif00-emu)", "[ifconfig]") {
  const auto links =
      parse_ok(read_data("ifconfig/old-rhel-fullname.txt"), "rhel");
  REQUIRE(links.size() == 1);
  CHECK(links[0].name == "cvif00-emu");
  CHECK_FALSE(links[0].name_truncated);
  CHECK(links[0].mac == "fe:ff:ff:ff:ff:ff");
  CHECK(links[0].mtu == 1500u);
  CHECK(links[0].tx == counters(27, 2802, 0, 0));
}

TEST_CASE("64-bit counters are kept whole", "[ifconfig]") {
  const auto links = parse_ok(read_data("ifconfig/old-counter64.txt"), "c64");
  REQUIRE(links.size() == 1);
  CHECK(links[0].mtu == 9000u);
  CHECK(links[0].mac == "00:1e:c9:3a:7b:10");
  CHECK(links[0].rx == counters(6442450944ULL, 5497558138880ULL, 3,
                                18446744073709551615ULL));
  CHECK(links[0].tx == counters(4294967296ULL, 4294967295ULL, 0, 0));
}

TEST_CASE("Ubuntu old format: lower-case MAC, SI units, absurd dropped counter", "[ifconfig]") {
  const auto links =
      parse_ok(read_data("ifconfig/old-ubuntu-si-units.txt"), "ubuntu");
  REQUIRE(links.size() == 2);
  CHECK(links[0].mac == "00:1c:c0:9b:2e:4f");
  CHECK(links[0].rx == counters(102183, 75917885, 0, 4769830593730ULL));
  CHECK(links[0].tx == counters(17405, 2767378, 0, 0));
  CHECK(links[1].name == "lo");
  CHECK_FALSE(links[1].mac);
  CHECK(links[1].rx.bytes == 120460u);
}

TEST_CASE("pristine 1.60: b/Kb/Mb units, tunnel, UNSPEC and [NO FLAGS]", "[ifconfig]") {
  const auto links =
      parse_ok(read_data("ifconfig/old-pristine-units.txt"), "pristine");
  REQUIRE(names_of(links) == std::vector<std::string>{"eth0", "sit0", "dummy0"});
  CHECK(links[0].mac == "00:50:56:c0:00:08");
  CHECK(links[0].rx == counters(5310, 4129846, 0, 0));
  CHECK(links[0].tx == counters(3877, 431530, 0, 0));
  CHECK_FALSE(links[1].mac);
  CHECK(links[1].flags == Flags{"NOARP"});
  CHECK(links[1].mtu == 1480u);
  CHECK(links[1].state == "down");
  CHECK_FALSE(links[2].mac); // 16 dash-separated bytes: not an Ethernet MAC
  CHECK(links[2].flags.empty());
  CHECK(links[2].state == "down");
  CHECK(links[2].line == 17);
}

TEST_CASE("old format alias: flags and hardware lines but no statistics", "[ifconfig]") {
  const auto links = parse_ok(read_data("ifconfig/old-alias.txt"), "alias");
  REQUIRE(links.size() == 2);
  CHECK(links[0].rx == counters(14, 1104, 0, 0));
  CHECK(links[1].name == "eth1:1");
  CHECK(links[1].line == 10);
  CHECK(links[1].mac == "d4:ae:52:bc:e6:52");
  CHECK(links[1].state == "up");
  CHECK(links[1].rx == Counters{});
  CHECK(links[1].tx == Counters{});
}

TEST_CASE("new format: degenerate flags=0< and bare flags=N", "[ifconfig]") {
  const auto links =
      parse_ok(read_data("ifconfig/new-degenerate-flags.txt"), "degenerate");
  REQUIRE(names_of(links) == std::vector<std::string>{"dummy0", "eql", "tunl0"});
  CHECK(links[0].flags.empty());
  CHECK(links[0].mtu == 1500u);
  CHECK(links[0].state == "down");
  CHECK(links[0].mac == "6a:2b:1c:0d:ee:f1");
  CHECK(links[0].rx == counters(0, 0, 0, 0));
  CHECK(links[1].flags.empty());
  CHECK(links[1].mtu == 576u);
  CHECK_FALSE(links[1].mac); // unspec dash bytes
  CHECK(links[1].rx == Counters{});
  CHECK(links[2].flags == Flags{"UP", "RUNNING", "NOARP"});
  CHECK(links[2].state == "up");
  CHECK_FALSE(links[2].mac);
  CHECK(links[2].line == 11);
}

TEST_CASE("old and new records may be mixed; each is read by its first line", "[ifconfig]") {
  const std::string text =
      "vif7.0    Link encap:Ethernet  HWaddr FE:FF:FF:FF:FF:FF\n"
      "          UP BROADCAST RUNNING NOARP PROMISC  MTU:1500  Metric:1\n"
      "\n"
      "vif2.0: flags=4419<UP,BROADCAST,RUNNING,PROMISC,MULTICAST>  mtu 1400  metric 1\n"
      "        ether fe:ff:ff:ff:ff:fe  txqueuelen 32  (Ethernet)\n";
  const auto links = parse_ok(text, "mixed");
  REQUIRE(links.size() == 2);
  CHECK(links[0].mtu == 1500u);
  CHECK(links[1].mtu == 1400u);
  CHECK(links[1].mac == "fe:ff:ff:ff:ff:fe");
  CHECK(links[1].line == 4);
}

TEST_CASE("empty output gives no links", "[ifconfig]") {
  CHECK(parse_ok("", "empty").empty());
  CHECK(parse_ok("\n\r\n  \n", "blank").empty());
  CHECK_FALSE(looks_like_ifconfig(""));
}

// ---- detection -------------------------------------------------------------

TEST_CASE("looks_like_ifconfig tells ifconfig from ip link and xe", "[ifconfig]") {
  CHECK(looks_like_ifconfig(read_source("examples/xen6/ifconfig")));
  CHECK(looks_like_ifconfig(read_data("samples/ifconfig-a.txt")));
  CHECK(looks_like_ifconfig("\n\neth1:1: flags=4163<UP>  mtu 1500\n"));
  CHECK_FALSE(looks_like_ifconfig(read_data("samples/ip-link.txt")));
  CHECK_FALSE(looks_like_ifconfig(read_data("samples/ip-s-link.txt")));
  CHECK_FALSE(looks_like_ifconfig("uuid ( RO)           : 1d2f...\n"));
}

// ---- errors ----------------------------------------------------------------

TEST_CASE("ip link output fails at line 1", "[ifconfig]") {
  auto links = parse_ifconfig(read_data("samples/ip-link.txt"), "ip-link.txt");
  REQUIRE_FALSE(links);
  CHECK(links.error().source == "ip-link.txt");
  CHECK(links.error().line == 1);
  CHECK_THAT(links.error().str(),
             Catch::StartsWith("ip-link.txt:1: expected an ifconfig record"));
  CHECK_THAT(links.error().message, Catch::Contains("got \"1: lo: <LOOPBACK"));
}

TEST_CASE("an xe record fails at its first non-blank line", "[ifconfig]") {
  const Error error = parse_error("\n"
                                  "uuid ( RO)           : 9f3a7c1e\n"
                                  "     name-label ( RW): i-2-3-VM\n");
  CHECK(error.line == 2);
  CHECK_THAT(error.message, Catch::Contains("\"Iface  MTU ...\""));
  CHECK_THAT(error.message, Catch::EndsWith("got \"uuid ( RO)           : 9f3a7c1e\""));
}

TEST_CASE("a counter that is not a number names the line and the label", "[ifconfig]") {
  const Error old_error =
      parse_error("vif7.0    Link encap:Ethernet  HWaddr FE:FF:FF:FF:FF:FF\n"
                  "          UP BROADCAST RUNNING  MTU:1500  Metric:1\n"
                  "          RX packets:abc errors:0 dropped:0 overruns:0 frame:0\n");
  CHECK(old_error.str() ==
        "ifconfig.txt:3: expected a number after \"RX packets:\", got \"abc\"");

  const Error bytes_error =
      parse_error("vif7.0    Link encap:Ethernet  HWaddr FE:FF:FF:FF:FF:FF\n"
                  "          UP BROADCAST RUNNING  MTU:1500  Metric:1\n"
                  "          RX bytes:1098 (1.0 KiB)  TX bytes: (13.1 KiB)\n");
  CHECK(bytes_error.str() ==
        "ifconfig.txt:3: expected a number after \"TX bytes:\", got the end of the line");

  const Error new_error =
      parse_error("eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"
                  "        RX packets 11  bytes 810 (810.0 B)\n"
                  "        TX errors 0  dropped -1 overruns 0  carrier 0  collisions 0\n");
  CHECK(new_error.str() ==
        "ifconfig.txt:3: expected a number after \"TX dropped\", got \"-1\"");
}

TEST_CASE("bad MTU, flags and MAC are errors on their line", "[ifconfig]") {
  CHECK(parse_error("eth0      Link encap:Ethernet  HWaddr D4:AE:52\n").str() ==
        "ifconfig.txt:1: expected a MAC address after \"HWaddr\", got \"D4:AE:52\"");
  CHECK(parse_error("eth0      Link encap:Ethernet  HWaddr 0:0:0:0:0:1\n"
                    "          UP  MTU:big  Metric:1\n")
            .str() == "ifconfig.txt:2: expected a number after \"MTU:\", got \"big\"");
  CHECK(parse_error("eth0: flags=UP  mtu 1500\n").str() ==
        "ifconfig.txt:1: expected a number after \"flags=\", got \"UP\"");
  CHECK(parse_error("eth0: flags=4163<UP>\n").line == 1);
  CHECK(parse_error("eth0: flags=4163<UP>  mtu 99999999999\n").str() ==
        "ifconfig.txt:1: expected a number after \"mtu\", got \"99999999999\"");
  CHECK(parse_error("eth0: flags=4163<UP>  mtu 1500\n"
                    "        ether zz:16:3e:5a:01:10  txqueuelen 1000  (Ethernet)\n")
            .str() == "ifconfig.txt:2: expected a MAC address after \"ether\", got "
                      "\"zz:16:3e:5a:01:10\"");
}

TEST_CASE("cut output: statistics partly present or flags line missing", "[ifconfig]") {
  // `ifconfig | head -4`: the TX counters and bytes never came.
  const Error cut = parse_error(
      "vif7.0    Link encap:Ethernet  HWaddr FE:FF:FF:FF:FF:FF\n"
      "          UP BROADCAST RUNNING NOARP PROMISC  MTU:1500  Metric:1\n"
      "          RX packets:11 errors:0 dropped:0 overruns:0 frame:0\n");
  CHECK(cut.line == 1);
  CHECK(cut.message == "expected the \"RX bytes\" counter with the other "
                       "statistics of \"vif7.0\", got none (output cut?)");

  const Error head_only =
      parse_error("eth0      Link encap:Ethernet  HWaddr D4:AE:52:BC:E6:51\n"
                  "\n"
                  "eth1      Link encap:Ethernet  HWaddr D4:AE:52:BC:E6:52\n"
                  "          UP BROADCAST MULTICAST  MTU:1500  Metric:1\n");
  CHECK(head_only.line == 1);
  CHECK_THAT(head_only.message, Catch::Contains("flags line with \"MTU:\""));

  const Error new_cut = parse_error(
      "vif2.0: flags=4419<UP,BROADCAST,RUNNING,PROMISC,MULTICAST>  mtu 1500\n"
      "        RX packets 53  bytes 7422 (7.2 KiB)\n"
      "        RX errors 0  dropped 0  overruns 0  frame 0\n"
      "        TX packets 72  bytes 6104 (5.9 KiB)\n");
  CHECK(new_cut.line == 1);
  CHECK_THAT(new_cut.message, Catch::Contains("\"TX errors\""));
}

TEST_CASE("unknown indented lines are ignored, unknown unindented ones are not", "[ifconfig]") {
  const auto links = parse_ok(
      "eth0      Link encap:Ethernet  HWaddr D4:AE:52:BC:E6:51\n"
      "          IPX/Ethernet II addr:00000001:D4AE52BCE651\n"
      "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n"
      "          Frobnicate:7 Widgets:3\n"
      "          Interrupt:16 Memory:c0000000-c0012800 \n",
      "unknown");
  REQUIRE(links.size() == 1);
  CHECK(links[0].mtu == 1500u);

  const Error prompt =
      parse_error("eth0      Link encap:Ethernet  HWaddr D4:AE:52:BC:E6:51\n"
                  "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n"
                  "[root@xen6 ~]# ip link\n");
  CHECK(prompt.line == 3);
  CHECK_THAT(prompt.message, Catch::EndsWith("got \"[root@xen6 ~]# ip link\""));

  const Error after_blank =
      parse_error("eth0      Link encap:Ethernet  HWaddr D4:AE:52:BC:E6:51\n"
                  "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n"
                  "\n"
                  "          RX packets:1 errors:0 dropped:0 overruns:0 frame:0\n");
  CHECK(after_blank.line == 4);
  CHECK_THAT(after_blank.message, Catch::StartsWith("expected a new ifconfig record"));
}

TEST_CASE("ifconfig -s errors name the column", "[ifconfig]") {
  const std::string header =
      "Iface      MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n";
  CHECK(parse_error(header +
                    "eth0  1500  x  0  0  0  64  0  0  0 BMRU\n")
            .str() == "ifconfig.txt:2: expected a number in column \"RX-OK\", got \"x\"");
  const Error short_row = parse_error(header + "eth0  1500  11  0  0\n");
  CHECK(short_row.line == 2);
  CHECK_THAT(short_row.message, Catch::StartsWith("expected 11 columns like the header, got 5"));
}

TEST_CASE("output cut at any byte parses or fails cleanly, never crashes", "[ifconfig]") {
  for (const std::string file :
       {"ifconfig/old-pristine-units.txt", "samples/ifconfig-a.txt",
        "samples/ifconfig-s-a.txt", "ifconfig/new-degenerate-flags.txt"}) {
    const std::string text = read_data(file);
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      auto links = parse_ifconfig(std::string_view(text).substr(0, cut), file);
      if (!links) {
        CHECK(links.error().line >= 1);
        CHECK_FALSE(links.error().message.empty());
      }
    }
  }
  const std::string seed = read_source("examples/xen6/ifconfig");
  // Cut right after a complete statistics block: all records so far parse.
  const auto end_of_eth1 = seed.find("\n\n", seed.find("eth1")) + 2;
  auto links = parse_ifconfig(seed.substr(0, end_of_eth1), "seed");
  REQUIRE(links);
  CHECK(links->size() == 2);
}

TEST_CASE("interface names in errors are escaped", "[ifconfig]") {
  // A name is whatever precedes "Link encap:" / ": flags=": escape sequences
  // in it must not reach the terminal through an error message.
  const Error no_flags =
      parse_error("\neth\x1b[2J\x1b[31m0    Link encap:Ethernet  HWaddr 00:16:3e:00:00:01\n");
  CHECK(no_flags.line == 2);
  CHECK(no_flags.message == "expected a flags line with \"MTU:\" in the record of "
                            "\"eth\\x1b[2J\\x1b[31m0\", got none (output cut?)");

  const Error cut = parse_error(
      "vif7.0\x7f    Link encap:Ethernet  HWaddr FE:FF:FF:FF:FF:FF\n"
      "          UP BROADCAST RUNNING NOARP PROMISC  MTU:1500  Metric:1\n"
      "          RX packets:11 errors:0 dropped:0 overruns:0 frame:0\n");
  CHECK(cut.line == 1);
  CHECK(cut.message == "expected the \"RX bytes\" counter with the other "
                       "statistics of \"vif7.0\\x7f\", got none (output cut?)");

  const Error detail = parse_error(
      "vif2.0\x1b: flags=4419<UP,BROADCAST,RUNNING,PROMISC,MULTICAST>  mtu 1500\n"
      "Frobnicate 7\n");
  CHECK(detail.line == 2);
  CHECK(detail.message == "expected an ifconfig detail line of \"vif2.0\\x1b\" (flags, "
                          "addresses, RX/TX counters) or a new record, got \"Frobnicate 7\"");
}
