// Lines for the local syslog daemon, sent as datagrams to its socket
// (/dev/log, journald's or rsyslog's) without glibc's syslog(3), which
// drops a line silently when there is no socket.  The tools say so instead
// (sg-apply prints the line on stderr).  LogSink is the seam for tests.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "error.hpp"

namespace vifwall {

// syslog(3)'s severities; the facility is always daemon (as XAPI's scripts).
enum class LogLevel : int { err = 3, warning = 4, notice = 5, info = 6 };

// "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE" (RFC 3164, what syslog(3)
// writes), local time; control characters in MESSAGE become spaces and a
// MESSAGE over kMaxSyslogMessage bytes is cut, ending in "...".
constexpr std::size_t kMaxSyslogMessage = 1800;
std::string format_syslog(LogLevel level, std::string_view ident, long pid, std::time_t when,
                          std::string_view message);

class LogSink {
public:
  virtual ~LogSink() = default;
  // Sends one line; an error names the socket and why (no such file...).
  virtual Result<void> send(LogLevel level, const std::string &message) = 0;
};

// The syslog socket at `path`: a datagram socket, or a stream one (older
// syslogds), as syslog(3) tries them.
class SyslogSocket final : public LogSink {
public:
  SyslogSocket(std::string path, std::string ident);
  Result<void> send(LogLevel level, const std::string &message) override;
  const std::string &path() const { return path_; }

private:
  std::string path_, ident_;
};

// $VIFWALL_SYSLOG_SOCKET when set (tests), else /dev/log.
std::string default_syslog_path();

} // namespace vifwall
