#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "sg_names.hpp"

using namespace vifwall;

TEST_CASE("names_for_vm gives CloudStack's names for the seed VMs", "[sgnames]") {
  const VmNames user = names_for_vm("i-2-3-VM");
  CHECK(user.ingress == "i-2-3-VM");
  CHECK(user.egress == "i-2-3-VM-eg");
  CHECK(user.def == "i-2-3-VM-def");
  CHECK(user.ipset == "i-2-3-VM");
  CHECK(user.set_base == "i-2-3-VM");

  for (const char *system : {"r-4-VM", "s-1-VM", "v-2-VM", "l-7-VM"}) {
    INFO(system);
    const VmNames names = names_for_vm(system);
    CHECK(names.ingress == system);
    CHECK(names.def == system); // the system VM's only chain
    CHECK(names.ipset == system);
  }
}

TEST_CASE("is_system_vm knows CloudStack's system VM prefixes", "[sgnames]") {
  CHECK(is_system_vm("r-4-VM"));
  CHECK(is_system_vm("s-1-VM"));
  CHECK(is_system_vm("v-2-VM"));
  CHECK(is_system_vm("l-3-VM"));
  CHECK_FALSE(is_system_vm("i-2-3-VM"));
  CHECK_FALSE(is_system_vm("router"));
  CHECK_FALSE(is_system_vm("r"));
}

TEST_CASE("names_for_vm keeps names short enough and distinct", "[sgnames]") {
  // CloudStack's 13-character set prefix made these two collide.
  const VmNames a = names_for_vm("i-12345-678901-VM");
  const VmNames b = names_for_vm("i-12345-678902-VM");
  CHECK(a.ingress == "i-12345-678901-VM");
  CHECK(a.set_base != b.set_base);
  CHECK(a.ipset != b.ipset);
  CHECK(a.ingress != b.ingress);

  // Long names sharing a long prefix: the hash of the full name decides.
  const std::string prefix = "i-123456-7890123456-";
  const VmNames long_a = names_for_vm(prefix + "instance-alpha");
  const VmNames long_b = names_for_vm(prefix + "instance-beta");
  CHECK(long_a.ingress != long_b.ingress);
  CHECK(long_a.def != long_b.def);
  CHECK(long_a.egress != long_b.egress);
  CHECK(long_a.ipset != long_b.ipset);
  CHECK(long_a.set_base != long_b.set_base);
  // Readable: the prefix survives.
  CHECK(long_a.ingress.rfind("i-123456-7890123", 0) == 0);
  CHECK(long_a.ipset.rfind("i-123456-7890123456-ins", 0) == 0);

  // Deterministic.
  CHECK(names_for_vm(prefix + "instance-alpha") == long_a);
  CHECK(long_a.ingress == "i-123456-7890123-" + long_a.ingress.substr(17));

  // Within the limits for every length up to 64, including the suffixes.
  std::set<std::string> chains, sets;
  for (std::size_t length = 1; length <= 64; ++length) {
    const std::string name = "i-" + std::string(length, '7');
    const VmNames names = names_for_vm(name);
    INFO(name);
    CHECK(names.ingress.size() <= kMaxChainBase);
    CHECK(names.def.size() <= kMaxChainName);
    CHECK(names.egress.size() <= kMaxChainName);
    CHECK(names.ipset.size() <= kMaxSetName);
    CHECK(rule_set_name(names, Direction::egress, kMaxRulesPerDirection, 'b')
              .size() <= kMaxSetName);
    CHECK(chains.insert(names.def).second);
    CHECK(sets.insert(names.ipset).second);
  }
}

