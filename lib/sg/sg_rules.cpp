#include "sg_rules.hpp"

#include <zlib.h>

#include <optional>

#include "base64.hpp"
#include "file_util.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

namespace {

// icmp's type;code fields: also icmpv6's (IPv6 only).
bool is_icmp(const std::string &protocol) { return protocol == "icmp" || protocol == "icmpv6"; }

// icmpv6 matches IPv6 only: an IPv4 CIDR in it is a mistake, not a no-op.
std::optional<std::string> family_problem(const std::string &protocol, const std::string &cidr) {
  if (protocol == "icmpv6" && cidr.find(':') == std::string::npos)
    return "expected IPv6 CIDRs for icmpv6, got " + quote_for_error(cidr) + " (IPv4 uses icmp)";
  return std::nullopt;
}

bool has_ports(const std::string &protocol) {
  return protocol == "tcp" || protocol == "udp";
}

std::string range_text(int start, int end) {
  return std::to_string(start) + ";" + std::to_string(end);
}

// Checks start/end against the protocol and normalizes them (see the
// header).  Returns what was expected when they do not fit.
std::optional<std::string> normalize_ports(SgRule &rule) {
  if (has_ports(rule.protocol)) {
    if (rule.start < 0 || rule.start > 65535)
      return "expected a port 0-65535 as start, got " +
             std::to_string(rule.start);
    if (rule.end < 0 || rule.end > 65535)
      return "expected a port 0-65535 as end, got " + std::to_string(rule.end);
    if (rule.start > rule.end)
      return "expected start <= end, got " + std::to_string(rule.start) +
             " > " + std::to_string(rule.end);
    if (rule.start == 0 && rule.end == 0)
      rule.end = 65535;
    return std::nullopt;
  }
  if (is_icmp(rule.protocol)) {
    if (rule.start < -1 || rule.start > 255)
      return "expected an ICMP type -1..255 (-1 = any) as start, got " +
             std::to_string(rule.start);
    if (rule.end < -1 || rule.end > 255)
      return "expected an ICMP code -1..255 (-1 = any) as end, got " +
             std::to_string(rule.end);
    if (rule.start == -1 && rule.end != -1)
      return "expected code -1 with ICMP type -1 (any), got code " +
             std::to_string(rule.end);
    return std::nullopt;
  }
  if ((rule.start == 0 && rule.end == 0) ||
      (rule.start == -1 && rule.end == -1)) {
    rule.start = rule.end = 0;
    return std::nullopt;
  }
  return "expected 0;0 for protocol " + rule.protocol +
         " (only tcp and udp have ports, icmp has type;code), got " +
         range_text(rule.start, rule.end);
}

tl::unexpected<Error> entry_error(const std::string &source, std::size_t index,
                                  std::string_view entry,
                                  const std::string &message) {
  return fail(source, index, message + " in entry " + quote_for_error(entry));
}

// A start/end field of the rule string: an integer -1..65535.
std::optional<int> parse_bound(std::string_view field) {
  auto value = parse_i64(field);
  if (!value || *value < -1 || *value > 65535)
    return std::nullopt;
  return static_cast<int>(*value);
}

Result<SgRule> parse_entry(std::string_view entry, const std::string &source,
                           std::size_t index) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t semicolon = entry.find(';', start);
    if (semicolon == std::string_view::npos) {
      fields.push_back(entry.substr(start));
      break;
    }
    fields.push_back(entry.substr(start, semicolon - start));
    start = semicolon + 1;
  }
  if (fields.size() != 4)
    return entry_error(source, index, entry,
                       "expected 4 fields TYPE:PROTOCOL;START;END;CIDRS, got " +
                           std::to_string(fields.size()));
  SgRule rule;
  const std::string_view head = fields[0];
  if (head.size() < 2 || head[1] != ':')
    return entry_error(source, index, entry,
                       "expected I: or E: and a protocol, got " +
                           quote_for_error(head));
  if (head[0] == 'I')
    rule.direction = Direction::ingress;
  else if (head[0] == 'E')
    rule.direction = Direction::egress;
  else
    return entry_error(source, index, entry,
                       "expected type I (ingress) or E (egress), got " +
                           quote_for_error(head.substr(0, 1)));
  auto protocol = validate_protocol(head.substr(2));
  if (!protocol)
    return entry_error(source, index, entry, protocol.error().message);
  rule.protocol = *protocol;

  const auto first = parse_bound(fields[1]);
  if (!first)
    return entry_error(source, index, entry,
                       "expected a number -1..65535 as start, got " +
                           quote_for_error(fields[1]));
  const auto last = parse_bound(fields[2]);
  if (!last)
    return entry_error(source, index, entry,
                       "expected a number -1..65535 as end, got " +
                           quote_for_error(fields[2]));
  rule.start = *first;
  rule.end = *last;
  if (auto problem = normalize_ports(rule))
    return entry_error(source, index, entry, *problem);

  // Every CIDR is followed by ','; the last ',' leaves an empty piece.
  std::string_view cidrs = fields[3];
  std::size_t from = 0;
  while (from < cidrs.size()) {
    std::size_t comma = cidrs.find(',', from);
    if (comma == std::string_view::npos)
      comma = cidrs.size();
    const std::string_view cidr = cidrs.substr(from, comma - from);
    if (cidr.empty())
      return entry_error(source, index, entry,
                         "expected a CIDR between commas, got an empty one");
    auto valid = validate_cidr(cidr);
    if (!valid)
      return entry_error(source, index, entry, valid.error().message);
    if (auto problem = family_problem(rule.protocol, *valid))
      return entry_error(source, index, entry, *problem);
    if (rule.cidrs.size() == kMaxCidrsPerRule)
      return entry_error(source, index, entry,
                         "expected at most " +
                             std::to_string(kMaxCidrsPerRule) + " CIDRs");
    rule.cidrs.push_back(*valid);
    from = comma + 1;
  }
  return rule;
}

