#include "sg_apply.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>
#include <sys/stat.h>
#include <unistd.h>

#include "file_util.hpp"
#include "firewall_io.hpp"
#include "host_inputs.hpp"
#include "lock.hpp"
#include "parse_xe.hpp"
#include "sg_desired.hpp"
#include "sg_names.hpp"
#include "sg_plan.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

bool is_lock_timeout(const Error &error) { return is_lock_busy(error); }

namespace {

const std::set<std::string> kHostChains = {kBridgeFirewall, kBridgeDefaultFirewall,
                                           kDefaultEbtables};

std::string read_small_file(const std::string &path) {
  auto text = read_input_file(path);
  return text ? *text : std::string();
}

bool file_exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The VMs of a change for messages: their names, or for a batch of many
// "1000 VMs (i-2-1-VM, i-2-2-VM, ..., i-2-1000-VM)", so that what failed
// stays on screen after the names.
std::string describe_vms(const std::vector<std::string> &names) {
  constexpr std::size_t kListed = 4;
  std::string out;
  if (names.size() <= kListed) {
    for (const auto &name : names)
      out += (out.empty() ? "" : ", ") + name;
    return out;
  }
  out = std::to_string(names.size()) + " VMs (";
  for (std::size_t i = 0; i + 1 < kListed; ++i)
    out += names[i] + ", ";
  return out + "..., " + names.back() + ")";
}

// What the live firewall holds, by name, in one pass: tells without a diff
// whether VMs have anything in it yet (a chain, a jump to one, a wall rule
// of their VIFs, a set).  Families are not told apart: a name found
// anywhere counts (at worst a wall too many).
struct LiveIndex {
  std::unordered_set<std::string> chains_and_targets;
  std::unordered_set<std::string> walled_vifs; // VIFs with a cut-off rule
  std::unordered_set<std::string> sets, set_bases;
};

LiveIndex index_live(const LiveFirewall &live) {
  LiveIndex index;
  auto add_table = [&](const FwTable &table) {
    for (const auto &chain : table.chains)
      index.chains_and_targets.insert(chain.name);
    for (const auto &rule : table.rules) {
      const auto target = rule.target_name();
      if (target.empty())
        continue;
      index.chains_and_targets.emplace(target);
      if (target == kCutoffChain)
        for (std::size_t i = 0; i + 1 < rule.args.size(); ++i)
          if (rule.args[i] == "-i" || rule.args[i] == "-o")
            index.walled_vifs.insert(rule.args[i + 1]);
    }
  };
  add_table(live.iptables);
  add_table(live.ebtables);
  if (live.arptables)
    add_table(*live.arptables);
  for (const auto &set : live.ipsets.sets) {
    index.sets.insert(set.name);
    if (auto rule_set = recognize_rule_set(set.name))
      index.set_bases.insert(rule_set->set_base);
  }
  return index;
}

// Whether the live firewall holds anything of VMs with these names and VIFs.
bool has_live_objects(const LiveIndex &index, const std::vector<std::string> &vm_names,
                      const std::set<std::string> &vifs) {
  for (const auto &vm : vm_names) {
    const VmNames names = names_for_vm(vm);
    for (const auto *chain : {&names.ingress, &names.egress, &names.def})
      if (index.chains_and_targets.count(*chain))
        return true;
    if (index.sets.count(names.ipset) || index.set_bases.count(names.set_base))
      return true;
  }
  for (const auto &vif : vifs)
    if (index.walled_vifs.count(vif))
      return true;
  return false;
}

// The interfaces a VM's rules in shared chains name (old domids included).
void collect_vifs(const FwTable &table, const std::set<std::string> &targets,
                  std::set<std::string> &vifs) {
  for (const auto &rule : table.rules) {
    if (!targets.count(std::string(rule.target_name())))
      continue;
    for (std::size_t i = 0; i + 1 < rule.args.size(); ++i) {
      const auto &word = rule.args[i];
      if (word == "-i" || word == "-o" || word == "--physdev-in" || word == "--physdev-out" ||
          word == "--in-interface" || word == "--out-interface")
        if (rule.args[i + 1] != "!" && parse_vif_name(rule.args[i + 1]))
          vifs.insert(rule.args[i + 1]);
    }
  }
}

// One VM's (or the host setup's) change across all tables.
struct Change {
  std::string what; // "i-2-3-VM" or "host setup"
  TableEdit iptables, ebtables, arptables;
  bool use_arptables = false;
  std::vector<SetContent> sets_to_load;
  std::vector<std::string> existing_sets; // of sets_to_load, those that exist
  bool refills_existing_set = false;
  std::vector<std::string> sets_to_destroy;
  std::vector<std::string> quarantine_vifs;
  bool quarantine = false;
  // For rollbacks.
  std::set<std::string> owned_ipt, owned_eb, owned_arp;
  IsOurs ours_ipt, ours_eb, ours_arp;

  bool empty() const {
    return iptables.empty() && ebtables.empty() && arptables.empty() && sets_to_load.empty() &&
           sets_to_destroy.empty();
  }
};

std::string render_dry_run(const Change &change, const LiveFirewall &live) {
  std::string out;
  if (!change.sets_to_load.empty())
    out += "# ipset -exist restore\n" + render_ipset_restore(change.sets_to_load, change.existing_sets);
  if (change.quarantine)
    out += "# ebtables-restore (1/2: the VM's VIFs cut off while the other tables change)\n" +
           render_ebtables_table(with_quarantine(change.ebtables.result, change.quarantine_vifs));
  else if (!change.ebtables.empty())
    out += "# ebtables-restore\n" + render_ebtables_table(change.ebtables.result);
  if (!change.arptables.empty()) {
    out += "# arptables commands\n";
    for (const auto &command : render_arptables_edit(change.arptables)) {
      std::string line = "arptables";
      for (const auto &word : command)
        line += " " + word;
      out += line + "\n";
    }
  }
  if (!change.iptables.empty())
    out += "# iptables-restore --noflush\n" + render_iptables_edit(change.iptables);
  if (change.quarantine)
    out += "# ebtables-restore (2/2)\n" + render_ebtables_table(change.ebtables.result);
  if (!change.sets_to_destroy.empty())
    out += "# ipset restore (after iptables stopped using them)\n" +
           render_ipset_destroy(change.sets_to_destroy);
  (void)live;
  return out;
}

} // namespace

