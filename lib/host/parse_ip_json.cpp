#include "parse_ip_json.hpp"

#include <climits>
#include <optional>

#include <nlohmann/json.hpp>

#include "json_pull.hpp"
#include "parse_ip_json_internal.hpp"
#include "text.hpp"

namespace vifwall {

namespace {

using nlohmann::json;

// "string "1500"", "number 1.5", "array [...]": what a wrong value was.
std::string describe(const json &value) {
  if (value.is_string())
    return "string " + quote_for_error(value.get_ref<const std::string &>());
  std::string dump = value.dump();
  if (dump.size() > 60)
    dump = dump.substr(0, 60) + "...";
  return std::string(value.type_name()) + " " + dump;
}

// Reads the keys of one array element; every error names the element.
class ElementReader {
public:
  ElementReader(const json &object, const std::string &source,
                std::size_t index)
      : object_(object), source_(source), index_(index) {}

  tl::unexpected<Error> wrong(const std::string &key, const std::string &what,
                              const json &got) const {
    return fail(source_, 0,
                where() + "expected " + quote_for_error(key) + " to be " +
                    what + ", got " + describe(got));
  }

  tl::unexpected<Error> missing(const std::string &key,
                                const std::string &what) const {
    return fail(source_, 0,
                where() + "expected " + quote_for_error(key) + " (" + what +
                    "), got nothing");
  }

  // nullptr when the key is missing or null: both mean "not printed".
  const json *find(const json &object, const char *key) const {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null())
      return nullptr;
    return &*it;
  }

  Result<std::optional<std::string>> string(const json &object,
                                            const char *key) const {
    const json *value = find(object, key);
    if (value == nullptr)
      return std::optional<std::string>();
    if (!value->is_string())
      return wrong(key, "a string", *value);
    return std::optional<std::string>(value->get<std::string>());
  }

  Result<std::optional<std::uint64_t>> unsigned_number(const json &object,
                                                       const char *key,
                                                       std::uint64_t max) const {
    const json *value = find(object, key);
    if (value == nullptr)
      return std::optional<std::uint64_t>();
    // nlohmann stores every non-negative integer as number_unsigned.
    if (!value->is_number_unsigned() || value->get<std::uint64_t>() > max)
      return wrong(key,
                   "an integer from 0 to " + std::to_string(max), *value);
    return std::optional<std::uint64_t>(value->get<std::uint64_t>());
  }

  const json &object() const { return object_; }
  void set_name(const std::string &name) { name_ = name; }

private:
  std::string where() const {
    std::string out = "element " + std::to_string(index_);
    if (!name_.empty())
      out += " (" + quote_for_error(name_) + ")";
    return out + ": ";
  }

