// The VM jobs of several NICs and IPv6 (vm_jobs.cpp): `default --nic N`,
// `destroy --nic N`, secondary addresses by MAC, and what IPv6 needs of the
// host, against the fake host.
#include <catch2/catch.hpp>

#include <fstream>

#include "fake_host.hpp"
#include "sg_apply.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

DefaultRequest nic1_of_a() {
  DefaultRequest nic = kVmA;
  nic.ip = "10.1.1.5";
  nic.mac = "06:f8:c8:00:00:0a";
  nic.secondary_ips = "";
  nic.vifs = {"vif7.1"};
  nic.nic = 1;
  return nic;
}

std::size_t rules_naming(const Table &table, const std::string &word) {
  std::size_t count = 0;
  for (const auto &[chain, rules] : table.rules)
    for (const auto &rule : rules)
      count += contains(rule, word) ? 1 : 0;
  return count;
}

} // namespace

TEST_CASE("default --nic 1 adds a NIC with its own set; destroy --nic 1 takes exactly it away",
          "[sg_apply][nics]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  // NIC 0 first: a NIC of a VM sg-apply never programmed is refused.
  auto orphan = applier.apply_default(nic1_of_a());
  REQUIRE_FALSE(orphan);
  CHECK(contains(orphan.error().str(), "run `sg-apply default` for its NIC 0 first"));
  CHECK(host.sets.count("i-2-3-VM-n1") == 0);

  REQUIRE(applier.apply_default(kVmA));
  const Table iptables_one_nic = host.iptables;
  auto added = applier.apply_default(nic1_of_a());
  REQUIRE(added);
  CHECK(added->changed);
  REQUIRE(host.sets.count("i-2-3-VM-n1"));
  CHECK(host.sets.at("i-2-3-VM-n1").second == std::set<std::string>{"10.1.1.5"});
  CHECK(rules_naming(host.iptables, "vif7.1") > 0);
  CHECK(rules_naming(host.ebtables, "vif7.1") > 0);
  CHECK(contains(read_text(scene.state_file("i-2-3-VM.state")), "nic 1 mac 06:f8:c8:00:00:0a ip 10.1.1.5"));
  // The same again changes nothing.
  auto again = applier.apply_default(nic1_of_a());
  REQUIRE(again);
  CHECK_FALSE(again->changed);
  // NIC 0's call keeps the VM's other NICs while its dom-id stays.
  auto nic0_again = applier.apply_default(kVmA);
  REQUIRE(nic0_again);
  CHECK_FALSE(nic0_again->changed);

  auto removed = applier.destroy("i-2-3-VM", 1);
  REQUIRE(removed);
  CHECK(removed->changed);
  CHECK(host.sets.count("i-2-3-VM-n1") == 0);
  CHECK(rules_naming(host.iptables, "vif7.1") == 0);
  CHECK(rules_naming(host.ebtables, "vif7.1") == 0);
  CHECK(host.iptables == iptables_one_nic);
  CHECK(host.sets.count("i-2-3-VM"));
  // Removing it twice is nothing to do, not an error.
  auto twice = applier.destroy("i-2-3-VM", 1);
  REQUIRE(twice);
  CHECK_FALSE(twice->changed);
}

TEST_CASE("NIC values are refused before anything runs", "[sg_apply][nics]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  host.received.clear();
  for (int bad : {-1, 16, 99}) {
    DefaultRequest nic = nic1_of_a();
    nic.nic = bad;
    auto refused = applier.prepare_default(nic);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().source == "--nic");
    CHECK_FALSE(applier.prepare_destroy("i-2-3-VM", bad));
  }
  DefaultRequest clash = nic1_of_a();
  clash.vifs = {"vif7.0"}; // NIC 0's VIF
  CHECK_FALSE(applier.apply_default(clash));
  DefaultRequest other_domain = nic1_of_a();
  other_domain.vifs = {"vif9.1"};
  auto stale = applier.apply_default(other_domain);
  REQUIRE_FALSE(stale);
  CHECK(contains(stale.error().str(), "dom-id 9"));
  for (const char *address : {"ff02::1", "::ffff:10.1.1.1", "fe80::1%eth0", "10.1.1.1", "::", "x"}) {
    DefaultRequest v6 = kVmA;
    v6.ipv6 = {address};
    auto refused = applier.prepare_default(v6);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().source == "--ip6");
  }
  // Nothing was loaded.
  for (const auto &command : host.received)
    CHECK_FALSE(contains(command.argv.front(), "restore"));
}

TEST_CASE("IPv6 needs the host's IPv6 layer and bridged IPv6 in ip6tables", "[sg_apply][nics]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene); // setup without --ipv6
  SgApplier applier(host, scene.options());
  DefaultRequest v6 = kVmA;
  v6.ipv6 = {"2001:db8::238"};
  auto no_layer = applier.prepare_default(v6);
  REQUIRE_FALSE(no_layer);
  CHECK(contains(no_layer.error().str(), "sg-apply setup --ipv6"));

  SgOptions with_ipv6 = scene.options();
  with_ipv6.ipv6 = true;
  // setup --ipv6 checks the sysctl itself and names it.
  std::ofstream(with_ipv6.proc_sys + "/net/bridge/bridge-nf-call-ip6tables") << "0\n";
  auto refused_setup = SgApplier(host, with_ipv6).setup({"eth0"});
  REQUIRE_FALSE(refused_setup);
  CHECK(contains(refused_setup.error().str(), "net.bridge.bridge-nf-call-ip6tables is not 1"));
}

TEST_CASE("a secondary address goes to the NIC its MAC names", "[sg_apply][nics]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  REQUIRE(applier.apply_default(nic1_of_a()));
  REQUIRE(applier.secondary_ip("i-2-3-VM", "06:F8:C8:00:00:0A", "10.1.1.9", true));
  CHECK(host.sets.at("i-2-3-VM-n1").second == std::set<std::string>{"10.1.1.5", "10.1.1.9"});
  CHECK_FALSE(host.sets.at("i-2-3-VM").second.count("10.1.1.9"));
  // IPv6 on a host without the IPv6 layer is refused, naming the fix.
  auto v6 = applier.secondary_ip("i-2-3-VM", "06:f8:c8:00:00:0a", "2001:db8:1::9", true);
  REQUIRE_FALSE(v6);
  CHECK(contains(v6.error().str(), "setup --ipv6"));
}
