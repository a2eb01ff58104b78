#include "sg_view.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <unordered_map>

#include "json_writer.hpp"
#include "model.hpp"
#include "protocols.hpp"
#include "sg_names.hpp"
#include "text.hpp"

namespace vifwall {

namespace {

using Args = std::vector<std::string>;


bool contains(const std::vector<std::string> &list, const std::string &value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void add_unique(std::vector<std::string> &list, const std::string &value) {
  if (!contains(list, value))
    list.push_back(value);
}


// The value of option `names` in args, and whether it is negated (`! -s X`
// or the intrapositioned `-s ! X`).  nullopt when the option is absent.
struct OptionValue {
  std::string value;
  bool negated = false;
};
std::optional<OptionValue> option_value(const Args &args, std::initializer_list<const char *> names) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool match = false;
    for (const char *name : names)
      if (args[i] == name)
        match = true;
    if (!match)
      continue;
    OptionValue out;
    out.negated = i > 0 && args[i - 1] == "!";
    std::size_t v = i + 1;
    if (v < args.size() && args[v] == "!") {
      out.negated = true;
      ++v;
    }
    if (v < args.size())
      out.value = args[v];
    return out;
  }
  return std::nullopt;
}

// The set of a `-m set [!] --match-set NAME DIR` match (old iptables: --set).
struct SetMatch {
  std::string name, direction;
  bool negated = false;
};
std::optional<SetMatch> set_match(const Args &args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--match-set" && args[i] != "--set")
      continue;
    SetMatch out;
    out.negated = i > 0 && args[i - 1] == "!";
    std::size_t v = i + 1;
    if (v < args.size() && args[v] == "!") {
      out.negated = true;
      ++v;
    }
    if (v < args.size())
      out.name = args[v];
    if (v + 1 < args.size())
      out.direction = args[v + 1];
    return out;
  }
  return std::nullopt;
}

std::string target_of(const Args &args) {
  FwRule rule;
  rule.args = args;
  return rule.target();
}

// Interfaces named like VIFs in the rule, with the side they are on.
struct VifUse {
  std::string name;
  bool in = true;
};
std::vector<VifUse> vif_uses(const Args &args) {
  std::vector<VifUse> out;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    const auto &word = args[i];
    const bool in = word == "--physdev-in" || word == "-i" || word == "--in-interface" ||
                    word == "--in-if";
    const bool outgoing = word == "--physdev-out" || word == "-o" || word == "--out-interface" ||
                          word == "--out-if";
    if (!in && !outgoing)
      continue;
    const std::string &value = args[i + 1] == "!" && i + 2 < args.size() ? args[i + 2] : args[i + 1];
    if (parse_vif_name(value))
      out.push_back({value, in});
  }
  return out;
}

// "22", "22:25", "22:", ":25" -> {start, end}.
std::optional<std::pair<int, int>> port_range(const std::string &text) {
  const auto colon = text.find(':');
  auto number = [](std::string_view s, int fallback) -> std::optional<int> {
    if (s.empty())
      return fallback;
    auto n = parse_u64(s);
    if (!n || *n > 65535)
      return std::nullopt;
    return static_cast<int>(*n);
  };
  if (colon == std::string::npos) {
    auto port = number(text, -1);
    if (!port || *port < 0)
      return std::nullopt;
    return std::make_pair(*port, *port);
  }
  auto start = number(std::string_view(text).substr(0, colon), 0);
  auto end = number(std::string_view(text).substr(colon + 1), 65535);
  if (!start || !end || *start > *end)
    return std::nullopt;
  return std::make_pair(*start, *end);
}

std::string member_as_cidr(const std::string &member) {
  if (member.find('/') != std::string::npos)
    return member;
  return member + (member.find(':') != std::string::npos ? "/128" : "/32");
}

} // namespace

const char *to_string(Naming naming) { return naming == Naming::old ? "old" : "current"; }

SetMembers set_members_of(const IpsetDump &dump) {
  SetMembers out;
  for (const auto &set : dump.sets)
    out[set.name] = set.members;
  return out;
}

bool is_unconditional(const std::vector<std::string> &args) {
  if (args.size() == 2 && (args[0] == "-j" || args[0] == "--jump"))
    return true;
  return args.size() == 1 && starts_with(args[0], "-j") && args[0].size() > 2;
}

