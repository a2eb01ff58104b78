#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>

#include "parse_iptables_save.hpp"
#include "rule_words.hpp"
#include "testutil.hpp"
#include "text.hpp"

using namespace vifwall;

namespace {

FwDump parse_sample(const std::string &name) {
  auto dump = parse_iptables_save(test::read_data(name), name);
  INFO(name << ": " << (dump ? "" : dump.error().str()));
  REQUIRE(dump);
  return *dump;
}

std::vector<std::string> chain_names(const FwTable &table) {
  std::vector<std::string> out;
  for (const auto &c : table.chains)
    out.push_back(c.name);
  return out;
}

// table -> chain -> sorted canonical rules: what a rule set means, whatever
// the backend printed.
using Meaning = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

Meaning meaning(const FwDump &dump, Family family) {
  Meaning out;
  for (const auto &table : dump.tables) {
    auto &chains = out[table.name];
    for (const auto &chain : table.chains)
      chains[chain.name + " " + chain.policy];
    for (const auto &rule : table.rules)
      chains[rule.chain + " " + table.chain(rule.chain)->policy].push_back(
          canonical_rule(family, rule));
    for (auto &[name, rules] : chains)
      std::sort(rules.begin(), rules.end());
  }
  return out;
}

std::string error_of(std::string_view text, const std::string &source = "t.txt") {
  auto dump = parse_iptables_save(text, source);
  REQUIRE_FALSE(dump);
  return dump.error().str();
}

} // namespace

TEST_CASE("iptables-legacy-save.txt: tables, chains, policies, rules", "[iptables-save]") {
  const FwDump dump = parse_sample("samples/iptables-legacy-save.txt");
  CHECK(dump.generator == "iptables-save v1.8.9");
  CHECK_FALSE(is_nf_tables(dump));
  CHECK(dump.warnings.empty());
  REQUIRE(dump.tables.size() == 3);
  CHECK(dump.tables[0].name == "raw");
  CHECK(dump.tables[1].name == "nat");
  CHECK(dump.tables[2].name == "filter");

  const FwTable &raw = dump.tables[0];
  REQUIRE(raw.chains.size() == 2);
  CHECK(raw.chains[0] == FwChain{"PREROUTING", "ACCEPT", RuleCounters{19, 1596}, std::nullopt, 3});
  REQUIRE(raw.rules.size() == 1);
  CHECK(raw.rules[0].args == std::vector<std::string>{"-i", "vif4.0", "-j", "NOTRACK"});
  CHECK_FALSE(raw.rules[0].counters);

  const FwTable &filter = *dump.table("filter");
  CHECK(chain_names(filter) ==
        std::vector<std::string>{"INPUT", "FORWARD", "OUTPUT", "i-2-9-VM", "i-2-9-def"});
  CHECK(filter.chain("OUTPUT")->counters == RuleCounters{7, 588});
  CHECK(filter.chain("i-2-9-VM")->policy == "-");
  CHECK(filter.rules.size() == 20);
  CHECK(filter.rules_of("INPUT").size() == 6);
  CHECK(filter.rules_of("FORWARD").size() == 4);
  CHECK(filter.rules_of("i-2-9-VM").size() == 5);
  CHECK(filter.rules_of("i-2-9-def").size() == 5);

  const FwRule &comment = *filter.rules_of("INPUT")[5];
  CHECK(comment.args ==
        std::vector<std::string>{"-p", "tcp", "-m", "multiport", "--dports", "80,443", "-m",
                                 "set", "--match-set", "trusted-nets", "src", "-m", "comment",
                                 "--comment", "xapi from trusted nets", "-j", "ACCEPT"});
  CHECK(comment.target() == "ACCEPT");
  CHECK(comment.line == 29);
  const FwRule &spoof = *filter.rules_of("i-2-9-def")[3];
  CHECK(spoof.args == std::vector<std::string>{"!", "-s", "10.1.1.0/24", "-m", "comment",
                                               "--comment", "anti-spoof for vm 9", "-j",
                                               "DROP"});
  CHECK(filter.rules_of("FORWARD")[1]->target() == "i-2-9-def");
}

