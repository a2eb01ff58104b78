#include <catch2/catch.hpp>

#include "parse_iptables_save.hpp"
#include "sg_plan.hpp"

using namespace vifwall;

namespace {

FwTable iptables_table(const std::string &rules) {
  auto dump = parse_iptables_save("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" +
                                      rules + "COMMIT\n",
                                  "test");
  REQUIRE(dump);
  return *dump->table("filter");
}

RuleSpec jump(std::string chain, std::vector<std::string> args) { return {std::move(chain), std::move(args)}; }

// A VM plan the way sg_render writes it: an owned chain and a jump in and out.
TablePlan vm_plan(const std::string &vif) {
  TablePlan plan;
  plan.owned_chains.push_back(ChainContent{
      "i-2-3-VM-def",
      {{"-p", "udp", "-m", "physdev", "--physdev-in", vif, "--physdev-is-bridged", "-m", "udp", "--dport", "53", "-j", "RETURN"},
       {"-m", "physdev", "--physdev-out", vif, "--physdev-is-bridged", "-j", "i-2-3-VM"}},
      ""});
  plan.owned_chains.push_back(ChainContent{"i-2-3-VM", {{"-j", "DROP"}}, ""});
  plan.shared_chains = {"BRIDGE-FIREWALL"};
  plan.jumps_first.push_back(jump("BRIDGE-FIREWALL", {"-m", "physdev", "--physdev-in", vif, "--physdev-is-bridged", "-j", "i-2-3-VM-def"}));
  plan.jumps_last.push_back(jump("BRIDGE-FIREWALL", {"-m", "physdev", "--physdev-out", vif, "--physdev-is-bridged", "-j", "i-2-3-VM-def"}));
  return plan;
}

const std::set<std::string> kOwned = {"i-2-3-VM", "i-2-3-VM-eg", "i-2-3-VM-def"};
bool ours(const FwRule &rule) { return kOwned.count(rule.target()) > 0; }

const std::string kHostRules =
    ":BRIDGE-DEFAULT-FIREWALL - [0:0]\n:BRIDGE-FIREWALL - [0:0]\n:OTHER - [0:0]\n"
    "-A FORWARD -m physdev --physdev-is-bridged -j BRIDGE-FIREWALL\n"
    "-A BRIDGE-FIREWALL -j BRIDGE-DEFAULT-FIREWALL\n"
    "-A BRIDGE-FIREWALL -m physdev --physdev-in vif9.0 --physdev-is-bridged -j OTHER\n";

} // namespace

TEST_CASE("diff_table keeps planned jumps that exist and inserts the missing ones around them", "[sgplan]") {
  // Planned first: A, B, C; live: the anchor, then B.  A goes after the
  // anchor, B stays, C goes after B; the last rule is appended once and
  // found again on the next diff.
  const FwTable live = iptables_table(
      ":BRIDGE-DEFAULT-FIREWALL - [0:0]\n:BRIDGE-FIREWALL - [0:0]\n:i-2-3-VM - [0:0]\n"
      "-A BRIDGE-FIREWALL -j BRIDGE-DEFAULT-FIREWALL\n"
      "-A BRIDGE-FIREWALL -m physdev --physdev-in vif7.1 --physdev-is-bridged -j i-2-3-VM\n");
  TablePlan plan;
  plan.owned_chains.push_back(ChainContent{"i-2-3-VM", {}, ""});
  plan.shared_chains = {"BRIDGE-FIREWALL"};
  for (const char *vif : {"vif7.0", "vif7.1", "vif7.2"})
    plan.jumps_first.push_back(jump("BRIDGE-FIREWALL", {"-m", "physdev", "--physdev-in", vif, "--physdev-is-bridged", "-j", "i-2-3-VM"}));
  plan.jumps_last.push_back(jump("BRIDGE-FIREWALL", {"-m", "physdev", "--physdev-out", "vif7.0", "--physdev-is-bridged", "-j", "i-2-3-VM"}));
  const TableEdit edit = diff_table(Family::iptables, plan, &live, kOwned, ours);
  REQUIRE(edit.insertions.size() == 3);
  CHECK(edit.insertions[0].args[3] == "vif7.0");
  CHECK(edit.insertions[0].position == 2); // after the anchor
  CHECK(edit.insertions[1].args[3] == "vif7.2");
  CHECK(edit.insertions[1].position == 4); // after the live vif7.1 jump, now third
  CHECK(edit.insertions[2].position == 0); // appended
  std::vector<std::string> order;
  for (const FwRule *rule : edit.result.rules_of("BRIDGE-FIREWALL"))
    order.push_back(rule->args[0] == "-j" ? rule->target() : rule->args[2] + " " + rule->args[3]);
  CHECK(order == std::vector<std::string>{"BRIDGE-DEFAULT-FIREWALL", "--physdev-in vif7.0", "--physdev-in vif7.1",
                                          "--physdev-in vif7.2", "--physdev-out vif7.0"});
  const TableEdit again = diff_table(Family::iptables, plan, &edit.result, kOwned, ours);
  CHECK(again.empty());
}

