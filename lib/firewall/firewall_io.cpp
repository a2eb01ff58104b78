#include "firewall_io.hpp"

#include <functional>
#include <optional>
#include <unistd.h>

#include "parse_arptables.hpp"
#include "parse_ebtables.hpp"
#include "parse_ipset.hpp"
#include "parse_iptables_save.hpp"

namespace vifwall {

Result<std::string> FirewallIo::run_text(std::vector<std::string> argv, const std::string &input) {
  Command command{std::move(argv), input};
  command.timeout = timeout_;
  auto output = run_checked(runner_, command);
  if (!output)
    return tl::unexpected(output.error());
  return std::move(output->out);
}

Result<LiveFirewall> FirewallIo::read(bool with_arptables) {
  if (with_arptables && !tools_.arptables)
    return fail("no arptables with a FORWARD chain here (arptables-nft has none); "
                "use --arp-filter ebtables");
  // The dumps do not depend on each other: taken at the same time (on a
  // host of 1000 VMs each takes 0.05-0.2 s).  The caller holds the lock, so
  // no change of ours happens in between.
  std::optional<Result<std::string>> ipt, sets, eb, arp, nat;
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
  run_together(runner_, dumps);

  LiveFirewall live;
  if (!*ipt)
    return tl::unexpected(ipt->error());
  live.iptables_text = std::move(**ipt);
  auto ipt_dump = parse_iptables_save(live.iptables_text, "iptables-save -t filter");
  if (!ipt_dump)
    return tl::unexpected(ipt_dump.error());
  live.iptables = filter_table_of(*ipt_dump);

  if (!*sets)
    return tl::unexpected(sets->error());
  live.ipset_text = std::move(**sets);
  auto set_dump = parse_ipset_save(live.ipset_text, "ipset save");
  if (!set_dump)
    return tl::unexpected(set_dump.error());
  live.ipsets = std::move(*set_dump);

  if (!*eb)
    return tl::unexpected(eb->error());
  live.ebtables_text = std::move(**eb);
  auto eb_dump = parse_ebtables_list(live.ebtables_text, "ebtables -t filter -L");
  if (!eb_dump)
    return tl::unexpected(eb_dump.error());
  live.ebtables = filter_table_of(*eb_dump);

  // No nat table (legacy ebtables without the ebtable_nat module) holds
  // no rule of anybody's: not an error.
  if (nat && *nat) {
    live.ebtables_nat_text = std::move(**nat);
    if (auto nat_dump = parse_ebtables_list(live.ebtables_nat_text, "ebtables -t nat -L"))
      if (const FwTable *table = nat_dump->table("nat"))
        live.ebtables_nat = *table;
  }

  if (with_arptables) {
    if (!*arp)
      return tl::unexpected(arp->error());
    live.arptables_text = std::move(**arp);
    auto arp_dump = parse_arptables_list(live.arptables_text, "arptables -n -L");
    if (!arp_dump)
      return tl::unexpected(arp_dump.error());
    live.arptables = filter_table_of(*arp_dump);
  }
  return live;
}

Result<void> FirewallIo::load_iptables(const std::string &text) {
  auto done = run_text({tools_.iptables.restore, "--noflush"}, text);
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
