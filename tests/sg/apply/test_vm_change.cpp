// The change of a run (lib/sg/apply/vm_change.cpp): pure functions of the
// live tables (here the fake host's, read back) and the VMs' plans.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_host.hpp"
#include "sg_desired.hpp"
#include "sg_names.hpp"
#include "state_files.hpp"
#include "text.hpp"
#include "transaction.hpp"
#include "vm_change.hpp"

using namespace vifwall;
using namespace vifwall::apply_detail;
using namespace vifwall::test;

namespace {

VmState user_state(const DefaultRequest &request) {
  VmState state;
  state.kind = VmKind::user;
  state.vm_name = request.vm_name;
  state.vm_id = request.vm_id;
  state.ip = request.ip;
  state.mac = request.mac;
  state.vifs = request.vifs;
  state.dom_id = request.vifs.at(0).substr(3, request.vifs.at(0).find('.') - 3);
  return state;
}

VmTarget target_of(const DefaultRequest &request, char generation = 'a') {
  auto plan = plan_for_vm(user_state(request), {}, generation, ArpFilter::ebtables);
  REQUIRE(plan);
  return VmTarget{request.vm_name, std::move(*plan), request.vifs};
}

bool has(const std::vector<std::string> &names, const std::string &name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A host after setup and B's defaults (see fake_host.hpp's prepare()).
struct Prepared {
  Scene scene;
  FakeHost host;
  Prepared() { prepare(host, scene); }
};

} // namespace

TEST_CASE("describe_vms names a few VMs, and counts many", "[vm_change]") {
  CHECK(describe_vms({}) == "");
  CHECK(describe_vms({"i-2-3-VM"}) == "i-2-3-VM");
  CHECK(describe_vms({"a", "b", "c", "d"}) == "a, b, c, d");
  CHECK(describe_vms({"a", "b", "c", "d", "e", "f"}) == "6 VMs (a, b, c, ..., f)");
}

TEST_CASE("ebtables_plan gives ebtables-nft's user chains a RETURN policy", "[vm_change]") {
  TablePlan plan;
  plan.owned_chains = {ChainContent{"i-2-3-VM", {{"-j", "ACCEPT"}}, "ACCEPT"}};
  CHECK(ebtables_plan(plan, false) == plan);
  const TablePlan nft = ebtables_plan(plan, true);
  CHECK(nft.owned_chains.at(0).policy == "RETURN");
  CHECK(nft.owned_chains.at(0).rules == plan.owned_chains.at(0).rules);
}

TEST_CASE("the live index finds a VM's chains, sets and walled VIFs", "[vm_change]") {
  Prepared at;
  at.host.ebtables.ensure(kCutoffChain, "DROP");
  at.host.ebtables.rules.at("FORWARD").insert(at.host.ebtables.rules.at("FORWARD").begin(),
                                               "-i vif9.0 -j vifwall-cutoff");
  const LiveIndex index = index_live(live_of(at.host));
  CHECK(has_live_objects(index, {"i-2-5-VM"}, {}));
  CHECK_FALSE(has_live_objects(index, {"i-2-3-VM"}, {"vif7.0"}));
  CHECK(has_live_objects(index, {"i-2-3-VM"}, {"vif9.0"}));
  CHECK(index.sets.count("i-2-5-VM"));
  CHECK(index.walled_vifs.count("vif9.0"));
}

TEST_CASE("a new VM's change adds its objects and needs no wall", "[vm_change]") {
  Prepared at;
  const LiveFirewall live = live_of(at.host);
  const Change change = vm_change(live, {target_of(kVmA)}, true);
  CHECK(change.what == "i-2-3-VM");
  CHECK_FALSE(change.empty());
  CHECK_FALSE(change.quarantine);
  CHECK(change.quarantine_vifs == std::vector<std::string>{"vif7.0"});
  REQUIRE(change.sets_to_load.size() == 1);
  CHECK(change.sets_to_load[0].name == "i-2-3-VM");
  CHECK(change.existing_sets.empty());
  CHECK(change.sets_to_destroy.empty());
  std::vector<std::string> created;
  for (const auto &chain : change.iptables.new_chains)
    created.push_back(chain.name);
  std::sort(created.begin(), created.end());
  CHECK(created == std::vector<std::string>{"i-2-3-VM", "i-2-3-VM-def", "i-2-3-VM-eg"});
  CHECK(change.iptables.deletions.empty());
  CHECK(change.owned_ipt == std::set<std::string>{"i-2-3-VM", "i-2-3-VM-def", "i-2-3-VM-eg"});
  CHECK_FALSE(change.use_arptables);
  // The neighbour's rules are not ours.
  for (const auto &rule : live.iptables.rules)
    if (rule.target_name() == "i-2-5-VM")
      CHECK_FALSE(change.ours_ipt(rule));
}

