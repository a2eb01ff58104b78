// Parsers for arptables rule sets: `arptables -L` listings and
// `arptables-save`.
//
// Contract: pure functions from text to FwDump (no I/O), clean_text() first.
// Rules keep the printed spelling in FwRule::args (target first, `-o any`,
// `--opcode 2` or `Reply`); compare them with canonical_rule(
// Family::arptables, …).  arptables has one table, "filter".
// Hard case: arptables-nft has no FORWARD hook; its restore turns
// `:FORWARD ACCEPT` into a user chain no packet traverses.  When a dump shows
// FORWARD as a user chain the parsers add a warning saying so.
#pragma once

#include <string>
#include <string_view>

#include "error.hpp"
#include "netfilter.hpp"

namespace vifwall {

// `arptables -L [-n] [-v] [-x] [--line-numbers]`, legacy 0.0.x and nft:
// "Chain C (policy P[ N packets, B bytes])" / "Chain C (N references)", then
// rules "[NUM ]-j TARGET ITEMS…[ , pcnt=P -- bcnt=B]".  Counters without -x
// may carry units (`107K`): RuleCounters::approximate is then set.
Result<FwDump> parse_arptables_list(std::string_view text, const std::string &source);

// `arptables-save`: the legacy perl script (`*filter`, `:BUILTIN POLICY`,
// `:USER -`, `-A CHAIN <the -L -n line>`, no COMMIT, no banner) and
// arptables-nft-save (banner, `[P:B] -A …` with -c, `# Completed on …`).
Result<FwDump> parse_arptables_save(std::string_view text, const std::string &source);

} // namespace vifwall