  const json &object_;
  const std::string &source_;
  std::size_t index_;
  std::string name_;
};

// rx/tx of `stats64` (or `stats`): the four counters the model keeps; the
// other keys (multicast, -s -s error counters) are not needed.
Result<Counters> read_counters(const ElementReader &reader,
                               const json &stats, const char *direction) {
  Counters counters;
  const json *side = reader.find(stats, direction);
  if (side == nullptr)
    return counters;
  if (!side->is_object())
    return reader.wrong(direction, "an object", *side);
  constexpr std::uint64_t any = UINT64_MAX;
  struct Field {
    const char *key;
    std::optional<std::uint64_t> Counters::*member;
  };
  static const Field fields[] = {{"bytes", &Counters::bytes},
                                 {"packets", &Counters::packets},
                                 {"errors", &Counters::errors},
                                 {"dropped", &Counters::dropped}};
  for (const Field &field : fields) {
    auto value = reader.unsigned_number(*side, field.key, any);
    if (!value)
      return tl::unexpected(value.error());
    counters.*field.member = *value;
  }
  return counters;
}

Result<Link> read_link(ElementReader &reader) {
  const json &object = reader.object();
  Link link;

  auto name = reader.string(object, "ifname");
  if (!name)
    return tl::unexpected(name.error());
  if (!*name || (*name)->empty())
    return reader.missing("ifname", "the interface name");
  link.name = **name;
  reader.set_name(link.name);

  auto ifindex = reader.unsigned_number(object, "ifindex", INT_MAX);
  if (!ifindex)
    return tl::unexpected(ifindex.error());
  if (*ifindex)
    link.ifindex = static_cast<int>(**ifindex);

  auto mtu = reader.unsigned_number(object, "mtu", UINT32_MAX);
  if (!mtu)
    return tl::unexpected(mtu.error());
  if (*mtu)
    link.mtu = static_cast<std::uint32_t>(**mtu);

  if (const json *flags = reader.find(object, "flags")) {
    if (!flags->is_array())
      return reader.wrong("flags", "an array of strings", *flags);
    for (const json &flag : *flags) {
      if (!flag.is_string())
        return reader.wrong("flags", "an array of strings", *flags);
      // ip never prints an empty flag; a model name is never empty.
      if (flag.get_ref<const std::string &>().empty())
        return reader.wrong("flags", "an array of flag names (none empty)", *flags);
      link.flags.push_back(flag.get<std::string>());
    }
  }

  auto master = reader.string(object, "master");
  if (!master)
    return tl::unexpected(master.error());
  link.master = std::move(*master);

  auto operstate = reader.string(object, "operstate");
  if (!operstate)
    return tl::unexpected(operstate.error());
  if (*operstate)
    link.state = to_lower(**operstate);

  // As in the text parser: only an Ethernet address is a MAC.
  auto link_type = reader.string(object, "link_type");
  if (!link_type)
    return tl::unexpected(link_type.error());
  auto address = reader.string(object, "address");
  if (!address)
    return tl::unexpected(address.error());
  if (*link_type == "ether" && *address) {
    link.mac = normalize_mac(**address);
    if (!link.mac)
      return reader.wrong("address", "a MAC", object.at("address"));
  }

  const json *stats = reader.find(object, "stats64");
  const char *stats_key = "stats64";
  if (stats == nullptr) {
    stats = reader.find(object, "stats");
    stats_key = "stats";
  }
  if (stats != nullptr) {
    if (!stats->is_object())
      return reader.wrong(stats_key, "an object", *stats);
    auto rx = read_counters(reader, *stats, "rx");
    if (!rx)
      return tl::unexpected(rx.error());
    auto tx = read_counters(reader, *stats, "tx");
    if (!tx)
      return tl::unexpected(tx.error());
    link.rx = *rx;
    link.tx = *tx;
  }
  return link;
}

// nlohmann's messages quote the input ("last read: '...'") and escape
// control characters there except DEL; a long token comes whole.  Before one
// goes into our message, its control characters are made visible the way
// quote_for_error shows them (\x7f, \n) and it is cut, so that hostile
// input cannot drive the terminal.
std::string printable_message(std::string_view message) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (i == kMax) {
      out += "...";
      break;
    }
    const char c = message[i];
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      const std::string quoted = quote_for_error(std::string_view(&message[i], 1));
      out.append(quoted, 1, quoted.size() - 2); // without its quotes
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at
// line 1, column 5: syntax error while parsing value - ..."; keep the part
// after the position, we print our own.
std::string parse_error_reason(const std::string &what) {
  const std::size_t column = what.find("column ");
  if (column != std::string::npos) {
    const std::size_t colon = what.find(": ", column);
    if (colon != std::string::npos)
      return printable_message(std::string_view(what).substr(colon + 2));
  }
  return printable_message(what);
}

} // namespace

namespace {

Result<std::vector<Link>> parse_cleaned_dom(const std::string &cleaned,
                                            const std::string &source) {
  json document;
  try {
    document = json::parse(cleaned);
  } catch (const json::out_of_range &error) {
    // A number too large for any integer type (nlohmann reports it while
    // parsing, as out_of_range, not parse_error).
    return fail(source, 0,
                "expected numbers that fit 64 bits: " + printable_message(error.what()));
  } catch (const json::parse_error &error) {
    // error.byte is 1-based and points past the input when it ran out.
    const std::size_t offset = std::min(error.byte, cleaned.size() + 1);
    const std::size_t content_end =
        cleaned.find_last_not_of(" \t\n\v\f") + 1;
    std::size_t line = 1;
    for (std::size_t i = 0; i + 1 < offset && i < cleaned.size(); ++i)
      line += cleaned[i] == '\n' ? 1 : 0;
    if (offset > content_end)
      return fail(source, line,
                  "expected more JSON, got end of input (truncated "
                  "output? the array is not closed)");
    return fail(source, line,
                "expected valid JSON (ip -j link output): " +
                    parse_error_reason(error.what()));
  }
  if (!document.is_array())
    return fail(source, 1,
                std::string("expected a JSON array of links (ip -j link "
                            "output), got ") +
                    document.type_name());

  std::vector<Link> links;
  links.reserve(document.size());
  for (std::size_t index = 0; index < document.size(); ++index) {
    const json &element = document[index];
    ElementReader reader(element, source, index);
    if (!element.is_object())
      return fail(source, 0,
                  "element " + std::to_string(index) +
                      ": expected an object (one link), got " +
                      describe(element));
    auto link = read_link(reader);
    if (!link)
      return tl::unexpected(link.error());
    links.push_back(std::move(*link));
  }
  return links;
}

} // namespace

