// sg-diff: does the bridge firewall hold what it should?  Desired (sg-apply's
// state directory, a rules file or string for one VM, or another snapshot)
// against actual (live or a snapshot), by meaning, with diff's exit status.
// This file only wires the command line to lib/.
#include <cstdio>
#include <sys/stat.h>

#include "cli_common.hpp"
#include "exec.hpp"
#include "firewall_snapshot.hpp"
#include "host_inputs.hpp"
#include "parse_xe.hpp"
#include "pool_answer.hpp"
#include "sg_compare.hpp"
#include "sg_desired.hpp"
#include "sg_rules.hpp"
#include "sg_state.hpp"

using namespace vifwall;

namespace {

const char *const kProg = "sg-diff";

// diff's convention.
// 3 (--pool): some member did not answer; the others' differences are shown.
enum DiffExit : int { kSame = 0, kDiffer = 1, kTrouble = 2, kPartial = 3 };

struct Options {
  std::vector<std::string> vms;
  std::string state_dir = "/var/run/cloud";
  std::string rules, rules_file, desired_from;
  bool deflated = false;
  std::string from_dir;
  std::string xe;
  bool no_xe = false;
  std::string iptables = "auto";
  double timeout_seconds = 10;
  bool json = false, pretty = false, summary = false, quiet = false;
  bool pool = false;
};

bool file_exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::chrono::milliseconds timeout_of(const Options &o) {
  return std::chrono::milliseconds(static_cast<long>(o.timeout_seconds * 1000));
}

// Which VMs run, from the snapshot's xe-vm-list (and its interface listing
// when there is one) or from xe; nullopt when that is not known.
Result<std::optional<RunningHost>> read_running(const Options &o, CommandRunner &runner) {
  if (!o.from_dir.empty()) {
    const std::string vm_list = o.from_dir + "/xe-vm-list";
    if (!file_exists(vm_list) && !file_exists(vm_list + ".txt"))
      return std::optional<RunningHost>();
    if (auto texts = read_snapshot_dir(o.from_dir)) {
      auto inputs = parse_host_texts(*texts);
      if (!inputs)
        return tl::unexpected(inputs.error());
      return std::optional<RunningHost>(running_from_host_map(join_host(std::move(*inputs))));
    }
    // A snapshot with the VM list but no interface listing: VMs only, this
    // host's when the snapshot has its inventory.
    const std::string path = file_exists(vm_list) ? vm_list : vm_list + ".txt";
    auto text = read_input_file(path);
    if (!text)
      return tl::unexpected(text.error());
    std::optional<InputText> inventory;
    const std::string inventory_path = o.from_dir + "/xensource-inventory";
    if (file_exists(inventory_path)) {
      auto inventory_text = read_input_file(inventory_path);
      if (!inventory_text)
        return tl::unexpected(inventory_text.error());
      inventory = InputText{std::move(*inventory_text), inventory_path, "xensource-inventory"};
    }
    auto local = local_vms_of_texts(InputText{std::move(*text), path, "xe-vm-list"}, inventory);
    if (!local)
      return tl::unexpected(local.error());
    HostInputs inputs;
    inputs.vms = std::move(local->running_here);
    RunningHost running = running_from_host_map(join_host(std::move(inputs)));
    running.interfaces.reset();
    return std::optional<RunningHost>(std::move(running));
  }
  if (o.no_xe)
    return std::optional<RunningHost>();
  LiveOptions live;
  live.xe = o.xe;
  live.timeout = timeout_of(o);
  auto texts = read_live(runner, live);
  if (!texts)
    return fail("cannot tell which VMs run (use --no-xe to skip that): " + texts.error().str());
  auto inputs = parse_host_texts(*texts);
  if (!inputs)
    return tl::unexpected(inputs.error());
  return std::optional<RunningHost>(running_from_host_map(join_host(std::move(*inputs))));
}

Result<DesiredFirewall> read_desired(const Options &o, bool rules_given, CommandRunner &runner,
                                     const std::optional<RunningHost> &running) {
  if (rules_given) {
    auto rules = read_rules({o.rules_file, o.rules, o.deflated});
    if (!rules)
      return tl::unexpected(rules.error());
    const std::string &vm = o.vms.front();
    std::optional<VmState> state;
    const std::string path = vm_state_path(o.state_dir, vm);
    if (file_exists(path)) {
      auto text = read_input_file(path);
      if (!text)
        return tl::unexpected(text.error());
      auto parsed = parse_vm_state(*text, path);
      if (!parsed)
        return tl::unexpected(parsed.error());
      state = std::move(*parsed);
    }
    return desired_from_rules(vm, *rules, state);
  }
  if (!o.desired_from.empty()) {
    CaptureOptions unused;
    auto snapshot = read_firewall(o.desired_from, runner, unused);
    if (!snapshot)
      return tl::unexpected(snapshot.error());
    std::vector<std::string> known;
    if (running)
      for (const auto &vm : running->vms)
        known.push_back(vm.name);
    return desired_from_snapshot(*snapshot, known, "the snapshot " + o.desired_from);
  }
  auto states = read_all_vm_states(o.state_dir);
  if (!states)
    return tl::unexpected(states.error());
  std::optional<HostSetupState> host;
  const std::string host_path = host_state_path(o.state_dir);
  if (file_exists(host_path)) {
    auto text = read_input_file(host_path);
    if (!text)
      return tl::unexpected(text.error());
    auto parsed = parse_host_state(*text, host_path);
    if (!parsed)
      return tl::unexpected(parsed.error());
    host = std::move(*parsed);
  }
  auto desired = desired_from_state(*states, host, o.state_dir);
  if (desired)
    desired->vmops_vms = vmops_records_in(o.state_dir, *states);
  return desired;
}

// One member's sg-diff answer read; false (and its error set) when it is
// not usable: exit 2 (trouble) or more, or output that is not sg-diff's.
bool read_member_diff(MemberAnswer &member, MemberDiff &diff) {
  if (!member.answered())
    return false;
  const PluginAnswer &a = *member.answer;
  std::string why;
  if (a.tool != "sg-diff") {
    why = "the plugin ran " + a.tool + ", not sg-diff";
  } else if (a.exit != kSame && a.exit != kDiffer) {
    const std::string first = a.stderr_text.substr(0, a.stderr_text.find('\n'));
    why = "sg-diff exited with status " + std::to_string(a.exit) +
          (first.empty() ? "" : ": " + cli::printable(first.substr(0, 300)));
  } else if (a.output.empty()) {
    why = "sg-diff printed no JSON";
  } else if (auto parsed = parse_sg_diff_json(a.output, "sg-diff's output")) {
    diff = std::move(*parsed);
  } else {
    why = parsed.error().str();
  }
  member.error = why;
  return why.empty();
}

// sg-diff --pool: every member's sg-diff --json through the vifwall XAPI
// plugin.  Text: each member's lines prefixed by its name; JSON: "hosts".
int sg_diff_pool(const Options &o, bool rules_given) {
  if (rules_given || !o.vms.empty() || !o.from_dir.empty() || !o.desired_from.empty() ||
      o.no_xe) {
    cli::print_error(kProg, "--pool compares every member's whole live firewall with its own "
                            "records: it takes no VM, --rules, --rules-file, --from, "
                            "--desired-from or --no-xe");
    return kTrouble;
  }
  PoolOptions pool;
  pool.xe = o.xe;
  pool.timeout = pool_timeout(o.timeout_seconds);
  auto runner = make_process_runner();
  auto answers = ask_pool(*runner, pool, "vifwall", "sg_diff", {});
  if (!answers) {
    cli::print_error(kProg, answers.error());
    return kTrouble;
  }
  bool differ = false, partial = false;
  std::string text;
  for (auto &member : *answers) {
    MemberDiff diff;
    const bool usable = read_member_diff(member, diff);
    const std::string name = cli::printable(member.member.display());
    if (!usable) {
      partial = true;
      cli::print_warning(kProg, "pool member " + describe_member(member.member) +
                                    " did not answer: " + member.error);
      continue;
    }
    differ = differ || diff.differ;
    if (!o.summary)
      for (const auto &line : diff.lines)
        text += name + ": " + cli::printable(line) + "\n";
    text += name + ": " + cli::printable(diff.summary) + "\n";
  }
  if (o.json)
    cli::write_stdout(render_pool_diff_json(*answers, differ, o.pretty));
  else if (!o.quiet)
    cli::write_stdout(text);
  if (partial)
    return kPartial;
  return differ ? kDiffer : kSame;
}

int sg_diff(const Options &o, bool rules_given) {
  if (o.pool)
    return sg_diff_pool(o, rules_given);
  if (rules_given && o.vms.size() != 1) {
    cli::print_error(kProg, "--rules and --rules-file describe one VM: name exactly one VM");
    return kTrouble;
  }
  auto runner = make_process_runner();
  CaptureOptions capture;
  capture.iptables = iptables_choice_of(o.iptables);
  capture.timeout = timeout_of(o);
  // The dumps take most of sg-diff's time (they run at the same time, and
  // the longest is 0.3-0.5 s at 1000 VMs): xe and the desired side (every
  // state file read and rendered) are done meanwhile.  Only --desired-from
  // needs the running VMs first.  Errors are reported in the order the
  // steps had one after the other: running, actual, desired.
  std::optional<Result<std::optional<RunningHost>>> running;
  std::optional<Result<FirewallSnapshot>> actual;
  std::optional<Result<DesiredFirewall>> desired;
  const bool desired_needs_running = !rules_given && !o.desired_from.empty();
  run_together(*runner, {
      [&] { actual = read_firewall(o.from_dir, *runner, capture); },
      [&] {
        running = read_running(o, *runner);
        if (*running && !desired_needs_running)
          desired = read_desired(o, rules_given, *runner, **running);
      },
  });
  if (!*running) {
    cli::print_error(kProg, running->error());
    return kTrouble;
  }
  if (!*actual) {
    cli::print_error(kProg, actual->error());
    return kTrouble;
  }
  if (!desired)
    desired = read_desired(o, rules_given, *runner, **running);
  if (!*desired) {
    cli::print_error(kProg, desired->error());
    return kTrouble;
  }
  if (!o.quiet && !o.json)
    for (const auto &warning : (*actual)->warnings)
      cli::print_warning(kProg, warning);

  CompareOptions options;
  options.vms = o.vms;
  const Comparison comparison = compare_firewall(**desired, **actual, **running, options);
  if (o.json)
    cli::write_stdout(render_comparison_json(comparison, o.pretty));
  else if (o.summary)
    cli::write_stdout(render_comparison_summary(comparison));
  else if (!o.quiet)
    cli::write_stdout(render_comparison_text(comparison));
  if (!comparison.problems.empty()) {
    if (o.quiet || o.summary)
      for (const auto &problem : comparison.problems)
        cli::print_error(kProg, problem);
    return kTrouble;
  }
  return comparison.differs() ? kDiffer : kSame;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  CLI::App app{"Compare the bridge firewall with what it should hold (sg-apply's records, a "
               "rules file, or a snapshot), by meaning, per VM.",
               kProg};
  cli::add_version(app, kProg);
  app.footer("Exit status: 0 no difference, 1 differences, 2 trouble, 3 (--pool) some member "
             "did not answer.  See sg-diff(8).");
  app.add_option("vm", o.vms, "Compare only these VMs (default: every VM, and the host setup)")
      ->type_name("VM");

  auto *desired = app.add_option_group("Desired");
  desired->add_option("--state-dir", o.state_dir, "sg-apply's state directory (default /var/run/cloud)")
      ->type_name("DIR")
      ->envname("VIFWALL_STATE_DIR");
  auto *rule_string =
      desired->add_option("--rules", o.rules, "CloudStack rule string for the one VM named")
          ->type_name("STRING");
  desired->add_flag("--deflated", o.deflated, "--rules is zlib-deflated and base64-encoded")
      ->needs(rule_string);
  auto *rule_file = desired
                        ->add_option("--rules-file", o.rules_file,
                                     "Readable rules file for the one VM named ('-' for stdin)")
                        ->type_name("FILE");
  auto *desired_from =
      desired->add_option("--desired-from", o.desired_from, "Another snapshot directory")
          ->type_name("DIR");
  rule_string->excludes(rule_file);
  desired_from->excludes(rule_string);
  desired_from->excludes(rule_file);

  auto *actual = app.add_option_group("Actual");
  actual->add_option("-f,--from", o.from_dir,
                     "Read a snapshot directory (vif-of --capture DIR) instead of the live host")
      ->type_name("DIR");
  actual->add_option("--xe", o.xe, "Path of xe (default: PATH, then /opt/xensource/bin)")
      ->type_name("PATH")
      ->envname("VIFWALL_XE");
  actual->add_flag("--no-xe", o.no_xe,
                   "Do not ask xe which VMs run (no stale, stale-vif or unprotected findings)");
  actual->add_flag("--pool", o.pool,
                   "Compare on every pool member (xe host-call-plugin, the vifwall plugin)");
  actual->add_option("--iptables", o.iptables, "iptables variant to read: auto, legacy, nft")
      ->check(cli::one_of({"auto", "legacy", "nft"}));
  actual->add_option("-t,--timeout", o.timeout_seconds, "Seconds each command may take (default 10)")
      ->type_name("SECS")
      ->check(cli::finite_seconds(0.1, 3600.0));

  auto *output = app.add_option_group("Output");
  auto *json = output->add_flag("-j,--json", o.json, "The differences as JSON");
  output->add_flag("-p,--pretty", o.pretty, "Indent the JSON")->needs(json);
  auto *summary = output->add_flag("-s,--summary", o.summary, "One line for cron and monitoring");
  auto *quiet = output->add_flag("-q,--quiet", o.quiet, "Print nothing; only the exit status");
  json->excludes(summary);
  json->excludes(quiet);
  summary->excludes(quiet);

  return cli::run(app, argc, argv, [&] {
    const bool rules_given = rule_string->count() > 0 || rule_file->count() > 0;
    return sg_diff(o, rules_given);
  });
}