TEST_CASE("iptables-save -c counters", "[iptables-save]") {
  const FwDump legacy = parse_sample("samples/iptables-legacy-save-c.txt");
  const FwTable &filter = *legacy.table("filter");
  CHECK(filter.rules_of("INPUT")[1]->counters == RuleCounters{6, 504});
  CHECK(filter.rules_of("FORWARD")[0]->counters == RuleCounters{10, 840});
  CHECK(filter.rules_of("i-2-9-def")[4]->counters == RuleCounters{1, 84});
  CHECK(filter.rules_of("i-2-9-def")[4]->args == std::vector<std::string>{"-j", "ACCEPT"});
  // The counter prefix does not leak into the meaning.
  const FwDump plain = parse_sample("samples/iptables-legacy-save.txt");
  CHECK(meaning(legacy, Family::iptables) == meaning(plain, Family::iptables));

  const FwDump nft = parse_sample("samples/iptables-nft-save-c.txt");
  CHECK(nft.table("nat")->rules[0].counters == RuleCounters{0, 0});
  CHECK(nft.table("filter")->rules_of("i-2-9-VM")[1]->counters == RuleCounters{1, 84});
}

TEST_CASE("iptables-nft-save: banner, merged stderr warning, table order", "[iptables-save]") {
  const FwDump dump = parse_sample("samples/iptables-nft-save.txt");
  CHECK(dump.generator == "iptables-nft-save v1.8.9 (nf_tables)");
  CHECK(is_nf_tables(dump));
  REQUIRE(dump.warnings.size() == 1);
  CHECK(dump.warnings[0] ==
        "Warning: iptables-legacy tables present, use iptables-legacy-save to see them");
  REQUIRE(dump.tables.size() == 3);
  CHECK(dump.tables[1].name == "filter");
  CHECK(dump.tables[2].name == "nat");
  CHECK(dump.table("filter")->chain("FORWARD")->counters == RuleCounters{0, 0});

  // iptables-save.txt is the nft backend called as plain iptables-save.
  const FwDump plain = parse_sample("samples/iptables-save.txt");
  CHECK(plain.generator == "iptables-save v1.8.9 (nf_tables)");
  CHECK(is_nf_tables(plain));
}

TEST_CASE("legacy and nft saves of the same rules mean the same", "[iptables-save]") {
  const FwDump legacy = parse_sample("samples/iptables-legacy-save.txt");
  const FwDump nft = parse_sample("samples/iptables-nft-save.txt");
  const Meaning a = meaning(legacy, Family::iptables);
  const Meaning b = meaning(nft, Family::iptables);
  CHECK(a == b);
  CHECK(a.at("filter").at("i-2-9-def -").size() == 5);

  const FwDump legacy6 = parse_sample("samples/ip6tables-legacy-save.txt");
  const FwDump nft6 = parse_sample("samples/ip6tables-nft-save.txt");
  CHECK(meaning(legacy6, Family::ip6tables) == meaning(nft6, Family::ip6tables));

  // ... and a rule set missing one rule does not.
  FwDump changed = nft;
  auto &rules = changed.tables[1].rules;
  rules.erase(rules.begin() + 3);
  CHECK(meaning(legacy, Family::iptables) != meaning(changed, Family::iptables));
}

TEST_CASE("ip6tables-save samples", "[iptables-save]") {
  const FwDump dump = parse_sample("samples/ip6tables-legacy-save.txt");
  CHECK(dump.generator == "ip6tables-save v1.8.9");
  REQUIRE(dump.tables.size() == 1);
  const FwTable &filter = dump.tables[0];
  CHECK(filter.chain("FORWARD")->counters == RuleCounters{19, 1648});
  REQUIRE(filter.rules.size() == 4);
  CHECK(filter.rules[1].args[filter.rules[1].args.size() - 3] == "src");
  CHECK(canonical_rule(Family::ip6tables, filter.rules[0]) ==
        "-p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT");
}

