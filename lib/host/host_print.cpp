#include "host_print.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <type_traits>
#include <utility>

#include "json_writer.hpp"
#include "text.hpp"

namespace vifwall {

void HostSelection::add_vm(const HostVm &vm, const RowHost *host) {
  if (vm.vifs.empty()) {
    rows.push_back(Row{&vm, nullptr, nullptr, {}, host});
    return;
  }
  for (const auto &vif : vm.vifs)
    rows.push_back(Row{&vm, &vif, nullptr, {}, host});
}

void HostSelection::add_vif(const HostVm *vm, const HostVif &vif, const RowHost *host) {
  rows.push_back(Row{vm, &vif, nullptr, {}, host});
}

void HostSelection::add_link(const Link &link, const std::string &bridge) {
  rows.push_back(Row{nullptr, nullptr, &link, bridge});
}

namespace {

struct ColumnInfo {
  const char *title;
  bool right; // right-aligned: DOM and the counters
};
constexpr std::array<ColumnInfo, kVifColumns> kColumns{{
    {"VM", false},
    {"DOM", true},
    {"IFACE", false},
    {"BRIDGE", false},
    {"MAC", false},
    {"IP", false},
    {"STATE", false},
    {"RX pkt/B", true},
    {"TX pkt/B", true},
    {"DROP rx/tx", true},
    {"HOST", false},
}};

} // namespace

const char *vif_column_title(VifColumn column) {
  if (column == VifColumn::none)
    return "";
  return kColumns[static_cast<std::size_t>(column)].title;
}

// ---- the walk ----------------------------------------------------------------

namespace {

using Col = VifColumn;
constexpr auto kVm = FactScope::vm;
constexpr auto kVif = FactScope::vif;

JsonScalar json_of(const std::string &text) { return std::string_view(text); }
JsonScalar json_of(std::int64_t number) { return number; }
JsonScalar json_of(std::uint64_t number) { return number; }
JsonScalar json_of(std::uint32_t number) { return static_cast<std::uint64_t>(number); }
template <class T> JsonScalar json_of(const std::optional<T> &maybe) {
  return maybe ? json_of(*maybe) : JsonScalar{nullptr};
}
// Our model keeps "not printed" as an empty string for states: null in JSON.
JsonScalar state_json(const std::string &state) {
  return state.empty() ? JsonScalar{nullptr} : json_of(state);
}
std::string_view state_text(const std::string &state) {
  return state.empty() ? std::string_view("-") : std::string_view(state);
}
std::string_view text_or(const std::optional<std::string> &text, std::string_view missing) {
  return text ? std::string_view(*text) : missing;
}

std::string count_text(const std::optional<std::uint64_t> &value, bool bytes, bool exact) {
  if (!value)
    return "-";
  return exact ? std::to_string(*value) : compact_count(*value, bytes);
}

// `name`, or its first width - 1 bytes and '~' (kept in `clipped`).
std::string_view clip(const std::string &name, std::size_t width, std::string &clipped) {
  if (name.size() <= width)
    return name;
  clipped = name.substr(0, width - 1) + "~";
  return clipped;
}

// RX pkt/B, TX pkt/B and DROP rx/tx; the error counters are in JSON only.
// (Formatting counters is most of the walk's cost: done for text sinks only.)
void put_counters(VifSink &out, const Counters &rx, const Counters &tx, bool exact) {
  const bool text = out.wants_text();
  auto shown = [&](const std::optional<std::uint64_t> &value, bool bytes, const char *before) {
    return text ? before + count_text(value, bytes, exact) : std::string();
  };
  out.put(kVif, "rx_packets", json_of(rx.packets), Col::rx, shown(rx.packets, false, ""));
  out.put(kVif, "rx_bytes", json_of(rx.bytes), Col::rx, shown(rx.bytes, true, "/"));
  out.put(kVif, "rx_errors", json_of(rx.errors), Col::none, "");
  out.put(kVif, "rx_dropped", json_of(rx.dropped), Col::drop, shown(rx.dropped, false, ""));
  out.put(kVif, "tx_packets", json_of(tx.packets), Col::tx, shown(tx.packets, false, ""));
  out.put(kVif, "tx_bytes", json_of(tx.bytes), Col::tx, shown(tx.bytes, true, "/"));
  out.put(kVif, "tx_errors", json_of(tx.errors), Col::none, "");
  out.put(kVif, "tx_dropped", json_of(tx.dropped), Col::drop, shown(tx.dropped, false, "/"));
}

// The VM's own facts, on every row of the VM.  STATE shows the power state
// only on the row of a VM without interfaces ("no-vif" when running).
void put_vm(VifSink &out, const Vm &vm, bool has_vif, const TableOptions &options) {
  std::string clipped;
  out.put(kVm, "name_label", json_of(vm.name_label), Col::vm,
          options.wide ? std::string_view(vm.name_label) : clip(vm.name_label, 20, clipped));
  out.put(kVm, "uuid", json_of(vm.uuid), Col::none, "");
  const std::string &power = vm.power_state;
  out.put(kVm, "power_state", state_json(power), has_vif ? Col::none : Col::state,
          (power.empty() || power == "running") ? std::string_view("no-vif") : power);
  const bool running = vm.dom_id && *vm.dom_id >= 0;
  out.put(kVm, "dom_id", json_of(vm.dom_id), Col::dom, running ? std::to_string(*vm.dom_id) : "-");
}

// The IP cell: the first address and "+N" for N more, or (wide) all of
// them; IPv4 first.  Split into the IPv4 and the IPv6 fact's texts.
std::pair<std::string, std::string> address_texts(const HostVif &vif, bool wide) {
  const std::size_t total = vif.ipv4.size() + vif.ipv6.size();
  if (total == 0)
    return {"-", ""};
  if (wide) {
    std::string v6 = join_strings(vif.ipv6, ",");
    if (!vif.ipv4.empty() && !v6.empty())
      v6.insert(0, ",");
    return {join_strings(vif.ipv4, ","), v6};
  }
  const std::string more = total > 1 ? "+" + std::to_string(total - 1) : "";
  if (!vif.ipv4.empty())
    return {vif.ipv4.front() + more, ""};
  return {"", vif.ipv6.front() + more};
}

// An interface of a VM, or an orphan (its DOM comes from its name).  MAC
// shows the guest's MAC when xe vif-list gave it, dom0's otherwise.
void put_vif(VifSink &out, const HostVif &vif, bool orphan, const TableOptions &options) {
  if (orphan)
    out.put(kVif, "", nullptr, Col::vm, "(orphan)");
  out.put(kVif, "name", json_of(vif.name), Col::iface, vif.name);
  out.put(kVif, "kind", std::string_view(to_string(vif.kind)), Col::none, "");
  if (orphan)
    out.put(kVif, "dom_id", json_of(vif.dom_id), Col::dom, std::to_string(vif.dom_id));
  out.put(kVif, "device", json_of(vif.device), Col::none, "");
  out.put(kVif, "bridge", json_of(vif.bridge), Col::bridge, text_or(vif.bridge, "-"));
  out.put(kVif, "mac", json_of(vif.mac), Col::mac, vif.guest_mac ? "" : text_or(vif.mac, "-"));
  out.put(kVif, "guest_mac", json_of(vif.guest_mac), Col::mac, text_or(vif.guest_mac, ""));
  const auto [v4_text, v6_text] = out.wants_text() ? address_texts(vif, options.wide)
                                                   : std::pair<std::string, std::string>{};
  out.put(kVif, "ipv4", &vif.ipv4, Col::ip, v4_text);
  out.put(kVif, "ipv6", &vif.ipv6, Col::ip, v6_text);
  out.put(kVif, "mtu", json_of(vif.mtu), Col::none, "");
  out.put(kVif, "state", state_json(vif.state), Col::state, state_text(vif.state));
  put_counters(out, vif.rx, vif.tx, options.exact);
}

// A port of dom0's own on a bridge (--bridge): the table's (dom0) row, with
// the keys a VIF would have (JSON leaves ports out).
void put_port(VifSink &out, const Link &link, const std::string &bridge,
              const TableOptions &options) {
  const std::optional<std::string> on = bridge.empty() ? link.master : bridge;
  out.put(kVif, "", nullptr, Col::vm, "(dom0)");
  out.put(kVif, "name", json_of(link.name), Col::iface, link.name);
  out.put(kVif, "bridge", json_of(on), Col::bridge, text_or(on, "-"));
  out.put(kVif, "mac", json_of(link.mac), Col::mac, text_or(link.mac, "-"));
  out.put(kVif, "mtu", json_of(link.mtu), Col::none, "");
  out.put(kVif, "state", state_json(link.state), Col::state, state_text(link.state));
  put_counters(out, link.rx, link.tx, options.exact);
}

// The pool member of a row (vif-of --pool): the VM's, or the orphan's.
void put_host(VifSink &out, const RowHost &host, FactScope scope) {
  const JsonScalar uuid = host.uuid.empty() ? JsonScalar{nullptr} : json_of(host.uuid);
  const JsonScalar name = host.name.empty() ? JsonScalar{nullptr} : json_of(host.name);
  out.put(scope, "host", uuid, Col::host, host.name.empty() ? std::string_view("-") : host.name);
  out.put(scope, "hostname", name, Col::none, "");
}

} // namespace

void print_vif_row(const HostSelection::Row &row, const TableOptions &options, VifSink &sink) {
  if (row.vif) {
    sink.begin_row(row.vm ? RowKind::vm_vif : RowKind::orphan, row.vm);
    if (row.host)
      put_host(sink, *row.host, row.vm ? kVm : kVif);
    if (row.vm)
      put_vm(sink, row.vm->vm, true, options);
    put_vif(sink, *row.vif, !row.vm, options);
  } else if (row.link) {
    sink.begin_row(RowKind::port, nullptr);
    if (row.host)
      put_host(sink, *row.host, kVif);
    put_port(sink, *row.link, row.bridge, options);
  } else if (row.vm) {
    sink.begin_row(RowKind::vm_only, row.vm);
    if (row.host)
      put_host(sink, *row.host, kVm);
    put_vm(sink, row.vm->vm, false, options);
  } else {
    return; // an empty row: nothing to print
  }
  sink.end_row();
}

void print_vif_rows(const HostSelection &selection, const TableOptions &options, VifSink &sink) {
  for (const auto &row : selection.rows)
    print_vif_row(row, options, sink);
}

// ---- the table -----------------------------------------------------------------

namespace {

// Display width: count UTF-8 code points, not bytes, so names with accents
// still line up.
std::size_t display_width(const std::string &s) {
  std::size_t width = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++width;
  return width;
}

// Collects each row's cells, then aligns the columns.
class TableSink final : public VifSink {
public:
  using Cells = std::array<std::string, kVifColumns>;

