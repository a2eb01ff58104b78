// A packet spec made concrete against the firewall view: which bridge ports
// the frame enters and leaves by, its MACs and addresses.  Everything comes
// from the firewall itself (a VM's VIFs from the jumps to its chains, its
// addresses from its ipset, its MAC from its ebtables or arptables rules,
// the uplinks from FORWARD's physdev-out accepts), so a snapshot of the
// firewall alone is enough.
#include <algorithm>

#include "check_internal.hpp"
#include "sg_check.hpp"
#include "text.hpp"

namespace vifwall {

using check_detail::cidr_contains;
using check_detail::ipv4_number;

namespace {

// A VM's VIF to use: the first vif<d>.<n> (netback), else its first one.
std::string main_vif(const VmView &vm) {
  for (const auto &v : vm.vifs)
    if (starts_with(v.name, "vif"))
      return v.name;
  return vm.vifs.empty() ? std::string() : vm.vifs.front().name;
}

const VmView *vm_of_vif(const FirewallView &view, const std::string &vif) {
  for (const auto &vm : view.vms)
    for (const auto &v : vm.vifs)
      if (v.name == vif)
        return &vm;
  return nullptr;
}

const VmView *vm_of_ip(const FirewallView &view, const std::string &ip) {
  const auto number = ipv4_number(ip);
  for (const auto &vm : view.vms)
    for (const auto &member : vm.ips) {
      if (member == ip)
        return &vm;
      if (number && member.find('/') != std::string::npos && cidr_contains(member, *number).value_or(false))
        return &vm;
    }
  return nullptr;
}

std::string first_uplink(const FirewallView &view) {
  for (auto uplink : view.host.uplinks) {
    if (ends_with(uplink, "+"))
      uplink.pop_back();
    if (!uplink.empty())
      return uplink;
  }
  return "";
}

// One end of the packet.
struct End {
  const VmView *vm = nullptr;
  std::string port, ip, mac;
};

Result<End> resolve_end(const std::string &word, const std::string &port_override,
                        const FirewallView &view, std::vector<std::string> &notes) {
  End end;
  const bool is_ip = word.find_first_of(".:") != std::string::npos &&
                     !starts_with(word, "vif") && !starts_with(word, "tap");
  if (is_ip) {
    end.ip = word;
    end.vm = vm_of_ip(view, word);
  } else if (starts_with(word, "vif") || starts_with(word, "tap")) {
    end.vm = vm_of_vif(view, word);
    if (!end.vm)
      return fail("no VM in the firewall has the VIF " + word);
    end.port = word;
  } else {
    end.vm = view.find(word);
    if (!end.vm)
      return fail("no rules for VM " + word + " in the firewall");
  }
  if (end.vm) {
    if (end.port.empty())
      end.port = main_vif(*end.vm);
    if (end.port.empty())
      return fail("VM " + end.vm->name + " has no VIF in the firewall");
    if (end.ip.empty() && !end.vm->ips.empty()) {
      end.ip = end.vm->ips.front();
      if (end.vm->ips.size() > 1)
        notes.push_back(end.vm->name + " has " + std::to_string(end.vm->ips.size()) +
                        " addresses, using " + end.ip);
    }
    if (end.mac.empty() && end.vm->mac)
      end.mac = *end.vm->mac;
  } else {
    end.port = first_uplink(view);
  }
  if (!port_override.empty())
    end.port = port_override;
  if (end.port.empty())
    return fail("no uplink for " + word + " in the firewall (FORWARD accepts none): name the port with in= or out=");
  return end;
}

} // namespace

Result<ResolvedPacket> resolve_packet(const PacketSpec &spec, const FirewallView &view,
                                      const std::string &source, std::size_t line) {
  ResolvedPacket out;
  auto where = [&](const Error &e) { return fail(source, line, e.message); };
  auto from = resolve_end(spec.from, spec.in, view, out.notes);
  if (!from)
    return where(from.error());
  auto to = resolve_end(spec.to, spec.out, view, out.notes);
  if (!to)
    return where(to.error());
  Packet &p = out.packet;
  p.in_port = from->port;
  p.out_port = to->port;
  p.bridge = spec.bridge;
  p.src_ip = spec.src_ip.empty() ? from->ip : spec.src_ip;
  p.dst_ip = spec.dst_ip.empty() ? to->ip : spec.dst_ip;
  p.src_mac = spec.src_mac.empty() ? from->mac : spec.src_mac;
  p.dst_mac = spec.dst_mac.empty() ? to->mac : spec.dst_mac;
  p.flow = spec.flow;
  if (p.in_port == p.out_port)
    return fail(source, line, "expected two different bridge ports, got " + p.in_port +
                                  " for both ends (a bridge never sends a frame back out of its port)");
  if (p.src_ip.empty() || p.dst_ip.empty())
    return fail(source, line, std::string("expected an address for ") +
                                  (p.src_ip.empty() ? spec.from : spec.to) +
                                  " (its VM has none in the firewall): give src-ip= or dst-ip=");
  const bool v6 = p.src_ip.find(':') != std::string::npos;
  if (v6 != (p.dst_ip.find(':') != std::string::npos))
    return fail(source, line, "expected two IPv4 or two IPv6 addresses, got " + p.src_ip + " and " + p.dst_ip);
  if (spec.protocol == "arp") {
    if (v6)
      return fail(source, line, "expected IPv4 addresses for ARP, got " + p.src_ip);
    p.ether = EtherType::arp;
    p.arp_op = spec.arp_op == "reply" ? 2 : 1;
    if (p.arp_op == 1) {
      // A request asks everybody: broadcast frame, target MAC unknown (zero).
      p.arp_target_mac = "00:00:00:00:00:00";
      if (spec.dst_mac.empty())
        p.dst_mac = "ff:ff:ff:ff:ff:ff";
    } else {
      p.arp_target_mac = p.dst_mac;
    }
    p.protocol = -1;
  } else {
    p.ether = v6 ? EtherType::ipv6 : EtherType::ipv4;
    p.protocol = spec.protocol == "tcp" ? 6 : spec.protocol == "udp" ? 17 : spec.protocol == "icmp" ? 1
                                                                          : std::stoi(spec.protocol);
    if (p.protocol == 6 || p.protocol == 17) {
      p.dport = spec.dport.value_or(0);
      p.sport = spec.sport.value_or(40000);
    }
    if (p.protocol == 1) {
      p.icmp_type = spec.icmp_type.value_or(8);
      p.icmp_code = spec.icmp_code.value_or(0);
    }
  }
  out.ends.from_vm = from->vm ? from->vm->name : "";
  out.ends.to_vm = to->vm ? to->vm->name : "";
  return out;
}

} // namespace vifwall
