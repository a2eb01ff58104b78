#include "sg_compare.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <dirent.h>

#include "host_inputs.hpp"

#include "json_writer.hpp"
#include "model.hpp"
#include "sg_names.hpp"
#include "sg_view.hpp"
#include "text.hpp"

namespace vifwall {

const char *to_string(DiffKind kind) {
  switch (kind) {
  case DiffKind::missing:
    return "missing";
  case DiffKind::extra:
    return "extra";
  case DiffKind::changed:
    return "changed";
  case DiffKind::foreign:
    return "foreign";
  case DiffKind::stale_vm:
    return "stale-vm";
  case DiffKind::unprotected:
    return "unprotected";
  case DiffKind::stale_vif:
    return "stale-vif";
  }
  return "?";
}

bool Comparison::differs() const { return !host.empty() || vms_differing() > 0; }

std::size_t Comparison::vms_differing() const {
  return static_cast<std::size_t>(std::count_if(
      vms.begin(), vms.end(), [](const VmComparison &vm) { return !vm.differences.empty(); }));
}

std::size_t Comparison::vms_ok() const { return vms.size() - vms_differing(); }

namespace {

using Args = std::vector<std::string>;


bool contains(const std::vector<std::string> &list, const std::string &value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string join(const std::vector<std::string> &words, const std::string &sep) {
  std::string out;
  for (const auto &word : words)
    out += (out.empty() ? "" : sep) + word;
  return out;
}



std::string target_of(const Args &args) {
  FwRule rule;
  rule.args = args;
  return rule.target();
}

// Interfaces named like VIFs anywhere in a rule.
std::vector<std::string> mentioned_vifs(const Args &args) {
  std::vector<std::string> out;
  for (const auto &word : args)
    if (parse_vif_name(word) && !contains(out, word))
      out.push_back(word);
  return out;
}

// The set a rule matches (`--match-set NAME DIR`, old `--set`): the index
// of NAME in args, or npos.
std::size_t set_name_index(const Args &args) {
  for (std::size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--match-set" || args[i] == "--set") {
      std::size_t v = i + 1;
      if (v < args.size() && args[v] == "!")
        ++v;
      return v < args.size() ? v : std::string::npos;
    }
  return std::string::npos;
}

// The meaning of a rule with its set replaced by the set's members, so that
// set names do not matter and set contents do.  `structure`: with the set
// replaced by a placeholder (for pairing a rule with its changed twin).
std::string rule_key(Family family, const Args &args, const SetMembers &sets, bool structure) {
  const std::size_t at = set_name_index(args);
  if (at == std::string::npos)
    return canonical_args(family, args);
  Args copy = args;
  if (structure) {
    copy[at] = "@set";
  } else {
    auto found = sets.find(args[at]);
    copy[at] = found == sets.end() ? "@missing" : "@{" + join(found->second, ",") + "}";
  }
  return canonical_args(family, copy);
}

// How to read and judge a chain's rules.
enum class Role { ingress, egress, def, system, vm_bridge, host };

Role role_of(Family family, const std::string &chain) {
  auto recognized = recognize_chain(chain);
  if (!recognized || recognized->kind == ChainKind::global)
    return Role::host;
  if (family != Family::iptables && family != Family::ip6tables)
    return Role::vm_bridge;
  switch (recognized->kind) {
  case ChainKind::ingress:
    return Role::ingress;
  case ChainKind::egress:
    return Role::egress;
  case ChainKind::def:
    return Role::def;
  case ChainKind::system:
    return Role::system;
  case ChainKind::global:
    break;
  }
  return Role::host;
}

std::string readable(Role role, const Args &args, const SetMembers &sets) {
  if ((role == Role::ingress || role == Role::egress) && !is_unconditional(args)) {
    const ReadBackRule read =
        read_back_rule(role == Role::ingress ? Direction::ingress : Direction::egress, args, sets);
    if (read.understood)
      return read.text;
  }
  return join_rule_words(args);
}

// Every option of `args` is one of `allowed` (values are not checked).
bool only_options(const Args &args, const std::set<std::string> &allowed) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto &word = args[i];
    if (word.size() < 2 || word[0] != '-' || (word[1] >= '0' && word[1] <= '9'))
      continue;
    if (i > 0 && (args[i - 1] == "-j" || args[i - 1] == "--jump"))
      continue; // a target like "-" never happens, but be safe
    if (!allowed.count(word))
      return false;
  }
  return true;
}

// Whether a rule found in one of our chains has a shape sg-apply or
// CloudStack writes there ("extra"), or not ("foreign").
bool written_by_us(Role role, const Args &args, const std::set<std::string> &vm_chains,
                   const SetMembers &live_sets) {
  if (is_unconditional(args))
    return role != Role::host;
  const std::string target = target_of(args);
  switch (role) {
  case Role::ingress:
  case Role::egress:
    return read_back_rule(role == Role::ingress ? Direction::ingress : Direction::egress, args,
                          live_sets)
        .understood;
  case Role::def:
  case Role::system: {
    static const std::set<std::string> allowed = {
        "-p",           "--protocol",  "-m",           "--match", "--physdev-in",
        "--physdev-out", "--physdev-is-bridged", "--match-set", "--set", "--dport",
        "--sport",      "-j",          "--jump"};
    const bool targets_ok = target == "RETURN" || target == "DROP" || target == "ACCEPT" ||
                            vm_chains.count(target) > 0;
    return targets_ok && !mentioned_vifs(args).empty() && only_options(args, allowed);
  }
  case Role::vm_bridge: {
    static const std::set<std::string> allowed = {
        "-p",          "--proto",      "--protocol",   "-s",          "--src",
        "--source",    "-d",           "--dst",        "--destination", "-i",
        "--in-if",     "--in-interface", "-o",         "--out-if",    "--out-interface",
        "--ip-proto",  "--ip-protocol", "--ip-dport",  "--ip-destination-port", "--ip-src",
        "--ip-dst",    "--arp-op",     "--arp-ip-src", "--arp-ip-dst", "--arp-mac-src",
        "--arp-mac-dst", "--src-mac",  "--dst-mac",    "--source-mac", "--destination-mac",
        "--source-ip", "--destination-ip", "--h-length", "--opcode",  "-j",
        "--jump"};
    return (target == "DROP" || target == "ACCEPT" || target == "RETURN") &&
           only_options(args, allowed);
  }
  case Role::host:
    break;
  }
  return false;
}

// "missing 10.0.0.1; extra 10.0.0.9" between two member lists.
std::string member_difference(const std::vector<std::string> &want,
                              const std::vector<std::string> &have) {
  std::vector<std::string> missing, extra;
  for (const auto &m : want)
    if (!contains(have, m))
      missing.push_back(m);
  for (const auto &m : have)
    if (!contains(want, m))
      extra.push_back(m);
  std::string out;
  if (!missing.empty())
    out += "missing " + join(missing, ", ");
  if (!extra.empty())
    out += std::string(out.empty() ? "" : "; ") + "extra " + join(extra, ", ");
  return out;
}

std::string table_name(Family family) {
  switch (family) {
  case Family::iptables:
    return "iptables";
  case Family::ip6tables:
    return "ip6tables";
  case Family::ebtables:
    return "ebtables";
  case Family::arptables:
    return "arptables";
  }
  return "?";
}

// What could not be compared: table ("arptables", "ipset") -> whose rules.
using Unread = std::map<std::string, std::vector<std::string>>;

// One live table, indexed once for all VMs.
struct TableIndex {
  RulesByChain by_chain;
  // VM -> the rules of chains not its own that jump to its chains (FORWARD,
  // BRIDGE-FIREWALL).
  std::map<std::string, std::vector<const FwRule *>> jumps_to;
  // VM -> its chains, in the table's order.
  std::map<std::string, std::vector<std::string>> chains_of;

