#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

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
        "VM                   DOM IFACE  BRIDGE MAC               IP STATE  RX pkt/B TX pkt/B DROP rx/tx\n"
        "a VM with a rather ~   7 vif7.0 xenbr0 06:f8:c8:00:00:09 -  up      11/1.1K   40/13K        0/7\n"
        "stopped                - -      -      -                 -  halted        -        -          -\n");
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

// ---- text and JSON from the same facts -------------------------------------

namespace {

// Every fact of the walk: where it goes in JSON and in the table.
struct Fact {
  RowKind kind;
  FactScope scope;
  std::string key;
  VifColumn column;
};

class RecordingSink final : public VifSink {
public:
  std::vector<Fact> facts;
  int open_rows = 0;
  void begin_row(RowKind kind, const HostVm *) override {
    kind_ = kind;
    ++open_rows;
  }
  void put(FactScope scope, std::string_view key, const JsonScalar &, VifColumn column,
           std::string_view) override {
    facts.push_back({kind_, scope, std::string(key), column});
  }
  void end_row() override { --open_rows; }

private:
  RowKind kind_ = RowKind::port;
};

const char *kind_name(RowKind kind) {
  switch (kind) {
  case RowKind::vm_vif: return "a VM's interface";
  case RowKind::vm_only: return "a VM without interfaces";
  case RowKind::orphan: return "an orphan";
  case RowKind::port: return "a port of dom0";
  }
  return "?";
}

const VifColumn kAllColumns[] = {VifColumn::vm,    VifColumn::dom,   VifColumn::iface,
                                 VifColumn::bridge, VifColumn::mac,  VifColumn::ip,
                                 VifColumn::state,  VifColumn::rx,   VifColumn::tx,
                                 VifColumn::drop};

// Every kind of row: a VM's interfaces (one with a guest MAC), a running VM
// without interfaces, a halted VM, an orphan, and an uplink port.
struct AllRows {
  HostVm vm = sample_vm();
  HostVm no_vif, halted;
  HostVif orphan;
  Link uplink;
  HostSelection selection;
  AllRows() {
    vm.vifs[0].ipv4 = {"10.1.1.2", "10.1.1.9"};
    vm.vifs[0].ipv6 = {"fd00:1::2"};
    HostVif tap = vm.vifs[0];
    tap.ipv4.clear(); // one with IPv6 only
    tap.name = "tap7.0";
    tap.kind = VifKind::tap;
    tap.guest_mac.reset();
    vm.vifs.push_back(tap);
    no_vif.vm.name_label = "no interfaces";
    no_vif.vm.uuid = "n";
    no_vif.vm.power_state = "running";
    no_vif.vm.dom_id = 3;
    halted.vm.name_label = "stopped";
    halted.vm.power_state = "halted";
    halted.vm.dom_id = -1;
    orphan.name = "vif12.0";
    orphan.dom_id = 12;
    orphan.bridge = "xenbr0";
    uplink.name = "eth0";
    uplink.mac = "d4:ae:52:bc:e6:51";
    uplink.state = "up";
    selection.add_vm(vm);
    selection.add_vm(no_vif);
    selection.add_vm(halted);
    selection.add_vif(nullptr, orphan);
    selection.add_link(uplink, "xenbr0");
  }
};

std::set<std::string> object_keys(const nlohmann::json &object) {
  std::set<std::string> keys;
  for (const auto &item : object.items())
    keys.insert(item.key());
  return keys;
}

} // namespace

