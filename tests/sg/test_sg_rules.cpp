#include <catch2/catch.hpp>

#include <string>

#include "base64.hpp"
#include "sg_rules.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::read_data;

namespace {

SgRule rule(Direction direction, std::string protocol, int start, int end,
            std::vector<std::string> cidrs) {
  return SgRule{direction, std::move(protocol), start, end, std::move(cidrs)};
}

const auto I = Direction::ingress;
const auto E = Direction::egress;

// The error of parse_rule_string(text), which must fail.
Error rule_string_error(const std::string &text) {
  auto result = parse_rule_string(text, "rules");
  REQUIRE_FALSE(result);
  return result.error();
}

Error rules_file_error(const std::string &text) {
  auto result = parse_rules_file(text, "rules.txt");
  REQUIRE_FALSE(result);
  return result.error();
}

const std::vector<SgRule> kFullRules = {
    rule(I, "tcp", 8080, 8090, {"192.168.7.0/24", "10.1.0.0/16"}),
    rule(I, "tcp", 22, 22, {"10.0.0.5/32", "0.0.0.0/0"}),
    rule(I, "udp", 0, 65535, {"10.2.0.0/16"}),
    rule(I, "icmp", 8, 0, {"0.0.0.0/0"}),
    rule(I, "47", 0, 0, {"10.0.0.0/8"}),
    rule(I, "all", 0, 0, {"0.0.0.0/0"}),
    rule(E, "udp", 53, 53, {"0.0.0.0/0"}),
    rule(E, "tcp", 443, 443, {"203.0.113.0/24", "2001:db8::/32"}),
};

} // namespace

TEST_CASE("parse_rule_string reads the example of cloudstack-sg.md", "[sgrules]") {
  auto rules = parse_rule_string(read_data("sg/rule-string-example.txt"), "rules");
  REQUIRE(rules);
  REQUIRE(rules->size() == 3);
  CHECK((*rules)[0] == rule(I, "tcp", 22, 22, {"0.0.0.0/0"}));
  CHECK((*rules)[1] == rule(I, "icmp", -1, -1, {"10.0.0.0/8"}));
  CHECK((*rules)[2] == rule(E, "all", 0, 0, {"0.0.0.0/0"}));
}

TEST_CASE("parse_rule_string keeps order, ranges, numbers and IPv6", "[sgrules]") {
  auto rules = parse_rule_string(read_data("sg/rule-string-full.txt"), "rules");
  REQUIRE(rules);
  CHECK(*rules == kFullRules);
}

TEST_CASE("parse_rule_string accepts KVM's NEXT; and a missing final space", "[sgrules]") {
  auto kvm = parse_rule_string(
      "I:icmp;-1;-1;0.0.0.0/0,NEXT;I:tcp;22;22;10.0.0.0/8,NEXT;", "rules");
  REQUIRE(kvm);
  CHECK(kvm->size() == 2);
  CHECK((*kvm)[1] == rule(I, "tcp", 22, 22, {"10.0.0.0/8"}));
  auto bare = parse_rule_string("E:udp;53;53;0.0.0.0/0,NEXT", "rules");
  REQUIRE(bare);
  CHECK(bare->size() == 1);
  auto no_comma = parse_rule_string("I:TCP;22;22;10.0.0.1NEXT ", "rules");
  REQUIRE(no_comma);
  CHECK((*no_comma)[0] == rule(I, "tcp", 22, 22, {"10.0.0.1/32"}));
  CHECK(parse_rule_string("", "rules").value().empty());
  CHECK(parse_rule_string("  \n", "rules").value().empty());
}

TEST_CASE("parse_rule_string normalizes ports the way CloudStack means them", "[sgrules]") {
  auto rules = parse_rule_string(
      "I:tcp;0;0;10.0.0.0/8,NEXT I:all;-1;-1;10.0.0.0/8,NEXT "
      "I:icmp;8;-1;10.0.0.0/8,NEXT I:tcp;22;22;NEXT ",
      "rules");
  REQUIRE(rules);
  CHECK((*rules)[0] == rule(I, "tcp", 0, 65535, {"10.0.0.0/8"}));
  CHECK((*rules)[1] == rule(I, "all", 0, 0, {"10.0.0.0/8"}));
  CHECK((*rules)[2] == rule(I, "icmp", 8, -1, {"10.0.0.0/8"}));
  CHECK((*rules)[3] == rule(I, "tcp", 22, 22, {})); // a group without members
}

