// lib/sg/view/build_view.cpp: the snapshot's tables grouped into the view of
// each VM and of the host.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "sg_names.hpp"
#include "sg_state.hpp"
#include "sg_view.hpp"
#include "fake_runner.hpp"
#include "testutil.hpp"
#include "text.hpp"
#include "view_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

SgRule with_sorted_cidrs(SgRule rule) {
  std::sort(rule.cidrs.begin(), rule.cidrs.end());
  return rule;
}

} // namespace

TEST_CASE("sg-show reads back exactly the rules sg-apply recorded", "[sg_view][build_view]") {
  // The fixture is a live capture of the simulated dom0 after sg-apply; its
  // state directory says what was applied.
  for (const std::string dir : {"sgshow/xen6-arptables", "sgshow/xen6-ebtables"}) {
    const FirewallView view = build_view(snapshot_of(dir));
    auto states = read_all_vm_states(kViewData + "/" + dir + "/state");
    REQUIRE(states);
    REQUIRE(states->size() == 5);
    for (const auto &state : *states) {
      INFO(dir << " " << state.vm_name);
      const VmView *vm = view.find(state.vm_name);
      REQUIRE(vm);
      CHECK(vm->system == (state.kind == VmKind::system));
      std::vector<std::string> vifs;
      for (const auto &vif : vm->vifs)
        vifs.push_back(vif.name);
      CHECK(vifs == state.vifs);
      if (state.kind == VmKind::system)
        continue;
      CHECK(vm->mac == state.mac);
      std::vector<std::string> ips = state.secondary_ips;
      ips.push_back(state.ip);
      std::sort(ips.begin(), ips.end());
      CHECK(vm->ips == ips);
      auto rules = parse_rule_string(state.rules, "state");
      REQUIRE(rules);
      std::vector<SgRule> want_in, want_eg, got_in, got_eg;
      for (const auto &rule : *rules)
        (rule.direction == Direction::ingress ? want_in : want_eg).push_back(with_sorted_cidrs(rule));
      for (const auto &rule : vm->ingress) {
        CHECK(rule.understood);
        got_in.push_back(rule.sg);
      }
      for (const auto &rule : vm->egress) {
        CHECK(rule.understood);
        got_eg.push_back(rule.sg);
      }
      CHECK(got_in == want_in);
      CHECK(got_eg == want_eg);
      CHECK(vm->ingress_default == "DROP");
      CHECK(vm->egress_default == (want_eg.empty() ? "RETURN" : "DROP"));
      for (const auto &p : vm->protections) {
        INFO(p.name);
        CHECK(p.in_place());
      }
      CHECK(protection(*vm, "arp").how == (dir == "sgshow/xen6-arptables" ? "arptables" : "ebtables"));
    }
  }
}

TEST_CASE("the view of the applied host: identity, rules, counters, host setup", "[sg_view][build_view]") {
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  CHECK(names_of(view) == std::vector<std::string>{"i-2-3-VM", "i-2-5-VM", "r-4-VM", "s-1-VM", "v-2-VM"});
  CHECK(view.host.complete());
  CHECK(view.host.uplinks == std::vector<std::string>{"eth0+", "eth1+"});

  const VmView *vm = view.find("i-2-5-VM");
  REQUIRE(vm);
  CHECK(vm->naming == Naming::current);
  CHECK(vm->def_chain == "i-2-5-VM-def");
  CHECK(vm->ipset == "i-2-5-VM");
  CHECK(vm->ips == std::vector<std::string>{"10.147.41.240", "10.147.41.241"});
  REQUIRE(vm->vifs.size() == 2);
  CHECK(vm->vifs[1].name == "tap8.0");
  CHECK(vm->vifs[1].dom_id == 8);
  CHECK(vm->vifs[1].jumps ==
        std::vector<std::string>{"iptables in", "iptables out", "ebtables in", "ebtables out",
                                 "arptables in", "arptables out"});
  CHECK(texts_of(vm->ingress) == std::vector<std::string>{"tcp 8080-8090 from 10.1.0.0/16, 192.168.7.0/24",
                                                         "udp 53 from 0.0.0.0/0",
                                                         "47 from 10.147.41.238/32"});
  CHECK(vm->ingress[0].set == "i-2-5-VM-i1a");
  CHECK(vm->ingress[2].sg.protocol == "47"); // iptables-save printed "-p gre"
  CHECK(texts_of(vm->egress) == std::vector<std::string>{"tcp 443 to 10.147.40.0/23",
                                                        "icmp type 8 code 0 to 0.0.0.0/0"});
  REQUIRE(vm->egress[1].rule.counters);
  CHECK(*vm->egress[1].rule.counters == RuleCounters{1, 84, false});
  CHECK(vm->egress[1].rule.position == 2);
  CHECK(vm->unused_sets.empty());
  std::vector<std::string> sets;
  for (const auto &set : vm->sets)
    sets.push_back(set.name);
  CHECK(sets == std::vector<std::string>{"i-2-5-VM", "i-2-5-VM-i1a", "i-2-5-VM-i3a", "i-2-5-VM-e1a"});

  const VmView *router = view.find("r-4-VM");
  REQUIRE(router);
  CHECK(router->system);
  CHECK(router->def_chain == "r-4-VM");
  CHECK(router->ingress_default == "ACCEPT");
  CHECK(router->egress_default == "RETURN");
  CHECK(router->protections.empty());
}

