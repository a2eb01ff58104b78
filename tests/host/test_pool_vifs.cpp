#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "pool_vifs.hpp"

using namespace vifwall;

namespace {

const char *const kA = "6a1f3c2e-8d4b-4e5a-9c7d-1b2e3f4a5b61";
const char *const kB = "7b2a4d3f-9e5c-4f6b-8d8e-2c3f4a5b6c72";
const char *const kC = "8c3b5e4a-0f6d-4a7c-9e9f-3d4a5b6c7d83";

std::string vm_json(const std::string &name, const std::string &uuid, int dom_id, const std::string &vif) {
  return R"({"name_label": ")" + name + R"(", "uuid": ")" + uuid + R"(", "power_state": ")" +
         (dom_id < 0 ? "halted" : "running") + R"(", "dom_id": )" + std::to_string(dom_id) +
         R"(, "vifs": [)" +
         (vif.empty() ? "" : R"({"name": ")" + vif + R"(", "kind": "vif", "device": 0, "bridge": "xenbr0"})") +
         "]}";
}

MemberAnswer member(const char *uuid, const std::string &name, int exit, const std::string &vms) {
  MemberAnswer m;
  m.member = {uuid, name, true};
  m.answer = PluginAnswer{std::string(uuid), name, "vif-of", exit,
                          R"({"vms": [)" + vms + R"(], "orphans": []})", ""};
  return m;
}

MemberAnswer down(const char *uuid, const std::string &name) {
  MemberAnswer m;
  m.member = {uuid, name, false};
  m.error = "down (host-metrics-live is false)";
  return m;
}

// The two-member pool of the simulator, asked for dom-id 7; a third member down.
std::vector<MemberAnswer> domid_7_answers() {
  return {member(kA, "xenpool1", 0, vm_json("i-2-3-VM", "44b0e85e", 7, "vif7.0")),
          member(kB, "xenpool2", 0, vm_json("i-3-7-VM", "b1c2d3e4", 7, "vif7.0")), down(kC, "xenpool3")};
}

} // namespace

TEST_CASE("merge_pool_vifs: rows from every member, a member down reported", "[pool]") {
  VifQuery q;
  q.domids = {7};
  const auto pool = merge_pool_vifs(domid_7_answers(), q);
  REQUIRE(pool->selection.rows.size() == 2);
  CHECK(pool->selection.rows[0].host->name == "xenpool1");
  CHECK(pool->selection.rows[1].host->uuid == kB);
  CHECK(pool->not_found.empty());
  REQUIRE(pool->failures.size() == 1);
  CHECK(pool->failures[0] == std::string("xenpool3 (") + kC + ") did not answer: down (host-metrics-live is false)");

  const std::string table = render_vif_table(pool->selection, {});
  CHECK(table.rfind("HOST     VM       DOM IFACE", 0) == 0);
  CHECK(table.find("\nxenpool1 i-2-3-VM   7 vif7.0") != std::string::npos);
  CHECK(table.find("\nxenpool2 i-3-7-VM   7 vif7.0") != std::string::npos);

  const auto doc = nlohmann::json::parse(render_pool_vif_json(*pool, false));
  REQUIRE(doc["vms"].size() == 2);
  CHECK(doc["vms"][0]["host"] == kA);
  CHECK(doc["vms"][0]["hostname"] == "xenpool1");
  CHECK(doc["vms"][1]["hostname"] == "xenpool2");
  REQUIRE(doc["hosts"].size() == 3);
  CHECK(doc["hosts"][0] == nlohmann::json::parse(std::string(R"({"host": ")") + kA +
                                                 R"(", "hostname": "xenpool1", "answered": true, "exit": 0})"));
  CHECK(doc["hosts"][2]["answered"] == false);
  CHECK(doc["hosts"][2]["exit"].is_null());
  CHECK(doc["hosts"][2]["error"] == "down (host-metrics-live is false)");
}

TEST_CASE("merge_pool_vifs: a single host's table has no HOST column", "[pool]") {
  HostSelection plain;
  HostVm vm;
  vm.vm.name_label = "i-2-3-VM";
  vm.vm.dom_id = 7;
  plain.add_vm(vm);
  CHECK(render_vif_table(plain, {}).rfind("VM ", 0) == 0);
}

TEST_CASE("merge_pool_vifs: bad answers are members that did not answer", "[pool]") {
  VifQuery q;
  q.vms = {"i-2-3-VM"};
  auto failing = member(kB, "xenpool2", 2, "");
  failing.answer->output.clear();
  failing.answer->stderr_text = "vif-of: error: uuid prefix \"b1c2\" is ambiguous\nmore\n";
  auto garbage = member(kC, "", 0, "");
  garbage.answer->output = R"({"vms": [{"dom_id": "seven"}]})";
  const auto pool = merge_pool_vifs(
      {member(kA, "xenpool1", 0, vm_json("i-2-3-VM", "44b0e85e", 7, "vif7.0")), failing, garbage}, q);
  REQUIRE(pool->failures.size() == 2);
  CHECK(pool->failures[0] == std::string("xenpool2 (") + kB +
                                 ") did not answer: vif-of exited with status 2: vif-of: error: uuid prefix "
                                 "\"b1c2\" is ambiguous");
  CHECK(pool->failures[1].find(std::string(kC) + " did not answer: vif-of's output: vms[0].dom_id: expected an "
                               "integer") == 0);
  REQUIRE(pool->selection.rows.size() == 1);
  CHECK(pool->not_found.empty());
}

TEST_CASE("merge_pool_vifs: not found on any member, found on one is found", "[pool]") {
  VifQuery q;
  q.vms = {"i-3-7-VM", "nowhere"};
  q.macs = {"06:F8:C8:00:00:09"};
  auto a = member(kA, "xenpool1", 1, "");
  auto b = member(kB, "xenpool2", 1, vm_json("i-3-7-VM", "b1c2d3e4", 7, "vif7.0"));
  const auto pool = merge_pool_vifs({a, b}, q);
  const std::vector<std::string> expected{
      "no VM with name-label, uuid or uuid prefix \"nowhere\" on any pool member",
      "no VM interface with MAC 06:f8:c8:00:00:09 on any pool member"};
  CHECK(pool->not_found == expected);
  CHECK(pool->failures.empty());
}

TEST_CASE("merge_pool_vifs: a halted VM every member lists is shown once, on no host", "[pool]") {
  VifQuery q;
  q.all = true;
  const std::string halted = vm_json("i-2-11-VM", "5d6e7f80", -1, "");
  const auto pool = merge_pool_vifs({member(kA, "xenpool1", 0, halted), member(kB, "xenpool2", 0, halted)}, q);
  REQUIRE(pool->selection.rows.size() == 1);
  const auto doc = nlohmann::json::parse(render_pool_vif_json(*pool, false));
  CHECK(doc["vms"][0]["host"].is_null());
  CHECK(render_vif_table(pool->selection, {}).find("\n-    i-2-11-VM") != std::string::npos);
}
