#include "validate.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>

#include "text.hpp"

namespace vifwall {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!is_digit(c))
      return false;
  return true;
}

tl::unexpected<Error> invalid(std::string_view what, std::string_view value,
                              std::string_view expected) {
  return fail("invalid " + std::string(what) + " " + quote_for_error(value) +
              ": expected " + std::string(expected));
}

// One part of a dotted quad: 1..3 digits, no leading zero, 0..255.
bool valid_octet(std::string_view part) {
  if (part.empty() || part.size() > 3 || !all_digits(part))
    return false;
  if (part.size() > 1 && part.front() == '0')
    return false;
  return std::stoi(std::string(part)) <= 255;
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    const std::string_view part =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos
                                                      : dot - start);
    if (!valid_octet(part))
      return false;
    ++parts;
    if (dot == std::string_view::npos)
      break;
    start = dot + 1;
  }
  return parts == 4;
}

// inet_pton is pure (no NSS lookups), so it is safe in the static build.
std::optional<std::string> canonical_ipv6(std::string_view s) {
  if (s.empty() || s.size() > 45 || s.find('%') != std::string_view::npos)
    return std::nullopt;
  const std::string text(s);
  in6_addr address{};
  if (inet_pton(AF_INET6, text.c_str(), &address) != 1)
    return std::nullopt;
  char buffer[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(AF_INET6, &address, buffer, sizeof buffer))
    return std::nullopt;
  return std::string(buffer);
}

constexpr std::string_view kIpExpected =
    "an IPv4 address (four numbers 0-255 separated by '.', no leading zeros) "
    "or an IPv6 address";

} // namespace

Result<std::string> validate_vm_name(std::string_view name) {
  constexpr std::string_view expected =
      "letters, digits, '-', '_' or '.', starting with a letter or digit, at "
      "most 64 characters";
  if (name.empty() || name.size() > 64 || !is_alnum(name.front()))
    return invalid("VM name", name, expected);
  for (char c : name)
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
      return invalid("VM name", name, expected);
  return std::string(name);
}

Result<std::string> validate_ipv4(std::string_view address) {
  if (!is_ipv4(address))
    return invalid("IPv4 address", address,
                   "four decimal numbers 0-255 separated by '.', without "
                   "leading zeros");
  return std::string(address);
}

Result<std::string> validate_ip(std::string_view address) {
  if (is_ipv4(address))
    return std::string(address);
  if (address.find(':') != std::string_view::npos)
    if (auto v6 = canonical_ipv6(address))
      return *v6;
  return invalid("IP address", address, kIpExpected);
}

Result<std::string> validate_ipv6_host(std::string_view address) {
  constexpr std::string_view expected =
      "an IPv6 address of a guest (not ::, ::1, multicast ff00::/8, "
      "IPv4-mapped ::ffff:a.b.c.d, and without a %zone)";
  const std::string text(address);
  in6_addr bytes{};
  if (address.empty() || address.size() > 45 || address.find('%') != std::string_view::npos ||
      inet_pton(AF_INET6, text.c_str(), &bytes) != 1)
    return invalid("IPv6 address", address, expected);
  if (IN6_IS_ADDR_UNSPECIFIED(&bytes) || IN6_IS_ADDR_LOOPBACK(&bytes) ||
      IN6_IS_ADDR_MULTICAST(&bytes) || IN6_IS_ADDR_V4MAPPED(&bytes))
    return invalid("IPv6 address", address, expected);
  return *canonical_ipv6(address);
}

std::string link_local_from_mac(const std::string &mac) {
  unsigned octet[6] = {};
  if (std::sscanf(mac.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &octet[0], &octet[1], &octet[2],
                  &octet[3], &octet[4], &octet[5]) != 6)
    return "";
  in6_addr address{};
  address.s6_addr[0] = 0xfe;
  address.s6_addr[1] = 0x80;
  const unsigned char interface_id[8] = {
      static_cast<unsigned char>(octet[0] ^ 0x02), static_cast<unsigned char>(octet[1]),
      static_cast<unsigned char>(octet[2]),        0xff,
      0xfe,                                        static_cast<unsigned char>(octet[3]),
      static_cast<unsigned char>(octet[4]),        static_cast<unsigned char>(octet[5])};
  std::copy(std::begin(interface_id), std::end(interface_id), address.s6_addr + 8);
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &address, buffer, sizeof buffer);
  return buffer;
}

