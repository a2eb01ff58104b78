#include "vmops_layout.hpp"

#include <map>
#include <string_view>

namespace vifwall {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// vmops' chain_name(): "...-untagged" names of i-/r- VMs lose the last
// field; other names over 25 characters keep the first 24.
std::string vmops_chain_name(const std::string &vm) {
  constexpr std::string_view untagged = "untagged";
  if ((starts_with(vm, "i-") || starts_with(vm, "r-")) && vm.size() > untagged.size() &&
      vm.compare(vm.size() - untagged.size(), untagged.size(), untagged) == 0) {
    const auto dash = vm.rfind('-');
    if (dash != std::string::npos && dash > 0)
      return vm.substr(0, dash);
  }
  return vm.size() > 25 ? vm.substr(0, 24) : vm;
}

// The current rule-set suffix: a protocol letter, digits, "_", digits
// ("t22_22"), or "_", a letter, "_any" ("_i_any").
bool is_current_suffix(std::string_view s) {
  if (s.size() == 6 && s[0] == '_' && is_lower(s[1]) && s.substr(2) == "_any")
    return true;
  if (s.size() < 4 || !is_lower(s[0]))
    return false;
  std::size_t i = 1;
  const std::size_t start = i;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '-'))
    ++i;
  if (i == start || i >= s.size() || s[i] != '_')
    return false;
  const std::size_t end = ++i;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '-'))
    ++i;
  return i == s.size() && i > end;
}

// The pre-4.9 suffix after "<chain>_" or "<chain>-eg_": "tcp_22_22",
// "icmp_any", "all_0_0", "47_0_0".
bool is_old_suffix(std::string_view s) {
  const auto first = s.find('_');
  if (first == 0 || first == std::string_view::npos)
    return false;
  const auto rest = s.substr(first + 1);
  if (rest == "any")
    return true;
  const auto second = rest.find('_');
  if (second == 0 || second == std::string_view::npos || second + 1 >= rest.size())
    return false;
  for (char c : rest)
    if (!is_digit(c) && c != '_' && c != '-')
      return false;
  return true;
}

} // namespace

std::vector<std::string> vmops_rule_set_prefixes(const std::string &vm_name) {
  const std::string chain = vmops_chain_name(vm_name);
  std::string prefix = chain;
  if ((starts_with(chain, "i-") || starts_with(chain, "r-")) && chain.size() > 14)
    prefix = chain.substr(0, 13);
  return {prefix, prefix + "-e", chain + "_", chain + "-eg_"};
}

bool is_vmops_rule_set_of(const std::string &set_name, const std::string &vm_name) {
  const auto prefixes = vmops_rule_set_prefixes(vm_name);
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    const std::string &prefix = prefixes[i];
    if (set_name.size() <= prefix.size() || !starts_with(set_name, prefix))
      continue;
    const std::string_view suffix = std::string_view(set_name).substr(prefix.size());
    // The ingress prefix is a prefix of the egress one: "i-2-3-VM-et80_80"
    // would read as an ingress suffix "-et80_80", which is_current_suffix
    // refuses (it starts with '-').
    if (i < 2 ? is_current_suffix(suffix) : is_old_suffix(suffix))
      return true;
  }
  return false;
}

bool looks_like_vmops_rule_set(const std::string &set_name) {
  if (set_name.size() < 4 || set_name[1] != '-' || !is_digit(set_name[2]))
    return false;
  if (std::string_view("irsvl").find(set_name[0]) == std::string_view::npos)
    return false;
  // The VM part is made of VM-name characters; try every split point.
  for (std::size_t cut = 3; cut < set_name.size(); ++cut) {
    const std::string_view suffix = std::string_view(set_name).substr(cut);
    const std::string_view vm_part = std::string_view(set_name).substr(0, cut);
    if (is_current_suffix(suffix))
      return true;
    if (vm_part.back() == '_' && is_old_suffix(suffix))
      return true;
  }
  return false;
}

namespace {

struct NatMacRule {
  std::string vif, mac;
};

std::optional<NatMacRule> parse_nat_mac_rule(const FwRule &rule) {
  if (rule.chain != "PREROUTING")
    return std::nullopt;
  NatMacRule out;
  bool negated = false, dropped = false;
  const auto &a = rule.args;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == "-i" && i + 1 < a.size() && a[i + 1] != "!") {
      out.vif = a[++i];
    } else if (a[i] == "-s" && i + 2 < a.size() && a[i + 1] == "!") {
      out.mac = a[i + 2];
      negated = true;
      i += 2;
    } else if (a[i] == "!" && i + 2 < a.size() && a[i + 1] == "-s") {
      out.mac = a[i + 2];
      negated = true;
      i += 2;
    } else if ((a[i] == "-j" && i + 1 < a.size() && a[i + 1] == "DROP")) {
      dropped = true;
      ++i;
    } else {
      return std::nullopt; // anything else: not vmops' rule
    }
  }
  if (out.vif.empty() || !negated || !dropped)
    return std::nullopt;
  return out;
}

} // namespace

std::optional<std::string> vmops_nat_mac_rule_vif(const FwRule &rule) {
  if (auto parsed = parse_nat_mac_rule(rule))
    return parsed->vif;
  return std::nullopt;
}

std::optional<std::string> vmops_nat_mac_rule_mac(const FwRule &rule) {
  if (auto parsed = parse_nat_mac_rule(rule))
    return parsed->mac;
  return std::nullopt;
}

std::vector<DuplicateRule> duplicate_rules(const FwTable &table, const std::string &chain) {
  std::vector<DuplicateRule> out;
  std::map<std::vector<std::string>, int> seen;
  std::size_t position = 0;
  for (const auto *rule : table.rules_of(chain)) {
    ++position;
    if (seen[rule->args]++ > 0)
      out.push_back(DuplicateRule{chain, rule->args, position});
  }
  return out;
}

} // namespace vifwall