ReadBackRule read_back_rule(Direction direction, const std::vector<std::string> &args,
                            const SetMembers &sets) {
  ReadBackRule out;
  out.direction = direction;
  out.rule.args = args;
  out.target = target_of(args);
  const bool ingress = direction == Direction::ingress;

  bool ok = true;
  std::string protocol;
  std::optional<std::string> dport;
  std::optional<std::string> icmp;
  std::vector<std::string> addresses;
  std::optional<SetMatch> set;
  bool negate = false;
  for (std::size_t i = 0; i < args.size() && ok; ++i) {
    const std::string &word = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 < args.size() && args[i + 1] == "!") {
        negate = true;
        ++i;
      }
      return i + 1 < args.size() ? args[++i] : std::string();
    };
    if (word == "!") {
      negate = true;
      continue;
    }
    if (word == "-p" || word == "--protocol") {
      protocol = value();
    } else if (word == "-s" || word == "--source" || word == "-d" || word == "--destination") {
      const bool source = word == "-s" || word == "--source";
      const std::string address = value();
      if (source != ingress)
        ok = false;
      else
        addresses.push_back(address.find('/') == std::string::npos ? member_as_cidr(address) : address);
    } else if (word == "-m" || word == "--match") {
      const std::string module = value();
      static const std::set<std::string> kModules = {"tcp", "udp", "icmp", "state",
                                                      "conntrack", "set", "comment"};
      if (!kModules.count(module))
        ok = false;
    } else if (word == "--dport" || word == "--destination-port") {
      dport = value();
    } else if (word == "--icmp-type") {
      icmp = value();
    } else if (word == "--state" || word == "--ctstate") {
      if (value() != "NEW")
        ok = false;
    } else if (word == "--comment") {
      value();
    } else if (word == "--match-set" || word == "--set") {
      SetMatch match;
      match.name = value();
      match.direction = i + 1 < args.size() ? args[++i] : std::string();
      if (match.direction != (ingress ? "src" : "dst"))
        ok = false;
      set = match;
    } else if (word == "-j" || word == "--jump") {
      value();
      if (i + 1 != args.size())
        ok = false; // target options: not a rule we write
    } else if (starts_with(word, "-j") && word.size() > 2) {
      if (i + 1 != args.size())
        ok = false;
    } else {
      ok = false;
    }
    if (negate)
      ok = false;
  }
  const std::string &target = out.target;
  if (!(ingress ? target == "ACCEPT" : (target == "RETURN" || target == "ACCEPT")))
    ok = false;
  if (set && !addresses.empty())
    ok = false;

  SgRule sg;
  sg.direction = direction;
  if (ok) {
    if (protocol.empty() || protocol == "all" || protocol == "0") {
      sg.protocol = "all";
      if (dport || icmp)
        ok = false;
    } else if (auto number = ip_protocol_number(protocol)) {
      if (*number == 6 || *number == 17) {
        sg.protocol = *number == 6 ? "tcp" : "udp";
        sg.start = 0;
        sg.end = 65535;
        if (dport) {
          if (auto range = port_range(*dport)) {
            sg.start = range->first;
            sg.end = range->second;
          } else {
            ok = false;
          }
        }
        if (icmp)
          ok = false;
      } else if (*number == 1) {
        sg.protocol = "icmp";
        sg.start = -1;
        sg.end = -1;
        if (icmp) {
          if (auto type = icmp_type_code(*icmp)) {
            sg.start = type->first;
            sg.end = type->second;
          } else {
            ok = false;
          }
        }
        if (dport)
          ok = false;
      } else {
        sg.protocol = std::to_string(*number);
        if (dport || icmp)
          ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (set) {
    out.set = set->name;
    auto found = sets.find(set->name);
    if (found == sets.end()) {
      out.set_missing = true;
    } else {
      for (const auto &member : found->second) {
        if (member.find(' ') != std::string::npos)
          ok = false; // "nomatch" and other element options: not ours
        sg.cidrs.push_back(member_as_cidr(member));
      }
    }
  } else if (!addresses.empty()) {
    sg.cidrs = addresses;
  } else {
    sg.cidrs = {"0.0.0.0/0"};
  }
  out.understood = ok;
  if (ok) {
    out.sg = sg;
    out.text = format_rule_readable(sg);
    if (out.set_missing)
      out.text += " [set " + out.set + " does not exist]";
  } else {
    out.text = join_rule_words(args);
  }
  return out;
}

bool HostView::complete() const {
  for (const auto &check : checks)
    if (check.required && !check.present)
      return false;
  return true;
}

bool HostView::absent() const {
  for (const auto &check : checks)
    if (check.required && check.present)
      return false;
  return true;
}

const VmView *FirewallView::find(const std::string &name) const {
  // vms is sorted by natural_less (build_view), so a binary search finds it.
  auto it = std::lower_bound(vms.begin(), vms.end(), name,
                             [](const VmView &vm, const std::string &wanted) { return natural_less(vm.name, wanted); });
  return it != vms.end() && it->name == name ? &*it : nullptr;
}

namespace {

// Chain name -> the VM name known for it (hashed names of long VM names).
std::map<std::string, std::string> known_chain_names(const std::vector<std::string> &known_vms) {
  std::map<std::string, std::string> alias;
  for (const auto &vm : known_vms) {
    const VmNames names = names_for_vm(vm);
    alias.emplace(names.ingress, vm);
    alias.emplace(names.egress, vm);
    alias.emplace(names.def, vm);
  }
  return alias;
}

}

RulesByChain rules_by_chain(const FwTable &table) {
  RulesByChain out;
  for (const auto &rule : table.rules)
    out[rule.chain].push_back(&rule);
  return out;
}

namespace {

std::map<std::string, std::string> owners_of(const FwTable &table, bool iptables,
                                             const std::map<std::string, std::string> &alias) {
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
    case ChainKind::def: {
      if (!iptables) {
        owners[chain.name] = named(chain.name);
        break;
      }
      // The chains it jumps to name its VM (the only way to tie the older
      // i-2-3-def to i-2-3-VM).
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
          break;
      }
      if (owner.empty()) {
        // No jumps: the base itself if it is a VM's, or the only ingress
        // chain "<base>-..." (old naming cut the last field off).
        owner = named(recognized->base);
        if (!table.chain(recognized->base)) {
          std::vector<std::string> candidates;
          for (const auto &other : table.chains) {
            auto r = recognize_chain(other.name);
            if (r && r->kind == ChainKind::ingress && starts_with(other.name, recognized->base + "-"))
              candidates.push_back(other.name);
          }
          if (candidates.size() == 1)
            owner = named(candidates.front());
        }
      }
      owners[chain.name] = owner;
      break;
    }
    }
  }
  return owners;
}

