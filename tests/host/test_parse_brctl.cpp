#include <catch2/catch.hpp>

#include "parse_brctl.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::read_data;
using vifwall::test::read_source;

using Ports = std::vector<std::string>;

TEST_CASE("parse_brctl_show reads the seed's copy with its tabs lost", "[brctl]") {
  auto bridges = parse_brctl_show(read_source("examples/xen6/brctl-show"), "brctl-show");
  REQUIRE(bridges);
  REQUIRE(bridges->size() == 3);
  CHECK((*bridges)[0] == Bridge{"xapi0", "8000.feffffffffff", false,
                                Ports{"vif0.0", "vif2.0", "vif4.0", "vif6.1"}});
  CHECK((*bridges)[1].name == "xenbr0");
  CHECK((*bridges)[1].ports ==
        Ports{"eth0", "vif2.1", "vif2.2", "vif4.1", "vif4.2", "vif4.3", "vif6.0", "vif7.0"});
  CHECK((*bridges)[2] == Bridge{"xenbr1", "8000.d4ae52bce652", false, Ports{"eth1"}});
}

TEST_CASE("parse_brctl_show reads real output with tabs and a port-less bridge", "[brctl]") {
  auto bridges = parse_brctl_show(read_data("samples/brctl-show.txt"), "brctl-show.txt");
  REQUIRE(bridges);
  REQUIRE(bridges->size() == 3);
  CHECK((*bridges)[0] == Bridge{"xapi1", "8000.000000000000", false, Ports{}});
  CHECK((*bridges)[1] == Bridge{"xenbr-longname1", "8000.feffffffffff", false, Ports{"vif12.0"}});
  CHECK((*bridges)[2].ports == Ports{"eth0", "tap5.0", "vif2.0", "vif2.1", "vif4.0"});

  auto one = parse_brctl_show(read_data("samples/brctl-show-xapi1.txt"), "x");
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK(one->front().ports.empty());
}

TEST_CASE("parse_brctl_show survives CRLF, NBSP, a wrapped header and stderr lines", "[brctl]") {
  const std::string text =
      "bridge name\xC2\xA0" "bridge id STP enabled\r\n"
      "interfaces\r\n"
      "bridge nosuch does not exist!\r\n"
      "xenbr0          8000.feffffffffff       no              vif0.0\r\n"
      "                                                        peth0\r\n"
      "xenbr1 8000.d4ae52bce652 yes\r\n";
  auto bridges = parse_brctl_show(text, "pasted");
  REQUIRE(bridges);
  REQUIRE(bridges->size() == 2);
  CHECK((*bridges)[0].ports == Ports{"vif0.0", "peth0"});
  CHECK((*bridges)[1].stp == true);
  CHECK((*bridges)[1].ports.empty());
}

TEST_CASE("parse_brctl_show reports bad input with its line", "[brctl]") {
  auto not_brctl = parse_brctl_show("1: lo: <LOOPBACK,UP> mtu 65536\n", "links.txt");
  REQUIRE_FALSE(not_brctl);
  CHECK(not_brctl.error().str().rfind("links.txt:1: expected the `brctl show` header", 0) == 0);

  auto bad_stp = parse_brctl_show("bridge name bridge id STP enabled interfaces\nxenbr0 8000.fe maybe eth0\n", "b");
  REQUIRE_FALSE(bad_stp);
  CHECK(bad_stp.error().line == 2);
  CHECK(bad_stp.error().message.find("STP") != std::string::npos);

  auto lone = parse_brctl_show("bridge name bridge id STP enabled interfaces\nvif1.0\n", "b");
  REQUIRE_FALSE(lone);
  CHECK(lone.error().line == 2);

  auto only_error = parse_brctl_show(read_data("samples/brctl-show-nosuchbr.txt"), "err");
  REQUIRE_FALSE(only_error);
  CHECK(only_error.error().str() ==
        "err:1: expected the `brctl show` header, got only the error \"bridge nosuchbr does not exist!\"");

  auto empty = parse_brctl_show("", "empty");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("parse_bridge_link maps ports to their bridge and drops @peer", "[brctl]") {
  for (auto file : {"samples/bridge-link-show.txt", "samples/bridge-d-link-show.txt"}) {
    auto text = read_data(file);
    CHECK(looks_like_bridge_link(text));
    CHECK_FALSE(looks_like_brctl_show(text));
    auto bridges = parse_bridge_link(text, file);
    REQUIRE(bridges);
    REQUIRE(bridges->size() == 2);
    CHECK((*bridges)[0] == Bridge{"xenbr0", "", std::nullopt,
                                  Ports{"eth0", "vif2.0", "vif2.1", "vif4.0", "tap5.0"}});
    CHECK((*bridges)[1].ports == Ports{"vif12.0"});
  }
  auto bad = parse_bridge_link("3: eth0: <UP> mtu 1500 master xenbr0\nnonsense\n", "bl");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 2);
}
