#include <catch2/catch.hpp>

#include <sstream>

#include "json_pull.hpp"
#include "parse_ip_json.hpp"
#include "parse_ip_json_internal.hpp"
#include "parse_ip_link.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::describe_links;
using vifwall::test::read_data;

namespace {


#define CHECK_LINKS(got, want)                                                 \
  do {                                                                         \
    CHECK(describe_links(got) == describe_links(want));                                        \
    CHECK((got) == (want));                                                    \
  } while (false)

std::vector<Link> json_sample(const std::string &file) {
  auto links = parse_ip_link_json(read_data("samples/" + file), file);
  if (!links)
    FAIL(links.error().str());
  return *links;
}

// The text parser's view of the same host, with line numbers dropped (JSON
// has none: Link::line is 0).
std::vector<Link> text_sample(const std::string &file) {
  auto links = parse_ip_link(read_data("samples/" + file), file);
  if (!links)
    FAIL(links.error().str());
  for (Link &link : *links)
    link.line = 0;
  return *links;
}

Error json_error(const std::string &text, const std::string &source = "ip.json") {
  auto links = parse_ip_link_json(text, source);
  REQUIRE_FALSE(links.has_value());
  return links.error();
}

Counters counters(std::uint64_t bytes, std::uint64_t packets,
                  std::uint64_t errors, std::uint64_t dropped) {
  Counters c;
  c.bytes = bytes;
  c.packets = packets;
  c.errors = errors;
  c.dropped = dropped;
  return c;
}

} // namespace

// ---- the real samples: JSON and text agree --------------------------------

TEST_CASE("ip -j link, ip link and ip -o link describe the same host",
          "[ipjson]") {
  const auto json = json_sample("ip-j-link.json");
  const auto text = text_sample("ip-link.txt");
  const auto oneline = text_sample("ip-o-link.txt");
  REQUIRE(json.size() == 11);
  for (std::size_t i = 0; i < json.size(); ++i) {
    INFO(json[i].name);
    CHECK(json[i].name == text[i].name);
    CHECK(json[i].name == oneline[i].name);
    CHECK(json[i].master == text[i].master);
    CHECK(json[i].master == oneline[i].master);
    CHECK(json[i].mac == text[i].mac);
    CHECK(json[i].mac == oneline[i].mac);
    CHECK(json[i].mtu == text[i].mtu);
    CHECK(json[i].mtu == oneline[i].mtu);
    CHECK(json[i].state == text[i].state);
    CHECK(json[i].state == oneline[i].state);
  }
  // And every other field too.
  CHECK_LINKS(json, text);
  CHECK_LINKS(json, oneline);
}

TEST_CASE("ip -j link: golden values of the sample", "[ipjson]") {
  const auto links = json_sample("ip-j-link.json");
  REQUIRE(links.size() == 11);
  CHECK(links[0].name == "lo");
  CHECK_FALSE(links[0].mac); // link_type loopback: no MAC, as in text
  CHECK(links[0].state == "unknown");
  CHECK(links[0].mtu == 65536);
  CHECK(links[2].name == "eth0"); // JSON has no "@if2"
  CHECK(links[2].master == "xenbr0");
  CHECK(links[2].mac == "00:16:3e:5a:01:10");
  CHECK(links[6].name == "vif2.0");
  CHECK(links[6].ifindex == 7);
  CHECK(links[6].flags == std::vector<std::string>{"BROADCAST", "MULTICAST",
                                                   "PROMISC", "UP", "LOWER_UP"});
  CHECK(links[9].master == "xenbr-longname1");
  CHECK(links[10].name == "tap5.0");
  CHECK(links[10].state == "down");
  CHECK_FALSE(links[4].master);
  CHECK_FALSE(links[4].rx.bytes); // no -s
  CHECK(links[4].line == 0);
}

