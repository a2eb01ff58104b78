// The canonical form of iptables and ip6tables rules (netfilter.hpp's
// canonical_args for Family::iptables and Family::ip6tables): the options
// iptables knows, where each goes (top level, a match, the target), the
// implicit protocol match, and their print order, for canonical_form().
#include "netfilter_internal.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <unordered_map>

#include "text.hpp"

namespace vifwall::netfilter_detail {

namespace {

// Options of the matches we know, to tell which match an option belongs to
// when a user typed `-p udp -m physdev --physdev-in v --dport 53`.
const std::map<std::string, std::set<std::string>> &known_match_options() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"tcp", {"--sport", "--source-port", "--dport", "--destination-port",
               "--tcp-flags", "--syn", "--tcp-option"}},
      {"udp", {"--sport", "--source-port", "--dport", "--destination-port"}},
      {"udplite", {"--sport", "--source-port", "--dport", "--destination-port"}},
      {"sctp", {"--sport", "--source-port", "--dport", "--destination-port",
                "--chunk-types"}},
      {"dccp", {"--sport", "--source-port", "--dport", "--destination-port",
                "--dccp-types", "--dccp-option"}},
      {"icmp", {"--icmp-type"}},
      {"icmp6", {"--icmpv6-type"}},
      {"physdev", {"--physdev-in", "--physdev-out", "--physdev-is-in",
                   "--physdev-is-out", "--physdev-is-bridged"}},
      {"set", {"--match-set", "--set", "--return-nomatch", "--update-counters",
               "--update-subcounters", "--packets-eq", "--packets-lt",
               "--packets-gt", "--bytes-eq", "--bytes-lt", "--bytes-gt"}},
      {"state", {"--state"}},
      {"conntrack", {"--ctstate", "--ctproto", "--ctorigsrc", "--ctorigdst",
                     "--ctreplsrc", "--ctrepldst", "--ctorigsrcport",
                     "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport",
                     "--ctstatus", "--ctexpire", "--ctdir"}},
      {"comment", {"--comment"}},
      {"multiport", {"--sports", "--dports", "--ports", "--source-ports",
                     "--destination-ports"}},
      {"mac", {"--mac-source"}},
      {"iprange", {"--src-range", "--dst-range"}},
      {"limit", {"--limit", "--limit-burst"}}};
  return table;
}

// Matches whose result depends on what they saw before (token buckets, lists
// of recent sources, counters): moving one changes what the rule does, so
// canonical ordering never moves matches across them.
bool is_order_sensitive_match(const std::string &name) {
  static const std::set<std::string> names = {
      "limit", "hashlimit", "recent", "statistic", "quota",
      "quota2", "connlimit", "nfacct", "nth", "random"};
  return names.count(name) != 0;
}

struct Match {
  std::string name;
  std::vector<std::string> strays; // words after `-m NAME` that are no option
  std::vector<OptionGroup> options;
};

void normalize_match(Match &m) {
  static const std::map<std::string, std::string> option_aliases = {
      {"--source-port", "--sport"},       {"--destination-port", "--dport"},
      {"--source-ports", "--sports"},     {"--destination-ports", "--dports"}};
  const bool ports = m.name == "tcp" || m.name == "udp" || m.name == "sctp" ||
                     m.name == "dccp" || m.name == "udplite";
  for (OptionGroup &g : m.options) {
    g.name = alias(g.name, option_aliases);
    if (ports && (g.name == "--sport" || g.name == "--dport")) {
      for (auto &v : g.values)
        v = normalize_port_range(v);
    } else if (m.name == "tcp" && g.name == "--syn") {
      // Stray words after it stay (dropped, two rules would look equal).
      g.name = "--tcp-flags";
      g.values.insert(g.values.begin(), {"FIN,SYN,RST,ACK", "SYN"});
    } else if (m.name == "tcp" && g.name == "--tcp-flags") {
      // Its two values, not stray words after them.
      for (std::size_t k = 0; k < g.values.size() && k < 2; ++k)
        g.values[k] = normalize_tcp_flags(g.values[k]);
    } else if (m.name == "multiport") {
      for (auto &v : g.values)
        v = normalize_port_list(v);
    } else if (m.name == "icmp" && g.name == "--icmp-type") {
      for (auto &v : g.values)
        v = normalize_icmp_type(v, false);
    } else if (m.name == "icmp6" && g.name == "--icmpv6-type") {
      for (auto &v : g.values)
        v = normalize_icmp_type(v, true);
    } else if ((m.name == "state" && g.name == "--state") ||
               (m.name == "conntrack" && g.name == "--ctstate")) {
      for (auto &v : g.values)
        v = normalize_state_list(v);
    } else if (m.name == "set" && (g.name == "--match-set" || g.name == "--set")) {
      g.name = "--match-set"; // ipset 4 era spelling
      if (g.values.size() >= 2)
        g.values[1] = to_lower(g.values[1]);
    } else if (m.name == "mac" && g.name == "--mac-source") {
      for (auto &v : g.values)
        v = normalize_mac_value(v, false);
    } else if (m.name == "conntrack" &&
               (g.name == "--ctorigsrc" || g.name == "--ctorigdst" ||
                g.name == "--ctreplsrc" || g.name == "--ctrepldst")) {
      for (auto &v : g.values)
        v = normalize_address(v);
    }
  }
  sort_groups(m.options);
}

