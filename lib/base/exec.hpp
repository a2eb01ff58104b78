// Running other programs: the one place libvifwall starts processes.
//
// Contract: a command is an argument vector, never a shell line.  Output and
// error output are read concurrently (no deadlock however much a child
// writes), input is written from memory, and a child that outlives its
// timeout is killed (SIGTERM, then SIGKILL) and reported as timed out.
// Tests replace the real runner with a fake through the CommandRunner
// interface.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"

namespace vifwall {

struct Command {
  std::vector<std::string> argv;  // argv[0] is a path or a name found in PATH
  std::string input;              // written to the child's stdin, then closed
  std::chrono::milliseconds timeout{30000};
  // Extra environment, added to (or overriding) the inherited one.
  std::vector<std::pair<std::string, std::string>> env;
};

struct CommandOutput {
  int exit_code = 0;     // valid when signal == 0
  int signal = 0;        // the signal that ended the child, 0 if it exited
  bool timed_out = false;
  std::string out;
  std::string err;
  bool ok() const { return signal == 0 && !timed_out && exit_code == 0; }
};

// "iptables-restore --noflush" for messages: argv joined by
// join_shell_words (text.hpp), each word quoted only when it needs it.
std::string describe(const std::vector<std::string> &argv);

class CommandRunner {
public:
  virtual ~CommandRunner() = default;
  // Runs to completion.  Fails only when the program could not be started
  // (not found, not executable); a non-zero exit is a CommandOutput.
  virtual Result<CommandOutput> run(const Command &command) = 0;
  // Whether run() may be called from several threads at once: the real
  // runner can; fakes that record the order of commands cannot.
  virtual bool concurrent() const { return false; }
};

// Runs independent tasks (each a few commands, e.g. one table's dump) at the
// same time when the runner is concurrent, else one after the other in
// order.  Returns when all are done; an exception in a task is rethrown.
void run_together(const CommandRunner &runner, const std::vector<std::function<void()>> &tasks);

// The real runner (Boost.Process).
std::unique_ptr<CommandRunner> make_process_runner();

// Like run(), but a non-zero exit, a signal or a timeout also becomes an
// Error naming the command and quoting its stderr.
Result<CommandOutput> run_checked(CommandRunner &runner, const Command &command);

// Finds an executable: `name` if it contains '/', else the first match in
// PATH, then in `extra_dirs` (for cron's short PATH: /usr/sbin, /sbin,
// /opt/xensource/bin).
std::optional<std::string> find_program(const std::string &name,
                                        const std::vector<std::string> &extra_dirs = {
                                            "/usr/local/sbin", "/usr/sbin",
                                            "/sbin", "/usr/bin", "/bin"});

} // namespace vifwall