TEST_CASE("iptables 1.3.5 style save: trailing spaces, intrapositioned negation, # lines",
          "[iptables-save]") {
  const FwDump dump = parse_sample("netfilter/iptables-save-v1.3.5-trailing-spaces.txt");
  CHECK(dump.generator == "iptables-save v1.3.5");
  const FwTable &filter = *dump.table("filter");
  CHECK(filter.chains.size() == 9);
  CHECK(filter.rules.size() == 19);
  const FwRule &ssh = *filter.rules_of("RH-Firewall-1-INPUT")[1];
  CHECK(ssh.args.back() == "DROP"); // trailing space gone
  CHECK(ssh.args[0] == "-s");
  CHECK(ssh.args[1] == "!");
  CHECK(canonical_rule(Family::iptables, ssh) ==
        "! -s 10.147.41.0/24 -p tcp -m tcp --dport 22 -j DROP");
  CHECK(filter.rules_of("RH-Firewall-1-INPUT")[2]->line == 25); // after the # line
  // The CloudStack DNS rule reads the same as vmops typed it.
  CHECK(canonical_rule(Family::iptables, *filter.rules_of("i-2-3-def")[0]) ==
        canonical_args(Family::iptables,
                       *split_rule_words("-m physdev --physdev-is-bridged --physdev-in "
                                         "vif7.0 -m set --match-set i-2-3-VM src -p udp "
                                         "--dport 53 -j RETURN")));
}

TEST_CASE("iptables-save CRLF and non-breaking spaces", "[iptables-save]") {
  std::string text = test::read_data("samples/iptables-legacy-save-c.txt");
  std::string crlf;
  for (char c : text) {
    if (c == '\n')
      crlf += "\r\n";
    else if (c == ' ')
      crlf += "\xC2\xA0";
    else
      crlf.push_back(c);
  }
  auto dump = parse_iptables_save(crlf, "crlf.txt");
  REQUIRE(dump);
  CHECK(*dump == parse_sample("samples/iptables-legacy-save-c.txt"));
}

TEST_CASE("banners of other versions, merged stderr", "[iptables-save]") {
  auto old_nft = parse_iptables_save("# Generated by xtables-save v1.8.2 on Fri Jun  7 10:00:00 2019\n"
                                     "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"
                                     "# Completed on Fri Jun  7 10:00:00 2019\n",
                                     "deb10.txt");
  REQUIRE(old_nft);
  CHECK(old_nft->generator == "xtables-save v1.8.2");
  CHECK(is_nf_tables(*old_nft));
  // `iptables-restore ... 2>&1 ; iptables-save` with an old-style rule.
  auto merged = parse_iptables_save(
      "Using intrapositioned negation (`--option ! this`) is deprecated in favor of "
      "extrapositioned (`! --option this`).\n*filter\n:INPUT ACCEPT [0:0]\n"
      "-A INPUT ! -s 10.0.0.0/8 -j DROP\nCOMMIT\n",
      "merged.txt");
  REQUIRE(merged);
  REQUIRE(merged->warnings.size() == 1);
  CHECK(starts_with(merged->warnings[0], "Using intrapositioned negation"));
  CHECK(merged->tables[0].rules.size() == 1);
}

TEST_CASE("empty iptables-save output is an empty dump", "[iptables-save]") {
  auto dump = parse_iptables_save("", "empty.txt");
  REQUIRE(dump);
  CHECK(dump->tables.empty());
  dump = parse_iptables_save("# Warning: iptables-legacy tables present, use "
                             "iptables-legacy-save to see them\n",
                             "w.txt");
  REQUIRE(dump);
  CHECK(dump->tables.empty());
  CHECK(dump->warnings.size() == 1);
}

