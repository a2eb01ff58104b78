// Rules compared by meaning: one chain we own (order matters) and the jumps
// in chains shared with others (a multiset).  See compare_internal.hpp.
#include <cstdint>
#include <optional>

#include "compare_internal.hpp"
#include "netfilter.hpp"
#include "sg_names.hpp"
#include "text.hpp"

namespace vifwall::compare_detail {

// Interfaces named like VIFs anywhere in a rule.
std::vector<std::string> mentioned_vifs(const Args &args) {
  std::vector<std::string> out;
  for (const auto &word : args)
    if (parse_vif_name(word) && !contains(out, word))
      out.push_back(word);
  return out;
}

namespace {

std::string target_of(const Args &args) {
  FwRule rule;
  rule.args = args;
  return rule.target();
}

// The set a rule matches (`--match-set NAME DIR`, old `--set`): the index
// of NAME in args, or npos.
std::size_t set_name_index(const Args &args) {
  for (std::size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--match-set" || args[i] == "--set") {
      std::size_t v = i + 1;
      if (v < args.size() && args[v] == "!")
        ++v;
      return v < args.size() ? v : std::string::npos;
    }
  return std::string::npos;
}

// The rule with its set replaced by the set's members (`structure`: by a
// placeholder, for pairing a rule with its changed twin), before
// canonical_args(): rule_key() of it.
Args keyed_args(const Args &args, const SetMembers &sets, bool structure) {
  const std::size_t at = set_name_index(args);
  if (at == std::string::npos)
    return args;
  Args copy = args;
  if (structure) {
    copy[at] = "@set";
  } else {
    auto found = sets.find(args[at]);
    copy[at] = found == sets.end() ? "@missing" : "@{" + join_strings(found->second, ",") + "}";
  }
  return copy;
}

// The meaning of a rule with its set replaced by the set's members, so that
// set names do not matter and set contents do.  `structure`: with the set
// replaced by a placeholder (for pairing a rule with its changed twin).
std::string rule_key(Family family, const Args &args, const SetMembers &sets, bool structure) {
  return canonical_args(family, keyed_args(args, sets, structure));
}

// Two rules' keys compared without canonicalising when it can be helped:
// the same words (their sets replaced alike) mean the same; only rules
// written differently need canonical_args(), computed once each.  On a
// host as sg-apply left it, the save tools print the words sg-apply wrote,
// so almost no rule is canonicalised (it was 45% of sg-diff's instructions
// at 1000 VMs).
class Keys {
public:
  Keys(Family family, const SetMembers &sets) : family_(family), sets_(sets) {}

  std::size_t add(const Args &args) {
    words_.push_back(keyed_args(args, sets_, false));
    canonical_.emplace_back();
    return words_.size() - 1;
  }

  bool same(std::size_t a, const Keys &other, std::size_t b) const {
    return words_[a] == other.words_[b] || key(a) == other.key(b);
  }

  const std::string &key(std::size_t i) const {
    if (!canonical_[i])
      canonical_[i] = canonical_args(family_, words_[i]);
    return *canonical_[i];
  }

  const Args &words(std::size_t i) const { return words_[i]; }

private:
  Family family_;
  const SetMembers &sets_;
  std::vector<Args> words_;
  mutable std::vector<std::optional<std::string>> canonical_;
};

// How to read and judge a chain's rules.
enum class Role { ingress, egress, def, system, vm_bridge, host };

Role role_of(Family family, const std::string &chain) {
  auto recognized = recognize_chain(chain);
  if (!recognized || recognized->kind == ChainKind::global)
    return Role::host;
  if (family != Family::iptables && family != Family::ip6tables)
    return Role::vm_bridge;
  switch (recognized->kind) {
  case ChainKind::ingress:
    return Role::ingress;
  case ChainKind::egress:
    return Role::egress;
  case ChainKind::def:
    return Role::def;
  case ChainKind::system:
    return Role::system;
  case ChainKind::global:
    break;
  }
  return Role::host;
}

// `ipv6`: a rule of ip6tables.
std::string readable(Role role, const Args &args, const SetMembers &sets, bool ipv6) {
  if ((role == Role::ingress || role == Role::egress) && !is_unconditional(args)) {
    const ReadBackRule read =
        read_back_rule(role == Role::ingress ? Direction::ingress : Direction::egress, args, sets, ipv6);
    if (read.understood)
      return read.text;
  }
  return join_rule_words(args);
}

// Every option of `args` is one of `allowed` (values are not checked).
bool only_options(const Args &args, const std::set<std::string> &allowed) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto &word = args[i];
    if (word.size() < 2 || word[0] != '-' || (word[1] >= '0' && word[1] <= '9'))
      continue;
    if (i > 0 && (args[i - 1] == "-j" || args[i - 1] == "--jump"))
      continue; // a target like "-" never happens, but be safe
    if (!allowed.count(word))
      return false;
  }
  return true;
}

