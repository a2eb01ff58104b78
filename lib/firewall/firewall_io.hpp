// Reading and loading the live bridge firewall through the netfilter tools
// (one CommandRunner, so tests can fake it).  Reads are read-only listings;
// every load is one process per table except arptables, which has no usable
// restore tool.
#pragma once

#include <functional>
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
  // The ip6tables filter table; empty (no chains, no name) when this host
  // has no ip6tables (NetfilterTools::ip6tables).
  FwTable ip6tables;
  IpsetDump ipsets;
  FwTable ebtables;                  // filter table
  std::optional<FwTable> arptables;  // when read
  // The ebtables nat table, where CloudStack's vmops puts its MAC checks
  // (vmops_layout.hpp); nullopt when it cannot be listed (no ebtable_nat).
  std::optional<FwTable> ebtables_nat;
  // The raw texts, for snapshots and error reports.
  std::string iptables_text, ip6tables_text, ipset_text, ebtables_text, arptables_text, ebtables_nat_text;
};

// What a narrow read (FirewallIo::read_scope) lists instead of whole
// tables: the chains and sets one VM's change can touch.
struct ReadScope {
  // iptables -S CHAIN each.  `required` chains must exist (they are where
  // the VM's jumps live: BRIDGE-FIREWALL); `optional` ones may be missing
  // (the VM's own chains).
  std::vector<std::string> iptables_required, iptables_optional;
  // ip6tables -S CHAIN each, the same way, when this host has ip6tables
  // (without it none is listed, the required ones included: live.ip6tables
  // stays empty).
  std::vector<std::string> ip6tables_required, ip6tables_optional;
  // ebtables -t filter -L CHAIN each (ebtables-nft only; legacy ebtables
  // always lists the whole table), unless `whole_ebtables`.
  std::vector<std::string> ebtables_required, ebtables_optional;
  bool whole_ebtables = false;
  // arptables -n -L CHAIN each, when arptables holds the ARP rules.
  bool with_arptables = false;
  std::vector<std::string> arptables_required, arptables_optional;
  // Of the names `ipset list -n` prints, the sets to read (ipset save SET).
  std::function<bool(const std::string &)> wants_set;
  // A set name that rules the narrow read out (the caller then reads
  // everything): CloudStack vmops' per-rule sets, which other VMs' rules
  // may share.
  std::function<bool(const std::string &)> needs_whole_read;
  // More wanted sets than this: one `ipset save` of all, filtered.
  std::size_t max_set_listings = 8;
};

// How a narrow read went, for the caller and the tests.
struct ScopeRead {
  LiveFirewall live;          // only what the scope names (the nat table as read())
  bool ebtables_whole = false; // live.ebtables is the whole table
};

class FirewallIo {
public:
  FirewallIo(CommandRunner &runner, NetfilterTools tools,
             std::chrono::milliseconds timeout = std::chrono::seconds(60))
      : runner_(runner), tools_(std::move(tools)), timeout_(timeout) {}

  const NetfilterTools &tools() const { return tools_; }

  // iptables-save -t filter, ip6tables-save -t filter (when the host has
  // ip6tables; else live.ip6tables stays empty), ipset save, ebtables -t
  // filter -L, ebtables -t nat -L (ebtables-nft, or legacy with ebtable_nat
  // loaded; a failure of that one only leaves ebtables_nat empty), and with
  // `with_arptables` arptables -n -L.
  Result<LiveFirewall> read(bool with_arptables);

  // Reads only `scope`, all listings at the same time: the
  // VM's chains and BRIDGE-FIREWALL's jumps cost what they print, not what
  // the host holds.  Fails (and the caller reads everything instead) when a
  // required chain is missing, a listing fails for any other reason than
  // an absent optional chain, or needs_whole_read() names a set.
  Result<ScopeRead> read_scope(const ReadScope &scope);

  // ebtables -t filter -L, the whole filter table (what ebtables-restore
  // loads).
  Result<FwTable> read_ebtables();

  Result<void> load_iptables(const std::string &restore_text);  // iptables-restore --noflush
  // ip6tables-restore --noflush, invoked exactly as iptables-restore is
  // (neither gets -w: our own lock serializes our loads); fails, naming
  // the tool, on a host without ip6tables.
  Result<void> load_ip6tables(const std::string &restore_text);
  Result<void> load_ebtables(const std::string &table_text);    // ebtables-restore (whole table)
  Result<void> load_ipsets(const std::string &restore_text);    // ipset -exist restore
  Result<void> run_arptables(const std::vector<std::string> &args);
  Result<void> run_ebtables(const std::vector<std::string> &args); // one ebtables command

private:
  // read_scope's sets: of `names` (ipset list -n), the scope's, saved.
  Result<void> read_scope_sets(const ReadScope &scope, const std::string &names, LiveFirewall &live);
  Result<std::string> run_text(std::vector<std::string> argv, const std::string &input = "");
  CommandRunner &runner_;
  NetfilterTools tools_;
  std::chrono::milliseconds timeout_;
};

} // namespace vifwall