bool looks_like_json_array(std::string_view text) {
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
        c == '\f')
      continue;
    return c == '[';
  }
  return false;
}

// ---- the fast path: the keys the model uses, pulled without a DOM ----------
//
// Each function returns false as soon as the input is anything but what the
// DOM path would accept and read the same way; the DOM then reads it again.

namespace {

enum class LinkKey { other, ifname, ifindex, mtu, flags, master, operstate, link_type, address,
                     stats64, stats };

LinkKey link_key(std::string_view key) {
  switch (key.size()) {
  case 3: return key == "mtu" ? LinkKey::mtu : LinkKey::other;
  case 5: return key == "flags" ? LinkKey::flags : key == "stats" ? LinkKey::stats : LinkKey::other;
  case 6: return key == "ifname" ? LinkKey::ifname : key == "master" ? LinkKey::master : LinkKey::other;
  case 7:
    return key == "ifindex" ? LinkKey::ifindex
           : key == "address" ? LinkKey::address
           : key == "stats64" ? LinkKey::stats64 : LinkKey::other;
  case 9:
    return key == "operstate" ? LinkKey::operstate
           : key == "link_type" ? LinkKey::link_type : LinkKey::other;
  default: return LinkKey::other;
  }
}

// A key the model uses, given twice: which one counts is the DOM's rule.
bool first_time(unsigned &seen, unsigned bit) {
  if (seen & (1u << bit))
    return false;
  seen |= 1u << bit;
  return true;
}

// null (left as it is: "not printed") or a string.
bool pull_string(JsonPull &in, std::optional<std::string> &out) {
  if (in.read_null())
    return true;
  std::string_view value;
  if (!in.read_string(value))
    return false;
  out.emplace(value);
  return true;
}

bool pull_unsigned(JsonPull &in, std::optional<std::uint64_t> &out, std::uint64_t max) {
  if (in.read_null())
    return true;
  std::uint64_t value;
  if (!in.read_unsigned(value) || value > max)
    return false;
  out = value;
  return true;
}

// An object's members, each key to `each` (which reads or skips its value),
// and an array's items, each to `each`; false as soon as one is.
template <class Each> bool pull_object(JsonPull &in, Each &&each) {
  if (!in.consume('{'))
    return false;
  bool more;
  for (bool first = true;; first = false) {
    if (!in.next_member('}', first, more))
      return false;
    if (!more)
      return true;
    std::string_view key;
    if (!in.read_key(key) || !each(key))
      return false;
  }
}

template <class Each> bool pull_array(JsonPull &in, Each &&each) {
  if (!in.consume('['))
    return false;
  bool more;
  for (bool first = true;; first = false) {
    if (!in.next_member(']', first, more))
      return false;
    if (!more)
      return true;
    if (!each())
      return false;
  }
}

// rx or tx: null, or an object of which the four counters are read.
bool pull_counters(JsonPull &in, Counters &out) {
  if (in.read_null())
    return true;
  unsigned seen = 0;
  return pull_object(in, [&](std::string_view key) {
    std::optional<std::uint64_t> Counters::*member =
        key == "bytes" ? &Counters::bytes
        : key == "packets" ? &Counters::packets
        : key == "errors" ? &Counters::errors
        : key == "dropped" ? &Counters::dropped : nullptr;
    if (member == nullptr)
      return in.skip_value();
    const unsigned bit = member == &Counters::bytes ? 0 : member == &Counters::packets ? 1
                         : member == &Counters::errors ? 2 : 3;
    return first_time(seen, bit) && pull_unsigned(in, out.*member, UINT64_MAX);
  });
}

struct Stats {
  Counters rx, tx;
};

// `stats64` or `stats`: null (nullopt), or an object with rx and tx.
bool pull_stats(JsonPull &in, std::optional<Stats> &out) {
  if (in.read_null())
    return true;
  Stats stats;
  unsigned seen = 0;
  const bool read = pull_object(in, [&](std::string_view key) {
    const bool rx = key == "rx";
    if (!rx && key != "tx")
      return in.skip_value();
    return first_time(seen, rx ? 0 : 1) && pull_counters(in, rx ? stats.rx : stats.tx);
  });
  if (read)
    out = stats;
  return read;
}

bool pull_flags(JsonPull &in, std::vector<std::string> &out) {
  if (in.read_null())
    return true;
  return pull_array(in, [&] {
    std::string_view flag;
    if (!in.read_string(flag) || flag.empty()) // an empty one: the DOM path says why
      return false;
    out.emplace_back(flag);
    return true;
  });
}

// What one link object says, before it is checked as read_link checks it.
struct PulledLink {
  std::optional<std::string> name, master, operstate, link_type, address;
  std::optional<std::uint64_t> ifindex, mtu;
  std::vector<std::string> flags;
  std::optional<Stats> stats64, stats;
};

bool pull_member(JsonPull &in, LinkKey key, PulledLink &out) {
  switch (key) {
  case LinkKey::other: return in.skip_value();
  case LinkKey::ifname: return pull_string(in, out.name);
  case LinkKey::ifindex: return pull_unsigned(in, out.ifindex, INT_MAX);
  case LinkKey::mtu: return pull_unsigned(in, out.mtu, UINT32_MAX);
  case LinkKey::flags: return pull_flags(in, out.flags);
  case LinkKey::master: return pull_string(in, out.master);
  case LinkKey::operstate: return pull_string(in, out.operstate);
  case LinkKey::link_type: return pull_string(in, out.link_type);
  case LinkKey::address: return pull_string(in, out.address);
  case LinkKey::stats64: return pull_stats(in, out.stats64);
  case LinkKey::stats: return pull_stats(in, out.stats);
  }
  return false;
}

bool pull_link(JsonPull &in, Link &link) {
  PulledLink pulled;
  unsigned seen = 0;
  const bool read = pull_object(in, [&](std::string_view name) {
    const LinkKey key = link_key(name);
    if (key != LinkKey::other && !first_time(seen, static_cast<unsigned>(key)))
      return false;
    return pull_member(in, key, pulled);
  });
  if (!read)
    return false;
  if (!pulled.name || pulled.name->empty())
    return false;
  link.name = std::move(*pulled.name);
  if (pulled.ifindex)
    link.ifindex = static_cast<int>(*pulled.ifindex);
  if (pulled.mtu)
    link.mtu = static_cast<std::uint32_t>(*pulled.mtu);
  link.flags = std::move(pulled.flags);
  link.master = std::move(pulled.master);
  if (pulled.operstate)
    link.state = to_lower(*pulled.operstate);
  if (pulled.link_type == "ether" && pulled.address) {
    link.mac = normalize_mac(*pulled.address);
    if (!link.mac)
      return false;
  }
  if (const std::optional<Stats> &stats = pulled.stats64 ? pulled.stats64 : pulled.stats) {
    link.rx = stats->rx;
    link.tx = stats->tx;
  }
  return true;
}

} // namespace

