#include "netfilter.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <unordered_map>

#include "protocols.hpp"
#include "text.hpp"

namespace vifwall {

// ---- model lookups -------------------------------------------------------------

namespace {

// Options whose single value is free text and may itself look like an option
// ("--comment -x"): the value is always taken, whatever it looks like.
bool takes_one_text_value(std::string_view option) {
  return option == "--comment" || option == "--log-prefix" ||
         option == "--nflog-prefix" || option == "--ulog-prefix";
}

} // namespace

std::string FwRule::target() const { return std::string(target_name()); }

std::string_view FwRule::target_name() const {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view word = args[i];
    // Values (addresses, ports, names) are most words: one test skips them.
    if (word.size() < 2 || word[0] != '-')
      continue;
    if (word[1] == '-') {
      if (takes_one_text_value(word)) {
        ++i;
        continue;
      }
      if (word == "--jump" || word == "--goto")
        return i + 1 < args.size() ? std::string_view(args[i + 1]) : std::string_view();
      continue;
    }
    if (word[1] == 'j' || word[1] == 'g')
      return word.size() == 2 ? (i + 1 < args.size() ? std::string_view(args[i + 1]) : std::string_view())
                              : word.substr(2);
  }
  return {};
}

const FwChain *FwTable::chain(std::string_view wanted) const {
  for (const FwChain &c : chains)
    if (c.name == wanted)
      return &c;
  return nullptr;
}

std::vector<const FwRule *> FwTable::rules_of(std::string_view wanted) const {
  std::vector<const FwRule *> out;
  for (const FwRule &r : rules)
    if (r.chain == wanted)
      out.push_back(&r);
  return out;
}

const FwTable *FwDump::table(std::string_view wanted) const {
  for (const FwTable &t : tables)
    if (t.name == wanted)
      return &t;
  return nullptr;
}

bool is_nf_tables(const FwDump &dump) {
  // iptables-nft 1.8.0-1.8.2 (Debian 10, RHEL 8) called itself xtables-save.
  return dump.generator.find("nf_tables") != std::string::npos ||
         starts_with(dump.generator, "xtables-");
}

const IpSet *IpsetDump::find(std::string_view wanted) const {
  for (const IpSet &s : sets)
    if (s.name == wanted)
      return &s;
  return nullptr;
}

// ---- words and counters ----------------------------------------------------------

bool is_skippable_line(std::string_view line, FwDump &dump) {
  if (line.empty())
    return true;
  if (line.front() != '#')
    return false;
  const std::string_view body = trim(line.substr(1));
  if (starts_with(body, "Warning:"))
    dump.warnings.emplace_back(body);
  return true;
}

std::optional<std::vector<std::string>> split_rule_words(std::string_view text) {
  std::vector<std::string> words;
  words.reserve(16); // a rule has 5-20 words: no regrowth (each moves every word)
  std::string current;
  bool in_word = false; // true once a word started, even an empty `""`
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() &&
        (text[i + 1] == '"' || text[i + 1] == '\\')) {
      current.push_back(text[++i]);
      in_word = true;
      continue;
    }
    if (c == '"') {
      quoted = !quoted;
      in_word = true;
      continue;
    }
    if (!quoted && (c == ' ' || c == '\t' || c == '\v' || c == '\f')) {
      if (in_word)
        words.push_back(std::move(current));
      current.clear();
      in_word = false;
      continue;
    }
    current.push_back(c);
    in_word = true;
  }
  if (quoted)
    return std::nullopt;
  if (in_word)
    words.push_back(std::move(current));
  return words;
}