TEST_CASE("iptables-save structural errors name the line", "[iptables-save]") {
  // Truncated inside the filter table (SSH drop, head).
  const std::string full = test::read_data("samples/iptables-legacy-save.txt");
  const auto lines = split_lines(full);
  std::string truncated;
  for (std::size_t i = 0; i < 30; ++i)
    truncated += std::string(lines[i].text) + "\n";
  CHECK(error_of(truncated, "cut.txt") ==
        "cut.txt:30: expected \"COMMIT\" to close table \"filter\" (opened at line 18), "
        "got end of input (truncated?)");

  CHECK(error_of("*filter\n:INPUT ACCEPT [0:0]\n*nat\nCOMMIT\n") ==
        "t.txt:3: expected \"COMMIT\" to close table \"filter\" (opened at line 1), got "
        "\"*nat\"");
  CHECK(error_of("*filter\n:INPUT ACCEPT [0:0]\n-A NOSUCH -j ACCEPT\nCOMMIT\n") ==
        "t.txt:3: expected a chain declared by a \":CHAIN\" line in table \"filter\", got "
        "\"NOSUCH\"");
  CHECK(error_of("-A INPUT -j ACCEPT\n") ==
        "t.txt:1: expected \"*TABLE\" before rules, got \"-A INPUT -j ACCEPT\"");
  CHECK(error_of("*filter\n:INPUT ACCEPT [0:0]\n-I INPUT 1 -j ACCEPT\nCOMMIT\n") ==
        "t.txt:3: expected \"-A CHAIN\", \"*TABLE\", \":CHAIN POLICY\" or \"COMMIT\", got "
        "\"-I INPUT 1 -j ACCEPT\"");
  CHECK(error_of("*filter\n:INPUT ACCEPT [0:0]\nChain INPUT (policy ACCEPT)\nCOMMIT\n") ==
        "t.txt:3: expected \"-A CHAIN\", \"*TABLE\", \":CHAIN POLICY\" or \"COMMIT\", got "
        "\"Chain INPUT (policy ACCEPT)\"");
  CHECK(error_of("*filter\n:INPUT ACCEPT [0:x]\nCOMMIT\n") ==
        "t.txt:2: expected \"[PACKETS:BYTES]\" after the policy, got \"[0:x]\"");
  CHECK(error_of("*filter\n:INPUT\nCOMMIT\n") ==
        "t.txt:2: expected \":CHAIN POLICY [PACKETS:BYTES]\", got \":INPUT\"");
  CHECK(error_of("*filter\n:INPUT ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\nCOMMIT\n") ==
        "t.txt:3: expected a new chain, got \"INPUT\" again (declared at line 2)");
  CHECK(error_of("*filter\n:INPUT ACCEPT [0:0]\n[1:2 -A INPUT -j ACCEPT\nCOMMIT\n") ==
        "t.txt:3: expected \"[PACKETS:BYTES] -A CHAIN ...\", got \"[1:2 -A INPUT -j ACCEPT\"");
  CHECK(error_of("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"open\nCOMMIT\n") ==
        "t.txt:3: expected a closing '\"', got end of line in \"-A INPUT -m comment "
        "--comment \\\"open\"");
  CHECK(error_of("COMMIT\n") ==
        "t.txt:1: expected \"*TABLE\" before \"COMMIT\", got \"COMMIT\" outside a table");
  CHECK(error_of("*\n") == "t.txt:1: expected a table name after \"*\", got \"*\"");
  CHECK(error_of(":INPUT ACCEPT [0:0]\n") ==
        "t.txt:1: expected \"*TABLE\" before chain declarations, got \":INPUT ACCEPT [0:0]\"");
}

TEST_CASE("unknown rule options are kept, not fatal", "[iptables-save]") {
  auto dump = parse_iptables_save("*mangle\n:PREROUTING ACCEPT [0:0]\n"
                                  "-A PREROUTING -m frobnicate --frob-level 11 ! --frob x "
                                  "-j FROB --frob-it\nCOMMIT\n",
                                  "u.txt");
  REQUIRE(dump);
  const FwRule &rule = dump->tables[0].rules[0];
  CHECK(rule.args.size() == 10);
  CHECK(rule.target() == "FROB");
  CHECK(canonical_rule(Family::iptables, rule) ==
        "-m frobnicate ! --frob x --frob-level 11 -j FROB --frob-it");
}

TEST_CASE("iptables -S listing", "[iptables-save]") {
  auto dump = parse_iptables_rules(test::read_data("samples/iptables-legacy-S.txt"),
                                   "iptables-legacy-S.txt");
  REQUIRE(dump);
  const FwTable &filter = dump->tables[0];
  CHECK(filter.name == "filter");
  CHECK(chain_names(filter) ==
        std::vector<std::string>{"INPUT", "FORWARD", "OUTPUT", "i-2-9-VM", "i-2-9-def"});
  CHECK(filter.chain("INPUT")->policy == "ACCEPT");
  CHECK(filter.chain("i-2-9-def")->policy == "-");
  CHECK(filter.rules.size() == 20);
  // -S prints the same rules as iptables-save.
  const FwDump saved = parse_sample("samples/iptables-legacy-save.txt");
  CHECK(meaning(*dump, Family::iptables).at("filter") ==
        meaning(saved, Family::iptables).at("filter"));

  auto verbose = parse_iptables_rules("-P INPUT ACCEPT -c 5 300\n-N x\n"
                                      "-A INPUT -i lo -c 7 420 -j ACCEPT\n",
                                      "v.txt");
  REQUIRE(verbose);
  CHECK(verbose->tables[0].chains[0].counters == RuleCounters{5, 300});
  CHECK(verbose->tables[0].rules[0].counters == RuleCounters{7, 420});
  CHECK(verbose->tables[0].rules[0].args ==
        std::vector<std::string>{"-i", "lo", "-j", "ACCEPT"});

  auto bad = parse_iptables_rules("-P INPUT ACCEPT\n-A FORWARD -j DROP\n", "s.txt");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().str() ==
        "s.txt:2: expected a chain declared by \"-P\" or \"-N\", got \"FORWARD\"");
  bad = parse_iptables_rules("Chain INPUT (policy ACCEPT)\n", "s.txt");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 1);
}

