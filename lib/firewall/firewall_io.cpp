#include "firewall_io.hpp"

#include <functional>
#include <optional>
#include <set>
#include <unistd.h>

#include "parse_arptables.hpp"
#include "parse_ebtables.hpp"
#include "parse_ipset.hpp"
#include "parse_iptables_save.hpp"
#include "text.hpp"

namespace vifwall {

Result<std::string> FirewallIo::run_text(std::vector<std::string> argv, const std::string &input) {
  Command command{std::move(argv), input};
  command.timeout = timeout_;
  auto output = run_checked(runner_, command);
  if (!output)
    return tl::unexpected(output.error());
  return std::move(output->out);
}

namespace {

// A dump's text, kept in `keep` (for snapshots and error reports), parsed by
// `parse` under the name `display`, and its filter table.
template <class Parse>
Result<FwTable> filter_table_from(Result<std::string> &text, Parse parse, const char *display,
                                  std::string &keep) {
  if (!text)
    return tl::unexpected(text.error());
  keep = std::move(*text);
  auto dump = parse(keep, display);
  if (!dump)
    return tl::unexpected(dump.error());
  return filter_table_of(*dump);
}

} // namespace

Result<LiveFirewall> FirewallIo::read(bool with_arptables) {
  if (with_arptables && !tools_.arptables)
    return fail("no arptables with a FORWARD chain here (arptables-nft has none); "
                "use --arp-filter ebtables");
  // The dumps do not depend on each other: taken at the same time (on a
  // host of 1000 VMs each takes 0.05-0.2 s).  The caller holds the lock, so
  // no change of ours happens in between.
  std::optional<Result<std::string>> ipt, ip6t, sets, eb, arp, nat;
  std::vector<std::function<void()>> dumps{
      [&] { ipt = run_text({tools_.iptables.save, "-t", "filter"}); },
      [&] { sets = run_text({tools_.ipset, "save"}); },
      [&] { eb = run_text({tools_.ebtables.ebtables, "-t", "filter", "-L"}); }};
  // Listing the nat table with legacy ebtables makes the kernel load
  // ebtable_nat (a hook every bridged frame then passes) on a host that
  // never used it: read it only when the module is there.  ebtables-nft
  // lists without creating anything.
  if (tools_.ebtables.variant == Variant::nft || ::access("/sys/module/ebtable_nat", F_OK) == 0)
    dumps.push_back([&] { nat = run_text({tools_.ebtables.ebtables, "-t", "nat", "-L"}); });
  if (with_arptables)
    dumps.push_back([&] { arp = run_text({tools_.arptables->arptables, "-n", "-L"}); });
  if (tools_.ip6tables)
    dumps.push_back([&] { ip6t = run_text({tools_.ip6tables->save, "-t", "filter"}); });
  run_together(runner_, dumps);

  LiveFirewall live;
  auto ipt_table = filter_table_from(*ipt, parse_iptables_save, "iptables-save -t filter", live.iptables_text);
  if (!ipt_table)
    return tl::unexpected(ipt_table.error());
  live.iptables = std::move(*ipt_table);
  if (ip6t) {
    auto table = filter_table_from(*ip6t, parse_iptables_save, "ip6tables-save -t filter", live.ip6tables_text);
    if (!table)
      return tl::unexpected(table.error());
    live.ip6tables = std::move(*table);
  }

  if (!*sets)
    return tl::unexpected(sets->error());
  live.ipset_text = std::move(**sets);
  auto set_dump = parse_ipset_save(live.ipset_text, "ipset save");
  if (!set_dump)
    return tl::unexpected(set_dump.error());
  live.ipsets = std::move(*set_dump);

  auto eb_table = filter_table_from(*eb, parse_ebtables_list, "ebtables -t filter -L", live.ebtables_text);
  if (!eb_table)
    return tl::unexpected(eb_table.error());
  live.ebtables = std::move(*eb_table);

  // No nat table (legacy ebtables without the ebtable_nat module) holds
  // no rule of anybody's: not an error.
  if (nat && *nat) {
    live.ebtables_nat_text = std::move(**nat);
    if (auto nat_dump = parse_ebtables_list(live.ebtables_nat_text, "ebtables -t nat -L"))
      if (const FwTable *table = nat_dump->table("nat"))
        live.ebtables_nat = *table;
  }

  if (with_arptables) {
    auto arp_table = filter_table_from(*arp, parse_arptables_list, "arptables -n -L", live.arptables_text);
    if (!arp_table)
      return tl::unexpected(arp_table.error());
    live.arptables = std::move(*arp_table);
  }
  return live;
}

namespace {

// `iptables` beside `iptables-save` (iptables-legacy-save: iptables-legacy).
std::string iptables_program(const std::string &save) {
  const std::string suffix = "-save";
  if (save.size() > suffix.size() && save.compare(save.size() - suffix.size(), suffix.size(), suffix) == 0)
    return save.substr(0, save.size() - suffix.size());
  return save;
}

// Whether a failed listing of `chain` says only that the chain is not there:
// "No chain/target/match by that name" (iptables-legacy, iptables-nft from
// 1.8.10) or iptables-nft/ebtables-nft 1.8.9's "chain `X' in table `filter'
// is incompatible" (what 1.8.9 prints for a chain it cannot find), or
// legacy ebtables' "Chain 'X' doesn't exist", or arptables-legacy's "Table
// does not exist" (what it says of a missing chain; of a missing table too,
// but then the required FORWARD fails as well).
bool says_absent(const CommandOutput &output, const std::string &chain) {
  if (output.signal != 0 || output.timed_out || output.exit_code != 1)
    return false;
  const std::string &err = output.err;
  return err.find("No chain/target/match by that name") != std::string::npos ||
         err.find("chain `" + chain + "' in table `filter' is incompatible") != std::string::npos ||
         err.find("Chain '" + chain + "' doesn't exist") != std::string::npos ||
         err.find("arptables: Table does not exist") != std::string::npos;
}

// Appends `part`'s chains and rules to `into` (listings of single chains).
void append_table(FwTable &into, FwTable &&part) {
  if (into.name.empty())
    into.name = part.name;
  for (auto &chain : part.chains)
    if (!into.chain(chain.name))
      into.chains.push_back(std::move(chain));
  for (auto &rule : part.rules)
    into.rules.push_back(std::move(rule));
}

// One chain's listing: its text, or nullopt when an optional chain is absent.
struct ChainListing {
  std::string chain;
  bool required = false;
  std::optional<Result<CommandOutput>> output;
};

// The listed chains as one table; fails on a listing that failed for
// another reason than an absent optional chain.
using ParseListing = Result<FwDump> (*)(std::string_view, const std::string &);
Result<FwTable> merge_listings(std::vector<ChainListing> &listings, ParseListing parse,
                               const std::string &what, std::string &text) {
  FwTable table;
  table.name = "filter";
  for (auto &listing : listings) {
    const std::string source = what + " " + listing.chain;
    if (!*listing.output)
      return tl::unexpected(listing.output->error());
    const CommandOutput &output = **listing.output;
    if (!output.ok()) {
      if (!listing.required && says_absent(output, listing.chain))
        continue;
      return fail(source, 0, "listing failed: " + std::string(trim(output.err)));
    }
    text += output.out;
    auto dump = parse(output.out, source);
    if (!dump)
      return tl::unexpected(dump.error());
    append_table(table, filter_table_of(*dump));
  }
  return table;
}

Result<FwDump> parse_rules_listing(std::string_view text, const std::string &source) {
  return parse_iptables_rules(text, source);
}

} // namespace

Result<FwTable> FirewallIo::read_ebtables() {
  auto text = run_text({tools_.ebtables.ebtables, "-t", "filter", "-L"});
  if (!text)
    return tl::unexpected(text.error());
  auto dump = parse_ebtables_list(*text, "ebtables -t filter -L");
  if (!dump)
    return tl::unexpected(dump.error());
  return filter_table_of(*dump);
}

Result<ScopeRead> FirewallIo::read_scope(const ReadScope &scope) {
  const bool whole_eb = scope.whole_ebtables || tools_.ebtables.variant != Variant::nft;
  auto listing_of = [&](const std::vector<std::string> &required, const std::vector<std::string> &optional) {
    std::vector<ChainListing> out;
    for (const auto &chain : required)
      out.push_back(ChainListing{chain, true, std::nullopt});
    for (const auto &chain : optional)
      out.push_back(ChainListing{chain, false, std::nullopt});
    return out;
  };
  std::vector<ChainListing> ipt = listing_of(scope.iptables_required, scope.iptables_optional);
  std::vector<ChainListing> ip6t;
  if (tools_.ip6tables)
    ip6t = listing_of(scope.ip6tables_required, scope.ip6tables_optional);
  std::vector<ChainListing> eb = listing_of(scope.ebtables_required, scope.ebtables_optional);
  if (whole_eb)
    eb.clear();
  std::vector<ChainListing> arp;
  if (scope.with_arptables) {
    if (!tools_.arptables)
      return fail("no arptables with a FORWARD chain here");
    arp = listing_of(scope.arptables_required, scope.arptables_optional);
  }
  auto command = [&](std::vector<std::string> argv) {
    Command c{std::move(argv)};
    c.timeout = timeout_;
    return c;
  };
  const std::string iptables = iptables_program(tools_.iptables.save);
  const std::string ip6tables = tools_.ip6tables ? iptables_program(tools_.ip6tables->save) : "";
  ScopeRead read;
  LiveFirewall &live = read.live;
  std::optional<Result<std::string>> whole_eb_text, nat;
  // The sets first: their names, then (while the chains are still being
  // listed) the scope's sets.  Only this task touches live.ipsets.
  std::optional<Result<void>> sets;
  std::vector<std::function<void()>> dumps{[&] {
    auto names = run_text({tools_.ipset, "list", "-n"});
    sets = names ? read_scope_sets(scope, *names, live) : Result<void>(tl::unexpected(names.error()));
  }};
  for (auto &listing : ipt)
    dumps.push_back([&] { listing.output = runner_.run(command({iptables, "-S", listing.chain})); });
  for (auto &listing : ip6t)
    dumps.push_back([&] { listing.output = runner_.run(command({ip6tables, "-S", listing.chain})); });
  for (auto &listing : eb)
    dumps.push_back([&] {
      listing.output = runner_.run(command({tools_.ebtables.ebtables, "-t", "filter", "-L", listing.chain}));
    });
  for (auto &listing : arp)
    dumps.push_back([&] { listing.output = runner_.run(command({tools_.arptables->arptables, "-n", "-L", listing.chain})); });
  if (whole_eb)
    dumps.push_back([&] { whole_eb_text = run_text({tools_.ebtables.ebtables, "-t", "filter", "-L"}); });
  if (tools_.ebtables.variant == Variant::nft || ::access("/sys/module/ebtable_nat", F_OK) == 0)
    dumps.push_back([&] { nat = run_text({tools_.ebtables.ebtables, "-t", "nat", "-L"}); });
  run_together(runner_, dumps);

  if (!*sets)
    return tl::unexpected(sets->error());
  auto ipt_table = merge_listings(ipt, parse_rules_listing, iptables + " -S", live.iptables_text);
  if (!ipt_table)
    return tl::unexpected(ipt_table.error());
  live.iptables = std::move(*ipt_table);
  if (!ip6t.empty()) {
    auto ip6t_table = merge_listings(ip6t, parse_rules_listing, ip6tables + " -S", live.ip6tables_text);
    if (!ip6t_table)
      return tl::unexpected(ip6t_table.error());
    live.ip6tables = std::move(*ip6t_table);
  }
  if (whole_eb) {
    auto eb_table = filter_table_from(*whole_eb_text, parse_ebtables_list, "ebtables -t filter -L",
                                      live.ebtables_text);
    if (!eb_table)
      return tl::unexpected(eb_table.error());
    live.ebtables = std::move(*eb_table);
    read.ebtables_whole = true;
  } else {
    auto eb_table = merge_listings(eb, parse_ebtables_list, "ebtables -t filter -L", live.ebtables_text);
    if (!eb_table)
      return tl::unexpected(eb_table.error());
    live.ebtables = std::move(*eb_table);
  }
  if (scope.with_arptables) {
    auto arp_table = merge_listings(arp, parse_arptables_list, "arptables -n -L", live.arptables_text);
    if (!arp_table)
      return tl::unexpected(arp_table.error());
    live.arptables = std::move(*arp_table);
  }
  if (nat && *nat) {
    live.ebtables_nat_text = std::move(**nat);
    if (auto nat_dump = parse_ebtables_list(live.ebtables_nat_text, "ebtables -t nat -L"))
      if (const FwTable *table = nat_dump->table("nat"))
        live.ebtables_nat = *table;
  }

  return read;
}

Result<void> FirewallIo::read_scope_sets(const ReadScope &scope, const std::string &name_text,
                                         LiveFirewall &live) {
  std::vector<std::string> wanted;
  for (const auto &line : split_lines(std::string_view(name_text))) {
    const std::string name(trim(line.text));
    if (name.empty())
      continue;
    if (scope.needs_whole_read && scope.needs_whole_read(name))
      return fail("ipset list -n", 0, "set " + name + " needs the whole read");
    if (scope.wants_set && scope.wants_set(name))
      wanted.push_back(name);
  }
  if (wanted.size() > scope.max_set_listings) {
    auto all = run_text({tools_.ipset, "save"});
    if (!all)
      return tl::unexpected(all.error());
    auto dump = parse_ipset_save(*all, "ipset save");
    if (!dump)
      return tl::unexpected(dump.error());
    const std::set<std::string> keep(wanted.begin(), wanted.end());
    for (auto &set : dump->sets)
      if (keep.count(set.name))
        live.ipsets.sets.push_back(std::move(set));
    live.ipset_text = std::move(*all);
    return {};
  }
  std::vector<std::optional<Result<std::string>>> saved(wanted.size());
  std::vector<std::function<void()>> saves;
  for (std::size_t i = 0; i < wanted.size(); ++i)
    saves.push_back([&, i] { saved[i] = run_text({tools_.ipset, "save", wanted[i]}); });
  run_together(runner_, saves);
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (!*saved[i])
      return tl::unexpected(saved[i]->error());
    auto dump = parse_ipset_save(**saved[i], "ipset save " + wanted[i]);
    if (!dump)
      return tl::unexpected(dump.error());
    for (auto &set : dump->sets)
      live.ipsets.sets.push_back(std::move(set));
    live.ipset_text += **saved[i];
  }
  return {};
}

