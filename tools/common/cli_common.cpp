#include "cli_common.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace vifwall::cli {

std::string printable(const std::string &text) {
  constexpr std::size_t kMaxLine = 400;
  std::string out;
  std::size_t column = 0;
  for (char c : text) {
    if (c == '\n') {
      out.push_back(c);
      column = 0;
      continue;
    }
    if (column == kMaxLine)
      out += "...";
    if (column++ >= kMaxLine)
      continue;
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static const char *hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void print_error(const std::string &prog, const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", prog.c_str(), printable(message).c_str());
}

void print_error(const std::string &prog, const Error &error) {
  print_error(prog, error.str());
}

void print_warning(const std::string &prog, const std::string &message) {
  std::fprintf(stderr, "%s: warning: %s\n", prog.c_str(), printable(message).c_str());
}

CLI::Validator finite_seconds(double low, double high) {
  return CLI::Validator(
      [low, high](std::string &text) -> std::string {
        // Plain decimal only: no "nan", "inf", "0x10", "1e-400" or blanks.
        const bool decimal =
            !text.empty() && text.find_first_not_of("0123456789.") == std::string::npos &&
            text.front() != '.' && text.back() != '.' &&
            text.find('.') == text.rfind('.');
        char *end = nullptr;
        const double value = decimal ? std::strtod(text.c_str(), &end) : 0.0;
        if (!decimal || !std::isfinite(value) || value < low || value > high)
        {
          char range[64];
          std::snprintf(range, sizeof range, "%g to %g", low, high);
          return std::string("expected a number of seconds from ") + range;
        }
        return "";
      },
      "SECS");
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
