// The host-wide operations CloudStack's agent drives through the plugin:
// can_bridge_firewall (setup, then cleanup), get_rule_logs_for_vms (the
// reboot repair, then the logs), and reapply (an admin's: rebuild VMs from
// their recorded state after sg-diff found drift).  Each change is one run
// of jobs (sg_apply.cpp): under the lock, all or nothing.
#include <algorithm>
#include <memory>
#include <set>

#include "applier_impl.hpp"
#include "host_inputs.hpp"
#include "sg_desired.hpp"
#include "sg_names.hpp"
#include "state_files.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

using apply_detail::load_rule_log;
using apply_detail::load_vm_state;

namespace {

std::string join(const std::vector<std::string> &items, const char *separator) {
  std::string out;
  for (const auto &item : items)
    out += (out.empty() ? "" : separator) + item;
  return out;
}

std::vector<SgRule> rules_of(const VmState &state, const std::string &source) {
  if (state.kind != VmKind::user || state.rules.empty())
    return {};
  auto parsed = parse_rule_string(state.rules, source);
  return parsed ? *parsed : std::vector<SgRule>{};
}

// The VM's interfaces under its new domain: vif<old>.N -> vif<new>.N (and
// tap), as vmops' network_rules_for_rebooted_vm rewrites vif[0-9]+.0.
// Interfaces that are not of the vif<d>.<n> form are kept.
std::vector<std::string> vifs_for_domain(const std::vector<std::string> &vifs, std::int64_t dom_id) {
  std::vector<std::string> out;
  for (const auto &vif : vifs) {
    const auto parsed = parse_vif_name(vif);
    if (!parsed) {
      out.push_back(vif);
      continue;
    }
    out.push_back(std::string(parsed->kind == VifKind::tap ? "tap" : "vif") + std::to_string(dom_id) +
                  "." + std::to_string(parsed->device));
  }
  return out;
}

// The log after a reboot (vmops' rewrite_rule_log_for_vm): the new dom-id
// and seqno -1, so that CloudStack's next ping resends the rules; a system
// VM's log is rewritten as default_network_rules_systemvm writes it.
RuleLog rebooted_log(const VmState &state, const std::optional<RuleLog> &old) {
  if (state.kind == VmKind::system)
    return RuleLog{state.vm_name, "-1", "_ignore_", state.dom_id, "_initial_", "-1", "ff:ff:ff:ff:ff:ff"};
  RuleLog log = old.value_or(RuleLog{state.vm_name, state.vm_id, state.ip, "", "_initial_", "-1", state.mac});
  log.dom_id = state.dom_id;
  log.seqno = "-1";
  return log;
}

// The repair of one rebooted VM: decided again under the lock (another run
// may have repaired it meanwhile).
VmJob repair_job(const std::string &dir, const std::string &vm_name, std::int64_t dom_id) {
  VmJob job;
  job.vm_name = vm_name;
  const std::string running = std::to_string(dom_id);
  job.decide = [dir, running, dom_id](VmJob &j) -> Result<void> {
    const auto log = load_rule_log(dir, j.vm_name);
    const auto old = load_vm_state(dir, j.vm_name);
    if (!log || !old || log->dom_id == running || log->dom_id == "-1") {
      j.skip = true;
      return {};
    }
    j.state = *old;
    remember_old(j, *old);
    j.state.vifs = vifs_for_domain(old->vifs, dom_id);
    for (auto &nic : j.state.other_nics)
      nic.vifs = vifs_for_domain(nic.vifs, dom_id);
    j.state.dom_id = running;
    j.rules = rules_of(*old, vm_state_path(dir, j.vm_name));
    j.notes.push_back(j.vm_name + ": rebooted (dom-id " + log->dom_id + " -> " + running +
                      "): rules moved to " + join(j.state.vifs, " "));
    return {};
  };
  job.files = [dir](const VmState &s) {
    return std::vector<std::pair<std::string, std::string>>{
        {vm_state_path(dir, s.vm_name), format_vm_state(s)},
        {rule_log_path(dir, s.vm_name), format_rule_log(rebooted_log(s, load_rule_log(dir, s.vm_name)))}};
  };
  return job;
}

// vmops' get_rule_log_for_vm: the first six fields of the log.
std::string log_entry(const RuleLog &log) {
  return log.vm_name + "," + log.vm_id + "," + log.vm_ip + "," + log.dom_id + "," + log.signature + "," +
         log.seqno;
}

} // namespace