TEST_CASE("parse_rule_string errors name the entry and what was expected", "[sgrules]") {
  struct Case {
    std::string text;
    std::size_t entry;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"I:tcp;22;22;0.0.0.0/0,NEXT I:tcp;22;0.0.0.0/0,NEXT ", 2,
       "expected 4 fields TYPE:PROTOCOL;START;END;CIDRS, got 3 in entry "
       "\"I:tcp;22;0.0.0.0/0,\""},
      {"I:tcp;22;22;0.0.0.0/0;-j ACCEPT,NEXT ", 1,
       "expected 4 fields TYPE:PROTOCOL;START;END;CIDRS, got 5"},
      {"I:tcp;22;x;0.0.0.0/0,NEXT ", 1,
       "expected a number -1..65535 as end, got \"x\""},
      {"I:tcp;65536;65536;0.0.0.0/0,NEXT ", 1,
       "expected a number -1..65535 as start, got \"65536\""},
      {"I:udp;90;80;0.0.0.0/0,NEXT ", 1, "expected start <= end, got 90 > 80"},
      {"I:tcp;-1;-1;0.0.0.0/0,NEXT ", 1,
       "expected a port 0-65535 as start, got -1"},
      {"I:icmp;-1;3;0.0.0.0/0,NEXT ", 1,
       "expected code -1 with ICMP type -1 (any), got code 3"},
      {"I:icmp;256;0;0.0.0.0/0,NEXT ", 1, "expected an ICMP type -1..255"},
      {"I:47;22;22;0.0.0.0/0,NEXT ", 1, "expected 0;0 for protocol 47"},
      {"I:all;1;2;0.0.0.0/0,NEXT ", 1, "expected 0;0 for protocol all"},
      {"X:tcp;22;22;0.0.0.0/0,NEXT ", 1,
       "expected type I (ingress) or E (egress), got \"X\""},
      {"tcp;22;22;0.0.0.0/0,NEXT ", 1, "expected I: or E: and a protocol"},
      {"I:gre;0;0;0.0.0.0/0,NEXT ", 1, "invalid protocol \"gre\""},
      {"I:tcp$(id);22;22;0.0.0.0/0,NEXT ", 1, "invalid protocol \"tcp$(id)\""},
      {"I:tcp;22;22;1.2.3.4/33,NEXT ", 1, "invalid CIDR \"1.2.3.4/33\""},
      {"I:tcp;22;22;10.0.0.0/8 -j ACCEPT,NEXT ", 1,
       "invalid CIDR \"10.0.0.0/8 -j ACCEPT\""},
      {"I:tcp;22;22;10.0.0.0/8,,NEXT ", 1, "expected a CIDR between commas"},
      {"I:tcp;22;22;0.0.0.0/0,NEXT I:tcp;22;22;0.0.0.0/0,", 2,
       "expected the entry to end with \"NEXT\""},
      {"I:tcp;22;22;0.0.0.0/0,NEXTI:tcp;22;22;0.0.0.0/0,NEXT ", 1,
       "expected a space or ';' after \"NEXT\""},
      {"I:tcp;22;22;0.0.0.0/0,NEXT NEXT ", 2, "expected an entry like"},
  };
  for (const auto &c : cases) {
    INFO(c.text);
    const Error error = rule_string_error(c.text);
    CHECK(error.source == "rules");
    CHECK(error.line == c.entry);
    CHECK_THAT(error.message, Catch::Contains(c.message));
  }
  CHECK(rule_string_error("I:tcp;22;x;0.0.0.0/0,NEXT ").str() ==
        "rules:1: expected a number -1..65535 as end, got \"x\" in entry "
        "\"I:tcp;22;x;0.0.0.0/0,\"");
}