  TableSink() {
    Cells header;
    for (std::size_t i = 0; i < kVifColumns; ++i)
      header[i] = kColumns[i].title;
    rows_.push_back(std::move(header));
  }

  void begin_row(RowKind, const HostVm *) override {
    rows_.emplace_back();
    named_.fill(false);
  }
  void put(FactScope, std::string_view, const JsonScalar &, VifColumn column,
           std::string_view text) override {
    if (column == VifColumn::none)
      return;
    const auto i = static_cast<std::size_t>(column);
    rows_.back()[i] += text;
    named_[i] = true;
    if (column == VifColumn::host)
      with_host_ = true;
  }
  void end_row() override {
    for (std::size_t i = 0; i < kVifColumns; ++i)
      if (!named_[i])
        rows_.back()[i] = "-";
  }

  std::string str() const {
    std::array<std::size_t, kVifColumns> widths{};
    for (const auto &cells : rows_)
      for (std::size_t i = 0; i < kVifColumns; ++i)
        widths[i] = std::max(widths[i], display_width(cells[i]));
    // HOST first when a row has one; the others in their order.
    std::vector<std::size_t> order;
    const auto host = static_cast<std::size_t>(VifColumn::host);
    if (with_host_)
      order.push_back(host);
    for (std::size_t i = 0; i < kVifColumns; ++i)
      if (i != host)
        order.push_back(i);
    std::string out;
    for (const auto &cells : rows_)
      out += line(cells, widths, order);
    return out;
  }

private:
  static std::string line(const Cells &cells, const std::array<std::size_t, kVifColumns> &widths,
                          const std::vector<std::size_t> &order) {
    std::string line;
    for (std::size_t at = 0; at < order.size(); ++at) {
      const std::size_t i = order[at];
      const std::size_t pad = widths[i] - display_width(cells[i]);
      if (at > 0)
        line.push_back(' ');
      if (kColumns[i].right)
        line.append(pad, ' ');
      line += cells[i];
      if (!kColumns[i].right && at + 1 < order.size())
        line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    line.push_back('\n');
    return line;
  }

  std::vector<Cells> rows_;
  std::array<bool, kVifColumns> named_{};
  bool with_host_ = false;
};

} // namespace

std::string render_vif_table(const HostSelection &selection, const TableOptions &options) {
  TableSink table;
  print_vif_rows(selection, options, table);
  return table.str();
}

// ---- JSON ------------------------------------------------------------------------

namespace {

// Writes the facts as they come.  The rows must come grouped by VM (the
// VM's facts are taken from its first row: later rows repeat them), orphans
// last; ports are left out.
class JsonSink final : public VifSink {
public:
  explicit JsonSink(bool pretty) : json_(pretty) {
    json_.begin_object();
    json_.key("schema_version");
    json_.value(static_cast<std::int64_t>(kVifJsonSchemaVersion));
    json_.key("vms");
    json_.begin_array();
  }

