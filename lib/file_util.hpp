// Writing files so that a reader (or a crash) never sees half of one.
#pragma once

#include <string>

#include "error.hpp"

namespace vifwall {

// Writes `content` to a temporary file next to `path`, fsyncs it, and renames
// it over `path`.  On failure `path` is untouched and the temporary removed.
Result<void> write_file_atomically(const std::string &path, const std::string &content,
                                   unsigned mode = 0644);

// Removes "<name>.tmp.<pid>" and "<name>.probe.<pid>" files in `dir` whose
// process is gone: what a killed writer leaves behind.  Returns how many.
std::size_t remove_stale_temp_files(const std::string &dir);

// Creates `path` (one level) if missing; fine if it exists as a directory.
Result<void> ensure_directory(const std::string &path, unsigned mode = 0755);

} // namespace vifwall
