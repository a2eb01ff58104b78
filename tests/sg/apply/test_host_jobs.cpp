// The host-wide operations of host_jobs.cpp (issue 14: CloudStack drives
// vifwall through the XAPI plugin), and the pieces of the CLI contract that
// live elsewhere (cleanup's count, rules' secondary IPs), through the fake
// host of fake_host.hpp, which here also answers `xe vm-list`.
//
// The contract, pinned from apache/cloudstack
// scripts/vm/hypervisor/xenserver/xenserver84/vmops @1502b605 (the same
// logic as scripts/vm/hypervisor/xenserver/vmops) and the Java callers:
//  * get_rule_logs_for_vms(host_uuid) walks the host's resident_VMs; for
//    every r-/s-/v-/i-/l- VM it runs network_rules_for_rebooted_vm, and for
//    i- VMs only it appends the log's first six fields joined with ','
//    (name,vmID,vmIP,domID,signature,seqno); the entries are joined with
//    ';' (no trailing separator).  VMs not resident here are not listed;
//    system VMs are repaired but not listed.
//  * network_rules_for_rebooted_vm: nothing when the XenAPI dom-id equals
//    the log's or either is -1; otherwise the BRIDGE-FIREWALL jumps and the
//    -def rules move to vif<new>.0 (tap<new>.0), ebtables and arptables are
//    rebuilt from the log's IP and MAC, a system VM's chain is redone, and
//    rewrite_rule_log_for_vm writes the log with the new dom-id and seqno -1
//    (name, id, IP, signature and MAC kept).
//  * CitrixResourceBase.syncNetworkGroups splits the answer on ';', then
//    ',', keeps entries of exactly 6 fields, and reads vmID (field 1) and
//    seqno (field 5) as numbers.
//  * cleanup_rules(instance) returns str(len(cleanup)), the number of VMs
//    whose rules it destroyed, or '-1' on failure;
//    CitrixCleanupNetworkRulesCmdWrapper parses it with Integer.parseInt.
//  * can_bridge_firewall(host_uuid, instance) sets up the host-wide chains,
//    then calls cleanup_rules_for_dead_vms and cleanup_rules, whose
//    failures it ignores; it answers 'true'/'false' for the setup alone.
//  * network_rules(..., secIps) passes secIps ("ip;ip;", or "0;" for none:
//    SecurityGroupRulesCmd.getSecIpsString) to default_network_rules, which
//    adds them to the VM's address set and ARP rules.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fake_host.hpp"
#include "sg_apply.hpp"
#include "text.hpp"

using namespace vifwall;
using namespace vifwall::test;
namespace fs = std::filesystem;

namespace {

const std::string kHere = "11111111-2222-3333-4444-555555555555";
const std::string kThere = "99999999-2222-3333-4444-555555555555";

// One record of `xe vm-list params=uuid,name-label,power-state,dom-id,networks,resident-on`.
std::string vm_record(const std::string &uuid_tail, const std::string &name, int dom_id,
                      const std::string &resident = kHere) {
  return "uuid ( RO)           : aaaa0000-0000-0000-0000-0000000000" + uuid_tail + "\n" +
         "     name-label ( RW): " + name + "\n" +
         "    power-state ( RO): " + (dom_id >= 0 ? "running" : "halted") + "\n" +
         "         dom-id ( RO): " + std::to_string(dom_id) + "\n" +
         "    resident-on ( RO): " + (dom_id >= 0 ? resident : "<not in database>") + "\n\n\n";
}

// A Scene whose host answers xe: an xe stand-in (never run: the fake answers)
// and this host's inventory.
struct XeScene {
  Scene scene;
  XeScene() {
    const std::string xe = scene.dir + "/bin/xe";
    std::ofstream(xe) << "#!/bin/sh\nexit 99\n";
    fs::permissions(xe, fs::perms::owner_all);
    std::ofstream(scene.dir + "/inventory") << "INSTALLATION_UUID='" << kHere << "'\n";
    ::setenv("VIFWALL_INVENTORY", (scene.dir + "/inventory").c_str(), 1);
  }
  ~XeScene() { ::unsetenv("VIFWALL_INVENTORY"); }
  SgOptions options() const {
    SgOptions o = scene.options();
    o.xe = scene.dir + "/bin/xe";
    return o;
  }
  std::string file(const std::string &name) const { return scene.state_file(name); }
};

// The iptables rules of `chain` in the fake host that mention `word`.
std::size_t rules_with(const FakeHost &host, const std::string &chain, const std::string &word) {
  std::size_t n = 0;
  if (host.iptables.rules.count(chain))
    for (const auto &rule : host.iptables.rules.at(chain))
      n += contains(rule, word) ? 1 : 0;
  return n;
}

// B (prepare()) and A with defaults and rules on vif7.0, a system VM on
// vif9.0.
void program_host(FakeHost &host, const XeScene &x) {
  prepare(host, x.options());
  SgApplier applier(host, x.options());
  REQUIRE(applier.apply_default(kVmA));
  REQUIRE(applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "5")));
  REQUIRE(applier.apply_systemvm("s-1-VM", {"vif9.0"}));
  host.received.clear();
  host.loads.clear();
}

} // namespace

