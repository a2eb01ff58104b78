#include "parse_brctl.hpp"

#include "text.hpp"

namespace vifwall {

namespace {

std::string_view first_nonblank_line(std::string_view text) {
  for (const auto &line : split_lines(text))
    if (!is_blank(line.text))
      return trim(line.text);
  return {};
}

bool is_brctl_stderr(std::string_view line) {
  return (starts_with(line, "bridge ") && ends_with(line, "does not exist!")) ||
         line.find("can't get port info") != std::string_view::npos ||
         starts_with(line, "brctl: ");
}

} // namespace

bool looks_like_brctl_show(std::string_view text) {
  const std::string cleaned = clean_text(leading_lines(text, 2));
  return starts_with(first_nonblank_line(cleaned), "bridge name");
}

Result<std::vector<Bridge>> parse_brctl_show(std::string_view raw,
                                             const std::string &source) {
  const std::string text = clean_text(raw);
  std::vector<Bridge> bridges;
  std::optional<Line> first_error_line;
  bool header_seen = false;
  bool header_may_wrap = false;
  for (const auto &line : split_lines(text)) {
    const auto content = trim(line.text);
    if (content.empty())
      continue;
    if (!header_seen) {
      if (is_brctl_stderr(content)) {
        if (!first_error_line)
          first_error_line = line;
        continue;
      }
      if (!starts_with(content, "bridge name"))
        return fail(source, line.number,
                    "expected the `brctl show` header \"bridge name  bridge id  "
                    "STP enabled  interfaces\", got " +
                        quote_for_error(content));
      header_seen = true;
      // Pasted copies sometimes wrap the header after "STP enabled".
      header_may_wrap = content.find("interfaces") == std::string_view::npos;
      continue;
    }
    if (header_may_wrap) {
      header_may_wrap = false;
      if (content == "interfaces")
        continue;
    }
    if (is_brctl_stderr(content)) {
      // "xenbr0 8000.. no can't get port info: ..." still names a bridge.
      const auto cut = content.find("can't get port info");
      if (cut == std::string_view::npos || cut == 0)
        continue;
      const auto words = split_blanks(content.substr(0, cut));
      if (words.size() >= 2)
        bridges.push_back(Bridge{std::string(words[0]), std::string(words[1]),
                                 words.size() >= 3 ? std::optional<bool>(words[2] == "yes")
                                                   : std::nullopt,
                                 {}});
      continue;
    }
    const auto words = split_blanks(content);
    if (words.size() == 1) {
      if (bridges.empty())
        return fail(source, line.number,
                    "expected a bridge line (name, id, STP), got a lone port " +
                        quote_for_error(content));
      bridges.back().ports.emplace_back(words[0]);
      continue;
    }
    if (words.size() != 3 && words.size() != 4)
      return fail(source, line.number,
                  "expected \"BRIDGE ID STP [PORT]\" or one port name, got " +
                      std::to_string(words.size()) + " words in " +
                      quote_for_error(content));
    if (words[2] != "yes" && words[2] != "no")
      return fail(source, line.number,
                  "expected STP \"yes\" or \"no\" in the third column, got " +
                      quote_for_error(words[2]));
    if (words[1].find('.') == std::string_view::npos)
      return fail(source, line.number,
                  "expected a bridge id like 8000.feffffffffff, got " +
                      quote_for_error(words[1]));
    Bridge bridge{std::string(words[0]), std::string(words[1]), words[2] == "yes", {}};
    if (words.size() == 4)
      bridge.ports.emplace_back(words[3]);
    bridges.push_back(std::move(bridge));
  }
  if (!header_seen && first_error_line)
    return fail(source, first_error_line->number,
                "expected the `brctl show` header, got only the error " +
                    quote_for_error(trim(first_error_line->text)));
  return bridges;
}

namespace {

// "7: vif2.0@if4:" -> "vif2.0"
std::optional<std::string> bridge_link_port_name(std::string_view word) {
  if (!ends_with(word, ":"))
    return std::nullopt;
  word.remove_suffix(1);
  const auto at = word.find('@');
  if (at != std::string_view::npos)
    word = word.substr(0, at);
  if (word.empty())
    return std::nullopt;
  return std::string(word);
}

bool is_ifindex_word(std::string_view word) {
  return ends_with(word, ":") && parse_u64(word.substr(0, word.size() - 1));
}

} // namespace

bool looks_like_bridge_link(std::string_view raw) {
  const std::string text = clean_text(leading_lines(raw, 1));
  const auto line = first_nonblank_line(text);
  const auto words = split_blanks(line);
  if (words.size() < 3 || !is_ifindex_word(words[0]))
    return false;
  for (auto word : words)
    if (word == "master")
      return true;
  return false;
}

Result<std::vector<Bridge>> parse_bridge_link(std::string_view raw,
                                              const std::string &source) {
  const std::string text = clean_text(raw);
  std::vector<Bridge> bridges;
  for (const auto &line : split_lines(text)) {
    if (is_blank(line.text))
      continue;
    // `bridge -d link` adds indented option lines under each port.
    if (line.text.front() == ' ' || line.text.front() == '\t')
      continue;
    const auto words = split_blanks(line.text);
    if (words.size() < 2 || !is_ifindex_word(words[0]))
      return fail(source, line.number,
                  "expected \"IFINDEX: NAME: <FLAGS> ... master BRIDGE\", got " +
                      quote_for_error(trim(line.text)));
    auto name = bridge_link_port_name(words[1]);
    if (!name)
      return fail(source, line.number,
                  "expected an interface name ending in ':', got " +
                      quote_for_error(words[1]));
    std::optional<std::string> master;
    for (std::size_t i = 2; i + 1 < words.size(); ++i)
      if (words[i] == "master")
        master = std::string(words[i + 1]);
    if (!master)
      continue; // a port being removed, or a bridge listing itself
    Bridge *bridge = nullptr;
    for (auto &candidate : bridges)
      if (candidate.name == *master)
        bridge = &candidate;
    if (!bridge) {
      bridges.push_back(Bridge{*master, "", std::nullopt, {}});
      bridge = &bridges.back();
    }
    bridge->ports.push_back(*name);
  }
  return bridges;
}

} // namespace vifwall
