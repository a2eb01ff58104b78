// What every vifwall tool's main() shares: exit codes, error printing, and
// the wrapper that turns exceptions (CLI11 parse errors, EPIPE from a closed
// pipe) into the documented exit statuses.  Only tools/ includes CLI11.
#pragma once

#include <functional>
#include <string>

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
CLI::Validator finite_seconds(double low, double high);

// Writes `text` to stdout in one go; false (and no exception) when stdout is
// a closed pipe, so `vif-of --all | head -1` ends quietly.
bool write_stdout(const std::string &text);

// Runs `body` after parsing; CLI11 help/version exit 0, parse errors exit
// kUsage with CLI11's message; std::exception -> "internal error", exit 70.
int run(CLI::App &app, int argc, char **argv, const std::function<int()> &body);

// Adds -V/--version printing "PROG (vifwall) VERSION".
void add_version(CLI::App &app, const std::string &prog);

} // namespace vifwall::cli