TEST_CASE("rule-logs prints get_rule_logs_for_vms' string: running i- VMs with a log", "[sg_apply][host_jobs]") {
  XeScene x;
  FakeHost host;
  program_host(host, x);
  // A and the system VM run here, B on another member: B is left out, and so
  // is the system VM (vmops lists i- VMs only).
  host.xe_vm_list = vm_record("01", "i-2-3-VM", 7) + vm_record("02", "i-2-5-VM", 3, kThere) +
                    vm_record("03", "s-1-VM", 9);
  const std::string before = host.snapshot();
  SgApplier applier(host, x.options());
  auto logs = applier.rule_logs();
  REQUIRE(logs);
  CHECK(logs->rule_logs == "i-2-3-VM,3,10.147.41.238,7,a5,5");
  CHECK_FALSE(logs->changed);
  CHECK(host.snapshot() == before);

  // Field by field as syncNetworkGroups reads it: 6 fields, id and seqno numbers.
  std::vector<std::string> fields{""};
  for (const char c : logs->rule_logs)
    if (c == ',')
      fields.emplace_back();
    else
      fields.back().push_back(c);
  REQUIRE(fields.size() == 6);
  CHECK(fields[0] == "i-2-3-VM");
  CHECK(std::stol(fields[1]) == 3);
  CHECK(fields[3] == "7");
  CHECK(std::stol(fields[5]) == 5);

  // Both here and halted: one entry each for the running ones, sorted, ';'.
  host.xe_vm_list = vm_record("01", "i-2-3-VM", 7) + vm_record("02", "i-2-5-VM", 8);
  logs = applier.rule_logs();
  REQUIRE(logs);
  CHECK(logs->rule_logs == "i-2-3-VM,3,10.147.41.238,7,a5,5;i-2-5-VM,5,10.147.41.240,8,_initial_,-1");
  host.xe_vm_list = vm_record("01", "i-2-3-VM", -1) + vm_record("02", "i-2-5-VM", -1);
  logs = applier.rule_logs();
  REQUIRE(logs);
  CHECK(logs->rule_logs.empty());
  CHECK(host.snapshot() == before);
}

TEST_CASE("rule-logs repairs a rebooted VM: new dom-id, jumps and log follow", "[sg_apply][host_jobs]") {
  XeScene x;
  FakeHost host;
  program_host(host, x);
  REQUIRE(rules_with(host, "BRIDGE-FIREWALL", "vif7.0") == 2);
  // A rebooted: dom-id 7 in its log, 11 running; the system VM 9 -> 12.
  host.xe_vm_list = vm_record("01", "i-2-3-VM", 11) + vm_record("02", "i-2-5-VM", 8) +
                    vm_record("03", "s-1-VM", 12);
  SgApplier applier(host, x.options());
  auto logs = applier.rule_logs();
  REQUIRE(logs);
  CHECK(logs->changed);
  // The log as rewrite_rule_log_for_vm writes it: new dom-id, seqno -1.
  CHECK(logs->rule_logs == "i-2-3-VM,3,10.147.41.238,11,a5,-1;i-2-5-VM,5,10.147.41.240,8,_initial_,-1");
  CHECK(read_text(x.file("i-2-3-VM.log")) == "i-2-3-VM,3,10.147.41.238,11,a5,-1,06:f8:c8:00:00:09\n");
  CHECK(read_text(x.file("s-1-VM.log")) == "s-1-VM,-1,_ignore_,12,_initial_,-1,ff:ff:ff:ff:ff:ff\n");
  // Every jump and -def rule moved to vif11.0; none is left for vif7.0.
  CHECK(rules_with(host, "BRIDGE-FIREWALL", "vif7.0") == 0);
  CHECK(rules_with(host, "BRIDGE-FIREWALL", "vif11.0") == 2);
  CHECK(rules_with(host, "i-2-3-VM-def", "vif7.0") == 0);
  CHECK(rules_with(host, "i-2-3-VM-def", "vif11.0") > 0);
  CHECK(rules_with(host, "BRIDGE-FIREWALL", "vif12.0") == 2);
  CHECK_FALSE(contains(host.list_ebtables(), "vif7.0"));
  CHECK(contains(host.list_ebtables(), "vif11.0"));
  // The rules themselves stay: the ingress chain still opens SSH.
  CHECK(rules_with(host, "i-2-3-VM", "--dport 22") == 1);
  CHECK(contains(read_text(x.file("i-2-3-VM.state")), "vif11.0"));
  // B did not reboot: its log is untouched.
  CHECK(read_text(x.file("i-2-5-VM.log")) == "i-2-5-VM,5,10.147.41.240,8,_initial_,-1,06:f8:c8:00:00:0b\n");

  // Repaired: the next ping changes nothing.
  host.received.clear();
  auto again = applier.rule_logs();
  REQUIRE(again);
  CHECK_FALSE(again->changed);
  CHECK_FALSE(host.loaded_anything());
  // CloudStack then resends the rules with a newer seqno and the same
  // signature: only the log changes (the rules were kept).
  RulesRequest resend = rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "6");
  resend.signature = "a5";
  resend.vifs = {"vif11.0"};
  auto resent = applier.apply_rules(resend);
  REQUIRE(resent);
  CHECK_FALSE(resent->changed);
}

