// lib/sg/view/print_view.cpp: the one walk that prints the text, raw and
// JSON views -- their exact output, and that every fact the text forms show
// is in the JSON.
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "sg_view.hpp"
#include "view_fixtures.hpp"
#include "view_printer.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

// The fixtures, and what they lack: a missing set and MAC rule, an unused
// set, warnings, no ebtables/arptables, no ipsets.
std::vector<std::pair<std::string, FirewallView>> views() {
  std::vector<std::pair<std::string, FirewallView>> out;
  for (const std::string dir : {"sgshow/xen6-arptables", "sgshow/xen6-ebtables", "sgshow/cloudstack-old"})
    out.emplace_back(dir, build_view(snapshot_of(dir)));
  FirewallSnapshot odd = snapshot_of("sgshow/xen6-arptables");
  auto &sets = odd.ipsets->sets;
  sets.erase(std::remove_if(sets.begin(), sets.end(), [](const IpSet &s) { return s.name == "i-2-5-VM"; }),
             sets.end());
  IpSet unused;
  unused.name = "i-2-3-VM-i2b";
  unused.type = "hash:net";
  unused.members = {"192.0.2.0/24"};
  sets.push_back(unused);
  auto &eb = odd.ebtables->rules;
  eb.erase(std::remove_if(eb.begin(), eb.end(), [](const FwRule &r) { return r.chain == "i-2-5-VM"; }), eb.end());
  odd.warnings = {"ipset-save: Warning: one", "two"};
  out.emplace_back("odd", build_view(odd));
  FirewallSnapshot bare = snapshot_of("sgshow/cloudstack-old");
  bare.ebtables.reset();
  bare.arptables.reset();
  bare.ipsets.reset();
  out.emplace_back("bare", build_view(bare));
  out.emplace_back("empty", build_view(FirewallSnapshot{}));
  out.emplace_back(kIpv6Nics, build_view(snapshot_of(kIpv6Nics)));
  return out;
}

} // namespace

TEST_CASE("the text view says what the firewall means", "[sg_view][print_view]") {
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
                "  no   IPv6 layer (setup --ipv6): none, IPv6 is dropped for every port\n"
                "  yes  no stock FORWARD -j RH-Firewall-1-INPUT (CloudStack removes it)\n"
                "  Dropped by default:\n"
                "     0 pkts  iptables FORWARD: bridged traffic of no VM\n"
                "     0 pkts  ebtables DEFAULT_EBTABLES: -p IPv4 -d Broadcast\n"
                "     0 pkts  ebtables DEFAULT_EBTABLES: -p IPv4 -d Multicast\n"
                "     0 pkts  ebtables DEFAULT_EBTABLES: -p IPv4 --ip-dst 255.255.255.255\n"
                "     0 pkts  ebtables DEFAULT_EBTABLES: -p IPv4 --ip-dst 224.0.0.0/4\n"
                "    51 pkts  ebtables DEFAULT_EBTABLES: -p IPv6\n"
                "     0 pkts  ebtables DEFAULT_EBTABLES: -p 802_1Q\n"
                "     0 pkts  ebtables DEFAULT_EBTABLES: everything else\n"
                "\n"
                "i-2-3-VM  user VM  [chains: i-2-3-VM, i-2-3-VM-def, i-2-3-VM-eg]\n"
                "  VIFs:       vif7.0 (dom-id 7)\n"
                "  IPs:        10.147.41.238 (set i-2-3-VM)\n"
                "  MAC:        06:f8:c8:00:00:09\n"
                "  Protection: IP anti-spoofing: yes\n"
                "              MAC anti-spoofing: yes\n"
                "              ARP anti-spoofing: yes (arptables)\n"
                "              DHCP anti-spoofing: yes\n"
                "  Dropped:    ingress default 0 pkts, spoofing 0 pkts, DHCP server 0 pkts\n"
                "  Ingress (i-2-3-VM, default: drop)\n"
                "    tcp 22 from 10.147.41.240/32  0 pkts, 0 bytes\n"
                "    icmp type any from 0.0.0.0/0  1 pkt, 84 bytes\n"
                "  Egress (i-2-3-VM-eg, default: allow (RETURN))\n"
                "    (no rules)\n");
}