TEST_CASE("format_rule_string round-trips", "[sgrules]") {
  const std::string example = read_data("sg/rule-string-example.txt");
  CHECK(format_rule_string(parse_rule_string(example, "rules").value()) == example);
  CHECK(format_rule_string(kFullRules) == read_data("sg/rule-string-full.txt"));
  CHECK(parse_rule_string(format_rule_string(kFullRules), "rules").value() ==
        kFullRules);
}

TEST_CASE("decode_deflated reads CloudStack's transport form", "[sgrules]") {
  auto text = decode_deflated(read_data("sg/rule-string-full.deflated.b64"));
  REQUIRE(text);
  CHECK(*text == read_data("sg/rule-string-full.txt"));
  CHECK(parse_rule_string(*text, "rules").value() == kFullRules);

  auto example = decode_deflated(read_data("sg/rule-string-example.deflated.b64"));
  REQUIRE(example);
  CHECK(*example == read_data("sg/rule-string-example.txt"));

  // Java's chunked base64 breaks lines; blanks between characters are ignored.
  std::string chunked = read_data("sg/rule-string-full.deflated.b64");
  chunked.insert(76, "\r\n");
  CHECK(decode_deflated(chunked).value() == *text);
}

TEST_CASE("decode_deflated refuses zip bombs and non-zlib data", "[sgrules]") {
  auto bomb = decode_deflated(read_data("sg/zip-bomb.deflated.b64"), "rules");
  REQUIRE_FALSE(bomb);
  CHECK(bomb.error().message ==
        "expected at most 16 MiB of rules after decompression; refusing larger "
        "output (zip bomb?)");

  auto plain = decode_deflated(read_data("sg/not-zlib.b64"), "rules");
  REQUIRE_FALSE(plain);
  CHECK_THAT(plain.error().message, Catch::StartsWith("expected zlib-deflated data"));

  auto truncated = decode_deflated(read_data("sg/truncated.deflated.b64"));
  REQUIRE_FALSE(truncated);
  CHECK_THAT(truncated.error().message, Catch::Contains("ends early"));

  auto trailing = decode_deflated(read_data("sg/trailing-garbage.deflated.b64"));
  REQUIRE_FALSE(trailing);
  CHECK(trailing.error().message == "expected one zlib stream, got 5 bytes after its end");

  auto not_base64 = decode_deflated("eJxl$(id)", "rules");
  REQUIRE_FALSE(not_base64);
  CHECK(not_base64.error().str() ==
        "rules: invalid base64 at offset 4: expected A-Z, a-z, 0-9, '+', '/' or "
        "final '=' padding, got \"$\"");
  CHECK_FALSE(decode_deflated("I:tcp;22;22;0.0.0.0/0,NEXT "));
  CHECK_FALSE(decode_deflated(""));
}

TEST_CASE("base64 decodes strictly and encodes with padding", "[sgrules]") {
  CHECK(decode_base64("").value().empty());
  CHECK(decode_base64("Zg==").value() == "f");
  CHECK(decode_base64("Zm8=").value() == "fo");
  CHECK(decode_base64("Zm9v").value() == "foo");
  CHECK(decode_base64("Zm9v\nYmFy").value() == "foobar");
  CHECK_FALSE(decode_base64("Zm9"));     // truncated
  CHECK_FALSE(decode_base64("Zg=a"));    // data after padding
  CHECK_FALSE(decode_base64("Z==="));    // too much padding
  CHECK_FALSE(decode_base64("Zg==Zg=="));
  CHECK_FALSE(decode_base64("Zm9v-_"));  // URL-safe alphabet is not ours
  for (const std::string bytes : {"", "f", "fo", "foo", "foob", "fooba", "foobar"})
    CHECK(decode_base64(encode_base64(bytes)).value() == bytes);
  CHECK(encode_base64("foobar") == "Zm9vYmFy");
  CHECK(encode_base64(std::string("\xff\x00", 2)) == "/wA=");
}