TEST_CASE("CloudStack's older naming (i-2-3-def) and set names land on the VM", "[sg_view][build_view]") {
  // Constructed: CloudStack before 4.9 (cloudstack-sg.md §1), with the
  // seed's ebtables-save (short MACs) and arptables -L (107K units).
  const FirewallView view = build_view(snapshot_of("sgshow/cloudstack-old"));
  CHECK(names_of(view) == std::vector<std::string>{"i-2-3-VM", "r-4-VM"});
  const VmView *vm = view.find("i-2-3-VM");
  REQUIRE(vm);
  CHECK(vm->naming == Naming::old);
  CHECK(vm->def_chain == "i-2-3-def");
  CHECK(vm->chains.at("iptables") == std::vector<std::string>{"i-2-3-VM", "i-2-3-VM-eg", "i-2-3-def"});
  CHECK(vm->mac == "06:f8:c8:00:00:09"); // from "-s ! 6:f8:c8:0:0:9"
  CHECK(vm->ips == std::vector<std::string>{"10.147.41.238"});
  CHECK(texts_of(vm->ingress) ==
        std::vector<std::string>{"tcp 22 from 10.147.41.240/32", "icmp type any from 0.0.0.0/0"});
  CHECK(vm->ingress[0].set == "i-2-3-VM_tcp_22_22");
  for (const auto &p : vm->protections) {
    INFO(p.name);
    CHECK(p.in_place());
  }
  // The arptables -L counters carried units: approximate.
  bool found = false;
  for (const auto &rule : vm->raw)
    if (rule.table == "arptables" && rule.chain == "FORWARD" && rule.position == 2) {
      found = true;
      REQUIRE(rule.counters);
      CHECK(*rule.counters == RuleCounters{3804, 107000, true});
    }
  CHECK(found);
  ViewTextOptions options;
  options.host = false;
  CHECK(render_view_text(view, {vm}, options).find("i-2-3-VM  user VM (older CloudStack naming)") == 0);
}

TEST_CASE("the shared samples: an old-style default chain without jumps, foreign rules", "[sg_view][build_view]") {
  FirewallSnapshot snapshot;
  auto table = parse_iptables_text(read_data("samples/iptables-save.txt"), "iptables-save.txt");
  REQUIRE(table);
  snapshot.iptables = *table;
  auto sets = parse_ipset_text(read_data("samples/ipset-save.txt"), "ipset-save.txt");
  REQUIRE(sets);
  snapshot.ipsets = *sets;
  const FirewallView view = build_view(snapshot);
  REQUIRE(names_of(view) == std::vector<std::string>{"i-2-9-VM"});
  const VmView &vm = view.vms[0];
  // i-2-9-def jumps to no VM chain: it is the only "i-2-9-..." VM's.
  CHECK(vm.def_chain == "i-2-9-def");
  CHECK(vm.naming == Naming::old);
  CHECK(vm.ipset == "i-2-9-VM");
  CHECK(vm.ips == std::vector<std::string>{"10.1.1.2", "10.1.1.3"});
  REQUIRE(vm.ingress.size() == 4);
  CHECK(vm.ingress[0].text == "tcp 22 from 192.168.50.0/24");
  CHECK(vm.ingress[1].text == "icmp type 8 code any from 0.0.0.0/0");
  CHECK(vm.ingress[2].text == "icmp type any from 0.0.0.0/0");
  CHECK_FALSE(vm.ingress[3].understood); // REJECT with a src,dst set match
  CHECK(vm.ingress[3].text ==
        "-m set --match-set blocked-tmp src,dst -j REJECT --reject-with icmp-host-prohibited");
  CHECK(vm.ingress_default == "DROP");
  CHECK(vm.egress_chain.empty());
  // Its source check has no physdev match: not the anti-spoofing we know.
  CHECK_FALSE(protection(vm, "ip").in_place());
  CHECK(protection(vm, "ip").missing_vifs == std::vector<std::string>{"vif2.0"});
  CHECK_FALSE(view.host.complete());
  CHECK(view.host.absent());
}