  const std::vector<std::string> &chains_owned_by(const std::string &vm) const {
    static const std::vector<std::string> none;
    auto found = chains_of.find(vm);
    return found == chains_of.end() ? none : found->second;
  }

  const std::vector<const FwRule *> &rules_of(const std::string &chain) const {
    static const std::vector<const FwRule *> none;
    auto found = by_chain.find(chain);
    return found == by_chain.end() ? none : found->second;
  }
};

struct Context {
  const FirewallSnapshot &actual;
  SetMembers live_sets;
  std::map<Family, TableIndex> index;

  const TableIndex &indexed(Family family) const {
    static const TableIndex none;
    auto found = index.find(family);
    return found == index.end() ? none : found->second;
  }
};

// The rules of one chain we own, desired against live.  Order matters: the
// longest common subsequence of the two rule lists is "in place"; of the
// rest, a rule on both sides moved, a rule whose twin differs only in set
// members changed, the others are missing or extra.
void compare_chain(Family family, const std::string &chain, const std::vector<Args> &want,
                   const SetMembers &want_sets, const std::vector<const FwRule *> &have,
                   const Context &ctx, const std::set<std::string> &vm_chains,
                   std::vector<Difference> &out) {
  const Role role = role_of(family, chain);
  const std::string table = table_name(family);
  std::vector<std::string> want_keys, have_keys;
  for (const auto &args : want)
    want_keys.push_back(rule_key(family, args, want_sets, false));
  for (const auto *rule : have)
    have_keys.push_back(rule_key(family, rule->args, ctx.live_sets, false));

  const std::size_t n = want.size(), m = have.size();
  std::vector<bool> want_matched(n, false), have_matched(m, false);
  if (n * m <= 16u * 1024u * 1024u) {
    std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t & { return lcs[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;)
      for (std::size_t j = m; j-- > 0;)
        at(i, j) = want_keys[i] == have_keys[j] ? at(i + 1, j + 1) + 1
                                                 : std::max(at(i + 1, j), at(i, j + 1));
    for (std::size_t i = 0, j = 0; i < n && j < m;) {
      if (want_keys[i] == have_keys[j]) {
        want_matched[i] = have_matched[j] = true;
        ++i;
        ++j;
      } else if (at(i + 1, j) >= at(i, j + 1)) {
        ++i;
      } else {
        ++j;
      }
    }
  }

  // Moved: the same rule on both sides, not in sequence.
  for (std::size_t i = 0; i < n; ++i) {
    if (want_matched[i])
      continue;
    for (std::size_t j = 0; j < m; ++j)
      if (!have_matched[j] && want_keys[i] == have_keys[j]) {
        want_matched[i] = have_matched[j] = true;
        out.push_back({DiffKind::changed, table, chain, readable(role, want[i], want_sets), want[i],
                       "at position " + std::to_string(j + 1) + " instead of " +
                           std::to_string(i + 1)});
        break;
      }
  }
  // Changed: the same rule but for the members of its set.
  for (std::size_t i = 0; i < n; ++i) {
    if (want_matched[i])
      continue;
    const std::string shape = rule_key(family, want[i], want_sets, true);
    for (std::size_t j = 0; j < m; ++j) {
      if (have_matched[j] || rule_key(family, have[j]->args, ctx.live_sets, true) != shape)
        continue;
      want_matched[i] = have_matched[j] = true;
      const std::size_t ws = set_name_index(want[i]);
      const std::size_t hs = set_name_index(have[j]->args);
      std::string detail;
      if (ws != std::string::npos && hs != std::string::npos) {
        const std::string &live_set = have[j]->args[hs];
        auto live = ctx.live_sets.find(live_set);
        auto wanted = want_sets.find(want[i][ws]);
        if (live == ctx.live_sets.end())
          detail = "set " + live_set + " does not exist";
        else
          detail = "set " + live_set + ": " +
                   member_difference(wanted == want_sets.end() ? std::vector<std::string>{}
                                                               : wanted->second,
                                     live->second);
      }
      out.push_back({DiffKind::changed, table, chain, readable(role, want[i], want_sets), want[i],
                     detail});
      break;
    }
  }
  // Changed: a chain ending with another default.
  if (n > 0 && m > 0 && !want_matched[n - 1] && !have_matched[m - 1] &&
      is_unconditional(want[n - 1]) && is_unconditional(have[m - 1]->args)) {
    want_matched[n - 1] = have_matched[m - 1] = true;
    out.push_back({DiffKind::changed, table, chain, join_rule_words(want[n - 1]), want[n - 1],
                   "the chain ends with -j " + target_of(have[m - 1]->args) + " instead"});
  }
  for (std::size_t i = 0; i < n; ++i)
    if (!want_matched[i])
      out.push_back({DiffKind::missing, table, chain, readable(role, want[i], want_sets), want[i], ""});
  for (std::size_t j = 0; j < m; ++j) {
    if (have_matched[j])
      continue;
    const bool ours = written_by_us(role, have[j]->args, vm_chains, ctx.live_sets);
    out.push_back({ours ? DiffKind::extra : DiffKind::foreign, table, chain,
                   readable(role, have[j]->args, ctx.live_sets), have[j]->args,
                   "position " + std::to_string(j + 1)});
  }
}

// Jumps and other rules of ours in chains shared with others: a multiset.
struct SharedRule {
  std::string chain;
  Args args;
};

void compare_shared(Family family, const std::vector<SharedRule> &want,
                    const std::vector<const FwRule *> &have, const Context &ctx,
                    const std::function<DiffKind(const FwRule &)> &unmatched_kind,
                    std::vector<Difference> &out) {
  const std::string table = table_name(family);
  std::vector<bool> used(have.size(), false);
  for (const auto &rule : want) {
    const std::string key = rule_key(family, rule.args, ctx.live_sets, false);
    bool found = false;
    for (std::size_t j = 0; j < have.size() && !found; ++j)
      if (!used[j] && have[j]->chain == rule.chain &&
          rule_key(family, have[j]->args, ctx.live_sets, false) == key)
        used[j] = found = true;
    if (!found)
      out.push_back({DiffKind::missing, table, rule.chain, join_rule_words(rule.args), rule.args, ""});
  }
  for (std::size_t j = 0; j < have.size(); ++j)
    if (!used[j])
      out.push_back({unmatched_kind(*have[j]), table, have[j]->chain, join_rule_words(have[j]->args),
                     have[j]->args, ""});
}

SetMembers desired_sets_of(const VmPlan &plan) {
  SetMembers sets;
  for (const auto &set : plan.sets) {
    std::vector<std::string> members;
    for (const auto &member : set.members)
      members.push_back(normalize_ipset_member(set.type, member));
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    sets[set.name] = members;
  }
  return sets;
}

const FwTable *live_table(const FirewallSnapshot &actual, Family family) {
  const std::optional<FwTable> *table = family == Family::iptables    ? &actual.iptables
                                        : family == Family::ebtables  ? &actual.ebtables
                                        : family == Family::arptables ? &actual.arptables
                                                                      : &actual.ip6tables;
  return *table ? &**table : nullptr;
}

bool plan_has_content(const TablePlan &plan) {
  return !plan.owned_chains.empty() || !plan.jumps_first.empty() || !plan.jumps_last.empty();
}

const std::map<std::string, std::string> &owners_for(const ChainOwners &owners, Family family) {
  static const std::map<std::string, std::string> none;
  switch (family) {
  case Family::iptables:
    return owners.iptables;
  case Family::ebtables:
    return owners.ebtables;
  case Family::arptables:
    return owners.arptables;
  case Family::ip6tables:
    break;
  }
  return none;
}

std::string owner_of(const std::map<std::string, std::string> &owners, const std::string &chain) {
  auto found = owners.find(chain);
  return found == owners.end() ? std::string() : found->second;
}

void compare_vm_table(Family family, const std::string &vm, const DesiredVm &desired,
                      const TablePlan &plan, const Context &ctx,
                      const SetMembers &want_sets, std::vector<Difference> &out,
                      Unread &unread) {
  const FwTable *live = live_table(ctx.actual, family);
  const std::string table = table_name(family);
  if (!live) {
    if (plan_has_content(plan))
      unread[table].push_back(vm);
    return;
  }
  const VmNames names = names_for_vm(vm);
  const auto &live_chains = ctx.indexed(family).chains_owned_by(vm);
  std::set<std::string> vm_chains(live_chains.begin(), live_chains.end());
  for (const auto &chain : plan.owned_chains)
    vm_chains.insert(chain.name);

  std::vector<std::string> planned;
  for (const auto &chain : plan.owned_chains) {
    if (desired.rules_only && chain.name != names.ingress && chain.name != names.egress)
      continue;
    planned.push_back(chain.name);
    if (!live->chain(chain.name)) {
      out.push_back({DiffKind::missing, table, chain.name,
                     "(the whole chain, " + std::to_string(chain.rules.size()) + " rules)", {},
                     "chain does not exist"});
      continue;
    }
    compare_chain(family, chain.name, chain.rules, want_sets, ctx.indexed(family).rules_of(chain.name), ctx,
                  vm_chains, out);
  }
  if (desired.rules_only)
    return;
  for (const auto &live_chain : live_chains) {
    if (contains(planned, live_chain))
      continue;
    out.push_back({DiffKind::extra, table, live_chain,
                   "(the whole chain, " +
                       std::to_string(ctx.indexed(family).rules_of(live_chain).size()) +
                       " rules)",
                   {}, "chain not desired"});
  }
  std::vector<SharedRule> want;
  for (const auto *list : {&plan.jumps_first, &plan.jumps_last})
    for (const auto &rule : *list)
      want.push_back({rule.chain, rule.args});
  const auto &jumps = ctx.indexed(family).jumps_to;
  auto found = jumps.find(vm);
  const std::vector<const FwRule *> have =
      found == jumps.end() ? std::vector<const FwRule *>{} : found->second;
  compare_shared(family, want, have, ctx, [](const FwRule &) { return DiffKind::extra; }, out);
}

std::vector<std::string> view_vifs(const VmView *view) {
  std::vector<std::string> out;
  if (view)
    for (const auto &vif : view->vifs)
      out.push_back(vif.name);
  return out;
}

void compare_vm(const std::string &vm, const DesiredVm &desired, const VmView *view,
                const RunningVm *running, const std::vector<std::string> *interfaces,
                const Context &ctx,
                VmComparison &result, Unread &unread) {
  const SetMembers want_sets = desired_sets_of(desired.plan);
  auto &out = result.differences;
  compare_vm_table(Family::iptables, vm, desired, desired.plan.iptables, ctx, want_sets, out,
                   unread);
  if (!desired.rules_only) {
    compare_vm_table(Family::ebtables, vm, desired, desired.plan.ebtables, ctx, want_sets,
                     out, unread);
    compare_vm_table(Family::arptables, vm, desired, desired.plan.arptables, ctx, want_sets,
                     out, unread);
    if (view)
      for (const auto &set : view->unused_sets)
        out.push_back({DiffKind::extra, "ipset", "", set, {}, "set of the VM that no rule uses"});
  }
  if (!desired.plan.sets.empty() && !ctx.actual.ipsets)
    unread["ipset"].push_back(vm);
  if (!running)
    return;

  // VIFs of another domain (the VM rebooted) or of no interface at all.
  std::vector<std::string> stale;
  std::vector<Difference> stale_diffs;
  for (const auto &vif : view_vifs(view)) {
    auto parsed = parse_vif_name(vif);
    std::string why;
    if (parsed && parsed->dom_id != running->dom_id)
      why = "dom-id " + std::to_string(parsed->dom_id) + " is gone: " + vm + " runs as dom-id " +
            std::to_string(running->dom_id) + " now";
    else if (interfaces && !contains(*interfaces, vif))
      why = "the interface does not exist";
    if (why.empty())
      continue;
    stale.push_back(vif);
    std::vector<std::string> where;
    for (const auto &rule : view->raw)
      if (contains(rule.args, vif) && !contains(where, rule.table + " " + rule.chain))
        where.push_back(rule.table + " " + rule.chain);
    stale_diffs.push_back({DiffKind::stale_vif, "", "", vif, {},
                           why + "; rules for it in " + join(where, ", ")});
  }
  if (!stale.empty()) {
    // Rules about a stale VIF are one finding, not one per rule.
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](const Difference &d) {
                               for (const auto &vif : mentioned_vifs(d.args))
                                 if (contains(stale, vif))
                                   return true;
                               return false;
                             }),
              out.end());
    out.insert(out.end(), stale_diffs.begin(), stale_diffs.end());
  }
  std::vector<std::string> covered;
  if (view)
    for (const auto &vif : view->vifs)
      if (!vif.jumps.empty())
        covered.push_back(vif.name);
  for (const auto &iface : running->filtered_ifaces)
    if (!contains(covered, iface))
      out.push_back({DiffKind::unprotected, "", "", iface, {},
                     "no rule sends " + iface + "'s traffic through " + vm + "'s chains"});
}

} // namespace



