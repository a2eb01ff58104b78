// A small per-user cache of VM names for bash completion, so that a TAB does
// not wait for xapi (every `xe` call is a round trip that hangs while the
// toolstack restarts).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vifwall {

// ${XDG_RUNTIME_DIR:-/tmp}/vifwall-<uid>.vms
std::string default_name_cache_path();

struct CachedNames {
  std::vector<std::string> names;
  std::chrono::seconds age{0};
};

// Reads the cache; nullopt if it is missing, not a regular file owned by us
// (someone else's file in /tmp must not feed our completions), or unreadable.
std::optional<CachedNames> read_name_cache(const std::string &path);

// Replaces the cache atomically (temp file + rename); false on failure.
bool write_name_cache(const std::string &path, const std::vector<std::string> &names);

} // namespace vifwall
