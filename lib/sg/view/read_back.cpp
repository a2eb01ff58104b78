// Reading a rule back: the words of an ingress or egress chain's rule turned
// into the security-group rule they mean (protocol, ports or ICMP type, the
// peers from an address or a set), or left raw when they are not the shape
// sg-apply and CloudStack write.
#include <set>

#include "protocols.hpp"
#include "rule_match.hpp"
#include "sg_view.hpp"
#include "text.hpp"

namespace vifwall {

using view_detail::Args;
using view_detail::option_value;
using view_detail::SetMatch;

namespace {

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

// What a rule's words match, when every word is one a security-group rule
// uses (`ok`): the protocol, the port or ICMP options, the peer.
struct RuleWords {
  bool ok = true;
  std::string protocol;
  std::optional<std::string> dport;
  std::optional<std::string> icmp;
  std::vector<std::string> addresses; // -s (ingress) or -d (egress), as CIDRs
  std::optional<SetMatch> set;
};

RuleWords scan_words(const Args &args, bool ingress) {
  RuleWords w;
  bool &ok = w.ok;
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
      w.protocol = value();
    } else if (word == "-s" || word == "--source" || word == "-d" || word == "--destination") {
      const bool source = word == "-s" || word == "--source";
      const std::string address = value();
      if (source != ingress)
        ok = false;
      else
        w.addresses.push_back(address.find('/') == std::string::npos ? member_as_cidr(address) : address);
    } else if (word == "-m" || word == "--match") {
      const std::string module = value();
      static const std::set<std::string> kModules = {"tcp", "udp", "icmp", "icmp6", "state",
                                                      "conntrack", "set", "comment"};
      if (!kModules.count(module))
        ok = false;
    } else if (word == "--dport" || word == "--destination-port") {
      w.dport = value();
    } else if (word == "--icmp-type" || word == "--icmpv6-type") {
      w.icmp = value();
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
      w.set = match;
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
  return w;
}

// The protocol and its ports or ICMP type into `sg`; false when they do not
// fit together (ports on ICMP, a type on TCP, an unknown protocol).
bool read_protocol(const RuleWords &w, SgRule &sg, bool ipv6) {
  const auto &dport = w.dport;
  const auto &icmp = w.icmp;
  if (w.protocol.empty() || w.protocol == "all" || w.protocol == "0") {
    sg.protocol = "all";
    return !dport && !icmp;
  }
  auto number = ip_protocol_number(w.protocol, ipv6);
  if (!number)
    return false;
  if (*number == 6 || *number == 17) {
    sg.protocol = *number == 6 ? "tcp" : "udp";
    sg.start = 0;
    sg.end = 65535;
    bool ok = true;
    if (dport) {
      if (auto range = port_range(*dport)) {
        sg.start = range->first;
        sg.end = range->second;
      } else {
        ok = false;
      }
    }
    return ok && !icmp;
  }
  if (*number == (ipv6 ? 58 : 1)) {
    sg.protocol = ipv6 ? "icmpv6" : "icmp";
    sg.start = -1;
    sg.end = -1;
    bool ok = true;
    if (icmp) {
      if (auto type = icmp_type_code(*icmp, ipv6)) {
        sg.start = type->first;
        sg.end = type->second;
      } else {
        ok = false;
      }
    }
    return ok && !dport;
  }
  sg.protocol = std::to_string(*number);
  return !dport && !icmp;
}

// The peers into `sg.cidrs` (and the set into `out`); false when a set
// member carries element options ("nomatch"): not a set of ours.
bool read_peers(const RuleWords &w, const SetMembers &sets, SgRule &sg, ReadBackRule &out,
                bool ipv6) {
  bool ok = true;
  if (w.set) {
    out.set = w.set->name;
    auto found = sets.find(w.set->name);
    if (found == sets.end()) {
      out.set_missing = true;
    } else {
      for (const auto &member : found->second) {
        if (member.find(' ') != std::string::npos)
          ok = false;
        sg.cidrs.push_back(member_as_cidr(member));
      }
    }
  } else if (!w.addresses.empty()) {
    sg.cidrs = w.addresses;
  } else {
    sg.cidrs = {ipv6 ? "::/0" : "0.0.0.0/0"};
  }
  return ok;
}

} // namespace

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
                            const SetMembers &sets, bool ipv6) {
  ReadBackRule out;
  out.direction = direction;
  out.rule.args = args;
  out.target = view_detail::target_of(args);
  const bool ingress = direction == Direction::ingress;

  const RuleWords words = scan_words(args, ingress);
  bool ok = words.ok;
  const std::string &target = out.target;
  if (!(ingress ? target == "ACCEPT" : (target == "RETURN" || target == "ACCEPT")))
    ok = false;
  if (words.set && !words.addresses.empty())
    ok = false;

  SgRule sg;
  sg.direction = direction;
  if (ok)
    ok = read_protocol(words, sg, ipv6);
  if (!read_peers(words, sets, sg, out, ipv6))
    ok = false;
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

std::vector<ReadBackRule> group_cidr_rules(std::vector<ReadBackRule> rules) {
  auto groupable = [](const ReadBackRule &rule) {
    return rule.understood && rule.set.empty() && rule.sg.cidrs.size() == 1 &&
           (option_value(rule.rule.args, {"-s", "--source"}) ||
            option_value(rule.rule.args, {"-d", "--destination"}));
  };
  auto same_kind = [](const ReadBackRule &a, const ReadBackRule &b) {
    return a.sg.protocol == b.sg.protocol && a.sg.start == b.sg.start && a.sg.end == b.sg.end &&
           a.target == b.target && a.direction == b.direction;
  };
  std::vector<ReadBackRule> out;
  for (auto &rule : rules) {
    if (!out.empty() && groupable(rule) && groupable(out.back()) && same_kind(out.back(), rule) &&
        out.back().rule.position + out.back().merged == rule.rule.position) {
      ReadBackRule &into = out.back();
      into.sg.cidrs.push_back(rule.sg.cidrs.front());
      ++into.merged;
      into.text = format_rule_readable(into.sg);
      if (into.rule.counters && rule.rule.counters) {
        into.rule.counters->packets += rule.rule.counters->packets;
        into.rule.counters->bytes += rule.rule.counters->bytes;
        into.rule.counters->approximate = into.rule.counters->approximate || rule.rule.counters->approximate;
      }
      continue;
    }
    out.push_back(std::move(rule));
  }
  return out;
}

} // namespace vifwall
