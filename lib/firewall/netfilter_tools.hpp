// Which netfilter tools to run on this host.  dom0 (CentOS 7) has iptables
// 1.4.21 legacy, ebtables 2.0.10 and arptables 0.0.x, all legacy; a Debian 12
// test rig points `iptables`, `ebtables` and `arptables` at the nft variants
// by default, where legacy ebtables may not work on the kernel at all and
// arptables-nft has no FORWARD chain.  So each family is probed, not assumed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "exec.hpp"

namespace vifwall {

enum class Variant { legacy, nft };
const char *to_string(Variant variant);

struct IptablesTools {
  std::string save;     // iptables-save / iptables-legacy-save / iptables-nft-save
  std::string restore;
  Variant variant = Variant::legacy;
  std::string version;  // "1.8.9"
};

struct EbtablesTools {
  std::string ebtables;
  std::string save;
  std::string restore;
  Variant variant = Variant::legacy;
};

struct ArptablesTools {
  std::string arptables;
  Variant variant = Variant::legacy;
};

struct NetfilterTools {
  IptablesTools iptables;
  // ip6tables-save / ip6tables-restore of the same choice as iptables
  // (ip6tables, ip6tables-legacy, ip6tables-nft); nullopt when they are not
  // installed or the kernel has no IPv6 (ipv6.disable=1: every ip6tables
  // call fails, and there is no IPv6 traffic to filter).  Optional: a host
  // without them has no IPv6 layer, which is not an error.
  std::optional<IptablesTools> ip6tables;
  EbtablesTools ebtables;
  std::optional<ArptablesTools> arptables; // nullopt: no variant with FORWARD
  std::string ipset;
};

// Which iptables to use: the one `iptables` points to (auto), or a variant.
enum class IptablesChoice { automatic, legacy, nft };

// The choice a tool's --iptables names: "legacy", "nft", anything else
// (the tools accept only "auto" besides) automatic.
IptablesChoice iptables_choice_of(std::string_view name);

// Probes with read-only commands (`-V`, `-L`).  Fails, naming every missing
// or broken tool, when iptables, ebtables or ipset is unusable; arptables and
// ip6tables are optional here (callers that need them say so).
Result<NetfilterTools> detect_netfilter_tools(CommandRunner &runner, IptablesChoice choice);

} // namespace vifwall