TEST_CASE("iptables-save: table names in errors are escaped", "[iptables-save]") {
  // "*NAME" takes any bytes as the name: escape sequences in it must not
  // reach the terminal through an error message, and long names are cut.
  CHECK(error_of("*filter\x1b[2J\x1b[31m\n:INPUT ACCEPT [0:0]\n") ==
        "t.txt:2: expected \"COMMIT\" to close table \"filter\\x1b[2J\\x1b[31m\" (opened at "
        "line 1), got end of input (truncated?)");
  CHECK(error_of("*f\x7f\n:INPUT ACCEPT [0:0]\n*nat\nCOMMIT\n") ==
        "t.txt:3: expected \"COMMIT\" to close table \"f\\x7f\" (opened at line 1), got "
        "\"*nat\"");
  CHECK(error_of("*\x1b]0;x\x07\n:INPUT ACCEPT [0:0]\n-A NOSUCH -j ACCEPT\nCOMMIT\n") ==
        "t.txt:3: expected a chain declared by a \":CHAIN\" line in table \"\\x1b]0;x\\x07\", "
        "got \"NOSUCH\"");
  CHECK(error_of("*" + std::string(100, 't') + "\n") ==
        "t.txt:1: expected \"COMMIT\" to close table \"" + std::string(60, 't') +
            "...\" (opened at line 1), got end of input (truncated?)");
  // The nft savers' "# Completed" mark before COMMIT.
  CHECK(error_of("# Generated by iptables-nft-save v1.8.9 (nf_tables) on now\n"
                 "*f\x1b\n:INPUT ACCEPT [0:0]\n# Completed on now\n") ==
        "t.txt:4: expected \"COMMIT\" before \"# Completed\" (table \"f\\x1b\" opened at "
        "line 2), got \"# Completed on now\"");
}

// ---- the rule-word splitter the parsers share ------------------------------

namespace {

// The splitter as it was written first, one character at a time: the
// reference the view-based one must match word for word.
std::optional<std::vector<std::string>> reference_split(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  bool in_word = false, quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
      current.push_back(text[++i]);
      in_word = true;
    } else if (c == '"') {
      quoted = !quoted;
      in_word = true;
    } else if (!quoted && (c == ' ' || c == '\t' || c == '\v' || c == '\f')) {
      if (in_word)
        words.push_back(std::move(current));
      current.clear();
      in_word = false;
    } else {
      current.push_back(c);
      in_word = true;
    }
  }
  if (quoted)
    return std::nullopt;
  if (in_word)
    words.push_back(std::move(current));
  return words;
}

} // namespace

