// What a host's bridge firewall means, per VM: the live tables read back
// into the security-group model (sg-show), and the grouping of rules by VM
// that sg-diff compares.
//
// Which rules are a VM's: its chains (iptables ingress <c>, egress <c>-eg,
// default <c>-def or CloudStack's older <base>-def, and their ip6tables
// twins of the same names; ebtables and arptables chain <c>; a system VM's
// one chain), the rules of shared chains (FORWARD, BRIDGE-FIREWALL) that
// jump to them, and the ebtables IPv6 gate's (kIpv6Gate) rules for its VIFs.  Chains are recognized by
// recognize_chain(), so CloudStack's two naming generations (i-2-3-VM-def and
// i-2-3-def) and sg-apply's names (hashed when long) all land on their VM.
// An older-generation default chain belongs to the VM whose ingress or egress
// chain it jumps to.
//
// Everything here is pure: tables in, model out, text/JSON out.
//
// Where it lives: read_back.cpp (a rule's words -> a security-group rule),
// chain_owners.cpp (which VM a chain is), build_view.cpp and vm_identity.cpp
// (snapshot -> FirewallView), print_view.cpp (the one walk that prints text,
// raw and JSON through view_printer.hpp's printers).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "firewall_snapshot.hpp"
#include "netfilter.hpp"
#include "sg_rules.hpp"