bool is_separator(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f';
}

std::string join_cidrs(const std::vector<std::string> &cidrs) {
  std::string out;
  for (const auto &cidr : cidrs) {
    if (!out.empty())
      out += ", ";
    out += cidr;
  }
  return out;
}

// One line of a rules file, split into words, for parse_rules_file.
struct RuleLine {
  const std::vector<std::string_view> &words;
  const std::string &source;
  std::size_t number;

  // Word i in lower case ("" past the end).
  std::string word(std::size_t i) const {
    return i < words.size() ? to_lower(words[i]) : std::string();
  }
  // Word i as an error message shows it.
  std::string got(std::size_t i) const {
    return i < words.size() ? quote_for_error(words[i])
                            : std::string("end of line");
  }
  tl::unexpected<Error> error(const std::string &message) const {
    return fail(source, number, message);
  }
};

// tcp/udp: an optional port or range at word i.  Returns the next word.
Result<std::size_t> parse_line_ports(const RuleLine &line, std::size_t i,
                                     const std::string &keyword,
                                     SgRule &rule) {
  rule.start = 0;
  rule.end = 65535;
  if (i < line.words.size() && line.word(i) != keyword) {
    const std::string_view ports = line.words[i];
    const std::size_t dash = ports.find_first_of("-:");
    auto first = validate_port(ports.substr(0, dash));
    auto last = dash == std::string_view::npos
                    ? first
                    : validate_port(ports.substr(dash + 1));
    if (!first || !last)
      return line.error("expected a port 0-65535 or a range like 8080-8090, "
                        "got " + line.got(i));
    rule.start = *first;
    rule.end = *last;
    ++i;
  }
  return i;
}

