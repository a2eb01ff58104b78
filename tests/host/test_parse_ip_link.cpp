#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "parse_ip_link.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::describe_links;
using vifwall::test::read_data;

namespace {

// In ip's column order: bytes packets errors dropped.
Counters counters(std::uint64_t bytes, std::uint64_t packets,
                  std::uint64_t errors, std::uint64_t dropped) {
  Counters c;
  c.bytes = bytes;
  c.packets = packets;
  c.errors = errors;
  c.dropped = dropped;
  return c;
}

Link make_link(int ifindex, std::string name, std::optional<std::string> mac,
               std::uint32_t mtu, std::optional<std::string> master,
               std::string state, std::vector<std::string> flags,
               std::size_t line) {
  Link link;
  link.ifindex = ifindex;
  link.name = std::move(name);
  link.mac = std::move(mac);
  link.mtu = mtu;
  link.master = std::move(master);
  link.state = std::move(state);
  link.flags = std::move(flags);
  link.line = line;
  return link;
}

const std::vector<std::string> kUpFlags = {"BROADCAST", "MULTICAST", "UP",
                                           "LOWER_UP"};
const std::optional<std::string> kNoMaster;

// The sample host (tests/data/samples/README.md) as `ip link` shows it; line
// numbers are those of ip-link.txt.
std::vector<Link> sample_host() {
  const std::string bridge_mac = "00:16:3e:5a:01:10";
  const std::string vif_mac = "fe:ff:ff:ff:ff:ff";
  return {
      make_link(1, "lo", std::nullopt, 65536, kNoMaster, "unknown",
                {"LOOPBACK", "UP", "LOWER_UP"}, 1),
      make_link(2, "xenbr0", bridge_mac, 1500, kNoMaster, "up", kUpFlags, 3),
      make_link(3, "eth0", bridge_mac, 1500, "xenbr0", "up", kUpFlags, 5),
      make_link(4, "eth1", "00:16:3e:5a:01:11", 1500, kNoMaster, "up",
                kUpFlags, 7),
      make_link(5, "xapi1", "ea:9c:8a:a6:43:67", 1500, kNoMaster, "down",
                {"BROADCAST", "MULTICAST"}, 9),
      make_link(6, "xenbr-longname1", vif_mac, 1500, kNoMaster, "up",
                kUpFlags, 11),
      make_link(7, "vif2.0", vif_mac, 1500, "xenbr0", "up",
                {"BROADCAST", "MULTICAST", "PROMISC", "UP", "LOWER_UP"}, 13),
      make_link(8, "vif2.1", vif_mac, 1500, "xenbr0", "up", kUpFlags, 15),
      make_link(9, "vif4.0", vif_mac, 1500, "xenbr0", "up", kUpFlags, 17),
      make_link(10, "vif12.0", vif_mac, 1500, "xenbr-longname1", "up",
                kUpFlags, 19),
      make_link(11, "tap5.0", vif_mac, 1500, "xenbr0", "down",
                {"NO-CARRIER", "BROADCAST", "MULTICAST", "UP"}, 21),
  };
}

// The `ip -s link` counters of the sample host, by ifindex - 1.
void add_sample_counters(std::vector<Link> &links) {
  const std::pair<Counters, Counters> by_index[] = {
      {counters(0, 0, 0, 0), counters(0, 0, 0, 0)},             // lo
      {counters(8220, 81, 0, 0), counters(5894, 35, 0, 1)},     // xenbr0
      {counters(810, 11, 0, 0), counters(5352, 64, 0, 0)},      // eth0
      {counters(1104, 14, 0, 0), counters(1270, 15, 0, 0)},     // eth1
      {counters(0, 0, 0, 0), counters(0, 0, 0, 0)},             // xapi1
      {counters(600, 9, 0, 0), counters(860, 10, 0, 1)},        // longname
      {counters(7422, 53, 0, 0), counters(6104, 72, 0, 0)},     // vif2.0
      {counters(810, 11, 0, 0), counters(5352, 64, 0, 0)},      // vif2.1
      {counters(2914, 35, 0, 0), counters(9318, 77, 0, 0)},     // vif4.0
      {counters(726, 9, 0, 0), counters(1586, 19, 0, 0)},       // vif12.0
      {counters(0, 0, 0, 0), counters(0, 0, 0, 0)},             // tap5.0
  };
  for (Link &link : links) {
    link.rx = by_index[*link.ifindex - 1].first;
    link.tx = by_index[*link.ifindex - 1].second;
  }
}


// Readable on failure, exact (operator==) in any case.
#define CHECK_LINKS(got, want)                                                 \
  do {                                                                         \
    CHECK(describe_links(got) == describe_links(want));                                        \
    CHECK((got) == (want));                                                    \
  } while (false)

std::vector<Link> without_lines(std::vector<Link> links) {
  for (Link &link : links)
    link.line = 0;
  return links;
}

std::vector<Link> parse_ok(const std::string &text,
                           const std::string &source = "ip.txt") {
  auto links = parse_ip_link(text, source);
  if (!links)
    FAIL(links.error().str());
  return *links;
}

std::vector<Link> parse_sample(const std::string &file) {
  return parse_ok(read_data("samples/" + file), file);
}

const Link &by_name(const std::vector<Link> &links, const std::string &name) {
  auto it = std::find_if(links.begin(), links.end(),
                         [&](const Link &l) { return l.name == name; });
  if (it == links.end())
    FAIL("no link " << name);
  return *it;
}

Error parse_error(const std::string &text, const std::string &source = "ip.txt") {
  auto links = parse_ip_link(text, source);
  REQUIRE_FALSE(links.has_value());
  return links.error();
}

} // namespace

