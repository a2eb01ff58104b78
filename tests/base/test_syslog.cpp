#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "syslog.hpp"

using namespace vifwall;

namespace {

// A unix datagram socket bound in a fresh directory, as /dev/log is.
struct BoundSocket {
  std::string dir, path;
  int fd = -1;
  explicit BoundSocket(int type = SOCK_DGRAM) {
    char pattern[] = "/tmp/vifwall-syslog-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir = pattern;
    path = dir + "/log";
    fd = ::socket(AF_UNIX, type, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0);
    if (type == SOCK_STREAM)
      REQUIRE(::listen(fd, 1) == 0);
  }
  ~BoundSocket() {
    ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
  // The datagram sendto() queued (it is there once send returned).
  std::string received() const {
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    return n < 0 ? "<nothing: " + std::string(std::strerror(errno)) + ">" : std::string(buffer, n);
  }
};

} // namespace

TEST_CASE("format_syslog writes syslog(3)'s line: priority, time, ident[pid]", "[syslog]") {
  std::tm when{};
  when.tm_year = 126;
  when.tm_mon = 11;
  when.tm_mday = 7;
  when.tm_hour = 9;
  when.tm_min = 5;
  when.tm_sec = 3;
  when.tm_isdst = -1;
  const std::time_t t = std::mktime(&when); // local time, as format_syslog prints it
  CHECK(format_syslog(LogLevel::info, "sg-apply", 42, t, "rules vm=i-2-3-VM: changed") ==
        "<30>Dec  7 09:05:03 sg-apply[42]: rules vm=i-2-3-VM: changed");
  CHECK(format_syslog(LogLevel::err, "x", 1, t, "a").rfind("<27>", 0) == 0);
  CHECK(format_syslog(LogLevel::warning, "x", 1, t, "a").rfind("<28>", 0) == 0);
  // One line, whatever the message holds.
  const std::string prefix = "<30>Dec  7 09:05:03 x[1]: ";
  CHECK(format_syslog(LogLevel::info, "x", 1, t, "a\nb\tc\x7f") == prefix + "a b c ");
  const std::string line = format_syslog(LogLevel::info, "x", 1, t, std::string(5000, 'y'));
  CHECK(line.size() == prefix.size() + kMaxSyslogMessage);
  CHECK(line.substr(line.size() - 4) == "y...");
}

TEST_CASE("SyslogSocket sends one datagram to the socket it is given", "[syslog]") {
  BoundSocket log;
  SyslogSocket sink(log.path, "sg-apply");
  REQUIRE(sink.send(LogLevel::err, "setup: failed (exit 1): iptables-restore: line 3\nfailed"));
  const std::string got = log.received();
  CHECK(got.rfind("<27>", 0) == 0);
  CHECK(got.find(" sg-apply[" + std::to_string(::getpid()) + "]: setup: failed (exit 1): "
                 "iptables-restore: line 3 failed") != std::string::npos);
  CHECK(got.find('\n') == std::string::npos);
  CHECK(log.received().rfind("<nothing", 0) == 0); // exactly one
}

TEST_CASE("SyslogSocket falls back to a stream socket, NUL-terminated", "[syslog]") {
  BoundSocket log(SOCK_STREAM);
  SyslogSocket sink(log.path, "sg-apply");
  REQUIRE(sink.send(LogLevel::info, "hello"));
  const int peer = ::accept(log.fd, nullptr, nullptr);
  REQUIRE(peer >= 0);
  char buffer[512];
  const ssize_t n = ::recv(peer, buffer, sizeof buffer, 0);
  ::close(peer);
  REQUIRE(n > 0);
  const std::string got(buffer, n);
  CHECK(got.back() == '\0');
  CHECK(got.find("]: hello") != std::string::npos);
}

TEST_CASE("SyslogSocket names the socket when there is none", "[syslog]") {
  SyslogSocket sink("/nonexistent-vifwall/log", "sg-apply");
  auto sent = sink.send(LogLevel::info, "hello");
  REQUIRE_FALSE(sent);
  CHECK(sent.error().str() == "/nonexistent-vifwall/log: cannot send to the syslog socket: "
                              "No such file or directory");
  CHECK_FALSE(SyslogSocket(std::string(200, 'x'), "x").send(LogLevel::info, "a"));
}

TEST_CASE("default_syslog_path is /dev/log unless $VIFWALL_SYSLOG_SOCKET says", "[syslog]") {
  ::setenv("VIFWALL_SYSLOG_SOCKET", "/tmp/test-log", 1);
  CHECK(default_syslog_path() == "/tmp/test-log");
  ::unsetenv("VIFWALL_SYSLOG_SOCKET");
  CHECK(default_syslog_path() == "/dev/log");
}
