// Loading a change all or nothing (lib/sg/apply/transaction.cpp): the order
// of the loads, what a rollback restores of the sets, the dry-run text, and
// that apply_change() runs exactly transaction_steps().
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "fake_host.hpp"
#include "netfilter_tools.hpp"
#include "sg_desired.hpp"
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
