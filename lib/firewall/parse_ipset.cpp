#include "parse_ipset.hpp"

#include <unordered_map>

#include <algorithm>
#include <cstdint>

#include "rule_words.hpp"
#include "text.hpp"

namespace vifwall {

namespace {

// Fills family/options from the create options or the "Header:" words
// (words[from] on).
void take_create_options(IpSet &set, const std::vector<std::string_view> &words,
                         std::size_t from) {
  set.options.reserve(set.options.size() + words.size() - std::min(from, words.size()));
  for (std::size_t i = from; i < words.size(); ++i) {
    if (words[i] == "family" && i + 1 < words.size()) {
      set.family = words[++i];
      continue;
    }
    set.options.emplace_back(words[i]);
  }
}

// Whether a set of `type` has one dimension and it is an address ("hash:ip",
// "hash:net", "bitmap:ip"): normalize_ipset_member reads its members as
// addresses alone.
bool is_address_type(std::string_view type) {
  const auto colon = type.find(':');
  if (colon == std::string_view::npos)
    return false;
  const std::string_view dims = type.substr(colon + 1);
  return dims == "ip" || dims == "net";
}

// `s` as std::to_string prints a number from 0 to `max` (no sign, no
// leading zero), into `value`.
bool is_printed_number(std::string_view s, unsigned max, unsigned &value) {
  if (s.empty() || s.size() > 3 || (s[0] == '0' && s.size() > 1))
    return false;
  value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= max;
}

// True when `elem` of an address type is already what normalize_ipset_member
// makes of it, as `ipset save` prints IPv4 members: a dotted quad of printed
// numbers, and a prefix below 32 with no host bits set (a host has none).
// The kernel's own listing is canonical, so most members skip the rebuild;
// anything else (IPv6, ranges, "/32", leading zeros) goes through it.
bool is_canonical_ipv4(std::string_view elem) {
  const auto slash = elem.find('/');
  std::string_view rest = elem.substr(0, slash);
  std::uint32_t address = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const auto dot = octet < 3 ? rest.find('.') : rest.size();
    unsigned number = 0;
    if (dot == std::string_view::npos || !is_printed_number(rest.substr(0, dot), 255, number))
      return false;
    address = address << 8 | number;
    rest.remove_prefix(octet < 3 ? dot + 1 : dot);
  }
  if (slash == std::string_view::npos)
    return true;
  unsigned prefix = 0;
  if (!is_printed_number(elem.substr(slash + 1), 31, prefix))
    return false;
  const std::uint32_t host_bits = prefix == 0 ? ~std::uint32_t{0} : ~(~std::uint32_t{0} << (32 - prefix));
  return (address & host_bits) == 0;
}

// One element and what follows it (words[from] on): "192.168.50.0/24 packets
// 0 bytes 0 comment "mgmt lan"".
void add_member(IpSet &set, const std::vector<std::string_view> &words, std::size_t from) {
  const std::string_view elem = words[from];
  std::string member = is_address_type(set.type) && is_canonical_ipv4(elem)
                           ? std::string(elem)
                           : normalize_ipset_member(set.type, elem);
  std::vector<std::string> extras;
  for (std::size_t i = from + 1; i < words.size(); ++i) {
    if (words[i] == "nomatch")
      member += " nomatch"; // an exception entry: part of what the set means
    else
      extras.emplace_back(words[i]);
  }
  if (!extras.empty())
    set.member_options[member] = std::move(extras);
  set.members.push_back(std::move(member));
}

void sort_members(IpSet &set) {
  std::sort(set.members.begin(), set.members.end());
  set.members.erase(std::unique(set.members.begin(), set.members.end()), set.members.end());
}

bool has_option(const IpSet &set, std::string_view option) {
  return std::find(set.options.begin(), set.options.end(), option) != set.options.end();
}

} // namespace

