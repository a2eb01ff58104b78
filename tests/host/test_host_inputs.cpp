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
  runner.answer("xe vm-list params=uuid,name-label,power-state,dom-id,networks,resident-on",
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
  runner.answer("xe vm-list params=uuid,name-label,power-state,dom-id,networks,resident-on", "", 1,
                "Lost connection to the server.");
  auto failed = read_live(runner, options);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().str().find("Lost connection to the server.") != std::string::npos);
  ::unlink(xe.c_str());
  ::rmdir(dir);
}

namespace {

Vm running_vm(std::string name, std::string uuid, std::int64_t dom_id,
              std::optional<std::string> resident_on) {
  Vm vm;
  vm.name_label = std::move(name);
  vm.uuid = std::move(uuid);
  vm.power_state = dom_id >= 0 ? "running" : "halted";
  vm.dom_id = dom_id;
  vm.resident_on = std::move(resident_on);
  return vm;
}

const std::string kHere = "3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10";
const std::string kThere = "7f6e5d4c-3b2a-4190-8877-665544332211";
// xe vm-list of a pool of two: dom-id 7 on both members, one VM each.
const std::string kPoolVmList = "uuid ( RO)           : aaaa0000-0000-0000-0000-000000000001\n"
                                "     name-label ( RW): i-9-9-VM\n"
                                "    power-state ( RO): running\n"
                                "         dom-id ( RO): 7\n"
                                "    resident-on ( RO): " + kThere + "\n\n\n"
                                "uuid ( RO)           : bbbb0000-0000-0000-0000-000000000002\n"
                                "     name-label ( RW): i-2-3-VM\n"
                                "    power-state ( RO): running\n"
                                "         dom-id ( RO): 7\n"
                                "    resident-on ( RO): " + kHere + "\n\n\n";

} // namespace

TEST_CASE("keep_local_vms keeps this host's VMs and halted ones", "[hostinputs][pool]") {
  std::vector<Vm> vms = {running_vm("i-9-9-VM", "aaaa0000-0000-0000-0000-000000000001", 7, kThere),
                         running_vm("i-2-3-VM", "bbbb0000-0000-0000-0000-000000000002", 7, kHere),
                         running_vm("stopped", "cccc0000-0000-0000-0000-000000000003", -1, ""),
                         running_vm("dom0 there", "dddd0000-0000-0000-0000-000000000004", 0, kThere),
                         running_vm("dom0 here", "eeee0000-0000-0000-0000-000000000005", 0,
                                    "3D2B9A8E-5C1F-4E47-9A51-0B6F8C2D7E10")};
  std::vector<Vm> elsewhere;
  REQUIRE(keep_local_vms(vms, elsewhere, kHere, "xe vm-list"));
  REQUIRE(vms.size() == 3);
  CHECK(vms[0].name_label == "i-2-3-VM");
  CHECK(vms[1].name_label == "stopped");
  CHECK(vms[2].name_label == "dom0 here");
  REQUIRE(elsewhere.size() == 2);
  CHECK(elsewhere[0].name_label == "i-9-9-VM");
  CHECK(elsewhere[1].name_label == "dom0 there");
}

TEST_CASE("keep_local_vms refuses to guess between VMs sharing a dom-id", "[hostinputs][pool]") {
  std::vector<Vm> vms = {running_vm("i-9-9-VM", "aaaa0000-0000-0000-0000-000000000001", 7, std::nullopt),
                         running_vm("i-2-3-VM", "bbbb0000-0000-0000-0000-000000000002", 7, std::nullopt),
                         running_vm("other", "cccc0000-0000-0000-0000-000000000003", 8, std::nullopt)};
  std::vector<Vm> elsewhere;
  // No inventory: nothing says which member is here.
  auto refused = keep_local_vms(vms, elsewhere, "", "snap/xe-vm-list");
  REQUIRE_FALSE(refused);
  const std::string message = refused.error().str();
  CHECK_THAT(message, Catch::StartsWith("snap/xe-vm-list: expected one running VM per dom-id"));
  CHECK_THAT(message, Catch::Contains("dom-id 7 is \"i-9-9-VM\" (aaaa0000-0000-0000-0000-000000000001), "
                                      "\"i-2-3-VM\" (bbbb0000-0000-0000-0000-000000000002)"));
  CHECK_THAT(message, !Catch::Contains("other"));
  // An inventory without resident-on in the VM list cannot tell either.
  CHECK_FALSE(keep_local_vms(vms, elsewhere, kHere, "snap/xe-vm-list"));

  // Without a collision, a list without locality is read as before.
  vms.pop_back();
  vms.pop_back();
  REQUIRE(keep_local_vms(vms, elsewhere, "", "snap/xe-vm-list"));
  CHECK(vms.size() == 1);
  CHECK(elsewhere.empty());
}