TEST_CASE("every JSON field has its table column, and every column its JSON fields",
          "[hostprint]") {
  // What the table leaves out on purpose: JSON only.
  const std::set<std::string> json_only{"uuid", "kind", "device", "mtu", "rx_errors", "tx_errors"};
  // A VM's power state is its STATE cell only when it has no interface;
  // otherwise STATE shows the interface's state and power_state is JSON only.
  const std::set<std::pair<RowKind, std::string>> json_only_in{
      {RowKind::vm_vif, "power_state"}};
  // Table cells that show no JSON field, on purpose.
  const std::set<std::pair<RowKind, VifColumn>> table_only{
      {RowKind::orphan, VifColumn::vm}, // "(orphan)": orphans are JSON's "orphans"
      {RowKind::vm_only, VifColumn::iface},  {RowKind::vm_only, VifColumn::bridge},
      {RowKind::vm_only, VifColumn::mac},    {RowKind::vm_only, VifColumn::ip},
      {RowKind::vm_only, VifColumn::rx},
      {RowKind::vm_only, VifColumn::tx},     {RowKind::vm_only, VifColumn::drop},
  };
  // dom0's own ports (--bridge) are rows of the table only.
  const RowKind table_only_row = RowKind::port;

  const AllRows all;
  RecordingSink sink;
  print_vif_rows(all.selection, {}, sink);
  CHECK(sink.open_rows == 0);
  const auto &facts = sink.facts;

  for (const auto kind : {RowKind::vm_vif, RowKind::vm_only, RowKind::orphan}) {
    for (const auto column : kAllColumns) {
      const bool shows_json = std::any_of(facts.begin(), facts.end(), [&](const Fact &f) {
        return f.kind == kind && f.column == column && !f.key.empty();
      });
      const bool listed = table_only.count({kind, column}) > 0;
      INFO("row of " << kind_name(kind) << ", column " << vif_column_title(column));
      CHECK(shows_json != listed); // a cell with no JSON field must be listed, and only then
    }
  }
  for (const auto &fact : facts) {
    if (fact.kind == table_only_row || fact.key.empty())
      continue;
    const bool listed = json_only.count(fact.key) || json_only_in.count({fact.kind, fact.key});
    INFO("JSON field " << fact.key << " in the row of " << kind_name(fact.kind));
    CHECK((fact.column == VifColumn::none) == listed); // no column: must be listed, and only then
  }

  // The JSON holds exactly the keyed facts, VM facts in VMs, the others in
  // their interfaces; no port.
  const auto doc = nlohmann::json::parse(render_vif_json(all.selection, false));
  auto keys_of = [&](std::initializer_list<RowKind> kinds, FactScope scope) {
    std::set<std::string> keys;
    for (const auto &fact : facts)
      if (!fact.key.empty() && fact.scope == scope &&
          std::find(kinds.begin(), kinds.end(), fact.kind) != kinds.end())
        keys.insert(fact.key);
    return keys;
  };
  REQUIRE(doc["vms"].size() == 3);
  auto vm_keys = keys_of({RowKind::vm_vif, RowKind::vm_only}, FactScope::vm);
  vm_keys.insert("vifs");
  for (const auto &vm : doc["vms"])
    CHECK(object_keys(vm) == vm_keys);
  REQUIRE(doc["vms"][0]["vifs"].size() == 2);
  for (const auto &vif : doc["vms"][0]["vifs"])
    CHECK(object_keys(vif) == keys_of({RowKind::vm_vif}, FactScope::vif));
  REQUIRE(doc["orphans"].size() == 1);
  CHECK(object_keys(doc["orphans"][0]) == keys_of({RowKind::orphan}, FactScope::vif));
  CHECK(doc.dump().find("eth0") == std::string::npos);
}

TEST_CASE("the table and the JSON say the same about every row", "[hostprint]") {
  const AllRows all;
  const std::string table = render_vif_table(all.selection, {true, true});
  const auto doc = nlohmann::json::parse(render_vif_json(all.selection, false));
  // Index the JSON interfaces by name, with their VM.
  std::map<std::string, std::pair<nlohmann::json, nlohmann::json>> vifs; // name -> (vm, vif)
  std::map<std::string, nlohmann::json> vms;
  for (const auto &vm : doc["vms"]) {
    vms[vm["name_label"]] = vm;
    for (const auto &vif : vm["vifs"])
      vifs[vif["name"]] = {vm, vif};
  }
  for (const auto &vif : doc["orphans"])
    vifs[vif["name"]] = {nullptr, vif};
  auto text = [](const nlohmann::json &value) {
    return value.is_null() ? std::string("-")
           : value.is_string() ? value.get<std::string>()
                               : value.dump();
  };

  std::istringstream lines(table);
  std::string line;
  std::getline(lines, line); // the header
  std::size_t rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    std::istringstream words(line);
    std::vector<std::string> cells{std::istream_iterator<std::string>(words), {}};
    REQUIRE(cells.size() >= 10);
    // The VM name may hold blanks: it is what precedes the last 9 cells.
    std::vector<std::string> tail(cells.end() - 9, cells.end());
    const std::string &dom = tail[0], &iface = tail[1], &bridge = tail[2], &mac = tail[3],
                      &ip = tail[4], &state = tail[5], &rx = tail[6], &tx = tail[7], &drop = tail[8];
    std::string vm_name = cells[0]; // (the fixture's names have single blanks)
    for (auto word = cells.begin() + 1; word != cells.end() - 9; ++word)
      vm_name += " " + *word;
    INFO(line);
    if (iface == "-") { // a VM without interfaces
      const auto &vm = vms.at(vm_name);
      CHECK(vm["vifs"].empty());
      CHECK(state == (vm["power_state"] == "running" ? "no-vif" : text(vm["power_state"])));
      CHECK(dom == (vm["dom_id"].is_number() && vm["dom_id"] >= 0 ? text(vm["dom_id"]) : "-"));
      continue;
    }
    if (!vifs.count(iface)) { // dom0's own port
      CHECK(vm_name == "(dom0)");
      continue;
    }
    const auto &[vm, vif] = vifs.at(iface);
    CHECK(vm_name == (vm.is_null() ? "(orphan)" : text(vm["name_label"])));
    CHECK(dom == text(vm.is_null() ? vif["dom_id"] : vm["dom_id"]));
    CHECK(bridge == text(vif["bridge"]));
    CHECK(mac == text(vif["guest_mac"].is_null() ? vif["mac"] : vif["guest_mac"]));
    std::vector<std::string> addresses = vif["ipv4"];
    for (const auto &v6 : vif["ipv6"])
      addresses.push_back(v6);
    std::string joined; // the wide table: every address, comma-separated
    for (const auto &address : addresses)
      joined += (joined.empty() ? "" : ",") + address;
    CHECK(ip == (addresses.empty() ? "-" : joined));
    CHECK(state == text(vif["state"]));
    CHECK(rx == text(vif["rx_packets"]) + "/" + text(vif["rx_bytes"]));
    CHECK(tx == text(vif["tx_packets"]) + "/" + text(vif["tx_bytes"]));
    CHECK(drop == text(vif["rx_dropped"]) + "/" + text(vif["tx_dropped"]));
  }
  CHECK(rows == all.selection.rows.size());
}