TEST_CASE("the same plan again is an empty change", "[vm_change]") {
  Prepared at;
  REQUIRE(SgApplier(at.host, at.scene.options()).apply_default(
      DefaultRequest{kVmA.vm_name, kVmA.vm_id, kVmA.ip, kVmA.mac, "", kVmA.vifs}));
  const auto state = parse_vm_state(read_small_file(at.scene.state_file("i-2-3-VM.state")), "s").value();
  const Change change = vm_change(live_of(at.host), {target_of(kVmA, state.generation)}, true);
  CHECK(change.empty());
  CHECK(change_summary(change).empty());
}

TEST_CASE("an existing VM changing in several tables is walled off", "[vm_change]") {
  Prepared at;
  REQUIRE(SgApplier(at.host, at.scene.options()).apply_default(kVmA));
  const auto state = parse_vm_state(read_small_file(at.scene.state_file("i-2-3-VM.state")), "s").value();
  const Change change = vm_change(live_of(at.host), {target_of(kVmAMoved, state.generation)}, true);
  // Its ebtables chain (the address) and its address set change: two
  // layers, so the VIF is cut off meanwhile.  iptables matches the set.
  CHECK(change.quarantine);
  CHECK(change.quarantine_vifs == std::vector<std::string>{"vif7.0"});
  CHECK(change.iptables.empty());
  CHECK_FALSE(change.ebtables.empty());
  CHECK(change.existing_sets == std::vector<std::string>{"i-2-3-VM"});
  CHECK(change.refills_existing_set);
  const auto summary = change_summary(change);
  REQUIRE(summary.size() == 2);
  CHECK(starts_with(summary[0], "i-2-3-VM: ebtables +"));
  CHECK(summary[1] == "i-2-3-VM: ipset 1 loaded, 0 destroyed");
}

TEST_CASE("a destroy target removes that VM's chains and sets only", "[vm_change]") {
  Prepared at;
  REQUIRE(SgApplier(at.host, at.scene.options()).apply_default(kVmA));
  // A scratch set a killed run left goes too.
  at.host.sets["vifwall-tmp-1"] = {"hash:net", {}};
  at.host.set_order.push_back("vifwall-tmp-1");
  const Change change = vm_change(live_of(at.host), {VmTarget{"i-2-3-VM", std::nullopt, {"vif7.0"}}}, true);
  std::vector<std::string> destroyed = change.iptables.destroy_chains;
  std::sort(destroyed.begin(), destroyed.end());
  CHECK(destroyed == std::vector<std::string>{"i-2-3-VM", "i-2-3-VM-def", "i-2-3-VM-eg"});
  CHECK(change.ebtables.destroy_chains == std::vector<std::string>{"i-2-3-VM"});
  CHECK(has(change.sets_to_destroy, "i-2-3-VM"));
  CHECK(has(change.sets_to_destroy, "vifwall-tmp-1"));
  CHECK_FALSE(has(change.sets_to_destroy, "i-2-5-VM"));
  CHECK(change.sets_to_load.empty());
  for (const auto &deletion : change.iptables.deletions)
    CHECK(deletion.args.back().rfind("i-2-3-", 0) == 0);
  CHECK_FALSE(change.ebtables.result.chain("i-2-3-VM"));
  CHECK(change.ebtables.result.chain("i-2-5-VM"));
}

TEST_CASE("the host setup's change creates the host chains once", "[vm_change]") {
  Scene scene;
  FakeHost host;
  auto plan = render_host_setup({"eth0"}, ArpFilter::ebtables);
  REQUIRE(plan);
  const Change first = host_setup_change(live_of(host), *plan, true);
  CHECK(first.what == "host setup");
  CHECK_FALSE(first.iptables.empty());
  CHECK_FALSE(first.ebtables.empty());
  CHECK(first.sets_to_load.empty());
  CHECK_FALSE(first.quarantine);
  REQUIRE(SgApplier(host, scene.options()).setup({"eth0"}));
  CHECK(host_setup_change(live_of(host), *plan, true).empty());
}