// ---- the real samples (iproute2 6.1) --------------------------------------

TEST_CASE("ip link: every record of the sample host, exactly", "[iplink]") {
  const auto links = parse_sample("ip-link.txt");
  CHECK_LINKS(links, sample_host());
  // Without -s nothing is known about the counters.
  CHECK_FALSE(links[1].rx.bytes);
  CHECK_FALSE(links[1].tx.packets);
}

TEST_CASE("ip -o link: the backslash-joined records parse like ip link",
          "[iplink]") {
  const auto links = parse_sample("ip-o-link.txt");
  auto expected = sample_host();
  for (std::size_t i = 0; i < expected.size(); ++i)
    expected[i].line = i + 1; // one physical line per record
  CHECK_LINKS(links, expected);
}

TEST_CASE("ip -s link (5.14+ right-aligned columns): counters of every link",
          "[iplink]") {
  const auto links = parse_sample("ip-s-link.txt");
  const Link &vif = by_name(links, "vif2.0");
  CHECK(vif.rx == counters(7422, 53, 0, 0));
  CHECK(vif.tx == counters(6104, 72, 0, 0));
  const Link &bridge = by_name(links, "xenbr0");
  CHECK(bridge.rx == counters(8220, 81, 0, 0));
  CHECK(bridge.tx == counters(5894, 35, 0, 1));
  CHECK(by_name(links, "vif12.0").master == "xenbr-longname1");

  auto expected = sample_host();
  add_sample_counters(expected);
  CHECK_LINKS(without_lines(links), without_lines(expected));
  CHECK(links[10].line == 61); // tap5.0: 6 lines per record
}

TEST_CASE("ip -s -s link: the RX errors/TX errors rows leave the counters alone",
          "[iplink]") {
  const auto links = parse_sample("ip-s-s-link.txt");
  // The TX errors rows have transns 1..4 in the last column; the main rows
  // have errors 0 and collsns 0.
  CHECK(by_name(links, "tap5.0").tx == counters(0, 0, 0, 0));
  CHECK(by_name(links, "xenbr0").tx == counters(5894, 35, 0, 1));
  CHECK_LINKS(without_lines(links), without_lines(parse_sample("ip-s-link.txt")));
}

TEST_CASE("ip -d link: detail lines, bridge_slave included, are not stats",
          "[iplink]") {
  const auto links = parse_sample("ip-d-link.txt");
  CHECK_LINKS(without_lines(links), without_lines(sample_host()));
  for (const Link &link : links) {
    CHECK_FALSE(link.rx.bytes);
    CHECK_FALSE(link.tx.bytes);
  }
  CHECK(by_name(links, "tap5.0").line == 35);
}

TEST_CASE("ip addr: the address lines are skipped", "[iplink]") {
  const auto links = parse_sample("ip-addr.txt");
  CHECK_LINKS(without_lines(links), without_lines(sample_host()));
  CHECK(by_name(links, "eth1").line == 21);
}