Result<IpsetDump> parse_ipset_save(std::string_view text, const std::string &source) {
  const std::string cleaned = clean_text(text);
  IpsetDump dump;
  std::unordered_map<std::string, std::size_t> set_index; // name -> index in dump.sets
  std::size_t last_add = SIZE_MAX; // the set of the last "add": adds come in runs of one set
  RuleWordSplitter splitter;
  const std::vector<std::string_view> &words = splitter.words;
  for (const Line &line : split_lines(cleaned)) {
    const std::string_view text_line = trim(line.text);
    if (text_line.empty() || text_line.front() == '#')
      continue;
    if (!splitter.split(text_line))
      return fail(source, line.number,
                  "expected a closing '\"', got end of line in " + quote_for_error(text_line));
    const std::string_view command = words.front();
    if (command == "-N" || command == "-A" || command == "-B")
      return fail(source, line.number,
                  "expected \"create\" or \"add\" (ipset 6+ save format), got " +
                      quote_for_error(text_line) + " (ipset 4.x syntax is not supported)");
    if (command == "create") {
      if (words.size() < 3)
        return fail(source, line.number,
                    "expected \"create NAME TYPE ...\", got " + quote_for_error(text_line));
      // ipset refuses an empty name or type (`create "" hash:ip`), and an
      // empty name could never be referred to by a rule.
      if (words[1].empty() || words[2].empty())
        return fail(source, line.number,
                    std::string("expected a set ") + (words[1].empty() ? "name" : "type") +
                        " after \"create\", got \"\" in " + quote_for_error(text_line));
      const auto [seen, created] = set_index.try_emplace(std::string(words[1]), dump.sets.size());
      if (!created)
        return fail(source, line.number,
                    "expected a new set, got " + quote_for_error(words[1]) +
                        " again (created at line " +
                        std::to_string(dump.sets[seen->second].line) + ")");
      IpSet set;
      set.name = seen->first;
      set.type = words[2];
      set.line = line.number;
      take_create_options(set, words, 3);
      dump.sets.push_back(std::move(set));
      continue;
    }
    if (command == "add") {
      if (words.size() < 3)
        return fail(source, line.number,
                    "expected \"add NAME ELEMENT ...\", got " + quote_for_error(text_line));
      if (last_add == SIZE_MAX || dump.sets[last_add].name != words[1]) {
        auto found = set_index.find(std::string(words[1]));
        if (found == set_index.end())
          return fail(source, line.number,
                      "expected a set created by an earlier \"create\" line, got " +
                          quote_for_error(words[1]));
        last_add = found->second;
      }
      add_member(dump.sets[last_add], words, 2);
      continue;
    }
    return fail(source, line.number,
                "expected \"create NAME TYPE ...\" or \"add NAME ELEMENT ...\", got " +
                    quote_for_error(text_line));
  }
  for (IpSet &set : dump.sets)
    sort_members(set);
  return dump;
}

Result<IpsetDump> parse_ipset_list(std::string_view text, const std::string &source) {
  const std::string cleaned = clean_text(text);
  IpsetDump dump;
  bool in_members = false;
  bool saw_members = false;
  bool saw_type = false;
  std::size_t last_line = 0;
  RuleWordSplitter splitter;

  // Checks the record just read, at `at` (its last line).
  auto finish = [&](std::size_t at) -> std::optional<Error> {
    if (dump.sets.empty())
      return std::nullopt;
    IpSet &set = dump.sets.back();
    if (!saw_type)
      return Error{source, at,
                   "expected \"Type: TYPE\" in the record of set " + quote_for_error(set.name) +
                       " (line " + std::to_string(set.line) + "), got none"};
    if (saw_members && set.entries && !has_option(set, "timeout") &&
        set.members.size() < *set.entries)
      return Error{source, at,
                   "expected " + counted(*set.entries, "member") + " in set " +
                       quote_for_error(set.name) + " (\"Number of entries\"), got " +
                       std::to_string(set.members.size()) + " (truncated?)"};
    sort_members(set);
    return std::nullopt;
  };

  for (const Line &line : split_lines(cleaned)) {
    const std::string_view text_line = trim(line.text);
    if (text_line.empty()) {
      in_members = false;
      continue;
    }
    if (starts_with(text_line, "Name:")) {
      if (auto error = finish(last_line))
        return tl::unexpected<Error>(*error);
      last_line = line.number;
      const std::string name(trim(text_line.substr(5)));
      if (name.empty())
        return fail(source, line.number,
                    "expected \"Name: SET\", got " + quote_for_error(text_line));
      IpSet set;
      set.name = name;
      set.line = line.number;
      dump.sets.push_back(std::move(set));
      in_members = saw_members = saw_type = false;
      continue;
    }
    last_line = line.number;
    if (dump.sets.empty())
      return fail(source, line.number,
                  "expected \"Name: SET\", got " + quote_for_error(text_line));
    IpSet &set = dump.sets.back();
    if (in_members) {
      if (!splitter.split(text_line) || splitter.words.empty())
        return fail(source, line.number,
                    "expected a set member, got " + quote_for_error(text_line));
      add_member(set, splitter.words, 0);
      continue;
    }
    const auto colon = text_line.find(':');
    if (colon == std::string_view::npos)
      return fail(source, line.number,
                  "expected \"KEY: VALUE\" in the record of set " + quote_for_error(set.name) + ", got " +
                      quote_for_error(text_line));
    const std::string_view key = text_line.substr(0, colon);
    const std::string_view value = trim(text_line.substr(colon + 1));
    if (key == "Type") {
      set.type = std::string(value);
      saw_type = !value.empty();
    } else if (key == "Header") {
      if (!splitter.split(value))
        return fail(source, line.number,
                    "expected a closing '\"', got end of line in " + quote_for_error(text_line));
      take_create_options(set, splitter.words, 0);
    } else if (key == "References" || key == "Number of entries") {
      auto number = parse_u64(value);
      if (!number)
        return fail(source, line.number,
                    "expected a number after \"" + std::string(key) + ":\", got " +
                        quote_for_error(value));
      (key == "References" ? set.references : set.entries) = *number;
    } else if (key == "Members") {
      in_members = saw_members = true;
    } else if (key == "Bindings") {
      return fail(source, line.number,
                  "expected an ipset 6+ listing, got " + quote_for_error(text_line) +
                      " (ipset 4.x syntax is not supported)");
    }
    // "Revision", "Size in memory" and keys of newer versions: not needed.
  }
  if (auto error = finish(last_line))
    return tl::unexpected<Error>(*error);
  return dump;
}

} // namespace vifwall