RunningHost running_from_host_map(const HostMap &host) {
  RunningHost running;
  running.interfaces.emplace();
  for (const auto &link : host.links)
    running.interfaces->push_back(link.name);
  for (const auto &vm : host.vms) {
    const std::string &state = vm.vm.power_state;
    const bool up = state == "running" || state == "paused" ||
                    (state.empty() && vm.vm.dom_id && *vm.vm.dom_id >= 0);
    if (!up || !vm.vm.dom_id)
      continue;
    RunningVm entry;
    entry.name = vm.vm.name_label;
    entry.dom_id = *vm.vm.dom_id;
    const bool system = is_system_vm(entry.name);
    for (const auto &vif : vm.vifs)
      if (system ? vif.kind == VifKind::vif : vif.device == 0)
        entry.filtered_ifaces.push_back(vif.name);
    running.vms.push_back(std::move(entry));
  }
  return running;
}

Result<DesiredFirewall> desired_from_state(const std::vector<VmState> &states,
                                           const std::optional<HostSetupState> &host,
                                           const std::string &state_dir) {
  DesiredFirewall desired;
  desired.source = "the state directory " + state_dir;
  if (host) {
    auto plan = render_host_setup(host->uplinks, host->arp_filter);
    if (!plan)
      return fail(host_state_path(state_dir), 0, plan.error().message);
    desired.host = std::move(*plan);
  }
  for (const auto &state : states) {
    auto plan = plan_for_state(state);
    if (!plan)
      return fail(vm_state_path(state_dir, state.vm_name), 0, plan.error().str());
    desired.vms.push_back({state.vm_name, state.kind == VmKind::system, std::move(*plan), false});
  }
  return desired;
}