struct SgApplier::Impl {
  CommandRunner &runner;
  SgOptions options;
  std::optional<FirewallIo> io;
  std::function<void(const std::string &)> *on_change = nullptr;

  Impl(CommandRunner &r, SgOptions o) : runner(r), options(std::move(o)) {}

  Result<FirewallIo *> firewall() {
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

  bool uses_arptables() const { return options.arp_filter == ArpFilter::arptables; }

  // Standard output of a command that must succeed within the timeout.
  Result<std::string> output_of(std::vector<std::string> argv) {
    Command command{std::move(argv)};
    command.timeout = options.command_timeout;
    auto output = run_checked(runner, command);
    if (!output)
      return tl::unexpected(output.error());
    return std::move(output->out);
  }

  // ebtables-nft cannot give a user chain any policy but RETURN (it accepts
  // and ignores ACCEPT).  Plan what it will really hold, or every run would
  // find the chain "different" and rewrite it.  RETURN is the stricter one:
  // a frame that passes a VM's chain still meets the other rules of FORWARD.
  TablePlan ebtables_plan(TablePlan plan) const {
    if (io && io->tools().ebtables.variant == Variant::nft)
      for (auto &chain : plan.owned_chains)
        chain.policy = "RETURN";
    return plan;
  }

  // ---- locks -------------------------------------------------------------
  struct Locks {
    std::optional<FileLock> own, ebtables;
  };
  Result<Locks> lock() {
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

  // ---- computing a change ------------------------------------------------
  // One VM's part of a change: its name, its desired plan (nullopt: remove
  // everything of it) and the VIFs the plan uses.
  struct VmTarget {
    std::string vm_name;
    std::optional<VmPlan> plan;
    std::vector<std::string> vifs;
  };

  // The change that makes the live tables hold every target's plan.  The
  // VMs' objects are disjoint (their own chains and sets, jumps to them), so
  // their plans are combined and diffed once: one load per table for all.
  // `index`: index_live(live), when the caller has it (else made here).
  Change vm_change(const LiveFirewall &live, const std::vector<VmTarget> &targets,
                   const LiveIndex *index = nullptr) {
    Change change;
    VmPlan combined;
    bool any_plan = false;
    std::set<std::string> own_sets, own_set_bases, vifs;
    std::vector<std::string> vm_names;
    for (const auto &target : targets)
      vm_names.push_back(target.vm_name);
    change.what = describe_vms(vm_names);
    for (const auto &target : targets) {
      const VmNames names = names_for_vm(target.vm_name);
      change.owned_ipt.insert({names.ingress, names.egress, names.def});
      change.owned_eb.insert(names.ingress);
      change.owned_arp.insert(names.ingress);
      own_sets.insert(names.ipset);
      own_set_bases.insert(names.set_base);
      vifs.insert(target.vifs.begin(), target.vifs.end());
      if (target.plan) {
        append_plan(combined, *target.plan);
        any_plan = true;
      }
    }
    change.use_arptables = live.arptables.has_value();
    collect_vifs(live.iptables, change.owned_ipt, vifs);
    collect_vifs(live.ebtables, change.owned_eb, vifs);
    if (live.arptables)
      collect_vifs(*live.arptables, change.owned_arp, vifs);
    change.quarantine_vifs.assign(vifs.begin(), vifs.end());

    const auto owned_ipt = change.owned_ipt;
    const auto owned_eb = change.owned_eb;
    change.ours_ipt = [owned_ipt](const FwRule &r) { return owned_ipt.count(std::string(r.target_name())) > 0; };
    change.ours_eb = [owned_eb, vifs](const FwRule &r) {
      return owned_eb.count(std::string(r.target_name())) > 0 || is_quarantine_rule(r, vifs);
    };
    change.ours_arp = change.ours_eb;

    const VmPlan *p = any_plan ? &combined : nullptr;
    const TablePlan empty_plan;
    change.iptables = diff_table(Family::iptables, p ? p->iptables : empty_plan, &live.iptables,
                                 change.owned_ipt, change.ours_ipt);
    change.ebtables = diff_table(Family::ebtables, ebtables_plan(p ? p->ebtables : empty_plan),
                                 &live.ebtables, change.owned_eb, change.ours_eb);
    change.ebtables.result = without_unused_cutoff(change.ebtables.result);
    if (live.arptables)
      change.arptables = diff_table(Family::arptables, p ? p->arptables : empty_plan,
                                    &*live.arptables, change.owned_arp, change.ours_arp);

    // Sets: load new or changed ones, destroy ours that the plans dropped.
    std::set<std::string> planned_sets;
    if (p)
      for (const auto &set : p->sets) {
        planned_sets.insert(set.name);
        const IpSet *current = live.ipsets.find(set.name);
        std::vector<std::string> wanted;
        for (const auto &member : set.members)
          wanted.push_back(normalize_ipset_member(set.type, member));
        std::sort(wanted.begin(), wanted.end());
        if (current && current->type == set.type && current->members == wanted)
          continue;
        change.sets_to_load.push_back(set);
        if (current) {
          change.existing_sets.push_back(set.name);
          change.refills_existing_set = true;
        }
      }
    for (const auto &set : live.ipsets.sets) {
      if (planned_sets.count(set.name))
        continue;
      // Swap scratch sets live only inside one ipset restore under our lock;
      // one that exists now was left by a killed run.
      if (set.name.rfind("vifwall-tmp-", 0) == 0) {
        bool reused = false; // the load below recreates, swaps and destroys it
        for (const auto &existing : change.existing_sets)
          reused = reused || swap_set_name(existing) == set.name;
        if (!reused)
          change.sets_to_destroy.push_back(set.name);
        continue;
      }
      const auto rule_set = recognize_rule_set(set.name);
      if (own_sets.count(set.name) || (rule_set && own_set_bases.count(rule_set->set_base)))
        change.sets_to_destroy.push_back(set.name);
    }

    const int layers = int(!change.iptables.empty()) + int(!change.ebtables.empty()) +
                       int(change.refills_existing_set);
    // VMs with nothing in any table yet (new ones, the common case of a
    // host's first programming) need no wall: the loads only add, ebtables
    // (which only restricts) before iptables' single commit, so every moment
    // lets through at most what the host let through before.  Not so with
    // arptables, whose commands each change a little.
    const bool only_new_vms = change.arptables.empty() &&
                              !has_live_objects(index ? *index : index_live(live), vm_names, vifs);
    change.quarantine = !change.quarantine_vifs.empty() &&
                        (!change.arptables.empty() || layers >= 2) && !only_new_vms;
    return change;
  }

  // ---- applying a change -------------------------------------------------
  // Puts back what the steps taken so far changed, exactly: sets first (the
  // old rules refer to them), then iptables (the inverse of its edit),
  // arptables (the inverse of the commands that ran), sets we created, and
  // last the ebtables table as it was read, which also lifts the cut-off.
  // If any of that fails, the cut-off stays: fail closed.
  Result<void> rollback(FirewallIo &fw, const Change &change, const LiveFirewall &before,
                        bool ipt_done, const std::vector<std::vector<std::string>> &arp_done,
                        bool sets_touched, bool eb_done) {
    std::vector<std::string> problems;
    auto now = fw.read(change.use_arptables);
    if (!now)
      return fail("rollback: cannot read the firewall back: " + now.error().str());
    std::vector<std::string> created;
    if (sets_touched) {
      std::vector<SetContent> restore;
      std::vector<std::string> existing;
      std::vector<std::string> names;
      for (const auto &set : change.sets_to_load)
        names.push_back(set.name);
      names.insert(names.end(), change.sets_to_destroy.begin(), change.sets_to_destroy.end());
      for (const auto &name : names) {
        const IpSet *old = before.ipsets.find(name);
        const IpSet *current = now->ipsets.find(name);
        if (!old) {
          if (current)
            created.push_back(name);
          continue;
        }
        if (current && current->type == old->type && current->members == old->members)
          continue;
        restore.push_back(SetContent{name, old->type, old->family.empty() ? "inet" : old->family,
                                     old->members});
        if (current)
          existing.push_back(name);
      }
      if (!restore.empty())
        if (auto ok = fw.load_ipsets(render_ipset_restore(restore, existing)); !ok)
          problems.push_back("ipset: " + ok.error().str());
    }
    if (ipt_done)
      if (auto ok = fw.load_iptables(render_iptables_edit(inverse_edit(change.iptables, before.iptables)));
          !ok)
        problems.push_back("iptables: " + ok.error().str());
    if (!arp_done.empty() && before.arptables)
      for (const auto &command : undo_arptables_commands(arp_done, *before.arptables))
        if (auto ok = fw.run_arptables(command); !ok) {
          problems.push_back("arptables: " + ok.error().str());
          break;
        }
    if (!created.empty() && problems.empty())
      if (auto ok = fw.load_ipsets(render_ipset_destroy(created)); !ok)
        problems.push_back("ipset: " + ok.error().str());
    if (eb_done || change.quarantine) {
      if (problems.empty()) {
        if (auto ok = fw.load_ebtables(render_ebtables_table(before.ebtables)); !ok)
          problems.push_back("ebtables: " + ok.error().str());
      } else {
        problems.push_back("the VM's interfaces stay cut off by ebtables rules in FORWARD "
                           "(fail closed); run the same sg-apply command again to finish");
      }
    }
    if (!problems.empty()) {
      std::string message = "rollback incomplete:";
      for (const auto &p : problems)
        message += "\n  " + p;
      return fail(message);
    }
    return {};
  }

  Result<void> apply_change(FirewallIo &fw, const Change &change, const LiveFirewall &before) {
    bool eb_done = false, sets_touched = false, ipt_done = false;
    std::vector<std::vector<std::string>> arp_done;
    auto failed = [&](const std::string &step, const Error &error) -> Result<void> {
      std::string message = change.what + ": " + step + " failed, nothing of this change was kept: " +
                            error.str();
      if (auto rolled = rollback(fw, change, before, ipt_done, arp_done, sets_touched, eb_done); !rolled)
        message = change.what + ": " + step + " failed: " + error.str() + "\n" + rolled.error().str();
      return fail(message);
    };
    if (change.quarantine) {
      auto ok = fw.load_ebtables(
          render_ebtables_table(with_quarantine(change.ebtables.result, change.quarantine_vifs)));
      if (!ok)
        return failed("ebtables-restore", ok.error());
      eb_done = true;
    } else if (!change.ebtables.empty()) {
      auto ok = fw.load_ebtables(render_ebtables_table(change.ebtables.result));
      if (!ok)
        return failed("ebtables-restore", ok.error());
      eb_done = true;
    }
    if (!change.sets_to_load.empty()) {
      sets_touched = true; // ipset restore is not atomic: a failure may have done part
      if (auto ok = fw.load_ipsets(render_ipset_restore(change.sets_to_load, change.existing_sets)); !ok)
        return failed("ipset restore", ok.error());
    }
    for (const auto &command : render_arptables_edit(change.arptables)) {
      if (auto ok = fw.run_arptables(command); !ok)
        return failed("arptables", ok.error());
      arp_done.push_back(command);
    }
    if (!change.iptables.empty()) {
      auto ok = fw.load_iptables(render_iptables_edit(change.iptables));
      if (!ok)
        return failed("iptables-restore", ok.error());
      ipt_done = true;
    }
    if (!change.sets_to_destroy.empty()) {
      // Before the cut-off is lifted, so that a failure can still put
      // everything back (the old rules need these sets).
      sets_touched = true;
      if (auto ok = fw.load_ipsets(render_ipset_destroy(change.sets_to_destroy)); !ok)
        return failed("ipset destroy", ok.error());
    }
    if (change.quarantine) {
      auto ok = fw.load_ebtables(render_ebtables_table(change.ebtables.result));
      if (!ok)
        return failed("ebtables-restore (lifting the cut-off)", ok.error());
    }
    return {};
  }

  void report(const Change &change, SgOutcome &outcome) {
    auto add = [&](const std::string &table, const TableEdit &edit) {
      if (!edit.empty())
        outcome.changes.push_back(change.what + ": " + table + " " + edit.summary());
    };
    add("iptables", change.iptables);
    add("ebtables", change.ebtables);
    add("arptables", change.arptables);
    if (!change.sets_to_load.empty() || !change.sets_to_destroy.empty())
      outcome.changes.push_back(change.what + ": ipset " + std::to_string(change.sets_to_load.size()) +
                                " loaded, " + std::to_string(change.sets_to_destroy.size()) +
                                " destroyed");
    if (on_change && *on_change)
      for (const auto &line : outcome.changes)
        (*on_change)(line);
  }

  // Reads the tables once, computes every job's plan (a user VM keeps its
  // live rule-set generation when nothing else changes, and takes the other
  // one when something does), applies the combined change, then writes the
  // jobs' state files.
  Result<SgOutcome> run_jobs(std::vector<VmJob> &jobs) {
    SgOutcome outcome;
    std::set<std::string> names;
    for (const auto &job : jobs)
      if (!names.insert(job.vm_name).second)
        return fail("VM " + job.vm_name + " appears twice; give each VM once per run");
    auto locks = lock();
    if (!locks)
      return tl::unexpected(locks.error());
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
    if (active.empty())
      return outcome;

    auto fw = firewall();
    if (!fw)
      return tl::unexpected(fw.error());
    auto live = (*fw)->read(uses_arptables());
    if (!live)
      return tl::unexpected(live.error());
    const LiveIndex index = index_live(*live);
    std::vector<VmTarget> targets;
    for (auto *job : active) {
      VmTarget target{job->vm_name, std::nullopt, job->old_vifs};
      if (!job->destroy) {
        // A user VM whose rules change gets its sets in the other
        // generation.  A VM with nothing live changes for sure: no diff (a
        // diff per VM reads the whole host's tables, which made a host's
        // first programming quadratic in its VM count).
        const std::set<std::string> job_vifs(job->state.vifs.begin(), job->state.vifs.end());
        const bool is_new = !has_live_objects(index, {job->vm_name}, job_vifs);
        auto other_generation = [&] { job->state.generation = job->state.generation == 'a' ? 'b' : 'a'; };
        if (job->state.kind == VmKind::user && is_new)
          other_generation();
        auto plan = plan_for_vm(job->state, job->rules, job->state.generation, options.arp_filter);
        if (!plan)
          return tl::unexpected(plan.error());
        if (job->state.kind == VmKind::user && !is_new &&
            !vm_change(*live, {{job->vm_name, *plan, job->state.vifs}}, &index).empty()) {
          other_generation();
          plan = plan_for_vm(job->state, job->rules, job->state.generation, options.arp_filter);
          if (!plan)
            return tl::unexpected(plan.error());
        }
        outcome.notes.insert(outcome.notes.end(), plan->notes.begin(), plan->notes.end());
        target.plan = std::move(*plan);
        target.vifs.insert(target.vifs.end(), job->state.vifs.begin(), job->state.vifs.end());
      }
      targets.push_back(std::move(target));
    }
    Change change = vm_change(*live, targets, &index);
    if (options.dry_run) {
      outcome.dry_run_text = render_dry_run(change, *live);
      outcome.changed = !change.empty();
      return outcome;
    }
    if (!change.empty()) {
      if (auto ok = apply_change(**fw, change, *live); !ok)
        return tl::unexpected(ok.error());
      outcome.changed = true;
      report(change, outcome);
    }
    // The generations may have changed: write what was really applied.
    PreparedFiles final_files;
    for (auto *job : active) {
      if (job->files)
        for (auto &file : job->files(job->state))
          final_files.files.push_back(std::move(file));
      for (const auto &path : job->remove_files)
        ::unlink(path.c_str());
    }
    if (auto ok = final_files.write(); !ok)
      return tl::unexpected(ok.error());
    return outcome;
  }

  // ---- VIFs of a VM on the live host ---------------------------------------
  struct ResolvedVm {
    std::int64_t dom_id = -1;
    std::vector<std::string> vifs;
  };
  Result<ResolvedVm> resolve_vifs(const std::string &vm_name, bool system) {
    LiveOptions live_options;
    live_options.xe = options.xe;
    live_options.timeout = options.command_timeout;
    auto texts = read_live(runner, live_options);
    if (!texts)
      return fail("cannot find " + vm_name + "'s interfaces on this host (give --vif): " +
                  texts.error().str());
    auto inputs = parse_host_texts(*texts);
    if (!inputs)
      return tl::unexpected(inputs.error());
    const HostMap host = join_host(std::move(*inputs));
    const HostVm *found = nullptr;
    for (const auto &vm : host.vms)
      if (vm.vm.name_label == vm_name) {
        if (found)
          return fail("more than one VM is named " + quote_for_error(vm_name) + "; give --vif");
        found = &vm;
      }
    if (!found)
      return fail("no VM named " + quote_for_error(vm_name) + " on this host (xe vm-list)");
    if (!found->vm.dom_id || *found->vm.dom_id < 0)
      return fail("VM " + quote_for_error(vm_name) + " is not running (dom-id -1)");
    ResolvedVm resolved;
    resolved.dom_id = *found->vm.dom_id;
    for (const auto &vif : found->vifs) {
      if (system ? vif.kind == VifKind::vif : vif.device == 0)
        resolved.vifs.push_back(vif.name);
    }
    if (resolved.vifs.empty())
      return fail("VM " + quote_for_error(vm_name) + " (dom-id " + std::to_string(resolved.dom_id) +
                  ") has no interface vif" + std::to_string(resolved.dom_id) + ".0 on this host");
    return resolved;
  }

  Result<std::vector<std::string>> checked_vifs(const std::vector<std::string> &vifs) {
    std::vector<std::string> out;
    for (const auto &vif : vifs) {
      auto ok = validate_iface(vif);
      if (!ok)
        return fail("--vif", 0, ok.error().message);
      out.push_back(*ok);
    }
    return out;
  }

  static std::string dom_id_of(const std::vector<std::string> &vifs) {
    for (const auto &vif : vifs)
      if (auto parsed = parse_vif_name(vif))
        return std::to_string(parsed->dom_id);
    return "-1";
  }

  // A user VM's identity from the command line: every value validated (by
  // rendering the plan once with a placeholder VIF, so a bad IP fails before
  // xe is asked anything), then the VIFs looked up when none were given.
  Result<VmState> user_vm_state(const std::string &vm_name, const std::string &vm_id,
                                const std::string &ip, const std::string &mac,
                                const std::vector<std::string> &secondary_ips,
                                const std::vector<std::string> &requested_vifs,
                                const std::vector<SgRule> &rules) {
    auto name = validate_vm_name(vm_name);
    if (!name)
      return fail("--vm", 0, name.error().message);
    if (is_system_vm(*name))
      return fail("--vm", 0, quote_for_error(*name) + " is a system VM name; use `sg-apply systemvm`");
    if (auto ok = validate_vm_id(vm_id); !ok)
      return fail("--vm-id", 0, ok.error().message);
    if (auto ok = validate_ipv4(ip); !ok)
      return fail("--ip", 0, ok.error().message);
    if (auto ok = validate_mac(mac); !ok)
      return fail("--mac", 0, ok.error().message);
    auto vifs = checked_vifs(requested_vifs);
    if (!vifs)
      return tl::unexpected(vifs.error());
    VmState state;
    state.kind = VmKind::user;
    state.vm_name = *name;
    state.vm_id = vm_id;
    state.ip = ip;
    state.secondary_ips = secondary_ips;
    state.mac = mac;
    state.vifs = vifs->empty() ? std::vector<std::string>{"vif0.0"} : *vifs;
    if (auto probe = plan_for_vm(state, rules, 'a', options.arp_filter); !probe)
      return tl::unexpected(probe.error());
    if (vifs->empty()) {
      auto resolved = resolve_vifs(*name, false);
      if (!resolved)
        return tl::unexpected(resolved.error());
      state.vifs = resolved->vifs;
    } else {
      state.vifs = *vifs;
    }
    state.dom_id = dom_id_of(state.vifs);
    if (auto normalized = validate_mac(state.mac))
      state.mac = *normalized;
    return state;
  }

  // ---- state files ----------------------------------------------------------
  std::optional<VmState> load_state(const std::string &vm) {
    const auto path = vm_state_path(options.state_dir, vm);
    if (!file_exists(path))
      return std::nullopt;
    auto state = parse_vm_state(read_small_file(path), path);
    if (!state)
      return std::nullopt;
    return *state;
  }

  std::optional<RuleLog> load_log(const std::string &vm) {
    const auto path = rule_log_path(options.state_dir, vm);
    if (!file_exists(path))
      return std::nullopt;
    auto log = parse_rule_log(read_small_file(path), path);
    if (!log)
      return std::nullopt; // CloudStack deletes an unparsable log: reprogram all
    return *log;
  }

  // Writes are prepared (and checked: a full disk fails here, before any
  // table changes) and renamed into place after the firewall took the change.
  struct PreparedFiles {
    std::vector<std::pair<std::string, std::string>> files; // path, content
    // Before any table changes: every file can be written (the directory
    // exists and takes a file of that size; nothing that is not a regular
    // file sits at a path).  A full disk or a read-only directory fails here.
    Result<void> check_writable(const std::string &state_dir) {
      if (auto ok = ensure_directory(state_dir); !ok)
        return ok;
      remove_stale_temp_files(state_dir); // left by a killed run
      for (const auto &[path, content] : files) {
        struct stat st;
        if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
          return fail(path, 0, "cannot write the state file, nothing changed: something other "
                               "than a regular file is in its place");
        const std::string probe = path + ".probe." + std::to_string(::getpid());
        if (auto ok = write_file_atomically(probe, content); !ok)
          return fail(path, 0, "cannot write the state file, nothing changed: " + ok.error().message);
        ::unlink(probe.c_str());
      }
      return {};
    }
    // Writes every file whose content differs; CloudStack's .log files last,
    // because the log alone decides whether a later `rules` call is needed:
    // a run killed half way must leave a log that asks for it again.
    Result<void> write() {
      for (const bool logs : {false, true})
        for (const auto &[path, content] : files) {
          if (ends_with(path, ".log") != logs)
            continue;
          if (read_small_file(path) == content && file_exists(path))
            continue;
          if (auto ok = write_file_atomically(path, content); !ok)
            return ok;
        }
      return {};
    }
  };

};

SgApplier::SgApplier(CommandRunner &runner, SgOptions options)
    : impl_(std::make_shared<Impl>(runner, std::move(options))) {
  impl_->on_change = &on_change;
}

Result<SgOutcome> SgApplier::run(std::vector<VmJob> jobs) { return impl_->run_jobs(jobs); }

namespace {
Result<SgOutcome> run_one(SgApplier &applier, Result<VmJob> job) {
  if (!job)
    return tl::unexpected(job.error());
  std::vector<VmJob> jobs;
  jobs.push_back(std::move(*job));
  return applier.run(std::move(jobs));
}

// A user VM's recorded rules, kept across `default` (CloudStack flushes them
// and waits for the next network_rules call; meanwhile the VM is closed).
std::vector<SgRule> recorded_rules(const VmState &state, const std::string &source) {
  if (state.rules.empty())
    return {};
  auto parsed = parse_rule_string(state.rules, source);
  return parsed ? *parsed : std::vector<SgRule>{};
}
} // namespace

Result<SgOutcome> SgApplier::apply_default(const DefaultRequest &request) {
  return run_one(*this, prepare_default(request));
}
Result<SgOutcome> SgApplier::apply_rules(const RulesRequest &request) {
  return run_one(*this, prepare_rules(request));
}
Result<SgOutcome> SgApplier::apply_systemvm(const std::string &vm_name, std::vector<std::string> vifs) {
  return run_one(*this, prepare_systemvm(vm_name, std::move(vifs)));
}
Result<SgOutcome> SgApplier::destroy(const std::string &vm_name) {
  return run_one(*this, prepare_destroy(vm_name));
}
Result<SgOutcome> SgApplier::secondary_ip(const std::string &vm_name, const std::string &mac,
                                          const std::string &ip, bool add) {
  return run_one(*this, prepare_secondary_ip(vm_name, mac, ip, add));
}

Result<VmJob> SgApplier::prepare_default(const DefaultRequest &request) {
  auto &impl = *impl_;
  const std::string raw_secondary = request.secondary_ips.empty() ? "0;" : request.secondary_ips;
  auto secondary = parse_secondary_ips(raw_secondary, "--sec-ips");
  if (!secondary)
    return tl::unexpected(secondary.error());
  auto made = impl.user_vm_state(request.vm_name, request.vm_id, request.ip, request.mac, *secondary,
                                 request.vifs, {});
  if (!made)
    return tl::unexpected(made.error());
  VmJob job;
  job.vm_name = made->vm_name;
  job.state = std::move(*made);
  job.state.arp_filter = to_string(impl.options.arp_filter);
  Impl *self = impl_.get();
  job.decide = [self](VmJob &j) -> Result<void> {
    // Keep the rules already applied to this VM (CloudStack flushes them and
    // waits for the next network_rules call; meanwhile the VM is closed).
    if (auto old = self->load_state(j.vm_name)) {
      j.old_vifs = old->vifs;
      if (old->kind == VmKind::user) {
        j.state.generation = old->generation;
        j.state.rules = old->rules;
        j.state.rules_applied = old->rules_applied;
        j.state.signature = old->signature;
        j.state.seqno = old->seqno;
        j.rules = recorded_rules(*old, vm_state_path(self->options.state_dir, j.vm_name));
      }
    }
    return {};
  };
  const std::string dir = impl.options.state_dir;
  job.files = [dir, raw_secondary](const VmState &s) {
    RuleLog log{s.vm_name, s.vm_id, s.ip, s.dom_id, "_initial_", "-1", s.mac};
    return std::vector<std::pair<std::string, std::string>>{
        {rule_log_path(dir, s.vm_name), format_rule_log(log)},
        {ip_file_path(dir, s.vm_name), s.vm_name + "," + raw_secondary + "," + s.vm_id + "\n"},
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

Result<VmJob> SgApplier::prepare_rules(const RulesRequest &request) {
  auto &impl = *impl_;
  auto signature = validate_signature(request.signature);
  if (!signature)
    return fail("--sig", 0, signature.error().message);
  auto seqno = validate_seqno(request.seqno);
  if (!seqno)
    return fail("--seq", 0, seqno.error().message);
  auto made = impl.user_vm_state(request.vm_name, request.vm_id, request.ip, request.mac, {},
                                 request.vifs, request.rules);
  if (!made)
    return tl::unexpected(made.error());
  VmJob job;
  job.vm_name = made->vm_name;
  job.state = std::move(*made);
  job.rules = request.rules;
  job.state.arp_filter = to_string(impl.options.arp_filter);
  job.state.rules = format_rule_string(request.rules);
  job.state.rules_applied = true;
  job.state.signature = *signature;
  job.state.seqno = std::to_string(*seqno);
  const RuleLog incoming{job.state.vm_name, job.state.vm_id, job.state.ip, job.state.dom_id,
                         job.state.signature, job.state.seqno, job.state.mac};
  const std::string dir = impl.options.state_dir;
  job.files = [dir, incoming](const VmState &s) {
    return std::vector<std::pair<std::string, std::string>>{
        {rule_log_path(dir, s.vm_name), format_rule_log(incoming)},
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  Impl *self = impl_.get();
  job.decide = [self, incoming, dir](VmJob &j) -> Result<void> {
    if (auto old = self->load_state(j.vm_name)) {
      j.old_vifs = old->vifs;
      if (old->kind == VmKind::user) {
        j.state.secondary_ips = old->secondary_ips;
        j.state.generation = old->generation;
      }
    }
    const auto decision = decide_rules_update(self->load_log(j.vm_name), incoming);
    if (decision == LogDecision::ignore || decision == LogDecision::nothing) {
      j.skip = true;
      j.notes.push_back(j.vm_name + ": " + to_string(decision) + " (log " +
                        rule_log_path(dir, j.vm_name) + ")");
    } else if (decision == LogDecision::update_log) {
      // Same rules, newer seqno: CloudStack only rewrites the log; the .state
      // keeps the seqno in step.
      j.skip = true;
      j.log_only = true;
      j.notes.push_back(j.vm_name + ": same signature, newer seqno: only the log is updated");
    }
    return {};
  };
  return job;
}

Result<VmJob> SgApplier::prepare_systemvm(const std::string &vm_name, std::vector<std::string> vifs) {
  auto &impl = *impl_;
  auto name = validate_vm_name(vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  auto checked = impl.checked_vifs(vifs);
  if (!checked)
    return tl::unexpected(checked.error());
  if (auto probe = render_system_vm(*name, checked->empty() ? std::vector<std::string>{"vif0.0"} : *checked);
      !probe)
    return tl::unexpected(probe.error());
  if (checked->empty()) {
    auto resolved = impl.resolve_vifs(*name, true);
    if (!resolved)
      return tl::unexpected(resolved.error());
    *checked = resolved->vifs;
  }
  VmJob job;
  job.vm_name = *name;
  job.state.kind = VmKind::system;
  job.state.vm_name = *name;
  job.state.vifs = *checked;
  job.state.dom_id = Impl::dom_id_of(job.state.vifs);
  job.state.ip = "_ignore_";
  job.state.mac = "ff:ff:ff:ff:ff:ff";
  job.state.arp_filter = to_string(impl.options.arp_filter);
  Impl *self = impl_.get();
  job.decide = [self](VmJob &j) -> Result<void> {
    if (auto old = self->load_state(j.vm_name))
      j.old_vifs = old->vifs;
    return {};
  };
  const std::string dir = impl.options.state_dir;
  job.files = [dir](const VmState &s) {
    return std::vector<std::pair<std::string, std::string>>{
        {rule_log_path(dir, s.vm_name),
         format_rule_log(RuleLog{s.vm_name, "-1", "_ignore_", s.dom_id, "_initial_", "-1", "ff:ff:ff:ff:ff:ff"})},
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

Result<VmJob> SgApplier::prepare_destroy(const std::string &vm_name) {
  auto &impl = *impl_;
  auto name = validate_vm_name(vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  VmJob job;
  job.vm_name = *name;
  job.destroy = true;
  const std::string &dir = impl.options.state_dir;
  job.remove_files = {rule_log_path(dir, *name), ip_file_path(dir, *name), vm_state_path(dir, *name)};
  Impl *self = impl_.get();
  job.decide = [self](VmJob &j) -> Result<void> {
    // The recorded VIFs find what a killed run left cut off even when no jump
    // to the VM's chains is left to name them.
    if (auto old = self->load_state(j.vm_name))
      j.old_vifs = old->vifs;
    return {};
  };
  return job;
}

Result<VmJob> SgApplier::prepare_secondary_ip(const std::string &vm_name, const std::string &mac,
                                              const std::string &ip, bool add) {
  auto &impl = *impl_;
  auto name = validate_vm_name(vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  auto address = validate_ipv4(ip);
  if (!address)
    return fail("--ip", 0, address.error().message);
  auto checked_mac = validate_mac(mac);
  if (!checked_mac)
    return fail("--mac", 0, checked_mac.error().message);
  VmJob job;
  job.vm_name = *name;
  const std::string dir = impl.options.state_dir;
  Impl *self = impl_.get();
  job.decide = [self, dir, address = *address, checked_mac = *checked_mac, add](VmJob &j) -> Result<void> {
    auto old = self->load_state(j.vm_name);
    if (!old || old->kind != VmKind::user)
      return fail(vm_state_path(dir, j.vm_name), 0,
                  "no state for user VM " + j.vm_name + ": run `sg-apply default` for it first");
    if (auto old_mac = validate_mac(old->mac); old_mac && *old_mac != checked_mac)
      return fail("--mac", 0, "VM " + j.vm_name + " has MAC " + *old_mac + ", not " + checked_mac);
    j.state = *old;
    j.old_vifs = old->vifs;
    auto &ips = j.state.secondary_ips;
    const bool present = std::find(ips.begin(), ips.end(), address) != ips.end();
    if (add && !present)
      ips.push_back(address);
    if (!add)
      ips.erase(std::remove(ips.begin(), ips.end(), address), ips.end());
    j.rules = recorded_rules(*old, vm_state_path(dir, j.vm_name));
    if (auto probe = plan_for_vm(j.state, j.rules, j.state.generation,
                                 parse_arp_filter_name(j.state.arp_filter));
        !probe)
      return tl::unexpected(probe.error());
    return {};
  };
  job.files = [dir](const VmState &s) {
    std::string raw;
    for (const auto &secondary : s.secondary_ips)
      raw += secondary + ";";
    return std::vector<std::pair<std::string, std::string>>{
        {ip_file_path(dir, s.vm_name), s.vm_name + "," + (raw.empty() ? "0;" : raw) + "," + s.vm_id + "\n"},
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

Result<SgOutcome> SgApplier::setup(std::vector<std::string> uplinks) {
  auto &impl = *impl_;
  std::vector<std::string> problems;
  // Network backend: CloudStack's bridge firewall needs Linux bridges.
  if (file_exists(impl.options.network_conf)) {
    const std::string backend = to_lower(trim(read_small_file(impl.options.network_conf)));
    if (backend != "bridge")
      problems.push_back("network backend is \"" + backend + "\" (" + impl.options.network_conf +
                         "); security groups need the Linux bridge backend: run "
                         "`xe-switch-network-backend bridge` and reboot the host");
  }
  for (const char *knob : {"bridge-nf-call-iptables", "bridge-nf-call-arptables"}) {
    if (std::string(knob) == "bridge-nf-call-arptables" && !impl.uses_arptables())
      continue;
    const std::string path = impl.options.proc_sys + "/net/bridge/" + knob;
    if (!file_exists(path))
      problems.push_back(path + " is missing: load the bridge netfilter module (modprobe br_netfilter)");
    else if (trim(read_small_file(path)) != "1")
      problems.push_back(std::string("net.bridge.") + knob + " is not 1: run `sysctl -w net.bridge." +
                         knob + "=1` and add it to /etc/sysctl.conf");
  }
  auto fw = impl.firewall();
  if (!fw)
    problems.push_back(fw.error().str());
  if (!problems.empty()) {
    std::string message = "host not ready for security groups:";
    for (const auto &problem : problems)
      message += "\n  - " + problem;
    return fail(message);
  }
  for (const auto &uplink : uplinks)
    if (auto ok = validate_iface(uplink); !ok)
      return fail("--uplink", 0, ok.error().message);
  if (uplinks.empty()) {
    // The bridges' ports that are not guests' interfaces: eth0, bond0, ...
    auto ip = find_program("ip");
    if (!ip)
      return fail("cannot find the uplinks without `ip`; give --uplink");
    auto output = impl.output_of({*ip, "-o", "link"});
    if (!output)
      return tl::unexpected(output.error());
    auto links = parse_links(*output, "ip -o link");
    if (!links)
      return tl::unexpected(links.error());
    for (const auto &link : *links)
      if (link.master && !parse_vif_name(link.name))
        uplinks.push_back(link.name);
  }
  auto plan = render_host_setup(uplinks, impl.options.arp_filter);
  if (!plan)
    return tl::unexpected(plan.error());
  Impl::PreparedFiles prepared;
  prepared.files = {{host_state_path(impl.options.state_dir),
                     format_host_state(HostSetupState{uplinks, impl.options.arp_filter})}};
  if (!impl.options.dry_run)
    if (auto ok = prepared.check_writable(impl.options.state_dir); !ok)
      return tl::unexpected(ok.error());
  auto locks = impl.lock();
  if (!locks)
    return tl::unexpected(locks.error());
  auto live = (*fw)->read(false);
  if (!live)
    return tl::unexpected(live.error());
  Change change;
  change.what = "host setup";
  change.owned_ipt = {kBridgeDefaultFirewall};
  change.owned_eb = {kDefaultEbtables};
  change.ours_ipt = [](const FwRule &r) { return kHostChains.count(r.target()) > 0; };
  change.ours_eb = change.ours_ipt;
  change.iptables = diff_table(Family::iptables, plan->iptables, &live->iptables, change.owned_ipt,
                               change.ours_ipt);
  change.ebtables = diff_table(Family::ebtables, impl.ebtables_plan(plan->ebtables),
                               &live->ebtables, change.owned_eb, change.ours_eb);
  SgOutcome outcome;
  if (impl.options.dry_run) {
    outcome.dry_run_text = render_dry_run(change, *live);
    outcome.changed = !change.empty();
    return outcome;
  }
  if (!change.empty()) {
    if (auto ok = impl.apply_change(**fw, change, *live); !ok)
      return tl::unexpected(ok.error());
    outcome.changed = true;
    impl.report(change, outcome);
  }
  if (auto ok = prepared.write(); !ok)
    return tl::unexpected(ok.error());
  return outcome;
}

Result<SgOutcome> SgApplier::cleanup(std::optional<std::vector<std::string>> running) {
  auto &impl = *impl_;
  // Names given by the caller are checked; xe's are only compared with.
  if (running)
    for (const auto &name : *running)
      if (auto ok = validate_vm_name(name); !ok)
        return fail("--running", 0, ok.error().message);
  if (!running) {
    auto xe = find_xe(impl.options.xe);
    if (!xe)
      return tl::unexpected(xe.error());
    running.emplace();
    for (const char *state : {"power-state=running", "power-state=paused"}) {
      auto output = impl.output_of({*xe, "vm-list", state, "params=name-label", "--minimal"});
      if (!output)
        return tl::unexpected(output.error());
      auto names = parse_xe_minimal(*output, "xe vm-list --minimal");
      if (!names)
        return tl::unexpected(names.error());
      running->insert(running->end(), names->begin(), names->end());
    }
  }
  const std::set<std::string> alive(running->begin(), running->end());

  // Candidates: VMs with state files, and VMs whose chains are in iptables.
  std::set<std::string> candidates;
  auto states = read_all_vm_states(impl.options.state_dir);
  if (states)
    for (const auto &state : *states)
      candidates.insert(state.vm_name);
  auto fw = impl.firewall();
  if (!fw)
    return tl::unexpected(fw.error());
  auto live = (*fw)->read(false);
  if (!live)
    return tl::unexpected(live.error());
  for (const auto &chain : live->iptables.chains)
    if (auto recognized = recognize_chain(chain.name);
        recognized && recognized->kind != ChainKind::global &&
        names_for_vm(recognized->base).ingress == recognized->base &&
        validate_vm_name(recognized->base))
      candidates.insert(recognized->base);
  // Sets left without chains (a destroy whose set removal failed) count too.
  for (const auto &set : live->ipsets.sets) {
    std::string base = set.name;
    if (auto rule_set = recognize_rule_set(set.name))
      base = rule_set->set_base;
    if (validate_vm_name(base) && names_for_vm(base).set_base == base &&
        (base == set.name ? names_for_vm(base).ipset == base : true))
      candidates.insert(base);
  }
  std::vector<VmJob> jobs;
  for (const auto &name : candidates) {
    if (alive.count(name))
      continue;
    auto job = prepare_destroy(name);
    if (!job)
      return tl::unexpected(job.error());
    jobs.push_back(std::move(*job));
  }
  // Every stopped VM's removal in one change.
  return run(std::move(jobs));
}

} // namespace vifwall
