#include "syslog.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace vifwall {

std::string format_syslog(LogLevel level, std::string_view ident, long pid, std::time_t when,
                          std::string_view message) {
  constexpr int kFacilityDaemon = 3 << 3;
  std::tm local{};
  localtime_r(&when, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &local);
  std::string line = "<" + std::to_string(kFacilityDaemon + static_cast<int>(level)) + ">" + stamp +
                     " " + std::string(ident) + "[" + std::to_string(pid) + "]: ";
  const bool cut = message.size() > kMaxSyslogMessage;
  for (char c : message.substr(0, cut ? kMaxSyslogMessage - 3 : message.size())) {
    const auto u = static_cast<unsigned char>(c);
    line.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  if (cut)
    line += "...";
  return line;
}

SyslogSocket::SyslogSocket(std::string path, std::string ident)
    : path_(std::move(path)), ident_(std::move(ident)) {}

namespace {

// One attempt with a socket of `type`; 0 or the errno.
int send_as(int type, const sockaddr_un &address, const std::string &line) {
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  int error = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
    error = errno;
  } else {
    // A stream syslogd reads lines ended by NUL, as syslog(3) sends them.
    const std::string data = type == SOCK_STREAM ? line + '\0' : line;
    ssize_t sent;
    do
      sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent < 0)
      error = errno;
    else if (static_cast<std::size_t>(sent) != data.size())
      error = EMSGSIZE;
  }
  ::close(fd);
  return error;
}

} // namespace

Result<void> SyslogSocket::send(LogLevel level, const std::string &message) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof address.sun_path)
    return fail(path_, 0, "expected the path of a syslog socket, at most " +
                              std::to_string(sizeof address.sun_path - 1) + " bytes");
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  const std::string line = format_syslog(level, ident_, static_cast<long>(::getpid()),
                                         std::time(nullptr), message);
  int error = send_as(SOCK_DGRAM, address, line);
  if (error == EPROTOTYPE)
    error = send_as(SOCK_STREAM, address, line);
  if (error != 0)
    return fail(path_, 0, std::string("cannot send to the syslog socket: ") + std::strerror(error));
  return {};
}

std::string default_syslog_path() {
  const char *path = std::getenv("VIFWALL_SYSLOG_SOCKET");
  return path != nullptr && *path != '\0' ? path : "/dev/log";
}

} // namespace vifwall