Result<DesiredFirewall> desired_from_rules(const std::string &vm_name,
                                           const std::vector<SgRule> &rules,
                                           const std::optional<VmState> &state) {
  DesiredFirewall desired;
  desired.complete = false;
  desired.source = "the rules given for " + vm_name;
  if (is_system_vm(vm_name))
    return fail(vm_name + " is a system VM: its traffic is not filtered by rules");
  DesiredVm vm;
  vm.name = vm_name;
  if (state && state->kind == VmKind::user) {
    auto plan = plan_for_vm(*state, rules, state->generation, parse_arp_filter_name(state->arp_filter));
    if (!plan)
      return tl::unexpected(plan.error());
    vm.plan = std::move(*plan);
  } else {
    auto plan = render_vm_rules(names_for_vm(vm_name), rules, 'a');
    if (!plan)
      return tl::unexpected(plan.error());
    vm.plan = std::move(*plan);
    vm.rules_only = true;
  }
  desired.vms.push_back(std::move(vm));
  return desired;
}

DesiredFirewall desired_from_snapshot(const FirewallSnapshot &snapshot,
                                      const std::vector<std::string> &known_vms,
                                      const std::string &source) {
  DesiredFirewall desired;
  desired.source = source;
  desired.host_exact = true;
  const ChainOwners owners = chain_owners(snapshot, known_vms);
  const FirewallView view = build_view(snapshot, known_vms);
  VmPlan host;
  std::map<std::string, DesiredVm> vms;
  for (const auto &vm : view.vms) {
    DesiredVm &entry = vms[vm.name];
    entry.name = vm.name;
    entry.system = vm.system;
    for (const auto &set : vm.sets)
      entry.plan.sets.push_back({set.name, set.type, set.family, set.members});
  }
  struct Source {
    Family family;
    const std::optional<FwTable> &table;
    TablePlan VmPlan::*plan;
  };
  const Source sources[] = {{Family::iptables, snapshot.iptables, &VmPlan::iptables},
                            {Family::ebtables, snapshot.ebtables, &VmPlan::ebtables},
                            {Family::arptables, snapshot.arptables, &VmPlan::arptables}};
  for (const auto &source_table : sources) {
    if (!source_table.table)
      continue;
    const FwTable &table = *source_table.table;
    const auto &table_owners = owners_for(owners, source_table.family);
    const RulesByChain rules = rules_by_chain(table);
    for (const auto &chain : table.chains) {
      ChainContent content{chain.name, {}, source_table.family == Family::ebtables ? chain.policy : ""};
      auto chain_rules = rules.find(chain.name);
      if (chain_rules != rules.end())
        for (const auto *rule : chain_rules->second)
        content.rules.push_back(rule->args);
      const std::string owner = owner_of(table_owners, chain.name);
      auto recognized = recognize_chain(chain.name);
      if (!owner.empty())
        (vms[owner].plan.*source_table.plan).owned_chains.push_back(std::move(content));
      else if (recognized && recognized->kind == ChainKind::global && chain.name != kBridgeFirewall)
        (host.*source_table.plan).owned_chains.push_back(std::move(content));
    }
    for (const auto &rule : table.rules) {
      if (!owner_of(table_owners, rule.chain).empty())
        continue;
      const std::string target_owner = owner_of(table_owners, rule.target());
      if (!target_owner.empty()) {
        (vms[target_owner].plan.*source_table.plan).jumps_first.push_back({rule.chain, rule.args});
      } else if (rule.chain == kForward || rule.chain == kBridgeFirewall) {
        (host.*source_table.plan).jumps_first.push_back({rule.chain, rule.args});
      }
    }
  }
  desired.host = std::move(host);
  for (auto &[name, vm] : vms)
    desired.vms.push_back(std::move(vm));
  return desired;
}

