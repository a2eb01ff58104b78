// vif-of: which interfaces and bridges does a VM use, and which VM owns an
// interface, MAC or IP.  This file only wires the command line to lib/.
#include <algorithm>
#include <cstdio>

#include "cli_common.hpp"
#include "exec.hpp"
#include "firewall_snapshot.hpp"
#include "host_inputs.hpp"
#include "host_print.hpp"
#include "name_cache.hpp"
#include "parse_xe.hpp"
#include "pool_vifs.hpp"
#include "vif_query.hpp"

using namespace vifwall;

namespace {

const char *const kProg = "vif-of";

struct Options {
  VifQuery query;
  bool json = false;
  bool pretty = false;
  TableOptions table;
  std::string from_dir;
  std::string vm_list_file, vif_list_file, links_file, bridges_file;
  std::string xe;
  double timeout_seconds = 10;
  std::string capture_dir;
  bool list_vms = false;
  std::string list_values_of; // --list-vm-values NAME
  int cache_ttl = 30;
  bool pool = false;
};

// Some pool member did not answer (down, no plugin, its vif-of failed):
// the answer is partial.
constexpr int kPartial = 3;

bool any_file_input(const Options &o) {
  return !o.from_dir.empty() || !o.vm_list_file.empty() || !o.links_file.empty() ||
         !o.bridges_file.empty() || !o.vif_list_file.empty();
}

Result<InputText> file_text(const std::string &path, const std::string &name) {
  auto text = read_input_file(path);
  if (!text)
    return tl::unexpected(text.error());
  return InputText{std::move(*text), path == "-" ? "<stdin>" : path, name};
}

// --from DIR, then single files on top (a file given by name wins).
Result<HostTexts> captured_texts(const Options &o) {
  HostTexts texts;
  if (!o.from_dir.empty()) {
    auto from = read_snapshot_dir(o.from_dir);
    if (!from)
      return tl::unexpected(from.error());
    texts = std::move(*from);
  } else if (o.vm_list_file.empty() || o.links_file.empty()) {
    return fail("without --from DIR, both --xe-vm-list FILE and --links FILE are needed");
  }
  struct Override {
    const std::string &path;
    const char *name;
    std::function<void(InputText)> set;
  };
  const Override overrides[] = {
      {o.vm_list_file, "xe-vm-list", [&](InputText t) { texts.vm_list = std::move(t); }},
      {o.vif_list_file, "xe-vif-list", [&](InputText t) { texts.vif_list = std::move(t); }},
      {o.links_file, "links", [&](InputText t) { texts.links = std::move(t); }},
      {o.bridges_file, "bridges", [&](InputText t) { texts.bridges = std::move(t); }},
  };
  for (const auto &override : overrides) {
    if (override.path.empty())
      continue;
    auto text = file_text(override.path, override.name);
    if (!text)
      return tl::unexpected(text.error());
    override.set(std::move(*text));
  }
  return texts;
}

LiveOptions live_options(const Options &o) {
  LiveOptions live;
  live.xe = o.xe;
  live.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_seconds * 1000));
  return live;
}

// Hidden --list-vms and --list-vm-values NAME for bash completion: the
// running VMs of this host with their addresses and MACs, cached and
// refreshed at most every --cache-ttl seconds with a short xe timeout; a
// stale list beats a TAB that hangs.
Result<std::vector<CachedVm>> completion_vms(const Options &o) {
  if (any_file_input(o)) {
    auto texts = captured_texts(o);
    if (!texts)
      return tl::unexpected(texts.error());
    auto local = local_vms_of_texts(texts->vm_list, texts->inventory);
    if (!local)
      return tl::unexpected(local.error());
    std::optional<std::vector<XeVif>> vifs;
    if (texts->vif_list)
      if (auto parsed = parse_xe_vif_list(texts->vif_list->text, texts->vif_list->source))
        vifs = std::move(*parsed);
    return cached_vms_of(local->running_here, vifs ? &*vifs : nullptr);
  }
  const std::string path = default_name_cache_path();
  auto cached = read_name_cache(path);
  if (cached && cached->age.count() < o.cache_ttl)
    return cached->vms;
  // This host's running VMs only: xe answers for the whole pool.
  auto runner = make_process_runner();
  LiveOptions live = live_options(o);
  live.timeout = std::chrono::seconds(2);
  if (auto local = read_local_vms(*runner, live)) {
    auto vifs = read_guest_macs(*runner, live);
    auto fresh = cached_vms_of(local->running_here, vifs ? &*vifs : nullptr);
    write_name_cache(path, fresh);
    return fresh;
  }
  return cached ? cached->vms : std::vector<CachedVm>{};
}