  void begin_row(RowKind kind, const HostVm *vm) override {
    write_vm_ = false;
    skip_row_ = kind == RowKind::port;
    if (kind == RowKind::orphan) {
      start_orphans();
    } else if (!skip_row_ && vm != vm_) {
      close_vm();
      json_.begin_object();
      vm_ = vm;
      write_vm_ = true;
    }
  }
  void put(FactScope scope, std::string_view key, const JsonScalar &value, VifColumn,
           std::string_view) override {
    if (skip_row_ || key.empty())
      return;
    if (scope == FactScope::vm) {
      if (write_vm_)
        write(key, value);
      return;
    }
    if (!in_orphans_ && !vifs_open_) {
      json_.key("vifs");
      json_.begin_array();
      vifs_open_ = true;
    }
    if (!vif_open_) {
      json_.begin_object();
      vif_open_ = true;
    }
    write(key, value);
  }
  bool wants_text() const override { return false; }
  void end_row() override {
    if (vif_open_)
      json_.end_object();
    vif_open_ = false;
  }

  std::string finish(const std::function<void(JsonWriter &)> &more) {
    start_orphans();
    json_.end_array();
    if (more)
      more(json_);
    json_.end_object();
    return json_.str();
  }

private:
  void write(std::string_view key, const JsonScalar &value) {
    json_.key(key);
    std::visit(
        [&](const auto &v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            json_.null();
          } else if constexpr (std::is_same_v<T, StringList>) {
            json_.begin_array();
            for (const auto &item : *v)
              json_.value(std::string_view(item));
            json_.end_array();
          } else
            json_.value(v);
        },
        value);
  }
  void close_vm() {
    if (!vm_)
      return;
    if (!vifs_open_) { // a VM without interfaces
      json_.key("vifs");
      json_.begin_array();
    }
    json_.end_array();
    json_.end_object();
    vm_ = nullptr;
    vifs_open_ = false;
  }
  void start_orphans() {
    if (in_orphans_)
      return;
    close_vm();
    json_.end_array();
    json_.key("orphans");
    json_.begin_array();
    in_orphans_ = true;
  }

