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