namespace {

// The vmops-programmed fixture host (tests/data/sgshow/vmops-host) as
// sg-apply reads it, nat table included.
LiveFirewall vmops_live() {
  auto texts = read_firewall_snapshot(std::string(VIFWALL_TEST_DATA) + "/sgshow/vmops-host");
  REQUIRE(texts);
  auto snapshot = parse_firewall_texts(*texts);
  REQUIRE(snapshot);
  LiveFirewall live;
  live.iptables = *snapshot->iptables;
  live.ebtables = *snapshot->ebtables;
  live.arptables = *snapshot->arptables;
  live.ebtables_nat = *snapshot->ebtables_nat;
  live.ipsets = *snapshot->ipsets;
  return live;
}

VmTarget vmops_a_target() {
  VmState state;
  state.vm_name = "i-2-3-VM";
  state.vm_id = "3";
  state.ip = "10.147.41.238";
  state.secondary_ips = {"10.147.41.241"};
  state.mac = "06:f8:c8:00:00:09";
  state.vifs = {"vif7.0"};
  state.dom_id = "7";
  auto rules = parse_rule_string("I:tcp;22;22;0.0.0.0/0,NEXT ", "test");
  REQUIRE(rules);
  auto plan = plan_for_vm(state, *rules, 'a', ArpFilter::arptables);
  REQUIRE(plan);
  return VmTarget{state.vm_name, std::move(*plan), state.vifs};
}

} // namespace

TEST_CASE("a VM vmops programmed loses its nat MAC checks and its vmops sets", "[vm_change][vmops]") {
  const LiveFirewall live = vmops_live();
  const Change change = vm_change(live, {vmops_a_target()}, true);
  // Both copies of vif7.0's MAC check (positions 4 and 5), none of the others'.
  REQUIRE(change.nat_deletions.size() == 2);
  CHECK(change.nat_deletions[0].position == 4);
  CHECK(change.nat_deletions[1].position == 5);
  for (const auto &deletion : change.nat_deletions)
    CHECK(std::find(deletion.args.begin(), deletion.args.end(), "vif7.0") != deletion.args.end());
  // Its three per-rule sets, after iptables stopped using them; nobody else's.
  std::vector<std::string> destroyed = change.sets_to_destroy;
  std::sort(destroyed.begin(), destroyed.end());
  CHECK(destroyed == std::vector<std::string>{"i-2-3-VM-et80_80", "i-2-3-VMi8_0", "i-2-3-VMt80_80"});
  // The duplicated arptables jumps go.
  CHECK(change.arptables.deletions.size() == 2);
  // The nat deletions come after iptables' commit, the set removal after them.
  const auto steps = transaction_steps(change);
  std::vector<Step::Tool> tools;
  for (const auto &step : steps)
    tools.push_back(step.tool);
  const auto ipt = std::find(tools.begin(), tools.end(), Step::Tool::iptables);
  const auto nat = std::find(tools.begin(), tools.end(), Step::Tool::ebtables_nat);
  REQUIRE(ipt != tools.end());
  REQUIRE(nat != tools.end());
  CHECK(ipt < nat);
  CHECK(steps[nat - tools.begin()].args ==
        std::vector<std::string>{"-t", "nat", "-D", "PREROUTING", "-s", "!", "06:f8:c8:00:00:09", "-i", "vif7.0",
                                 "-j", "DROP"});
  CHECK(nat_restore_command(change.nat_deletions[0]) ==
        std::vector<std::string>{"-t", "nat", "-I", "PREROUTING", "4", "-s", "!", "06:f8:c8:00:00:09", "-i",
                                 "vif7.0", "-j", "DROP"});
}

TEST_CASE("a vmops set another chain still uses is kept", "[vm_change][vmops]") {
  LiveFirewall live = vmops_live();
  // An admin's rule outside the VM's chains matching one of its sets.
  live.iptables.rules.push_back(
      FwRule{"FORWARD", {"-m", "set", "--match-set", "i-2-3-VMt80_80", "src", "-j", "LOG"}, {}, 0});
  const Change change = vm_change(live, {vmops_a_target()}, true);
  CHECK(std::find(change.sets_to_destroy.begin(), change.sets_to_destroy.end(), "i-2-3-VMt80_80") ==
        change.sets_to_destroy.end());
  CHECK(std::find(change.sets_to_destroy.begin(), change.sets_to_destroy.end(), "i-2-3-VMi8_0") !=
        change.sets_to_destroy.end());
}

// ---- ip6tables ---------------------------------------------------------------

