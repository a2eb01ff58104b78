// One printer for a report's text and its JSON, in the manner of iproute2's
// print_string(PRINT_ANY, key, fmt, value): the report is walked once, and
// every value is handed to the printer with its JSON key and its text form,
// so the two outputs cannot drift apart.  A printer has one sink, text or
// JSON (json_writer.hpp), chosen when it is made; what the other sink would
// print is dropped.
//
//   Show::any   the value in both: "key": value in JSON, the text form in text
//   Show::json  JSON only (structure, counts, the raw rule words)
//   Show::text  text only: say in the walk why JSON does not need it (it is
//               there under another key)
//
// Objects and arrays are JSON structure (text has none); text() is text's
// punctuation: separators, newlines.  Callers pair open/close themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json_writer.hpp"

namespace vifwall::report {

enum class Show { any, json, text };

// A value in text: `before` VALUE `after`; nothing at all, decoration
// included, when the value is empty, unless `even_empty`.
struct TextForm {
  std::string_view before;
  std::string_view after;
  bool even_empty = false;
};

class Printer {
public:
  static Printer text() { return Printer(std::nullopt); }
  static Printer json(bool pretty) { return Printer(JsonWriter(pretty)); }

  bool is_json() const { return json_.has_value(); }

  // `key`: the member's name inside an object, empty inside an array or at
  // the top.
  void open_object(std::string_view key = {});
  void close_object();
  void open_array(std::string_view key);
  void close_array();

  void string(Show show, std::string_view key, std::string_view value, TextForm form = {});
  // Text: the decimal number; "true" / "false".  Never empty.
  void number(Show show, std::string_view key, std::uint64_t value, TextForm form = {});
  void boolean(Show show, std::string_view key, bool value, TextForm form = {});
  // A JSON array of strings; in text the words joined by spaces.
  void strings(Show show, std::string_view key, const std::vector<std::string> &values,
               TextForm form = {});
  // Text only, as is.
  void text(std::string_view literal);

  // The report: the text, or the JSON document (with its final newline once
  // the top level is closed).
  const std::string &str() const { return json_ ? json_->str() : text_; }
  // The same, the text moved out (the printer is done with).
  std::string take() { return json_ ? json_->str() : std::move(text_); }

private:
  explicit Printer(std::optional<JsonWriter> json) : json_(std::move(json)) {}

  bool to_json(Show show) const { return json_ && show != Show::text; }
  bool to_text(Show show) const { return !json_ && show != Show::json; }
  void json_key(std::string_view key);
  void text_value(std::string_view value, const TextForm &form);

  std::optional<JsonWriter> json_;
  std::string text_;
};

} // namespace vifwall::report
