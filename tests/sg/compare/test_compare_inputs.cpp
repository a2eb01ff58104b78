// Where desired and running come from (lib/sg/compare/compare_inputs.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "compare_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test::compare;

TEST_CASE("desired from a rules file: with the VM's record, or its chains alone", "[sg_compare][compare_inputs]") {
  auto rules = parse_rules_file("ingress tcp 22 from 10.147.41.240\n"
                                "ingress icmp from 0.0.0.0/0\n"
                                "egress udp 53 to 10.0.0.0/8\n",
                                "rules.txt");
  REQUIRE(rules);
  auto states = read_all_vm_states(kData + "/" + kApplied + "/state");
  REQUIRE(states);
  const VmState &state = states->front();
  REQUIRE(state.vm_name == "i-2-3-VM");

  for (const bool with_state : {true, false}) {
    INFO("with state: " << with_state);
    auto desired = desired_from_rules("i-2-3-VM", *rules, with_state ? std::optional(state) : std::nullopt);
    REQUIRE(desired);
    CHECK_FALSE(desired->complete);
    CHECK(desired->vms.front().rules_only == !with_state);
    const Comparison c = compare_firewall(*desired, snapshot_of(kApplied), running_of(kApplied));
    INFO(render_comparison_text(c));
    // Other VMs are not looked at; the egress chain differs.
    REQUIRE(c.vms.size() == 1);
    const auto &d = c.vms[0].differences;
    REQUIRE(d.size() == 2);
    CHECK(d[0].kind == DiffKind::changed);
    CHECK(d[0].chain == "i-2-3-VM-eg");
    CHECK(d[0].detail == "the chain ends with -j RETURN instead");
    CHECK(d[1].kind == DiffKind::missing);
    CHECK(d[1].rule == "udp 53 to 10.0.0.0/8");
  }
  auto system = desired_from_rules("r-4-VM", *rules, std::nullopt);
  REQUIRE_FALSE(system);
}

TEST_CASE("desired from another snapshot", "[sg_compare][compare_inputs]") {
  const FirewallSnapshot before = snapshot_of(kApplied);
  const DesiredFirewall desired = desired_from_snapshot(before, {}, "the snapshot before");
  CHECK(desired.host_exact);
  CHECK(desired.vms.size() == 5);
  const Comparison same = compare_firewall(desired, before, running_of(kApplied));
  INFO(render_comparison_text(same));
  CHECK_FALSE(same.differs());

  // Any FORWARD rule that belongs to no VM counts for a snapshot.
  const auto after = snapshot_of(kApplied, {{kIpt, "[0:0] -A FORWARD -j DROP\n",
                                             "-A FORWARD -p tcp -m tcp --dport 25 -j REJECT\n[0:0] -A FORWARD -j DROP\n"},
                                            {kSets, "add i-2-3-VM-i1a 10.147.41.240", "add i-2-3-VM-i1a 10.147.41.99"}});
  const Comparison c = compare_firewall(desired, after, running_of(kApplied));
  INFO(render_comparison_text(c));
  REQUIRE(c.host.size() == 1);
  CHECK(c.host[0].kind == DiffKind::extra);
  CHECK(c.host[0].rule == "-p tcp -m tcp --dport 25 -j REJECT");
  const auto &d = vm_of(c, "i-2-3-VM").differences;
  REQUIRE(d.size() == 1);
  CHECK(d[0].kind == DiffKind::changed);
  CHECK(d[0].detail == "set i-2-3-VM-i1a: missing 10.147.41.240; extra 10.147.41.99");
}

