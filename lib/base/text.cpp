#include "text.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <limits>

namespace vifwall {

std::string clean_text(std::string_view raw) {
  // CRs go first, so that "C2 CR A0" cleans to the same text as a second
  // pass over the result would (clean_text(clean_text(x)) == clean_text(x)).
  std::string without_cr;
  std::string_view text = raw;
  if (raw.find('\r') != std::string_view::npos) {
    without_cr.reserve(raw.size());
    for (char c : raw)
      if (c != '\r')
        without_cr.push_back(c);
    text = without_cr;
  }
  std::string out;
  out.reserve(text.size());
  std::size_t run = 0;
  for (std::size_t i = text.find('\xC2'); i != std::string_view::npos && i + 1 < text.size();
       i = text.find('\xC2', i + 1)) {
    if (text[i + 1] != '\xA0')
      continue;
    out.append(text.data() + run, i - run);
    out.push_back(' ');
    run = i + 2;
    ++i;
  }
  out.append(text.data() + run, text.size() - run);
  return out;
}

std::string_view leading_lines(std::string_view text, std::size_t nonblank) {
  std::size_t pos = 0;
  while (pos < text.size() && nonblank > 0) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    bool blank = true;
    for (char c : line)
      if (c != ' ' && c != '\t' && c != '\r' && c != '\v' && c != '\f')
        blank = false;
    if (!blank)
      --nonblank;
    pos = end + 1;
  }
  return text.substr(0, std::min(pos, text.size()));
}

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  std::size_t number = 1;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    lines.push_back(Line{text.substr(start, end - start), number++});
    start = end + 1;
  }
  return lines;
}

static bool is_blank_char(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

std::vector<std::string_view> split_blanks(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_blank_char(s[i]))
      ++i;
    std::size_t start = i;
    while (i < s.size() && !is_blank_char(s[i]))
      ++i;
    if (i > start)
      words.push_back(s.substr(start, i - start));
  }
  return words;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank_char(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && (is_blank_char(s.back()) || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

bool is_blank(std::string_view s) { return trim(s).empty(); }

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20)
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<std::int64_t> parse_i64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  auto magnitude = parse_u64(s);
  if (!magnitude)
    return std::nullopt;
  constexpr auto max = static_cast<std::uint64_t>(
      std::numeric_limits<std::int64_t>::max());
  if (*magnitude > max + (negative ? 1 : 0))
    return std::nullopt;
  if (negative)
    return static_cast<std::int64_t>(0 - *magnitude);
  return static_cast<std::int64_t>(*magnitude);
}

std::optional<std::string> normalize_mac(std::string_view s) {
  static const char *hex = "0123456789abcdef";
  std::string out;
  int octets = 0;
  std::size_t i = 0;
  while (true) {
    unsigned value = 0;
    int digits = 0;
    while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) {
      if (++digits > 2)
        return std::nullopt;
      const char c =
          static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
      value = value * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
      ++i;
    }
    if (digits == 0)
      return std::nullopt;
    if (!out.empty())
      out.push_back(':');
    out.push_back(hex[value >> 4]);
    out.push_back(hex[value & 15]);
    ++octets;
    if (i == s.size())
      break;
    if (octets == 6 || (s[i] != ':' && s[i] != '-'))
      return std::nullopt;
    ++i;
  }
  if (octets != 6)
    return std::nullopt;
  return out;
}

