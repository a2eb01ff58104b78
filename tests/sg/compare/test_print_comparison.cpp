// The comparison as text, summary and JSON (lib/sg/compare/print_comparison.cpp).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "compare_fixtures.hpp"
#include "text.hpp"

using namespace vifwall;
using namespace vifwall::test::compare;

TEST_CASE("the JSON report", "[sg_compare][print_comparison]") {
  const auto actual = snapshot_of(kApplied, {{kEb, "[0:0] -A i-2-3-VM -p IPv4 -i vif7.0 --ip-proto udp --ip-dport 68 -j DROP\n", ""}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  const auto doc = nlohmann::json::parse(render_comparison_json(c, false));
  CHECK(doc["differ"] == true);
  CHECK(doc["summary"] == "sg-diff: 1 VM differs (i-2-3-VM: 1 missing), 4 VMs ok");
  CHECK(doc["vms_ok"] == 4);
  CHECK(doc["vms_differing"] == 1);
  REQUIRE(doc["vms"].size() == 5);
  const auto &vm = doc["vms"][0];
  CHECK(vm["name"] == "i-2-3-VM");
  CHECK(vm["ok"] == false);
  REQUIRE(vm["differences"].size() == 1);
  CHECK(vm["differences"][0]["kind"] == "missing");
  CHECK(vm["differences"][0]["table"] == "ebtables");
  CHECK(vm["differences"][0]["rule"] == "-p IPv4 -i vif7.0 --ip-proto udp --ip-dport 68 -j DROP");
  CHECK(doc["vms"][1]["ok"] == true);
  CHECK(doc["problems"].empty());
}

TEST_CASE("the summary stays one line however many VMs differ", "[sg_compare][print_comparison]") {
  Comparison c;
  for (int i = 1; i <= 8; ++i) {
    VmComparison vm;
    vm.vm = "i-2-" + std::to_string(i) + "-VM";
    if (i != 4)
      vm.differences.push_back({DiffKind::missing, "iptables", vm.vm, "-j DROP", {"-j", "DROP"}, ""});
    c.vms.push_back(vm);
  }
  c.vms[7].differences.push_back({DiffKind::stale_vif, "", "", "vif3.0", {}, "gone"});
  c.host.push_back({DiffKind::foreign, "iptables", "BRIDGE-FIREWALL", "-j ACCEPT", {"-j", "ACCEPT"}, ""});
  c.problems.push_back("arptables was not read");
  CHECK(render_comparison_summary(c) ==
        "sg-diff: 7 VMs differ (host setup: 1 foreign; i-2-1-VM: 1 missing; i-2-2-VM: 1 missing; "
        "i-2-3-VM: 1 missing; i-2-5-VM: 1 missing; i-2-6-VM: 1 missing; and 2 more), 1 VM ok; "
        "1 problem (not all compared)\n");
}

// ---- one walk: text and JSON from the same facts ------------------------------

namespace {

// Every shape of finding the text line has a rule for, and strings JSON must
// escape.
Comparison sample_comparison() {
  Comparison c;
  c.host.push_back({DiffKind::foreign, "iptables", "BRIDGE-FIREWALL", "-j ACCEPT", {"-j", "ACCEPT"}, ""});
  c.host.push_back(
      {DiffKind::missing, "iptables", "FORWARD", "(the whole chain, 2 rules)", {}, "chain does not exist"});
  VmComparison a;
  a.vm = "i-2-3-VM";
  a.differences = {
      {DiffKind::missing, "iptables", "i-2-3-VM", "tcp 22 from 10.0.0.0/8",
       {"-p", "tcp", "--dport", "22", "-j", "ACCEPT"}, ""},
      {DiffKind::changed, "ebtables", "i-2-3-VM", "-j DROP", {"-j", "DROP"}, "at position 2 instead of 1"},
      {DiffKind::extra, "ipset", "", "i-2-3-VM-i1b", {}, "set of the VM that no rule uses"},
      {DiffKind::foreign, "iptables", "i-2-3-VM", "-m comment --comment \"a\\\"b\" \xc3\xa9 \x01 \xff",
       {"-m", "comment", "--comment", "a\"b\\", "\t\n"}, "position 1"},
      {DiffKind::stale_vif, "", "", "vif7.0", {}, "dom-id 7 is gone; rules for it in iptables FORWARD"},
      {DiffKind::unprotected, "", "", "vif9.0", {}, "no rule sends vif9.0's traffic through i-2-3-VM's chains"},
      {DiffKind::stale_vm, "", "", "", {}, "not running, but 3 of its rules are in the firewall"},
      {DiffKind::extra, "", "", "chains i-2-3-VM, i-2-3-VM-def", {}, ""},
      {DiffKind::changed, "arptables", "", "", {}, "only a detail"},
      {DiffKind::missing, "", "a-chain-without-table", "", {}, ""},
  };
  VmComparison b;
  b.vm = "i-2-5-VM";
  c.vms = {a, b};
  c.notes = {"running VMs unknown", ""};
  c.problems = {"arptables was not read: \"x\""};
  return c;
}

// The text report as its documented format makes it from the JSON document
// alone.  If the text printed a fact the JSON lacks, this could not rebuild
// it and the comparison with the real text would fail.
std::string text_from_json(const nlohmann::json &doc) {
  auto line = [](const std::string &who, const nlohmann::json &d) {
    const std::string table = d.at("table"), chain = d.at("chain"), rule = d.at("rule"),
                      detail = d.at("detail");
    std::string out = who + ": " + d.at("kind").get<std::string>();
    if (!table.empty())
      out += " " + table + (chain.empty() ? "" : " " + chain) + ":";
    if (!rule.empty())
      out += " " + rule;
    if (!detail.empty())
      out += rule.empty() && table.empty() ? " " + detail : " (" + detail + ")";
    return out + "\n";
  };
  std::string out;
  for (const auto &d : doc.at("host"))
    out += line("host", d);
  for (const auto &vm : doc.at("vms"))
    for (const auto &d : vm.at("differences"))
      out += line(vm.at("name"), d);
  for (const auto &note : doc.at("notes"))
    out += "note: " + note.get<std::string>() + "\n";
  for (const auto &problem : doc.at("problems"))
    out += "problem: " + problem.get<std::string>() + "\n";
  out += doc.at("summary").get<std::string>() + "\n";
  // The hint is derived, not a fact: the VMs whose rules drifted.
  std::string drifted;
  for (const auto &vm : doc.at("vms"))
    for (const auto &d : vm.at("differences"))
      if (d.at("kind") == "missing" || d.at("kind") == "extra" || d.at("kind") == "changed" ||
          d.at("kind") == "foreign") {
        drifted += " --vm " + vm.at("name").get<std::string>();
        break;
      }
  if (!drifted.empty())
    out += "sg-diff: hint: to rebuild from the recorded state, run `sg-apply reapply" + drifted + "`\n";
  return out;
}

// JSON's facts that are not in the text on purpose are consistent with it.
void check_json_verdict(const nlohmann::json &doc, const Comparison &c) {
  CHECK(doc.at("differ") == c.differs());
  CHECK(doc.at("vms_ok") == c.vms_ok());
  CHECK(doc.at("vms_differing") == c.vms_differing());
  REQUIRE(doc.at("vms").size() == c.vms.size());
  for (std::size_t i = 0; i < c.vms.size(); ++i) {
    CHECK(doc["vms"][i].at("ok") == c.vms[i].differences.empty());
    REQUIRE(doc["vms"][i].at("differences").size() == c.vms[i].differences.size());
    for (std::size_t j = 0; j < c.vms[i].differences.size(); ++j)
      CHECK(doc["vms"][i]["differences"][j].at("args").size() == c.vms[i].differences[j].args.size());
  }
}

// The text, compared with what the JSON (compact and indented) says.
void check_one_walk(const Comparison &c) {
  std::string text = render_comparison_text(c);
  INFO(text);
  // The one byte-level difference: JSON writes bytes that are not UTF-8 as
  // U+FFFD (json_writer.hpp), here the \xff of sample_comparison().
  for (auto at = text.find('\xff'); at != std::string::npos; at = text.find('\xff', at))
    text.replace(at, 1, "\xef\xbf\xbd");
  for (const bool pretty : {false, true}) {
    const auto doc = nlohmann::json::parse(render_comparison_json(c, pretty));
    CHECK(text_from_json(doc) == text);
    CHECK(doc.at("summary").get<std::string>() + "\n" == render_comparison_summary(c));
    check_json_verdict(doc, c);
  }
}

} // namespace

TEST_CASE("every fact the text prints is in the JSON", "[sg_compare][print_comparison]") {
  SECTION("every shape of finding") { check_one_walk(sample_comparison()); }
  SECTION("nothing at all") { check_one_walk(Comparison{}); }
  SECTION("the seed host, as applied and edited") {
    RunningHost rebooted = running_of(kApplied);
    for (auto &vm : rebooted.vms)
      if (vm.name == "i-2-3-VM")
        vm.dom_id = 9;
    FirewallSnapshot no_arp = snapshot_of(kApplied);
    no_arp.arptables.reset();
    const DesiredFirewall desired = desired_of(kApplied);
    check_one_walk(compare_firewall(desired, snapshot_of(kApplied), running_of(kApplied)));
    check_one_walk(compare_firewall(desired, snapshot_of(kApplied), rebooted));
    check_one_walk(compare_firewall(desired, no_arp, std::nullopt));
    check_one_walk(compare_firewall(desired, snapshot_of("sgshow/cloudstack-old"), std::nullopt));
    check_one_walk(compare_applied(
        {{kIpt, "[0:0] -A i-2-3-VM -p tcp", "-A i-2-3-VM -s 192.0.2.1/32 -j LOG\n[0:0] -A i-2-3-VM -p tcp"},
         {kIpt, "-A i-2-5-VM-eg -j DROP", "-A i-2-5-VM-eg -j RETURN"},
         {kSets, "add i-2-5-VM-i1a 10.1.0.0/16\n", ""},
         {kEb, "[3:252] -A FORWARD -o vif7.0 -j i-2-3-VM\n", ""}}));
  }
}

TEST_CASE("the text and JSON of every shape of finding, byte for byte", "[sg_compare][print_comparison]") {
  const Comparison c = sample_comparison();
  CHECK(render_comparison_text(c) ==
        "host: foreign iptables BRIDGE-FIREWALL: -j ACCEPT\n"
        "host: missing iptables FORWARD: (the whole chain, 2 rules) (chain does not exist)\n"
        "i-2-3-VM: missing iptables i-2-3-VM: tcp 22 from 10.0.0.0/8\n"
        "i-2-3-VM: changed ebtables i-2-3-VM: -j DROP (at position 2 instead of 1)\n"
        "i-2-3-VM: extra ipset: i-2-3-VM-i1b (set of the VM that no rule uses)\n"
        "i-2-3-VM: foreign iptables i-2-3-VM: -m comment --comment \"a\\\"b\" \xc3\xa9 \x01 \xff (position 1)\n"
        "i-2-3-VM: stale-vif vif7.0 (dom-id 7 is gone; rules for it in iptables FORWARD)\n"
        "i-2-3-VM: unprotected vif9.0 (no rule sends vif9.0's traffic through i-2-3-VM's chains)\n"
        "i-2-3-VM: stale-vm not running, but 3 of its rules are in the firewall\n"
        "i-2-3-VM: extra chains i-2-3-VM, i-2-3-VM-def\n"
        "i-2-3-VM: changed arptables: (only a detail)\n"
        "i-2-3-VM: missing\n"
        "note: running VMs unknown\n"
        "note: \n"
        "problem: arptables was not read: \"x\"\n"
        "sg-diff: 1 VM differs (host setup: 1 missing, 1 foreign; i-2-3-VM: 2 missing, 2 extra, 2 changed, "
        "1 foreign, stale (not running), stale vif7.0, unprotected vif9.0), 1 VM ok; 1 problem (not all "
        "compared)\n"
        "sg-diff: hint: to rebuild from the recorded state, run `sg-apply reapply --vm i-2-3-VM`\n");
  CHECK(render_comparison_json(c, false) ==
        "{\"differ\":true,"
        "\"summary\":\"sg-diff: 1 VM differs (host setup: 1 missing, 1 foreign; i-2-3-VM: 2 missing, "
        "2 extra, 2 changed, 1 foreign, stale (not running), stale vif7.0, unprotected vif9.0), 1 VM ok; "
        "1 problem (not all compared)\",\"vms_ok\":1,\"vms_differing\":1,"
        "\"host\":[{\"kind\":\"foreign\",\"table\":\"iptables\",\"chain\":\"BRIDGE-FIREWALL\","
        "\"rule\":\"-j ACCEPT\",\"args\":[\"-j\",\"ACCEPT\"],\"detail\":\"\"},"
        "{\"kind\":\"missing\",\"table\":\"iptables\",\"chain\":\"FORWARD\","
        "\"rule\":\"(the whole chain, 2 rules)\",\"args\":[],\"detail\":\"chain does not exist\"}],"
        "\"vms\":[{\"name\":\"i-2-3-VM\",\"ok\":false,\"differences\":[{\"kind\":\"missing\","
        "\"table\":\"iptables\",\"chain\":\"i-2-3-VM\",\"rule\":\"tcp 22 from 10.0.0.0/8\","
        "\"args\":[\"-p\",\"tcp\",\"--dport\",\"22\",\"-j\",\"ACCEPT\"],\"detail\":\"\"},"
        "{\"kind\":\"changed\",\"table\":\"ebtables\",\"chain\":\"i-2-3-VM\",\"rule\":\"-j DROP\","
        "\"args\":[\"-j\",\"DROP\"],\"detail\":\"at position 2 instead of 1\"},"
        "{\"kind\":\"extra\",\"table\":\"ipset\",\"chain\":\"\",\"rule\":\"i-2-3-VM-i1b\",\"args\":[],"
        "\"detail\":\"set of the VM that no rule uses\"},"
        "{\"kind\":\"foreign\",\"table\":\"iptables\",\"chain\":\"i-2-3-VM\","
        "\"rule\":\"-m comment --comment \\\"a\\\\\\\"b\\\" \xc3\xa9 \\u0001 \xef\xbf\xbd\","
        "\"args\":[\"-m\",\"comment\",\"--comment\",\"a\\\"b\\\\\",\"\\t\\n\"],"
        "\"detail\":\"position 1\"},"
        "{\"kind\":\"stale-vif\",\"table\":\"\",\"chain\":\"\",\"rule\":\"vif7.0\",\"args\":[],"
        "\"detail\":\"dom-id 7 is gone; rules for it in iptables FORWARD\"},"
        "{\"kind\":\"unprotected\",\"table\":\"\",\"chain\":\"\",\"rule\":\"vif9.0\",\"args\":[],"
        "\"detail\":\"no rule sends vif9.0's traffic through i-2-3-VM's chains\"},"
        "{\"kind\":\"stale-vm\",\"table\":\"\",\"chain\":\"\",\"rule\":\"\",\"args\":[],"
        "\"detail\":\"not running, but 3 of its rules are in the firewall\"},"
        "{\"kind\":\"extra\",\"table\":\"\",\"chain\":\"\",\"rule\":\"chains i-2-3-VM, i-2-3-VM-def\","
        "\"args\":[],\"detail\":\"\"},"
        "{\"kind\":\"changed\",\"table\":\"arptables\",\"chain\":\"\",\"rule\":\"\",\"args\":[],"
        "\"detail\":\"only a detail\"},"
        "{\"kind\":\"missing\",\"table\":\"\",\"chain\":\"a-chain-without-table\",\"rule\":\"\","
        "\"args\":[],\"detail\":\"\"}]},"
        "{\"name\":\"i-2-5-VM\",\"ok\":true,\"differences\":[]}],\"notes\":[\"running VMs unknown\","
        "\"\"],\"problems\":[\"arptables was not read: \\\"x\\\"\"]}\n");
  // Indented: the same document.
  CHECK(nlohmann::json::parse(render_comparison_json(c, true)) ==
        nlohmann::json::parse(render_comparison_json(c, false)));
}

TEST_CASE("the text ends with the sg-apply reapply hint only when rules drifted", "[sg_compare][print_comparison]") {
  // sg-apply reapply --vm VM rebuilds a VM from its recorded .state (issue 14).
  Comparison c;
  c.vms.push_back({"i-2-3-VM", {{DiffKind::missing, "iptables", "i-2-3-VM", "tcp 22 from 10.0.0.0/8", {}, ""}}});
  c.vms.push_back({"i-2-5-VM", {}});
  c.vms.push_back({"i-2-7-VM", {{DiffKind::extra, "iptables", "i-2-7-VM", "-j ACCEPT", {}, ""}}});
  c.vms.push_back({"i-2-9-VM", {{DiffKind::stale_vm, "", "", "", {}, "not running"}}});
  const std::string text = render_comparison_text(c);
  CHECK(ends_with(text, "\nsg-diff: hint: to rebuild from the recorded state, run "
                        "`sg-apply reapply --vm i-2-3-VM --vm i-2-7-VM`\n"));
  // Neither in the summary (--summary, cron) nor when only a stale VM differs.
  CHECK(render_comparison_summary(c).find("hint") == std::string::npos);
  Comparison stale;
  stale.vms.push_back({"i-2-9-VM", {{DiffKind::stale_vm, "", "", "", {}, "not running"}}});
  CHECK(render_comparison_text(stale).find("hint") == std::string::npos);
  CHECK(render_comparison_text(Comparison{}).find("hint") == std::string::npos);
}

TEST_CASE("MACs print with two digits a group, as ebtables -L does not", "[sg_compare][print_comparison]") {
  // ebtables -L's spelling of the live MAC rule, with another guest's MAC.
  const auto actual = snapshot_of(kApplied, {{kEb, "[0:0] -A i-2-3-VM -s ! 06:f8:c8:00:00:09 -i vif7.0 -j DROP\n",
                                              "[0:0] -A i-2-3-VM -s ! 6:f8:c8:0:0:a -i vif7.0 -j DROP\n"}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  const std::string text = render_comparison_text(c);
  INFO(text);
  CHECK(text.find("06:f8:c8:00:00:0a") != std::string::npos);
  CHECK(text.find("6:f8:c8:0:0:a") == std::string::npos);
  const auto doc = nlohmann::json::parse(render_comparison_json(c, false));
  bool found = false;
  for (const auto &d : doc["vms"][0]["differences"])
    if (d["rule"].get<std::string>().find("06:f8:c8:00:00:0a") != std::string::npos)
      found = true;
  CHECK(found);
}
