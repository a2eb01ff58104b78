// The narrow read of a one-VM command (narrow_read.hpp, FirewallIo::
// read_scope): which listings a one-VM update, default and destroy run,
// that they leave exactly the firewall the whole read leaves, that other
// software's chains, rules and sets are never disturbed, and when the
// narrow read gives way to the whole one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_host.hpp"
#include "fake_runner.hpp"
#include "narrow_read.hpp"
#include "sg_apply.hpp"
#include "sg_names.hpp"
#include "text.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

// The listings (commands without input that are not a load or tool
// detection: -V, ipset version, ebtables -L INPUT, arptables -L FORWARD),
// as "tool args".
std::vector<std::string> listings(const FakeHost &host) {
  std::vector<std::string> out;
  for (const auto &command : host.received) {
    if (!command.input.empty())
      continue;
    const std::string key = FakeRunner::key_of(command.argv);
    if (key.find(" -V") != std::string::npos || key == "ipset version" ||
        key == "ebtables -t filter -L INPUT" || (key.rfind("arptables", 0) == 0 && key.find("-L FORWARD") != std::string::npos))
      continue;
    out.push_back(key);
  }
  return out;
}

bool has(const std::vector<std::string> &list, const std::string &item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// What other software added: a chain of its own with a rule, a rule in each
// chain we share (BRIDGE-FIREWALL, FORWARD in iptables and ebtables), an
// ebtables chain, and a set.
void add_foreign(FakeHost &host) {
  host.iptables.ensure("OTHER-TOOL", "-");
  host.iptables.rules.at("OTHER-TOOL").push_back("-s 192.0.2.0/24 -j ACCEPT");
  host.iptables.rules.at("FORWARD").push_back("-i eth1 -j OTHER-TOOL");
  host.iptables.rules.at("BRIDGE-FIREWALL").push_back("-m physdev --physdev-in eth9 --physdev-is-bridged -j ACCEPT");
  host.ebtables.ensure("other-eb", "RETURN");
  host.ebtables.rules.at("other-eb").push_back("-p IPv4 -j RETURN");
  host.ebtables.rules.at("FORWARD").push_back("-i eth1 -j other-eb");
  host.sets["blocklist"] = {"hash:net", {"192.0.2.0/24"}};
  host.set_order.push_back("blocklist");
}

const char *kRules = "I:tcp;22;22;10.0.0.0/8,NEXT E:udp;53;53;0.0.0.0/0,NEXT ";
const char *kOtherRules = "I:tcp;80;80;10.0.0.0/8,NEXT E:udp;53;53;0.0.0.0/0,NEXT ";

// A's life on a host with B and foreign rules: default, rules, an update,
// the same update again, destroy.  Returns each step's snapshot and loads.
struct Steps {
  std::vector<std::string> snapshots, loads;
  std::vector<std::vector<std::string>> listings;
};
Steps life_of_a(bool narrow) {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  add_foreign(host);
  SgOptions options = scene.options();
  options.narrow_read = narrow;
  Steps steps;
  auto step = [&](auto &&run) {
    host.received.clear();
    SgApplier applier(host, options);
    REQUIRE(run(applier));
    steps.snapshots.push_back(host.snapshot());
    std::string loaded;
    for (const auto &command : host.received)
      loaded += FakeRunner::key_of(command.argv) + "\n" + command.input;
    steps.loads.push_back(loaded);
    steps.listings.push_back(listings(host));
  };
  step([](SgApplier &a) { return a.apply_default(kVmA).has_value(); });
  step([](SgApplier &a) { return a.apply_rules(rules_for_a(kRules, "1")).has_value(); });
  step([](SgApplier &a) { return a.apply_rules(rules_for_a(kOtherRules, "2")).has_value(); });
  step([](SgApplier &a) { return a.apply_rules(rules_for_a(kOtherRules, "3")).has_value(); });
  step([](SgApplier &a) { return a.destroy(kVmA.vm_name).has_value(); });
  return steps;
}

// Only the loads (restore inputs and one-off edits), not the listings.
std::string loads_only(const std::string &all) {
  std::string out;
  for (const Line &line : split_lines(std::string_view(all)))
    if (!starts_with(line.text, "iptables -S") && !starts_with(line.text, "iptables-save") &&
        !starts_with(line.text, "ip6tables -S") && !starts_with(line.text, "ip6tables-save") &&
        !starts_with(line.text, "ip6tables -V") &&
        !starts_with(line.text, "ebtables -t filter -L") && !starts_with(line.text, "ipset save") &&
        !starts_with(line.text, "ipset list") && !starts_with(line.text, "ebtables -t nat -L") &&
        !starts_with(line.text, "ebtables -V") && !starts_with(line.text, "iptables -V") &&
        !starts_with(line.text, "ipset version"))
      out += std::string(line.text) + "\n";
  return out;
}

} // namespace

