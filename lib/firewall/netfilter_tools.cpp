#include "netfilter_tools.hpp"

#include <unistd.h>

#include "text.hpp"

namespace vifwall {

const char *to_string(Variant variant) { return variant == Variant::legacy ? "legacy" : "nft"; }

namespace {

constexpr std::chrono::milliseconds kProbeTimeout{10000};

bool runs_ok(CommandRunner &runner, std::vector<std::string> argv, std::string *out = nullptr) {
  Command command{std::move(argv)};
  command.timeout = kProbeTimeout;
  auto result = runner.run(command);
  if (!result || !result->ok())
    return false;
  if (out)
    *out = result->out + result->err;
  return true;
}

// "iptables v1.8.9 (nf_tables)" -> nft; "iptables v1.4.21" -> legacy.
Variant variant_of_version(const std::string &text) {
  return text.find("nf_tables") != std::string::npos ? Variant::nft : Variant::legacy;
}

std::string version_number(const std::string &text) {
  const auto v = text.find(" v");
  if (v == std::string::npos)
    return "";
  const auto end = text.find_first_of(" \n", v + 2);
  return text.substr(v + 2, end == std::string::npos ? std::string::npos : end - v - 2);
}

} // namespace

namespace {

// Each table's detection: independent probes (a few ms each), run at the
// same time by detect_netfilter_tools.  A failure is a line of `problems`.

// "iptables" -> "iptables-legacy" for --iptables legacy (and ip6tables
// alike): the variant the admin's `iptables` shows, unless told otherwise.
std::string program_for(const std::string &family, IptablesChoice choice) {
  if (choice == IptablesChoice::legacy)
    return family + "-legacy";
  if (choice == IptablesChoice::nft)
    return family + "-nft";
  return family;
}

void detect_iptables(CommandRunner &runner, IptablesChoice choice, NetfilterTools &tools,
                     std::vector<std::string> &problems) {
  const std::string prefix = program_for("iptables", choice);
  std::string version;
  if (!find_program(prefix + "-save") || !find_program(prefix + "-restore")) {
    problems.push_back(prefix + "-save and " + prefix + "-restore are needed (package iptables)");
  } else if (!runs_ok(runner, {prefix, "-V"}, &version)) {
    problems.push_back("`" + prefix + " -V` failed: iptables is not usable here");
  } else {
    tools.iptables = {*find_program(prefix + "-save"), *find_program(prefix + "-restore"),
                      variant_of_version(version), version_number(version)};
  }
}

// ip6tables chosen as iptables is (the same --iptables choice, so that a
// host's two families use one backend as the admin set it).  Its absence is
// no problem: the host then has no IPv6 layer.
void detect_ip6tables(CommandRunner &runner, IptablesChoice choice, NetfilterTools &tools) {
  // With IPv6 off in the kernel the tools are there but cannot work.
  if (::access("/proc/net/if_inet6", F_OK) != 0)
    return;
  const std::string prefix = program_for("ip6tables", choice);
  auto save = find_program(prefix + "-save");
  auto restore = find_program(prefix + "-restore");
  std::string version;
  if (!save || !restore || !runs_ok(runner, {prefix, "-V"}, &version))
    return;
  tools.ip6tables = IptablesTools{*save, *restore, variant_of_version(version), version_number(version)};
}

// The first variant whose filter table works on this kernel.
void detect_ebtables(CommandRunner &runner, NetfilterTools &tools, std::vector<std::string> &problems) {
  for (const std::string name : {"ebtables", "ebtables-nft", "ebtables-legacy"}) {
    auto exe = find_program(name);
    auto save = find_program(name + "-save");
    auto restore = find_program(name + "-restore");
    if (!exe || !save || !restore)
      continue;
    std::string version;
    // One built-in chain: as good a test of the kernel's support as the
    // whole table, whose listing takes ~0.2 s on a host of 1000 VMs.
    if (!runs_ok(runner, {*exe, "-t", "filter", "-L", "INPUT"}))
      continue;
    runs_ok(runner, {*exe, "-V"}, &version);
    tools.ebtables = {*exe, *save, *restore,
                      name == "ebtables-nft" || version.find("nf_tables") != std::string::npos
                          ? Variant::nft
                          : Variant::legacy};
    return;
  }
  problems.push_back("no working ebtables (tried ebtables, ebtables-nft, ebtables-legacy with "
                     "their -save and -restore; package ebtables, kernel module ebtable_filter)");
}

// Only a variant with a FORWARD chain filters bridged ARP; none is fine.
void detect_arptables(CommandRunner &runner, NetfilterTools &tools) {
  for (const std::string name : {"arptables", "arptables-legacy", "arptables-nft"}) {
    auto exe = find_program(name);
    if (!exe)
      continue;
    if (!runs_ok(runner, {*exe, "-n", "-L", "FORWARD"}))
      continue;
    std::string version;
    runs_ok(runner, {*exe, "-V"}, &version);
    tools.arptables = ArptablesTools{
        *exe, name == "arptables-nft" || version.find("nf_tables") != std::string::npos
                  ? Variant::nft
                  : Variant::legacy};
    return;
  }
}

void detect_ipset(CommandRunner &runner, NetfilterTools &tools, std::vector<std::string> &problems) {
  if (auto ipset = find_program("ipset"); ipset && runs_ok(runner, {*ipset, "version"}))
    tools.ipset = *ipset;
  else if (ipset && runs_ok(runner, {*ipset, "-v"}))
    tools.ipset = *ipset;
  else
    problems.push_back("ipset is missing or not working (package ipset, kernel module ip_set)");
}

} // namespace

Result<NetfilterTools> detect_netfilter_tools(CommandRunner &runner, IptablesChoice choice) {
  // The five tables' probes at once (15-25 ms one after the other, paid by
  // every sg-apply run: BENCHMARKS.md, one-VM update); each task writes only
  // its own fields, and the problems are joined in a fixed order.
  NetfilterTools tools, ip6tables, ebtables, arptables, ipset;
  std::vector<std::string> iptables_problems, ebtables_problems, ipset_problems;
  run_together(runner, {
                           [&] { detect_iptables(runner, choice, tools, iptables_problems); },
                           [&] { detect_ip6tables(runner, choice, ip6tables); },
                           [&] { detect_ebtables(runner, ebtables, ebtables_problems); },
                           [&] { detect_arptables(runner, arptables); },
                           [&] { detect_ipset(runner, ipset, ipset_problems); },
                       });
  tools.ip6tables = std::move(ip6tables.ip6tables);
  tools.ebtables = std::move(ebtables.ebtables);
  tools.arptables = std::move(arptables.arptables);
  tools.ipset = std::move(ipset.ipset);
  std::vector<std::string> problems = std::move(iptables_problems);
  problems.insert(problems.end(), ebtables_problems.begin(), ebtables_problems.end());
  problems.insert(problems.end(), ipset_problems.begin(), ipset_problems.end());

  if (!problems.empty()) {
    std::string message = "netfilter tools not usable:";
    for (const auto &problem : problems)
      message += "\n  - " + problem;
    return fail(message);
  }
  return tools;
}

IptablesChoice iptables_choice_of(std::string_view name) {
  return name == "legacy" ? IptablesChoice::legacy
         : name == "nft"  ? IptablesChoice::nft
                          : IptablesChoice::automatic;
}

} // namespace vifwall