TEST_CASE("the raw view groups the rules and sets by VM", "[sg_view][print_view]") {
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

TEST_CASE("the JSON view is the same model", "[sg_view][print_view]") {
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

TEST_CASE("every fact the text and raw views show is in the JSON", "[sg_view][print_view]") {
  for (const auto &[name, view] : views()) {
    std::vector<std::vector<const VmView *>> selections = {all(view), {}};
    for (const auto &vm : view.vms)
      selections.push_back({&vm});
    for (const auto &vms : selections)
      for (int o = 0; o < 16; ++o) {
        ViewPrintOptions options;
        options.host = o & 1;
        options.counters = o & 2;
        options.exact = o & 4;
        options.raw = o & 8;
        INFO(name << ", " << vms.size() << " VMs, options " << o);
        TextViewPrinter text(true);
        print_view(text, view, vms, options);
        // The JSON sg-show prints (render_view_json), not one made alike.
        const std::string json = render_view_json(view, vms, options.host, false);
        CHECK(missing_in_json(text.facts(), json).empty());
        CHECK(text.problems().empty());
        CHECK(text.str() == (options.raw ? render_view_raw : render_view_text)(
                                view, vms, ViewTextOptions{options.counters, options.exact, options.host}));
        if (!vms.empty() || (options.host && !options.raw))
          CHECK_FALSE(text.facts().empty());
      }
  }
}

TEST_CASE("the facts of the text views, where the JSON has them", "[sg_view][print_view]") {
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  auto facts = [&](bool raw) {
    ViewPrintOptions options;
    options.raw = raw;
    TextViewPrinter text(true);
    print_view(text, view, all(view), options);
    return text.facts();
  };
  auto has = [](const std::vector<std::string> &list, const std::string &fact) {
    return std::find(list.begin(), list.end(), fact) != list.end();
  };
  const auto text = facts(false);
  for (const std::string fact : {"/host/setup", "/host/checks/5/what", "/host/checks/5/present", "/vms/0/name",
                                 "/vms/0/kind", "/vms/0/chains/iptables", "/vms/0/vifs/0/name",
                                 "/vms/0/vifs/0/dom_id", "/vms/0/ips", "/vms/0/ipset", "/vms/0/mac",
                                 "/vms/0/protections/arp/in_place", "/vms/0/protections/arp/how",
                                 "/vms/0/ingress/chain", "/vms/0/ingress/default", "/vms/0/ingress/rules/0/text",
                                 "/vms/0/ingress/rules/0/packets", "/vms/0/ingress/rules/0/bytes",
                                 "/vms/0/egress/rules", "/vms/2/default", "/vms/2/egress_default"}) {
    INFO(fact);
    CHECK(has(text, fact));
  }
  CHECK_FALSE(has(text, "/vms/0/raw/0/rule")); // the raw view's
  const auto raw = facts(true);
  for (const std::string fact : {"/vms/0/name", "/vms/0/raw/0/table", "/vms/0/raw/0/packets", "/vms/0/raw/0/rule",
                                 "/vms/0/sets/0/name", "/vms/0/sets/0/type", "/vms/0/sets/0/family",
                                 "/vms/0/sets/0/members", "/host/raw/0/rule"}) {
    INFO(fact);
    CHECK(has(raw, fact));
  }
  CHECK_FALSE(has(raw, "/vms/0/ips"));
}

TEST_CASE("a system VM, unused sets and warnings in the text; the new JSON keys", "[sg_view][print_view]") {
  const auto all_views = views();
  const FirewallView &odd = all_views[3].second;
  ViewTextOptions options;
  options.host = false;
  CHECK(render_view_text(odd, {odd.find("r-4-VM")}, options) ==
        "r-4-VM  system VM  [chains: r-4-VM]\n"
        "  VIFs:       vif6.0 (dom-id 6), vif6.1 (dom-id 6)\n"
        "  Traffic:    from the VM not filtered, to the VM accepted\n"
        "\n"
        "warning: ipset-save: Warning: one\n"
        "\n"
        "warning: two\n");
  const std::string user = render_view_text(odd, {odd.find("i-2-3-VM")}, options);
  CHECK(user.find("  Egress (i-2-3-VM-eg, default: allow (RETURN))\n    (no rules)\n"
                  "  Unused sets: i-2-3-VM-i2b\n\nwarning: ") != std::string::npos);
  const std::string no_mac = render_view_text(odd, {odd.find("i-2-5-VM")}, options);
  CHECK(no_mac.find("  IPs:        none (set i-2-5-VM DOES NOT EXIST)\n") != std::string::npos);
  CHECK(no_mac.find("  Protection: IP anti-spoofing: yes\n              MAC anti-spoofing: NO\n") !=
        std::string::npos);
  const std::string raw = render_view_raw(odd, {odd.find("i-2-3-VM")}, options);
  CHECK(raw.find("create i-2-3-VM-i2b hash:net\nadd i-2-3-VM-i2b 192.0.2.0/24\n") != std::string::npos);
  CHECK(raw.find("warning") == std::string::npos); // stderr's, not the raw view's

  // JSON: a system VM's traffic from it (egress_default) and each set's
  // family, which the text and raw views show, are in the JSON too.
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  const std::string router = render_view_json(view, {view.find("r-4-VM")}, false, false);
  CHECK(router.substr(0, router.find(R"(,"raw":)")) ==
        R"({"vms":[{"name":"r-4-VM","kind":"system","naming":"current","chains":{"iptables":["r-4-VM"]},)"
        R"("vifs":[{"name":"vif6.0","dom_id":6,"jumps":["iptables in","iptables out"]},)"
        R"({"name":"vif6.1","dom_id":6,"jumps":["iptables in","iptables out"]}],)"
        R"("chain":"r-4-VM","default":"ACCEPT","egress_default":"RETURN","leftovers":[],"drops":[],"sets":[])");
  const auto doc = nlohmann::json::parse(render_view_json(view, {view.find("i-2-3-VM")}, false, true));
  CHECK(doc["vms"][0]["sets"][0] == nlohmann::json::parse(R"({"name":"i-2-3-VM","type":"hash:net",)"
                                                          R"("family":"inet","members":["10.147.41.238"],)"
                                                          R"("used":true})"));
  CHECK(doc.count("host") == 0);
}

TEST_CASE("a dual-stack VM with two NICs: one block per NIC, IPv6 rules read back", "[sg_view][print_view]") {
  const FirewallView view = build_view(snapshot_of(kIpv6Nics));
  ViewTextOptions options;
  options.host = false;
  options.counters = false;
  const std::string text = render_view_text(view, {view.find("i-2-3-VM")}, options);
  CHECK(text == "i-2-3-VM  user VM  [chains: i-2-3-VM, i-2-3-VM-def, i-2-3-VM-eg]\n"
                "  VIFs:       vif7.0 (dom-id 7), tap7.0 (dom-id 7), vif7.1 (dom-id 7)\n"
                "  NIC 0: vif7.0, tap7.0  MAC 06:f8:c8:00:00:09  IPv4 10.1.1.4 (set i-2-3-VM)  "
                "IPv6 2001:db8:1::4, fe80::4f8:c8ff:fe00:9 (set i-2-3-VM-6)\n"
                "    Protection: IP anti-spoofing: yes\n"
                "                MAC anti-spoofing: yes\n"
                "                ARP anti-spoofing: yes (ebtables)\n"
                "                DHCP anti-spoofing: yes\n"
                "                IPv6 source check: yes\n"
                "                RA guard: yes\n"
                "                NA target check: yes\n"
                "                DHCPv6 server guard: yes\n"
                "  NIC 1: vif7.1  MAC 06:f8:c8:00:00:0a  IPv4 10.2.2.5 (set i-2-3-VM-n1)  "
                "IPv6 2001:db8:2::5, fe80::4f8:c8ff:fe00:a (set i-2-3-VM-6n1)\n"
                "    Protection: IP anti-spoofing: yes\n"
                "                MAC anti-spoofing: yes\n"
                "                ARP anti-spoofing: yes (ebtables)\n"
                "                DHCP anti-spoofing: yes\n"
                "                IPv6 source check: yes\n"
                "                RA guard: yes\n"
                "                NA target check: yes\n"
                "                DHCPv6 server guard: yes\n"
                "  Ingress (i-2-3-VM, default: drop)\n"
                "    tcp 22 from 10.1.0.0/16\n"
                "    icmp type any from 0.0.0.0/0\n"
                "  Egress (i-2-3-VM-eg, default: drop)\n"
                "    tcp 443 to 0.0.0.0/0\n"
                "  Ingress IPv6 (i-2-3-VM in ip6tables, default: drop)\n"
                "    tcp 22 from 2001:db8:9::/48, 2001:db8:a::/64\n"
                "    icmpv6 type 128 code any from ::/0\n"
                "  Egress IPv6 (i-2-3-VM-eg in ip6tables, default: drop)\n"
                "    tcp 443 to ::/0\n");

  const auto json = nlohmann::json::parse(render_view_json(view, {view.find("i-2-3-VM")}, false, false));
  const auto &vm = json["vms"][0];
  // NIC 0's keys of before NICs, unchanged.
  CHECK(vm["ips"] == nlohmann::json::array({"10.1.1.4"}));
  CHECK(vm["mac"] == "06:f8:c8:00:00:09");
  CHECK(vm["ipset"] == "i-2-3-VM");
  REQUIRE(vm["nics"].size() == 2);
  const auto &nic1 = vm["nics"][1];
  CHECK(nic1["device"] == 1);
  CHECK(nic1["vifs"] == nlohmann::json::array({"vif7.1"}));
  CHECK(nic1["mac"] == "06:f8:c8:00:00:0a");
  CHECK(nic1["ipv4"] == nlohmann::json::array({"10.2.2.5"}));
  CHECK(nic1["ipset6"] == "i-2-3-VM-6n1");
  CHECK(nic1["ipv6"] == nlohmann::json::array({"2001:db8:2::5", "fe80::4f8:c8ff:fe00:a"}));
  CHECK(nic1["protections"]["ra"]["in_place"] == true);
  CHECK(vm["ingress6"]["chain"] == "i-2-3-VM");
  CHECK(vm["ingress6"]["rules"][0]["cidrs"] == nlohmann::json::array({"2001:db8:9::/48", "2001:db8:a::/64"}));
  CHECK(vm["ingress6"]["rules"][0]["merged"] == 2);
  CHECK(vm["egress6"]["default"] == "DROP");
}

TEST_CASE("an IPv4-only VM reads as before: no NIC blocks, no IPv6 sections", "[sg_view][print_view]") {
  const FirewallView view = build_view(snapshot_of("sgshow/xen6-arptables"));
  ViewTextOptions options;
  options.host = false;
  const std::string text = render_view_text(view, {view.find("i-2-5-VM")}, options);
  CHECK(text.find("NIC 0") == std::string::npos);
  CHECK(text.find("IPv6") == std::string::npos);
  CHECK(text.find("  IPs:        10.147.41.240, 10.147.41.241 (set i-2-5-VM)\n") != std::string::npos);
  const auto json = nlohmann::json::parse(render_view_json(view, {view.find("i-2-5-VM")}, false, false));
  CHECK(json["vms"][0]["nics"].size() == 1);
  CHECK(json["vms"][0]["ingress6"]["chain"].is_null());
}
