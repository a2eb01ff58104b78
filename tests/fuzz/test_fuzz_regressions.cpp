// Replays the saved fuzz inputs without libFuzzer: every file of
// fuzz/regressions/<target>/ (inputs that once crashed a parser or broke an
// invariant) and fuzz/seeds/<target>/ (hand-picked tricky inputs) goes through
// the same target function the fuzzer runs (fuzz/targets.cpp).  A target
// throws InvariantViolation when a parser's result breaks its contract; a
// memory error shows up here under scripts/sanitize (ASan build).
//
// fuzz/findings/<target>/ holds open strict-check violations (fuzz/README.md):
// they must pass the lenient checks; the strict ones only warn until the
// parser is fixed and the input moves to regressions/.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../../fuzz/targets.hpp"

namespace fs = std::filesystem;
using vifwall::fuzz::find_target;
using vifwall::fuzz::targets;

namespace {

const fs::path kFuzzDir = fs::path(VIFWALL_SOURCE_DIR) / "fuzz";

std::string read_bytes(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct SavedInput {
  std::string target;
  fs::path path;
};

// The files of <kind>/<target>/ for every target directory, sorted so that
// failures always come in the same order.  Files directly under <kind>/
// (README.md) are documentation, not inputs.
std::vector<SavedInput> saved_inputs(const std::string &kind) {
  std::vector<SavedInput> inputs;
  const fs::path root = kFuzzDir / kind;
  if (!fs::is_directory(root))
    return inputs;
  for (const auto &dir : fs::directory_iterator(root)) {
    if (!dir.is_directory())
      continue;
    for (const auto &file : fs::recursive_directory_iterator(dir.path()))
      if (file.is_regular_file())
        inputs.push_back({dir.path().filename().string(), file.path()});
  }
  std::sort(inputs.begin(), inputs.end(),
            [](const SavedInput &a, const SavedInput &b) { return a.path < b.path; });
  return inputs;
}

// Restores strict checking however a test ends.
struct LenientScope {
  explicit LenientScope(bool lenient) { vifwall::fuzz::set_lenient(lenient); }
  ~LenientScope() { vifwall::fuzz::set_lenient(false); }
};

void replay(const std::string &kind, bool lenient = false) {
  LenientScope scope(lenient);
  const auto inputs = saved_inputs(kind);
  std::size_t replayed = 0;
  for (const auto &input : inputs) {
    INFO("fuzz/" << kind << "/" << input.target << "/" << input.path.filename().string());
    const auto *target = find_target(input.target);
    // A directory must be named after a target, or its inputs would silently
    // never run.
    REQUIRE(target != nullptr);
    if (!target->run) {
      WARN("skipped: this tree's lib/ lacks the parser of fuzz target " << input.target);
      continue;
    }
    const std::string bytes = read_bytes(input.path);
    CHECK_NOTHROW(target->run(reinterpret_cast<const std::uint8_t *>(bytes.data()), bytes.size()));
    ++replayed;
  }
  INFO("replayed " << replayed << " of " << inputs.size() << " inputs");
  SUCCEED();
}

} // namespace

TEST_CASE("fuzz target table: unique names, sane limits", "[fuzzregress]") {
  std::set<std::string> names;
  for (const auto &target : targets()) {
    INFO(target.name);
    CHECK(names.insert(target.name).second);
    CHECK(target.max_len >= 256);
    CHECK(std::string(target.name).find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") ==
          std::string::npos);
  }
  CHECK(find_target("xe_records") != nullptr);
  CHECK(find_target("no_such_target") == nullptr);
}

TEST_CASE("fuzz targets accept empty and tiny inputs", "[fuzzregress]") {
  const std::vector<std::string> inputs = {
      "", "\n", std::string(1, '\0'), "\r\n\xc2\xa0", "\xff\xfe", std::string(3, '\0')};
  for (const auto &target : targets()) {
    if (!target.run)
      continue;
    for (const auto &input : inputs) {
      INFO(target.name << " on " << input.size() << " bytes");
      CHECK_NOTHROW(target.run(reinterpret_cast<const std::uint8_t *>(input.data()), input.size()));
    }
  }
}

TEST_CASE("fuzz seeds replay without crash or broken invariant", "[fuzzregress]") {
  replay("seeds");
}

TEST_CASE("fuzz regressions replay without crash or broken invariant", "[fuzzregress]") {
  replay("regressions");
}

TEST_CASE("fuzz findings: no crash; open strict-check violations are listed", "[fuzzregress]") {
  replay("findings", true);
  for (const auto &input : saved_inputs("findings")) {
    const auto *target = find_target(input.target);
    if (!target || !target->run)
      continue;
    const std::string bytes = read_bytes(input.path);
    try {
      target->run(reinterpret_cast<const std::uint8_t *>(bytes.data()), bytes.size());
      WARN("fuzz/findings/" << input.target << "/" << input.path.filename().string()
                            << " passes the strict checks now: move it to fuzz/regressions/");
    } catch (const vifwall::fuzz::InvariantViolation &e) {
      // Still open: expected, and said once per run so it is not forgotten.
      WARN("open fuzz finding " << input.target << "/" << input.path.filename().string() << ": "
                                << e.what());
    }
  }
}

TEST_CASE("fuzz targets reject nothing real: test fixtures pass the invariants", "[fuzzregress]") {
  // The real outputs under tests/data are the fuzzer's seeds; each must pass
  // its targets' checks, or the fuzzer would stop on its first input.
  const fs::path data = fs::path(VIFWALL_SOURCE_DIR);
  std::size_t files = 0;
  for (const auto &target : targets()) {
    if (!target.run)
      continue;
    std::istringstream globs(target.seed_globs);
    std::string glob;
    while (globs >> glob) {
      // Globs are DIR/PATTERN with '*' only in the last part.
      const fs::path pattern = data / glob;
      const fs::path dir = pattern.parent_path();
      const std::string name = pattern.filename().string();
      const auto star = name.find('*');
      const std::string prefix = name.substr(0, star);
      const std::string suffix = star == std::string::npos ? "" : name.substr(star + 1);
      std::vector<fs::path> dirs;
      if (dir.filename() == "*") {
        if (fs::is_directory(dir.parent_path()))
          for (const auto &d : fs::directory_iterator(dir.parent_path()))
            if (d.is_directory())
              dirs.push_back(d.path());
      } else {
        dirs.push_back(dir);
      }
      for (const auto &d : dirs) {
        if (!fs::is_directory(d))
          continue;
        for (const auto &file : fs::directory_iterator(d)) {
          const std::string file_name = file.path().filename().string();
          const bool matches = star == std::string::npos
                                   ? file_name == name
                                   : file_name.size() >= prefix.size() + suffix.size() &&
                                         file_name.compare(0, prefix.size(), prefix) == 0 &&
                                         file_name.compare(file_name.size() - suffix.size(),
                                                           suffix.size(), suffix) == 0;
          if (!file.is_regular_file() || !matches)
            continue;
          const std::string bytes = read_bytes(file.path());
          INFO(target.name << " on " << file.path().string());
          CHECK_NOTHROW(
              target.run(reinterpret_cast<const std::uint8_t *>(bytes.data()), bytes.size()));
          ++files;
        }
      }
    }
  }
  CHECK(files > 50);
}
