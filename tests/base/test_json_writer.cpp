#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "json_writer.hpp"

using namespace vifwall;

TEST_CASE("JsonWriter writes nested objects and arrays that parse back", "[json]") {
  JsonWriter json;
  json.begin_object();
  json.field("name", "web 1: \"front\"\n");
  json.field("count", std::uint64_t{18446744073709551615ULL});
  json.field("dom", std::int64_t{-1});
  json.field("ok", true);
  json.key("none");
  json.null();
  json.key("list");
  json.begin_array();
  json.value(1);
  json.begin_object();
  json.end_object();
  json.begin_array();
  json.end_array();
  json.end_array();
  json.field("maybe", std::optional<std::string>());
  json.end_object();
  const auto parsed = nlohmann::json::parse(json.str());
  CHECK(parsed["name"] == "web 1: \"front\"\n");
  CHECK(parsed["count"].get<std::uint64_t>() == 18446744073709551615ULL);
  CHECK(parsed["dom"] == -1);
  CHECK(parsed["none"].is_null());
  CHECK(parsed["list"].size() == 3);
  CHECK(parsed["maybe"].is_null());
  CHECK(json.str().back() == '\n');
}

TEST_CASE("json_quote escapes controls and replaces invalid UTF-8", "[json]") {
  CHECK(json_quote("a\tb\x01") == "\"a\\tb\\u0001\"");
  CHECK(json_quote("caf\xC3\xA9") == "\"caf\xC3\xA9\"");      // valid UTF-8 kept
  CHECK(json_quote("bad\xC3") == "\"bad\xEF\xBF\xBD\"");       // truncated sequence
  CHECK(json_quote("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""); // surrogate
  CHECK_NOTHROW(nlohmann::json::parse(json_quote("\xff\xfe mixed \x80")));
}

TEST_CASE("JsonWriter pretty-prints with two-space indentation", "[json]") {
  JsonWriter json(true);
  json.begin_object();
  json.key("vms");
  json.begin_array();
  json.value("a");
  json.end_array();
  json.end_object();
  CHECK(json.str() == "{\n  \"vms\": [\n    \"a\"\n  ]\n}\n");
}
