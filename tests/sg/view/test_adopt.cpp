// A host CloudStack's vmops programmed, read back (lib/sg/view/vmops_traits.cpp)
// and adopted as sg-apply's record (lib/sg/view/adopt.cpp).  The fixture
// tests/data/sgshow/vmops-host is a capture of sim/testdata/vmops.host
// programmed by sim/vmops_emulator.py (see tests/data/sgshow/README.md).
#include <catch2/catch.hpp>

#include <algorithm>

#include "adopt.hpp"
#include "file_util.hpp"
#include "sg_rules.hpp"
#include "view_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

const std::string kHost = "sgshow/vmops-host";

AdoptSources sources_of(const std::string &vm) {
  const std::string dir = kViewData + "/" + kHost + "/state/";
  auto log_text = read_input_file(dir + vm + ".log");
  REQUIRE(log_text);
  auto log = parse_rule_log(*log_text, dir + vm + ".log");
  REQUIRE(log);
  AdoptSources sources;
  sources.log = *log;
  sources.log_path = dir + vm + ".log";
  sources.ip_path = dir + vm + ".ip";
  if (auto ip = read_input_file(sources.ip_path))
    sources.ip_file = *ip;
  return sources;
}

std::vector<std::string> kinds_of(const std::vector<Leftover> &leftovers) {
  std::vector<std::string> kinds;
  for (const auto &left : leftovers)
    kinds.push_back(left.kind + " " + left.table);
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

} // namespace

TEST_CASE("a vmops-programmed host reads back with its traits and leftovers", "[adopt][view]") {
  const FirewallSnapshot snapshot = snapshot_of(kHost);
  REQUIRE(snapshot.ebtables_nat);
  const FirewallView view = build_view(snapshot);
  const VmView *a = view.find("i-2-3-VM");
  REQUIRE(a);
  CHECK(a->vmops.rule_sets == std::vector<std::string>{"i-2-3-VMi8_0", "i-2-3-VMt80_80", "i-2-3-VM-et80_80"});
  CHECK(a->vmops.nat_mac_vifs == std::vector<std::string>{"vif7.0"});
  CHECK(a->mac == "06:f8:c8:00:00:09"); // from the nat MAC check: the filter table has none
  bool mac_found = false;
  for (const auto &protection : a->protections)
    if (protection.name == "mac") {
      mac_found = true;
      CHECK(protection.in_place());
      CHECK(protection.how == "ebtables nat");
    }
  CHECK(mac_found);
  // default_network_rules ran twice: the arptables jumps and the nat rule twice.
  CHECK(kinds_of(a->leftovers) ==
        std::vector<std::string>{"duplicate arptables", "duplicate arptables", "duplicate ebtables-nat"});
  // The long-named VM's destroy left its set (13-character prefix) behind.
  const VmView *gone = view.find("i-12345-678901-VM");
  REQUIRE(gone);
  CHECK(gone->unused_sets == std::vector<std::string>{"i-12345-67890t22_22"});
  // What belongs to no VM: a MAC check of vif21.0, a set of i-2-21-VM.
  CHECK(kinds_of(view.host.leftovers) ==
        std::vector<std::string>{"stale-nat-mac-check ebtables-nat", "unused-set ipset"});
  CHECK(view.host.leftovers[0].args ==
        std::vector<std::string>{"-s", "!", "06:f8:c8:00:00:99", "-i", "vif21.0", "-j", "DROP"});
  // The system VM has no vmops traits to show (its layout is sg-apply's).
  REQUIRE(view.find("r-4-VM"));
  CHECK_FALSE(view.find("r-4-VM")->vmops.any());
}

