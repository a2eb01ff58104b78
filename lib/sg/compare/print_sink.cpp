// The two sinks of report::Printer: JSON through JsonWriter, text by form.
#include "print_sink.hpp"

namespace vifwall::report {

void Printer::json_key(std::string_view key) {
  if (!key.empty())
    json_->key(key);
}

void Printer::text_value(std::string_view value, const TextForm &form) {
  if (value.empty() && !form.even_empty)
    return;
  text_ += form.before;
  text_ += value;
  text_ += form.after;
}

void Printer::open_object(std::string_view key) {
  if (!json_)
    return;
  json_key(key);
  json_->begin_object();
}

void Printer::close_object() {
  if (json_)
    json_->end_object();
}

void Printer::open_array(std::string_view key) {
  if (!json_)
    return;
  json_key(key);
  json_->begin_array();
}

void Printer::close_array() {
  if (json_)
    json_->end_array();
}

void Printer::string(Show show, std::string_view key, std::string_view value, TextForm form) {
  if (to_json(show)) {
    json_key(key);
    json_->value(value);
  } else if (to_text(show)) {
    text_value(value, form);
  }
}

void Printer::number(Show show, std::string_view key, std::uint64_t value, TextForm form) {
  if (to_json(show)) {
    json_key(key);
    json_->value(value);
  } else if (to_text(show)) {
    text_value(std::to_string(value), form);
  }
}

void Printer::boolean(Show show, std::string_view key, bool value, TextForm form) {
  if (to_json(show)) {
    json_key(key);
    json_->value(value);
  } else if (to_text(show)) {
    text_value(value ? "true" : "false", form);
  }
}

void Printer::strings(Show show, std::string_view key, const std::vector<std::string> &values,
                      TextForm form) {
  if (to_json(show)) {
    json_key(key);
    json_->begin_array();
    for (const auto &value : values)
      json_->value(value);
    json_->end_array();
  } else if (to_text(show)) {
    std::string words;
    for (std::size_t i = 0; i < values.size(); ++i)
      (words += i == 0 ? "" : " ") += values[i];
    text_value(words, form);
  }
}

void Printer::text(std::string_view literal) {
  if (!json_)
    text_ += literal;
}

} // namespace vifwall::report
