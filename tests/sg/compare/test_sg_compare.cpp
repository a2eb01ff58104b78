#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "firewall_snapshot.hpp"
#include "host_inputs.hpp"
#include "sg_compare.hpp"
#include "sg_state.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::read_data;

namespace {

const std::string kData = VIFWALL_TEST_DATA;
const std::string kApplied = "sgshow/xen6-arptables";

// Replaces `from` by `to` (must be present) in one of the texts.
struct Edit {
  std::optional<InputText> FirewallTexts::*file;
  std::string from, to;
  bool everywhere = false; // every occurrence, not just the first
};

FirewallSnapshot snapshot_of(const std::string &dir, const std::vector<Edit> &edits = {}) {
  auto texts = read_firewall_snapshot(kData + "/" + dir);
  REQUIRE(texts);
  for (const auto &edit : edits) {
    std::string &text = ((*texts).*(edit.file))->text;
    auto at = text.find(edit.from);
    INFO("edit: " << edit.from);
    REQUIRE(at != std::string::npos);
    while (at != std::string::npos) {
      text.replace(at, edit.from.size(), edit.to);
      at = edit.everywhere ? text.find(edit.from, at + edit.to.size()) : std::string::npos;
    }
  }
  auto snapshot = parse_firewall_texts(*texts);
  REQUIRE(snapshot);
  return *snapshot;
}

RunningHost running_of(const std::string &dir) {
  auto texts = read_snapshot_dir(kData + "/" + dir);
  REQUIRE(texts);
  auto inputs = parse_host_texts(*texts);
  REQUIRE(inputs);
  return running_from_host_map(join_host(std::move(*inputs)));
}

DesiredFirewall desired_of(const std::string &dir) {
  const std::string state_dir = kData + "/" + dir + "/state";
  auto states = read_all_vm_states(state_dir);
  REQUIRE(states);
  auto host = parse_host_state(read_data(dir + "/state/_host.state"), "_host.state");
  REQUIRE(host);
  auto desired = desired_from_state(*states, *host, state_dir);
  REQUIRE(desired);
  return *desired;
}

std::vector<Difference> all_differences(const Comparison &c) {
  std::vector<Difference> out = c.host;
  for (const auto &vm : c.vms)
    out.insert(out.end(), vm.differences.begin(), vm.differences.end());
  return out;
}

const VmComparison &vm_of(const Comparison &c, const std::string &name) {
  for (const auto &vm : c.vms)
    if (vm.vm == name)
      return vm;
  FAIL("no VM " << name << " in the comparison");
  throw;
}

// The only difference of the comparison, which must be in `vm`.
Difference only_difference(const Comparison &c, const std::string &vm) {
  const auto all = all_differences(c);
  INFO(render_comparison_text(c));
  REQUIRE(all.size() == 1);
  REQUIRE(vm_of(c, vm).differences.size() == 1);
  return all.front();
}

constexpr auto kIpt = &FirewallTexts::iptables;
constexpr auto kEb = &FirewallTexts::ebtables;
constexpr auto kArp = &FirewallTexts::arptables;
constexpr auto kSets = &FirewallTexts::ipsets;

} // namespace

TEST_CASE("after sg-apply the firewall holds exactly what the state says", "[sg_compare]") {
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

TEST_CASE("a rule removed by hand is reported for its VM, and nothing else", "[sg_compare]") {
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
        "sg-diff: 1 VM differs (i-2-5-VM: 1 missing), 4 VMs ok\n");
}

