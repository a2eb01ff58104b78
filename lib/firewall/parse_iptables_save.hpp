// Parsers for the "save" grammar the xtables tools share (iptables-save,
// ip6tables-save, ebtables-save, arptables-save) and for `iptables -S`.
//
// Contract: pure functions from text to FwDump (no I/O); clean_text() first,
// so CRLF and non-breaking spaces act as the whitespace they stand for.
// Tolerated: trailing blanks, blank lines and `#` comment lines anywhere
// (banners, `# Warning: …legacy tables present` merged from stderr, hand
// edits), rules with or without `[packets:bytes]` counters, legacy and nft
// banners.  Unknown rule options are kept as tokens.  Errors, as
// "SOURCE:LINE: expected X, got Y": a rule for a chain not declared by a
// `:CHAIN` line, a rule or chain outside a table, a line that fits no
// grammar, an open quote, and truncated input (a table without its COMMIT;
// an nf_tables dump whose last table lacks its "# Completed" line).
#pragma once

#include <string>
#include <string_view>

#include "error.hpp"
#include "netfilter.hpp"

namespace vifwall {

// How the save formats of the four tools differ.
struct SaveDialect {
  // iptables-save ends every table with COMMIT, and iptables-restore
  // rejects a table without it: a missing COMMIT means truncated output.
  // ebtables/arptables saves have none (their nft variants tolerate one).
  bool commit_required = true;
  // Legacy ebtables-save with EBTABLES_SAVE_COUNTER=yes ends each rule with
  // ` -c PACKETS BYTES`.
  bool counter_tail = false;
};

// The shared engine behind parse_iptables_save, parse_ebtables_save and
// parse_arptables_save.
Result<FwDump> parse_xtables_save(std::string_view text, const std::string &source,
                                  const SaveDialect &dialect);

// `iptables-save [-c]` / `ip6tables-save [-c]`, legacy or nft (also the old
// `xtables-save` banner), every table between `*table` and COMMIT.
Result<FwDump> parse_iptables_save(std::string_view text, const std::string &source);

// `iptables -S [CHAIN] [-v]` / `ip6tables -S`: `-P CHAIN POLICY`, `-N CHAIN`,
// `-A CHAIN …`; with -v, `-c P B` counters (taken out of args).  The output
// does not name its table, so the caller does (`iptables -t nat -S`).
Result<FwDump> parse_iptables_rules(std::string_view text, const std::string &source,
                                    const std::string &table = "filter");

} // namespace vifwall