TEST_CASE("the host checks: what each table shows, policies, the stock RH chain", "[sg_view][build_view]") {
  const FirewallView none = build_view(FirewallSnapshot{});
  CHECK(none.host.checks.empty());
  CHECK(none.vms.empty());
  CHECK_FALSE(none.have_iptables);

  FirewallSnapshot eb_only = snapshot_of("sgshow/xen6-arptables");
  eb_only.iptables.reset();
  const FirewallView eb = build_view(eb_only);
  // The two ebtables checks and the note that the IPv6 layer is not there.
  REQUIRE(eb.host.checks.size() == 3);
  CHECK(eb.host.checks[0].what == "ebtables chain DEFAULT_EBTABLES");
  CHECK_FALSE(eb.host.checks[2].required);
  CHECK(eb.host.complete());

  const FirewallView stock = build_view(iptables_only(
      "*filter\n:FORWARD DROP [0:0]\n:RH-Firewall-1-INPUT - [0:0]\n:BRIDGE-FIREWALL - [0:0]\n"
      "-A FORWARD -j RH-Firewall-1-INPUT\n-A FORWARD -m physdev --physdev-is-bridged -j BRIDGE-FIREWALL\n"
      "-A FORWARD -m physdev --physdev-out bond0+ --physdev-is-bridged -j ACCEPT\n"
      "-A FORWARD -i eth9 -j LOG\nCOMMIT\n"));
  std::map<std::string, std::pair<bool, bool>> checks; // what -> present, required
  for (const auto &check : stock.host.checks)
    checks[check.what] = {check.present, check.required};
  CHECK(checks.at("FORWARD ends with DROP") == std::make_pair(true, true)); // the policy
  CHECK(checks.at("iptables chain BRIDGE-DEFAULT-FIREWALL") == std::make_pair(false, true));
  CHECK(checks.at("no stock FORWARD -j RH-Firewall-1-INPUT (CloudStack removes it)") ==
        std::make_pair(false, false));
  CHECK(stock.host.uplinks == std::vector<std::string>{"bond0+"});
  CHECK_FALSE(stock.host.complete());
  CHECK_FALSE(stock.host.absent());
  // The host's rules: the three of the setup, not the foreign LOG rule.
  REQUIRE(stock.host.raw.size() == 3);
  CHECK(stock.host.raw[0].args.back() == "RH-Firewall-1-INPUT");
  CHECK(stock.host.raw[2].position == 3);
}

TEST_CASE("VIFs, the shared chains' jumps and a system VM's defaults", "[sg_view][build_view]") {
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  const VmView *store = view.find("s-1-VM");
  REQUIRE(store);
  REQUIRE(store->vifs.size() == 4);
  CHECK(store->vifs[3].name == "vif4.3");
  CHECK(store->vifs[3].jumps == std::vector<std::string>{"iptables in", "iptables out"});
  CHECK(store->ingress_default == "ACCEPT");
  CHECK(store->egress_default == "RETURN");
  CHECK(store->ingress.empty());
  // Every rule of the VM, grouped by table, each with its place in its chain.
  std::vector<std::string> tables;
  for (const auto &rule : view.find("i-2-3-VM")->raw)
    if (tables.empty() || tables.back() != rule.table)
      tables.push_back(rule.table);
  CHECK(tables == std::vector<std::string>{"iptables", "ebtables", "arptables"});
  CHECK(std::is_sorted(view.vms.begin(), view.vms.end(),
                       [](const VmView &a, const VmView &b) { return natural_less(a.name, b.name); }));
  CHECK(view.find("i-2-4-VM") == nullptr);
}

