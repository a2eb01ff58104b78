#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "host_print.hpp"

using namespace vifwall;

namespace {
HostVm sample_vm() {
  HostVm vm;
  vm.vm.name_label = "a VM with a rather long name";
  vm.vm.uuid = "u";
  vm.vm.dom_id = 7;
  vm.vm.power_state = "running";
  HostVif vif;
  vif.name = "vif7.0";
  vif.dom_id = 7;
  vif.bridge = "xenbr0";
  vif.mac = "fe:ff:ff:ff:ff:ff";
  vif.guest_mac = "06:f8:c8:00:00:09";
  vif.mtu = 1500;
  vif.state = "up";
  vif.rx = Counters{11, 1098, 0, 0};
  vif.tx = Counters{40, 13418, 0, 7};
  vm.vifs.push_back(vif);
  return vm;
}
} // namespace

TEST_CASE("render_vif_table aligns columns and clips long VM names", "[hostprint]") {
  const HostVm vm = sample_vm();
  HostVm halted;
  halted.vm.name_label = "stopped";
  halted.vm.power_state = "halted";
  halted.vm.dom_id = -1;
  HostSelection selection;
  selection.add_vm(vm);
  selection.add_vm(halted);
  const std::string table = render_vif_table(selection, {});
  CHECK(table ==
        "VM                   DOM IFACE  BRIDGE MAC               STATE  RX pkt/B TX pkt/B DROP rx/tx\n"
        "a VM with a rather ~   7 vif7.0 xenbr0 06:f8:c8:00:00:09 up      11/1.1K   40/13K        0/7\n"
        "stopped                - -      -      -                 halted        -        -          -\n");
  const std::string wide = render_vif_table(selection, {true, true});
  CHECK(wide.find("a VM with a rather long name") != std::string::npos);
  CHECK(wide.find("11/1098") != std::string::npos);
}

TEST_CASE("render_vif_json groups rows by VM and keeps nulls", "[hostprint]") {
  const HostVm vm = sample_vm();
  HostVif orphan;
  orphan.name = "vif12.0";
  orphan.dom_id = 12;
  HostSelection selection;
  selection.add_vif(&vm, vm.vifs[0]);
  selection.add_vif(nullptr, orphan);
  const auto doc = nlohmann::json::parse(render_vif_json(selection, false));
  REQUIRE(doc["vms"].size() == 1);
  CHECK(doc["vms"][0]["dom_id"] == 7);
  CHECK(doc["vms"][0]["vifs"][0]["tx_dropped"] == 7);
  CHECK(doc["vms"][0]["vifs"][0]["guest_mac"] == "06:f8:c8:00:00:09");
  REQUIRE(doc["orphans"].size() == 1);
  CHECK(doc["orphans"][0]["dom_id"] == 12);
  CHECK(doc["orphans"][0]["rx_packets"].is_null());
  CHECK(doc["orphans"][0]["state"].is_null());
}
