// A CommandRunner for unit tests: answers commands from a table keyed by the
// program's base name and arguments, and records every command it was given.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "exec.hpp"

namespace vifwall::test {

class FakeRunner : public CommandRunner {
public:
  using Handler = std::function<Result<CommandOutput>(const Command &)>;

  // argv with argv[0] reduced to its base name, joined by spaces -> answer.
  std::map<std::string, Handler> answers;
  std::vector<Command> seen;

  void answer(const std::string &key, std::string out, int exit_code = 0, std::string err = "") {
    answers[key] = [=](const Command &) {
      CommandOutput o;
      o.out = out;
      o.err = err;
      o.exit_code = exit_code;
      return Result<CommandOutput>(o);
    };
  }

  static std::string key_of(const std::vector<std::string> &argv) {
    std::string key;
    for (std::size_t i = 0; i < argv.size(); ++i) {
      std::string word = argv[i];
      if (i == 0)
        word = word.substr(word.rfind('/') + 1);
      key += (key.empty() ? "" : " ") + word;
    }
    return key;
  }

  Result<CommandOutput> run(const Command &command) override {
    seen.push_back(command);
    auto it = answers.find(key_of(command.argv));
    if (it == answers.end())
      return fail(key_of(command.argv), 0, "command not found (fake)");
    return it->second(command);
  }

  std::vector<std::string> keys_seen() const {
    std::vector<std::string> keys;
    for (const auto &command : seen)
      keys.push_back(key_of(command.argv));
    return keys;
  }
};

} // namespace vifwall::test