TEST_CASE("ip -j -s link: stats64 counters equal ip -s link", "[ipjson]") {
  const auto links = json_sample("ip-j-s-link.json");
  REQUIRE(links.size() == 11);
  CHECK(links[6].rx == counters(7422, 53, 0, 0));
  CHECK(links[6].tx == counters(6104, 72, 0, 0));
  CHECK(links[1].rx == counters(8220, 81, 0, 0));
  CHECK(links[1].tx == counters(5894, 35, 0, 1));
  CHECK_LINKS(links, text_sample("ip-s-link.txt"));
}

TEST_CASE("ip -j -s -s link: extra error counters do not leak", "[ipjson]") {
  const auto links = json_sample("ip-j-s-s-link-xenbr0.json");
  REQUIRE(links.size() == 1);
  // tx has carrier_changes 2 and *_errors 0; errors stays 0.
  CHECK(links[0].tx == counters(5894, 35, 0, 1));
  const auto text = text_sample("ip-s-s-link.txt");
  CHECK_LINKS(links, std::vector<Link>{text[1]});
}

TEST_CASE("ip -j -p -d link dev vif2.0: pretty-printed, with linkinfo",
          "[ipjson]") {
  const auto links = json_sample("ip-j-p-d-link-vif2.0.json");
  const auto text = text_sample("ip-link.txt");
  CHECK_LINKS(links, std::vector<Link>{text[6]});
  // The same with CRLF line ends.
  std::string crlf;
  for (char c : read_data("samples/ip-j-p-d-link-vif2.0.json")) {
    if (c == '\n')
      crlf += '\r';
    crlf += c;
  }
  auto again = parse_ip_link_json(crlf, "crlf.json");
  REQUIRE(again);
  CHECK_LINKS(*again, links);
}

TEST_CASE("ip -j addr: addr_info is skipped", "[ipjson]") {
  CHECK_LINKS(json_sample("ip-j-addr.json"), text_sample("ip-addr.txt"));
}

// ---- optional and odd fields ----------------------------------------------

TEST_CASE("null or missing keys give nullopt", "[ipjson]") {
  auto links = parse_ip_link_json(
      R"([{"ifname":"vif1.0","ifindex":null,"mtu":null,"master":null,)"
      R"("operstate":null,"flags":null,"link_type":"ether","address":null,)"
      R"("stats64":null},)"
      R"( {"ifname":"vif1.1","stats64":{"rx":{"bytes":5},"tx":null}}])",
      "n.json");
  REQUIRE(links);
  REQUIRE(links->size() == 2);
  Link expected;
  expected.name = "vif1.0";
  CHECK_LINKS(std::vector<Link>{(*links)[0]}, std::vector<Link>{expected});
  CHECK((*links)[1].rx.bytes == 5);
  CHECK_FALSE((*links)[1].rx.packets);
  CHECK_FALSE((*links)[1].tx.bytes);
  CHECK((*links)[1].state.empty());
}

TEST_CASE("address is a MAC only for link_type ether; stats without 64",
          "[ipjson]") {
  auto links = parse_ip_link_json(
      R"([{"ifname":"tun0","link_type":"none"},)"
      R"( {"ifname":"gre0","link_type":"gre","address":"0.0.0.0"},)"
      R"( {"ifname":"eth0","link_type":"ether","address":"00:1E:C9:B3:4A:10",)"
      R"(  "operstate":"LOWERLAYERDOWN","flags":[],)"
      R"(  "stats":{"rx":{"bytes":4294967296,"packets":2,"errors":3,"dropped":4},)"
      R"(           "tx":{"bytes":18446744073709551615,"packets":0,"errors":0,"dropped":0}}}])",
      "t.json");
  REQUIRE(links);
  REQUIRE(links->size() == 3);
  CHECK_FALSE((*links)[0].mac);
  CHECK_FALSE((*links)[1].mac);
  CHECK((*links)[2].mac == "00:1e:c9:b3:4a:10");
  CHECK((*links)[2].state == "lowerlayerdown");
  CHECK((*links)[2].flags.empty());
  CHECK((*links)[2].rx == counters(4294967296ULL, 2, 3, 4));
  CHECK((*links)[2].tx.bytes == 18446744073709551615ULL);
}

