// The walk (lib/sg/check/evaluate.cpp) on the rules sg-apply renders and on
// hand-made ones: verdicts, the deciding rule, the trace, unknowns.
#include "check_fixtures.hpp"
#include "firewall_snapshot.hpp"
#include "parse_iptables_save.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

const std::string kA = "I:tcp;22;22;10.147.41.240/32,NEXT I:icmp;8;0;0.0.0.0/0,NEXT ";
const std::string kB = "I:udp;53;53;0.0.0.0/0,NEXT E:tcp;443;443;10.147.40.0/23,NEXT ";
const std::string kBtoA = "from=i-2-5-VM to=i-2-3-VM ";

} // namespace

TEST_CASE("sg-check: rendered rules pass what they allow and drop the rest", "[sg_check][evaluate]") {
  auto host = rendered_host(kA, "");
  SECTION("an allowed tcp port from the allowed peer: the ingress rule decides") {
    auto r = check(*host, kBtoA + "proto=tcp dport=22");
    CHECK(r.verdict == Verdict::pass);
    CHECK(decider(r).table == "iptables");
    CHECK(decider(r).chain == "i-2-3-VM");
    CHECK(decider(r).position == 1);
    CHECK(decider(r).readable == "tcp 22 from 10.147.41.240/32 (ACCEPT)");
    CHECK(r.state == "NEW");
    // the path: ebtables first, then FORWARD -> BRIDGE-FIREWALL -> the VM's chains
    REQUIRE(r.trace.size() > 3);
    CHECK(r.trace.front().table == "ebtables");
    CHECK(r.trace.front().action == "jump DEFAULT_EBTABLES");
  }
  SECTION("another port: the ingress chain's DROP") {
    auto r = check(*host, kBtoA + "proto=tcp dport=23");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).chain == "i-2-3-VM");
    CHECK(decider(r).action == "DROP");
    CHECK(r.reason == "dropped by iptables i-2-3-VM #3 (DROP)");
  }
  SECTION("the allowed port from the outside") {
    auto r = check(*host, "from=10.147.40.1 to=i-2-3-VM proto=tcp dport=22");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).chain == "i-2-3-VM");
  }
  SECTION("echo-request is allowed, echo-reply is no connection (INVALID) and matches no rule type") {
    CHECK(check(*host, "from=10.147.40.1 to=i-2-3-VM proto=icmp icmp=8").verdict == Verdict::pass);
    auto r = check(*host, "from=10.147.40.1 to=i-2-3-VM proto=icmp icmp=0");
    CHECK(r.state == "INVALID");
    CHECK(r.verdict == Verdict::drop);
  }
  SECTION("an established flow passes BRIDGE-DEFAULT-FIREWALL's RELATED,ESTABLISHED") {
    auto r = check(*host, "from=10.147.40.1 to=i-2-3-VM proto=tcp dport=23 state=established");
    CHECK(r.verdict == Verdict::pass);
    CHECK(decider(r).chain == "BRIDGE-DEFAULT-FIREWALL");
  }
  SECTION("egress is open without egress rules: out through the uplink") {
    auto r = check(*host, "from=i-2-3-VM to=10.147.40.1 proto=tcp dport=80");
    CHECK(r.verdict == Verdict::pass);
    CHECK(decider(r).chain == "FORWARD");
    CHECK(decider(r).readable == "-m physdev --physdev-out eth0+ --physdev-is-bridged -j ACCEPT");
  }
}

