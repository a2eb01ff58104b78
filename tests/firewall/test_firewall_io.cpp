// FirewallIo::read_scope, the narrow read, against the fake runner: which
// listings it runs, how it tells an absent chain from a failed listing, and
// when it gives up (the caller then reads everything).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_runner.hpp"
#include "firewall_io.hpp"

using namespace vifwall;
using vifwall::test::FakeRunner;

namespace {

NetfilterTools nft_tools() {
  NetfilterTools tools;
  tools.iptables = {"/usr/sbin/iptables-nft-save", "/usr/sbin/iptables-nft-restore", Variant::nft, "1.8.9"};
  tools.ebtables = {"/usr/sbin/ebtables", "/usr/sbin/ebtables-save", "/usr/sbin/ebtables-restore", Variant::nft};
  tools.ipset = "/usr/sbin/ipset";
  return tools;
}

ReadScope vm_scope() {
  ReadScope scope;
  scope.iptables_required = {"BRIDGE-FIREWALL"};
  scope.iptables_optional = {"i-2-3-VM", "i-2-3-VM-def"};
  scope.ebtables_required = {"FORWARD"};
  scope.ebtables_optional = {"i-2-3-VM"};
  scope.wants_set = [](const std::string &name) { return name.rfind("i-2-3-VM", 0) == 0; };
  scope.needs_whole_read = [](const std::string &name) { return name == "i-2-3-VMt22_22"; };
  return scope;
}

// A host where A (i-2-3-VM) has its chains and sets, and B (i-2-5-VM) too.
void answer_host(FakeRunner &runner) {
  runner.answer("iptables-nft -S BRIDGE-FIREWALL",
                "-N BRIDGE-FIREWALL\n"
                "-A BRIDGE-FIREWALL -j BRIDGE-DEFAULT-FIREWALL\n"
                "-A BRIDGE-FIREWALL -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                "-A BRIDGE-FIREWALL -m physdev --physdev-in vif8.0 --physdev-is-bridged -j i-2-5-VM-def\n");
  runner.answer("iptables-nft -S i-2-3-VM", "-N i-2-3-VM\n-A i-2-3-VM -j DROP\n");
  runner.answer("iptables-nft -S i-2-3-VM-def", "", 1,
                "iptables v1.8.9 (nf_tables): chain `i-2-3-VM-def' in table `filter' is incompatible, use 'nft' tool.\n");
  runner.answer("ebtables -t filter -L FORWARD",
                "Bridge table: filter\n\nBridge chain: FORWARD, entries: 2, policy: ACCEPT\n"
                "-i vif7.0 -j i-2-3-VM\n-i other1 -j ACCEPT\n");
  runner.answer("ebtables -t filter -L i-2-3-VM",
                "Bridge table: filter\n\nBridge chain: i-2-3-VM, entries: 1, policy: RETURN\n-p ARP -j DROP\n");
  runner.answer("ebtables -t nat -L", "Bridge table: nat\n\nBridge chain: PREROUTING, entries: 0, policy: ACCEPT\n");
  runner.answer("ipset list -n", "i-2-3-VM\ni-2-3-VM-i1a\ni-2-5-VM\nblocklist\n");
  runner.answer("ipset save i-2-3-VM", "create i-2-3-VM hash:ip family inet hashsize 1024 maxelem 65536\n"
                                       "add i-2-3-VM 10.1.1.3\n");
  runner.answer("ipset save i-2-3-VM-i1a", "create i-2-3-VM-i1a hash:net family inet hashsize 1024 maxelem 65536\n"
                                           "add i-2-3-VM-i1a 10.0.0.0/8\n");
}

bool seen(const FakeRunner &runner, const std::string &key) {
  const auto keys = runner.keys_seen();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

} // namespace

TEST_CASE("read_scope lists the scope's chains and sets, nothing else", "[firewall_io]") {
  FakeRunner runner;
  answer_host(runner);
  FirewallIo io(runner, nft_tools());
  auto read = io.read_scope(vm_scope());
  REQUIRE(read);
  CHECK(runner.keys_seen() == std::vector<std::string>{
                                  "ipset list -n", "ipset save i-2-3-VM", "ipset save i-2-3-VM-i1a",
                                  "iptables-nft -S BRIDGE-FIREWALL", "iptables-nft -S i-2-3-VM",
                                  "iptables-nft -S i-2-3-VM-def", "ebtables -t filter -L FORWARD",
                                  "ebtables -t filter -L i-2-3-VM", "ebtables -t nat -L"});
  CHECK_FALSE(read->ebtables_whole);
  const LiveFirewall &live = read->live;
  // The absent -def chain is simply not there; BRIDGE-FIREWALL is whole.
  CHECK(live.iptables.chain("BRIDGE-FIREWALL"));
  CHECK(live.iptables.chain("i-2-3-VM"));
  CHECK_FALSE(live.iptables.chain("i-2-3-VM-def"));
  CHECK(live.iptables.rules_of("BRIDGE-FIREWALL").size() == 3);
  CHECK(live.ebtables.rules_of("FORWARD").size() == 2);
  CHECK(live.ebtables.chain("i-2-3-VM")->policy == "RETURN");
  REQUIRE(live.ipsets.sets.size() == 2);
  CHECK(live.ipsets.find("i-2-3-VM-i1a")->members == std::vector<std::string>{"10.0.0.0/8"});
  CHECK_FALSE(live.ipsets.find("i-2-5-VM"));
  CHECK_FALSE(live.ipsets.find("blocklist"));
  CHECK(live.ebtables_nat);
}

TEST_CASE("read_scope gives up rather than guess", "[firewall_io]") {
  FakeRunner runner;
  answer_host(runner);
  FirewallIo io(runner, nft_tools());
  SECTION("a required chain that is not there") {
    runner.answer("iptables-nft -S BRIDGE-FIREWALL", "", 1,
                  "iptables v1.8.9 (nf_tables): chain `BRIDGE-FIREWALL' in table `filter' is incompatible, use 'nft' tool.\n");
    CHECK_FALSE(io.read_scope(vm_scope()));
  }
  SECTION("an optional chain's listing that fails for another reason") {
    runner.answer("iptables-nft -S i-2-3-VM", "", 4, "iptables: Resource temporarily unavailable.\n");
    CHECK_FALSE(io.read_scope(vm_scope()));
  }
  SECTION("an absent message about another chain") {
    runner.answer("ebtables -t filter -L i-2-3-VM", "", 1,
                  "ebtables v1.8.9 (nf_tables): chain `FORWARD' in table `filter' is incompatible, use 'nft' tool.\n");
    CHECK_FALSE(io.read_scope(vm_scope()));
  }
  SECTION("a set in vmops' per-rule naming of the VM") {
    runner.answer("ipset list -n", "i-2-3-VM\ni-2-3-VMt22_22\n");
    auto read = io.read_scope(vm_scope());
    REQUIRE_FALSE(read);
    CHECK(read.error().str().find("i-2-3-VMt22_22") != std::string::npos);
  }
  SECTION("the set names cannot be listed") {
    runner.answers.erase("ipset list -n");
    CHECK_FALSE(io.read_scope(vm_scope()));
  }
}

TEST_CASE("read_scope reads ebtables whole when asked, or on legacy ebtables", "[firewall_io]") {
  FakeRunner runner;
  answer_host(runner);
  runner.answer("ebtables -t filter -L", "Bridge table: filter\n\nBridge chain: FORWARD, entries: 1, policy: ACCEPT\n"
                                         "-i vif7.0 -j i-2-3-VM\n\nBridge chain: i-2-5-VM, entries: 0, policy: RETURN\n");
  ReadScope scope = vm_scope();
  NetfilterTools tools = nft_tools();
  SECTION("asked") { scope.whole_ebtables = true; }
  SECTION("legacy") { tools.ebtables.variant = Variant::legacy; }
  FirewallIo io(runner, tools);
  auto read = io.read_scope(scope);
  REQUIRE(read);
  CHECK(read->ebtables_whole);
  CHECK(seen(runner, "ebtables -t filter -L"));
  CHECK_FALSE(seen(runner, "ebtables -t filter -L FORWARD"));
  CHECK(read->live.ebtables.chain("i-2-5-VM"));
}

TEST_CASE("read_scope saves all sets at once past max_set_listings", "[firewall_io]") {
  FakeRunner runner;
  answer_host(runner);
  runner.answer("ipset save", "create i-2-3-VM hash:ip family inet\nadd i-2-3-VM 10.1.1.3\n"
                              "create i-2-3-VM-i1a hash:net family inet\nadd i-2-3-VM-i1a 10.0.0.0/8\n"
                              "create blocklist hash:net family inet\n");
  ReadScope scope = vm_scope();
  scope.max_set_listings = 1;
  FirewallIo io(runner, nft_tools());
  auto read = io.read_scope(scope);
  REQUIRE(read);
  CHECK(seen(runner, "ipset save"));
  CHECK_FALSE(seen(runner, "ipset save i-2-3-VM"));
  REQUIRE(read->live.ipsets.sets.size() == 2);
  CHECK_FALSE(read->live.ipsets.find("blocklist"));
}

// ---- ip6tables ---------------------------------------------------------------

namespace {

NetfilterTools nft_tools_with_ip6() {
  NetfilterTools tools = nft_tools();
  tools.ip6tables = IptablesTools{"/usr/sbin/ip6tables-nft-save", "/usr/sbin/ip6tables-nft-restore", Variant::nft,
                                  "1.8.9"};
  return tools;
}

void answer_whole_read(FakeRunner &runner) {
  runner.answer("iptables-nft-save -t filter", "*filter\n:FORWARD ACCEPT [0:0]\n:BRIDGE-FIREWALL - [0:0]\n"
                                               "-A FORWARD -j BRIDGE-FIREWALL\nCOMMIT\n");
  runner.answer("ipset save", "create i-2-3-VM-6 hash:net family inet6 hashsize 1024 maxelem 65536\n"
                              "add i-2-3-VM-6 2001:db8::/64\n");
  runner.answer("ebtables -t filter -L", "Bridge table: filter\n\nBridge chain: FORWARD, entries: 0, policy: ACCEPT\n");
  runner.answer("ebtables -t nat -L", "Bridge table: nat\n\nBridge chain: PREROUTING, entries: 0, policy: ACCEPT\n");
}

} // namespace

TEST_CASE("read() takes ip6tables-save beside the other dumps, when the host has it", "[firewall_io][ip6tables]") {
  FakeRunner runner;
  answer_whole_read(runner);
  runner.answer("ip6tables-nft-save -t filter",
                "*filter\n:FORWARD ACCEPT [0:0]\n:BRIDGE-FIREWALL - [0:0]\n:i-2-3-VM - [0:0]\n"
                "-A FORWARD -m physdev --physdev-is-bridged -j BRIDGE-FIREWALL\n"
                "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM\n"
                "-A i-2-3-VM -m set --match-set i-2-3-VM-6 src -j ACCEPT\nCOMMIT\n");
  FirewallIo io(runner, nft_tools_with_ip6());
  auto live = io.read(false);
  REQUIRE(live);
  CHECK(seen(runner, "ip6tables-nft-save -t filter"));
  CHECK(live->ip6tables.name == "filter");
  CHECK(live->ip6tables.chain("i-2-3-VM"));
  CHECK(live->ip6tables.rules_of("BRIDGE-FIREWALL").size() == 1);
  CHECK(live->iptables.rules_of("BRIDGE-FIREWALL").empty()); // the families stay apart
  CHECK(live->ip6tables_text.find("i-2-3-VM-6") != std::string::npos);
  CHECK(live->ipsets.find("i-2-3-VM-6")->family == "inet6");
  SECTION("a failing ip6tables-save fails the read, as iptables-save would") {
    runner.answer("ip6tables-nft-save -t filter", "", 1, "ip6tables-save: something broke\n");
    auto failed = io.read(false);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().str().find("ip6tables-nft-save") != std::string::npos);
  }
}

TEST_CASE("read() without ip6tables leaves it empty, and that is no error", "[firewall_io][ip6tables]") {
  FakeRunner runner;
  answer_whole_read(runner);
  FirewallIo io(runner, nft_tools());
  auto live = io.read(false);
  REQUIRE(live);
  for (const auto &key : runner.keys_seen())
    CHECK(key.find("ip6tables") == std::string::npos);
  CHECK(live->ip6tables.chains.empty());
  CHECK(live->ip6tables.rules.empty());
  CHECK(live->ip6tables_text.empty());
  CHECK(live->iptables.chain("BRIDGE-FIREWALL"));
}

TEST_CASE("read_scope lists the scope's ip6tables chains with ip6tables -S", "[firewall_io][ip6tables]") {
  FakeRunner runner;
  answer_host(runner);
  runner.answer("ip6tables-nft -S BRIDGE-FIREWALL",
                "-N BRIDGE-FIREWALL\n"
                "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM\n");
  runner.answer("ip6tables-nft -S i-2-3-VM", "-N i-2-3-VM\n-A i-2-3-VM -s 2001:db8::/64 -j ACCEPT\n");
  runner.answer("ip6tables-nft -S i-2-3-VM-def", "", 1,
                "ip6tables v1.8.9 (nf_tables): chain `i-2-3-VM-def' in table `filter' is incompatible, use 'nft' tool.\n");
  ReadScope scope = vm_scope();
  scope.ip6tables_optional = {"BRIDGE-FIREWALL", "i-2-3-VM", "i-2-3-VM-def"};
  FirewallIo io(runner, nft_tools_with_ip6());
  auto read = io.read_scope(scope);
  REQUIRE(read);
  for (const char *key : {"ip6tables-nft -S BRIDGE-FIREWALL", "ip6tables-nft -S i-2-3-VM", "ip6tables-nft -S i-2-3-VM-def"})
    CHECK(seen(runner, key));
  CHECK_FALSE(seen(runner, "ip6tables-nft-save -t filter"));
  const LiveFirewall &live = read->live;
  CHECK(live.ip6tables.chain("BRIDGE-FIREWALL"));
  CHECK(live.ip6tables.rules_of("i-2-3-VM").size() == 1);
  CHECK_FALSE(live.ip6tables.chain("i-2-3-VM-def"));
  CHECK(live.iptables.rules_of("BRIDGE-FIREWALL").size() == 3); // iptables' own listing, unmixed
  SECTION("an absent optional BRIDGE-FIREWALL is no failure") {
    runner.answer("ip6tables-nft -S BRIDGE-FIREWALL", "", 1, "ip6tables: No chain/target/match by that name.\n");
    auto again = io.read_scope(scope);
    REQUIRE(again);
    CHECK_FALSE(again->live.ip6tables.chain("BRIDGE-FIREWALL"));
  }
  SECTION("a required one is") {
    scope.ip6tables_required = {"BRIDGE-FIREWALL"};
    scope.ip6tables_optional = {"i-2-3-VM"};
    runner.answer("ip6tables-nft -S BRIDGE-FIREWALL", "", 1, "ip6tables: No chain/target/match by that name.\n");
    CHECK_FALSE(io.read_scope(scope));
  }
  SECTION("without ip6tables nothing of it is listed") {
    runner.seen.clear();
    FirewallIo without(runner, nft_tools());
    auto plain = without.read_scope(scope);
    REQUIRE(plain);
    for (const auto &key : runner.keys_seen())
      CHECK(key.find("ip6tables") == std::string::npos);
    CHECK(plain->live.ip6tables.chains.empty());
  }
}

TEST_CASE("load_ip6tables is ip6tables-restore --noflush, as iptables' load is", "[firewall_io][ip6tables]") {
  FakeRunner runner;
  runner.answer("ip6tables-nft-restore --noflush", "");
  runner.answer("iptables-nft-restore --noflush", "");
  FirewallIo io(runner, nft_tools_with_ip6());
  REQUIRE(io.load_ip6tables("*filter\n-A FORWARD -j DROP\nCOMMIT\n"));
  REQUIRE(io.load_iptables("*filter\nCOMMIT\n"));
  REQUIRE(runner.seen.size() == 2);
  CHECK(runner.seen[0].argv == std::vector<std::string>{"/usr/sbin/ip6tables-nft-restore", "--noflush"});
  CHECK(runner.seen[0].input == "*filter\n-A FORWARD -j DROP\nCOMMIT\n");
  // The same arguments but the program: no -w on one and not the other.
  CHECK(std::vector<std::string>(runner.seen[0].argv.begin() + 1, runner.seen[0].argv.end()) ==
        std::vector<std::string>(runner.seen[1].argv.begin() + 1, runner.seen[1].argv.end()));
  FirewallIo without(runner, nft_tools());
  auto failed = without.load_ip6tables("*filter\nCOMMIT\n");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().str().rfind("ip6tables-restore: expected ip6tables-save and ip6tables-restore", 0) == 0);
  CHECK(runner.seen.size() == 2);
}