TEST_CASE("parse_host_texts reads the inventory and resident-on of a pool's VM list", "[hostinputs][pool]") {
  HostTexts texts;
  texts.vm_list = {kPoolVmList,
                   "xe-vm-list", "xe-vm-list"};
  texts.links = {read_data("samples/ip-s-link.txt"), "ip-s-link", "ip-s-link"};
  texts.inventory = InputText{"INSTALLATION_UUID='" + kHere + "'\n", "inv", "xensource-inventory"};
  auto inputs = parse_host_texts(texts);
  REQUIRE(inputs);
  CHECK(inputs->this_host == kHere);
  REQUIRE(inputs->vms.size() == 1);
  CHECK(inputs->vms[0].name_label == "i-2-3-VM");
  REQUIRE(inputs->elsewhere.size() == 1);
  CHECK(inputs->elsewhere[0].resident_on == kThere);
  HostMap host = join_host(std::move(*inputs));
  CHECK(find_vms_elsewhere(host, "i-9-9-VM").size() == 1);
  CHECK(find_vms_elsewhere(host, "aaaa0000").size() == 1);
  CHECK(find_vms_elsewhere(host, "i-2-3-VM").empty());

  texts.inventory.reset();
  auto ambiguous = parse_host_texts(texts);
  REQUIRE_FALSE(ambiguous);
  CHECK_THAT(ambiguous.error().str(), Catch::Contains("on host " + kThere));

  // A placeholder without KEY=VALUE lines knows nothing: read as absent.
  texts.inventory = InputText{"# placeholder\n\n", "inv", "xensource-inventory"};
  auto placeholder = parse_host_texts(texts);
  REQUIRE_FALSE(placeholder);
  CHECK_THAT(placeholder.error().str(), Catch::Contains("expected one running VM per dom-id"));

  texts.inventory = InputText{"BUILD_NUMBER='1'\n", "inv", "xensource-inventory"};
  auto keyless = parse_host_texts(texts);
  REQUIRE_FALSE(keyless);
  CHECK_THAT(keyless.error().str(), Catch::Contains("expected INSTALLATION_UUID="));

  texts.inventory = InputText{"not an inventory\n", "/etc/xensource-inventory", "xensource-inventory"};
  auto broken = parse_host_texts(texts);
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().str(), Catch::StartsWith("/etc/xensource-inventory:1: expected KEY="));
}

TEST_CASE("local_vms_of: the running VMs of this host, by resident-on", "[hostinputs][pool]") {
  auto paused = running_vm("paused here", "ffff0000-0000-0000-0000-000000000006", 9, kHere);
  paused.power_state = "paused";
  std::vector<Vm> vms = {running_vm("i-9-9-VM", "aaaa0000-0000-0000-0000-000000000001", 7, kThere),
                         running_vm("i-2-3-VM", "bbbb0000-0000-0000-0000-000000000002", 7, kHere),
                         running_vm("stopped", "cccc0000-0000-0000-0000-000000000003", -1, ""),
                         paused};
  const LocalVms located = local_vms_of(vms, kHere);
  CHECK(located.located);
  CHECK(located.this_host == kHere);
  CHECK(located.names() == std::vector<std::string>{"i-2-3-VM", "paused here"});
  REQUIRE(located.elsewhere.size() == 1);
  CHECK(located.elsewhere[0].name_label == "i-9-9-VM");

  // Without this host's uuid every running VM counts as here (cleanup keeps
  // rules rather than removing them); a shared dom-id is no error by name.
  const LocalVms unknown = local_vms_of(vms, "");
  CHECK_FALSE(unknown.located);
  CHECK(unknown.names() == std::vector<std::string>{"i-9-9-VM", "i-2-3-VM", "paused here"});
  CHECK(unknown.elsewhere.empty());
}

TEST_CASE("read_local_vms asks xe for resident-on and reads the inventory", "[hostinputs][pool]") {
  char dir_template[] = "/tmp/vifwall-local-XXXXXX";
  const char *dir = ::mkdtemp(dir_template);
  REQUIRE(dir);
  const std::string inventory = std::string(dir) + "/xensource-inventory";
  const std::string xe = std::string(dir) + "/xe";
  {
    FILE *f = std::fopen(inventory.c_str(), "w");
    std::fputs(("INSTALLATION_UUID='" + kHere + "'\n").c_str(), f);
    std::fclose(f);
    f = std::fopen(xe.c_str(), "w"); // find_xe wants an executable file
    std::fclose(f);
    ::chmod(xe.c_str(), 0755);
  }
  FakeRunner runner;
  runner.answer("xe vm-list params=uuid,name-label,power-state,dom-id,networks,resident-on",
                kPoolVmList);
  LiveOptions options;
  options.xe = xe;
  options.inventory = inventory;
  auto local = read_local_vms(runner, options);
  REQUIRE(local);
  CHECK(local->names() == std::vector<std::string>{"i-2-3-VM"});
  CHECK(local->elsewhere.size() == 1);

  options.inventory = std::string(dir) + "/missing"; // off Xen: no locality
  local = read_local_vms(runner, options);
  REQUIRE(local);
  CHECK(local->names() == std::vector<std::string>{"i-9-9-VM", "i-2-3-VM"});
  ::unlink(inventory.c_str());
  ::unlink(xe.c_str());
  ::rmdir(dir);
}