TEST_CASE("sg-check: anti-spoofing as rendered", "[sg_check][evaluate]") {
  auto host = rendered_host(kA, kB);
  SECTION("a spoofed source address: the default chain's set check") {
    auto r = check(*host, "from=i-2-3-VM to=10.147.40.1 src-ip=10.147.41.99 proto=tcp dport=80");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).chain == "i-2-3-VM-def");
    CHECK(decider(r).position == 2);
  }
  SECTION("a spoofed MAC: ebtables, before iptables") {
    auto r = check(*host, "from=i-2-3-VM to=10.147.40.1 src-mac=06:f8:c8:00:00:99 proto=tcp dport=80");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).table == "ebtables");
    CHECK(decider(r).chain == "i-2-3-VM");
  }
  SECTION("egress rules: allowed 443 to the LAN, 80 dropped at the egress chain") {
    CHECK(check(*host, "from=i-2-5-VM to=10.147.40.1 proto=tcp dport=443").verdict == Verdict::pass);
    auto r = check(*host, "from=i-2-5-VM to=10.147.40.1 proto=tcp dport=80");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).chain == "i-2-5-VM-eg");
  }
  SECTION("DNS from the VM bypasses its egress rules") {
    CHECK(check(*host, "from=i-2-5-VM to=10.147.40.1 proto=udp dport=53").verdict == Verdict::pass);
  }
  SECTION("IPv6 stops at DEFAULT_EBTABLES") {
    auto r = check(*host, kBtoA + "src-ip=fe80::2 dst-ip=fe80::1 proto=udp dport=53");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).chain == "DEFAULT_EBTABLES");
    CHECK(decider(r).readable == "-p IPv6 -j DROP");
  }
  SECTION("ARP: an honest request passes, a claim of another VM's address is dropped by arptables") {
    CHECK(check(*host, kBtoA + "proto=arp").verdict == Verdict::pass);
    auto r = check(*host, "from=i-2-3-VM to=10.147.40.1 src-ip=10.147.41.240 proto=arp arp=reply");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).table == "arptables");
    CHECK(decider(r).action == "DROP");
  }
  SECTION("the same with ARP checks in ebtables") {
    auto eb = rendered_host(kA, kB, ArpFilter::ebtables);
    CHECK(check(*eb, kBtoA + "proto=arp").verdict == Verdict::pass);
    auto r = check(*eb, "from=i-2-3-VM to=10.147.40.1 src-ip=10.147.41.240 proto=arp arp=reply");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).table == "ebtables");
  }
  SECTION("broadcasts: DHCP to 255.255.255.255 is let through, another broadcast is dropped") {
    const std::string bcast = "from=i-2-3-VM to=10.147.40.1 dst-ip=255.255.255.255 dst-mac=ff:ff:ff:ff:ff:ff proto=udp ";
    CHECK(check(*host, bcast + "sport=68 dport=67").verdict == Verdict::pass);
    auto r = check(*host, bcast + "dport=9");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).readable == "-p IPv4 -d Broadcast -j DROP");
  }
}

TEST_CASE("sg-check: an ebtables user chain's ACCEPT policy, by backend", "[sg_check][evaluate]") {
  SECTION("legacy ebtables honours it: the frame leaves ebtables there, iptables decides") {
    auto host = rendered_host(kA, "", ArpFilter::arptables, Variant::legacy);
    auto r = check(*host, kBtoA + "proto=tcp dport=22");
    CHECK(r.verdict == Verdict::pass);
    CHECK(decider(r).table == "iptables");
    bool accepted_by_policy = false;
    for (const auto &s : r.trace)
      accepted_by_policy |= s.table == "ebtables" && s.chain == "i-2-5-VM" && s.action == "policy ACCEPT";
    CHECK(accepted_by_policy);
  }
  SECTION("a dump that does not say which ebtables printed it: unknown") {
    auto host = rendered_host(kA, "", ArpFilter::arptables, std::nullopt);
    auto r = check(*host, kBtoA + "proto=tcp dport=22");
    CHECK(r.verdict == Verdict::unknown);
    CHECK(decider(r).unknown.find("user chain i-2-5-VM has policy ACCEPT") == 0);
  }
}

namespace {

// A hand-made firewall: FORWARD with whatever an admin typed.
FirewallSnapshot hand_made(const std::string &forward_rules, const std::string &chains = "") {
  FirewallSnapshot s;
  const std::string text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n" + chains +
                           forward_rules + "COMMIT\n";
  auto t = parse_iptables_text(text, "iptables-save");
  REQUIRE(t);
  s.iptables = *t;
  auto eb = parse_ebtables_text("*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n", "ebtables-save");
  REQUIRE(eb);
  s.ebtables = *eb;
  s.ipsets = IpsetDump{};
  return s;
}

CheckResult hand_check(const FirewallSnapshot &s, const std::string &words) {
  const FirewallView view = build_view(s);
  const CheckTables tables(s, view);
  return tables.evaluate(packet_of(view, words + " in=vif7.0 out=eth0"));
}

const std::string kOut = "from=10.1.1.5 to=10.1.2.9 ";

} // namespace

