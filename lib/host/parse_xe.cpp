#include "parse_xe.hpp"

#include <cstdint>
#include <limits>
#include <optional>

#include "text.hpp"

namespace vifwall {

namespace {

bool is_blank_char(char c) { return c == ' ' || c == '\t'; }

std::size_t skip_blanks(std::string_view s, std::size_t i) {
  while (i < s.size() && is_blank_char(s[i]))
    ++i;
  return i;
}

// One `NAME (ACCESS)[ [DEPRECATED]] : VALUE` line, split.
struct FieldLine {
  std::string_view name;
  std::string access; // canonical: " RO", " RW", "MRO", "MRW", "SRO", "SRW"
  std::string_view value;
};

// The access marker between the parentheses, canonicalised; nullopt if it is
// not one, which is what tells a field line from a continuation line such as
// "see (section 2): ..." inside a description.
std::optional<std::string> canonical_access(std::string_view inner) {
  static const char *const printed[] = {" RO", " RW", "MRO", "MRW", "SRO", "SRW"};
  for (const char *candidate : printed)
    if (inner == candidate)
      return std::string(candidate);
  // Copies retyped by hand sometimes lose the space of " RO"/" RW".
  if (inner == "RO" || inner == "RW")
    return " " + std::string(inner);
  return std::nullopt;
}

std::optional<FieldLine> match_field_line(std::string_view line) {
  std::size_t i = skip_blanks(line, 0);
  const std::size_t name_start = i;
  while (i < line.size() && !is_blank_char(line[i]))
    ++i;
  if (i == name_start)
    return std::nullopt;
  FieldLine field;
  field.name = line.substr(name_start, i - name_start);

  const std::size_t after_name = i;
  i = skip_blanks(line, i);
  if (i == after_name || i >= line.size() || line[i] != '(')
    return std::nullopt;
  const std::size_t close = line.find(')', i + 1);
  if (close == std::string_view::npos)
    return std::nullopt;
  auto access = canonical_access(line.substr(i + 1, close - i - 1));
  if (!access)
    return std::nullopt;
  field.access = std::move(*access);

  i = skip_blanks(line, close + 1);
  constexpr std::string_view deprecated = "[DEPRECATED]";
  if (starts_with(line.substr(i), deprecated))
    i = skip_blanks(line, i + deprecated.size());
  if (i >= line.size() || line[i] != ':')
    return std::nullopt;
  ++i;
  // Exactly one space separates colon and value; more belong to the value.
  if (i < line.size() && line[i] == ' ')
    ++i;
  field.value = line.substr(i);
  return field;
}

const XeField *find_field(const XeRecord &record, std::string_view name) {
  for (const auto &field : record.fields)
    if (field.name == name)
      return &field;
  return nullptr;
}

std::string field_value(const XeRecord &record, std::string_view name) {
  const XeField *field = find_field(record, name);
  return field ? field->value : std::string();
}

// Ids, numbers and MACs: edge blanks are copy damage, not data.
std::string trimmed_value(const XeRecord &record, std::string_view name) {
  const XeField *field = find_field(record, name);
  return field ? std::string(trim(field->value)) : std::string();
}

// "\"name-label\", \"dom-id\"": each name through quote_for_error, since a
// field name is whatever the input put before " (" and may hold escape
// sequences; a pasted wall of fields is cut after a few names.
std::string field_names(const XeRecord &record) {
  constexpr std::size_t kShown = 8;
  std::string names;
  for (std::size_t i = 0; i < record.fields.size(); ++i) {
    if (i == kShown) {
      names += " and " + std::to_string(record.fields.size() - kShown) + " more";
      break;
    }
    if (i != 0)
      names += ", ";
    names += quote_for_error(record.fields[i].name, 40);
  }
  return names;
}

// The blanks of text.hpp (split_blanks, trim): a uuid holding any of them
// would split or trim differently wherever it is used as a key.
bool is_any_blank(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\n';
}

// Every typed view keys its objects by uuid (names are not unique, see
// formats.md §10.22), so a record without a usable one is an error.
Result<std::string> require_uuid(const XeRecord &record,
                                 const std::string &source) {
  const XeField *field = find_field(record, "uuid");
  if (!field)
    return fail(source, record.line,
                "expected a \"uuid\" field in this xe record, got only: " +
                    field_names(record) + " (add uuid to params=)");
  const std::string_view uuid = trim(field->value);
  bool has_blank = uuid.empty();
  for (char c : uuid)
    if (is_any_blank(c))
      has_blank = true;
  if (has_blank)
    return fail(source, field->line,
                "expected a uuid, got " + quote_for_error(field->value));
  return std::string(uuid);
}

template <class T, class Convert>
Result<std::vector<T>> convert_records(std::string_view text,
                                       const std::string &source,
                                       Convert convert) {
  auto records = parse_xe_records(text, source);
  if (!records)
    return tl::unexpected(records.error());
  std::vector<T> out;
  out.reserve(records->size());
  for (const auto &record : *records) {
    auto uuid = require_uuid(record, source);
    if (!uuid)
      return tl::unexpected(uuid.error());
    Result<T> item = convert(record, std::move(*uuid));
    if (!item)
      return tl::unexpected(item.error());
    out.push_back(std::move(*item));
  }
  return out;
}

} // namespace

Result<std::vector<XeRecord>> parse_xe_records(std::string_view text,
                                               const std::string &source) {
  const std::string cleaned = clean_text(text);
  std::vector<XeRecord> records;
  // True while the previous line was a field or a continuation of one, i.e.
  // no blank line since the last field.
  bool inside_record = false;
  for (const Line &line : split_lines(cleaned)) {
    if (is_blank(line.text)) {
      inside_record = false;
      continue;
    }
    auto field = match_field_line(line.text);
    if (!field) {
      if (!inside_record)
        return fail(source, line.number,
                    "expected an xe field line like \"uuid ( RO): VALUE\", got " +
                        quote_for_error(line.text));
      std::string &value = records.back().fields.back().value;
      value += '\n';
      value += line.text;
      continue;
    }
    const bool starts_record =
        !inside_record || field->name == records.back().fields.front().name;
    if (starts_record) {
      records.push_back(XeRecord{{}, line.number});
      inside_record = true;
    }
    records.back().fields.push_back(XeField{std::string(field->name),
                                            std::move(field->access),
                                            std::string(field->value),
                                            line.number});
  }
  return records;
}

Result<std::vector<std::string>> parse_xe_minimal(std::string_view text,
                                                  const std::string &source) {
  const std::string cleaned = clean_text(text);
  for (const Line &line : split_lines(cleaned))
    if (match_field_line(line.text))
      return fail(source, line.number,
                  "expected --minimal output (one line of comma-separated "
                  "values), got a record field line " +
                      quote_for_error(line.text));
  std::string_view body = cleaned;
  while (!body.empty() && body.back() == '\n')
    body.remove_suffix(1);
  std::vector<std::string> values;
  if (is_blank(body))
    return values;
  std::string current;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\\' && i + 1 < body.size() &&
        (body[i + 1] == ',' || body[i + 1] == '\\')) {
      current.push_back(body[++i]);
    } else if (c == ',') {
      values.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  values.push_back(std::move(current));
  return values;
}

bool is_xe_placeholder(std::string_view value) {
  value = trim(value);
  if (value == "OpaqueRef:NULL")
    return true;
  if (value.size() < 3 || value.front() != '<' || value.back() != '>')
    return false;
  for (char c : value.substr(1, value.size() - 2))
    if (!((c >= 'a' && c <= 'z') || c == ' '))
      return false;
  return true;
}

std::map<std::string, std::string> parse_xe_map(std::string_view value) {
  std::map<std::string, std::string> pairs;
  if (is_blank(value) || is_xe_placeholder(value))
    return pairs;
  constexpr std::string_view pair_separator = "; ";
  std::string *previous_value = nullptr;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find(pair_separator, start);
    if (end == std::string_view::npos)
      end = value.size();
    const std::string_view piece = value.substr(start, end - start);
    start = end + pair_separator.size();

    const std::size_t colon = piece.find(": ");
    if (colon != std::string_view::npos) {
      auto [it, inserted] = pairs.insert_or_assign(
          std::string(piece.substr(0, colon)),
          std::string(piece.substr(colon + 2)));
      previous_value = &it->second;
    } else if (ends_with(piece, ":")) {
      auto [it, inserted] = pairs.insert_or_assign(
          std::string(piece.substr(0, piece.size() - 1)), std::string());
      previous_value = &it->second;
    } else if (previous_value) {
      *previous_value += pair_separator;
      *previous_value += piece;
    } else {
      auto [it, inserted] =
          pairs.insert_or_assign(std::string(piece), std::string());
      previous_value = &it->second;
    }
    if (end == value.size())
      break;
  }
  return pairs;
}

