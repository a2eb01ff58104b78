// Rules by meaning, in our chains and in shared ones (lib/sg/compare/match_rules.cpp).
#include <catch2/catch.hpp>

#include <algorithm>

#include "compare_fixtures.hpp"
#include "compare_internal.hpp"

using namespace vifwall;
using namespace vifwall::test::compare;

TEST_CASE("rules compare by meaning, not text", "[sg_compare][match_rules]") {
  const auto actual = snapshot_of(
      kApplied,
      {// options in another order, the protocol by number, a host without /32
       {kIpt, "-A i-2-5-VM -p udp -m udp --dport 53 -m state --state NEW -j ACCEPT",
        "-A i-2-5-VM -m state --state NEW -p 17 -m udp --destination-port 53:53 -j ACCEPT"},
       // legacy ebtables' MAC spelling and the intrapositioned negation the other way
       {kEb, "-A i-2-3-VM -s ! 06:f8:c8:00:00:09 -i vif7.0 -j DROP",
        "-A i-2-3-VM -i vif7.0 ! -s 6:f8:c8:0:0:9 -j DROP"},
       // set names do not matter, set contents do: rename a rule set
       {kIpt, "--match-set i-2-5-VM-i1a src", "--match-set cloudstack-i-2-5-VMt8080_8090 src"},
       {kSets, "create i-2-5-VM-i1a", "create cloudstack-i-2-5-VMt8080_8090"},
       {kSets, "add i-2-5-VM-i1a 192.168.7.0/24\nadd i-2-5-VM-i1a 10.1.0.0/16",
        "add cloudstack-i-2-5-VMt8080_8090 10.1.0.0/16\nadd cloudstack-i-2-5-VMt8080_8090 "
        "192.168.7.0/24"},
       // counters never matter
       {kIpt, "[1:84] -A i-2-3-VM -p icmp", "[99999:1234567] -A i-2-3-VM -p icmp"},
       // arptables' opcode by name
       {kArp, "--h-length 6 --opcode 2 , pcnt=1 -- bcnt=28", "--opcode Reply , pcnt=1 -- bcnt=28"}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  INFO(render_comparison_text(c));
  CHECK_FALSE(c.differs());
}

TEST_CASE("set members that differ make a changed rule", "[sg_compare][match_rules]") {
  const auto actual = snapshot_of(kApplied, {{kSets, "add i-2-5-VM-i1a 10.1.0.0/16\n",
                                              "add i-2-5-VM-i1a 10.1.0.0/16\nadd i-2-5-VM-i1a 172.16.0.0/12\n"}});
  const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
  const Difference d = only_difference(c, "i-2-5-VM");
  CHECK(d.kind == DiffKind::changed);
  CHECK(d.chain == "i-2-5-VM");
  CHECK(d.rule == "tcp 8080-8090 from 10.1.0.0/16, 192.168.7.0/24");
  CHECK(d.detail == "set i-2-5-VM-i1a: extra 172.16.0.0/12");

  // The VM's own set gone: every rule using it changed.
  const auto no_own_set = snapshot_of(kApplied, {{kSets,
                                                  "create i-2-3-VM hash:net family inet hashsize 1024 "
                                                  "maxelem 65536 bucketsize 12 initval 0xed9c4ac5\nadd "
                                                  "i-2-3-VM 10.147.41.238\n",
                                                  ""}});
  const Comparison gone = compare_firewall(desired_of(kApplied), no_own_set, running_of(kApplied));
  const auto &diffs = vm_of(gone, "i-2-3-VM").differences;
  REQUIRE(diffs.size() == 4);
  for (const auto &diff : diffs) {
    CHECK(diff.kind == DiffKind::changed);
    CHECK(diff.chain == "i-2-3-VM-def");
    CHECK(diff.detail == "set i-2-3-VM does not exist");
  }
}

TEST_CASE("rules out of order, another default, extra and foreign rules", "[sg_compare][match_rules]") {
  SECTION("moved") {
    const auto actual = snapshot_of(
        kApplied, {{kIpt,
                    "[0:0] -A i-2-3-VM -p tcp -m tcp --dport 22 -m state --state NEW -m set --match-set "
                    "i-2-3-VM-i1a src -j ACCEPT\n[1:84] -A i-2-3-VM -p icmp -m icmp --icmp-type any -j ACCEPT\n",
                    "[1:84] -A i-2-3-VM -p icmp -m icmp --icmp-type any -j ACCEPT\n[0:0] -A i-2-3-VM -p tcp "
                    "-m tcp --dport 22 -m state --state NEW -m set --match-set i-2-3-VM-i1a src -j ACCEPT\n"}});
    const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
    const Difference d = only_difference(c, "i-2-3-VM");
    CHECK(d.kind == DiffKind::changed);
    CHECK(d.rule == "tcp 22 from 10.147.41.240/32");
    CHECK(d.detail == "at position 2 instead of 1");
  }
  SECTION("default") {
    const auto actual = snapshot_of(kApplied, {{kIpt, "-A i-2-5-VM-eg -j DROP", "-A i-2-5-VM-eg -j RETURN"}});
    const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
    const Difference d = only_difference(c, "i-2-5-VM");
    CHECK(d.kind == DiffKind::changed);
    CHECK(d.chain == "i-2-5-VM-eg");
    CHECK(d.detail == "the chain ends with -j RETURN instead");
  }
  SECTION("extra: a rule of the kind sg-apply writes") {
    const auto actual = snapshot_of(
        kApplied, {{kIpt, "[0:0] -A i-2-3-VM -j DROP\n",
                    "-A i-2-3-VM -p tcp -m tcp --dport 80 -m state --state NEW -j ACCEPT\n[0:0] -A i-2-3-VM "
                    "-j DROP\n"}});
    const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
    const Difference d = only_difference(c, "i-2-3-VM");
    CHECK(d.kind == DiffKind::extra);
    CHECK(d.rule == "tcp 80 from 0.0.0.0/0");
    CHECK(d.detail == "position 3");
  }
  SECTION("foreign: rules sg-apply never writes, in VM and host chains") {
    const auto actual = snapshot_of(
        kApplied,
        {{kIpt, "[0:0] -A i-2-3-VM -p tcp", "-A i-2-3-VM -s 192.0.2.1/32 -j LOG\n[0:0] -A i-2-3-VM -p tcp"},
         {kEb, "[0:0] -A i-2-5-VM -s ! 06:f8:c8:00:00:0b -i vif8.0 -j DROP",
          "-A i-2-5-VM -j mark --mark-set 1\n[0:0] -A i-2-5-VM -s ! 06:f8:c8:00:00:0b -i vif8.0 -j DROP"},
         {kIpt, "[6:504] -A BRIDGE-FIREWALL -j BRIDGE-DEFAULT-FIREWALL\n",
          "[6:504] -A BRIDGE-FIREWALL -j BRIDGE-DEFAULT-FIREWALL\n-A BRIDGE-FIREWALL -j ACCEPT\n"}});
    const Comparison c = compare_firewall(desired_of(kApplied), actual, running_of(kApplied));
    INFO(render_comparison_text(c));
    REQUIRE(c.host.size() == 1);
    CHECK(c.host[0].kind == DiffKind::foreign);
    CHECK(c.host[0].chain == "BRIDGE-FIREWALL");
    CHECK(c.host[0].rule == "-j ACCEPT");
    const auto &vm3 = vm_of(c, "i-2-3-VM").differences;
    REQUIRE(vm3.size() == 1);
    CHECK(vm3[0].kind == DiffKind::foreign);
    CHECK(vm3[0].rule == "-s 192.0.2.1/32 -j LOG");
    CHECK(vm3[0].detail == "position 1");
    const auto &vm5 = vm_of(c, "i-2-5-VM").differences;
    REQUIRE(vm5.size() == 1);
    CHECK(vm5[0].kind == DiffKind::foreign);
    CHECK(vm5[0].table == "ebtables");
    CHECK(render_comparison_summary(c) ==
          "sg-diff: 2 VMs differ (host setup: 1 foreign; i-2-3-VM: 1 foreign; i-2-5-VM: 1 foreign), 3 VMs ok\n");
  }
}

// ---- compare_chain and compare_shared on their own --------------------------

namespace {

using compare_detail::Args;
using compare_detail::Context;

Args words(const std::string &text) {
  Args out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find(' ', at), text.size());
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// Live rules of one chain, kept alive for the pointers compare_chain takes.
struct LiveChain {
  std::vector<FwRule> rules;
  LiveChain(const std::string &chain, const std::vector<std::string> &lines) {
    for (const auto &line : lines)
      rules.push_back({chain, words(line), std::nullopt, 0});
  }
  std::vector<const FwRule *> pointers() const {
    std::vector<const FwRule *> out;
    for (const auto &rule : rules)
      out.push_back(&rule);
    return out;
  }
};

std::vector<std::string> lines_of(const std::vector<Difference> &diffs) {
  std::vector<std::string> out;
  for (const auto &d : diffs)
    out.push_back(std::string(to_string(d.kind)) + " " + d.table + " " + d.chain + ": " + d.rule +
                  " (" + d.detail + ")");
  return out;
}

const std::string kSsh = "-p tcp -m tcp --dport 22 -m state --state NEW -j ACCEPT";
const std::string kDns = "-p udp -m udp --dport 53 -m state --state NEW -j ACCEPT";
const std::string kWeb = "-p tcp -m tcp --dport 80 -m state --state NEW -j ACCEPT";
const std::string kTls = "-p tcp -m tcp --dport 443 -m state --state NEW -j ACCEPT";

} // namespace

TEST_CASE("compare_chain: in place, moved, another default, missing, extra, foreign",
          "[sg_compare][match_rules]") {
  const FirewallSnapshot nothing;
  const Context ctx{nothing, {}, {}};
  const std::vector<Args> want = {words(kSsh), words(kDns), words(kWeb), words("-j DROP")};
  // The longest run in order is kept (kDns); kSsh moved below it.
  const LiveChain have("i-2-3-VM", {kDns, kSsh, kTls, "-s 192.0.2.1/32 -j LOG", "-j RETURN"});
  std::vector<Difference> out;
  compare_detail::compare_chain(Family::iptables, "i-2-3-VM", want, {}, have.pointers(), ctx, {}, out);
  CHECK(lines_of(out) == std::vector<std::string>{
                             "changed iptables i-2-3-VM: tcp 22 from 0.0.0.0/0 (at position 2 instead of 1)",
                             "changed iptables i-2-3-VM: -j DROP (the chain ends with -j RETURN instead)",
                             "missing iptables i-2-3-VM: tcp 80 from 0.0.0.0/0 ()",
                             "extra iptables i-2-3-VM: tcp 443 from 0.0.0.0/0 (position 3)",
                             "foreign iptables i-2-3-VM: -s 192.0.2.1/32 -j LOG (position 4)",
                         });
  CHECK(out[2].args == want[2]);
  CHECK(out[3].args == have.rules[2].args);

  out.clear();
  const LiveChain same("i-2-3-VM", {kSsh, kDns, kWeb, "-j DROP"});
  compare_detail::compare_chain(Family::iptables, "i-2-3-VM", want, {}, same.pointers(), ctx, {}, out);
  CHECK(out.empty());
}

TEST_CASE("compare_chain: a set compares by its members, whatever its name", "[sg_compare][match_rules]") {
  const std::string rule = "-p tcp -m tcp --dport 22 -m state --state NEW -m set --match-set ";
  const std::vector<Args> want = {words(rule + "i-2-3-VM-i1a src -j ACCEPT")};
  const SetMembers want_sets = {{"i-2-3-VM-i1a", {"10.0.0.1", "10.0.0.2"}}};
  const LiveChain have("i-2-3-VM", {rule + "cloudstack-set src -j ACCEPT"});
  const FirewallSnapshot nothing;
  auto compare = [&](const SetMembers &live) {
    const Context ctx{nothing, live, {}};
    std::vector<Difference> out;
    compare_detail::compare_chain(Family::iptables, "i-2-3-VM", want, want_sets, have.pointers(), ctx, {},
                                  out);
    return out;
  };
  CHECK(compare({{"cloudstack-set", {"10.0.0.1", "10.0.0.2"}}}).empty());
  const auto changed = compare({{"cloudstack-set", {"10.0.0.1", "10.0.0.3"}}});
  REQUIRE(changed.size() == 1);
  CHECK(changed[0].kind == DiffKind::changed);
  CHECK(changed[0].detail == "set cloudstack-set: missing 10.0.0.2; extra 10.0.0.3");
  const auto gone = compare({});
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].detail == "set cloudstack-set does not exist");
}

