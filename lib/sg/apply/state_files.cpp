// The state files' reading and writing.  See state_files.hpp.
#include "state_files.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "file_util.hpp"
#include "text.hpp"

namespace vifwall::apply_detail {

std::string read_small_file(const std::string &path) {
  auto text = read_input_file(path);
  return text ? *text : std::string();
}

bool file_exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::optional<VmState> load_vm_state(const std::string &state_dir, const std::string &vm) {
  const auto path = vm_state_path(state_dir, vm);
  if (!file_exists(path))
    return std::nullopt;
  auto state = parse_vm_state(read_small_file(path), path);
  if (!state)
    return std::nullopt;
  return *state;
}

std::optional<RuleLog> load_rule_log(const std::string &state_dir, const std::string &vm) {
  const auto path = rule_log_path(state_dir, vm);
  if (!file_exists(path))
    return std::nullopt;
  auto log = parse_rule_log(read_small_file(path), path);
  if (!log)
    return std::nullopt; // CloudStack deletes an unparsable log: reprogram all
  return *log;
}

Result<void> PreparedFiles::check_writable(const std::string &state_dir) const {
  if (auto ok = ensure_directory(state_dir); !ok)
    return ok;
  remove_stale_temp_files(state_dir); // left by a killed run
  for (const auto &[path, content] : files) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      return fail(path, 0, "cannot write the state file, nothing changed: something other "
                           "than a regular file is in its place");
    const std::string probe = path + ".probe." + std::to_string(::getpid());
    if (auto ok = write_file_atomically(probe, content); !ok)
      return fail(path, 0, "cannot write the state file, nothing changed: " + ok.error().message);
    ::unlink(probe.c_str());
  }
  return {};
}

Result<void> PreparedFiles::write() const {
  for (const bool logs : {false, true})
    for (const auto &[path, content] : files) {
      if (ends_with(path, ".log") != logs)
        continue;
      if (read_small_file(path) == content && file_exists(path))
        continue;
      if (auto ok = write_file_atomically(path, content); !ok)
        return ok;
    }
  return {};
}

} // namespace vifwall::apply_detail