  JsonWriter json_;
  const HostVm *vm_ = nullptr; // the VM being written
  bool write_vm_ = false;      // this row is the VM's first
  bool skip_row_ = false;      // a port
  bool vifs_open_ = false;     // the VM's "vifs" array
  bool vif_open_ = false;      // this row's interface object
  bool in_orphans_ = false;
};

// The rows in JSON's order: each VM's rows together, VMs in the order of
// their first row, then the orphans; ports are not in the JSON.
std::vector<const HostSelection::Row *> json_order(const HostSelection &selection) {
  std::vector<std::vector<const HostSelection::Row *>> vms;
  std::unordered_map<const HostVm *, std::size_t> index;
  std::vector<const HostSelection::Row *> orphans;
  for (const auto &row : selection.rows) {
    if (row.vm) {
      const auto [at, first] = index.try_emplace(row.vm, vms.size());
      if (first)
        vms.emplace_back();
      vms[at->second].push_back(&row);
    } else if (row.vif) {
      orphans.push_back(&row);
    }
  }
  std::vector<const HostSelection::Row *> order;
  order.reserve(selection.rows.size());
  for (const auto &rows : vms)
    order.insert(order.end(), rows.begin(), rows.end());
  order.insert(order.end(), orphans.begin(), orphans.end());
  return order;
}

} // namespace

std::string render_vif_json(const HostSelection &selection, bool pretty,
                            const std::function<void(JsonWriter &)> &more) {
  JsonSink json(pretty);
  for (const auto *row : json_order(selection))
    print_vif_row(*row, TableOptions{}, json);
  return json.finish(more);
}

std::string render_vif_json(const HostSelection &selection, bool pretty) {
  return render_vif_json(selection, pretty, nullptr);
}

} // namespace vifwall
