// vif-of's selections, applied to a HostMap: VMs by name/uuid/prefix, by
// domid, and the reverse lookups by interface, MAC, IP and bridge.
#pragma once

#include <string>
#include <vector>

#include "error.hpp"
#include "host.hpp"
#include "host_print.hpp"

namespace vifwall {

struct VifQuery {
  std::vector<std::string> vms;     // name-label, uuid or unique uuid prefix
  std::vector<std::int64_t> domids;
  std::vector<std::string> ifaces;
  std::vector<std::string> macs;
  std::vector<std::string> ips;
  std::vector<std::string> bridges;
  bool all = false;                 // every VM, then the orphans
};

struct QueryAnswer {
  HostSelection selection;
  std::vector<std::string> not_found; // one message per selector that matched nothing
};

// Fails only on an ambiguous uuid prefix or a malformed MAC.  Rows come in
// the order of the selectors; a VM selected twice is shown once.
Result<QueryAnswer> run_query(const HostMap &host, const VifQuery &query);

} // namespace vifwall
