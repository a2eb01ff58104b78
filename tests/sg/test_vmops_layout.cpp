// What CloudStack's vmops leaves that sg-apply's layout has not
// (lib/sg/vmops_layout.cpp): its per-rule set names, its nat MAC checks,
// duplicated rules.
#include <catch2/catch.hpp>

#include "netfilter.hpp"
#include "sg_names.hpp"
#include "vmops_layout.hpp"

using namespace vifwall;

TEST_CASE("vmops' per-rule sets are told by VM, direction and generation", "[vmops_layout]") {
  CHECK(vmops_rule_set_prefixes("i-2-3-VM") ==
        std::vector<std::string>{"i-2-3-VM", "i-2-3-VM-e", "i-2-3-VM_", "i-2-3-VM-eg_"});
  // The current naming: protocol letter, start_end, or _<letter>_any.
  for (const char *set : {"i-2-3-VMt22_22", "i-2-3-VM-eu53_53", "i-2-3-VM_i_any", "i-2-3-VMa0_0",
                          "i-2-3-VMi8_0", "i-2-3-VM-et80_80"})
    CHECK(is_vmops_rule_set_of(set, "i-2-3-VM"));
  // Before 4.9: <chain>_<protocol>_<start>_<end>, <chain>-eg_...
  for (const char *set : {"i-2-3-VM_tcp_22_22", "i-2-3-VM-eg_udp_53_53", "i-2-3-VM_icmp_any"})
    CHECK(is_vmops_rule_set_of(set, "i-2-3-VM"));
  // Not vmops' rule sets of i-2-3-VM: its own address set, our generation-
  // lettered rule sets, another VM's sets, a VM whose name extends this one.
  for (const char *set : {"i-2-3-VM", "i-2-3-VM-i1a", "i-2-3-VM-e12b", "i-2-33-VMt22_22", "i-2-3-VMX",
                          "i-2-3-VM-eg", "i-2-3-VMt22", "i-2-3-VMt_22"})
    CHECK_FALSE(is_vmops_rule_set_of(set, "i-2-3-VM"));
  // Names over 14 characters: the sets carry the first 13 (shared by VMs
  // whose names start alike, which is why callers check that no other VM's
  // rule uses a set).
  CHECK(vmops_rule_set_prefixes("i-12345-678901-VM").front() == "i-12345-67890");
  CHECK(is_vmops_rule_set_of("i-12345-67890t22_22", "i-12345-678901-VM"));
  CHECK(is_vmops_rule_set_of("i-12345-67890t22_22", "i-12345-678902-VM"));
  CHECK(rule_set_name(names_for_vm("i-2-3-VM"), Direction::ingress, 1, 'a') == "i-2-3-VM-i1a");
}

TEST_CASE("a set shaped like vmops' rule sets is recognized without its VM", "[vmops_layout]") {
  for (const char *set : {"i-2-21-VMt22_22", "i-12345-67890t22_22", "r-4-VM-eu53_53", "i-2-3-VM_i_any",
                          "i-2-3-VM_tcp_22_22"})
    CHECK(looks_like_vmops_rule_set(set));
  for (const char *set : {"i-2-3-VM", "i-2-3-VM-i1a", "vifwall-tmp-abcdefg", "i23VMt2222417", "blacklist",
                          "x-2-3-VMt22_22", "i-a-3-VMt22_22"})
    CHECK_FALSE(looks_like_vmops_rule_set(set));
}

TEST_CASE("vmops' MAC check in the nat table, in either negation spelling", "[vmops_layout]") {
  const FwRule rule{"PREROUTING", {"-s", "!", "06:f8:c8:00:00:09", "-i", "vif7.0", "-j", "DROP"}, {}, 1};
  CHECK(vmops_nat_mac_rule_vif(rule) == "vif7.0");
  CHECK(vmops_nat_mac_rule_mac(rule) == "06:f8:c8:00:00:09");
  const FwRule nft{"PREROUTING", {"-i", "tap8.0", "!", "-s", "6:f8:c8:0:0:b", "-j", "DROP"}, {}, 2};
  CHECK(vmops_nat_mac_rule_vif(nft) == "tap8.0");
  // Anybody else's nat rule is not vmops': another chain, another target,
  // a non-negated source, one word more.
  CHECK_FALSE(vmops_nat_mac_rule_vif(FwRule{"POSTROUTING", rule.args, {}, 1}));
  CHECK_FALSE(vmops_nat_mac_rule_vif(FwRule{"PREROUTING", {"-s", "!", "06:f8:c8:00:00:09", "-i", "vif7.0", "-j", "ACCEPT"}, {}, 1}));
  CHECK_FALSE(vmops_nat_mac_rule_vif(FwRule{"PREROUTING", {"-s", "06:f8:c8:00:00:09", "-i", "vif7.0", "-j", "DROP"}, {}, 1}));
  CHECK_FALSE(vmops_nat_mac_rule_vif(
      FwRule{"PREROUTING", {"-p", "IPv4", "-s", "!", "06:f8:c8:00:00:09", "-i", "vif7.0", "-j", "DROP"}, {}, 1}));
  CHECK_FALSE(vmops_nat_mac_rule_vif(FwRule{"PREROUTING", {"-s", "!", "06:f8:c8:00:00:09", "-j", "DROP"}, {}, 1}));
}

TEST_CASE("duplicate_rules names every copy after the first, by position", "[vmops_layout]") {
  FwTable table;
  table.name = "filter";
  table.chains = {{"FORWARD", "ACCEPT", {}, {}, 0}};
  const std::vector<std::string> in{"-j", "i-2-3-VM", "-i", "vif7.0"}, out{"-j", "i-2-3-VM", "-o", "vif7.0"};
  table.rules = {{"FORWARD", in, {}, 1}, {"FORWARD", in, {}, 2}, {"FORWARD", out, {}, 3}, {"FORWARD", in, {}, 4}};
  const auto copies = duplicate_rules(table, "FORWARD");
  REQUIRE(copies.size() == 2);
  CHECK(copies[0].position == 2);
  CHECK(copies[1].position == 4);
  CHECK(copies[0].args == in);
  CHECK(duplicate_rules(table, "INPUT").empty());
}