TEST_CASE("adopting a vmops VM gives the state sg-apply would have recorded", "[adopt]") {
  const FirewallView view = build_view(snapshot_of(kHost));
  auto a = adopt_vm_state(*view.find("i-2-3-VM"), sources_of("i-2-3-VM"));
  REQUIRE(a);
  CHECK(a->kind == VmKind::user);
  CHECK(a->vm_id == "3");
  CHECK(a->ip == "10.147.41.238");
  CHECK(a->secondary_ips == std::vector<std::string>{"10.147.41.241"});
  CHECK(a->mac == "06:f8:c8:00:00:09");
  CHECK(a->dom_id == "7");
  CHECK(a->vifs == std::vector<std::string>{"vif7.0"});
  CHECK(a->signature == "5d41402abc4b2a76b9719d911017c592");
  CHECK(a->seqno == "4");
  CHECK(a->rules_applied);
  // The rules as CloudStack sent them (vmops inserted them in reverse order).
  auto rules = parse_rule_string(a->rules, "adopted");
  REQUIRE(rules);
  std::vector<std::string> readable;
  for (const auto &rule : *rules)
    readable.push_back(format_rule_readable(rule));
  std::sort(readable.begin(), readable.end());
  CHECK(readable == std::vector<std::string>{"icmp type 8 code 0 from 10.147.40.0/23",
                                             "tcp 22 from 0.0.0.0/0",
                                             "tcp 80 from 10.147.40.0/23, 192.168.0.0/16",
                                             "tcp 80 to 10.147.40.0/23", "udp 53 to 0.0.0.0/0"});

  // Defaults only (network_rules never ran): the record says so.
  auto b = adopt_vm_state(*view.find("i-2-5-VM"), sources_of("i-2-5-VM"));
  REQUIRE(b);
  CHECK_FALSE(b->rules_applied);
  CHECK(b->vifs == std::vector<std::string>{"vif8.0", "tap8.0"});
  CHECK(b->secondary_ips.empty());

  auto r = adopt_vm_state(*view.find("r-4-VM"), sources_of("r-4-VM"));
  REQUIRE(r);
  CHECK(r->kind == VmKind::system);
  CHECK(r->vifs == std::vector<std::string>{"vif6.0", "vif6.1"});
}

TEST_CASE("a VM whose chains hold a rule vmops never writes is not adopted", "[adopt]") {
  FirewallSnapshot snapshot = snapshot_of(kHost);
  auto with_rule = [&](std::vector<std::string> args) {
    FirewallSnapshot changed = snapshot;
    changed.iptables->rules.insert(changed.iptables->rules.begin(), FwRule{"i-2-3-VM", std::move(args), {}, 0});
    return build_view(changed);
  };
  // An admin's rule read_back_rule() reads leniently as "tcp 9999".
  const FirewallView commented =
      with_rule({"-p", "tcp", "-m", "tcp", "--dport", "9999", "-m", "comment", "--comment", "admin", "-j", "ACCEPT"});
  auto refused = adopt_vm_state(*commented.find("i-2-3-VM"), sources_of("i-2-3-VM"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().str().find("--comment admin") != std::string::npos);
  CHECK(refused.error().str().find("not one CloudStack writes") != std::string::npos);
  // A LOG rule is not a security-group rule at all.
  const FirewallView logged = with_rule({"-j", "LOG"});
  CHECK_FALSE(adopt_vm_state(*logged.find("i-2-3-VM"), sources_of("i-2-3-VM")));
  // The rule vmops itself writes for "tcp 9999 from anywhere" is adopted.
  const FirewallView vmops_rule =
      with_rule({"-p", "tcp", "-m", "tcp", "--dport", "9999", "-m", "state", "--state", "NEW", "-j", "ACCEPT"});
  CHECK(adopt_vm_state(*vmops_rule.find("i-2-3-VM"), sources_of("i-2-3-VM")));
  // An ingress chain that does not end in DROP would open the VM.
  FirewallSnapshot open = snapshot;
  auto &rules = open.iptables->rules;
  rules.erase(std::remove_if(rules.begin(), rules.end(),
                             [](const FwRule &r) { return r.chain == "i-2-3-VM" && r.args == std::vector<std::string>{"-j", "DROP"}; }),
              rules.end());
  const FirewallView opened = build_view(open);
  auto no_drop = adopt_vm_state(*opened.find("i-2-3-VM"), sources_of("i-2-3-VM"));
  REQUIRE_FALSE(no_drop);
  CHECK(no_drop.error().str().find("ingress chain i-2-3-VM ending in no final rule") != std::string::npos);
}
