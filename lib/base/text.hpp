// Small text helpers every parser uses: one notion of a line, of whitespace and
// of a number, so that CRLF, non-breaking spaces and tabs are handled the same
// way in every format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vifwall {

// Copies `raw` with pasted-text damage undone: every UTF-8 non-breaking space
// (C2 A0) becomes a plain space and every CR is dropped (CRLF line ends, stray
// CRs from progress bars).  Parsers call this first.
std::string clean_text(std::string_view raw);
// The start of `text` up to the end of its `nonblank`-th non-blank line.
std::string_view leading_lines(std::string_view text, std::size_t nonblank);

struct Line {
  std::string_view text; // without the trailing newline
  std::size_t number;    // 1-based
};

// Splits into lines on '\n'.  A final line without '\n' is kept; the empty
// string after a trailing '\n' is not.
std::vector<Line> split_lines(std::string_view text);
// The lines point into `text`: a temporary string would leave them dangling
// (twice found by ASan), so that does not compile.
std::vector<Line> split_lines(std::string &&text) = delete;
inline std::vector<Line> split_lines(const char *text) { return split_lines(std::string_view(text)); }

// Splits on runs of blanks (space, tab, vertical tab, form feed).
std::vector<std::string_view> split_blanks(std::string_view s);

std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
bool is_blank(std::string_view s);

// Whole-string unsigned decimal; no sign, no blanks; fails on overflow.
std::optional<std::uint64_t> parse_u64(std::string_view s);
// Whole-string signed decimal ("-1" allowed).
std::optional<std::int64_t> parse_i64(std::string_view s);

// Any MAC spelling we meet (upper/lower case, no leading zeros as ebtables
// prints them, '-' separators) -> "06:f8:c8:00:00:09".  nullopt if not 6 octets.
std::optional<std::string> normalize_mac(std::string_view s);

// For error messages: the offending text, shortened and with control
// characters made visible, in double quotes.
std::string quote_for_error(std::string_view s, std::size_t max = 60);

// A word as a POSIX shell reads it back, for messages a user may paste into
// one: as it is when it is only letters, digits and `-_./:=,+@%`, else in
// single quotes (a `'` inside as `'\''`; the empty word as `''`).  Not the
// quoting of iptables-restore input, which knows only `"` (join_rule_words).
std::string shell_quote(std::string_view word);
// Words joined by spaces, each through shell_quote:
// {"xe", "vm-list", "name-label=a b"} -> "xe vm-list 'name-label=a b'".
std::string join_shell_words(const std::vector<std::string> &words);

std::string to_lower(std::string_view s);

// Splits a command line the way a POSIX shell splits words, without any
// expansion: blanks separate, '...' is literal, "..." allows \" and \\,
// a backslash outside quotes escapes the next character.  nullopt when a
// quote is left open.  For `sg-apply batch` lines.
std::optional<std::vector<std::string>> split_command_line(std::string_view line);

// "i-2-10-VM" sorts after "i-2-9-VM": runs of digits compare as numbers.
bool natural_less(const std::string &a, const std::string &b);

// 2430 -> "2.4k", 249373 bytes -> "244K" (1024-based), under 1000 -> as is.
std::string compact_count(std::uint64_t value, bool bytes);

// Every MAC address in `text` written as six two-digit groups in lower case:
// ebtables -L prints "6:f8:c8:0:0:9", people and the other tools
// "06:f8:c8:00:00:09".  A run of six groups of one or two hex digits with
// no ':' or hex digit around it is a MAC; anything else (IPv6) is kept.
std::string normalize_macs_in(std::string_view text);

// "1 rule", "3 rules": `count` and the noun, plural unless exactly one.
// `plural` for nouns that do not take an "s" ("1 entry", "2 entries").
std::string counted(std::uint64_t count, std::string_view singular, std::string_view plural = {});
// {"a", "b"} joined by `separator`: "a, b".
std::string join_strings(const std::vector<std::string> &items, std::string_view separator);

} // namespace vifwall
