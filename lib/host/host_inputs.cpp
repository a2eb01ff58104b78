#include "host_inputs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "file_util.hpp"
#include "parse_brctl.hpp"
#include "parse_ifconfig.hpp"
#include "parse_inventory.hpp"
#include "parse_ip_json.hpp"
#include "parse_ip_link.hpp"
#include "parse_xe.hpp"
#include "text.hpp"

namespace vifwall {

const std::vector<std::string> kLinkSnapshotNames = {
    "ip-j-s-link.json", "ip-s-s-link", "ip-s-link", "ip-d-link", "ip-link", "ip-o-link",
    "ip-j-link.json",   "ifconfig-a", "ifconfig"};
const std::vector<std::string> kBridgeSnapshotNames = {"brctl-show", "bridge-link"};

Result<std::vector<Link>> parse_links(const std::string &text, const std::string &source) {
  if (looks_like_json_array(text))
    return parse_ip_link_json(text, source);
  if (looks_like_ip_link(text))
    return parse_ip_link(text, source);
  if (looks_like_ifconfig(text))
    return parse_ifconfig(text, source);
  if (is_blank(clean_text(text)))
    return std::vector<Link>{};
  std::size_t line = 1;
  const std::string cleaned = clean_text(text); // the lines below point into it
  for (const auto &l : split_lines(cleaned))
    if (!is_blank(l.text)) {
      line = l.number;
      break;
    }
  return fail(source, line,
              "expected interface listings from `ip link`, `ip -s link`, `ip -o link`, "
              "`ip -j link` or `ifconfig`, got something else");
}

Result<std::vector<Bridge>> parse_bridges(const std::string &text, const std::string &source) {
  if (looks_like_bridge_link(text))
    return parse_bridge_link(text, source);
  return parse_brctl_show(text, source);
}

std::vector<InputText> HostTexts::present() const {
  std::vector<InputText> out{vm_list};
  for (const auto *text : {&vif_list, &bridges, &inventory})
    if (*text)
      out.push_back(**text);
  out.insert(out.begin() + (vif_list ? 2 : 1), links);
  return out;
}

bool split_by_host(std::vector<Vm> &vms, std::vector<Vm> &elsewhere, const std::string &this_host) {
  const bool placed = !this_host.empty() &&
                      std::any_of(vms.begin(), vms.end(), [](const Vm &vm) {
                        return vm.resident_on.has_value();
                      });
  if (!placed)
    return false;
  std::vector<Vm> here;
  for (auto &vm : vms) {
    const bool away = vm.resident_on && !vm.resident_on->empty() &&
                      to_lower(*vm.resident_on) != this_host;
    (away ? elsewhere : here).push_back(std::move(vm));
  }
  vms = std::move(here);
  return true;
}

Result<void> keep_local_vms(std::vector<Vm> &vms, std::vector<Vm> &elsewhere,
                            const std::string &this_host, const std::string &source) {
  if (split_by_host(vms, elsewhere, this_host))
    return {};
  // No way to tell members apart: refuse a dom-id that two running VMs share.
  std::map<std::int64_t, std::vector<const Vm *>> by_domid;
  for (const auto &vm : vms)
    if (vm.dom_id && *vm.dom_id >= 0)
      by_domid[*vm.dom_id].push_back(&vm);
  std::string clashes;
  for (const auto &[dom_id, owners] : by_domid) {
    if (owners.size() < 2)
      continue;
    std::string names;
    for (const Vm *vm : owners)
      names += (names.empty() ? "" : ", ") + quote_for_error(vm->name_label) + " (" + vm->uuid +
               (vm->resident_on && !vm->resident_on->empty() ? ", on host " + *vm->resident_on : "") +
               ")";
    // One line per dom-id: a pool's list can name many, and each stays readable.
    clashes += "\n  dom-id " + std::to_string(dom_id) + " is " + names;
  }
  if (clashes.empty())
    return {};
  return fail(source, 0,
              "expected one running VM per dom-id, got the VM list of a pool and no way to "
              "tell which VMs run on this host (give xensource-inventory and `resident-on`: "
              "`vif-of --capture` on the host saves both):" +
                  clashes);
}

Result<std::string> this_host_of(const std::optional<InputText> &inventory) {
  // An inventory without a single KEY=VALUE line says nothing about this host
  // (the simulator leaves such a placeholder in the root namespace, as the
  // target its members' inventories are mounted over): read as absent.
  if (!inventory || inventory_is_empty(inventory->text))
    return std::string();
  return installation_uuid(inventory->text, inventory->source);
}

bool is_running(const Vm &vm) {
  if (!vm.power_state.empty())
    return vm.power_state == "running" || vm.power_state == "paused";
  return vm.dom_id && *vm.dom_id >= 0;
}

LocalVms local_vms_of(std::vector<Vm> vms, const std::string &this_host) {
  LocalVms out;
  out.this_host = this_host;
  out.located = split_by_host(vms, out.elsewhere, this_host);
  for (auto &vm : vms)
    if (is_running(vm))
      out.running_here.push_back(std::move(vm));
  return out;
}

Result<LocalVms> local_vms_of_texts(const InputText &vm_list,
                                    const std::optional<InputText> &inventory) {
  auto vms = parse_xe_vm_list(vm_list.text, vm_list.source);
  if (!vms)
    return tl::unexpected(vms.error());
  auto this_host = this_host_of(inventory);
  if (!this_host)
    return tl::unexpected(this_host.error());
  return local_vms_of(std::move(*vms), *this_host);
}

std::vector<std::string> LocalVms::names() const {
  std::vector<std::string> out;
  for (const auto &vm : running_here)
    out.push_back(vm.name_label);
  return out;
}

Result<HostInputs> parse_host_texts(const HostTexts &texts) {
  HostInputs inputs;
  auto vms = parse_xe_vm_list(texts.vm_list.text, texts.vm_list.source);
  if (!vms)
    return tl::unexpected(vms.error());
  inputs.vms = std::move(*vms);
  auto this_host = this_host_of(texts.inventory);
  if (!this_host)
    return tl::unexpected(this_host.error());
  inputs.this_host = std::move(*this_host);
  if (auto local = keep_local_vms(inputs.vms, inputs.elsewhere, inputs.this_host,
                                  texts.vm_list.source);
      !local)
    return tl::unexpected(local.error());
  if (texts.vif_list) {
    auto vifs = parse_xe_vif_list(texts.vif_list->text, texts.vif_list->source);
    if (!vifs)
      return tl::unexpected(vifs.error());
    inputs.xe_vifs = std::move(*vifs);
  }
  auto links = parse_links(texts.links.text, texts.links.source);
  if (!links)
    return tl::unexpected(links.error());
  inputs.links = std::move(*links);
  if (texts.bridges) {
    auto bridges = parse_bridges(texts.bridges->text, texts.bridges->source);
    if (!bridges)
      return tl::unexpected(bridges.error());
    inputs.bridges = std::move(*bridges);
  }
  return inputs;
}

namespace {

bool file_exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// DIR/NAME or DIR/NAME.txt, whichever exists.
std::optional<std::string> snapshot_file(const std::string &dir, const std::string &name) {
  for (const auto &candidate : {dir + "/" + name, dir + "/" + name + ".txt"})
    if (file_exists(candidate))
      return candidate;
  return std::nullopt;
}

Result<InputText> read_named(const std::string &path, const std::string &name) {
  auto text = read_input_file(path);
  if (!text)
    return tl::unexpected(text.error());
  return InputText{std::move(*text), path, name};
}

std::string names_list(const std::vector<std::string> &names) {
  std::string out;
  for (const auto &name : names)
    out += (out.empty() ? "" : ", ") + name;
  return out;
}

} // namespace

Result<HostTexts> read_snapshot_dir(const std::string &dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(dir, 0, "not a snapshot directory (it does not exist or is not a directory)");
  HostTexts texts;
  auto vm_list = snapshot_file(dir, "xe-vm-list");
  if (!vm_list)
    return fail(dir, 0, "snapshot has no xe-vm-list (the output of `xe vm-list "
                        "params=uuid,name-label,power-state,dom-id`)");
  auto vms = read_named(*vm_list, "xe-vm-list");
  if (!vms)
    return tl::unexpected(vms.error());
  texts.vm_list = std::move(*vms);
  if (auto vif_list = snapshot_file(dir, "xe-vif-list")) {
    auto vifs = read_named(*vif_list, "xe-vif-list");
    if (!vifs)
      return tl::unexpected(vifs.error());
    texts.vif_list = std::move(*vifs);
  }
  bool have_links = false;
  for (const auto &name : kLinkSnapshotNames) {
    if (auto path = snapshot_file(dir, name)) {
      auto links = read_named(*path, name);
      if (!links)
        return tl::unexpected(links.error());
      texts.links = std::move(*links);
      have_links = true;
      break;
    }
  }
  if (!have_links)
    return fail(dir, 0, "snapshot has no interface listing; expected one of " +
                            names_list(kLinkSnapshotNames));
  for (const auto &name : kBridgeSnapshotNames) {
    if (auto path = snapshot_file(dir, name)) {
      auto bridges = read_named(*path, name);
      if (!bridges)
        return tl::unexpected(bridges.error());
      texts.bridges = std::move(*bridges);
      break;
    }
  }
  if (auto path = snapshot_file(dir, "xensource-inventory")) {
    auto inventory = read_named(*path, "xensource-inventory");
    if (!inventory)
      return tl::unexpected(inventory.error());
    texts.inventory = std::move(*inventory);
  }
  return texts;
}

Result<std::string> find_xe(const std::string &explicit_path) {
  if (!explicit_path.empty()) {
    if (auto found = find_program(explicit_path))
      return *found;
    return fail("--xe", 0, quote_for_error(explicit_path) + " is not an executable file");
  }
  if (auto found = find_program("xe", {"/opt/xensource/bin", "/usr/sbin", "/usr/bin"}))
    return *found;
  return fail("xe not found in PATH or /opt/xensource/bin; give --xe PATH, or read a "
              "snapshot with --from DIR");
}

namespace {

Result<InputText> run_for_text(CommandRunner &runner, std::vector<std::string> argv,
                               const LiveOptions &options, std::string display,
                               std::string file_name) {
  Command command{std::move(argv)};
  command.timeout = options.timeout;
  auto output = run_checked(runner, command);
  if (!output)
    return tl::unexpected(output.error());
  return InputText{std::move(output->out), std::move(display), std::move(file_name)};
}

} // namespace

std::string default_inventory_path() {
  const char *path = std::getenv("VIFWALL_INVENTORY");
  return path && *path ? path : "/etc/xensource-inventory";
}

namespace {

// `xe vm-list` with every field the tools read, resident-on included.
Result<InputText> read_vm_list(CommandRunner &runner, const std::string &xe,
                               const LiveOptions &options) {
  return run_for_text(runner,
                      {xe, "vm-list", "params=uuid,name-label,power-state,dom-id,networks,resident-on"},
                      options, "xe vm-list", "xe-vm-list");
}

// A file, not a command: which pool member this is.  Missing off Xen.
Result<std::optional<InputText>> read_inventory(const LiveOptions &options) {
  if (options.inventory.empty() || ::access(options.inventory.c_str(), F_OK) != 0)
    return std::optional<InputText>();
  auto inventory = read_input_file(options.inventory);
  if (!inventory)
    return tl::unexpected(inventory.error());
  return std::optional<InputText>(
      InputText{std::move(*inventory), options.inventory, "xensource-inventory"});
}

} // namespace

Result<LocalVms> read_local_vms(CommandRunner &runner, const LiveOptions &options) {
  auto xe = find_xe(options.xe);
  if (!xe)
    return tl::unexpected(xe.error());
  auto vm_list = read_vm_list(runner, *xe, options);
  if (!vm_list)
    return tl::unexpected(vm_list.error());
  auto inventory = read_inventory(options);
  if (!inventory)
    return tl::unexpected(inventory.error());
  return local_vms_of_texts(*vm_list, *inventory);
}

Result<std::vector<XeVif>> read_guest_macs(CommandRunner &runner, const LiveOptions &options) {
  auto xe = find_xe(options.xe);
  if (!xe)
    return tl::unexpected(xe.error());
  auto text = run_for_text(runner, {*xe, "vif-list", "params=uuid,vm-uuid,device,MAC"}, options,
                           "xe vif-list", "xe-vif-list");
  if (!text)
    return tl::unexpected(text.error());
  return parse_xe_vif_list(text->text, text->source);
}

Result<HostTexts> read_live(CommandRunner &runner, const LiveOptions &options) {
  auto xe = find_xe(options.xe);
  if (!xe)
    return tl::unexpected(xe.error());
  HostTexts texts;
  auto vms = read_vm_list(runner, *xe, options);
  if (!vms)
    return tl::unexpected(vms.error());
  texts.vm_list = std::move(*vms);
  auto vifs = run_for_text(runner,
                           {*xe, "vif-list",
                            "params=uuid,vm-uuid,vm-name-label,device,MAC,MTU,network-uuid,"
                            "network-name-label"},
                           options, "xe vif-list", "xe-vif-list");
  if (!vifs)
    return tl::unexpected(vifs.error());
  texts.vif_list = std::move(*vifs);

  // CentOS 7's ip has no -j; `ip -s link` works on every dom0 generation.
  std::optional<Result<InputText>> links;
  if (auto ip = find_program("ip"))
    links = run_for_text(runner, {*ip, "-s", "link"}, options, "ip -s link", "ip-s-link");
  else if (auto ifconfig = find_program("ifconfig"))
    links = run_for_text(runner, {*ifconfig, "-a"}, options, "ifconfig -a", "ifconfig");
  else
    return fail("neither `ip` nor `ifconfig` found in PATH, /usr/sbin or /sbin");
  if (!*links)
    return tl::unexpected(links->error());
  texts.links = std::move(**links);

  if (auto brctl = find_program("brctl")) {
    auto bridges = run_for_text(runner, {*brctl, "show"}, options, "brctl show", "brctl-show");
    if (!bridges)
      return tl::unexpected(bridges.error());
    texts.bridges = std::move(*bridges);
  } else if (auto bridge = find_program("bridge")) {
    auto bridges = run_for_text(runner, {*bridge, "link"}, options, "bridge link", "bridge-link");
    if (!bridges)
      return tl::unexpected(bridges.error());
    texts.bridges = std::move(*bridges);
  }

  auto inventory = read_inventory(options);
  if (!inventory)
    return tl::unexpected(inventory.error());
  texts.inventory = std::move(*inventory);
  return texts;
}

} // namespace vifwall
