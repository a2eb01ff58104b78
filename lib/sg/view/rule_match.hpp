// Internal to lib/sg/view: the words of a rule as the read-back (read_back.cpp)
// and the grouping by VM (build_view.cpp, vm_identity.cpp) look at them.
//
// Contract: pure functions over a rule's words (the args after "-A CHAIN",
// as FwRule::args holds them).  They find options wherever they sit and in
// both negation spellings (`! -s X` and the older `-s ! X`); they never
// judge whether a rule is one of ours -- read_back_rule() does that.  Not
// part of the layer's API: sg_view.hpp is.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace vifwall::view_detail {

using Args = std::vector<std::string>;

inline bool contains(const std::vector<std::string> &list, const std::string &value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

inline void add_unique(std::vector<std::string> &list, const std::string &value) {
  if (!contains(list, value))
    list.push_back(value);
}

// The value of the first of the options `names` in args, and whether it is
// negated.  nullopt when none is there; value "" when it ends the rule.
struct OptionValue {
  std::string value;
  bool negated = false;
};
std::optional<OptionValue> option_value(const Args &args, std::initializer_list<const char *> names);

// The set of a `-m set [!] --match-set NAME DIR` match (old iptables: --set).
struct SetMatch {
  std::string name, direction;
  bool negated = false;
};
std::optional<SetMatch> set_match(const Args &args);

// The rule's -j target ("" when none), as FwRule::target() reads it.
std::string target_of(const Args &args);

// Interfaces named like VIFs (vif7.0, tap7.0) in the rule's interface
// options (physdev, -i/-o and the ebtables/arptables spellings), with the
// side they are on: `in` for traffic from the VIF.
struct VifUse {
  std::string name;
  bool in = true;
};
std::vector<VifUse> vif_uses(const Args &args);

} // namespace vifwall::view_detail
