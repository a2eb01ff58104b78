#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sg_render.hpp"
#include "text.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::read_data;

namespace {

using Lines = std::vector<std::string>;

const VmIdentity kSeedVm = {"i-2-3-VM", "3", "10.147.41.238", {},
                            "06:f8:c8:00:00:09", {"vif7.0"}};

std::string join(const std::vector<std::string> &words) {
  std::string out;
  for (const auto &word : words)
    out += (out.empty() ? "" : " ") + word;
  return out;
}

// "-A CHAIN args" for every planned rule of `chains`, in that chain order.
Lines save_lines(const TablePlan &table, const std::vector<std::string> &chains) {
  Lines out;
  for (const auto &chain : chains)
    for (const auto &args : planned_rules(table, chain))
      out.push_back("-A " + chain + " " + join(args));
  return out;
}

Lines chain_lines(const TablePlan &table, const std::string &chain) {
  Lines out;
  for (const auto &args : planned_rules(table, chain))
    out.push_back(join(args));
  return out;
}

// The host, the seed VM's defaults and its (empty) rule set, combined the
// way the applier combines them.
VmPlan seed_host_plan(ArpFilter arp) {
  VmPlan plan = render_host_setup({"eth0"}, arp).value();
  append_plan(plan, render_user_vm_defaults(kSeedVm, arp).value());
  append_plan(plan, render_vm_rules(names_for_vm("i-2-3-VM"), {}, 'a').value());
  return plan;
}

// The meaning of an arptables rule: its words without `arptables -L`'s
// counters and "any" interfaces, and without "--h-length 6" (Ethernet, what
// a MAC match means anyway; we add it for arptables 0.0.5).
std::vector<std::string> arp_meaning(std::string_view line) {
  line = line.substr(0, line.find(" , pcnt="));
  const auto words = split_blanks(line);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i + 1 < words.size() &&
        (((words[i] == "-i" || words[i] == "-o") && words[i + 1] == "any") ||
         (words[i] == "--h-length" && words[i + 1] == "6"))) {
      ++i;
      continue;
    }
    out.emplace_back(words[i]);
  }
  return out;
}

// The rules of `chain` in the seed's `arptables -L` output.
std::vector<std::vector<std::string>> seed_arptables_chain(const std::string &chain) {
  const std::string seed = read_data("seed/xenserver-cloudstack-notes.txt");
  std::vector<std::vector<std::string>> out;
  bool inside = false;
  for (const Line &line : split_lines(seed)) {
    if (starts_with(line.text, "Chain "))
      inside = starts_with(line.text, "Chain " + chain + " ");
    else if (inside && starts_with(line.text, "-j "))
      out.push_back(arp_meaning(line.text));
  }
  return out;
}

} // namespace

TEST_CASE("host setup and the seed VM reproduce the seed's ebtables-save", "[sgrender]") {
  const std::string notes = read_data("seed/xenserver-cloudstack-notes.txt");
  Lines seed;
  for (const Line &line : split_lines(notes))
    if (starts_with(line.text, "-A "))
      seed.emplace_back(trim(line.text));
  REQUIRE(seed.size() == 3 + 12 + 3);

  const VmPlan plan = seed_host_plan(ArpFilter::arptables);
  CHECK(save_lines(plan.ebtables, {"FORWARD", "DEFAULT_EBTABLES", "i-2-3-VM"}) == seed);
  // Both user chains carry the policy the seed shows.
  REQUIRE(plan.ebtables.owned_chains.size() == 2);
  CHECK(plan.ebtables.owned_chains[0].policy == "ACCEPT");
  CHECK(plan.ebtables.owned_chains[1].policy == "ACCEPT");
}