// Whether a rule found in one of our chains has a shape sg-apply or
// CloudStack writes there ("extra"), or not ("foreign").
bool written_by_us(Role role, const Args &args, const std::set<std::string> &vm_chains,
                   const SetMembers &live_sets, bool ipv6) {
  if (is_unconditional(args))
    return role != Role::host;
  const std::string target = target_of(args);
  switch (role) {
  case Role::ingress:
  case Role::egress:
    return read_back_rule(role == Role::ingress ? Direction::ingress : Direction::egress, args,
                          live_sets, ipv6)
        .understood;
  case Role::def:
  case Role::system: {
    static const std::set<std::string> allowed = {
        "-p",           "--protocol",  "-m",           "--match", "--physdev-in",
        "--physdev-out", "--physdev-is-bridged", "--match-set", "--set", "--dport",
        "--sport",      "-j",          "--jump"};
    // The ip6tables -def chain also checks ICMPv6 types, the hop limit, the
    // ND target (u32) and the unspecified source of address detection.
    static const std::set<std::string> allowed6 = [] {
      std::set<std::string> out = allowed;
      out.insert({"--icmpv6-type", "--hl-eq", "--u32", "-s", "--source"});
      return out;
    }();
    const bool targets_ok = target == "RETURN" || target == "DROP" || target == "ACCEPT" ||
                            vm_chains.count(target) > 0;
    return targets_ok && !mentioned_vifs(args).empty() && only_options(args, ipv6 ? allowed6 : allowed);
  }
  case Role::vm_bridge: {
    static const std::set<std::string> allowed = {
        "-p",          "--proto",      "--protocol",   "-s",          "--src",
        "--source",    "-d",           "--dst",        "--destination", "-i",
        "--in-if",     "--in-interface", "-o",         "--out-if",    "--out-interface",
        "--ip-proto",  "--ip-protocol", "--ip-dport",  "--ip-destination-port", "--ip-src",
        "--ip-dst",    "--arp-op",     "--arp-ip-src", "--arp-ip-dst", "--arp-mac-src",
        "--arp-mac-dst", "--src-mac",  "--dst-mac",    "--source-mac", "--destination-mac",
        "--source-ip", "--destination-ip", "--h-length", "--opcode",  "-j",
        "--jump"};
    return (target == "DROP" || target == "ACCEPT" || target == "RETURN") &&
           only_options(args, allowed);
  }
  case Role::host:
    break;
  }
  return false;
}

// "missing 10.0.0.1; extra 10.0.0.9" between two member lists.
std::string member_difference(const std::vector<std::string> &want,
                              const std::vector<std::string> &have) {
  std::vector<std::string> missing, extra;
  for (const auto &m : want)
    if (!contains(have, m))
      missing.push_back(m);
  for (const auto &m : have)
    if (!contains(want, m))
      extra.push_back(m);
  std::string out;
  if (!missing.empty())
    out += "missing " + join_strings(missing, ", ");
  if (!extra.empty())
    out += std::string(out.empty() ? "" : "; ") + "extra " + join_strings(extra, ", ");
  return out;
}

// Marks the rules of the longest common subsequence of the two key lists as
// matched: the rules in place.  (Chains too long for the table: none.)
void match_in_sequence(const Keys &want_keys, const Keys &have_keys, std::vector<bool> &want_matched,
                       std::vector<bool> &have_matched) {
  const std::size_t n = want_matched.size(), m = have_matched.size();
  if (n * m <= 16u * 1024u * 1024u) {
    std::vector<std::uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t & { return lcs[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;)
      for (std::size_t j = m; j-- > 0;)
        at(i, j) = want_keys.same(i, have_keys, j) ? at(i + 1, j + 1) + 1
                                                 : std::max(at(i + 1, j), at(i, j + 1));
    for (std::size_t i = 0, j = 0; i < n && j < m;) {
      if (want_keys.same(i, have_keys, j)) {
        want_matched[i] = have_matched[j] = true;
        ++i;
        ++j;
      } else if (at(i + 1, j) >= at(i, j + 1)) {
        ++i;
      } else {
        ++j;
      }
    }
  }
}

} // namespace