std::vector<std::string> split_xe_set(std::string_view value) {
  std::vector<std::string> items;
  if (is_blank(value))
    return items;
  constexpr std::string_view separator = "; ";
  std::size_t start = 0;
  while (true) {
    const std::size_t end = value.find(separator, start);
    if (end == std::string_view::npos) {
      items.emplace_back(value.substr(start));
      break;
    }
    items.emplace_back(value.substr(start, end - start));
    start = end + separator.size();
  }
  return items;
}

Result<std::vector<Vm>> parse_xe_vm_list(std::string_view text,
                                         const std::string &source) {
  return convert_records<Vm>(
      text, source,
      [&source](const XeRecord &record, std::string uuid) -> Result<Vm> {
        Vm vm;
        vm.uuid = std::move(uuid);
        vm.name_label = field_value(record, "name-label");
        vm.power_state = to_lower(trimmed_value(record, "power-state"));
        if (const XeField *dom_id = find_field(record, "dom-id")) {
          auto number = parse_i64(trim(dom_id->value));
          if (!number)
            return fail(source, dom_id->line,
                        "expected a number for dom-id (-1 when not running), "
                        "got " + quote_for_error(dom_id->value));
          vm.dom_id = *number;
        }
        vm.networks = parse_xe_map(field_value(record, "networks"));
        if (const XeField *host = find_field(record, "resident-on")) {
          const std::string value(trim(host->value));
          vm.resident_on = is_xe_placeholder(value) ? std::string() : value;
        }
        return vm;
      });
}

