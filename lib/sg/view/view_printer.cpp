// The two ViewPrinters: JSON (through JsonWriter) and text (layouts filled).
#include "view_printer.hpp"

#include <algorithm>

namespace vifwall {

// ---- JSON --------------------------------------------------------------------

void JsonViewPrinter::key(std::string_view name) {
  if (!in_array_.empty() && !in_array_.back())
    json_.key(name);
}

void JsonViewPrinter::open_object(std::string_view name, const TextLayout &) {
  key(name);
  json_.begin_object();
  in_array_.push_back(false);
}

void JsonViewPrinter::open_array(std::string_view name, const TextLayout &) {
  key(name);
  json_.begin_array();
  in_array_.push_back(true);
}

void JsonViewPrinter::close() {
  if (in_array_.back())
    json_.end_array();
  else
    json_.end_object();
  in_array_.pop_back();
}

void JsonViewPrinter::field(std::string_view name, const JsonValue &value, std::string_view) {
  key(name);
  switch (value.kind()) {
  case JsonValue::Kind::null:
    json_.null();
    break;
  case JsonValue::Kind::flag:
    json_.value(value.flag());
    break;
  case JsonValue::Kind::int64:
    json_.value(value.int64());
    break;
  case JsonValue::Kind::uint64:
    json_.value(value.uint64());
    break;
  case JsonValue::Kind::string:
    json_.value(value.string());
    break;
  case JsonValue::Kind::strings:
    json_.begin_array();
    for (const auto &item : value.strings())
      json_.value(item);
    json_.end_array();
    break;
  }
}

// ---- text --------------------------------------------------------------------

// An open container.  It writes its text as it goes -- into its parent's
// output when its place there is next (a list's items always are; a form's
// {key} is when every place before it is filled), else into a buffer of its
// own that its parent places when it closes.  So a text written in form
// order is copied once, and only what comes early waits.
struct TextViewPrinter::Frame {
  struct Part { // a form's field that came before its place
    std::string key;
    std::string text;
    std::vector<std::string> facts;
  };
  TextLayout layout;
  bool array = false;
  bool visible = true;      // its text reaches the output
  std::string key;          // in the parent
  std::string pointer;      // audit: where the JSON form has it
  std::size_t children = 0; // so far (an array's next index)
  std::size_t out = 0;      // the frame whose `buffer` it writes to: itself or an ancestor
  std::size_t mark = 0;     // where it started writing there (a list takes back an empty item)
  std::string buffer;
  std::vector<std::string> facts; // audit: the facts it wrote
  std::size_t cursor = 0;         // form: written up to here
  std::vector<Part> early;        // form: fields ahead of the cursor
  std::size_t items = 0;          // list: items with text so far
};

namespace {

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key)
    out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

void move_facts(std::vector<std::string> &into, std::vector<std::string> &facts) {
  for (auto &fact : facts)
    into.push_back(std::move(fact));
  facts.clear();
}

bool in_form(std::string_view form, std::string_view key) {
  for (std::size_t at = form.find('{'); at != std::string_view::npos; at = form.find('{', at + 1))
    if (form.compare(at + 1, key.size(), key) == 0 && form.substr(at + 1 + key.size(), 1) == "}")
      return true;
  return false;
}

} // namespace

TextViewPrinter::TextViewPrinter(bool audit) : audit_(audit) {
  Frame document; // a list of one item, the top container
  document.layout = TextLayout::list("");
  frames_.push_back(std::move(document));
}

TextViewPrinter::~TextViewPrinter() = default;

std::string &TextViewPrinter::out(Frame &frame) { return frames_[frame.out].buffer; }

std::string TextViewPrinter::child_pointer(std::string_view key) const {
  if (!audit_ || frames_.size() == 1)
    return "";
  const Frame &parent = frames_.back();
  return parent.pointer + "/" + (parent.array ? std::to_string(parent.children) : pointer_token(key));
}

bool TextViewPrinter::shows(std::string_view key) const {
  const Frame &frame = frames_.back();
  if (!frame.visible || frame.layout.kind == TextLayout::Kind::hidden)
    return false;
  return frame.layout.kind == TextLayout::Kind::list || in_form(frame.layout.form, key);
}

// Writes the form's literals up to its next {key}; false at the end.
bool TextViewPrinter::next_placeholder(Frame &frame, std::string_view &key) {
  const std::string_view form = frame.layout.form;
  const std::size_t open = form.find('{', frame.cursor);
  const std::size_t close = open == std::string_view::npos ? open : form.find('}', open);
  if (close == std::string_view::npos) {
    out(frame).append(form.substr(frame.cursor));
    frame.cursor = form.size();
    return false;
  }
  out(frame).append(form.substr(frame.cursor, open - frame.cursor));
  frame.cursor = open;
  key = form.substr(open + 1, close - open - 1);
  return true;
}