TEST_CASE("the seed VM's arptables rules mean what the seed's arptables -L shows", "[sgrender]") {
  const VmPlan plan = seed_host_plan(ArpFilter::arptables);
  const auto seed_forward = seed_arptables_chain("FORWARD");
  const auto seed_chain = seed_arptables_chain("i-2-3-VM");
  REQUIRE(seed_forward.size() == 2);
  REQUIRE(seed_chain.size() == 5);
  CHECK(seed_chain[0] ==
        std::vector<std::string>{"-j", "ACCEPT", "-i", "vif7.0", "-s",
                                 "10.147.41.238", "--src-mac",
                                 "06:f8:c8:00:00:09", "--opcode", "Reply"});

  auto meaning = [&](const std::string &chain) {
    std::vector<std::vector<std::string>> out;
    for (const auto &args : planned_rules(plan.arptables, chain))
      out.push_back(arp_meaning(join(args)));
    return out;
  };
  CHECK(meaning("FORWARD") == seed_forward);
  CHECK(meaning("i-2-3-VM") == seed_chain);
  // The literal rules, --h-length included.
  CHECK(chain_lines(plan.arptables, "i-2-3-VM")[0] ==
        "-j ACCEPT -i vif7.0 -s 10.147.41.238 --src-mac 06:f8:c8:00:00:09 "
        "--h-length 6 --opcode Reply");
}

TEST_CASE("render_host_setup renders CloudStack's global chains", "[sgrender]") {
  const VmPlan plan = render_host_setup({"eth0", "bond0", "eth0"}).value();
  CHECK(chain_lines(plan.iptables, "BRIDGE-DEFAULT-FIREWALL") ==
        Lines{"-m state --state RELATED,ESTABLISHED -j ACCEPT",
              "-p udp -m physdev --physdev-is-bridged -m udp --sport 68 --dport 67 -j ACCEPT",
              "-p udp -m physdev --physdev-is-bridged -m udp --sport 67 --dport 68 -j ACCEPT"});
  CHECK(chain_lines(plan.iptables, "BRIDGE-FIREWALL") ==
        Lines{"-j BRIDGE-DEFAULT-FIREWALL"});
  CHECK(chain_lines(plan.iptables, "FORWARD") ==
        Lines{"-m physdev --physdev-is-bridged -j BRIDGE-FIREWALL",
              "-m physdev --physdev-out eth0+ --physdev-is-bridged -j ACCEPT",
              "-m physdev --physdev-out bond0+ --physdev-is-bridged -j ACCEPT",
              "-j DROP"});
  CHECK(plan.iptables.shared_chains == std::vector<std::string>{"BRIDGE-FIREWALL"});
  CHECK(plan.iptables.remove_rules ==
        std::vector<RuleSpec>{{"FORWARD", {"-j", "RH-Firewall-1-INPUT"}}});
  CHECK(plan.sets.empty());
  CHECK(plan.arptables == TablePlan{});

  auto bad = render_host_setup({"eth0;reboot"});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("\"eth0;reboot\""));
}

