#include "rule_match.hpp"

#include "model.hpp"
#include "netfilter.hpp"

namespace vifwall::view_detail {

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