TEST_CASE("a rule-logs repair that fails midway changes nothing", "[sg_apply][host_jobs]") {
  XeScene x;
  FakeHost host;
  program_host(host, x);
  host.xe_vm_list = vm_record("01", "i-2-3-VM", 11) + vm_record("03", "s-1-VM", 12);
  const std::string before = host.snapshot();
  const std::string log_a = read_text(x.file("i-2-3-VM.log")), log_s = read_text(x.file("s-1-VM.log"));
  const std::string state_a = read_text(x.file("i-2-3-VM.state"));
  SECTION("iptables refused, after ebtables was loaded") { host.refuse["iptables-restore"] = -1; }
  SECTION("lifting the cut-off refused (the second ebtables load)") { host.refuse["ebtables-restore"] = 2; }
  SgApplier applier(host, x.options());
  auto logs = applier.rule_logs();
  REQUIRE_FALSE(logs);
  CHECK(contains(logs.error().str(), "refused by the fake kernel"));
  CHECK(host.snapshot() == before);
  CHECK(read_text(x.file("i-2-3-VM.log")) == log_a);
  CHECK(read_text(x.file("s-1-VM.log")) == log_s);
  CHECK(read_text(x.file("i-2-3-VM.state")) == state_a);
}

TEST_CASE("rule-logs fails, changing nothing, when xe cannot say what runs here", "[sg_apply][host_jobs]") {
  XeScene x;
  FakeHost host;
  program_host(host, x);
  const std::string before = host.snapshot();
  host.xe_vm_list.clear(); // xe fails
  auto logs = SgApplier(host, x.options()).rule_logs();
  REQUIRE_FALSE(logs);
  CHECK(host.snapshot() == before);
}

TEST_CASE("cleanup counts the VMs it removed, as cleanup_rules answers", "[sg_apply][host_jobs]") {
  XeScene x;
  FakeHost host;
  program_host(host, x);
  SgApplier applier(host, x.options());
  auto cleaned = applier.cleanup(std::vector<std::string>{"i-2-5-VM"});
  REQUIRE(cleaned);
  CHECK(cleaned->removed == std::vector<std::string>{"i-2-3-VM", "s-1-VM"});
  auto none = applier.cleanup(std::vector<std::string>{"i-2-5-VM"});
  REQUIRE(none);
  CHECK(none->removed.empty());
  CHECK_FALSE(none->changed);
}

TEST_CASE("setup and cleanup in one call, as can_bridge_firewall does", "[sg_apply][host_jobs]") {
  XeScene x;
  FakeHost host;
  program_host(host, x);
  SgApplier applier(host, x.options());
  SECTION("xe says which VMs run") {
    host.xe_vm_list = vm_record("02", "i-2-5-VM", 8) + vm_record("01", "i-2-3-VM", -1);
    auto done = applier.setup_and_cleanup({"eth0"}, std::nullopt);
    REQUIRE(done);
    CHECK(done->warnings.empty());
    CHECK(done->removed == std::vector<std::string>{"i-2-3-VM", "s-1-VM"});
    CHECK_FALSE(fs::exists(x.file("i-2-3-VM.log")));
    CHECK(fs::exists(x.file("i-2-5-VM.log")));
  }
  SECTION("a failed cleanup is a warning, as vmops ignores it") {
    host.xe_vm_list.clear();
    const std::string before = host.snapshot();
    auto done = applier.setup_and_cleanup({"eth0"}, std::nullopt);
    REQUIRE(done);
    REQUIRE(done->warnings.size() == 1);
    CHECK(starts_with(done->warnings[0], "setup done, but the cleanup of VMs that are not running failed: "));
    CHECK(host.snapshot() == before);
    CHECK(fs::exists(x.file("i-2-3-VM.log")));
  }
}

