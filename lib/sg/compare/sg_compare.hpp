// sg-diff's engine: the desired bridge firewall (what sg-apply recorded, a
// rules file for one VM, or another snapshot) against the actual one (live
// or a snapshot), per VM, by meaning.
//
// "By meaning": rules compare by canonical_args() (the save tools reorder
// options, ebtables spells MACs two ways, arptables prints opcodes as numbers
// or names), and a rule that matches an ipset compares by the set's MEMBERS,
// not its name (sg-apply alternates set generations -a/-b, CloudStack names
// sets differently).  Counters never matter, nor do ebtables user-chain
// policies (ebtables-nft gives every user chain RETURN whatever was asked,
// and sg-apply plans accordingly).  Order matters inside a chain we
// own (a rule moved below the final DROP is dead) and does not matter for
// the jumps in shared chains (FORWARD, BRIDGE-FIREWALL), which other VMs and
// other software share.
//
// What is reported, per VM (and for the host setup):
//   missing      a desired rule (or chain) that is not there
//   extra        a rule of the kind sg-apply writes that is not desired
//                (an old rule, a VM with rules but no record)
//   changed      a rule that is there with other set members, at another
//                place in its chain, or a chain ending with another default
//   foreign      a rule sg-apply never writes, inside one of our chains
//   stale-vm     a VM with rules (or a record) that is not running
//   unprotected  a running VM (or one of its VIFs) that no rule covers
//   stale-vif    rules for vif<d>.<n> where d is not the VM's dom-id any more
//                (after a reboot) or the interface does not exist
//   vmops-layout a VM CloudStack's own plugin (vmops) programmed: a log of
//                CloudStack's and no record of sg-apply's.  Its desired state
//                is what `sg-apply takeover` would record (adopt.hpp), so the
//                other differences are what the takeover would change; when
//                it cannot be taken over, the detail says why.
// A pure function over parsed inputs: unit tests feed it fixtures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "firewall_snapshot.hpp"
#include "host.hpp"
#include "sg_desired.hpp"
#include "sg_render.hpp"
#include "sg_state.hpp"

namespace vifwall {

enum class DiffKind { missing, extra, changed, foreign, stale_vm, unprotected, stale_vif, vmops_layout };
const char *to_string(DiffKind kind); // "missing", ..., "stale-vm", "stale-vif", "vmops-layout"

struct Difference {
  DiffKind kind = DiffKind::missing;
  std::string table;  // "iptables", "ip6tables", "ebtables", "arptables", "ipset"; "" for VM-wide findings
  std::string chain;
  // The rule in readable form: "tcp 22 from 10.0.0.0/8" in ingress/egress
  // chains, the rule's words elsewhere, "vif7.0" for VIF findings.
  std::string rule;
  std::vector<std::string> args; // the desired rule (missing) or the live one
  std::string detail;            // why / what differs
  bool operator==(const Difference &) const = default;
};

struct VmComparison {
  std::string vm;
  std::vector<Difference> differences; // empty: the VM is as desired
};

struct Comparison {
  std::vector<Difference> host;  // host-wide setup
  std::vector<VmComparison> vms; // every VM looked at, in natural name order
  // What could not be judged (a table the desired state needs was not read):
  // sg-diff's "trouble".
  std::vector<std::string> problems;
  // What was left out on purpose (no host setup recorded, running VMs unknown).
  std::vector<std::string> notes;