std::string join_rule_words(const std::vector<std::string> &words) {
  std::string out;
  for (const std::string &word : words) {
    if (!out.empty())
      out.push_back(' ');
    const bool needs_quotes =
        word.empty() || word.find_first_of(" \t\v\f\"\\") != std::string::npos;
    if (!needs_quotes) {
      out += word;
      continue;
    }
    out.push_back('"');
    for (char c : word) {
      if (c == '"' || c == '\\')
        out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out;
}

std::optional<RuleCounters> parse_bracket_counters(std::string_view text) {
  if (text.size() < 5 || text.front() != '[' || text.back() != ']')
    return std::nullopt;
  text = text.substr(1, text.size() - 2);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  auto packets = parse_u64(text.substr(0, colon));
  auto bytes = parse_u64(text.substr(colon + 1));
  if (!packets || !bytes)
    return std::nullopt;
  return RuleCounters{*packets, *bytes, false};
}

namespace {

// "107K" -> (107000, true); "616" -> (616, false).
std::optional<std::pair<std::uint64_t, bool>> parse_unit_number(std::string_view s) {
  std::uint64_t scale = 1;
  if (!s.empty()) {
    switch (s.back()) {
    case 'K': scale = 1000ULL; break;
    case 'M': scale = 1000ULL * 1000; break;
    case 'G': scale = 1000ULL * 1000 * 1000; break;
    case 'T': scale = 1000ULL * 1000 * 1000 * 1000; break;
    default: break;
    }
  }
  if (scale != 1)
    s.remove_suffix(1);
  auto value = parse_u64(s);
  if (!value || *value > UINT64_MAX / scale)
    return std::nullopt;
  return std::make_pair(*value * scale, scale != 1);
}

} // namespace

std::optional<RuleCounters> parse_listing_count(std::string_view packets,
                                                std::string_view bytes) {
  auto p = parse_unit_number(packets);
  auto b = parse_unit_number(bytes);
  if (!p || !b)
    return std::nullopt;
  return RuleCounters{p->first, b->first, p->second || b->second};
}

// ---- value normalizers used by the canonical forms ----------------------------------

namespace {

std::string lower(std::string_view s) { return to_lower(s); }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> split_on(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = s.find(sep, start);
    parts.emplace_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  return parts;
}

std::string join_on(const std::vector<std::string> &parts, char sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i)
      out.push_back(sep);
    out += parts[i];
  }
  return out;
}

// Prefix length of a contiguous mask, nullopt otherwise.
template <std::size_t N>
std::optional<int> prefix_of_mask(const std::array<unsigned char, N> &mask) {
  int bits = 0;
  std::size_t i = 0;
  for (; i < N && mask[i] == 0xff; ++i)
    bits += 8;
  if (i < N) {
    unsigned char b = mask[i];
    int ones = 0;
    while (b & 0x80) {
      ++ones;
      b = static_cast<unsigned char>(b << 1);
    }
    if (b != 0)
      return std::nullopt;
    bits += ones;
    for (++i; i < N; ++i)
      if (mask[i] != 0)
        return std::nullopt;
  }
  return bits;
}

template <std::size_t N> std::array<unsigned char, N> mask_of_prefix(int bits) {
  std::array<unsigned char, N> mask{};
  for (std::size_t i = 0; i < N; ++i) {
    const int here = std::clamp(bits - static_cast<int>(i) * 8, 0, 8);
    mask[i] = static_cast<unsigned char>(0xff00 >> here);
  }
  return mask;
}

struct AddressForm {
  bool omit_host_prefix = false; // ipset prints hosts without /32
};

// A decimal number of at most `max_digits` digits without a leading zero
// (what inet_pton takes for an IPv4 octet); nullopt otherwise.
std::optional<unsigned> plain_decimal(std::string_view digits, std::size_t max_digits) {
  if (digits.empty() || digits.size() > max_digits || (digits.size() > 1 && digits[0] == '0'))
    return std::nullopt;
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// normalize_address for the common case, `a.b.c.d` or `a.b.c.d/n`, without
// inet_pton/inet_ntop (whose sprintf made `ipset save` of a host's sets the
// slowest parse); nullopt for anything else, which takes the general path.
std::optional<std::string> normalize_ipv4_fast(std::string_view text, bool omit_host_prefix) {
  const auto slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  unsigned prefix = 32;
  if (slash != std::string_view::npos) {
    auto bits = plain_decimal(text.substr(slash + 1), 2);
    if (!bits || *bits > 32)
      return std::nullopt;
    prefix = *bits;
  }
  std::uint32_t value = 0;
  std::size_t start = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const auto dot = octet < 3 ? addr.find('.', start) : addr.size();
    if (dot == std::string_view::npos)
      return std::nullopt;
    auto number = plain_decimal(addr.substr(start, dot - start), 3);
    if (!number || *number > 255)
      return std::nullopt;
    value = value << 8 | *number;
    start = dot + 1;
  }
  if (prefix < 32)
    value &= prefix == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix);
  std::string out;
  out.reserve(18);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += std::to_string((value >> shift) & 0xff);
    if (shift)
      out += '.';
  }
  if (prefix == 32 && omit_host_prefix)
    return out;
  return out + "/" + std::to_string(prefix);
}

// "10.0.0.5/255.255.0.0" -> "10.0.0.0/16", "192.168.1.7" -> "192.168.1.7/32",
// "FD00:1:0::2" -> "fd00:1::2/128".  Anything that is not a numeric address
// (a host name, a range) comes back unchanged.
std::string normalize_address(std::string_view text, AddressForm form = {}) {
  if (auto fast = normalize_ipv4_fast(text, form.omit_host_prefix))
    return std::move(*fast);
  const auto slash = text.find('/');
  const std::string addr(text.substr(0, slash));
  const std::string mask_text =
      slash == std::string_view::npos ? "" : std::string(text.substr(slash + 1));
  const bool v6 = addr.find(':') != std::string::npos;
  const int family = v6 ? AF_INET6 : AF_INET;
  const int full = v6 ? 128 : 32;
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(family, addr.c_str(), bytes.data()) != 1)
    return std::string(text);
  const std::size_t n = v6 ? 16 : 4;

  int prefix = full;
  std::string odd_mask; // a non-contiguous dotted mask, kept as printed
  std::array<unsigned char, 16> mask{};
  if (!mask_text.empty()) {
    if (auto bits = parse_u64(mask_text)) {
      if (*bits > static_cast<std::uint64_t>(full))
        return std::string(text);
      prefix = static_cast<int>(*bits);
    } else {
      std::array<unsigned char, 16> m{};
      if (inet_pton(family, mask_text.c_str(), m.data()) != 1)
        return std::string(text);
      std::optional<int> mask_bits;
      if (v6)
        mask_bits = prefix_of_mask(m);
      else
        mask_bits = prefix_of_mask(std::array<unsigned char, 4>{m[0], m[1], m[2], m[3]});
      if (mask_bits)
        prefix = *mask_bits;
      else {
        mask = m;
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(family, m.data(), buf, sizeof buf);
        odd_mask = buf;
      }
    }
  }
  if (odd_mask.empty()) {
    auto m = mask_of_prefix<16>(prefix);
    std::copy(m.begin(), m.begin() + static_cast<long>(n), mask.begin());
  }
  for (std::size_t i = 0; i < n; ++i)
    bytes[i] &= mask[i];
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family, bytes.data(), buf, sizeof buf);
  std::string out = buf;
  if (!odd_mask.empty())
    return out + "/" + odd_mask;
  if (prefix == full && form.omit_host_prefix)
    return out;
  return out + "/" + std::to_string(prefix);
}

