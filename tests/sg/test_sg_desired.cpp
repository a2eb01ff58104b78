#include <catch2/catch.hpp>

#include "sg_desired.hpp"

using namespace vifwall;

TEST_CASE("the host setup record round-trips", "[sgdesired]") {
  HostSetupState state{{"eth0", "bond0"}, ArpFilter::ebtables};
  auto back = parse_host_state(format_host_state(state), "_host.state");
  REQUIRE(back);
  CHECK(*back == state);
  state.ipv6 = true;
  CHECK(parse_host_state(format_host_state(state), "_host.state").value() == state);
  auto bad = parse_host_state("i-2-3-VM,3\n", "_host.state");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().line == 1);
}

TEST_CASE("plan_for_state renders a user VM's defaults and recorded rules", "[sgdesired]") {
  VmState state;
  state.vm_name = "i-2-3-VM";
  state.vm_id = "3";
  state.ip = "10.147.41.238";
  state.mac = "06:f8:c8:00:00:09";
  state.vifs = {"vif7.0"};
  state.arp_filter = "ebtables";
  state.generation = 'b';
  state.rules = "I:tcp;22;22;10.0.0.0/8,NEXT ";
  auto plan = plan_for_state(state);
  REQUIRE(plan);
  CHECK(plan->arptables.owned_chains.empty()); // ARP checks live in ebtables
  bool rule_set = false;
  for (const auto &set : plan->sets)
    rule_set = rule_set || set.name == "i-2-3-VM-i1b";
  CHECK(rule_set); // the recorded generation names the rule set

  state.rules = "I:tcp;22;22;10.0.0.0/33,NEXT ";
  auto bad = plan_for_state(state);
  REQUIRE_FALSE(bad);

  // A NIC with IPv6 brings the ip6tables twin, rules included.
  state.rules = "I:tcp;22;22;10.0.0.0/8,2001:db8::/64,NEXT ";
  state.other_nics = {VmNic{1, "10.1.1.5", {}, {"2001:db8:1::5"}, "06:f8:c8:00:00:0a", {"vif7.1"}}};
  auto dual = plan_for_state(state);
  REQUIRE(dual);
  REQUIRE(dual->ip6tables.owned_chains.size() == 3);
  CHECK(dual->ip6tables.owned_chains[1].rules.front() ==
        std::vector<std::string>{"-s", "2001:db8::/64", "-p", "tcp", "-m", "tcp", "--dport", "22",
                                 "-m", "state", "--state", "NEW", "-j", "ACCEPT"});

  VmState system;
  system.kind = VmKind::system;
  system.vm_name = "r-4-VM";
  system.vifs = {"vif6.0", "vif6.1"};
  auto sys_plan = plan_for_state(system);
  REQUIRE(sys_plan);
  CHECK(sys_plan->sets.empty());
}