namespace vifwall {

// One rule as the dump had it, and where it sits.
struct ViewRule {
  // "iptables", "ip6tables", "ebtables", "arptables", or "ebtables-nat"
  // (CloudStack vmops' MAC checks, vmops_layout.hpp)
  std::string table;
  std::string chain;
  std::vector<std::string> args;  // after "-A CHAIN"
  std::optional<RuleCounters> counters;
  std::size_t position = 0;       // 1-based within its chain
};

// A rule of an ingress or egress chain in security-group terms.
struct ReadBackRule {
  Direction direction = Direction::ingress;
  // Understood: the rule has the shape sg-apply or CloudStack write (a
  // protocol, ports or ICMP type, a set or address match of the peer, state
  // NEW, ACCEPT for ingress, RETURN or ACCEPT for egress).  Then `sg` holds
  // it as an SgRule.  Otherwise `text` shows the raw rule.
  bool understood = false;
  SgRule sg;
  std::string set;          // the ipset the rule matches, "" when none
  bool set_missing = false; // that set is not in the ipset dump
  std::string target;       // -j
  std::string text;         // format_rule_readable(sg), or the raw words
  ViewRule rule;
  std::size_t merged = 1;   // the rules of the dump it stands for (group_cidr_rules)
};

// Set name -> members (as IpSet::members: normalized, sorted).
using SetMembers = std::map<std::string, std::vector<std::string>>;
SetMembers set_members_of(const IpsetDump &dump);

// Reads one rule of an ingress (or egress) chain back.  `sets` gives the
// members of the sets it may match; a member without a prefix length means
// a host (/32, /128).  A protocol printed by name (`gre`) becomes its number.
// `ipv6`: a rule of ip6tables (ICMPv6 as "icmpv6", no address as ::/0).
ReadBackRule read_back_rule(Direction direction, const std::vector<std::string> &args,
                            const SetMembers &sets, bool ipv6 = false);

// ip6tables holds one rule per CIDR (sg_render.hpp's render_vm_rules): runs
// of understood rules with the same protocol, ports or type and target and
// an address each (no set) become one rule of all their CIDRs, as the rule
// string had it.  The merged rule keeps the first one's words and position
// and the sum of their counters; `merged` counts the rules it stands for.
std::vector<ReadBackRule> group_cidr_rules(std::vector<ReadBackRule> rules);

// Whether an unconditional "-j TARGET" (nothing else) -- a chain's default.
bool is_unconditional(const std::vector<std::string> &args);

// One anti-spoofing protection and the VIFs it covers.
struct Protection {
  // "ip", "mac", "arp", "dhcp"; for IPv6 (ip6tables -def): "ipv6" (source
  // check), "ra" (router advertisements and redirects from the VM dropped),
  // "na" (neighbour advertisements only for its own addresses), "dhcpv6"
  // (DHCPv6 server traffic from the VM dropped)
  std::string name;
  std::string how;                       // "iptables", "ip6tables", "ebtables", "arptables"
  std::vector<std::string> vifs;         // VIFs with the protection
  std::vector<std::string> missing_vifs; // VIFs of the VM without it
  bool in_place() const { return !vifs.empty() && missing_vifs.empty(); }
};

struct ViewVif {
  std::string name;                   // "vif7.0", "tap8.0"
  std::optional<std::int64_t> dom_id; // from the name
  // Which shared chains send the VIF's traffic to the VM's chains
  // ("iptables in", "iptables out", "ebtables in", ...).
  std::vector<std::string> jumps;
};

// Something of a VM (or of no VM) that neither sg-apply's layout nor
// CloudStack's working layout needs: a duplicated rule, a MAC check of a VIF
// no VM has, a per-rule set nothing uses (vmops_layout.hpp).
struct Leftover {
  std::string kind;  // "duplicate", "stale-nat-mac-check", "unused-set"
  std::string table; // "arptables", "ebtables", "ebtables-nat", "iptables", "ipset"
  std::string chain; // "" for a set
  std::vector<std::string> args; // the rule's words; {set name} for a set
  std::size_t position = 0;      // 1-based in its chain (0 for a set)
  std::string text;  // for people: "arptables FORWARD 5: -j i-2-3-VM -i vif7.0 (a second copy)"
};

// What marks a VM as programmed by CloudStack's own plugin rather than by
// sg-apply (whose layout is otherwise the same).
struct VmopsTraits {
  std::vector<std::string> rule_sets; // per-rule sets in vmops' naming its rules use
  std::vector<std::string> nat_mac_vifs; // VIFs whose MAC check is in the ebtables nat table
  bool any() const { return !rule_sets.empty() || !nat_mac_vifs.empty(); }
};

// What the DROP rules of a VM (or of the host) have dropped, summed by why
// they drop: the answer to "why was this dropped" next to the rules.
//   VM:   "ingress-default" (no ingress rule allowed it), "egress-default",
//         "spoofing" (anti-spoofing: IP, MAC, ARP in any table),
//         "dhcp-server" (DHCP answers from the VM, requests to it),
//         "other" (any other DROP rule of its chains);
//   host: one per DROP rule of the host chains (DEFAULT_EBTABLES: IPv6,
//         broadcast, VLAN...; BRIDGE-FIREWALL/FORWARD's last rule: bridged
//         traffic of no VM) and per built-in chain whose policy is DROP.
// Only when the dump had counters.
struct DropCount {
  std::string kind;
  std::string text;            // for people: "ingress default", "ebtables DEFAULT_EBTABLES -p IPv6"
  RuleCounters counters;       // the sum (approximate when one count is)
  std::vector<ViewRule> rules; // the rules counted (a policy: position 0, no args)
};

// One NIC of a user VM as the firewall has it (issue #15): the VIFs whose
// -def rules check the same address set, that set's members, the MAC its
// ebtables rules let through.  The device comes from the set's name
// (sg_names.hpp: <vm> for NIC 0, <set_base>-n<N>, -6, -6n<N>), else from
// the VIF's name (vif7.1 is device 1).
struct ViewNic {
  int device = 0;
  std::vector<std::string> vifs;
  std::optional<std::string> mac;
  std::string ipset, ipset6;             // "" when none checks its VIFs
  bool ipset_missing = false, ipset6_missing = false; // checked but not in the dump
  std::vector<std::string> ipv4, ipv6;   // the sets' members
  // Like VmView::protections, over the NIC's VIFs (the IPv6 ones when any
  // VIF of the NIC has IPv6: rules in ip6tables or the IPv6 gate).
  std::vector<Protection> protections;
};

enum class Naming {
  current, // <vm>-def: CloudStack 4.x's vmops and sg-apply
  old,     // <base>-def (i-2-3-def): CloudStack before 4.9-ish
};
const char *to_string(Naming naming);

struct VmView {
  std::string name;   // the VM name (or the chain base when the VM is not known)
  bool system = false;
  Naming naming = Naming::current;
  // The VM's chains, by table ("iptables" -> {"i-2-3-VM", ...}), in table order.
  std::map<std::string, std::vector<std::string>> chains;
  std::string ingress_chain, egress_chain, def_chain; // iptables, "" when absent
  std::vector<ViewVif> vifs;
  std::string ipset;                 // the set of the VM's own addresses
  bool ipset_missing = false;        // referenced but not in the ipset dump
  std::vector<std::string> ips;      // its members
  std::optional<std::string> mac;    // from the ebtables (or arptables) rules
  // ip, mac, arp, dhcp (user VMs), and ipv6, ra, na, dhcpv6 when a VIF has
  // IPv6 (rules in ip6tables or the IPv6 gate), over all its VIFs.
  std::vector<Protection> protections;
  std::vector<ViewNic> nics;          // user VMs, by device
  std::vector<ReadBackRule> ingress, egress; // without the final default rule
  // The final unconditional target of each chain ("DROP", "RETURN", ...);
  // "" when the chain is missing or does not end with one.
  std::string ingress_default, egress_default;
  // The same for the ip6tables twins of the chains (same names); the chain
  // names are "" when ip6tables has no such chain of the VM.
  std::string ingress6_chain, egress6_chain, def6_chain;
  std::vector<ReadBackRule> ingress6, egress6; // CIDRs grouped (group_cidr_rules)
  std::string ingress6_default, egress6_default;
  std::vector<ViewRule> raw;          // every rule of the VM, grouped by table
                                      // (iptables, ip6tables, ebtables, arptables)
  std::vector<IpSet> sets;            // the sets its rules use, and leftovers
  std::vector<std::string> unused_sets; // sets named after the VM that no rule uses
  VmopsTraits vmops;
  std::vector<Leftover> leftovers;
  std::vector<DropCount> drops;      // in the order of DropCount's kinds
};

struct HostCheck {
  std::string what;   // "FORWARD jumps to BRIDGE-FIREWALL"
  bool present = false;
  bool required = true; // part of the setup (false: informational)
};

struct HostView {
  std::vector<HostCheck> checks;
  std::vector<std::string> uplinks; // FORWARD accepts bridged traffic out of these
  std::vector<ViewRule> raw;        // the host chains and their jumps, grouped by table
  // Of no VM: vmops' MAC checks of VIFs no VM's chains use, vmops-named
  // per-rule sets no rule uses and no VM claims.
  std::vector<Leftover> leftovers;
  std::vector<DropCount> drops;     // by rule, in table order
  bool complete() const;            // every required check present
  bool absent() const;              // no required check present
};

struct FirewallView {
  HostView host;
  std::vector<VmView> vms; // sorted by natural_less of the name (find() relies on it)
  std::vector<std::string> warnings;
  // Which tables were read (a VM's protections can only be judged from them).
  bool have_iptables = false, have_ip6tables = false, have_ebtables = false, have_arptables = false,
       have_ipsets = false;

