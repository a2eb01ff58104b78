// Taking over a host CloudStack's own plugin (vmops) programmed: each VM
// rebuilt in sg-apply's layout from what vmops left (its log, its .ip file,
// its chains read back), in one change; then stopped VMs and leftovers of no
// VM.  See SgApplier::takeover in sg_apply.hpp.
//
// Why it is never more open than before: the VMs' chains keep their names
// and, by construction (adopt.hpp refuses anything else), their meaning;
// the change is one run of jobs (sg_apply.cpp), so it goes through the same
// transaction as any other: new sets before iptables' one commit, vmops'
// sets destroyed only after it, the MAC check loaded into the filter table
// before vmops' nat copy is deleted, and the VM cut off by ebtables while
// more than one table changes.
#include <algorithm>
#include <memory>
#include <set>

#include "adopt.hpp"
#include "applier_impl.hpp"
#include "host_inputs.hpp"
#include "sg_desired.hpp"
#include "sg_names.hpp"
#include "sg_view.hpp"
#include "state_files.hpp"
#include "text.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

using apply_detail::load_rule_log;
using apply_detail::load_vm_state;
using apply_detail::read_small_file;
using apply_detail::file_exists;

namespace {

// The live firewall as sg-show sees it, read once under the lock by the
// first job that needs it and shared by the others of the run.
struct SharedView {
  FirewallIo *fw = nullptr;
  bool with_arptables = false;
  std::optional<FirewallView> view;

  Result<const FirewallView *> get() {
    if (!view) {
      auto live = fw->read(with_arptables);
      if (!live)
        return tl::unexpected(live.error());
      FirewallSnapshot snapshot;
      snapshot.iptables = std::move(live->iptables);
      if (fw->tools().ip6tables) // else absent, as sg-show has it without ip6tables-save
        snapshot.ip6tables = std::move(live->ip6tables);
      snapshot.ebtables = std::move(live->ebtables);
      snapshot.arptables = std::move(live->arptables);
      snapshot.ebtables_nat = std::move(live->ebtables_nat);
      snapshot.ipsets = std::move(live->ipsets);
      view = build_view(snapshot, {});
    }
    return &*view;
  }
};

std::string describe(const VmView &view) {
  std::string what = "taken over from CloudStack's vmops";
  std::vector<std::string> parts;
  if (!view.vmops.rule_sets.empty())
    parts.push_back(counted(view.vmops.rule_sets.size(), "per-rule set") + " replaced");
  if (!view.vmops.nat_mac_vifs.empty())
    parts.push_back("MAC check moved from the ebtables nat table");
  if (!view.leftovers.empty())
    parts.push_back(counted(view.leftovers.size(), "leftover") + " removed");
  if (!parts.empty())
    what += " (" + join_strings(parts, ", ") + ")";
  return what;
}

VmJob takeover_job(const std::string &dir, const std::string &vm_name, std::shared_ptr<SharedView> shared,
                   const std::string &arp_filter) {
  VmJob job;
  job.vm_name = vm_name;
  job.decide = [dir, shared, arp_filter](VmJob &j) -> Result<void> {
    if (load_vm_state(dir, j.vm_name)) {
      j.skip = true; // sg-apply's already
      j.notes.push_back(j.vm_name + ": already programmed by sg-apply (" + vm_state_path(dir, j.vm_name) + ")");
      return {};
    }
    const auto log = load_rule_log(dir, j.vm_name);
    if (!log)
      return fail(rule_log_path(dir, j.vm_name), 0,
                  "expected CloudStack's log of VM " + j.vm_name + ", got no readable file");
    auto view = shared->get();
    if (!view)
      return tl::unexpected(view.error());
    const VmView *vm = (*view)->find(j.vm_name);
    if (!vm) {
      j.skip = true;
      j.notes.push_back(j.vm_name + ": nothing of it in the firewall, nothing to take over");
      return {};
    }
    AdoptSources sources;
    sources.log = *log;
    sources.log_path = rule_log_path(dir, j.vm_name);
    sources.ip_path = ip_file_path(dir, j.vm_name);
    if (file_exists(sources.ip_path))
      sources.ip_file = read_small_file(sources.ip_path);
    sources.arp_filter = arp_filter;
    auto state = adopt_vm_state(*vm, sources);
    if (!state)
      return tl::unexpected(state.error());
    j.state = std::move(*state);
    j.old_vifs = j.state.vifs;
    if (!j.state.rules.empty()) {
      auto rules = parse_rule_string(j.state.rules, sources.log_path);
      if (!rules)
        return tl::unexpected(rules.error());
      j.rules = std::move(*rules);
    }
    j.notes.push_back(j.vm_name + ": " + describe(*vm));
    return {};
  };
  // Only our record: CloudStack's .log and .ip stay as vmops wrote them
  // (same signature and seqno: the management server sees no change).
  job.files = [dir](const VmState &s) {
    return std::vector<std::pair<std::string, std::string>>{{vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

} // namespace

Result<SgOutcome> SgApplier::takeover(const std::vector<std::string> &vm_names) {
  auto &impl = *impl_;
  const std::string dir = impl.options.state_dir;
  for (const auto &name : vm_names)
    if (auto ok = validate_vm_name(name); !ok)
      return fail("--vm", 0, ok.error().message);
  auto fw = impl.firewall();
  if (!fw)
    return tl::unexpected(fw.error());

  // The VMs running here with CloudStack's log and no record of ours.
  std::vector<std::string> names = vm_names;
  if (names.empty()) {
    auto local = impl.local_vms();
    if (!local)
      return tl::unexpected(local.error());
    const auto running = local->names();
    for (const auto &name : vms_with_rule_logs(dir))
      if (std::find(running.begin(), running.end(), name) != running.end() && validate_vm_name(name) &&
          !load_vm_state(dir, name))
        names.push_back(name);
  }

  // First every VM's adoption on the firewall as it is now, so that a VM
  // that cannot be taken over stops everything before the setup is
  // recorded (the jobs decide again under the lock).
  auto shared = std::make_shared<SharedView>();
  shared->fw = *fw;
  shared->with_arptables = impl.uses_arptables();
  const std::string arp_filter = to_string(impl.options.arp_filter);
  for (const auto &name : names) {
    VmJob check = takeover_job(dir, name, shared, arp_filter);
    if (auto ok = check.decide(check); !ok)
      return tl::unexpected(ok.error());
  }
  auto view = shared->get();
  if (!view)
    return tl::unexpected(view.error());
  std::vector<std::string> uplinks = (*view)->host.uplinks;
  for (auto &uplink : uplinks)
    if (ends_with(uplink, "+"))
      uplink.pop_back();
  shared->view.reset(); // the jobs read the firewall again, under the lock

  // The host setup, recorded with the uplinks vmops opened.
  auto outcome = setup(uplinks);
  if (!outcome)
    return outcome;

  std::vector<VmJob> jobs;
  for (const auto &name : names)
    jobs.push_back(takeover_job(dir, name, shared, arp_filter));
  auto taken = run_whole(std::move(jobs));
  if (!taken)
    return taken;
  merge_outcome(*outcome, std::move(*taken));

  // 3. Stopped VMs, then what belongs to no VM (only for the whole host).
  if (vm_names.empty()) {
    auto cleaned = cleanup(std::nullopt);
    if (!cleaned)
      return cleaned;
    merge_outcome(*outcome, std::move(*cleaned));
    auto swept = sweep_leftovers();
    if (!swept)
      return swept;
    merge_outcome(*outcome, std::move(*swept));
  }
  return outcome;
}

} // namespace vifwall