std::string counters_text(const std::optional<RuleCounters> &counters, bool exact) {
  if (!counters)
    return "";
  const std::string approx = counters->approximate ? "~" : "";
  const std::string packets = exact ? std::to_string(counters->packets)
                                    : compact_count(counters->packets, false);
  const std::string bytes = exact ? std::to_string(counters->bytes)
                                  : compact_count(counters->bytes, true);
  return approx + packets + " pkts, " + approx + bytes + " bytes";
}

struct Builder {
  const FirewallSnapshot &snapshot;
  std::map<std::string, std::string> alias;
  std::map<std::string, VmView> vms;
  SetMembers members;
  FirewallView view;

  VmView &vm(const std::string &name) {
    auto [it, inserted] = vms.try_emplace(name);
    if (inserted) {
      it->second.name = name;
      it->second.system = is_system_vm(name);
    }
    return it->second;
  }

  ViewVif &vif(VmView &vm, const std::string &name) {
    for (auto &existing : vm.vifs)
      if (existing.name == name)
        return existing;
    ViewVif added;
    added.name = name;
    if (auto parsed = parse_vif_name(name))
      added.dom_id = parsed->dom_id;
    vm.vifs.push_back(added);
    return vm.vifs.back();
  }

  static bool host_forward_rule(const FwRule &rule, bool last) {
    const std::string target = rule.target();
    if (target == kBridgeFirewall || target == kDefaultEbtables || target == "RH-Firewall-1-INPUT")
      return true;
    if (last && is_unconditional(rule.args))
      return true;
    auto out = option_value(rule.args, {"--physdev-out"});
    return target == "ACCEPT" && out && !out->negated && ends_with(out->value, "+");
  }

  void add_table(const std::string &name, const FwTable &table, bool iptables) {
    const auto owners = owners_of(table, iptables, alias);
    for (const auto &[chain, owner] : owners)
      vm(owner).chains[name].push_back(chain);
    std::map<std::string, std::size_t> position;
    std::map<std::string, std::size_t> chain_size;
    for (const auto &rule : table.rules)
      ++chain_size[rule.chain];
    for (const auto &rule : table.rules) {
      const std::size_t at = ++position[rule.chain];
      ViewRule entry{name, rule.chain, rule.args, rule.counters, at};
      auto chain_owner = owners.find(rule.chain);
      auto target_owner = owners.find(rule.target());
      if (chain_owner != owners.end()) {
        VmView &owner = vm(chain_owner->second);
        owner.raw.push_back(entry);
        for (const auto &use : vif_uses(rule.args))
          vif(owner, use.name);
      } else if (target_owner != owners.end()) {
        VmView &owner = vm(target_owner->second);
        owner.raw.push_back(entry);
        for (const auto &use : vif_uses(rule.args))
          vif(owner, use.name).jumps.push_back(name + (use.in ? " in" : " out"));
      } else if (auto recognized = recognize_chain(rule.chain);
                 (recognized && recognized->kind == ChainKind::global) ||
                 (rule.chain == kForward && name != "ip6tables" &&
                  host_forward_rule(rule, at == chain_size[rule.chain]))) {
        view.host.raw.push_back(entry);
      }
    }
  }