TEST_CASE("an empty array is no links", "[ipjson]") {
  auto links = parse_ip_link_json("[]\n", "e.json");
  REQUIRE(links);
  CHECK(links->empty());
}

// ---- errors ---------------------------------------------------------------

TEST_CASE("wrong types name the source and the element", "[ipjson]") {
  Error error = json_error(
      R"([{"ifname":"lo","mtu":65536},{"ifname":"vif2.0","mtu":"1500"}])",
      "ip-j.json");
  CHECK(error.line == 0);
  CHECK(error.str() == "ip-j.json: element 1 (\"vif2.0\"): expected \"mtu\" "
                       "to be an integer from 0 to 4294967295, got string "
                       "\"1500\"");

  error = json_error(R"([{"ifname":"a","ifindex":-3}])");
  CHECK_THAT(error.message, Catch::StartsWith("element 0 (\"a\"): expected "
                                              "\"ifindex\"") &&
                                Catch::Contains("got number -3"));

  error = json_error(R"([{"ifname":"a","ifindex":2.5}])");
  CHECK_THAT(error.message, Catch::Contains("\"ifindex\""));

  error = json_error(R"([{"ifname":"a","mtu":4294967296}])");
  CHECK_THAT(error.message, Catch::Contains("\"mtu\""));

  error = json_error(R"([{"ifname":"a"},{"ifname":"b"},)"
                     R"({"ifname":"c","flags":["UP",1]}])");
  CHECK_THAT(error.message, Catch::StartsWith("element 2 (\"c\"): expected "
                                              "\"flags\" to be an array of strings"));

  error = json_error(R"([{"ifname":"a","master":7}])");
  CHECK_THAT(error.message, Catch::Contains("\"master\" to be a string"));

  error = json_error(R"([{"ifname":"a","link_type":"ether","address":"zz"}])");
  CHECK_THAT(error.message, Catch::Contains("\"address\" to be a MAC") &&
                                Catch::Contains("\"zz\""));

  error = json_error(
      R"([{"ifname":"a","stats64":{"rx":{"bytes":-1}}}])");
  CHECK_THAT(error.message, Catch::Contains("\"bytes\""));

  error = json_error(R"([{"ifname":"a","stats64":{"rx":[1,2]}}])");
  CHECK_THAT(error.message, Catch::Contains("\"rx\" to be an object"));

  error = json_error(R"([{"ifname":"a","stats":"none"}])");
  CHECK_THAT(error.message, Catch::Contains("\"stats\" to be an object"));

  error = json_error(R"([{"ifname":"a"}, 5])");
  CHECK(error.message == "element 1: expected an object (one link), got number 5");

  error = json_error(R"([{"ifindex":3,"mtu":1500}])");
  CHECK_THAT(error.message, Catch::StartsWith("element 0: expected \"ifname\""));

  error = json_error(R"([{"ifname":42}])");
  CHECK_THAT(error.message, Catch::Contains("\"ifname\" to be a string"));
}

TEST_CASE("a truncated array is reported as truncated", "[ipjson]") {
  const std::string full = read_data("samples/ip-j-link.json");
  Error error = json_error(full.substr(0, full.size() / 2), "cut.json");
  CHECK(error.line == 1);
  CHECK_THAT(error.message, Catch::Contains("truncated"));

  // Pretty-printed and cut after an element: the line is the last one.
  const std::string pretty = read_data("samples/ip-j-p-d-link-vif2.0.json");
  const std::string cut = pretty.substr(0, pretty.find("\"linkinfo\""));
  error = json_error(cut, "cut.json");
  CHECK_THAT(error.message, Catch::Contains("truncated"));
  CHECK(error.line == 21);

  error = json_error("[{\"ifname\":\"lo\"},\n");
  CHECK_THAT(error.message, Catch::Contains("truncated"));
}

