#include <catch2/catch.hpp>

#include <unistd.h>

#include "fake_runner.hpp"
#include "netfilter_tools.hpp"

using namespace vifwall;
using vifwall::test::FakeRunner;

// These tests need the real tool files on disk (find_program checks them);
// CI installs them through scripts/install-deps.
TEST_CASE("detect_netfilter_tools picks the variants that work here", "[nftools]") {
  FakeRunner runner;
  runner.answer("iptables -V", "iptables v1.8.9 (nf_tables)\n");
  runner.answer("ebtables -t filter -L INPUT", "", 255, "The kernel doesn't support the ebtables 'filter' table.\n");
  runner.answer("ebtables-nft -t filter -L INPUT", "Bridge table: filter\n");
  runner.answer("ebtables-nft -V", "ebtables 1.8.9 (nf_tables)\n");
  runner.answer("arptables -n -L FORWARD", "", 1, "chain 'FORWARD' in table 'filter' is incompatible\n");
  runner.answer("arptables-legacy -n -L FORWARD", "Chain FORWARD (policy ACCEPT)\n");
  runner.answer("arptables-legacy -V", "arptables v0.0.5\n");
  runner.answer("ipset version", "ipset v7.17, protocol version: 7\n");
  auto tools = detect_netfilter_tools(runner, IptablesChoice::automatic);
  REQUIRE(tools);
  CHECK(tools->iptables.variant == Variant::nft);
  CHECK(tools->iptables.version == "1.8.9");
  CHECK(tools->ebtables.ebtables.find("ebtables-nft") != std::string::npos);
  CHECK(tools->ebtables.variant == Variant::nft);
  REQUIRE(tools->arptables);
  CHECK(tools->arptables->arptables.find("arptables-legacy") != std::string::npos);
}

TEST_CASE("detect_netfilter_tools lists every tool that does not work", "[nftools]") {
  FakeRunner runner; // every command fails
  auto tools = detect_netfilter_tools(runner, IptablesChoice::legacy);
  REQUIRE_FALSE(tools);
  const std::string message = tools.error().message;
  CHECK(message.find("iptables-legacy -V") != std::string::npos);
  CHECK(message.find("no working ebtables") != std::string::npos);
  CHECK(message.find("ipset") != std::string::npos);
}

TEST_CASE("iptables_choice_of: the tools' --iptables values", "[netfilter_tools]") {
  CHECK(iptables_choice_of("legacy") == IptablesChoice::legacy);
  CHECK(iptables_choice_of("nft") == IptablesChoice::nft);
  CHECK(iptables_choice_of("auto") == IptablesChoice::automatic);
}

TEST_CASE("detect_netfilter_tools finds ip6tables of the same choice, and does without", "[nftools][ip6tables]") {
  FakeRunner runner;
  runner.answer("iptables-legacy -V", "iptables v1.8.9 (legacy)\n");
  runner.answer("ebtables -t filter -L INPUT", "Bridge table: filter\n");
  runner.answer("ipset version", "ipset v7.17, protocol version: 7\n");
  SECTION("there") {
    if (!find_program("ip6tables-legacy-save") || ::access("/proc/net/if_inet6", F_OK) != 0) {
      WARN("no ip6tables-legacy or no IPv6 on this machine: not checked");
      return;
    }
    runner.answer("ip6tables-legacy -V", "ip6tables v1.8.9 (legacy)\n");
    auto tools = detect_netfilter_tools(runner, IptablesChoice::legacy);
    REQUIRE(tools);
    REQUIRE(tools->ip6tables);
    CHECK(tools->ip6tables->save.find("ip6tables-legacy-save") != std::string::npos);
    CHECK(tools->ip6tables->restore.find("ip6tables-legacy-restore") != std::string::npos);
    CHECK(tools->ip6tables->variant == Variant::legacy);
    CHECK(tools->ip6tables->version == "1.8.9");
  }
  SECTION("not working: no ip6tables, and no error") {
    auto tools = detect_netfilter_tools(runner, IptablesChoice::legacy);
    REQUIRE(tools);
    CHECK_FALSE(tools->ip6tables);
  }
}
