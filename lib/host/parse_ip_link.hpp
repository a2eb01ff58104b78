// Parsers for the text outputs of iproute2's `ip link` family (grammar:
// formats.md §3.1-3.4).  The JSON forms (`ip -j ...`) are in parse_ip_json.hpp.
//
// What ends up in a Link, for every form below:
// * name: as printed, minus ip's "@PEER" suffix (`vif7.0@if5`, `eth1.100@eth1`,
//   `vif2.0@NONE` -> "vif7.0", "eth1.100", "vif2.0"); cut at the first '@'.
// * ifindex, flags (upper case, printed order), mtu, master (`master xenbr0`).
// * state: operstate lower-cased (`state UP` -> "up").  Old builds (CentOS 5)
//   print no `state`; then it is derived from the flags: "up" when both UP and
//   LOWER_UP are set, else "down", so that a CentOS 5 dom0 reports states too.
// * mac: only from `link/ether ADDR`, normalized.  `link/loopback 00:00:..`,
//   `link/none` and other link types give no MAC: they are not addresses a
//   guest or a bridge port can use, and the JSON parser makes the same choice.
// * rx/tx packets, bytes, errors, dropped: from `-s`; nullopt without `-s`.
// * line: the line of the record's first line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "model.hpp"

namespace vifwall {

// Parses `ip link`, `ip -o link`, `ip -s link`, `ip -s -s link`, `ip -d link`
// (and combinations), `ip link show master BR`, and `ip addr` / `ip -s addr`
// (address lines are skipped).  Empty input is an empty list: `ip link show
// master BR` prints nothing for a bridge without ports.
//
// Layout rules, so that copies and other versions parse alike:
// * `-o` joins a record's lines with a backslash; a '\' followed by a blank
//   starts a new line (which keeps the number of the physical line).
// * A line starting with "N:" is a record header; every other line belongs to
//   the record above it, indented or not (copies often lose the indentation).
//   Lines not understood (`-d` details such as `veth`, `bridge_slave ...`,
//   `altname X`, `inet ...`) are skipped.
// * Statistics: the words of each `RX:` / `TX:` header name the columns of
//   the row below it, so the pre-5.14 (left-aligned, `overrun`) and 5.14+
//   (right-aligned, `missed`) layouts and rows shifted by wide numbers all
//   parse.  `RX errors:` / `TX errors:` rows (`-s -s`) are read and checked but
//   never touch the main counters.  Only a row directly under a stats header
//   is read as numbers, so numeric `-d` detail rows are not taken for stats.
//
// Errors (ninja style, with the 1-based line):
// * the first non-blank line is not a record header (not ip link output;
//   `ip -o addr` and `ip -br` output are named in the message);
// * a malformed record header or `mtu`, or a `link/ether` address that is no MAC;
// * a stats row with a non-number (e.g. `ip -h` units like "6.04T") or with
//   fewer/more numbers than its header has words;
// * a stats header with no row under it (truncated output).
Result<std::vector<Link>> parse_ip_link(std::string_view text,
                                        const std::string &source);

// True when the first non-blank line is a record header "N: NAME: <FLAGS>...",
// i.e. text parse_ip_link accepts (not `ip -br`, `ip -o addr`, or JSON).
bool looks_like_ip_link(std::string_view text);

// Parses `ip -br link` ("NAME[@PEER]  STATE  MAC <FLAGS>") and `ip -br addr`
// ("NAME[@PEER]  STATE  ADDR/PREFIX..."; the addresses are skipped).  Gives
// name, state, flags and mac (none when the link has the LOOPBACK flag, as in
// the long form); no ifindex, mtu, master or counters: -br does not print
// them.  A line without an upper-case STATE word is an error naming the line.
Result<std::vector<Link>> parse_ip_link_brief(std::string_view text,
                                              const std::string &source);

} // namespace vifwall
