// Loading a change all or nothing (lib/sg/apply/transaction.cpp): the order
// of the loads, what a rollback restores of the sets, the dry-run text, and
// that apply_change() runs exactly transaction_steps().
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_host.hpp"
#include "netfilter_tools.hpp"
#include "sg_desired.hpp"
#include "sg_names.hpp"
#include "sg_rules.hpp"
#include "state_files.hpp"
#include "text.hpp"
#include "transaction.hpp"

using namespace vifwall;
using namespace vifwall::apply_detail;
using namespace vifwall::test;

namespace {

using Tool = Step::Tool;

// Rules for A: with its new address, every table and the sets change.
const std::string kRules = "I:tcp;22;22;10.0.0.0/8,NEXT ";

// `rules`: a CloudStack rule string ("" for none).
VmTarget target_of(const DefaultRequest &request, char generation, const std::string &rules = "") {
  auto parsed = parse_rule_string(rules, "test");
  REQUIRE(parsed);
  VmState state;
  state.vm_name = request.vm_name;
  state.vm_id = request.vm_id;
  state.ip = request.ip;
  state.mac = request.mac;
  state.vifs = request.vifs;
  auto plan = plan_for_vm(state, *parsed, generation, ArpFilter::ebtables);
  REQUIRE(plan);
  return VmTarget{request.vm_name, std::move(*plan), request.vifs};
}

std::vector<Tool> tools_of(const std::vector<Step> &steps) {
  std::vector<Tool> out;
  for (const auto &step : steps)
    out.push_back(step.tool);
  return out;
}

std::vector<std::string> whats_of(const std::vector<Step> &steps) {
  std::vector<std::string> out;
  for (const auto &step : steps)
    out.push_back(step.what);
  return out;
}

// A host with setup, B and A's defaults; `generation`: A's.
struct WithA {
  Scene scene;
  FakeHost host;
  char generation = 'a';
  WithA() {
    prepare(host, scene);
    REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
    generation = parse_vm_state(read_small_file(scene.state_file("i-2-3-VM.state")), "s").value().generation;
    host.received.clear();
  }
};

} // namespace

TEST_CASE("an empty change has no steps and renders nothing", "[transaction]") {
  const Change change;
  CHECK(transaction_steps(change).empty());
  CHECK(render_dry_run(change).empty());
}

TEST_CASE("a change without a wall loads ebtables first, then sets, then iptables", "[transaction]") {
  // A new VM on an empty host: nothing of it is live yet.
  const Change added = vm_change(live_of(FakeHost()), {target_of(kVmA, 'a')}, true);
  REQUIRE_FALSE(added.quarantine);
  const auto steps = transaction_steps(added);
  CHECK(tools_of(steps) == std::vector<Tool>{Tool::ebtables, Tool::ipset, Tool::iptables});
  CHECK(whats_of(steps) == std::vector<std::string>{"ebtables-restore", "ipset restore", "iptables-restore"});
  CHECK(steps[0].input == render_ebtables_table(added.ebtables.result));
  CHECK(steps[1].input == render_ipset_restore(added.sets_to_load, added.existing_sets));
  CHECK(steps[2].input == render_iptables_edit(added.iptables));
  CHECK_FALSE(contains(steps[0].input, kCutoffChain));
}

TEST_CASE("a walled change cuts the VIFs off first and lets them go last", "[transaction]") {
  WithA at;
  const Change change = vm_change(live_of(at.host), {target_of(kVmAMoved, at.generation, kRules)}, true);
  REQUIRE(change.quarantine);
  const auto steps = transaction_steps(change);
  CHECK(whats_of(steps) == std::vector<std::string>{"ebtables-restore", "ipset restore", "iptables-restore",
                                                    "ebtables-restore (lifting the cut-off)"});
  CHECK(contains(steps.front().input, "-A FORWARD -i vif7.0 -j vifwall-cutoff\n"));
  CHECK(contains(steps.front().input, "-A FORWARD -o vif7.0 -j vifwall-cutoff\n"));
  CHECK_FALSE(contains(steps.back().input, kCutoffChain));
  CHECK(steps.back().input == render_ebtables_table(change.ebtables.result));

  const std::string dry = render_dry_run(change);
  const auto at_of = [&](const std::string &heading) { return dry.find(heading); };
  const auto sets = at_of("# ipset -exist restore\n");
  const auto wall = at_of("# ebtables-restore (1/2: the VM's VIFs cut off while the other tables change)\n");
  const auto ipt = at_of("# iptables-restore --noflush\n");
  const auto lift = at_of("# ebtables-restore (2/2)\n");
  REQUIRE(lift != std::string::npos);
  CHECK(sets < wall);
  CHECK(wall < ipt);
  CHECK(ipt < lift);
  CHECK(contains(dry, steps.front().input));
  CHECK(ends_with(dry, steps.back().input));
}