  void fill_identity(VmView &vm) {
    for (const auto &chains : vm.chains) {
      if (chains.first != "iptables")
        continue;
      for (const auto &chain : chains.second) {
        auto recognized = recognize_chain(chain);
        if (!recognized)
          continue;
        switch (recognized->kind) {
        case ChainKind::ingress:
          vm.ingress_chain = chain;
          break;
        case ChainKind::egress:
          vm.egress_chain = chain;
          break;
        case ChainKind::def:
        case ChainKind::system:
          vm.def_chain = chain;
          break;
        case ChainKind::global:
          break;
        }
      }
    }
    if (!vm.def_chain.empty() && !vm.system) {
      const VmNames names = names_for_vm(vm.name);
      auto recognized = recognize_chain(vm.def_chain);
      if (vm.def_chain != names.def && recognized && recognized->base != vm.name)
        vm.naming = Naming::old;
    }

    // The VM's own set: what its default chain checks source addresses against.
    for (const auto &rule : vm.raw) {
      if (rule.table != "iptables" || rule.chain != vm.def_chain)
        continue;
      if (auto match = set_match(rule.args); match && match->negated) {
        vm.ipset = match->name;
        break;
      }
    }
    if (vm.ipset.empty() && snapshot.ipsets && !vm.system) {
      const std::string own = names_for_vm(vm.name).ipset;
      if (snapshot.ipsets->find(own))
        vm.ipset = own;
    }
    if (!vm.ipset.empty()) {
      auto found = members.find(vm.ipset);
      if (found == members.end())
        vm.ipset_missing = snapshot.ipsets.has_value();
      else
        vm.ips = found->second;
    }

    // The MAC: what the ebtables anti-spoofing rule lets through, else
    // what the ARP rules allow.
    for (const auto &rule : vm.raw) {
      if (rule.table == "ebtables" && owns_chain(vm, "ebtables", rule.chain)) {
        auto source = option_value(rule.args, {"-s", "--source", "--src"});
        if (source && source->negated)
          if (auto mac = normalize_mac(source->value)) {
            vm.mac = *mac;
            break;
          }
      }
    }
    if (!vm.mac)
      for (const auto &rule : vm.raw) {
        if (rule.table != "arptables" && rule.table != "ebtables")
          continue;
        auto source = option_value(rule.args, {"--src-mac", "--source-mac", "--arp-mac-src"});
        if (source && !source->negated)
          if (auto mac = normalize_mac(source->value)) {
            vm.mac = *mac;
            break;
          }
      }
  }

  static bool owns_chain(const VmView &vm, const std::string &table, const std::string &chain) {
    auto found = vm.chains.find(table);
    return found != vm.chains.end() && contains(found->second, chain);
  }

  void fill_protections(VmView &vm) {
    if (vm.system)
      return;
    std::vector<std::string> vifs;
    for (const auto &v : vm.vifs)
      vifs.push_back(v.name);
    Protection ip{"ip", "iptables", {}, {}};
    Protection mac{"mac", "ebtables", {}, {}};
    Protection arp{"arp", "", {}, {}};
    Protection dhcp{"dhcp", "ebtables", {}, {}};
    for (const auto &rule : vm.raw) {
      const std::string target = target_of(rule.args);
      if (rule.table == "iptables" && rule.chain == vm.def_chain && target == "DROP") {
        auto match = set_match(rule.args);
        auto in = option_value(rule.args, {"--physdev-in"});
        if (match && match->negated && match->direction == "src" && in && !in->negated)
          add_unique(ip.vifs, in->value);
      }
      if (rule.table == "ebtables" && owns_chain(vm, "ebtables", rule.chain)) {
        auto in = option_value(rule.args, {"-i", "--in-interface", "--in-if"});
        if (!in || in->negated)
          continue;
        auto source = option_value(rule.args, {"-s", "--source", "--src"});
        if (source && source->negated && target == "DROP")
          add_unique(mac.vifs, in->value);
        auto dport = option_value(rule.args, {"--ip-dport", "--ip-destination-port"});
        if (dport && dport->value == "68" && target == "DROP")
          add_unique(dhcp.vifs, in->value);
        if (option_value(rule.args, {"--arp-mac-src"})) {
          add_unique(arp.vifs, in->value);
          arp.how = "ebtables";
        }
      }
      if (rule.table == "arptables" && owns_chain(vm, "arptables", rule.chain)) {
        auto in = option_value(rule.args, {"-i", "--in-interface"});
        if (in && !in->negated && option_value(rule.args, {"--src-mac", "--source-mac"})) {
          add_unique(arp.vifs, in->value);
          arp.how = arp.how.empty() || arp.how == "arptables" ? "arptables" : arp.how + "+arptables";
        }
      }
    }
    for (Protection *p : {&ip, &mac, &arp, &dhcp}) {
      for (const auto &name : vifs)
        if (!contains(p->vifs, name))
          p->missing_vifs.push_back(name);
      vm.protections.push_back(*p);
    }
  }

