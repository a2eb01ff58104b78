// Parser for iproute2's JSON output (`ip -j [-s] [-s] [-d] [-p] link`,
// `ip -j addr`; iproute2 >= 4.14, formats.md §3.3).  The text forms are in
// parse_ip_link.hpp; both fill Link the same way, so a host parsed from
// `ip link` and from `ip -j link` compares equal except for Link::line.
//
// nlohmann::json is used only in parse_ip_json.cpp: it is slow to compile,
// and callers need nothing from it.  It is the second reader: the keys below
// are first pulled with JsonPull (json_pull.hpp, no DOM: 2 MB of `ip -j -s
// link` in a seventh of the instructions), and any input that reader does
// not take (invalid JSON, a wrong type, a case it has no fast path for) is
// read again with the DOM, which accepts it or gives the error below.  So
// what is accepted and every message are the DOM's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "model.hpp"

namespace vifwall {

// Reads the array of link objects.  Keys used: `ifname` (required string),
// `ifindex`, `flags`, `mtu`, `master`, `operstate` (lower-cased; left empty
// when absent), `address` (a MAC only when `link_type` is "ether", as in the
// text parser), and `stats64` (or `stats` from builds without 64-bit stats)
// with rx/tx `bytes packets errors dropped`.  Other keys (`addr_info`,
// `linkinfo`, `-s -s` error counters...) are ignored.  Link::line is 0.
//
// A key that is missing or null gives nullopt / empty.  A key of the wrong type
// is an error naming the source and the element's 0-based array index
// ("element 3"), line 0: JSON lines say little, `ip -j` prints one line.
// Invalid JSON is an error with the line of the fault; a cut-off array
// (truncated output) is reported as truncated.  Empty input is an error:
// `ip -j` prints "[]" when there is nothing to list.
Result<std::vector<Link>> parse_ip_link_json(std::string_view text,
                                             const std::string &source);

// True when the first non-blank character is '[': the output of `ip -j`.
// Builds older than 4.14 ignore -j and print text, which this tells apart.
bool looks_like_json_array(std::string_view text);

} // namespace vifwall