  bool differs() const;
  std::size_t vms_differing() const;
  std::size_t vms_ok() const;
};

struct DesiredVm {
  std::string name;
  bool system = false;
  VmPlan plan;
  // Only the VM's ingress and egress chains (and their sets) are desired: a
  // rules file for a VM sg-apply has no record of.
  bool rules_only = false;
  // Adopted from CloudStack's vmops layout (DesiredFirewall::vmops_vms).
  bool vmops = false;
};

// A VM CloudStack's own plugin programmed: its <vm>.log (and .ip), with no
// <vm>.state of sg-apply's.
struct VmopsRecord {
  std::string name;
  RuleLog log;
  std::optional<std::string> ip_file;
  std::string log_path, ip_path;
};

struct DesiredFirewall {
  std::optional<VmPlan> host; // nullopt: the host setup is not compared
  std::vector<DesiredVm> vms;
  // true: the listed VMs are all that should have rules (state directory,
  // snapshot), so rules of other VMs are differences.  false: only the
  // listed VMs are compared.
  bool complete = true;
  // true (a snapshot): every rule of FORWARD that belongs to no VM is part
  // of the desired host, so any other one is extra.  false (sg-apply's
  // plan): FORWARD is shared with other software; only rules jumping to our
  // host chains can be extra.
  bool host_exact = false;
  std::string source; // "state directory /var/run/cloud", for messages
  // Compared with what a takeover would make of them (compare_firewall
  // adopts them from the live firewall).
  std::vector<VmopsRecord> vmops_vms;
};

// One running (or paused) VM of the host, as xe and the interfaces show it.
struct RunningVm {
  std::string name;
  std::int64_t dom_id = -1;
  // The interfaces sg-apply filters for it: vif<d>.0 and tap<d>.0 for a
  // user VM (CloudStack filters device 0 only), every vif<d>.N for a system VM.
  std::vector<std::string> filtered_ifaces;
  // A user VM's interfaces of its other devices (vif<d>.N, tap<d>.N, N > 0):
  // filtered, and so checked, for the NICs its desired state has.
  std::vector<std::string> other_nic_ifaces;
};

struct RunningHost {
  std::vector<RunningVm> vms; // every running VM (non-CloudStack names are ignored)
  std::optional<std::vector<std::string>> interfaces; // dom0's interfaces, when known
};


// Running and paused VMs of a joined host map.
RunningHost running_from_host_map(const HostMap &host);

// The desired firewall from sg-apply's records: plan_for_state() per VM and
// render_host_setup() for the host when `host` is given.  Errors name the
// state file whose content does not render.
Result<DesiredFirewall> desired_from_state(const std::vector<VmState> &states,
                                           const std::optional<HostSetupState> &host,
                                           const std::string &state_dir);

// The VMs of `state_dir` with a CloudStack log and no sg-apply state
// (`states`: the directory's read_all_vm_states).  Unreadable logs are
// skipped (CloudStack deletes those too).
std::vector<VmopsRecord> vmops_records_in(const std::string &state_dir, const std::vector<VmState> &states);

// One VM's desired rules from a rules file or rule string: with its recorded
// state (identity, VIFs) the whole VM with these rules; without one, only its
// ingress and egress chains.  The result is not `complete`.
Result<DesiredFirewall> desired_from_rules(const std::string &vm_name,
                                           const std::vector<SgRule> &rules,
                                           const std::optional<VmState> &state);

// The desired firewall as another snapshot holds it (each VM's chains, jumps
// and sets; the host chains and the non-VM rules of FORWARD).
DesiredFirewall desired_from_snapshot(const FirewallSnapshot &snapshot,
                                      const std::vector<std::string> &known_vms,
                                      const std::string &source);

struct CompareOptions {
  std::vector<std::string> vms; // only these VMs (empty: all); the host then is skipped
};

// `running`: nullopt when unknown (no xe, a snapshot without xe-vm-list):
// stale-vm, unprotected and stale-vif are then not judged (a note says so).
Comparison compare_firewall(const DesiredFirewall &desired, const FirewallSnapshot &actual,
                            const std::optional<RunningHost> &running,
                            const CompareOptions &options = {});

// One line per difference, "VM: KIND TABLE CHAIN: RULE (DETAIL)", then the
// summary line.
std::string render_comparison_text(const Comparison &comparison);
// One line for cron and monitoring:
//   "sg-diff: 2 VMs differ (i-2-3-VM: 1 missing; i-2-5-VM: stale vif8.0), 14 VMs ok"
std::string render_comparison_summary(const Comparison &comparison);
// {"differ": bool, "summary": ..., "host": [...], "vms": [...], ...}; schema in sg-diff(8).
std::string render_comparison_json(const Comparison &comparison, bool pretty);

} // namespace vifwall
