// One printer path for sg-show's text and JSON, in the manner of iproute2's
// print_string(PRINT_ANY, "key", "fmt", value): print_view() walks the view
// once and states every fact in one call, ViewPrinter::field(key, JSON
// value, text), so a fact shown in one form is shown in the other by the
// same call and the two cannot drift apart.
//
// The two forms order their facts differently ("IPs: 10.1.1.5 (set X)" but
// {"ipset": "X", "ips": [...]}), so the text form is laid out per
// container, not per call: a container (a JSON object or array) carries a
// TextLayout, either a form ("  IPs:        {ips}{ipset}\n") whose {key}s
// the texts of its fields and containers fill, or a list whose items'
// texts are joined.  A layout places facts, it states none: every word of
// the text that depends on the model comes from a field's text.  The JSON
// form ignores layouts and writes every field in call order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_writer.hpp"
#include "sg_view.hpp"

namespace vifwall {

// A fact's JSON value: null, a flag, a number, a string or a list of
// strings.  It refers to the caller's data: valid for the call it is passed
// to (temporaries of the calling expression included).
class JsonValue {
public:
  enum class Kind { null, flag, int64, uint64, string, strings };
  JsonValue(std::nullptr_t) {}
  JsonValue(bool flag) : kind_(Kind::flag), flag_(flag) {}
  JsonValue(int number) : kind_(Kind::int64), int_(number) {}
  JsonValue(std::int64_t number) : kind_(Kind::int64), int_(number) {}
  JsonValue(std::uint64_t number) : kind_(Kind::uint64), uint_(number) {}
  JsonValue(const char *text) : kind_(Kind::string), string_(text) {}
  JsonValue(std::string_view text) : kind_(Kind::string), string_(text) {}
  JsonValue(const std::string &text) : kind_(Kind::string), string_(text) {}
  JsonValue(const std::vector<std::string> &list) : kind_(Kind::strings), strings_(&list) {}
  template <class T> JsonValue(const std::optional<T> &maybe) {
    if (maybe)
      *this = JsonValue(*maybe);
  }

  Kind kind() const { return kind_; }
  bool flag() const { return flag_; }
  std::int64_t int64() const { return int_; }
  std::uint64_t uint64() const { return uint_; }
  std::string_view string() const { return string_; }
  const std::vector<std::string> &strings() const { return *strings_; }

private:
  Kind kind_ = Kind::null;
  bool flag_ = false;
  std::int64_t int_ = 0;
  std::uint64_t uint_ = 0;
  std::string_view string_;
  const std::vector<std::string> *strings_ = nullptr;
};

// How a container shows in the text form.  The strings are the layout's
// own punctuation and labels (literals: they must not hold model data).
struct TextLayout {
  enum class Kind { hidden, form, list };
  Kind kind = Kind::hidden;
  // form: the text with each {key} replaced by the text of the container's
  // field or child container of that key ("" when it has none).
  std::string_view form;
  // list: the non-empty texts of the children in order, joined by
  // `separator`, between `before` and `after`; `empty` when there are none.
  std::string_view separator, empty, before, after;

  static TextLayout hidden() { return {}; }
  static TextLayout of_form(std::string_view form) { return {Kind::form, form, {}, {}, {}, {}}; }
  static TextLayout list(std::string_view separator, std::string_view empty = {},
                         std::string_view before = {}, std::string_view after = {}) {
    return {Kind::list, {}, separator, empty, before, after};
  }
};

// The sink print_view() drives.  Keys are object keys ("" for an array's
// items); containers nest by open_*() / close() pairs; `text` is the fact in
// the text form ("" when the text form leaves it out).
class ViewPrinter {
public:
  virtual ~ViewPrinter() = default;
  virtual void open_object(std::string_view key, const TextLayout &layout) = 0;
  virtual void open_array(std::string_view key, const TextLayout &layout) = 0;
  virtual void close() = 0;
  virtual void field(std::string_view key, const JsonValue &value, std::string_view text) = 0;
  // Whether the field or container `key` of the open container would reach
  // the output.  The walk may skip what would not (the raw rules under the
  // text layout, the meaning under the raw one); never a fact that would.
  virtual bool shows(std::string_view key) const = 0;
};

// The JSON form: every field and container, in call order.
class JsonViewPrinter final : public ViewPrinter {
public:
  explicit JsonViewPrinter(bool pretty) : json_(pretty) {}
  void open_object(std::string_view key, const TextLayout &layout) override;
  void open_array(std::string_view key, const TextLayout &layout) override;
  void close() override;
  void field(std::string_view key, const JsonValue &value, std::string_view text) override;
  bool shows(std::string_view) const override { return true; }
  const std::string &str() const { return json_.str(); }

private:
  void key(std::string_view key);
  JsonWriter json_;
  std::vector<bool> in_array_; // one per open container
};

// The text form: the containers' layouts filled with the fields' texts.  It
// writes as it goes; a text that comes before its place in a form waits in
// its container until the place is reached (see Frame in the .cpp).
class TextViewPrinter final : public ViewPrinter {
public:
  // `audit`: also keep, for tests, which facts reached the text and the
  // layouts' {key}s that name no field of their container.
  explicit TextViewPrinter(bool audit = false);
  ~TextViewPrinter() override;
  void open_object(std::string_view key, const TextLayout &layout) override;
  void open_array(std::string_view key, const TextLayout &layout) override;
  void close() override;
  void field(std::string_view key, const JsonValue &value, std::string_view text) override;
  bool shows(std::string_view key) const override;

  // The text, once the top container is closed (take: moved out).
  std::string str() const;
  std::string take();
  // With `audit`: the JSON pointers (RFC 6901: "/vms/0/ips") of the facts
  // whose text is in str() -- each names where the JSON form has the fact.
  std::vector<std::string> facts() const;
  // With `audit`: "/vms/0: {chians} names no field" for each such {key}
  // (the `key` of a field whose text is "" counts as a field).
  const std::vector<std::string> &problems() const;

private:
  struct Frame;
  void open(std::string_view key, const TextLayout &layout, bool array);
  std::string &out(Frame &frame);
  bool next_placeholder(Frame &frame, std::string_view &key);
  void pass_placeholder(Frame &frame);
  void flush_form(Frame &frame);
  void place(Frame &frame, std::string_view key, std::string_view text, std::vector<std::string> &facts);
  void finish(Frame &frame);
  std::string child_pointer(std::string_view key) const;
  std::vector<Frame> frames_; // [0]: the document
  bool audit_;
  std::vector<std::string> problems_;
};

// What print_view() prints.
struct ViewPrintOptions {
  bool host = true;     // the host-wide part
  bool counters = true; // text: packet/byte counts of the read-back rules
  bool exact = false;   // text: counts as printed by the tool, not 2.4k / 244K
  bool raw = false;     // text: the rules and sets in the save tools' syntax
                        // (render_view_raw), not what they mean
};

// The one walk over the view: the host (with options.host), the VMs `vms`,
// the warnings.  render_view_text, render_view_raw and render_view_json
// are this walk into a TextViewPrinter or a JsonViewPrinter.
void print_view(ViewPrinter &printer, const FirewallView &view, const std::vector<const VmView *> &vms,
                const ViewPrintOptions &options);

} // namespace vifwall