TEST_CASE("not JSON, not an array, or empty: clear errors", "[ipjson]") {
  Error error = json_error("[{\"ifname\": lo}]", "bad.json");
  CHECK(error.line == 1);
  CHECK_THAT(error.message, Catch::StartsWith("expected valid JSON") &&
                                !Catch::Contains("truncated"));

  error = json_error("[\n {\"ifname\": \"lo\"}\n ,, ]\n");
  CHECK(error.line == 3);

  error = json_error(R"({"ifname":"lo"})");
  CHECK(error.message ==
        "expected a JSON array of links (ip -j link output), got object");

  error = json_error(read_data("samples/ip-link.txt"));
  CHECK(error.line == 1);

  error = json_error("  \n");
  CHECK_THAT(error.message, Catch::Contains("empty input"));
}

TEST_CASE("looks_like_json_array", "[ipjson]") {
  CHECK(looks_like_json_array(read_data("samples/ip-j-link.json")));
  CHECK(looks_like_json_array(read_data("samples/ip-j-p-d-link-vif2.0.json")));
  CHECK(looks_like_json_array("\r\n  []"));
  CHECK_FALSE(looks_like_json_array(read_data("samples/ip-link.txt")));
  CHECK_FALSE(looks_like_json_array("{}"));
  CHECK_FALSE(looks_like_json_array(""));
}

TEST_CASE("every cut of a JSON sample is an error, never a crash", "[ipjson]") {
  for (const char *file : {"ip-j-s-link.json", "ip-j-p-d-link-vif2.0.json"}) {
    const std::string full = read_data(std::string("samples/") + file);
    const std::size_t end = full.rfind(']');
    for (std::size_t size = 1; size <= end; size += 5) {
      auto links = parse_ip_link_json(full.substr(0, size), file);
      INFO(file << " cut at " << size);
      REQUIRE_FALSE(links);
      // Even a cut inside a string, number or literal ("fal") is at the end
      // of the input, so it is reported as truncation, not as bad JSON.
      CHECK_THAT(links.error().message, Catch::Contains("truncated"));
    }
  }
}

TEST_CASE("JSON errors quote the input with control characters visible", "[ipjson]") {
  // nlohmann escapes control characters in its "last read" except DEL; our
  // message must carry none of them, whatever the input.
  Error error = json_error("\n[{\"ifname\": \"eth0\"}, \x7f]", "bad.json");
  CHECK(error.line == 2);
  CHECK_THAT(error.message, Catch::StartsWith("expected valid JSON (ip -j link output): ") &&
                                Catch::Contains("\\x7f"));
  for (char c : error.message)
    CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));

  // A long bad token (nlohmann's "last read" holds all of it) is cut.
  error = json_error("[\"" + std::string(5000, 'x') + "\x01\"]");
  CHECK_THAT(error.message, Catch::StartsWith("expected valid JSON"));
  CHECK(error.message.size() < 300);
  CHECK_THAT(error.message, Catch::EndsWith("..."));
}

// ---- the fast path (JsonPull) against the DOM ------------------------------
//
// parse_ip_link_json reads with JsonPull and falls back on nlohmann's DOM for
// whatever the fast path does not take; the two must never disagree.

namespace {

// Both ways, as one comparable string: the links, or the error.
std::string outcome(const Result<std::vector<Link>> &links) {
  if (!links)
    return "error: " + links.error().str();
  return describe_links(*links);
}

void check_same_as_dom(const std::string &text) {
  INFO("input: " << text.substr(0, 300));
  const auto fast = parse_ip_link_json(text, "x.json");
  const auto dom = parse_ip_link_json_dom(text, "x.json");
  CHECK(outcome(fast) == outcome(dom));
  if (fast && dom)
    CHECK(*fast == *dom);
}

// The fast path's own answer: taken (links) or left to the DOM (nullopt).
std::optional<std::vector<Link>> fast_only(const std::string &text) {
  return read_ip_links_fast(text);
}

std::string one_name(const std::string &json_string) {
  auto links = parse_ip_link_json("[{\"ifname\":" + json_string + "}]", "n.json");
  REQUIRE(links);
  REQUIRE(links->size() == 1);
  return (*links)[0].name;
}

} // namespace