TEST_CASE("ip link show master xenbr0: the ports of xenbr0", "[iplink]") {
  const auto links = parse_sample("ip-link-show-master-xenbr0.txt");
  std::vector<std::string> names;
  for (const Link &link : links) {
    names.push_back(link.name);
    CHECK(link.master == "xenbr0");
  }
  CHECK(names ==
        std::vector<std::string>{"eth0", "vif2.0", "vif2.1", "vif4.0", "tap5.0"});
  Link tap = sample_host()[10];
  tap.line = 9;
  CHECK(links[4] == tap);
}

TEST_CASE("ip -o addr is refused with a pointer to ip -o link", "[iplink]") {
  const Error error =
      parse_error(read_data("samples/ip-o-addr.txt"), "ip-o-addr.txt");
  CHECK(error.line == 1);
  CHECK_THAT(error.message, Catch::Contains("ip -o addr") &&
                                Catch::Contains("\"1: lo    inet"));
  CHECK(error.str().rfind("ip-o-addr.txt:1: expected", 0) == 0);
}

TEST_CASE("ip -br link and ip -br addr: the brief form", "[iplink]") {
  auto brief = parse_ip_link_brief(read_data("samples/ip-br-link.txt"),
                                   "ip-br-link.txt");
  REQUIRE(brief);
  const auto host = sample_host();
  REQUIRE(brief->size() == host.size());
  for (std::size_t i = 0; i < host.size(); ++i) {
    INFO(host[i].name);
    CHECK((*brief)[i].name == host[i].name);
    CHECK((*brief)[i].state == host[i].state);
    CHECK((*brief)[i].mac == host[i].mac);
    CHECK((*brief)[i].flags == host[i].flags);
    CHECK((*brief)[i].line == i + 1);
    CHECK_FALSE((*brief)[i].ifindex);
    CHECK_FALSE((*brief)[i].master); // -br does not print it
  }

  auto addr = parse_ip_link_brief(read_data("samples/ip-br-addr.txt"),
                                  "ip-br-addr.txt");
  REQUIRE(addr);
  REQUIRE(addr->size() == 11);
  CHECK((*addr)[6].name == "vif2.0");
  CHECK((*addr)[10].state == "down");
  for (const Link &link : *addr) {
    CHECK_FALSE(link.mac); // IP addresses, not MACs
    CHECK(link.flags.empty());
  }

  // The long form is no brief form, and the other way round.
  auto wrong = parse_ip_link_brief(read_data("samples/ip-link.txt"), "x");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().line == 1);
  const Error error = parse_error(read_data("samples/ip-br-link.txt"));
  CHECK(error.line == 1);
  CHECK_THAT(error.message, Catch::Contains("ip -br"));
}

// ---- older layouts (fixtures in tests/data/iplink) ------------------------

TEST_CASE("ip -s link before 5.14 (CentOS 7): left-aligned, shifted rows",
          "[iplink]") {
  const auto links =
      parse_ok(read_data("iplink/centos7-s-link.txt"), "centos7-s-link.txt");
  REQUIRE(links.size() == 6);
  const Link &lo = links[0];
  CHECK(lo.state == "unknown");
  CHECK_FALSE(lo.mac);
  CHECK(lo.rx == counters(26927, 137, 0, 0));
  CHECK(lo.tx == counters(26927, 137, 0, 0));

  // "17398010799 12748128 0 ..." is wider than the 10-wide column.
  const Link &eth0 = links[1];
  CHECK(eth0 == [] {
    Link l = make_link(2, "eth0", "00:1e:c9:b3:4a:10", 1500, "xenbr0", "up",
                       kUpFlags, 7);
    l.rx = counters(17398010799ULL, 12748128, 0, 0);
    l.tx = counters(427520641, 5772921, 0, 0);
    return l;
  }());
  CHECK(links[2].state == "down");
  CHECK(links[3].rx == counters(3641655380ULL, 62027099, 0, 0));
  CHECK(links[3].tx == counters(112697, 201, 0, 0));

  const Link &vif = links[4];
  CHECK(vif.name == "vif3.0");
  CHECK(vif.ifindex == 7);
  CHECK(vif.rx == counters(5123456789012ULL, 4294967296ULL, 3, 2));
  CHECK(vif.tx == counters(98765, 1234, 0, 4769830593730ULL));
  CHECK(links[5].name == "tap3.0");
  CHECK(links[5].state == "down");
  CHECK(links[5].line == 31);
}

