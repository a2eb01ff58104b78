#include "host.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

namespace {

// Xen's netback gives every dom0-side vif this MAC; it says nothing about
// which guest is behind the interface.
constexpr const char *kNetbackMac = "fe:ff:ff:ff:ff:ff";

std::map<std::string, std::string> bridge_of_ports(const HostInputs &inputs) {
  std::map<std::string, std::string> bridge_of;
  if (inputs.bridges) {
    for (const auto &bridge : *inputs.bridges)
      for (const auto &port : bridge.ports)
        bridge_of[port] = bridge.name;
  }
  // ip link's "master" fills what brctl did not say (or all, without brctl).
  for (const auto &link : inputs.links)
    if (link.master && !bridge_of.count(link.name))
      bridge_of[link.name] = *link.master;
  return bridge_of;
}

std::vector<Bridge> bridges_from_masters(const std::vector<Link> &links) {
  std::vector<Bridge> bridges;
  for (const auto &link : links) {
    if (!link.master)
      continue;
    auto it = std::find_if(bridges.begin(), bridges.end(),
                           [&](const Bridge &b) { return b.name == *link.master; });
    if (it == bridges.end()) {
      bridges.push_back(Bridge{*link.master, "", std::nullopt, {}});
      it = bridges.end() - 1;
    }
    it->ports.push_back(link.name);
  }
  return bridges;
}

// An address as vif-of shows and compares it: IPv6 canonical, IPv4 as
// given; what is not an address stays as the guest agent wrote it.
std::string address_form(const std::string &value) {
  auto valid = validate_ip(value);
  return valid ? *valid : value;
}

// The index of "<device>/ipv4/<n>" and "<device>/ipv6/<n>" entries; "ip" (the
// agent's main IPv4 address) comes first.
std::int64_t entry_order(std::string_view rest) {
  if (rest == "ip")
    return -1;
  const auto slash = rest.rfind('/');
  return parse_i64(rest.substr(slash + 1)).value_or(std::numeric_limits<std::int64_t>::max());
}

void add_once(std::vector<std::string> &to, std::string value) {
  if (std::find(to.begin(), to.end(), value) == to.end())
    to.push_back(std::move(value));
}

// The guest's addresses on NIC `device`, from the VM's `networks` map.
void fill_addresses(HostVif &vif, const std::map<std::string, std::string> &networks) {
  const std::string prefix = std::to_string(vif.device) + "/";
  std::vector<std::tuple<int, std::int64_t, std::string>> found; // family, order, address
  for (const auto &[key, value] : networks) {
    if (!starts_with(key, prefix) || trim(value).empty())
      continue;
    const std::string_view rest = std::string_view(key).substr(prefix.size());
    const bool v6 = starts_with(rest, "ipv6/");
    if (!v6 && rest != "ip" && !starts_with(rest, "ipv4/"))
      continue;
    found.emplace_back(v6 ? 6 : 4, entry_order(rest), address_form(std::string(trim(value))));
  }
  std::sort(found.begin(), found.end());
  for (auto &[family, order, address] : found)
    add_once(family == 6 ? vif.ipv6 : vif.ipv4, std::move(address));
}

} // namespace

HostMap join_host(HostInputs inputs) {
  HostMap host;
  host.elsewhere = std::move(inputs.elsewhere);
  host.this_host = std::move(inputs.this_host);
  const auto bridge_of = bridge_of_ports(inputs);

  // Guest MACs by (vm uuid, device).
  std::map<std::pair<std::string, std::string>, std::string> guest_mac;
  if (inputs.xe_vifs)
    for (const auto &vif : *inputs.xe_vifs)
      if (!vif.mac.empty())
        guest_mac[{vif.vm_uuid, vif.device}] = vif.mac;

  std::map<std::int64_t, std::size_t> vm_of_domid;
  for (auto &vm : inputs.vms) {
    HostVm host_vm;
    host_vm.vm = std::move(vm);
    const auto &dom_id = host_vm.vm.dom_id;
    // A halted VM keeps dom-id -1; two running VMs never share a domid, but
    // a stale record might: the first one wins, as xe lists them.
    if (dom_id && *dom_id >= 0 && !vm_of_domid.count(*dom_id))
      vm_of_domid[*dom_id] = host.vms.size();
    host.vms.push_back(std::move(host_vm));
  }

  for (const auto &link : inputs.links) {
    if (link.name_truncated)
      host.warnings.push_back("interface name \"" + link.name +
                              "\" was cut to 9 characters by ifconfig; read `ip link` "
                              "output instead to map it");
    const auto vif_name = parse_vif_name(link.name);
    if (!vif_name)
      continue;
    HostVif vif;
    vif.name = link.name;
    vif.kind = vif_name->kind;
    vif.dom_id = vif_name->dom_id;
    vif.device = vif_name->device;
    if (auto it = bridge_of.find(link.name); it != bridge_of.end())
      vif.bridge = it->second;
    vif.mac = link.mac;
    vif.mtu = link.mtu;
    vif.state = link.state;
    vif.rx = link.rx;
    vif.tx = link.tx;
    auto owner = vm_of_domid.find(vif.dom_id);
    if (owner == vm_of_domid.end()) {
      host.orphans.push_back(std::move(vif));
      continue;
    }
    auto &vm = host.vms[owner->second];
    if (auto it = guest_mac.find({vm.vm.uuid, std::to_string(vif.device)});
        it != guest_mac.end())
      vif.guest_mac = it->second;
    fill_addresses(vif, vm.vm.networks);
    vm.vifs.push_back(std::move(vif));
  }

  auto by_device = [](const HostVif &a, const HostVif &b) {
    if (a.device != b.device)
      return a.device < b.device;
    return a.kind == VifKind::vif && b.kind == VifKind::tap;
  };
  for (auto &vm : host.vms)
    std::stable_sort(vm.vifs.begin(), vm.vifs.end(), by_device);
  std::stable_sort(host.orphans.begin(), host.orphans.end(),
                   [&](const HostVif &a, const HostVif &b) {
                     if (a.dom_id != b.dom_id)
                       return a.dom_id < b.dom_id;
                     return by_device(a, b);
                   });

  host.bridges = inputs.bridges ? std::move(*inputs.bridges)
                                : bridges_from_masters(inputs.links);
  host.links = std::move(inputs.links);
  return host;
}

