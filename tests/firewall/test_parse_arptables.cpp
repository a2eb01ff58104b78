#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "parse_arptables.hpp"
#include "testutil.hpp"
#include "text.hpp"

using namespace vifwall;

namespace {

FwDump list_sample(const std::string &name) {
  auto dump = parse_arptables_list(test::read_data(name), name);
  INFO(name << ": " << (dump ? "" : dump.error().str()));
  REQUIRE(dump);
  return *dump;
}

FwDump save_sample(const std::string &name) {
  auto dump = parse_arptables_save(test::read_data(name), name);
  INFO(name << ": " << (dump ? "" : dump.error().str()));
  REQUIRE(dump);
  return *dump;
}

std::vector<std::string> args(std::string_view text) { return *split_rule_words(text); }

// chain -> canonical rules in order.
std::map<std::string, std::vector<std::string>> meaning(const FwDump &dump) {
  std::map<std::string, std::vector<std::string>> out;
  const FwTable &table = dump.tables.at(0);
  for (const auto &chain : table.chains)
    out[chain.name];
  for (const auto &rule : table.rules)
    out[rule.chain].push_back(canonical_rule(Family::arptables, rule));
  return out;
}

std::string list_error(std::string_view text) {
  auto dump = parse_arptables_list(text, "arp.txt");
  REQUIRE_FALSE(dump);
  return dump.error().str();
}

} // namespace

TEST_CASE("seed: arptables -L of a CloudStack host, with 107K units", "[arptables]") {
  const FwDump dump = list_sample("netfilter/seed-arptables-L.txt");
  REQUIRE(dump.tables.size() == 1);
  const FwTable &t = dump.tables[0];
  CHECK(t.name == "filter");
  REQUIRE(t.chains.size() == 4);
  CHECK(t.chains[0] == FwChain{"INPUT", "ACCEPT", RuleCounters{3788, 106000, true},
                               std::nullopt, 1});
  CHECK(t.chains[1].counters == RuleCounters{1, 28, false});
  CHECK(t.chains[2].counters == RuleCounters{22968, 643000, true});
  CHECK(t.chains[3].name == "i-2-3-VM");
  CHECK(t.chains[3].policy == "-");
  CHECK(t.chains[3].references == 2u);

  const auto forward = t.rules_of("FORWARD");
  REQUIRE(forward.size() == 2);
  CHECK(forward[0]->args == args("-j i-2-3-VM -i vif7.0 -o any"));
  CHECK(forward[0]->counters == RuleCounters{22, 616, false});
  CHECK(forward[1]->counters == RuleCounters{3804, 107000, true});
  CHECK(forward[1]->target() == "i-2-3-VM");

  const auto vm = t.rules_of("i-2-3-VM");
  REQUIRE(vm.size() == 5);
  CHECK(vm[0]->args == args("-j ACCEPT -i vif7.0 -o any -s 10.147.41.238 --src-mac "
                            "06:f8:c8:00:00:09 --opcode Reply"));
  CHECK(vm[0]->counters == RuleCounters{15, 420, false});
  CHECK(vm[4]->counters == RuleCounters{3801, 106000, true});
  CHECK(vm[4]->line == 14);

  // The rules default_network_rules types, in vmops' spelling.
  const std::vector<std::string> typed = {
      "-i vif7.0 --opcode Reply --source-mac 06:f8:c8:00:00:09 --source-ip 10.147.41.238 -j ACCEPT",
      "-i vif7.0 --opcode Request --source-mac 06:f8:c8:00:00:09 --source-ip 10.147.41.238 -j RETURN",
      "-o vif7.0 --opcode Request --destination-ip 10.147.41.238 -j ACCEPT",
      "-o vif7.0 --opcode Reply --destination-mac 06:f8:c8:00:00:09 --destination-ip "
      "10.147.41.238 -j ACCEPT",
      "-j DROP"};
  for (std::size_t i = 0; i < typed.size(); ++i)
    CHECK(canonical_rule(Family::arptables, *vm[i]) ==
          canonical_args(Family::arptables, args(typed[i])));
  CHECK(canonical_rule(Family::arptables, *forward[0]) ==
        canonical_args(Family::arptables, args("-i vif7.0 -j i-2-3-VM")));
}