TEST_CASE("diff_table creates a VM's chains and puts its jumps after the host's anchor", "[sgplan]") {
  const FwTable live = iptables_table(kHostRules);
  const TableEdit edit = diff_table(Family::iptables, vm_plan("vif7.0"), &live, kOwned, ours);
  CHECK(edit.new_chains.size() == 2);
  CHECK(edit.deletions.empty());
  REQUIRE(edit.insertions.size() == 2);
  CHECK(edit.insertions[0].position == 2); // after -j BRIDGE-DEFAULT-FIREWALL
  CHECK(edit.insertions[1].position == 0); // appended
  CHECK(render_iptables_edit(edit) ==
        "*filter\n"
        ":i-2-3-VM-def - [0:0]\n"
        ":i-2-3-VM - [0:0]\n"
        "-A i-2-3-VM-def -p udp -m physdev --physdev-in vif7.0 --physdev-is-bridged -m udp --dport 53 -j RETURN\n"
        "-A i-2-3-VM-def -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM\n"
        "-A i-2-3-VM -j DROP\n"
        "-I BRIDGE-FIREWALL 2 -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
        "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
        "COMMIT\n");
  // The foreign jump to OTHER is kept in the resulting table.
  bool other_kept = false;
  for (const auto &rule : edit.result.rules)
    other_kept = other_kept || rule.target() == "OTHER";
  CHECK(other_kept);
}

TEST_CASE("diff_table finds nothing to do when the live table already holds the plan", "[sgplan]") {
  // As iptables-save prints it: options in its own order, -m udp moved.
  const FwTable live = iptables_table(
      kHostRules + ":i-2-3-VM - [0:0]\n:i-2-3-VM-def - [0:0]\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                   "-A i-2-3-VM -j DROP\n"
                   "-A i-2-3-VM-def -p udp -m physdev --physdev-in vif7.0 --physdev-is-bridged -m udp --dport 53 -j RETURN\n"
                   "-A i-2-3-VM-def -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM\n");
  const TableEdit edit = diff_table(Family::iptables, vm_plan("vif7.0"), &live, kOwned, ours);
  CHECK(edit.empty());
  CHECK(render_iptables_edit(edit).empty());
}

