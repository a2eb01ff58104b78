#include <catch2/catch.hpp>

#include "host.hpp"

using namespace vifwall;

namespace {

Link link(std::string name, std::optional<std::string> master = std::nullopt,
          std::string mac = "fe:ff:ff:ff:ff:ff") {
  Link l;
  l.name = std::move(name);
  l.master = std::move(master);
  l.mac = std::move(mac);
  l.state = "up";
  return l;
}

Vm vm(std::string name, std::string uuid, std::int64_t dom_id, std::string power = "running") {
  Vm v;
  v.name_label = std::move(name);
  v.uuid = std::move(uuid);
  v.dom_id = dom_id;
  v.power_state = std::move(power);
  return v;
}

HostMap sample_host() {
  HostInputs inputs;
  inputs.vms = {vm("i-2-3-VM", "44b0e85e-00b4-73c0-6405-eacff81b8bbe", 7),
                vm("hvm", "9c4b1f7e-3a2d-4e8b-b6c1-5d0f2a7e8c31", 8),
                vm("halted", "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", -1, "halted"),
                vm("twin", "aaaa0000-0000-4000-8000-000000000001", 9),
                vm("twin", "aaaa0000-0000-4000-8000-000000000002", 10)};
  inputs.xe_vifs = std::vector<XeVif>{
      XeVif{"v1", "44b0e85e-00b4-73c0-6405-eacff81b8bbe", "i-2-3-VM", "0", "06:f8:c8:00:00:09", "", "", {}},
      XeVif{"v2", "9c4b1f7e-3a2d-4e8b-b6c1-5d0f2a7e8c31", "hvm", "0", "06:f8:c8:00:00:0b", "", "", {}}};
  inputs.links = {link("eth0"), link("tap8.0"), link("vif8.0"), link("vif7.0"),
                  link("vif12.0", "xenbr1"), link("vif7.1")};
  inputs.bridges = std::vector<Bridge>{Bridge{"xenbr0", "8000.1", false, {"eth0", "vif7.0", "vif8.0", "tap8.0"}}};
  return join_host(std::move(inputs));
}

} // namespace

TEST_CASE("join_host gives each running VM its vif and tap interfaces", "[host]") {
  const HostMap host = sample_host();
  REQUIRE(host.vms.size() == 5);
  const auto &a = host.vms[0];
  REQUIRE(a.vifs.size() == 2);
  CHECK(a.vifs[0].name == "vif7.0");
  CHECK(a.vifs[0].bridge == "xenbr0");
  CHECK(a.vifs[0].guest_mac == "06:f8:c8:00:00:09");
  CHECK(a.vifs[1].name == "vif7.1");
  CHECK_FALSE(a.vifs[1].bridge);   // on no bridge
  CHECK_FALSE(a.vifs[1].guest_mac); // no xe VIF record for device 1
  const auto &hvm = host.vms[1];
  REQUIRE(hvm.vifs.size() == 2);
  CHECK(hvm.vifs[0].name == "vif8.0"); // vif before its tap twin
  CHECK(hvm.vifs[1].name == "tap8.0");
  CHECK(hvm.vifs[1].kind == VifKind::tap);
  CHECK(hvm.vifs[1].guest_mac == "06:f8:c8:00:00:0b");
  CHECK(host.vms[2].vifs.empty()); // halted
  REQUIRE(host.orphans.size() == 1);
  CHECK(host.orphans[0].name == "vif12.0");
  CHECK(host.orphans[0].dom_id == 12);
  CHECK(host.orphans[0].bridge == "xenbr1"); // from ip's master when brctl has no word
}

TEST_CASE("join_host warns about names cut by old ifconfig", "[host]") {
  HostInputs inputs;
  Link cut = link("vif32752.");
  cut.name_truncated = true;
  inputs.links = {cut};
  const HostMap host = join_host(std::move(inputs));
  REQUIRE(host.warnings.size() == 1);
  CHECK(host.warnings[0].find("vif32752.") != std::string::npos);
  CHECK(host.orphans.empty());
}