TEST_CASE("arptables legacy -L variants all mean the same", "[arptables]") {
  const FwDump plain = list_sample("samples/arptables-legacy-L.txt");
  const FwTable &t = plain.tables[0];
  REQUIRE(t.chains.size() == 4);
  CHECK(t.chains[2].name == "FORWARD");
  CHECK(t.chains[2].policy == "ACCEPT");
  CHECK_FALSE(t.chains[2].counters);
  CHECK(t.chain("vm-9-arp")->references == 1u);
  CHECK(t.rules_of("FORWARD").size() == 5);
  CHECK(t.rules_of("vm-9-arp").size() == 2);
  CHECK(t.rules_of("OUTPUT")[0]->args ==
        args("-j mangle -o xenbr0 -d 10.1.1.2 --h-length 6 --mangle-mac-s 00:16:3e:5a:01:10"));
  CHECK(plain.warnings.empty());

  const auto expected = meaning(plain);
  for (const char *name :
       {"samples/arptables-legacy-L-v.txt", "samples/arptables-legacy-L-n-v.txt",
        "samples/arptables-legacy-L-n-v-x.txt", "samples/arptables-legacy-L-n-line-numbers.txt"}) {
    INFO(name);
    CHECK(meaning(list_sample(name)) == expected);
  }

  const FwDump verbose = list_sample("samples/arptables-legacy-L-n-v-x.txt");
  CHECK(verbose.tables[0].chain("FORWARD")->counters == RuleCounters{3, 84, false});
  CHECK(verbose.tables[0].rules_of("FORWARD")[1]->counters == RuleCounters{9, 252, false});
  CHECK(verbose.tables[0].rules_of("FORWARD")[1]->args ==
        args("-j ACCEPT -i vif2.0 -o * -s 10.1.1.2 --src-mac 06:f8:c8:00:00:09 --h-length 6 "
             "--opcode 1"));
  const FwDump numbered = list_sample("samples/arptables-legacy-L-n-line-numbers.txt");
  CHECK(numbered.tables[0].rules_of("FORWARD")[4]->args == args("-j vm-9-arp -i vif4.0"));
}

TEST_CASE("arptables-nft -L and legacy agree on the INPUT/OUTPUT rules", "[arptables]") {
  const FwDump nft = list_sample("samples/arptables-nft-L-n-v.txt");
  REQUIRE(nft.warnings.size() == 1);
  const FwTable &t = nft.tables[0];
  REQUIRE(t.chains.size() == 2);
  CHECK(t.rules[0].counters == RuleCounters{7, 228});
  const auto legacy = meaning(list_sample("samples/arptables-legacy-L.txt"));
  const auto nft_meaning = meaning(nft);
  CHECK(nft_meaning.at("INPUT") == legacy.at("INPUT"));
  CHECK(nft_meaning.at("OUTPUT") == legacy.at("OUTPUT"));
  CHECK(meaning(list_sample("samples/arptables-nft-L.txt")) == nft_meaning);
}

TEST_CASE("arptables-save legacy and nft", "[arptables]") {
  const FwDump legacy = save_sample("samples/arptables-legacy-save.txt");
  CHECK(legacy.generator.empty());
  const FwTable &t = legacy.tables.at(0);
  CHECK(t.chain("FORWARD")->policy == "ACCEPT");
  CHECK(t.chain("vm-9-arp")->policy == "-");
  CHECK(t.rules.size() == 9);
  CHECK(t.rules_of("FORWARD")[0]->args ==
        args("-j ACCEPT -i vif2.0 -s 10.1.1.2 --src-mac 06:f8:c8:00:00:09 --h-length 6 --opcode 2"));
  CHECK(legacy.warnings.empty());
  // The save is the -L -n listing: same meaning.
  CHECK(meaning(legacy) == meaning(list_sample("samples/arptables-legacy-L.txt")));

  const FwDump nft = save_sample("samples/arptables-nft-save-c.txt");
  CHECK(nft.generator == "arptables-nft-save v1.8.9 (nf_tables)");
  CHECK(nft.tables[0].rules[1].counters == RuleCounters{1, 42});
  CHECK(meaning(nft) == meaning(save_sample("samples/arptables-nft-save.txt")));
  // Debian's arptables-legacy-save printing the nft rules: no FORWARD at all.
  const FwDump lying = save_sample("samples/arptables-legacy-save-debian-script-calls-nft.txt");
  CHECK(lying.tables[0].chain("FORWARD") == nullptr);
  CHECK(meaning(lying) == meaning(nft));
}

