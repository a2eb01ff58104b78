// Parsers for ipset listings: `ipset save` (= `ipset list -output save`) and
// the plain `ipset list` (also -terse), ipset 6.x/7.x syntax.
//
// Contract: pure functions from text to IpsetDump (no I/O), clean_text()
// first.  Members are normalized and sorted (the kernel prints them in hash
// order; see normalize_ipset_member), so two listings of the same set compare
// equal.  Unknown create/header options are kept in IpSet::options.  The
// ipset 4.x language (`-N name iphash`, `Bindings:`) is rejected with an
// error saying so rather than misread.
#pragma once

#include <string>
#include <string_view>

#include "error.hpp"
#include "netfilter.hpp"

namespace vifwall {

// `create NAME TYPE [family F] OPTIONS…` and `add NAME ELEM [OPTIONS…]`
// lines (quoted `comment "…"` allowed).  An `add` to a set not created
// earlier, a `create` with an empty (`""`) name or type, a line that is
// neither, or an open quote is an error.
Result<IpsetDump> parse_ipset_save(std::string_view text, const std::string &source);

// `ipset list [SET]` records ("Name:", "Type:", "Revision:", "Header:",
// "Size in memory:", "References:", ["Number of entries:"], "Members:" and
// one element per line), separated by blank lines; `-terse` records stop
// before "Members:" (members stay empty; `entries` still has the count).
// A record without "Type:", or listing fewer members than its "Number of
// entries" (sets without timeout only: expiring elements may be counted but
// not listed) is an error.
Result<IpsetDump> parse_ipset_list(std::string_view text, const std::string &source);

} // namespace vifwall