TEST_CASE("render_user_vm_defaults renders the -def chain in CloudStack's order", "[sgrender]") {
  VmIdentity vm = kSeedVm;
  vm.vifs = {"vif7.0", "tap7.0"};
  vm.secondary_ips = {"10.147.41.239", "10.147.41.238"}; // the primary is dropped
  vm.mac = "06:F8:C8:00:00:09";
  const VmPlan plan = render_user_vm_defaults(vm, ArpFilter::arptables).value();

  REQUIRE(plan.sets.size() == 1);
  CHECK(plan.sets[0] == SetContent{"i-2-3-VM", "hash:net", "inet",
                                   {"10.147.41.238", "10.147.41.239"}});
  const Lines def = chain_lines(plan.iptables, "i-2-3-VM-def");
  REQUIRE(def.size() == 10);
  CHECK(Lines(def.begin(), def.begin() + 5) ==
        Lines{"-p udp -m physdev --physdev-in vif7.0 --physdev-is-bridged -m set "
              "--match-set i-2-3-VM src -m udp --dport 53 -j RETURN",
              "-m physdev --physdev-in vif7.0 --physdev-is-bridged -m set ! "
              "--match-set i-2-3-VM src -j DROP",
              "-m physdev --physdev-out vif7.0 --physdev-is-bridged -m set ! "
              "--match-set i-2-3-VM dst -j DROP",
              "-m physdev --physdev-in vif7.0 --physdev-is-bridged -m set "
              "--match-set i-2-3-VM src -j i-2-3-VM-eg",
              "-m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM"});
  CHECK(def[9] == "-m physdev --physdev-out tap7.0 --physdev-is-bridged -j i-2-3-VM");
  CHECK(chain_lines(plan.iptables, "BRIDGE-FIREWALL") ==
        Lines{"-m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def",
              "-m physdev --physdev-in tap7.0 --physdev-is-bridged -j i-2-3-VM-def",
              "-m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def",
              "-m physdev --physdev-out tap7.0 --physdev-is-bridged -j i-2-3-VM-def"});

  // ARP: the secondary IP's rules first, per VIF, then the primary's, then DROP.
  const Lines arp = chain_lines(plan.arptables, "i-2-3-VM");
  REQUIRE(arp.size() == 2 * 2 * 4 + 1);
  CHECK(arp[0] == "-j ACCEPT -i vif7.0 -s 10.147.41.239 --src-mac "
                  "06:f8:c8:00:00:09 --h-length 6 --opcode Reply");
  CHECK(arp[4] == "-j ACCEPT -i tap7.0 -s 10.147.41.239 --src-mac "
                  "06:f8:c8:00:00:09 --h-length 6 --opcode Reply");
  CHECK(arp[8] == "-j ACCEPT -i vif7.0 -s 10.147.41.238 --src-mac "
                  "06:f8:c8:00:00:09 --h-length 6 --opcode Reply");
  CHECK(arp[15] == "-j ACCEPT -o tap7.0 -d 10.147.41.238 --dst-mac "
                   "06:f8:c8:00:00:09 --h-length 6 --opcode Reply");
  CHECK(arp[16] == "-j DROP");
  CHECK(chain_lines(plan.arptables, "FORWARD") ==
        Lines{"-j i-2-3-VM -i vif7.0", "-j i-2-3-VM -i tap7.0",
              "-j i-2-3-VM -o vif7.0", "-j i-2-3-VM -o tap7.0"});
}

TEST_CASE("ArpFilter::ebtables checks ARP in the ebtables chain instead", "[sgrender]") {
  const VmPlan plan = seed_host_plan(ArpFilter::ebtables);
  CHECK(plan.arptables == TablePlan{});
  // DEFAULT_EBTABLES lets ARP go on to the VM chains instead of accepting it.
  const Lines defaults = chain_lines(plan.ebtables, "DEFAULT_EBTABLES");
  REQUIRE(defaults.size() == 12);
  CHECK(defaults[2] == "-p ARP --arp-op Request -j RETURN");
  CHECK(defaults[3] == "-p ARP --arp-op Reply -j RETURN");
  CHECK(chain_lines(plan.ebtables, "i-2-3-VM") ==
        Lines{"-s ! 6:f8:c8:0:0:9 -i vif7.0 -j DROP",
              "-p IPv4 -i vif7.0 --ip-proto udp --ip-dport 68 -j DROP",
              "-p IPv4 -o vif7.0 --ip-proto udp --ip-dport 67 -j DROP",
              "-p ARP -i vif7.0 --arp-op Reply --arp-ip-src 10.147.41.238 "
              "--arp-mac-src 6:f8:c8:0:0:9 -j ACCEPT",
              "-p ARP -i vif7.0 --arp-op Request --arp-ip-src 10.147.41.238 "
              "--arp-mac-src 6:f8:c8:0:0:9 -j RETURN",
              "-p ARP -o vif7.0 --arp-op Request --arp-ip-dst 10.147.41.238 -j ACCEPT",
              "-p ARP -o vif7.0 --arp-op Reply --arp-ip-dst 10.147.41.238 "
              "--arp-mac-dst 6:f8:c8:0:0:9 -j ACCEPT",
              "-p ARP -j DROP"});
  CHECK(chain_lines(plan.ebtables, "FORWARD") ==
        Lines{"-j DEFAULT_EBTABLES", "-i vif7.0 -j i-2-3-VM", "-o vif7.0 -j i-2-3-VM"});
}

