#include "parse_ip_link.hpp"

#include <algorithm>
#include <climits>
#include <optional>

#include "text.hpp"

namespace vifwall {

namespace {

// A line as the parser sees it: a physical line, or one piece of an `ip -o`
// line (which keeps the physical line's number).
struct LogicalLine {
  std::string_view text;
  std::size_t number;
};

bool is_blank_char(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

// `ip -o` prints a record's inner newlines as '\' and keeps the indentation
// that follows ("qlen 1000\    link/ether ..."), so a backslash followed by a
// blank is a line break.  A backslash anywhere else is left alone.
std::vector<LogicalLine> logical_lines(std::string_view text) {
  std::vector<LogicalLine> out;
  for (const Line &line : split_lines(text)) {
    std::string_view rest = line.text;
    std::size_t start = 0;
    for (std::size_t i = 0; i + 1 < rest.size(); ++i) {
      if (rest[i] == '\\' && is_blank_char(rest[i + 1])) {
        out.push_back({rest.substr(start, i - start), line.number});
        start = i + 1;
      }
    }
    out.push_back({rest.substr(start), line.number});
  }
  return out;
}

// "N:" at the start: what every record header (and nothing else ip prints
// in these outputs, stats rows included) begins with.
bool is_record_start(std::string_view trimmed) {
  std::size_t i = 0;
  while (i < trimmed.size() && trimmed[i] >= '0' && trimmed[i] <= '9')
    ++i;
  return i > 0 && i < trimmed.size() && trimmed[i] == ':';
}

bool is_operstate_word(std::string_view word) {
  static const std::string_view states[] = {
      "UP", "DOWN", "UNKNOWN", "LOWERLAYERDOWN", "DORMANT", "NOTPRESENT",
      "TESTING"};
  return std::find(std::begin(states), std::end(states), word) !=
         std::end(states);
}

// What a line that should have been a record header looks like instead, so
// the error can name the command that was probably run.
std::string format_hint(std::string_view trimmed) {
  if (!trimmed.empty() && (trimmed.front() == '[' || trimmed.front() == '{'))
    return " (this looks like JSON, the output of `ip -j`)";
  const auto words = split_blanks(trimmed);
  if (is_record_start(trimmed) && words.size() >= 3 &&
      (words[2] == "inet" || words[2] == "inet6" ||
       starts_with(words[2], "link/")))
    return " (this looks like `ip -o addr`, which has no link details; "
           "use `ip -o link`)";
  if (words.size() >= 2 && is_operstate_word(words[1]))
    return " (this looks like `ip -br` output)";
  return "";
}

const char *const kHeaderGrammar = "\"N: NAME: <FLAGS> mtu N ...\"";

// "BROADCAST,MULTICAST,UP" -> its words; "" (no flags, `<>`) -> none.
std::vector<std::string> split_flags(std::string_view flags) {
  std::vector<std::string> out;
  while (!flags.empty()) {
    const std::size_t comma = flags.find(',');
    if (comma != 0)
      out.emplace_back(flags.substr(0, comma));
    if (comma == std::string_view::npos)
      break;
    flags.remove_prefix(comma + 1);
  }
  return out;
}

bool has_flag(const Link &link, std::string_view flag) {
  return std::find(link.flags.begin(), link.flags.end(), flag) !=
         link.flags.end();
}

// L1: IFINDEX ": " NAME ["@" PEER] ": <" FLAGS "> " {KEY VALUE}.
Result<Link> parse_record_header(std::string_view trimmed, std::size_t number,
                                 const std::string &source) {
  auto malformed = [&](const std::string &what) {
    return fail(source, number,
                what + ", got " + quote_for_error(trimmed) +
                    format_hint(trimmed));
  };
  const std::size_t colon = trimmed.find(':');
  const auto ifindex = parse_u64(trimmed.substr(0, colon));
  if (!ifindex || *ifindex > static_cast<std::uint64_t>(INT_MAX))
    return malformed(std::string("expected ") + kHeaderGrammar +
                     " with an interface index");
  std::string_view rest = trimmed.substr(colon + 1);
  if (rest.empty() || !is_blank_char(rest.front()))
    return malformed(std::string("expected ") + kHeaderGrammar);
  rest = trim(rest);
  const std::size_t name_end = rest.find(": <");
  if (name_end == std::string_view::npos)
    return malformed(std::string("expected ") + kHeaderGrammar);
  const std::string_view name_field = rest.substr(0, name_end);
  const std::string_view name = name_field.substr(0, name_field.find('@'));
  if (name.empty() ||
      std::any_of(name_field.begin(), name_field.end(), is_blank_char))
    return malformed(std::string("expected ") + kHeaderGrammar +
                     " with a NAME without blanks");
  rest = rest.substr(name_end + 3);
  const std::size_t flags_end = rest.find('>');
  if (flags_end == std::string_view::npos)
    return malformed("expected \">\" closing the flags of " +
                     quote_for_error(name));

  Link link;
  link.name = std::string(name);
  link.ifindex = static_cast<int>(*ifindex);
  link.line = number;
  link.flags = split_flags(rest.substr(0, flags_end));

  const auto words = split_blanks(rest.substr(flags_end + 1));
  bool state_printed = false;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string_view key = words[i];
    if (key != "mtu" && key != "master" && key != "state")
      continue; // qdisc, mode, group, qlen and whatever later builds add
    if (i + 1 == words.size())
      return fail(source, number,
                  "expected a value after " + quote_for_error(key) +
                      ", got end of line");
    const std::string_view value = words[++i];
    if (key == "mtu") {
      const auto mtu = parse_u64(value);
      if (!mtu || *mtu > UINT32_MAX)
        return fail(source, number,
                    "expected a number after \"mtu\", got " +
                        quote_for_error(value));
      link.mtu = static_cast<std::uint32_t>(*mtu);
    } else if (key == "master") {
      link.master = std::string(value);
    } else {
      link.state = to_lower(value);
      state_printed = true;
    }
  }
  // Old builds (CentOS 5) print no operstate; the kernel's flags say the same.
  if (!state_printed)
    link.state = has_flag(link, "UP") && has_flag(link, "LOWER_UP") ? "up"
                                                                     : "down";
  return link;
}

// L2: "link/" TYPE [ADDR [brd ADDR]] ...; only Ethernet addresses are MACs.
Result<std::optional<std::string>>
parse_link_layer(std::string_view trimmed, std::size_t number,
                 const std::string &source) {
  const auto words = split_blanks(trimmed);
  if (words[0] != "link/ether")
    return std::optional<std::string>();
  if (words.size() < 2)
    return fail(source, number,
                "expected a MAC after \"link/ether\", got end of line");
  auto mac = normalize_mac(words[1]);
  if (!mac)
    return fail(source, number,
                "expected a MAC after \"link/ether\", got " +
                    quote_for_error(words[1]));
  return mac;
}

// `ip -h` prints "6.04T", "67.7M": digits, maybe a fraction, a unit letter.
bool is_human_readable_number(std::string_view word) {
  if (word.size() < 2 ||
      std::string_view("KMGTPE").find(word.back()) == std::string_view::npos)
    return false;
  word.remove_suffix(1);
  return std::all_of(word.begin(), word.end(), [](char c) {
           return (c >= '0' && c <= '9') || c == '.';
         }) &&
         word.front() != '.';
}

// A stats header ("RX: bytes packets ..." or "TX errors: aborted ...") whose
// row of numbers is expected on the next line.
struct PendingStatsRow {
  Counters *target = nullptr; // nullptr for the `-s -s` error rows
  std::vector<std::string_view> columns;
  std::string_view header;
  std::size_t header_line = 0;
};

// Recognizes a stats header; the column words are what follows the label.
std::optional<PendingStatsRow> stats_header(std::string_view trimmed,
                                            std::size_t number, Link &link) {
  auto words = split_blanks(trimmed);
  PendingStatsRow row;
  row.header = trimmed;
  row.header_line = number;
  std::size_t label_words = 0;
  if (words[0] == "RX:" || words[0] == "TX:") {
    row.target = words[0] == "RX:" ? &link.rx : &link.tx;
    label_words = 1;
  } else if ((words[0] == "RX" || words[0] == "TX") && words.size() > 1 &&
             words[1] == "errors:") {
    label_words = 2;
  } else {
    return std::nullopt;
  }
  row.columns.assign(words.begin() + static_cast<std::ptrdiff_t>(label_words),
                     words.end());
  return row;
}

std::string truncated_stats_message(const PendingStatsRow &row) {
  return quote_for_error(row.header) +
         " has no row of counters under it (truncated output?)";
}

Result<void> read_stats_row(const PendingStatsRow &row,
                            std::string_view trimmed, std::size_t number,
                            const std::string &source) {
  const auto words = split_blanks(trimmed);
  std::vector<std::uint64_t> values;
  for (const std::string_view word : words) {
    const auto value = parse_u64(word);
    if (!value) {
      std::string message = "expected a number in the counters under " +
                            quote_for_error(row.header) + " (line " +
                            std::to_string(row.header_line) + "), got " +
                            quote_for_error(word);
      if (is_human_readable_number(word))
        message += "; human-readable counters (ip -h) are not supported, "
                   "run ip without -h";
      return fail(source, number, message);
    }
    values.push_back(*value);
  }
  if (values.size() != row.columns.size())
    return fail(source, number,
                "expected " + std::to_string(row.columns.size()) +
                    " counters, one per word of " +
                    quote_for_error(row.header) + " (line " +
                    std::to_string(row.header_line) + "), got " +
                    std::to_string(values.size()));
  if (row.target == nullptr)
    return {};
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string_view column = row.columns[i];
    if (column == "bytes")
      row.target->bytes = values[i];
    else if (column == "packets")
      row.target->packets = values[i];
    else if (column == "errors")
      row.target->errors = values[i];
    else if (column == "dropped")
      row.target->dropped = values[i];
  }
  return {};
}

} // namespace

