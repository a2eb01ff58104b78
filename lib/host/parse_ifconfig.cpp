#include "parse_ifconfig.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>

#include "text.hpp"

namespace vifwall {

namespace {

constexpr std::string_view kOldHeadMarker = "Link encap:";
constexpr std::string_view kNewHeadMarker = ": flags=";
constexpr std::string_view kNoStatistics = "- no statistics available -";

// Upstream 1.60 prints the name as "%-9.9s": a name that fills the column may
// have lost its tail.
constexpr std::size_t kOldNameWidth = 9;

bool has_blank(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t'; });
}

bool is_indented(std::string_view raw) {
  return !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string got_text(std::string_view value) {
  return value.empty() ? std::string("the end of the line")
                       : quote_for_error(value);
}

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  auto value = parse_u64(s);
  if (!value || *value > std::numeric_limits<std::uint32_t>::max())
    return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

// Removes "(...)" groups: the human-readable sizes "(1.3 GiB)" whose unit
// spelling differs between every build and which carry nothing the raw
// integer does not.
std::string without_parenthesised(std::string_view s) {
  std::string out;
  bool inside = false;
  for (char c : s) {
    if (inside) {
      if (c == ')')
        inside = false;
      continue;
    }
    if (c == '(') {
      inside = true;
      out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// ---- record heads ----------------------------------------------------------

struct OldHead {
  std::string_view name;
  std::string_view after_encap; // "Ethernet  HWaddr FE:FF:..."
};

// "NAME<blanks>Link encap:TITLE  [HWaddr MAC]": split at the marker, not by
// column, because RHEL builds print long names in full followed by one blank.
std::optional<OldHead> match_old_head(std::string_view line) {
  const auto pos = line.find(kOldHeadMarker);
  if (pos == std::string_view::npos)
    return std::nullopt;
  const auto name = trim(line.substr(0, pos));
  if (name.empty() || has_blank(name))
    return std::nullopt;
  return OldHead{name, line.substr(pos + kOldHeadMarker.size())};
}

struct NewHead {
  std::string_view name;
  std::string_view after_flags; // "4163<UP,...>  mtu 1500"
};

// "NAME: flags=N<...>  mtu M".  An alias name holds a ':' itself
// ("eth1:1: flags="), hence the last marker.
std::optional<NewHead> match_new_head(std::string_view line) {
  const auto pos = line.rfind(kNewHeadMarker);
  if (pos == std::string_view::npos)
    return std::nullopt;
  const auto name = trim(line.substr(0, pos));
  if (name.empty() || has_blank(name))
    return std::nullopt;
  return NewHead{name, line.substr(pos + kNewHeadMarker.size())};
}

bool is_short_header(std::string_view line) {
  const auto words = split_blanks(line);
  return words.size() >= 2 && words[0] == "Iface" &&
         std::find(words.begin(), words.end(), "MTU") != words.end();
}

// `netstat -i` prints this title above the same table `ifconfig -s` prints.
bool is_netstat_title(std::string_view line) {
  return trim(line) == "Kernel Interface table";
}

// ---- records ---------------------------------------------------------------

struct Record {
  Link link;
  bool old_layout = false;
  bool has_flags_line = false; // old layout: the "... MTU:n  Metric:m" line
};

void set_state(Link &link) {
  const auto has = [&](const char *flag) {
    return std::find(link.flags.begin(), link.flags.end(), flag) !=
           link.flags.end();
  };
  link.state = has("UP") && has("RUNNING") ? "up" : "down";
}

Result<Record> start_old_record(const OldHead &head, const Line &line,
                                const std::string &source) {
  Record record;
  record.old_layout = true;
  record.link.name = std::string(head.name);
  record.link.name_truncated = head.name.size() == kOldNameWidth;
  record.link.line = line.number;

  const auto words = split_blanks(head.after_encap);
  const auto hwaddr = std::find(words.begin(), words.end(), "HWaddr");
  std::string title;
  for (auto it = words.begin(); it != hwaddr; ++it)
    title += (title.empty() ? "" : " ") + std::string(*it);
  if (hwaddr == words.end())
    return record; // loopback, tunnels: no hardware address at all
  const std::string_view address =
      hwaddr + 1 != words.end() ? *(hwaddr + 1) : std::string_view{};
  if (auto mac = normalize_mac(address))
    record.link.mac = *mac;
  else if (title == "Ethernet")
    return fail(source, line.number,
                "expected a MAC address after \"HWaddr\", got " +
                    got_text(address));
  // Other link types (UNSPEC's 16 dash-separated bytes, InfiniBand's 20)
  // have no Ethernet MAC to report.
  return record;
}

Result<Record> start_new_record(const NewHead &head, const Line &line,
                                const std::string &source) {
  Record record;
  record.link.name = std::string(head.name);
  record.link.line = line.number;

  const auto words = split_blanks(head.after_flags);
  const std::string_view flags_word = words.empty() ? "" : words[0];
  std::size_t digits = 0;
  while (digits < flags_word.size() &&
         std::isdigit(static_cast<unsigned char>(flags_word[digits])))
    ++digits;
  if (digits == 0)
    return fail(source, line.number,
                "expected a number after \"flags=\", got " +
                    got_text(flags_word));
  // "4163<UP,BROADCAST>", and the degenerate "0<" or bare "N" that 2.x prints
  // when no known flag bit is set.
  std::string_view list = flags_word.substr(digits);
  if (!list.empty() && list.front() != '<')
    return fail(source, line.number,
                "expected \"<\" after the flags number, got " +
                    quote_for_error(flags_word));
  if (!list.empty())
    list.remove_prefix(1);
  if (!list.empty() && list.back() == '>')
    list.remove_suffix(1);
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto word = list.substr(0, comma);
    if (!word.empty())
      record.link.flags.push_back(upper(word));
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  set_state(record.link);

  const auto mtu_word = std::find(words.begin(), words.end(), "mtu");
  const std::string_view mtu_value =
      mtu_word != words.end() && mtu_word + 1 != words.end()
          ? *(mtu_word + 1)
          : std::string_view{};
  if (mtu_word == words.end())
    return fail(source, line.number,
                "expected \"mtu N\" after \"flags=\", got " +
                    got_text(trim(head.after_flags)));
  auto mtu = parse_u32(mtu_value);
  if (!mtu)
    return fail(source, line.number,
                "expected a number after \"mtu\", got " + got_text(mtu_value));
  record.link.mtu = *mtu;
  return record;
}

// "RX packets:11 errors:0 dropped:0 ..." (old), "RX bytes:1098 (1.0 KiB)  TX
// bytes:13418 (13.1 KiB)" (old, both directions on one line), "RX packets 53
// bytes 7422 (7.2 KiB)", "TX errors 0  dropped 0 overruns 0 ..." (new).
// Words "RX"/"TX" pick the direction; then "key:value" or "key value" pairs.
// Only the counters the model keeps are checked; overruns, frame, carrier,
// collisions, compressed are skipped.
Result<void> parse_counters(std::string_view body, Link &link, const Line &line,
                            const std::string &source) {
  const std::string cleaned = without_parenthesised(body);
  const auto words = split_blanks(cleaned);
  Counters *direction = nullptr;
  std::string_view direction_name;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto word = words[i];
    if (word == "RX" || word == "TX") {
      direction = word == "RX" ? &link.rx : &link.tx;
      direction_name = word;
      continue;
    }
    std::string_view key, value;
    const auto colon = word.find(':');
    if (colon != std::string_view::npos) {
      key = word.substr(0, colon);
      value = word.substr(colon + 1);
    } else {
      key = word;
      value = i + 1 < words.size() ? words[++i] : std::string_view{};
    }
    if (direction == nullptr)
      continue; // cannot happen: callers pass lines starting with RX/TX
    std::optional<std::uint64_t> *target = nullptr;
    if (key == "packets")
      target = &direction->packets;
    else if (key == "bytes")
      target = &direction->bytes;
    else if (key == "errors")
      target = &direction->errors;
    else if (key == "dropped")
      target = &direction->dropped;
    if (target == nullptr)
      continue;
    auto number = parse_u64(value);
    if (!number) {
      const std::string label = std::string(direction_name) + " " + std::string(key) +
                                (colon != std::string_view::npos ? ":" : "");
      return fail(source, line.number,
                  "expected a number after \"" + label + "\", got " +
                      got_text(value));
    }
    *target = *number;
  }
  return {};
}

// Old layout: "UP BROADCAST RUNNING NOARP PROMISC  MTU:1500  Metric:1", or
// "[NO FLAGS]  MTU:..." when no flag is set.
Result<void> parse_old_flags(std::string_view body, Record &record,
                             const Line &line, const std::string &source) {
  Link &link = record.link;
  link.flags.clear();
  bool before_mtu = true;
  for (const auto word : split_blanks(body)) {
    if (starts_with(word, "MTU:")) {
      const auto value = word.substr(4);
      auto mtu = parse_u32(value);
      if (!mtu)
        return fail(source, line.number,
                    "expected a number after \"MTU:\", got " + got_text(value));
      link.mtu = *mtu;
      before_mtu = false;
    } else if (before_mtu && word != "[NO" && word != "FLAGS]") {
      link.flags.push_back(upper(word));
    }
  }
  set_state(link);
  record.has_flags_line = true;
  return {};
}

// New layout: "ether fe:ff:ff:ff:ff:ff  txqueuelen 32  (Ethernet)",
// "loop  txqueuelen 1000  (Local Loopback)", "unspec 00-00-...-00  ...".
Result<void> parse_new_hardware(std::string_view body, Link &link,
                                const Line &line, const std::string &source) {
  const auto words = split_blanks(body.substr(0, body.rfind('(')));
  if (words.size() < 2 || words[1] == "txqueuelen")
    return {};
  if (auto mac = normalize_mac(words[1]))
    link.mac = *mac;
  else if (words[0] == "ether")
    return fail(source, line.number,
                "expected a MAC address after \"ether\", got " +
                    quote_for_error(words[1]));
  return {};
}

bool starts_with_any(std::string_view body,
                     std::initializer_list<std::string_view> prefixes) {
  for (const auto prefix : prefixes)
    if (starts_with(body, prefix))
      return true;
  return false;
}

// Detail lines recognised by their words, needed when a pasted copy lost its
// indentation; none of them carries anything the model keeps.
bool is_known_ignored_line(std::string_view body) {
  return starts_with_any(
             body, {"inet ", "inet6 ", "inet addr:", "inet6 addr:",
                    "collisions:", "Interrupt:", "Base address:", "Memory:",
                    "DMA chan:", "compressed:", "device ", "media "}) ||
         body.find(" addr:") !=
             std::string_view::npos; // IPX, EtherTalk, econet
}

Result<void> parse_detail_line(const Line &line, Record &record,
                               const std::string &source) {
  const auto body = trim(line.text);
  const auto words = split_blanks(body);
  if (words[0] == "RX" || words[0] == "TX")
    return parse_counters(body, record.link, line, source);
  if (record.old_layout &&
      std::any_of(words.begin(), words.end(),
                  [](std::string_view w) { return starts_with(w, "MTU:"); }))
    return parse_old_flags(body, record, line, source);
  if (is_known_ignored_line(body))
    return {};
  if (!record.old_layout && ends_with(body, ")") &&
      body.find('(') != std::string_view::npos)
    return parse_new_hardware(body, record.link, line, source);
  if (is_indented(line.text))
    return {}; // unknown detail of some build or hardware type: not ours
  return fail(
      source, line.number,
      "expected an ifconfig detail line of " + quote_for_error(record.link.name) +
          " (flags, addresses, RX/TX counters) or a new record, got " +
          quote_for_error(body));
}

// Statistics come as a block: all of them, or none (aliases).  A record with
// only some was cut (`head`, a dropped SSH session) or damaged, and its
// zeros would read as real values downstream.
Result<void> check_complete(const Record &record, const std::string &source) {
  const Link &link = record.link;
  if (record.old_layout && !record.has_flags_line)
    return fail(source, link.line,
                "expected a flags line with \"MTU:\" in the record of " +
                    quote_for_error(link.name) + ", got none (output cut?)");
  struct Slot {
    const char *label;
    const std::optional<std::uint64_t> &value;
  };
  const Slot slots[] = {
      {"RX packets", link.rx.packets}, {"RX bytes", link.rx.bytes},
      {"RX errors", link.rx.errors},   {"RX dropped", link.rx.dropped},
      {"TX packets", link.tx.packets}, {"TX bytes", link.tx.bytes},
      {"TX errors", link.tx.errors},   {"TX dropped", link.tx.dropped}};
  const bool any =
      std::any_of(std::begin(slots), std::end(slots),
                  [](const Slot &s) { return s.value.has_value(); });
  if (!any)
    return {};
  for (const auto &slot : slots)
    if (!slot.value)
      return fail(source, link.line,
                  std::string("expected the \"") + slot.label +
                      "\" counter with the other statistics of " +
                      quote_for_error(link.name) + ", got none (output cut?)");
  return {};
}

// ---- ifconfig -s -----------------------------------------------------------

// Letters of ife_print_short, printed in this fixed order:
// A B D L M d P(PROMISC) N O P(POINTOPOINT) s m R U.  'P' means both bits; a
// lone P after N or O can only be POINTOPOINT, otherwise it is taken as
// PROMISC (point-to-point links are NOARP, so they print "O" first).
std::vector<std::string> short_flags(std::string_view letters) {
  struct Letter {
    char letter;
    const char *flag;
  };
  static constexpr Letter kLetters[] = {
      {'A', "ALLMULTI"},   {'B', "BROADCAST"}, {'D', "DEBUG"},
      {'L', "LOOPBACK"},   {'M', "MULTICAST"}, {'d', "DYNAMIC"},
      {'N', "NOTRAILERS"}, {'O', "NOARP"},     {'s', "SLAVE"},
      {'m', "MASTER"},     {'R', "RUNNING"},   {'U', "UP"}};
  std::vector<std::string> flags;
  if (letters == "[NO FLAGS]")
    return flags;
  bool after_n_or_o = false;
  bool seen_promisc = false;
  for (char c : letters) {
    if (c == 'P') {
      const bool point_to_point = after_n_or_o || seen_promisc;
      flags.push_back(point_to_point ? "POINTOPOINT" : "PROMISC");
      seen_promisc = seen_promisc || !point_to_point;
      continue;
    }
    if (c == 'N' || c == 'O')
      after_n_or_o = true;
    const auto known =
        std::find_if(std::begin(kLetters), std::end(kLetters),
                     [c](const Letter &l) { return l.letter == c; });
    // An unknown letter is kept as printed rather than failing the table.
    flags.push_back(known != std::end(kLetters) ? std::string(known->flag)
                                                : std::string(1, c));
  }
  return flags;
}

// The `netstat -i` table: columns are found by header word, not position, so
// the old layout with "Met" and the new one without both work, and numbers
// wider than their column (which push the row right) do not matter.
Result<std::vector<Link>> parse_short(const std::vector<Line> &lines,
                                      std::size_t header_index,
                                      const std::string &source) {
  const auto header = split_blanks(lines[header_index].text);
  const auto column = [&](std::string_view name) -> std::optional<std::size_t> {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end())
      return std::nullopt;
    return static_cast<std::size_t>(it - header.begin());
  };
  const auto flags_column = column("Flg");
  const auto mtu_column = column("MTU");
  // net-tools 1.60 prints "%-5.5s" names under a header with "Met".
  const bool old_table = column("Met").has_value();

  std::vector<Link> links;
  for (std::size_t i = header_index + 1; i < lines.size(); ++i) {
    const Line &line = lines[i];
    const auto body = trim(line.text);
    if (body.empty())
      continue;
    Link link;
    link.line = line.number;
    std::vector<std::string_view> cells;
    std::string_view flags_text;
    const auto no_stats = body.find(kNoStatistics);
    if (no_stats != std::string_view::npos) {
      cells = split_blanks(body.substr(0, no_stats));
      flags_text = trim(body.substr(no_stats + kNoStatistics.size()));
      if (cells.empty())
        return fail(source, line.number,
                    "expected an interface name before \"" +
                        std::string(kNoStatistics) + "\"");
    } else {
      cells = split_blanks(body);
      // "[NO FLAGS]" is the only cell with a blank in it.
      if (cells.size() >= 2 && cells.back() == "FLAGS]" &&
          cells[cells.size() - 2] == "[NO") {
        cells.pop_back();
        cells.back() = "[NO FLAGS]";
      }
      // A row may lack the Flg cell when no printable flag bit is set.
      const bool complete = cells.size() == header.size();
      const bool without_flags = flags_column &&
                                 *flags_column == header.size() - 1 &&
                                 cells.size() == header.size() - 1;
      if (!complete && !without_flags)
        return fail(source, line.number,
                    "expected " + std::to_string(header.size()) +
                        " columns like the header, got " +
                        std::to_string(cells.size()) + " in " +
                        quote_for_error(body));
      if (flags_column && *flags_column < cells.size())
        flags_text = cells[*flags_column];
    }
    link.name = std::string(cells[0]);
    link.name_truncated = old_table && link.name.size() == 5;
    if (mtu_column && *mtu_column < cells.size()) {
      auto mtu = parse_u32(cells[*mtu_column]);
      if (!mtu)
        return fail(source, line.number,
                    "expected a number in column \"MTU\", got " +
                        quote_for_error(cells[*mtu_column]));
      link.mtu = *mtu;
    }
    if (no_stats == std::string_view::npos) {
      struct Mapping {
        std::string_view header;
        std::optional<std::uint64_t> &target;
      };
      const Mapping mappings[] = {
          {"RX-OK", link.rx.packets},  {"RX-ERR", link.rx.errors},
          {"RX-DRP", link.rx.dropped}, {"TX-OK", link.tx.packets},
          {"TX-ERR", link.tx.errors},  {"TX-DRP", link.tx.dropped}};
      for (const auto &mapping : mappings) {
        const auto index = column(mapping.header);
        if (!index || *index >= cells.size())
          continue;
        auto value = parse_u64(cells[*index]);
        if (!value)
          return fail(source, line.number,
                      "expected a number in column \"" +
                          std::string(mapping.header) + "\", got " +
                          quote_for_error(cells[*index]));
        mapping.target = *value;
      }
    }
    link.flags = short_flags(flags_text);
    set_state(link);
    links.push_back(std::move(link));
  }
  return links;
}

std::string first_line_expectation() {
  return "expected an ifconfig record (\"NAME  Link encap:...\" or \"NAME: "
         "flags=...\") or the \"ifconfig -s\" header (\"Iface  MTU ...\"), "
         "got ";
}

} // namespace

bool looks_like_ifconfig(std::string_view text) {
  const std::string cleaned = clean_text(leading_lines(text, 2));
  const auto lines = split_lines(cleaned);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto body = trim(lines[i].text);
    if (body.empty())
      continue;
    if (is_netstat_title(body))
      return i + 1 < lines.size() && is_short_header(lines[i + 1].text);
    return match_old_head(body) || match_new_head(body) ||
           is_short_header(body);
  }
  return false;
}

Result<std::vector<Link>> parse_ifconfig(std::string_view text,
                                         const std::string &source) {
  const std::string cleaned = clean_text(text);
  const auto lines = split_lines(cleaned);
  std::vector<Link> links;
  std::optional<Record> current;
  bool seen_content = false;

  const auto finish = [&]() -> Result<void> {
    if (!current)
      return {};
    auto complete = check_complete(*current, source);
    if (!complete)
      return tl::unexpected(complete.error());
    links.push_back(std::move(current->link));
    current.reset();
    return {};
  };

  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line &line = lines[i];
    const auto body = trim(line.text);
    if (body.empty()) {
      if (auto done = finish(); !done)
        return tl::unexpected(done.error());
      continue;
    }
    if (!seen_content) {
      seen_content = true;
      if (is_netstat_title(body) && i + 1 < lines.size() &&
          is_short_header(lines[i + 1].text))
        return parse_short(lines, i + 1, source);
      if (is_short_header(body))
        return parse_short(lines, i, source);
    }
    if (auto head = match_old_head(body)) {
      if (auto done = finish(); !done)
        return tl::unexpected(done.error());
      auto record = start_old_record(*head, line, source);
      if (!record)
        return tl::unexpected(record.error());
      current = std::move(*record);
      continue;
    }
    if (auto head = match_new_head(body)) {
      if (auto done = finish(); !done)
        return tl::unexpected(done.error());
      auto record = start_new_record(*head, line, source);
      if (!record)
        return tl::unexpected(record.error());
      current = std::move(*record);
      continue;
    }
    if (!current) {
      if (links.empty())
        return fail(source, line.number,
                    first_line_expectation() + quote_for_error(body));
      return fail(source, line.number,
                  "expected a new ifconfig record (\"NAME  Link encap:...\" "
                  "or \"NAME: flags=...\") after the blank line, got " +
                      quote_for_error(body));
    }
    if (auto parsed = parse_detail_line(line, *current, source); !parsed)
      return tl::unexpected(parsed.error());
  }
  if (auto done = finish(); !done)
    return tl::unexpected(done.error());
  return links;
}

} // namespace vifwall
