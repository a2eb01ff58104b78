// Lexing the xtables dumps (netfilter.hpp): rule words as iptables-restore
// splits and quotes them, the lines the parsers skip, and packet/byte
// counters in their bracket and listing spellings.
#include "netfilter.hpp"
#include "rule_words.hpp"

#include <array>
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

namespace {

bool is_rule_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

// The bytes a plain word ends at: the blanks, `"` and `\`.
constexpr std::array<bool, 256> word_end_table() {
  std::array<bool, 256> table{};
  for (const char c : {' ', '\t', '\v', '\f', '"', '\\'})
    table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kWordEnd = word_end_table();

// The rest of a word from its first `"` or `\` at text[i], unescaped onto
// `storage`; i ends on the blank after it (or the end).  False when a quote
// is left open.
bool unescape_word(std::string_view text, std::size_t &i, std::string &storage) {
  bool quoted = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
      storage.push_back(text[++i]);
      continue;
    }
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && is_rule_blank(c))
      break;
    storage.push_back(c);
  }
  return !quoted;
}

} // namespace

bool split_rule_word_views(std::string_view text, std::vector<std::string_view> &words,
                           std::string &storage) {
  words.clear();
  storage.clear();
  const std::size_t n = text.size();
  std::size_t i = 0;
  for (;;) {
    while (i < n && is_rule_blank(text[i]))
      ++i;
    if (i == n)
      return true;
    const std::size_t start = i;
    while (i < n && !kWordEnd[static_cast<unsigned char>(text[i])])
      ++i;
    if (i == n || is_rule_blank(text[i])) {
      words.push_back(text.substr(start, i - start)); // the common case: no copy
      continue;
    }
    // Unescaped words never add up to more than the line: reserved before
    // the first one, storage does not move under the views taken of it.
    if (storage.capacity() < n)
      storage.reserve(n);
    const std::size_t from = storage.size();
    storage.append(text, start, i - start);
    if (!unescape_word(text, i, storage))
      return false;
    words.emplace_back(storage.data() + from, storage.size() - from);
  }
}

std::optional<std::vector<std::string>> split_rule_words(std::string_view text) {
  thread_local RuleWordSplitter splitter; // its buffers, kept from call to call
  if (!splitter.split(text))
    return std::nullopt;
  return std::vector<std::string>(splitter.words.begin(), splitter.words.end());
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
