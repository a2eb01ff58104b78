// Canonical values (netfilter_internal.hpp): one spelling for each value the
// canonical rule forms compare -- addresses and masks, ports, protocols, ICMP
// types, conntrack states, TCP flags, MACs, ethertypes, ARP opcodes -- and
// the ipset members of netfilter.hpp.
#include "netfilter_internal.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "protocols.hpp"
#include "text.hpp"

namespace vifwall {

namespace netfilter_detail {

namespace {

// Prefix length of a contiguous mask, nullopt otherwise.
template <std::size_t N>
std::optional<int> prefix_of_mask(const std::array<unsigned char, N> &mask) {
  int bits = 0;
  std::size_t i = 0;
  for (; i < N && mask[i] == 0xff; ++i)
    bits += 8;
  if (i < N) {
    unsigned char b = mask[i];
    int ones = 0;
    while (b & 0x80) {
      ++ones;
      b = static_cast<unsigned char>(b << 1);
    }
    if (b != 0)
      return std::nullopt;
    bits += ones;
    for (++i; i < N; ++i)
      if (mask[i] != 0)
        return std::nullopt;
  }
  return bits;
}

template <std::size_t N> std::array<unsigned char, N> mask_of_prefix(int bits) {
  std::array<unsigned char, N> mask{};
  for (std::size_t i = 0; i < N; ++i) {
    const int here = std::clamp(bits - static_cast<int>(i) * 8, 0, 8);
    mask[i] = static_cast<unsigned char>(0xff00 >> here);
  }
  return mask;
}

// A decimal number of at most `max_digits` digits without a leading zero
// (what inet_pton takes for an IPv4 octet); nullopt otherwise.
std::optional<unsigned> plain_decimal(std::string_view digits, std::size_t max_digits) {
  if (digits.empty() || digits.size() > max_digits || (digits.size() > 1 && digits[0] == '0'))
    return std::nullopt;
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value;
}

// normalize_address for the common case, `a.b.c.d` or `a.b.c.d/n`, without
// inet_pton/inet_ntop (whose sprintf made `ipset save` of a host's sets the
// slowest parse); nullopt for anything else, which takes the general path.
std::optional<std::string> normalize_ipv4_fast(std::string_view text, bool omit_host_prefix) {
  const auto slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  unsigned prefix = 32;
  if (slash != std::string_view::npos) {
    auto bits = plain_decimal(text.substr(slash + 1), 2);
    if (!bits || *bits > 32)
      return std::nullopt;
    prefix = *bits;
  }
  std::uint32_t value = 0;
  std::size_t start = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const auto dot = octet < 3 ? addr.find('.', start) : addr.size();
    if (dot == std::string_view::npos)
      return std::nullopt;
    auto number = plain_decimal(addr.substr(start, dot - start), 3);
    if (!number || *number > 255)
      return std::nullopt;
    value = value << 8 | *number;
    start = dot + 1;
  }
  if (prefix < 32)
    value &= prefix == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix);
  std::string out;
  out.reserve(18);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out += std::to_string((value >> shift) & 0xff);
    if (shift)
      out += '.';
  }
  if (prefix == 32 && omit_host_prefix)
    return out;
  return out + "/" + std::to_string(prefix);
}

} // namespace

std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> split_on(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = s.find(sep, start);
    parts.emplace_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  return parts;
}

std::string join_on(const std::vector<std::string> &parts, char sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i)
      out.push_back(sep);
    out += parts[i];
  }
  return out;
}

std::string normalize_address(std::string_view text, AddressForm form) {
  if (auto fast = normalize_ipv4_fast(text, form.omit_host_prefix))
    return std::move(*fast);
  const auto slash = text.find('/');
  const std::string addr(text.substr(0, slash));
  const std::string mask_text =
      slash == std::string_view::npos ? "" : std::string(text.substr(slash + 1));
  const bool v6 = addr.find(':') != std::string::npos;
  const int family = v6 ? AF_INET6 : AF_INET;
  const int full = v6 ? 128 : 32;
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(family, addr.c_str(), bytes.data()) != 1)
    return std::string(text);
  const std::size_t n = v6 ? 16 : 4;

  int prefix = full;
  std::string odd_mask; // a non-contiguous dotted mask, kept as printed
  std::array<unsigned char, 16> mask{};
  if (!mask_text.empty()) {
    if (auto bits = parse_u64(mask_text)) {
      if (*bits > static_cast<std::uint64_t>(full))
        return std::string(text);
      prefix = static_cast<int>(*bits);
    } else {
      std::array<unsigned char, 16> m{};
      if (inet_pton(family, mask_text.c_str(), m.data()) != 1)
        return std::string(text);
      std::optional<int> mask_bits;
      if (v6)
        mask_bits = prefix_of_mask(m);
      else
        mask_bits = prefix_of_mask(std::array<unsigned char, 4>{m[0], m[1], m[2], m[3]});
      if (mask_bits)
        prefix = *mask_bits;
      else {
        mask = m;
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(family, m.data(), buf, sizeof buf);
        odd_mask = buf;
      }
    }
  }
  if (odd_mask.empty()) {
    auto m = mask_of_prefix<16>(prefix);
    std::copy(m.begin(), m.begin() + static_cast<long>(n), mask.begin());
  }
  for (std::size_t i = 0; i < n; ++i)
    bytes[i] &= mask[i];
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family, bytes.data(), buf, sizeof buf);
  std::string out = buf;
  if (!odd_mask.empty())
    return out + "/" + odd_mask;
  if (prefix == full && form.omit_host_prefix)
    return out;
  return out + "/" + std::to_string(prefix);
}