// The VM names, one a line.
std::string vm_name_lines(const std::vector<CachedVm> &vms) {
  std::string out;
  for (const auto &vm : vms)
    out += vm.name + "\n";
  return out;
}

// "vm-id 3", "ip 10.1.1.2", "mac 06:f8:c8:00:00:09": one value a line, what
// completion offers after --vm-id, --ip and --mac once --vm NAME is given.
std::string vm_value_lines(const std::vector<CachedVm> &vms, const std::string &name) {
  std::string out;
  if (auto id = cloudstack_vm_id(name))
    out += "vm-id " + *id + "\n";
  for (const auto &vm : vms) {
    if (vm.name != name)
      continue;
    for (const auto &ip : vm.ips)
      out += "ip " + ip + "\n";
    for (const auto &mac : vm.macs)
      out += "mac " + mac + "\n";
  }
  return out;
}

// --list-vms or --list-vm-values NAME.
int list_for_completion(const Options &o) {
  auto vms = completion_vms(o);
  if (!vms) {
    cli::print_error(kProg, vms.error());
    return cli::kUsage;
  }
  cli::write_stdout(o.list_vms ? vm_name_lines(*vms) : vm_value_lines(*vms, o.list_values_of));
  return cli::kOk;
}

// vif-of --pool: the same selection on every member, through the vifwall
// XAPI plugin; one table (HOST first) or one JSON document.
int vif_of_pool(const Options &o) {
  if (any_file_input(o) || !o.capture_dir.empty()) {
    cli::print_error(kProg, "--pool asks the live pool; it cannot be combined with --from, "
                            "input files or --capture");
    return cli::kUsage;
  }
  auto args = pool_vif_args(o.query);
  if (!args) {
    cli::print_error(kProg, args.error());
    return cli::kUsage;
  }
  PoolOptions pool;
  pool.xe = o.xe;
  pool.timeout = pool_timeout(o.timeout_seconds);
  auto runner = make_process_runner();
  auto answers = ask_pool(*runner, pool, "vifwall", "vif_of", *args);
  if (!answers) {
    cli::print_error(kProg, answers.error());
    return cli::kUsage;
  }
  const auto merged = merge_pool_vifs(std::move(*answers), o.query);
  for (const auto &failure : merged->failures)
    cli::print_warning(kProg, "pool member " + failure);
  for (const auto &message : merged->not_found)
    cli::print_error(kProg, message);
  if (o.json)
    cli::write_stdout(render_pool_vif_json(*merged, o.pretty));
  else if (!merged->selection.rows.empty())
    cli::write_stdout(render_vif_table(merged->selection, o.table));
  if (!merged->failures.empty())
    return kPartial;
  return merged->not_found.empty() ? cli::kOk : cli::kNotFound;
}