TEST_CASE("render_user_vm_defaults validates every value", "[sgrender]") {
  auto with = [](auto change) {
    VmIdentity vm = kSeedVm;
    change(vm);
    auto result = render_user_vm_defaults(vm, ArpFilter::arptables);
    REQUIRE_FALSE(result);
    return result.error().message;
  };
  CHECK_THAT(with([](VmIdentity &vm) { vm.vm_name = "i-2-3-VM;id"; }),
             Catch::Contains("invalid VM name \"i-2-3-VM;id\""));
  CHECK_THAT(with([](VmIdentity &vm) { vm.ip = "10.147.41.256"; }),
             Catch::Contains("\"10.147.41.256\""));
  CHECK_THAT(with([](VmIdentity &vm) { vm.secondary_ips = {"$(id)"}; }),
             Catch::Contains("\"$(id)\""));
  CHECK_THAT(with([](VmIdentity &vm) { vm.mac = "06:f8:c8:00:00"; }),
             Catch::Contains("invalid MAC address"));
  CHECK_THAT(with([](VmIdentity &vm) { vm.vifs = {"vif7.0 -j ACCEPT"}; }),
             Catch::Contains("invalid interface name"));
  CHECK_THAT(with([](VmIdentity &vm) { vm.vifs = {}; }),
             Catch::Contains("expected at least one VIF"));
  CHECK_THAT(with([](VmIdentity &vm) { vm.vifs = {"vif7.0", "vif7.0"}; }),
             Catch::Contains("listed twice"));
  CHECK_THAT(with([](VmIdentity &vm) { vm.vm_id = "3;"; }),
             Catch::Contains("invalid VM id"));
  CHECK_THAT(with([](VmIdentity &vm) { vm.vm_name = "r-4-VM"; }),
             Catch::Contains("render_system_vm"));
}

TEST_CASE("an unknown MAC skips MAC and ARP filtering, as in CloudStack", "[sgrender]") {
  VmIdentity vm = kSeedVm;
  vm.mac = "ff:ff:ff:ff:ff:ff";
  const VmPlan plan = render_user_vm_defaults(vm, ArpFilter::arptables).value();
  CHECK(plan.ebtables == TablePlan{});
  CHECK(plan.arptables == TablePlan{});
  CHECK(plan.iptables.owned_chains.size() == 1);
  REQUIRE(plan.notes.size() == 1);
}

TEST_CASE("render_system_vm passes the VM's traffic through", "[sgrender]") {
  const VmPlan plan = render_system_vm("v-2-VM", {"vif2.0", "vif2.1"}).value();
  CHECK(chain_lines(plan.iptables, "v-2-VM") ==
        Lines{"-m physdev --physdev-in vif2.0 --physdev-is-bridged -j RETURN",
              "-m physdev --physdev-in vif2.1 --physdev-is-bridged -j RETURN",
              "-j ACCEPT"});
  CHECK(chain_lines(plan.iptables, "BRIDGE-FIREWALL") ==
        Lines{"-m physdev --physdev-in vif2.0 --physdev-is-bridged -j v-2-VM",
              "-m physdev --physdev-in vif2.1 --physdev-is-bridged -j v-2-VM",
              "-m physdev --physdev-out vif2.0 --physdev-is-bridged -j v-2-VM",
              "-m physdev --physdev-out vif2.1 --physdev-is-bridged -j v-2-VM"});
  CHECK(plan.ebtables == TablePlan{});
  CHECK(plan.sets.empty());
  CHECK_FALSE(render_system_vm("i-2-3-VM", {"vif7.0"}));
  CHECK_FALSE(render_system_vm("v-2-VM", {}));
  CHECK_FALSE(render_system_vm("v-2-VM$(id)", {"vif2.0"}));
}