Result<std::vector<XeVif>> parse_xe_vif_list(std::string_view text,
                                             const std::string &source) {
  return convert_records<XeVif>(
      text, source,
      [&source](const XeRecord &record, std::string uuid) -> Result<XeVif> {
        XeVif vif;
        vif.uuid = std::move(uuid);
        vif.vm_uuid = trimmed_value(record, "vm-uuid");
        vif.vm_name_label = field_value(record, "vm-name-label");
        vif.device = trimmed_value(record, "device");
        if (const XeField *mac = find_field(record, "MAC")) {
          const std::string_view printed = trim(mac->value);
          if (!printed.empty()) {
            auto normalized = normalize_mac(printed);
            if (!normalized)
              return fail(source, mac->line,
                          "expected a MAC address like 06:f8:c8:00:00:09, got " +
                              quote_for_error(mac->value));
            vif.mac = std::move(*normalized);
          }
        }
        if (const XeField *mtu = find_field(record, "MTU")) {
          auto number = parse_u64(trim(mtu->value));
          if (!number || *number > std::numeric_limits<std::uint32_t>::max())
            return fail(source, mtu->line,
                        "expected an MTU (a number of bytes), got " +
                            quote_for_error(mtu->value));
          vif.mtu = static_cast<std::uint32_t>(*number);
        }
        vif.network_uuid = trimmed_value(record, "network-uuid");
        vif.network_name_label = field_value(record, "network-name-label");
        return vif;
      });
}

Result<std::vector<XeNetwork>> parse_xe_network_list(std::string_view text,
                                                     const std::string &source) {
  return convert_records<XeNetwork>(
      text, source,
      [](const XeRecord &record, std::string uuid) -> Result<XeNetwork> {
        XeNetwork network;
        network.uuid = std::move(uuid);
        network.name_label = field_value(record, "name-label");
        network.bridge = trimmed_value(record, "bridge");
        return network;
      });
}

} // namespace vifwall