TEST_CASE("a vmops set an ip6tables rule still uses is kept", "[vm_change][vmops][ip6tables]") {
  LiveFirewall live = vmops_live();
  // Only ip6tables names it: the kernel would refuse its destruction all the same.
  live.ip6tables.name = "filter";
  live.ip6tables.rules.push_back(
      FwRule{"FORWARD", {"-m", "set", "--match-set", "i-2-3-VMt80_80", "src", "-j", "LOG"}, {}, 0});
  const Change change = vm_change(live, {vmops_a_target()}, true);
  CHECK(std::find(change.sets_to_destroy.begin(), change.sets_to_destroy.end(), "i-2-3-VMt80_80") ==
        change.sets_to_destroy.end());
  CHECK(std::find(change.sets_to_destroy.begin(), change.sets_to_destroy.end(), "i-2-3-VMi8_0") !=
        change.sets_to_destroy.end());
}

TEST_CASE("ip6tables chains and jumps count as the VM's: indexed, diffed, destroyed",
          "[vm_change][ip6tables]") {
  Prepared at;
  // A has nothing but an IPv6 chain, jumped to from a stale VIF (old domid).
  at.host.ip6tables.ensure("BRIDGE-FIREWALL", "-");
  at.host.ip6tables.ensure("i-2-3-VM", "-");
  at.host.ip6tables.rules.at("i-2-3-VM") = {"-j DROP"};
  at.host.ip6tables.rules.at("BRIDGE-FIREWALL") = {
      "-m physdev --physdev-out vif6.0 --physdev-is-bridged -j i-2-3-VM",
      "-m physdev --physdev-in eth9 --physdev-is-bridged -j ACCEPT"};
  const LiveFirewall live = live_of(at.host);
  const LiveIndex index = index_live(live);
  CHECK(has_live_objects(index, {"i-2-3-VM"}, {}));
  CHECK(index.chains_and_targets.count("i-2-3-VM"));

  VmTarget target = target_of(kVmA);
  add_ip6_chains(*target.plan, "i-2-3-VM", "vif7.0", "i-2-3-VM-6", {"2001:db8::/64"});
  const Change change = vm_change(live, {target}, true);
  // The stale jump is ours (its VIF is walled too), the foreign one is not.
  REQUIRE(change.ip6tables.deletions.size() == 1);
  CHECK(change.ip6tables.deletions[0].args ==
        std::vector<std::string>{"-m", "physdev", "--physdev-out", "vif6.0", "--physdev-is-bridged", "-j", "i-2-3-VM"});
  CHECK(has(change.quarantine_vifs, "vif6.0"));
  CHECK(change.quarantine); // A existed (in ip6tables only) and several tables change
  REQUIRE(change.ip6tables.replace_chains.size() == 1);
  CHECK(change.ip6tables.replace_chains[0].name == "i-2-3-VM");
  bool summarized = false;
  for (const auto &line : change_summary(change))
    summarized = summarized || starts_with(line, "i-2-3-VM: ip6tables +");
  CHECK(summarized);

  // Destroyed: the chain and our jump go, the foreign rule stays.
  const Change destroy = vm_change(live, {VmTarget{"i-2-3-VM", std::nullopt, {}}}, true);
  CHECK(destroy.ip6tables.destroy_chains == std::vector<std::string>{"i-2-3-VM"});
  REQUIRE(destroy.ip6tables.deletions.size() == 1);
  CHECK(destroy.ip6tables.deletions[0].args.back() == "i-2-3-VM");
}

TEST_CASE("the host setup adds the IPv6 layer when planned, and never removes it", "[vm_change][ip6tables]") {
  Prepared at;
  auto setup = render_host_setup({"eth0"}, ArpFilter::ebtables);
  REQUIRE(setup);
  // Without an IPv6 plan, ip6tables is left alone, even holding the layer.
  at.host.ip6tables.ensure("BRIDGE-DEFAULT-FIREWALL", "-");
  at.host.ip6tables.ensure("BRIDGE-FIREWALL", "-");
  at.host.ip6tables.rules.at("BRIDGE-FIREWALL") = {"-j BRIDGE-DEFAULT-FIREWALL"};
  at.host.ip6tables.rules.at("FORWARD") = {"-m physdev --physdev-is-bridged -j BRIDGE-FIREWALL"};
  const Change untouched = host_setup_change(live_of(at.host), *setup, true);
  CHECK(untouched.ip6tables.empty());
  CHECK(untouched.empty());
  // With one, the layer is made to match the plan (its owned chain refilled).
  setup->ip6tables = ip6_host_layer();
  const Change layer = host_setup_change(live_of(at.host), *setup, true);
  REQUIRE(layer.ip6tables.replace_chains.size() == 1);
  CHECK(layer.ip6tables.replace_chains[0].name == "BRIDGE-DEFAULT-FIREWALL");
  CHECK(layer.ip6tables.family == Family::ip6tables);
  CHECK(layer.iptables.empty());
}