bool is_any_address(const std::string &normalized) {
  return normalized == "0.0.0.0/0" || normalized == "::/0";
}

// "22:22" -> "22", ":1023" -> "0:1023", "1024:" -> "1024:65535".
std::string normalize_port_range(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos)
    return std::string(s);
  std::string low(s.substr(0, colon));
  std::string high(s.substr(colon + 1));
  if (low.empty())
    low = "0";
  if (high.empty())
    high = "65535";
  auto lo = parse_u64(low), hi = parse_u64(high);
  if (lo && hi) {
    low = std::to_string(*lo);
    high = std::to_string(*hi);
  }
  return low == high ? low : low + ":" + high;
}

std::string normalize_port_list(std::string_view s) {
  auto parts = split_on(s, ',');
  for (auto &p : parts)
    p = normalize_port_range(p);
  return join_on(parts, ',');
}

// A protocol as iptables-save prints it: the name where it has one.
std::string normalize_ip_protocol(std::string_view s, bool ipv6) {
  if (auto number = ip_protocol_number(s, ipv6))
    return ip_protocol_name(*number);
  return lower(s);
}

// The match module that `-p PROTO` loads implicitly for its options.
std::string protocol_match(const std::string &protocol) {
  if (protocol == "tcp" || protocol == "udp" || protocol == "icmp" ||
      protocol == "sctp" || protocol == "dccp" || protocol == "udplite")
    return protocol;
  if (protocol == "ipv6-icmp")
    return "icmp6";
  return {};
}

// An ICMP type as iptables-save prints it: "TYPE" or "TYPE/CODE".
std::string normalize_icmp_type(std::string_view s, bool ipv6) {
  if (auto type = icmp_type_code(s, ipv6)) {
    if (type->first < 0)
      return "any";
    return type->second < 0 ? std::to_string(type->first)
                            : std::to_string(type->first) + "/" + std::to_string(type->second);
  }
  // Not a type: kept, with leading zeros of its numbers dropped.
  auto parts = split_on(lower(s), '/');
  for (auto &p : parts)
    if (auto n = parse_u64(p))
      p = std::to_string(*n);
  return join_on(parts, '/');
}

// Conntrack states in the order libxt_state/libxt_conntrack print them.
std::string normalize_state_list(std::string_view s) {
  static const std::vector<std::string> order = {
      "INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"};
  std::vector<std::string> known, unknown;
  std::set<std::string> seen;
  for (const auto &p : split_on(s, ','))
    seen.insert(upper(p));
  for (const auto &o : order)
    if (seen.erase(o))
      known.push_back(o);
  unknown.assign(seen.begin(), seen.end());
  known.insert(known.end(), unknown.begin(), unknown.end());
  return join_on(known, ',');
}

