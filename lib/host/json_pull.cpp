#include "json_pull.hpp"

#include <array>

namespace vifwall {

namespace {

// Bytes a string holds as they are: printable ASCII but `"` and `\`.
constexpr std::array<bool, 256> plain_table() {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x80; ++c)
    table[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return table;
}
constexpr std::array<bool, 256> kPlain = plain_table();

bool is_plain(char c) { return kPlain[static_cast<unsigned char>(c)]; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool in_range(unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; }

void append_utf8(std::string &out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

} // namespace

// One well-formed UTF-8 sequence of 2 to 4 bytes at p_ (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF).
bool JsonPull::skip_utf8() {
  const auto lead = static_cast<unsigned char>(*p_);
  std::size_t more = 0;
  unsigned lo = 0x80, hi = 0xBF; // the range of the first continuation byte
  if (in_range(lead, 0xC2, 0xDF)) {
    more = 1;
  } else if (in_range(lead, 0xE0, 0xEF)) {
    more = 2;
    lo = lead == 0xE0 ? 0xA0 : 0x80;
    hi = lead == 0xED ? 0x9F : 0xBF;
  } else if (in_range(lead, 0xF0, 0xF4)) {
    more = 3;
    lo = lead == 0xF0 ? 0x90 : 0x80;
    hi = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return false;
  }
  if (static_cast<std::size_t>(end_ - p_) <= more)
    return false;
  if (!in_range(static_cast<unsigned char>(p_[1]), lo, hi))
    return false;
  for (std::size_t i = 2; i <= more; ++i)
    if (!in_range(static_cast<unsigned char>(p_[i]), 0x80, 0xBF))
      return false;
  p_ += more + 1;
  return true;
}

bool JsonPull::read_hex4(std::uint32_t &out) {
  if (end_ - p_ < 4)
    return false;
  out = 0;
  for (int i = 0; i < 4; ++i, ++p_) {
    const char c = *p_;
    std::uint32_t digit;
    if (is_digit(c))
      digit = static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      digit = static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      digit = static_cast<std::uint32_t>(c - 'A' + 10);
    else
      return false;
    out = out << 4 | digit;
  }
  return true;
}

bool JsonPull::read_string(std::string_view &out) {
  if (peek() != '"')
    return false;
  const char *start = ++p_;
  while (p_ != end_) {
    if (is_plain(*p_)) {
      ++p_;
      continue;
    }
    const auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      out = std::string_view(start, static_cast<std::size_t>(p_ - start));
      ++p_;
      return true;
    }
    if (c == '\\')
      return finish_escaped_string(start, out);
    if (c < 0x20 || !skip_utf8())
      return false;
  }
  return false; // not closed
}

// The rest of a string from its first backslash at p_, unescaped into
// scratch_ (what came before it from `start`).
bool JsonPull::finish_escaped_string(const char *start, std::string_view &out) {
  scratch_.assign(start, p_);
  while (p_ != end_) {
    const char *run = p_;
    while (p_ != end_ && is_plain(*p_))
      ++p_;
    scratch_.append(run, p_);
    if (p_ == end_)
      return false;
    const auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      out = scratch_;
      return true;
    }
    if (c >= 0x80) {
      run = p_;
      if (!skip_utf8())
        return false;
      scratch_.append(run, p_);
      continue;
    }
    if (c != '\\' || end_ - p_ < 2)
      return false; // a control character, or a cut escape
    ++p_;
    const char escape = *p_++;
    switch (escape) {
    case '"': case '\\': case '/': scratch_.push_back(escape); continue;
    case 'b': scratch_.push_back('\b'); continue;
    case 'f': scratch_.push_back('\f'); continue;
    case 'n': scratch_.push_back('\n'); continue;
    case 'r': scratch_.push_back('\r'); continue;
    case 't': scratch_.push_back('\t'); continue;
    case 'u': break;
    default: return false;
    }
    std::uint32_t cp;
    if (!read_hex4(cp))
      return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
      return false; // a low surrogate alone
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      std::uint32_t low;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u')
        return false;
      p_ += 2;
      if (!read_hex4(low) || low < 0xDC00 || low > 0xDFFF)
        return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(scratch_, cp);
  }
  return false;
}

bool JsonPull::read_unsigned(std::uint64_t &out) {
  if (!is_digit(peek()))
    return false;
  std::uint64_t value = 0;
  const char *start = p_;
  for (; p_ != end_ && is_digit(*p_); ++p_) {
    const auto digit = static_cast<std::uint64_t>(*p_ - '0');
    if (value > (UINT64_MAX - digit) / 10)
      return false;
    value = value * 10 + digit;
  }
  if (*start == '0' && p_ - start > 1)
    return false; // a leading zero
  if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E'))
    return false;
  out = value;
  return true;
}

bool JsonPull::skip_number() {
  if (*p_ == '-')
    ++p_;
  const char *digits = p_;
  while (p_ != end_ && is_digit(*p_))
    ++p_;
  const std::ptrdiff_t count = p_ - digits;
  if (count == 0 || count >= 19 || (*digits == '0' && count > 1))
    return false;
  if (p_ != end_ && *p_ == '.') {
    const char *fraction = ++p_;
    while (p_ != end_ && is_digit(*p_))
      ++p_;
    if (p_ == fraction)
      return false;
  }
  return p_ == end_ || (*p_ != 'e' && *p_ != 'E');
}

bool JsonPull::skip_literal(std::string_view word) {
  if (static_cast<std::size_t>(end_ - p_) < word.size() ||
      std::string_view(p_, word.size()) != word)
    return false;
  p_ += word.size();
  return true;
}

bool JsonPull::read_null() { return peek() == 'n' && skip_literal("null"); }

bool JsonPull::skip_value() {
  stack_.clear();
  for (;;) {
    // A value starts here.
    const char c = peek();
    std::string_view ignored;
    if (c == '[' || c == '{') {
      ++p_;
      const char close = c == '[' ? ']' : '}';
      if (peek() == close) {
        ++p_;
      } else {
        stack_.push_back(close);
        if (close == '}' && !read_key(ignored))
          return false;
        continue;
      }
    } else if (c == '"') {
      if (!read_string(ignored))
        return false;
    } else if (c == '-' || is_digit(c)) {
      if (!skip_number())
        return false;
    } else if (!(c == 't' ? skip_literal("true")
                 : c == 'f' ? skip_literal("false")
                 : c == 'n' && skip_literal("null"))) {
      return false;
    }
    // A value ended: close what it ends, or go on to the next member.
    for (;;) {
      if (stack_.empty())
        return true;
      const char next = peek();
      if (next == ',') {
        ++p_;
        if (stack_.back() == '}' && !read_key(ignored))
          return false;
        break;
      }
      if (next != stack_.back())
        return false;
      ++p_;
      stack_.pop_back();
    }
  }
}

} // namespace vifwall
