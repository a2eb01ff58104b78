// Host-wide locks between vifwall runs (cron, an orchestrator, an admin) and
// with XAPI, which serialises its own ebtables calls with lockf() on
// /var/lock/ebtables.lock ("ebtables fails if called concurrently").
//
// POSIX record locks (fcntl F_SETLK), the kind lockf() takes, so that we and
// XAPI's scripts exclude each other; they are released when the process
// exits, even by SIGKILL, so a killed run never leaves a stale lock.
#pragma once

#include <chrono>
#include <string>

#include "error.hpp"

namespace vifwall {

class FileLock {
public:
  // Waits up to `timeout` for an exclusive lock on `path` (created 0600 if
  // missing).  Error.message starts with "busy:" when the timeout passed, so
  // callers can map it to their "lock busy" exit status.
  static Result<FileLock> acquire(const std::string &path, std::chrono::milliseconds timeout);

  FileLock(FileLock &&other) noexcept;
  FileLock &operator=(FileLock &&other) noexcept;
  FileLock(const FileLock &) = delete;
  FileLock &operator=(const FileLock &) = delete;
  ~FileLock();

  const std::string &path() const { return path_; }

private:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

bool is_lock_busy(const Error &error);

} // namespace vifwall