Result<std::string> validate_cidr(std::string_view cidr) {
  const std::size_t slash = cidr.find('/');
  const std::string_view address = cidr.substr(0, slash);
  std::string normalized;
  bool v4 = false;
  if (is_ipv4(address)) {
    normalized = std::string(address);
    v4 = true;
  } else if (address.find(':') != std::string_view::npos) {
    auto v6 = canonical_ipv6(address);
    if (!v6)
      return invalid("CIDR", cidr, "an IPv4 or IPv6 address, optionally "
                                   "followed by /prefix");
    normalized = *v6;
  } else {
    return invalid("CIDR", cidr,
                   "an IPv4 or IPv6 address, optionally followed by /prefix");
  }
  const int max_prefix = v4 ? 32 : 128;
  if (slash == std::string_view::npos)
    return normalized + "/" + std::to_string(max_prefix);
  const std::string_view prefix = cidr.substr(slash + 1);
  const std::string expected = "a prefix length 0-" +
                               std::to_string(max_prefix) + " after '/'";
  if (prefix.empty() || prefix.size() > 3 || !all_digits(prefix) ||
      (prefix.size() > 1 && prefix.front() == '0'))
    return invalid("CIDR", cidr, expected);
  const int length = std::stoi(std::string(prefix));
  if (length > max_prefix)
    return invalid("CIDR", cidr, expected);
  return normalized + "/" + std::to_string(length);
}

Result<std::string> validate_mac(std::string_view mac) {
  auto normalized = normalize_mac(mac);
  if (!normalized)
    return invalid("MAC address", mac,
                   "six hex octets separated by ':' or '-'");
  return *normalized;
}

Result<int> validate_port(std::string_view port) {
  auto value = all_digits(port) && port.size() <= 5 ? parse_u64(port)
                                                    : std::nullopt;
  if (!value || *value > 65535)
    return invalid("port", port, "a decimal number 0-65535");
  return static_cast<int>(*value);
}

Result<std::string> validate_protocol(std::string_view protocol) {
  const std::string lower = to_lower(protocol);
  if (lower == "tcp" || lower == "udp" || lower == "icmp" || lower == "icmpv6" ||
      lower == "all")
    return lower;
  if (all_digits(protocol) && protocol.size() <= 3) {
    const auto number = parse_u64(protocol);
    if (number && *number <= 255)
      return std::to_string(*number);
  }
  return invalid("protocol", protocol,
                 "tcp, udp, icmp, icmpv6, all or a protocol number 0-255");
}

Result<std::string> validate_iface(std::string_view name) {
  constexpr std::string_view expected =
      "1-15 characters from letters, digits, '.', '_', '@', '+' and '-', not "
      "starting with '-'";
  if (name.empty() || name.size() > 15 || name == "." || name == ".." ||
      name.front() == '-')
    return invalid("interface name", name, expected);
  for (char c : name)
    if (!is_alnum(c) && c != '.' && c != '_' && c != '@' && c != '+' &&
        c != '-')
      return invalid("interface name", name, expected);
  return std::string(name);
}

Result<int> validate_nic_device(std::string_view device) {
  const bool digits = all_digits(device) && device.size() <= 2 && !(device.size() == 2 && device[0] == '0');
  const auto value = digits ? parse_u64(device) : std::nullopt;
  if (!value || *value > 15)
    return invalid("NIC", device, "a device number 0-15");
  return static_cast<int>(*value);
}

Result<int> validate_dom_id(std::string_view dom_id) {
  auto value = all_digits(dom_id) && dom_id.size() <= 5 ? parse_u64(dom_id)
                                                        : std::nullopt;
  if (!value || *value > 32767)
    return invalid("domain id", dom_id, "a decimal number 0-32767");
  return static_cast<int>(*value);
}

Result<std::string> validate_vm_id(std::string_view vm_id) {
  auto value = all_digits(vm_id) ? parse_i64(vm_id) : std::nullopt;
  if (!value)
    return invalid("VM id", vm_id, "a decimal number");
  return std::to_string(*value);
}

Result<std::int64_t> validate_seqno(std::string_view seqno) {
  const bool digits = all_digits(seqno) ||
                      (seqno.size() > 1 && seqno.front() == '-' &&
                       all_digits(seqno.substr(1)));
  auto value = digits ? parse_i64(seqno) : std::nullopt;
  if (!value || *value < -1)
    return invalid("sequence number", seqno,
                   "a decimal number, -1 or greater");
  return *value;
}

Result<std::string> validate_signature(std::string_view signature) {
  if (signature == "_initial_")
    return std::string(signature);
  bool hex = !signature.empty() && signature.size() <= 64;
  for (char c : signature)
    hex = hex && std::isxdigit(static_cast<unsigned char>(c));
  if (!hex)
    return invalid("signature", signature,
                   "\"_initial_\" or 1-64 hex digits (an MD5 sum)");
  return to_lower(signature);
}

} // namespace vifwall
