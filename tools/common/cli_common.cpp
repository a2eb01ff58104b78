#include "cli_common.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace vifwall::cli {

void print_error(const std::string &prog, const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), message.c_str());
}

void print_error(const std::string &prog, const Error &error) {
  print_error(prog, error.str());
}

void print_warning(const std::string &prog, const std::string &message) {
  std::fprintf(stderr, "%s: warning: %s\n", prog.c_str(), message.c_str());
}

bool write_stdout(const std::string &text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(1, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false; // EPIPE when SIGPIPE is ignored (XAPI's Python parents)
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

int run(CLI::App &app, int argc, char **argv, const std::function<int()> &body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    // CLI11 would return 100-127; the tools promise 2 for usage errors.
    print_error(app.get_name(), e.what());
    std::fprintf(stderr, "Run with --help for more information.\n");
    return kUsage;
  }
  try {
    return body();
  } catch (const std::exception &e) {
    print_error(app.get_name(), std::string("internal error: ") + e.what());
    return 70; // EX_SOFTWARE
  }
}

void add_version(CLI::App &app, const std::string &prog) {
  app.set_version_flag("-V,--version", prog + " (vifwall) " VIFWALL_VERSION);
}

} // namespace vifwall::cli
