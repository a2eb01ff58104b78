// One VM and the host setup (lib/sg/compare/compare_vm.cpp): chains, jumps, VIFs.
#include <catch2/catch.hpp>

#include <algorithm>

#include "compare_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test::compare;

TEST_CASE("missing chains and jumps, missing host rules", "[sg_compare][compare_vm]") {
  const auto actual = snapshot_of(
      kApplied, {{kIpt, ":i-2-3-VM-eg - [0:0]\n", ""},
                 {kIpt, "[0:0] -A i-2-3-VM-eg -j RETURN\n", ""},
                 {kEb, "[3:252] -A FORWARD -o vif7.0 -j i-2-3-VM\n", ""},
                 {kIpt, "[0:0] -A FORWARD -j DROP\n", ""}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  INFO(render_comparison_text(c));
  REQUIRE(c.host.size() == 1);
  CHECK(c.host[0].kind == DiffKind::missing);
  CHECK(c.host[0].chain == "FORWARD");
  CHECK(c.host[0].rule == "-j DROP");
  const auto &d = vm_of(c, "i-2-3-VM").differences;
  REQUIRE(d.size() == 2);
  CHECK(d[0].kind == DiffKind::missing);
  CHECK(d[0].chain == "i-2-3-VM-eg");
  CHECK(d[0].rule == "(the whole chain, 1 rule)");
  CHECK(d[1].kind == DiffKind::missing);
  CHECK(d[1].table == "ebtables");
  CHECK(d[1].chain == "FORWARD");
  CHECK(d[1].rule == "-o vif7.0 -j i-2-3-VM");
}

TEST_CASE("after a reboot (new dom-id) the stale VIF and the uncovered one are reported", "[sg_compare][compare_vm]") {
  RunningHost running = running_of(kApplied);
  for (auto &vm : running.vms)
    if (vm.name == "i-2-3-VM") {
      vm.dom_id = 9;
      vm.filtered_ifaces = {"vif9.0"};
    }
  std::replace(running.interfaces->begin(), running.interfaces->end(), std::string("vif7.0"),
               std::string("vif9.0"));
  const Comparison c = compare_firewall(desired_of(kApplied), snapshot_of(kApplied), running);
  INFO(render_comparison_text(c));
  const auto &d = vm_of(c, "i-2-3-VM").differences;
  REQUIRE(d.size() == 2);
  CHECK(d[0].kind == DiffKind::stale_vif);
  CHECK(d[0].rule == "vif7.0");
  CHECK(d[0].detail ==
        "dom-id 7 is gone: i-2-3-VM runs as dom-id 9 now; rules for it in iptables BRIDGE-FIREWALL, "
        "iptables i-2-3-VM-def, ebtables FORWARD, ebtables i-2-3-VM, arptables FORWARD, arptables i-2-3-VM");
  CHECK(d[1].kind == DiffKind::unprotected);
  CHECK(d[1].rule == "vif9.0");
  CHECK(c.vms_differing() == 1);
  CHECK(render_comparison_summary(c) ==
        "sg-diff: 1 VM differs (i-2-3-VM: stale vif7.0, unprotected vif9.0), 4 VMs ok\n");

  // sg-apply ran again for the new dom-id, but an old jump was left behind:
  // the leftover is one stale-vif finding, not an extra rule.
  DesiredFirewall rerun = desired_of(kApplied);
  for (auto &vm : rerun.vms)
    if (vm.name == "i-2-3-VM") {
      auto states = read_all_vm_states(kData + "/" + kApplied + "/state");
      REQUIRE(states);
      VmState state = states->front();
      state.vifs = {"vif9.0"};
      state.dom_id = "9";
      vm.plan = plan_for_state(state).value();
    }
  const auto leftover = snapshot_of(
      kApplied, {{kIpt, "vif7.0", "vif9.0", true},
                 {kEb, "vif7.0", "vif9.0", true},
                 {kArp, "vif7.0", "vif9.0", true},
                 {kIpt, "[0:0] -A BRIDGE-FIREWALL -m physdev --physdev-in vif2.0",
                  "-A BRIDGE-FIREWALL -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                  "[0:0] -A BRIDGE-FIREWALL -m physdev --physdev-in vif2.0"}});
  const Comparison again = compare_firewall(rerun, leftover, running);
  INFO(render_comparison_text(again));
  const auto &d2 = vm_of(again, "i-2-3-VM").differences;
  REQUIRE(d2.size() == 1);
  CHECK(d2[0].kind == DiffKind::stale_vif);
  CHECK(d2[0].rule == "vif7.0");
  CHECK(d2[0].detail == "dom-id 7 is gone: i-2-3-VM runs as dom-id 9 now; rules for it in iptables BRIDGE-FIREWALL");
  CHECK(again.vms_differing() == 1);
}

TEST_CASE("an interface that does not exist is a stale VIF", "[sg_compare][compare_vm]") {
  RunningHost running = running_of(kApplied);
  running.interfaces->erase(std::remove(running.interfaces->begin(), running.interfaces->end(), "tap8.0"),
                            running.interfaces->end());
  const Comparison c = compare_firewall(desired_of(kApplied), snapshot_of(kApplied), running);
  const Difference d = only_difference(c, "i-2-5-VM");
  CHECK(d.kind == DiffKind::stale_vif);
  CHECK(d.rule == "tap8.0");
  CHECK(d.detail.rfind("the interface does not exist; rules for it in iptables BRIDGE-FIREWALL", 0) == 0);
}

TEST_CASE("sg-apply's records against CloudStack's older layout", "[sg_compare][compare_vm]") {
  // The same VM and rules, set up by an older CloudStack: i-2-3-def and
  // CloudStack's set names.  The ingress rules match by set members; the
  // default chain under its old name does not.
  VmState state;
  state.vm_name = "i-2-3-VM";
  state.vm_id = "3";
  state.ip = "10.147.41.238";
  state.mac = "06:f8:c8:00:00:09";
  state.dom_id = "7";
  state.vifs = {"vif7.0"};
  state.arp_filter = "arptables";
  state.rules = "I:tcp;22;22;10.147.41.240/32,NEXT I:icmp;-1;-1;0.0.0.0/0,NEXT ";
  state.rules_applied = true;
  auto desired = desired_from_state({state}, std::nullopt, "/var/run/cloud");
  REQUIRE(desired);
  CompareOptions only;
  only.vms = {"i-2-3-VM"};
  const Comparison c = compare_firewall(*desired, snapshot_of("sgshow/cloudstack-old"), std::nullopt, only);
  INFO(render_comparison_text(c));
  std::vector<std::string> lines;
  for (const auto &d : vm_of(c, "i-2-3-VM").differences)
    lines.push_back(std::string(to_string(d.kind)) + " " + d.table + " " + d.chain + ": " + d.rule);
  CHECK(lines == std::vector<std::string>{
                     "missing iptables i-2-3-VM-def: (the whole chain, 5 rules)",
                     "extra iptables i-2-3-def: (the whole chain, 5 rules)",
                     "missing iptables BRIDGE-FIREWALL: -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def",
                     "missing iptables BRIDGE-FIREWALL: -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def",
                     "extra iptables BRIDGE-FIREWALL: -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-def",
                     "extra iptables BRIDGE-FIREWALL: -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-def",
                 });
}

TEST_CASE("a set of the VM that no rule uses is extra", "[sg_compare][compare_vm]") {
  // An old generation's set left behind.
  const Comparison c = compare_applied(
      {{kSets, "create i-2-3-VM-i1a ",
        "create i-2-3-VM-i1b hash:net family inet hashsize 1024 maxelem 65536\nadd i-2-3-VM-i1b 10.9.9.9\n"
        "create i-2-3-VM-i1a "}});
  const Difference d = only_difference(c, "i-2-3-VM");
  CHECK(d.kind == DiffKind::extra);
  CHECK(d.table == "ipset");
  CHECK(d.chain.empty());
  CHECK(d.rule == "i-2-3-VM-i1b");
  CHECK(d.detail == "set of the VM that no rule uses");
}

TEST_CASE("the host setup: XenServer's stock rule that the setup removes is extra",
          "[sg_compare][compare_vm]") {
  const Comparison c = compare_applied(
      {{kIpt, ":FORWARD ACCEPT [0:0]\n", ":FORWARD ACCEPT [0:0]\n:RH-Firewall-1-INPUT - [0:0]\n"},
       {kIpt, "[0:0] -A FORWARD -j DROP\n",
        "[0:0] -A FORWARD -j RH-Firewall-1-INPUT\n[0:0] -A FORWARD -j DROP\n"}});
  INFO(render_comparison_text(c));
  REQUIRE(c.host.size() == 1);
  CHECK(c.host[0].kind == DiffKind::extra);
  CHECK(c.host[0].chain == "FORWARD");
  CHECK(c.host[0].rule == "-j RH-Firewall-1-INPUT");
  CHECK(c.host[0].detail == "XenServer's stock rule, which the setup removes");
  CHECK(c.vms_differing() == 0);
}

TEST_CASE("a table that was not read is trouble for the VMs and the host that need it",
          "[sg_compare][compare_vm]") {
  FirewallSnapshot actual = snapshot_of(kApplied);
  actual.ebtables.reset();
  actual.ipsets.reset();
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  // The user VMs and the host setup need ebtables (system VMs have no
  // ebtables rules); only the user VMs have sets.
  CHECK(c.problems == std::vector<std::string>{
                          "ebtables was not read: the ebtables rules of i-2-3-VM, i-2-5-VM and the host "
                          "setup were not compared",
                          "the ipsets were not read: the set members of i-2-3-VM and i-2-5-VM were not "
                          "compared"});
}

TEST_CASE("a running VM's other NIC is unprotected without its jumps, when its state has the NIC",
          "[sg_compare][compare_vm]") {
  const std::string dir = "sgshow/ipv6-two-nics";
  RunningHost running;
  RunningVm vm;
  vm.name = "i-2-3-VM";
  vm.dom_id = 7;
  vm.filtered_ifaces = {"vif7.0", "tap7.0"};
  vm.other_nic_ifaces = {"vif7.1", "vif7.2"}; // device 2: no NIC of the state, not filtered
  running.vms.push_back(vm);
  const Comparison clean = compare_firewall(desired_of(dir), snapshot_of(dir), running);
  INFO(render_comparison_text(clean));
  CHECK_FALSE(clean.differs());

  std::vector<Edit> unjumped;
  for (const char *side : {"in", "out"})
    for (auto file : {kIpt, &FirewallTexts::ip6tables})
      unjumped.push_back({file,
                          std::string("[0:0] -A BRIDGE-FIREWALL -m physdev --physdev-") + side +
                              " vif7.1 --physdev-is-bridged -j i-2-3-VM-def\n",
                          ""});
  unjumped.push_back({kEb, "[0:0] -A FORWARD -i vif7.1 -j i-2-3-VM\n", ""});
  unjumped.push_back({kEb, "[0:0] -A FORWARD -o vif7.1 -j i-2-3-VM\n", ""});
  const Comparison c = compare_firewall(desired_of(dir), snapshot_of(dir, unjumped), running);
  INFO(render_comparison_text(c));
  std::vector<std::string> unprotected;
  for (const auto &d : vm_of(c, "i-2-3-VM").differences)
    if (d.kind == DiffKind::unprotected)
      unprotected.push_back(d.rule);
  CHECK(unprotected == std::vector<std::string>{"vif7.1"});
}
