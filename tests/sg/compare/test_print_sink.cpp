// report::Printer's two sinks (lib/sg/compare/print_sink.cpp).
#include <catch2/catch.hpp>

#include "print_sink.hpp"

using vifwall::report::Printer;
using vifwall::report::Show;
using vifwall::report::TextForm;

namespace {

// One little report, walked once into whichever sink `p` has.
std::string walk(Printer p) {
  p.open_object();
  p.number(Show::json, "count", 2);
  p.open_array("items");
  for (const std::string name : {"a", ""}) {
    p.open_object();
    p.string(Show::any, "name", name, {"item ", ";"});
    p.string(Show::any, "label", name, {"[", "]", true});
    p.boolean(Show::any, "ok", name.empty(), {" ok=", ""});
    p.strings(Show::any, "words", {"x", "", "y"}, {" words=", ""});
    p.strings(Show::any, "none", {}, {" none=", ""});
    p.string(Show::text, "hidden", "TEXT-ONLY", {" "});
    p.string(Show::json, "raw", "JSON-ONLY", {" "});
    p.text("\n");
    p.close_object();
  }
  p.close_array();
  p.number(Show::any, "total", 42, {"total ", "\n"});
  p.close_object();
  return p.take();
}

} // namespace

TEST_CASE("report printer: text shows the text forms, skips empty values and JSON-only ones",
          "[sg_compare][print_sink]") {
  CHECK(walk(Printer::text()) == "item a;[a] ok=false words=x  y TEXT-ONLY\n"
                                 "[] ok=true words=x  y TEXT-ONLY\n"
                                 "total 42\n");
}

TEST_CASE("report printer: JSON has every key but the text-only ones, structure included",
          "[sg_compare][print_sink]") {
  CHECK(walk(Printer::json(false)) ==
        "{\"count\":2,\"items\":[{\"name\":\"a\",\"label\":\"a\",\"ok\":false,\"words\":[\"x\",\"\",\"y\"],"
        "\"none\":[],\"raw\":\"JSON-ONLY\"},{\"name\":\"\",\"label\":\"\",\"ok\":true,"
        "\"words\":[\"x\",\"\",\"y\"],\"none\":[],\"raw\":\"JSON-ONLY\"}],\"total\":42}\n");
  CHECK(walk(Printer::json(true)).rfind(
            "{\n  \"count\": 2,\n  \"items\": [\n    {\n      \"name\": \"a\",", 0) == 0);
}

TEST_CASE("report printer: str() is the output so far, take() hands it over", "[sg_compare][print_sink]") {
  Printer text = Printer::text();
  CHECK_FALSE(text.is_json());
  text.text("a");
  text.string(Show::any, "k", "b", {"-"});
  CHECK(text.str() == "a-b");
  CHECK(text.take() == "a-b");

  Printer json = Printer::json(false);
  CHECK(json.is_json());
  json.open_array("");
  json.text("ignored");
  json.string(Show::any, "", "v");
  json.close_array();
  CHECK(json.str() == "[\"v\"]\n");
  CHECK(json.take() == "[\"v\"]\n");
}