// icmp: an optional "type T [code C]" at word i.  Returns the next word.
Result<std::size_t> parse_line_icmp(const RuleLine &line, std::size_t i,
                                    SgRule &rule) {
  const auto &words = line.words;
  rule.start = rule.end = -1;
  auto icmp_value = [&](std::size_t at, const char *what) -> Result<int> {
    if (line.word(at) == "any")
      return -1;
    auto value = at < words.size() && !starts_with(words[at], "-")
                     ? parse_bound(words[at])
                     : std::nullopt;
    if (!value || *value > 255)
      return tl::unexpected(Error{
          line.source, line.number,
          std::string("expected an ICMP ") + what +
              " 0-255 or \"any\", got " + line.got(at)});
    return *value;
  };
  if (line.word(i) == "type") {
    auto type = icmp_value(i + 1, "type");
    if (!type)
      return tl::unexpected(type.error());
    rule.start = *type;
    i += 2;
    if (line.word(i) == "code") {
      auto code = icmp_value(i + 1, "code");
      if (!code)
        return tl::unexpected(code.error());
      rule.end = *code;
      i += 2;
    }
  }
  return i;
}

// The CIDRs after the keyword (from word i on), blank- or comma-separated.
Result<void> parse_line_cidrs(const RuleLine &line, std::size_t i,
                              const std::string &keyword, SgRule &rule) {
  std::string list;
  for (; i < line.words.size(); ++i) {
    list += ' ';
    list += line.words[i];
  }
  for (char &c : list)
    if (c == ',')
      c = ' ';
  for (std::string_view cidr : split_blanks(list)) {
    auto valid = validate_cidr(cidr);
    if (!valid)
      return line.error(valid.error().message);
    if (auto problem = family_problem(rule.protocol, *valid))
      return line.error(*problem);
    if (rule.cidrs.size() == kMaxCidrsPerRule)
      return line.error("expected at most " + std::to_string(kMaxCidrsPerRule) +
                        " CIDRs");
    rule.cidrs.push_back(*valid);
  }
  if (rule.cidrs.empty())
    return line.error("expected at least one CIDR after \"" + keyword + "\"");
  return {};
}

// "ingress tcp 22 from 10.0.0.0/8" into `rule`.
Result<void> parse_rule_line(const RuleLine &line, SgRule &rule) {
  const std::string direction = line.word(0);
  if (direction == "ingress")
    rule.direction = Direction::ingress;
  else if (direction == "egress")
    rule.direction = Direction::egress;
  else
    return line.error("expected \"ingress\" or \"egress\", got " + line.got(0));
  const std::string keyword =
      rule.direction == Direction::ingress ? "from" : "to";

  if (line.words.size() < 2)
    return line.error("expected a protocol (tcp, udp, icmp, icmpv6, all or a number), "
                      "got end of line");
  auto protocol = validate_protocol(line.words[1]);
  if (!protocol)
    return line.error(protocol.error().message);
  rule.protocol = *protocol;

  std::size_t i = 2;
  if (has_ports(rule.protocol)) {
    auto next = parse_line_ports(line, i, keyword, rule);
    if (!next)
      return tl::unexpected(next.error());
    i = *next;
  } else if (is_icmp(rule.protocol)) {
    auto next = parse_line_icmp(line, i, rule);
    if (!next)
      return tl::unexpected(next.error());
    i = *next;
  } else {
    rule.start = rule.end = 0;
  }
  if (auto problem = normalize_ports(rule))
    return line.error(*problem);

  if (line.word(i) != keyword)
    return line.error("expected \"" + keyword + "\" and the " +
                      (rule.direction == Direction::ingress ? "sources"
                                                            : "destinations") +
                      " of the " + direction + " rule, got " + line.got(i));
  return parse_line_cidrs(line, i + 1, keyword, rule);
}

} // namespace

const char *to_string(Direction direction) {
  return direction == Direction::ingress ? "ingress" : "egress";
}

