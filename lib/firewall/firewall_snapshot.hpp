// The bridge firewall of a host as sg-show and sg-diff read it: the dumps of
// iptables, ip6tables, ebtables, arptables and ipset, taken live (through the
// exec helper) or from a snapshot directory, and parsed into tables.
//
// Both ways go through the same texts: a live read captures the same outputs
// `vif-of --capture DIR` writes, so what sg-show says about a host and what
// it says later about the snapshot of that host agree.
//
// Snapshot files (each may also end in ".txt"; the format of each is
// detected from its content, so a listing works where a save is expected):
//   iptables-save    iptables-save -c         (or without -c, or iptables -S)
//   ip6tables-save   ip6tables-save -c
//   ebtables-save    ebtables-save with counters, or ebtables -t filter -L [--Lc]
//   arptables        arptables -n -L -v [-x], or arptables-save
//   ipset-save       ipset save, or ipset list
// A file that is absent means "not captured", which is not the same as an
// empty table: sg-diff refuses to judge a table it could not read.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "exec.hpp"
#include "file_util.hpp"
#include "netfilter.hpp"
#include "netfilter_tools.hpp"

namespace vifwall {

// The snapshot name of each dump, and the other names read in its place
// (first found wins).
extern const std::vector<std::string> kIptablesSnapshotNames;  // "iptables-save"
extern const std::vector<std::string> kIp6tablesSnapshotNames; // "ip6tables-save"
extern const std::vector<std::string> kEbtablesSnapshotNames;  // "ebtables-save", "ebtables"
extern const std::vector<std::string> kArptablesSnapshotNames; // "arptables", "arptables-save"
extern const std::vector<std::string> kIpsetSnapshotNames;     // "ipset-save", "ipset-list"

// The raw dumps; nullopt = not captured (tool missing or failed, file absent).
struct FirewallTexts {
  std::optional<InputText> iptables, ip6tables, ebtables, arptables, ipsets;
  // What could not be captured, one line each ("arptables: not found").
  std::vector<std::string> warnings;

  // The captured texts, for write_snapshot().
  std::vector<InputText> present() const;
};

// The parsed filter tables.  nullopt = not captured.
struct FirewallSnapshot {
  std::optional<FwTable> iptables;
  std::optional<FwTable> ip6tables;
  std::optional<FwTable> ebtables;
  std::optional<FwTable> arptables;
  // The ebtables nat table when the ebtables dump has one (ebtables-save
  // prints every table): where CloudStack's vmops puts its MAC checks.
  std::optional<FwTable> ebtables_nat;
  std::optional<IpsetDump> ipsets;
  // Which ebtables printed the ebtables dump, from its banner ("(nf_tables)"
  // or legacy ebtables-save's "v1.0"); nullopt for a listing, which says
  // neither.  It matters: ebtables-nft ignores a user chain's ACCEPT policy
  // (the chain RETURNs), legacy ebtables honours it.
  std::optional<Variant> ebtables_backend;
  // Capture warnings, and the tools' own (`# Warning: iptables-legacy tables
  // present`: rules may be hiding in the other backend), each naming its file.
  std::vector<std::string> warnings;
};

// Each text parsed by the parser its content calls for; the result is the
// "filter" table (an empty one when the dump has none: iptables-nft-save
// prints nothing for a host without rules).
Result<FwTable> parse_iptables_text(const std::string &text, const std::string &source);
Result<FwTable> parse_ebtables_text(const std::string &text, const std::string &source);
Result<FwTable> parse_arptables_text(const std::string &text, const std::string &source);
Result<IpsetDump> parse_ipset_text(const std::string &text, const std::string &source);

// Parses every captured text; the first parse error fails the whole read.
Result<FirewallSnapshot> parse_firewall_texts(const FirewallTexts &texts);

// Reads the firewall files of snapshot directory `dir`.  Fails when `dir` is
// not a directory, a file cannot be read, or none of the files is there.
Result<FirewallTexts> read_firewall_snapshot(const std::string &dir);

// True when `dir` holds at least one firewall file.
bool has_firewall_snapshot(const std::string &dir);

struct CaptureOptions {
  IptablesChoice iptables = IptablesChoice::automatic;
  std::chrono::milliseconds timeout{10000};
};

// Runs the dump tools on this host (read-only commands only):
//   iptables-save -c, ip6tables-save -c (the variant `options.iptables`
//   picks), ebtables-save with counters (falling back to `ebtables -t filter
//   -L --Lc` when the save fails or prints no filter table: legacy
//   ebtables-save skips tables whose module is built in), arptables -n -L -v
//   -x (the first of arptables, arptables-legacy, arptables-nft that has a
//   FORWARD chain), ipset save.
// Never fails: a tool that is missing, fails or times out is left out with a
// warning.  The tools' "# Warning:" lines on stderr are kept in the text.
FirewallTexts capture_firewall(CommandRunner &runner, const CaptureOptions &options);

// sg-show's and sg-diff's input: the snapshot in `from_dir`, or (empty
// `from_dir`) a live capture, parsed.  Fails on a parse error, an unreadable
// snapshot, or when no iptables dump could be had (nothing to show then).
Result<FirewallSnapshot> read_firewall(const std::string &from_dir, CommandRunner &runner,
                                       const CaptureOptions &options);

} // namespace vifwall