  void fill_rules(VmView &vm) {
    auto read_chain = [&](const std::string &chain, Direction direction,
                          std::vector<ReadBackRule> &into, std::string &default_target) {
      if (chain.empty())
        return;
      std::vector<const ViewRule *> rules;
      for (const auto &rule : vm.raw)
        if (rule.table == "iptables" && rule.chain == chain)
          rules.push_back(&rule);
      if (!rules.empty() && is_unconditional(rules.back()->args)) {
        default_target = target_of(rules.back()->args);
        rules.pop_back();
      }
      for (const auto *rule : rules) {
        ReadBackRule read = read_back_rule(direction, rule->args, members);
        read.rule = *rule;
        into.push_back(std::move(read));
      }
    };
    if (vm.system) {
      // One chain: from the VM RETURN (unfiltered), to it the final target.
      std::vector<const ViewRule *> rules;
      for (const auto &rule : vm.raw)
        if (rule.table == "iptables" && rule.chain == vm.def_chain)
          rules.push_back(&rule);
      if (!rules.empty() && is_unconditional(rules.back()->args))
        vm.ingress_default = target_of(rules.back()->args);
      for (const auto *rule : rules)
        if (option_value(rule->args, {"--physdev-in"}) && target_of(rule->args) == "RETURN")
          vm.egress_default = "RETURN";
      return;
    }
    read_chain(vm.ingress_chain, Direction::ingress, vm.ingress, vm.ingress_default);
    read_chain(vm.egress_chain, Direction::egress, vm.egress, vm.egress_default);
  }

  // The sets by name and, for rule sets, by the VM part of their name (in
  // printed order): built once, looked up per VM.
  struct SetIndex {
    std::unordered_map<std::string, const IpSet *> by_name;
    std::unordered_map<std::string, std::vector<std::size_t>> rule_sets_by_base;
  };
  std::optional<SetIndex> set_index;

  const SetIndex &sets_indexed() {
    if (!set_index) {
      set_index.emplace();
      const auto &sets = snapshot.ipsets->sets;
      for (std::size_t i = 0; i < sets.size(); ++i) {
        set_index->by_name.emplace(sets[i].name, &sets[i]);
        if (auto rule_set = recognize_rule_set(sets[i].name))
          set_index->rule_sets_by_base[rule_set->set_base].push_back(i);
      }
    }
    return *set_index;
  }

  void fill_sets(VmView &vm) {
    std::vector<std::string> used;
    if (!vm.ipset.empty())
      used.push_back(vm.ipset); // the VM's own addresses first
    for (const auto &rule : vm.raw)
      if (rule.table == "iptables")
        if (auto match = set_match(rule.args))
          add_unique(used, match->name);
    if (!snapshot.ipsets)
      return;
    const SetIndex &index = sets_indexed();
    for (const auto &name : used)
      if (auto found = index.by_name.find(name); found != index.by_name.end())
        vm.sets.push_back(*found->second);
    // The VM's sets no rule uses: its address set and its rule sets.
    const VmNames names = names_for_vm(vm.name);
    std::vector<std::size_t> candidates;
    if (auto found = index.rule_sets_by_base.find(names.set_base); found != index.rule_sets_by_base.end())
      candidates = found->second;
    if (auto found = index.by_name.find(names.ipset); found != index.by_name.end() && !vm.system)
      candidates.push_back(static_cast<std::size_t>(found->second - snapshot.ipsets->sets.data()));
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (std::size_t i : candidates) {
      const IpSet &set = snapshot.ipsets->sets[i];
      if (contains(used, set.name))
        continue;
      vm.sets.push_back(set);
      vm.unused_sets.push_back(set.name);
    }
  }

  void host_checks() {
    HostView &host = view.host;
    const FwTable *ipt = snapshot.iptables ? &*snapshot.iptables : nullptr;
    const FwTable *eb = snapshot.ebtables ? &*snapshot.ebtables : nullptr;
    auto has_jump = [](const FwTable *table, const std::string &chain, const std::string &target) {
      if (!table)
        return false;
      for (const auto *rule : table->rules_of(chain))
        if (rule->target() == target)
          return true;
      return false;
    };
    auto check = [&](std::string what, bool present, bool required = true) {
      host.checks.push_back({std::move(what), present, required});
    };
    if (ipt) {
      check("iptables chain BRIDGE-FIREWALL", ipt->chain(kBridgeFirewall) != nullptr);
      check("iptables chain BRIDGE-DEFAULT-FIREWALL", ipt->chain(kBridgeDefaultFirewall) != nullptr);
      check("BRIDGE-FIREWALL jumps to BRIDGE-DEFAULT-FIREWALL",
            has_jump(ipt, kBridgeFirewall, kBridgeDefaultFirewall));
      check("FORWARD jumps to BRIDGE-FIREWALL", has_jump(ipt, kForward, kBridgeFirewall));
      const auto forward = ipt->rules_of(kForward);
      const FwChain *forward_chain = ipt->chain(kForward);
      const bool drops = (!forward.empty() && is_unconditional(forward.back()->args) &&
                          forward.back()->target() == "DROP") ||
                         (forward_chain && forward_chain->policy == "DROP");
      check("FORWARD ends with DROP", drops);
      for (const auto *rule : forward)
        if (host_forward_rule(*rule, false) && rule->target() == "ACCEPT")
          host.uplinks.push_back(option_value(rule->args, {"--physdev-out"})->value);
      check("FORWARD accepts bridged traffic out of the uplinks", !host.uplinks.empty());
    }
    if (eb) {
      check("ebtables chain DEFAULT_EBTABLES", eb->chain(kDefaultEbtables) != nullptr);
      check("ebtables FORWARD jumps to DEFAULT_EBTABLES", has_jump(eb, kForward, kDefaultEbtables));
    }
    if (ipt)
      check("no stock FORWARD -j RH-Firewall-1-INPUT (CloudStack removes it)",
            !has_jump(ipt, kForward, "RH-Firewall-1-INPUT"), false);
  }