TEST_CASE("a destroy drops the sets after iptables, before the wall comes down", "[transaction]") {
  WithA at;
  const Change change = vm_change(live_of(at.host), {VmTarget{"i-2-3-VM", std::nullopt, {"vif7.0"}}}, true);
  REQUIRE(change.quarantine);
  const auto steps = transaction_steps(change);
  CHECK(whats_of(steps) == std::vector<std::string>{"ebtables-restore", "iptables-restore", "ipset destroy",
                                                    "ebtables-restore (lifting the cut-off)"});
  CHECK(steps[2].input == render_ipset_destroy(change.sets_to_destroy));
  CHECK(contains(render_dry_run(change), "# ipset restore (after iptables and ip6tables stopped using them)\n" +
                                             render_ipset_destroy(change.sets_to_destroy)));
}

TEST_CASE("arptables edits run one command each, between the sets and iptables", "[transaction]") {
  Change change;
  change.what = "i-2-3-VM";
  change.arptables.family = Family::arptables;
  change.arptables.new_chains = {ChainContent{"i-2-3-VM", {{"-j", "DROP"}}, ""}};
  change.arptables.insertions = {RuleInsertion{"FORWARD", {"-j", "i-2-3-VM", "-i", "vif7.0"}, 0}};
  change.iptables.create_chains = {"BRIDGE-FIREWALL"};
  change.sets_to_load = {SetContent{"i-2-3-VM", "hash:ip", "inet", {"10.147.41.238"}}};
  change.quarantine = true;
  change.quarantine_vifs = {"vif7.0"};
  const auto steps = transaction_steps(change);
  CHECK(tools_of(steps) == std::vector<Tool>{Tool::ebtables, Tool::ipset, Tool::arptables, Tool::arptables,
                                             Tool::arptables, Tool::iptables, Tool::ebtables});
  CHECK(steps[2].args == std::vector<std::string>{"-N", "i-2-3-VM"});
  CHECK(steps[3].args == std::vector<std::string>{"-A", "i-2-3-VM", "-j", "DROP"});
  CHECK(steps[4].args == std::vector<std::string>{"-A", "FORWARD", "-j", "i-2-3-VM", "-i", "vif7.0"});
  CHECK(steps[2].input.empty());
  CHECK(contains(render_dry_run(change), "# arptables commands\narptables -N i-2-3-VM\n"
                                         "arptables -A i-2-3-VM -j DROP\n"
                                         "arptables -A FORWARD -j i-2-3-VM -i vif7.0\n"));
}

TEST_CASE("rollback_sets restores changed sets and names the created ones", "[transaction]") {
  Change change;
  change.sets_to_load = {SetContent{"refilled", "hash:net", "inet", {"10.0.0.2"}},
                         SetContent{"created", "hash:net", "inet", {"10.0.0.3"}},
                         SetContent{"untouched", "hash:net", "inet", {"10.0.0.4"}}};
  change.sets_to_destroy = {"destroyed", "never-there"};
  IpsetDump before, now;
  before.sets = {IpSet{}, IpSet{}, IpSet{}};
  before.sets[0].name = "refilled";
  before.sets[0].type = "hash:net";
  before.sets[0].members = {"10.0.0.1"};
  before.sets[1].name = "untouched";
  before.sets[1].type = "hash:net";
  before.sets[1].members = {"10.0.0.4"};
  before.sets[2].name = "destroyed";
  before.sets[2].type = "hash:ip";
  before.sets[2].family = "inet";
  before.sets[2].members = {"10.0.0.5"};
  now.sets = {before.sets[0], before.sets[1], IpSet{}};
  now.sets[0].members = {"10.0.0.2"};
  now.sets[2].name = "created";
  now.sets[2].type = "hash:net";
  const SetRollback rollback = rollback_sets(change, before, now);
  REQUIRE(rollback.restore.size() == 2);
  CHECK(rollback.restore[0] == SetContent{"refilled", "hash:net", "inet", {"10.0.0.1"}});
  CHECK(rollback.restore[1] == SetContent{"destroyed", "hash:ip", "inet", {"10.0.0.5"}});
  CHECK(rollback.existing == std::vector<std::string>{"refilled"});
  CHECK(rollback.created == std::vector<std::string>{"created"});
}