Result<SgRule> normalize_rule(const SgRule &rule) {
  const std::string name = "invalid " + std::string(to_string(rule.direction)) +
                           " rule " + quote_for_error(rule.protocol) + ": ";
  auto protocol = validate_protocol(rule.protocol);
  if (!protocol)
    return fail(name + protocol.error().message);
  SgRule out = rule;
  out.protocol = *protocol;
  if (auto problem = normalize_ports(out))
    return fail(name + *problem);
  if (out.cidrs.size() > kMaxCidrsPerRule)
    return fail(name + "expected at most " + std::to_string(kMaxCidrsPerRule) +
                " CIDRs");
  for (auto &cidr : out.cidrs) {
    auto valid = validate_cidr(cidr);
    if (!valid)
      return fail(name + valid.error().message);
    cidr = *valid;
    if (auto problem = family_problem(out.protocol, cidr))
      return fail(name + *problem);
  }
  return out;
}

Result<std::vector<SgRule>> parse_rule_string(std::string_view raw,
                                              const std::string &source) {
  const std::string text = clean_text(raw);
  std::vector<SgRule> rules;
  std::size_t pos = 0;
  std::size_t index = 0;
  while (true) {
    while (pos < text.size() && is_separator(text[pos]))
      ++pos;
    if (pos == text.size())
      break;
    ++index;
    if (index > kMaxRules)
      return fail(source, index,
                  "expected at most " + std::to_string(kMaxRules) + " rules");
    const std::size_t next = text.find("NEXT", pos);
    if (next == std::string::npos)
      return entry_error(source, index, std::string_view(text).substr(pos),
                         "expected the entry to end with \"NEXT\"");
    const std::string_view entry =
        std::string_view(text).substr(pos, next - pos);
    pos = next + 4;
    if (pos < text.size() && text[pos] != ';' && !is_separator(text[pos]))
      return entry_error(source, index, std::string_view(text).substr(next, 20),
                         "expected a space or ';' after \"NEXT\"");
    if (pos < text.size() && text[pos] == ';')
      ++pos;
    if (entry.empty())
      return fail(source, index,
                  "expected an entry like \"I:tcp;22;22;0.0.0.0/0,\" before "
                  "\"NEXT\"");
    auto rule = parse_entry(entry, source, index);
    if (!rule)
      return tl::unexpected(rule.error());
    rules.push_back(std::move(*rule));
  }
  return rules;
}

Result<std::string> decode_deflated(std::string_view base64_text,
                                    const std::string &source) {
  auto bytes = decode_base64(base64_text);
  if (!bytes)
    return fail(source, 0, bytes.error().message);
  // Deflate never needs much more input than output; this also keeps the
  // size within zlib's 32-bit counters.
  if (bytes->size() > kMaxInflatedBytes + 64 * 1024)
    return fail(source, 0,
                "expected at most " +
                    std::to_string(kMaxInflatedBytes / (1024 * 1024)) +
                    " MiB of deflated rules, got " +
                    std::to_string(bytes->size()) + " bytes");

  z_stream stream{};
  if (inflateInit(&stream) != Z_OK)
    return fail(source, 0, "cannot start zlib");
  stream.next_in = reinterpret_cast<Bytef *>(bytes->data());
  stream.avail_in = static_cast<uInt>(bytes->size());
  std::string out;
  std::string chunk(64 * 1024, '\0');
  while (true) {
    stream.next_out = reinterpret_cast<Bytef *>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    const int status = inflate(&stream, Z_NO_FLUSH);
    const std::size_t produced = chunk.size() - stream.avail_out;
    if (out.size() + produced > kMaxInflatedBytes) {
      inflateEnd(&stream);
      return fail(source, 0,
                  "expected at most " +
                      std::to_string(kMaxInflatedBytes / (1024 * 1024)) +
                      " MiB of rules after decompression; refusing larger "
                      "output (zip bomb?)");
    }
    out.append(chunk.data(), produced);
    if (status == Z_STREAM_END)
      break;
    if (status == Z_OK)
      continue;
    const std::string detail = stream.msg ? std::string(": ") + stream.msg : "";
    inflateEnd(&stream);
    if (status == Z_BUF_ERROR)
      return fail(source, 0,
                  "expected a complete zlib stream, the deflated data ends "
                  "early");
    return fail(source, 0,
                "expected zlib-deflated data (base64 of Java's "
                "DeflaterOutputStream output)" + detail);
  }
  const bool trailing = stream.avail_in != 0;
  inflateEnd(&stream);
  if (trailing)
    return fail(source, 0,
                "expected one zlib stream, got " +
                    std::to_string(stream.avail_in) + " bytes after its end");
  return out;
}

