#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "file_util.hpp"

using namespace vifwall;

TEST_CASE("write_file_atomically replaces a file and leaves no temporary", "[fileutil]") {
  char dir[] = "/tmp/vifwall-fu-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string path = std::string(dir) + "/state";
  REQUIRE(write_file_atomically(path, "one\n"));
  REQUIRE(write_file_atomically(path, "two\n"));
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  CHECK(content.str() == "two\n");
  // A directory that does not exist: an error naming the path.
  auto bad = write_file_atomically(std::string(dir) + "/no/such/state", "x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().source == std::string(dir) + "/no/such/state");
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("remove_stale_temp_files removes only the leftovers of dead processes", "[fileutil]") {
  char dir[] = "/tmp/vifwall-fu-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string base = std::string(dir) + "/i-2-3-VM.log";
  const std::string dead = base + ".tmp.999999999";                 // no such pid
  const std::string alive = base + ".tmp." + std::to_string(::getpid());
  const std::string probe = base + ".probe.999999998";
  for (const auto &path : {dead, alive, probe, base})
    std::ofstream(path) << "x";
  CHECK(remove_stale_temp_files(dir) == 2);
  struct stat st;
  CHECK(::stat(dead.c_str(), &st) != 0);
  CHECK(::stat(probe.c_str(), &st) != 0);
  CHECK(::stat(alive.c_str(), &st) == 0);
  CHECK(::stat(base.c_str(), &st) == 0);
  ::unlink(alive.c_str());
  ::unlink(base.c_str());
  ::rmdir(dir);
}