TEST_CASE("read_firewall_view: a snapshot and its view; the VM names one a line", "[view]") {
  FakeRunner runner; // a snapshot runs nothing
  auto reading = read_firewall_view(kViewData + "/sgshow/xen6-arptables", runner, CaptureOptions{},
                                    kViewData + "/sgshow/xen6-arptables/state");
  REQUIRE(reading);
  CHECK(reading->snapshot.iptables.has_value());
  CHECK(render_vm_names(reading->view) == "i-2-3-VM\ni-2-5-VM\nr-4-VM\ns-1-VM\nv-2-VM\n");
  auto missing = read_firewall_view(kViewData + "/no-such-snapshot", runner, CaptureOptions{}, "");
  REQUIRE_FALSE(missing);
}

TEST_CASE("drops: each DROP rule's counters under why it drops, for VMs and the host",
          "[sg_view][build_view]") {
  FirewallSnapshot snapshot = snapshot_of("sgshow/cloudstack-old");
  // Counters where the fixture has none, so that each kind has its own sum.
  auto set_counters = [&](FwTable &table, const std::string &chain, const std::string &needle,
                          std::uint64_t packets) {
    for (auto &rule : table.rules)
      if (rule.chain == chain && join_rule_words(rule.args).find(needle) != std::string::npos)
        rule.counters = RuleCounters{packets, packets * 100, false};
  };
  set_counters(*snapshot.iptables, "i-2-3-def", "src", 5);
  set_counters(*snapshot.ebtables, "i-2-3-VM", "-s !", 7);
  set_counters(*snapshot.ebtables, "i-2-3-VM", "--ip-dport 68", 2);
  set_counters(*snapshot.ebtables, "DEFAULT_EBTABLES", "IPv6", 44);
  snapshot.iptables->chains[0].policy = "DROP"; // a built-in chain dropping by policy
  snapshot.iptables->chains[0].counters = RuleCounters{3, 300, false};
  const FirewallView view = build_view(snapshot);
  const VmView *vm = view.find("i-2-3-VM");
  REQUIRE(vm);
  std::map<std::string, std::uint64_t> packets;
  std::uint64_t total = 0;
  for (const auto &drop : vm->drops) {
    packets[drop.kind] = drop.counters.packets;
    for (const auto &rule : drop.rules)
      total += rule.counters->packets;
  }
  CHECK(packets == std::map<std::string, std::uint64_t>{
                       {"ingress-default", 29},
                       // iptables source IP, ebtables MAC, arptables' final DROP (ARP not its own)
                       {"spoofing", 5 + 7 + 3801},
                       {"dhcp-server", 2}});
  // Every DROP rule of the VM with counters is counted exactly once.
  std::uint64_t dropped = 0;
  for (const auto &rule : vm->raw)
    for (std::size_t i = 0; rule.counters && i + 1 < rule.args.size(); ++i)
      if (rule.args[i] == "-j" && rule.args[i + 1] == "DROP")
        dropped += rule.counters->packets;
  CHECK(total == dropped);
  CHECK(vm->drops[0].text == "ingress default");

  std::map<std::string, std::uint64_t> host;
  for (const auto &drop : view.host.drops)
    host[drop.text] += drop.counters.packets;
  CHECK(host.at("ebtables DEFAULT_EBTABLES: -p IPv6") == 44);
  CHECK(host.at("iptables FORWARD: bridged traffic of no VM") == 0);
  CHECK(host.at("iptables " + snapshot.iptables->chains[0].name + ": policy DROP") == 3);
}