TEST_CASE("apply_change runs exactly the transaction's steps, in order", "[transaction]") {
  WithA at;
  auto tools = detect_netfilter_tools(at.host, IptablesChoice::automatic);
  REQUIRE(tools);
  FirewallIo io(at.host, *tools);
  auto live = io.read(false);
  REQUIRE(live);
  const Change change = vm_change(*live, {target_of(kVmAMoved, at.generation, kRules)}, true);
  const auto steps = transaction_steps(change);
  at.host.received.clear();
  REQUIRE(apply_change(io, change, *live));
  std::vector<std::string> loaded;
  for (const auto &command : at.host.received)
    if (!command.input.empty())
      loaded.push_back(command.input);
  std::vector<std::string> planned;
  for (const auto &step : steps)
    planned.push_back(step.input);
  CHECK(loaded == planned);
  // And the tables hold the change.
  CHECK(vm_change(live_of(at.host), {target_of(kVmAMoved, at.generation, kRules)}, true).empty());
}

TEST_CASE("a failed step names the change and the step, and puts the tables back", "[transaction]") {
  WithA at;
  auto tools = detect_netfilter_tools(at.host, IptablesChoice::automatic);
  REQUIRE(tools);
  FirewallIo io(at.host, *tools);
  auto live = io.read(false);
  REQUIRE(live);
  const std::string before = at.host.snapshot();
  const Change change = vm_change(*live, {target_of(kVmAMoved, at.generation, kRules)}, true);
  at.host.refuse["iptables-restore"] = -1;
  auto failed = apply_change(io, change, *live);
  REQUIRE_FALSE(failed);
  CHECK(starts_with(failed.error().str(), "i-2-3-VM: iptables-restore failed, nothing of this change was kept: "));
  CHECK(at.host.snapshot() == before);
}

// ---- ip6tables, the IPv6 twin of iptables ------------------------------------

namespace {

// A host with setup (its IPv6 layer included), B and A's defaults, and a
// FirewallIo over it.
struct WithIp6 : WithA {
  FirewallIo io{host, fake_tools(host)};
  WithIp6() {
    auto setup = render_host_setup({"eth0"}, ArpFilter::ebtables);
    REQUIRE(setup);
    setup->ip6tables = ip6_host_layer();
    auto live = io.read(false);
    REQUIRE(live);
    REQUIRE(apply_change(io, host_setup_change(*live, *setup, true), *live));
    host.received.clear();
  }
  LiveFirewall read() {
    auto live = io.read(false);
    REQUIRE(live);
    return std::move(*live);
  }
};

// A as its state file records it (its plan is what the tables hold).
VmTarget recorded_a(const WithA &at) {
  auto state = load_vm_state(at.scene.options().state_dir, "i-2-3-VM");
  REQUIRE(state);
  auto plan = plan_for_state(*state);
  REQUIRE(plan);
  return VmTarget{"i-2-3-VM", std::move(*plan), state->vifs};
}

// An inet6 set name sg-apply counts as A's (a per-rule set name of A's that
// its IPv4 rules do not use), so that a destroy takes it.
std::string a_ip6_set() { return rule_set_name(names_for_vm("i-2-3-VM"), Direction::ingress, 9, 'b'); }

// A's IPv6 ingress chain without a set: an ip6tables-only change.
VmTarget with_ip6_only(VmTarget target) {
  target.plan->ip6tables.owned_chains = {
      ChainContent{"i-2-3-VM", {{"-s", "2001:db8::/64", "-j", "ACCEPT"}, {"-j", "DROP"}}, ""}};
  target.plan->ip6tables.shared_chains = {"BRIDGE-FIREWALL"};
  target.plan->ip6tables.jumps_first = {RuleSpec{
      "BRIDGE-FIREWALL", {"-m", "physdev", "--physdev-out", "vif7.0", "--physdev-is-bridged", "-j", "i-2-3-VM"}}};
  return target;
}

VmTarget with_ip6_set(VmTarget target, const std::vector<std::string> &members) {
  add_ip6_chains(*target.plan, "i-2-3-VM", "vif7.0", a_ip6_set(), members);
  return target;
}

} // namespace

