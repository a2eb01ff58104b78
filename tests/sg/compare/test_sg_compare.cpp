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

namespace {

const std::string kIpv6Nics = "sgshow/ipv6-two-nics";
constexpr auto kIp6t = &FirewallTexts::ip6tables;

// The dual-stack two-NIC VM as applied, compared with `edits` made to its
// dumps (the fixture has no xe listings: running VMs unknown).
Comparison compare_ipv6(const std::vector<Edit> &edits) {
  return compare_firewall(desired_of(kIpv6Nics), snapshot_of(kIpv6Nics, edits), std::nullopt);
}

} // namespace

TEST_CASE("a dual-stack VM with two NICs in sync diffs clean", "[sg_compare][sg_compare]") {
  const Comparison c = compare_ipv6({});
  INFO(render_comparison_text(c));
  CHECK_FALSE(c.differs());
  CHECK(c.problems.empty());
  CHECK(c.vms_ok() == 1);
  // The live firewall as the desired side, too (sg-diff --desired-from).
  const FirewallSnapshot live = snapshot_of(kIpv6Nics);
  const Comparison same = compare_firewall(desired_from_snapshot(live, {}, "the same snapshot"), live, std::nullopt);
  INFO(render_comparison_text(same));
  CHECK_FALSE(same.differs());
}

TEST_CASE("an ip6tables rule, an inet6 member or a gate rule removed by hand shows", "[sg_compare][sg_compare]") {
  const Difference na = only_difference(
      compare_ipv6({{kIp6t,
                     "[0:0] -A i-2-3-VM-def -p ipv6-icmp -m physdev --physdev-in vif7.1 --physdev-is-bridged -m icmp6 "
                     "--icmpv6-type 136 -m hl --hl-eq 255 -m u32 --u32 \"0x30=0x20010db8&&0x34=0x20000&&0x38=0x0&&"
                     "0x3c=0x5\" -j ACCEPT\n",
                     ""}}),
      "i-2-3-VM");
  CHECK(na.kind == DiffKind::missing);
  CHECK(na.table == "ip6tables");
  CHECK(na.chain == "i-2-3-VM-def");

  const Difference ingress = only_difference(
      compare_ipv6({{kIp6t, "[0:0] -A i-2-3-VM -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT\n", ""}}), "i-2-3-VM");
  CHECK(ingress.kind == DiffKind::missing);
  CHECK(ingress.table == "ip6tables");
  CHECK(ingress.rule == "icmpv6 type 128 code any from ::/0");

  const Comparison member = compare_ipv6({{kSets, "add i-2-3-VM-6n1 2001:db8:2::5\n", ""}});
  INFO(render_comparison_text(member));
  CHECK(member.differs());
  for (const auto &d : all_differences(member)) {
    CHECK(d.kind == DiffKind::changed);
    CHECK(d.table == "ip6tables");
    CHECK(d.detail == "set i-2-3-VM-6n1: missing 2001:db8:2::5");
  }

  const Difference gate = only_difference(
      compare_ipv6({{kEb, "[0:0] -A DEFAULT_EBTABLES_IPV6 -o tap7.0 -j RETURN\n", ""}}), "i-2-3-VM");
  CHECK(gate.kind == DiffKind::missing);
  CHECK(gate.table == "ebtables");
  CHECK(gate.chain == "DEFAULT_EBTABLES_IPV6");

  const Difference host = [] {
    const Comparison c = compare_ipv6({{kIp6t, "[0:0] -A FORWARD -m physdev --physdev-is-bridged -j BRIDGE-FIREWALL\n", ""}});
    INFO(render_comparison_text(c));
    REQUIRE(c.host.size() == 1);
    REQUIRE(c.vms_differing() == 0);
    return c.host.front();
  }();
  CHECK(host.kind == DiffKind::missing);
  CHECK(host.table == "ip6tables");
  CHECK(host.chain == "FORWARD");
}

TEST_CASE("ip6tables rules match by meaning: ICMPv6 names and numbers, /128 hosts", "[sg_compare][sg_compare]") {
  for (const std::string spelling : {"-p ipv6-icmp -m icmp6 --icmpv6-type echo-request", "-p icmpv6 -m icmp6 --icmpv6-type 128",
                                     "-p 58 -m icmp6 --icmpv6-type 128"}) {
    INFO(spelling);
    const Comparison c = compare_ipv6({{kIp6t, "-A i-2-3-VM -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT",
                                        "-A i-2-3-VM " + spelling + " -j ACCEPT"}});
    INFO(render_comparison_text(c));
    CHECK_FALSE(c.differs());
  }
  const Comparison host = compare_ipv6({{kIp6t, "-s ::/128 -p ipv6-icmp", "-s :: -p ipv6-icmp", true}});
  INFO(render_comparison_text(host));
  CHECK_FALSE(host.differs());
  // A type that is not the one desired is a difference.
  const Comparison other = compare_ipv6({{kIp6t, "-A i-2-3-VM -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT",
                                          "-A i-2-3-VM -p ipv6-icmp -m icmp6 --icmpv6-type 129 -j ACCEPT"}});
  CHECK(all_differences(other).size() == 2);
}
