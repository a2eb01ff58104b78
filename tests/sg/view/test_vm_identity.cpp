// lib/sg/view/vm_identity.cpp: a VM's chains by role, naming, own set, MAC
// and anti-spoofing protections, as its rules say.
#include <catch2/catch.hpp>

#include <algorithm>

#include "sg_view.hpp"
#include "view_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

// Removes the rules of `chain` in `table` whose words contain all of `words`.
void drop_rules(FwTable &table, const std::string &chain, const std::vector<std::string> &words) {
  auto has_all = [&](const FwRule &rule) {
    if (rule.chain != chain)
      return false;
    for (const auto &word : words)
      if (std::find(rule.args.begin(), rule.args.end(), word) == rule.args.end())
        return false;
    return true;
  };
  const auto before = table.rules.size();
  table.rules.erase(std::remove_if(table.rules.begin(), table.rules.end(), has_all), table.rules.end());
  REQUIRE(table.rules.size() < before);
}

} // namespace

TEST_CASE("a missing protection and a missing set are shown", "[sg_view][vm_identity]") {
  FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-arptables");
  // Drop i-2-3-VM's MAC rule and its own set.
  drop_rules(*snapshot.ebtables, "i-2-3-VM", {"-s", "!"});
  auto &sets = snapshot.ipsets->sets;
  sets.erase(std::remove_if(sets.begin(), sets.end(), [](const IpSet &s) { return s.name == "i-2-3-VM"; }),
             sets.end());
  const FirewallView view = build_view(snapshot);
  const VmView *vm = view.find("i-2-3-VM");
  REQUIRE(vm);
  CHECK_FALSE(protection(*vm, "mac").in_place());
  CHECK(protection(*vm, "mac").missing_vifs == std::vector<std::string>{"vif7.0"});
  CHECK(vm->mac == "06:f8:c8:00:00:09"); // still known from the ARP rules
  CHECK(vm->ipset_missing);
  CHECK(vm->ips.empty());
  ViewTextOptions options;
  options.host = false;
  const std::string text = render_view_text(view, {vm}, options);
  CHECK(text.find("MAC anti-spoofing: NO\n") != std::string::npos);
  CHECK(text.find("IPs:        none (set i-2-3-VM DOES NOT EXIST)\n") != std::string::npos);
}

TEST_CASE("a protection on some of the VM's VIFs only", "[sg_view][vm_identity]") {
  FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-ebtables");
  drop_rules(*snapshot.ebtables, "i-2-5-VM", {"-i", "tap8.0", "68"}); // DHCP on tap8.0
  const FirewallView view = build_view(snapshot);
  const VmView *vm = view.find("i-2-5-VM");
  REQUIRE(vm);
  const Protection &dhcp = protection(*vm, "dhcp");
  CHECK_FALSE(dhcp.in_place());
  CHECK(dhcp.vifs == std::vector<std::string>{"vif8.0"});
  CHECK(dhcp.missing_vifs == std::vector<std::string>{"tap8.0"});
  CHECK(protection(*vm, "arp").how == "ebtables");
  ViewTextOptions options;
  options.host = false;
  CHECK(render_view_text(view, {vm}, options).find("DHCP anti-spoofing: PARTLY (not on tap8.0)\n") !=
        std::string::npos);
}

TEST_CASE("identity from iptables alone: chains by role, own set by name, no MAC", "[sg_view][vm_identity]") {
  FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-arptables");
  snapshot.ebtables.reset();
  snapshot.arptables.reset();
  const FirewallView view = build_view(snapshot);
  const VmView *vm = view.find("i-2-3-VM");
  REQUIRE(vm);
  CHECK(vm->ingress_chain == "i-2-3-VM");
  CHECK(vm->egress_chain == "i-2-3-VM-eg");
  CHECK(vm->def_chain == "i-2-3-VM-def");
  CHECK(vm->naming == Naming::current);
  CHECK(vm->ipset == "i-2-3-VM");
  CHECK_FALSE(vm->mac);
  CHECK(protection(*vm, "ip").in_place());
  CHECK_FALSE(protection(*vm, "mac").in_place());
  CHECK(protection(*vm, "arp").how.empty());

  // Without the default chain's set match, the set named after the VM.
  auto &ipt = *snapshot.iptables;
  drop_rules(ipt, "i-2-3-VM-def", {"!", "--match-set"});
  const FirewallView by_name = build_view(snapshot);
  CHECK(by_name.find("i-2-3-VM")->ipset == "i-2-3-VM");
  CHECK_FALSE(protection(*by_name.find("i-2-3-VM"), "ip").in_place());

  const VmView *router = view.find("r-4-VM");
  REQUIRE(router);
  CHECK(router->def_chain == "r-4-VM");
  CHECK(router->ipset.empty());
  CHECK(router->protections.empty());
}