TEST_CASE("compare_shared: jumps are a multiset, per chain", "[sg_compare][match_rules]") {
  const FirewallSnapshot nothing;
  const Context ctx{nothing, {}, {}};
  const std::vector<compare_detail::SharedRule> want = {{"FORWARD", words("-o vif7.0 -j i-2-3-VM")},
                                                        {"FORWARD", words("-i vif7.0 -j i-2-3-VM")}};
  std::vector<FwRule> live = {{"FORWARD", words("-o vif7.0 -j i-2-3-VM"), std::nullopt, 0},
                              {"FORWARD", words("-o vif7.0 -j i-2-3-VM"), std::nullopt, 0},
                              {"INPUT", words("-i vif7.0 -j i-2-3-VM"), std::nullopt, 0}};
  std::vector<const FwRule *> have;
  for (const auto &rule : live)
    have.push_back(&rule);
  std::vector<Difference> out;
  compare_detail::compare_shared(
      Family::ebtables, want, have, ctx,
      [](const FwRule &rule) { return rule.chain == "INPUT" ? DiffKind::foreign : DiffKind::extra; }, out);
  CHECK(lines_of(out) == std::vector<std::string>{
                             "missing ebtables FORWARD: -i vif7.0 -j i-2-3-VM ()",
                             "extra ebtables FORWARD: -o vif7.0 -j i-2-3-VM ()",
                             "foreign ebtables INPUT: -i vif7.0 -j i-2-3-VM ()",
                         });
}

TEST_CASE("mentioned_vifs: every VIF-named word once", "[sg_compare][match_rules]") {
  CHECK(compare_detail::mentioned_vifs(words("-i vif7.0 -o vif7.0 --physdev-in tap8.0 -i eth0 -j DROP")) ==
        std::vector<std::string>{"vif7.0", "tap8.0"});
  CHECK(compare_detail::mentioned_vifs(words("-j DROP")).empty());
}
