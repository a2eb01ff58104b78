// sg-show: what a VM's bridge firewall means -- identity, protections,
// ingress and egress rules, defaults, counters -- read back from the live
// tables or a snapshot.  This file only wires the command line to lib/.
#include <cstdio>

#include "cli_common.hpp"
#include "exec.hpp"
#include "firewall_snapshot.hpp"
#include "sg_compare.hpp"
#include "sg_view.hpp"

using namespace vifwall;

namespace {

const char *const kProg = "sg-show";

struct Options {
  std::vector<std::string> vms;
  std::string from_dir;
  std::string state_dir = "/var/run/cloud";
  std::string iptables = "auto";
  double timeout_seconds = 10;
  bool raw = false;
  bool json = false;
  bool pretty = false;
  bool exact = false;
  bool no_counters = false;
  bool list_vms = false;
};

int sg_show(const Options &o) {
  auto runner = make_process_runner();
  CaptureOptions capture;
  capture.iptables = iptables_choice_of(o.iptables);
  capture.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_seconds * 1000));
  auto reading = read_firewall_view(o.from_dir, *runner, capture, o.state_dir);
  if (!reading) {
    cli::print_error(kProg, reading.error());
    return cli::kUsage;
  }
  const FirewallView &view = reading->view;

  if (o.list_vms) {
    cli::write_stdout(render_vm_names(view));
    return cli::kOk;
  }

  std::vector<const VmView *> selected;
  int status = cli::kOk;
  if (o.vms.empty()) {
    for (const auto &vm : view.vms)
      selected.push_back(&vm);
  } else {
    for (const auto &name : o.vms) {
      if (const VmView *vm = view.find(name)) {
        selected.push_back(vm);
      } else {
        cli::print_error(kProg, "no rules for VM " + name + " in the firewall");
        status = cli::kNotFound;
      }
    }
  }
  const bool with_host = o.vms.empty();
  ViewTextOptions text;
  text.counters = !o.no_counters;
  text.exact = o.exact;
  text.host = with_host;
  if (o.json) {
    cli::write_stdout(render_view_json(view, selected, with_host, o.pretty));
  } else {
    if (!o.json)
      for (const auto &warning : view.warnings)
        cli::print_warning(kProg, warning);
    FirewallView quiet = view;
    quiet.warnings.clear(); // printed above, on stderr
    cli::write_stdout(o.raw ? render_view_raw(quiet, selected, text)
                            : render_view_text(quiet, selected, text));
  }
  return status;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  CLI::App app{"Show what the bridge firewall of this host means per VM: identity, "
               "anti-spoofing, ingress and egress rules, defaults and counters.",
               kProg};
  cli::add_version(app, kProg);
  app.footer("Exit status: 0 shown, 1 a named VM has no rules, 2 usage or input error.  "
             "See sg-show(8).");
  app.add_option("vm", o.vms, "VM name (default: every VM with rules, and the host setup)")
      ->type_name("VM");
  auto *output = app.add_option_group("Output");
  auto *raw = output->add_flag("-r,--raw", o.raw, "The underlying rules and sets, grouped by VM");
  auto *json = output->add_flag("-j,--json", o.json, "The same model as JSON");
  raw->excludes(json);
  output->add_flag("-p,--pretty", o.pretty, "Indent the JSON")->needs(json);
  output->add_flag("-x,--exact", o.exact, "Exact counters instead of 2.4k / 244K");
  output->add_flag("--no-counters", o.no_counters, "Leave the packet and byte counters out");

  auto *input = app.add_option_group("Input");
  input->add_option("-f,--from", o.from_dir,
                    "Read a snapshot directory (vif-of --capture DIR) instead of the live host")
      ->type_name("DIR");
  input->add_option("--state-dir", o.state_dir,
                    "sg-apply's state directory, for the names of long VM names' chains "
                    "(default /var/run/cloud)")
      ->type_name("DIR")
      ->envname("VIFWALL_STATE_DIR");
  input->add_option("--iptables", o.iptables,
                    "iptables variant to read: auto (what `iptables` is), legacy, nft")
      ->check(cli::one_of({"auto", "legacy", "nft"}));
  input->add_option("-t,--timeout", o.timeout_seconds, "Seconds each command may take (default 10)")
      ->type_name("SECS")
      ->check(cli::finite_seconds(0.1, 3600.0));

  // For bash completion only: the VMs that have rules.
  app.add_flag("--list-vms", o.list_vms)->group("");

  return cli::run(app, argc, argv, [&] { return sg_show(o); });
}
