#include <catch2/catch.hpp>

#include "text.hpp"

using namespace vifwall;

TEST_CASE("clean_text turns non-breaking spaces into spaces and drops CR", "[text]") {
  CHECK(clean_text("a\xC2\xA0" "b\r\nc\r") == "a b\nc");
  CHECK(clean_text("\xC2") == "\xC2"); // a lone lead byte is left alone
  // Idempotent: CRs go before non-breaking spaces are matched.
  CHECK(clean_text("a\xC2\r\xA0" "b") == "a b");
  CHECK(clean_text(clean_text("x\xC2\r\xA0\xC2\xA0")) == clean_text("x\xC2\r\xA0\xC2\xA0"));
}

TEST_CASE("split_lines numbers lines from 1 and keeps a last unterminated line", "[text]") {
  auto lines = split_lines("a\n\nb");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].text == "a");
  CHECK(lines[1].text.empty());
  CHECK(lines[2].number == 3);
  CHECK(split_lines("a\n").size() == 1);
  CHECK(split_lines("").empty());
}

TEST_CASE("split_blanks splits on spaces and tabs", "[text]") {
  auto words = split_blanks("\txapi0\t\t8000.fe  no\t\tvif0.0 ");
  REQUIRE(words.size() == 4);
  CHECK(words[3] == "vif0.0");
}

TEST_CASE("parse_u64 and parse_i64 take whole numbers only", "[text]") {
  CHECK(parse_u64("18446744073709551615") == 18446744073709551615ULL);
  CHECK_FALSE(parse_u64("18446744073709551616"));
  CHECK_FALSE(parse_u64("12a"));
  CHECK_FALSE(parse_u64(""));
  CHECK_FALSE(parse_u64("-1"));
  CHECK(parse_i64("-1") == -1);
  CHECK_FALSE(parse_i64("-"));
}

TEST_CASE("normalize_mac accepts every spelling of a MAC", "[text]") {
  CHECK(normalize_mac("6:f8:c8:0:0:9") == "06:f8:c8:00:00:09");
  CHECK(normalize_mac("FE:FF:FF:FF:FF:FF") == "fe:ff:ff:ff:ff:ff");
  CHECK(normalize_mac("d4-ae-52-bc-e6-51") == "d4:ae:52:bc:e6:51");
  CHECK_FALSE(normalize_mac("06:f8:c8:00:00"));
  CHECK_FALSE(normalize_mac("06:f8:c8:00:00:09:01"));
  CHECK_FALSE(normalize_mac("06:f8:c8:00:00:0g"));
  CHECK_FALSE(normalize_mac("006:f8:c8:00:00:09"));
  CHECK_FALSE(normalize_mac(""));
}

TEST_CASE("quote_for_error shows control characters", "[text]") {
  CHECK(quote_for_error("a\nb\"") == "\"a\\nb\\\"\"");
  CHECK(quote_for_error(std::string(100, 'x'), 5) == "\"xxxxx...\"");
}

TEST_CASE("split_command_line splits like a shell without expanding", "[text]") {
  auto words = split_command_line(R"(rules --vm 'i-2-3-VM' --rules "I:tcp;22;22;0.0.0.0/0,NEXT " a\ b $(id))");
  REQUIRE(words);
  CHECK(*words == std::vector<std::string>{"rules", "--vm", "i-2-3-VM", "--rules",
                                           "I:tcp;22;22;0.0.0.0/0,NEXT ", "a b", "$(id)"});
  auto quotes = split_command_line(R"(x "say \"hi\"" '' "a'b")");
  REQUIRE(quotes);
  CHECK(*quotes == std::vector<std::string>{"x", "say \"hi\"", "", "a'b"});
  CHECK_FALSE(split_command_line("open 'quote"));
  CHECK(split_command_line("   ")->empty());
}

TEST_CASE("compact_count shortens counters like ip -h", "[text]") {
  CHECK(compact_count(0, true) == "0");
  CHECK(compact_count(999, false) == "999");
  CHECK(compact_count(2430, false) == "2.4k");
  CHECK(compact_count(249373, true) == "244K");
  CHECK(compact_count(13823, false) == "14k");
  CHECK(compact_count(1427874321, true) == "1.3G");
  CHECK(compact_count(18446744073709551615ULL, false) == "18E");
}

TEST_CASE("shell_quote quotes only words a shell would split or expand", "[text]") {
  CHECK(shell_quote("iptables-restore") == "iptables-restore");
  CHECK(shell_quote("name-label=a,b/c:d@e%f+g.h_i") == "name-label=a,b/c:d@e%f+g.h_i");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("$HOME") == "'$HOME'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(join_shell_words({"xe", "vm-list", "name-label=a b"}) == "xe vm-list 'name-label=a b'");
  CHECK(join_shell_words({}).empty());
}

TEST_CASE("counted says one thing in the singular and the rest in the plural", "[text]") {
  CHECK(counted(0, "rule") == "0 rules");
  CHECK(counted(1, "rule") == "1 rule");
  CHECK(counted(2, "VM") == "2 VMs");
  CHECK(counted(1, "entry", "entries") == "1 entry");
  CHECK(counted(3, "entry", "entries") == "3 entries");
}

TEST_CASE("join_strings puts the separator between items only", "[text]") {
  CHECK(join_strings({}, ", ").empty());
  CHECK(join_strings({"a"}, ", ") == "a");
  CHECK(join_strings({"a", "b", "c"}, ", ") == "a, b, c");
  CHECK(join_strings({"", "b"}, "-") == "-b");
}

TEST_CASE("normalize_macs_in writes every MAC with two digits a group and leaves the rest", "[text]") {
  CHECK(normalize_macs_in("-s ! 6:f8:c8:0:0:9 -i vif7.0 -j DROP") ==
        "-s ! 06:f8:c8:00:00:09 -i vif7.0 -j DROP");
  CHECK(normalize_macs_in("--arp-mac-src 6:F8:C8:0:0:9/ff:ff:ff:ff:ff:ff") ==
        "--arp-mac-src 06:f8:c8:00:00:09/ff:ff:ff:ff:ff:ff");
  // IPv6 addresses, times, longer runs and partial MACs are not MACs.
  for (const char *kept : {"fe80::4f8:c8ff:fe00:9", "2001:db8:0:0:0:0:0:1", "1:2:3:4:5:6:7",
                           "12:30:45", "a:b:c:d:e", "6:f8:c8:0:0:9:1", "6:f8:c8:0:0:9:",
                           "6:f8:c8:0:0:123", ""})
    CHECK(normalize_macs_in(kept) == kept);
  CHECK(normalize_macs_in("6:f8:c8:0:0:9") == "06:f8:c8:00:00:09");
  CHECK(normalize_macs_in("(6:f8:c8:0:0:9)") == "(06:f8:c8:00:00:09)");
}
