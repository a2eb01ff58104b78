// What every vifwall tool's main() shares: exit codes, error printing, and
// the wrapper that turns exceptions (CLI11 parse errors, EPIPE from a closed
// pipe) into the documented exit statuses.  Only tools/ includes CLI11.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "error.hpp"

namespace vifwall::cli {

// Exit statuses shared by the tools (sg-diff uses 1 for "differences").
enum Exit : int {
  kOk = 0,
  kNotFound = 1,   // vif-of: a selection matched nothing
  kFailed = 1,     // sg-apply: the operation failed, nothing changed
  kUsage = 2,      // bad option, bad input, unreadable file
  kLockBusy = 75,  // EX_TEMPFAIL: another run holds the lock; retry later
};

// Prints "PROG: error: MESSAGE" to stderr.
void print_error(const std::string &prog, const std::string &message);
void print_error(const std::string &prog, const Error &error);
void print_warning(const std::string &prog, const std::string &message);

// `text` made safe for a terminal: control characters other than newlines
// as \xHH, lines cut at 400 characters (hostile values end up in messages).
std::string printable(const std::string &text);

// A number of seconds in [low, high]; unlike CLI::Range it refuses "nan".
// The validators' messages follow the tools' convention: CLI11 puts the
// option first, "--domid: expected a number 0-32767, got \"abc\"".
CLI::Validator finite_seconds(double low, double high);

// A decimal number in [low, high]: digits only (no sign, blanks, "0x").
CLI::Validator number_in(long low, long high);

// One of `choices`, spelled exactly.
CLI::Validator one_of(std::initializer_list<const char *> choices);

// The first word of `words` (argv without the program name) that CLI11
// would misread or explain badly, as the message to print: a single-dash
// word that is neither one short option nor a cluster of short flags (`-br`
// for `-b r`), an unknown option, an unknown subcommand.  Words that are
// the values of options, and everything after "--", are not looked at.
// Options of an app are known in its subcommands when they fall through.
std::optional<std::string> check_words(const CLI::App &app, const std::vector<std::string> &words);

// Writes `text` to stdout in one go; false (and no exception) when stdout is
// a closed pipe, so `vif-of --all | head -1` ends quietly.
bool write_stdout(const std::string &text);

// Runs `body` after parsing; CLI11 help/version exit 0, check_words'
// findings and parse errors exit kUsage with their message;
// std::exception -> "internal error", exit 70.
int run(CLI::App &app, int argc, char **argv, const std::function<int()> &body);

// Adds -V/--version printing "PROG (vifwall) VERSION".
void add_version(CLI::App &app, const std::string &prog);

} // namespace vifwall::cli
