// Printing vif-of's answer: an aligned text table and JSON, both from ONE
// walk over the selection (iproute2's print_string(PRINT_ANY, "key", "fmt",
// value)): every fact is one VifSink::put call that carries its JSON key and
// value and its text for the table, so the two outputs cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "host.hpp"

namespace vifwall {

class JsonWriter;

// Which pool member a row is from (vif-of --pool): the HOST column shows
// `name`, JSON has "host" (the uuid; null when empty) and "hostname".
struct RowHost {
  std::string uuid;
  std::string name;
};

// What to print: whole VMs (all their VIFs, or a "no interfaces"/"halted"
// row) and single interfaces (orphans, or a VM's VIF picked by --iface/--mac).
struct HostSelection {
  struct Row {
    const HostVm *vm = nullptr;   // nullptr: an orphan or a plain port
    const HostVif *vif = nullptr; // nullptr: the VM has no interface
    const Link *link = nullptr;   // a non-VIF port (uplink), for --bridge
    std::string bridge;           // the bridge of `link`
    const RowHost *host = nullptr; // set by vif-of --pool only
  };
  std::vector<Row> rows;

  // One row per VIF, or one row; `host`: the pool member (vif-of --pool).
  void add_vm(const HostVm &vm, const RowHost *host = nullptr);
  void add_vif(const HostVm *vm, const HostVif &vif, const RowHost *host = nullptr);
  void add_link(const Link &link, const std::string &bridge);
};

struct TableOptions {
  bool exact = false; // raw counters instead of 2.4k / 244K
  bool wide = false;  // never clip the VM column; every address in IP
};

// The aligned table with a header line; VM names longer than 20 characters
// are clipped with '~' unless options.wide.  IP shows the NIC's first
// address (IPv4 before IPv6) and "+N" for N more; options.wide shows them
// all, comma-separated.  A HOST column comes first when a row has a host.
std::string render_vif_table(const HostSelection &selection, const TableOptions &options);

// {"schema_version": 1, "vms": [...], "orphans": [...]}: the schema is
// docs/vif-of.schema.json (kVifJsonSchemaVersion; checked by the tests
// against real output), explained in vif-of(8).  A new key keeps the
// version; a key removed, renamed or changed in meaning raises it.
inline constexpr int kVifJsonSchemaVersion = 1;
std::string render_vif_json(const HostSelection &selection, bool pretty);
// The same, with more keys after "orphans", written by `more` (vif-of
// --pool's "hosts").
std::string render_vif_json(const HostSelection &selection, bool pretty,
                            const std::function<void(JsonWriter &)> &more);

// ---- the one walk both renderings share ------------------------------------

// The table's columns, in order.  `none`: the fact is not in the table.
// `host` is last in number but first in the table (rows of vif-of --pool).
enum class VifColumn { none = -1, vm, dom, iface, bridge, mac, ip, state, rx, tx, drop, host };
inline constexpr std::size_t kVifColumns = 11;
// The header of `column` ("VM", "DOM", ..., "DROP rx/tx"); "" for none.
const char *vif_column_title(VifColumn column);

// What a row is.  JSON groups VM rows (an interface of a VM, or a VM with
// none) by VM under "vms" and puts orphans under "orphans"; a port of dom0's
// own (an uplink shown by --bridge) is in the table only.
enum class RowKind { vm_vif, vm_only, orphan, port };

// Which JSON object a fact belongs to: the row's VM or the row's interface.
enum class FactScope { vm, vif };

// A JSON value of a fact; a string is a view valid during the put call, a
// list of strings (a NIC's addresses) a pointer valid as long.
using StringList = const std::vector<std::string> *;
using JsonScalar =
    std::variant<std::nullptr_t, std::string_view, std::int64_t, std::uint64_t, StringList>;

class VifSink {
public:
  virtual ~VifSink() = default;
  virtual void begin_row(RowKind kind, const HostVm *vm) = 0;
  // One fact: the JSON field `key` = `value` of the scope's object, and
  // `text` appended to the row's cell in `column`.  column == none: JSON
  // only; key empty: table only.  Facts come in JSON key order; a table cell
  // that no fact of the row names shows "-".
  virtual void put(FactScope scope, std::string_view key, const JsonScalar &value,
                   VifColumn column, std::string_view text) = 0;
  virtual void end_row() = 0;
  // False for a sink that ignores the texts (JSON): the walk may then pass
  // "" for texts that are costly to format.
  virtual bool wants_text() const { return true; }
};

// The walk of one row: begin_row, its facts, end_row (nothing for a row
// with no VM, interface or port).  `options` shape the table's texts only.
void print_vif_row(const HostSelection::Row &row, const TableOptions &options, VifSink &sink);
// Every row of the selection, in order (the table's order; the JSON walks
// the same rows grouped by VM, orphans last).
void print_vif_rows(const HostSelection &selection, const TableOptions &options, VifSink &sink);

} // namespace vifwall