TEST_CASE("arptables-nft's FORWARD is a dead user chain: warned", "[arptables]") {
  auto dump = parse_arptables_save("*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:FORWARD -\n"
                                   ":vm-12-arp -\n-A FORWARD -j vm-12-arp -i vif2.1\n",
                                   "nft.txt");
  REQUIRE(dump);
  REQUIRE(dump->warnings.size() == 1);
  CHECK(dump->warnings[0].find("no packet traverses") != std::string::npos);
  auto listed = parse_arptables_list("Chain FORWARD (0 references)\n-j vm-12-arp -i vif2.1 \n",
                                     "nft-L.txt");
  REQUIRE(listed);
  CHECK(listed->warnings.size() == 1);
}

TEST_CASE("arptables errors name the line", "[arptables]") {
  auto refused = parse_arptables_list(
      test::read_data("samples/arptables-nft-A-FORWARD-error.txt"), "err.txt");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().str() ==
        "err.txt:1: expected \"Chain NAME (policy POLICY)\", got \"arptables: No "
        "chain/target/match by that name.\"");
  CHECK(list_error("Chain INPUT policy ACCEPT\n") ==
        "arp.txt:1: expected \"Chain NAME (policy POLICY)\" or \"Chain NAME (N references)\", "
        "got \"Chain INPUT policy ACCEPT\"");
  CHECK(list_error("Chain INPUT (policy ACCEPT lots of packets)\n") ==
        "arp.txt:1: expected \"(policy POLICY[ N packets, B bytes])\" or \"(N references)\", got "
        "\"(policy ACCEPT lots of packets)\"");
  CHECK(list_error("Chain INPUT (policy ACCEPT)\n-j DROP , pcnt=1 -- bcnt=2X \n") ==
        "arp.txt:2: expected counter numbers, got \", pcnt=1 -- bcnt=2X\"");
  CHECK(list_error("Chain INPUT (policy ACCEPT)\n-j DROP , pcnt=1 bcnt=2\n") ==
        "arp.txt:2: expected \", pcnt=PACKETS -- bcnt=BYTES\", got \", pcnt=1 bcnt=2\"");
  CHECK(list_error("Chain INPUT (policy ACCEPT)\nChain INPUT (policy DROP)\n") ==
        "arp.txt:2: expected a new chain, got \"INPUT\" again");
  CHECK(list_error("Chain INPUT (policy ACCEPT)\nsomething else\n") ==
        "arp.txt:2: expected a rule (\"-j TARGET ...\"), got \"something else\"");
  auto save = parse_arptables_save("*filter\n:INPUT ACCEPT\n-A FORWARD -j DROP\n", "s.txt");
  REQUIRE_FALSE(save);
  CHECK(save.error().line == 3);
}

TEST_CASE("arptables-save: table names in errors are escaped", "[arptables]") {
  auto save = parse_arptables_save("*filter\x1b[2J\x1b[31m\n-A INPUT -j ACCEPT\n", "s.txt");
  REQUIRE_FALSE(save);
  CHECK(save.error().str() ==
        "s.txt:2: expected a chain declared by a \":CHAIN\" line in table "
        "\"filter\\x1b[2J\\x1b[31m\", got \"INPUT\"");
}
