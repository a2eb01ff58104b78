#include <catch2/catch.hpp>

#include "exec.hpp"

using namespace vifwall;

TEST_CASE("the process runner returns output, status and stderr", "[exec]") {
  auto runner = make_process_runner();
  auto result = runner->run({{"sh", "-c", "echo out; echo err >&2; exit 3"}});
  REQUIRE(result);
  CHECK(result->out == "out\n");
  CHECK(result->err == "err\n");
  CHECK(result->exit_code == 3);
  CHECK_FALSE(result->ok());
}

TEST_CASE("the process runner feeds stdin and reads large output without deadlock", "[exec]") {
  auto runner = make_process_runner();
  std::string input(1 << 20, 'x');
  // cat echoes 1 MiB to stdout while another 1 MiB goes to stderr.
  auto result = runner->run({{"sh", "-c", "tee /dev/stderr"}, input});
  REQUIRE(result);
  CHECK(result->out.size() == input.size());
  CHECK(result->err.size() == input.size());
  CHECK(result->ok());
}

TEST_CASE("the process runner passes arguments without a shell", "[exec]") {
  auto runner = make_process_runner();
  auto result = runner->run({{"printf", "%s|", "a b", "$(id)", "; rm -rf /"}});
  REQUIRE(result);
  CHECK(result->out == "a b|$(id)|; rm -rf /|");
}

TEST_CASE("the process runner kills a child at its timeout", "[exec]") {
  auto runner = make_process_runner();
  Command command{{"sleep", "30"}};
  command.timeout = std::chrono::milliseconds(200);
  auto result = runner->run(command);
  REQUIRE(result);
  CHECK(result->timed_out);
  CHECK_FALSE(result->ok());
  auto checked = run_checked(*runner, command);
  REQUIRE_FALSE(checked);
  CHECK(checked.error().str().find("timed out") != std::string::npos);
}

TEST_CASE("the process runner reports a missing program and a signal", "[exec]") {
  auto runner = make_process_runner();
  auto missing = runner->run({{"no-such-program-vifwall"}});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().str().find("no-such-program-vifwall") != std::string::npos);
  auto killed = runner->run({{"sh", "-c", "kill -TERM $$"}});
  REQUIRE(killed);
  CHECK(killed->signal == 15);
}

TEST_CASE("a child that exits without reading its input does not kill us", "[exec]") {
  auto runner = make_process_runner();
  auto result = runner->run({{"true"}, std::string(1 << 20, 'x')});
  REQUIRE(result);
  CHECK(result->ok());
}

TEST_CASE("describe quotes only words that need it", "[exec]") {
  CHECK(describe({"iptables-restore", "--noflush"}) == "iptables-restore --noflush");
  CHECK(describe({"xe", "vm-list", "name-label=a b", "it's"}) ==
        "xe vm-list 'name-label=a b' 'it'\\''s'");
}

TEST_CASE("the child's environment is ours with LC_ALL=C and the command's additions", "[exec]") {
  ::setenv("VIFWALL_TEST_INHERITED", "kept", 1);
  ::setenv("LC_ALL", "de_DE.UTF-8", 1);
  ::setenv("X", "1", 1); // shorter than the keys looked up
  auto runner = make_process_runner();
  Command command{{"env"}};
  command.env = {{"VIFWALL_TEST_ADDED", "a"}, {"VIFWALL_TEST_ADDED", "b"}, {"X", "2"}};
  auto result = runner->run(command);
  ::unsetenv("VIFWALL_TEST_INHERITED");
  ::unsetenv("LC_ALL");
  ::unsetenv("X");
  REQUIRE(result);
  const std::string &env = result->out;
  CHECK(env.find("\nVIFWALL_TEST_INHERITED=kept\n") != std::string::npos);
  CHECK(env.find("\nLC_ALL=C\n") != std::string::npos);
  CHECK(env.find("LC_ALL=de_DE") == std::string::npos);
  CHECK(env.find("\nVIFWALL_TEST_ADDED=b\n") != std::string::npos);
  CHECK(env.find("VIFWALL_TEST_ADDED=a") == std::string::npos);
  CHECK(env.find("\nX=2\n") != std::string::npos);
  CHECK(env.find("X=1") == std::string::npos);
}
