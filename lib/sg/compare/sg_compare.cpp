// compare_firewall(): which VMs are looked at, the live tables indexed once
// for all of them, each VM's verdict, the host setup, and what could not be
// read.  The per-VM work is in compare_vm.cpp; see compare_internal.hpp.
#include "sg_compare.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "adopt.hpp"
#include "compare_internal.hpp"
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
  case DiffKind::vmops_layout:
    return "vmops-layout";
  }
  return "?";
}

bool Comparison::differs() const { return !host.empty() || vms_differing() > 0; }

std::size_t Comparison::vms_differing() const {
  return static_cast<std::size_t>(std::count_if(
      vms.begin(), vms.end(), [](const VmComparison &vm) { return !vm.differences.empty(); }));
}

std::size_t Comparison::vms_ok() const { return vms.size() - vms_differing(); }

namespace compare_detail {

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

const FwTable *live_table(const FirewallSnapshot &actual, Family family) {
  const std::optional<FwTable> *table = family == Family::iptables    ? &actual.iptables
                                        : family == Family::ebtables  ? &actual.ebtables
                                        : family == Family::arptables ? &actual.arptables
                                                                      : &actual.ip6tables;
  return *table ? &**table : nullptr;
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
    return owners.ip6tables;
  }
  return none;
}

} // namespace compare_detail

namespace {

using namespace compare_detail;

bool is_cloudstack_name(const std::string &name) {
  auto recognized = recognize_chain(name);
  return recognized && recognized->kind != ChainKind::global;
}

// Each live table's rules by chain, its chains by owner, and the jumps to
// each VM's chains from chains not its own; in ebtables also the IPv6
// gate's rules for the VM's VIFs (they jump nowhere, but are the VM's).
void index_tables(const FirewallSnapshot &actual, const ChainOwners &owners, Context &ctx) {
  for (Family family : {Family::iptables, Family::ip6tables, Family::ebtables, Family::arptables}) {
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
      std::string target = owner_of(table_owners, rule.target());
      if (target.empty() && family == Family::ebtables)
        target = ipv6_gate_owner(rule, owners);
      if (!target.empty() && owner_of(table_owners, rule.chain) != target)
        index.jumps_to[target].push_back(&rule);
    }
  }
}

// The VMs to look at, in natural name order: the desired ones and, when the
// desired side is complete, every VM with rules and every running CloudStack
// VM; only those of options.vms when it is given (a note for each of them
// found nowhere).
std::vector<std::string> vms_to_compare(const DesiredFirewall &desired, const FirewallView &view,
                                        const std::optional<RunningHost> &running,
                                        const CompareOptions &options,
                                        std::vector<std::string> &notes) {
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
      notes.push_back(name + ": no record, no rules" + std::string(running ? " and not running" : ""));
  std::sort(names.begin(), names.end(), natural_less);
  return names;
}

// The verdict on a VM without both a desired state and a running domain
// (stale, rules without a record, running without rules), into `vm`; false
// when the VM has both and is compared rule by rule.
bool judge_whole_vm(const std::string &name, const DesiredVm *want, const VmView *live,
                    const RunningVm *up, bool running_known, const DesiredFirewall &desired,
                    VmComparison &vm) {
  if (running_known && !up) {
    if (live)
      vm.differences.push_back({DiffKind::stale_vm, "", "", "", {},
                                "not running, but " + std::to_string(live->raw.size()) +
                                    " of its rules are in the firewall"});
    else if (want)
      vm.differences.push_back({DiffKind::stale_vm, "", "", "", {},
                                "not running, but recorded in " + desired.source});
    return true;
  }
  if (want)
    return false;
  if (live) {
    std::vector<std::string> chains;
    for (const auto &[table, list] : live->chains)
      for (const auto &chain : list)
        if (!contains(chains, chain))
          chains.push_back(chain);
    vm.differences.push_back({DiffKind::extra, "", "", "chains " + join_strings(chains, ", "), {},
                              counted(live->raw.size(), "rule") + " of a VM not in " +
                                  desired.source});
  } else if (up) {
    vm.differences.push_back(
        {DiffKind::unprotected, "", "", "", {},
         std::string("running (dom-id ") + std::to_string(up->dom_id) + ") without rules" +
             (is_system_vm(name) ? ": a system VM without its chain gets no traffic" : "")});
  }
  return true;
}

// One problem per table that could not be read, not one per VM.
void report_unread(const Unread &unread, std::vector<std::string> &problems) {
  for (const auto &[table, whose] : unread) {
    std::string names;
    const std::size_t shown = whose.size() > 4 ? 3 : whose.size();
    for (std::size_t i = 0; i < shown; ++i)
      names += (i == 0 ? "" : i + 1 == whose.size() ? " and " : ", ") + whose[i];
    if (shown < whose.size())
      names += " and " + std::to_string(whose.size() - shown) + " more";
    problems.push_back(table == "ipset"
                           ? "the ipsets were not read: the set members of " + names +
                                 " were not compared"
                           : table + " was not read: the " + table + " rules of " + names +
                                 " were not compared");
  }
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
  index_tables(actual, owners, ctx);

  const std::vector<std::string> names =
      vms_to_compare(desired, view, running, options, result.notes);
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
  const std::vector<std::string> *interfaces =
      running && running->interfaces ? &*running->interfaces : nullptr;

  // VMs CloudStack's vmops programmed: desired as a takeover would record them.
  std::vector<DesiredVm> adopted;
  std::unordered_map<std::string, std::string> not_adoptable;
  adopted.reserve(desired.vmops_vms.size()); // desired_by_name points into it
  for (const auto &record : desired.vmops_vms) {
    const VmView *live = view.find(record.name);
    if (!live || desired_by_name.count(record.name))
      continue;
    AdoptSources sources{record.log, record.ip_file, record.log_path, record.ip_path, "arptables"};
    for (const auto &protection : live->protections)
      if (protection.name == "arp" && protection.how == "ebtables")
        sources.arp_filter = "ebtables";
    auto state = adopt_vm_state(*live, sources);
    auto plan = state ? plan_for_state(*state) : Result<VmPlan>(tl::unexpected(state.error()));
    if (!plan) {
      not_adoptable[record.name] = plan.error().str();
      continue;
    }
    adopted.push_back(DesiredVm{record.name, state->kind == VmKind::system, std::move(*plan), false, true});
    desired_by_name[record.name] = &adopted.back();
  }

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
    if (want && want->vmops)
      vm.differences.push_back({DiffKind::vmops_layout, "", "", "", {},
                                "programmed by CloudStack's vmops plugin, not by sg-apply: "
                                "`sg-apply takeover` converts it (the differences below are what it changes)"});
    if (auto refused = not_adoptable.find(name); refused != not_adoptable.end())
      vm.differences.push_back({DiffKind::vmops_layout, "", "", "", {},
                                "programmed by CloudStack's vmops plugin, but `sg-apply takeover` would refuse it: " +
                                    refused->second});
    if (!judge_whole_vm(name, want, live, up, running.has_value(), desired, vm) && actual.iptables)
      compare_vm(name, *want, live, up, interfaces, ctx, vm, unread);
    result.vms.push_back(std::move(vm));
  }

  if (desired.host && options.vms.empty() && actual.iptables)
    compare_host(desired, owners, ctx, result.host, unread);
  report_unread(unread, result.problems);
  return result;
}

} // namespace vifwall
