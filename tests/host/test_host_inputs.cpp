#include <catch2/catch.hpp>

#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_runner.hpp"
#include "host_inputs.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::FakeRunner;
using vifwall::test::read_data;
using vifwall::test::read_source;

TEST_CASE("parse_links detects every interface listing format from its content", "[hostinputs]") {
  for (auto file : {"samples/ip-link.txt", "samples/ip-o-link.txt", "samples/ip-s-link.txt",
                    "samples/ip-s-s-link.txt", "samples/ip-d-link.txt", "samples/ip-j-link.json",
                    "samples/ip-j-s-link.json", "samples/ifconfig-a.txt"}) {
    auto links = parse_links(read_data(file), file);
    INFO(file);
    REQUIRE(links);
    bool has_vif = false;
    for (const auto &link : *links)
      has_vif = has_vif || link.name == "vif2.0";
    CHECK(has_vif);
  }
  auto seed = parse_links(read_source("examples/xen6/ifconfig"), "ifconfig");
  REQUIRE(seed);
  CHECK(seed->size() == 17);
  auto wrong = parse_links(read_source("examples/xen6/brctl-show"), "brctl-show");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().str().rfind("brctl-show:1: expected interface listings", 0) == 0);
  auto empty = parse_links("\n\n", "empty");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("read_snapshot_dir finds the files by name and says what is missing", "[hostinputs]") {
  auto seed = read_snapshot_dir(std::string(VIFWALL_SOURCE_DIR) + "/examples/xen6");
  REQUIRE(seed);
  CHECK(seed->links.file_name == "ifconfig");
  REQUIRE(seed->bridges);
  CHECK(seed->bridges->file_name == "brctl-show");
  CHECK_FALSE(seed->vif_list);

  auto missing = read_snapshot_dir("/nonexistent/snapshot");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("not a snapshot directory") != std::string::npos);

  char dir[] = "/tmp/vifwall-snap-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  auto no_vms = read_snapshot_dir(dir);
  REQUIRE_FALSE(no_vms);
  CHECK(no_vms.error().message.find("xe-vm-list") != std::string::npos);

  // write_snapshot + read back, with ".txt" names accepted too.
  auto written = write_snapshot(dir, {InputText{read_source("examples/xen6/xe-vm-list"), "x", "xe-vm-list"},
                                      InputText{read_data("samples/ip-s-link.txt"), "x", "ip-s-link.txt"}});
  REQUIRE(written);
  CHECK(written->size() == 2);
  auto back = read_snapshot_dir(dir);
  REQUIRE(back);
  CHECK(back->links.file_name == "ip-s-link");
  CHECK_FALSE(back->bridges);
  for (const auto &path : *written)
    ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("read_live runs xe, ip -s link and brctl show without a shell", "[hostinputs]") {
  FakeRunner runner;
  char dir[] = "/tmp/vifwall-xe-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string xe = std::string(dir) + "/xe";
  FILE *f = std::fopen(xe.c_str(), "w");
  std::fputs("#!/bin/sh\n", f);
  std::fclose(f);
  ::chmod(xe.c_str(), 0755);
  runner.answer("xe vm-list params=uuid,name-label,power-state,dom-id,networks",
                read_source("examples/xen6/xe-vm-list"));
  runner.answer("xe vif-list params=uuid,vm-uuid,vm-name-label,device,MAC,MTU,network-uuid,network-name-label", "");
  runner.answer("ip -s link", read_data("samples/ip-s-link.txt"));
  runner.answer("brctl show", read_data("samples/brctl-show.txt"));
  LiveOptions options;
  options.xe = xe;
  auto texts = read_live(runner, options);
  REQUIRE(texts);
  CHECK(texts->links.source == "ip -s link");
  auto keys = runner.keys_seen();
  REQUIRE(keys.size() == 4);
  CHECK(keys[0].rfind("xe vm-list", 0) == 0);
  CHECK(runner.seen[0].timeout == options.timeout);

  // A failing xe is an error naming the command and its stderr.
  runner.answer("xe vm-list params=uuid,name-label,power-state,dom-id,networks", "", 1,
                "Lost connection to the server.");
  auto failed = read_live(runner, options);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().str().find("Lost connection to the server.") != std::string::npos);
  ::unlink(xe.c_str());
  ::rmdir(dir);
}
