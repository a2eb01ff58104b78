#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "parse_ebtables.hpp"
#include "testutil.hpp"
#include "text.hpp"

using namespace vifwall;

namespace {

FwDump save_sample(const std::string &name) {
  auto dump = parse_ebtables_save(test::read_data(name), name);
  INFO(name << ": " << (dump ? "" : dump.error().str()));
  REQUIRE(dump);
  return *dump;
}

FwDump list_sample(const std::string &name) {
  auto dump = parse_ebtables_list(test::read_data(name), name);
  INFO(name << ": " << (dump ? "" : dump.error().str()));
  REQUIRE(dump);
  return *dump;
}

std::vector<std::string> args(std::string_view text) { return *split_rule_words(text); }

// chain -> canonical rules in order (ebtables rule order matters).
std::map<std::string, std::vector<std::string>> meaning(const FwTable &table) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto &chain : table.chains)
    out[chain.name];
  for (const auto &rule : table.rules)
    out[rule.chain].push_back(canonical_rule(Family::ebtables, rule));
  return out;
}

std::string save_error(std::string_view text) {
  auto dump = parse_ebtables_save(text, "eb.txt");
  REQUIRE_FALSE(dump);
  return dump.error().str();
}

std::string list_error(std::string_view text) {
  auto dump = parse_ebtables_list(text, "L.txt");
  REQUIRE_FALSE(dump);
  return dump.error().str();
}

} // namespace

TEST_CASE("seed: legacy ebtables-save of a CloudStack host", "[ebtables]") {
  const FwDump dump = save_sample("netfilter/seed-ebtables-save.txt");
  CHECK(dump.generator == "ebtables-save v1.0");
  REQUIRE(dump.tables.size() == 1);
  const FwTable &filter = dump.tables[0];
  CHECK(filter.name == "filter");
  REQUIRE(filter.chains.size() == 5);
  CHECK(filter.chain("DEFAULT_EBTABLES")->policy == "ACCEPT");
  CHECK(filter.chain("i-2-3-VM")->policy == "ACCEPT");
  CHECK(filter.rules_of("FORWARD").size() == 3);
  CHECK(filter.rules_of("DEFAULT_EBTABLES").size() == 12);
  CHECK(filter.rules_of("i-2-3-VM").size() == 3);
  CHECK(filter.rules_of("FORWARD")[0]->target() == "DEFAULT_EBTABLES");
  CHECK(filter.rules_of("DEFAULT_EBTABLES")[11]->args == args("-j DROP"));

  const FwRule &spoof = *filter.rules_of("i-2-3-VM")[0];
  CHECK(spoof.args == args("-s ! 6:f8:c8:0:0:9 -i vif7.0 -j DROP"));
  CHECK_FALSE(spoof.counters);
  CHECK(spoof.line == 24);
  CHECK(canonical_rule(Family::ebtables, spoof) ==
        canonical_args(Family::ebtables, args("-s ! 06:f8:c8:00:00:09 -i vif7.0 -j DROP")));
  CHECK(canonical_rule(Family::ebtables, spoof) == "! -s 06:f8:c8:00:00:09 -i vif7.0 -j DROP");

  // The chain contents CloudStack's default_ebtables_rules installs, typed
  // the way vmops types them.
  const std::vector<std::string> expected = {
      "-p IPv4 --ip-dst 255.255.255.255 --ip-proto udp --ip-dport 67 -j ACCEPT",
      "-p IPv4 --ip-dst 255.255.255.255 --ip-proto udp --ip-dport 68 -j ACCEPT",
      "-p ARP --arp-op Request -j ACCEPT",
      "-p ARP --arp-op Reply -j ACCEPT",
      "-p IPv4 -d Broadcast -j DROP",
      "-p IPv4 -d Multicast -j DROP",
      "-p IPv4 --ip-dst 255.255.255.255 -j DROP",
      "-p IPv4 --ip-dst 224.0.0.0/4 -j DROP",
      "-p IPv4 -j RETURN",
      "-p IPv6 -j DROP",
      "-p 802_1Q -j DROP",
      "-j DROP"};
  const auto rules = filter.rules_of("DEFAULT_EBTABLES");
  for (std::size_t i = 0; i < expected.size(); ++i)
    CHECK(canonical_rule(Family::ebtables, *rules[i]) ==
          canonical_args(Family::ebtables, args(expected[i])));
}

