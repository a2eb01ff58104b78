// Which VM each chain is: CloudStack's two naming generations and sg-apply's
// (hashed when long) names, recognized by recognize_chain() and the names of
// the VMs we know.
#include "build_parts.hpp"
#include "rule_match.hpp"
#include "sg_names.hpp"
#include "text.hpp"

namespace vifwall {

namespace view_detail {

ChainAlias known_chain_names(const std::vector<std::string> &known_vms) {
  ChainAlias alias;
  for (const auto &vm : known_vms) {
    const VmNames names = names_for_vm(vm);
    alias.emplace(names.ingress, vm);
    alias.emplace(names.egress, vm);
    alias.emplace(names.def, vm);
  }
  return alias;
}

namespace {

// An older-generation default chain (i-2-3-def): the VM of the ingress or
// egress chain it jumps to; without jumps, the VM its base names, or the
// only ingress chain "<base>-..." (old naming cut the last field off).
std::string owner_of_def_chain(const FwTable &table, const RulesByChain &rules, const FwChain &chain,
                               const RecognizedChain &recognized, const ChainAlias &alias) {
  auto named = [&](const std::string &chain_or_base) {
    auto found = alias.find(chain_or_base);
    return found == alias.end() ? chain_or_base : found->second;
  };
  std::string owner;
  auto chain_rules = rules.find(chain.name);
  for (const auto *rule : chain_rules == rules.end() ? std::vector<const FwRule *>{}
                                                      : chain_rules->second) {
    auto target = recognize_chain(rule->target());
    if (!target)
      continue;
    if (target->kind == ChainKind::ingress)
      owner = named(rule->target());
    else if (target->kind == ChainKind::egress)
      owner = named(target->base);
    if (!owner.empty())
      return owner;
  }
  owner = named(recognized.base);
  if (!table.chain(recognized.base)) {
    std::vector<std::string> candidates;
    for (const auto &other : table.chains) {
      auto r = recognize_chain(other.name);
      if (r && r->kind == ChainKind::ingress && starts_with(other.name, recognized.base + "-"))
        candidates.push_back(other.name);
    }
    if (candidates.size() == 1)
      owner = named(candidates.front());
  }
  return owner;
}

} // namespace

std::map<std::string, std::string> owners_of(const FwTable &table, bool iptables, const ChainAlias &alias) {
  const RulesByChain rules = rules_by_chain(table);
  auto named = [&](const std::string &chain_or_base) {
    auto found = alias.find(chain_or_base);
    return found == alias.end() ? chain_or_base : found->second;
  };
  std::map<std::string, std::string> owners;
  for (const auto &chain : table.chains) {
    auto recognized = recognize_chain(chain.name);
    if (!recognized || recognized->kind == ChainKind::global)
      continue;
    if (auto found = alias.find(chain.name); found != alias.end()) {
      owners[chain.name] = found->second;
      continue;
    }
    switch (recognized->kind) {
    case ChainKind::ingress:
    case ChainKind::system:
    case ChainKind::global:
      owners[chain.name] = named(chain.name);
      break;
    case ChainKind::egress:
      owners[chain.name] = named(recognized->base);
      break;
    case ChainKind::def:
      // The chains it jumps to name its VM (the only way to tie the older
      // i-2-3-def to i-2-3-VM).
      owners[chain.name] = iptables ? owner_of_def_chain(table, rules, chain, *recognized, alias)
                                    : named(chain.name);
      break;
    }
  }
  return owners;
}

void add_gate_vifs(const FwTable &table, const std::map<std::string, std::string> &owners,
                   std::map<std::string, std::string> &gate_vifs) {
  for (const auto &rule : table.rules) {
    auto owner = owners.find(rule.chain);
    if (owner == owners.end())
      owner = owners.find(rule.target());
    if (owner == owners.end())
      continue;
    for (const auto &use : vif_uses(rule.args))
      gate_vifs.emplace(use.name, owner->second);
  }
}

std::string gate_rule_owner(const FwRule &rule, const std::map<std::string, std::string> &gate_vifs) {
  if (rule.chain != kIpv6Gate)
    return "";
  for (const auto &use : vif_uses(rule.args))
    if (auto found = gate_vifs.find(use.name); found != gate_vifs.end())
      return found->second;
  return "";
}

} // namespace view_detail

RulesByChain rules_by_chain(const FwTable &table) {
  RulesByChain out;
  for (const auto &rule : table.rules)
    out[rule.chain].push_back(&rule);
  return out;
}

std::string ipv6_gate_owner(const FwRule &rule, const ChainOwners &owners) {
  return view_detail::gate_rule_owner(rule, owners.gate_vifs);
}

ChainOwners chain_owners(const FirewallSnapshot &snapshot, const std::vector<std::string> &known_vms) {
  const auto alias = view_detail::known_chain_names(known_vms);
  ChainOwners owners;
  if (snapshot.iptables) {
    owners.iptables = view_detail::owners_of(*snapshot.iptables, true, alias);
    view_detail::add_gate_vifs(*snapshot.iptables, owners.iptables, owners.gate_vifs);
  }
  if (snapshot.ip6tables) {
    owners.ip6tables = view_detail::owners_of(*snapshot.ip6tables, true, alias);
    view_detail::add_gate_vifs(*snapshot.ip6tables, owners.ip6tables, owners.gate_vifs);
  }
  if (snapshot.ebtables)
    owners.ebtables = view_detail::owners_of(*snapshot.ebtables, false, alias);
  if (snapshot.arptables)
    owners.arptables = view_detail::owners_of(*snapshot.arptables, false, alias);
  return owners;
}

} // namespace vifwall
