#include "lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace vifwall {

Result<FileLock> FileLock::acquire(const std::string &path, std::chrono::milliseconds timeout) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return fail(path, 0, std::string("cannot open lock file: ") + std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Start polling fast and back off: a busy lock is usually held for
  // milliseconds, a stuck one for the whole timeout.
  int pause_ms = 2;
  while (true) {
    struct flock request {};
    request.l_type = F_WRLCK;
    request.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &request) == 0)
      return FileLock(fd, path);
    if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
      const int saved = errno;
      ::close(fd);
      return fail(path, 0, std::string("cannot lock: ") + std::strerror(saved));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return fail(path, 0,
                  "busy: another process holds the lock (waited " +
                      std::to_string(timeout.count()) + " ms)");
    }
    ::poll(nullptr, 0, pause_ms);
    pause_ms = std::min(pause_ms * 2, 50);
  }
}

FileLock::FileLock(FileLock &&other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

FileLock &FileLock::operator=(FileLock &&other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0)
    ::close(fd_); // releases the record lock
}

bool is_lock_busy(const Error &error) { return error.message.rfind("busy:", 0) == 0; }

} // namespace vifwall