TEST_CASE("render_vm_rules keeps rule order and fixes CloudStack's gaps", "[sgrender]") {
  const auto rules = parse_rule_string(read_data("sg/rule-string-full.txt"), "rules").value();
  const VmNames names = names_for_vm("i-2-3-VM");
  const VmPlan plan = render_vm_rules(names, rules, 'a').value();

  CHECK(chain_lines(plan.iptables, "i-2-3-VM") ==
        Lines{
            "-p tcp -m tcp --dport 8080:8090 -m state --state NEW -m set "
            "--match-set i-2-3-VM-i1a src -j ACCEPT",
            // 0.0.0.0/0 next to a host: one rule without a set.
            "-p tcp -m tcp --dport 22 -m state --state NEW -j ACCEPT",
            // udp 0-65535: no port match (iptables-save prints none either).
            "-p udp -m state --state NEW -m set --match-set i-2-3-VM-i3a src -j ACCEPT",
            "-p icmp -m icmp --icmp-type 8/0 -j ACCEPT",
            // A protocol number: -p 47 without CloudStack's bogus -m 47.
            "-p 47 -m state --state NEW -m set --match-set i-2-3-VM-i5a src -j ACCEPT",
            // all from 0.0.0.0/0, which CloudStack left out.
            "-m state --state NEW -j ACCEPT",
            "-j DROP",
        });
  CHECK(chain_lines(plan.iptables, "i-2-3-VM-eg") ==
        Lines{
            "-p udp -m udp --dport 53 -m state --state NEW -j RETURN",
            "-p tcp -m tcp --dport 443 -m state --state NEW -m set --match-set "
            "i-2-3-VM-e2a dst -j RETURN",
            "-j DROP",
        });
  CHECK(plan.sets ==
        std::vector<SetContent>{
            {"i-2-3-VM-i1a", "hash:net", "inet", {"192.168.7.0/24", "10.1.0.0/16"}},
            {"i-2-3-VM-i3a", "hash:net", "inet", {"10.2.0.0/16"}},
            {"i-2-3-VM-i5a", "hash:net", "inet", {"10.0.0.0/8"}},
            {"i-2-3-VM-e2a", "hash:net", "inet", {"203.0.113.0/24"}},
        });
  REQUIRE(plan.notes.size() == 1);
  CHECK_THAT(plan.notes[0], Catch::Contains("egress rule 2") &&
                                Catch::Contains("IPv6"));

  // The other generation renames the sets and nothing else.
  const VmPlan b = render_vm_rules(names, rules, 'b').value();
  CHECK(b.sets[0].name == "i-2-3-VM-i1b");
  CHECK(chain_lines(b.iptables, "i-2-3-VM")[0] ==
        "-p tcp -m tcp --dport 8080:8090 -m state --state NEW -m set "
        "--match-set i-2-3-VM-i1b src -j ACCEPT");
}

TEST_CASE("render_vm_rules: defaults, icmp forms, numbers and set members", "[sgrender]") {
  const VmNames names = names_for_vm("i-2-3-VM");
  const VmPlan empty = render_vm_rules(names, {}, 'a').value();
  CHECK(chain_lines(empty.iptables, "i-2-3-VM") == Lines{"-j DROP"});
  CHECK(chain_lines(empty.iptables, "i-2-3-VM-eg") == Lines{"-j RETURN"});
  CHECK(empty.sets.empty());

  const std::vector<SgRule> rules = {
      {Direction::ingress, "icmp", -1, -1, {"0.0.0.0/0"}},
      {Direction::ingress, "icmp", 3, -1, {"0.0.0.0/0"}},
      {Direction::ingress, "6", 0, 0, {"0.0.0.0/0"}},
      {Direction::ingress, "1", 0, 0, {"0.0.0.0/0"}},
      {Direction::ingress, "tcp", 22, 22,
       {"10.1.1.5/24", "10.1.1.9", "10.1.1.0/24", "10.1.1.9/32"}},
      {Direction::ingress, "udp", 53, 53, {"2001:db8::/32"}},
      {Direction::ingress, "udp", 53, 53, {}},
  };
  const VmPlan plan = render_vm_rules(names, rules, 'b').value();
  CHECK(chain_lines(plan.iptables, "i-2-3-VM") ==
        Lines{"-p icmp -m icmp --icmp-type any -j ACCEPT",
              "-p icmp -m icmp --icmp-type 3 -j ACCEPT",
              "-p tcp -m state --state NEW -j ACCEPT",
              "-p icmp -j ACCEPT",
              "-p tcp -m tcp --dport 22 -m state --state NEW -m set "
              "--match-set i-2-3-VM-i5b src -j ACCEPT",
              "-j DROP"});
  // Host bits cleared, /32 dropped, duplicates merged: what ipset save prints.
  CHECK(plan.sets == std::vector<SetContent>{{"i-2-3-VM-i5b", "hash:net", "inet",
                                              {"10.1.1.0/24", "10.1.1.9"}}});
  // The IPv6 CIDR left out (the VM has no IPv6), the rule with no CIDR.
  REQUIRE(plan.notes.size() == 2);
  CHECK_THAT(plan.notes[0], Catch::Contains("IPv6 CIDRs left out"));
  CHECK_THAT(plan.notes[1], Catch::Contains("no address to allow"));
  CHECK(chain_lines(plan.iptables, "i-2-3-VM-eg") == Lines{"-j RETURN"});
}

