// The bridge netfilter sysctls.  See bridge_sysctls.hpp.
#include "bridge_sysctls.hpp"

#include "state_files.hpp"
#include "text.hpp"

namespace vifwall::apply_detail {

Result<void> check_bridge_sysctl(const std::string &proc_sys, const std::string &knob) {
  const std::string path = proc_sys + "/net/bridge/" + knob;
  if (!file_exists(path))
    return fail(path + " is missing: load the bridge netfilter module (modprobe br_netfilter)");
  if (trim(read_small_file(path)) != "1")
    return fail("net.bridge." + knob + " is not 1: run `sysctl -w net.bridge." + knob +
                "=1` and add it to /etc/sysctl.conf");
  return {};
}

Result<void> check_bridge_ip6tables(const std::string &proc_sys) {
  return check_bridge_sysctl(proc_sys, "bridge-nf-call-ip6tables");
}

} // namespace vifwall::apply_detail
