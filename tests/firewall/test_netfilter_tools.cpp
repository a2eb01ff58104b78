#include <catch2/catch.hpp>

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
