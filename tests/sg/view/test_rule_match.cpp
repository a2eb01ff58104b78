// lib/sg/view/rule_match.cpp: options, set matches and VIFs in a rule's words.
#include <catch2/catch.hpp>

#include "rule_match.hpp"

using namespace vifwall::view_detail;

TEST_CASE("option_value: both negation spellings, first of several names", "[sg_view][rule_match]") {
  const Args prefix = {"!", "-s", "06:f8:c8:00:00:09", "-i", "vif7.0", "-j", "DROP"};
  auto source = option_value(prefix, {"-s", "--source"});
  REQUIRE(source);
  CHECK(source->value == "06:f8:c8:00:00:09");
  CHECK(source->negated);
  const Args infix = {"-s", "!", "6:f8:c8:0:0:9", "-i", "vif7.0", "-j", "DROP"}; // legacy ebtables
  auto old = option_value(infix, {"-s"});
  REQUIRE(old);
  CHECK(old->value == "6:f8:c8:0:0:9");
  CHECK(old->negated);
  auto in = option_value(infix, {"--in-interface", "-i"});
  REQUIRE(in);
  CHECK(in->value == "vif7.0");
  CHECK_FALSE(in->negated);
  CHECK_FALSE(option_value(infix, {"-o"}));
  auto last = option_value({"-j", "ACCEPT", "-i"}, {"-i"});
  REQUIRE(last);
  CHECK(last->value.empty());
}

TEST_CASE("set_match: name, direction, negation, the old --set", "[sg_view][rule_match]") {
  auto negated = set_match({"-m", "set", "!", "--match-set", "i-2-3-VM", "src", "-j", "DROP"});
  REQUIRE(negated);
  CHECK(negated->name == "i-2-3-VM");
  CHECK(negated->direction == "src");
  CHECK(negated->negated);
  auto infix = set_match({"-m", "set", "--match-set", "!", "s", "dst,dst"});
  REQUIRE(infix);
  CHECK(infix->name == "s");
  CHECK(infix->direction == "dst,dst");
  CHECK(infix->negated);
  auto old = set_match({"-m", "set", "--set", "s", "src"});
  REQUIRE(old);
  CHECK_FALSE(old->negated);
  CHECK_FALSE(set_match({"-s", "10.0.0.0/8", "-j", "ACCEPT"}));
}

TEST_CASE("target_of and vif_uses", "[sg_view][rule_match]") {
  CHECK(target_of({"-p", "tcp", "-j", "ACCEPT"}) == "ACCEPT");
  CHECK(target_of({"-jDROP"}) == "DROP");
  CHECK(target_of({"-p", "tcp"}).empty());

  auto uses = vif_uses({"-m", "physdev", "--physdev-in", "vif7.0", "--physdev-out", "!", "tap7.0",
                        "-i", "eth0", "-o", "vif8.1", "-j", "i-2-3-VM"});
  REQUIRE(uses.size() == 3); // eth0 is no VIF
  CHECK(uses[0].name == "vif7.0");
  CHECK(uses[0].in);
  CHECK(uses[1].name == "tap7.0");
  CHECK_FALSE(uses[1].in);
  CHECK(uses[2].name == "vif8.1");
  CHECK_FALSE(uses[2].in);
  auto arp = vif_uses({"-j", "i-2-3-VM", "--in-if", "vif7.0", "--out-if", "any"});
  REQUIRE(arp.size() == 1);
  CHECK(arp[0].in);
}

TEST_CASE("contains and add_unique", "[sg_view][rule_match]") {
  std::vector<std::string> list;
  add_unique(list, "a");
  add_unique(list, "b");
  add_unique(list, "a");
  CHECK(list == std::vector<std::string>{"a", "b"});
  CHECK(contains(list, "b"));
  CHECK_FALSE(contains(list, "c"));
}
