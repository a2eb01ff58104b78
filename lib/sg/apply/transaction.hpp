// Internal to lib/sg/apply: loading a Change (vm_change.hpp) into several
// tables all or nothing (transaction.cpp).  Not part of the layer's API:
// sg_apply.hpp is.
//
// Contract: transaction_steps() is the order of the loads, a pure function
// of the Change: when the change has a wall (Change::quarantine), the VMs'
// VIFs are first cut off by ebtables rules jumping to kCutoffChain at the
// top of FORWARD, and the last step lifts the wall; otherwise ebtables (which
// only restricts) goes first.  Then ipsets (inet and inet6 alike) are
// created or refilled, arptables commands run, ip6tables is edited in one
// commit, then iptables in one commit, and sets no longer used are
// destroyed (still behind the wall, so that a failure can put them back).
// ip6tables sits between the set loads and the set destroys: every set
// either table's new rules name exists before its commit, and a set is
// destroyed only once neither table references it (the kernel refuses a
// referenced one, and the old rules keep theirs until their commit).  It
// goes before iptables (as docs/ipv6-and-nics.md has it) because it is the
// likelier to fail (a host without ip6tables, a missing match module):
// failing there leaves iptables untouched, with less to roll back.  The
// two commits need no order between them otherwise: a packet meets only
// its family's table.  apply_change() runs the steps; when one fails, it
// puts back what the steps before it changed (rollback_sets() says how for
// the sets) and reports what failed; if the rollback fails too, the wall
// stays up: fail closed.  render_dry_run() shows what would be loaded, per
// table.
#pragma once

#include <string>
#include <vector>

#include "error.hpp"
#include "firewall_io.hpp"
#include "vm_change.hpp"

namespace vifwall::apply_detail {

// One load of a transaction.
struct Step {
  enum class Tool { ebtables, ipset, arptables, iptables, ip6tables, ebtables_nat };
  Tool tool = Tool::ebtables;
  std::string what;              // for the failure message: "ebtables-restore", "ip6tables-restore", ...
  std::string input;             // what the restore tool reads (all but arptables)
  std::vector<std::string> args; // an arptables command, or an ebtables one for the nat table
  bool operator==(const Step &) const = default;
};

// The loads that take the live tables from `before`'s to `change`'s, in
// order (empty for an empty change).  vmops' nat MAC checks are deleted
// after iptables, when the filter table already holds the VM's own MAC
// check (loaded by the first ebtables step).
std::vector<Step> transaction_steps(const Change &change);

// The ebtables commands that delete, and put back, Change::nat_deletions.
std::vector<std::string> nat_delete_command(const RuleDeletion &deletion);
std::vector<std::string> nat_restore_command(const RuleDeletion &deletion);

// How far a transaction got, for its rollback.
struct Progress {
  bool eb_done = false;      // an ebtables load succeeded (the wall, or the whole change)
  bool sets_touched = false; // an ipset restore ran, maybe in part (it is not atomic)
  bool ipt_done = false;     // iptables took its edit
  bool ip6t_done = false;    // ip6tables took its edit
  std::vector<std::vector<std::string>> arp_done; // arptables commands that succeeded
  std::size_t nat_done = 0;  // of Change::nat_deletions, how many were deleted
};

// The sets' part of a rollback: the sets the change loaded or destroyed as
// they were in `before` where they differ `now` (`existing`: of those, the
// ones that exist now), and the ones it created (to destroy).
struct SetRollback {
  std::vector<SetContent> restore;
  std::vector<std::string> existing;
  std::vector<std::string> created;
};
SetRollback rollback_sets(const Change &change, const IpsetDump &before, const IpsetDump &now);

// Runs the steps; on a failure rolls back and fails with "<what>: <step>
// failed, nothing of this change was kept: <error>" (or, when the rollback
// failed too, the step's error followed by "rollback incomplete: ...").
Result<void> apply_change(FirewallIo &fw, const Change &change, const LiveFirewall &before);

// What would be loaded, per table, each under a "# tool" heading ("#
// ip6tables-restore --noflush" for ip6tables).
std::string render_dry_run(const Change &change);

} // namespace vifwall::apply_detail
