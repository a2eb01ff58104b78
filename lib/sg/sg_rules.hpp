// Security group rules: CloudStack's rule string, its deflated transport
// form, and a readable rules file of our own.
//
// CloudStack's wire format (cloudstack-sg.md §3), one entry per rule:
//   I:tcp;22;22;0.0.0.0/0,NEXT I:icmp;-1;-1;10.0.0.0/8,NEXT E:all;0;0;0.0.0.0/0,NEXT
// `I:`/`E:` = ingress/egress, then protocol, start, end and the CIDRs, each
// CIDR followed by ','; an entry ends with "NEXT" and a space (KVM sends
// "NEXT;"; a missing final separator is accepted too).
//
// Meaning of start/end (normalized by the parsers, so equal rules compare
// equal):
//   tcp, udp       first and last destination port, 0 <= start <= end <= 65535;
//                  0..0 means every port and is stored as 0..65535
//   icmp           start = ICMP type, end = code, -1 = any; type -1 needs code -1
//   all, a number  0..0 (-1..-1 is accepted and stored as 0..0); numbers keep
//                  their digits ("47"), "6" is not turned into "tcp"
//
// Rules keep the order they were given in (CloudStack's XenServer plugin
// inserted each rule at the top, reversing them).
//
// Readable rules file (one rule per line, '#' starts a comment, keywords in
// any case):
//   ingress tcp 22 from 10.0.0.0/8
//   ingress tcp 8080-8090 from 192.168.7.0/24, 10.1.0.0/16
//   ingress tcp from 10.0.0.0/8               # every port
//   egress udp 53 to 0.0.0.0/0
//   ingress icmp type 8 code any from 0.0.0.0/0
//   ingress icmp from 0.0.0.0/0               # any type, any code
//   ingress all from 10.0.0.0/8
//   ingress 47 from 10.0.0.0/8
// Ingress rules say "from" (the sources allowed in), egress rules "to" (the
// destinations allowed out).  CIDRs are separated by commas and/or blanks; a
// bare address means /32.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace vifwall {

enum class Direction { ingress, egress };

const char *to_string(Direction direction); // "ingress" / "egress"

struct SgRule {
  Direction direction = Direction::ingress;
  std::string protocol;           // "tcp", "udp", "icmp", "all" or "0".."255"
  int start = 0;                  // see the table above
  int end = 0;
  std::vector<std::string> cidrs; // validated, "a.b.c.d/n" or IPv6 "x::/n"
  bool operator==(const SgRule &) const = default;
};

// Limits that keep a hostile or broken input from exhausting memory or
// exceeding what one ipset can hold (maxelem 65536).
inline constexpr std::size_t kMaxRules = 9999;
inline constexpr std::size_t kMaxCidrsPerRule = 65536;
inline constexpr std::size_t kMaxInflatedBytes = 16u * 1024u * 1024u;

// Checks a rule built by hand against the table above and returns it
// normalized (protocol in lower case, tcp/udp 0..0 -> 0..65535, CIDRs through
// validate_cidr).  The parsers only produce rules this returns unchanged.
// The error names the rule.
Result<SgRule> normalize_rule(const SgRule &rule);

// CloudStack's rule string -> rules.  An empty string (or blanks) is an empty
// rule list.  Errors name `source`, the 1-based entry number as the line, the
// entry and what was expected:
//   rules:2: expected a port 0-65535 as start, got "x" in entry "I:tcp;x;22;0.0.0.0/0,"
Result<std::vector<SgRule>> parse_rule_string(std::string_view text,
                                              const std::string &source);

// The transport form (network_rules' deflated=true): base64 of the
// zlib-deflated rule string.  Refuses non-base64 text, data that is not one
// complete zlib stream (or has bytes after it), and output larger than
// kMaxInflatedBytes (a zip bomb is stopped while inflating, not after).
Result<std::string> decode_deflated(std::string_view base64_text,
                                    const std::string &source = "rules");

// Rules -> CloudStack's rule string ("I:tcp;22;22;0.0.0.0/0,NEXT ...").
// parse_rule_string(format_rule_string(r)) == r for valid rules.
std::string format_rule_string(const std::vector<SgRule> &rules);

// The readable rules file -> rules.  Errors: "rules.txt:LINE: expected ...".
Result<std::vector<SgRule>> parse_rules_file(std::string_view text,
                                             const std::string &source);

// Where a tool's rules come from: a rules file (or "-" for stdin) when
// `file` is set, else CloudStack's rule string, base64 of zlib when
// `deflated` (its "deflated" flag).  Errors name "--rules" or the file.
struct RulesSource {
  std::string file;
  std::string text;
  bool deflated = false;
};
Result<std::vector<SgRule>> read_rules(const RulesSource &source);

// One rule without its direction, for listings:
//   "tcp 8080-8090 from 192.168.7.0/24, 10.1.0.0/16", "icmp type 8 code any
//   from 0.0.0.0/0", "all to 0.0.0.0/0".  A rule with no CIDRs (CloudStack
//   sends those for a group without running members) prints "from (nobody)"
//   / "to (nowhere)"; it allows nothing and has no rules-file spelling.
std::string format_rule_readable(const SgRule &rule);

// Rules as a rules file, one "ingress ..."/"egress ..." line each;
// parse_rules_file() reads it back (rules without CIDRs excepted).
std::string format_rules_file(const std::vector<SgRule> &rules);

// CloudStack's secondary IP list ("10.0.0.5;10.0.0.6;" or "0;" for none) ->
// validated IPv4 addresses.  Errors name `source` and the 1-based item.
Result<std::vector<std::string>> parse_secondary_ips(std::string_view text,
                                                     const std::string &source);

// True for a CIDR that matches every IPv4 address (prefix length 0, normally
// 0.0.0.0/0).
bool is_any_ipv4(const std::string &cidr);
// True for an IPv6 CIDR (contains ':').
bool is_ipv6_cidr(const std::string &cidr);

} // namespace vifwall