std::string quote_for_error(std::string_view s, std::size_t max) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (char c : s) {
    if (shown++ == max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      static const char *hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    } else
      out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string shell_quote(std::string_view word) {
  const bool plain =
      !word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789-_./:=,+@%") == std::string_view::npos;
  if (plain)
    return std::string(word);
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string join_shell_words(const std::vector<std::string> &words) {
  std::string out;
  for (const auto &word : words) {
    if (!out.empty())
      out.push_back(' ');
    out += shell_quote(word);
  }
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool natural_less(const std::string &a, const std::string &b) {
  std::size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t ei = i, ej = j;
      while (ei < a.size() && digit(a[ei]))
        ++ei;
      while (ej < b.size() && digit(b[ej]))
        ++ej;
      std::string_view na(a.data() + i, ei - i), nb(b.data() + j, ej - j);
      while (na.size() > 1 && na.front() == '0')
        na.remove_prefix(1);
      while (nb.size() > 1 && nb.front() == '0')
        nb.remove_prefix(1);
      if (na.size() != nb.size())
        return na.size() < nb.size();
      if (na != nb)
        return na < nb;
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j])
        return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::optional<std::vector<std::string>> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\'' || c == '"') {
      in_word = true;
      const char quote = c;
      bool closed = false;
      for (++i; i < line.size(); ++i) {
        if (line[i] == quote) {
          closed = true;
          break;
        }
        if (quote == '"' && line[i] == '\\' && i + 1 < line.size() &&
            (line[i + 1] == '"' || line[i + 1] == '\\'))
          ++i;
        word.push_back(line[i]);
      }
      if (!closed)
        return std::nullopt;
    } else if (c == '\\' && i + 1 < line.size()) {
      in_word = true;
      word.push_back(line[++i]);
    } else if (is_blank_char(c)) {
      if (in_word)
        words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      in_word = true;
      word.push_back(c);
    }
  }
  if (in_word)
    words.push_back(std::move(word));
  return words;
}

std::string compact_count(std::uint64_t value, bool bytes) {
  const double base = bytes ? 1024.0 : 1000.0;
  static const std::array<const char *, 7> byte_units{"", "K", "M", "G", "T", "P", "E"};
  static const std::array<const char *, 7> count_units{"", "k", "M", "G", "T", "P", "E"};
  if (value < 1000)
    return std::to_string(value);
  double scaled = static_cast<double>(value);
  std::size_t unit = 0;
  while (scaled >= 999.5 && unit + 1 < byte_units.size()) {
    scaled /= base;
    ++unit;
  }
  char buffer[32];
  const char *suffix = bytes ? byte_units[unit] : count_units[unit];
  if (scaled < 9.95)
    std::snprintf(buffer, sizeof buffer, "%.1f%s", scaled, suffix);
  else
    std::snprintf(buffer, sizeof buffer, "%.0f%s", scaled, suffix);
  return buffer;
}

std::string counted(std::uint64_t count, std::string_view singular, std::string_view plural) {
  std::string out = std::to_string(count);
  out.push_back(' ');
  if (count == 1)
    out += singular;
  else if (!plural.empty())
    out += plural;
  else
    (out += singular) += 's';
  return out;
}

std::string join_strings(const std::vector<std::string> &items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += separator;
    out += items[i];
  }
  return out;
}

namespace {

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The length of the MAC at text[at] (six groups of 1-2 hex digits), or 0.
std::size_t mac_length_at(std::string_view text, std::size_t at) {
  std::size_t i = at;
  for (int group = 0; group < 6; ++group) {
    if (group > 0) {
      if (i >= text.size() || text[i] != ':')
        return 0;
      ++i;
    }
    std::size_t digits = 0;
    while (i < text.size() && is_hex_digit(text[i]) && digits < 3) {
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 2)
      return 0;
  }
  if (i < text.size() && (text[i] == ':' || is_hex_digit(text[i])))
    return 0;
  return i - at;
}

} // namespace

std::string normalize_macs_in(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  std::size_t i = 0;
  while (i < text.size()) {
    const bool boundary = i == 0 || (text[i - 1] != ':' && !is_hex_digit(text[i - 1]));
    const std::size_t length = boundary && is_hex_digit(text[i]) ? mac_length_at(text, i) : 0;
    if (length == 0) {
      out.push_back(text[i++]);
      continue;
    }
    if (auto mac = normalize_mac(text.substr(i, length)))
      out += *mac;
    else
      out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

} // namespace vifwall

