// Reading and loading the live bridge firewall through the netfilter tools
// (one CommandRunner, so tests can fake it).  Reads are read-only listings;
// every load is one process per table except arptables, which has no usable
// restore tool.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "exec.hpp"
#include "netfilter.hpp"
#include "netfilter_tools.hpp"

namespace vifwall {

struct LiveFirewall {
  FwTable iptables;                  // filter table ("filter", maybe empty)
  IpsetDump ipsets;
  FwTable ebtables;                  // filter table
  std::optional<FwTable> arptables;  // when read
  // The ebtables nat table, where CloudStack's vmops puts its MAC checks
  // (vmops_layout.hpp); nullopt when it cannot be listed (no ebtable_nat).
  std::optional<FwTable> ebtables_nat;
  // The raw texts, for snapshots and error reports.
  std::string iptables_text, ipset_text, ebtables_text, arptables_text, ebtables_nat_text;
};

class FirewallIo {
public:
  FirewallIo(CommandRunner &runner, NetfilterTools tools,
             std::chrono::milliseconds timeout = std::chrono::seconds(60))
      : runner_(runner), tools_(std::move(tools)), timeout_(timeout) {}

  const NetfilterTools &tools() const { return tools_; }

  // iptables-save -t filter, ipset save, ebtables -t filter -L, ebtables -t
  // nat -L (ebtables-nft, or legacy with ebtable_nat loaded; a failure of
  // that one only leaves ebtables_nat empty), and with `with_arptables`
  // arptables -n -L.
  Result<LiveFirewall> read(bool with_arptables);

  Result<void> load_iptables(const std::string &restore_text);  // iptables-restore --noflush
  Result<void> load_ebtables(const std::string &table_text);    // ebtables-restore (whole table)
  Result<void> load_ipsets(const std::string &restore_text);    // ipset -exist restore
  Result<void> run_arptables(const std::vector<std::string> &args);
  Result<void> run_ebtables(const std::vector<std::string> &args); // one ebtables command

private:
  Result<std::string> run_text(std::vector<std::string> argv, const std::string &input = "");
  CommandRunner &runner_;
  NetfilterTools tools_;
  std::chrono::milliseconds timeout_;
};

} // namespace vifwall