TEST_CASE("rules compare by meaning, not text", "[sg_compare]") {
  const auto actual = snapshot_of(
      kApplied,
      {// options in another order, the protocol by number, a host without /32
       {kIpt, "-A i-2-5-VM -p udp -m udp --dport 53 -m state --state NEW -j ACCEPT",
        "-A i-2-5-VM -m state --state NEW -p 17 -m udp --destination-port 53:53 -j ACCEPT"},
       // legacy ebtables' MAC spelling and the intrapositioned negation the other way
       {kEb, "-A i-2-3-VM -s ! 06:f8:c8:00:00:09 -i vif7.0 -j DROP",
        "-A i-2-3-VM -i vif7.0 ! -s 6:f8:c8:0:0:9 -j DROP"},
       // set names do not matter, set contents do: rename a rule set
       {kIpt, "--match-set i-2-5-VM-i1a src", "--match-set cloudstack-i-2-5-VMt8080_8090 src"},
       {kSets, "create i-2-5-VM-i1a", "create cloudstack-i-2-5-VMt8080_8090"},
       {kSets, "add i-2-5-VM-i1a 192.168.7.0/24\nadd i-2-5-VM-i1a 10.1.0.0/16",
        "add cloudstack-i-2-5-VMt8080_8090 10.1.0.0/16\nadd cloudstack-i-2-5-VMt8080_8090 "
        "192.168.7.0/24"},
       // counters never matter
       {kIpt, "[1:84] -A i-2-3-VM -p icmp", "[99999:1234567] -A i-2-3-VM -p icmp"},
       // arptables' opcode by name
       {kArp, "--h-length 6 --opcode 2 , pcnt=1 -- bcnt=28", "--opcode Reply , pcnt=1 -- bcnt=28"}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  INFO(render_comparison_text(c));
  CHECK_FALSE(c.differs());
}

TEST_CASE("set members that differ make a changed rule", "[sg_compare]") {
  const auto actual = snapshot_of(kApplied, {{kSets, "add i-2-5-VM-i1a 10.1.0.0/16\n",
                                              "add i-2-5-VM-i1a 10.1.0.0/16\nadd i-2-5-VM-i1a 172.16.0.0/12\n"}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  const Difference d = only_difference(c, "i-2-5-VM");
  CHECK(d.kind == DiffKind::changed);
  CHECK(d.chain == "i-2-5-VM");
  CHECK(d.rule == "tcp 8080-8090 from 10.1.0.0/16, 192.168.7.0/24");
  CHECK(d.detail == "set i-2-5-VM-i1a: extra 172.16.0.0/12");

  // The VM's own set gone: every rule using it changed.
  const auto no_own_set = snapshot_of(kApplied, {{kSets,
                                                  "create i-2-3-VM hash:net family inet hashsize 1024 "
                                                  "maxelem 65536 bucketsize 12 initval 0xed9c4ac5\nadd "
                                                  "i-2-3-VM 10.147.41.238\n",
                                                  ""}});
  const Comparison gone = compare_firewall(desired_of(kApplied), no_own_set, running_of(kApplied));
  const auto &diffs = vm_of(gone, "i-2-3-VM").differences;
  REQUIRE(diffs.size() == 4);
  for (const auto &diff : diffs) {
    CHECK(diff.kind == DiffKind::changed);
    CHECK(diff.chain == "i-2-3-VM-def");
    CHECK(diff.detail == "set i-2-3-VM does not exist");
  }
}

TEST_CASE("rules out of order, another default, extra and foreign rules", "[sg_compare]") {
  SECTION("moved") {
    const auto actual = snapshot_of(
        kApplied, {{kIpt,
                    "[0:0] -A i-2-3-VM -p tcp -m tcp --dport 22 -m state --state NEW -m set --match-set "
                    "i-2-3-VM-i1a src -j ACCEPT\n[1:84] -A i-2-3-VM -p icmp -m icmp --icmp-type any -j ACCEPT\n",
                    "[1:84] -A i-2-3-VM -p icmp -m icmp --icmp-type any -j ACCEPT\n[0:0] -A i-2-3-VM -p tcp "
                    "-m tcp --dport 22 -m state --state NEW -m set --match-set i-2-3-VM-i1a src -j ACCEPT\n"}});
    const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
    const Difference d = only_difference(c, "i-2-3-VM");
    CHECK(d.kind == DiffKind::changed);
    CHECK(d.rule == "tcp 22 from 10.147.41.240/32");
    CHECK(d.detail == "at position 2 instead of 1");
  }
  SECTION("default") {
    const auto actual = snapshot_of(kApplied, {{kIpt, "-A i-2-5-VM-eg -j DROP", "-A i-2-5-VM-eg -j RETURN"}});
    const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
    const Difference d = only_difference(c, "i-2-5-VM");
    CHECK(d.kind == DiffKind::changed);
    CHECK(d.chain == "i-2-5-VM-eg");
    CHECK(d.detail == "the chain ends with -j RETURN instead");
  }
  SECTION("extra: a rule of the kind sg-apply writes") {
    const auto actual = snapshot_of(
        kApplied, {{kIpt, "[0:0] -A i-2-3-VM -j DROP\n",
                    "-A i-2-3-VM -p tcp -m tcp --dport 80 -m state --state NEW -j ACCEPT\n[0:0] -A i-2-3-VM "
                    "-j DROP\n"}});
    const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
    const Difference d = only_difference(c, "i-2-3-VM");
    CHECK(d.kind == DiffKind::extra);
    CHECK(d.rule == "tcp 80 from 0.0.0.0/0");
    CHECK(d.detail == "position 3");
  }
  SECTION("foreign: rules sg-apply never writes, in VM and host chains") {
    const auto actual = snapshot_of(
        kApplied,
        {{kIpt, "[0:0] -A i-2-3-VM -p tcp", "-A i-2-3-VM -s 192.0.2.1/32 -j LOG\n[0:0] -A i-2-3-VM -p tcp"},
         {kEb, "[0:0] -A i-2-5-VM -s ! 06:f8:c8:00:00:0b -i vif8.0 -j DROP",
          "-A i-2-5-VM -j mark --mark-set 1\n[0:0] -A i-2-5-VM -s ! 06:f8:c8:00:00:0b -i vif8.0 -j DROP"},
         {kIpt, "[6:504] -A BRIDGE-FIREWALL -j BRIDGE-DEFAULT-FIREWALL\n",
          "[6:504] -A BRIDGE-FIREWALL -j BRIDGE-DEFAULT-FIREWALL\n-A BRIDGE-FIREWALL -j ACCEPT\n"}});
    const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
    INFO(render_comparison_text(c));
    REQUIRE(c.host.size() == 1);
    CHECK(c.host[0].kind == DiffKind::foreign);
    CHECK(c.host[0].chain == "BRIDGE-FIREWALL");
    CHECK(c.host[0].rule == "-j ACCEPT");
    const auto &vm3 = vm_of(c, "i-2-3-VM").differences;
    REQUIRE(vm3.size() == 1);
    CHECK(vm3[0].kind == DiffKind::foreign);
    CHECK(vm3[0].rule == "-s 192.0.2.1/32 -j LOG");
    CHECK(vm3[0].detail == "position 1");
    const auto &vm5 = vm_of(c, "i-2-5-VM").differences;
    REQUIRE(vm5.size() == 1);
    CHECK(vm5[0].kind == DiffKind::foreign);
    CHECK(vm5[0].table == "ebtables");
    CHECK(render_comparison_summary(c) ==
          "sg-diff: 2 VMs differ (host setup: 1 foreign; i-2-3-VM: 1 foreign; i-2-5-VM: 1 foreign), 3 VMs ok\n");
  }
}

TEST_CASE("missing chains and jumps, missing host rules", "[sg_compare]") {
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
  CHECK(d[0].rule == "(the whole chain, 1 rules)");
  CHECK(d[1].kind == DiffKind::missing);
  CHECK(d[1].table == "ebtables");
  CHECK(d[1].chain == "FORWARD");
  CHECK(d[1].rule == "-o vif7.0 -j i-2-3-VM");
}

TEST_CASE("a VM that is not running, and a running VM without rules", "[sg_compare]") {
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

TEST_CASE("after a reboot (new dom-id) the stale VIF and the uncovered one are reported", "[sg_compare]") {
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

TEST_CASE("an interface that does not exist is a stale VIF", "[sg_compare]") {
  RunningHost running = running_of(kApplied);
  running.interfaces->erase(std::remove(running.interfaces->begin(), running.interfaces->end(), "tap8.0"),
                            running.interfaces->end());
  const Comparison c = compare_firewall(desired_of(kApplied), snapshot_of(kApplied), running);
  const Difference d = only_difference(c, "i-2-5-VM");
  CHECK(d.kind == DiffKind::stale_vif);
  CHECK(d.rule == "tap8.0");
  CHECK(d.detail.rfind("the interface does not exist; rules for it in iptables BRIDGE-FIREWALL", 0) == 0);
}

TEST_CASE("rules of a VM without a record are extra; scope limits the comparison", "[sg_compare]") {
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

TEST_CASE("what cannot be compared is trouble, what was left out a note", "[sg_compare]") {
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

TEST_CASE("desired from a rules file: with the VM's record, or its chains alone", "[sg_compare]") {
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

TEST_CASE("desired from another snapshot", "[sg_compare]") {
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

TEST_CASE("sg-apply's records against CloudStack's older layout", "[sg_compare]") {
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

TEST_CASE("the JSON report", "[sg_compare]") {
  const auto actual = snapshot_of(kApplied, {{kEb, "[0:0] -A i-2-3-VM -p IPv4 -i vif7.0 --ip-proto udp --ip-dport 68 -j DROP\n", ""}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  const auto doc = nlohmann::json::parse(render_comparison_json(c, false));
  CHECK(doc["differ"] == true);
  CHECK(doc["summary"] == "sg-diff: 1 VM differs (i-2-3-VM: 1 missing), 4 VMs ok");
  CHECK(doc["vms_ok"] == 4);
  CHECK(doc["vms_differing"] == 1);
  REQUIRE(doc["vms"].size() == 5);
  const auto &vm = doc["vms"][0];
  CHECK(vm["name"] == "i-2-3-VM");
  CHECK(vm["ok"] == false);
  REQUIRE(vm["differences"].size() == 1);
  CHECK(vm["differences"][0]["kind"] == "missing");
  CHECK(vm["differences"][0]["table"] == "ebtables");
  CHECK(vm["differences"][0]["rule"] == "-p IPv4 -i vif7.0 --ip-proto udp --ip-dport 68 -j DROP");
  CHECK(doc["vms"][1]["ok"] == true);
  CHECK(doc["problems"].empty());
}

TEST_CASE("the state directory reader skips the host record", "[sg_compare]") {
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

TEST_CASE("running VMs: CloudStack filters device 0 of user VMs, every vif of system VMs", "[sg_compare]") {
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

TEST_CASE("the summary stays one line however many VMs differ", "[sg_compare]") {
  Comparison c;
  for (int i = 1; i <= 8; ++i) {
    VmComparison vm;
    vm.vm = "i-2-" + std::to_string(i) + "-VM";
    if (i != 4)
      vm.differences.push_back({DiffKind::missing, "iptables", vm.vm, "-j DROP", {"-j", "DROP"}, ""});
    c.vms.push_back(vm);
  }
  c.vms[7].differences.push_back({DiffKind::stale_vif, "", "", "vif3.0", {}, "gone"});
  c.host.push_back({DiffKind::foreign, "iptables", "BRIDGE-FIREWALL", "-j ACCEPT", {"-j", "ACCEPT"}, ""});
  c.problems.push_back("arptables was not read");
  CHECK(render_comparison_summary(c) ==
        "sg-diff: 7 VMs differ (host setup: 1 foreign; i-2-1-VM: 1 missing; i-2-2-VM: 1 missing; "
        "i-2-3-VM: 1 missing; i-2-5-VM: 1 missing; i-2-6-VM: 1 missing; and 2 more), 1 VM ok; "
        "1 problem (not all compared)\n");
}
