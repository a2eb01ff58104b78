#include "sg_plan.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>

#include "sg_names.hpp"
#include "text.hpp"

namespace vifwall {

namespace {

// A table as chains in order, each with its rules: easier to edit than
// FwTable's flat rule list.  Chains are found through an index, since a
// host's table has thousands of them (three per VM).
struct ChainRules {
  FwChain chain;
  std::vector<FwRule> rules;
  bool removed = false; // left out of to_table (keeps the index valid)
};

class EditableTable {
public:
  std::string name = "filter";

  ChainRules *find(const std::string &chain) {
    const auto it = index_.find(chain);
    return it == index_.end() ? nullptr : &chains_[it->second];
  }
  // Appends a chain.
  ChainRules &add(ChainRules chain) {
    index_[chain.chain.name] = chains_.size();
    chains_.push_back(std::move(chain));
    return chains_.back();
  }
  // Inserts a chain at `position` (or last): rebuilds the index.
  void insert_at(std::size_t position, ChainRules chain) {
    chains_.insert(chains_.begin() + static_cast<std::ptrdiff_t>(std::min(position, chains_.size())),
                   std::move(chain));
    reindex();
  }
  void remove(const std::string &chain) {
    if (ChainRules *found = find(chain)) {
      found->removed = true;
      index_.erase(chain);
    }
  }
  // The chains present, in order.
  template <typename F> void for_each(F &&f) {
    for (auto &chain : chains_)
      if (!chain.removed)
        f(chain);
  }
  template <typename F> void for_each(F &&f) const {
    for (const auto &chain : chains_)
      if (!chain.removed)
        f(chain);
  }

private:
  void reindex() {
    index_.clear();
    for (std::size_t i = 0; i < chains_.size(); ++i)
      if (!chains_[i].removed)
        index_[chains_[i].chain.name] = i;
  }
  std::vector<ChainRules> chains_;
  std::unordered_map<std::string, std::size_t> index_;
};

bool is_builtin(const std::string &chain) {
  return chain == "INPUT" || chain == "FORWARD" || chain == "OUTPUT" ||
         chain == "PREROUTING" || chain == "POSTROUTING" || chain == "BROUTING";
}

EditableTable editable(const FwTable *table, Family family) {
  EditableTable out;
  if (table) {
    out.name = table->name;
    for (const auto &chain : table->chains)
      out.add(ChainRules{chain, {}});
    for (const auto &rule : table->rules) {
      ChainRules *chain = out.find(rule.chain);
      if (!chain)
        chain = &out.add(ChainRules{FwChain{rule.chain, "-"}, {}});
      chain->rules.push_back(rule);
    }
  }
  // ebtables and arptables tables always have their built-in chains; an
  // empty dump (module not loaded yet) must still render them.
  if (family == Family::ebtables || family == Family::arptables) {
    for (const char *builtin : {"INPUT", "FORWARD", "OUTPUT"})
      if (!out.find(builtin))
        out.insert_at(3, ChainRules{FwChain{builtin, "ACCEPT"}, {}});
  }
  return out;
}

FwTable to_table(EditableTable &&editable) {
  FwTable table;
  table.name = editable.name;
  editable.for_each([&](ChainRules &chain) {
    table.chains.push_back(chain.chain);
    for (auto &rule : chain.rules) {
      rule.chain = chain.chain.name;
      table.rules.push_back(std::move(rule));
    }
  });
  return table;
}

FwRule make_rule(const std::string &chain, const std::vector<std::string> &args) {
  FwRule rule;
  rule.chain = chain;
  rule.args = args;
  return rule;
}

std::string default_user_policy(Family family) {
  return family == Family::ebtables ? "ACCEPT" : "-";
}

bool targets_global_chain(const FwRule &rule) {
  const auto target = rule.target_name();
  if (target.empty())
    return false;
  auto recognized = recognize_chain(std::string(target));
  return recognized && recognized->kind == ChainKind::global;
}

// Rules compared by meaning, in one family.
struct Canon {
  Family family;
  std::string operator()(const std::vector<std::string> &args) const {
    return canonical_args(family, args);
  }
};

// diff_table, step 1: the chains we own, by content.  Missing ones are new,
// differing ones replaced (in `table` too).  Returns the planned ones' names.
std::set<std::string> diff_owned_chains(const TablePlan &plan, const Canon &canon,
                                        EditableTable &table, TableEdit &edit) {
  const Family family = canon.family;
  std::set<std::string> planned_owned;
  for (const auto &wanted : plan.owned_chains) {
    planned_owned.insert(wanted.name);
    const std::string policy = family == Family::ebtables
                                   ? (wanted.policy.empty() ? "ACCEPT" : wanted.policy)
                                   : "-";
    ChainRules *current = table.find(wanted.name);
    std::vector<FwRule> rules;
    for (const auto &args : wanted.rules)
      rules.push_back(make_rule(wanted.name, args));
    if (!current) {
      edit.new_chains.push_back(wanted);
      table.add(ChainRules{FwChain{wanted.name, policy}, std::move(rules)});
      continue;
    }
    bool same = current->rules.size() == rules.size() &&
                (family != Family::ebtables || current->chain.policy == policy);
    for (std::size_t i = 0; same && i < rules.size(); ++i)
      same = canon(current->rules[i].args) == canon(rules[i].args);
    if (!same) {
      edit.replace_chains.push_back(wanted);
      current->chain.policy = policy;
      current->rules = std::move(rules);
    }
  }
  return planned_owned;
}

// Step 2: the shared chains the plan needs, created when missing (built-in
// ones only in `table`: they exist in the kernel).  Returns every shared
// chain the plan names.
std::set<std::string> add_shared_chains(const TablePlan &plan, Family family, EditableTable &table,
                                        TableEdit &edit) {
  std::set<std::string> shared(plan.shared_chains.begin(), plan.shared_chains.end());
  for (const auto *list : {&plan.jumps_first, &plan.jumps_last})
    for (const auto &rule : *list)
      shared.insert(rule.chain);
  for (const auto &name : plan.shared_chains)
    if (!table.find(name)) {
      edit.create_chains.push_back(name);
      table.add(ChainRules{FwChain{name, default_user_policy(family)}, {}});
    }
  for (const auto &name : shared)
    if (!table.find(name) && is_builtin(name))
      table.add(ChainRules{FwChain{name, "ACCEPT"}, {}});
  return shared;
}

// Step 3: our rules in chains we do not own: keep the planned ones (each
// planned rule matches one live rule), delete the rest.  Only rules that are
// ours or in a chain with rules to remove are canonicalised: the other VMs'
// chains hold most of a host's rules.
void delete_stale_rules(const TablePlan &plan, const Canon &canon, const std::set<std::string> &owned,
                        const std::set<std::string> &planned_owned, const IsOurs &is_ours,
                        EditableTable &table, TableEdit &edit) {
  std::map<std::string, std::multiset<std::string>> planned_in;
  for (const auto *list : {&plan.jumps_first, &plan.jumps_last})
    for (const auto &rule : *list)
      planned_in[rule.chain].insert(canon(rule.args));
  std::map<std::string, std::set<std::string>> removable;
  for (const auto &rule : plan.remove_rules)
    removable[rule.chain].insert(canon(rule.args));
  table.for_each([&](ChainRules &chain) {
    const std::string &name = chain.chain.name;
    if (owned.count(name) || planned_owned.count(name))
      return;
    const auto removable_here = removable.find(name);
    const bool may_remove = removable_here != removable.end();
    auto &wanted = planned_in[name];
    std::vector<FwRule> kept;
    std::size_t position = 0;
    for (auto &rule : chain.rules) {
      ++position;
      if (!may_remove && !is_ours(rule)) {
        kept.push_back(std::move(rule));
        continue;
      }
      const std::string key = canon(rule.args);
      const bool to_remove = may_remove && removable_here->second.count(key) > 0;
      if (to_remove || is_ours(rule)) {
        auto it = wanted.find(key);
        if (it != wanted.end() && !to_remove) {
          wanted.erase(it);
        } else {
          edit.deletions.push_back(RuleDeletion{name, rule.args, position});
          continue;
        }
      }
      kept.push_back(std::move(rule));
    }
    chain.rules = std::move(kept);
  });
}

// Step 4: destroy our chains the plan no longer has.
void destroy_unplanned_chains(const std::set<std::string> &owned,
                              const std::set<std::string> &planned_owned,
                              const std::set<std::string> &shared, EditableTable &table,
                              TableEdit &edit) {
  for (const auto &name : owned) {
    if (planned_owned.count(name) || shared.count(name))
      continue;
    if (table.find(name)) {
      edit.destroy_chains.push_back(name);
      table.remove(name);
    }
  }
}

// `rules` with each of `inserted` (the index of the live rule it goes before,
// the rule; in order) put in its place.
void merge_inserted(std::vector<FwRule> &rules, std::vector<std::pair<std::size_t, FwRule>> &inserted) {
  std::vector<FwRule> merged;
  merged.reserve(rules.size() + inserted.size());
  auto next = inserted.begin();
  for (std::size_t i = 0; i <= rules.size(); ++i) {
    for (; next != inserted.end() && next->first == i; ++next)
      merged.push_back(std::move(next->second));
    if (i < rules.size())
      merged.push_back(std::move(rules[i]));
  }
  rules = std::move(merged);
}

// Step 5, in one shared chain: the planned rules `first` (at the top, after
// the host-wide anchors) and `last` (at the end) that are missing.  A
// planned rule matches the first live rule with its canonical form not
// matched yet; inserted rules never match, so matching runs on the live
// rules alone (each canonicalised once: BRIDGE-FIREWALL holds a jump per VIF
// of the host).
void insert_missing_in_chain(const std::string &name, const std::vector<const RuleSpec *> &first,
                             const std::vector<const RuleSpec *> &last, const Canon &canon,
                             ChainRules &chain, TableEdit &edit) {
  // Live rules by canonical form, in order; each match takes the lowest.
  // Equal canonical forms have equal targets: only rules jumping where a
  // planned rule jumps can match.
  std::set<std::string, std::less<>> planned_targets;
  for (const auto *list : {&first, &last})
    for (const auto *rule : *list)
      planned_targets.insert(make_rule(name, rule->args).target());
  std::unordered_map<std::string, std::deque<std::size_t>> live_by_key;
  for (std::size_t i = 0; i < chain.rules.size(); ++i)
    if (planned_targets.count(chain.rules[i].target_name()))
      live_by_key[canon(chain.rules[i].args)].push_back(i);
  auto take_match = [&](const RuleSpec &rule) -> std::optional<std::size_t> {
    const auto it = live_by_key.find(canon(rule.args));
    if (it == live_by_key.end() || it->second.empty())
      return std::nullopt;
    const std::size_t index = it->second.front();
    it->second.pop_front();
    return index;
  };
  // The rules to insert, each with the index of the live rule it goes
  // before (the chain's size: at the end), in order.
  std::vector<std::pair<std::size_t, FwRule>> inserted;
  std::size_t live_cursor = 0; // live rules before the insertion point
  while (live_cursor < chain.rules.size() && targets_global_chain(chain.rules[live_cursor]))
    ++live_cursor;
  for (const auto *rule : first) {
    if (const auto found = take_match(*rule)) {
      live_cursor = std::max(live_cursor, *found + 1);
      continue;
    }
    // Inserted rules all sit at or before the insertion point.
    edit.insertions.push_back(RuleInsertion{name, rule->args, live_cursor + inserted.size() + 1});
    inserted.emplace_back(live_cursor, make_rule(name, rule->args));
  }
  for (const auto *rule : last) {
    if (take_match(*rule))
      continue;
    edit.insertions.push_back(RuleInsertion{name, rule->args, 0});
    inserted.emplace_back(chain.rules.size(), make_rule(name, rule->args));
  }
  merge_inserted(chain.rules, inserted);
}

// Step 5: insert planned rules that are missing, next to their planned
// neighbours, after the host-wide anchors.
void insert_missing_rules(const TablePlan &plan, const Canon &canon, const std::set<std::string> &shared,
                          EditableTable &table, TableEdit &edit) {
  std::map<std::string, std::vector<const RuleSpec *>> first_of, last_of;
  for (const auto &rule : plan.jumps_first)
    first_of[rule.chain].push_back(&rule);
  for (const auto &rule : plan.jumps_last)
    last_of[rule.chain].push_back(&rule);
  for (const auto &name : shared) {
    ChainRules *chain = table.find(name);
    if (!chain)
      continue;
    const auto &first = first_of[name];
    const auto &last = last_of[name];
    if (first.empty() && last.empty())
      continue;
    insert_missing_in_chain(name, first, last, canon, *chain, edit);
  }
}

} // namespace

bool TableEdit::empty() const {
  return create_chains.empty() && replace_chains.empty() && new_chains.empty() &&
         deletions.empty() && destroy_chains.empty() && insertions.empty();
}

std::string TableEdit::summary() const {
  std::size_t added = insertions.size();
  for (const auto &chain : replace_chains)
    added += chain.rules.size();
  for (const auto &chain : new_chains)
    added += chain.rules.size();
  std::string out = "+" + std::to_string(added) + " -" + std::to_string(deletions.size()) + " rules";
  if (!new_chains.empty() || !create_chains.empty())
    out += ", " + counted(new_chains.size() + create_chains.size(), "chain") + " created";
  if (!replace_chains.empty())
    out += ", " + counted(replace_chains.size(), "chain") + " rewritten";
  if (!destroy_chains.empty())
    out += ", " + counted(destroy_chains.size(), "chain") + " destroyed";
  return out;
}

TableEdit diff_table(Family family, const TablePlan &plan, const FwTable *live,
                     const std::set<std::string> &owned, const IsOurs &is_ours) {
  TableEdit edit;
  edit.family = family;
  EditableTable table = editable(live, family);
  const Canon canon{family};
  const std::set<std::string> planned_owned = diff_owned_chains(plan, canon, table, edit);
  const std::set<std::string> shared = add_shared_chains(plan, family, table, edit);
  delete_stale_rules(plan, canon, owned, planned_owned, is_ours, table, edit);
  destroy_unplanned_chains(owned, planned_owned, shared, table, edit);
  insert_missing_rules(plan, canon, shared, table, edit);
  edit.result = to_table(std::move(table));
  return edit;
}

TableEdit inverse_edit(const TableEdit &edit, const FwTable &before) {
  TableEdit inverse;
  inverse.family = edit.family;
  inverse.result = before;
  auto content_of = [&](const std::string &name) {
    ChainContent content{name, {}, ""};
    if (const FwChain *chain = before.chain(name))
      content.policy = chain->policy == "-" ? "" : chain->policy;
    for (const FwRule *rule : before.rules_of(name))
      content.rules.push_back(rule->args);
    return content;
  };
  inverse.destroy_chains = edit.create_chains;
  for (const auto &chain : edit.new_chains)
    inverse.destroy_chains.push_back(chain.name);
  for (const auto &name : edit.destroy_chains)
    inverse.new_chains.push_back(content_of(name));
  for (const auto &chain : edit.replace_chains)
    inverse.replace_chains.push_back(content_of(chain.name));
  // The rules the edit inserted, found in the table it produced (their
  // positions there are what arptables deletes by).
  std::map<std::string, std::vector<bool>> taken;
  for (const auto &insertion : edit.insertions) {
    const auto rules = edit.result.rules_of(insertion.chain);
    auto &used = taken[insertion.chain];
    used.resize(rules.size(), false);
    const std::string key = canonical_args(edit.family, insertion.args);
    for (std::size_t i = 0; i < rules.size(); ++i)
      if (!used[i] && canonical_args(edit.family, rules[i]->args) == key) {
        used[i] = true;
        inverse.deletions.push_back(RuleDeletion{insertion.chain, insertion.args, i + 1});
        break;
      }
  }
  // The rules the edit deleted, back at their places, lowest first.
  auto deleted = edit.deletions;
  std::stable_sort(deleted.begin(), deleted.end(), [](const auto &a, const auto &b) {
    return a.chain != b.chain ? a.chain < b.chain : a.position < b.position;
  });
  for (const auto &deletion : deleted)
    inverse.insertions.push_back(RuleInsertion{deletion.chain, deletion.args, deletion.position});
  return inverse;
}

std::string render_iptables_edit(const TableEdit &edit) {
  if (edit.empty())
    return "";
  std::string out = "*filter\n";
  for (const auto &name : edit.create_chains)
    out += ":" + name + " - [0:0]\n";
  for (const auto *list : {&edit.new_chains, &edit.replace_chains})
    for (const auto &chain : *list)
      out += ":" + chain.name + " - [0:0]\n"; // with --noflush: create or flush
  for (const auto &deletion : edit.deletions)
    out += format_rule_line("-D", RuleSpec{deletion.chain, deletion.args}) + "\n";
  for (const auto &name : edit.destroy_chains)
    out += "-F " + name + "\n";
  for (const auto &name : edit.destroy_chains)
    out += "-X " + name + "\n";
  for (const auto *list : {&edit.new_chains, &edit.replace_chains})
    for (const auto &chain : *list)
      for (const auto &args : chain.rules)
        out += format_rule_line("-A", RuleSpec{chain.name, args}) + "\n";
  for (const auto &insertion : edit.insertions) {
    if (insertion.position == 0)
      out += format_rule_line("-A", RuleSpec{insertion.chain, insertion.args}) + "\n";
    else {
      std::vector<std::string> args{std::to_string(insertion.position)};
      args.insert(args.end(), insertion.args.begin(), insertion.args.end());
      out += format_rule_line("-I", RuleSpec{insertion.chain, args}) + "\n";
    }
  }
  out += "COMMIT\n";
  return out;
}

std::string render_ebtables_table(const FwTable &table) {
  std::string out = "*" + (table.name.empty() ? std::string("filter") : table.name) + "\n";
  for (const auto &chain : table.chains)
    out += ":" + chain.name + " " + (chain.policy.empty() || chain.policy == "-" ? "ACCEPT" : chain.policy) + "\n";
  for (const auto &rule : table.rules)
    out += format_rule_line("-A", RuleSpec{rule.chain, rule.args}) + "\n";
  return out;
}

std::vector<std::vector<std::string>> render_arptables_edit(const TableEdit &edit) {
  std::vector<std::vector<std::string>> commands;
  auto deletions = edit.deletions;
  std::stable_sort(deletions.begin(), deletions.end(), [](const auto &a, const auto &b) {
    return a.chain != b.chain ? a.chain < b.chain : a.position > b.position;
  });
  for (const auto &deletion : deletions)
    commands.push_back({"-D", deletion.chain, std::to_string(deletion.position)});
  for (const auto &name : edit.create_chains)
    commands.push_back({"-N", name});
  for (const auto &chain : edit.new_chains)
    commands.push_back({"-N", chain.name});
  for (const auto &chain : edit.replace_chains)
    commands.push_back({"-F", chain.name});
  for (const auto &name : edit.destroy_chains)
    commands.push_back({"-F", name});
  for (const auto &name : edit.destroy_chains)
    commands.push_back({"-X", name});
  for (const auto *list : {&edit.new_chains, &edit.replace_chains})
    for (const auto &chain : *list)
      for (const auto &args : chain.rules) {
        std::vector<std::string> command{"-A", chain.name};
        command.insert(command.end(), args.begin(), args.end());
        commands.push_back(std::move(command));
      }
  for (const auto &insertion : edit.insertions) {
    std::vector<std::string> command;
    if (insertion.position == 0)
      command = {"-A", insertion.chain};
    else
      command = {"-I", insertion.chain, std::to_string(insertion.position)};
    command.insert(command.end(), insertion.args.begin(), insertion.args.end());
    commands.push_back(std::move(command));
  }
  return commands;
}

std::vector<std::vector<std::string>>
undo_arptables_commands(const std::vector<std::vector<std::string>> &done, const FwTable &before) {
  auto with = [](std::vector<std::string> head, const std::vector<std::string> &tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  std::vector<std::vector<std::string>> undo;
  for (auto it = done.rbegin(); it != done.rend(); ++it) {
    const auto &command = *it;
    if (command.size() < 2)
      continue;
    const std::string &verb = command[0], &chain = command[1];
    if (verb == "-D" && command.size() == 3) {
      // Deletions run first, highest number first: N is the old position.
      const auto rules = before.rules_of(chain);
      const auto n = static_cast<std::size_t>(std::stoul(command[2]));
      if (n >= 1 && n <= rules.size())
        undo.push_back(with({"-I", chain, command[2]}, rules[n - 1]->args));
    } else if (verb == "-N") {
      undo.push_back({"-X", chain});
    } else if (verb == "-X") {
      undo.push_back({"-N", chain});
    } else if (verb == "-F") {
      // Whatever was added after the flush is undone already: refill.
      for (const FwRule *rule : before.rules_of(chain))
        undo.push_back(with({"-A", chain}, rule->args));
    } else if (verb == "-A") {
      undo.push_back(with({"-D", chain}, {command.begin() + 2, command.end()}));
    } else if (verb == "-I" && command.size() >= 3) {
      undo.push_back(with({"-D", chain}, {command.begin() + 3, command.end()}));
    }
  }
  return undo;
}

bool is_quarantine_rule(const FwRule &rule, const std::set<std::string> &vifs) {
  return rule.chain == "FORWARD" && rule.args.size() == 4 &&
         (rule.args[0] == "-i" || rule.args[0] == "-o") && vifs.count(rule.args[1]) &&
         rule.args[2] == "-j" && rule.args[3] == kCutoffChain;
}

FwTable with_quarantine(const FwTable &table, const std::vector<std::string> &vifs) {
  EditableTable editable_table = editable(&table, Family::ebtables);
  if (!editable_table.find(kCutoffChain))
    editable_table.add(
        ChainRules{FwChain{kCutoffChain, "DROP"}, {make_rule(kCutoffChain, {"-j", "DROP"})}});
  ChainRules *forward = editable_table.find("FORWARD");
  std::vector<FwRule> cutoffs;
  for (const auto &vif : vifs) {
    cutoffs.push_back(make_rule("FORWARD", {"-i", vif, "-j", kCutoffChain}));
    cutoffs.push_back(make_rule("FORWARD", {"-o", vif, "-j", kCutoffChain}));
  }
  forward->rules.insert(forward->rules.begin(), cutoffs.begin(), cutoffs.end());
  return to_table(std::move(editable_table));
}

FwTable without_unused_cutoff(FwTable table) {
  if (!table.chain(kCutoffChain))
    return table;
  for (const auto &rule : table.rules)
    if (rule.target_name() == kCutoffChain)
      return table;
  EditableTable editable_table = editable(&table, Family::ebtables);
  editable_table.remove(kCutoffChain);
  return to_table(std::move(editable_table));
}

} // namespace vifwall
