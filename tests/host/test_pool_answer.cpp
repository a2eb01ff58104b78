#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "pool_answer.hpp"

using namespace vifwall;

TEST_CASE("parse_plugin_answer: the envelope, checked", "[pool]") {
  auto a = parse_plugin_answer(R"({"exit": 1, "host": null, "hostname": "xenpool2", "output": {"vms": []},
                                   "stderr": "vif-of: error: x\n", "tool": "vif-of"})",
                               "the answer");
  REQUIRE(a);
  CHECK_FALSE(a->host);
  CHECK(a->exit == 1);
  CHECK(a->output == R"({"vms":[]})");
  CHECK(a->stderr_text == "vif-of: error: x\n");

  auto no_output = parse_plugin_answer(R"({"exit": 2, "output": null, "tool": "vif-of"})", "s");
  REQUIRE(no_output);
  CHECK(no_output->output.empty());

  auto wrong = parse_plugin_answer(R"({"exit": "0", "tool": "vif-of"})", "the answer of h2");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().str() ==
        "the answer of h2: the answer.exit: expected an integer from 0 to 255, got string \"0\"");
  CHECK_FALSE(parse_plugin_answer(R"({"exit": 0})", "s"));
  CHECK_FALSE(parse_plugin_answer("[1]", "s"));
  CHECK_FALSE(parse_plugin_answer("", "s"));
  auto deep = parse_plugin_answer(std::string(100000, '['), "s");
  REQUIRE_FALSE(deep);
  CHECK(deep.error().message.find("nested deeper than") != std::string::npos);
}

TEST_CASE("parse_vif_of_json: vif-of's JSON back into the model", "[pool]") {
  auto vifs = parse_vif_of_json(R"({"vms": [{"name_label": "i-3-7-VM", "uuid": "b1c2", "power_state": "running",
      "dom_id": 7, "vifs": [{"name": "tap7.0", "kind": "tap", "device": 0, "bridge": "xenbr0", "mac": null,
      "guest_mac": "06:3c:7a:00:00:07", "mtu": 1500, "state": "down", "rx_packets": 3, "rx_bytes": 180,
      "tx_dropped": 0, "newer_field": [1]}]}],
      "orphans": [{"name": "vif12.0", "kind": "vif", "dom_id": 12, "device": 0, "bridge": "xenbr1"}]})",
                                "vif-of's output");
  REQUIRE(vifs);
  REQUIRE(vifs->vms.size() == 1);
  const HostVm &vm = vifs->vms[0];
  CHECK(vm.vm.name_label == "i-3-7-VM");
  CHECK(vm.vm.dom_id == 7);
  REQUIRE(vm.vifs.size() == 1);
  CHECK(vm.vifs[0].kind == VifKind::tap);
  CHECK(vm.vifs[0].guest_mac == "06:3c:7a:00:00:07");
  CHECK_FALSE(vm.vifs[0].mac);
  CHECK(vm.vifs[0].mtu == 1500u);
  CHECK(vm.vifs[0].rx.bytes == 180u);
  CHECK_FALSE(vm.vifs[0].tx.packets);
  CHECK(vm.vifs[0].tx.dropped == 0u);
  REQUIRE(vifs->orphans.size() == 1);
  CHECK(vifs->orphans[0].dom_id == 12);

  auto bad = parse_vif_of_json(R"({"vms": [{"name_label": "a", "vifs": [{"name": "vif1.0", "rx_bytes": -1}]}]})",
                               "vif-of's output");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().str() == "vif-of's output: vms[0].vifs[0].rx_bytes: expected a counter (an integer of 0 or "
                             "more), got number -1");
  CHECK_FALSE(parse_vif_of_json(R"({"orphans": []})", "s"));                       // no "vms"
  CHECK_FALSE(parse_vif_of_json(R"({"vms": [{"dom_id": 99999}]})", "s"));          // not a dom-id
  CHECK_FALSE(parse_vif_of_json(R"({"vms": [{"vifs": [{"kind": "vif"}]}]})", "s")); // no name
  CHECK_FALSE(parse_vif_of_json(R"({"vms": ["x"]})", "s"));
  CHECK_FALSE(parse_vif_of_json("not json", "s"));
}

TEST_CASE("parse_sg_diff_json: the text report's lines from sg-diff's JSON", "[pool]") {
  auto diff = parse_sg_diff_json(R"J({"differ": true, "summary": "sg-diff: 1 VM differs (...)",
      "host": [{"kind": "missing", "table": "filter", "chain": "BRIDGE-FIREWALL", "rule": "-j ACCEPT",
                "detail": ""}],
      "vms": [{"name": "i-2-3-VM", "ok": false, "differences": [
        {"kind": "unprotected", "table": "", "chain": "", "rule": "", "detail": "running (dom-id 7) without rules"},
        {"kind": "extra", "table": "filter", "chain": "i-2-3-VM", "rule": "tcp 22 from 10.0.0.0/8",
         "detail": "counters 3/180"}]}],
      "notes": ["no host setup recorded"], "problems": []})J",
                                 "sg-diff's output");
  REQUIRE(diff);
  CHECK(diff->differ);
  CHECK(diff->summary == "sg-diff: 1 VM differs (...)");
  const std::vector<std::string> lines{
      "host: missing filter BRIDGE-FIREWALL: -j ACCEPT",
      "i-2-3-VM: unprotected running (dom-id 7) without rules",
      "i-2-3-VM: extra filter i-2-3-VM: tcp 22 from 10.0.0.0/8 (counters 3/180)",
      "note: no host setup recorded"};
  CHECK(diff->lines == lines);
  CHECK_FALSE(parse_sg_diff_json(R"({"differ": "yes"})", "s"));
  CHECK_FALSE(parse_sg_diff_json(R"({"differ": false, "notes": [1]})", "s"));
}

TEST_CASE("render_pool_diff_json: every member, answered or not", "[pool]") {
  MemberAnswer up;
  up.member = {"6a1f3c2e-8d4b-4e5a-9c7d-1b2e3f4a5b61", "xenpool1", true};
  up.answer = PluginAnswer{up.member.uuid, "xenpool1", "sg-diff", 0, R"({"differ":false})", ""};
  MemberAnswer down;
  down.member = {"7b2a4d3f-9e5c-4f6b-8d8e-2c3f4a5b6c72", "", false};
  down.error = "down (host-metrics-live is false)";
  const auto doc = nlohmann::json::parse(render_pool_diff_json({up, down}, false, false));
  CHECK(doc["differ"] == false);
  CHECK(doc["partial"] == true);
  REQUIRE(doc["hosts"].size() == 2);
  CHECK(doc["hosts"][0]["output"]["differ"] == false);
  CHECK(doc["hosts"][0]["exit"] == 0);
  CHECK_FALSE(doc["hosts"][0].contains("error"));
  CHECK(doc["hosts"][1]["hostname"].is_null());
  CHECK(doc["hosts"][1]["exit"].is_null());
  CHECK(doc["hosts"][1]["output"].is_null());
  CHECK(doc["hosts"][1]["error"] == "down (host-metrics-live is false)");
}
