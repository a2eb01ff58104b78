// The libFuzzer entry points.  One binary holds every target; it runs the one
// its name says: build-fuzz/fuzz/fuzz_NAME is a link to vifwall_fuzz, so a
// crash reproduces with `build-fuzz/fuzz/fuzz_NAME CRASH_FILE` (or
// VIFWALL_FUZZ_TARGET=NAME vifwall_fuzz ...).  VIFWALL_FUZZ_LIST=1 prints the
// table (name, available, max_len, seed globs; tab-separated) for
// scripts/fuzz; VIFWALL_FUZZ_LENIENT=1 skips the convention checks
// (targets.hpp).

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "targets.hpp"

namespace {

vifwall::fuzz::TargetFunction selected = nullptr;

std::string target_name(const char *argv0) {
  if (const char *env = std::getenv("VIFWALL_FUZZ_TARGET"); env && *env)
    return env;
  const char *slash = std::strrchr(argv0, '/');
  std::string base = slash ? slash + 1 : argv0;
  return base.rfind("fuzz_", 0) == 0 ? base.substr(5) : std::string();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  if (const char *list = std::getenv("VIFWALL_FUZZ_LIST"); list && *list) {
    for (const auto &target : vifwall::fuzz::targets())
      std::printf("%s\t%s\t%zu\t%s\n", target.name, target.run ? "yes" : "no", target.max_len,
                  target.seed_globs);
    std::exit(0);
  }
  const std::string name = target_name((*argv)[0]);
  const auto *target = vifwall::fuzz::find_target(name);
  if (!target || !target->run) {
    std::fprintf(stderr,
                 "vifwall_fuzz: %s fuzz target \"%s\"; run it as fuzz_NAME or set "
                 "VIFWALL_FUZZ_TARGET=NAME (VIFWALL_FUZZ_LIST=1 lists them)\n",
                 target ? "this tree's lib/ lacks the parser of" : "no", name.c_str());
    std::exit(2);
  }
  selected = target->run;
  if (const char *lenient = std::getenv("VIFWALL_FUZZ_LENIENT"); lenient && *lenient == '1')
    vifwall::fuzz::set_lenient(true);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  return selected(data, size);
}