// The target's options in their canonical spelling, the defaults dropped
// (iptables-save does not print them), sorted.
void normalize_target_options(const std::string &target, std::vector<OptionGroup> &options,
                              bool ipv6) {
  std::vector<OptionGroup> out;
  out.reserve(options.size());
  for (OptionGroup &g : options) {
    if (target == "LOG" && g.name == "--log-level" && g.values.size() == 1) {
      static const std::map<std::string, std::string> levels = {
          {"emerg", "0"}, {"alert", "1"}, {"crit", "2"}, {"error", "3"},
          {"err", "3"},   {"warning", "4"}, {"warn", "4"}, {"notice", "5"},
          {"info", "6"},  {"debug", "7"}};
      g.values[0] = alias(to_lower(g.values[0]), levels);
      if (g.values[0] == "4")
        continue; // the default, iptables-save does not print it
    }
    if (target == "REJECT" && g.name == "--reject-with" && g.values.size() == 1) {
      static const std::map<std::string, std::string> v4 = {
          {"net-unreach", "icmp-net-unreachable"},
          {"host-unreach", "icmp-host-unreachable"},
          {"proto-unreach", "icmp-proto-unreachable"},
          {"port-unreach", "icmp-port-unreachable"},
          {"net-prohib", "icmp-net-prohibited"},
          {"host-prohib", "icmp-host-prohibited"},
          {"admin-prohib", "icmp-admin-prohibited"},
          {"tcp-rst", "tcp-reset"}};
      static const std::map<std::string, std::string> v6 = {
          {"no-route", "icmp6-no-route"},
          {"adm-prohibited", "icmp6-adm-prohibited"},
          {"addr-unreach", "icmp6-addr-unreachable"},
          {"port-unreach", "icmp6-port-unreachable"},
          {"tcp-rst", "tcp-reset"}};
      g.values[0] = alias(to_lower(g.values[0]), ipv6 ? v6 : v4);
      if (g.values[0] == (ipv6 ? "icmp6-port-unreachable" : "icmp-port-unreachable"))
        continue; // the default
    }
    out.push_back(std::move(g));
  }
  sort_groups(out);
  options = std::move(out);
}

std::optional<std::size_t> iptables_arity(const std::string &name) {
  // One lookup: this runs for every option of every rule of a host.
  static const std::unordered_map<std::string, std::size_t> arities = {
      {"-f", 0}, {"--fragment", 0}, {"--syn", 0}, {"--physdev-is-in", 0},
      {"--physdev-is-out", 0}, {"--physdev-is-bridged", 0},
      {"--match-set", 2}, {"--tcp-flags", 2},
      {"-s", 1}, {"-d", 1}, {"-i", 1}, {"-o", 1}, {"-p", 1}, {"-m", 1}, {"-j", 1}, {"-g", 1},
      {"--source", 1}, {"--destination", 1}, {"--protocol", 1}, {"--in-interface", 1},
      {"--out-interface", 1}, {"--match", 1}, {"--jump", 1}, {"--goto", 1}};
  const auto found = arities.find(name);
  return found == arities.end() ? std::nullopt : std::optional<std::size_t>(found->second);
}