TEST_CASE("sg-check: hand-made rules", "[sg_check][evaluate]") {
  SECTION("the built-in policy decides when nothing matches") {
    auto r = hand_check(hand_made("-A FORWARD -p udp -j ACCEPT\n"), kOut + "proto=tcp dport=22");
    CHECK(r.verdict == Verdict::drop);
    CHECK(decider(r).action == "policy DROP");
    CHECK(decider(r).position == 0);
  }
  SECTION("addresses, ports, multiport, negation in both spellings") {
    auto s = hand_made("-A FORWARD -s 10.1.1.0/255.255.255.0 -p tcp -m multiport --dports 80,8000:8100 -j ACCEPT\n"
                       "-A FORWARD ! -d 10.1.2.0/24 -j ACCEPT\n"
                       "-A FORWARD -p udp -m udp ! --dport 53 -j ACCEPT\n");
    CHECK(hand_check(s, kOut + "proto=tcp dport=8050").verdict == Verdict::pass);
    CHECK(hand_check(s, kOut + "proto=tcp dport=8101").verdict == Verdict::drop);
    CHECK(hand_check(s, "from=10.1.1.5 to=10.9.9.9 proto=tcp dport=1").verdict == Verdict::pass);
    CHECK(hand_check(s, kOut + "proto=udp dport=54").verdict == Verdict::pass);
    CHECK(hand_check(s, kOut + "proto=udp dport=53").verdict == Verdict::drop);
  }
  SECTION("LOG goes on, REJECT drops, RETURN in a built-in chain means its policy") {
    auto s = hand_made("-A FORWARD -p tcp -j LOG --log-prefix \"x \"\n-A FORWARD -p tcp --dport 1 -j REJECT\n"
                       "-A FORWARD -p tcp --dport 2 -j RETURN\n-A FORWARD -j ACCEPT\n");
    auto logged = hand_check(s, kOut + "proto=tcp dport=3");
    CHECK(logged.verdict == Verdict::pass);
    REQUIRE(logged.trace.size() > 1);
    CHECK(logged.trace[1].table == "iptables"); // after ebtables' policy
    CHECK(logged.trace[1].action == "LOG");
    CHECK(hand_check(s, kOut + "proto=tcp dport=1").verdict == Verdict::drop);
    CHECK(decider(hand_check(s, kOut + "proto=tcp dport=2")).action == "policy DROP");
  }
  SECTION("a jump returns at the end of the user chain; a goto returns to the caller's caller") {
    auto s = hand_made("-A FORWARD -j one\n-A FORWARD -p tcp --dport 5 -j ACCEPT\n"
                       "-A one -g two\n-A one -j DROP\n-A two -p tcp --dport 6 -j ACCEPT\n",
                       ":one - [0:0]\n:two - [0:0]\n");
    CHECK(hand_check(s, kOut + "proto=tcp dport=6").verdict == Verdict::pass);
    auto r = hand_check(s, kOut + "proto=tcp dport=5");
    CHECK(r.verdict == Verdict::pass); // two ends -> back to FORWARD, not to one's DROP
    CHECK(decider(r).position == 2);
  }
  SECTION("a match that is not modelled makes the verdict unknown, named") {
    auto s = hand_made("-A FORWARD -p tcp -m limit --limit 1/s -j ACCEPT\n-A FORWARD -j ACCEPT\n");
    auto r = hand_check(s, kOut + "proto=tcp dport=5");
    CHECK(r.verdict == Verdict::unknown);
    CHECK(decider(r).unknown == "match -m limit is not modelled");
    CHECK(r.reason == "unknown at iptables FORWARD #1: match -m limit is not modelled");
    // ... but not when another match of the rule is false
    CHECK(hand_check(s, kOut + "proto=udp dport=5").verdict == Verdict::pass);
  }
  SECTION("-i/-o name the bridge: unknown until bridge= says which it is") {
    auto s = hand_made("-A FORWARD -i xenbr0 -j ACCEPT\n");
    auto r = hand_check(s, kOut + "proto=tcp dport=5");
    CHECK(r.verdict == Verdict::unknown);
    CHECK(decider(r).unknown == "-i xenbr0: the bridge is not known (give bridge=)");
    CHECK(hand_check(s, kOut + "proto=tcp dport=5 bridge=xenbr0").verdict == Verdict::pass);
    CHECK(hand_check(s, kOut + "proto=tcp dport=5 bridge=xenbr1").verdict == Verdict::drop);
  }
  SECTION("a target that is neither built in nor a chain is unknown; a loop of jumps ends") {
    auto mark = hand_made("-A FORWARD -j MARK --set-mark 1\n");
    CHECK(decider(hand_check(mark, kOut + "proto=tcp dport=5")).unknown == "target MARK is not modelled");
    auto loop = hand_made("-A FORWARD -j one\n-A one -j one\n", ":one - [0:0]\n");
    CHECK(hand_check(loop, kOut + "proto=tcp dport=5").verdict == Verdict::unknown);
  }
  SECTION("a set not in the ipset dump, and a set type not modelled") {
    auto s = hand_made("-A FORWARD -m set --match-set nosuch src -j ACCEPT\n");
    CHECK(decider(hand_check(s, kOut + "proto=tcp dport=5")).unknown == "set nosuch is not in the ipset dump");
  }
  SECTION("no ebtables dump: unknown, never a guess") {
    auto s = hand_made("-A FORWARD -j ACCEPT\n");
    s.ebtables.reset();
    auto r = hand_check(s, kOut + "proto=tcp dport=5");
    CHECK(r.verdict == Verdict::unknown);
    CHECK(r.reason == "unknown at ebtables FORWARD: ebtables was not captured");
  }
}