TEST_CASE("ip -s -s link before 5.14: error rows are read, never stored",
          "[iplink]") {
  const auto single = parse_ok(read_data("iplink/centos7-s-link.txt"));
  const auto twice = parse_ok(read_data("iplink/centos7-s-s-link.txt"));
  CHECK_LINKS(without_lines(twice), without_lines(single));
  // vif3.0's error rows hold 11..15 and 21..25.
  CHECK(twice[4].rx.errors == 3);
  CHECK(twice[4].tx.errors == 0);
}

TEST_CASE("CRLF line ends and non-breaking spaces parse as the plain copy",
          "[iplink]") {
  const auto plain = parse_ok(read_data("iplink/centos7-s-link.txt"));
  const auto pasted = parse_ok(read_data("iplink/crlf-centos7-s-link.txt"));
  CHECK_LINKS(pasted, plain);
  CHECK(looks_like_ip_link(read_data("iplink/crlf-centos7-s-link.txt")));
}

TEST_CASE("old iproute2 (CentOS 5) without state: derived from the flags",
          "[iplink]") {
  const auto links = parse_ok(read_data("iplink/centos5-link.txt"));
  REQUIRE(links.size() == 7);
  std::vector<std::string> states;
  for (const Link &link : links)
    states.push_back(link.name + "=" + link.state);
  // UP and LOWER_UP -> up; no UP, or UP without carrier (tap1.0) -> down.
  CHECK(states == std::vector<std::string>{"lo=up", "peth0=up", "eth1=down",
                                           "sit0=down", "xenbr0=up",
                                           "vif1.0=up", "tap1.0=down"});
  CHECK(links[0].mtu == 16436);
  CHECK_FALSE(links[0].mac);
  CHECK(links[1].mac == "fe:ff:ff:ff:ff:ff");
  CHECK(links[1].flags ==
        std::vector<std::string>{"BROADCAST", "MULTICAST", "NOARP", "UP",
                                 "LOWER_UP"});
  CHECK_FALSE(links[3].mac); // link/sit 0.0.0.0
  CHECK_FALSE(links[4].master);
  CHECK(links[6].line == 13);
}

TEST_CASE("names with @peer, dots, dashes; link/none; altname", "[iplink]") {
  const auto links = parse_ok(read_data("iplink/names-and-link-types.txt"));
  REQUIRE(links.size() == 6);
  CHECK(links[0].name == "eth1.100");
  CHECK(links[0].master == "xenbr100");
  CHECK(links[1].name == "vif7.0");
  CHECK(links[1].ifindex == 12);
  CHECK(links[1].mtu == 9000);
  CHECK(links[2].name == "vif2.0");
  CHECK(links[2].flags ==
        std::vector<std::string>{"BROADCAST", "MULTICAST", "M-DOWN"});
  CHECK(links[3].name == "tun0");
  CHECK_FALSE(links[3].mac); // link/none
  CHECK(links[3].state == "unknown");
  CHECK(links[4].name == "vif7.0-emu");
  CHECK(links[4].mac == "fe:ff:ff:ff:ff:ff");
  CHECK(links[5].name == "xenbr100");
  CHECK(links[5].state == "lowerlayerdown");
  CHECK(links[5].line == 12);
}

TEST_CASE("ip -o -s link: stats rows inside one line", "[iplink]") {
  const auto links = parse_ok(read_data("iplink/ip-o-s-link.txt"));
  REQUIRE(links.size() == 2);
  CHECK(links[0].rx == counters(8220, 81, 0, 0));
  CHECK(links[0].tx == counters(5894, 35, 0, 1));
  CHECK(links[1].name == "vif2.0");
  CHECK(links[1].mac == "fe:ff:ff:ff:ff:ff");
  CHECK(links[1].rx == counters(7422, 53, 0, 0));
  CHECK(links[1].tx == counters(6104, 72, 0, 0));
  CHECK(links[1].line == 2);
}