// An option of one of the protocol matches (tcp, udp, icmp, ...): outside
// its match, it belongs to the one `-p` loads implicitly.
bool is_protocol_option(const std::string &option) {
  // Gathered once: this runs for every option of every rule of a host.
  static const std::set<std::string, std::less<>> all = [] {
    const auto &known = known_match_options();
    std::set<std::string, std::less<>> options;
    for (const char *p : {"tcp", "udp", "icmp", "icmp6", "sctp", "dccp", "udplite"})
      options.insert(known.at(p).begin(), known.at(p).end());
    return options;
  }();
  return all.count(option) > 0;
}

bool is_top_level_option(const std::string &name) {
  return name == "-s" || name == "-d" || name == "-i" || name == "-o" || name == "-p" ||
         name == "-f";
}

// Top-level options in print order; the defaults (`-s 0.0.0.0/0`, `-i +`,
// `-p all`) dropped.  Only the first value of each is the option's; more
// (stray words) are kept as they are, and keep the option from being
// dropped as a default.  Returns the protocol of the first `-p` that is not
// negated ("" if none).
std::string normalize_top_level(std::vector<OptionGroup> &top, bool ipv6) {
  static const std::array<std::string_view, 6> top_order = {"-s", "-d", "-i", "-o", "-p", "-f"};
  auto top_rank = [](const OptionGroup &g) {
    return std::find(top_order.begin(), top_order.end(), g.name) - top_order.begin();
  };
  std::stable_sort(top.begin(), top.end(), [&](const OptionGroup &a, const OptionGroup &b) {
    return top_rank(a) < top_rank(b);
  });
  std::string protocol;
  bool protocol_seen = false;
  top.erase(std::remove_if(top.begin(), top.end(), [&](OptionGroup &g) {
    const bool single = g.values.size() == 1;
    if (g.name == "-s" || g.name == "-d") {
      if (g.values.empty())
        g.values.emplace_back(); // `--src` read without a value: as `-s ""`
      auto parts = split_on(g.values[0], ',');
      for (auto &p : parts)
        p = normalize_address(p);
      g.values[0] = join_on(parts, ',');
      return !g.negated && single && is_any_address(g.values[0]);
    }
    if (g.name == "-i" || g.name == "-o")
      return !g.negated && single && g.values[0] == "+";
    if (g.name == "-p" && !g.values.empty()) {
      g.values[0] = normalize_ip_protocol(g.values[0], ipv6);
      if (!g.negated && single && g.values[0] == "all")
        return true;
      if (!g.negated && !protocol_seen) {
        protocol = g.values[0];
        protocol_seen = true;
      }
    }
    return false;
  }), top.end());
  return protocol;
}

void append_match_words(std::vector<std::string> &out, const Match &m) {
  out.emplace_back("-m");
  out.push_back(m.name);
  out.insert(out.end(), m.strays.begin(), m.strays.end());
  append_words(out, m.options);
}

// Sorts the matches by name and text between order-sensitive ones, which
// stay where they are.
void sort_matches(std::vector<Match> &matches) {
  auto text = [](const Match &m) {
    std::vector<std::string> words;
    append_match_words(words, m);
    return join_rule_words(words);
  };
  auto by_text = [&](const Match &a, const Match &b) {
    if (a.name != b.name)
      return a.name < b.name;
    return text(a) < text(b);
  };
  auto segment = matches.begin();
  for (auto it = matches.begin();; ++it) {
    if (it == matches.end() || is_order_sensitive_match(it->name)) {
      std::stable_sort(segment, it, by_text);
      if (it == matches.end())
        break;
      segment = it + 1;
    }
  }
}

// Printed as the top-level options (-s -d -i -o -p -f, repeats kept), the
// options outside any match (printed after a match they would join it), the
// matches, the target and its options.
class IptablesForm : public RuleForm {
public:
  explicit IptablesForm(bool ipv6) : ipv6_(ipv6) {}