namespace {

void compare_host(const DesiredFirewall &desired, const ChainOwners &owners, const Context &ctx,
                  std::vector<Difference> &out, Unread &unread) {
  const VmPlan &plan = *desired.host;
  for (Family family : {Family::iptables, Family::ebtables, Family::arptables}) {
    const TablePlan &table_plan = family == Family::iptables   ? plan.iptables
                                  : family == Family::ebtables ? plan.ebtables
                                                               : plan.arptables;
    const FwTable *live = live_table(ctx.actual, family);
    const std::string table = table_name(family);
    if (!live) {
      if (plan_has_content(table_plan))
        unread[table].push_back("the host setup");
      continue;
    }
    for (const auto &chain : table_plan.owned_chains) {
      if (!live->chain(chain.name)) {
        out.push_back({DiffKind::missing, table, chain.name,
                       "(the whole chain, " + std::to_string(chain.rules.size()) + " rules)", {},
                       "chain does not exist"});
        continue;
      }
      compare_chain(family, chain.name, chain.rules, {}, ctx.indexed(family).rules_of(chain.name), ctx,
                    {}, out);
    }
    const auto &table_owners = owners_for(owners, family);
    std::vector<SharedRule> want;
    std::set<std::string> shared;
    std::set<std::string> want_keys;
    for (const auto *list : {&table_plan.jumps_first, &table_plan.jumps_last})
      for (const auto &rule : *list) {
        want.push_back({rule.chain, rule.args});
        shared.insert(rule.chain);
        want_keys.insert(rule.chain + " " + canonical_args(family, rule.args));
      }
    auto is_global = [](const std::string &chain) {
      auto recognized = recognize_chain(chain);
      return recognized && recognized->kind == ChainKind::global;
    };
    // Which live rules of a shared chain are the host setup's: in
    // BRIDGE-FIREWALL (ours) everything that is not a VM's jump; in FORWARD
    // (shared with other software) what jumps to our host chains, what the
    // plan has, or, for a snapshot, every rule that is not a VM's.
    std::vector<const FwRule *> have;
    for (const auto &rule : live->rules) {
      if (!shared.count(rule.chain) && rule.chain != kBridgeFirewall)
        continue;
      if (!owner_of(table_owners, rule.target()).empty())
        continue;
      const bool mine = rule.chain == kBridgeFirewall || desired.host_exact ||
                        is_global(rule.target()) ||
                        want_keys.count(rule.chain + " " + canonical_args(family, rule.args));
      if (mine)
        have.push_back(&rule);
    }
    compare_shared(family, want, have, ctx,
                   [&](const FwRule &rule) {
                     return rule.chain == kBridgeFirewall && !is_global(rule.target()) &&
                                    !desired.host_exact
                                ? DiffKind::foreign
                                : DiffKind::extra;
                   },
                   out);
    for (const auto &rule : table_plan.remove_rules)
      for (const auto *live_rule : ctx.indexed(family).rules_of(rule.chain))
        if (canonical_args(family, live_rule->args) == canonical_args(family, rule.args))
          out.push_back({DiffKind::extra, table, rule.chain, join_rule_words(live_rule->args),
                         live_rule->args, "XenServer's stock rule, which the setup removes"});
  }
}

bool is_cloudstack_name(const std::string &name) {
  auto recognized = recognize_chain(name);
  return recognized && recognized->kind != ChainKind::global;
}

} // namespace