TEST_CASE("the fast path takes the samples and agrees with the DOM", "[ipjson]") {
  for (const char *file : {"ip-j-link.json", "ip-j-s-link.json", "ip-j-s-s-link-xenbr0.json",
                           "ip-j-p-d-link-vif2.0.json", "ip-j-addr.json"}) {
    INFO(file);
    const std::string text = read_data(std::string("samples/") + file);
    const auto fast = fast_only(text);
    REQUIRE(fast); // no fallback on what ip prints
    const auto dom = parse_ip_link_json_dom(text, file);
    REQUIRE(dom);
    CHECK_LINKS(*fast, *dom);
  }
}

TEST_CASE("string escapes, \\u and surrogate pairs", "[ipjson]") {
  CHECK(one_name(R"("a\"b\\c\/d")") == "a\"b\\c/d");
  CHECK(one_name(R"("\b\f\n\r\t")") == "\b\f\n\r\t");
  CHECK(one_name(R"("\u0041\u00e9\u20AC")") == "A\xc3\xa9\xe2\x82\xac");
  CHECK(one_name(R"("x\ud83d\ude00y")") == "x\xf0\x9f\x98\x80y"); // U+1F600
  CHECK(one_name(R"("\uDBFF\uDFFF")") == "\xf4\x8f\xbf\xbf");     // U+10FFFF
  CHECK(one_name("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"") ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(one_name(R"("a\u0000b")") == std::string("a\0b", 3));
  // Escapes in keys count as the key they spell.
  auto links = parse_ip_link_json(R"([{"if\u006eame":"eth0","mt\u0075":9000}])", "k.json");
  REQUIRE(links);
  CHECK((*links)[0].name == "eth0");
  CHECK((*links)[0].mtu == 9000);

  for (const char *bad : {R"("\ud800")", R"("\ud800x")", R"("\ud800\u0041")", R"("\udc00")",
                          R"("\ud83d\ud83d")", R"("\x41")", R"("\u12G4")", R"("\U0041")",
                          "\"a\tb\"", "\"a\nb\"", "\"\x01\"", "\"\xc3\"", "\"\xc0\xaf\"",
                          "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
                          "\"\xff\"", "\"\x80\""}) {
    const std::string text = std::string("[{\"ifname\":") + bad + "}]";
    INFO(text);
    CHECK_FALSE(fast_only(text));
    const Error error = json_error(text);
    CHECK(error.line == 1);
    CHECK_THAT(error.message, Catch::StartsWith("expected valid JSON"));
    check_same_as_dom(text);
  }
}

TEST_CASE("unknown keys are skipped whatever they hold", "[ipjson]") {
  const std::string text =
      R"([{"linkinfo":{"info_kind":"bridge","info_data":{"a":[1,-2,3.25,0,-0.5,true,false,null,)"
      R"("s\"}]",[],{},[[{"x":[{}]}]]],"ifname":"not this one"},"b":{}},"ifname":"br0",)"
      R"("flags":[],"z":[ "ifname" , {"ifname":"nor this"} ] , "stats":{"rx":{"x":{"bytes":1},)"
      R"("bytes":7}}}])";
  auto fast = fast_only(text);
  REQUIRE(fast);
  REQUIRE(fast->size() == 1);
  CHECK((*fast)[0].name == "br0");
  CHECK((*fast)[0].rx.bytes == 7);
  check_same_as_dom(text);

  // Deep nesting is no recursion: 100,000 levels in a skipped value.
  const std::string deep = R"([{"ifname":"d","x":)" + std::string(100000, '[') +
                           std::string(100000, ']') + "}]";
  auto links = fast_only(deep);
  REQUIRE(links);
  CHECK((*links)[0].name == "d");
  const std::string unclosed = R"([{"ifname":"d","x":)" + std::string(100000, '[') + "}]";
  CHECK_FALSE(fast_only(unclosed));
  CHECK_THAT(json_error(unclosed).message, Catch::StartsWith("expected valid JSON"));
}

