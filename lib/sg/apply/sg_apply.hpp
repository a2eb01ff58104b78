// sg-apply's operations: CloudStack's host plugin functions (vmops), applied
// atomically.  Each operation
//   1. validates every value (before anything runs),
//   2. takes the host lock (and XAPI's ebtables lock),
//   3. reads the live tables and computes the smallest edit per table,
//   4. loads it: one `ipset restore` creating new sets, one
//      `ip6tables-restore --noflush` (when the plans or the host have IPv6
//      chains), one `iptables-restore --noflush`, whole-table
//      `ebtables-restore`s, and arptables commands; when more than one
//      table changes (or arptables, which is not atomic), the VM's VIFs
//      are first cut off with ebtables DROP rules at the top of FORWARD
//      and let go only at the end, so no moment lets through what neither
//      the old nor the new policy allows,
//   5. on a failure, puts back what it changed (fail closed: if that fails
//      too, the VM stays cut off) and reports what failed,
//   6. writes the state files (prepared before step 4, renamed after).
// A run that finds nothing to change changes nothing.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "exec.hpp"
#include "netfilter_tools.hpp"
#include "sg_render.hpp"
#include "sg_rules.hpp"
#include "sg_state.hpp"

namespace vifwall {

struct SgOptions {
  std::string state_dir = "/var/run/cloud";
  bool dry_run = false;
  ArpFilter arp_filter = ArpFilter::arptables;
  IptablesChoice iptables = IptablesChoice::automatic;
  std::string lock_file = "/var/lock/vifwall-sg-apply.lock";
  std::string ebtables_lock_file = "/var/lock/ebtables.lock"; // XAPI's
  std::chrono::milliseconds lock_timeout{30000};
  std::chrono::milliseconds command_timeout{60000};
  std::string xe;               // for resolving VIFs and running VMs
  std::string network_conf = "/etc/xensource/network.conf";
  std::string proc_sys = "/proc/sys"; // tests point this elsewhere
  // Per-VM commands (default, rules, systemvm, destroy, secondary IPs) read
  // only the chains, jumps and sets they touch; false: read every table,
  // as the host-wide jobs (batch, cleanup, setup, takeover) always do.
  bool narrow_read = true;
  // setup --ipv6: the host's IPv6 layer (render_host_setup's `ipv6`).
  bool ipv6 = false;
};

// What an operation did (or, with dry_run, would do).
struct SgOutcome {
  bool changed = false;
  std::vector<std::string> changes; // one line per table: "iptables: +12 -0 rules"
  std::string dry_run_text;         // what would be loaded, per table
  std::vector<std::string> notes;   // e.g. "IPv6 CIDRs left out"
  std::vector<std::string> warnings; // printed always (setup --cleanup's failed cleanup)
  std::vector<std::string> removed;  // cleanup: the VMs whose rules went
  std::string rule_logs;             // rule_logs(): vmops' get_rule_logs_for_vms string
};

struct DefaultRequest {
  std::string vm_name, vm_id, ip, mac;
  std::string secondary_ips;        // CloudStack's "ip;ip;" or "0;"
  std::vector<std::string> vifs;    // empty: resolve from the live host
  std::vector<std::string> ipv6;    // the NIC's IPv6 addresses (--ip6)
  // 0: the VM's first NIC (CloudStack's call; the VM's other NICs are kept
  // while its dom-id stays the same).  1..15: add or replace that NIC of a
  // VM whose NIC 0 is programmed (hot-plug); its VIFs default to
  // vif<domid>.N (and tap<domid>.N).
  int nic = 0;
};

struct RulesRequest {
  std::string vm_name, vm_id, ip, mac, signature, seqno;
  std::vector<SgRule> rules;
  std::string rules_source;         // for messages
  std::vector<std::string> vifs;    // empty: resolve (or reuse the state's for the same dom-id)
  // CloudStack's secIps ("ip;ip;" or "0;"); nullopt: keep the recorded ones.
  std::optional<std::string> secondary_ips;
};

// One VM's change, prepared: values validated, VIFs resolved, CloudStack's
// log decision taken.  Nothing has touched the firewall yet; SgApplier::run
// applies any number of them in one change (one load per table).
struct VmJob {
  std::string vm_name;
  bool destroy = false;      // remove everything of the VM
  VmState state;             // what to apply (when !destroy)
  std::vector<SgRule> rules; // a user VM's rules
  bool skip = false;         // nothing to change in the firewall...
  bool log_only = false;     // ...but the log is rewritten (newer seqno, same rules)
  // The state files to write once the firewall holds `state`.
  std::function<std::vector<std::pair<std::string, std::string>>(const VmState &)> files;
  std::vector<std::string> remove_files;
  std::vector<std::string> notes;
  // VIFs the VM had when sg-apply last ran (a killed run may have left them
  // cut off, and a destroy must find them).
  std::vector<std::string> old_vifs;
  // Whether the VM had NICs with IPv6 when sg-apply last ran (then the IPv6
  // gate holds rules of its VIFs that a change may have to delete).
  bool had_ipv6 = false;
  // Run under the lock, just before the tables are read: everything that
  // depends on the state files (the log decision, recorded rules), so that
  // two runs for one VM never decide from the same old state.
  std::function<Result<void>(VmJob &)> decide;
};

// Failures whose exit status differs (documented in sg-apply(8)).
bool is_lock_timeout(const Error &error);

class SgApplier {
public:
  SgApplier(CommandRunner &runner, SgOptions options);