Comparison compare_firewall(const DesiredFirewall &desired, const FirewallSnapshot &actual,
                            const std::optional<RunningHost> &running,
                            const CompareOptions &options) {
  Comparison result;
  Context ctx{actual, actual.ipsets ? set_members_of(*actual.ipsets) : SetMembers{}};
  if (!actual.iptables)
    result.problems.push_back("iptables was not read: nothing can be compared");

  std::vector<std::string> known;
  for (const auto &vm : desired.vms)
    known.push_back(vm.name);
  if (running)
    for (const auto &vm : running->vms)
      known.push_back(vm.name);
  const FirewallView view = build_view(actual, known);
  const ChainOwners owners = chain_owners(actual, known);
  for (Family family : {Family::iptables, Family::ebtables, Family::arptables}) {
    const FwTable *live = live_table(actual, family);
    if (!live)
      continue;
    TableIndex &index = ctx.index[family];
    index.by_chain = rules_by_chain(*live);
    const auto &table_owners = owners_for(owners, family);
    for (const auto &chain : live->chains)
      if (auto owner = table_owners.find(chain.name); owner != table_owners.end())
        index.chains_of[owner->second].push_back(chain.name);
    for (const auto &rule : live->rules) {
      const std::string target = owner_of(table_owners, rule.target());
      if (!target.empty() && owner_of(table_owners, rule.chain) != target)
        index.jumps_to[target].push_back(&rule);
    }
  }

  auto in_scope = [&](const std::string &name) {
    return options.vms.empty() || contains(options.vms, name);
  };
  std::vector<std::string> names;
  std::set<std::string> named;
  auto add = [&](const std::string &name) {
    if (in_scope(name) && named.insert(name).second)
      names.push_back(name);
  };
  for (const auto &vm : desired.vms)
    add(vm.name);
  if (desired.complete) {
    for (const auto &vm : view.vms)
      add(vm.name);
    if (running)
      for (const auto &vm : running->vms)
        if (is_cloudstack_name(vm.name))
          add(vm.name);
  }
  for (const auto &name : options.vms)
    if (!named.count(name))
      result.notes.push_back(name + ": no record, no rules" +
                             std::string(running ? " and not running" : ""));
  std::sort(names.begin(), names.end(), natural_less);

  if (!running)
    result.notes.push_back("running VMs unknown: stale VMs, stale VIFs and unprotected VMs not checked");
  if (!desired.host && options.vms.empty() && desired.complete)
    result.notes.push_back("no host setup recorded (" + std::string("_host.state") +
                           "): host-wide chains not compared");

  // The last of a name wins, as a scan would find it.
  std::unordered_map<std::string, const DesiredVm *> desired_by_name;
  for (const auto &candidate : desired.vms)
    desired_by_name[candidate.name] = &candidate;
  std::unordered_map<std::string, const RunningVm *> running_by_name;
  if (running)
    for (const auto &candidate : running->vms)
      running_by_name[candidate.name] = &candidate;

  Unread unread;
  for (const auto &name : names) {
    VmComparison vm;
    vm.vm = name;
    const DesiredVm *want = nullptr;
    if (auto found = desired_by_name.find(name); found != desired_by_name.end())
      want = found->second;
    const VmView *live = view.find(name);
    const RunningVm *up = nullptr;
    if (auto found = running_by_name.find(name); found != running_by_name.end())
      up = found->second;

    if (running && !up) {
      if (live)
        vm.differences.push_back({DiffKind::stale_vm, "", "", "", {},
                                  "not running, but " + std::to_string(live->raw.size()) +
                                      " of its rules are in the firewall"});
      else if (want)
        vm.differences.push_back({DiffKind::stale_vm, "", "", "", {},
                                  "not running, but recorded in " + desired.source});
    } else if (!want) {
      if (live) {
        std::vector<std::string> chains;
        for (const auto &[table, list] : live->chains)
          for (const auto &chain : list)
            if (!contains(chains, chain))
              chains.push_back(chain);
        vm.differences.push_back({DiffKind::extra, "", "", "chains " + join(chains, ", "), {},
                                  std::to_string(live->raw.size()) + " rules of a VM not in " +
                                      desired.source});
      } else if (up) {
        vm.differences.push_back(
            {DiffKind::unprotected, "", "", "", {},
             std::string("running (dom-id ") + std::to_string(up->dom_id) + ") without rules" +
                 (is_system_vm(name) ? ": a system VM without its chain gets no traffic" : "")});
      }
    } else if (actual.iptables) {
      const std::vector<std::string> *interfaces =
          running && running->interfaces ? &*running->interfaces : nullptr;
      compare_vm(name, *want, live, up, interfaces, ctx, vm, unread);
    }
    result.vms.push_back(std::move(vm));
  }

  if (desired.host && options.vms.empty() && actual.iptables)
    compare_host(desired, owners, ctx, result.host, unread);
  // One problem per table that could not be read, not one per VM.
  for (const auto &[table, whose] : unread) {
    std::string names;
    const std::size_t shown = whose.size() > 4 ? 3 : whose.size();
    for (std::size_t i = 0; i < shown; ++i)
      names += (i == 0 ? "" : i + 1 == whose.size() ? " and " : ", ") + whose[i];
    if (shown < whose.size())
      names += " and " + std::to_string(whose.size() - shown) + " more";
    result.problems.push_back(table == "ipset"
                                  ? "the ipsets were not read: the set members of " + names +
                                        " were not compared"
                                  : table + " was not read: the " + table + " rules of " + names +
                                        " were not compared");
  }
  return result;
}

