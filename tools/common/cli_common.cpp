#include "cli_common.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "text.hpp"

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
          return std::string("expected a number of seconds from ") + range + ", got " +
                 quote_for_error(text);
        }
        return "";
      },
      ""); // the option's type name (SECS) says it
}

CLI::Validator number_in(long low, long high) {
  const std::string expected = "expected a number " + std::to_string(low) + "-" + std::to_string(high);
  return CLI::Validator(
      [low, high, expected](std::string &text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 18 &&
                            text.find_first_not_of("0123456789") == std::string::npos;
        const long value = digits ? std::stol(text) : -1;
        if (!digits || value < low || value > high)
          return expected + ", got " + quote_for_error(text);
        return "";
      },
      "");
}

CLI::Validator one_of(std::initializer_list<const char *> choices) {
  std::vector<std::string> names(choices.begin(), choices.end());
  std::string expected = "expected one of", shown = "{";
  for (const auto &name : names) {
    expected += (name == names.front() ? " " : ", ") + name;
    shown += (name == names.front() ? "" : ",") + name;
  }
  return CLI::Validator(
      [names, expected](std::string &text) -> std::string {
        for (const auto &name : names)
          if (text == name)
            return "";
        return expected + ", got " + quote_for_error(text);
      },
      shown + "}");
}

namespace {

// `name` ("--bridge", "-b") as an option of `app`, or of an app it falls
// through to, as CLI11 looks it up.
const CLI::Option *find_option(const CLI::App *app, const std::string &name) {
  for (; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option *option = app->get_option_no_throw(name))
      return option;
    if (!app->get_fallthrough())
      break;
  }
  return nullptr;
}

// A flag expects no value (expected 0; its type size stays 1).
bool takes_value(const CLI::Option &option) {
  return option.get_expected_max() > 0 && option.get_type_size_max() > 0;
}

std::vector<const CLI::App *> named_subcommands(const CLI::App &app) {
  return app.get_subcommands([](const CLI::App *sub) { return !sub->get_name().empty(); });
}

bool has_positionals(const CLI::App &app) {
  return !app.get_options([](const CLI::Option *option) { return option->get_positional(); }).empty();
}

// "--bridge" for -b, or "-b" when it has no long name.
std::string long_name(const CLI::Option &option, char letter) {
  if (!option.get_lnames().empty())
    return "--" + option.get_lnames().front();
  return std::string{'-', letter};
}

// A single-dash word of two letters or more: a cluster of flags (-jp), or a
// problem.
std::optional<std::string> check_cluster(const CLI::App &context, const std::string &word) {
  for (std::size_t k = 1; k < word.size(); ++k) {
    const std::string name{'-', word[k]};
    const CLI::Option *option = find_option(&context, name);
    if (option == nullptr)
      return "unknown option " + quote_for_error(word) + ": there is no " + name +
             " (single-dash options are one letter each; long ones begin with --)";
    if (takes_value(*option)) {
      const std::string rest = word.substr(k + 1);
      return "unknown option " + quote_for_error(word) + ": single-dash options are one letter "
             "each, and " + name + " takes a value; for " + name + " with the value " +
             quote_for_error(rest) + " write " + name + " " + rest + " or " +
             long_name(*option, word[k]) + " " + rest;
    }
  }
  return std::nullopt;
}

// CLI11 reads "[a,b]" given to an option that takes several values as a
// list and drops the brackets, so "--ip6 [2001:db8::1]" would pass as an
// address: no value of ours is written so.
std::optional<std::string> check_bracketed(const std::string &option, const std::string &value) {
  if (value.size() >= 2 && value.front() == '[' && value.back() == ']')
    return "expected one plain value for " + option + ", got the bracketed list " + quote_for_error(value);
  return std::nullopt;
}

} // namespace

std::optional<std::string> check_words(const CLI::App &app, const std::vector<std::string> &words) {
  const CLI::App *context = &app;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string &word = words[i];
    if (word == "--")
      break;
    if (word.size() > 2 && word.compare(0, 2, "--") == 0) {
      const std::size_t equals = word.find('=');
      const std::string name = word.substr(0, equals);
      const CLI::Option *option = find_option(context, name);
      if (option == nullptr)
        return "unknown option " + quote_for_error(name) +
               (context == &app ? "" : " for " + context->get_name());
      if (equals == std::string::npos && takes_value(*option))
        ++i; // its value, whatever it looks like
      const std::string value = equals == std::string::npos ? (i < words.size() ? words[i] : "")
                                                            : word.substr(equals + 1);
      if (auto problem = check_bracketed(name, value))
        return problem;
      continue;
    }
    if (word.size() == 2 && word[0] == '-') {
      const CLI::Option *option = find_option(context, word);
      if (option == nullptr)
        return "unknown option " + quote_for_error(word) +
               (context == &app ? "" : " for " + context->get_name());
      if (takes_value(*option)) {
        ++i;
        if (auto problem = check_bracketed(word, i < words.size() ? words[i] : ""))
          return problem;
      }
      continue;
    }
    if (word.size() > 2 && word[0] == '-') {
      if (auto problem = check_cluster(*context, word))
        return problem;
      continue;
    }
    // Not an option: a subcommand's name, or a positional value.
    const auto subcommands = named_subcommands(*context);
    const auto sub = std::find_if(subcommands.begin(), subcommands.end(),
                                  [&](const CLI::App *s) { return s->check_name(word); });
    if (sub != subcommands.end()) {
      context = *sub;
    } else if (!subcommands.empty() && !has_positionals(*context)) {
      std::string names;
      for (const CLI::App *s : subcommands)
        names += (names.empty() ? "" : ", ") + s->get_name();
      return "unknown subcommand " + quote_for_error(word) + "; expected one of: " + names;
    }
  }
  return std::nullopt;
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
  const std::vector<std::string> words(argv + std::min(argc, 1), argv + argc);
  if (auto problem = check_words(app, words)) {
    print_error(app.get_name(), *problem);
    std::fprintf(stderr, "Run with --help for more information.\n");
    return kUsage;
  }
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