bool is_any_address(const std::string &normalized) {
  return normalized == "0.0.0.0/0" || normalized == "::/0";
}

std::string normalize_port_range(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos)
    return std::string(s);
  std::string low(s.substr(0, colon));
  std::string high(s.substr(colon + 1));
  if (low.empty())
    low = "0";
  if (high.empty())
    high = "65535";
  auto lo = parse_u64(low), hi = parse_u64(high);
  if (lo && hi) {
    low = std::to_string(*lo);
    high = std::to_string(*hi);
  }
  return low == high ? low : low + ":" + high;
}

std::string normalize_port_list(std::string_view s) {
  auto parts = split_on(s, ',');
  for (auto &p : parts)
    p = normalize_port_range(p);
  return join_on(parts, ',');
}

std::string normalize_ip_protocol(std::string_view s, bool ipv6) {
  if (auto number = ip_protocol_number(s, ipv6))
    return ip_protocol_name(*number);
  return to_lower(s);
}

std::string protocol_match(const std::string &protocol) {
  if (protocol == "tcp" || protocol == "udp" || protocol == "icmp" ||
      protocol == "sctp" || protocol == "dccp" || protocol == "udplite")
    return protocol;
  if (protocol == "ipv6-icmp")
    return "icmp6";
  return {};
}

std::string normalize_icmp_type(std::string_view s, bool ipv6) {
  if (auto type = icmp_type_code(s, ipv6)) {
    if (type->first < 0)
      return "any";
    return type->second < 0 ? std::to_string(type->first)
                            : std::to_string(type->first) + "/" + std::to_string(type->second);
  }
  // Not a type: kept, with leading zeros of its numbers dropped.
  auto parts = split_on(to_lower(s), '/');
  for (auto &p : parts)
    if (auto n = parse_u64(p))
      p = std::to_string(*n);
  return join_on(parts, '/');
}

std::string normalize_state_list(std::string_view s) {
  static const std::vector<std::string> order = {
      "INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"};
  std::vector<std::string> known, unknown;
  std::set<std::string> seen;
  for (const auto &p : split_on(s, ','))
    seen.insert(upper(p));
  for (const auto &o : order)
    if (seen.erase(o))
      known.push_back(o);
  unknown.assign(seen.begin(), seen.end());
  known.insert(known.end(), unknown.begin(), unknown.end());
  return join_on(known, ',');
}

