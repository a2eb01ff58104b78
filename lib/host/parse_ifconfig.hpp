// Parser for net-tools `ifconfig` output: the old 1.60 layout of XenServer
// <= 6.5 dom0s ("vif7.0    Link encap:Ethernet  HWaddr FE:FF:..."), the 2.x
// layout of CentOS 7 dom0s and Debian ("vif2.0: flags=4419<UP,...>  mtu 1500"),
// and the `ifconfig -s` / `netstat -i` table.  Grammar: formats.md section 2.
//
// Dom0s of both generations are still in service, and admins paste outputs of
// either into bug reports, so the layout is detected per record from its
// first line rather than once per file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "model.hpp"

namespace vifwall {

// Parses `ifconfig`, `ifconfig -a`, `ifconfig IFACE` (old or new layout, mixed
// freely) or `ifconfig -s` / `netstat -i` output into one Link per record, in
// printed order.  `source` names the text in error messages.
//
// Fills name, mac (normalized; none for loopback, tunnels and UNSPEC dash
// bytes), mtu, flags (upper-case words; the -s letters are spelled out),
// state ("up" when the flags hold UP and RUNNING, else "down"), rx/tx
// packets, bytes, errors and dropped (raw integers; the human "(1.0 KiB)"
// texts are ignored), and line (the record's first line).  Aliases such as
// `eth1:1` print no statistics: their counters stay nullopt.  In the old
// layout a name of exactly 9 characters may have been cut by the "%-9.9s"
// column ("vif32752." for vif32752.0): name_truncated is set so callers
// cross-check with `ip link`.  `-s` gives no bytes and no MAC.
//
// Input is cleaned first (CRLF, UTF-8 non-breaking spaces); indentation may
// be stripped or expanded.  Empty text gives no links.  Errors: text whose
// first non-blank line is not an ifconfig record head or `-s` header (e.g.
// `ip link` or `xe` output) fails there; a counter or MTU that is not a number,
// an unindented line that is no ifconfig line, and a record whose statistics
// are only partly present (cut output) fail with the line and what was
// expected.  Unknown indented detail lines (IPX addresses, "media ...") are
// ignored.
Result<std::vector<Link>> parse_ifconfig(std::string_view text,
                                         const std::string &source);

// True when the first non-blank line is an ifconfig record head (either
// layout) or the `ifconfig -s` header ("Iface  MTU ..."), so that callers can
// tell ifconfig output from `ip link` output before choosing a parser.
bool looks_like_ifconfig(std::string_view text);

} // namespace vifwall