Result<SgOutcome> SgApplier::setup_and_cleanup(std::vector<std::string> uplinks,
                                               std::optional<std::vector<std::string>> running) {
  auto outcome = setup(std::move(uplinks));
  if (!outcome)
    return outcome;
  auto cleaned = cleanup(std::move(running));
  if (!cleaned) {
    outcome->warnings.push_back("setup done, but the cleanup of VMs that are not running failed: " +
                                cleaned.error().str());
    return outcome;
  }
  merge_outcome(*outcome, std::move(*cleaned));
  return outcome;
}

Result<SgOutcome> SgApplier::rule_logs() {
  auto &impl = *impl_;
  const std::string dir = impl.options.state_dir;
  auto local = impl.local_vms();
  if (!local)
    return tl::unexpected(local.error());
  // The VMs running here by name (xe names are only compared with, never
  // used in a path or a command unless they pass validate_vm_name).
  std::vector<std::pair<std::string, std::int64_t>> here;
  for (const auto &vm : local->running_here)
    if (vm.dom_id && *vm.dom_id >= 0 && validate_vm_name(vm.name_label))
      here.emplace_back(vm.name_label, *vm.dom_id);
  std::sort(here.begin(), here.end());
  std::vector<VmJob> jobs;
  std::set<std::string> seen;
  for (const auto &[name, dom_id] : here) {
    if (!seen.insert(name).second)
      continue; // two running VMs of one name: vmops' get_by_name_label gives up too
    const auto log = load_rule_log(dir, name);
    if (log && log->dom_id != "-1" && log->dom_id != std::to_string(dom_id) && load_vm_state(dir, name))
      jobs.push_back(repair_job(dir, name, dom_id));
  }
  auto outcome = run_whole(std::move(jobs));
  if (!outcome)
    return outcome;
  std::vector<std::string> entries;
  for (const auto &name : seen)
    if (starts_with(name, "i-"))
      if (const auto log = load_rule_log(dir, name))
        entries.push_back(log_entry(*log));
  outcome->rule_logs = join(entries, ";");
  return outcome;
}

Result<VmJob> SgApplier::prepare_reapply(const std::string &vm_name) {
  auto name = validate_vm_name(vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  const std::string dir = impl_->options.state_dir;
  if (!load_vm_state(dir, *name))
    return fail(vm_state_path(dir, *name), 0,
                "expected the recorded state of VM " + *name + ", got no readable file: nothing to reapply");
  VmJob job;
  job.vm_name = *name;
  job.decide = [dir](VmJob &j) -> Result<void> {
    auto old = load_vm_state(dir, j.vm_name);
    if (!old)
      return fail(vm_state_path(dir, j.vm_name), 0,
                  "expected the recorded state of VM " + j.vm_name + ", got no readable file");
    j.state = *old;
    remember_old(j, *old);
    j.rules = rules_of(*old, vm_state_path(dir, j.vm_name));
    return {};
  };
  // The firewall goes back to the record; CloudStack's files stay as they
  // are (the rule-set generation in the .state may change).
  job.files = [dir](const VmState &s) {
    return std::vector<std::pair<std::string, std::string>>{{vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

Result<SgOutcome> SgApplier::reapply(const std::vector<std::string> &vm_names) {
  std::vector<std::string> names = vm_names;
  if (names.empty()) {
    auto states = read_all_vm_states(impl_->options.state_dir);
    if (!states)
      return tl::unexpected(states.error());
    for (const auto &state : *states)
      names.push_back(state.vm_name);
  }
  std::vector<VmJob> jobs;
  for (const auto &name : names) {
    auto job = prepare_reapply(name);
    if (!job)
      return tl::unexpected(job.error());
    jobs.push_back(std::move(*job));
  }
  return run_whole(std::move(jobs));
}

} // namespace vifwall
