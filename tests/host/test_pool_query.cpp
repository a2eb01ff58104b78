#include <catch2/catch.hpp>

#include "fake_runner.hpp"
#include "pool_query.hpp"

using namespace vifwall;
using vifwall::test::FakeRunner;

namespace {

const char *const kA = "6a1f3c2e-8d4b-4e5a-9c7d-1b2e3f4a5b61";
const char *const kB = "7b2a4d3f-9e5c-4f6b-8d8e-2c3f4a5b6c72";

std::string host_list(const std::string &b_live = "true") {
  return std::string("uuid ( RO)                : ") + kA +
         "\n          name-label ( RW): xenpool1\n    host-metrics-live ( RO): true\n\n\n"
         "uuid ( RO)                : " + kB +
         "\n          name-label ( RW): xenpool2\n    host-metrics-live ( RO): " + b_live + "\n";
}

std::string envelope(const std::string &host, int exit, const std::string &output) {
  return "{\"exit\": " + std::to_string(exit) + ", \"host\": \"" + host +
         "\", \"hostname\": \"h\", \"output\": " + output +
         ", \"stderr\": \"\", \"tool\": \"vif-of\"}\n";
}

const std::string kCall = "true host-call-plugin host-uuid=";
std::string call_key(const std::string &uuid, const std::string &rest) {
  return kCall + uuid + " plugin=vifwall fn=vif_of args:timeout=60" + rest;
}

} // namespace

TEST_CASE("parse_host_list: members, their names and liveness", "[pool]") {
  auto members = parse_host_list(host_list("false"), "xe host-list");
  REQUIRE(members);
  REQUIRE(members->size() == 2);
  CHECK((*members)[0].uuid == kA);
  CHECK((*members)[0].name_label == "xenpool1");
  CHECK((*members)[0].live == true);
  CHECK((*members)[1].live == false);
  CHECK(describe_member((*members)[1]) == std::string("xenpool2 (") + kB + ")");

  auto bad = parse_host_list("uuid ( RO): ../../etc\n", "xe host-list");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().str() == "xe host-list:1: expected a host uuid (36 hex digits and '-'), got \"../../etc\"");
  CHECK_FALSE(parse_host_list("", "xe host-list"));
  CHECK_FALSE(parse_host_list(std::string("uuid ( RO): ") + kA + "\n\n\nuuid ( RO): " + kA + "\n", "x"));
}

TEST_CASE("pool_vif_args: every value checked, one key per value", "[pool]") {
  VifQuery q;
  q.vms = {"i-2-3-VM", "my VM"};
  q.domids = {7};
  q.macs = {"6:F8:c8:0:0:9"};
  q.all = true;
  auto args = pool_vif_args(q);
  REQUIRE(args);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"all", "true"}, {"vm.0", "i-2-3-VM"}, {"vm.1", "my VM"}, {"domid.0", "7"}, {"mac.0", "06:f8:c8:00:00:09"}};
  CHECK(*args == expected);

  VifQuery bad;
  bad.ifaces = {"-rf"};
  CHECK_FALSE(pool_vif_args(bad));
  bad = {};
  bad.vms = {"a\nb"};
  auto refused = pool_vif_args(bad);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("without control characters") != std::string::npos);
  bad = {};
  bad.ips = {"10.0.0.1; reboot"};
  CHECK_FALSE(pool_vif_args(bad));
  bad = {};
  bad.vms.assign(65, "x");
  CHECK_FALSE(pool_vif_args(bad));
}

TEST_CASE("pool_timeout: six times a command's, 1 to 300 seconds", "[pool]") {
  CHECK(pool_timeout(10).count() == 60);
  CHECK(pool_timeout(0.1).count() == 1);
  CHECK(pool_timeout(3600).count() == 300);
}

TEST_CASE("ask_pool: every member called through xe, one down, one answering garbage", "[pool]") {
  FakeRunner runner;
  runner.answer("true host-list params=uuid,name-label,host-metrics-live", host_list());
  runner.answer(call_key(kA, " args:domid.0=7"), envelope(kA, 0, "{\"vms\": [], \"orphans\": []}"));
  runner.answer(call_key(kB, " args:domid.0=7"), "", 1,
                "You attempted an operation which involves a host which could not be contacted.\nhost: x");
  PoolOptions options;
  options.xe = "/bin/true";
  auto answers = ask_pool(runner, options, "vifwall", "vif_of", {{"domid.0", "7"}});
  REQUIRE(answers);
  REQUIRE(answers->size() == 2);
  CHECK((*answers)[0].answered());
  CHECK((*answers)[0].answer->exit == 0);
  CHECK((*answers)[0].answer->output == "{\"orphans\":[],\"vms\":[]}");
  CHECK_FALSE((*answers)[1].answered());
  CHECK((*answers)[1].error == "xe host-call-plugin failed: exited with status 1: You attempted an operation "
                               "which involves a host which could not be contacted. host: x");
  CHECK(runner.seen[1].timeout == std::chrono::seconds(75)); // the plugin's 60 s and xe's 15

  // Not the plugin's JSON, or answering for another host: not an answer.
  runner.answer(call_key(kA, ""), "<html>\n");
  runner.answer(call_key(kB, ""), envelope(kA, 0, "null"));
  answers = ask_pool(runner, options, "vifwall", "vif_of", {});
  REQUIRE(answers);
  CHECK((*answers)[0].error.find("expected the vifwall plugin's JSON answer, got \"<html>\"") != std::string::npos);
  CHECK((*answers)[1].error == std::string("answered as host ") + kA + ", not as " + kB);

  // A member whose host-metrics-live is false is not called.
  runner.answer("true host-list params=uuid,name-label,host-metrics-live", host_list("false"));
  runner.seen.clear();
  answers = ask_pool(runner, options, "vifwall", "vif_of", {});
  REQUIRE(answers);
  CHECK((*answers)[1].error == "down (host-metrics-live is false)");
  CHECK(runner.seen.size() == 2); // host-list and h1 only

  // The members cannot be listed: the whole call fails.
  runner.answer("true host-list params=uuid,name-label,host-metrics-live", "", 1, "Lost connection");
  CHECK_FALSE(ask_pool(runner, options, "vifwall", "vif_of", {}));
}