TEST_CASE("sg-check: ebtables user chains, MACs and their names", "[sg_check][evaluate]") {
  FirewallSnapshot s = hand_made("-A FORWARD -j ACCEPT\n");
  auto eb = parse_ebtables_text("*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n:vm DROP\n"
                                "-A FORWARD -i vif7.0 -j vm\n"
                                "-A vm -s ! 6:f8:c8:0:0:9 -j DROP\n"
                                "-A vm -p IPv4 --ip-proto tcp --ip-dport 22 -j RETURN\n",
                                "ebtables-save");
  REQUIRE(eb);
  s.ebtables = *eb;
  const std::string mac = "src-mac=06:f8:c8:00:00:09 ";
  CHECK(hand_check(s, kOut + mac + "proto=tcp dport=22").verdict == Verdict::pass);
  auto other = hand_check(s, kOut + "src-mac=06:f8:c8:00:00:0a proto=tcp dport=22");
  CHECK(other.verdict == Verdict::drop);
  CHECK(decider(other).position == 1);
  auto policy = hand_check(s, kOut + mac + "proto=tcp dport=23");
  CHECK(policy.verdict == Verdict::drop);
  CHECK(decider(policy).action == "policy DROP");
  // an unknown source MAC cannot be told from the VM's own
  auto unknown = hand_check(s, kOut + "proto=tcp dport=22");
  CHECK(unknown.verdict == Verdict::unknown);
  CHECK(decider(unknown).unknown == "-s 06:f8:c8:00:00:09: the source MAC is not known (give src-mac=)");
}

TEST_CASE("sg-check: CloudStack's older layout on legacy ebtables (the seed host)", "[sg_check][evaluate]") {
  FirewallSnapshot s;
  {
    auto texts = read_firewall_snapshot(std::string(VIFWALL_TEST_DATA) + "/sgshow/cloudstack-old");
    REQUIRE(texts);
    auto parsed = parse_firewall_texts(*texts);
    REQUIRE(parsed);
    s = *parsed;
  }
  REQUIRE(s.ebtables_backend == Variant::legacy);
  const FirewallView view = build_view(s);
  const CheckTables tables(s, view);
  auto r = tables.evaluate(packet_of(view, "from=10.147.40.1 to=i-2-3-VM proto=tcp dport=23"));
  CHECK(r.verdict == Verdict::drop);
  CHECK(decider(r).chain == "i-2-3-VM");
  CHECK(decider(r).action == "DROP");
  bool through_old_def = false;
  for (const auto &step : r.trace)
    through_old_def |= step.chain == "i-2-3-def";
  CHECK(through_old_def);
}

TEST_CASE("sg-check: CloudStack vmops' MAC check in the ebtables nat table", "[sg_check][evaluate][vmops]") {
  // The captured vmops-programmed host (tests/data/sgshow/vmops-host): its
  // MAC checks are in nat PREROUTING, which a frame passes before filter
  // FORWARD, and nowhere else.
  auto texts = read_firewall_snapshot(std::string(VIFWALL_TEST_DATA) + "/sgshow/vmops-host");
  REQUIRE(texts);
  auto snapshot = parse_firewall_texts(*texts);
  REQUIRE(snapshot);
  REQUIRE(snapshot->ebtables_nat);
  const FirewallView view = build_view(*snapshot);
  const CheckTables tables(*snapshot, view);
  auto spoofed = tables.evaluate(
      packet_of(view, "from=i-2-3-VM to=10.147.40.1 src-mac=06:f8:c8:00:00:99 proto=tcp dport=80"));
  CHECK(spoofed.verdict == Verdict::drop);
  CHECK(decider(spoofed).table == "ebtables nat");
  CHECK(decider(spoofed).chain == "PREROUTING");
  // Its own MAC passes nat and is decided by the filter tables (tcp/80 to
  // the LAN is one of its egress rules).
  auto own = tables.evaluate(packet_of(view, "from=i-2-3-VM to=10.147.40.1 proto=tcp dport=80"));
  CHECK(own.verdict == Verdict::pass);
  CHECK(decider(own).table != "ebtables nat");
}