  FirewallView build() {
    if (snapshot.ipsets)
      members = set_members_of(*snapshot.ipsets);
    view.warnings = snapshot.warnings;
    view.have_iptables = snapshot.iptables.has_value();
    view.have_ebtables = snapshot.ebtables.has_value();
    view.have_arptables = snapshot.arptables.has_value();
    view.have_ipsets = snapshot.ipsets.has_value();
    if (snapshot.iptables)
      add_table("iptables", *snapshot.iptables, true);
    if (snapshot.ip6tables)
      add_table("ip6tables", *snapshot.ip6tables, true);
    if (snapshot.ebtables)
      add_table("ebtables", *snapshot.ebtables, false);
    if (snapshot.arptables)
      add_table("arptables", *snapshot.arptables, false);
    for (auto &[name, vm] : vms) {
      fill_identity(vm);
      fill_protections(vm);
      fill_rules(vm);
      fill_sets(vm);
      view.vms.push_back(std::move(vm));
    }
    std::sort(view.vms.begin(), view.vms.end(),
              [](const VmView &a, const VmView &b) { return natural_less(a.name, b.name); });
    host_checks();
    return std::move(view);
  }
};

} // namespace

ChainOwners chain_owners(const FirewallSnapshot &snapshot, const std::vector<std::string> &known_vms) {
  const auto alias = known_chain_names(known_vms);
  ChainOwners owners;
  if (snapshot.iptables)
    owners.iptables = owners_of(*snapshot.iptables, true, alias);
  if (snapshot.ebtables)
    owners.ebtables = owners_of(*snapshot.ebtables, false, alias);
  if (snapshot.arptables)
    owners.arptables = owners_of(*snapshot.arptables, false, alias);
  return owners;
}

FirewallView build_view(const FirewallSnapshot &snapshot, const std::vector<std::string> &known_vms) {
  Builder builder{snapshot, known_chain_names(known_vms), {}, {}, {}};
  return builder.build();
}

// ---- text ------------------------------------------------------------------

namespace {

std::string join(const std::vector<std::string> &words, const std::string &sep) {
  std::string out;
  for (const auto &word : words)
    out += (out.empty() ? "" : sep) + word;
  return out;
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width)
    text.append(width - text.size(), ' ');
  return text;
}

const char *protection_label(const std::string &name) {
  if (name == "ip")
    return "IP anti-spoofing";
  if (name == "mac")
    return "MAC anti-spoofing";
  if (name == "arp")
    return "ARP anti-spoofing";
  return "DHCP anti-spoofing";
}

std::string protection_text(const Protection &p) {
  std::string out = protection_label(p.name);
  if (p.in_place())
    out += ": yes";
  else if (p.vifs.empty())
    out += ": NO";
  else
    out += ": PARTLY (not on " + join(p.missing_vifs, ", ") + ")";
  if (!p.vifs.empty() && p.name == "arp" && !p.how.empty())
    out += " (" + p.how + ")";
  return out;
}

std::string default_text(const std::string &target, Direction direction) {
  if (target.empty())
    return "no final rule";
  if (target == "DROP" || target == "REJECT")
    return "drop";
  if (target == "RETURN")
    return direction == Direction::egress ? "allow (RETURN)" : "RETURN to the caller";
  return target == "ACCEPT" ? "allow" : target;
}

std::string rule_line(const ReadBackRule &rule) {
  return rule.understood ? rule.text : "raw: " + rule.text;
}

void rules_block(std::string &out, const char *title, const std::string &chain,
                 const std::vector<ReadBackRule> &rules, const std::string &default_target,
                 Direction direction, const ViewTextOptions &options, std::size_t width) {
  out += std::string("  ") + title;
  if (chain.empty()) {
    out += ": no chain\n";
    return;
  }
  out += " (" + chain + ", default: " + default_text(default_target, direction) + ")\n";
  if (rules.empty()) {
    out += "    (no rules)\n";
    return;
  }
  for (const auto &rule : rules) {
    const std::string line = rule_line(rule);
    const std::string counters = options.counters ? counters_text(rule.rule.counters, options.exact) : "";
    out += "    " + (counters.empty() ? line : pad(line, width) + "  " + counters) + "\n";
  }
}

void host_text(std::string &out, const FirewallView &view) {
  const HostView &host = view.host;
  std::string state = host.checks.empty() ? "unknown (no iptables or ebtables dump)"
                      : host.complete()   ? "complete"
                      : host.absent()     ? "MISSING"
                                          : "INCOMPLETE";
  out += "host setup: " + state + "\n";
  for (const auto &check : host.checks) {
    std::string what = check.what;
    if (what == "FORWARD accepts bridged traffic out of the uplinks" && !host.uplinks.empty())
      what += " (" + join(host.uplinks, ", ") + ")";
    out += std::string("  ") + (check.present ? "yes  " : check.required ? "NO   " : "no   ") + what + "\n";
  }
}

} // namespace

