#include "pool_answer.hpp"

#include "host_print.hpp"

#include <cstdint>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "pool_query.hpp"
#include "text.hpp"

namespace vifwall {

namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json; // keys in the order written

constexpr std::size_t kMaxDepth = 32; // vif-of's and sg-diff's documents are 4 deep

// Deeper than `limit` (outside strings)?  Checked before parsing: a hostile
// "[[[[..." must not reach a recursive walk.
bool too_deep(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::string describe(const json &value) {
  if (value.is_string())
    return "string " + quote_for_error(value.get_ref<const std::string &>());
  std::string dump = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (dump.size() > 60)
    dump = dump.substr(0, 60) + "...";
  return std::string(value.type_name()) + " " + dump;
}

Result<json> parse_document(std::string_view text, const std::string &source, const char *what) {
  if (too_deep(text, kMaxDepth))
    return fail(source, 0, std::string("expected ") + what + ", got JSON nested deeper than " +
                               std::to_string(kMaxDepth));
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded())
    return fail(source, 0, std::string("expected ") + what + ", got " +
                               quote_for_error(trim(text).empty() ? "nothing" : trim(text)));
  return doc;
}

// Reads typed values out of objects; keeps the first error, with the path
// of the value ("vms[1].vifs[0].mtu").  A missing key and null are both
// "not known".
class Reader {
public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  bool ok() const { return !error_; }
  tl::unexpected<Error> error() const { return tl::unexpected<Error>(*error_); }

  const json *find(const json &object, const char *key) const {
    if (!object.is_object())
      return nullptr;
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }
  void wrong(const std::string &path, const std::string &what, const json &got) {
    if (!error_)
      error_ = Error{source_, 0, path + ": expected " + what + ", got " + describe(got)};
  }
  std::optional<std::string> text(const json &object, const char *key, const std::string &path) {
    const json *value = find(object, key);
    if (!value)
      return std::nullopt;
    if (!value->is_string()) {
      wrong(path + "." + key, "a string", *value);
      return std::nullopt;
    }
    return value->get<std::string>();
  }
  std::optional<std::int64_t> integer(const json &object, const char *key, const std::string &path,
                                      std::int64_t low, std::int64_t high) {
    const json *value = find(object, key);
    if (!value)
      return std::nullopt;
    if (!value->is_number_integer() || (value->is_number_unsigned() &&
                                        value->get<std::uint64_t>() > static_cast<std::uint64_t>(high)) ||
        value->get<std::int64_t>() < low || value->get<std::int64_t>() > high) {
      wrong(path + "." + key, "an integer from " + std::to_string(low) + " to " + std::to_string(high),
            *value);
      return std::nullopt;
    }
    return value->get<std::int64_t>();
  }
  std::optional<std::uint64_t> counter(const json &object, const char *key, const std::string &path) {
    const json *value = find(object, key);
    if (!value)
      return std::nullopt;
    if (!value->is_number_unsigned()) {
      wrong(path + "." + key, "a counter (an integer of 0 or more)", *value);
      return std::nullopt;
    }
    return value->get<std::uint64_t>();
  }
  std::vector<std::string> strings(const json &object, const char *key, const std::string &path) {
    std::vector<std::string> out;
    const json *list = array(object, key, path, false);
    for (std::size_t i = 0; list && i < list->size(); ++i) {
      if (!(*list)[i].is_string()) {
        wrong(path + "." + key + "[" + std::to_string(i) + "]", "a string", (*list)[i]);
        return {};
      }
      out.push_back((*list)[i].get<std::string>());
    }
    return out;
  }
  const json *array(const json &object, const char *key, const std::string &path, bool needed) {
    const json *value = find(object, key);
    if (!value) {
      if (needed)
        wrong(path.empty() ? key : path + "." + key, "an array", json());
      return nullptr;
    }
    if (!value->is_array()) {
      wrong(path.empty() ? key : path + "." + key, "an array", *value);
      return nullptr;
    }
    return value;
  }
  bool is_object(const json &value, const std::string &path) {
    if (!value.is_object())
      wrong(path, "an object", value);
    return value.is_object();
  }

private:
  std::string source_;
  std::optional<Error> error_;
};

Counters read_counters(Reader &r, const json &o, const std::string &path, const char *side) {
  const std::string s(side);
  Counters c;
  c.packets = r.counter(o, (s + "_packets").c_str(), path);
  c.bytes = r.counter(o, (s + "_bytes").c_str(), path);
  c.errors = r.counter(o, (s + "_errors").c_str(), path);
  c.dropped = r.counter(o, (s + "_dropped").c_str(), path);
  return c;
}

constexpr std::int64_t kMaxDomId = 32767;
constexpr std::int64_t kMaxDevice = 65535;

HostVif read_vif(Reader &r, const json &o, const std::string &path, std::int64_t dom_id) {
  HostVif vif;
  vif.dom_id = dom_id;
  if (!r.is_object(o, path))
    return vif;
  auto name = r.text(o, "name", path);
  if (!name && r.ok())
    r.wrong(path + ".name", "the interface's name", json());
  vif.name = name.value_or("");
  if (auto parsed = parse_vif_name(vif.name)) {
    vif.kind = parsed->kind;
    vif.device = parsed->device;
    vif.dom_id = parsed->dom_id;
  }
  if (auto kind = r.text(o, "kind", path)) {
    if (*kind == "vif" || *kind == "tap")
      vif.kind = *kind == "tap" ? VifKind::tap : VifKind::vif;
    else
      r.wrong(path + ".kind", "\"vif\" or \"tap\"", o["kind"]);
  }
  if (auto d = r.integer(o, "dom_id", path, 0, kMaxDomId))
    vif.dom_id = *d;
  if (auto d = r.integer(o, "device", path, 0, kMaxDevice))
    vif.device = *d;
  vif.bridge = r.text(o, "bridge", path);
  vif.mac = r.text(o, "mac", path);
  vif.guest_mac = r.text(o, "guest_mac", path);
  vif.ipv4 = r.strings(o, "ipv4", path); // absent from members before schema_version 1
  vif.ipv6 = r.strings(o, "ipv6", path);
  if (auto mtu = r.integer(o, "mtu", path, 0, std::numeric_limits<std::uint32_t>::max()))
    vif.mtu = static_cast<std::uint32_t>(*mtu);
  vif.state = r.text(o, "state", path).value_or("");
  vif.rx = read_counters(r, o, path, "rx");
  vif.tx = read_counters(r, o, path, "tx");
  return vif;
}

HostVm read_vm(Reader &r, const json &o, const std::string &path) {
  HostVm vm;
  if (!r.is_object(o, path))
    return vm;
  vm.vm.name_label = r.text(o, "name_label", path).value_or("");
  vm.vm.uuid = r.text(o, "uuid", path).value_or("");
  vm.vm.power_state = r.text(o, "power_state", path).value_or("");
  vm.vm.dom_id = r.integer(o, "dom_id", path, -1, kMaxDomId);
  if (const json *vifs = r.array(o, "vifs", path, false))
    for (std::size_t i = 0; i < vifs->size() && r.ok(); ++i)
      vm.vifs.push_back(read_vif(r, (*vifs)[i], path + ".vifs[" + std::to_string(i) + "]",
                                 vm.vm.dom_id.value_or(0)));
  return vm;
}

} // namespace