// TCP flag lists in libxt_tcp's print order; "ALL" and "NONE" resolved.
std::string normalize_tcp_flags(std::string_view s) {
  static const char *flags[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
  unsigned bits = 0;
  std::vector<std::string> unknown;
  for (const auto &p : split_on(s, ',')) {
    const std::string f = upper(p);
    if (f == "ALL") {
      bits = 0x3f;
      continue;
    }
    if (f == "NONE")
      continue;
    bool found = false;
    for (unsigned i = 0; i < 6; ++i)
      if (f == flags[i]) {
        bits |= 1u << i;
        found = true;
      }
    if (!found)
      unknown.push_back(f);
  }
  std::vector<std::string> out;
  for (unsigned i = 0; i < 6; ++i)
    if (bits & (1u << i))
      out.push_back(flags[i]);
  out.insert(out.end(), unknown.begin(), unknown.end());
  return out.empty() ? "NONE" : join_on(out, ',');
}

// MAC, MAC/MASK and ebtables' names for MAC/MASK pairs.
std::string normalize_mac_value(std::string_view s, bool ebtables_names) {
  struct Named {
    const char *name, *mac, *mask;
  };
  static const Named named[] = {
      {"Unicast", "00:00:00:00:00:00", "01:00:00:00:00:00"},
      {"Multicast", "01:00:00:00:00:00", "01:00:00:00:00:00"},
      {"Broadcast", "ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff"},
      {"BGA", "01:80:c2:00:00:00", "ff:ff:ff:ff:ff:ff"}};
  if (ebtables_names)
    for (const Named &n : named)
      if (lower(s) == lower(n.name))
        return n.name;
  const auto slash = s.find('/');
  auto mac = normalize_mac(s.substr(0, slash));
  if (!mac)
    return std::string(s);
  std::string mask = "ff:ff:ff:ff:ff:ff";
  if (slash != std::string_view::npos) {
    auto m = normalize_mac(s.substr(slash + 1));
    if (!m)
      return std::string(s);
    mask = *m;
  }
  if (ebtables_names)
    for (const Named &n : named)
      if (*mac == n.mac && mask == n.mask)
        return n.name;
  if (mask == "ff:ff:ff:ff:ff:ff")
    return *mac;
  return *mac + "/" + mask;
}

// /etc/ethertypes names ebtables prints for -p.
std::string normalize_ethertype(std::string_view s) {
  struct Named {
    const char *name;
    unsigned value;
  };
  static const Named named[] = {
      {"IPv4", 0x0800}, {"X25", 0x0805}, {"ARP", 0x0806}, {"FR_ARP", 0x0808},
      {"BPQ", 0x08ff}, {"DEC", 0x6000}, {"DNA_DL", 0x6001}, {"DNA_RC", 0x6002},
      {"DNA_RT", 0x6003}, {"LAT", 0x6004}, {"DIAG", 0x6005}, {"CUST", 0x6006},
      {"SCA", 0x6007}, {"TEB", 0x6558}, {"RAW_FR", 0x6559}, {"RARP", 0x8035},
      {"AARP", 0x80f3}, {"ATALK", 0x809b}, {"802_1Q", 0x8100}, {"IPX", 0x8137},
      {"NetBEUI", 0x8191}, {"IPv6", 0x86dd}, {"PPP", 0x880b}, {"ATMMPOA", 0x884c},
      {"PPP_DISC", 0x8863}, {"PPP_SES", 0x8864}, {"ATMFATE", 0x8884},
      {"LOOP", 0x9000}};
  const std::string l = lower(s);
  if (l == "length")
    return "Length";
  for (const Named &n : named)
    if (l == lower(n.name))
      return n.name;
  unsigned long value = 0;
  char *end = nullptr;
  const std::string text(s);
  value = std::strtoul(text.c_str(), &end, 16);
  if (end == text.c_str() || *end != '\0')
    return text;
  for (const Named &n : named)
    if (n.value == value)
      return n.name;
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04lx", value);
  return buf;
}

// ARP opcodes by the names ebtables and arptables print.
std::string normalize_arp_opcode(std::string_view s) {
  static const char *names[] = {"Request",       "Reply",        "Request_Reverse",
                                "Reply_Reverse", "DRARP_Request", "DRARP_Reply",
                                "DRARP_Error",   "InARP_Request", "ARP_NAK"};
  if (auto n = parse_u64(s)) {
    if (*n >= 1 && *n <= 9)
      return names[*n - 1];
    return std::to_string(*n);
  }
  for (const char *name : names)
    if (lower(s) == lower(name))
      return name;
  return std::string(s);
}

// ---- option groups -----------------------------------------------------------------

// One option with its negation and values: `! --dport 22`.
struct OptionGroup {
  bool negated = false;
  std::string name; // "" for a stray value
  std::vector<std::string> values;

  std::vector<std::string> words() const {
    std::vector<std::string> out;
    if (negated)
      out.push_back("!");
    if (!name.empty())
      out.push_back(name);
    out.insert(out.end(), values.begin(), values.end());
    return out;
  }
  std::string sort_key() const { return name + "\x01" + join_rule_words(values) + (negated ? "\x01!" : ""); }
};

bool looks_like_option(std::string_view word) {
  if (word.size() < 2 || word[0] != '-')
    return false;
  if (word[1] == '-')
    return word.size() > 2 && word[2] != '-';
  return std::isalpha(static_cast<unsigned char>(word[1])) != 0;
}

struct GroupingRules {
  // Short options that take a value and may be glued to it (`-jDROP`).
  std::string glued_short;
  // Exact number of values of an option, when the heuristic "values run up
  // to the next option-like word" is not good enough.
  std::function<std::optional<std::size_t>(const std::string &)> arity;
};

// Splits args into option groups.  A word that is no option joins the
// group before it as one more value (a stray word stays with the option it
// followed, wherever that option is sorted to); words before any option,
// or after a `!` that no option follows, make groups without a name; a `!`
// that negates nothing (the last word, or one before another `!`) makes a
// dangling group (is_dangling_negation).  The canonical forms print groups
// so that splitting the printed text groups it the same way: their output
// must be their own canonical form, and keep every word.
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
        text_value ? std::optional<std::size_t>(1) : rules.arity(word);
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

// The group group_options makes of a `!` that negates nothing.  Printed
// last, since anything printed after it would be negated.
bool is_dangling_negation(const OptionGroup &g) {
  return g.name.empty() && !g.negated && g.values.size() == 1 && g.values[0] == "!";
}

// After an alias (`--in-if` -> `-i`) the option may have a fixed number of
// values its long name was not read with; printed without one, it would take
// the next word when read back, so a missing value is printed as "".
void pad_values(OptionGroup &g, std::size_t count) {
  if (g.values.size() < count)
    g.values.resize(count);
}

std::string alias(const std::string &name,
                  const std::map<std::string, std::string> &aliases) {
  auto it = aliases.find(name);
  return it == aliases.end() ? name : it->second;
}

// `-c P B`, dropped from canonical forms (`! -c` is no counter, and kept).
bool is_counter_option(const OptionGroup &g) {
  return !g.negated && (g.name == "-c" || g.name == "--set-counters") && g.values.size() == 2 &&
         parse_u64(g.values[0]) && parse_u64(g.values[1]);
}

// Sorts option groups: the options in `print_order` first, in that order
// (the order the tool lists them, so canonical strings read naturally), then
// the others by name and value.
void sort_groups(std::vector<OptionGroup> &groups,
                 const std::vector<std::string> &print_order = {}) {
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

void append(std::vector<std::string> &out, const std::vector<std::string> &more) {
  out.insert(out.end(), more.begin(), more.end());
}

// ---- iptables / ip6tables -------------------------------------------------------------

const std::map<std::string, std::string> iptables_aliases = {
    {"--source", "-s"},       {"--src", "-s"},          {"--destination", "-d"},
    {"--dst", "-d"},          {"--in-interface", "-i"}, {"--out-interface", "-o"},
    {"--protocol", "-p"},     {"--fragment", "-f"},     {"--match", "-m"},
    {"--jump", "-j"},         {"--goto", "-g"}};

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
  std::vector<OptionGroup> out;
  for (OptionGroup g : m.options) {
    g.name = alias(g.name, option_aliases);
    const bool ports = m.name == "tcp" || m.name == "udp" || m.name == "sctp" ||
                       m.name == "dccp" || m.name == "udplite";
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
        g.values[1] = lower(g.values[1]);
    } else if (m.name == "mac" && g.name == "--mac-source") {
      for (auto &v : g.values)
        v = normalize_mac_value(v, false);
    } else if (m.name == "conntrack" &&
               (g.name == "--ctorigsrc" || g.name == "--ctorigdst" ||
                g.name == "--ctreplsrc" || g.name == "--ctrepldst")) {
      for (auto &v : g.values)
        v = normalize_address(v);
    }
    out.push_back(std::move(g));
  }
  sort_groups(out);
  m.options = std::move(out);
}