TEST_CASE("legacy ebtables-save: short MACs and a -c counter tail", "[ebtables]") {
  const FwDump dump = save_sample("netfilter/ebtables-legacy-save-short-macs-counter.txt");
  const FwTable &filter = dump.tables.at(0);
  CHECK(filter.chain("i-3-12-VM-in")->policy == "RETURN");
  const auto rules = filter.rules_of("i-3-12-VM-in");
  REQUIRE(rules.size() == 3);
  CHECK(rules[2]->counters == RuleCounters{5, 420});
  CHECK(rules[2]->args == args("-p IPv4 --ip-src 10.1.1.3 -j ACCEPT"));
  CHECK_FALSE(rules[1]->counters);

  // ebtables-nft listed what it restored from this file with full MACs and
  // its own option order (samples/ebtables-restore-session.txt); same meaning.
  const std::string listed =
      "Bridge table: filter\n\n"
      "Bridge chain: i-3-12-VM-in, entries: 3, policy: RETURN\n"
      "-s ! 06:f8:c8:00:00:0a -j DROP , pcnt = 0 -- bcnt = 0\n"
      "-p ARP --arp-ip-src 10.1.1.3 --arp-mac-src 06:f8:c8:00:00:0a -j ACCEPT , pcnt = 0 -- bcnt = 0\n"
      "-p IPv4 --ip-src 10.1.1.3 -j ACCEPT , pcnt = 5 -- bcnt = 420\n";
  auto nft = parse_ebtables_list(listed, "session");
  REQUIRE(nft);
  CHECK(meaning(nft->tables[0]).at("i-3-12-VM-in") == meaning(filter).at("i-3-12-VM-in"));
  CHECK(nft->tables[0].rules[2].counters == rules[2]->counters);
}

TEST_CASE("ebtables-nft-save with and without -c", "[ebtables]") {
  const FwDump plain = save_sample("samples/ebtables-nft-save.txt");
  CHECK(plain.generator == "ebtables-nft-save v1.8.9 (nf_tables)");
  CHECK(is_nf_tables(plain));
  REQUIRE(plain.tables.size() == 2);
  const FwTable &filter = plain.tables[0];
  CHECK(filter.chain("i-2-9-VM-in")->policy == "RETURN");
  CHECK(filter.chain("i-2-9-VM-out")->policy == "ACCEPT"); // the nft quirk, kept as printed
  CHECK(filter.rules_of("FORWARD").size() == 2);
  CHECK(filter.rules_of("i-2-9-VM-in").size() == 7);
  CHECK(filter.rules_of("i-2-9-VM-out").size() == 4);
  CHECK(plain.tables[1].name == "nat");
  CHECK(plain.tables[1].rules[0].args == args("-s ! 06:f8:c8:00:00:09 -i vif2.0 -j DROP"));

  const FwDump counted = save_sample("samples/ebtables-nft-save-c.txt");
  const auto in = counted.tables[0].rules_of("i-2-9-VM-in");
  CHECK(in[1]->counters == RuleCounters{10, 376});
  CHECK(in[1]->args ==
        args("-p ARP --arp-ip-src 10.1.1.2 --arp-mac-src 06:f8:c8:00:00:09 -j ACCEPT"));
  CHECK(counted.tables[0].rules_of("FORWARD")[1]->counters == RuleCounters{29, 2048});
  CHECK(meaning(counted.tables[0]) == meaning(filter));

  // ebtables-save.txt (nft via alternatives, after a restore test).
  const FwDump later = save_sample("samples/ebtables-save.txt");
  CHECK(later.generator == "ebtables-save v1.8.9 (nf_tables)");
  CHECK(later.tables[0].chains.size() == 6);
  CHECK(later.tables[0].rules_of("FORWARD").size() == 4);
  CHECK(later.tables[0].rules_of("i-3-12-VM-in").size() == 3);
}

