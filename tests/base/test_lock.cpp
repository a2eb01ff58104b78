#include <catch2/catch.hpp>

#include <cstdlib>
#include <future>
#include <string>
#include <unistd.h>

#include "exec.hpp"
#include "lock.hpp"

using namespace vifwall;
using namespace std::chrono_literals;

namespace {
std::string temp_lock_path() {
  char pattern[] = "/tmp/vifwall-lock-test-XXXXXX";
  const int fd = ::mkstemp(pattern);
  ::close(fd);
  return pattern;
}
} // namespace

TEST_CASE("FileLock excludes another process and reports busy after the timeout", "[lock]") {
  const std::string path = temp_lock_path();
  auto runner = make_process_runner();
  {
    auto held = FileLock::acquire(path, 100ms);
    REQUIRE(held);
    // flock(1) takes BSD locks, which do not see POSIX ones; python's
    // fcntl.lockf is what XAPI's scripts use, so test against exactly that.
    auto other = runner->run({{"python3", "-c",
                               "import fcntl,sys\n"
                               "f=open(sys.argv[1],'r+')\n"
                               "try:\n fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB); print('got')\n"
                               "except OSError: print('busy')\n",
                               path}});
    REQUIRE(other);
    CHECK(other->out == "busy\n");
  }
  // Released on destruction: the other process gets it now.
  auto other = runner->run({{"python3", "-c",
                             "import fcntl,sys\n"
                             "f=open(sys.argv[1],'r+')\n"
                             "fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB); print('got')\n",
                             path}});
  REQUIRE(other);
  CHECK(other->out == "got\n");
  ::unlink(path.c_str());
}

TEST_CASE("FileLock waits for a holder that lets go, and times out on one that does not", "[lock]") {
  const std::string path = temp_lock_path();
  // A holder process: takes the lock, says so, then holds it until its stdin closes.
  auto runner = make_process_runner();
  Command holder{{"python3", "-c",
                  "import fcntl,sys\n"
                  "f=open(sys.argv[1],'r+')\n"
                  "fcntl.lockf(f, fcntl.LOCK_EX)\n"
                  "import time; time.sleep(2)\n",
                  path}};
  // The holder runs on another thread; we watch for the moment it holds the
  // lock (bounded by a deadline, not a guess of how long python takes).
  auto future = std::async(std::launch::async, [&] { return runner->run(holder); });
  // Wait until the holder really holds it (poll with a short timeout).
  bool busy_seen = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!busy_seen && std::chrono::steady_clock::now() < deadline) {
    auto probe = FileLock::acquire(path, 0ms);
    if (!probe) {
      CHECK(is_lock_busy(probe.error()));
      busy_seen = true;
    }
  }
  REQUIRE(busy_seen);
  auto short_wait = FileLock::acquire(path, 50ms);
  REQUIRE_FALSE(short_wait);
  CHECK(is_lock_busy(short_wait.error()));
  auto long_wait = FileLock::acquire(path, 10s);
  CHECK(long_wait);
  future.get();
  ::unlink(path.c_str());
}