Result<std::vector<const HostVm *>> find_vms(const HostMap &host,
                                             const std::string &key) {
  std::vector<const HostVm *> found;
  for (const auto &vm : host.vms)
    if (vm.vm.name_label == key || vm.vm.uuid == key)
      found.push_back(&vm);
  if (!found.empty())
    return found;
  const std::string lower = to_lower(key);
  const bool could_be_prefix =
      lower.size() >= 4 &&
      lower.find_first_not_of("0123456789abcdef-") == std::string::npos;
  if (!could_be_prefix)
    return found;
  for (const auto &vm : host.vms)
    if (starts_with(to_lower(vm.vm.uuid), lower))
      found.push_back(&vm);
  if (found.size() > 1) {
    std::string names;
    for (const auto *vm : found)
      names += (names.empty() ? "" : ", ") + vm->vm.uuid + " (" + vm->vm.name_label + ")";
    return fail("uuid prefix " + quote_for_error(key) + " is ambiguous: " + names);
  }
  return found;
}

std::vector<const Vm *> find_vms_elsewhere(const HostMap &host, const std::string &key) {
  std::vector<const Vm *> found;
  const std::string lower = to_lower(key);
  const bool could_be_prefix =
      lower.size() >= 4 && lower.find_first_not_of("0123456789abcdef-") == std::string::npos;
  for (const auto &vm : host.elsewhere)
    if (vm.name_label == key || vm.uuid == key ||
        (could_be_prefix && starts_with(to_lower(vm.uuid), lower)))
      found.push_back(&vm);
  return found;
}

std::vector<const HostVm *> find_vms_by_domid(const HostMap &host, std::int64_t dom_id) {
  std::vector<const HostVm *> found;
  for (const auto &vm : host.vms)
    if (vm.vm.dom_id == dom_id)
      found.push_back(&vm);
  return found;
}

std::optional<IfaceOwner> find_iface(const HostMap &host, const std::string &name) {
  for (const auto &vm : host.vms)
    for (const auto &vif : vm.vifs)
      if (vif.name == name)
        return IfaceOwner{&vm, &vif};
  for (const auto &vif : host.orphans)
    if (vif.name == name)
      return IfaceOwner{nullptr, &vif};
  for (const auto &link : host.links)
    if (link.name == name)
      return IfaceOwner{};
  return std::nullopt;
}

std::vector<IfaceOwner> find_mac(const HostMap &host, const std::string &mac) {
  std::vector<IfaceOwner> found;
  const auto wanted = normalize_mac(mac);
  if (!wanted)
    return found;
  auto matches = [&](const HostVif &vif) {
    if (vif.guest_mac)
      return *vif.guest_mac == *wanted;
    return vif.mac && *vif.mac == *wanted && *vif.mac != kNetbackMac;
  };
  for (const auto &vm : host.vms)
    for (const auto &vif : vm.vifs)
      if (matches(vif))
        found.push_back(IfaceOwner{&vm, &vif});
  for (const auto &vif : host.orphans)
    if (matches(vif))
      found.push_back(IfaceOwner{nullptr, &vif});
  return found;
}

std::vector<const HostVm *> find_ip(const HostMap &host, const std::string &ip) {
  std::vector<const HostVm *> found;
  const std::string wanted = address_form(ip);
  for (const auto &vm : host.vms)
    for (const auto &[key, value] : vm.vm.networks)
      if (address_form(std::string(trim(value))) == wanted) {
        found.push_back(&vm);
        break;
      }
  return found;
}

} // namespace vifwall
