// Several NICs per VM and the IPv6 twin (sg_render_ipv6.cpp, and the
// per-NIC parts of sg_render.cpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "sg_render.hpp"
#include "sg_render_internal.hpp"
#include "validate.hpp"

using namespace vifwall;

namespace {

using Lines = std::vector<std::string>;

std::string join(const std::vector<std::string> &words) {
  std::string out;
  for (const auto &word : words)
    out += (out.empty() ? "" : " ") + word;
  return out;
}

Lines chain_lines(const TablePlan &table, const std::string &chain) {
  Lines out;
  for (const auto &args : planned_rules(table, chain))
    out.push_back(join(args));
  return out;
}

bool has_line(const Lines &lines, const std::string &line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

std::size_t count_containing(const Lines &lines, const std::string &part) {
  return static_cast<std::size_t>(std::count_if(
      lines.begin(), lines.end(), [&](const std::string &l) { return l.find(part) != std::string::npos; }));
}

const SetContent *find_set(const VmPlan &plan, const std::string &name) {
  for (const auto &set : plan.sets)
    if (set.name == name)
      return &set;
  return nullptr;
}

// i-2-3-VM with IPv6 on NIC 0 and a second NIC (IPv4 and IPv6) on vif7.1.
VmIdentity two_nic_vm() {
  VmIdentity vm{"i-2-3-VM", "3", "10.147.41.238", {}, "06:f8:c8:00:00:09", {"vif7.0"}};
  vm.ipv6 = {"2001:DB8:0::238"};
  vm.other_nics.push_back(VmNic{1, "10.1.1.5", {"10.1.1.6"}, {"2001:db8:1::5"}, "06:f8:c8:00:00:0a",
                                {"vif7.1", "tap7.1"}});
  return vm;
}

} // namespace

TEST_CASE("link_local_from_mac is the modified EUI-64 of RFC 4291", "[sgrender6]") {
  CHECK(link_local_from_mac("06:f8:c8:00:00:09") == "fe80::4f8:c8ff:fe00:9");
  // QEMU's well-known MAC: the universal/local bit (0x02) is flipped.
  CHECK(link_local_from_mac("52:54:00:12:34:56") == "fe80::5054:ff:fe12:3456");
  CHECK(link_local_from_mac("00:00:00:00:00:00") == "fe80::200:ff:fe00:0");
}

TEST_CASE("validate_ipv6_host refuses what no guest NIC owns", "[sgrender6]") {
  CHECK(validate_ipv6_host("2001:DB8:0::238").value() == "2001:db8::238");
  CHECK(validate_ipv6_host("fe80::1").value() == "fe80::1");
  for (const char *bad : {"", "::", "::1", "ff02::1", "::ffff:10.1.1.1", "fe80::1%eth0",
                          "10.1.1.1", "2001:db8::/64", "2001:db8::g", "1:2:3:4:5:6:7:8:9"})
    CHECK_FALSE(validate_ipv6_host(bad));
  CHECK_THAT(validate_ipv6_host("ff02::1").error().message, Catch::Contains("multicast"));
}

TEST_CASE("per-NIC sets and names", "[sgrender6]") {
  const VmNames names = names_for_vm("i-2-3-VM");
  CHECK(nic_set_name(names, 0, false) == "i-2-3-VM");
  CHECK(nic_set_name(names, 0, true) == "i-2-3-VM-6");
  CHECK(nic_set_name(names, 1, false) == "i-2-3-VM-n1");
  CHECK(nic_set_name(names, 15, true) == "i-2-3-VM-6n15");
  CHECK(set_base_of("i-2-3-VM-6n15").value() == "i-2-3-VM");
  CHECK(set_base_of("i-2-3-VM-n1").value() == "i-2-3-VM");
  CHECK(set_base_of("i-2-3-VM-6").value() == "i-2-3-VM");
  CHECK(set_base_of("i-2-3-VM-i1a").value() == "i-2-3-VM");
  CHECK_FALSE(set_base_of("i-2-3-VM"));
  // A VM named like another's NIC set gets a hashed set name, never the
  // other VM's set; its chains keep the name (chains have no NIC suffix).
  const VmNames lookalike = names_for_vm("i-2-3-VM-6");
  CHECK(lookalike.ipset != "i-2-3-VM-6");
  CHECK(lookalike.ingress == "i-2-3-VM-6");
  // The longest base still fits ipset's 31 characters.
  const VmNames longest = names_for_vm(std::string(64, 'i'));
  CHECK(nic_set_name(longest, 15, true).size() <= kMaxSetName);
}

TEST_CASE("every NIC is filtered on its own VIFs with its own MAC and set", "[sgrender6]") {
  VmIdentity vm = two_nic_vm();
  vm.ipv6.clear();
  vm.other_nics[0].ipv6.clear();
  const VmPlan plan = render_user_vm_defaults(vm, ArpFilter::arptables).value();
  REQUIRE(find_set(plan, "i-2-3-VM-n1"));
  CHECK(find_set(plan, "i-2-3-VM-n1")->members == Lines{"10.1.1.5", "10.1.1.6"});
  CHECK(find_set(plan, "i-2-3-VM")->members == Lines{"10.147.41.238"});
  const Lines def = chain_lines(plan.iptables, "i-2-3-VM-def");
  CHECK(has_line(def, "-m physdev --physdev-in vif7.1 --physdev-is-bridged -m set ! --match-set "
                      "i-2-3-VM-n1 src -j DROP"));
  CHECK(has_line(def, "-m physdev --physdev-in tap7.1 --physdev-is-bridged -m set ! --match-set "
                      "i-2-3-VM-n1 src -j DROP"));
  // NIC 1 may not use NIC 0's set: no rule of vif7.1 names it.
  CHECK(count_containing(def, "--physdev-in vif7.1 --physdev-is-bridged -m set ! --match-set i-2-3-VM src") == 0);
  // Both NICs jump to the VM's one pair of rule chains.
  CHECK(has_line(def, "-m physdev --physdev-out vif7.1 --physdev-is-bridged -j i-2-3-VM"));
  const Lines eb = chain_lines(plan.ebtables, "i-2-3-VM");
  CHECK(has_line(eb, "-s ! 6:f8:c8:0:0:9 -i vif7.0 -j DROP"));
  CHECK(has_line(eb, "-s ! 6:f8:c8:0:0:a -i vif7.1 -j DROP"));
  CHECK(has_line(eb, "-s ! 6:f8:c8:0:0:a -i tap7.1 -j DROP"));
  const Lines arp = chain_lines(plan.arptables, "i-2-3-VM");
  CHECK(has_line(arp, "-j ACCEPT -i vif7.1 -s 10.1.1.5 --src-mac 06:f8:c8:00:00:0a --h-length 6 --opcode Reply"));
  CHECK(count_containing(arp, "-i vif7.1 -s 10.147.41.238") == 0);
  // Without IPv6 there is nothing in ip6tables and no inet6 set.
  CHECK(plan.ip6tables == TablePlan{});
  for (const auto &set : plan.sets)
    CHECK(set.family == "inet");
}

TEST_CASE("NIC lists are checked before anything is rendered", "[sgrender6]") {
  auto error_of = [](auto change) {
    VmIdentity vm = two_nic_vm();
    change(vm);
    auto plan = render_user_vm_defaults(vm, ArpFilter::arptables);
    REQUIRE_FALSE(plan);
    return plan.error().message;
  };
  CHECK_THAT(error_of([](VmIdentity &vm) { vm.other_nics[0].device = 16; }), Catch::Contains("expected 1-15"));
  CHECK_THAT(error_of([](VmIdentity &vm) { vm.other_nics[0].device = 0; }), Catch::Contains("expected 1-15"));
  CHECK_THAT(error_of([](VmIdentity &vm) { vm.other_nics.push_back(vm.other_nics[0]); }),
             Catch::Contains("NIC 1 is listed twice"));
  CHECK_THAT(error_of([](VmIdentity &vm) { vm.other_nics[0].vifs = {"vif7.0"}; }),
             Catch::Contains("VIF \"vif7.0\" is listed twice"));
  CHECK_THAT(error_of([](VmIdentity &vm) { vm.other_nics[0].ipv6 = {"ff02::1"}; }),
             Catch::Contains("NIC 1: invalid IPv6 address \"ff02::1\""));
  CHECK_THAT(error_of([](VmIdentity &vm) { vm.ipv6 = {"10.1.1.1"}; }), Catch::Contains("invalid IPv6 address"));
  CHECK_THAT(error_of([](VmIdentity &vm) { vm.other_nics[0].mac = "06:f8"; }), Catch::Contains("NIC 1: invalid MAC"));
}

TEST_CASE("a NIC with IPv6 gets an inet6 set and the ip6tables -def chain", "[sgrender6]") {
  const VmPlan plan = render_user_vm_defaults(two_nic_vm(), ArpFilter::arptables).value();
  REQUIRE(find_set(plan, "i-2-3-VM-6"));
  CHECK(find_set(plan, "i-2-3-VM-6")->family == "inet6");
  CHECK(find_set(plan, "i-2-3-VM-6")->members == Lines{"fe80::4f8:c8ff:fe00:9", "2001:db8::238"});
  REQUIRE(find_set(plan, "i-2-3-VM-6n1"));
  CHECK(find_set(plan, "i-2-3-VM-6n1")->members == Lines{"fe80::4f8:c8ff:fe00:a", "2001:db8:1::5"});

  const Lines def6 = chain_lines(plan.ip6tables, "i-2-3-VM-def");
  const std::string in0 = "-m physdev --physdev-in vif7.0 --physdev-is-bridged";
  const std::string out0 = "-m physdev --physdev-out vif7.0 --physdev-is-bridged";
  CHECK(has_line(def6, "-p ipv6-icmp " + in0 + " -m icmp6 --icmpv6-type 134 -j DROP"));
  CHECK(has_line(def6, "-p ipv6-icmp " + in0 + " -m icmp6 --icmpv6-type 137 -j DROP"));
  CHECK(has_line(def6, "-p udp " + in0 + " -m udp --sport 547 -j DROP"));
  CHECK(has_line(def6, in0 + " -m set ! --match-set i-2-3-VM-6 src -j DROP"));
  CHECK(has_line(def6, "-s ::/128 -p ipv6-icmp " + in0 + " -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT"));
  // One neighbour advertisement per own address (link-local included), as
  // ip6tables-save prints the u32 match, then the rest dropped.
  CHECK(has_line(def6, "-p ipv6-icmp " + in0 + " -m icmp6 --icmpv6-type 136 -m hl --hl-eq 255 -m u32 "
                       "--u32 0x30=0x20010db8&&0x34=0x0&&0x38=0x0&&0x3c=0x238 -j ACCEPT"));
  CHECK(count_containing(def6, in0 + " -m icmp6 --icmpv6-type 136 -m hl --hl-eq 255 -m u32") == 2);
  CHECK(has_line(def6, "-p ipv6-icmp " + in0 + " -m icmp6 --icmpv6-type 136 -j DROP"));
  CHECK(has_line(def6, "-p ipv6-icmp " + out0 + " -m icmp6 --icmpv6-type 134 -m hl --hl-eq 255 -j ACCEPT"));
  CHECK(has_line(def6, out0 + " -m set ! --match-set i-2-3-VM-6 dst -j DROP"));
  CHECK(has_line(def6, in0 + " -m set --match-set i-2-3-VM-6 src -j i-2-3-VM-eg"));
  CHECK(has_line(def6, out0 + " -j i-2-3-VM"));
  // Order matters: what no guest may send comes before anything is accepted.
  const auto position = [&](const std::string &line) {
    return std::find(def6.begin(), def6.end(), line) - def6.begin();
  };
  CHECK(position("-p ipv6-icmp " + in0 + " -m icmp6 --icmpv6-type 134 -j DROP") <
        position("-p ipv6-icmp " + in0 + " -m icmp6 --icmpv6-type 1 -j ACCEPT"));
  CHECK(position(in0 + " -m set ! --match-set i-2-3-VM-6 src -j DROP") <
        position("-p ipv6-icmp " + in0 + " -m icmp6 --icmpv6-type 128 -j ACCEPT"));
  // NIC 1's VIFs check NIC 1's set.
  CHECK(has_line(def6, "-m physdev --physdev-in tap7.1 --physdev-is-bridged -m set ! --match-set "
                       "i-2-3-VM-6n1 src -j DROP"));
  CHECK(chain_lines(plan.ip6tables, kBridgeFirewall) ==
        Lines{"-m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def",
              "-m physdev --physdev-in vif7.1 --physdev-is-bridged -j i-2-3-VM-def",
              "-m physdev --physdev-in tap7.1 --physdev-is-bridged -j i-2-3-VM-def",
              "-m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def",
              "-m physdev --physdev-out vif7.1 --physdev-is-bridged -j i-2-3-VM-def",
              "-m physdev --physdev-out tap7.1 --physdev-is-bridged -j i-2-3-VM-def"});
  CHECK(chain_lines(plan.ebtables, kIpv6Gate) ==
        Lines{"-i vif7.0 -j RETURN", "-o vif7.0 -j RETURN", "-i vif7.1 -j RETURN",
              "-o vif7.1 -j RETURN", "-i tap7.1 -j RETURN", "-o tap7.1 -j RETURN"});
}

TEST_CASE("a NIC without IPv6 stays out of the IPv6 gate", "[sgrender6]") {
  VmIdentity vm = two_nic_vm();
  vm.other_nics[0].ipv6.clear();
  const VmPlan plan = render_user_vm_defaults(vm, ArpFilter::ebtables).value();
  CHECK(chain_lines(plan.ebtables, kIpv6Gate) == Lines{"-i vif7.0 -j RETURN", "-o vif7.0 -j RETURN"});
  CHECK(count_containing(chain_lines(plan.ip6tables, "i-2-3-VM-def"), "vif7.1") == 0);
  CHECK_FALSE(find_set(plan, "i-2-3-VM-6n1"));
}

TEST_CASE("host setup --ipv6: the ip6tables twin and the ebtables gate", "[sgrender6]") {
  const VmPlan v4 = render_host_setup({"eth0"}, ArpFilter::arptables).value();
  CHECK(has_line(chain_lines(v4.ebtables, kDefaultEbtables), "-p IPv6 -j DROP"));
  CHECK(v4.ip6tables == TablePlan{});

  const VmPlan plan = render_host_setup({"eth0"}, ArpFilter::arptables, true).value();
  const Lines ebt = chain_lines(plan.ebtables, kDefaultEbtables);
  CHECK_FALSE(has_line(ebt, "-p IPv6 -j DROP"));
  const auto gate = std::find(ebt.begin(), ebt.end(), "-p IPv6 -j " + kIpv6Gate);
  REQUIRE(gate != ebt.end());
  CHECK(*(gate + 1) == "-p IPv6 -j RETURN");
  CHECK(chain_lines(plan.ebtables, kIpv6Gate) == Lines{"-j DROP"});
  CHECK(chain_lines(plan.ip6tables, kBridgeDefaultFirewall) ==
        Lines{"-m state --state RELATED,ESTABLISHED -j ACCEPT"});
  CHECK(chain_lines(plan.ip6tables, kForward) ==
        Lines{"-m physdev --physdev-is-bridged -j BRIDGE-FIREWALL",
              "-m physdev --physdev-out eth0+ --physdev-is-bridged -j ACCEPT", "-j DROP"});
  // The IPv4 side is the same as without --ipv6.
  CHECK(plan.iptables == v4.iptables);
}

TEST_CASE("rules in ip6tables: one rule per CIDR, icmpv6, one policy for both families", "[sgrender6]") {
  const VmNames names = names_for_vm("i-2-3-VM");
  const std::vector<SgRule> rules = {
      {Direction::ingress, "tcp", 22, 22, {"10.0.0.0/8", "2001:db8::1/64", "2001:db8:5::7"}},
      {Direction::ingress, "icmp", 128, -1, {"::/0"}},
      {Direction::ingress, "icmpv6", -1, -1, {"2001:db8::/32"}},
      {Direction::egress, "udp", 53, 53, {"10.0.0.53"}},
  };
  const VmPlan plan = render_vm_rules(names, rules, 'a', true).value();
  CHECK(chain_lines(plan.ip6tables, "i-2-3-VM") ==
        Lines{"-s 2001:db8::/64 -p tcp -m tcp --dport 22 -m state --state NEW -j ACCEPT",
              "-s 2001:db8:5::7/128 -p tcp -m tcp --dport 22 -m state --state NEW -j ACCEPT",
              "-p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT",
              "-s 2001:db8::/32 -p ipv6-icmp -j ACCEPT", "-j DROP"});
  // An IPv4 egress rule restricts the VM's egress in both families.
  CHECK(chain_lines(plan.ip6tables, "i-2-3-VM-eg") == Lines{"-j DROP"});
  CHECK(chain_lines(plan.iptables, "i-2-3-VM-eg").back() == "-j DROP");
  // icmpv6 renders nothing in iptables, and says nothing about it.
  CHECK(chain_lines(plan.iptables, "i-2-3-VM").size() == 2);
  CHECK(plan.notes.empty());
  // Without IPv6 the IPv6 CIDRs are left out with a note.
  const VmPlan v4 = render_vm_rules(names, rules, 'a', false).value();
  CHECK(v4.ip6tables == TablePlan{});
  CHECK(v4.notes.size() == 3);
  // icmpv6 with an IPv4 CIDR is a mistake, not silence.
  CHECK_FALSE(render_vm_rules(names, {{Direction::ingress, "icmpv6", -1, -1, {"10.0.0.0/8"}}}, 'a', true));
}

TEST_CASE("set members as ipset save prints them", "[sgrender6]") {
  using render_detail::canonical_set_member;
  CHECK(canonical_set_member("10.1.2.3/16") == "10.1.0.0/16");
  CHECK(canonical_set_member("10.1.2.3/32") == "10.1.2.3");
  CHECK(canonical_set_member("2001:db8::1/64") == "2001:db8::/64");
  CHECK(canonical_set_member("2001:db8::1/128") == "2001:db8::1");
  CHECK(canonical_set_member("2001:db8:ffff:ffff::/33") == "2001:db8:8000::/33");
}