// The rules of one chain we own, desired against live.  Order matters: the
// longest common subsequence of the two rule lists is "in place"; of the
// rest, a rule on both sides moved, a rule whose twin differs only in set
// members changed, the others are missing or extra.
void compare_chain(Family family, const std::string &chain, const std::vector<Args> &want,
                   const SetMembers &want_sets, const std::vector<const FwRule *> &have,
                   const Context &ctx, const std::set<std::string> &vm_chains,
                   std::vector<Difference> &out) {
  const Role role = role_of(family, chain);
  const std::string table = table_name(family);
  const bool ipv6 = family == Family::ip6tables;
  Keys want_keys(family, want_sets), have_keys(family, ctx.live_sets);
  for (const auto &args : want)
    want_keys.add(args);
  for (const auto *rule : have)
    have_keys.add(rule->args);

  const std::size_t n = want.size(), m = have.size();
  // The chain as desired word for word (the usual case): all in place.
  bool verbatim = n == m;
  for (std::size_t i = 0; verbatim && i < n; ++i)
    verbatim = want_keys.words(i) == have_keys.words(i);
  if (verbatim)
    return;
  std::vector<bool> want_matched(n, false), have_matched(m, false);
  match_in_sequence(want_keys, have_keys, want_matched, have_matched);

  // Moved: the same rule on both sides, not in sequence.
  for (std::size_t i = 0; i < n; ++i) {
    if (want_matched[i])
      continue;
    for (std::size_t j = 0; j < m; ++j)
      if (!have_matched[j] && want_keys.same(i, have_keys, j)) {
        want_matched[i] = have_matched[j] = true;
        out.push_back({DiffKind::changed, table, chain, readable(role, want[i], want_sets, ipv6), want[i],
                       "at position " + std::to_string(j + 1) + " instead of " +
                           std::to_string(i + 1)});
        break;
      }
  }
  // Changed: the same rule but for the members of its set.
  std::vector<std::optional<std::string>> have_shapes(m);
  auto have_shape = [&](std::size_t j) -> const std::string & {
    if (!have_shapes[j])
      have_shapes[j] = rule_key(family, have[j]->args, ctx.live_sets, true);
    return *have_shapes[j];
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (want_matched[i])
      continue;
    const std::string shape = rule_key(family, want[i], want_sets, true);
    for (std::size_t j = 0; j < m; ++j) {
      if (have_matched[j] || have_shape(j) != shape)
        continue;
      want_matched[i] = have_matched[j] = true;
      const std::size_t ws = set_name_index(want[i]);
      const std::size_t hs = set_name_index(have[j]->args);
      std::string detail;
      if (ws != std::string::npos && hs != std::string::npos) {
        const std::string &live_set = have[j]->args[hs];
        auto live = ctx.live_sets.find(live_set);
        auto wanted = want_sets.find(want[i][ws]);
        if (live == ctx.live_sets.end())
          detail = "set " + live_set + " does not exist";
        else
          detail = "set " + live_set + ": " +
                   member_difference(wanted == want_sets.end() ? std::vector<std::string>{}
                                                               : wanted->second,
                                     live->second);
      }
      out.push_back({DiffKind::changed, table, chain, readable(role, want[i], want_sets, ipv6), want[i],
                     detail});
      break;
    }
  }
  // Changed: a chain ending with another default.
  if (n > 0 && m > 0 && !want_matched[n - 1] && !have_matched[m - 1] &&
      is_unconditional(want[n - 1]) && is_unconditional(have[m - 1]->args)) {
    want_matched[n - 1] = have_matched[m - 1] = true;
    out.push_back({DiffKind::changed, table, chain, join_rule_words(want[n - 1]), want[n - 1],
                   "the chain ends with -j " + target_of(have[m - 1]->args) + " instead"});
  }
  for (std::size_t i = 0; i < n; ++i)
    if (!want_matched[i])
      out.push_back({DiffKind::missing, table, chain, readable(role, want[i], want_sets, ipv6), want[i], ""});
  for (std::size_t j = 0; j < m; ++j) {
    if (have_matched[j])
      continue;
    const bool ours = written_by_us(role, have[j]->args, vm_chains, ctx.live_sets, ipv6);
    out.push_back({ours ? DiffKind::extra : DiffKind::foreign, table, chain,
                   readable(role, have[j]->args, ctx.live_sets, ipv6), have[j]->args,
                   "position " + std::to_string(j + 1)});
  }
}

// Jumps and other rules of ours in chains shared with others: a multiset.
void compare_shared(Family family, const std::vector<SharedRule> &want,
                    const std::vector<const FwRule *> &have, const Context &ctx,
                    const std::function<DiffKind(const FwRule &)> &unmatched_kind,
                    std::vector<Difference> &out) {
  const std::string table = table_name(family);
  std::vector<bool> used(have.size(), false);
  Keys want_keys(family, ctx.live_sets), have_keys(family, ctx.live_sets);
  for (const auto *rule : have)
    have_keys.add(rule->args);
  for (const auto &rule : want) {
    const std::size_t i = want_keys.add(rule.args);
    bool found = false;
    for (std::size_t j = 0; j < have.size() && !found; ++j)
      if (!used[j] && have[j]->chain == rule.chain && want_keys.same(i, have_keys, j))
        used[j] = found = true;
    if (!found)
      out.push_back({DiffKind::missing, table, rule.chain, join_rule_words(rule.args), rule.args, ""});
  }
  for (std::size_t j = 0; j < have.size(); ++j)
    if (!used[j])
      out.push_back({unmatched_kind(*have[j]), table, have[j]->chain, join_rule_words(have[j]->args),
                     have[j]->args, ""});
}

} // namespace vifwall::compare_detail
