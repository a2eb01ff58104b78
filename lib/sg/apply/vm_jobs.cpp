// Preparing jobs: CloudStack's vmops (default, rules, systemvm, destroy,
// secondary IPs) as VmJobs, every value validated and the VIFs resolved
// before anything touches the firewall.  SgApplier::run (sg_apply.cpp)
// applies them.
#include <algorithm>
#include <functional>

#include "applier_impl.hpp"
#include "bridge_sysctls.hpp"
#include "host_inputs.hpp"
#include "sg_desired.hpp"
#include "sg_names.hpp"
#include "state_files.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

using apply_detail::load_rule_log;
using apply_detail::load_vm_state;
using apply_detail::check_bridge_ip6tables;

namespace {

struct ResolvedVm {
  std::int64_t dom_id = -1;
  std::vector<std::string> vifs;
  int device = 0; // the user VM's NIC whose VIFs these are
};
// The VIFs of the running VM named `vm_name`, from the live host (xe and the
// interface listings): a system VM's every vif, a user VM's device
// `device` (vif and tap).  With `guest_mac`, the device is the one xe says
// has that MAC, when there is one: CloudStack calls default_network_rules
// once per NIC with that NIC's MAC, and its own plugin programmed each of
// them onto device 0 ("the last NIC wins").
Result<ResolvedVm> resolve_vifs(SgApplier::Impl &impl, const std::string &vm_name, bool system,
                                int device = 0, const std::string &guest_mac = "") {
  LiveOptions live_options;
  live_options.xe = impl.options.xe;
  live_options.timeout = impl.options.command_timeout;
  auto texts = read_live(impl.runner, live_options);
  if (!texts)
    return fail("cannot find " + vm_name + "'s interfaces on this host (give --vif): " +
                texts.error().str());
  auto inputs = parse_host_texts(*texts);
  if (!inputs)
    return tl::unexpected(inputs.error());
  const HostMap host = join_host(std::move(*inputs));
  const HostVm *found = nullptr;
  for (const auto &vm : host.vms)
    if (vm.vm.name_label == vm_name) {
      if (found)
        return fail("more than one VM is named " + quote_for_error(vm_name) + "; give --vif");
      found = &vm;
    }
  if (!found) {
    for (const auto &vm : host.elsewhere)
      if (vm.name_label == vm_name)
        return fail("VM " + quote_for_error(vm_name) + " runs on pool member " +
                    vm.resident_on.value_or("?") + ", not on this host (" + host.this_host +
                    "): program it there");
    return fail("no VM named " + quote_for_error(vm_name) + " on this host (xe vm-list)");
  }
  if (!found->vm.dom_id || *found->vm.dom_id < 0)
    return fail("VM " + quote_for_error(vm_name) + " is not running (dom-id -1)");
  ResolvedVm resolved;
  resolved.dom_id = *found->vm.dom_id;
  if (!system && !guest_mac.empty())
    for (const auto &vif : found->vifs)
      if (vif.guest_mac && validate_mac(*vif.guest_mac).value_or("") == guest_mac)
        device = static_cast<int>(vif.device);
  resolved.device = device;
  for (const auto &vif : found->vifs) {
    if (system ? vif.kind == VifKind::vif : vif.device == device)
      resolved.vifs.push_back(vif.name);
  }
  if (resolved.vifs.empty())
    return fail("VM " + quote_for_error(vm_name) + " (dom-id " + std::to_string(resolved.dom_id) +
                ") has no interface vif" + std::to_string(resolved.dom_id) + "." +
                std::to_string(device) + " on this host");
  return resolved;
}

// The VIFs given on the command line, each validated.
Result<std::vector<std::string>> checked_vifs(const std::vector<std::string> &vifs) {
  std::vector<std::string> out;
  for (const auto &vif : vifs) {
    auto ok = validate_iface(vif);
    if (!ok)
      return fail("--vif", 0, ok.error().message);
    out.push_back(*ok);
  }
  return out;
}

// The --ip6 addresses, each validated (canonical form, no duplicates).
Result<std::vector<std::string>> checked_ipv6(const std::vector<std::string> &addresses) {
  std::vector<std::string> out;
  for (const auto &address : addresses) {
    auto ok = validate_ipv6_host(address);
    if (!ok)
      return fail("--ip6", 0, ok.error().message);
    if (std::find(out.begin(), out.end(), *ok) == out.end())
      out.push_back(*ok);
  }
  return out;
}

// A VM's IPv6 needs the host's IPv6 layer (setup --ipv6: without it,
// DEFAULT_EBTABLES drops IPv6 for every VIF and ip6tables has no
// BRIDGE-FIREWALL) and bridged IPv6 passing through ip6tables; without the
// sysctl, ip6tables never sees a bridged packet and nothing would filter
// the VM's IPv6 once the gate lets it through.
Result<void> check_ipv6_ready(const SgOptions &options) {
  const std::string host_path = host_state_path(options.state_dir);
  auto text = read_input_file(host_path);
  auto host = text ? parse_host_state(*text, host_path) : Result<HostSetupState>(tl::unexpected(text.error()));
  if (!host || !host->ipv6)
    return fail(host_path, 0,
                "expected a host set up with `sg-apply setup --ipv6` before a VM gets IPv6 "
                "addresses (without it, IPv6 stays dropped for every VIF)");
  return check_bridge_ip6tables(options.proc_sys);
}

// The dom-id the first VIF names ("-1": none).
std::string dom_id_of(const std::vector<std::string> &vifs) {
  for (const auto &vif : vifs)
    if (auto parsed = parse_vif_name(vif))
      return std::to_string(parsed->dom_id);
  return "-1";
}

// A user VM's identity from the command line: every value validated (by
// rendering the plan once with a placeholder VIF, so a bad IP fails before
// xe is asked anything), then the VIFs looked up when none were given.
Result<VmState> user_vm_state(SgApplier::Impl &impl, const std::string &vm_name, const std::string &vm_id,
                              const std::string &ip, const std::string &mac,
                              const std::vector<std::string> &secondary_ips,
                              const std::vector<std::string> &requested_vifs,
                              const std::vector<SgRule> &rules,
                              const std::vector<std::string> &ipv6 = {},
                              int *mac_device = nullptr) {
  auto name = validate_vm_name(vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  if (is_system_vm(*name))
    return fail("--vm", 0, quote_for_error(*name) + " is a system VM name; use `sg-apply systemvm`");
  if (auto ok = validate_vm_id(vm_id); !ok)
    return fail("--vm-id", 0, ok.error().message);
  if (auto ok = validate_ipv4(ip); !ok)
    return fail("--ip", 0, ok.error().message);
  if (auto ok = validate_mac(mac); !ok)
    return fail("--mac", 0, ok.error().message);
  auto addresses = checked_ipv6(ipv6);
  if (!addresses)
    return tl::unexpected(addresses.error());
  auto vifs = checked_vifs(requested_vifs);
  if (!vifs)
    return tl::unexpected(vifs.error());
  VmState state;
  state.ipv6 = std::move(*addresses);
  state.kind = VmKind::user;
  state.vm_name = *name;
  state.vm_id = vm_id;
  state.ip = ip;
  state.secondary_ips = secondary_ips;
  state.mac = mac;
  state.vifs = vifs->empty() ? std::vector<std::string>{"vif0.0"} : *vifs;
  if (auto probe = plan_for_vm(state, rules, 'a', impl.options.arp_filter); !probe)
    return tl::unexpected(probe.error());
  if (vifs->empty()) {
    auto resolved = resolve_vifs(impl, *name, false, 0, mac_device ? *validate_mac(mac) : "");
    if (!resolved)
      return tl::unexpected(resolved.error());
    state.vifs = resolved->vifs;
    if (mac_device)
      *mac_device = resolved->device;
  } else {
    state.vifs = *vifs;
  }
  state.dom_id = dom_id_of(state.vifs);
  if (auto normalized = validate_mac(state.mac))
    state.mac = *normalized;
  return state;
}

// CloudStack's <vm>.ip line: "vmName,ip;ip;,vmID" ("0;" for none).
std::string ip_file_line(const VmState &s) {
  std::string raw;
  for (const auto &secondary : s.secondary_ips)
    raw += secondary + ";";
  return s.vm_name + "," + (raw.empty() ? "0;" : raw) + "," + s.vm_id + "\n";
}

// A user VM's recorded rules, kept across `default` (CloudStack flushes them
// and waits for the next network_rules call; meanwhile the VM is closed).
std::vector<SgRule> recorded_rules(const VmState &state, const std::string &source) {
  if (state.rules.empty())
    return {};
  auto parsed = parse_rule_string(state.rules, source);
  return parsed ? *parsed : std::vector<SgRule>{};
}


// The state file's job for a change of one VM's NICs (`sg-apply default
// --nic N`, `destroy --nic N`): `edit` changes the recorded state under the
// lock; everything else of the VM (NIC 0, the rules, the log) stays.
VmJob nic_job(const std::string &dir, const std::string &vm_name,
              std::function<Result<void>(VmJob &, const VmState &)> edit) {
  VmJob job;
  job.vm_name = vm_name;
  job.decide = [dir, edit](VmJob &j) -> Result<void> {
    auto old = load_vm_state(dir, j.vm_name);
    if (!old || old->kind != VmKind::user)
      return fail(vm_state_path(dir, j.vm_name), 0,
                  "expected the state of user VM " + j.vm_name +
                      ": run `sg-apply default` for its NIC 0 first");
    j.state = *old;
    remember_old(j, *old);
    j.rules = recorded_rules(*old, vm_state_path(dir, j.vm_name));
    if (auto ok = edit(j, *old); !ok)
      return ok;
    if (auto probe = plan_for_state(j.state); !probe)
      return tl::unexpected(probe.error());
    return {};
  };
  job.files = [dir](const VmState &s) {
    return std::vector<std::pair<std::string, std::string>>{
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

Result<int> checked_nic(int nic) {
  if (nic < 1 || nic > kMaxNicDevice)
    return fail("--nic", 0,
                "invalid NIC " + std::to_string(nic) + ": expected 1-" + std::to_string(kMaxNicDevice) +
                    " (NIC 0 is the VM itself: `sg-apply default` / `destroy` without --nic)");
  return nic;
}

// `default --nic N`: NIC N of a programmed VM, added or replaced.
Result<VmJob> prepare_nic(SgApplier::Impl &impl, const DefaultRequest &request) {
  auto device = checked_nic(request.nic);
  if (!device)
    return tl::unexpected(device.error());
  auto name = validate_vm_name(request.vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  VmNic nic;
  nic.device = *device;
  auto ip = validate_ipv4(request.ip);
  if (!ip)
    return fail("--ip", 0, ip.error().message);
  nic.ip = *ip;
  auto mac = validate_mac(request.mac);
  if (!mac)
    return fail("--mac", 0, mac.error().message);
  nic.mac = *mac;
  auto secondary = parse_secondary_ips(request.secondary_ips.empty() ? "0;" : request.secondary_ips,
                                       "--sec-ips");
  if (!secondary)
    return tl::unexpected(secondary.error());
  nic.secondary_ips = std::move(*secondary);
  auto ipv6 = checked_ipv6(request.ipv6);
  if (!ipv6)
    return tl::unexpected(ipv6.error());
  nic.ipv6 = std::move(*ipv6);
  auto vifs = checked_vifs(request.vifs);
  if (!vifs)
    return tl::unexpected(vifs.error());
  if (vifs->empty()) {
    auto resolved = resolve_vifs(impl, *name, false, *device);
    if (!resolved)
      return tl::unexpected(resolved.error());
    *vifs = resolved->vifs;
  }
  nic.vifs = std::move(*vifs);
  if (!nic.ipv6.empty())
    if (auto ready = check_ipv6_ready(impl.options); !ready)
      return tl::unexpected(ready.error());
  const std::string vm_id = request.vm_id;
  return nic_job(impl.options.state_dir, *name, [nic, vm_id](VmJob &j, const VmState &old) -> Result<void> {
    if (!vm_id.empty() && vm_id != old.vm_id)
      return fail("--vm-id", 0, "VM " + j.vm_name + " has id " + old.vm_id + ", not " + vm_id);
    const std::string dom_id = dom_id_of(nic.vifs);
    if (dom_id != old.dom_id)
      return fail("--vif", 0,
                  "NIC " + std::to_string(nic.device) + "'s VIFs are of dom-id " + dom_id + ", but " +
                      j.vm_name + " was programmed with dom-id " + old.dom_id +
                      ": program its NIC 0 again first (`sg-apply default`)");
    auto &nics = j.state.other_nics;
    nics.erase(std::remove_if(nics.begin(), nics.end(),
                              [&](const VmNic &known) { return known.device == nic.device; }),
               nics.end());
    nics.push_back(nic);
    std::sort(nics.begin(), nics.end(),
              [](const VmNic &a, const VmNic &b) { return a.device < b.device; });
    return {};
  });
}

} // namespace

Result<VmJob> SgApplier::prepare_default(const DefaultRequest &request) {
  auto &impl = *impl_;
  if (request.nic != 0)
    return prepare_nic(impl, request);
  const std::string raw_secondary = request.secondary_ips.empty() ? "0;" : request.secondary_ips;
  auto secondary = parse_secondary_ips(raw_secondary, "--sec-ips");
  if (!secondary)
    return tl::unexpected(secondary.error());
  int mac_device = 0;
  auto made = user_vm_state(impl, request.vm_name, request.vm_id, request.ip, request.mac, *secondary,
                            request.vifs, {}, request.ipv6, &mac_device);
  if (!made)
    return tl::unexpected(made.error());
  // CloudStack's call for another NIC (its MAC is that device's): that NIC,
  // once NIC 0 is programmed in this run of the VM.
  if (mac_device != 0) {
    const auto old = load_vm_state(impl.options.state_dir, made->vm_name);
    if (old && old->kind == VmKind::user && old->dom_id == made->dom_id &&
        validate_mac(old->mac).value_or("") != made->mac) {
      DefaultRequest nic = request;
      nic.nic = mac_device;
      nic.vifs = made->vifs;
      return prepare_nic(impl, nic);
    }
    // Before NIC 0: device 0, as CloudStack's own plugin does, rather than a
    // record whose NIC 0 is another device.
    auto device0 = resolve_vifs(impl, made->vm_name, false, 0);
    if (!device0)
      return tl::unexpected(device0.error());
    made->vifs = device0->vifs;
  }
  if (!made->ipv6.empty())
    if (auto ready = check_ipv6_ready(impl.options); !ready)
      return tl::unexpected(ready.error());
  VmJob job;
  job.vm_name = made->vm_name;
  job.state = std::move(*made);
  job.state.arp_filter = to_string(impl.options.arp_filter);
  const std::string dir = impl.options.state_dir;
  job.decide = [dir](VmJob &j) -> Result<void> {
    // Keep the rules already applied to this VM (CloudStack flushes them and
    // waits for the next network_rules call; meanwhile the VM is closed).
    if (auto old = load_vm_state(dir, j.vm_name)) {
      remember_old(j, *old);
      if (old->kind == VmKind::user) {
        j.state.generation = old->generation;
        j.state.rules = old->rules;
        j.state.rules_applied = old->rules_applied;
        j.state.signature = old->signature;
        j.state.seqno = old->seqno;
        j.rules = recorded_rules(*old, vm_state_path(dir, j.vm_name));
        // The same run of the VM keeps its other NICs; after a restart
        // (another dom-id) their VIFs are gone and CloudStack programs
        // each NIC again.
        if (old->dom_id == j.state.dom_id)
          j.state.other_nics = old->other_nics;
      }
    }
    return {};
  };
  job.files = [dir, raw_secondary](const VmState &s) {
    RuleLog log{s.vm_name, s.vm_id, s.ip, s.dom_id, "_initial_", "-1", s.mac};
    return std::vector<std::pair<std::string, std::string>>{
        {rule_log_path(dir, s.vm_name), format_rule_log(log)},
        {ip_file_path(dir, s.vm_name), s.vm_name + "," + raw_secondary + "," + s.vm_id + "\n"},
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

Result<VmJob> SgApplier::prepare_rules(const RulesRequest &request) {
  auto &impl = *impl_;
  auto signature = validate_signature(request.signature);
  if (!signature)
    return fail("--sig", 0, signature.error().message);
  auto seqno = validate_seqno(request.seqno);
  if (!seqno)
    return fail("--seq", 0, seqno.error().message);
  // CloudStack's secIps (network_rules passes them on to
  // default_network_rules): given, they replace the recorded ones.
  std::optional<std::vector<std::string>> secondary;
  if (request.secondary_ips) {
    auto parsed = parse_secondary_ips(*request.secondary_ips, "--sec-ips");
    if (!parsed)
      return tl::unexpected(parsed.error());
    secondary = std::move(*parsed);
  }
  auto made = user_vm_state(impl, request.vm_name, request.vm_id, request.ip, request.mac,
                            secondary.value_or(std::vector<std::string>{}), request.vifs, request.rules);
  if (!made)
    return tl::unexpected(made.error());
  VmJob job;
  job.vm_name = made->vm_name;
  job.state = std::move(*made);
  job.rules = request.rules;
  job.state.arp_filter = to_string(impl.options.arp_filter);
  job.state.rules = format_rule_string(request.rules);
  job.state.rules_applied = true;
  job.state.signature = *signature;
  job.state.seqno = std::to_string(*seqno);
  const RuleLog incoming{job.state.vm_name, job.state.vm_id, job.state.ip, job.state.dom_id,
                         job.state.signature, job.state.seqno, job.state.mac};
  const std::string dir = impl.options.state_dir;
  const bool given_secondary = secondary.has_value();
  job.files = [dir, incoming, given_secondary](const VmState &s) {
    std::vector<std::pair<std::string, std::string>> files{
        {rule_log_path(dir, s.vm_name), format_rule_log(incoming)},
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
    if (given_secondary)
      files.emplace_back(ip_file_path(dir, s.vm_name), ip_file_line(s));
    return files;
  };
  job.decide = [incoming, dir, secondary](VmJob &j) -> Result<void> {
    bool addresses_changed = secondary.has_value();
    if (auto old = load_vm_state(dir, j.vm_name)) {
      remember_old(j, *old);
      if (old->kind == VmKind::user) {
        j.state.secondary_ips = secondary.value_or(old->secondary_ips);
        j.state.generation = old->generation;
        // A rules call carries NIC 0's IPv4 only: its IPv6 and the other
        // NICs (while the dom-id is the same) are what was recorded.
        j.state.ipv6 = old->ipv6;
        if (old->dom_id == j.state.dom_id)
          j.state.other_nics = old->other_nics;
        addresses_changed = secondary && *secondary != old->secondary_ips;
      }
    }
    auto decision = decide_rules_update(load_rule_log(dir, j.vm_name), incoming);
    // New secondary addresses are never left out by a log saying "nothing
    // to do" (an older seqno is still ignored: its addresses are old too).
    if (addresses_changed && (decision == LogDecision::nothing || decision == LogDecision::update_log))
      decision = LogDecision::program_rules;
    if (decision == LogDecision::ignore || decision == LogDecision::nothing) {
      j.skip = true;
      j.notes.push_back(j.vm_name + ": " + to_string(decision) + " (log " +
                        rule_log_path(dir, j.vm_name) + ")");
    } else if (decision == LogDecision::update_log) {
      // Same rules, newer seqno: CloudStack only rewrites the log; the .state
      // keeps the seqno in step.
      j.skip = true;
      j.log_only = true;
      j.notes.push_back(j.vm_name + ": same signature, newer seqno: only the log is updated");
    }
    return {};
  };
  return job;
}

Result<VmJob> SgApplier::prepare_systemvm(const std::string &vm_name, std::vector<std::string> vifs) {
  auto &impl = *impl_;
  auto name = validate_vm_name(vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  auto checked = checked_vifs(vifs);
  if (!checked)
    return tl::unexpected(checked.error());
  if (auto probe = render_system_vm(*name, checked->empty() ? std::vector<std::string>{"vif0.0"} : *checked);
      !probe)
    return tl::unexpected(probe.error());
  if (checked->empty()) {
    auto resolved = resolve_vifs(impl, *name, true);
    if (!resolved)
      return tl::unexpected(resolved.error());
    *checked = resolved->vifs;
  }
  VmJob job;
  job.vm_name = *name;
  job.state.kind = VmKind::system;
  job.state.vm_name = *name;
  job.state.vifs = *checked;
  job.state.dom_id = dom_id_of(job.state.vifs);
  job.state.ip = "_ignore_";
  job.state.mac = "ff:ff:ff:ff:ff:ff";
  job.state.arp_filter = to_string(impl.options.arp_filter);
  const std::string dir = impl.options.state_dir;
  job.decide = [dir](VmJob &j) -> Result<void> {
    if (auto old = load_vm_state(dir, j.vm_name))
      remember_old(j, *old);
    return {};
  };
  job.files = [dir](const VmState &s) {
    return std::vector<std::pair<std::string, std::string>>{
        {rule_log_path(dir, s.vm_name),
         format_rule_log(RuleLog{s.vm_name, "-1", "_ignore_", s.dom_id, "_initial_", "-1", "ff:ff:ff:ff:ff:ff"})},
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

Result<VmJob> SgApplier::prepare_destroy(const std::string &vm_name, int nic) {
  auto &impl = *impl_;
  auto name = validate_vm_name(vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  if (nic != 0) {
    auto device = checked_nic(nic);
    if (!device)
      return tl::unexpected(device.error());
    return nic_job(impl.options.state_dir, *name, [device = *device](VmJob &j, const VmState &) -> Result<void> {
      auto &nics = j.state.other_nics;
      const auto before = nics.size();
      nics.erase(std::remove_if(nics.begin(), nics.end(),
                                [&](const VmNic &known) { return known.device == device; }),
                 nics.end());
      if (nics.size() == before) {
        j.skip = true;
        j.notes.push_back(j.vm_name + ": NIC " + std::to_string(device) +
                          " is not programmed: nothing to do");
      }
      return {};
    });
  }
  VmJob job;
  job.vm_name = *name;
  job.destroy = true;
  const std::string dir = impl.options.state_dir;
  job.remove_files = {rule_log_path(dir, *name), ip_file_path(dir, *name), vm_state_path(dir, *name)};
  job.decide = [dir](VmJob &j) -> Result<void> {
    // The recorded VIFs find what a killed run left cut off even when no jump
    // to the VM's chains is left to name them.
    if (auto old = load_vm_state(dir, j.vm_name))
      remember_old(j, *old);
    return {};
  };
  return job;
}

Result<VmJob> SgApplier::prepare_secondary_ip(const std::string &vm_name, const std::string &mac,
                                              const std::string &ip, bool add) {
  auto &impl = *impl_;
  auto name = validate_vm_name(vm_name);
  if (!name)
    return fail("--vm", 0, name.error().message);
  const bool v6 = ip.find(':') != std::string::npos;
  auto address = v6 ? validate_ipv6_host(ip) : validate_ipv4(ip);
  if (!address)
    return fail("--ip", 0, address.error().message);
  auto checked_mac = validate_mac(mac);
  if (!checked_mac)
    return fail("--mac", 0, checked_mac.error().message);
  VmJob job;
  job.vm_name = *name;
  const std::string dir = impl.options.state_dir;
  const SgOptions options = impl.options;
  job.decide = [dir, options, v6, address = *address, checked_mac = *checked_mac,
                add](VmJob &j) -> Result<void> {
    auto old = load_vm_state(dir, j.vm_name);
    if (!old || old->kind != VmKind::user)
      return fail(vm_state_path(dir, j.vm_name), 0,
                  "no state for user VM " + j.vm_name + ": run `sg-apply default` for it first");
    j.state = *old;
    remember_old(j, *old);
    // The MAC says which NIC the address is on.
    std::vector<std::string> *list = nullptr;
    if (auto nic0 = validate_mac(old->mac); nic0 && *nic0 == checked_mac)
      list = v6 ? &j.state.ipv6 : &j.state.secondary_ips;
    for (auto &nic : j.state.other_nics)
      if (!list && validate_mac(nic.mac).value_or("") == checked_mac)
        list = v6 ? &nic.ipv6 : &nic.secondary_ips;
    if (!list)
      return fail("--mac", 0, "VM " + j.vm_name + " has no NIC with MAC " + checked_mac + " (it has " +
                                  old->mac + ")");
    const bool present = std::find(list->begin(), list->end(), address) != list->end();
    if (add && !present)
      list->push_back(address);
    if (!add)
      list->erase(std::remove(list->begin(), list->end(), address), list->end());
    if (add && v6 && !present)
      if (auto ready = check_ipv6_ready(options); !ready)
        return ready;
    j.rules = recorded_rules(*old, vm_state_path(dir, j.vm_name));
    if (auto probe = plan_for_state(j.state); !probe)
      return tl::unexpected(probe.error());
    return {};
  };
  job.files = [dir](const VmState &s) {
    return std::vector<std::pair<std::string, std::string>>{
        {ip_file_path(dir, s.vm_name), ip_file_line(s)},
        {vm_state_path(dir, s.vm_name), format_vm_state(s)}};
  };
  return job;
}

} // namespace vifwall
