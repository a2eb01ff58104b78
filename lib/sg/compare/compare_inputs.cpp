// Where the two sides of a comparison come from: the desired firewall (sg-apply's
// state files, a rules file for one VM, another snapshot) and the running VMs
// (the joined host map).  See compare_internal.hpp.
#include <algorithm>
#include <map>

#include "host_inputs.hpp"
#include "compare_internal.hpp"
#include "file_util.hpp"
#include "model.hpp"
#include "sg_names.hpp"
#include "sg_view.hpp"

namespace vifwall {

using compare_detail::owner_of;
using compare_detail::owners_for;

RunningHost running_from_host_map(const HostMap &host) {
  RunningHost running;
  running.interfaces.emplace();
  for (const auto &link : host.links)
    running.interfaces->push_back(link.name);
  for (const auto &vm : host.vms) {
    if (!is_running(vm.vm) || !vm.vm.dom_id)
      continue;
    RunningVm entry;
    entry.name = vm.vm.name_label;
    entry.dom_id = *vm.vm.dom_id;
    const bool system = is_system_vm(entry.name);
    for (const auto &vif : vm.vifs)
      if (system ? vif.kind == VifKind::vif : vif.device == 0)
        entry.filtered_ifaces.push_back(vif.name);
      else if (!system)
        entry.other_nic_ifaces.push_back(vif.name);
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
    auto plan = render_host_setup(host->uplinks, host->arp_filter, host->ipv6);
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

std::vector<VmopsRecord> vmops_records_in(const std::string &state_dir, const std::vector<VmState> &states) {
  std::vector<VmopsRecord> records;
  for (const auto &name : vms_with_rule_logs(state_dir)) {
    if (std::any_of(states.begin(), states.end(), [&](const VmState &s) { return s.vm_name == name; }))
      continue;
    VmopsRecord record;
    record.name = name;
    record.log_path = rule_log_path(state_dir, name);
    record.ip_path = ip_file_path(state_dir, name);
    auto text = read_input_file(record.log_path);
    if (!text)
      continue;
    auto log = parse_rule_log(*text, record.log_path);
    if (!log)
      continue;
    record.log = std::move(*log);
    if (auto ip = read_input_file(record.ip_path))
      record.ip_file = std::move(*ip);
    records.push_back(std::move(record));
  }
  return records;
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
                            {Family::ip6tables, snapshot.ip6tables, &VmPlan::ip6tables},
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
      else if (recognized && recognized->kind == ChainKind::global && chain.name != kBridgeFirewall &&
               chain.name != kIpv6Gate) // shared: VMs' rules and the host's final DROP
        (host.*source_table.plan).owned_chains.push_back(std::move(content));
    }
    for (const auto &rule : table.rules) {
      if (!owner_of(table_owners, rule.chain).empty())
        continue;
      std::string target_owner = owner_of(table_owners, rule.target());
      if (target_owner.empty() && source_table.family == Family::ebtables)
        target_owner = ipv6_gate_owner(rule, owners); // the IPv6 gate's rule for its VIF
      if (!target_owner.empty()) {
        (vms[target_owner].plan.*source_table.plan).jumps_first.push_back({rule.chain, rule.args});
      } else if (rule.chain == kForward || rule.chain == kBridgeFirewall || rule.chain == kIpv6Gate) {
        (host.*source_table.plan).jumps_first.push_back({rule.chain, rule.args});
      }
    }
  }
  desired.host = std::move(host);
  for (auto &[name, vm] : vms)
    desired.vms.push_back(std::move(vm));
  return desired;
}

} // namespace vifwall