TEST_CASE("columns are mapped by header word, not by position", "[iplink]") {
  // 5.3-5.13 printed `missed` in the old widths; a made-up order shows that
  // the words, not the positions, decide.
  const auto links = parse_ok(
      "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP\n"
      "    link/ether 4C:CC:6A:75:87:58 brd ff:ff:ff:ff:ff:ff\n"
      "    RX: bytes  packets  errors  dropped missed  mcast   \n"
      "    8848233056 8548168  1       2       3       4       \n"
      "    TX: packets dropped bytes errors\n"
      "    10 20 30 40\n");
  REQUIRE(links.size() == 1);
  CHECK(links[0].mac == "4c:cc:6a:75:87:58");
  CHECK(links[0].rx == counters(8848233056ULL, 8548168, 1, 2));
  CHECK(links[0].tx == counters(30, 10, 40, 20));
}

TEST_CASE("numeric -d detail rows are not taken for stats", "[iplink]") {
  // `ip -d -s link` of a CAN device (from a netdev thread): a numeric
  // detail row, and a mail-wrapped line at column 0, before the stats.
  const auto links = parse_ok(
      "5: can0: <NOARP,UP,LOWER_UP> mtu 16 qdisc pfifo_fast state UP mode DEFAULT group default qlen 10\n"
      "    link/can  promiscuity 0 minmtu 0 maxmtu 0\n"
      "    can state ERROR-ACTIVE restart-ms 0\n"
      "      re-started bus-errors arbit-lost error-warn error-pass bus-off\n"
      "      0          0          0          0          0          0\n"
      "numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535\n"
      "    RX: bytes  packets  errors  dropped overrun mcast\n"
      "    292        75       0       0       0       0\n"
      "    TX: bytes  packets  errors  dropped carrier collsns\n"
      "    0          0        0       0       0       0\n"
      "    altname can-bus-0\n");
  REQUIRE(links.size() == 1);
  CHECK(links[0].state == "up");
  CHECK_FALSE(links[0].mac);
  CHECK(links[0].rx == counters(292, 75, 0, 0));
  CHECK(links[0].tx == counters(0, 0, 0, 0));
}

TEST_CASE("empty output is no links; looks_like_ip_link tells formats apart",
          "[iplink]") {
  CHECK(parse_ok("").empty());
  CHECK(parse_ok("\n  \n").empty());

  for (const char *file : {"ip-link.txt", "ip-o-link.txt", "ip-s-link.txt",
                           "ip-s-s-link.txt", "ip-d-link.txt", "ip-addr.txt"})
    CHECK(looks_like_ip_link(read_data(std::string("samples/") + file)));
  CHECK(looks_like_ip_link(read_data("iplink/centos5-link.txt")));
  CHECK(looks_like_ip_link("\n\n1: lo: <LOOPBACK> mtu 65536\n"));
  for (const char *file : {"ip-br-link.txt", "ip-o-addr.txt", "ip-j-link.json",
                           "ifconfig.txt", "brctl-show.txt"})
    CHECK_FALSE(looks_like_ip_link(read_data(std::string("samples/") + file)));
  CHECK_FALSE(looks_like_ip_link(""));
  CHECK_FALSE(looks_like_ip_link("1: lo"));
}

// ---- errors ---------------------------------------------------------------

TEST_CASE("text that is not ip output fails at its first line", "[iplink]") {
  Error error = parse_error("hello world\n1: lo: <LOOPBACK> mtu 1\n", "x.txt");
  CHECK(error.str() ==
        "x.txt:1: expected \"N: NAME: <FLAGS> mtu N ...\" (ip link output), "
        "got \"hello world\"");

  error = parse_error("\n\nDevice \"vif9.9\" does not exist.\n");
  CHECK(error.line == 3);

  error = parse_error(read_data("samples/ip-j-link.json"));
  CHECK(error.line == 1);
  CHECK_THAT(error.message, Catch::Contains("JSON"));

  error = parse_error(read_data("samples/ifconfig.txt"));
  CHECK(error.line == 1);
}