TEST_CASE("rule words: views split exactly as the reference", "[iptables-save]") {
  RuleWordSplitter splitter;
  auto check = [&](const std::string &text) {
    INFO("text: " << quote_for_error(text, 200));
    const auto want = reference_split(text);
    const bool ok = splitter.split(text);
    REQUIRE(ok == want.has_value());
    CHECK(split_rule_words(text) == want);
    if (!ok)
      return;
    // Every view still holds its word once the whole line is split (storage
    // did not move under the earlier ones).
    CHECK(std::vector<std::string>(splitter.words.begin(), splitter.words.end()) == *want);
  };
  for (const char *text :
       {"", " ", "a", " a  b\t\tc\v\fd ", R"("")", R"(a "" b)", R"("a b" c)", R"(x"a b"y)",
        R"(\" \\ \x \)", R"("\"" "\\")", R"(--comment "a \"quoted\" word" -j ACCEPT)",
        R"("open)", R"(a "b)", R"(\\")", R"(ab\)", R"("a"\"b" c)", "a\nb", "-A INPUT -j DROP"})
    check(text);
  // Long lines mixing plain and quoted words (storage holds many at once).
  std::string longline;
  for (int i = 0; i < 50; ++i)
    longline += "plain" + std::to_string(i) + " \"quoted " + std::to_string(i) + "\" ";
  check(longline);

  std::mt19937 random(18);
  const std::string alphabet = std::string("ab \t\v\f\"\\x-\n", 11);
  for (int round = 0; round < 20000; ++round) {
    std::string text(random() % 24, ' ');
    for (char &c : text)
      c = alphabet[random() % alphabet.size()];
    check(text);
  }
}

TEST_CASE("iptables -S: rules of a chain after rules of another", "[iptables-save]") {
  auto dump = parse_iptables_rules("-P INPUT ACCEPT\n-N a\n-N \"b c\"\n-A a -j x\n-A a -j y\n"
                                   "-A \"b c\" -m comment --comment \"say \\\"hi\\\"\" -j z\n"
                                   "-A a -c 1 2 -j w\n",
                                   "r.txt");
  REQUIRE(dump);
  const auto &rules = dump->tables[0].rules;
  REQUIRE(rules.size() == 4);
  CHECK(rules[2].chain == "b c");
  CHECK(rules[2].args ==
        std::vector<std::string>{"-m", "comment", "--comment", "say \"hi\"", "-j", "z"});
  CHECK(rules[3].chain == "a");
  CHECK(rules[3].counters == RuleCounters{1, 2});
  CHECK(rules[3].args == std::vector<std::string>{"-j", "w"});
  CHECK(rules[3].line == 7);

  auto after_run = parse_iptables_rules("-N a\n-A a -j x\n-A b -j y\n", "r.txt");
  REQUIRE_FALSE(after_run);
  CHECK(after_run.error().str() ==
        "r.txt:3: expected a chain declared by \"-P\" or \"-N\", got \"b\"");
  auto empty_name = parse_iptables_rules("-N a\n-A \"\" -j x\n", "r.txt");
  REQUIRE_FALSE(empty_name);
  CHECK(empty_name.error().line == 2);
  auto declared_empty = parse_iptables_rules("-N \"\"\n-A \"\" -j x\n-A \"\" -j y\n", "r.txt");
  REQUIRE(declared_empty);
  CHECK(declared_empty->tables[0].rules.size() == 2);
}

TEST_CASE("iptables-save: a chain known in one table is not in the next", "[iptables-save]") {
  auto dump = parse_iptables_save("*filter\n:a - [0:0]\n-A a -j x\nCOMMIT\n"
                                  "*nat\n:b - [0:0]\n-A a -j y\nCOMMIT\n",
                                  "t.txt");
  REQUIRE_FALSE(dump);
  CHECK(dump.error().str() == "t.txt:7: expected a chain declared by a \":CHAIN\" line in table "
                              "\"nat\", got \"a\"");
  auto empty = parse_iptables_save("*filter\n:a - [0:0]\n-A \"\" -j x\nCOMMIT\n", "t.txt");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().line == 3);
  auto runs = parse_iptables_save("*filter\n:a - [0:0]\n:b - [0:0]\n-A a -j x\n-A b -j y\n"
                                  "-A a \"-j\" \"z z\"\nCOMMIT\n",
                                  "t.txt");
  REQUIRE(runs);
  const auto &rules = runs->tables[0].rules;
  REQUIRE(rules.size() == 3);
  CHECK(rules[1].chain == "b");
  CHECK(rules[2].chain == "a");
  CHECK(rules[2].args == std::vector<std::string>{"-j", "z z"});
}
