#include "sg_names.hpp"

#include <cstdint>
#include <string_view>

namespace vifwall {

namespace {

constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t kHashChars = 7; // 35 bits

// FNV-1a, 64 bit: tiny, well known, and good enough to tell VM names apart
// (this is about accidental collisions, not an adversary).
std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string short_hash(std::string_view text) {
  const std::uint64_t hash = fnv1a64(text);
  std::string out;
  for (std::size_t i = 0; i < kHashChars; ++i)
    out.push_back(kBase32[(hash >> (64 - 5 * (i + 1))) & 31]);
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

// "-" followed by exactly kHashChars base32 characters at the end.
bool ends_like_hash(std::string_view s) {
  if (s.size() < kHashChars + 1 || s[s.size() - kHashChars - 1] != '-')
    return false;
  for (char c : s.substr(s.size() - kHashChars))
    if (kBase32.find(c) == std::string_view::npos)
      return false;
  return true;
}

// "-[ie]<1..4 digits>[ab]" at the end; returns the position of the '-'.
std::optional<std::size_t> rule_set_suffix(std::string_view s) {
  if (s.size() < 4)
    return std::nullopt;
  const char generation = s.back();
  if (generation != 'a' && generation != 'b')
    return std::nullopt;
  std::size_t i = s.size() - 1;
  std::size_t digits = 0;
  while (i > 0 && is_digit(s[i - 1])) {
    --i;
    ++digits;
  }
  if (digits == 0 || digits > 4 || i < 2)
    return std::nullopt;
  const char direction = s[i - 1];
  if ((direction != 'i' && direction != 'e') || s[i - 2] != '-')
    return std::nullopt;
  return i - 2;
}

// "-6", "-n<1..2 digits>" or "-6n<1..2 digits>" at the end (a NIC's set);
// returns the position of the '-'.
std::optional<std::size_t> nic_set_suffix(std::string_view s) {
  if (ends_with(s, "-6"))
    return s.size() - 2;
  std::size_t i = s.size();
  std::size_t digits = 0;
  while (i > 0 && is_digit(s[i - 1]) && digits < 3) {
    --i;
    ++digits;
  }
  if (digits == 0 || digits > 2 || i < 2 || s[i - 1] != 'n')
    return std::nullopt;
  if (s[i - 2] == '-')
    return i - 2;
  if (i >= 3 && s[i - 2] == '6' && s[i - 3] == '-')
    return i - 3;
  return std::nullopt;
}

bool has_lower(std::string_view s) {
  for (char c : s)
    if (c >= 'a' && c <= 'z')
      return true;
  return false;
}

// Names that must not be used verbatim: see the header.
bool is_reserved_shape(std::string_view name) {
  return !has_lower(name) || ends_with(name, "-eg") ||
         ends_with(name, "-def") || ends_like_hash(name) ||
         rule_set_suffix(name).has_value();
}

// `name` itself when it fits in `max` and cannot be confused with a derived
// name; otherwise a prefix, "-" and the hash of the whole name.  Set names
// also must not look like a NIC's set ("i-2-3-VM-6" would be i-2-3-VM's
// IPv6 set); chain names have no such suffixes, so CloudStack's chain of a
// VM named like that keeps its name.
std::string fit_name(const std::string &name, std::size_t max, bool set = false) {
  if (!name.empty() && name.size() <= max && !is_reserved_shape(name) &&
      !(set && nic_set_suffix(name)))
    return name;
  return name.substr(0, max - kHashChars - 1) + "-" + short_hash(name);
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
         c == '-' || c == '_' || c == '.';
}

} // namespace

bool is_system_vm(const std::string &vm_name) {
  return vm_name.size() >= 2 && vm_name[1] == '-' &&
         (vm_name[0] == 'r' || vm_name[0] == 's' || vm_name[0] == 'v' ||
          vm_name[0] == 'l');
}

VmNames names_for_vm(const std::string &vm_name) {
  VmNames names;
  names.ingress = fit_name(vm_name, kMaxChainBase);
  names.egress = names.ingress + "-eg";
  names.def = is_system_vm(vm_name) ? names.ingress : names.ingress + "-def";
  names.ipset = fit_name(vm_name, kMaxSetName, true);
  names.set_base = fit_name(vm_name, kMaxSetBase, true);
  return names;
}

std::string rule_set_name(const VmNames &names, Direction direction,
                          std::size_t index, char generation) {
  std::string suffix = "-";
  suffix.push_back(direction == Direction::ingress ? 'i' : 'e');
  suffix += std::to_string(index);
  suffix.push_back(generation);
  std::string base = names.set_base;
  if (base.size() + suffix.size() > kMaxSetName) // out-of-contract input
    base.resize(suffix.size() < kMaxSetName ? kMaxSetName - suffix.size() : 0);
  return (base + suffix).substr(0, kMaxSetName);
}

std::string nic_set_name(const VmNames &names, int device, bool ipv6) {
  if (device == 0 && !ipv6)
    return names.ipset;
  std::string suffix = ipv6 ? "-6" : "-";
  if (device != 0)
    suffix += "n" + std::to_string(device);
  return names.set_base + suffix;
}

std::optional<std::string> set_base_of(const std::string &set_name) {
  if (set_name.size() > kMaxSetName)
    return std::nullopt;
  if (auto rule_set = recognize_rule_set(set_name))
    return rule_set->set_base;
  if (auto dash = nic_set_suffix(set_name); dash && *dash > 0)
    return set_name.substr(0, *dash);
  return std::nullopt;
}

std::optional<RuleSetName> recognize_rule_set(const std::string &set_name) {
  auto dash = rule_set_suffix(set_name);
  if (!dash || *dash == 0 || set_name.size() > kMaxSetName)
    return std::nullopt;
  RuleSetName out;
  out.set_base = set_name.substr(0, *dash);
  out.direction =
      set_name[*dash + 1] == 'i' ? Direction::ingress : Direction::egress;
  out.index = std::stoul(set_name.substr(*dash + 2, set_name.size() - *dash - 3));
  out.generation = set_name.back();
  return out;
}

std::optional<RecognizedChain> recognize_chain(const std::string &chain) {
  if (chain == kBridgeFirewall || chain == kBridgeDefaultFirewall || chain == kDefaultEbtables ||
      chain == kIpv6Gate)
    return RecognizedChain{chain, ChainKind::global};
  const bool user = !chain.empty() && chain[0] == 'i';
  if (chain.size() < 3 || chain[1] != '-' || !is_digit(chain[2]) ||
      !(user || is_system_vm(chain)))
    return std::nullopt;
  for (char c : chain)
    if (!is_name_char(c))
      return std::nullopt;
  std::string_view name = chain;
  if (ends_with(name, "-def"))
    return RecognizedChain{std::string(name.substr(0, name.size() - 4)),
                           ChainKind::def};
  if (ends_with(name, "-eg"))
    return RecognizedChain{std::string(name.substr(0, name.size() - 3)),
                           ChainKind::egress};
  return RecognizedChain{chain, user ? ChainKind::ingress : ChainKind::system};
}

std::string swap_set_name(const std::string &set_name) {
  return "vifwall-tmp-" + short_hash(set_name);
}

const char *to_string(ChainKind kind) {
  switch (kind) {
  case ChainKind::global:
    return "global";
  case ChainKind::ingress:
    return "ingress";
  case ChainKind::egress:
    return "egress";
  case ChainKind::def:
    return "default";
  case ChainKind::system:
    return "system";
  }
  return "?";
}

} // namespace vifwall