std::string normalize_tcp_flags(std::string_view s) {
  static const char *flags[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
  unsigned bits = 0;
  std::vector<std::string> unknown;
  for (const auto &p : split_on(s, ',')) {
    const std::string f = upper(p);
    if (f == "ALL") {
      bits = 0x3f;
      continue;
    }
    if (f == "NONE")
      continue;
    bool found = false;
    for (unsigned i = 0; i < 6; ++i)
      if (f == flags[i]) {
        bits |= 1u << i;
        found = true;
      }
    if (!found)
      unknown.push_back(f);
  }
  std::vector<std::string> out;
  for (unsigned i = 0; i < 6; ++i)
    if (bits & (1u << i))
      out.push_back(flags[i]);
  out.insert(out.end(), unknown.begin(), unknown.end());
  return out.empty() ? "NONE" : join_on(out, ',');
}

std::string normalize_mac_value(std::string_view s, bool ebtables_names) {
  struct Named {
    const char *name, *mac, *mask;
  };
  static const Named named[] = {
      {"Unicast", "00:00:00:00:00:00", "01:00:00:00:00:00"},
      {"Multicast", "01:00:00:00:00:00", "01:00:00:00:00:00"},
      {"Broadcast", "ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff"},
      {"BGA", "01:80:c2:00:00:00", "ff:ff:ff:ff:ff:ff"}};
  if (ebtables_names)
    for (const Named &n : named)
      if (to_lower(s) == to_lower(n.name))
        return n.name;
  const auto slash = s.find('/');
  auto mac = normalize_mac(s.substr(0, slash));
  if (!mac)
    return std::string(s);
  std::string mask = "ff:ff:ff:ff:ff:ff";
  if (slash != std::string_view::npos) {
    auto m = normalize_mac(s.substr(slash + 1));
    if (!m)
      return std::string(s);
    mask = *m;
  }
  if (ebtables_names)
    for (const Named &n : named)
      if (*mac == n.mac && mask == n.mask)
        return n.name;
  if (mask == "ff:ff:ff:ff:ff:ff")
    return *mac;
  return *mac + "/" + mask;
}

std::string normalize_ethertype(std::string_view s) {
  struct Named {
    const char *name;
    unsigned value;
  };
  static const Named named[] = {
      {"IPv4", 0x0800}, {"X25", 0x0805}, {"ARP", 0x0806}, {"FR_ARP", 0x0808},
      {"BPQ", 0x08ff}, {"DEC", 0x6000}, {"DNA_DL", 0x6001}, {"DNA_RC", 0x6002},
      {"DNA_RT", 0x6003}, {"LAT", 0x6004}, {"DIAG", 0x6005}, {"CUST", 0x6006},
      {"SCA", 0x6007}, {"TEB", 0x6558}, {"RAW_FR", 0x6559}, {"RARP", 0x8035},
      {"AARP", 0x80f3}, {"ATALK", 0x809b}, {"802_1Q", 0x8100}, {"IPX", 0x8137},
      {"NetBEUI", 0x8191}, {"IPv6", 0x86dd}, {"PPP", 0x880b}, {"ATMMPOA", 0x884c},
      {"PPP_DISC", 0x8863}, {"PPP_SES", 0x8864}, {"ATMFATE", 0x8884},
      {"LOOP", 0x9000}};
  const std::string l = to_lower(s);
  if (l == "length")
    return "Length";
  for (const Named &n : named)
    if (l == to_lower(n.name))
      return n.name;
  unsigned long value = 0;
  char *end = nullptr;
  const std::string text(s);
  value = std::strtoul(text.c_str(), &end, 16);
  if (end == text.c_str() || *end != '\0')
    return text;
  for (const Named &n : named)
    if (n.value == value)
      return n.name;
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04lx", value);
  return buf;
}

std::string normalize_arp_opcode(std::string_view s) {
  static const char *names[] = {"Request",       "Reply",        "Request_Reverse",
                                "Reply_Reverse", "DRARP_Request", "DRARP_Reply",
                                "DRARP_Error",   "InARP_Request", "ARP_NAK"};
  if (auto n = parse_u64(s)) {
    if (*n >= 1 && *n <= 9)
      return names[*n - 1];
    return std::to_string(*n);
  }
  for (const char *name : names)
    if (to_lower(s) == to_lower(name))
      return name;
  return std::string(s);
}

void normalize_arp_type(std::string_view option, std::string &value) {
  const std::string l = to_lower(value);
  if (option == "--h-type" && l == "ethernet") {
    value = "1";
  } else if (option == "--proto-type" && l == "ipv4") {
    value = "0x800";
  } else {
    char *end = nullptr;
    const bool hex = starts_with(l, "0x") || option == "--proto-type";
    const unsigned long n = std::strtoul(l.c_str(), &end, hex ? 16 : 10);
    if (end != l.c_str() && *end == '\0') {
      char buf[24];
      std::snprintf(buf, sizeof buf, option == "--proto-type" ? "0x%lx" : "%lu", n);
      value = buf;
    }
  }
}

} // namespace netfilter_detail

// ---- ipset members ------------------------------------------------------------------------

using netfilter_detail::AddressForm;
using netfilter_detail::join_on;
using netfilter_detail::normalize_address;
using netfilter_detail::normalize_mac_value;
using netfilter_detail::split_on;

std::string normalize_ipset_member(std::string_view type, std::string_view elem) {
  std::vector<std::string> dims;
  const auto colon = type.find(':');
  if (colon != std::string_view::npos)
    dims = split_on(type.substr(colon + 1), ',');
  auto parts = split_on(elem, ',');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string dim = i < dims.size() ? dims[i] : "";
    std::string &p = parts[i];
    if (dim == "ip" || dim == "net") {
      if (p.find('-') == std::string::npos) // ranges stay as printed
        p = normalize_address(p, AddressForm{true});
    } else if (dim == "port") {
      const auto sep = p.find(':');
      if (sep == std::string::npos && !p.empty() &&
          std::isdigit(static_cast<unsigned char>(p[0])))
        p = "tcp:" + p; // ipset's default protocol
      else if (sep != std::string::npos)
        p = to_lower(p.substr(0, sep)) + ":" + p.substr(sep + 1);
    } else if (dim == "mac") {
      p = normalize_mac_value(p, false);
    }
  }
  return join_on(parts, ',');
}

} // namespace vifwall
