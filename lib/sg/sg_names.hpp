// Names of the chains and ipsets that hold one VM's security group.
//
// For names that fit, these are exactly CloudStack's current XenServer names
// (vmops, cloudstack-sg.md §1), so a host set up by CloudStack and one set up
// by sg-apply look the same:
//   user VM i-2-3-VM:  ingress chain  i-2-3-VM      (also the ebtables and
//                      egress chain   i-2-3-VM-eg    arptables chain)
//                      default chain  i-2-3-VM-def
//                      VM ipset       i-2-3-VM
//   system VM r-4-VM:  one chain      r-4-VM (ingress == def; no egress use)
//
// What is fixed (CloudStack cuts names at 24/27/13 characters, so long names
// collide and `-def` chains can exceed iptables' limit):
//  * every chain name, suffix included, is at most 28 characters (iptables'
//    limit), every set name at most 31 (ipset's limit);
//  * a name that does not fit is shortened to a readable prefix plus "-" and
//    a 7-character hash of the FULL name (FNV-1a 64, base32 a-z2-7), so two
//    long names sharing a prefix still differ;
//  * a name that could be mistaken for a shortened one, a suffixed one or a
//    target (it ends in "-eg", "-def", "-<7 hash chars>" or
//    "-[ie]<digits>[ab]", or has no lower-case letter, like DROP or
//    BRIDGE-FIREWALL) is hashed too, so no two VM names ever map to the same
//    chain or set (short of a 35-bit hash collision).
//
// Per-rule ipsets (our scheme, CloudStack's is collision-prone):
//   <set_base>-<d><N><g>     e.g. i-2-3-VM-i1a, i-2-3-VM-e12b
//   d = 'i' ingress / 'e' egress, N = 1-based position of the rule among the
//   rules of that direction (1..9999), g = generation 'a' or 'b'.
// set_base is at most 24 characters, so the whole name fits in 31.
//
// Per-NIC sets (issue #15): NIC 0's IPv4 addresses stay in the VM ipset
// (CloudStack's name); the others are <set_base> plus
//   -n<N>    IPv4 of NIC N (1..15)       i-2-3-VM-n1
//   -6       IPv6 of NIC 0 (KVM's name)  i-2-3-VM-6
//   -6n<N>   IPv6 of NIC N               i-2-3-VM-6n1
// A VM whose own name ends like that gets a hashed set name.  The
// generation lets a rule update load the NEW sets under new names, switch the
// chains to them in one iptables-restore, then destroy the old generation: at
// no moment do old rules meet new set contents.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "sg_rules.hpp"

namespace vifwall {

// Longest names we produce (the kernel's limits minus the terminating NUL).
// The host-wide chains of CloudStack's layout (iptables filter; ebtables
// filter for DEFAULT_EBTABLES), and the built-in chain they hang off.
inline const std::string kBridgeFirewall = "BRIDGE-FIREWALL";
inline const std::string kBridgeDefaultFirewall = "BRIDGE-DEFAULT-FIREWALL";
inline const std::string kDefaultEbtables = "DEFAULT_EBTABLES";
inline const std::string kForward = "FORWARD";
// The ebtables chain that lets IPv6 through only for the VIFs of NICs with
// IPv6 addresses (jumped from DEFAULT_EBTABLES when the host setup has its
// IPv6 layer; each such VIF RETURNs, everything else is dropped).
inline const std::string kIpv6Gate = "DEFAULT_EBTABLES_IPV6";

inline constexpr std::size_t kMaxChainName = 28;
inline constexpr std::size_t kMaxSetName = 31;
// Longest chain base: room for "-def".
inline constexpr std::size_t kMaxChainBase = kMaxChainName - 4;
// Longest set base: room for "-i9999a".
inline constexpr std::size_t kMaxSetBase = kMaxSetName - 7;
// Highest rule position a per-rule set name can carry.
inline constexpr std::size_t kMaxRulesPerDirection = 9999;

struct VmNames {
  std::string ingress;  // iptables ingress chain; also the ebtables/arptables chain
  std::string egress;   // iptables egress chain (<ingress>-eg)
  std::string def;      // iptables default chain (<ingress>-def; == ingress for system VMs)
  std::string ipset;    // set of the VM's own addresses
  std::string set_base; // prefix of the per-rule sets
  bool operator==(const VmNames &) const = default;
};

// Router, secondary storage, console proxy or load balancer VM: r-, s-, v-, l-.
bool is_system_vm(const std::string &vm_name);

// The names for one VM.  Deterministic.  `vm_name` should have passed
// validate_vm_name(); other names still give bounded, distinct names.
VmNames names_for_vm(const std::string &vm_name);

// The per-rule set for the `index`-th (1-based) rule of `direction`.
// `generation` is 'a' or 'b'; index is at most kMaxRulesPerDirection (the
// renderer checks both; out-of-range values still give a name of <= 31
// characters, never a longer one).
std::string rule_set_name(const VmNames &names, Direction direction,
                          std::size_t index, char generation);

// The set of NIC `device`'s IPv4 (`ipv6` false) or IPv6 addresses; see the
// table above.
std::string nic_set_name(const VmNames &names, int device, bool ipv6);

// The set base a per-rule set or a NIC's set name starts with (to find the
// VM it belongs to: compare with names_for_vm(vm).set_base); nullopt for a
// name of neither shape.
std::optional<std::string> set_base_of(const std::string &set_name);

// What a per-rule set name says about itself (for cleanup of the old
// generation and of sets whose VM is gone).
struct RuleSetName {
  std::string set_base;
  Direction direction = Direction::ingress;
  std::size_t index = 0;
  char generation = 'a';
  bool operator==(const RuleSetName &) const = default;
};
std::optional<RuleSetName> recognize_rule_set(const std::string &set_name);

enum class ChainKind {
  global,  // BRIDGE-FIREWALL, BRIDGE-DEFAULT-FIREWALL, DEFAULT_EBTABLES
  ingress, // i-2-3-VM
  egress,  // i-2-3-VM-eg
  def,     // i-2-3-VM-def, and the older i-2-3-def
  system,  // r-4-VM, s-1-VM, v-2-VM, l-...: the system VM's only chain
};

struct RecognizedChain {
  // The VM-ish part: the chain base ("i-2-3-VM", "i-2-3" for the older
  // "i-2-3-def", a hashed base for long names, the chain itself for globals).
  // Compare it with names_for_vm(vm).ingress to find the chain's VM.
  std::string base;
  ChainKind kind = ChainKind::ingress;
  bool operator==(const RecognizedChain &) const = default;
};

// Tells whether a chain of a host (iptables, ebtables or arptables) looks
// like one CloudStack or sg-apply creates: the global chains, or a name
// starting with i-, r-, s-, v- or l- and a digit, made of VM-name
// characters.  Both CloudStack generations of the default chain are
// recognized (i-2-3-def and i-2-3-VM-def).  nullopt for anything else
// (FORWARD, RH-Firewall-1-INPUT, FORWARD_vif7.0, ...).
std::optional<RecognizedChain> recognize_chain(const std::string &chain);

const char *to_string(ChainKind kind);

// A scratch set for replacing the contents of the live set `set_name`
// atomically (create it, fill it, `swap` it with the live one, destroy it):
// "vifwall-tmp-" and the hash of `set_name`, 19 characters.
std::string swap_set_name(const std::string &set_name);

} // namespace vifwall