TEST_CASE("rules --sec-ips: secondary IPs join the set and ARP rules, '0;' for none", "[sg_apply][host_jobs]") {
  XeScene x;
  FakeHost host;
  prepare(host, x.options());
  SgApplier applier(host, x.options());
  DefaultRequest plain = kVmA;
  plain.secondary_ips = "0;";
  REQUIRE(applier.apply_default(plain));
  RulesRequest with = rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1");
  with.secondary_ips = "10.147.41.250;10.147.41.251;";
  auto applied = applier.apply_rules(with);
  REQUIRE(applied);
  CHECK(host.sets.at("i-2-3-VM").second == std::set<std::string>{"10.147.41.238", "10.147.41.250", "10.147.41.251"});
  CHECK(contains(host.list_ebtables(), "10.147.41.250")); // ARP rules (--arp-filter ebtables)
  CHECK(read_text(x.file("i-2-3-VM.ip")) == "i-2-3-VM,10.147.41.250;10.147.41.251;,3\n");

  // The same seqno and signature, other addresses: reprogrammed all the same.
  with.secondary_ips = "10.147.41.250;";
  auto fewer = applier.apply_rules(with);
  REQUIRE(fewer);
  CHECK(fewer->changed);
  CHECK(host.sets.at("i-2-3-VM").second == std::set<std::string>{"10.147.41.238", "10.147.41.250"});
  // Without --sec-ips the recorded ones are kept.
  RulesRequest next = rules_for_a("I:tcp;80;80;10.0.0.0/8,NEXT ", "2");
  REQUIRE(applier.apply_rules(next));
  CHECK(host.sets.at("i-2-3-VM").second.count("10.147.41.250") == 1);
  // "0;" removes them.
  next = rules_for_a("I:tcp;80;80;10.0.0.0/8,NEXT ", "3");
  next.secondary_ips = "0;";
  REQUIRE(applier.apply_rules(next));
  CHECK(host.sets.at("i-2-3-VM").second == std::set<std::string>{"10.147.41.238"});
  CHECK(read_text(x.file("i-2-3-VM.ip")) == "i-2-3-VM,0;,3\n");
  // A bad list fails before anything runs.
  const std::string before = host.snapshot();
  next = rules_for_a("I:tcp;80;80;10.0.0.0/8,NEXT ", "4");
  next.secondary_ips = "10.0.0.1;nope;";
  auto bad = applier.apply_rules(next);
  REQUIRE_FALSE(bad);
  CHECK(starts_with(bad.error().str(), "--sec-ips:2: "));
  CHECK(host.snapshot() == before);
}

TEST_CASE("reapply rebuilds a VM's firewall from its recorded state", "[sg_apply][host_jobs]") {
  XeScene x;
  FakeHost host;
  program_host(host, x);
  SgApplier applier(host, x.options());
  // Someone deletes A's SSH rule and B's -def chain's first rule.
  auto &ingress = host.iptables.rules.at("i-2-3-VM");
  const auto ssh = std::find_if(ingress.begin(), ingress.end(),
                                [](const std::string &rule) { return contains(rule, "--dport 22"); });
  REQUIRE(ssh != ingress.end());
  ingress.erase(ssh);
  host.iptables.rules.at("i-2-5-VM-def").erase(host.iptables.rules.at("i-2-5-VM-def").begin());
  const std::size_t def_b = host.iptables.rules.at("i-2-5-VM-def").size();

  SECTION("one VM") {
    auto done = applier.reapply({"i-2-3-VM"});
    REQUIRE(done);
    CHECK(done->changed);
    CHECK(rules_with(host, "i-2-3-VM", "--dport 22") == 1);
    CHECK(host.iptables.rules.at("i-2-5-VM-def").size() == def_b); // B untouched
  }
  SECTION("every VM with a state file, in one change") {
    host.received.clear();
    auto done = applier.reapply({});
    REQUIRE(done);
    CHECK(rules_with(host, "i-2-3-VM", "--dport 22") == 1);
    CHECK(host.iptables.rules.at("i-2-5-VM-def").size() == def_b + 1);
    CHECK(host.inputs_of("iptables-restore").size() == 1);
  }
  // Rebuilt: a second reapply finds nothing to change.
  host.received.clear();
  auto again = applier.reapply({"i-2-3-VM"});
  REQUIRE(again);
  CHECK_FALSE(again->changed);
  CHECK_FALSE(host.loaded_anything());
  // A VM without a record, or a bad name, fails before anything runs.
  auto unknown = applier.reapply({"i-9-9-VM"});
  REQUIRE_FALSE(unknown);
  CHECK(contains(unknown.error().str(), "i-9-9-VM.state: expected the recorded state of VM i-9-9-VM"));
  auto bad = applier.reapply({"no;such"});
  REQUIRE_FALSE(bad);
  CHECK(starts_with(bad.error().str(), "--vm: "));
}
