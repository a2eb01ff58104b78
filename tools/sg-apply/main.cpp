// sg-apply: CloudStack's security groups on a XenServer host, applied
// atomically.  Subcommands mirror the vmops plugin's functions, so a
// CloudStack call maps onto one command line.  This file only wires the
// command line to lib/sg_apply.
#include <cstdio>
#include <syslog.h>
#include <unistd.h>

#include "cli_common.hpp"
#include "exec.hpp"
#include "host_inputs.hpp"
#include "sg_apply.hpp"
#include "sg_rules.hpp"

using namespace vifwall;

namespace {

const char *const kProg = "sg-apply";

struct Args {
  SgOptions options;
  std::string arp_filter = "arptables";
  std::string iptables = "auto";
  double lock_wait = 30;
  double timeout = 60;
  bool verbose = false;
  // Subcommand values.
  std::string vm, vm_id, ip, mac, sec_ips, sig, seq, rules, rules_file, action;
  bool deflated = false;
  std::vector<std::string> vifs, uplinks, running;
  bool running_given = false;
};

Result<std::vector<SgRule>> read_rules(const Args &a) {
  if (!a.rules_file.empty()) {
    auto text = read_input_file(a.rules_file);
    if (!text)
      return tl::unexpected(text.error());
    return parse_rules_file(*text, a.rules_file == "-" ? "<stdin>" : a.rules_file);
  }
  if (a.deflated) {
    auto plain = decode_deflated(a.rules, "--rules");
    if (!plain)
      return tl::unexpected(plain.error());
    return parse_rule_string(*plain, "--rules");
  }
  return parse_rule_string(a.rules, "--rules");
}

int finish(const Args &a, const Result<SgOutcome> &outcome) {
  if (!outcome) {
    cli::print_error(kProg, outcome.error());
    return is_lock_timeout(outcome.error()) ? cli::kLockBusy : cli::kFailed;
  }
  for (const auto &note : outcome->notes)
    if (a.verbose || a.options.dry_run)
      std::fprintf(stderr, "%s: note: %s\n", kProg, note.c_str());
  if (a.options.dry_run) {
    cli::write_stdout(outcome->dry_run_text.empty() ? "# nothing to change\n" : outcome->dry_run_text);
    return cli::kOk;
  }
  if (a.verbose) {
    std::string out;
    for (const auto &line : outcome->changes)
      out += line + "\n";
    if (outcome->changes.empty())
      out = "nothing to change\n";
    cli::write_stdout(out);
  }
  return cli::kOk;
}

} // namespace

