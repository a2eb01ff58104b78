// sg-apply: CloudStack's security groups on a XenServer host, applied
// atomically.  Subcommands mirror the vmops plugin's functions, so a
// CloudStack call maps onto one command line; `batch` takes many such lines
// and applies them as one change.  This file only wires the command line to
// lib/sg_apply.
#include <cstdio>

#include "cli_common.hpp"
#include "exec.hpp"
#include "host_inputs.hpp"
#include "sg_apply.hpp"
#include "sg_rules.hpp"
#include "syslog.hpp"
#include "text.hpp"
#include "validate.hpp"

using namespace vifwall;

namespace {

const char *const kProg = "sg-apply";

// The values of one VM subcommand (default, systemvm, rules, destroy,
// secondary-ip), on the command line or on a batch line.
struct VmArgs {
  std::string vm, vm_id, ip, mac, sec_ips, sig, seq, rules, rules_file, action;
  bool deflated = false;
  std::vector<std::string> vifs, ipv6;
  std::string nic; // checked by nic_number()
};

struct VmCommands {
  CLI::App *def = nullptr, *sys = nullptr, *rules = nullptr, *destroy = nullptr,
           *secondary = nullptr;
  CLI::Option *rule_string = nullptr, *rules_sec_ips = nullptr;
};

VmCommands add_vm_commands(CLI::App &app, VmArgs &a) {
  VmCommands c;
  c.def = app.add_subcommand("default", "A user VM's default rules (default_network_rules)");
  c.def->add_option("--vm", a.vm, "VM name, e.g. i-2-3-VM")->required();
  c.def->add_option("--vm-id", a.vm_id, "CloudStack VM id")->required();
  c.def->add_option("--ip", a.ip, "The VM's IPv4 address")->required();
  c.def->add_option("--mac", a.mac, "The VM's MAC address")->required();
  c.def->add_option("--sec-ips", a.sec_ips, "Secondary IPs, 'IP;IP;' or '0;'");
  c.def->add_option("--ip6", a.ipv6, "An IPv6 address of the NIC (repeatable; its link-local is added)")
      ->type_name("ADDR");
  c.def->add_option("--nic", a.nic, "NIC device 1-15 to add or replace (default 0: the VM itself)")
      ->type_name("N");
  c.def->add_option("--vif", a.vifs, "dom0 interface (default: vif<domid>.N and tap<domid>.N)")
      ->type_name("IFACE");

  c.sys = app.add_subcommand("systemvm", "A system VM's chain (default_network_rules_systemvm)");
  c.sys->add_option("--vm", a.vm, "System VM name (r-, s-, v-, l-)")->required();
  c.sys->add_option("--vif", a.vifs, "dom0 interface (default: all its vif<domid>.N)")
      ->type_name("IFACE");

  c.rules = app.add_subcommand("rules", "A user VM's ingress and egress rules (network_rules)");
  c.rules->add_option("--vm", a.vm, "VM name")->required();
  c.rules->add_option("--vm-id", a.vm_id, "CloudStack VM id")->required();
  c.rules->add_option("--ip", a.ip, "The VM's IPv4 address")->required();
  c.rules->add_option("--mac", a.mac, "The VM's MAC address")->required();
  c.rules->add_option("--sig", a.sig, "Signature of the rule set (CloudStack's MD5)")->required();
  c.rules->add_option("--seq", a.seq, "Sequence number of the update")->required();
  c.rule_string = c.rules->add_option("--rules", a.rules, "CloudStack rule string")->type_name("STRING");
  c.rules->add_flag("--deflated", a.deflated, "--rules is zlib-deflated and base64-encoded")
      ->needs(c.rule_string);
  auto *rule_file = c.rules->add_option("--rules-file", a.rules_file, "Readable rules file ('-' for stdin)")
                        ->type_name("FILE");
  c.rule_string->excludes(rule_file);
  c.rules_sec_ips = c.rules->add_option("--sec-ips", a.sec_ips,
                                        "Secondary IPs, 'IP;IP;' or '0;' (default: the recorded ones)");
  c.rules->add_option("--vif", a.vifs, "dom0 interface (default: looked up)")->type_name("IFACE");

  c.destroy = app.add_subcommand("destroy", "Remove everything of a VM (destroy_network_rules_for_vm)");
  c.destroy->add_option("--vm", a.vm, "VM name")->required();
  c.destroy->add_option("--nic", a.nic, "Remove only this NIC (1-15) of the VM")->type_name("N");

  c.secondary = app.add_subcommand("secondary-ip", "Add or remove a secondary IP (network_rules_vmSecondaryIp)");
  c.secondary->add_option("--vm", a.vm, "VM name")->required();
  c.secondary->add_option("--mac", a.mac, "The MAC of the VM's NIC that has the address")->required();
  c.secondary->add_option("--ip", a.ip, "The secondary IPv4 or IPv6 address")->required();
  c.secondary->add_option("--action", a.action, "add or del")->required()->check(cli::one_of({"add", "del"}));
  return c;
}

// How a job that could not be prepared exits: 2 (usage) for a bad value,
// which lib/ reports with the option as the error's source ("--ip: expected
// a dotted IPv4 address, got ..."), 1 for what failed on the host (a VIF
// lookup through xe, a missing state file).
int failure_status(const Error &error) {
  return error.source.rfind("--", 0) == 0 ? cli::kUsage : cli::kFailed;
}

// --nic as a number (0 when not given); the value was checked by lib/.
Result<int> nic_number(const VmArgs &a) {
  if (a.nic.empty())
    return 0;
  auto device = validate_nic_device(a.nic);
  if (!device)
    return fail("--nic", 0, device.error().message);
  return device;
}

// The job of whichever VM subcommand was parsed; nullopt if none was.
std::optional<Result<VmJob>> prepare(SgApplier &applier, const VmCommands &c, const VmArgs &a) {
  auto nic = nic_number(a);
  if (!nic && (c.def->parsed() || c.destroy->parsed()))
    return Result<VmJob>(tl::unexpected(nic.error()));
  if (c.def->parsed())
    return applier.prepare_default({a.vm, a.vm_id, a.ip, a.mac, a.sec_ips, a.vifs, a.ipv6, *nic});
  if (c.sys->parsed())
    return applier.prepare_systemvm(a.vm, a.vifs);
  if (c.rules->parsed()) {
    if (a.rules_file.empty() && c.rule_string->count() == 0)
      return Result<VmJob>(fail("--rules", 0, "expected --rules STRING or --rules-file FILE"));
    auto rules = read_rules({a.rules_file, a.rules, a.deflated});
    if (!rules) { // bad input: named by its option (failure_status)
      if (rules.error().source.rfind("--", 0) == 0)
        return Result<VmJob>(tl::unexpected(rules.error()));
      return Result<VmJob>(fail(a.rules_file.empty() ? "--rules" : "--rules-file", 0, rules.error().str()));
    }
    return applier.prepare_rules({a.vm, a.vm_id, a.ip, a.mac, a.sig, a.seq, *rules,
                                  a.rules_file.empty() ? "--rules" : a.rules_file, a.vifs,
                                  c.rules_sec_ips->count() ? std::optional(a.sec_ips) : std::nullopt});
  }
  if (c.destroy->parsed()) {
    if (!a.nic.empty() && *nic == 0) // not "everything": that is destroy without --nic
      return Result<VmJob>(fail("--nic", 0, "expected a NIC 1-15 to remove (without --nic, destroy "
                                            "removes the whole VM)"));
    return applier.prepare_destroy(a.vm, *nic);
  }
  if (c.secondary->parsed())
    return applier.prepare_secondary_ip(a.vm, a.mac, a.ip, a.action == "add");
  return std::nullopt;
}

// One job per line of a batch file: every line is prepared (validated, VIFs
// looked up) before anything is applied, so a bad line changes nothing.
// `status` is set to how a failure exits: 2 for a file that cannot be read
// or a line that is not a valid subcommand, failure_status for a job.
Result<std::vector<VmJob>> prepare_batch(SgApplier &applier, const std::string &path, int &status) {
  status = cli::kUsage;
  auto text = read_input_file(path);
  if (!text)
    return tl::unexpected(text.error());
  const std::string source = path == "-" ? "<stdin>" : path;
  std::vector<VmJob> jobs;
  std::string joined; // a line ending in '\\' goes on on the next one
  std::size_t first_line = 0;
  const std::string cleaned = clean_text(*text); // the lines below point into it
  for (const auto &line : split_lines(cleaned)) {
    std::string_view part = trim(line.text);
    if (joined.empty())
      first_line = line.number;
    if (!part.empty() && part.back() == '\\') {
      part.remove_suffix(1);
      joined += std::string(part) + " ";
      continue;
    }
    const std::string content = joined + std::string(part);
    joined.clear();
    const auto number = first_line;
    if (trim(content).empty() || trim(content).front() == '#')
      continue;
    auto words = split_command_line(content);
    if (!words)
      return fail(source, number, "expected a complete line, got an unclosed quote");
    VmArgs args;
    CLI::App line_app{"", "batch"};
    line_app.require_subcommand(1);
    const VmCommands commands = add_vm_commands(line_app, args);
    if (auto problem = cli::check_words(line_app, *words))
      return fail(source, number, *problem);
    std::vector<std::string> reversed(words->rbegin(), words->rend());
    try {
      line_app.parse(reversed);
    } catch (const CLI::ParseError &e) {
      return fail(source, number,
                  std::string("expected default, systemvm, rules, destroy or secondary-ip with "
                              "their options: ") + e.what());
    }
    auto job = prepare(applier, commands, args);
    if (job && !*job)
      status = failure_status(job->error());
    if (!job || !*job)
      return fail(source, number, job ? job->error().str() : "no subcommand");
    jobs.push_back(std::move(**job));
  }
  return jobs;
}

struct GlobalArgs {
  SgOptions options;
  std::string arp_filter = "arptables";
  std::string iptables = "auto";
  double lock_wait = 30;
  double timeout = 60;
  bool verbose = false;
};

// dom0's convention (XAPI's setup-vif-rules logs every change): each run
// that changed the firewall, failed, or found the lock busy leaves one
// syslog line, "SUBJECT: changed: iptables: +12 -0 rules; ipset: ...",
// "SUBJECT: failed (exit 1): WHY" or "SUBJECT: lock busy: WHY", where
// SUBJECT is the subcommand, its VM and sig/seq.  Dry runs leave none.
// Without a syslog socket the line goes to stderr, in a warning that says so.
class RunLog {
public:
  RunLog(LogSink &sink, bool dry_run) : sink_(sink), dry_run_(dry_run) {}
  std::string subject;

