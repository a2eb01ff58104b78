// compare_firewall() as a whole (lib/sg/compare/sg_compare.cpp): which VMs are
// looked at, whole-VM verdicts, what could not be compared.
#include <catch2/catch.hpp>

#include "compare_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test::compare;

TEST_CASE("after sg-apply the firewall holds exactly what the state says", "[sg_compare][sg_compare]") {
  for (const std::string &dir : {kApplied, std::string("sgshow/xen6-ebtables")}) {
    INFO(dir);
    const Comparison c = compare_firewall(desired_of(dir), snapshot_of(dir), running_of(dir));
    INFO(render_comparison_text(c));
    CHECK_FALSE(c.differs());
    CHECK(c.problems.empty());
    CHECK(c.notes.empty());
    CHECK(c.vms.size() == 5);
    CHECK(c.vms_ok() == 5);
    CHECK(render_comparison_summary(c) == "sg-diff: no differences, 5 VMs ok\n");
  }
}

TEST_CASE("a rule removed by hand is reported for its VM, and nothing else", "[sg_compare][sg_compare]") {
  const auto actual = snapshot_of(kApplied, {{kIpt,
                                               "[0:0] -A i-2-5-VM -p udp -m udp --dport 53 -m state "
                                               "--state NEW -j ACCEPT\n",
                                               ""}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  const Difference d = only_difference(c, "i-2-5-VM");
  CHECK(d.kind == DiffKind::missing);
  CHECK(d.table == "iptables");
  CHECK(d.chain == "i-2-5-VM");
  CHECK(d.rule == "udp 53 from 0.0.0.0/0");
  CHECK(d.args == std::vector<std::string>{"-p", "udp", "-m", "udp", "--dport", "53", "-m", "state",
                                           "--state", "NEW", "-j", "ACCEPT"});
  CHECK(c.vms_ok() == 4);
  CHECK(render_comparison_summary(c) == "sg-diff: 1 VM differs (i-2-5-VM: 1 missing), 4 VMs ok\n");
  CHECK(render_comparison_text(c) ==
        "i-2-5-VM: missing iptables i-2-5-VM: udp 53 from 0.0.0.0/0\n"
        "sg-diff: 1 VM differs (i-2-5-VM: 1 missing), 4 VMs ok\n"
        "sg-diff: hint: to rebuild from the recorded state, run `sg-apply reapply --vm i-2-5-VM`\n");
}

TEST_CASE("a VM that is not running, and a running VM without rules", "[sg_compare][sg_compare]") {
  RunningHost running = running_of(kApplied);
  // i-2-5-VM stopped; i-2-7-VM started without sg-apply.
  for (auto &vm : running.vms)
    if (vm.name == "i-2-5-VM")
      vm.name = "i-2-7-VM";
  const Comparison c = compare_firewall(desired_of(kApplied), snapshot_of(kApplied), running);
  INFO(render_comparison_text(c));
  CHECK(c.host.empty());
  const auto &stopped = vm_of(c, "i-2-5-VM").differences;
  REQUIRE(stopped.size() == 1);
  CHECK(stopped[0].kind == DiffKind::stale_vm);
  CHECK(stopped[0].detail == "not running, but 52 of its rules are in the firewall");
  const auto &started = vm_of(c, "i-2-7-VM").differences;
  REQUIRE(started.size() == 1);
  CHECK(started[0].kind == DiffKind::unprotected);
  CHECK(started[0].detail == "running (dom-id 8) without rules");
  CHECK(render_comparison_summary(c) ==
        "sg-diff: 2 VMs differ (i-2-5-VM: stale (not running); i-2-7-VM: unprotected), 4 VMs ok\n");
  // The control domain is not a CloudStack VM.
  for (const auto &vm : c.vms)
    CHECK(vm.vm.find("Control domain") == std::string::npos);
}

TEST_CASE("rules of a VM without a record are extra; scope limits the comparison", "[sg_compare][sg_compare]") {
  DesiredFirewall desired = desired_of(kApplied);
  desired.vms.erase(desired.vms.begin()); // forget i-2-3-VM
  const Comparison c = compare_firewall(desired, snapshot_of(kApplied), running_of(kApplied));
  const Difference d = only_difference(c, "i-2-3-VM");
  CHECK(d.kind == DiffKind::extra);
  CHECK(d.rule == "chains i-2-3-VM, i-2-3-VM-def, i-2-3-VM-eg");
  CHECK(d.detail == "23 rules of a VM not in the state directory " + kData + "/" + kApplied + "/state");

  CompareOptions only;
  only.vms = {"i-2-5-VM"};
  const Comparison scoped = compare_firewall(desired, snapshot_of(kApplied), running_of(kApplied), only);
  CHECK_FALSE(scoped.differs());
  REQUIRE(scoped.vms.size() == 1);
  CHECK(scoped.vms[0].vm == "i-2-5-VM");
}

TEST_CASE("what cannot be compared is trouble, what was left out a note", "[sg_compare][sg_compare]") {
  FirewallSnapshot actual = snapshot_of(kApplied);
  actual.arptables.reset();
  const Comparison c = compare_firewall(desired_of(kApplied), actual, std::nullopt);
  CHECK_FALSE(c.differs());
  CHECK(c.problems == std::vector<std::string>{"arptables was not read: the arptables rules of "
                                               "i-2-3-VM and i-2-5-VM were not compared"});
  CHECK(c.notes == std::vector<std::string>{
                       "running VMs unknown: stale VMs, stale VIFs and unprotected VMs not checked"});
  // The ebtables ARP filter needs no arptables.
  FirewallSnapshot eb = snapshot_of("sgshow/xen6-ebtables");
  eb.arptables.reset();
  const Comparison ok = compare_firewall(desired_of("sgshow/xen6-ebtables"), eb, std::nullopt);
  CHECK(ok.problems.empty());

  DesiredFirewall no_host = desired_of(kApplied);
  no_host.host.reset();
  const Comparison hostless = compare_firewall(no_host, snapshot_of(kApplied), running_of(kApplied));
  CHECK(hostless.notes == std::vector<std::string>{
                              "no host setup recorded (_host.state): host-wide chains not compared"});

  FirewallSnapshot nothing;
  const Comparison none = compare_firewall(desired_of(kApplied), nothing, std::nullopt);
  CHECK(none.problems.front() == "iptables was not read: nothing can be compared");
}
