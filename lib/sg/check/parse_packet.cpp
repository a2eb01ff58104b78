// The packet spec: one line of KEY=VALUE words (sg-check's batch lines; its
// command-line options are turned into the same words), every value
// validated.  Pure: text in, PacketSpec out.
#include <algorithm>

#include "protocols.hpp"
#include "sg_check.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

const std::vector<std::string> kPacketKeys = {
    "from", "to", "proto", "sport", "dport", "port", "icmp", "arp", "src-ip", "dst-ip",
    "src-mac", "dst-mac", "in", "out", "bridge", "state", "id"};

const char *to_string(Flow flow) {
  switch (flow) {
  case Flow::new_flow: return "new";
  case Flow::established: return "established";
  case Flow::related: return "related";
  }
  return "new";
}

namespace {

struct Reader {
  const std::string &source;
  std::size_t line;

  tl::unexpected<Error> error(const std::string &message) const {
    return fail(source, line, message);
  }
  // A validator's error, with where and which key.
  tl::unexpected<Error> error(const std::string &key, const Error &e) const {
    return fail(source, line, key + ": " + e.message);
  }
};

// A VM name, a VIF or an address: which one is decided at resolution.
Result<std::string> endpoint(std::string_view value) {
  if (value.find_first_of(".:") != std::string_view::npos && validate_ip(value))
    return *validate_ip(value);
  if (auto iface = validate_iface(value); iface && (starts_with(value, "vif") || starts_with(value, "tap")))
    return *iface;
  auto vm = validate_vm_name(value);
  if (!vm)
    return fail("expected a VM name, a VIF or an IP address, got " + quote_for_error(value));
  return *vm;
}

Result<Flow> flow_of(std::string_view value) {
  const std::string v = to_lower(value);
  if (v == "new")
    return Flow::new_flow;
  if (v == "established")
    return Flow::established;
  if (v == "related")
    return Flow::related;
  return fail("expected new, established or related, got " + quote_for_error(value));
}

Result<std::string> protocol_of(std::string_view value) {
  const std::string v = to_lower(value);
  if (v == "arp")
    return v;
  if (auto number = ip_protocol_number(v); number && v != "all" && *number != 0) {
    if (*number == 6 || *number == 17 || *number == 1)
      return ip_protocol_name(*number);
    return std::to_string(*number);
  }
  return fail("expected tcp, udp, icmp, arp or a protocol number 1-255, got " + quote_for_error(value));
}

// Stores one KEY=VALUE into the spec.
Result<void> store(PacketSpec &spec, const std::string &key, std::string_view value) {
  auto set_text = [&](std::string &into, Result<std::string> checked) -> Result<void> {
    if (!checked)
      return tl::unexpected(checked.error());
    into = *checked;
    return {};
  };
  if (key == "from")
    return set_text(spec.from, endpoint(value));
  if (key == "to")
    return set_text(spec.to, endpoint(value));
  if (key == "proto")
    return set_text(spec.protocol, protocol_of(value));
  if (key == "src-ip")
    return set_text(spec.src_ip, validate_ip(value));
  if (key == "dst-ip")
    return set_text(spec.dst_ip, validate_ip(value));
  if (key == "src-mac")
    return set_text(spec.src_mac, validate_mac(value));
  if (key == "dst-mac")
    return set_text(spec.dst_mac, validate_mac(value));
  if (key == "in")
    return set_text(spec.in, validate_iface(value));
  if (key == "out")
    return set_text(spec.out, validate_iface(value));
  if (key == "bridge")
    return set_text(spec.bridge, validate_iface(value));
  if (key == "sport" || key == "dport" || key == "port") {
    auto port = validate_port(value);
    if (!port)
      return tl::unexpected(port.error());
    (key == "sport" ? spec.sport : spec.dport) = *port;
    return {};
  }
  if (key == "icmp") {
    auto tc = icmp_type_code(value);
    if (!tc || tc->first < 0)
      return fail("expected an ICMP type (8, 8/0, echo-request), got " + quote_for_error(value));
    spec.icmp_type = tc->first;
    if (tc->second >= 0)
      spec.icmp_code = tc->second;
    return {};
  }
  if (key == "arp") {
    const std::string v = to_lower(value);
    if (v != "request" && v != "reply")
      return fail("expected request or reply, got " + quote_for_error(value));
    spec.arp_op = v;
    return {};
  }
  if (key == "state") {
    auto flow = flow_of(value);
    if (!flow)
      return tl::unexpected(flow.error());
    spec.flow = *flow;
    return {};
  }
  // id: the caller's label, echoed; printable, no blanks (one word).
  if (value.empty() || value.size() > 64 ||
      std::any_of(value.begin(), value.end(), [](char c) { return c <= ' ' || c == 0x7f; }))
    return fail("expected a label of 1-64 printable characters, got " + quote_for_error(value));
  spec.id = std::string(value);
  return {};
}

// The combinations that make no packet.
Result<void> check_combination(const PacketSpec &spec, const std::vector<std::string> &seen) {
  auto has = [&](const char *key) { return std::find(seen.begin(), seen.end(), key) != seen.end(); };
  if (spec.from.empty())
    return fail("expected from=VM|VIF|IP");
  if (spec.to.empty())
    return fail("expected to=VM|VIF|IP");
  const bool ports = spec.protocol == "tcp" || spec.protocol == "udp";
  if ((has("sport") || has("dport") || has("port")) && !ports)
    return fail("expected proto=tcp or proto=udp with ports, got proto=" + spec.protocol);
  if (ports && !spec.dport)
    return fail("expected dport=PORT for proto=" + spec.protocol);
  if (has("icmp") && spec.protocol != "icmp")
    return fail("expected proto=icmp with icmp=TYPE, got proto=" + spec.protocol);
  if (has("arp") && spec.protocol != "arp")
    return fail("expected proto=arp with arp=request|reply, got proto=" + spec.protocol);
  return {};
}

} // namespace

Result<PacketSpec> parse_packet_words(const std::vector<std::string> &words,
                                      const std::string &source, std::size_t line) {
  const Reader r{source, line};
  PacketSpec spec;
  spec.protocol = "tcp";
  std::vector<std::string> seen;
  for (const auto &word : words) {
    const auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
      return r.error("expected KEY=VALUE, got " + quote_for_error(word));
    std::string key = to_lower(std::string_view(word).substr(0, eq));
    if (std::find(kPacketKeys.begin(), kPacketKeys.end(), key) == kPacketKeys.end())
      return r.error("expected one of from, to, proto, sport, dport, icmp, arp, src-ip, dst-ip, "
                     "src-mac, dst-mac, in, out, bridge, state, id, got " + quote_for_error(key));
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return r.error("expected " + key + " once, got it twice");
    seen.push_back(key);
    if (auto stored = store(spec, key, std::string_view(word).substr(eq + 1)); !stored)
      return r.error(key, stored.error());
  }
  if (auto ok = check_combination(spec, seen); !ok)
    return r.error(ok.error().message);
  if (spec.protocol == "icmp" && !spec.icmp_type)
    spec.icmp_type = 8; // echo-request, what ping sends
  if (spec.protocol == "arp" && spec.arp_op.empty())
    spec.arp_op = "request";
  return spec;
}

Result<PacketSpec> parse_packet_line(std::string_view line, const std::string &source,
                                     std::size_t line_number) {
  std::vector<std::string> words;
  for (auto word : split_blanks(line))
    words.emplace_back(word);
  if (words.empty())
    return fail(source, line_number, "expected a packet (from=... to=...), got an empty line");
  return parse_packet_words(words, source, line_number);
}

} // namespace vifwall