TEST_CASE("numbers: what is read, what is skipped, what is refused", "[ipjson]") {
  auto links = fast_only(R"([{"ifname":"a","ifindex":2147483647,"mtu":4294967295,)"
                         R"("stats64":{"tx":{"bytes":18446744073709551615,"packets":0}}}])");
  REQUIRE(links);
  CHECK((*links)[0].ifindex == 2147483647);
  CHECK((*links)[0].mtu == 4294967295U);
  CHECK((*links)[0].tx.bytes == 18446744073709551615ULL);
  CHECK((*links)[0].tx.packets == 0);

  // Valid JSON the fast path leaves to the DOM (same answer either way).
  for (const char *valid : {R"("x":1e3)", R"("x":-1E-2)", R"("x":12345678901234567890123)",
                            R"("ifindex":1.0)", R"("mtu":-0)", R"("mtu":1e2)",
                            R"("ifindex":2147483648)", R"("mtu":18446744073709551616)",
                            R"("x":1e999)", R"("x":-1e999)"}) {
    const std::string text = std::string(R"([{"ifname":"a",)") + valid + "}]";
    INFO(text);
    CHECK_FALSE(fast_only(text));
    check_same_as_dom(text);
  }
  // Not JSON at all.
  for (const char *bad : {"01", "-", "1.", ".5", "+1", "-01", "1.e3", "0x10", "1e", "Infinity",
                          "NaN", "--1"}) {
    const std::string text = std::string(R"([{"ifname":"a","x":)") + bad + "}]";
    INFO(text);
    CHECK_FALSE(fast_only(text));
    CHECK_FALSE(parse_ip_link_json(text, "n.json"));
    check_same_as_dom(text);
  }
}

TEST_CASE("the fast path refuses what is not JSON or not links", "[ipjson]") {
  for (const char *text :
       {"[", "[{", "[{\"ifname\"", "[{\"ifname\":", "[{\"ifname\":\"a", "[{\"ifname\":\"a\\u12",
        "[{\"ifname\":\"a\"", "[{\"ifname\":\"a\"}", "[{\"ifname\":\"a\"},", "[{\"ifname\":\"a\"}]]",
        "[{\"ifname\":\"a\"}] x", "[{\"ifname\":\"a\",}]", "[,{\"ifname\":\"a\"}]",
        "[{\"ifname\":\"a\"},]", "[{\"ifname\" \"a\"}]", "[{\"ifname\":\"a\" \"mtu\":1}]",
        "[{'ifname':'a'}]", "[{\"ifname\":\"a\",\"x\":tru}]", "[{\"ifname\":\"a\",\"x\":nul}]",
        "[{\"ifname\":\"a\",\"x\":True}]", "[{\"ifname\":\"a\"}]\x0c", "[{\"ifname\":\"a\"}]\x7f",
        "\xef\xbb\xbf[{\"ifname\":\"a\"}]", "[{\"ifname\":\"a\"}]/*c*/", "[1]", "[null]",
        "[[]]", "{}", "\"x\"", "[{}]", "[{\"ifname\":\"\"}]", "[{\"ifname\":null}]",
        "[{\"ifname\":\"a\",\"flags\":[\"UP\",1]}]", "[{\"ifname\":\"a\",\"flags\":\"UP\"}]",
        "[{\"ifname\":\"a\",\"stats64\":[]}]", "[{\"ifname\":\"a\",\"stats64\":{\"rx\":1}}]",
        "[{\"ifname\":\"a\",\"link_type\":\"ether\",\"address\":\"zz\"}]",
        "[{\"ifname\":\"a\",\"master\":7}]", "[{\"ifname\":\"a\",\"address\":[]}]"}) {
    INFO(text);
    CHECK_FALSE(fast_only(text));
    check_same_as_dom(text);
  }
  // Blanks are the four JSON ones, anywhere between tokens.
  auto links = fast_only(" \t\r\n[ \n{ \"ifname\" :\t\"a\" , \"flags\" : [ \"UP\" ] } \r\n] \n");
  REQUIRE(links);
  CHECK((*links)[0].flags == std::vector<std::string>{"UP"});
}

