// A small streaming JSON writer for our own output (ninja keeps JSON output
// to two functions; we need a little more).  It does not check structure:
// callers pair begin/end themselves.  Strings are escaped per RFC 8259; bytes
// that are not valid UTF-8 are written as U+FFFD so the output always parses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vifwall {

class JsonWriter {
public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view name);

  void value(std::string_view text);
  void value(const char *text) { value(std::string_view(text)); }
  void value(const std::string &text) { value(std::string_view(text)); }
  void value(std::uint64_t number);
  void value(std::int64_t number);
  void value(std::uint32_t number) { value(static_cast<std::uint64_t>(number)); }
  void value(int number) { value(static_cast<std::int64_t>(number)); }
  void value(bool flag);
  void null();
  template <class T> void value(const std::optional<T> &maybe) {
    if (maybe)
      value(*maybe);
    else
      null();
  }

  // key + value in one call.
  template <class T> void field(std::string_view name, const T &v) {
    key(name);
    value(v);
  }

  // The document so far, with a final newline once the top level is closed.
  const std::string &str() const { return out_; }

private:
  void before_value();
  void open(char bracket);
  void close(char bracket);
  void newline_indent();

  std::string out_;
  bool pretty_;
  std::vector<bool> has_items_; // one per open container
  bool after_key_ = false;
};

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

} // namespace vifwall