std::string render_view_text(const FirewallView &view, const std::vector<const VmView *> &vms,
                             const ViewTextOptions &options) {
  std::string out;
  if (options.host) {
    host_text(out, view);
  }
  for (const VmView *vm : vms) {
    if (!out.empty())
      out += "\n";
    std::vector<std::string> chains;
    for (const auto &[table, names] : vm->chains)
      for (const auto &name : names)
        add_unique(chains, name);
    out += vm->name + (vm->system ? "  system VM" : "  user VM");
    if (vm->naming == Naming::old)
      out += " (older CloudStack naming)";
    out += "  [chains: " + join(chains, ", ") + "]\n";
    std::vector<std::string> vifs;
    for (const auto &v : vm->vifs)
      vifs.push_back(v.name + (v.dom_id ? " (dom-id " + std::to_string(*v.dom_id) + ")" : ""));
    out += "  VIFs:       " + (vifs.empty() ? std::string("none") : join(vifs, ", ")) + "\n";
    if (!vm->system) {
      std::string ips = vm->ips.empty() ? std::string("none") : join(vm->ips, ", ");
      if (!vm->ipset.empty())
        ips += vm->ipset_missing ? " (set " + vm->ipset + " DOES NOT EXIST)" : " (set " + vm->ipset + ")";
      out += "  IPs:        " + ips + "\n";
      out += "  MAC:        " + (vm->mac ? *vm->mac : std::string("unknown (no MAC rule)")) + "\n";
      out += "  Protection: ";
      std::vector<std::string> parts;
      for (const auto &p : vm->protections)
        parts.push_back(protection_text(p));
      out += join(parts, "\n              ") + "\n";
      // One column for the counters of both directions.
      std::size_t width = 0;
      for (const auto *rules : {&vm->ingress, &vm->egress})
        for (const auto &rule : *rules)
          width = std::max(width, rule_line(rule).size());
      width = std::min<std::size_t>(width, 60);
      rules_block(out, "Ingress", vm->ingress_chain, vm->ingress, vm->ingress_default,
                  Direction::ingress, options, width);
      rules_block(out, "Egress", vm->egress_chain, vm->egress, vm->egress_default,
                  Direction::egress, options, width);
    } else {
      // CloudStack's system VM chain: RETURN for traffic from the VM (not
      // filtered here), the final target for traffic to it.
      out += "  Traffic:    from the VM " +
             std::string(vm->egress_default == "RETURN" ? "not filtered" : "not passed through") +
             ", to the VM " +
             (vm->ingress_default == "ACCEPT" ? std::string("accepted")
                                              : default_text(vm->ingress_default, Direction::ingress)) +
             "\n";
    }
    if (!vm->unused_sets.empty())
      out += "  Unused sets: " + join(vm->unused_sets, ", ") + "\n";
  }
  for (const auto &warning : view.warnings)
    out += (out.empty() ? "" : "\n") + std::string("warning: ") + warning + "\n";
  return out;
}

namespace {

std::string raw_line(const ViewRule &rule) {
  std::string out;
  if (rule.counters)
    out += "[" + std::to_string(rule.counters->packets) + ":" + std::to_string(rule.counters->bytes) +
           "] ";
  return out + "-A " + rule.chain + " " + join_rule_words(rule.args);
}

void raw_rules(std::string &out, const std::vector<ViewRule> &rules) {
  for (const char *table : {"iptables", "ip6tables", "ebtables", "arptables"}) {
    bool header = false;
    for (const auto &rule : rules) {
      if (rule.table != table)
        continue;
      if (!header)
        out += std::string("# ") + table + "\n";
      header = true;
      out += raw_line(rule) + "\n";
    }
  }
}

} // namespace

std::string render_view_raw(const FirewallView &view, const std::vector<const VmView *> &vms,
                            const ViewTextOptions &options) {
  std::string out;
  if (options.host) {
    out += "## host\n";
    raw_rules(out, view.host.raw);
  }
  for (const VmView *vm : vms) {
    if (!out.empty())
      out += "\n";
    out += "## " + vm->name + "\n";
    raw_rules(out, vm->raw);
    if (!vm->sets.empty()) {
      out += "# ipset\n";
      for (const auto &set : vm->sets) {
        out += "create " + set.name + " " + set.type;
        if (!set.family.empty())
          out += " family " + set.family;
        out += "\n";
        for (const auto &member : set.members)
          out += "add " + set.name + " " + member + "\n";
      }
    }
  }
  return out;
}

// ---- JSON ------------------------------------------------------------------

