#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "firewall_snapshot.hpp"
#include "sg_compare.hpp"
#include "sg_names.hpp"
#include "sg_state.hpp"
#include "sg_view.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::read_data;

namespace {

const std::string kData = VIFWALL_TEST_DATA;

FirewallSnapshot snapshot_of(const std::string &dir) {
  auto texts = read_firewall_snapshot(kData + "/" + dir);
  REQUIRE(texts);
  auto snapshot = parse_firewall_texts(*texts);
  REQUIRE(snapshot);
  return *snapshot;
}

std::vector<std::string> texts_of(const std::vector<ReadBackRule> &rules) {
  std::vector<std::string> out;
  for (const auto &rule : rules)
    out.push_back(rule.text);
  return out;
}

std::vector<std::string> names_of(const FirewallView &view) {
  std::vector<std::string> out;
  for (const auto &vm : view.vms)
    out.push_back(vm.name);
  return out;
}

const Protection &protection(const VmView &vm, const std::string &name) {
  for (const auto &p : vm.protections)
    if (p.name == name)
      return p;
  FAIL("no protection " << name);
  throw;
}

std::vector<const VmView *> all(const FirewallView &view) {
  std::vector<const VmView *> out;
  for (const auto &vm : view.vms)
    out.push_back(&vm);
  return out;
}

SgRule with_sorted_cidrs(SgRule rule) {
  std::sort(rule.cidrs.begin(), rule.cidrs.end());
  return rule;
}

} // namespace

