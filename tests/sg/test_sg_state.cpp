#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <stdlib.h>
#include <unistd.h>

#include "sg_state.hpp"

using namespace vifwall;

TEST_CASE("parse_rule_log reads XenServer's 7 fields and KVM's 6", "[sgstate]") {
  auto xs = parse_rule_log("i-2-3-VM,3,10.147.41.238,7,_initial_,-1,06:f8:c8:00:00:09\n", "i-2-3-VM.log");
  REQUIRE(xs);
  CHECK(*xs == RuleLog{"i-2-3-VM", "3", "10.147.41.238", "7", "_initial_", "-1", "06:f8:c8:00:00:09"});
  CHECK(format_rule_log(*xs) == "i-2-3-VM,3,10.147.41.238,7,_initial_,-1,06:f8:c8:00:00:09\n");
  auto kvm = parse_rule_log("i-2-3-VM,3,10.1.1.2,7,abc,5", "kvm.log");
  REQUIRE(kvm);
  CHECK(kvm->mac.empty());
  auto bad = parse_rule_log("i-2-3-VM,3,10.1.1.2", "x.log");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().str() == "x.log:1: expected 6 or 7 comma-separated fields "
                             "\"vmName,vmID,vmIP,domID,signature,seqno[,vmMac]\", got 3");
  auto bad_seq = parse_rule_log("a,3,ip,7,sig,seven,mac", "x.log");
  REQUIRE_FALSE(bad_seq);
  CHECK(bad_seq.error().message.find("seqno") != std::string::npos);
}

TEST_CASE("decide_rules_update follows CloudStack's decision table", "[sgstate]") {
  const RuleLog old{"i-2-3-VM", "3", "10.1.1.2", "7", "sigA", "5", "06:f8:c8:00:00:09"};
  auto with = [&](auto change) {
    RuleLog log = old;
    change(log);
    return decide_rules_update(old, log);
  };
  CHECK(decide_rules_update(std::nullopt, old) == LogDecision::program_all);
  CHECK(with([](RuleLog &l) { l.dom_id = "8"; }) == LogDecision::program_all);
  CHECK(with([](RuleLog &l) { l.vm_id = "4"; }) == LogDecision::program_all);
  CHECK(with([](RuleLog &l) { l.vm_ip = "10.1.1.3"; }) == LogDecision::program_all);
  CHECK(with([](RuleLog &l) { l.seqno = "6"; l.signature = "sigB"; }) == LogDecision::program_rules);
  CHECK(with([](RuleLog &l) { l.seqno = "6"; }) == LogDecision::update_log);
  CHECK(with([](RuleLog &l) { l.seqno = "4"; l.signature = "sigB"; }) == LogDecision::ignore);
  CHECK(with([](RuleLog &l) { l.signature = "sigB"; }) == LogDecision::program_rules);
  CHECK(with([](RuleLog &) {}) == LogDecision::nothing);
  // Numeric, not string, comparison: 10 is newer than 9.
  RuleLog nine = old;
  nine.seqno = "9";
  RuleLog ten = old;
  ten.seqno = "10";
  ten.signature = "sigB";
  CHECK(decide_rules_update(nine, ten) == LogDecision::program_rules);
  // The MAC is never compared (as in CloudStack).
  CHECK(with([](RuleLog &l) { l.mac = "ff:ff:ff:ff:ff:ff"; }) == LogDecision::nothing);
}

TEST_CASE("VmState round-trips through its file format", "[sgstate]") {
  VmState state;
  state.vm_name = "i-2-3-VM";
  state.vm_id = "3";
  state.ip = "10.147.41.238";
  state.secondary_ips = {"10.147.41.239", "10.147.41.240"};
  state.mac = "06:f8:c8:00:00:09";
  state.dom_id = "7";
  state.vifs = {"vif7.0", "tap7.0"};
  state.arp_filter = "arptables";
  state.generation = 'b';
  state.rules = "I:tcp;22;22;0.0.0.0/0,NEXT E:all;0;0;0.0.0.0/0,NEXT ";
  state.rules_applied = true;
  state.signature = "0123abcd";
  state.seqno = "12";
  const std::string text = format_vm_state(state);
  auto back = parse_vm_state(text, "s");
  REQUIRE(back);
  CHECK(*back == state);

  auto not_state = parse_vm_state("i-2-3-VM,3,ip\n", "x.state");
  REQUIRE_FALSE(not_state);
  CHECK(not_state.error().line == 1);
  auto bad_generation = parse_vm_state("vifwall-state 1\nvm x\ngeneration c\n", "x.state");
  REQUIRE_FALSE(bad_generation);
  CHECK(bad_generation.error().line == 3);
}

TEST_CASE("VmState keeps every NIC and its IPv6; IPv4-only files are as before", "[sgstate]") {
  VmState state;
  state.vm_name = "i-2-3-VM";
  state.ip = "10.147.41.238";
  state.mac = "06:f8:c8:00:00:09";
  state.vifs = {"vif7.0"};
  const std::string v4_text = format_vm_state(state);
  CHECK(v4_text.find("ipv6") == std::string::npos);
  CHECK(v4_text.find("\nnic ") == std::string::npos);

  state.ipv6 = {"2001:db8::238", "2001:db8::239"};
  state.other_nics = {VmNic{1, "10.1.1.5", {}, {"2001:db8:1::5"}, "06:f8:c8:00:00:0a", {"vif7.1", "tap7.1"}},
                      VmNic{3, "10.1.3.5", {"10.1.3.6", "10.1.3.7"}, {}, "06:f8:c8:00:00:0c", {"vif7.3"}}};
  const std::string text = format_vm_state(state);
  CHECK(text.find("nic 1 mac 06:f8:c8:00:00:0a ip 10.1.1.5 secondary-ips - ipv6 2001:db8:1::5 vifs "
                  "vif7.1,tap7.1\n") != std::string::npos);
  auto back = parse_vm_state(text, "s");
  REQUIRE(back);
  CHECK(*back == state);

  const std::string head = "vifwall-state 1\nvm x\n";
  for (const char *bad : {"nic 0 mac m ip i vifs v\n", "nic 16 mac m ip i vifs v\n", "nic x\n",
                          "nic 1 mac 06:f8:c8:00:00:0a ip 10.1.1.5\n", "nic 1 mac m ip\n",
                          "nic 1 mac m ip i vifs v\nnic 1 mac m ip i vifs w\n"}) {
    auto parsed = parse_vm_state(head + bad, "x.state");
    CHECK_FALSE(parsed);
    if (!parsed)
      CHECK(parsed.error().line >= 3);
  }
}

TEST_CASE("recorded_vm_names: the VMs of a state directory, none when it cannot be read", "[sgstate]") {
  char pattern[] = "/tmp/vifwall-state-XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  const std::string dir = pattern;
  {
    std::ofstream(dir + "/i-2-3-VM.state") << "vifwall-state 1\nvm i-2-3-VM\n";
  }
  CHECK(recorded_vm_names(dir) == std::vector<std::string>{"i-2-3-VM"});
  CHECK(recorded_vm_names(dir + "/missing").empty());
  std::remove((dir + "/i-2-3-VM.state").c_str());
  ::rmdir(pattern);
}