TEST_CASE("an ip6tables-only change is one ip6tables-restore --noflush", "[transaction][ip6tables]") {
  WithIp6 at;
  const LiveFirewall live = at.read();
  const Change change = vm_change(live, {with_ip6_only(recorded_a(at))}, true);
  REQUIRE(change.iptables.empty());
  REQUIRE(change.ebtables.empty());
  REQUIRE(change.sets_to_load.empty());
  CHECK_FALSE(change.quarantine);
  const std::string expected = "*filter\n"
                               ":i-2-3-VM - [0:0]\n"
                               "-A i-2-3-VM -s 2001:db8::/64 -j ACCEPT\n"
                               "-A i-2-3-VM -j DROP\n"
                               "-I BRIDGE-FIREWALL 2 -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM\n"
                               "COMMIT\n";
  const auto steps = transaction_steps(change);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].tool == Tool::ip6tables);
  CHECK(steps[0].what == "ip6tables-restore");
  CHECK(steps[0].input == expected);
  CHECK(render_dry_run(change) == "# ip6tables-restore --noflush\n" + expected);
  CHECK(change_summary(change) == std::vector<std::string>{"i-2-3-VM: ip6tables +3 -0 rules, 1 chain created"});

  REQUIRE(apply_change(at.io, change, live));
  std::vector<std::string> loads;
  for (const auto &command : at.host.received)
    if (!command.input.empty())
      loads.push_back(join_from(command.argv, 0).substr(command.argv[0].rfind('/') + 1));
  CHECK(loads == std::vector<std::string>{"ip6tables-restore --noflush"});
  CHECK(at.host.inputs_of("ip6tables-restore") == std::vector<std::string>{expected});
  CHECK(at.host.ip6tables.rules.at("BRIDGE-FIREWALL") ==
        std::vector<std::string>{"-j BRIDGE-DEFAULT-FIREWALL",
                                 "-m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM"});
  // The same plan again: nothing to do.
  const Change again = vm_change(at.read(), {with_ip6_only(recorded_a(at))}, true);
  CHECK(again.empty());
  CHECK(transaction_steps(again).empty());
}

TEST_CASE("sets load before both tables, ip6tables commits before iptables, destroys come after both",
          "[transaction][ip6tables]") {
  WithIp6 at;
  const LiveFirewall live = at.read();
  const Change change =
      vm_change(live, {with_ip6_set(target_of(kVmAMoved, at.generation, kRules), {"2001:db8::/64"})}, true);
  REQUIRE(change.quarantine);
  const auto steps = transaction_steps(change);
  CHECK(whats_of(steps) == std::vector<std::string>{"ebtables-restore", "ipset restore", "ip6tables-restore",
                                                    "iptables-restore", "ebtables-restore (lifting the cut-off)"});
  CHECK(contains(steps[1].input, "create " + a_ip6_set() + " hash:net family inet6"));
  CHECK(contains(steps[2].input, "-A i-2-3-VM -m set --match-set " + a_ip6_set() + " src -j ACCEPT\n"));
  CHECK_FALSE(contains(steps[3].input, a_ip6_set()));
  const std::string dry = render_dry_run(change);
  const auto ip6 = dry.find("# ip6tables-restore --noflush\n" + steps[2].input);
  const auto ip4 = dry.find("# iptables-restore --noflush\n");
  REQUIRE(ip6 != std::string::npos);
  CHECK(ip6 < ip4);

  REQUIRE(apply_change(at.io, change, live));
  CHECK(at.host.sets.count(a_ip6_set()));
  const Change again =
      vm_change(at.read(), {with_ip6_set(target_of(kVmAMoved, at.generation, kRules), {"2001:db8::/64"})}, true);
  CHECK(again.empty());

  // A destroyed: its ip6tables chain and jump go, and its inet6 set only
  // after both tables stopped naming it.
  const LiveFirewall now = at.read();
  const Change destroy = vm_change(now, {VmTarget{"i-2-3-VM", std::nullopt, {"vif7.0"}}}, true);
  CHECK(destroy.ip6tables.destroy_chains == std::vector<std::string>{"i-2-3-VM"});
  REQUIRE(destroy.ip6tables.deletions.size() == 1);
  CHECK(destroy.ip6tables.deletions[0].chain == "BRIDGE-FIREWALL");
  CHECK(std::find(destroy.sets_to_destroy.begin(), destroy.sets_to_destroy.end(), a_ip6_set()) !=
        destroy.sets_to_destroy.end());
  CHECK(whats_of(transaction_steps(destroy)) ==
        std::vector<std::string>{"ebtables-restore", "ip6tables-restore", "iptables-restore", "ipset destroy",
                                 "ebtables-restore (lifting the cut-off)"});
  REQUIRE(apply_change(at.io, destroy, now));
  CHECK_FALSE(at.host.ip6tables.rules.count("i-2-3-VM"));
  CHECK(at.host.ip6tables.rules.at("BRIDGE-FIREWALL") == std::vector<std::string>{"-j BRIDGE-DEFAULT-FIREWALL"});
  CHECK_FALSE(at.host.sets.count(a_ip6_set()));
}