TEST_CASE("ebtables -L variants parse to the same rules as the save", "[ebtables]") {
  const FwDump saved = save_sample("samples/ebtables-nft-save-c.txt");
  const auto expected = meaning(saved.tables[0]);
  for (const char *name : {"samples/ebtables-nft-L.txt", "samples/ebtables-nft-L-Lc.txt",
                           "samples/ebtables-nft-L-Ln-Lc.txt", "samples/ebtables-nft-L-Lx.txt"}) {
    INFO(name);
    const FwDump listed = list_sample(name);
    REQUIRE(listed.tables.size() == 1);
    CHECK(listed.tables[0].name == "filter");
    CHECK(meaning(listed.tables[0]) == expected);
    CHECK(listed.tables[0].chain("i-2-9-VM-in")->policy == "RETURN");
    CHECK(listed.tables[0].chain("OUTPUT")->policy == "ACCEPT");
  }
  const FwDump counted = list_sample("samples/ebtables-nft-L-Ln-Lc.txt");
  const FwTable &t = counted.tables[0];
  // Same counters as the save (both captured at one time).
  for (std::size_t i = 0; i < t.rules.size(); ++i) {
    INFO(i);
    CHECK(t.rules[i].counters == saved.tables[0].rules[i].counters);
    CHECK(t.rules[i].args == saved.tables[0].rules[i].args);
  }
  CHECK(t.rules_of("i-2-9-VM-out")[3]->counters == RuleCounters{14, 976});

  const FwDump nat = list_sample("samples/ebtables-nft-t-nat-L.txt");
  CHECK(nat.tables[0].name == "nat");
  CHECK(nat.tables[0].chains.size() == 3);
  REQUIRE(nat.tables[0].rules.size() == 1);
  CHECK(canonical_rule(Family::ebtables, nat.tables[0].rules[0]) ==
        canonical_rule(Family::ebtables, saved.tables[1].rules[0]));
}

TEST_CASE("legacy ebtables -L: trailing spaces, N. numbers, short MACs", "[ebtables]") {
  const std::string legacy = "Bridge table: filter\n"
                             "\n"
                             "Bridge chain: INPUT, entries: 0, policy: ACCEPT\n"
                             "\n"
                             "Bridge chain: FORWARD, entries: 2, policy: ACCEPT\n"
                             "1. -j DEFAULT_EBTABLES , pcnt = 1200 -- bcnt = 90000\n"
                             "2. -i vif7.0 -j i-2-3-VM , pcnt = 3 -- bcnt = 180\n"
                             "\n"
                             "Bridge chain: i-2-3-VM, entries: 1, policy: ACCEPT\n"
                             "1. -s ! 6:f8:c8:0:0:9 -i vif7.0 -j DROP , pcnt = 0 -- bcnt = 0\n";
  auto dump = parse_ebtables_list(legacy, "legacy");
  REQUIRE(dump);
  const FwTable &t = dump->tables[0];
  REQUIRE(t.rules.size() == 3);
  CHECK(t.rules[0].args == args("-j DEFAULT_EBTABLES"));
  CHECK(t.rules[0].counters == RuleCounters{1200, 90000});
  CHECK(canonical_rule(Family::ebtables, t.rules[2]) == "! -s 06:f8:c8:00:00:09 -i vif7.0 -j DROP");
  // Trailing blanks as legacy prints them, and CRLF.
  std::string messy;
  for (const auto &line : split_lines(legacy))
    messy += std::string(line.text) + " \r\n";
  auto again = parse_ebtables_list(messy, "messy");
  REQUIRE(again);
  CHECK(*again == *dump);
}