TEST_CASE("parse_rules_file reads the readable format", "[sgrules]") {
  auto rules = parse_rules_file(read_data("sg/rules.txt"), "rules.txt");
  REQUIRE(rules);
  const std::vector<SgRule> expected = {
      rule(I, "tcp", 22, 22, {"10.0.0.0/8"}),
      rule(I, "tcp", 8080, 8090, {"192.168.7.0/24", "10.1.0.0/16"}),
      rule(I, "tcp", 0, 65535, {"10.9.0.0/16"}),
      rule(I, "icmp", 8, -1, {"0.0.0.0/0"}),
      rule(I, "icmp", -1, -1, {"172.16.0.0/12"}),
      rule(I, "all", 0, 0, {"10.0.0.0/8"}),
      rule(I, "47", 0, 0, {"10.0.0.0/8"}),
      rule(I, "udp", 5000, 5010, {"10.3.0.0/16", "10.4.0.0/16"}),
      rule(E, "udp", 53, 53, {"0.0.0.0/0"}),
      rule(E, "tcp", 443, 443, {"203.0.113.7/32"}),
  };
  CHECK(*rules == expected);
  // The readable form reads back to the same rules.
  CHECK(parse_rules_file(format_rules_file(expected), "x").value() == expected);
  // And through CloudStack's string.
  CHECK(parse_rule_string(format_rule_string(expected), "x").value() == expected);
  // CRLF and non-breaking spaces are whitespace.
  CHECK(parse_rules_file("ingress tcp 22\xC2\xA0" "from 10.0.0.0/8\r\n", "x")
            .value() == std::vector<SgRule>{expected[0]});
}

TEST_CASE("parse_rules_file errors give the line and what was expected", "[sgrules]") {
  struct Case {
    std::string text;
    std::size_t line;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"# ok\n\ninbound tcp 22 from 10.0.0.0/8\n", 3,
       "expected \"ingress\" or \"egress\", got \"inbound\""},
      {"ingress\n", 1, "expected a protocol (tcp, udp, icmp, icmpv6, all or a number), got end of line"},
      {"ingress tcp;rm 22 from 10.0.0.0/8\n", 1, "invalid protocol \"tcp;rm\""},
      {"ingress tcp 70000 from 10.0.0.0/8\n", 1,
       "expected a port 0-65535 or a range like 8080-8090, got \"70000\""},
      {"ingress tcp 90-80 from 10.0.0.0/8\n", 1, "expected start <= end, got 90 > 80"},
      {"ingress tcp 22 to 10.0.0.0/8\n", 1,
       "expected \"from\" and the sources of the ingress rule, got \"to\""},
      {"egress udp 53 from 10.0.0.0/8\n", 1,
       "expected \"to\" and the destinations of the egress rule, got \"from\""},
      {"ingress tcp 22 from\n", 1, "expected at least one CIDR after \"from\""},
      {"ingress tcp 22\n", 1, "got end of line"},
      {"ingress tcp 22 from 10.0.0.0/8, $(id)\n", 1, "invalid CIDR \"$(id)\""},
      {"ingress tcp 22 from 10.0.0.0/33\n", 1, "invalid CIDR \"10.0.0.0/33\""},
      {"ingress icmp type 300 from 10.0.0.0/8\n", 1,
       "expected an ICMP type 0-255 or \"any\", got \"300\""},
      {"ingress icmp type any code 3 from 10.0.0.0/8\n", 1,
       "expected code -1 with ICMP type -1 (any), got code 3"},
      {"ingress icmp type -1 from 10.0.0.0/8\n", 1,
       "expected an ICMP type 0-255 or \"any\", got \"-1\""},
      {"ingress 47 22 from 10.0.0.0/8\n", 1, "expected \"from\""},
      {"ingress all 22 from 10.0.0.0/8\n", 1, "expected \"from\""},
  };
  for (const auto &c : cases) {
    INFO(c.text);
    const Error error = rules_file_error(c.text);
    CHECK(error.source == "rules.txt");
    CHECK(error.line == c.line);
    CHECK_THAT(error.message, Catch::Contains(c.message));
  }
  CHECK(rules_file_error("\n\ningress tcp 22 to 10.0.0.0/8\n").str() ==
        "rules.txt:3: expected \"from\" and the sources of the ingress rule, "
        "got \"to\"");
}