TEST_CASE("the state directory reader skips the host record", "[sg_compare][compare_inputs]") {
  auto states = read_all_vm_states(kData + "/" + kApplied + "/state");
  REQUIRE(states);
  std::vector<std::string> names;
  for (const auto &state : *states)
    names.push_back(state.vm_name);
  CHECK(names == std::vector<std::string>{"i-2-3-VM", "i-2-5-VM", "r-4-VM", "s-1-VM", "v-2-VM"});
  auto none = read_all_vm_states(kData + "/no-such-dir");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("running VMs: CloudStack filters device 0 of user VMs, every vif of system VMs", "[sg_compare][compare_inputs]") {
  const RunningHost running = running_of(kApplied);
  std::map<std::string, std::vector<std::string>> ifaces;
  for (const auto &vm : running.vms)
    ifaces[vm.name] = vm.filtered_ifaces;
  CHECK(ifaces["i-2-5-VM"] == std::vector<std::string>{"vif8.0", "tap8.0"});
  CHECK(ifaces["s-1-VM"] == std::vector<std::string>{"vif4.0", "vif4.1", "vif4.2", "vif4.3"});
  CHECK(ifaces.count("Control domain on host: xen6") == 1);
  REQUIRE(running.interfaces);
  CHECK(std::count(running.interfaces->begin(), running.interfaces->end(), "vif7.0") == 1);
}

TEST_CASE("desired from the state directory: a record that does not render is named",
          "[sg_compare][compare_inputs]") {
  std::vector<VmState> states = states_of(kApplied);
  const DesiredFirewall desired = desired_of(kApplied);
  CHECK(desired.source == "the state directory " + kData + "/" + kApplied + "/state");
  CHECK(desired.complete);
  CHECK_FALSE(desired.host_exact);
  REQUIRE(desired.host);
  REQUIRE(desired.vms.size() == states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    CHECK(desired.vms[i].name == states[i].vm_name);
    CHECK(desired.vms[i].system == (states[i].kind == VmKind::system));
    CHECK_FALSE(desired.vms[i].rules_only);
  }

  states[1].rules = "X:bogus";
  auto broken = desired_from_state(states, std::nullopt, "/srv/state");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().source == "/srv/state/i-2-5-VM.state");

  HostSetupState host;
  host.uplinks = {"not an interface!"};
  auto bad_host = desired_from_state({}, host, "/srv/state");
  REQUIRE_FALSE(bad_host);
  CHECK(bad_host.error().source == "/srv/state/_host.state");
}

TEST_CASE("desired from another snapshot: chains go to their VM, FORWARD's other rules to the host",
          "[sg_compare][compare_inputs]") {
  const DesiredFirewall desired = desired_from_snapshot(snapshot_of(kApplied), {}, "the snapshot S");
  CHECK(desired.source == "the snapshot S");
  CHECK(desired.complete);
  REQUIRE(desired.host);
  std::vector<std::string> host_chains;
  for (const auto &chain : desired.host->iptables.owned_chains)
    host_chains.push_back(chain.name);
  // BRIDGE-FIREWALL is shared with the VMs' jumps: compared as shared rules.
  CHECK(std::count(host_chains.begin(), host_chains.end(), "BRIDGE-FIREWALL") == 0);
  CHECK(std::count(host_chains.begin(), host_chains.end(), "BRIDGE-DEFAULT-FIREWALL") == 1);
  const DesiredVm *vm3 = nullptr;
  for (const auto &vm : desired.vms)
    if (vm.name == "i-2-3-VM")
      vm3 = &vm;
  REQUIRE(vm3);
  std::vector<std::string> chains;
  for (const auto &chain : vm3->plan.iptables.owned_chains)
    chains.push_back(chain.name);
  CHECK(chains == std::vector<std::string>{"i-2-3-VM", "i-2-3-VM-def", "i-2-3-VM-eg"});
  std::vector<std::string> sets;
  for (const auto &set : vm3->plan.sets)
    sets.push_back(set.name);
  std::sort(sets.begin(), sets.end());
  CHECK(sets == std::vector<std::string>{"i-2-3-VM", "i-2-3-VM-i1a"});
  CHECK_FALSE(vm3->plan.ebtables.jumps_first.empty());
}

TEST_CASE("running VMs: halted ones and ones without a domain are not running",
          "[sg_compare][compare_inputs]") {
  HostMap host;
  host.links.push_back({});
  host.links.back().name = "vif7.0";
  auto vm = [&](const std::string &name, const std::string &state, std::optional<std::int64_t> dom_id) {
    HostVm entry;
    entry.vm.name_label = name;
    entry.vm.power_state = state;
    entry.vm.dom_id = dom_id;
    host.vms.push_back(entry);
  };
  vm("i-2-3-VM", "running", 7);
  vm("i-2-4-VM", "paused", 8);
  vm("i-2-5-VM", "halted", -1);
  vm("i-2-6-VM", "running", std::nullopt);
  vm("i-2-7-VM", "", 9);  // an xe without power-state
  vm("i-2-8-VM", "", -1);
  const RunningHost running = running_from_host_map(host);
  std::vector<std::string> names;
  for (const auto &up : running.vms)
    names.push_back(up.name + " " + std::to_string(up.dom_id));
  CHECK(names == std::vector<std::string>{"i-2-3-VM 7", "i-2-4-VM 8", "i-2-7-VM 9"});
  REQUIRE(running.interfaces);
  CHECK(*running.interfaces == std::vector<std::string>{"vif7.0"});
}
