// sg-apply's per-VM state files in the state directory (default
// /var/run/cloud, CloudStack's):
//
//  <vm>.log    CloudStack's line "vmName,vmID,vmIP,domID,signature,seqno,vmMac"
//              (KVM writes 6 fields, without the MAC; both are read), so the
//              plugin's decision table works the same and existing tooling
//              still reads it.
//  <vm>.state  vifwall's record of what was applied (identity, VIFs, the
//              rules, the ARP filter, the ipset generation), so that sg-diff
//              can check the live firewall with no other input.
//
// Both are written atomically (temp file + rename).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "sg_nic.hpp"

namespace vifwall {

struct RuleLog {
  std::string vm_name;
  std::string vm_id;
  std::string vm_ip;
  std::string dom_id;
  std::string signature;
  std::string seqno;
  std::string mac; // empty when the log had 6 fields
  bool operator==(const RuleLog &) const = default;
};

Result<RuleLog> parse_rule_log(std::string_view text, const std::string &source);
std::string format_rule_log(const RuleLog &log);

// CloudStack's check_rule_log_for_vm, as a table (cloudstack-sg.md §4).
enum class LogDecision {
  program_all,   // no (readable) log, or dom-id / vm-id / IP changed
  program_rules, // newer or equal seqno with another signature
  update_log,    // newer seqno, same signature: only the log changes
  ignore,        // older seqno: a late, superseded update
  nothing,       // same seqno and signature
};
LogDecision decide_rules_update(const std::optional<RuleLog> &old, const RuleLog &incoming);
const char *to_string(LogDecision decision);

enum class VmKind { user, system };

struct VmState {
  VmKind kind = VmKind::user;
  std::string vm_name;
  std::string vm_id;
  std::string ip;
  std::vector<std::string> secondary_ips;
  std::string mac;
  std::string dom_id;
  std::vector<std::string> vifs;
  std::vector<std::string> ipv6;   // NIC 0's IPv6 addresses
  std::vector<VmNic> other_nics;   // NICs 1..15, by device
  std::string arp_filter;   // "arptables" or "ebtables"
  char generation = 'a';    // which per-rule ipsets are live
  std::string rules;        // CloudStack rule string of the applied rules
  bool rules_applied = false; // false until `rules` ran (defaults only)
  std::string signature;
  std::string seqno;
  bool operator==(const VmState &) const = default;
};

// The file is "key value" lines; keys a reader does not know are skipped,
// so older readers keep reading newer files.  NIC 0's IPv6 is "ipv6 A B"
// (absent without IPv6, so IPv4-only files are as before); every other NIC
// is one line:
//   nic 1 mac 06:f8:c8:00:00:0a ip 10.1.1.5 secondary-ips - ipv6 2001:db8::5 vifs vif7.1,tap7.1
// (lists comma-separated, "-" for none).
Result<VmState> parse_vm_state(std::string_view text, const std::string &source);

// Every VIF of the VM: NIC 0's, then each other NIC's.
std::vector<std::string> all_vifs(const VmState &state);
// Whether any NIC has IPv6 addresses.
bool has_ipv6(const VmState &state);
std::string format_vm_state(const VmState &state);

// Paths inside the state directory.
std::string rule_log_path(const std::string &state_dir, const std::string &vm);
std::string vm_state_path(const std::string &state_dir, const std::string &vm);
std::string ip_file_path(const std::string &state_dir, const std::string &vm);

// The VMs of the directory's <vm>.log files (CloudStack's and ours), sorted.
std::vector<std::string> vms_with_rule_logs(const std::string &state_dir);

// Every <vm>.state in the directory, by VM name; unreadable files are errors.
Result<std::vector<VmState>> read_all_vm_states(const std::string &state_dir);

// The names of the VMs recorded there (none when the directory cannot be
// read): sg-show and sg-check turn hashed chain names back into them.
std::vector<std::string> recorded_vm_names(const std::string &state_dir);

} // namespace vifwall
