// SgApplier under faults, with the fake host of fake_host.hpp standing in
// for the netfilter tools.  A test tells the fake to refuse a given load (or
// to hide a tool) and then checks the error message, the commands the fake
// received, and that the modelled tables are exactly as before the run.
// ARP filtering goes into ebtables (--arp-filter ebtables), so every change
// of a run goes through a modelled table.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fake_host.hpp"
#include "sg_apply.hpp"

using namespace vifwall;
using namespace vifwall::test;
namespace fs = std::filesystem;

TEST_CASE("the fake host takes a whole default/rules/destroy cycle back to where it started", "[sg_apply_faults]") {
  // The model is faithful enough for the fault tests: sg-apply reads back
  // what it loaded, finds nothing to change the second time, and destroy
  // restores the exact starting tables.
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  SgApplier applier(host, scene.options());
  auto applied = applier.apply_default(kVmA);
  REQUIRE(applied);
  CHECK(applied->changed);
  REQUIRE(applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1")));
  auto again = SgApplier(host, scene.options()).apply_default(kVmA);
  REQUIRE(again);
  CHECK_FALSE(again->changed);
  REQUIRE(SgApplier(host, scene.options()).destroy(kVmA.vm_name));
  CHECK(host.snapshot() == before);
}

TEST_CASE("a refused iptables-restore: the ebtables and ipset loads before it are undone", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  host.refuse["iptables-restore"] = -1;
  SgApplier applier(host, scene.options());
  auto result = applier.apply_default(kVmA);
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(contains(message, "i-2-3-VM: iptables-restore failed, nothing of this change was kept"));
  CHECK(contains(message, "refused by the fake kernel"));
  // The order of the loads: the set created, A's ebtables rules (a new VM
  // needs no cut-off: ebtables only restricts, and goes first), iptables
  // refused; then the rollback destroys the new set and restores ebtables.
  const auto eb = host.inputs_of("ebtables-restore");
  const auto sets = host.inputs_of("ipset");
  REQUIRE(eb.size() == 2);
  CHECK(contains(eb[0], "vif7.0"));
  CHECK_FALSE(contains(eb[0], "vifwall-cutoff"));
  CHECK_FALSE(contains(eb[1], "vif7.0"));
  REQUIRE(sets.size() == 2);
  CHECK(contains(sets[0], "create i-2-3-VM hash:net"));
  CHECK(contains(sets[1], "destroy i-2-3-VM"));
  CHECK(host.snapshot() == before);
  // No state file was written for A.
  CHECK_FALSE(fs::exists(scene.dir + "/state/i-2-3-VM.state"));
  CHECK_FALSE(fs::exists(scene.dir + "/state/i-2-3-VM.log"));
}

TEST_CASE("a refused rules change keeps the old rules and the old sets", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  REQUIRE(applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1")));
  const std::string before = host.snapshot();
  std::ifstream log_in(scene.dir + "/state/i-2-3-VM.log");
  const std::string log_before((std::istreambuf_iterator<char>(log_in)), {});
  host.refuse["iptables-restore"] = -1;
  auto result = SgApplier(host, scene.options()).apply_rules(rules_for_a("I:tcp;80;80;10.1.0.0/16,NEXT ", "2"));
  REQUIRE_FALSE(result);
  CHECK(contains(result.error().str(), "iptables-restore failed"));
  CHECK(host.snapshot() == before);
  std::ifstream log_after_in(scene.dir + "/state/i-2-3-VM.log");
  CHECK(std::string((std::istreambuf_iterator<char>(log_after_in)), {}) == log_before);
}

TEST_CASE("a new VM is programmed without a cut-off, ebtables before iptables", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  const auto eb = host.inputs_of("ebtables-restore");
  REQUIRE(eb.size() == 1);
  CHECK_FALSE(contains(eb[0], "vifwall-cutoff"));
  std::vector<std::string> loads;
  for (const auto &command : host.received) {
    const std::string tool = command.argv[0].substr(command.argv[0].rfind('/') + 1);
    if (tool == "ebtables-restore" || tool == "iptables-restore")
      loads.push_back(tool);
  }
  CHECK(loads == std::vector<std::string>{"ebtables-restore", "iptables-restore"});
  // Once it has rules, a change of its address touches several tables:
  // behind the wall, which the second ebtables load takes down.
  host.received.clear();
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmAMoved));
  const auto moved = host.inputs_of("ebtables-restore");
  REQUIRE(moved.size() == 2);
  CHECK(contains(moved[0], "-A FORWARD -i vif7.0 -j vifwall-cutoff"));
  CHECK_FALSE(contains(moved[1], "vifwall-cutoff"));
}