TEST_CASE("a failed ip6tables-restore puts the sets and ebtables back, iptables untouched",
          "[transaction][ip6tables]") {
  WithIp6 at;
  const LiveFirewall live = at.read();
  const std::string before = at.host.snapshot();
  const Change change =
      vm_change(live, {with_ip6_set(target_of(kVmAMoved, at.generation, kRules), {"2001:db8::/64"})}, true);
  REQUIRE(change.quarantine);
  at.host.refuse["ip6tables-restore"] = -1;
  auto failed = apply_change(at.io, change, live);
  REQUIRE_FALSE(failed);
  INFO(failed.error().str());
  CHECK(starts_with(failed.error().str(),
                    "i-2-3-VM: ip6tables-restore failed, nothing of this change was kept: "));
  CHECK(contains(failed.error().str(), "ip6tables-restore: refused by the fake kernel"));
  CHECK(at.host.inputs_of("iptables-restore").empty());
  CHECK_FALSE(at.host.sets.count(a_ip6_set())); // created, then destroyed again
  CHECK(at.host.snapshot() == before);
}

TEST_CASE("a failed iptables-restore puts ip6tables back exactly as it was read", "[transaction][ip6tables]") {
  WithIp6 at;
  // A already has IPv6 chains; the change replaces them and moves A.
  {
    const LiveFirewall live = at.read();
    REQUIRE(apply_change(at.io, vm_change(live, {with_ip6_set(target_of(kVmA, at.generation), {"2001:db8::/64"})}, true),
                         live));
  }
  at.host.ip6tables.rules.at("BRIDGE-FIREWALL").push_back("-m physdev --physdev-in eth9 --physdev-is-bridged -j ACCEPT");
  const LiveFirewall live = at.read();
  const Table ip6_before = at.host.ip6tables;
  const std::string before = at.host.snapshot();
  VmTarget target = with_ip6_set(target_of(kVmAMoved, at.generation, kRules), {"2001:db8:1::/64"});
  target.plan->ip6tables.owned_chains[0].rules.insert(target.plan->ip6tables.owned_chains[0].rules.begin(),
                                                      {"-p", "ipv6-icmp", "-j", "ACCEPT"});
  const Change change = vm_change(live, {target}, true);
  REQUIRE_FALSE(change.ip6tables.empty());
  at.host.received.clear();
  at.host.refuse["iptables-restore"] = -1;
  auto failed = apply_change(at.io, change, live);
  REQUIRE_FALSE(failed);
  CHECK(starts_with(failed.error().str(), "i-2-3-VM: iptables-restore failed, nothing of this change was kept: "));
  // ip6tables took its edit, then its inverse.
  CHECK(at.host.inputs_of("ip6tables-restore") ==
        std::vector<std::string>{render_iptables_edit(change.ip6tables),
                                 render_iptables_edit(inverse_edit(change.ip6tables, live.ip6tables))});
  CHECK(at.host.ip6tables == ip6_before);
  CHECK(at.host.snapshot() == before);
}