  const VmView *find(const std::string &name) const;
};

// Builds the per-VM view.  `known_vms` (from the state directory or xe) lets
// hashed chain names of long VM names show under the VM name.
FirewallView build_view(const FirewallSnapshot &snapshot,
                        const std::vector<std::string> &known_vms = {});

// What sg-show and sg-check read: the firewall of `from_dir` (a snapshot)
// or of this host (empty `from_dir`), and its view, with the VM names
// recorded in `state_dir` for hashed chain names.  Errors: read_firewall's.
struct FirewallReading {
  FirewallSnapshot snapshot;
  FirewallView view;
};
Result<FirewallReading> read_firewall_view(const std::string &from_dir, CommandRunner &runner,
                                           const CaptureOptions &options, const std::string &state_dir);

// The VMs with rules, one name a line (the tools' --list-vms, for completion).
std::string render_vm_names(const FirewallView &view);

// Every chain's rules in order, at once (FwTable::rules_of scans the whole
// table on each call, which adds up over hundreds of VMs).
using RulesByChain = std::map<std::string, std::vector<const FwRule *>>;
RulesByChain rules_by_chain(const FwTable &table);

// The owner of a chain as build_view groups it ("" for chains of no VM):
// exposed for sg_compare, which must group live rules the same way.
// ebtables: also the IPv6 gate's rules are their VIF's VM's (gate_vifs).
struct ChainOwners {
  std::map<std::string, std::string> iptables, ip6tables, ebtables, arptables; // chain -> VM
  // VIF -> VM, for the rules of the shared IPv6 gate (kIpv6Gate), which name
  // a VIF and jump nowhere: the VM whose chains (iptables or ip6tables) that
  // VIF goes through.
  std::map<std::string, std::string> gate_vifs;
};
ChainOwners chain_owners(const FirewallSnapshot &snapshot, const std::vector<std::string> &known_vms);

// The VM an ebtables rule of the IPv6 gate (kIpv6Gate, "-i/-o VIF -j
// RETURN") is for: the owner of the VIF it names ("" for any other rule,
// and for a VIF of no VM's chains).
std::string ipv6_gate_owner(const FwRule &rule, const ChainOwners &owners);

struct ViewTextOptions {
  bool counters = true; // packet/byte counts per rule when the dump has them
  bool exact = false;   // counts as printed by the tool, not 2.4k / 244K
  bool host = true;     // the host-wide part
};

// The admin's view: per VM identity, protections, rules, defaults.
std::string render_view_text(const FirewallView &view, const std::vector<const VmView *> &vms,
                             const ViewTextOptions &options);
// The raw rules (and sets) grouped by VM, in the save tools' syntax.
std::string render_view_raw(const FirewallView &view, const std::vector<const VmView *> &vms,
                            const ViewTextOptions &options);
// The same model as JSON (schema in sg-show(8)): every fact of the text and
// raw views, by the same print_view() calls (view_printer.hpp).
std::string render_view_json(const FirewallView &view, const std::vector<const VmView *> &vms,
                             bool with_host, bool pretty);

} // namespace vifwall
