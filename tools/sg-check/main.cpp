// sg-check: would this packet pass the host's bridge firewall, and which rule
// decides -- evaluated on the live tables or a snapshot.  This file only
// wires the command line to lib/sg/check.
#include <cstdio>

#include "cli_common.hpp"
#include "exec.hpp"
#include "file_util.hpp"
#include "firewall_snapshot.hpp"
#include "sg_check.hpp"
#include "sg_view.hpp"

using namespace vifwall;

namespace {

const char *const kProg = "sg-check";

struct Options {
  std::string service; // positional: tcp/22, udp/53, icmp, icmp/0, arp, 47
  std::vector<std::pair<std::string, std::string>> packet; // key=value words
  std::string vm, batch, from_dir;
  std::string state_dir = "/var/run/cloud";
  std::string iptables = "auto";
  double timeout_seconds = 10;
  bool json = false, pretty = false, quiet = false, list_vms = false, list_keys = false;
};

// "tcp/22" -> proto=tcp dport=22; "icmp/0" -> proto=icmp icmp=0.
std::vector<std::string> service_words(const std::string &service) {
  if (service.empty())
    return {};
  const auto slash = service.find('/');
  const std::string proto = service.substr(0, slash);
  std::vector<std::string> words = {"proto=" + proto};
  if (slash != std::string::npos)
    words.push_back((proto == "icmp" ? "icmp=" : proto == "arp" ? "arp=" : "dport=") + service.substr(slash + 1));
  return words;
}

int exit_of(Verdict v) {
  return v == Verdict::pass ? 0 : v == Verdict::drop ? 1 : 2;
}

int one_packet(const Options &o, const CheckTables &tables, const FirewallView &view) {
  std::vector<std::string> words = service_words(o.service);
  for (const auto &[key, value] : o.packet)
    words.push_back(key + "=" + value);
  auto spec = parse_packet_words(words, "command line", 0);
  if (!spec) {
    cli::print_error(kProg, spec.error());
    return cli::kUsage;
  }
  auto resolved = resolve_packet(*spec, view, "command line", 0);
  if (!resolved) {
    cli::print_error(kProg, resolved.error());
    return cli::kUsage;
  }
  const CheckResult result = tables.evaluate(resolved->packet);
  const CheckAnswer answer{&*spec, &*resolved, &result, nullptr};
  const bool trace = !o.quiet;
  cli::write_stdout(o.json ? render_check_json(answer, trace, o.pretty) : render_check_text(answer, trace));
  return exit_of(result.verdict);
}

int sg_check(const Options &o) {
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
  if (!o.json)
    for (const auto &warning : view.warnings)
      cli::print_warning(kProg, warning);
  const CheckTables tables(reading->snapshot, view);
  if (!o.vm.empty()) {
    auto summary = summarize_reach(tables, view, o.vm);
    if (!summary) {
      cli::print_error(kProg, summary.error());
      return cli::kUsage;
    }
    cli::write_stdout(o.json ? render_reach_json(*summary, o.pretty) : render_reach_text(*summary));
    return cli::kOk;
  }
  if (!o.batch.empty()) {
    auto text = read_input_file(o.batch);
    if (!text) {
      cli::print_error(kProg, text.error());
      return cli::kUsage;
    }
    const std::string source = o.batch == "-" ? "stdin" : o.batch;
    const BatchOutput out = check_batch(*text, source, tables, view, o.json, false);
    cli::write_stdout(out.text);
    return out.errors || out.unknown ? 2 : out.dropped ? 1 : 0;
  }
  return one_packet(o, tables, view);
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  CLI::App app{"Would this packet pass the bridge firewall of this host, and which rule decides: "
               "ebtables, then iptables (IPv4) or arptables (ARP), rule by rule.",
               kProg};
  cli::add_version(app, kProg);
  app.footer("Exit status: 0 passes, 1 dropped, 2 unknown (a match that cannot be evaluated), "
             "usage or input error.  See sg-check(8).");
  app.add_option("service", o.service, "tcp/PORT, udp/PORT, icmp[/TYPE], arp[/request|reply] or a protocol number")
      ->type_name("SERVICE");
  auto *packet = app.add_option_group("Packet");
  auto key = [&](const char *flags, const char *name, const char *help, const char *type) {
    return packet->add_option_function<std::string>(
        flags, [&o, name](const std::string &value) { o.packet.emplace_back(name, value); }, help)
        ->type_name(type);
  };
  key("-s,--src", "from", "Source: VM name, VIF or IP address", "VM|VIF|IP");
  key("-d,--dst", "to", "Destination: VM name, VIF or IP address", "VM|VIF|IP");
  key("--proto", "proto", "tcp, udp, icmp, arp or a protocol number (default tcp)", "PROTO");
  key("--sport", "sport", "Source port (default 40000)", "PORT");
  key("--dport", "dport", "Destination port", "PORT");
  key("--icmp", "icmp", "ICMP type[/code] or name (default echo-request)", "TYPE");
  key("--arp", "arp", "ARP request or reply", "OP");
  key("--src-ip", "src-ip", "Source address instead of the source's own (a spoof)", "IP");
  key("--dst-ip", "dst-ip", "Destination address instead of the destination's own", "IP");
  key("--src-mac", "src-mac", "Source MAC instead of the source VM's own", "MAC");
  key("--dst-mac", "dst-mac", "Destination MAC", "MAC");
  key("--in", "in", "The bridge port the frame enters by (default the source's VIF or the uplink)", "IF");
  key("--out", "out", "The bridge port the frame leaves by (default the destination's VIF or the uplink)", "IF");
  key("--bridge", "bridge", "The bridge, for iptables -i/-o matches", "BRIDGE");
  key("--state", "state", "new (default), established or related", "FLOW");
  key("--id", "id", "A label echoed in the answer", "LABEL");

  auto *mode = app.add_option_group("Mode");
  mode->add_option("--vm", o.vm, "Who may reach this VM, on what (no packet)")->type_name("VM");
  mode->add_option("--batch", o.batch, "One packet per line (KEY=VALUE words), one verdict per line")
      ->type_name("FILE|-");
  auto *output = app.add_option_group("Output");
  auto *json = output->add_flag("-j,--json", o.json, "The same as JSON (JSON lines with --batch)");
  output->add_flag("--pretty", o.pretty, "Indent the JSON")->needs(json);
  output->add_flag("-q,--quiet", o.quiet, "The verdict line only, no trace");

  auto *input = app.add_option_group("Input");
  input->add_option("-f,--from", o.from_dir,
                    "Read a snapshot directory (vif-of --capture DIR) instead of the live host")
      ->type_name("DIR");
  input->add_option("--state-dir", o.state_dir, "sg-apply's state directory (default /var/run/cloud)")
      ->type_name("DIR")
      ->envname("VIFWALL_STATE_DIR");
  input->add_option("--iptables", o.iptables, "iptables variant to read: auto, legacy, nft")
      ->check(CLI::IsMember({"auto", "legacy", "nft"}));
  input->add_option("-t,--timeout", o.timeout_seconds, "Seconds each command may take (default 10)")
      ->type_name("SECS")
      ->check(cli::finite_seconds(0.1, 3600.0));

  // For bash completion only.
  app.add_flag("--list-vms", o.list_vms)->group("");
  app.add_flag("--list-keys", o.list_keys)->group("");

  return cli::run(app, argc, argv, [&] {
    if (o.list_keys) {
      std::string out;
      for (const auto &k : kPacketKeys)
        out += k + "=\n";
      cli::write_stdout(out);
      return int(cli::kOk);
    }
    const bool has_packet = !o.packet.empty() || !o.service.empty();
    if (!o.list_vms && (!o.vm.empty() + !o.batch.empty() + has_packet) != 1) {
      cli::print_error(kProg, "expected one of: a packet (--src, --dst, SERVICE), --vm VM, --batch FILE");
      return int(cli::kUsage);
    }
    return sg_check(o);
  });
}
