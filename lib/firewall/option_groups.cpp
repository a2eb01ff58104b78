// Option groups (netfilter_internal.hpp): a rule's words read as options
// with their negation and values, the way the tools' own parsers read them,
// and sorted the way the canonical forms print them.
#include "netfilter_internal.hpp"

#include <algorithm>
#include <cctype>

#include "text.hpp"

namespace vifwall::netfilter_detail {

std::vector<std::string> OptionGroup::words() const {
  std::vector<std::string> out;
  append_words(out);
  return out;
}

void OptionGroup::append_words(std::vector<std::string> &out) const {
  if (negated)
    out.push_back("!");
  if (!name.empty())
    out.push_back(name);
  out.insert(out.end(), values.begin(), values.end());
}

std::string OptionGroup::sort_key() const {
  return name + "\x01" + join_rule_words(values) + (negated ? "\x01!" : "");
}

bool looks_like_option(std::string_view word) {
  if (word.size() < 2 || word[0] != '-')
    return false;
  if (word[1] == '-')
    return word.size() > 2 && word[2] != '-';
  return std::isalpha(static_cast<unsigned char>(word[1])) != 0;
}

std::vector<OptionGroup> group_options(const std::vector<std::string> &args,
                                       const GroupingRules &rules) {
  std::vector<OptionGroup> groups;
  bool pending_negation = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string &word = args[i];
    if (word == "!") {
      // `! !`: the first negates nothing (kept, not lost: iptables refuses
      // the rule, which must not compare equal to the one with one `!`).
      if (pending_negation)
        groups.push_back(OptionGroup{false, "", {"!"}});
      pending_negation = true;
      continue;
    }
    if (!looks_like_option(word)) {
      if (groups.empty() || pending_negation)
        groups.push_back(OptionGroup{pending_negation, "", {word}});
      else
        groups.back().values.push_back(word);
      pending_negation = false;
      continue;
    }
    OptionGroup group;
    group.negated = pending_negation;
    pending_negation = false;
    if (word[1] != '-' && word.size() > 2 &&
        rules.glued_short.find(word[1]) != std::string::npos) {
      group.name = word.substr(0, 2);
      if (word.size() == 3 && word[2] == '!') {
        // `-s!` reads as `-s !`: the intrapositioned negation of the word
        // after it, or (no value follows) a value missing and a `!` that
        // negates what comes next.
        if (i + 1 < args.size() && args[i + 1] != "!" && !looks_like_option(args[i + 1])) {
          group.negated = true;
          group.values.push_back(args[++i]);
        } else {
          group.values.emplace_back();
          pending_negation = true;
        }
      } else {
        group.values.push_back(word.substr(2));
      }
      groups.push_back(std::move(group));
      continue;
    }
    group.name = word;
    // Intrapositioned negation: `-s ! 10.0.0.0/8`, `--dport ! 22`.  A `!`
    // never negates another one (`-s ! !`: no value, two dangling `!`).
    if (i + 2 < args.size() && args[i + 1] == "!" && args[i + 2] != "!" &&
        !looks_like_option(args[i + 2])) {
      if (group.negated) // `! -s ! x`: one `!` too many, kept like `! !`
        groups.push_back(OptionGroup{false, "", {"!"}});
      group.negated = true;
      ++i;
    }
    const bool text_value = takes_one_text_value(word);
    std::optional<std::size_t> count =
        text_value ? std::optional<std::size_t>(1)
                   : rules.arity ? rules.arity(word) : std::nullopt;
    if (count) {
      // `!` is no value (but free text is): it negates what follows
      // (`-s ! -d x`, a dangling `--tcp-flags !`).  Taken as a value, it
      // would read back as a negation once the canonical form prints the
      // missing values.
      for (std::size_t k = 0;
           k < *count && i + 1 < args.size() && (text_value || args[i + 1] != "!"); ++k)
        group.values.push_back(args[++i]);
      // A value the input lacks is printed as "": printed without one, the
      // option would take the next word as its value when read back.
      if (group.values.size() < *count)
        group.values.resize(*count);
    } else {
      while (i + 1 < args.size() && args[i + 1] != "!" && !looks_like_option(args[i + 1]))
        group.values.push_back(args[++i]);
    }
    groups.push_back(std::move(group));
  }
  if (pending_negation)
    groups.push_back(OptionGroup{false, "", {"!"}});
  return groups;
}

const std::string &alias(const std::string &name, const AliasMap &aliases) {
  auto it = aliases.find(name);
  return it == aliases.end() ? name : it->second;
}

bool is_counter_option(const OptionGroup &g) {
  return !g.negated && (g.name == "-c" || g.name == "--set-counters") && g.values.size() == 2 &&
         parse_u64(g.values[0]) && parse_u64(g.values[1]);
}

void sort_groups(std::vector<OptionGroup> &groups,
                 const std::vector<std::string> &print_order) {
  if (groups.size() < 2)
    return;
  auto rank = [&](const OptionGroup &g) {
    auto it = std::find(print_order.begin(), print_order.end(), g.name);
    return static_cast<std::size_t>(it - print_order.begin());
  };
  // Keys computed once, not per comparison.
  struct Keyed {
    std::size_t rank;
    std::string key;
    OptionGroup group;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(groups.size());
  for (auto &g : groups) {
    const std::size_t r = rank(g);
    std::string key = g.sort_key();
    keyed.push_back(Keyed{r, std::move(key), std::move(g)});
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const Keyed &a, const Keyed &b) {
    return a.rank != b.rank ? a.rank < b.rank : a.key < b.key;
  });
  for (std::size_t i = 0; i < groups.size(); ++i)
    groups[i] = std::move(keyed[i].group);
}

void append_words(std::vector<std::string> &out, const std::vector<OptionGroup> &groups) {
  for (const OptionGroup &g : groups)
    g.append_words(out);
}

} // namespace vifwall::netfilter_detail