TEST_CASE("a dual-stack VM with two NICs: each NIC's VIFs, addresses and protections", "[sg_view][vm_identity]") {
  const FirewallView view = build_view(snapshot_of(kIpv6Nics));
  const VmView *vm = view.find("i-2-3-VM");
  REQUIRE(vm);
  CHECK(vm->def6_chain == "i-2-3-VM-def");
  CHECK(vm->ingress6_chain == "i-2-3-VM");
  CHECK(vm->egress6_chain == "i-2-3-VM-eg");
  REQUIRE(vm->nics.size() == 2);
  const ViewNic &nic0 = vm->nics[0];
  CHECK(nic0.device == 0);
  CHECK(nic0.vifs == std::vector<std::string>{"vif7.0", "tap7.0"});
  CHECK(nic0.mac == "06:f8:c8:00:00:09");
  CHECK(nic0.ipset == "i-2-3-VM");
  CHECK(nic0.ipv4 == std::vector<std::string>{"10.1.1.4"});
  CHECK(nic0.ipset6 == "i-2-3-VM-6");
  CHECK(nic0.ipv6 == std::vector<std::string>{"2001:db8:1::4", "fe80::4f8:c8ff:fe00:9"});
  const ViewNic &nic1 = vm->nics[1];
  CHECK(nic1.device == 1);
  CHECK(nic1.vifs == std::vector<std::string>{"vif7.1"});
  CHECK(nic1.mac == "06:f8:c8:00:00:0a");
  CHECK(nic1.ipset == "i-2-3-VM-n1");
  CHECK(nic1.ipv4 == std::vector<std::string>{"10.2.2.5"});
  CHECK(nic1.ipset6 == "i-2-3-VM-6n1");
  CHECK(nic1.ipv6 == std::vector<std::string>{"2001:db8:2::5", "fe80::4f8:c8ff:fe00:a"});
  // The VM-wide fields stay NIC 0's, for the consumers that predate NICs.
  CHECK(vm->ipset == "i-2-3-VM");
  CHECK(vm->ips == std::vector<std::string>{"10.1.1.4"});
  CHECK(vm->mac == "06:f8:c8:00:00:09");
  for (const auto *list : {&vm->protections, &nic0.protections, &nic1.protections}) {
    std::vector<std::string> names;
    for (const auto &p : *list) {
      INFO(p.name);
      CHECK(p.in_place());
      names.push_back(p.name);
    }
    CHECK(names == std::vector<std::string>{"ip", "mac", "arp", "dhcp", "ipv6", "ra", "na", "dhcpv6"});
  }
}

TEST_CASE("a NIC's IPv6 protection removed by hand shows on that NIC", "[sg_view][vm_identity]") {
  struct Case {
    std::string protection;
    std::vector<std::string> words; // of the vif7.1 rule removed from ip6tables i-2-3-VM-def
  };
  for (const Case &c : {Case{"ipv6", {"--physdev-in", "vif7.1", "!", "--match-set"}},
                        Case{"ra", {"--physdev-in", "vif7.1", "134", "DROP"}},
                        Case{"na", {"--physdev-in", "vif7.1", "136", "DROP"}},
                        Case{"dhcpv6", {"--physdev-in", "vif7.1", "547", "DROP"}}}) {
    INFO(c.protection);
    FirewallSnapshot snapshot = snapshot_of(kIpv6Nics);
    const std::size_t before = snapshot.ip6tables->rules.size();
    drop_rules(*snapshot.ip6tables, "i-2-3-VM-def", c.words);
    REQUIRE(snapshot.ip6tables->rules.size() < before);
    const FirewallView view = build_view(snapshot);
    const VmView *vm = view.find("i-2-3-VM");
    REQUIRE(vm);
    REQUIRE(vm->nics.size() == 2);
    CHECK(protection(vm->nics[0].protections, c.protection).in_place());
    const Protection &broken = protection(vm->nics[1].protections, c.protection);
    CHECK(broken.missing_vifs == std::vector<std::string>{"vif7.1"});
    CHECK(protection(*vm, c.protection).missing_vifs == std::vector<std::string>{"vif7.1"});
  }
  // A VIF the IPv6 gate lets through with no ip6tables rule at all is
  // missing every IPv6 protection.
  FirewallSnapshot snapshot = snapshot_of(kIpv6Nics);
  drop_rules(*snapshot.ip6tables, "i-2-3-VM-def", {"vif7.1"});
  drop_rules(*snapshot.ip6tables, "BRIDGE-FIREWALL", {"vif7.1"});
  const FirewallView view = build_view(snapshot);
  const VmView *vm = view.find("i-2-3-VM");
  REQUIRE(vm);
  CHECK(protection(*vm, "ipv6").missing_vifs == std::vector<std::string>{"vif7.1"});
  CHECK(protection(*vm, "ra").missing_vifs == std::vector<std::string>{"vif7.1"});
}

TEST_CASE("an IPv4-only VM has no IPv6 protections and one NIC", "[sg_view][vm_identity]") {
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  const VmView *vm = view.find("i-2-5-VM");
  REQUIRE(vm);
  REQUIRE(vm->nics.size() == 1);
  CHECK(vm->nics[0].device == 0);
  CHECK(vm->nics[0].ipv4 == vm->ips);
  CHECK(vm->nics[0].ipset6.empty());
  CHECK(vm->protections.size() == 4);
  CHECK(vm->nics[0].protections.size() == 4);
}