TEST_CASE("names that look derived are hashed so they cannot collide", "[sgnames]") {
  // A VM called i-2-3-VM-eg must not get i-2-3-VM's egress chain.
  const VmNames eg = names_for_vm("i-2-3-VM-eg");
  CHECK(eg.ingress != names_for_vm("i-2-3-VM").egress);
  CHECK(eg.ingress.rfind("i-2-3-VM-eg-", 0) == 0);
  CHECK(names_for_vm("i-2-3-def").ingress != "i-2-3-def");
  // ...nor a per-rule set name of i-2-3-VM.
  CHECK(names_for_vm("i-2-3-VM-i1a").ipset != "i-2-3-VM-i1a");
  // ...nor look like a target or a global chain.
  CHECK(names_for_vm("DROP").ingress != "DROP");
  CHECK(names_for_vm("BRIDGE-FIREWALL").ingress != "BRIDGE-FIREWALL");
  // A hashed-looking short name is hashed again, so it cannot equal another
  // VM's shortened name.
  const VmNames long_vm = names_for_vm("i-123456-7890123456-instance-alpha");
  CHECK(names_for_vm(long_vm.ingress).ingress != long_vm.ingress);
}

TEST_CASE("rule_set_name follows the documented scheme", "[sgnames]") {
  const VmNames names = names_for_vm("i-2-3-VM");
  CHECK(rule_set_name(names, Direction::ingress, 1, 'a') == "i-2-3-VM-i1a");
  CHECK(rule_set_name(names, Direction::egress, 12, 'b') == "i-2-3-VM-e12b");
  CHECK(rule_set_name(names, Direction::ingress, 1, 'a') !=
        rule_set_name(names, Direction::ingress, 1, 'b'));

  const auto parsed = recognize_rule_set("i-2-3-VM-e12b");
  REQUIRE(parsed);
  CHECK(parsed->set_base == "i-2-3-VM");
  CHECK(parsed->direction == Direction::egress);
  CHECK(parsed->index == 12);
  CHECK(parsed->generation == 'b');

  const VmNames long_names = names_for_vm("i-123456-7890123456-instance-alpha");
  const std::string set =
      rule_set_name(long_names, Direction::ingress, 9999, 'a');
  CHECK(set.size() == kMaxSetName);
  const auto back = recognize_rule_set(set);
  REQUIRE(back);
  CHECK(back->set_base == long_names.set_base);
  CHECK(back->index == 9999);

  CHECK_FALSE(recognize_rule_set("i-2-3-VM"));
  CHECK_FALSE(recognize_rule_set("i-2-3-VMt22_22")); // CloudStack's scheme
  CHECK_FALSE(recognize_rule_set("i-2-3-VM-x1a"));
  CHECK_FALSE(recognize_rule_set("-i1a"));
}

TEST_CASE("recognize_chain finds both CloudStack generations", "[sgnames]") {
  using RC = RecognizedChain;
  CHECK(recognize_chain("i-2-3-VM") == RC{"i-2-3-VM", ChainKind::ingress});
  CHECK(recognize_chain("i-2-3-VM-eg") == RC{"i-2-3-VM", ChainKind::egress});
  CHECK(recognize_chain("i-2-3-VM-def") == RC{"i-2-3-VM", ChainKind::def});
  CHECK(recognize_chain("i-2-3-def") == RC{"i-2-3", ChainKind::def});
  CHECK(recognize_chain("r-4-VM") == RC{"r-4-VM", ChainKind::system});
  CHECK(recognize_chain("BRIDGE-FIREWALL") ==
        RC{"BRIDGE-FIREWALL", ChainKind::global});
  CHECK(recognize_chain("DEFAULT_EBTABLES") ==
        RC{"DEFAULT_EBTABLES", ChainKind::global});
  CHECK_FALSE(recognize_chain("FORWARD"));
  CHECK_FALSE(recognize_chain("RH-Firewall-1-INPUT"));
  CHECK_FALSE(recognize_chain("FORWARD_vif7.0"));
  CHECK_FALSE(recognize_chain("i-x-VM"));
  CHECK_FALSE(recognize_chain("docker-user"));

  // Our own names read back to the same base.
  const VmNames names = names_for_vm("i-123456-7890123456-instance-alpha");
  CHECK(recognize_chain(names.def) == RC{names.ingress, ChainKind::def});
  CHECK(recognize_chain(names.egress) == RC{names.ingress, ChainKind::egress});
}
