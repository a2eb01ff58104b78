#include "parse_inventory.hpp"

#include <cctype>

#include "text.hpp"

namespace vifwall {

namespace {

bool is_key(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0])))
    return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

} // namespace

bool is_uuid(std::string_view text) {
  if (text.size() != 36)
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i])))
      return false;
  }
  return true;
}

Result<std::map<std::string, std::string>> parse_inventory(std::string_view text,
                                                           const std::string &source) {
  std::map<std::string, std::string> out;
  const std::string cleaned = clean_text(text);
  for (const auto &line : split_lines(cleaned)) {
    const std::string_view content = trim(line.text);
    if (content.empty() || content.front() == '#')
      continue;
    const auto equals = content.find('=');
    const std::string_view key = equals == std::string_view::npos ? content : content.substr(0, equals);
    std::string_view value = equals == std::string_view::npos ? "" : content.substr(equals + 1);
    const bool quoted = value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
                        value.back() == value.front();
    if (equals == std::string_view::npos || !is_key(key) ||
        (!quoted && (value.find_first_of("'\" \t") != std::string_view::npos)))
      return fail(source, line.number,
                  "expected KEY='VALUE' as in /etc/xensource-inventory, got " +
                      quote_for_error(line.text));
    if (quoted)
      value = value.substr(1, value.size() - 2);
    out[std::string(key)] = std::string(value);
  }
  return out;
}

bool inventory_is_empty(std::string_view text) {
  const std::string cleaned = clean_text(text); // the lines below point into it
  for (const auto &line : split_lines(cleaned)) {
    const std::string_view content = trim(line.text);
    if (!content.empty() && content.front() != '#')
      return false;
  }
  return true;
}

Result<std::string> installation_uuid(std::string_view text, const std::string &source) {
  auto inventory = parse_inventory(text, source);
  if (!inventory)
    return tl::unexpected(inventory.error());
  auto found = inventory->find("INSTALLATION_UUID");
  if (found == inventory->end())
    return fail(source, 0, "expected INSTALLATION_UUID='<this host's uuid>', got no such line");
  if (!is_uuid(found->second))
    return fail(source, 0, "expected a uuid for INSTALLATION_UUID, got " +
                               quote_for_error(found->second));
  return to_lower(found->second);
}

} // namespace vifwall