TEST_CASE("a one-VM rules update lists only its chains, BRIDGE-FIREWALL's jumps and its sets", "[sg_apply][narrow]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  add_foreign(host);
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  REQUIRE(SgApplier(host, scene.options()).apply_rules(rules_for_a(kRules, "1")));
  host.received.clear();
  auto updated = SgApplier(host, scene.options()).apply_rules(rules_for_a(kOtherRules, "2"));
  REQUIRE(updated);
  CHECK(updated->changed);
  const auto listed = listings(host);
  std::vector<std::string> expected{"iptables -S BRIDGE-FIREWALL",  "iptables -S i-2-3-VM",
                                    "iptables -S i-2-3-VM-eg",      "iptables -S i-2-3-VM-def",
                                    "ebtables -t filter -L FORWARD", "ebtables -t filter -L i-2-3-VM",
                                    "ipset list -n",                 "ebtables -t nat -L"};
  for (const auto &name : host.set_order)
    if (name.rfind("i-2-3-VM", 0) == 0)
      expected.push_back("ipset save " + name);
  // The sets as they were before the update (the new generation's sets
  // exist only after it).
  std::vector<std::string> listed_sets, expected_sets;
  for (const auto &key : listed)
    if (key.rfind("ipset save ", 0) == 0)
      listed_sets.push_back(key);
  for (const auto &key : expected)
    if (key.rfind("ipset save ", 0) == 0)
      expected_sets.push_back(key);
  CHECK(listed_sets.size() >= 2); // the VM's address set and a rule set
  for (const auto &key : listed_sets)
    CHECK(key.rfind("ipset save i-2-3-VM", 0) == 0);
  for (const auto &key : expected)
    if (key.rfind("ipset save ", 0) != 0)
      CHECK(has(listed, key));
  // Nothing else: no whole table, no other VM's chain or set.
  std::string all_listed;
  for (const auto &key : listed)
    all_listed += key + "\n";
  INFO(all_listed);
  CHECK(listed.size() == expected.size() - expected_sets.size() + listed_sets.size());
  for (const auto &key : listed) {
    CHECK(key.find("i-2-5-VM") == std::string::npos);
    CHECK(key != "iptables-save -t filter");
    CHECK(key != "ip6tables-save -t filter");
    CHECK(key != "ipset save");
    CHECK(key != "ebtables -t filter -L");
  }
  // The update edits iptables and sets only: no ebtables load.
  CHECK(host.inputs_of("ebtables-restore").empty());
}

TEST_CASE("the narrow read leaves exactly the firewall the whole read leaves", "[sg_apply][narrow]") {
  const Steps narrow = life_of_a(true);
  const Steps whole = life_of_a(false);
  REQUIRE(narrow.snapshots.size() == whole.snapshots.size());
  for (std::size_t i = 0; i < narrow.snapshots.size(); ++i) {
    INFO("step " << i);
    CHECK(narrow.snapshots[i] == whole.snapshots[i]);
    CHECK(loads_only(narrow.loads[i]) == loads_only(whole.loads[i]));
  }
  // The whole read lists every table each time; the narrow one never
  // lists iptables or ipset whole.
  for (const auto &list : narrow.listings) {
    CHECK_FALSE(has(list, "iptables-save -t filter"));
    CHECK_FALSE(has(list, "ipset save"));
  }
  for (const auto &list : whole.listings)
    CHECK(has(list, "iptables-save -t filter"));
  // The same update again changes nothing and loads nothing.
  CHECK(narrow.snapshots[3] == narrow.snapshots[2]);
  CHECK(loads_only(narrow.loads[3]).find("restore") == std::string::npos);
  // default (a new VM: its ebtables chain and jumps) reads the ebtables
  // table whole before loading it whole; destroy reads it whole at once.
  CHECK(has(narrow.listings[0], "ebtables -t filter -L FORWARD"));
  CHECK(has(narrow.listings[0], "ebtables -t filter -L"));
  CHECK_FALSE(has(narrow.listings[4], "ebtables -t filter -L FORWARD"));
  CHECK(has(narrow.listings[4], "ebtables -t filter -L"));
}

