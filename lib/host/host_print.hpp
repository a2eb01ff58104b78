// Printing vif-of's answer: an aligned text table and JSON, both rendered
// from the same selection of the HostMap (iproute2's "JSON from the same
// model as text", without mixing the two in one print call).
#pragma once

#include <string>
#include <vector>

#include "host.hpp"

namespace vifwall {

// What to print: whole VMs (all their VIFs, or a "no interfaces"/"halted"
// row) and single interfaces (orphans, or a VM's VIF picked by --iface/--mac).
struct HostSelection {
  struct Row {
    const HostVm *vm = nullptr;   // nullptr: an orphan or a plain port
    const HostVif *vif = nullptr; // nullptr: the VM has no interface
    const Link *link = nullptr;   // a non-VIF port (uplink), for --bridge
    std::string bridge;           // the bridge of `link`
  };
  std::vector<Row> rows;

  void add_vm(const HostVm &vm);              // one row per VIF, or one row
  void add_vif(const HostVm *vm, const HostVif &vif);
  void add_link(const Link &link, const std::string &bridge);
};

struct TableOptions {
  bool exact = false; // raw counters instead of 2.4k / 244K
  bool wide = false;  // never clip the VM column
};

// The aligned table with a header line; VM names longer than 20 characters
// are clipped with '~' unless options.wide.
std::string render_vif_table(const HostSelection &selection, const TableOptions &options);

// {"vms": [...], "orphans": [...]}; the schema is documented in vif-of(8).
std::string render_vif_json(const HostSelection &selection, bool pretty);


} // namespace vifwall