namespace {

void json_counters(JsonWriter &json, const std::optional<RuleCounters> &counters) {
  if (counters) {
    json.field("packets", counters->packets);
    json.field("bytes", counters->bytes);
    if (counters->approximate)
      json.field("approximate", true);
  } else {
    json.key("packets");
    json.null();
    json.key("bytes");
    json.null();
  }
}

void json_strings(JsonWriter &json, std::string_view key, const std::vector<std::string> &list) {
  json.key(key);
  json.begin_array();
  for (const auto &item : list)
    json.value(item);
  json.end_array();
}

void json_raw_rule(JsonWriter &json, const ViewRule &rule) {
  json.begin_object();
  json.field("table", rule.table);
  json.field("chain", rule.chain);
  json.field("position", static_cast<std::uint64_t>(rule.position));
  json_strings(json, "args", rule.args);
  json.field("rule", "-A " + rule.chain + " " + join_rule_words(rule.args));
  json_counters(json, rule.counters);
  json.end_object();
}

void json_rules(JsonWriter &json, std::string_view key, const std::string &chain,
                const std::vector<ReadBackRule> &rules, const std::string &default_target) {
  json.key(key);
  json.begin_object();
  if (chain.empty()) {
    json.key("chain");
    json.null();
  } else {
    json.field("chain", chain);
  }
  json.field("default", default_target);
  json.key("rules");
  json.begin_array();
  for (const auto &rule : rules) {
    json.begin_object();
    json.field("understood", rule.understood);
    json.field("text", rule.text);
    if (rule.understood) {
      json.field("protocol", rule.sg.protocol);
      json.field("start", rule.sg.start);
      json.field("end", rule.sg.end);
      json_strings(json, "cidrs", rule.sg.cidrs);
    }
    json.field("set", rule.set);
    if (rule.set_missing)
      json.field("set_missing", true);
    json.field("target", rule.target);
    json.field("position", static_cast<std::uint64_t>(rule.rule.position));
    json_strings(json, "args", rule.rule.args);
    json_counters(json, rule.rule.counters);
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

} // namespace

std::string render_view_json(const FirewallView &view, const std::vector<const VmView *> &vms,
                             bool with_host, bool pretty) {
  JsonWriter json(pretty);
  json.begin_object();
  if (with_host) {
    json.key("host");
    json.begin_object();
    json.field("setup", view.host.checks.empty() ? "unknown"
                        : view.host.complete()   ? "complete"
                        : view.host.absent()     ? "missing"
                                                 : "incomplete");
    json.key("checks");
    json.begin_array();
    for (const auto &check : view.host.checks) {
      json.begin_object();
      json.field("what", check.what);
      json.field("present", check.present);
      json.field("required", check.required);
      json.end_object();
    }
    json.end_array();
    json_strings(json, "uplinks", view.host.uplinks);
    json.key("raw");
    json.begin_array();
    for (const auto &rule : view.host.raw)
      json_raw_rule(json, rule);
    json.end_array();
    json.end_object();
  }
  json.key("vms");
  json.begin_array();
  for (const VmView *vm : vms) {
    json.begin_object();
    json.field("name", vm->name);
    json.field("kind", vm->system ? "system" : "user");
    json.field("naming", to_string(vm->naming));
    json.key("chains");
    json.begin_object();
    for (const auto &[table, names] : vm->chains)
      json_strings(json, table, names);
    json.end_object();
    json.key("vifs");
    json.begin_array();
    for (const auto &v : vm->vifs) {
      json.begin_object();
      json.field("name", v.name);
      json.field("dom_id", v.dom_id);
      json_strings(json, "jumps", v.jumps);
      json.end_object();
    }
    json.end_array();
    if (!vm->system) {
      json.field("ipset", vm->ipset);
      if (vm->ipset_missing)
        json.field("ipset_missing", true);
      json_strings(json, "ips", vm->ips);
      json.field("mac", vm->mac);
      json.key("protections");
      json.begin_object();
      for (const auto &p : vm->protections) {
        json.key(p.name);
        json.begin_object();
        json.field("in_place", p.in_place());
        json.field("how", p.how);
        json_strings(json, "vifs", p.vifs);
        json_strings(json, "missing_vifs", p.missing_vifs);
        json.end_object();
      }
      json.end_object();
      json_rules(json, "ingress", vm->ingress_chain, vm->ingress, vm->ingress_default);
      json_rules(json, "egress", vm->egress_chain, vm->egress, vm->egress_default);
    } else {
      json.field("chain", vm->def_chain);
      json.field("default", vm->ingress_default);
    }
    json.key("sets");
    json.begin_array();
    for (const auto &set : vm->sets) {
      json.begin_object();
      json.field("name", set.name);
      json.field("type", set.type);
      json_strings(json, "members", set.members);
      json.field("used", !contains(vm->unused_sets, set.name));
      json.end_object();
    }
    json.end_array();
    json.key("raw");
    json.begin_array();
    for (const auto &rule : vm->raw)
      json_raw_rule(json, rule);
    json.end_array();
    json.end_object();
  }
  json.end_array();
  json_strings(json, "warnings", view.warnings);
  json.end_object();
  return json.str();
}

} // namespace vifwall