TEST_CASE("find_vms matches name-label, uuid and a unique uuid prefix", "[host]") {
  const HostMap host = sample_host();
  auto by_name = find_vms(host, "i-2-3-VM");
  REQUIRE(by_name);
  REQUIRE(by_name->size() == 1);
  auto by_prefix = find_vms(host, "44B0E8");
  REQUIRE(by_prefix);
  REQUIRE(by_prefix->size() == 1);
  CHECK((*by_prefix)[0]->vm.name_label == "i-2-3-VM");
  auto twins = find_vms(host, "twin");
  REQUIRE(twins);
  CHECK(twins->size() == 2); // duplicate name-labels: both
  auto ambiguous = find_vms(host, "aaaa0000");
  REQUIRE_FALSE(ambiguous);
  CHECK(ambiguous.error().message.find("ambiguous") != std::string::npos);
  auto short_prefix = find_vms(host, "44b");
  REQUIRE(short_prefix);
  CHECK(short_prefix->empty()); // under 4 characters is not a prefix lookup
  CHECK(find_vms_by_domid(host, 8).size() == 1);
}

TEST_CASE("find_iface and find_mac answer the reverse questions", "[host]") {
  const HostMap host = sample_host();
  auto owner = find_iface(host, "tap8.0");
  REQUIRE(owner);
  REQUIRE(owner->vm);
  CHECK(owner->vm->vm.name_label == "hvm");
  auto orphan = find_iface(host, "vif12.0");
  REQUIRE(orphan);
  CHECK_FALSE(orphan->vm);
  REQUIRE(orphan->vif);
  auto plain = find_iface(host, "eth0");
  REQUIRE(plain);
  CHECK_FALSE(plain->vif);
  CHECK_FALSE(find_iface(host, "nope"));
  auto by_mac = find_mac(host, "6:F8:C8:0:0:B");
  REQUIRE(by_mac.size() == 2); // vif8.0 and its tap twin share the guest MAC
  // dom0's netback MAC says nothing about the guest.
  CHECK(find_mac(host, "fe:ff:ff:ff:ff:ff").empty());
}

TEST_CASE("join_host gives each NIC the guest agent's addresses of its device", "[host]") {
  HostInputs inputs;
  Vm guest = vm("i-2-3-VM", "u1", 7);
  guest.networks = {{"0/ip", "10.1.1.2"},       {"0/ipv4/0", "10.1.1.2"}, {"0/ipv4/1", "10.1.1.9"},
                    {"0/ipv6/0", "FE80::4f8:c8ff:fe00:9"}, {"0/ipv6/10", "fd00:1::a"},
                    {"0/ipv6/2", "fd00:1::2"},  {"1/ip", "192.168.0.5"},  {"10/ip", "10.9.9.9"},
                    {"1/ipv6/0", " "}};
  inputs.vms = {guest};
  inputs.links = {link("vif7.0"), link("tap7.0"), link("vif7.1"), link("vif7.2")};
  const HostMap host = join_host(std::move(inputs));
  REQUIRE(host.vms.size() == 1);
  const auto &vifs = host.vms[0].vifs;
  REQUIRE(vifs.size() == 4);
  CHECK(vifs[0].name == "vif7.0");
  CHECK(vifs[0].ipv4 == std::vector<std::string>{"10.1.1.2", "10.1.1.9"}); // "ip" first, no repeat
  // Canonical IPv6, ordered by the agent's index (2 before 10), not as text.
  CHECK(vifs[0].ipv6 == std::vector<std::string>{"fe80::4f8:c8ff:fe00:9", "fd00:1::2", "fd00:1::a"});
  CHECK(vifs[1].name == "tap7.0"); // the HVM twin of device 0: the same guest NIC
  CHECK(vifs[1].ipv4 == vifs[0].ipv4);
  CHECK(vifs[2].ipv4 == std::vector<std::string>{"192.168.0.5"}); // device 1, not 10
  CHECK(vifs[2].ipv6.empty());
  CHECK(vifs[3].ipv4.empty());
}

TEST_CASE("find_ip compares addresses, not spellings", "[host]") {
  HostInputs inputs;
  Vm guest = vm("v6", "u1", 7);
  guest.networks = {{"0/ipv6/0", "2001:db8::238"}, {"0/ip", "10.1.1.2"}};
  inputs.vms = {guest};
  const HostMap host = join_host(std::move(inputs));
  CHECK(find_ip(host, "2001:DB8:0::238").size() == 1);
  CHECK(find_ip(host, "2001:db8:0:0:0:0:0:238").size() == 1);
  CHECK(find_ip(host, "10.1.1.2").size() == 1);
  CHECK(find_ip(host, "2001:db8::239").empty());
  CHECK(find_ip(host, "10.1.1.20").empty());
}
