// The only translation unit that includes Boost.Process (it is slow to
// compile); everything else talks to CommandRunner.
#include "exec.hpp"

#include <csignal>
#include <cstdlib>
#include <future>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include "text.hpp"

namespace bp = boost::process;

namespace vifwall {

std::string describe(const std::vector<std::string> &argv) {
  std::string out;
  for (const auto &word : argv) {
    if (!out.empty())
      out.push_back(' ');
    const bool plain =
        !word.empty() &&
        word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789-_./:=,+@%") == std::string::npos;
    if (plain) {
      out += word;
    } else {
      out.push_back('\'');
      for (char c : word) {
        if (c == '\'')
          out += "'\\''";
        else
          out.push_back(c);
      }
      out.push_back('\'');
    }
  }
  return out;
}

static bool is_executable_file(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

std::optional<std::string> find_program(const std::string &name,
                                        const std::vector<std::string> &extra_dirs) {
  if (name.empty())
    return std::nullopt;
  if (name.find('/') != std::string::npos)
    return is_executable_file(name) ? std::optional<std::string>(name)
                                    : std::nullopt;
  std::vector<std::string> dirs;
  if (const char *path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (true) {
      const auto colon = rest.find(':');
      dirs.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos)
        break;
      rest.remove_prefix(colon + 1);
    }
  }
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  for (const auto &dir : dirs) {
    if (dir.empty())
      continue;
    std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate))
      return candidate;
  }
  return std::nullopt;
}

namespace {

// We ignore SIGPIPE while feeding a child's stdin (a child may exit without
// reading it); the child itself must start with the default disposition, or
// a tool like `iptables-save | head` inside it would misbehave.
struct DefaultSigpipeInChild : bp::extend::handler {
  template <class Executor> void on_exec_setup(Executor &) const {
    ::signal(SIGPIPE, SIG_DFL);
  }
};

class SigpipeIgnored {
public:
  SigpipeIgnored() { previous_ = ::signal(SIGPIPE, SIG_IGN); }
  ~SigpipeIgnored() { ::signal(SIGPIPE, previous_); }
  SigpipeIgnored(const SigpipeIgnored &) = delete;
  SigpipeIgnored &operator=(const SigpipeIgnored &) = delete;

private:
  void (*previous_)(int);
};

class ProcessRunner final : public CommandRunner {
public:
  Result<CommandOutput> run(const Command &command) override {
    if (command.argv.empty())
      return fail("internal error: empty command");
    const auto exe = find_program(command.argv[0]);
    if (!exe)
      return fail(command.argv[0], 0,
                  "command not found (looked in PATH, /usr/sbin, /sbin)");

    SigpipeIgnored sigpipe_guard;
    boost::asio::io_context ios;
    bp::async_pipe stdin_pipe(ios);
    std::future<std::string> out;
    std::future<std::string> err;
    bp::environment env = boost::this_process::environment();
    env["LC_ALL"] = "C"; // parsers read the untranslated labels
    for (const auto &[key, value] : command.env)
      env[key] = value;
    const std::vector<std::string> args(command.argv.begin() + 1,
                                        command.argv.end());
    std::error_code ec;
    bp::child child(*exe, bp::args(args), bp::std_in < stdin_pipe,
                    bp::std_out > out, bp::std_err > err, env, ios,
                    DefaultSigpipeInChild{}, ec);
    if (ec)
      return fail(describe(command.argv), 0,
                  "cannot start: " + ec.message());

    if (command.input.empty()) {
      stdin_pipe.close();
    } else {
      boost::asio::async_write(
          stdin_pipe, boost::asio::buffer(command.input),
          [&stdin_pipe](const boost::system::error_code &, std::size_t) {
            stdin_pipe.close();
          });
    }

    CommandOutput result;
    ios.run_for(command.timeout);
    if (!ios.stopped()) {
      result.timed_out = true;
      std::error_code terminate_ec;
      child.terminate(terminate_ec); // SIGKILL
      ios.restart();
      // Drain what is left; a grandchild holding the pipes must not hang us.
      ios.run_for(std::chrono::seconds(2));
    }
    child.wait(ec);
    const int status = child.native_exit_code();
    if (WIFSIGNALED(status))
      result.signal = WTERMSIG(status);
    else if (WIFEXITED(status))
      result.exit_code = WEXITSTATUS(status);
    if (out.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      result.out = out.get();
    if (err.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      result.err = err.get();
    return result;
  }
};

} // namespace

std::unique_ptr<CommandRunner> make_process_runner() {
  return std::make_unique<ProcessRunner>();
}

Result<CommandOutput> run_checked(CommandRunner &runner, const Command &command) {
  auto result = runner.run(command);
  if (!result)
    return result;
  if (result->ok())
    return result;
  std::string what;
  if (result->timed_out)
    what = "timed out after " + std::to_string(command.timeout.count()) + " ms";
  else if (result->signal)
    what = "killed by signal " + std::to_string(result->signal);
  else
    what = "exited with status " + std::to_string(result->exit_code);
  const auto detail = trim(result->err);
  if (!detail.empty())
    what += ": " + std::string(detail.substr(0, 2000));
  return fail(describe(command.argv), 0, what);
}

} // namespace vifwall