TEST_CASE("the narrow path never disturbs other software's chains, rules and sets", "[sg_apply][narrow]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  add_foreign(host);
  const std::string before = host.snapshot();
  const auto foreign_ipt_forward = host.iptables.rules.at("FORWARD");
  const auto foreign_eb_forward = host.ebtables.rules.at("FORWARD");
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  REQUIRE(applier.apply_rules(rules_for_a(kRules, "1")));
  REQUIRE(applier.apply_rules(rules_for_a(kOtherRules, "2")));
  // Still there, in order, while A has rules.
  CHECK(host.iptables.rules.at("OTHER-TOOL") == std::vector<std::string>{"-s 192.0.2.0/24 -j ACCEPT"});
  CHECK(host.iptables.rules.at("FORWARD") == foreign_ipt_forward);
  const auto &bridge_firewall = host.iptables.rules.at("BRIDGE-FIREWALL");
  CHECK(std::count(bridge_firewall.begin(), bridge_firewall.end(),
                   "-m physdev --physdev-in eth9 --physdev-is-bridged -j ACCEPT") == 1);
  CHECK(host.ebtables.rules.at("other-eb") == std::vector<std::string>{"-p IPv4 -j RETURN"});
  CHECK(std::count(host.ebtables.rules.at("FORWARD").begin(), host.ebtables.rules.at("FORWARD").end(),
                   "-i eth1 -j other-eb") == 1);
  CHECK(host.sets.at("blocklist").second == std::set<std::string>{"192.0.2.0/24"});
  REQUIRE(applier.destroy(kVmA.vm_name));
  // A gone, everything else as it was, B's rules included.
  CHECK(host.snapshot() == before);
  CHECK(host.ebtables.rules.at("FORWARD") == foreign_eb_forward);
}

TEST_CASE("vmops' per-rule sets of the VM, or a batch, take the whole read", "[sg_apply][narrow]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  SECTION("a set in vmops' naming") {
    host.sets["i-2-3-VMt22_22"] = {"hash:net", {"10.0.0.0/8"}};
    host.set_order.push_back("i-2-3-VMt22_22");
    host.received.clear();
    REQUIRE(SgApplier(host, scene.options()).apply_rules(rules_for_a(kRules, "1")));
    CHECK(has(listings(host), "iptables-save -t filter"));
    CHECK(has(listings(host), "ipset save"));
  }
  SECTION("a batch of two VMs") {
    host.received.clear();
    SgApplier applier(host, scene.options());
    std::vector<VmJob> jobs;
    jobs.push_back(applier.prepare_rules(rules_for_a(kRules, "1")).value());
    jobs.push_back(applier.prepare_destroy(kVmB.vm_name).value());
    REQUIRE(applier.run(std::move(jobs)));
    CHECK(has(listings(host), "iptables-save -t filter"));
  }
}

TEST_CASE("a narrow scope names the VM's chains and sets, and not its neighbours'", "[sg_apply][narrow]") {
  using apply_detail::narrow_scope;
  const ReadScope scope = narrow_scope({"i-2-3-VM"}, false, false);
  CHECK(scope.iptables_required == std::vector<std::string>{"BRIDGE-FIREWALL"});
  CHECK(scope.iptables_optional == std::vector<std::string>{"i-2-3-VM", "i-2-3-VM-eg", "i-2-3-VM-def"});
  CHECK(scope.ebtables_required == std::vector<std::string>{"FORWARD"});
  CHECK(scope.ebtables_optional == std::vector<std::string>{"i-2-3-VM"});
  CHECK(scope.wants_set("i-2-3-VM"));
  CHECK(scope.wants_set("vifwall-tmp-0123456"));
  CHECK_FALSE(scope.wants_set("i-2-33-VM"));
  CHECK_FALSE(scope.wants_set("blocklist"));
  CHECK_FALSE(scope.needs_whole_read("i-2-3-VM"));
  CHECK_FALSE(scope.needs_whole_read("i-2-33-VMt22_22"));
  CHECK(scope.needs_whole_read("i-2-3-VMt22_22"));
}

