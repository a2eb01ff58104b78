#include "host_print.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "json_writer.hpp"
#include "text.hpp"

namespace vifwall {

void HostSelection::add_vm(const HostVm &vm) {
  if (vm.vifs.empty()) {
    rows.push_back(Row{&vm, nullptr, nullptr});
    return;
  }
  for (const auto &vif : vm.vifs)
    rows.push_back(Row{&vm, &vif, nullptr});
}

void HostSelection::add_vif(const HostVm *vm, const HostVif &vif) {
  rows.push_back(Row{vm, &vif, nullptr});
}

void HostSelection::add_link(const Link &link, const std::string &bridge) {
  rows.push_back(Row{nullptr, nullptr, &link, bridge});
}

namespace {

std::string count_text(const std::optional<std::uint64_t> &value, bool bytes, bool exact) {
  if (!value)
    return "-";
  return exact ? std::to_string(*value) : compact_count(*value, bytes);
}

std::string pair_text(const Counters &c, bool exact) {
  return count_text(c.packets, false, exact) + "/" + count_text(c.bytes, true, exact);
}

std::string clip(const std::string &name, std::size_t width) {
  if (name.size() <= width)
    return name;
  return name.substr(0, width - 1) + "~";
}

// Display width: count UTF-8 code points, not bytes, so names with accents
// still line up.
std::size_t display_width(const std::string &s) {
  std::size_t width = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++width;
  return width;
}

} // namespace

std::string render_vif_table(const HostSelection &selection, const TableOptions &options) {
  using Cells = std::vector<std::string>;
  std::vector<Cells> table;
  table.push_back({"VM", "DOM", "IFACE", "BRIDGE", "MAC", "STATE", "RX pkt/B", "TX pkt/B",
                   "DROP rx/tx"});
  // Right-aligned columns: DOM and the counters.
  const std::vector<bool> right{false, true, false, false, false, false, true, true, true};
  for (const auto &row : selection.rows) {
    Cells cells;
    std::string vm_name = "-";
    std::string dom = "-";
    if (row.vm) {
      vm_name = options.wide ? row.vm->vm.name_label : clip(row.vm->vm.name_label, 20);
      if (row.vm->vm.dom_id && *row.vm->vm.dom_id >= 0)
        dom = std::to_string(*row.vm->vm.dom_id);
    } else if (row.vif) {
      vm_name = "(orphan)";
      dom = std::to_string(row.vif->dom_id);
    } else if (row.link) {
      vm_name = "(dom0)";
    }
    if (row.vif) {
      const auto &vif = *row.vif;
      const auto mac = vif.guest_mac ? vif.guest_mac : vif.mac;
      cells = {vm_name,
               dom,
               vif.name,
               vif.bridge.value_or("-"),
               mac.value_or("-"),
               vif.state.empty() ? "-" : vif.state,
               pair_text(vif.rx, options.exact),
               pair_text(vif.tx, options.exact),
               count_text(vif.rx.dropped, false, options.exact) + "/" +
                   count_text(vif.tx.dropped, false, options.exact)};
    } else if (row.link) {
      const auto &link = *row.link;
      cells = {vm_name,
               dom,
               link.name,
               row.bridge.empty() ? link.master.value_or("-") : row.bridge,
               link.mac.value_or("-"),
               link.state.empty() ? "-" : link.state,
               pair_text(link.rx, options.exact),
               pair_text(link.tx, options.exact),
               count_text(link.rx.dropped, false, options.exact) + "/" +
                   count_text(link.tx.dropped, false, options.exact)};
    } else {
      const std::string &power = row.vm->vm.power_state;
      const std::string state =
          (power.empty() || power == "running") ? "no-vif" : power;
      cells = {vm_name, dom, "-", "-", "-", state, "-", "-", "-"};
    }
    table.push_back(std::move(cells));
  }

  std::vector<std::size_t> widths(table.front().size(), 0);
  for (const auto &cells : table)
    for (std::size_t i = 0; i < cells.size(); ++i)
      widths[i] = std::max(widths[i], display_width(cells[i]));

  std::string out;
  for (const auto &cells : table) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::size_t pad = widths[i] - display_width(cells[i]);
      if (i > 0)
        line.push_back(' ');
      if (right[i])
        line.append(pad, ' ');
      line += cells[i];
      if (!right[i] && i + 1 < cells.size())
        line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    out += line;
    out.push_back('\n');
  }
  return out;
}

namespace {

void write_vif(JsonWriter &json, const HostVif &vif, bool with_dom_id) {
  json.begin_object();
  json.field("name", vif.name);
  json.field("kind", to_string(vif.kind));
  if (with_dom_id)
    json.field("dom_id", vif.dom_id);
  json.field("device", vif.device);
  json.field("bridge", vif.bridge);
  json.field("mac", vif.mac);
  json.field("guest_mac", vif.guest_mac);
  json.field("mtu", vif.mtu);
  json.key("state");
  if (vif.state.empty())
    json.null();
  else
    json.value(vif.state);
  json.field("rx_packets", vif.rx.packets);
  json.field("rx_bytes", vif.rx.bytes);
  json.field("rx_errors", vif.rx.errors);
  json.field("rx_dropped", vif.rx.dropped);
  json.field("tx_packets", vif.tx.packets);
  json.field("tx_bytes", vif.tx.bytes);
  json.field("tx_errors", vif.tx.errors);
  json.field("tx_dropped", vif.tx.dropped);
  json.end_object();
}

} // namespace

std::string render_vif_json(const HostSelection &selection, bool pretty) {
  // Group the rows back into VMs (a VM appears once, with the VIFs that were
  // selected) and orphans, keeping first-appearance order.
  std::vector<std::pair<const HostVm *, std::vector<const HostVif *>>> vms;
  std::vector<const HostVif *> orphans;
  for (const auto &row : selection.rows) {
    if (row.vm) {
      auto it = std::find_if(vms.begin(), vms.end(),
                             [&](const auto &entry) { return entry.first == row.vm; });
      if (it == vms.end()) {
        vms.push_back({row.vm, {}});
        it = vms.end() - 1;
      }
      if (row.vif)
        it->second.push_back(row.vif);
    } else if (row.vif) {
      orphans.push_back(row.vif);
    }
  }

  JsonWriter json(pretty);
  json.begin_object();
  json.key("vms");
  json.begin_array();
  for (const auto &[vm, vifs] : vms) {
    json.begin_object();
    json.field("name_label", vm->vm.name_label);
    json.field("uuid", vm->vm.uuid);
    json.key("power_state");
    if (vm->vm.power_state.empty())
      json.null();
    else
      json.value(vm->vm.power_state);
    json.field("dom_id", vm->vm.dom_id);
    json.key("vifs");
    json.begin_array();
    for (const auto *vif : vifs)
      write_vif(json, *vif, false);
    json.end_array();
    json.end_object();
  }
  json.end_array();
  json.key("orphans");
  json.begin_array();
  for (const auto *vif : orphans)
    write_vif(json, *vif, true);
  json.end_array();
  json.end_object();
  return json.str();
}

} // namespace vifwall
