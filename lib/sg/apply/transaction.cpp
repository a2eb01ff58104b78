// Loading a change into every table, all or nothing.  See transaction.hpp.
#include "transaction.hpp"

#include "text.hpp"

namespace vifwall::apply_detail {

namespace {

Step restore_step(Step::Tool tool, std::string what, std::string input) {
  Step step;
  step.tool = tool;
  step.what = std::move(what);
  step.input = std::move(input);
  return step;
}

// Runs one step, recording in `progress` what a rollback must undo.
Result<void> run_step(FirewallIo &fw, const Step &step, Progress &progress) {
  switch (step.tool) {
  case Step::Tool::ebtables:
    if (auto ok = fw.load_ebtables(step.input); !ok)
      return ok;
    progress.eb_done = true;
    return {};
  case Step::Tool::ipset:
    progress.sets_touched = true; // ipset restore is not atomic: a failure may have done part
    return fw.load_ipsets(step.input);
  case Step::Tool::arptables:
    if (auto ok = fw.run_arptables(step.args); !ok)
      return ok;
    progress.arp_done.push_back(step.args);
    return {};
  case Step::Tool::iptables:
    if (auto ok = fw.load_iptables(step.input); !ok)
      return ok;
    progress.ipt_done = true;
    return {};
  case Step::Tool::ip6tables:
    if (auto ok = fw.load_ip6tables(step.input); !ok)
      return ok;
    progress.ip6t_done = true;
    return {};
  case Step::Tool::ebtables_nat:
    if (auto ok = fw.run_ebtables(step.args); !ok)
      return ok;
    ++progress.nat_done;
    return {};
  }
  return {};
}

// Puts back what the steps taken so far changed, exactly: sets first (the
// old rules refer to them), then iptables and ip6tables (the inverse of
// each one's edit), arptables (the inverse of the commands that ran), sets we created, and
// last the ebtables table as it was read, which also lifts the cut-off.
// If any of that fails, the cut-off stays: fail closed.
Result<void> rollback(FirewallIo &fw, const Change &change, const LiveFirewall &before,
                      const Progress &progress) {
  std::vector<std::string> problems;
  auto now = fw.read(change.use_arptables);
  if (!now)
    return fail("rollback: cannot read the firewall back: " + now.error().str());
  SetRollback sets;
  if (progress.sets_touched) {
    sets = rollback_sets(change, before.ipsets, now->ipsets);
    if (!sets.restore.empty())
      if (auto ok = fw.load_ipsets(render_ipset_restore(sets.restore, sets.existing)); !ok)
        problems.push_back("ipset: " + ok.error().str());
  }
  if (progress.ipt_done)
    if (auto ok = fw.load_iptables(render_iptables_edit(inverse_edit(change.iptables, before.iptables)));
        !ok)
      problems.push_back("iptables: " + ok.error().str());
  if (progress.ip6t_done)
    if (auto ok = fw.load_ip6tables(render_iptables_edit(inverse_edit(change.ip6tables, before.ip6tables)));
        !ok)
      problems.push_back("ip6tables: " + ok.error().str());
  if (!progress.arp_done.empty() && before.arptables)
    for (const auto &command : undo_arptables_commands(progress.arp_done, *before.arptables))
      if (auto ok = fw.run_arptables(command); !ok) {
        problems.push_back("arptables: " + ok.error().str());
        break;
      }
  // The nat rules back at their old positions, lowest first (each insert
  // then lands where it was, the ones above it being back already).
  for (std::size_t i = 0; i < progress.nat_done && problems.empty(); ++i)
    if (auto ok = fw.run_ebtables(nat_restore_command(change.nat_deletions[i])); !ok)
      problems.push_back("ebtables nat: " + ok.error().str());
  if (!sets.created.empty() && problems.empty())
    if (auto ok = fw.load_ipsets(render_ipset_destroy(sets.created)); !ok)
      problems.push_back("ipset: " + ok.error().str());
  if (progress.eb_done || change.quarantine) {
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

} // namespace

std::vector<Step> transaction_steps(const Change &change) {
  using Tool = Step::Tool;
  std::vector<Step> steps;
  if (change.quarantine)
    steps.push_back(restore_step(
        Tool::ebtables, "ebtables-restore",
        render_ebtables_table(with_quarantine(change.ebtables.result, change.quarantine_vifs))));
  else if (!change.ebtables.empty())
    steps.push_back(restore_step(Tool::ebtables, "ebtables-restore",
                                 render_ebtables_table(change.ebtables.result)));
  if (!change.sets_to_load.empty())
    steps.push_back(restore_step(Tool::ipset, "ipset restore",
                                 render_ipset_restore(change.sets_to_load, change.existing_sets)));
  for (auto &command : render_arptables_edit(change.arptables)) {
    Step step;
    step.tool = Tool::arptables;
    step.what = "arptables";
    step.args = std::move(command);
    steps.push_back(std::move(step));
  }
  // The same text format serves ip6tables-restore (render_iptables_edit
  // prints no family-specific word); before iptables: transaction.hpp.
  if (!change.ip6tables.empty())
    steps.push_back(
        restore_step(Tool::ip6tables, "ip6tables-restore", render_iptables_edit(change.ip6tables)));
  if (!change.iptables.empty())
    steps.push_back(restore_step(Tool::iptables, "iptables-restore", render_iptables_edit(change.iptables)));
  for (const auto &deletion : change.nat_deletions) {
    Step step;
    step.tool = Tool::ebtables_nat;
    step.what = "ebtables -t nat -D";
    step.args = nat_delete_command(deletion);
    steps.push_back(std::move(step));
  }
  // Before the cut-off is lifted, so that a failure can still put
  // everything back (the old rules need these sets).
  if (!change.sets_to_destroy.empty())
    steps.push_back(restore_step(Tool::ipset, "ipset destroy", render_ipset_destroy(change.sets_to_destroy)));
  if (change.quarantine)
    steps.push_back(restore_step(Tool::ebtables, "ebtables-restore (lifting the cut-off)",
                                 render_ebtables_table(change.ebtables.result)));
  return steps;
}

std::vector<std::string> nat_delete_command(const RuleDeletion &deletion) {
  std::vector<std::string> args{"-t", "nat", "-D", deletion.chain};
  args.insert(args.end(), deletion.args.begin(), deletion.args.end());
  return args;
}

std::vector<std::string> nat_restore_command(const RuleDeletion &deletion) {
  std::vector<std::string> args{"-t", "nat", "-I", deletion.chain, std::to_string(deletion.position)};
  args.insert(args.end(), deletion.args.begin(), deletion.args.end());
  return args;
}

SetRollback rollback_sets(const Change &change, const IpsetDump &before, const IpsetDump &now) {
  SetRollback out;
  std::vector<std::string> names;
  for (const auto &set : change.sets_to_load)
    names.push_back(set.name);
  names.insert(names.end(), change.sets_to_destroy.begin(), change.sets_to_destroy.end());
  for (const auto &name : names) {
    const IpSet *old = before.find(name);
    const IpSet *current = now.find(name);
    if (!old) {
      if (current)
        out.created.push_back(name);
      continue;
    }
    if (current && current->type == old->type && current->members == old->members)
      continue;
    out.restore.push_back(SetContent{name, old->type, old->family.empty() ? "inet" : old->family,
                                     old->members});
    if (current)
      out.existing.push_back(name);
  }
  return out;
}

Result<void> apply_change(FirewallIo &fw, const Change &change, const LiveFirewall &before) {
  Progress progress;
  for (const auto &step : transaction_steps(change)) {
    auto ok = run_step(fw, step, progress);
    if (ok)
      continue;
    const Error &error = ok.error();
    std::string message = change.what + ": " + step.what + " failed, nothing of this change was kept: " +
                          error.str();
    if (auto rolled = rollback(fw, change, before, progress); !rolled)
      message = change.what + ": " + step.what + " failed: " + error.str() + "\n" + rolled.error().str();
    return fail(message);
  }
  return {};
}

std::string render_dry_run(const Change &change) {
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
  if (!change.ip6tables.empty())
    out += "# ip6tables-restore --noflush\n" + render_iptables_edit(change.ip6tables);
  if (!change.iptables.empty())
    out += "# iptables-restore --noflush\n" + render_iptables_edit(change.iptables);
  if (!change.nat_deletions.empty()) {
    out += "# ebtables commands (CloudStack's MAC checks in the nat table)\n";
    for (const auto &deletion : change.nat_deletions) {
      std::vector<std::string> argv{"ebtables"};
      for (auto &word : nat_delete_command(deletion))
        argv.push_back(std::move(word));
      out += join_shell_words(argv) + "\n";
    }
  }
  if (change.quarantine)
    out += "# ebtables-restore (2/2)\n" + render_ebtables_table(change.ebtables.result);
  if (!change.sets_to_destroy.empty())
    out += "# ipset restore (after iptables and ip6tables stopped using them)\n" +
           render_ipset_destroy(change.sets_to_destroy);
  return out;
}

} // namespace vifwall::apply_detail