TEST_CASE("render_vif_json puts a VM's rows together, orphans last, ports nowhere", "[hostprint]") {
  const AllRows all;
  HostSelection selection; // interleaved: orphan, VM row, port, other VM, first VM again
  selection.add_vif(nullptr, all.orphan);
  selection.add_vif(&all.vm, all.vm.vifs[0]);
  selection.add_link(all.uplink, "xenbr0");
  selection.add_vm(all.halted);
  selection.add_vif(&all.vm, all.vm.vifs[1]);
  const std::string json = render_vif_json(selection, false);
  const auto doc = nlohmann::json::parse(json);
  REQUIRE(doc["vms"].size() == 2);
  CHECK(doc["vms"][0]["name_label"] == "a VM with a rather long name");
  REQUIRE(doc["vms"][0]["vifs"].size() == 2);
  CHECK(doc["vms"][0]["vifs"][0]["name"] == "vif7.0");
  CHECK(doc["vms"][0]["vifs"][1]["name"] == "tap7.0");
  CHECK(doc["vms"][1]["name_label"] == "stopped");
  CHECK(doc["vms"][1]["vifs"].empty());
  REQUIRE(doc["orphans"].size() == 1);
  CHECK(doc["orphans"][0]["name"] == "vif12.0");
  CHECK(json.find("eth0") == std::string::npos);
  CHECK(render_vif_json(HostSelection{}, false) ==
        "{\"schema_version\":1,\"vms\":[],\"orphans\":[]}\n");
  // The table keeps the selection's order.
  const std::string table = render_vif_table(selection, {});
  CHECK(table.find("vif12.0") < table.find("vif7.0"));
  CHECK(table.find("eth0") < table.find("stopped"));
  CHECK(table.find("stopped") < table.find("tap7.0"));
}

TEST_CASE("the IP column shows the first address and how many more, or all when wide", "[hostprint]") {
  HostVm vm = sample_vm();
  vm.vifs[0].ipv4 = {"10.1.1.2", "10.1.1.9"};
  vm.vifs[0].ipv6 = {"fd00:1::2"};
  HostVif v6only = vm.vifs[0];
  v6only.name = "vif7.1";
  v6only.device = 1;
  v6only.ipv4.clear();
  HostVif one = vm.vifs[0];
  one.name = "vif7.2";
  one.device = 2;
  one.ipv4 = {"192.168.0.5"};
  one.ipv6.clear();
  vm.vifs.push_back(v6only);
  vm.vifs.push_back(one);
  HostSelection selection;
  selection.add_vm(vm);
  const std::string table = render_vif_table(selection, {});
  CHECK(table.find(" 10.1.1.2+2 ") != std::string::npos);
  CHECK(table.find(" fd00:1::2 ") != std::string::npos);
  CHECK(table.find(" 192.168.0.5 ") != std::string::npos);
  const std::string wide = render_vif_table(selection, {false, true});
  CHECK(wide.find(" 10.1.1.2,10.1.1.9,fd00:1::2 ") != std::string::npos);
  const auto doc = nlohmann::json::parse(render_vif_json(selection, false));
  CHECK(doc["vms"][0]["vifs"][0]["ipv4"] == nlohmann::json({"10.1.1.2", "10.1.1.9"}));
  CHECK(doc["vms"][0]["vifs"][1]["ipv4"] == nlohmann::json::array());
  CHECK(doc["vms"][0]["vifs"][1]["ipv6"] == nlohmann::json({"fd00:1::2"}));
}
