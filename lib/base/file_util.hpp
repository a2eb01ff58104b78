// Writing files so that a reader (or a crash) never sees half of one.
#pragma once

#include <string>
#include <vector>

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


// A text read from a file or a command, with where it came from.
struct InputText {
  std::string text;
  std::string source;    // file path or command line, for error messages
  std::string file_name; // the snapshot name it is saved under ("ip-s-link")
};

// Reads a file, or stdin for "-".  At most 256 MiB.
Result<std::string> read_input_file(const std::string &path);

// Writes the texts into DIR under their snapshot names (atomically each:
// temp file + rename), creating DIR if needed.
Result<std::vector<std::string>> write_snapshot(const std::string &dir,
                                                const std::vector<InputText> &texts);

} // namespace vifwall
