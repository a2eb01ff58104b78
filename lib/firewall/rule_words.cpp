// Lexing the xtables dumps (netfilter.hpp): rule words as iptables-restore
// splits and quotes them, the lines the parsers skip, and packet/byte
// counters in their bracket and listing spellings.
#include "netfilter.hpp"

#include <cstdint>
#include <utility>

#include "text.hpp"

namespace vifwall {

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

} // namespace vifwall