TEST_CASE("ip6tables chains and the IPv6 gate's rules are the VM's; the host has its IPv6 layer",
          "[sg_view][build_view]") {
  const FirewallView view = build_view(snapshot_of(kIpv6Nics));
  REQUIRE(names_of(view) == std::vector<std::string>{"i-2-3-VM"});
  const VmView &vm = view.vms[0];
  CHECK(vm.chains.at("ip6tables") == std::vector<std::string>{"i-2-3-VM", "i-2-3-VM-def", "i-2-3-VM-eg"});
  std::vector<std::string> gate;
  for (const auto &rule : vm.raw)
    if (rule.chain == kIpv6Gate)
      gate.push_back(join_strings(rule.args, " "));
  CHECK(gate == std::vector<std::string>{"-i vif7.0 -j RETURN", "-o vif7.0 -j RETURN", "-i tap7.0 -j RETURN",
                                         "-o tap7.0 -j RETURN", "-i vif7.1 -j RETURN", "-o vif7.1 -j RETURN"});
  // What the host keeps: the gate's DROP, nothing of the VM.
  std::vector<std::string> host_gate;
  for (const auto &rule : view.host.raw) {
    CHECK(rule.chain.rfind("i-2-3-VM", 0) == std::string::npos);
    if (rule.chain == kIpv6Gate)
      host_gate.push_back(join_strings(rule.args, " "));
  }
  CHECK(host_gate == std::vector<std::string>{"-j DROP"});
  CHECK(vm.leftovers.empty());
  CHECK(vm.unused_sets.empty());
  std::vector<std::string> sets;
  for (const auto &set : vm.sets)
    sets.push_back(set.name + " " + set.family);
  CHECK(sets == std::vector<std::string>{"i-2-3-VM inet", "i-2-3-VM-i1b inet", "i-2-3-VM-n1 inet",
                                         "i-2-3-VM-6 inet6", "i-2-3-VM-6n1 inet6"});
  CHECK(texts_of(vm.ingress6) ==
        std::vector<std::string>{"tcp 22 from 2001:db8:9::/48, 2001:db8:a::/64", "icmpv6 type 128 code any from ::/0"});
  CHECK(vm.ingress6_default == "DROP");
  CHECK(texts_of(vm.egress6) == std::vector<std::string>{"tcp 443 to ::/0"});
  CHECK(vm.egress6_default == "DROP");
  CHECK(texts_of(vm.ingress) == std::vector<std::string>{"tcp 22 from 10.1.0.0/16", "icmp type any from 0.0.0.0/0"});
  CHECK(view.host.complete());
  std::vector<std::string> ipv6_checks;
  for (const auto &check : view.host.checks)
    if (check.what.find("IPv6") != std::string::npos || check.what.rfind("ip6tables", 0) == 0) {
      CHECK(check.present);
      CHECK(check.required);
      ipv6_checks.push_back(check.what);
    }
  CHECK(ipv6_checks.size() == 7);
}

TEST_CASE("the host's IPv6 layer: absent is a note, half of it INCOMPLETE", "[sg_view][build_view]") {
  const FirewallView v4 = build_view(snapshot_of("sgshow/xen6-arptables"));
  CHECK(v4.host.complete());
  REQUIRE_FALSE(v4.host.checks.empty());
  std::size_t notes = 0;
  for (const auto &check : v4.host.checks)
    if (check.what.find("IPv6") != std::string::npos) {
      ++notes;
      CHECK_FALSE(check.present);
      CHECK_FALSE(check.required);
    }
  CHECK(notes == 1);
  FirewallSnapshot half = snapshot_of(kIpv6Nics);
  auto &eb = half.ebtables->rules;
  eb.erase(std::remove_if(eb.begin(), eb.end(),
                          [](const FwRule &r) { return r.chain == kDefaultEbtables && r.target() == kIpv6Gate; }),
           eb.end());
  const FirewallView view = build_view(half);
  CHECK_FALSE(view.host.complete());
  CHECK_FALSE(view.host.absent());
}

TEST_CASE("a NIC's set that no rule uses is the VM's unused set, not a stranger", "[sg_view][build_view]") {
  FirewallSnapshot snapshot = snapshot_of(kIpv6Nics);
  IpSet left;
  left.name = "i-2-3-VM-6n2"; // NIC 2's, after its rules went
  left.type = "hash:net";
  left.family = "inet6";
  left.members = {"2001:db8:3::5"};
  snapshot.ipsets->sets.push_back(left);
  const FirewallView view = build_view(snapshot);
  const VmView *vm = view.find("i-2-3-VM");
  REQUIRE(vm);
  CHECK(vm->unused_sets == std::vector<std::string>{"i-2-3-VM-6n2"});
  CHECK(vm->nics.size() == 2); // a NIC is its VIFs' rules, not a set alone
}
