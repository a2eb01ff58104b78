// Internal to lib/sg/check: addresses as numbers, three-valued truth, and a
// rule read into the matches the evaluator tests (match_rules.cpp).  Not an
// API: sg_check.hpp is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netfilter.hpp"
#include "sg_check.hpp"
#include "sg_view.hpp"

namespace vifwall::check_detail {

// "10.1.2.3" -> its number; nullopt when not a dotted quad.
std::optional<std::uint32_t> ipv4_number(std::string_view text);

// "10.1.0.0/16" or "10.1.2.3" (a host) contains `address`; nullopt when the
// CIDR is not IPv4.
std::optional<bool> cidr_contains(std::string_view cidr, std::uint32_t address);

// Three-valued truth of a match.
enum class Truth { no, yes, unknown };

inline Truth truth(bool value) { return value ? Truth::yes : Truth::no; }
inline Truth negate_if(Truth t, bool negated) {
  if (!negated || t == Truth::unknown)
    return t;
  return t == Truth::yes ? Truth::no : Truth::yes;
}

// What a rule does when it matches.
enum class Action { accept, drop, reject, ret, jump, go_to, cont, unknown };

// A rule read for evaluation: its canonical words in option groups, tested
// against a packet by rule_truth().  `why` holds what cannot be read.
struct Option {
  bool negated = false;
  std::string name;
  std::vector<std::string> values;
};

struct CompiledRule {
  const FwRule *rule = nullptr;
  std::vector<Option> options; // the matches, in order
  Action action = Action::unknown;
  std::string target;          // -j/-g value
  std::string unreadable;      // a target or module not modelled ("" when none)
};

// Reads one rule of `family` (iptables, ebtables or arptables).
CompiledRule compile_rule(Family family, const FwRule &rule);

// Whether the rule's matches hold for the packet.  On Truth::unknown,
// `why` says which match could not be decided and why.
struct MatchContext {
  const Packet &packet;
  const std::string &ct_state;
  const SetMembers &sets;
  const IpsetDump *ipsets; // nullptr: not captured
};
Truth rule_truth(Family family, const CompiledRule &rule, const MatchContext &context,
                 std::string &why);

} // namespace vifwall::check_detail