TEST_CASE("render_vm_rules refuses bad input", "[sgrender]") {
  const VmNames names = names_for_vm("i-2-3-VM");
  CHECK_FALSE(render_vm_rules(names, {}, 'c'));
  CHECK_FALSE(render_vm_rules(names_for_vm("r-4-VM"), {}, 'a'));
  const std::vector<SgRule> bad = {
      {Direction::ingress, "tcp", 22, 22, {"0.0.0.0/0"}},
      {Direction::egress, "tcp", 22, 22, {"0.0.0.0/0 -j ACCEPT"}},
  };
  auto result = render_vm_rules(names, bad, 'a');
  REQUIRE_FALSE(result);
  CHECK_THAT(result.error().message,
             Catch::StartsWith("rule 2: invalid egress rule") &&
                 Catch::Contains("\"0.0.0.0/0 -j ACCEPT\""));
}

TEST_CASE("render_iptables_restore prints --noflush input for one VM", "[sgrender]") {
  VmPlan plan = render_user_vm_defaults(kSeedVm, ArpFilter::arptables).value();
  append_plan(plan, render_vm_rules(names_for_vm("i-2-3-VM"),
                                    parse_rule_string("I:tcp;22;22;10.0.0.0/8,NEXT ",
                                                      "rules").value(),
                                    'a').value());
  RestoreOptions options;
  options.existing_chains = {"BRIDGE-FIREWALL", "i-2-3-VM"};
  options.first_position["BRIDGE-FIREWALL"] = 2;
  options.deletions = {{"BRIDGE-FIREWALL",
                        {"-m", "physdev", "--physdev-in", "vif5.0",
                         "--physdev-is-bridged", "-j", "i-2-3-VM-def"}}};
  CHECK(render_iptables_restore(plan.iptables, options) ==
        "*filter\n"
        ":i-2-3-VM-def - [0:0]\n"
        ":i-2-3-VM - [0:0]\n"
        ":i-2-3-VM-eg - [0:0]\n"
        "-D BRIDGE-FIREWALL -m physdev --physdev-in vif5.0 --physdev-is-bridged -j i-2-3-VM-def\n"
        "-A i-2-3-VM-def -p udp -m physdev --physdev-in vif7.0 --physdev-is-bridged -m set --match-set i-2-3-VM src -m udp --dport 53 -j RETURN\n"
        "-A i-2-3-VM-def -m physdev --physdev-in vif7.0 --physdev-is-bridged -m set ! --match-set i-2-3-VM src -j DROP\n"
        "-A i-2-3-VM-def -m physdev --physdev-out vif7.0 --physdev-is-bridged -m set ! --match-set i-2-3-VM dst -j DROP\n"
        "-A i-2-3-VM-def -m physdev --physdev-in vif7.0 --physdev-is-bridged -m set --match-set i-2-3-VM src -j i-2-3-VM-eg\n"
        "-A i-2-3-VM-def -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM\n"
        "-A i-2-3-VM -p tcp -m tcp --dport 22 -m state --state NEW -m set --match-set i-2-3-VM-i1a src -j ACCEPT\n"
        "-A i-2-3-VM -j DROP\n"
        "-A i-2-3-VM-eg -j RETURN\n"
        "-I BRIDGE-FIREWALL 2 -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
        "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
        "COMMIT\n");

  const std::string tmp = swap_set_name("i-2-3-VM");
  CHECK(render_ipset_restore(plan.sets, {"i-2-3-VM"}) ==
        "create " + tmp + " hash:net family inet\n"
        "flush " + tmp + "\n"
        "add " + tmp + " 10.147.41.238\n"
        "swap " + tmp + " i-2-3-VM\n"
        "destroy " + tmp + "\n"
        "create i-2-3-VM-i1a hash:net family inet\n"
        "add i-2-3-VM-i1a 10.0.0.0/8\n");
  CHECK(tmp.size() == 19);
  CHECK(starts_with(tmp, "vifwall-tmp-"));
  CHECK(render_ipset_destroy({"i-2-3-VM-i1b", "i-2-3-VM-e1b"}) ==
        "destroy i-2-3-VM-i1b\ndestroy i-2-3-VM-e1b\n");
}

