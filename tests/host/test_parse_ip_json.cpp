#include <catch2/catch.hpp>

#include <sstream>

#include "parse_ip_json.hpp"
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