  void changed(const std::vector<std::string> &changes) {
    if (changes.empty())
      return;
    std::string what = "changed: ";
    for (const auto &change : changes)
      what += (&change == &changes.front() ? "" : "; ") + change;
    send(LogLevel::info, what);
  }
  // Prints the error, logs it, returns `status`.
  int failed(int status, const Error &error) {
    cli::print_error(kProg, error);
    send(status == cli::kLockBusy ? LogLevel::warning : LogLevel::err,
         (status == cli::kLockBusy ? std::string("lock busy: ")
                                   : "failed (exit " + std::to_string(status) + "): ") +
             error.str());
    return status;
  }

private:
  void send(LogLevel level, const std::string &what) {
    if (dry_run_)
      return;
    const std::string line = subject + ": " + what;
    if (auto sent = sink_.send(level, line); !sent)
      cli::print_warning(kProg, "no syslog line (" + sent.error().str() + "); it says: " + line);
  }
  LogSink &sink_;
  bool dry_run_;
};

// The subcommand and what it was run on, for the syslog line.
std::string run_subject(const CLI::App &app, const VmArgs &a, const std::vector<std::string> &vms,
                        const std::string &batch_file) {
  const auto parsed = app.get_subcommands();
  std::string subject = parsed.empty() ? "?" : parsed.front()->get_name();
  if (!batch_file.empty())
    subject += " " + batch_file;
  std::string vm = a.vm;
  for (const auto &name : vms)
    vm += (vm.empty() ? "" : ",") + name;
  if (!vm.empty())
    subject += " vm=" + vm;
  if (!a.sig.empty() || !a.seq.empty())
    subject += " sig=" + a.sig + " seq=" + a.seq;
  return subject;
}

int finish(const GlobalArgs &g, RunLog &log, const Result<SgOutcome> &outcome) {
  if (!outcome)
    return log.failed(is_lock_timeout(outcome.error()) ? cli::kLockBusy : cli::kFailed, outcome.error());
  log.changed(outcome->changes);
  for (const auto &warning : outcome->warnings)
    std::fprintf(stderr, "%s: warning: %s\n", kProg, warning.c_str());
  for (const auto &note : outcome->notes)
    if (g.verbose || g.options.dry_run)
      std::fprintf(stderr, "%s: note: %s\n", kProg, note.c_str());
  if (g.options.dry_run) {
    cli::write_stdout(outcome->dry_run_text.empty() ? "# nothing to change\n" : outcome->dry_run_text);
    return cli::kOk;
  }
  if (g.verbose) {
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
  GlobalArgs g;
  VmArgs a;
  std::vector<std::string> uplinks, running, reapply_vms, takeover_vms;
  std::string batch_file;
  bool setup_cleanup = false, count = false;
  CLI::App app{"Program CloudStack security groups (iptables, ipset, ebtables, arptables) on a "
               "XenServer host, atomically.",
               kProg};
  cli::add_version(app, kProg);
  app.require_subcommand(1);
  // `sg-apply setup --state-dir DIR` as well as `sg-apply --state-dir DIR
  // setup`: the subcommands (added below) inherit this.
  app.fallthrough();
  app.footer("Exit status: 0 done (or nothing to do), 1 failed (nothing changed), 2 usage or "
             "a bad value, 75 lock busy.  See sg-apply(8).");
  app.add_option("--state-dir", g.options.state_dir, "State directory (default /var/run/cloud)")
      ->type_name("DIR")
      ->envname("VIFWALL_STATE_DIR");
  app.add_flag("-n,--dry-run", g.options.dry_run, "Print what would be loaded into each table; change nothing");
  app.add_option("--arp-filter", g.arp_filter, "How ARP spoofing is stopped (default arptables)")
      ->check(cli::one_of({"arptables", "ebtables"}))
      ->envname("VIFWALL_ARP_FILTER");
  app.add_option("--iptables", g.iptables, "iptables variant: auto (what `iptables` is), legacy, nft")
      ->check(cli::one_of({"auto", "legacy", "nft"}));
  app.add_option("--lock-file", g.options.lock_file, "Lock serialising sg-apply runs")
      ->type_name("FILE")
      ->envname("VIFWALL_LOCK_FILE");
  app.add_option("--ebtables-lock", g.options.ebtables_lock_file, "XAPI's ebtables lock")
      ->type_name("FILE")
      ->envname("VIFWALL_EBTABLES_LOCK");
  app.add_option("--wait", g.lock_wait, "Seconds to wait for the lock (default 30), then exit 75")
      ->type_name("SECS")
      ->check(cli::finite_seconds(0.0, 86400.0));
  app.add_option("--timeout", g.timeout, "Seconds each command may take (default 60)")
      ->type_name("SECS")
      ->check(cli::finite_seconds(0.1, 3600.0));
  app.add_option("--xe", g.options.xe, "Path of xe (for VIF lookups and cleanup)")
      ->type_name("PATH")
      ->envname("VIFWALL_XE");
  app.add_flag("-v,--verbose", g.verbose, "Print what changed");

  auto *setup = app.add_subcommand("setup", "Host-wide chains (CloudStack's can_bridge_firewall)");
  setup->add_option("--uplink", uplinks, "Physical uplink (default: the bridges' non-VIF ports)")
      ->type_name("IFACE");
  setup->add_flag("--ipv6", g.options.ipv6,
                  "Also the IPv6 layer: ip6tables chains, IPv6 let through for VIFs of NICs with IPv6 "
                  "(needs net.bridge.bridge-nf-call-ip6tables=1)");
  setup->add_flag("--cleanup", setup_cleanup,
                  "Then remove the rules of VMs that are not running (as can_bridge_firewall does)");
  const VmCommands commands = add_vm_commands(app, a);
  auto *cleanup = app.add_subcommand("cleanup", "Remove everything of VMs that are not running");
  cleanup->add_option("--running", running, "The running VMs (default: ask xe)")->type_name("VM");
  cleanup->add_flag("--count", count, "Print the number of VMs removed (cleanup_rules' answer)");
  auto *rule_logs = app.add_subcommand(
      "rule-logs", "Repair rebooted VMs' rules, print the logs (get_rule_logs_for_vms)");
  auto *reapply = app.add_subcommand("reapply", "Rebuild VMs' firewalls from their recorded state");
  reapply->add_option("--vm", reapply_vms, "VM to rebuild (default: every VM with a state file)")
      ->type_name("VM");
  auto *takeover = app.add_subcommand(
      "takeover", "Convert the rules CloudStack's own vmops plugin programmed to sg-apply's layout");
  takeover->add_option("--vm", takeover_vms,
                       "VM to take over (default: every running VM with a CloudStack log and no state file, "
                       "then stopped VMs and leftovers)")
      ->type_name("VM");
  auto *batch = app.add_subcommand("batch", "Apply many VM subcommands, one per line, as one change");
  batch->add_option("file", batch_file, "File of subcommand lines ('-' for stdin)")
      ->required()
      ->type_name("FILE");

  return cli::run(app, argc, argv, [&]() -> int {
    g.options.arp_filter = g.arp_filter == "ebtables" ? ArpFilter::ebtables : ArpFilter::arptables;
    g.options.iptables = iptables_choice_of(g.iptables);
    g.options.lock_timeout = std::chrono::milliseconds(static_cast<long>(g.lock_wait * 1000));
    g.options.command_timeout = std::chrono::milliseconds(static_cast<long>(g.timeout * 1000));

    auto runner = make_process_runner();
    SgApplier applier(*runner, g.options);
    SyslogSocket syslog(default_syslog_path(), kProg);
    RunLog log(syslog, g.options.dry_run);
    log.subject = run_subject(app, a, reapply_vms, batch_file);

    if (setup->parsed())
      return finish(g, log, setup_cleanup ? applier.setup_and_cleanup(uplinks, std::nullopt)
                                     : applier.setup(uplinks));
    if (cleanup->parsed()) {
      auto outcome = applier.cleanup(cleanup->count("--running") ? std::optional(running) : std::nullopt);
      const int status = finish(g, log, outcome);
      if (status == cli::kOk && count) // cleanup_rules' answer: the count alone
        cli::write_stdout(std::to_string(outcome->removed.size()) + "\n");
      return status;
    }
    if (rule_logs->parsed()) {
      auto outcome = applier.rule_logs();
      const int status = finish(g, log, outcome);
      if (status == cli::kOk && !g.options.dry_run) // get_rule_logs_for_vms' answer, one line
        cli::write_stdout(outcome->rule_logs + "\n");
      return status;
    }
    if (reapply->parsed())
      return finish(g, log, applier.reapply(reapply_vms));
    if (takeover->parsed())
      return finish(g, log, applier.takeover(takeover_vms));
    if (batch->parsed()) {
      int status = cli::kUsage;
      auto jobs = prepare_batch(applier, batch_file, status);
      if (!jobs)
        return log.failed(status, jobs.error());
      return finish(g, log, applier.run(std::move(*jobs)));
    }
    auto job = prepare(applier, commands, a);
    if (!job)
      return cli::kUsage;
    if (!*job)
      return log.failed(failure_status(job->error()), job->error());
    std::vector<VmJob> jobs;
    jobs.push_back(std::move(**job));
    return finish(g, log, applier.run(std::move(jobs)));
  });
}