std::optional<std::vector<Link>> read_ip_links_fast(std::string_view cleaned) {
  JsonPull in(cleaned);
  std::vector<Link> links;
  const bool read = pull_array(in, [&] {
    Link link;
    if (!pull_link(in, link))
      return false;
    links.push_back(std::move(link));
    return true;
  });
  if (!read || !in.at_end())
    return std::nullopt;
  return links;
}

namespace {

Result<std::vector<Link>> parse_json(std::string_view text, const std::string &source,
                                     bool fast) {
  const std::string cleaned = clean_text(text);
  if (is_blank(cleaned))
    return fail(source, 1,
                "expected a JSON array of links (ip -j link output), got "
                "empty input");
  if (fast) {
    if (auto links = read_ip_links_fast(cleaned))
      return std::move(*links);
  }
  // Every JSON value is type-checked before use; this is the net under that
  // net, so that no nlohmann exception ever leaves a parser.
  try {
    return parse_cleaned_dom(cleaned, source);
  } catch (const json::exception &error) {
    return fail(source, 0, "expected ip -j link output: " + printable_message(error.what()));
  }
}

} // namespace

Result<std::vector<Link>> parse_ip_link_json(std::string_view text, const std::string &source) {
  return parse_json(text, source, true);
}

Result<std::vector<Link>> parse_ip_link_json_dom(std::string_view text,
                                                 const std::string &source) {
  return parse_json(text, source, false);
}

} // namespace vifwall
