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