TEST_CASE("ebtables errors name the line", "[ebtables]") {
  // No legacy kernel support: the tool's message is not a listing.
  auto unsupported = parse_ebtables_list(
      test::read_data("samples/ebtables-legacy-L-unsupported-kernel.txt"), "unsupported.txt");
  REQUIRE_FALSE(unsupported);
  CHECK(unsupported.error().str() ==
        "unsupported.txt:1: expected \"Bridge table: NAME\" or \"Bridge chain: NAME, entries: N, "
        "policy: POLICY\", got \"The kernel doesn't support the ebtables 'filter' table.\"");
  // Legacy ebtables-save without /proc/modules: the grep error is no table.
  auto no_modules = parse_ebtables_save(
      test::read_data("samples/ebtables-legacy-save-builtin-modules.txt"), "builtin.txt");
  REQUIRE_FALSE(no_modules);
  CHECK(no_modules.error().line == 2);

  // Truncated listing: fewer rules than "entries:".
  const std::string full = test::read_data("samples/ebtables-nft-L-Lc.txt");
  const auto lines = split_lines(full);
  std::string cut;
  for (std::size_t i = 0; i < 15; ++i)
    cut += std::string(lines[i].text) + "\n";
  CHECK(list_error(cut) ==
        "L.txt:15: expected 7 rules in chain \"i-2-9-VM-in\" (\"entries: 7\" at line 11), got 4 "
        "(truncated?)");
  CHECK(list_error("Bridge table: filter\nBridge chain: A, entries: 0, policy: ACCEPT\n-j DROP\n") ==
        "L.txt:3: expected at most 0 rules in chain \"A\", got another: \"-j DROP\"");
  CHECK(list_error("Bridge chain: A, entries: 0, policy: ACCEPT\n") ==
        "L.txt:1: expected \"Bridge table: NAME\" before chains, got \"Bridge chain: A, entries: "
        "0, policy: ACCEPT\"");
  CHECK(list_error("Bridge table: filter\nBridge chain: A, policy: ACCEPT\n") ==
        "L.txt:2: expected \"Bridge chain: NAME, entries: N, policy: POLICY\", got \"Bridge "
        "chain: A, policy: ACCEPT\"");
  CHECK(list_error("Bridge table: filter\nBridge chain: A, entries: 1, policy: ACCEPT\n"
                   "-j DROP , pcnt = x -- bcnt = 0\n") ==
        "L.txt:3: expected counter numbers, got \", pcnt = x -- bcnt = 0\"");

  // nft save cut before its "# Completed" line.
  const std::string nft = test::read_data("samples/ebtables-nft-save.txt");
  const auto nft_lines = split_lines(nft);
  std::string nft_cut;
  for (std::size_t i = 0; i < 24; ++i)
    nft_cut += std::string(nft_lines[i].text) + "\n";
  CHECK(save_error(nft_cut) ==
        "eb.txt:24: expected \"# Completed on ...\" to close table \"nat\" (opened at line 23), "
        "got end of input (truncated?)");
  CHECK(save_error("*filter\n:INPUT ACCEPT\n-A FORWARD -j DROP\n") ==
        "eb.txt:3: expected a chain declared by a \":CHAIN\" line in table \"filter\", got "
        "\"FORWARD\"");
  CHECK(save_error("*filter\n:INPUT\n") ==
        "eb.txt:2: expected \":CHAIN POLICY [PACKETS:BYTES]\", got \":INPUT\"");
}

TEST_CASE("ebtables-nft-restore style input: tolerated COMMIT", "[ebtables]") {
  auto dump = parse_ebtables_save("*filter\n:FORWARD ACCEPT\n-A FORWARD -i vif9.9 -j DROP\nCOMMIT\n"
                                  "*nat\n:PREROUTING ACCEPT\n",
                                  "restore.txt");
  REQUIRE(dump);
  CHECK(dump->tables.size() == 2);
  CHECK(dump->tables[0].rules.size() == 1);
}

TEST_CASE("ebtables: table and chain names in errors are escaped", "[ebtables]") {
  // Names are whatever the input holds: escape sequences in them must not
  // reach the terminal through an error message.
  CHECK(list_error("Bridge table: filter\n\nBridge chain: INPUT\x1b[2J\x1b[31m, entries: 2, "
                   "policy: ACCEPT\n") ==
        "L.txt:3: expected 2 rules in chain \"INPUT\\x1b[2J\\x1b[31m\" (\"entries: 2\" at line "
        "3), got 0 (truncated?)");
  CHECK(list_error("Bridge table: filter\nBridge chain: A\x7f, entries: 0, policy: ACCEPT\n"
                   "-j DROP\n") ==
        "L.txt:3: expected at most 0 rules in chain \"A\\x7f\", got another: \"-j DROP\"");
  CHECK(save_error("*filter\x1b[2J\x1b[31m\n-A INPUT -j ACCEPT\n") ==
        "eb.txt:2: expected a chain declared by a \":CHAIN\" line in table "
        "\"filter\\x1b[2J\\x1b[31m\", got \"INPUT\"");
}