Result<PluginAnswer> parse_plugin_answer(std::string_view text, const std::string &source) {
  auto doc = parse_document(text, source, "the vifwall plugin's JSON answer");
  if (!doc)
    return tl::unexpected(doc.error());
  Reader r(source);
  if (!r.is_object(*doc, "the answer"))
    return r.error();
  PluginAnswer answer;
  answer.host = r.text(*doc, "host", "the answer");
  answer.hostname = r.text(*doc, "hostname", "the answer").value_or("");
  auto tool = r.text(*doc, "tool", "the answer");
  auto exit = r.integer(*doc, "exit", "the answer", 0, 255);
  answer.stderr_text = r.text(*doc, "stderr", "the answer").value_or("");
  if (r.ok() && !tool)
    r.wrong("the answer.tool", "the tool's name", json());
  if (r.ok() && !exit)
    r.wrong("the answer.exit", "the tool's exit status", json());
  if (!r.ok())
    return r.error();
  answer.tool = *tool;
  answer.exit = static_cast<int>(*exit);
  if (const json *output = r.find(*doc, "output"))
    answer.output = output->dump(-1, ' ', false, json::error_handler_t::replace);
  return answer;
}

Result<MemberVifs> parse_vif_of_json(std::string_view text, const std::string &source) {
  auto doc = parse_document(text, source, "vif-of's JSON");
  if (!doc)
    return tl::unexpected(doc.error());
  Reader r(source);
  MemberVifs out;
  if (!r.is_object(*doc, "vif-of's output"))
    return r.error();
  // A newer member may print a newer schema: refuse it rather than misread it.
  if (auto version = r.integer(*doc, "schema_version", "vif-of's output", 0,
                               std::numeric_limits<std::int64_t>::max());
      version && *version > kVifJsonSchemaVersion)
    r.wrong("vif-of's output.schema_version",
            "at most " + std::to_string(kVifJsonSchemaVersion) + " (this vif-of's schema)", (*doc)["schema_version"]);
  if (!r.ok())
    return r.error();
  const json *vms = r.array(*doc, "vms", "", true);
  const json *orphans = r.array(*doc, "orphans", "", false);
  for (std::size_t i = 0; vms && i < vms->size() && r.ok(); ++i)
    out.vms.push_back(read_vm(r, (*vms)[i], "vms[" + std::to_string(i) + "]"));
  for (std::size_t i = 0; orphans && i < orphans->size() && r.ok(); ++i)
    out.orphans.push_back(read_vif(r, (*orphans)[i], "orphans[" + std::to_string(i) + "]", 0));
  if (!r.ok())
    return r.error();
  return out;
}

