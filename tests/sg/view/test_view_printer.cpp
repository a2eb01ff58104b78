// lib/sg/view/view_printer.cpp: the text and JSON printers that print_view
// drives, on walks written here.
#include <catch2/catch.hpp>

#include "view_fixtures.hpp"
#include "view_printer.hpp"

using namespace vifwall;
using namespace vifwall::test;
using Layout = TextLayout;

namespace {

// One small document: a form whose fields come out of its order, a list of
// objects (one hidden), a JSON-only field, a list that stays empty.
void walk(ViewPrinter &p) {
  p.open_object("", Layout::of_form("{name}: {ips}{set}\n{vifs}\n{none}\n"));
  p.field("set", "s1", " (set s1)"); // before its place
  p.field("name", "vm/1", "vm/1");
  p.field("id", 7, "");              // JSON only
  const std::vector<std::string> ips = {"10.0.0.1", "10.0.0.2"};
  p.field("ips", ips, "10.0.0.1, 10.0.0.2");
  p.open_array("vifs", Layout::list(", ", "none", "[", "]"));
  for (int i = 0; i < 3; ++i) {
    p.open_object("", i == 1 ? Layout::hidden() : Layout::of_form("{name}{dom}"));
    p.field("name", "vif" + std::to_string(i), "vif" + std::to_string(i));
    p.field("dom", i, i == 2 ? " (dom 2)" : "");
    p.close();
  }
  p.close();
  p.open_array("none", Layout::list(", ", "(nothing)"));
  p.close();
  p.close();
}

} // namespace

TEST_CASE("the text printer fills forms in their order, whatever the call order", "[sg_view][view_printer]") {
  TextViewPrinter text;
  walk(text);
  CHECK(text.str() == "vm/1: 10.0.0.1, 10.0.0.2 (set s1)\n[vif0, vif2 (dom 2)]\n(nothing)\n");
}

TEST_CASE("the JSON printer writes every field in call order", "[sg_view][view_printer]") {
  JsonViewPrinter json(false);
  walk(json);
  CHECK(json.str() == R"({"set":"s1","name":"vm/1","id":7,"ips":["10.0.0.1","10.0.0.2"],)"
                      R"("vifs":[{"name":"vif0","dom":0},{"name":"vif1","dom":1},{"name":"vif2","dom":2}],)"
                      R"("none":[]})"
                      "\n");
  JsonViewPrinter values(false);
  values.open_array("", Layout::hidden());
  values.field("", nullptr, "");
  values.field("", true, "");
  values.field("", std::int64_t{-3}, "");
  values.field("", std::uint64_t{18446744073709551615u}, "");
  values.field("", std::optional<std::string>{}, "");
  values.field("", std::optional<std::int64_t>{4}, "");
  values.field("", std::string_view("a\"b"), "");
  values.close();
  CHECK(values.str() == "[null,true,-3,18446744073709551615,null,4,\"a\\\"b\"]\n");
}

TEST_CASE("the text printer's audit: where each fact shown is in the JSON", "[sg_view][view_printer]") {
  TextViewPrinter text(true);
  walk(text);
  JsonViewPrinter json(false);
  walk(json);
  CHECK(text.facts() == std::vector<std::string>{"/name", "/ips", "/set", "/vifs/0/name", "/vifs/2/name",
                                                 "/vifs/2/dom", "/none"});
  CHECK(missing_in_json(text.facts(), json.str()).empty());
  CHECK(text.problems().empty());
  CHECK(text.shows("anything") == true); // the document: a list

  // A fact given to the text only (what separate renderers let happen) is caught.
  auto drifting = [](ViewPrinter &p, bool text_only_fact) {
    p.open_object("", Layout::of_form("{a}{b}\n"));
    p.field("a", "x", "x");
    if (text_only_fact)
      p.field("b", "y", " y");
    p.close();
  };
  TextViewPrinter drifted(true);
  drifting(drifted, true);
  JsonViewPrinter drifted_json(false);
  drifting(drifted_json, false);
  CHECK(drifted.str() == "x y\n");
  CHECK(missing_in_json(drifted.facts(), drifted_json.str()) == std::vector<std::string>{"/b"});

  // A layout naming a field its container does not have.
  TextViewPrinter typo(true);
  typo.open_object("", Layout::of_form("{name} {nmae}{inner}\n"));
  typo.open_object("inner", Layout::of_form("{x~/y}"));
  typo.field("x~/y", 1, "1");
  typo.close();
  typo.field("name", "n", "n");
  typo.close();
  CHECK(typo.str() == "n 1\n");
  CHECK(typo.problems() == std::vector<std::string>{"/: {nmae} names no field"});
  CHECK(typo.facts() == std::vector<std::string>{"/name", "/inner/x~0~1y"}); // RFC 6901 escapes
}

TEST_CASE("the text printer: shows(), lists and nesting", "[sg_view][view_printer]") {
  TextViewPrinter text;
  text.open_object("", Layout::of_form("{a}|{b}|{c}"));
  CHECK(text.shows("a"));
  CHECK_FALSE(text.shows("z"));
  CHECK_FALSE(text.shows("")); // no "{}" in the form
  // b comes before a: its text waits, and so does what it holds.
  text.open_array("b", Layout::list("+", "", "<", ">"));
  text.field("", "1", "1");
  text.field("", "", "");
  text.open_object("", Layout::of_form("{x}"));
  text.field("x", "2", "2");
  text.close();
  text.open_object("", Layout::hidden());
  CHECK_FALSE(text.shows("x"));
  text.open_object("deep", Layout::of_form("{x}"));
  CHECK_FALSE(text.shows("x")); // inside a hidden container
  text.close();
  text.close();
  text.close();
  text.field("a", "A", "A");
  text.open_object("z", Layout::of_form("never shown {q}"));
  text.close();
  text.close();
  CHECK(text.str() == "A|<1+2>|");
  CHECK(text.take() == "A|<1+2>|");
}
