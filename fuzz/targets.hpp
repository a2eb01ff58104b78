// The fuzz targets: one function per parser (or chain of parsers) of
// libvifwall, each taking arbitrary bytes.  They are compiled twice:
//  * into the libFuzzer binary (fuzz/fuzz_main.cpp, -DVIFWALL_FUZZ=ON), which
//    picks one target by its name and lets libFuzzer drive it;
//  * into the unit test binary, whose test_fuzz_regressions.cpp replays every
//    saved input (fuzz/seeds/**, fuzz/regressions/**) through the same
//    functions, so a fixed crash stays fixed in the normal test run.
//
// Contract of a target: it never crashes and never lets an exception escape,
// except InvariantViolation, thrown when a parser returned something its
// contract rules out (a non-normalized MAC, an error pointing past the last
// line, JSON that does not parse...).  Under libFuzzer that exception is
// uncaught, so it aborts and libFuzzer saves the input like any crash; in the
// unit tests Catch2 reports its message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vifwall::fuzz {

struct InvariantViolation : std::logic_error {
  using std::logic_error::logic_error;
};

using TargetFunction = int (*)(const std::uint8_t *data, std::size_t size);

struct Target {
  const char *name;    // "xe_records": binary fuzz_xe_records, dirs fuzz/*/xe_records
  TargetFunction run;  // nullptr when the parser is not in this tree's lib/
  std::size_t max_len; // libFuzzer's -max_len: a few real outputs' worth
  // Seed inputs for scripts/fuzz: blank-separated globs relative to the source
  // root (tests/data/..., examples/...).  fuzz/seeds/<name>/ is always added.
  const char *seed_globs;
};

// Strict (the default) also enforces finer points of the contracts whose
// violations are bugs but harm no caller: error messages carry no raw control
// characters (the offending text goes through quote_for_error),
// canonical_rule's output is its own canonical form, xe uuids hold no blank
// of any kind, names are not empty, clean_text is idempotent (fuzz/README.md).
// Lenient skips those, so that a fuzzing run can look past known violations
// for crashes (VIFWALL_FUZZ_LENIENT=1).
void set_lenient(bool lenient);
bool lenient();

// Every target, in a fixed order; names are unique.
const std::vector<Target> &targets();

// The target called `name`, or nullptr.
const Target *find_target(std::string_view name);

} // namespace vifwall::fuzz