Result<void> FirewallIo::load_iptables(const std::string &text) {
  auto done = run_text({tools_.iptables.restore, "--noflush"}, text);
  if (!done)
    return tl::unexpected(done.error());
  return {};
}

Result<void> FirewallIo::load_ip6tables(const std::string &text) {
  if (!tools_.ip6tables)
    return fail("ip6tables-restore", 0,
                "expected ip6tables-save and ip6tables-restore (package iptables) and a kernel with IPv6, "
                "got none here");
  auto done = run_text({tools_.ip6tables->restore, "--noflush"}, text);
  if (!done)
    return tl::unexpected(done.error());
  return {};
}

Result<void> FirewallIo::load_ebtables(const std::string &text) {
  auto done = run_text({tools_.ebtables.restore}, text);
  if (!done)
    return tl::unexpected(done.error());
  return {};
}

Result<void> FirewallIo::load_ipsets(const std::string &text) {
  auto done = run_text({tools_.ipset, "-exist", "restore"}, text);
  if (!done)
    return tl::unexpected(done.error());
  return {};
}

Result<void> FirewallIo::run_arptables(const std::vector<std::string> &args) {
  if (!tools_.arptables)
    return fail("no arptables with a FORWARD chain here");
  std::vector<std::string> argv{tools_.arptables->arptables};
  argv.insert(argv.end(), args.begin(), args.end());
  auto done = run_text(std::move(argv));
  if (!done)
    return tl::unexpected(done.error());
  return {};
}

Result<void> FirewallIo::run_ebtables(const std::vector<std::string> &args) {
  std::vector<std::string> argv{tools_.ebtables.ebtables};
  argv.insert(argv.end(), args.begin(), args.end());
  auto done = run_text(std::move(argv));
  if (!done)
    return tl::unexpected(done.error());
  return {};
}

} // namespace vifwall