namespace {

// The text report's line of one difference (print_comparison.cpp).
std::string difference_line(Reader &r, const json &d, const std::string &who,
                            const std::string &path) {
  if (!r.is_object(d, path))
    return "";
  const std::string kind = r.text(d, "kind", path).value_or("?");
  const std::string table = r.text(d, "table", path).value_or("");
  const std::string chain = r.text(d, "chain", path).value_or("");
  const std::string rule = r.text(d, "rule", path).value_or("");
  const std::string detail = r.text(d, "detail", path).value_or("");
  std::string line = who + ": " + kind;
  if (!table.empty())
    line += " " + table + (chain.empty() ? "" : " " + chain) + ":";
  if (!rule.empty())
    line += " " + rule;
  if (!detail.empty())
    line += rule.empty() && table.empty() ? " " + detail : " (" + detail + ")";
  return line;
}

void string_lines(Reader &r, const json &doc, const char *key, const char *prefix,
                  std::vector<std::string> &lines) {
  const json *items = r.array(doc, key, "", false);
  for (std::size_t i = 0; items && i < items->size() && r.ok(); ++i) {
    if (!(*items)[i].is_string())
      r.wrong(std::string(key) + "[" + std::to_string(i) + "]", "a string", (*items)[i]);
    else
      lines.push_back(prefix + (*items)[i].get<std::string>());
  }
}

} // namespace

Result<MemberDiff> parse_sg_diff_json(std::string_view text, const std::string &source) {
  auto doc = parse_document(text, source, "sg-diff's JSON");
  if (!doc)
    return tl::unexpected(doc.error());
  Reader r(source);
  MemberDiff out;
  if (!r.is_object(*doc, "sg-diff's output"))
    return r.error();
  const json *differ = r.find(*doc, "differ");
  if (!differ || !differ->is_boolean())
    r.wrong("differ", "true or false", differ ? *differ : json());
  else
    out.differ = differ->get<bool>();
  out.summary = r.text(*doc, "summary", "").value_or("");
  if (const json *host = r.array(*doc, "host", "", false))
    for (std::size_t i = 0; i < host->size() && r.ok(); ++i)
      out.lines.push_back(difference_line(r, (*host)[i], "host", "host[" + std::to_string(i) + "]"));
  const json *vms = r.array(*doc, "vms", "", false);
  for (std::size_t i = 0; vms && i < vms->size() && r.ok(); ++i) {
    const std::string path = "vms[" + std::to_string(i) + "]";
    const json &vm = (*vms)[i];
    if (!r.is_object(vm, path))
      break;
    const std::string name = r.text(vm, "name", path).value_or("?");
    if (const json *ds = r.array(vm, "differences", path, false))
      for (std::size_t j = 0; j < ds->size() && r.ok(); ++j)
        out.lines.push_back(
            difference_line(r, (*ds)[j], name, path + ".differences[" + std::to_string(j) + "]"));
  }
  string_lines(r, *doc, "notes", "note: ", out.lines);
  string_lines(r, *doc, "problems", "problem: ", out.lines);
  if (!r.ok())
    return r.error();
  return out;
}

std::string render_pool_diff_json(const std::vector<MemberAnswer> &answers, bool differ,
                                  bool pretty) {
  ojson doc = ojson::object();
  bool partial = false;
  ojson hosts = ojson::array();
  for (const auto &a : answers) {
    ojson host = ojson::object();
    host["host"] = a.member.uuid;
    const std::string name =
        !a.member.name_label.empty() ? a.member.name_label : (a.answer ? a.answer->hostname : "");
    host["hostname"] = name.empty() ? ojson() : ojson(name);
    host["answered"] = a.answered();
    host["exit"] = a.answer ? ojson(a.answer->exit) : ojson();
    if (!a.answered()) {
      host["error"] = a.error;
      partial = true;
    }
    host["output"] = ojson();
    if (a.answer && !a.answer->output.empty()) {
      ojson output = ojson::parse(a.answer->output, nullptr, false);
      if (!output.is_discarded())
        host["output"] = std::move(output);
    }
    hosts.push_back(std::move(host));
  }
  doc["differ"] = differ;
  doc["partial"] = partial;
  doc["hosts"] = std::move(hosts);
  return doc.dump(pretty ? 2 : -1, ' ', false, ojson::error_handler_t::replace) + "\n";
}

} // namespace vifwall