TEST_CASE("a stats header without its row is a truncation error", "[iplink]") {
  Error error = parse_error(read_data("iplink/truncated-after-stats-header.txt"),
                            "cut.txt");
  CHECK(error.line == 11);
  CHECK_THAT(error.message, Catch::Contains("\"TX: bytes  packets") &&
                                Catch::Contains("truncated"));

  // Followed by the next record instead of numbers: same error, same line.
  error = parse_error("2: eth0: <UP> mtu 1500 state UP\n"
                      "    RX: bytes packets errors dropped missed mcast\n"
                      "3: eth1: <UP> mtu 1500 state UP\n");
  CHECK(error.line == 2);
  CHECK_THAT(error.message, Catch::Contains("truncated"));

  // And in -o form, where the line is the physical one.
  error = parse_error("2: eth0: <UP> mtu 1500 state UP\n"
                      "3: eth1: <UP> mtu 1500 state UP\\    RX: bytes packets\n");
  CHECK(error.line == 2);
}

TEST_CASE("a stats row with a non-number names its line", "[iplink]") {
  Error error =
      parse_error(read_data("iplink/non-number-stats-row.txt"), "bad.txt");
  CHECK(error.line == 10);
  CHECK_THAT(error.message, Catch::Contains("got \"12748l28\"") &&
                                Catch::Contains("(line 9)"));

  // `ip -h -s link`: units instead of raw counters.
  error = parse_error("2: eth0: <UP> mtu 1500 state UP\n"
                      "    RX: bytes  packets  errors  dropped overrun mcast\n"
                      "    6.04T      4.67G    0       0       0       67.7M\n");
  CHECK(error.line == 3);
  CHECK_THAT(error.message,
             Catch::Contains("\"6.04T\"") && Catch::Contains("without -h"));

  // A row with a number missing.
  error = parse_error("2: eth0: <UP> mtu 1500 state UP\n"
                      "    TX: bytes  packets  errors  dropped carrier collsns\n"
                      "    112697     201      0       0       0\n");
  CHECK(error.line == 3);
  CHECK_THAT(error.message, Catch::Contains("expected 6 counters") &&
                                Catch::Contains("got 5"));
}

TEST_CASE("malformed record lines are errors naming the line", "[iplink]") {
  const std::string good = "1: lo: <LOOPBACK,UP> mtu 65536 state UNKNOWN\n"
                           "    link/loopback 00:00:00:00:00:00\n";
  Error error = parse_error(good + "2: eth0: <BROADCAST,UP mtu 1500\n");
  CHECK(error.line == 3);
  CHECK_THAT(error.message, Catch::Contains("\">\""));

  error = parse_error(good + "2: eth0: <UP> mtu big state UP\n");
  CHECK(error.line == 3);
  CHECK_THAT(error.message, Catch::Contains("after \"mtu\", got \"big\""));

  error = parse_error(good + "2: eth0: <UP> mtu 1500 master\n");
  CHECK(error.line == 3);
  CHECK_THAT(error.message, Catch::Contains("\"master\""));

  error = parse_error(good + "2: eth0 flags=4163<UP>  mtu 1500\n");
  CHECK(error.line == 3);

  error = parse_error(good + "99999999999: eth0: <UP> mtu 1500\n");
  CHECK(error.line == 3);
  CHECK_THAT(error.message, Catch::Contains("interface index"));

  error = parse_error(good + "2: eth0: <UP> mtu 1500 state UP\n"
                             "    link/ether 00:16:3e:zz:01:10 brd ff:ff:ff:ff:ff:ff\n");
  CHECK(error.line == 4);
  CHECK_THAT(error.message,
             Catch::Contains("MAC after \"link/ether\", got \"00:16:3e:zz:01:10\""));
}

TEST_CASE("every truncation of the samples parses or fails cleanly", "[iplink]") {
  // Output cut anywhere (SSH drop, `head -c`): never a crash, and an error
  // always points into the text.
  for (const char *file : {"ip-s-s-link.txt", "ip-d-link.txt", "ip-o-link.txt",
                           "ip-addr.txt"}) {
    const std::string full = read_data(std::string("samples/") + file);
    const auto total_lines =
        static_cast<std::size_t>(std::count(full.begin(), full.end(), '\n')) + 1;
    for (std::size_t size = 0; size <= full.size(); size += 3) {
      auto links = parse_ip_link(full.substr(0, size), file);
      if (!links) {
        INFO(file << " cut at " << size << ": " << links.error().str());
        CHECK(links.error().line >= 1);
        CHECK(links.error().line <= total_lines);
      }
    }
  }
}