TEST_CASE("render_iptables_restore sets up a fresh host", "[sgrender]") {
  const VmPlan plan = render_host_setup({"eth0"}).value();
  RestoreOptions options;
  options.destroy_chains = {"i-9-9-VM"};
  CHECK(render_iptables_restore(plan.iptables, options) ==
        "*filter\n"
        ":BRIDGE-DEFAULT-FIREWALL - [0:0]\n"
        ":BRIDGE-FIREWALL - [0:0]\n"
        "-F i-9-9-VM\n"
        "-X i-9-9-VM\n"
        "-A BRIDGE-DEFAULT-FIREWALL -m state --state RELATED,ESTABLISHED -j ACCEPT\n"
        "-A BRIDGE-DEFAULT-FIREWALL -p udp -m physdev --physdev-is-bridged -m udp --sport 68 --dport 67 -j ACCEPT\n"
        "-A BRIDGE-DEFAULT-FIREWALL -p udp -m physdev --physdev-is-bridged -m udp --sport 67 --dport 68 -j ACCEPT\n"
        "-I BRIDGE-FIREWALL 1 -j BRIDGE-DEFAULT-FIREWALL\n"
        "-I FORWARD 1 -m physdev --physdev-is-bridged -j BRIDGE-FIREWALL\n"
        "-I FORWARD 2 -m physdev --physdev-out eth0+ --physdev-is-bridged -j ACCEPT\n"
        "-A FORWARD -j DROP\n"
        "COMMIT\n");
}

TEST_CASE("render_ebtables_restore and render_arptables_commands", "[sgrender]") {
  const VmPlan plan = render_user_vm_defaults(kSeedVm, ArpFilter::arptables).value();
  RestoreOptions options;
  options.first_position["FORWARD"] = 2;
  CHECK(render_ebtables_restore(plan.ebtables, options) ==
        "*filter\n"
        ":i-2-3-VM ACCEPT\n"
        "-A i-2-3-VM -s ! 6:f8:c8:0:0:9 -i vif7.0 -j DROP\n"
        "-A i-2-3-VM -p IPv4 -i vif7.0 --ip-proto udp --ip-dport 68 -j DROP\n"
        "-A i-2-3-VM -p IPv4 -o vif7.0 --ip-proto udp --ip-dport 67 -j DROP\n"
        "-I FORWARD 2 -i vif7.0 -j i-2-3-VM\n"
        "-A FORWARD -o vif7.0 -j i-2-3-VM\n");
  options.existing_chains = {"i-2-3-VM"};
  CHECK_THAT(render_ebtables_restore(plan.ebtables, options),
             Catch::StartsWith("*filter\n-F i-2-3-VM\n-A i-2-3-VM -s !"));

  options.first_position.clear();
  const auto commands = render_arptables_commands(plan.arptables, options);
  REQUIRE(commands.size() == 1 + 5 + 2);
  CHECK(commands[0] == std::vector<std::string>{"-F", "i-2-3-VM"});
  CHECK(join(commands[1]) == "-A i-2-3-VM -j ACCEPT -i vif7.0 -s 10.147.41.238 "
                             "--src-mac 06:f8:c8:00:00:09 --h-length 6 --opcode Reply");
  CHECK(join(commands[5]) == "-A i-2-3-VM -j DROP");
  CHECK(join(commands[6]) == "-I FORWARD 1 -j i-2-3-VM -i vif7.0");
  CHECK(join(commands[7]) == "-A FORWARD -j i-2-3-VM -o vif7.0");
}

TEST_CASE("format_rule_line quotes only words that need it", "[sgrender]") {
  CHECK(format_rule_line("-A", {"x", {"-m", "comment", "--comment", "a \"b\"", "-j", "RETURN"}}) ==
        "-A x -m comment --comment \"a \\\"b\\\"\" -j RETURN");
}