int main(int argc, char **argv) {
  Args a;
  CLI::App app{"Program CloudStack security groups (iptables, ipset, ebtables, arptables) on a "
               "XenServer host, atomically.",
               kProg};
  cli::add_version(app, kProg);
  app.require_subcommand(1);
  app.footer("Exit status: 0 done (or nothing to do), 1 failed (nothing changed), 2 usage, "
             "75 lock busy.  See sg-apply(8).");
  app.add_option("--state-dir", a.options.state_dir, "State directory (default /var/run/cloud)")
      ->type_name("DIR")
      ->envname("VIFWALL_STATE_DIR");
  app.add_flag("-n,--dry-run", a.options.dry_run, "Print what would be loaded into each table; change nothing");
  app.add_option("--arp-filter", a.arp_filter, "How ARP spoofing is stopped (default arptables)")
      ->check(CLI::IsMember({"arptables", "ebtables"}))
      ->envname("VIFWALL_ARP_FILTER");
  app.add_option("--iptables", a.iptables, "iptables variant: auto (what `iptables` is), legacy, nft")
      ->check(CLI::IsMember({"auto", "legacy", "nft"}));
  app.add_option("--lock-file", a.options.lock_file, "Lock serialising sg-apply runs")
      ->type_name("FILE")
      ->envname("VIFWALL_LOCK_FILE");
  app.add_option("--ebtables-lock", a.options.ebtables_lock_file, "XAPI's ebtables lock")
      ->type_name("FILE")
      ->envname("VIFWALL_EBTABLES_LOCK");
  app.add_option("--wait", a.lock_wait, "Seconds to wait for the lock (default 30), then exit 75")
      ->type_name("SECS")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--timeout", a.timeout, "Seconds each command may take (default 60)")
      ->type_name("SECS")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--xe", a.options.xe, "Path of xe (for VIF lookups and cleanup)")
      ->type_name("PATH")
      ->envname("VIFWALL_XE");
  app.add_flag("-v,--verbose", a.verbose, "Print what changed");

  auto *setup = app.add_subcommand("setup", "Host-wide chains (CloudStack's can_bridge_firewall)");
  setup->add_option("--uplink", a.uplinks, "Physical uplink (default: the bridges' non-VIF ports)")
      ->type_name("IFACE");

  auto *def = app.add_subcommand("default", "A user VM's default rules (default_network_rules)");
  def->add_option("--vm", a.vm, "VM name, e.g. i-2-3-VM")->required();
  def->add_option("--vm-id", a.vm_id, "CloudStack VM id")->required();
  def->add_option("--ip", a.ip, "The VM's IPv4 address")->required();
  def->add_option("--mac", a.mac, "The VM's MAC address")->required();
  def->add_option("--sec-ips", a.sec_ips, "Secondary IPs, 'IP;IP;' or '0;'");
  def->add_option("--vif", a.vifs, "dom0 interface (default: vif<domid>.0 and tap<domid>.0)")
      ->type_name("IFACE");

  auto *sys = app.add_subcommand("systemvm", "A system VM's chain (default_network_rules_systemvm)");
  sys->add_option("--vm", a.vm, "System VM name (r-, s-, v-, l-)")->required();
  sys->add_option("--vif", a.vifs, "dom0 interface (default: all its vif<domid>.N)")->type_name("IFACE");

  auto *rules = app.add_subcommand("rules", "A user VM's ingress and egress rules (network_rules)");
  rules->add_option("--vm", a.vm, "VM name")->required();
  rules->add_option("--vm-id", a.vm_id, "CloudStack VM id")->required();
  rules->add_option("--ip", a.ip, "The VM's IPv4 address")->required();
  rules->add_option("--mac", a.mac, "The VM's MAC address")->required();
  rules->add_option("--sig", a.sig, "Signature of the rule set (CloudStack's MD5)")->required();
  rules->add_option("--seq", a.seq, "Sequence number of the update")->required();
  auto *rule_string = rules->add_option("--rules", a.rules, "CloudStack rule string")->type_name("STRING");
  rules->add_flag("--deflated", a.deflated, "--rules is zlib-deflated and base64-encoded")->needs(rule_string);
  auto *rule_file = rules->add_option("--rules-file", a.rules_file, "Readable rules file ('-' for stdin)")
                        ->type_name("FILE");
  rule_string->excludes(rule_file);
  rules->add_option("--vif", a.vifs, "dom0 interface (default: looked up)")->type_name("IFACE");

  auto *destroy = app.add_subcommand("destroy", "Remove everything of a VM (destroy_network_rules_for_vm)");
  destroy->add_option("--vm", a.vm, "VM name")->required();

  auto *cleanup = app.add_subcommand("cleanup", "Remove everything of VMs that are not running");
  cleanup->add_option("--running", a.running, "The running VMs (default: ask xe)")->type_name("VM");

  auto *secondary = app.add_subcommand("secondary-ip", "Add or remove a secondary IP (network_rules_vmSecondaryIp)");
  secondary->add_option("--vm", a.vm, "VM name")->required();
  secondary->add_option("--mac", a.mac, "The VM's MAC")->required();
  secondary->add_option("--ip", a.ip, "The secondary IPv4 address")->required();
  secondary->add_option("--action", a.action, "add or del")->required()->check(CLI::IsMember({"add", "del"}));

  return cli::run(app, argc, argv, [&]() -> int {
    if (rules->parsed() && a.rules_file.empty() && rule_string->count() == 0) {
      cli::print_error(kProg, "rules: give --rules STRING or --rules-file FILE");
      return cli::kUsage;
    }
    a.options.arp_filter = a.arp_filter == "ebtables" ? ArpFilter::ebtables : ArpFilter::arptables;
    a.options.iptables = a.iptables == "legacy" ? IptablesChoice::legacy
                         : a.iptables == "nft"  ? IptablesChoice::nft
                                                : IptablesChoice::automatic;
    a.options.lock_timeout = std::chrono::milliseconds(static_cast<long>(a.lock_wait * 1000));
    a.options.command_timeout = std::chrono::milliseconds(static_cast<long>(a.timeout * 1000));
    a.running_given = cleanup->count("--running") > 0;

    auto runner = make_process_runner();
    SgApplier applier(*runner, a.options);
    // dom0's convention (XAPI's setup-vif-rules): every change goes to syslog.
    openlog(kProg, LOG_PID, LOG_DAEMON);
    applier.on_change = [](const std::string &line) { syslog(LOG_INFO, "%s", line.c_str()); };

    if (setup->parsed())
      return finish(a, applier.setup(a.uplinks));
    if (def->parsed())
      return finish(a, applier.apply_default({a.vm, a.vm_id, a.ip, a.mac, a.sec_ips, a.vifs}));
    if (sys->parsed())
      return finish(a, applier.apply_systemvm(a.vm, a.vifs));
    if (rules->parsed()) {
      auto parsed = read_rules(a);
      if (!parsed) {
        cli::print_error(kProg, parsed.error());
        return cli::kFailed;
      }
      return finish(a, applier.apply_rules({a.vm, a.vm_id, a.ip, a.mac, a.sig, a.seq, *parsed,
                                            a.rules_file.empty() ? "--rules" : a.rules_file, a.vifs}));
    }
    if (destroy->parsed())
      return finish(a, applier.destroy(a.vm));
    if (cleanup->parsed())
      return finish(a, applier.cleanup(a.running_given ? std::optional(a.running) : std::nullopt));
    if (secondary->parsed())
      return finish(a, applier.secondary_ip(a.vm, a.mac, a.ip, a.action == "add"));
    return cli::kUsage;
  });
}
