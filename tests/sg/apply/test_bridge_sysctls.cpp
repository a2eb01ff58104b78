// The bridge netfilter sysctls (lib/sg/apply/bridge_sysctls.cpp), against a
// scratch proc-sys directory.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "bridge_sysctls.hpp"
#include "fake_host.hpp"

using namespace vifwall;
using namespace vifwall::apply_detail;
using namespace vifwall::test;

TEST_CASE("check_bridge_ip6tables wants net.bridge.bridge-nf-call-ip6tables at 1", "[bridge_sysctls]") {
  Scene scene;
  const std::string proc_sys = scene.dir + "/proc-sys";
  const std::string knob = proc_sys + "/net/bridge/bridge-nf-call-ip6tables";
  SECTION("missing: br_netfilter is not loaded") {
    std::filesystem::remove(knob);
    auto failed = check_bridge_ip6tables(proc_sys);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().str() == knob + " is missing: load the bridge netfilter module (modprobe br_netfilter)");
  }
  SECTION("0") {
    std::ofstream(knob) << "0\n";
    auto failed = check_bridge_ip6tables(proc_sys);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().str() == "net.bridge.bridge-nf-call-ip6tables is not 1: run `sysctl -w "
                                  "net.bridge.bridge-nf-call-ip6tables=1` and add it to /etc/sysctl.conf");
  }
  SECTION("1") {
    std::ofstream(knob) << "1\n";
    CHECK(check_bridge_ip6tables(proc_sys));
    // The IPv4 knob is the same check (what setup runs for it).
    CHECK(check_bridge_sysctl(proc_sys, "bridge-nf-call-iptables"));
    std::ofstream(proc_sys + "/net/bridge/bridge-nf-call-iptables") << "0\n";
    CHECK_FALSE(check_bridge_sysctl(proc_sys, "bridge-nf-call-iptables"));
  }
}