  // Host-wide chains; checks the prerequisites first and lists every one
  // that is missing.  `uplinks` empty: the bridges' non-VIF ports.
  Result<SgOutcome> setup(std::vector<std::string> uplinks);
  Result<SgOutcome> apply_default(const DefaultRequest &request);
  Result<SgOutcome> apply_systemvm(const std::string &vm_name, std::vector<std::string> vifs);
  Result<SgOutcome> apply_rules(const RulesRequest &request);
  Result<SgOutcome> destroy(const std::string &vm_name, int nic = 0);

  // The same, prepared separately, so that many VMs change in one run
  // (`sg-apply batch`): one read of the tables and one load per table for all
  // of them, however many VMs there are.
  Result<VmJob> prepare_default(const DefaultRequest &request);
  Result<VmJob> prepare_systemvm(const std::string &vm_name, std::vector<std::string> vifs);
  Result<VmJob> prepare_rules(const RulesRequest &request);
  // `nic` 0: everything of the VM; 1..15: only that NIC (hot-unplug).
  Result<VmJob> prepare_destroy(const std::string &vm_name, int nic = 0);
  // `ip` IPv4 or IPv6; `mac` names the NIC (any of the VM's).
  Result<VmJob> prepare_secondary_ip(const std::string &vm_name, const std::string &mac,
                                     const std::string &ip, bool add);
  // Each VM at most once per run.  One job (one VM's command) reads only
  // the chains, jumps and sets it touches (SgOptions::narrow_read); several
  // read every table.
  Result<SgOutcome> run(std::vector<VmJob> jobs);
  // Destroys everything of VMs not in `running` (nullopt: ask xe).
  Result<SgOutcome> cleanup(std::optional<std::vector<std::string>> running);
  Result<SgOutcome> secondary_ip(const std::string &vm_name, const std::string &mac,
                                 const std::string &ip, bool add);

  // CloudStack's can_bridge_firewall: setup, then cleanup (nullopt: ask
  // xe).  A failed cleanup does not fail the setup (vmops ignores it too):
  // it is a warning in the outcome.
  Result<SgOutcome> setup_and_cleanup(std::vector<std::string> uplinks,
                                      std::optional<std::vector<std::string>> running);
  // CloudStack's get_rule_logs_for_vms (host_jobs.cpp): first repairs, in
  // one change, every VM running on this host whose log names another
  // dom-id (rebooted: its jumps and anti-spoofing follow the new VIFs, its
  // log gets the new dom-id and seqno -1), then returns in
  // SgOutcome::rule_logs "name,id,ip,domid,sig,seq" of each running "i-" VM
  // with a log, joined with ';' (sorted by name).
  Result<SgOutcome> rule_logs();
  // Rebuilds each VM's whole firewall from its <vm>.state in one change
  // (empty: every VM with a state file).
  Result<SgOutcome> reapply(const std::vector<std::string> &vm_names);
  Result<VmJob> prepare_reapply(const std::string &vm_name);

  // Takes over a host that CloudStack's own plugin (vmops) programmed
  // (takeover.cpp): the host setup as the live FORWARD has it, then in one
  // change every VM running here with a CloudStack <vm>.log and no
  // <vm>.state (`vm_names`: only those), rebuilt in sg-apply's layout from
  // its log, its .ip file and its chains read back (sg/view adopt.hpp);
  // vmops' per-rule sets and nat MAC checks of those VMs go with the change
  // (vm_change.cpp), then stopped VMs (cleanup) and leftovers of no VM
  // (sweep_leftovers).  A VM whose chains hold a rule vmops does not write
  // fails the whole takeover, naming it, before anything changed.  The
  // VM's signature and seqno stay: CloudStack sees no difference.
  Result<SgOutcome> takeover(const std::vector<std::string> &vm_names);
  // vmops' leftovers that belong to no VM: MAC checks in the ebtables nat
  // table for VIFs no other rule names, and per-rule sets in vmops' naming
  // no rule uses.  One change.
  Result<SgOutcome> sweep_leftovers();

  // Called with one line per change actually made (for syslog).
  std::function<void(const std::string &)> on_change;

  struct Impl; // the implementation (applier_impl.hpp, internal to lib/sg/apply)

private:
  // run() for the host-wide jobs (cleanup, reapply, takeover): always the
  // whole read, whatever the number of jobs.
  Result<SgOutcome> run_whole(std::vector<VmJob> jobs);
  std::shared_ptr<Impl> impl_;
};

} // namespace vifwall
