// A small strict pull reader over JSON text, for parsers that want a few keys
// of a large document without building it (parse_ip_json: `ip -j -s link` of
// 4000 interfaces is 2 MB, and a DOM of it costs four times the parse).
//
// It has no error messages: every call returns false when the text is not
// what was asked for, and the caller then gives up on the fast path.  So it
// must never accept what a conforming parser (nlohmann::json, which gives the
// messages) refuses; it may refuse valid JSON it has no fast path for (those
// cases are listed at each call).  What it checks, as RFC 8259 and nlohmann:
// blanks are space, tab, LF, CR; strings hold no control characters, only
// well-formed UTF-8 and the escapes \" \\ \/ \b \f \n \r \t \uXXXX (a high
// surrogate only followed by a low one); numbers have no leading zeros; the
// literals are true, false, null.  Nesting is unbounded (no recursion).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vifwall {

class JsonPull {
public:
  explicit JsonPull(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  // The next non-blank character, not consumed; '\0' at the end of input
  // (or at a NUL byte, which nothing here accepts).
  char peek() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r'))
      ++p_;
    return p_ == end_ ? '\0' : *p_;
  }
  // Consumes `c` (after blanks) if it is next.
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++p_;
    return true;
  }
  // True when only blanks are left.
  bool at_end() { return peek() == '\0' && p_ == end_; }

  // Inside an array or object whose bracket was consumed: `first` is true
  // right after the bracket.  Consumes the `,` before the next member or the
  // closing bracket; `more` says which.  `[1,]`, `[,1]` fail.
  bool next_member(char close, bool first, bool &more) {
    const char c = peek();
    if (c == close) {
      ++p_;
      more = false;
      return true;
    }
    if (!first) {
      if (c != ',')
        return false;
      ++p_;
    }
    more = true;
    return true;
  }

  // A string, unescaped.  The view points into the text when the string has
  // no escape, else into a buffer the next read_string reuses.
  bool read_string(std::string_view &out);
  // The key of an object member and its `:`.
  bool read_key(std::string_view &out) { return read_string(out) && consume(':'); }
  // A non-negative integer without fraction or exponent that fits 64 bits.
  // Refused (valid JSON, but not for the fast path): `-0`, `1.0`, `1e3`, and
  // integers over 2^64 - 1 (nlohmann keeps those as floating point).
  bool read_unsigned(std::uint64_t &out);
  // Consumes `null` if it is next; false (nothing consumed) otherwise.
  bool read_null();
  // Any one value, checked as strictly as the rest.  Refused as well: numbers
  // with an exponent or with 19 or more integer digits (nlohmann refuses
  // the ones that overflow a double, and this reader does not convert).
  bool skip_value();

private:
  bool finish_escaped_string(const char *start, std::string_view &out);
  bool skip_utf8();
  bool read_hex4(std::uint32_t &out);
  bool skip_number();
  bool skip_literal(std::string_view word);

  const char *p_;
  const char *end_;
  std::string scratch_; // unescaped strings
  std::string stack_;   // skip_value's open brackets, as their closing ones
};

} // namespace vifwall
