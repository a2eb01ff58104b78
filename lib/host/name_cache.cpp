#include "name_cache.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "text.hpp"
#include "validate.hpp"

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
  cached.vms = parse_name_cache(data);
  return cached;
}

std::vector<std::string> CachedNames::names() const {
  std::vector<std::string> out;
  out.reserve(vms.size());
  for (const auto &vm : vms)
    out.push_back(vm.name);
  return out;
}

const CachedVm *CachedNames::find(const std::string &name) const {
  for (const auto &vm : vms)
    if (vm.name == name)
      return &vm;
  return nullptr;
}

namespace {

std::vector<std::string> split_on(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(separator, start), text.size());
    if (end > start)
      parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool plain(const std::string &word) {
  return word.find_first_of("\t\n,") == std::string::npos;
}

} // namespace

std::string format_name_cache(const std::vector<CachedVm> &vms) {
  std::string out;
  for (const auto &vm : vms) {
    if (vm.name.empty() || vm.name.find_first_of("\t\n") != std::string::npos)
      continue;
    out += vm.name;
    for (const auto &[key, values] : {std::pair{"ip", &vm.ips}, std::pair{"mac", &vm.macs}}) {
      std::vector<std::string> kept;
      for (const auto &value : *values)
        if (plain(value))
          kept.push_back(value);
      if (!kept.empty())
        out += std::string("\t") + key + "=" + join_strings(kept, ",");
    }
    out.push_back('\n');
  }
  return out;
}

std::vector<CachedVm> parse_name_cache(std::string_view text) {
  std::vector<CachedVm> vms;
  for (const auto &line : split_lines(text)) {
    if (line.text.empty())
      continue;
    const auto fields = split_on(line.text, '\t');
    if (fields.empty())
      continue;
    CachedVm vm;
    vm.name = fields.front();
    for (std::size_t i = 1; i < fields.size(); ++i) {
      const std::string &field = fields[i];
      if (starts_with(field, "ip="))
        vm.ips = split_on(std::string_view(field).substr(3), ',');
      else if (starts_with(field, "mac="))
        vm.macs = split_on(std::string_view(field).substr(4), ',');
    }
    vms.push_back(std::move(vm));
  }
  return vms;
}

std::vector<CachedVm> cached_vms_of(const std::vector<Vm> &running, const std::vector<XeVif> *vifs) {
  std::vector<CachedVm> out;
  out.reserve(running.size());
  for (const auto &vm : running) {
    CachedVm cached;
    cached.name = vm.name_label;
    std::vector<std::string> v6;
    for (const auto &[key, value] : vm.networks) {
      const auto slash = key.find('/');
      const std::string_view kind = slash == std::string::npos ? std::string_view()
                                                               : std::string_view(key).substr(slash + 1);
      auto address = validate_ip(trim(value));
      if (!address)
        continue;
      auto &into = starts_with(kind, "ipv6") ? v6 : cached.ips;
      if (std::find(into.begin(), into.end(), *address) == into.end())
        into.push_back(*address);
    }
    cached.ips.insert(cached.ips.end(), v6.begin(), v6.end());
    if (vifs) {
      std::vector<std::pair<std::int64_t, std::string>> macs;
      for (const auto &vif : *vifs)
        if (vif.vm_uuid == vm.uuid && !vif.mac.empty())
          macs.emplace_back(parse_i64(vif.device).value_or(0), vif.mac);
      std::sort(macs.begin(), macs.end());
      for (auto &[device, mac] : macs)
        cached.macs.push_back(std::move(mac));
    }
    out.push_back(std::move(cached));
  }
  return out;
}

std::optional<std::string> cloudstack_vm_id(const std::string &name) {
  const auto parts = split_on(name, '-');
  auto digits = [](const std::string &word) {
    return !word.empty() && word.size() <= 18 &&
           word.find_first_not_of("0123456789") == std::string::npos;
  };
  if (parts.size() >= 4 && parts[0] == "i" && digits(parts[1]) && digits(parts[2]))
    return parts[2];
  if (parts.size() >= 3 && (parts[0] == "r" || parts[0] == "s" || parts[0] == "v") &&
      digits(parts[1]))
    return parts[1];
  return std::nullopt;
}

bool write_name_cache(const std::string &path, const std::vector<CachedVm> &vms) {
  const std::string temp = path + "." + std::to_string(::getpid()) + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  const std::string data = format_name_cache(vms);
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  if (::close(fd) != 0 || !ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return false;
  }
  return true;
}

} // namespace vifwall