// ---- output ----------------------------------------------------------------

namespace {

std::string difference_line(const std::string &who, const Difference &d) {
  std::string out = who + ": " + to_string(d.kind);
  if (!d.table.empty())
    out += " " + d.table + (d.chain.empty() ? "" : " " + d.chain) + ":";
  if (!d.rule.empty())
    out += " " + d.rule;
  if (!d.detail.empty())
    out += d.rule.empty() && d.table.empty() ? " " + d.detail : " (" + d.detail + ")";
  return out;
}

// "1 missing, 2 extra" / "stale vif8.0" for the summary.
std::string brief(const std::vector<Difference> &differences) {
  std::vector<std::string> parts;
  std::map<DiffKind, std::size_t> counts;
  std::vector<std::string> stale_vifs, unprotected_vifs;
  for (const auto &d : differences) {
    if (d.kind == DiffKind::stale_vif)
      stale_vifs.push_back(d.rule);
    else if (d.kind == DiffKind::unprotected && !d.rule.empty())
      unprotected_vifs.push_back(d.rule);
    else
      ++counts[d.kind];
  }
  for (DiffKind kind : {DiffKind::missing, DiffKind::extra, DiffKind::changed, DiffKind::foreign}) {
    if (counts[kind])
      parts.push_back(std::to_string(counts[kind]) + " " + to_string(kind));
  }
  if (counts[DiffKind::stale_vm])
    parts.push_back("stale (not running)");
  if (counts[DiffKind::unprotected])
    parts.push_back("unprotected");
  if (!stale_vifs.empty())
    parts.push_back("stale " + join(stale_vifs, " "));
  if (!unprotected_vifs.empty())
    parts.push_back("unprotected " + join(unprotected_vifs, " "));
  return join(parts, ", ");
}

std::string plural(std::size_t n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

} // namespace

std::string render_comparison_summary(const Comparison &c) {
  std::string out = "sg-diff: ";
  std::vector<std::string> parts;
  if (!c.host.empty())
    parts.push_back("host setup: " + brief(c.host));
  // One line, however many VMs differ: the first few by name.
  constexpr std::size_t kNamed = 5;
  std::size_t named = 0;
  for (const auto &vm : c.vms)
    if (!vm.differences.empty() && named++ < kNamed)
      parts.push_back(vm.vm + ": " + brief(vm.differences));
  const std::size_t differing = c.vms_differing();
  if (differing > kNamed)
    parts.push_back("and " + std::to_string(differing - kNamed) + " more");
  if (!c.differs()) {
    out += "no differences, " + plural(c.vms_ok(), "VM") + " ok";
  } else {
    if (differing > 0)
      out += plural(differing, "VM") + (differing == 1 ? " differs" : " differ");
    else
      out += "host setup differs";
    out += " (" + join(parts, "; ") + "), " + plural(c.vms_ok(), "VM") + " ok";
  }
  if (!c.problems.empty())
    out += "; " + plural(c.problems.size(), "problem") + " (not all compared)";
  return out + "\n";
}

std::string render_comparison_text(const Comparison &c) {
  std::string out;
  for (const auto &d : c.host)
    out += difference_line("host", d) + "\n";
  for (const auto &vm : c.vms)
    for (const auto &d : vm.differences)
      out += difference_line(vm.vm, d) + "\n";
  for (const auto &note : c.notes)
    out += "note: " + note + "\n";
  for (const auto &problem : c.problems)
    out += "problem: " + problem + "\n";
  return out + render_comparison_summary(c);
}

namespace {

void json_difference(JsonWriter &json, const Difference &d) {
  json.begin_object();
  json.field("kind", to_string(d.kind));
  json.field("table", d.table);
  json.field("chain", d.chain);
  json.field("rule", d.rule);
  json.key("args");
  json.begin_array();
  for (const auto &arg : d.args)
    json.value(arg);
  json.end_array();
  json.field("detail", d.detail);
  json.end_object();
}

} // namespace

std::string render_comparison_json(const Comparison &c, bool pretty) {
  JsonWriter json(pretty);
  json.begin_object();
  json.field("differ", c.differs());
  std::string summary = render_comparison_summary(c);
  summary.pop_back();
  json.field("summary", summary);
  json.field("vms_ok", static_cast<std::uint64_t>(c.vms_ok()));
  json.field("vms_differing", static_cast<std::uint64_t>(c.vms_differing()));
  json.key("host");
  json.begin_array();
  for (const auto &d : c.host)
    json_difference(json, d);
  json.end_array();
  json.key("vms");
  json.begin_array();
  for (const auto &vm : c.vms) {
    json.begin_object();
    json.field("name", vm.vm);
    json.field("ok", vm.differences.empty());
    json.key("differences");
    json.begin_array();
    for (const auto &d : vm.differences)
      json_difference(json, d);
    json.end_array();
    json.end_object();
  }
  json.end_array();
  for (const auto *list : {&c.notes, &c.problems}) {
    json.key(list == &c.notes ? "notes" : "problems");
    json.begin_array();
    for (const auto &item : *list)
      json.value(item);
    json.end_array();
  }
  json.end_object();
  return json.str();
}

} // namespace vifwall
