// A small per-user cache of VM names for bash completion, so that a TAB does
// not wait for xapi (every `xe` call is a round trip that hangs while the
// toolstack restarts).  With each name, the values completion offers for
// that VM's --ip and --mac: one line per VM, "NAME", then tab-separated
// "ip=A,B" and "mac=M,N" when known (a file of bare names, as older
// versions wrote, still reads).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model.hpp"

namespace vifwall {

// ${XDG_RUNTIME_DIR:-/tmp}/vifwall-<uid>.vms
std::string default_name_cache_path();

struct CachedVm {
  std::string name;
  std::vector<std::string> ips;  // the guest agent's addresses, IPv4 first
  std::vector<std::string> macs; // its NICs' MACs, by device
  bool operator==(const CachedVm &) const = default;
};

struct CachedNames {
  std::vector<CachedVm> vms;
  std::chrono::seconds age{0};
  std::vector<std::string> names() const;
  const CachedVm *find(const std::string &name) const;
};

// Reads the cache; nullopt if it is missing, not a regular file owned by us
// (someone else's file in /tmp must not feed our completions), or unreadable.
std::optional<CachedNames> read_name_cache(const std::string &path);

// Replaces the cache atomically (temp file + rename); false on failure.
// Names holding a tab or a newline are left out (they cannot be told apart
// from the format's separators).
bool write_name_cache(const std::string &path, const std::vector<CachedVm> &vms);

// The cache's lines for `vms` (what write_name_cache writes) and back.
std::string format_name_cache(const std::vector<CachedVm> &vms);
std::vector<CachedVm> parse_name_cache(std::string_view text);

// The cache's records for `running` (name-labels in order), their addresses
// from the guest agent (`networks`), their MACs from `vifs` (xe vif-list;
// may be null).
std::vector<CachedVm> cached_vms_of(const std::vector<Vm> &running, const std::vector<XeVif> *vifs);

// CloudStack's id of a VM from its instance name: "i-2-3-VM" -> "3" (user
// VMs are i-<account>-<id>-<suffix>), "r-4-VM" -> "4" (routers, console
// proxies, storage VMs); nullopt for other names.
std::optional<std::string> cloudstack_vm_id(const std::string &name);

} // namespace vifwall