std::vector<OptionGroup> normalize_target_options(const std::string &target,
                                                  std::vector<OptionGroup> options,
                                                  bool ipv6) {
  std::vector<OptionGroup> out;
  for (OptionGroup &g : options) {
    if (target == "LOG" && g.name == "--log-level" && g.values.size() == 1) {
      static const std::map<std::string, std::string> levels = {
          {"emerg", "0"}, {"alert", "1"}, {"crit", "2"}, {"error", "3"},
          {"err", "3"},   {"warning", "4"}, {"warn", "4"}, {"notice", "5"},
          {"info", "6"},  {"debug", "7"}};
      g.values[0] = alias(lower(g.values[0]), levels);
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
      g.values[0] = alias(lower(g.values[0]), ipv6 ? v6 : v4);
      if (g.values[0] == (ipv6 ? "icmp6-port-unreachable" : "icmp-port-unreachable"))
        continue; // the default
    }
    out.push_back(std::move(g));
  }
  sort_groups(out);
  return out;
}

std::string canonical_iptables(const std::vector<std::string> &args, bool ipv6) {
  GroupingRules rules;
  rules.glued_short = "sdiopjgm";
  rules.arity = [](const std::string &name) -> std::optional<std::size_t> {
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
  };
  const auto groups = group_options(args, rules);

  // Printed in this order, which reads back into the same lists: strays
  // first (printed after an option they would become its values), then the
  // top-level options, the options outside any match (printed after a match
  // they would join it), the matches, the target and its options, and a
  // dangling `!` last.
  std::vector<OptionGroup> strays;  // groups without a name (`! x`, leading words)
  std::vector<OptionGroup> top;     // -s -d -i -o -p -f, repeats kept
  std::vector<Match> matches;
  std::vector<OptionGroup> orphans; // options of the implicit protocol match
  std::vector<OptionGroup> extras;  // unknown options outside matches, kept in order
  std::optional<OptionGroup> target;
  std::vector<OptionGroup> target_options;
  std::size_t dangling_negations = 0;
  enum class Context { top, match, target } context = Context::top;

  const auto &known = known_match_options();
  // The options of the protocol matches, gathered once (this runs for every
  // rule of a host's tables).
  static const std::set<std::string, std::less<>> protocol_options = [&] {
    std::set<std::string, std::less<>> all;
    for (const char *p : {"tcp", "udp", "icmp", "icmp6", "sctp", "dccp", "udplite"})
      all.insert(known.at(p).begin(), known.at(p).end());
    return all;
  }();
  auto is_protocol_option = [&](const std::string &option) { return protocol_options.count(option) > 0; };

  for (OptionGroup g : groups) {
    if (is_dangling_negation(g)) {
      ++dangling_negations;
      continue;
    }
    g.name = alias(g.name, iptables_aliases);
    if (is_counter_option(g))
      continue;
    if (g.name.empty()) {
      strays.push_back(std::move(g));
    } else if (g.name == "-m" && !g.values.empty()) {
      std::string name = lower(g.values[0]);
      if (name == "icmpv6")
        name = "icmp6";
      matches.push_back(Match{name, {g.values.begin() + 1, g.values.end()}, {}});
      // `! -m` negates nothing iptables knows; the `!` is kept, not lost.
      dangling_negations += g.negated ? 1 : 0;
      context = Context::match;
    } else if ((g.name == "-j" || g.name == "-g") && !g.values.empty() && !target) {
      target = std::move(g);
      context = Context::target;
    } else if (g.name == "-j" || g.name == "-g") {
      target_options.push_back(std::move(g)); // a second target: kept after the first
    } else if (g.name == "-s" || g.name == "-d" || g.name == "-i" ||
               g.name == "-o" || g.name == "-p" || g.name == "-f") {
      top.push_back(std::move(g));
    } else if (context == Context::target) {
      if (is_protocol_option(g.name))
        orphans.push_back(std::move(g));
      else
        target_options.push_back(std::move(g));
    } else if (context == Context::match) {
      Match &m = matches.back();
      auto it = known.find(m.name);
      if (it != known.end() && !it->second.count(g.name) && is_protocol_option(g.name))
        orphans.push_back(std::move(g));
      else
        m.options.push_back(std::move(g));
    } else if (is_protocol_option(g.name)) {
      orphans.push_back(std::move(g));
    } else {
      extras.push_back(std::move(g));
    }
  }

  // Top-level values: only the first value of each is the option's; more
  // (stray words) are kept as they are, and keep the option from being
  // dropped as a default.
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

  // The implicit protocol match iptables-save prints as `-m tcp`.
  const std::string implicit = protocol_match(protocol);
  if (!orphans.empty()) {
    if (implicit.empty()) {
      extras.insert(extras.end(), orphans.begin(), orphans.end());
    } else {
      auto it = std::find_if(matches.begin(), matches.end(),
                             [&](const Match &m) { return m.name == implicit; });
      if (it == matches.end()) {
        matches.push_back(Match{implicit, {}, {}});
        it = matches.end() - 1;
      }
      it->options.insert(it->options.end(), orphans.begin(), orphans.end());
    }
  }
  // `-p tcp -m tcp` with no tcp option means `-p tcp`.
  matches.erase(std::remove_if(matches.begin(), matches.end(),
                               [&](const Match &m) {
                                 return !implicit.empty() && m.name == implicit &&
                                        m.options.empty() && m.strays.empty();
                               }),
                matches.end());

  for (Match &m : matches)
    normalize_match(m);
  auto match_words = [](const Match &m) {
    std::vector<std::string> out = {"-m", m.name};
    append(out, m.strays);
    for (const auto &g : m.options)
      append(out, g.words());
    return out;
  };
  // Sort the matches between order-sensitive ones.
  auto by_text = [&](const Match &a, const Match &b) {
    if (a.name != b.name)
      return a.name < b.name;
    return join_rule_words(match_words(a)) < join_rule_words(match_words(b));
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

  std::vector<std::string> out;
  for (const auto &g : strays)
    append(out, g.words());
  for (const auto &g : top)
    append(out, g.words());
  for (const auto &g : extras)
    append(out, g.words());
  for (const Match &m : matches)
    append(out, match_words(m));
  if (target) {
    append(out, target->words());
    for (const auto &g :
         normalize_target_options(target->values[0], target_options, ipv6))
      append(out, g.words());
  } else {
    for (const auto &g : target_options)
      append(out, g.words());
  }
  out.insert(out.end(), dangling_negations, "!");
  return join_rule_words(out);
}

// ---- ebtables --------------------------------------------------------------------------

std::string canonical_ebtables(const std::vector<std::string> &args) {
  static const std::map<std::string, std::string> aliases = {
      {"--proto", "-p"},           {"--protocol", "-p"},
      {"--source", "-s"},          {"--src", "-s"},
      {"--destination", "-d"},     {"--dst", "-d"},
      {"--in-interface", "-i"},    {"--in-if", "-i"},
      {"--out-interface", "-o"},   {"--out-if", "-o"},
      {"--jump", "-j"},            {"--ip-source", "--ip-src"},
      {"--ip-destination", "--ip-dst"}, {"--ip-protocol", "--ip-proto"},
      {"--ip-source-port", "--ip-sport"}, {"--ip-destination-port", "--ip-dport"},
      {"--ip6-source", "--ip6-src"}, {"--ip6-destination", "--ip6-dst"},
      {"--ip6-protocol", "--ip6-proto"}, {"--ip6-source-port", "--ip6-sport"},
      {"--ip6-destination-port", "--ip6-dport"}, {"--arp-opcode", "--arp-op"}};
  GroupingRules rules;
  rules.glued_short = "psdioj";
  rules.arity = [](const std::string &name) -> std::optional<std::size_t> {
    if (name == "-j" || name == "--jump" || name == "-p" || name == "-s" ||
        name == "-d" || name == "-i" || name == "-o")
      return 1;
    return std::nullopt;
  };
  // Options that stay matches even when written after -j (ebtables reads
  // its command line in any order); everything else after -j belongs to
  // the target (`--mark-set`, `--to-destination`, `--arpreply-mac`, ...).
  auto is_match_option = [](const std::string &name) {
    if (name.size() == 2)
      return true; // -p -s -d -i -o ...
    for (const char *prefix : {"--ip-", "--ip6-", "--arp-", "--vlan-", "--802_3-",
                               "--among-", "--pkttype-", "--stp-", "--limit",
                               "--log", "--nflog", "--ulog", "--logical-"})
      if (starts_with(name, prefix))
        return true;
    return name == "--mark" || name == "--mark_m";
  };

  // Printed as strays (groups without a name: printed after an option they
  // would become its values), matches, target, target options, dangling `!`.
  std::vector<OptionGroup> strays, matches, target_options;
  std::optional<OptionGroup> target;
  std::size_t dangling_negations = 0;
  for (OptionGroup g : group_options(args, rules)) {
    if (is_dangling_negation(g)) {
      ++dangling_negations;
      continue;
    }
    g.name = alias(g.name, aliases);
    if (is_counter_option(g))
      continue;
    if (g.name.empty()) {
      strays.push_back(std::move(g));
      continue;
    }
    if (g.name == "-p" || g.name == "-s" || g.name == "-d" || g.name == "-i" ||
        g.name == "-o" || g.name == "-j")
      pad_values(g, 1); // long aliases are read without a fixed arity
    if (g.name == "-j" && !target) {
      target = std::move(g);
      continue;
    }
    if (g.name == "-j" || (target && !is_match_option(g.name))) {
      target_options.push_back(std::move(g)); // a second -j stays after the first
      continue;
    }
    if (g.name == "-p") {
      for (auto &v : g.values)
        v = normalize_ethertype(v);
    } else if (g.name == "-s" || g.name == "-d") {
      for (auto &v : g.values)
        v = normalize_mac_value(v, true);
    } else if (g.name == "--arp-mac-src" || g.name == "--arp-mac-dst") {
      for (auto &v : g.values)
        v = normalize_mac_value(v, false);
    } else if (g.name == "--ip-src" || g.name == "--ip-dst" ||
               g.name == "--arp-ip-src" || g.name == "--arp-ip-dst" ||
               g.name == "--ip6-src" || g.name == "--ip6-dst") {
      for (auto &v : g.values)
        v = normalize_address(v);
    } else if (g.name == "--ip-proto" || g.name == "--ip6-proto") {
      for (auto &v : g.values)
        v = normalize_ip_protocol(v, g.name == "--ip6-proto");
    } else if (g.name == "--ip-sport" || g.name == "--ip-dport" ||
               g.name == "--ip6-sport" || g.name == "--ip6-dport") {
      for (auto &v : g.values)
        v = normalize_port_range(v);
    } else if (g.name == "--arp-op") {
      for (auto &v : g.values)
        v = normalize_arp_opcode(v);
    }
    matches.push_back(std::move(g));
  }
  sort_groups(matches, {"-p", "-s", "-d", "-i", "-o", "--logical-in", "--logical-out"});
  sort_groups(target_options);
  std::vector<std::string> out;
  for (const auto &g : strays)
    append(out, g.words());
  for (const auto &g : matches)
    append(out, g.words());
  append(out, target ? target->words() : std::vector<std::string>{"-j", "CONTINUE"});
  for (const auto &g : target_options)
    append(out, g.words());
  out.insert(out.end(), dangling_negations, "!");
  return join_rule_words(out);
}

// ---- arptables -------------------------------------------------------------------------

std::string canonical_arptables(const std::vector<std::string> &args) {
  static const std::map<std::string, std::string> aliases = {
      {"--in-interface", "-i"},   {"--out-interface", "-o"},
      {"--source-ip", "-s"},      {"--destination-ip", "-d"},
      {"--src-ip", "-s"},         {"--dst-ip", "-d"},
      {"--source-mac", "--src-mac"}, {"--destination-mac", "--dst-mac"},
      {"-l", "--h-length"},       {"--jump", "-j"}};
  static const std::set<std::string> match_options = {
      "-i", "-o", "-s", "-d", "--src-mac", "--dst-mac",
      "--h-length", "--opcode", "--h-type", "--proto-type"};
  GroupingRules rules;
  rules.glued_short = "sdiojl";
  rules.arity = [](const std::string &name) -> std::optional<std::size_t> {
    // --h-length too: `-l-d` prints as `--h-length -d`, which must read back
    // as one option with the value `-d`.
    if (name == "-j" || name == "--jump" || name == "-s" || name == "-d" ||
        name == "-i" || name == "-o" || name == "-l" || name == "--h-length")
      return 1;
    return std::nullopt;
  };

  // Printed as strays (groups without a name: printed after an option they
  // would become its values), matches, target, target options, dangling `!`.
  std::vector<OptionGroup> strays, matches, target_options;
  std::optional<OptionGroup> target;
  std::size_t dangling_negations = 0;
  for (OptionGroup g : group_options(args, rules)) {
    if (is_dangling_negation(g)) {
      ++dangling_negations;
      continue;
    }
    g.name = alias(g.name, aliases);
    if (is_counter_option(g))
      continue;
    if (g.name.empty()) {
      strays.push_back(std::move(g));
      continue;
    }
    if (g.name == "-s" || g.name == "-d" || g.name == "-i" || g.name == "-o" ||
        g.name == "-j")
      pad_values(g, 1); // long aliases are read without a fixed arity
    if (g.name == "-j" && !target) {
      target = std::move(g);
      continue;
    }
    if (!match_options.count(g.name)) { // target options, also a second -j
      if (g.name == "--mangle-mac-s" || g.name == "--mangle-mac-d")
        for (auto &v : g.values)
          v = normalize_mac_value(v, false);
      if (g.name == "--mangle-ip-s" || g.name == "--mangle-ip-d")
        for (auto &v : g.values)
          v = normalize_address(v);
      target_options.push_back(std::move(g));
      continue;
    }
    // Defaults are dropped only when nothing else (a stray word) came with
    // them: a dropped word would make two different rules look equal.
    const std::string value = g.values.size() == 1 ? g.values[0] : "";
    if ((g.name == "-i" || g.name == "-o") && !g.negated &&
        (value == "any" || value == "*"))
      continue; // -v prints an unset interface as `any` (`*` with -n)
    if (g.name == "--h-length" && !g.negated && value == "6")
      continue;
    if (g.name == "-s" || g.name == "-d") {
      for (auto &v : g.values)
        v = normalize_address(v);
    } else if (g.name == "--src-mac" || g.name == "--dst-mac") {
      for (auto &v : g.values)
        v = normalize_mac_value(v, false);
    } else if (g.name == "--opcode") {
      for (auto &v : g.values)
        v = normalize_arp_opcode(v);
    } else if (g.name == "--h-type" || g.name == "--proto-type") {
      for (auto &v : g.values) {
        const std::string l = lower(v);
        if (g.name == "--h-type" && l == "ethernet")
          v = "1";
        else if (g.name == "--proto-type" && l == "ipv4")
          v = "0x800";
        else {
          char *end = nullptr;
          const bool hex = starts_with(l, "0x") || g.name == "--proto-type";
          const unsigned long n = std::strtoul(l.c_str(), &end, hex ? 16 : 10);
          if (end != l.c_str() && *end == '\0') {
            char buf[24];
            std::snprintf(buf, sizeof buf, g.name == "--proto-type" ? "0x%lx" : "%lu", n);
            v = buf;
          }
        }
      }
    }
    matches.push_back(std::move(g));
  }
  sort_groups(matches, {"-i", "-o", "-s", "-d", "--src-mac", "--dst-mac", "--h-length",
                        "--opcode", "--h-type", "--proto-type"});
  sort_groups(target_options);
  std::vector<std::string> out;
  for (const auto &g : strays)
    append(out, g.words());
  for (const auto &g : matches)
    append(out, g.words());
  if (target)
    append(out, target->words());
  for (const auto &g : target_options)
    append(out, g.words());
  out.insert(out.end(), dangling_negations, "!");
  return join_rule_words(out);
}

} // namespace

