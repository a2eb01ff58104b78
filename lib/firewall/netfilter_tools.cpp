#include "netfilter_tools.hpp"

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

Result<NetfilterTools> detect_netfilter_tools(CommandRunner &runner, IptablesChoice choice) {
  NetfilterTools tools;
  std::vector<std::string> problems;

  // iptables: the family the admin's `iptables` shows, unless told otherwise.
  {
    std::string prefix = "iptables";
    if (choice == IptablesChoice::legacy)
      prefix = "iptables-legacy";
    else if (choice == IptablesChoice::nft)
      prefix = "iptables-nft";
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

  // ebtables: the first variant whose filter table works on this kernel.
  {
    bool found = false;
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
      found = true;
      break;
    }
    if (!found)
      problems.push_back("no working ebtables (tried ebtables, ebtables-nft, ebtables-legacy with "
                         "their -save and -restore; package ebtables, kernel module ebtable_filter)");
  }

  // arptables: only a variant with a FORWARD chain filters bridged ARP.
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
    break;
  }

  if (auto ipset = find_program("ipset"); ipset && runs_ok(runner, {*ipset, "version"}))
    tools.ipset = *ipset;
  else if (ipset && runs_ok(runner, {*ipset, "-v"}))
    tools.ipset = *ipset;
  else
    problems.push_back("ipset is missing or not working (package ipset, kernel module ip_set)");

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
