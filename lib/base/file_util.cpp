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

Result<std::string> read_input_file(const std::string &path) {
  constexpr std::size_t kMaxInput = 256u << 20;
  const bool is_stdin = path == "-";
  const int fd = is_stdin ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(path, 0, std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (!is_stdin && ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return fail(path, 0, "is a directory, expected a file");
  }
  std::string data;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      const int saved = errno;
      if (!is_stdin)
        ::close(fd);
      return fail(path, 0, std::string("cannot read: ") + std::strerror(saved));
    }
    if (n == 0)
      break;
    data.append(buffer, static_cast<std::size_t>(n));
    if (data.size() > kMaxInput) {
      if (!is_stdin)
        ::close(fd);
      return fail(path, 0, "larger than 256 MiB; refusing to read it");
    }
  }
  if (!is_stdin)
    ::close(fd);
  return data;
}

Result<std::vector<std::string>> write_snapshot(const std::string &dir,
                                                const std::vector<InputText> &texts) {
  if (auto made = ensure_directory(dir); !made)
    return tl::unexpected(made.error());
  std::vector<std::string> written;
  for (const auto &text : texts) {
    const std::string path = dir + "/" + text.file_name;
    if (auto ok = write_file_atomically(path, text.text); !ok)
      return tl::unexpected(ok.error());
    written.push_back(path);
  }
  return written;
}

} // namespace vifwall