std::string canonical_args(Family family, const std::vector<std::string> &args) {
  switch (family) {
  case Family::iptables:
    return canonical_iptables(args, false);
  case Family::ip6tables:
    return canonical_iptables(args, true);
  case Family::ebtables:
    return canonical_ebtables(args);
  case Family::arptables:
    return canonical_arptables(args);
  }
  return join_rule_words(args);
}

std::string canonical_rule(Family family, const FwRule &rule) {
  return canonical_args(family, rule.args);
}

// ---- ipset members ------------------------------------------------------------------------

std::string normalize_ipset_member(std::string_view type, std::string_view elem) {
  std::vector<std::string> dims;
  const auto colon = type.find(':');
  if (colon != std::string_view::npos)
    dims = split_on(type.substr(colon + 1), ',');
  auto parts = split_on(elem, ',');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string dim = i < dims.size() ? dims[i] : "";
    std::string &p = parts[i];
    if (dim == "ip" || dim == "net") {
      if (p.find('-') == std::string::npos) // ranges stay as printed
        p = normalize_address(p, AddressForm{true});
    } else if (dim == "port") {
      const auto sep = p.find(':');
      if (sep == std::string::npos && !p.empty() &&
          std::isdigit(static_cast<unsigned char>(p[0])))
        p = "tcp:" + p; // ipset's default protocol
      else if (sep != std::string::npos)
        p = lower(p.substr(0, sep)) + ":" + p.substr(sep + 1);
    } else if (dim == "mac") {
      p = normalize_mac_value(p, false);
    }
  }
  return join_on(parts, ',');
}

} // namespace vifwall