TEST_CASE("ebtables refusing to lift the cut-off: everything is put back", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  host.loads.clear();
  host.received.clear();
  const std::string before = host.snapshot();
  host.refuse["ebtables-restore"] = 2; // 1: cut off, 2: lift (refused), 3: the rollback's
  auto result = SgApplier(host, scene.options()).apply_default(kVmAMoved);
  REQUIRE_FALSE(result);
  CHECK(contains(result.error().str(), "ebtables-restore (lifting the cut-off) failed"));
  // The address set was refilled (through a scratch set) behind the wall,
  // and is refilled back.
  CHECK(host.inputs_of("ipset").size() == 2);
  CHECK(host.inputs_of("ebtables-restore").size() == 3);
  CHECK(host.snapshot() == before);
}

TEST_CASE("a refused ipset restore: nothing else was loaded, and nothing stays", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  host.refuse["ipset"] = 1;
  auto result = SgApplier(host, scene.options()).apply_default(kVmA);
  REQUIRE_FALSE(result);
  CHECK(contains(result.error().str(), "ipset restore failed"));
  CHECK(host.inputs_of("iptables-restore").empty());
  CHECK(host.snapshot() == before);
}

TEST_CASE("when the rollback fails too, the VM stays cut off and the message says so", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  host.loads.clear();
  host.refuse["ebtables-restore"] = 2; // lifting the cut-off
  host.refuse["ipset"] = 2;            // the rollback's ipset restore
  auto result = SgApplier(host, scene.options()).apply_default(kVmAMoved);
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(contains(message, "ebtables-restore (lifting the cut-off) failed"));
  CHECK(contains(message, "rollback incomplete"));
  CHECK(contains(message, "cut off"));
  // Fail closed: A's VIF is dropped at the top of FORWARD.
  const auto &forward = host.ebtables.rules.at("FORWARD");
  REQUIRE(forward.size() >= 2);
  CHECK(forward[0] == "-i vif7.0 -j vifwall-cutoff");
  CHECK(forward[1] == "-o vif7.0 -j vifwall-cutoff");
}

TEST_CASE("missing tools are all named, and nothing is loaded", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  host.missing = {"ipset", "ebtables"};
  auto result = SgApplier(host, scene.options()).apply_default(kVmA);
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(contains(message, "ipset is missing or not working"));
  CHECK(contains(message, "no working ebtables"));
  CHECK_FALSE(host.loaded_anything());
}

TEST_CASE("a state directory that cannot take the files: nothing is run at all", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  std::ofstream(scene.dir + "/a-file") << "x";
  SgOptions options = scene.options();
  options.state_dir = scene.dir + "/a-file/state"; // under a regular file: ENOTDIR even for root
  auto result = SgApplier(host, options).apply_default(kVmA);
  REQUIRE_FALSE(result);
  CHECK(contains(result.error().str(), "a-file/state"));
  CHECK(host.received.empty());
  auto rules = SgApplier(host, options).apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1"));
  REQUIRE_FALSE(rules);
  CHECK(host.received.empty());
}

TEST_CASE("after a destroy that could not lift the cut-off nor roll back, running it again lifts it",
          "[sg_apply_faults]") {
  // KNOWN BUG (reported; see RELIABILITY.md): the message says "run the same
  // sg-apply command again to finish", but once iptables no longer names
  // the VM's VIF, the next destroy does not know the DROP rules are the
  // VM's and leaves them for good.  A SIGKILL between the iptables load and
  // the lift (tests/e2e/reliability_kill_windows.sh) ends the same way.
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  host.loads.clear();
  host.refuse["ebtables-restore"] = 2; // the lift
  host.refuse["iptables-restore"] = 2; // the rollback's undo of the iptables change
  auto failed = SgApplier(host, scene.options()).destroy(kVmA.vm_name);
  REQUIRE_FALSE(failed);
  CHECK(contains(failed.error().str(), "run the same sg-apply command again"));
  REQUIRE(host.ebtables.rules.at("FORWARD").at(0) == "-i vif7.0 -j vifwall-cutoff");
  host.refuse.clear();
  REQUIRE(SgApplier(host, scene.options()).destroy(kVmA.vm_name));
  CHECK(host.ebtables.rules.at("FORWARD").at(0) != "-i vif7.0 -j vifwall-cutoff");
  CHECK(host.snapshot() == before);
}

TEST_CASE("a refused batch of many VMs names how many, a few of them, and what failed", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  host.refuse["iptables-restore"] = -1;
  SgApplier applier(host, scene.options());
  std::vector<VmJob> jobs;
  for (int n = 10; n < 16; ++n) {
    const std::string id = std::to_string(n);
    const std::string mac = "06:00:00:00:00:" + id;
    auto job = applier.prepare_default(
        DefaultRequest{"i-2-" + id + "-VM", id, "10.1.1." + id, mac, "", {"vif" + id + ".0"}});
    REQUIRE(job);
    jobs.push_back(std::move(*job));
  }
  auto result = applier.run(std::move(jobs));
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(contains(message, "6 VMs (i-2-10-VM, i-2-11-VM, i-2-12-VM, ..., i-2-15-VM): iptables-restore failed"));
  CHECK(contains(message, "refused by the fake kernel"));
  CHECK_FALSE(contains(message, "i-2-13-VM"));
  CHECK(host.snapshot() == before);
}