void TextViewPrinter::pass_placeholder(Frame &frame) {
  frame.cursor = frame.layout.form.find('}', frame.cursor) + 1;
}

// Writes the early fields whose place has come.
void TextViewPrinter::flush_form(Frame &frame) {
  std::string_view key;
  while (next_placeholder(frame, key)) {
    auto part = std::find_if(frame.early.begin(), frame.early.end(),
                             [&](const Frame::Part &p) { return p.key == key; });
    if (part == frame.early.end())
      return;
    out(frame).append(part->text);
    move_facts(frame.facts, part->facts);
    frame.early.erase(part);
    pass_placeholder(frame);
  }
}

// The text of `key` (a field's, or a closed child's) into `frame`.
void TextViewPrinter::place(Frame &frame, std::string_view key, std::string_view text,
                            std::vector<std::string> &facts) {
  if (frame.layout.kind == TextLayout::Kind::list) {
    if (text.empty())
      return;
    out(frame).append(frame.items++ == 0 ? frame.layout.before : frame.layout.separator).append(text);
    move_facts(frame.facts, facts);
  } else if (frame.layout.kind == TextLayout::Kind::form) {
    std::string_view next;
    if (next_placeholder(frame, next) && next == key) { // in form order
      out(frame).append(text);
      move_facts(frame.facts, facts);
      pass_placeholder(frame);
      flush_form(frame);
    } else if (in_form(frame.layout.form, key)) {
      frame.early.push_back({std::string(key), std::string(text), std::move(facts)});
    }
  }
}

void TextViewPrinter::open(std::string_view key, const TextLayout &layout, bool array) {
  Frame child;
  child.layout = layout;
  child.array = array;
  child.visible = shows(key);
  child.key = key;
  child.pointer = child_pointer(key);
  child.out = frames_.size(); // its own buffer, unless its place is next
  Frame &parent = frames_.back();
  ++parent.children;
  std::string_view next;
  if (child.visible && parent.layout.kind == TextLayout::Kind::list) {
    child.out = parent.out;
    child.mark = out(parent).size();
    out(parent).append(parent.items == 0 ? parent.layout.before : parent.layout.separator);
  } else if (child.visible && next_placeholder(parent, next) && next == key) {
    child.out = parent.out;
  }
  frames_.push_back(std::move(child));
}

void TextViewPrinter::open_object(std::string_view key, const TextLayout &layout) { open(key, layout, false); }

void TextViewPrinter::open_array(std::string_view key, const TextLayout &layout) { open(key, layout, true); }

void TextViewPrinter::field(std::string_view key, const JsonValue &, std::string_view text) {
  Frame &frame = frames_.back();
  if (frame.visible) {
    std::vector<std::string> facts;
    if (audit_ && !text.empty())
      facts.push_back(child_pointer(key));
    place(frame, key, text, facts);
  }
  ++frame.children;
}

// The end of the frame's own text: the rest of its form, or its list's end.
void TextViewPrinter::finish(Frame &frame) {
  if (frame.layout.kind == TextLayout::Kind::list) {
    if (frame.items == 0) {
      out(frame).append(frame.layout.empty);
      if (audit_ && !frame.layout.empty.empty())
        frame.facts.push_back(frame.pointer); // "none": the container's emptiness
    } else {
      out(frame).append(frame.layout.after);
    }
  } else if (frame.layout.kind == TextLayout::Kind::form) {
    std::string_view key;
    for (flush_form(frame); next_placeholder(frame, key); flush_form(frame)) { // one never came
      if (audit_)
        problems_.push_back((frame.pointer.empty() ? "/" : frame.pointer) + ": {" + std::string(key) +
                            "} names no field");
      pass_placeholder(frame);
    }
  }
}

void TextViewPrinter::close() {
  if (frames_.back().visible)
    finish(frames_.back()); // while its buffer is still in frames_
  Frame child = std::move(frames_.back());
  frames_.pop_back();
  if (!child.visible)
    return;
  Frame &parent = frames_.back();
  if (child.out != frames_.size()) { // wrote into the parent's output
    move_facts(parent.facts, child.facts);
    if (parent.layout.kind == TextLayout::Kind::list) {
      std::string &text = out(parent);
      const std::size_t separator = (parent.items == 0 ? parent.layout.before : parent.layout.separator).size();
      if (text.size() == child.mark + separator)
        text.resize(child.mark); // an empty item: no separator for it
      else
        ++parent.items;
    } else {
      pass_placeholder(parent);
      flush_form(parent);
    }
  } else {
    place(parent, child.key, child.buffer, child.facts);
  }
}

std::string TextViewPrinter::str() const { return frames_.front().buffer; }

std::string TextViewPrinter::take() { return std::move(frames_.front().buffer); }

std::vector<std::string> TextViewPrinter::facts() const { return frames_.front().facts; }

const std::vector<std::string> &TextViewPrinter::problems() const { return problems_; }

} // namespace vifwall
