#include "file_util.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vifwall {

Result<void> write_file_atomically(const std::string &path, const std::string &content,
                                   unsigned mode) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                        static_cast<mode_t>(mode));
  if (fd < 0)
    return fail(path, 0, std::string("cannot write: ") + std::strerror(errno));
  std::size_t done = 0;
  int error = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (!error && ::fsync(fd) != 0)
    error = errno;
  if (::close(fd) != 0 && !error)
    error = errno;
  if (!error && ::rename(temp.c_str(), path.c_str()) != 0)
    error = errno;
  if (error) {
    ::unlink(temp.c_str());
    return fail(path, 0, std::string("cannot write: ") + std::strerror(error));
  }
  return {};
}

std::size_t remove_stale_temp_files(const std::string &dir) {
  DIR *handle = ::opendir(dir.c_str());
  if (!handle)
    return 0;
  std::size_t removed = 0;
  while (auto *entry = ::readdir(handle)) {
    const std::string name = entry->d_name;
    for (const char *marker : {".tmp.", ".probe."}) {
      const auto at = name.rfind(marker);
      if (at == std::string::npos)
        continue;
      const std::string pid_text = name.substr(at + std::strlen(marker));
      if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos ||
          pid_text.size() > 9)
        continue;
      const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH &&
          ::unlink((dir + "/" + name).c_str()) == 0)
        ++removed;
    }
  }
  ::closedir(handle);
  return removed;
}

Result<void> ensure_directory(const std::string &path, unsigned mode) {
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) == 0)
    return {};
  const int saved = errno;
  struct stat st;
  if (saved == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return {};
  return fail(path, 0, std::string("cannot create directory: ") + std::strerror(saved));
}

} // namespace vifwall