TEST_CASE("a narrow scope names the VM's ip6tables chains, all optional", "[sg_apply][narrow][ip6tables]") {
  using apply_detail::narrow_scope;
  // A VM that never had IPv6 has nothing in ip6tables or the IPv6 gate: no
  // listing of either (every one-VM update of every host would pay for it).
  const ReadScope v4 = narrow_scope({"i-2-3-VM"}, false, false);
  CHECK(v4.ip6tables_optional.empty());
  CHECK(v4.ebtables_optional == std::vector<std::string>{"i-2-3-VM"});
  const ReadScope scope = narrow_scope({"i-2-3-VM"}, false, false, true);
  CHECK(scope.ebtables_optional == std::vector<std::string>{"DEFAULT_EBTABLES_IPV6", "i-2-3-VM"});
  CHECK(scope.ip6tables_required.empty());
  CHECK(scope.ip6tables_optional ==
        std::vector<std::string>{"BRIDGE-FIREWALL", "i-2-3-VM", "i-2-3-VM-eg", "i-2-3-VM-def"});
}

TEST_CASE("a plan with ip6tables content needs ip6tables' BRIDGE-FIREWALL read, one without does not",
          "[sg_apply][narrow][ip6tables]") {
  using apply_detail::narrow_scope;
  using apply_detail::scope_covers;
  using apply_detail::VmTarget;
  const ReadScope scope = narrow_scope({"i-2-3-VM"}, false, false, true);
  auto defaults = render_user_vm_defaults(VmIdentity{"i-2-3-VM", "3", "10.147.41.238", {}, "06:f8:c8:00:00:09",
                                                     {"vif7.0"}},
                                          ArpFilter::ebtables);
  REQUIRE(defaults);
  LiveFirewall live; // no ip6tables at all (no tool, or no IPv6 layer)
  const VmTarget plain{"i-2-3-VM", *defaults, {"vif7.0"}};
  CHECK(scope_covers(scope, {plain}, live));
  VmTarget ip6 = plain;
  // An inet6 set in A's naming (a per-rule set name of A's).
  const std::string set = rule_set_name(names_for_vm("i-2-3-VM"), Direction::ingress, 9, 'b');
  add_ip6_chains(*ip6.plan, "i-2-3-VM", "vif7.0", set, {"2001:db8::/64"});
  CHECK_FALSE(scope_covers(scope, {ip6}, live)); // the caller then reads everything
  live.ip6tables.name = "filter";
  FwChain chain;
  chain.name = "BRIDGE-FIREWALL";
  chain.policy = "-";
  live.ip6tables.chains.push_back(chain);
  CHECK(scope_covers(scope, {ip6}, live));
  // A set the scope does not read (it would look missing every time), or a
  // chain it does not name: not covered either.
  VmTarget other_set = ip6;
  other_set.plan->sets.push_back(SetContent{"i-2-3-VM-v6", "hash:net", "inet6", {"2001:db8::/64"}});
  CHECK_FALSE(scope_covers(scope, {other_set}, live));
  ip6.plan->ip6tables.owned_chains.push_back(ChainContent{"i-2-5-VM", {{"-j", "DROP"}}, ""});
  CHECK_FALSE(scope_covers(scope, {ip6}, live));
}

TEST_CASE("the narrow read of a host without the IPv6 layer does not fall back to the whole read",
          "[sg_apply][narrow][ip6tables]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  REQUIRE_FALSE(host.ip6tables.rules.count("BRIDGE-FIREWALL"));
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  host.received.clear();
  REQUIRE(SgApplier(host, scene.options()).apply_rules(rules_for_a(kRules, "1")));
  const auto listed = listings(host);
  // An IPv4 VM's update lists nothing of ip6tables, and reads no whole table.
  CHECK_FALSE(has(listed, "ip6tables -S BRIDGE-FIREWALL"));
  CHECK_FALSE(has(listed, "iptables-save -t filter"));
  CHECK_FALSE(has(listed, "ip6tables-save -t filter"));
  CHECK(host.inputs_of("ip6tables-restore").empty());
}
