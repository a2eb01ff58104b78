#include "rule_match.hpp"

#include "model.hpp"
#include "netfilter.hpp"

namespace vifwall::view_detail {

namespace {

// Where the first of `names` is in args, whether it is negated (`!` before
// the option, as iptables-save prints it, or after it, as older dumps and
// users write it), and where its value starts.
struct OptionAt {
  bool negated = false;
  std::size_t value = 0; // index of the first value word; may be args.size()
};

std::optional<OptionAt> find_option(const Args &args, std::initializer_list<const char *> names) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool match = false;
    for (const char *name : names)
      if (args[i] == name)
        match = true;
    if (!match)
      continue;
    OptionAt at{i > 0 && args[i - 1] == "!", i + 1};
    if (at.value < args.size() && args[at.value] == "!") {
      at.negated = true;
      ++at.value;
    }
    return at;
  }
  return std::nullopt;
}

} // namespace

std::optional<OptionValue> option_value(const Args &args, std::initializer_list<const char *> names) {
  const auto at = find_option(args, names);
  if (!at)
    return std::nullopt;
  OptionValue out;
  out.negated = at->negated;
  if (at->value < args.size())
    out.value = args[at->value];
  return out;
}

std::optional<SetMatch> set_match(const Args &args) {
  const auto at = find_option(args, {"--match-set", "--set"});
  if (!at)
    return std::nullopt;
  SetMatch out;
  out.negated = at->negated;
  if (at->value < args.size())
    out.name = args[at->value];
  if (at->value + 1 < args.size())
    out.direction = args[at->value + 1];
  return out;
}

std::string target_of(const Args &args) {
  FwRule rule;
  rule.args = args;
  return rule.target();
}

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

} // namespace vifwall::view_detail