Result<std::vector<Link>> parse_ip_link(std::string_view text,
                                        const std::string &source) {
  const std::string cleaned = clean_text(text);
  std::vector<Link> links;
  bool link_layer_seen = false;
  std::optional<PendingStatsRow> pending;

  for (const LogicalLine &line : logical_lines(cleaned)) {
    const std::string_view trimmed = trim(line.text);
    if (pending) {
      if (trimmed.empty() || is_record_start(trimmed))
        return fail(source, pending->header_line,
                    truncated_stats_message(*pending));
      auto row = read_stats_row(*pending, trimmed, line.number, source);
      if (!row)
        return tl::unexpected(row.error());
      pending.reset();
      continue;
    }
    if (trimmed.empty())
      continue;
    if (is_record_start(trimmed)) {
      auto link = parse_record_header(trimmed, line.number, source);
      if (!link)
        return tl::unexpected(link.error());
      links.push_back(std::move(*link));
      link_layer_seen = false;
      continue;
    }
    if (links.empty())
      return fail(source, line.number,
                  std::string("expected ") + kHeaderGrammar +
                      " (ip link output), got " + quote_for_error(trimmed) +
                      format_hint(trimmed));
    Link &link = links.back();
    if (starts_with(trimmed, "link/") && !link_layer_seen) {
      auto mac = parse_link_layer(trimmed, line.number, source);
      if (!mac)
        return tl::unexpected(mac.error());
      link.mac = std::move(*mac);
      link_layer_seen = true;
      continue;
    }
    // Anything else (inet lines, -d details, altname) is skipped.
    pending = stats_header(trimmed, line.number, link);
  }
  if (pending)
    return fail(source, pending->header_line,
                truncated_stats_message(*pending));
  return links;
}

