// Internal to lib/sg/apply: the state files' reading and writing
// (state_files.cpp); their formats are sg_state.hpp's.  Not part of the
// layer's API: sg_apply.hpp is.
//
// Contract: reads never fail: a missing or unparsable file reads as
// nothing (CloudStack deletes an unparsable log and reprograms everything).
// Writes are prepared before any table changes (check_writable: a full disk
// or a read-only directory fails there, with nothing changed) and renamed
// into place after the firewall took the change (write), CloudStack's .log
// files last.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "sg_state.hpp"

namespace vifwall::apply_detail {

// A small file's content ("" when it cannot be read).
std::string read_small_file(const std::string &path);
bool file_exists(const std::string &path);

// <state_dir>/<vm>.state and <vm>.log, when present and readable.
std::optional<VmState> load_vm_state(const std::string &state_dir, const std::string &vm);
std::optional<RuleLog> load_rule_log(const std::string &state_dir, const std::string &vm);

struct PreparedFiles {
  std::vector<std::pair<std::string, std::string>> files; // path, content
  // Before any table changes: every file can be written (the directory
  // exists and takes a file of that size; nothing that is not a regular
  // file sits at a path).  Also removes temporary files a killed run left.
  Result<void> check_writable(const std::string &state_dir) const;
  // Writes every file whose content differs; CloudStack's .log files last,
  // because the log alone decides whether a later `rules` call is needed:
  // a run killed half way must leave a log that asks for it again.
  Result<void> write() const;
};

} // namespace vifwall::apply_detail
