#include "name_cache.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.hpp"

namespace vifwall {

std::string default_name_cache_path() {
  const char *runtime = std::getenv("XDG_RUNTIME_DIR");
  const std::string dir = (runtime && *runtime) ? runtime : "/tmp";
  return dir + "/vifwall-" + std::to_string(::getuid()) + ".vms";
}

std::optional<CachedNames> read_name_cache(const std::string &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::getuid() ||
      st.st_size > (16 << 20)) {
    ::close(fd);
    return std::nullopt;
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n <= 0)
      break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  data.resize(done);
  CachedNames cached;
  const auto now = std::time(nullptr);
  cached.age = std::chrono::seconds(now > st.st_mtime ? now - st.st_mtime : 0);
  for (const auto &line : split_lines(data))
    if (!line.text.empty())
      cached.names.emplace_back(line.text);
  return cached;
}

bool write_name_cache(const std::string &path, const std::vector<std::string> &names) {
  const std::string temp = path + "." + std::to_string(::getpid()) + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  std::string data;
  for (const auto &name : names)
    if (name.find('\n') == std::string::npos) {
      data += name;
      data.push_back('\n');
    }
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  if (::close(fd) != 0 || !ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

} // namespace vifwall
