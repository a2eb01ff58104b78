// lib/sg/view/chain_owners.cpp: which VM each chain is.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "sg_names.hpp"
#include "sg_view.hpp"
#include "text.hpp"
#include "view_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test;

TEST_CASE("long VM names: hashed chains show under the VM name when it is known", "[sg_view][chain_owners]") {
  const std::string vm = "i-2-3-averyveryverylongvmname-VM";
  const VmNames names = names_for_vm(vm);
  REQUIRE(names.ingress != vm);
  const std::string text =
      "*filter\n:FORWARD ACCEPT [0:0]\n:BRIDGE-FIREWALL - [0:0]\n:" + names.ingress + " - [0:0]\n:" +
      names.egress + " - [0:0]\n:" + names.def + " - [0:0]\n" +
      "-A BRIDGE-FIREWALL -m physdev --physdev-in vif3.0 --physdev-is-bridged -j " + names.def + "\n" +
      "-A " + names.def + " -m physdev --physdev-out vif3.0 --physdev-is-bridged -j " + names.ingress + "\n" +
      "-A " + names.ingress + " -j DROP\n-A " + names.egress + " -j RETURN\nCOMMIT\n";
  FirewallSnapshot snapshot;
  snapshot.iptables = parse_iptables_text(text, "t").value();
  const FirewallView unknown = build_view(snapshot);
  REQUIRE(unknown.vms.size() == 1);
  CHECK(unknown.vms[0].name == names.ingress);
  const FirewallView known = build_view(snapshot, {vm});
  REQUIRE(known.vms.size() == 1);
  CHECK(known.vms[0].name == vm);
  CHECK(known.vms[0].def_chain == names.def);
  CHECK(known.vms[0].naming == Naming::current);
  CHECK(known.vms[0].ingress_default == "DROP");

  const ChainOwners owners = chain_owners(snapshot, {vm});
  CHECK(owners.iptables == std::map<std::string, std::string>{
                               {names.ingress, vm}, {names.egress, vm}, {names.def, vm}});
  CHECK(owners.ebtables.empty());
}

TEST_CASE("chain_owners: both generations of default chain, and the other tables", "[sg_view][chain_owners]") {
  const ChainOwners old = chain_owners(snapshot_of("sgshow/cloudstack-old"), {});
  CHECK(old.iptables.at("i-2-3-def") == "i-2-3-VM"); // by its jumps
  CHECK(old.iptables.at("i-2-3-VM-eg") == "i-2-3-VM");
  CHECK(old.iptables.at("r-4-VM") == "r-4-VM");
  CHECK(old.iptables.count("BRIDGE-FIREWALL") == 0); // global: no VM's
  CHECK(old.ebtables.at("i-2-3-VM") == "i-2-3-VM");
  CHECK(old.arptables.at("i-2-3-VM") == "i-2-3-VM");

  const ChainOwners current = chain_owners(snapshot_of("sgshow/xen6-arptables"), {});
  CHECK(current.iptables.at("i-2-5-VM-def") == "i-2-5-VM");
  CHECK(current.iptables.at("i-2-5-VM-eg") == "i-2-5-VM");
}

TEST_CASE("chain_owners: an old default chain without jumps", "[sg_view][chain_owners]") {
  auto owners_of = [](const std::string &chains) {
    const std::string text = "*filter\n:FORWARD ACCEPT [0:0]\n" + chains + "COMMIT\n";
    return chain_owners(iptables_only(text), {}).iptables;
  };
  // The only ingress chain "i-2-9-...": its VM (old naming cut the last field).
  auto one = owners_of(":i-2-9-def - [0:0]\n:i-2-9-VM - [0:0]\n");
  CHECK(one.at("i-2-9-def") == "i-2-9-VM");
  // Two candidates: the base itself.
  auto two = owners_of(":i-2-9-def - [0:0]\n:i-2-9-VM - [0:0]\n:i-2-9-XY - [0:0]\n");
  CHECK(two.at("i-2-9-def") == "i-2-9");
  // A jump to an egress chain names the VM too.
  auto egress = owners_of(":i-2-9-def - [0:0]\n:i-2-9-VM-eg - [0:0]\n-A i-2-9-def -j i-2-9-VM-eg\n");
  CHECK(egress.at("i-2-9-def") == "i-2-9-VM");
}

TEST_CASE("rules_by_chain keeps each chain's order", "[sg_view][chain_owners]") {
  const FwTable table = parse_iptables_text("*filter\n:FORWARD ACCEPT [0:0]\n:a - [0:0]\n"
                                            "-A a -j RETURN\n-A FORWARD -j a\n-A a -j DROP\nCOMMIT\n",
                                            "t")
                            .value();
  const RulesByChain rules = rules_by_chain(table);
  REQUIRE(rules.at("a").size() == 2);
  CHECK(rules.at("a")[0]->target() == "RETURN");
  CHECK(rules.at("a")[1]->target() == "DROP");
  CHECK(rules.at("FORWARD").size() == 1);
}

TEST_CASE("chain_owners: a VM's ip6tables chains, and the IPv6 gate's rules by their VIF", "[sg_view][chain_owners]") {
  const FirewallSnapshot snapshot = snapshot_of(kIpv6Nics);
  const ChainOwners owners = chain_owners(snapshot, {});
  CHECK(owners.ip6tables == std::map<std::string, std::string>{
                                {"i-2-3-VM", "i-2-3-VM"}, {"i-2-3-VM-def", "i-2-3-VM"}, {"i-2-3-VM-eg", "i-2-3-VM"}});
  CHECK(owners.gate_vifs == std::map<std::string, std::string>{
                                {"tap7.0", "i-2-3-VM"}, {"vif7.0", "i-2-3-VM"}, {"vif7.1", "i-2-3-VM"}});
  std::vector<std::string> gated, not_gated;
  for (const auto &rule : snapshot.ebtables->rules)
    (ipv6_gate_owner(rule, owners).empty() ? not_gated : gated).push_back(rule.chain + " " + join_strings(rule.args, " "));
  CHECK(gated.size() == 6);
  for (const auto &rule : gated)
    CHECK(rule.rfind(kIpv6Gate + " ", 0) == 0);
  // The VM's own ebtables chain is the VM's by its name, not by the gate.
  CHECK(std::find(not_gated.begin(), not_gated.end(), kIpv6Gate + " -j DROP") != not_gated.end());
}