std::string format_rule_string(const std::vector<SgRule> &rules) {
  std::string out;
  for (const auto &rule : rules) {
    out += rule.direction == Direction::ingress ? "I:" : "E:";
    out += rule.protocol + ";" + range_text(rule.start, rule.end) + ";";
    for (const auto &cidr : rule.cidrs)
      out += cidr + ",";
    out += "NEXT ";
  }
  return out;
}

Result<std::vector<SgRule>> parse_rules_file(std::string_view raw,
                                             const std::string &source) {
  const std::string text = clean_text(raw);
  std::vector<SgRule> rules;
  for (const Line &line : split_lines(text)) {
    std::string_view content = line.text;
    content = content.substr(0, content.find('#'));
    const auto words = split_blanks(content);
    if (words.empty())
      continue;
    if (rules.size() == kMaxRules)
      return fail(source, line.number,
                  "expected at most " + std::to_string(kMaxRules) + " rules");
    const RuleLine rule_line{words, source, line.number};
    SgRule rule;
    if (auto ok = parse_rule_line(rule_line, rule); !ok)
      return tl::unexpected(ok.error());
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string format_rule_readable(const SgRule &rule) {
  std::string out = rule.protocol;
  if (has_ports(rule.protocol)) {
    out += ' ' + std::to_string(rule.start);
    if (rule.end != rule.start)
      out += '-' + std::to_string(rule.end);
  } else if (is_icmp(rule.protocol)) {
    out += " type ";
    if (rule.start == -1) {
      out += "any";
    } else {
      out += std::to_string(rule.start) + " code ";
      out += rule.end == -1 ? std::string("any") : std::to_string(rule.end);
    }
  }
  const bool ingress = rule.direction == Direction::ingress;
  out += ingress ? " from " : " to ";
  if (rule.cidrs.empty())
    out += ingress ? "(nobody)" : "(nowhere)";
  else
    out += join_cidrs(rule.cidrs);
  return out;
}

std::string format_rules_file(const std::vector<SgRule> &rules) {
  std::string out;
  for (const auto &rule : rules) {
    out += to_string(rule.direction);
    out += ' ';
    out += format_rule_readable(rule);
    out += '\n';
  }
  return out;
}

Result<std::vector<std::string>> parse_secondary_ips(std::string_view text,
                                                     const std::string &source) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t semicolon = text.find(';', start);
    if (semicolon == std::string_view::npos)
      semicolon = text.size();
    items.emplace_back(text.substr(start, semicolon - start));
    start = semicolon + 1;
  }
  std::vector<std::string> ips;
  // CloudStack's "no secondary IPs" is "0;" (or "0") and nothing else: a
  // "0;" followed by more items is malformed, not empty.
  if (items.size() == 1 && items.front() == "0")
    return ips;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto ip = validate_ipv4(items[i]);
    if (!ip)
      return fail(source, i + 1, ip.error().message);
    ips.push_back(*ip);
  }
  return ips;
}

bool is_any_ipv4(const std::string &cidr) {
  return !is_ipv6_cidr(cidr) && ends_with(cidr, "/0");
}

bool is_ipv6_cidr(const std::string &cidr) {
  return cidr.find(':') != std::string::npos;
}

Result<std::vector<SgRule>> read_rules(const RulesSource &source) {
  if (!source.file.empty()) {
    auto text = read_input_file(source.file);
    if (!text)
      return tl::unexpected(text.error());
    return parse_rules_file(*text, source.file == "-" ? "<stdin>" : source.file);
  }
  if (source.deflated) {
    auto plain = decode_deflated(source.text, "--rules");
    if (!plain)
      return tl::unexpected(plain.error());
    return parse_rule_string(*plain, "--rules");
  }
  return parse_rule_string(source.text, "--rules");
}

} // namespace vifwall
