// The DESIRED bridge firewall of a XenServer host, as data.
//
// What CloudStack's vmops plugin installs (cloudstack-sg.md §2, §3), with its
// bugs fixed: host setup, a user VM's defaults (anti-spoofing, DHCP/DNS
// bypasses, ARP filtering), a system VM's pass-through chain, and the
// ingress/egress chains of a rule set.  Nothing here runs a command: the
// applier reads the live tables, diffs against these plans and loads the
// difference with one iptables-restore --noflush, one ipset restore, one
// ebtables-restore --noflush and arptables commands (the render_*_restore
// helpers print plans in those formats).
//
// Rule arguments are written the way the save tools print them back, so a
// plan compares with parsed live rules token by token:
//  * iptables (iptables-save order, formats.md §6): -s -d -i -o -p, then each
//    "-m MODULE options" in the order the match was loaded, then -j; negation
//    before the option ("-m set ! --match-set S src"); physdev prints
//    --physdev-in, --physdev-out, then --physdev-is-bridged; udp prints
//    --sport before --dport.  Exceptions the diff must normalize: iptables-save
//    prints protocol numbers it finds in /etc/protocols by name (-p 47 comes
//    back as -p gre), and a host address as a.b.c.d/32.
//  * ebtables (legacy ebtables-save order, as in the seed): -p, -s, -d, -i,
//    -o, match options, -j; negation after the option ("-s ! MAC").  MACs are
//    written the way legacy ebtables prints them, without leading zeros
//    (6:f8:c8:0:0:9), because XenServer's dom0 runs legacy ebtables and the
//    seed shows that form; both ebtables flavours accept it on input, and
//    ebtables-nft prints 06:f8:c8:00:00:09 (compare MACs via normalize_mac).
//  * arptables (the order `arptables -L` prints): -j TARGET, -i, -o, -s, -d,
//    --src-mac, --dst-mac, --h-length, --opcode.  Opcodes by name (Request,
//    Reply) as -L prints them (-L -n and legacy arptables-save print 1, 2).
//    Rules matching a MAC carry "--h-length 6": arptables 0.0.5 refuses a
//    MAC match without it ("no --h-length defined"), 0.0.4 accepts it, and
//    for Ethernet it changes nothing.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "error.hpp"
#include "sg_names.hpp"
#include "sg_nic.hpp"
#include "sg_rules.hpp"