bool looks_like_ip_link(std::string_view text) {
  const std::string cleaned = clean_text(leading_lines(text, 2));
  for (const LogicalLine &line : logical_lines(cleaned)) {
    const std::string_view trimmed = trim(line.text);
    if (trimmed.empty())
      continue;
    return is_record_start(trimmed) &&
           parse_record_header(trimmed, line.number, "").has_value();
  }
  return false;
}

Result<std::vector<Link>> parse_ip_link_brief(std::string_view text,
                                              const std::string &source) {
  const std::string cleaned = clean_text(text);
  std::vector<Link> links;
  for (const Line &line : split_lines(cleaned)) {
    const auto words = split_blanks(line.text);
    if (words.empty())
      continue;
    // STATE is an operstate word; accepting any upper-case word keeps states
    // that later kernels may add.
    const bool state_ok =
        words.size() >= 2 &&
        std::all_of(words[1].begin(), words[1].end(),
                    [](char c) { return c >= 'A' && c <= 'Z'; });
    const std::string_view name = words[0].substr(0, words[0].find('@'));
    if (!state_ok || name.empty())
      return fail(source, line.number,
                  "expected \"NAME STATE [MAC] [<FLAGS>]\" (ip -br link "
                  "output), got " +
                      quote_for_error(trim(line.text)));
    Link link;
    link.name = std::string(name);
    link.state = to_lower(words[1]);
    link.line = line.number;
    for (std::size_t i = 2; i < words.size(); ++i) {
      const std::string_view word = words[i];
      if (word.size() >= 2 && word.front() == '<' && word.back() == '>') {
        link.flags = split_flags(word.substr(1, word.size() - 2));
      } else if (i == 2) {
        // Right after STATE `-br link` prints the link-layer address;
        // `-br addr` prints IP addresses ("10.1.1.1/24"): no MAC, skipped.
        link.mac = normalize_mac(word);
      }
    }
    if (has_flag(link, "LOOPBACK"))
      link.mac.reset();
    links.push_back(std::move(link));
  }
  return links;
}

} // namespace vifwall