TEST_CASE("a key the model uses given twice: the DOM decides", "[ipjson]") {
  for (const char *text :
       {R"([{"ifname":"a","ifname":"b"}])", R"([{"ifname":"a","mtu":"x","mtu":1500}])",
        R"([{"ifname":"a","stats64":{"rx":{"bytes":1,"bytes":2}}}])",
        R"([{"ifname":"a","stats64":{"rx":{"bytes":1},"rx":{"bytes":2}}}])",
        R"([{"ifname":"a","stats64":null,"stats":{"rx":{"bytes":3}}}])",
        R"([{"ifname":"a","stats64":{"rx":{"bytes":4}},"stats":{"rx":{"bytes":3}}}])",
        R"([{"ifname":"a","stats64":{"rx":{"bytes":4}},"stats":"bad"}])"}) {
    INFO(text);
    check_same_as_dom(text);
  }
  CHECK_FALSE(fast_only(R"([{"ifname":"a","ifname":"b"}])"));
  // Unknown keys may repeat.
  CHECK(fast_only(R"([{"ifname":"a","x":1,"x":2}])"));
}

TEST_CASE("every one-byte change of a sample: fast path and DOM agree", "[ipjson]") {
  const std::string sample = read_data("samples/ip-j-s-s-link-xenbr0.json");
  const std::string replacements = std::string("\"\\{}[],:0-.e1 nt\x01\x7f", 18) + "\xc3\xff";
  for (std::size_t i = 0; i < sample.size(); ++i) {
    for (const char c : replacements) {
      std::string text = sample;
      text[i] = c;
      check_same_as_dom(text);
    }
    std::string cut = sample;
    cut.erase(i, 1);
    check_same_as_dom(cut);
  }
}

TEST_CASE("JsonPull reads what it is asked", "[ipjson]") {
  JsonPull in(R"( [ "a\nb" , 42 , null , {"k": [true, false, -1.5]} ] )");
  bool more = false;
  std::string_view s;
  std::uint64_t n = 0;
  REQUIRE(in.consume('['));
  REQUIRE(in.next_member(']', true, more));
  REQUIRE(more);
  REQUIRE(in.read_string(s));
  CHECK(s == "a\nb");
  REQUIRE(in.next_member(']', false, more));
  REQUIRE(in.read_unsigned(n));
  CHECK(n == 42);
  REQUIRE(in.next_member(']', false, more));
  CHECK_FALSE(in.read_string(s)); // null is no string, and is not consumed
  REQUIRE(in.read_null());
  REQUIRE(in.next_member(']', false, more));
  REQUIRE(in.skip_value());
  REQUIRE(in.next_member(']', false, more));
  CHECK_FALSE(more);
  CHECK(in.at_end());

  JsonPull nul(std::string_view("\0", 1));
  CHECK(nul.peek() == '\0');
  CHECK_FALSE(nul.at_end());
}

TEST_CASE("an empty flag is refused, by the fast path and the DOM path alike", "[ip_json]") {
  const std::string text = R"([{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","","UP"],"mtu":65536}])";
  auto parsed = parse_ip_link_json(text, "ip-j.json");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().str().find("ip-j.json") != std::string::npos);
  CHECK(parsed.error().str().find("flag names (none empty)") != std::string::npos);
}