  void place(OptionGroup &&g) override {
    if (g.name == "-m" && !g.values.empty()) {
      std::string name = to_lower(g.values[0]);
      if (name == "icmpv6")
        name = "icmp6";
      matches_.push_back(Match{name, {g.values.begin() + 1, g.values.end()}, {}});
      // `! -m` negates nothing iptables knows; the `!` is kept, not lost.
      dangling_negations += g.negated ? 1 : 0;
      context_ = Context::match;
    } else if ((g.name == "-j" || g.name == "-g") && !g.values.empty() && !target_) {
      target_ = std::move(g);
      context_ = Context::target;
    } else if (g.name == "-j" || g.name == "-g") {
      target_options_.push_back(std::move(g)); // a second target: kept after the first
    } else if (is_top_level_option(g.name)) {
      top_.push_back(std::move(g));
    } else if (context_ == Context::target) {
      (is_protocol_option(g.name) ? orphans_ : target_options_).push_back(std::move(g));
    } else if (context_ == Context::match) {
      place_in_match(std::move(g));
    } else {
      (is_protocol_option(g.name) ? orphans_ : extras_).push_back(std::move(g));
    }
  }

  void print(std::vector<std::string> &out) override {
    const std::string protocol = normalize_top_level(top_, ipv6_);
    add_implicit_match(protocol_match(protocol));
    for (Match &m : matches_)
      normalize_match(m);
    sort_matches(matches_);
    append_words(out, top_);
    append_words(out, extras_);
    for (const Match &m : matches_)
      append_match_words(out, m);
    if (target_) {
      target_->append_words(out);
      normalize_target_options(target_->values[0], target_options_, ipv6_);
    }
    append_words(out, target_options_);
  }

private:
  // An option after `-m NAME`: NAME's, unless NAME is a match we know that
  // has no such option and a protocol match has it (`-p udp -m physdev
  // --physdev-in v --dport 53`).
  void place_in_match(OptionGroup &&g) {
    Match &m = matches_.back();
    const auto &known = known_match_options();
    auto it = known.find(m.name);
    if (it != known.end() && !it->second.count(g.name) && is_protocol_option(g.name))
      orphans_.push_back(std::move(g));
    else
      m.options.push_back(std::move(g));
  }

  // The implicit protocol match iptables-save prints as `-m tcp`: the
  // options of a protocol match written outside it join it (or, without a
  // protocol match to join, stay outside any match); `-p tcp -m tcp` with no
  // tcp option means `-p tcp`.
  void add_implicit_match(const std::string &implicit) {
    if (!orphans_.empty()) {
      if (implicit.empty()) {
        extras_.insert(extras_.end(), std::make_move_iterator(orphans_.begin()),
                       std::make_move_iterator(orphans_.end()));
      } else {
        auto it = std::find_if(matches_.begin(), matches_.end(),
                               [&](const Match &m) { return m.name == implicit; });
        if (it == matches_.end()) {
          matches_.push_back(Match{implicit, {}, {}});
          it = matches_.end() - 1;
        }
        it->options.insert(it->options.end(), std::make_move_iterator(orphans_.begin()),
                           std::make_move_iterator(orphans_.end()));
      }
    }
    matches_.erase(std::remove_if(matches_.begin(), matches_.end(),
                                  [&](const Match &m) {
                                    return !implicit.empty() && m.name == implicit &&
                                           m.options.empty() && m.strays.empty();
                                  }),
                   matches_.end());
  }

  enum class Context { top, match, target };
  bool ipv6_;
  Context context_ = Context::top;
  std::vector<OptionGroup> top_;     // -s -d -i -o -p -f
  std::vector<Match> matches_;
  std::vector<OptionGroup> orphans_; // options of the implicit protocol match
  std::vector<OptionGroup> extras_;  // unknown options outside matches, kept in order
  std::optional<OptionGroup> target_;
  std::vector<OptionGroup> target_options_;
};

} // namespace

std::string canonical_iptables(const std::vector<std::string> &args, bool ipv6) {
  static const AliasMap aliases = {
      {"--source", "-s"},       {"--src", "-s"},          {"--destination", "-d"},
      {"--dst", "-d"},          {"--in-interface", "-i"}, {"--out-interface", "-o"},
      {"--protocol", "-p"},     {"--fragment", "-f"},     {"--match", "-m"},
      {"--jump", "-j"},         {"--goto", "-g"}};
  static const FamilySyntax syntax{{"sdiopjgm", iptables_arity}, aliases};
  IptablesForm form(ipv6);
  return canonical_form(args, syntax, form);
}

} // namespace vifwall::netfilter_detail
