// The applier: SgApplier's operations (setup, a run of jobs, cleanup) under
// the locks, from reading the tables to writing the state files.  The jobs
// are prepared in vm_jobs.cpp, the change computed in vm_change.cpp and
// loaded in transaction.cpp.
#include "sg_apply.hpp"

#include <cstdlib>
#include <functional>
#include <set>
#include <unistd.h>

#include "applier_impl.hpp"
#include "bridge_sysctls.hpp"
#include "host_inputs.hpp"
#include "lock.hpp"
#include "narrow_read.hpp"
#include "parse_xe.hpp"
#include "sg_desired.hpp"
#include "sg_names.hpp"
#include "state_files.hpp"
#include "text.hpp"
#include "transaction.hpp"
#include "validate.hpp"
#include "vm_change.hpp"
#include "vmops_layout.hpp"

namespace vifwall {

using namespace apply_detail;

bool is_lock_timeout(const Error &error) { return is_lock_busy(error); }

Result<FirewallIo *> SgApplier::Impl::firewall() {
  if (!io) {
    auto tools = detect_netfilter_tools(runner, options.iptables);
    if (!tools)
      return tl::unexpected(tools.error());
    if (options.arp_filter == ArpFilter::arptables && !tools->arptables)
      return fail("--arp-filter arptables needs an arptables with a FORWARD chain "
                  "(arptables-legacy); this host's arptables has none (arptables-nft). "
                  "Use --arp-filter ebtables");
    io.emplace(runner, std::move(*tools), options.command_timeout);
  }
  return &*io;
}

Result<std::string> SgApplier::Impl::output_of(std::vector<std::string> argv) {
  Command command{std::move(argv)};
  command.timeout = options.command_timeout;
  auto output = run_checked(runner, command);
  if (!output)
    return tl::unexpected(output.error());
  return std::move(output->out);
}

Result<LocalVms> SgApplier::Impl::local_vms() {
  LiveOptions live;
  live.xe = options.xe;
  live.timeout = options.command_timeout;
  return read_local_vms(runner, live);
}

void merge_outcome(SgOutcome &into, SgOutcome &&from) {
  into.changed = into.changed || from.changed;
  using Lines = std::vector<std::string> SgOutcome::*;
  for (const Lines lines : {&SgOutcome::changes, &SgOutcome::notes, &SgOutcome::warnings, &SgOutcome::removed})
    (into.*lines).insert((into.*lines).end(), (from.*lines).begin(), (from.*lines).end());
  into.dry_run_text += from.dry_run_text;
}

namespace {

// The host lock and XAPI's ebtables lock, held while alive (none in a dry
// run, which changes nothing).
struct Locks {
  std::optional<FileLock> own, ebtables;
};

Result<Locks> take_locks(const SgOptions &options) {
  Locks locks;
  if (options.dry_run)
    return locks;
  auto own = FileLock::acquire(options.lock_file, options.lock_timeout);
  if (!own)
    return tl::unexpected(own.error());
  locks.own.emplace(std::move(*own));
  auto eb = FileLock::acquire(options.ebtables_lock_file, options.lock_timeout);
  if (!eb)
    return tl::unexpected(eb.error());
  locks.ebtables.emplace(std::move(*eb));
  return locks;
}

// Records the change made in `outcome` and tells on_change.
void report(const SgApplier::Impl &impl, const Change &change, SgOutcome &outcome) {
  for (auto &line : change_summary(change))
    outcome.changes.push_back(std::move(line));
  if (impl.on_change && *impl.on_change)
    for (const auto &line : outcome.changes)
      (*impl.on_change)(line);
}

// Under the lock: every job's decision (and its notes), the state files of
// the jobs that change the firewall checked writable, the log-only updates
// written.  Returns the jobs that change the firewall.
Result<std::vector<VmJob *>> decide_jobs(const SgOptions &options, std::vector<VmJob> &jobs,
                                         SgOutcome &outcome) {
  for (auto &job : jobs) {
    if (job.decide)
      if (auto ok = job.decide(job); !ok)
        return tl::unexpected(ok.error());
    outcome.notes.insert(outcome.notes.end(), job.notes.begin(), job.notes.end());
  }
  std::vector<VmJob *> active;
  for (auto &job : jobs)
    if (!job.skip)
      active.push_back(&job);
  PreparedFiles prepared;
  for (auto *job : active)
    if (job->files)
      for (auto &file : job->files(job->state))
        prepared.files.push_back(std::move(file));
  if (!options.dry_run && !prepared.files.empty())
    if (auto ok = prepared.check_writable(options.state_dir); !ok)
      return tl::unexpected(ok.error());
  for (auto &job : jobs)
    if (job.skip && job.log_only && !options.dry_run) {
      PreparedFiles log_only{job.files(job.state)};
      if (auto ok = log_only.write(); !ok)
        return tl::unexpected(ok.error());
    }
  return active;
}

// A job's plan.  A user VM keeps its live rule-set generation when nothing
// else changes, and takes the other one when something does; a VM with
// nothing live changes for sure: no diff (a diff per VM reads the whole
// host's tables, which made a host's first programming quadratic in its VM
// count).
Result<VmPlan> plan_job(VmJob &job, const LiveFirewall &live, const LiveIndex &index, ArpFilter arp,
                        bool ebtables_nft) {
  const std::vector<std::string> vifs = all_vifs(job.state);
  const std::set<std::string> job_vifs(vifs.begin(), vifs.end());
  const bool is_new = !has_live_objects(index, {job.vm_name}, job_vifs);
  auto other_generation = [&] { job.state.generation = job.state.generation == 'a' ? 'b' : 'a'; };
  if (job.state.kind == VmKind::user && is_new)
    other_generation();
  auto plan = plan_for_vm(job.state, job.rules, job.state.generation, arp);
  if (!plan)
    return plan;
  if (job.state.kind == VmKind::user && !is_new &&
      !vm_change(live, {{job.vm_name, *plan, vifs}}, ebtables_nft, &index).empty()) {
    other_generation();
    plan = plan_for_vm(job.state, job.rules, job.state.generation, arp);
  }
  return plan;
}

// The targets of the run's change: each job's plan (none for a destroy) and
// every VIF the VM has or had.
Result<std::vector<VmTarget>> plan_targets(const std::vector<VmJob *> &active, const LiveFirewall &live,
                                           const LiveIndex &index, ArpFilter arp, bool ebtables_nft,
                                           SgOutcome &outcome) {
  std::vector<VmTarget> targets;
  for (auto *job : active) {
    VmTarget target{job->vm_name, std::nullopt, job->old_vifs};
    if (!job->destroy) {
      auto plan = plan_job(*job, live, index, arp, ebtables_nft);
      if (!plan)
        return tl::unexpected(plan.error());
      outcome.notes.insert(outcome.notes.end(), plan->notes.begin(), plan->notes.end());
      target.plan = std::move(*plan);
      const std::vector<std::string> vifs = all_vifs(job->state);
      target.vifs.insert(target.vifs.end(), vifs.begin(), vifs.end());
    }
    targets.push_back(std::move(target));
  }
  return targets;
}

// The common end of every run: a dry run only describes the change; a real
// one applies it (all or nothing), reports it, and then writes the files that
// record it, so that a file never claims what the firewall did not take.
Result<SgOutcome> finish_change(SgApplier::Impl &impl, FirewallIo &fw, const Change &change,
                                const LiveFirewall &live, SgOutcome outcome,
                                const std::function<Result<void>()> &write_files) {
  if (impl.options.dry_run) {
    outcome.dry_run_text = render_dry_run(change);
    outcome.changed = !change.empty();
    return outcome;
  }
  if (!change.empty()) {
    if (auto ok = apply_change(fw, change, live); !ok)
      return tl::unexpected(ok.error());
    outcome.changed = true;
    report(impl, change, outcome);
  }
  if (auto ok = write_files(); !ok)
    return tl::unexpected(ok.error());
  return outcome;
}

// After the firewall took the change: the jobs' state files as really
// applied (the generations may have changed), and a destroy's removed.
Result<void> write_state_files(const std::vector<VmJob *> &active) {
  PreparedFiles final_files;
  for (auto *job : active) {
    if (job->files)
      for (auto &file : job->files(job->state))
        final_files.files.push_back(std::move(file));
    for (const auto &path : job->remove_files)
      ::unlink(path.c_str());
  }
  return final_files.write();
}

// The live firewall a run plans against, and how it was read.
struct RunRead {
  LiveFirewall live;
  std::optional<ReadScope> scope; // a narrow read of these chains and sets
  bool ebtables_whole = true;
};

// Reads what the jobs need: with `narrow` (a per-VM command, not a
// host-wide job) only their chains, jumps and sets
// (narrow_read.hpp), else, or when that cannot be done, everything.
Result<RunRead> read_for(SgApplier::Impl &impl, FirewallIo &fw, const std::vector<VmJob *> &active,
                         bool narrow) {
  RunRead read;
  if (narrow && impl.options.narrow_read) {
    std::vector<std::string> names;
    bool any_destroy = false;
    bool ipv6_gate = false;
    for (const auto *job : active) {
      names.push_back(job->vm_name);
      any_destroy = any_destroy || job->destroy;
      ipv6_gate = ipv6_gate || job->had_ipv6 || has_ipv6(job->state);
    }
    // A destroy of a VM with rules edits ebtables for sure: its whole table
    // is read with the rest, not after.
    ReadScope scope = narrow_scope(names, any_destroy, impl.uses_arptables(), ipv6_gate);
    if (auto scoped = fw.read_scope(scope)) {
      read.live = std::move(scoped->live);
      read.ebtables_whole = scoped->ebtables_whole;
      read.scope = std::move(scope);
      return read;
    }
  }
  auto live = fw.read(impl.uses_arptables());
  if (!live)
    return tl::unexpected(live.error());
  read.live = std::move(*live);
  return read;
}

// Every job's plan against `live`, and the combined change.  Planning picks
// each user VM's set generation (plan_job): the jobs' generations and the
// notes are put back first, so that planning again (after reading more)
// starts from the same state.
struct Planned {
  std::vector<VmTarget> targets;
  Change change;
};
Result<Planned> plan_run(SgApplier::Impl &impl, const std::vector<VmJob *> &active,
                         const std::vector<char> &generations, const LiveFirewall &live,
                         SgOutcome &outcome, std::size_t notes_before) {
  for (std::size_t i = 0; i < active.size(); ++i)
    active[i]->state.generation = generations[i];
  outcome.notes.resize(notes_before);
  const LiveIndex index = index_live(live);
  auto targets = plan_targets(active, live, index, impl.options.arp_filter, impl.ebtables_nft(), outcome);
  if (!targets)
    return tl::unexpected(targets.error());
  Change change = vm_change(live, *targets, impl.ebtables_nft(), &index);
  return Planned{std::move(*targets), std::move(change)};
}

// Reads the tables once (narrowly for a per-VM command), computes every
// job's plan, applies the combined change, then writes the jobs' state
// files.  A narrow read that does not cover a plan is replaced by the
// whole read; a change that edits ebtables first reads its whole table
// (ebtables-restore loads it whole), still under the lock.
Result<SgOutcome> run_jobs(SgApplier::Impl &impl, std::vector<VmJob> &jobs, bool narrow) {
  const SgOptions &options = impl.options;
  SgOutcome outcome;
  std::set<std::string> names;
  for (const auto &job : jobs)
    if (!names.insert(job.vm_name).second)
      return fail("VM " + job.vm_name + " appears twice; give each VM once per run");
  auto locks = take_locks(options);
  if (!locks)
    return tl::unexpected(locks.error());
  auto active = decide_jobs(options, jobs, outcome);
  if (!active)
    return tl::unexpected(active.error());
  if (active->empty())
    return outcome;

  auto fw = impl.firewall();
  if (!fw)
    return tl::unexpected(fw.error());
  auto read = read_for(impl, **fw, *active, narrow);
  if (!read)
    return tl::unexpected(read.error());
  std::vector<char> generations;
  for (const auto *job : *active)
    generations.push_back(job->state.generation);
  const std::size_t notes_before = outcome.notes.size();
  auto planned = plan_run(impl, *active, generations, read->live, outcome, notes_before);
  if (!planned)
    return tl::unexpected(planned.error());
  if (read->scope && !scope_covers(*read->scope, planned->targets, read->live)) {
    auto whole = read_for(impl, **fw, *active, false);
    if (!whole)
      return tl::unexpected(whole.error());
    read = std::move(whole);
    planned = plan_run(impl, *active, generations, read->live, outcome, notes_before);
  } else if (!read->ebtables_whole && (!planned->change.ebtables.empty() || planned->change.quarantine)) {
    auto ebtables = (*fw)->read_ebtables();
    if (!ebtables)
      return tl::unexpected(ebtables.error());
    read->live.ebtables = std::move(*ebtables);
    read->ebtables_whole = true;
    planned = plan_run(impl, *active, generations, read->live, outcome, notes_before);
  }
  if (!planned)
    return tl::unexpected(planned.error());
  return finish_change(impl, **fw, planned->change, read->live, std::move(outcome),
                       [&] { return write_state_files(*active); });
}

Result<SgOutcome> run_one(SgApplier::Impl &impl, Result<VmJob> job) {
  if (!job)
    return tl::unexpected(job.error());
  std::vector<VmJob> jobs;
  jobs.push_back(std::move(*job));
  return run_jobs(impl, jobs, true);
}

// What keeps this host from security groups: a network backend other than
// bridge, bridge netfilter knobs off, missing netfilter tools.
std::vector<std::string> host_problems(SgApplier::Impl &impl) {
  const SgOptions &options = impl.options;
  std::vector<std::string> problems;
  // Network backend: CloudStack's bridge firewall needs Linux bridges.
  if (file_exists(options.network_conf)) {
    const std::string backend = to_lower(trim(read_small_file(options.network_conf)));
    if (backend != "bridge")
      problems.push_back("network backend is \"" + backend + "\" (" + options.network_conf +
                         "); security groups need the Linux bridge backend: run "
                         "`xe-switch-network-backend bridge` and reboot the host");
  }
  for (const char *knob : {"bridge-nf-call-iptables", "bridge-nf-call-arptables",
                           "bridge-nf-call-ip6tables"}) {
    if (std::string(knob) == "bridge-nf-call-arptables" && !impl.uses_arptables())
      continue;
    if (std::string(knob) == "bridge-nf-call-ip6tables" && !options.ipv6)
      continue;
    if (auto ok = check_bridge_sysctl(options.proc_sys, knob); !ok)
      problems.push_back(ok.error().str());
  }
  if (auto fw = impl.firewall(); !fw)
    problems.push_back(fw.error().str());
  else if (options.ipv6 && !(*fw)->tools().ip6tables)
    problems.push_back("setup --ipv6 needs ip6tables, ip6tables-save and ip6tables-restore (of the "
                       "same flavour as iptables) and a kernel with IPv6; none found");
  return problems;
}

// The bridges' ports that are not guests' interfaces: eth0, bond0, ...
Result<std::vector<std::string>> find_uplinks(SgApplier::Impl &impl) {
  auto ip = find_program("ip");
  if (!ip)
    return fail("cannot find the uplinks without `ip`; give --uplink");
  auto output = impl.output_of({*ip, "-o", "link"});
  if (!output)
    return tl::unexpected(output.error());
  auto links = parse_links(*output, "ip -o link");
  if (!links)
    return tl::unexpected(links.error());
  std::vector<std::string> uplinks;
  for (const auto &link : *links)
    if (link.master && !parse_vif_name(link.name))
      uplinks.push_back(link.name);
  return uplinks;
}

// The running (and paused) VMs of THIS host, from xe and the inventory: in
// a pool a VM running on another member is not running here, so its rules
// here go (a VM migrated away).  The same answer vif-of gives
// (read_local_vms).
Result<std::vector<std::string>> running_vms(SgApplier::Impl &impl) {
  auto local = impl.local_vms();
  if (!local)
    return tl::unexpected(local.error());
  return local->names();
}

// The VMs cleanup looks at: those with state files, those whose chains are
// in iptables, and those with sets left without chains (a destroy whose set
// removal failed).
std::set<std::string> cleanup_candidates(const std::string &state_dir, const LiveFirewall &live) {
  std::set<std::string> candidates;
  auto states = read_all_vm_states(state_dir);
  if (states)
    for (const auto &state : *states)
      candidates.insert(state.vm_name);
  // Also ebtables and arptables chains: vmops' destroy can leave those
  // behind with the iptables ones gone (its arptables parsing is fragile);
  // and ip6tables ones, which a VM may have alone.
  for (const FwTable *table : {&live.iptables, &live.ip6tables, &live.ebtables,
                               live.arptables ? &*live.arptables : nullptr})
    if (table)
      for (const auto &chain : table->chains)
        if (auto recognized = recognize_chain(chain.name);
            recognized && recognized->kind != ChainKind::global &&
            names_for_vm(recognized->base).ingress == recognized->base &&
            validate_vm_name(recognized->base))
          candidates.insert(recognized->base);
  for (const auto &set : live.ipsets.sets) {
    if (looks_like_vmops_rule_set(set.name))
      continue; // a vmops rule set, not a VM's name: its VM's destroy takes it (vm_change.cpp)
    std::string base = set.name;
    if (auto rule_set = recognize_rule_set(set.name))
      base = rule_set->set_base;
    if (validate_vm_name(base) && names_for_vm(base).set_base == base &&
        (base == set.name ? names_for_vm(base).ipset == base : true))
      candidates.insert(base);
  }
  return candidates;
}

// vmops' leftovers of no VM (sweep_leftovers): nat MAC checks of VIFs that
// no filter rule names, unused sets in vmops' per-rule naming.
Change leftovers_change(const LiveFirewall &live) {
  Change change;
  change.what = "CloudStack's leftovers";
  std::set<std::string> named_vifs, used_sets;
  // ip6tables too: the kernel refuses to destroy a set any table matches.
  for (const FwTable *table : {&live.iptables, &live.ip6tables, &live.ebtables,
                               live.arptables ? &*live.arptables : nullptr})
    if (table)
      for (const auto &rule : table->rules)
        for (std::size_t i = 0; i + 1 < rule.args.size(); ++i) {
          const auto &word = rule.args[i];
          if (word == "-i" || word == "-o" || word == "--physdev-in" || word == "--physdev-out")
            named_vifs.insert(rule.args[i + 1]);
          if (word == "--match-set" || word == "--set")
            used_sets.insert(rule.args[i + 1]);
        }
  if (live.ebtables_nat) {
    std::size_t position = 0;
    for (const auto *rule : live.ebtables_nat->rules_of("PREROUTING")) {
      ++position;
      if (auto vif = vmops_nat_mac_rule_vif(*rule); vif && parse_vif_name(*vif) && !named_vifs.count(*vif))
        change.nat_deletions.push_back(RuleDeletion{"PREROUTING", rule->args, position});
    }
  }
  for (const auto &set : live.ipsets.sets)
    if (!used_sets.count(set.name) && looks_like_vmops_rule_set(set.name))
      change.sets_to_destroy.push_back(set.name);
  return change;
}

} // namespace

Result<SgOutcome> SgApplier::sweep_leftovers() {
  auto &impl = *impl_;
  auto fw = impl.firewall();
  if (!fw)
    return tl::unexpected(fw.error());
  auto locks = take_locks(impl.options);
  if (!locks)
    return tl::unexpected(locks.error());
  auto live = (*fw)->read(impl.uses_arptables());
  if (!live)
    return tl::unexpected(live.error());
  const Change change = leftovers_change(*live);
  return finish_change(impl, **fw, change, *live, SgOutcome{}, [] { return Result<void>{}; });
}

SgApplier::SgApplier(CommandRunner &runner, SgOptions options)
    : impl_(std::make_shared<Impl>(runner, std::move(options))) {
  impl_->on_change = &on_change;
  // VIFWALL_SG_APPLY_READ=whole: the whole read for every job, as before
  // the narrow one existed (for benchmarks against it, and to rule it out
  // when something looks wrong).
  if (const char *read = std::getenv("VIFWALL_SG_APPLY_READ"); read && std::string(read) == "whole")
    impl_->options.narrow_read = false;
}

// One job is one VM's command (a batch of one line is the same command):
// read narrowly.  Several are a host-wide job: read everything.
Result<SgOutcome> SgApplier::run(std::vector<VmJob> jobs) { return run_jobs(*impl_, jobs, jobs.size() == 1); }
Result<SgOutcome> SgApplier::run_whole(std::vector<VmJob> jobs) { return run_jobs(*impl_, jobs, false); }

Result<SgOutcome> SgApplier::apply_default(const DefaultRequest &request) {
  return run_one(*impl_, prepare_default(request));
}
Result<SgOutcome> SgApplier::apply_rules(const RulesRequest &request) {
  return run_one(*impl_, prepare_rules(request));
}
Result<SgOutcome> SgApplier::apply_systemvm(const std::string &vm_name, std::vector<std::string> vifs) {
  return run_one(*impl_, prepare_systemvm(vm_name, std::move(vifs)));
}
Result<SgOutcome> SgApplier::destroy(const std::string &vm_name, int nic) {
  return run_one(*impl_, prepare_destroy(vm_name, nic));
}
Result<SgOutcome> SgApplier::secondary_ip(const std::string &vm_name, const std::string &mac,
                                          const std::string &ip, bool add) {
  return run_one(*impl_, prepare_secondary_ip(vm_name, mac, ip, add));
}

Result<SgOutcome> SgApplier::setup(std::vector<std::string> uplinks) {
  auto &impl = *impl_;
  const SgOptions &options = impl.options;
  if (const auto problems = host_problems(impl); !problems.empty()) {
    std::string message = "host not ready for security groups:";
    for (const auto &problem : problems)
      message += "\n  - " + problem;
    return fail(message);
  }
  auto fw = impl.firewall();
  for (const auto &uplink : uplinks)
    if (auto ok = validate_iface(uplink); !ok)
      return fail("--uplink", 0, ok.error().message);
  if (uplinks.empty()) {
    auto found = find_uplinks(impl);
    if (!found)
      return tl::unexpected(found.error());
    uplinks = std::move(*found);
  }
  auto plan = render_host_setup(uplinks, options.arp_filter, options.ipv6);
  if (!plan)
    return tl::unexpected(plan.error());
  PreparedFiles prepared;
  prepared.files = {{host_state_path(options.state_dir),
                     format_host_state(HostSetupState{uplinks, options.arp_filter, options.ipv6})}};
  if (!options.dry_run)
    if (auto ok = prepared.check_writable(options.state_dir); !ok)
      return tl::unexpected(ok.error());
  auto locks = take_locks(options);
  if (!locks)
    return tl::unexpected(locks.error());
  auto live = (*fw)->read(false);
  if (!live)
    return tl::unexpected(live.error());
  const Change change = host_setup_change(*live, *plan, impl.ebtables_nft());
  return finish_change(impl, **fw, change, *live, SgOutcome{}, [&] { return prepared.write(); });
}

Result<SgOutcome> SgApplier::cleanup(std::optional<std::vector<std::string>> running) {
  auto &impl = *impl_;
  // Names given by the caller are checked; xe's are only compared with.
  if (running)
    for (const auto &name : *running)
      if (auto ok = validate_vm_name(name); !ok)
        return fail("--running", 0, ok.error().message);
  if (!running) {
    auto listed = running_vms(impl);
    if (!listed)
      return tl::unexpected(listed.error());
    running = std::move(*listed);
  }
  const std::set<std::string> alive(running->begin(), running->end());
  auto fw = impl.firewall();
  if (!fw)
    return tl::unexpected(fw.error());
  auto live = (*fw)->read(impl.uses_arptables());
  if (!live)
    return tl::unexpected(live.error());
  std::vector<VmJob> jobs;
  std::vector<std::string> removed;
  for (const auto &name : cleanup_candidates(impl.options.state_dir, *live)) {
    if (alive.count(name))
      continue;
    auto job = prepare_destroy(name);
    if (!job)
      return tl::unexpected(job.error());
    jobs.push_back(std::move(*job));
    removed.push_back(name);
  }
  // Every stopped VM's removal in one change.
  auto outcome = run_whole(std::move(jobs));
  if (outcome)
    outcome->removed = std::move(removed);
  return outcome;
}

} // namespace vifwall
