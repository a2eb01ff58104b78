// The only translation unit that includes Boost.Process (it is slow to
// compile); everything else talks to CommandRunner.
#include "exec.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <future>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include "text.hpp"

namespace bp = boost::process;

namespace vifwall {

std::string describe(const std::vector<std::string> &argv) { return join_shell_words(argv); }

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

// The child starts with SIGPIPE at its default (an ignored disposition would
// be inherited through exec from a Python parent such as a XAPI plugin).
struct ChildSetup : bp::extend::handler {
  pid_t parent = ::getpid();
  char **environment = nullptr; // the child's, when not ours
  template <class Executor> void on_setup(Executor &exec) const {
    if (environment)
      exec.env = environment;
  }
  template <class Executor> void on_exec_setup(Executor &) const {
    ::signal(SIGPIPE, SIG_DFL);
    // A child must not outlive us: a restore tool left running after
    // `sg-apply` was killed would load its change without our lock.  (The
    // kernel applies each restore atomically, so killing one half way loads
    // nothing.)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) // the parent died before prctl took effect
      ::_exit(127);
  }
};

// The child's input as a file, written completely before the child starts: a
// restore tool reading from a pipe would take the EOF of a killed parent for
// the end of its input and load half a table.
FILE *input_file(const std::string &input) {
  int fd = static_cast<int>(::syscall(SYS_memfd_create, "vifwall-input", MFD_CLOEXEC));
  FILE *file = nullptr;
  if (fd >= 0)
    file = ::fdopen(fd, "w+");
  if (!file) {
    if (fd >= 0)
      ::close(fd);
    file = std::tmpfile(); // kernels before 3.17
  }
  if (!file)
    return nullptr;
  if (std::fwrite(input.data(), 1, input.size(), file) != input.size() || std::fflush(file) != 0) {
    std::fclose(file);
    return nullptr;
  }
  std::rewind(file);
  return file;
}



// The child's environment: ours with LC_ALL=C (parsers read the untranslated
// labels) and the command's additions, later ones winning.  Built here rather
// than with bp::environment, whose lookup reads past the end of entries
// shorter than the key (AddressSanitizer reports it).
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>> &added) {
  std::vector<std::pair<std::string, std::string>> overrides{{"LC_ALL", "C"}};
  for (const auto &pair : added) { // not a structured binding: clang 14 cannot capture one
    auto same = std::find_if(overrides.begin(), overrides.end(),
                             [&](const auto &o) { return o.first == pair.first; });
    if (same == overrides.end())
      overrides.push_back(pair);
    else
      same->second = pair.second;
  }
  std::vector<std::string> entries;
  for (char **entry = ::environ; entry && *entry; ++entry) {
    const std::string_view text = *entry;
    const std::string_view key = text.substr(0, text.find('='));
    if (std::none_of(overrides.begin(), overrides.end(), [&](const auto &o) { return o.first == key; }))
      entries.emplace_back(text);
  }
  for (const auto &[key, value] : overrides)
    entries.push_back(key + "=" + value);
  return entries;
}

class ProcessRunner final : public CommandRunner {
public:
  bool concurrent() const override { return true; }

  Result<CommandOutput> run(const Command &command) override {
    if (command.argv.empty())
      return fail("internal error: empty command");
    const auto exe = find_program(command.argv[0]);
    if (!exe)
      return fail(command.argv[0], 0,
                  "command not found (looked in PATH, /usr/sbin, /sbin)");

    boost::asio::io_context ios;
    std::future<std::string> out;
    std::future<std::string> err;
    std::vector<std::string> entries = child_environment(command.env);
    std::vector<char *> environment;
    for (auto &entry : entries)
      environment.push_back(entry.data());
    environment.push_back(nullptr);
    ChildSetup setup;
    setup.environment = environment.data();
    const std::vector<std::string> args(command.argv.begin() + 1,
                                        command.argv.end());
    std::unique_ptr<FILE, int (*)(FILE *)> input(input_file(command.input), &std::fclose);
    if (!input)
      return fail(describe(command.argv), 0, "cannot stage the command's input in memory");
    std::error_code ec;
    bp::child child(*exe, bp::args(args), bp::std_in < input.get(),
                    bp::std_out > out, bp::std_err > err, ios, setup, ec);
    if (ec)
      return fail(describe(command.argv), 0,
                  "cannot start: " + ec.message());

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

void run_together(const CommandRunner &runner, const std::vector<std::function<void()>> &tasks) {
  if (!runner.concurrent() || tasks.size() < 2) {
    for (const auto &task : tasks)
      task();
    return;
  }
  std::vector<std::future<void>> others;
  for (std::size_t i = 1; i < tasks.size(); ++i)
    others.push_back(std::async(std::launch::async, tasks[i]));
  std::exception_ptr first_error;
  try {
    tasks[0]();
  } catch (...) {
    first_error = std::current_exception();
  }
  for (auto &other : others) {
    try {
      other.get();
    } catch (...) {
      if (!first_error)
        first_error = std::current_exception();
    }
  }
  if (first_error)
    std::rethrow_exception(first_error);
}

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