TEST_CASE("format_rule_readable prints rules for listings", "[sgrules]") {
  CHECK(format_rule_readable(kFullRules[0]) ==
        "tcp 8080-8090 from 192.168.7.0/24, 10.1.0.0/16");
  CHECK(format_rule_readable(kFullRules[2]) == "udp 0-65535 from 10.2.0.0/16");
  CHECK(format_rule_readable(kFullRules[3]) == "icmp type 8 code 0 from 0.0.0.0/0");
  CHECK(format_rule_readable(rule(I, "icmp", 8, -1, {"0.0.0.0/0"})) ==
        "icmp type 8 code any from 0.0.0.0/0");
  CHECK(format_rule_readable(rule(I, "icmp", -1, -1, {"0.0.0.0/0"})) ==
        "icmp type any from 0.0.0.0/0");
  CHECK(format_rule_readable(kFullRules[4]) == "47 from 10.0.0.0/8");
  CHECK(format_rule_readable(kFullRules[6]) == "udp 53 to 0.0.0.0/0");
  CHECK(format_rule_readable(rule(E, "all", 0, 0, {})) == "all to (nowhere)");
}

TEST_CASE("normalize_rule checks rules built by hand", "[sgrules]") {
  CHECK(normalize_rule(rule(I, "TCP", 0, 0, {"10.0.0.1"})).value() ==
        rule(I, "tcp", 0, 65535, {"10.0.0.1/32"}));
  auto bad = normalize_rule(rule(E, "udp", 53, 53, {"10.0.0.0/8;id"}));
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("invalid CIDR \"10.0.0.0/8;id\""));
  CHECK_FALSE(normalize_rule(rule(I, "tcp -j ACCEPT", 22, 22, {})));
  CHECK_FALSE(normalize_rule(rule(I, "icmp", 300, 0, {})));
}

TEST_CASE("parse_secondary_ips reads CloudStack's secIps", "[sgrules]") {
  CHECK(parse_secondary_ips("0;", "secIps").value().empty());
  CHECK(parse_secondary_ips("", "secIps").value().empty());
  CHECK(parse_secondary_ips("10.0.0.5;10.0.0.6;", "secIps").value() ==
        std::vector<std::string>{"10.0.0.5", "10.0.0.6"});
  auto bad = parse_secondary_ips("10.0.0.5;10.0.0.6 ;", "secIps");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 2);
  CHECK_THAT(bad.error().message, Catch::Contains("\"10.0.0.6 \""));
}

TEST_CASE("parse_secondary_ips takes 0; alone as none, and rejects 0; followed by more", "[sgrules]") {
  auto none = parse_secondary_ips("0;", "--sec-ips");
  REQUIRE(none);
  CHECK(none->empty());
  auto two = parse_secondary_ips("10.0.0.5;10.0.0.6;", "--sec-ips");
  REQUIRE(two);
  CHECK(two->size() == 2);
  for (auto bad : {"0;x;", "0;10.1.1.1;", "0;0;"}) {
    INFO(bad);
    auto parsed = parse_secondary_ips(bad, "--sec-ips");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().source == "--sec-ips");
  }
}

TEST_CASE("read_rules takes a rules file, a plain or a deflated rule string", "[sgrules]") {
  const std::string plain = read_data("sg/rule-string-full.txt");
  auto from_string = read_rules({"", plain, false});
  REQUIRE(from_string);
  CHECK(!from_string->empty());

  auto from_deflated = read_rules({"", read_data("sg/rule-string-full.deflated.b64"), true});
  REQUIRE(from_deflated);
  CHECK(*from_deflated == *from_string);

  const std::string file = std::string(VIFWALL_TEST_DATA) + "/sg/rules.txt";
  auto from_file = read_rules({file, "ignored when a file is given", false});
  REQUIRE(from_file);
  CHECK(*from_file == parse_rules_file(read_data("sg/rules.txt"), file).value());

  auto missing = read_rules({"/nonexistent/rules.txt", "", false});
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().str(), Catch::Contains("/nonexistent/rules.txt"));
  auto bad = read_rules({"", "not base64 at all!", true});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().str(), Catch::Contains("--rules"));
}