TEST_CASE("sg-show reads back exactly the rules sg-apply recorded", "[sg_view]") {
  // The fixture is a live capture of the simulated dom0 after sg-apply; its
  // state directory says what was applied.
  for (const std::string dir : {"sgshow/xen6-arptables", "sgshow/xen6-ebtables"}) {
    const FirewallView view = build_view(snapshot_of(dir));
    auto states = read_all_vm_states(kData + "/" + dir + "/state");
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

TEST_CASE("the view of the applied host: identity, rules, counters, host setup", "[sg_view]") {
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

TEST_CASE("the text view says what the firewall means", "[sg_view]") {
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  ViewTextOptions options;
  const std::string text = render_view_text(view, {view.find("i-2-3-VM")}, options);
  CHECK(text == "host setup: complete\n"
                "  yes  iptables chain BRIDGE-FIREWALL\n"
                "  yes  iptables chain BRIDGE-DEFAULT-FIREWALL\n"
                "  yes  BRIDGE-FIREWALL jumps to BRIDGE-DEFAULT-FIREWALL\n"
                "  yes  FORWARD jumps to BRIDGE-FIREWALL\n"
                "  yes  FORWARD ends with DROP\n"
                "  yes  FORWARD accepts bridged traffic out of the uplinks (eth0+, eth1+)\n"
                "  yes  ebtables chain DEFAULT_EBTABLES\n"
                "  yes  ebtables FORWARD jumps to DEFAULT_EBTABLES\n"
                "  yes  no stock FORWARD -j RH-Firewall-1-INPUT (CloudStack removes it)\n"
                "\n"
                "i-2-3-VM  user VM  [chains: i-2-3-VM, i-2-3-VM-def, i-2-3-VM-eg]\n"
                "  VIFs:       vif7.0 (dom-id 7)\n"
                "  IPs:        10.147.41.238 (set i-2-3-VM)\n"
                "  MAC:        06:f8:c8:00:00:09\n"
                "  Protection: IP anti-spoofing: yes\n"
                "              MAC anti-spoofing: yes\n"
                "              ARP anti-spoofing: yes (arptables)\n"
                "              DHCP anti-spoofing: yes\n"
                "  Ingress (i-2-3-VM, default: drop)\n"
                "    tcp 22 from 10.147.41.240/32  0 pkts, 0 bytes\n"
                "    icmp type any from 0.0.0.0/0  1 pkts, 84 bytes\n"
                "  Egress (i-2-3-VM-eg, default: allow (RETURN))\n"
                "    (no rules)\n");
}

TEST_CASE("the raw view groups the rules and sets by VM", "[sg_view]") {
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  ViewTextOptions options;
  options.host = false;
  const std::string raw = render_view_raw(view, {view.find("r-4-VM")}, options);
  CHECK(raw == "## r-4-VM\n"
               "# iptables\n"
               "[0:0] -A BRIDGE-FIREWALL -m physdev --physdev-in vif6.0 --physdev-is-bridged -j r-4-VM\n"
               "[0:0] -A BRIDGE-FIREWALL -m physdev --physdev-in vif6.1 --physdev-is-bridged -j r-4-VM\n"
               "[0:0] -A BRIDGE-FIREWALL -m physdev --physdev-out vif6.0 --physdev-is-bridged -j r-4-VM\n"
               "[0:0] -A BRIDGE-FIREWALL -m physdev --physdev-out vif6.1 --physdev-is-bridged -j r-4-VM\n"
               "[0:0] -A r-4-VM -m physdev --physdev-in vif6.0 --physdev-is-bridged -j RETURN\n"
               "[0:0] -A r-4-VM -m physdev --physdev-in vif6.1 --physdev-is-bridged -j RETURN\n"
               "[0:0] -A r-4-VM -j ACCEPT\n");
  const std::string user = render_view_raw(view, {view.find("i-2-3-VM")}, options);
  CHECK(user.find("# ebtables\n[3:252] -A FORWARD -i vif7.0 -j i-2-3-VM\n") != std::string::npos);
  CHECK(user.find("# ipset\ncreate i-2-3-VM hash:net family inet\nadd i-2-3-VM 10.147.41.238\n"
                  "create i-2-3-VM-i1a hash:net family inet\nadd i-2-3-VM-i1a 10.147.41.240\n") !=
        std::string::npos);
  CHECK(user.find("i-2-5-VM") == std::string::npos);
}

TEST_CASE("the JSON view is the same model", "[sg_view]") {
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  const auto doc = nlohmann::json::parse(render_view_json(view, all(view), true, true));
  CHECK(doc["host"]["setup"] == "complete");
  CHECK(doc["host"]["uplinks"] == nlohmann::json::array({"eth0+", "eth1+"}));
  REQUIRE(doc["vms"].size() == 5);
  const auto &vm = doc["vms"][1];
  CHECK(vm["name"] == "i-2-5-VM");
  CHECK(vm["kind"] == "user");
  CHECK(vm["mac"] == "06:f8:c8:00:00:0b");
  CHECK(vm["protections"]["ip"]["in_place"] == true);
  CHECK(vm["protections"]["arp"]["how"] == "arptables");
  CHECK(vm["ingress"]["default"] == "DROP");
  CHECK(vm["ingress"]["rules"][0]["protocol"] == "tcp");
  CHECK(vm["ingress"]["rules"][0]["start"] == 8080);
  CHECK(vm["ingress"]["rules"][0]["end"] == 8090);
  CHECK(vm["ingress"]["rules"][0]["cidrs"] == nlohmann::json::array({"10.1.0.0/16", "192.168.7.0/24"}));
  CHECK(vm["egress"]["rules"][1]["packets"] == 1);
  CHECK(vm["vifs"][0]["dom_id"] == 8);
  CHECK(doc["vms"][2]["kind"] == "system");
  CHECK(doc["vms"][2]["default"] == "ACCEPT");
  CHECK(doc["warnings"].empty());
}

TEST_CASE("CloudStack's older naming (i-2-3-def) and set names land on the VM", "[sg_view]") {
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

TEST_CASE("the shared samples: an old-style default chain without jumps, foreign rules", "[sg_view]") {
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

TEST_CASE("read_back_rule: what is understood and what is shown raw", "[sg_view]") {
  const SetMembers sets = {{"net", {"10.0.0.0/8", "192.168.1.7"}}};
  auto in = [&](std::vector<std::string> args) { return read_back_rule(Direction::ingress, args, sets); };
  auto eg = [&](std::vector<std::string> args) { return read_back_rule(Direction::egress, args, sets); };

  auto range = in({"-p", "udp", "-m", "udp", "--dport", "5000:5010", "-m", "state", "--state", "NEW",
                   "-m", "set", "--match-set", "net", "src", "-j", "ACCEPT"});
  CHECK(range.understood);
  CHECK(range.text == "udp 5000-5010 from 10.0.0.0/8, 192.168.1.7/32");
  auto every_port = in({"-p", "tcp", "-m", "state", "--state", "NEW", "-j", "ACCEPT"});
  CHECK(every_port.text == "tcp 0-65535 from 0.0.0.0/0");
  auto all = in({"-m", "state", "--state", "NEW", "-m", "set", "--match-set", "net", "src", "-j", "ACCEPT"});
  CHECK(all.text == "all from 10.0.0.0/8, 192.168.1.7/32");
  auto esp = eg({"-p", "esp", "-m", "state", "--state", "NEW", "-j", "RETURN"});
  CHECK(esp.text == "50 to 0.0.0.0/0");
  auto named_icmp = in({"-p", "icmp", "-m", "icmp", "--icmp-type", "echo-request", "-j", "ACCEPT"});
  CHECK(named_icmp.text == "icmp type 8 code any from 0.0.0.0/0");
  auto address = eg({"-d", "172.16.0.0/12", "-p", "tcp", "-m", "tcp", "--dport", "443", "-j", "RETURN"});
  CHECK(address.text == "tcp 443 to 172.16.0.0/12");

  auto missing = in({"-p", "tcp", "-m", "tcp", "--dport", "22", "-m", "set", "--match-set", "gone", "src",
                     "-j", "ACCEPT"});
  CHECK(missing.understood);
  CHECK(missing.set_missing);
  CHECK(missing.text == "tcp 22 from (nobody) [set gone does not exist]");

  for (const auto &args : std::vector<std::vector<std::string>>{
           {"-s", "192.0.2.1/32", "-j", "LOG"},                                // not ACCEPT
           {"!", "-s", "10.0.0.0/8", "-j", "ACCEPT"},                           // negation
           {"-p", "tcp", "-m", "tcp", "--sport", "22", "-j", "ACCEPT"},          // source port
           {"-m", "set", "--match-set", "net", "dst", "-j", "ACCEPT"},          // wrong direction
           {"-i", "eth0", "-j", "ACCEPT"},                                      // interface
           {"-m", "limit", "--limit", "5/min", "-j", "ACCEPT"},                 // other match
           {"-d", "10.0.0.1/32", "-j", "ACCEPT"},                               // dst in ingress
       }) {
    INFO(join_rule_words(args));
    auto read = in(args);
    CHECK_FALSE(read.understood);
    CHECK(read.text == join_rule_words(args));
  }
}

TEST_CASE("long VM names: hashed chains show under the VM name when it is known", "[sg_view]") {
  const std::string vm = "i-2-3-averyveryverylongvmname-VM";
  const VmNames names = names_for_vm(vm);
  REQUIRE(names.ingress != vm);
  const std::string text =
      "*filter\n:FORWARD ACCEPT [0:0]\n:BRIDGE-FIREWALL - [0:0]\n:" + names.ingress + " - [0:0]\n:" +
      names.egress + " - [0:0]\n:" + names.def + " - [0:0]\n" +
      "-A BRIDGE-FIREWALL -m physdev --physdev-in vif3.0 --physdev-is-bridged -j " + names.def + "\n" +
      "-A " + names.def + " -m physdev --physdev-out vif3.0 --physdev-is-bridged -j " + names.ingress + "\n" +
      "-A " + names.ingress + " -j DROP\n-A " + names.egress + " -j RETURN\nCOMMIT\n";
  FirewallSnapshot snapshot;
  snapshot.iptables = parse_iptables_text(text, "t").value();
  const FirewallView unknown = build_view(snapshot);
  REQUIRE(unknown.vms.size() == 1);
  CHECK(unknown.vms[0].name == names.ingress);
  const FirewallView known = build_view(snapshot, {vm});
  REQUIRE(known.vms.size() == 1);
  CHECK(known.vms[0].name == vm);
  CHECK(known.vms[0].def_chain == names.def);
  CHECK(known.vms[0].naming == Naming::current);
  CHECK(known.vms[0].ingress_default == "DROP");
}

TEST_CASE("a missing protection and a missing set are shown", "[sg_view]") {
  FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-arptables");
  // Drop i-2-3-VM's MAC rule and its own set.
  auto &eb = *snapshot.ebtables;
  eb.rules.erase(std::remove_if(eb.rules.begin(), eb.rules.end(),
                                [](const FwRule &r) {
                                  return r.chain == "i-2-3-VM" && r.args[0] == "-s";
                                }),
                 eb.rules.end());
  auto &sets = snapshot.ipsets->sets;
  sets.erase(std::remove_if(sets.begin(), sets.end(), [](const IpSet &s) { return s.name == "i-2-3-VM"; }),
             sets.end());
  const FirewallView view = build_view(snapshot);
  const VmView *vm = view.find("i-2-3-VM");
  REQUIRE(vm);
  CHECK_FALSE(protection(*vm, "mac").in_place());
  CHECK(protection(*vm, "mac").missing_vifs == std::vector<std::string>{"vif7.0"});
  CHECK(vm->mac == "06:f8:c8:00:00:09"); // still known from the ARP rules
  CHECK(vm->ipset_missing);
  ViewTextOptions options;
  options.host = false;
  const std::string text = render_view_text(view, {vm}, options);
  CHECK(text.find("MAC anti-spoofing: NO\n") != std::string::npos);
  CHECK(text.find("IPs:        none (set i-2-3-VM DOES NOT EXIST)\n") != std::string::npos);
}
