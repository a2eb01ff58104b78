// The state files' reading and writing (lib/sg/apply/state_files.cpp).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fake_host.hpp"
#include "sg_state.hpp"
#include "state_files.hpp"

using namespace vifwall;
using namespace vifwall::apply_detail;
using namespace vifwall::test;
namespace fs = std::filesystem;

namespace {

ino_t inode_of(const std::string &path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_ino;
}

} // namespace

TEST_CASE("state files that are missing or unreadable read as nothing", "[state_files]") {
  Scene scene;
  const std::string dir = scene.dir + "/state";
  fs::create_directories(dir);
  CHECK(read_small_file(dir + "/nothing") == "");
  CHECK_FALSE(file_exists(dir + "/nothing"));
  CHECK_FALSE(load_vm_state(dir, "i-2-3-VM"));
  CHECK_FALSE(load_rule_log(dir, "i-2-3-VM"));
  std::ofstream(vm_state_path(dir, "i-2-3-VM")) << "not a state file\n";
  std::ofstream(rule_log_path(dir, "i-2-3-VM")) << "a,b\n";
  CHECK(file_exists(vm_state_path(dir, "i-2-3-VM")));
  CHECK_FALSE(load_vm_state(dir, "i-2-3-VM"));
  CHECK_FALSE(load_rule_log(dir, "i-2-3-VM"));

  VmState state;
  state.vm_name = "i-2-3-VM";
  state.vm_id = "3";
  state.ip = "10.147.41.238";
  state.mac = "06:f8:c8:00:00:09";
  state.dom_id = "7";
  state.vifs = {"vif7.0"};
  state.arp_filter = "ebtables";
  state.generation = 'b';
  std::ofstream(vm_state_path(dir, "i-2-3-VM"), std::ios::trunc) << format_vm_state(state);
  CHECK(load_vm_state(dir, "i-2-3-VM") == state);
  const RuleLog log{"i-2-3-VM", "3", "10.147.41.238", "7", "sig", "4", "06:f8:c8:00:00:09"};
  std::ofstream(rule_log_path(dir, "i-2-3-VM"), std::ios::trunc) << format_rule_log(log);
  CHECK(load_rule_log(dir, "i-2-3-VM") == log);
}

TEST_CASE("check_writable makes the directory and refuses what is not a regular file", "[state_files]") {
  Scene scene;
  const std::string dir = scene.dir + "/state";
  PreparedFiles files{{{dir + "/a.state", "a\n"}, {dir + "/a.log", "log\n"}}};
  REQUIRE(files.check_writable(dir));
  CHECK(fs::is_directory(dir));
  // Checked, not written; and no probe file left behind.
  CHECK(fs::is_empty(dir));

  fs::create_directories(dir + "/a.log");
  auto refused = files.check_writable(dir);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().str() == dir + "/a.log: cannot write the state file, nothing changed: something "
                                       "other than a regular file is in its place");

  std::ofstream(scene.dir + "/plain") << "x";
  auto not_dir = PreparedFiles{{{scene.dir + "/plain/state/a.state", "a\n"}}}.check_writable(scene.dir + "/plain/state");
  CHECK_FALSE(not_dir);
}

TEST_CASE("write skips unchanged files and writes the logs last", "[state_files]") {
  Scene scene;
  const std::string dir = scene.dir + "/state";
  fs::create_directories(dir);
  PreparedFiles files{{{dir + "/a.log", "log\n"}, {dir + "/a.state", "state\n"}}};
  REQUIRE(files.write());
  CHECK(read_small_file(dir + "/a.log") == "log\n");
  CHECK(read_small_file(dir + "/a.state") == "state\n");
  const ino_t log_inode = inode_of(dir + "/a.log");
  const ino_t state_inode = inode_of(dir + "/a.state");
  // The same content again: untouched (no new file renamed over it).
  REQUIRE(files.write());
  CHECK(inode_of(dir + "/a.log") == log_inode);
  CHECK(inode_of(dir + "/a.state") == state_inode);
  // A changed file is replaced.
  files.files[1].second = "state 2\n";
  REQUIRE(files.write());
  CHECK(read_small_file(dir + "/a.state") == "state 2\n");
  CHECK(inode_of(dir + "/a.log") == log_inode);

  // When a file before the logs cannot be written, no log is written.
  PreparedFiles failing{{{dir + "/b.log", "log\n"}, {dir + "/missing/b.state", "state\n"}}};
  CHECK_FALSE(failing.write());
  CHECK_FALSE(file_exists(dir + "/b.log"));
}
