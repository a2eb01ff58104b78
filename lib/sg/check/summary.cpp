// Who may reach a VM, on what: probes built from the VM's own ingress rules
// (each rule's protocol and first port, a port no rule names, ICMP echo),
// sent from the peers those rules name, from other VMs of the host and from
// an outside address no rule names -- each verdict from the same evaluation
// as a single sg-check.
#include <algorithm>

#include "check_internal.hpp"
#include "sg_check.hpp"
#include "text.hpp"

namespace vifwall {

using check_detail::cidr_contains;
using check_detail::ipv4_number;

namespace {

constexpr std::size_t kMaxVmSources = 8; // other VMs probed besides the rules' peers

struct Service {
  std::string protocol; // "tcp", "udp", "icmp", "47"
  int port = -1;        // tcp/udp port or ICMP type
  std::string text;
};

std::string dotted(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

// The first host of an IPv4 CIDR ("10.1.0.0/16" -> 10.1.0.1).
std::optional<std::string> host_of(const std::string &cidr) {
  const auto slash = cidr.find('/');
  auto net = ipv4_number(std::string_view(cidr).substr(0, slash));
  if (!net)
    return std::nullopt;
  const bool host = slash == std::string::npos || cidr.substr(slash + 1) == "32";
  const bool any = slash != std::string::npos && cidr.substr(slash + 1) == "0";
  if (any)
    return std::nullopt; // "anyone": the outside probe covers it
  return dotted(host ? *net : *net + 1);
}

// Whether a rule of `protocol` names the port ("all" rules do not count: a
// port they cover from some peers is still worth probing from the others).
bool covered(const std::vector<SgRule> &rules, const std::string &protocol, int port) {
  for (const auto &r : rules)
    if (r.protocol == protocol && port >= r.start && port <= r.end)
      return true;
  return false;
}

std::vector<Service> services_of(const std::vector<ReadBackRule> &ingress) {
  std::vector<Service> out;
  std::vector<SgRule> rules;
  auto add = [&](Service s) {
    for (const auto &have : out)
      if (have.protocol == s.protocol && have.port == s.port)
        return;
    out.push_back(std::move(s));
  };
  for (const auto &r : ingress) {
    if (!r.understood)
      continue;
    rules.push_back(r.sg);
    const auto &p = r.sg.protocol;
    if (p == "tcp" || p == "udp")
      add({p, r.sg.start, p + "/" + std::to_string(r.sg.start)});
    else if (p == "icmp")
      add({p, r.sg.start < 0 ? 8 : r.sg.start, "icmp type " + std::to_string(r.sg.start < 0 ? 8 : r.sg.start)});
    else if (p != "all")
      add({p, -1, "protocol " + p});
  }
  for (const char *p : {"tcp", "udp"}) {
    for (int port : {22, 80, 443, 3389, 1, 7, 9, 13, 19, 37, 49151})
      if (!covered(rules, p, port)) {
        add({p, port, std::string(p) + "/" + std::to_string(port)});
        break;
      }
  }
  add({"icmp", 8, "icmp type 8"});
  return out;
}

struct Source {
  std::string spec_from; // the spec's from=
  std::string text;
};

std::vector<Source> sources_of(const FirewallView &view, const VmView &target) {
  std::vector<Source> out;
  auto add = [&](const std::string &from, const std::string &text) {
    for (const auto &s : out)
      if (s.spec_from == from)
        return;
    out.push_back({from, text});
  };
  for (const auto &r : target.ingress)
    if (r.understood)
      for (const auto &cidr : r.sg.cidrs)
        if (auto host = host_of(cidr)) {
          const VmView *owner = nullptr;
          for (const auto &vm : view.vms)
            if (&vm != &target && std::find(vm.ips.begin(), vm.ips.end(), *host) != vm.ips.end())
              owner = &vm;
          add(owner ? owner->name : *host, owner ? owner->name : *host + " (outside, in " + cidr + ")");
        }
  // An outside address no rule names.
  for (const char *candidate : {"203.0.113.7", "198.51.100.7", "192.0.2.7"}) {
    const auto a = *ipv4_number(candidate);
    bool named = false;
    for (const auto &r : target.ingress)
      for (const auto &cidr : r.sg.cidrs)
        if (!is_any_ipv4(cidr) && cidr_contains(cidr, a).value_or(false))
          named = true;
    if (!named) {
      add(candidate, std::string(candidate) + " (outside)");
      break;
    }
  }
  std::size_t vms = 0;
  for (const auto &vm : view.vms)
    if (&vm != &target && !vm.vifs.empty() && !vm.ips.empty() && vms < kMaxVmSources) {
      add(vm.name, vm.name);
      ++vms;
    }
  return out;
}

} // namespace

Result<ReachSummary> summarize_reach(const CheckTables &tables, const FirewallView &view,
                                     const std::string &vm_name) {
  const VmView *vm = view.find(vm_name);
  if (!vm)
    return fail("no rules for VM " + vm_name + " in the firewall");
  if (vm->vifs.empty() || vm->ips.empty())
    return fail("VM " + vm_name + " has no VIF or no address in the firewall");
  ReachSummary out;
  out.vm = vm->name;
  for (const auto &source : sources_of(view, *vm)) {
    for (const auto &service : services_of(vm->ingress)) {
      std::vector<std::string> words = {"from=" + source.spec_from, "to=" + vm->name,
                                        "proto=" + service.protocol};
      if (service.protocol == "tcp" || service.protocol == "udp")
        words.push_back("dport=" + std::to_string(service.port));
      if (service.protocol == "icmp")
        words.push_back("icmp=" + std::to_string(service.port));
      auto spec = parse_packet_words(words, "summary", 0);
      ReachProbe probe;
      probe.from = source.text;
      probe.service = service.text;
      probe.protocol = service.protocol;
      probe.port = service.port;
      auto resolved = spec ? resolve_packet(*spec, view, "summary", 0) : tl::unexpected(spec.error());
      if (!resolved) {
        probe.reason = resolved.error().message;
      } else {
        if (out.vif.empty()) {
          out.vif = resolved->packet.out_port;
          out.ip = resolved->packet.dst_ip;
        }
        const CheckResult r = tables.evaluate(resolved->packet);
        probe.verdict = r.verdict;
        probe.reason = r.reason;
      }
      out.probes.push_back(std::move(probe));
    }
  }
  return out;
}

} // namespace vifwall