int vif_of(const Options &o) {
  if (o.list_vms || !o.list_values_of.empty())
    return list_for_completion(o);
  const bool selecting = o.query.all || !o.query.vms.empty() || !o.query.domids.empty() ||
                         !o.query.ifaces.empty() || !o.query.macs.empty() ||
                         !o.query.ips.empty() || !o.query.bridges.empty();
  if (o.pool && !selecting) {
    cli::print_error(kProg, "--pool: nothing to look up: name a VM, or use --all, --domid, "
                            "--iface, --mac, --ip or --bridge");
    return cli::kUsage;
  }
  if (o.pool)
    return vif_of_pool(o);
  if (!selecting && o.capture_dir.empty()) {
    cli::print_error(kProg, "nothing to look up: name a VM, or use --all, --domid, --iface, "
                            "--mac, --ip, --bridge or --capture DIR");
    return cli::kUsage;
  }

  Result<HostTexts> texts = fail("");
  if (any_file_input(o)) {
    if (!o.capture_dir.empty()) {
      cli::print_error(kProg, "--capture reads the live host; it cannot be combined with --from "
                              "or input files");
      return cli::kUsage;
    }
    texts = captured_texts(o);
  } else {
    auto runner = make_process_runner();
    texts = read_live(*runner, live_options(o));
  }
  if (!texts) {
    cli::print_error(kProg, texts.error());
    return cli::kUsage;
  }

  if (!o.capture_dir.empty()) {
    // xensource-inventory too: which pool member the snapshot is of.
    std::vector<InputText> files = texts->present();
    // The firewall dumps too, for sg-show / sg-diff --from DIR.  A dump
    // tool that is missing or fails is left out with a warning.
    auto runner = make_process_runner();
    CaptureOptions firewall_options;
    firewall_options.timeout = live_options(o).timeout;
    const FirewallTexts firewall = capture_firewall(*runner, firewall_options);
    for (const auto &warning : firewall.warnings)
      cli::print_warning(kProg, warning);
    for (const auto &text : firewall.present())
      files.push_back(text);
    auto written = write_snapshot(o.capture_dir, files);
    if (!written) {
      cli::print_error(kProg, written.error());
      return cli::kUsage;
    }
    for (const auto &path : *written)
      std::fprintf(stderr, "%s: wrote %s\n", kProg, path.c_str());
    if (!selecting)
      return cli::kOk;
  }

  auto inputs = parse_host_texts(*texts);
  if (!inputs) {
    cli::print_error(kProg, inputs.error());
    return cli::kUsage;
  }
  const HostMap host = join_host(std::move(*inputs));
  for (const auto &warning : host.warnings)
    cli::print_warning(kProg, warning);

  auto answer = run_query(host, o.query);
  if (!answer) {
    cli::print_error(kProg, answer.error());
    return cli::kUsage;
  }
  for (const auto &message : answer->not_found)
    cli::print_error(kProg, message);

  if (o.json) {
    cli::write_stdout(render_vif_json(answer->selection, o.pretty));
  } else if (!answer->selection.rows.empty()) {
    cli::write_stdout(render_vif_table(answer->selection, o.table));
  }
  return answer->not_found.empty() ? cli::kOk : cli::kNotFound;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  CLI::App app{"Map Xen VMs to their virtual interfaces and bridges, and interfaces, MACs "
               "and IPs back to VMs.",
               kProg};
  cli::add_version(app, kProg);
  app.footer("Exit status: 0 found, 1 not found, 2 usage or input error, 3 (--pool) some "
             "member did not answer.  See vif-of(8).");

  app.add_option("vm", o.query.vms, "VM name-label, uuid, or unique uuid prefix")
      ->type_name("VM");
  auto *select = app.add_option_group("Selection");
  select->add_flag("-a,--all", o.query.all, "Every VM, and orphan interfaces");
  select->add_option("-d,--domid", o.query.domids, "VM by Xen domain id")
      ->type_name("N")
      ->check(cli::number_in(0, 32767)); // a Xen domain id: 15 bits
  select->add_option("-i,--iface", o.query.ifaces, "Which VM owns this interface")
      ->type_name("NAME");
  select->add_option("-m,--mac", o.query.macs, "Which VM has this guest MAC")->type_name("MAC");
  select->add_option("--ip", o.query.ips, "Which VM reports this IP (guest metrics)")
      ->type_name("IP");
  select->add_option("-b,--bridge", o.query.bridges, "What is on this bridge")
      ->type_name("BR");

  auto *output = app.add_option_group("Output");
  auto *json = output->add_flag("-j,--json", o.json, "JSON instead of the table");
  output->add_flag("-p,--pretty", o.pretty, "Indent the JSON")->needs(json);
  output->add_flag("-x,--exact", o.table.exact, "Exact counters instead of 2.4k / 244K");
  output->add_flag("-w,--wide", o.table.wide, "Never shorten VM names");

  auto *input = app.add_option_group("Input");
  input->add_option("-f,--from", o.from_dir, "Read a snapshot directory instead of the live host")
      ->type_name("DIR");
  input->add_option("--xe-vm-list", o.vm_list_file, "Output of xe vm-list ('-' for stdin)")
      ->type_name("FILE");
  input->add_option("--xe-vif-list", o.vif_list_file, "Output of xe vif-list (guest MACs)")
      ->type_name("FILE");
  input->add_option("--links", o.links_file, "Output of ip [-s] link, ip -o link, ip -j link or ifconfig")
      ->type_name("FILE");
  input->add_option("--bridges", o.bridges_file, "Output of brctl show or bridge link")
      ->type_name("FILE");
  input->add_option("--xe", o.xe, "Path of xe (default: PATH, then /opt/xensource/bin)")
      ->type_name("PATH")
      ->envname("VIFWALL_XE");
  input->add_option("-t,--timeout", o.timeout_seconds, "Seconds each command may take (default 10)")
      ->type_name("SECS")
      ->check(cli::finite_seconds(0.1, 3600.0));
  input->add_flag("--pool", o.pool,
                  "Ask every pool member (xe host-call-plugin, the vifwall plugin); adds a HOST column");
  input->add_option("--capture", o.capture_dir, "Save the live host's outputs (and firewall dumps) as a snapshot in DIR")
      ->type_name("DIR");

  // For bash completion only.
  app.add_flag("--list-vms", o.list_vms)->group("");
  app.add_option("--list-vm-values", o.list_values_of)->group("");
  app.add_option("--cache-ttl", o.cache_ttl)->group("")->check(cli::number_in(0, 86400));

  return cli::run(app, argc, argv, [&] { return vif_of(o); });
}