namespace vifwall {

// One rule in a chain we share with others.
struct RuleSpec {
  std::string chain;
  std::vector<std::string> args; // as typed after "-A CHAIN"
  bool operator==(const RuleSpec &) const = default;
};

// A chain we own entirely: its full content, in order.
struct ChainContent {
  std::string name;
  std::vector<std::vector<std::string>> rules;
  // ebtables only: the chain policy ("ACCEPT" for the chains CloudStack
  // creates, ebtables' default for user chains, as the seed shows).
  // Empty for iptables and arptables, whose user chains have none.
  std::string policy;
  bool operator==(const ChainContent &) const = default;
};

struct SetContent {
  std::string name;
  std::string type;   // "hash:net" (CloudStack's nethash)
  std::string family; // "inet"
  // Canonical as `ipset save` prints hash:net members: a host without "/32",
  // a network with its host bits cleared ("10.1.0.0/16"); no duplicates.
  std::vector<std::string> members;
  bool operator==(const SetContent &) const = default;
};

// One table of one family (iptables filter, ebtables filter, arptables filter).
struct TablePlan {
  std::vector<ChainContent> owned_chains; // chains we own: full content in order
  // User chains the plan jumps to or fills with jumps but does not own
  // (BRIDGE-FIREWALL holds every VM's jumps): created when missing, never
  // flushed.
  std::vector<std::string> shared_chains;
  // Rules at the top of a shared chain (FORWARD, BRIDGE-FIREWALL), in order:
  // when plans are combined (host setup first, then VMs), all jumps_first of
  // a chain come before its other rules, in plan order.
  std::vector<RuleSpec> jumps_first;
  // Rules at the end of a shared chain, in order, after everything else.
  std::vector<RuleSpec> jumps_last;
  // Foreign rules to delete when present (the host setup removes XenServer's
  // stock "FORWARD -j RH-Firewall-1-INPUT", as CloudStack does).
  std::vector<RuleSpec> remove_rules;
  bool operator==(const TablePlan &) const = default;
};

struct VmPlan {
  // ip6tables is the IPv6 twin of iptables (same chain names, its own
  // table): empty unless the host setup has its IPv6 layer or a VM has IPv6.
  TablePlan iptables, ip6tables, ebtables, arptables;
  std::vector<SetContent> sets;
  // Things the plan deliberately leaves out, for the user (e.g. IPv6 CIDRs).
  std::vector<std::string> notes;
  bool operator==(const VmPlan &) const = default;
};

// Adds `from` to `into`: every list is appended in order (shared chains
// without duplicates).  Combine the host setup first, then each VM's defaults
// and rules, to get the host's whole desired firewall.
void append_plan(VmPlan &into, const VmPlan &from);

// The desired content of `chain` in `table`: an owned chain's rules, or a
// shared chain's jumps_first followed by its jumps_last (foreign rules of a
// shared chain sit between the two and are not ours to list).
std::vector<std::vector<std::string>> planned_rules(const TablePlan &table,
                                                    const std::string &chain);

// How ARP spoofing is stopped.  arptables: CloudStack's layout (FORWARD jumps
// and a per-VM arptables chain), for hosts with legacy arptables.  ebtables:
// the same checks as "-p ARP" rules in the VM's ebtables chain, for hosts
// whose arptables is arptables-nft, which has no FORWARD hook.
enum class ArpFilter { arptables, ebtables };

// Host setup (cloudstack-sg.md §2a): iptables chains BRIDGE-DEFAULT-FIREWALL
// (RELATED,ESTABLISHED and the two DHCP accepts) and BRIDGE-FIREWALL (first
// rule jumps to BRIDGE-DEFAULT-FIREWALL), FORWARD jumps to BRIDGE-FIREWALL,
// accepts bridged traffic leaving through each uplink ("eth0" -> "eth0+"),
// and ends with DROP; ebtables chain DEFAULT_EBTABLES with CloudStack's
// twelve rules, jumped to first from FORWARD.  With ArpFilter::ebtables the
// two ARP rules of DEFAULT_EBTABLES RETURN instead of ACCEPT, so ARP reaches
// the VM chains that check it (an ebtables ACCEPT would end the check).
// With `ipv6` (sg-apply setup --ipv6) the host also gets its IPv6 layer:
// the same BRIDGE-DEFAULT-FIREWALL (RELATED,ESTABLISHED only: DHCPv6 is a
// per-VIF matter), BRIDGE-FIREWALL and FORWARD layout in ip6tables, and in
// ebtables DEFAULT_EBTABLES sends IPv6 to the gate chain kIpv6Gate, whose
// last rule drops it; a VM NIC with IPv6 adds "-i/-o VIF -j RETURN" at the
// gate's top, and DEFAULT_EBTABLES then RETURNs its IPv6 to the VM chains
// (MAC check) and ip6tables.  Without it, IPv6 is dropped for every port.
// Errors: an uplink that is not a valid interface name.
Result<VmPlan> render_host_setup(const std::vector<std::string> &uplinks,
                                 ArpFilter arp = ArpFilter::arptables,
                                 bool ipv6 = false);

struct VmIdentity {
  std::string vm_name;                    // i-2-3-VM
  std::string vm_id;                      // "3"; optional, checked when set
  // NIC 0:
  std::string ip;                         // primary IPv4
  std::vector<std::string> secondary_ips; // IPv4
  std::string mac;                        // any spelling validate_mac takes
  std::vector<std::string> vifs;          // vif7.0 [, tap7.0]
  std::vector<std::string> ipv6;          // NIC 0's IPv6 addresses
  std::vector<VmNic> other_nics;          // devices 1..15
};

// Whether any NIC of the VM has an IPv6 address (then it gets ip6tables
// chains and IPv6 sets, and its host needs the IPv6 layer).
bool has_ipv6(const VmIdentity &vm);

// A user VM's defaults (cloudstack-sg.md §2b), everything validated first:
//  * ipset <vm> (hash:net) with the primary and secondary IPs;
//  * iptables <c>-def: per VIF, DNS from the VM's IPs bypasses egress rules,
//    traffic from other source IPs or to other destination IPs is dropped,
//    then from the VM -> <c>-eg, to the VM -> <c> (those two chains come
//    from render_vm_rules(): apply both together);
//    BRIDGE-FIREWALL jumps per VIF: --physdev-in first, --physdev-out last;
//  * ebtables chain <c> (per VIF: other source MACs dropped, the VM may not
//    answer DHCP nor receive DHCP requests), FORWARD -i VIF first, -o VIF last;
//  * ARP: arptables chain <c> (per IP, secondaries first, per VIF: the VM may
//    reply/ask only as itself, others may ask for / reply to its IP only;
//    then DROP), FORWARD -i VIF first, -o VIF last; or with
//    ArpFilter::ebtables the same checks as -p ARP rules after the rules
//    above in the ebtables chain, ending with "-p ARP -j DROP".
// Every NIC (NIC 0 and other_nics) gets the above on its own VIFs with its
// own MAC and its own set (nic_set_name); the VM's chains <c> and <c>-eg are
// shared by all of them.  For a NIC with IPv6 addresses, also:
//  * ipset nic_set_name(.., true), hash:net family inet6: its link-local
//    (EUI-64 from the MAC) and its addresses;
//  * ip6tables <c>-def, per VIF (RFC 4890 for ICMPv6): from the VM, router
//    advertisements, redirects and DHCPv6 server traffic dropped; duplicate
//    address detection from :: let through; other sources not in the set
//    dropped; neighbour advertisements only for its own addresses (the
//    target, checked with -m u32 at the ND target's offset) and, like
//    solicitations, only with hop limit 255; ICMPv6 errors and echo,
//    DHCPv6 client requests, DNS past the egress rules; then -> <c>-eg.
//    To the VM: RA, NS, NA (hop limit 255) and DHCPv6 replies; other
//    destinations not in the set dropped; ICMPv6 errors and echo; then -> <c>.
//    ip6tables BRIDGE-FIREWALL jumps per VIF as in iptables;
//  * ebtables: its VIFs RETURN from the IPv6 gate (kIpv6Gate).
// A MAC of ff:ff:ff:ff:ff:ff means "unknown" to CloudStack: then, as in
// CloudStack, no ebtables or ARP rules are rendered for that NIC (a note
// says so).
// Errors: invalid values, no VIF, a VIF listed twice (in any NIC), a NIC
// device outside 1..15 or listed twice, a system VM name.
Result<VmPlan> render_user_vm_defaults(const VmIdentity &vm, ArpFilter arp);

// A system VM's chain (cloudstack-sg.md §2c): traffic from the VM RETURNs
// (unfiltered), traffic to it is accepted; BRIDGE-FIREWALL jumps per VIF.
// Errors: invalid values, no VIF, a repeated VIF, a name that is not r-, s-,
// v- or l-.
Result<VmPlan> render_system_vm(const std::string &vm_name,
                                const std::vector<std::string> &vifs);

// The ingress chain <c> and egress chain <c>-eg of a user VM for `rules`
// (cloudstack-sg.md §3), fixed:
//  * rules appear in the given order (CloudStack reversed them);
//  * ingress rules ACCEPT what they match (source in the rule's CIDRs),
//    egress rules RETURN it (destination in the CIDRs; the packet goes on to
//    FORWARD's uplink ACCEPT or the destination VM's checks);
//  * tcp/udp "-p tcp -m tcp --dport S[:E]" (no port match for 0-65535), icmp
//    "-p icmp -m icmp --icmp-type T[/C]|any", all: no protocol, other numbers
//    "-p N" (1, 6, 17 are written icmp, tcp, udp; 0 means all);
//    "-m state --state NEW" on every rule but icmp, as CloudStack does;
//  * a rule allowing any IPv4 address (0.0.0.0/0) renders one rule without a
//    set (also for "all", which CloudStack silently dropped); otherwise the
//    rule's IPv4 CIDRs go into its own hash:net set rule_set_name(names,
//    direction, position, generation) matched with "-m set --match-set S
//    src" (ingress) or "dst" (egress);
//  * a rule with no CIDR of a family renders nothing in that family's table;
//  * <c> ends with DROP; <c>-eg ends with RETURN when there are no egress
//    rules (egress open), else with DROP.
// With `ipv6` (the VM has IPv6 addresses), the same chains in ip6tables:
// each rule's IPv6 CIDRs as one rule per CIDR ("-s/-d CIDR", no set:
// ip6tables-restore replaces the chain atomically), ::/0 as one rule
// without an address; icmp and icmpv6 as "-p ipv6-icmp -m icmp6
// --icmpv6-type T[/C]" (no match for any type).  The default actions are
// the VM's, not each family's: once a VM has egress rules, both families'
// <c>-eg end with DROP.  Without `ipv6`, IPv6 CIDRs are left out with a note.
// `generation` must be 'a' or 'b'.  Errors: an invalid rule (with its
// 1-based position), more than kMaxRulesPerDirection rules of a direction,
// system VM names (their chain is render_system_vm()'s).
Result<VmPlan> render_vm_rules(const VmNames &names,
                               const std::vector<SgRule> &rules,
                               char generation, bool ipv6 = false);

// ---- restore formats --------------------------------------------------------

struct RestoreOptions {
  // User chains that exist in the live table.  Shared chains missing from it
  // are declared (created); ebtables owned chains in it are flushed with -F
  // instead of being declared.
  std::vector<std::string> existing_chains;
  // 1-based position of the first jumps_first rule in each shared chain
  // (default 1).  Applying one VM's plan to a set-up host: 2 for
  // BRIDGE-FIREWALL (after its BRIDGE-DEFAULT-FIREWALL jump) and for ebtables
  // FORWARD (after -j DEFAULT_EBTABLES).
  std::map<std::string, std::size_t> first_position;
  // Rules to delete first (stale jumps, remove_rules found on the host).
  // Each must exist: a failed -D fails the whole restore.
  std::vector<RuleSpec> deletions;
  // Chains to flush and delete (after the deletions removed the jumps to them).
  std::vector<std::string> destroy_chains;
};

// One rule as "-A CHAIN args" (or with `command` "-I CHAIN 2", "-D CHAIN"):
// words joined by spaces, a word quoted only if it has blanks or quotes.
std::string format_rule_line(const std::string &command, const RuleSpec &rule);

// iptables-restore --noflush input for the filter table:
//   *filter / ":OWNED - [0:0]" for each owned chain (in --noflush this
//   creates or flushes it) and each missing shared chain / -D deletions /
//   -F then -X destroyed chains / -A owned rules / -I CHAIN N jumps_first /
//   -A jumps_last / COMMIT
std::string render_iptables_restore(const TablePlan &plan,
                                    const RestoreOptions &options = {});

// ebtables-restore input for the filter table, in the same order (":C POLICY"
// for a missing owned chain, "-F C" for an existing one; no COMMIT line,
// which legacy ebtables-restore would reject).  --noflush needs
// ebtables-nft-restore: legacy ebtables-restore rebuilds each table it
// reads, so on legacy hosts feed it the whole table or use ebtables commands.
std::string render_ebtables_restore(const TablePlan &plan,
                                    const RestoreOptions &options = {});

// The same as arptables argument vectors (without the program name), one
// command each: -N (missing owned) or -F (existing owned), deletions, -F/-X
// destroyed chains, -A, -I CHAIN N, -A.  (Legacy arptables-restore flushes
// every chain first, so sg-apply runs commands.)
std::vector<std::vector<std::string>>
render_arptables_commands(const TablePlan &plan,
                          const RestoreOptions &options = {});

// `ipset restore` input: a set not in `existing_sets` is created and filled;
// an existing one is refilled atomically through swap_set_name(): create
// (then flush, in case a failed run left it), add, swap, destroy.  Meant for
// `ipset -exist restore`.
std::string render_ipset_restore(const std::vector<SetContent> &sets,
                                 const std::vector<std::string> &existing_sets = {});

// `ipset restore` input destroying sets (old rule-set generations, sets of
// VMs that are gone); run it after iptables stopped referencing them.
std::string render_ipset_destroy(const std::vector<std::string> &set_names);

} // namespace vifwall