TEST_CASE("diff_table re-points jumps after a reboot and deletes the stale ones", "[sgplan]") {
  const FwTable live = iptables_table(
      kHostRules + ":i-2-3-VM - [0:0]\n:i-2-3-VM-def - [0:0]\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                   "-A i-2-3-VM -j DROP\n");
  const TableEdit edit = diff_table(Family::iptables, vm_plan("vif9.0"), &live, kOwned, ours);
  REQUIRE(edit.deletions.size() == 2);
  CHECK(edit.deletions[0].position == 3);
  CHECK(edit.deletions[1].position == 4);
  CHECK(edit.replace_chains.size() == 1); // -def names the vif; i-2-3-VM is unchanged
  CHECK(edit.replace_chains[0].name == "i-2-3-VM-def");
  const std::string text = render_iptables_edit(edit);
  CHECK(text.find("-D BRIDGE-FIREWALL -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n") !=
        std::string::npos);
  CHECK(text.find("-I BRIDGE-FIREWALL 2 -m physdev --physdev-in vif9.0") != std::string::npos);
  // The other software's jump for vif9.0 is not ours and stays.
  CHECK(text.find("OTHER") == std::string::npos);
}

TEST_CASE("diff_table with no plan removes everything of the VM and nothing else", "[sgplan]") {
  const FwTable live = iptables_table(
      kHostRules + ":i-2-3-VM - [0:0]\n:i-2-3-VM-def - [0:0]\n:i-2-3-VM-eg - [0:0]\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                   "-A i-2-3-VM-def -j i-2-3-VM-eg\n");
  const TableEdit edit = diff_table(Family::iptables, TablePlan{}, &live, kOwned, ours);
  CHECK(edit.deletions.size() == 2); // CloudStack's duplicated jump too
  CHECK(edit.destroy_chains.size() == 3);
  const std::string text = render_iptables_edit(edit);
  // Every chain is flushed before any is deleted: -def refers to -eg.
  CHECK(text.find("-F i-2-3-VM-def\n") < text.find("-X i-2-3-VM-eg\n"));
  CHECK(text.find("-F i-2-3-VM-eg\n") < text.find("-X i-2-3-VM-def\n"));
  CHECK(text.find("OTHER") == std::string::npos);
}

TEST_CASE("diff_table keeps planned neighbours together in a shared chain", "[sgplan]") {
  // FORWARD has the jump to BRIDGE-FIREWALL but lost the uplink accept: the
  // accept must go back after the jump, or VM egress rules would be skipped.
  const FwTable live = iptables_table(kHostRules + "-A FORWARD -j DROP\n");
  TablePlan plan;
  plan.jumps_first = {jump("FORWARD", {"-m", "physdev", "--physdev-is-bridged", "-j", "BRIDGE-FIREWALL"}),
                      jump("FORWARD", {"-m", "physdev", "--physdev-out", "eth0+", "--physdev-is-bridged", "-j", "ACCEPT"})};
  plan.jumps_last = {jump("FORWARD", {"-j", "DROP"})};
  auto host_ours = [](const FwRule &r) { return r.target() == "BRIDGE-FIREWALL"; };
  const TableEdit edit = diff_table(Family::iptables, plan, &live, {"BRIDGE-DEFAULT-FIREWALL"}, host_ours);
  REQUIRE(edit.insertions.size() == 1);
  CHECK(edit.insertions[0].position == 2);
  CHECK(edit.insertions[0].args[3] == "eth0+");
}

TEST_CASE("arptables edits delete by number, highest first", "[sgplan]") {
  TableEdit edit;
  edit.family = Family::arptables;
  edit.deletions = {{"FORWARD", {"-j", "i-2-3-VM", "-i", "vif7.0"}, 1},
                    {"FORWARD", {"-j", "i-2-3-VM", "-o", "vif7.0"}, 3}};
  edit.destroy_chains = {"i-2-3-VM"};
  const auto commands = render_arptables_edit(edit);
  REQUIRE(commands.size() == 4);
  CHECK(commands[0] == std::vector<std::string>{"-D", "FORWARD", "3"});
  CHECK(commands[1] == std::vector<std::string>{"-D", "FORWARD", "1"});
  CHECK(commands[2] == std::vector<std::string>{"-F", "i-2-3-VM"});
  CHECK(commands[3] == std::vector<std::string>{"-X", "i-2-3-VM"});
}

TEST_CASE("the quarantine wall goes first in ebtables FORWARD and is recognised", "[sgplan]") {
  FwTable table;
  table.name = "filter";
  table.chains = {{"INPUT", "ACCEPT"}, {"FORWARD", "ACCEPT"}, {"OUTPUT", "ACCEPT"}, {"FORWARD_vif7.0", "ACCEPT"}};
  FwRule xapi;
  xapi.chain = "FORWARD";
  xapi.args = {"-i", "vif7.0", "-j", "FORWARD_vif7.0"};
  FwRule someone_elses_drop;
  someone_elses_drop.chain = "FORWARD";
  someone_elses_drop.args = {"-i", "vif7.0", "-j", "DROP"};
  table.rules = {xapi, someone_elses_drop};
  const FwTable walled = with_quarantine(table, {"vif7.0"});
  const std::string text = render_ebtables_table(walled);
  CHECK(text == "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n:FORWARD_vif7.0 ACCEPT\n"
                ":vifwall-cutoff DROP\n"
                "-A FORWARD -i vif7.0 -j vifwall-cutoff\n-A FORWARD -o vif7.0 -j vifwall-cutoff\n"
                "-A FORWARD -i vif7.0 -j FORWARD_vif7.0\n-A FORWARD -i vif7.0 -j DROP\n"
                "-A vifwall-cutoff -j DROP\n");
  CHECK(is_quarantine_rule(walled.rules[0], {"vif7.0"}));
  CHECK_FALSE(is_quarantine_rule(walled.rules[0], {"vif8.0"}));
  CHECK_FALSE(is_quarantine_rule(walled.rules[3], {"vif7.0"})); // not ours: a plain DROP
  // Once the wall is down the chain goes too, unless another wall still uses it.
  FwTable lifted = walled;
  lifted.rules.erase(lifted.rules.begin(), lifted.rules.begin() + 2);
  CHECK(without_unused_cutoff(lifted).chain(kCutoffChain) == nullptr);
  CHECK(without_unused_cutoff(walled).chain(kCutoffChain) != nullptr);
}

TEST_CASE("inverse_edit undoes an edit to the exact rule order", "[sgplan]") {
  const FwTable before = iptables_table(
      kHostRules + ":i-2-3-VM - [0:0]\n:i-2-3-VM-def - [0:0]\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-in vif8.0 --physdev-is-bridged -j OTHER\n"
                   "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
                   "-A i-2-3-VM -j DROP\n");
  // A reboot's edit: stale jumps out, new ones in, -def rewritten.
  const TableEdit edit = diff_table(Family::iptables, vm_plan("vif9.0"), &before, kOwned, ours);
  const TableEdit back = inverse_edit(edit, before);
  REQUIRE(back.deletions.size() == edit.insertions.size());
  REQUIRE(back.insertions.size() == edit.deletions.size());
  CHECK(back.insertions[0].position == 3);
  CHECK(back.insertions[1].position == 5);
  CHECK(back.replace_chains.size() == 1);
  CHECK(back.replace_chains[0].rules.empty()); // -def was empty before
  const std::string text = render_iptables_edit(back);
  CHECK(text.find("-I BRIDGE-FIREWALL 3 -m physdev --physdev-in vif7.0") != std::string::npos);
  CHECK(text.find("-I BRIDGE-FIREWALL 5 -m physdev --physdev-out vif7.0") != std::string::npos);
  CHECK(text.find("-D BRIDGE-FIREWALL -m physdev --physdev-in vif9.0") != std::string::npos);

  // For arptables the inserted rules are deleted by their numbers in the
  // edited table.
  const auto commands = render_arptables_edit(back);
  bool numbered = false;
  for (const auto &command : commands)
    numbered = numbered || (command.size() == 3 && command[0] == "-D" && command[1] == "BRIDGE-FIREWALL");
  CHECK(numbered);
}
