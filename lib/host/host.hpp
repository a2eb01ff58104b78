// The join: VMs (from xe) + interfaces (ifconfig / ip link) + bridges
// (brctl / bridge link, or ip's "master") -> which VM owns which interface.
//
// A VM owns vif<domid>.<device> and its HVM emulated twin tap<domid>.<device>.
// The guest-side MAC comes from `xe vif-list` when it was given (dom0's end of
// a netback vif always shows fe:ff:ff:ff:ff:ff).  Interfaces named like VIFs
// whose domain is in no VM record are orphans.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "model.hpp"

namespace vifwall {

struct HostVif {
  std::string name;       // "vif7.0"
  VifKind kind = VifKind::vif;
  std::int64_t dom_id = 0;
  std::int64_t device = 0;
  std::optional<std::string> bridge;
  std::optional<std::string> mac;        // dom0 side, as the link shows it
  std::optional<std::string> guest_mac;  // from xe vif-list
  // The guest's addresses on this NIC, from its VM's `networks` map (the
  // guest agent's report: "<device>/ip", "<device>/ipv4/<n>",
  // "<device>/ipv6/<n>"); IPv6 in canonical form, no repeats, in xe's order.
  std::vector<std::string> ipv4;
  std::vector<std::string> ipv6;
  std::optional<std::uint32_t> mtu;
  std::string state;                     // as in Link::state
  Counters rx;
  Counters tx;
  bool operator==(const HostVif &) const = default;
};

struct HostVm {
  Vm vm;
  std::vector<HostVif> vifs; // ordered by device, vif before tap
  bool operator==(const HostVm &) const = default;
};

struct HostInputs {
  std::vector<Vm> vms;               // the VMs of this host (and halted ones)
  std::vector<Vm> elsewhere;         // running on another pool member
  std::string this_host;             // this host's uuid; empty when unknown
  std::optional<std::vector<XeVif>> xe_vifs; // nullopt when not given
  std::vector<Link> links;
  std::optional<std::vector<Bridge>> bridges; // nullopt: use the links' master
};

struct HostMap {
  std::vector<HostVm> vms;         // in input order; only this host's
  std::vector<Vm> elsewhere;       // running on another pool member
  std::string this_host;           // this host's uuid; empty when unknown
  std::vector<HostVif> orphans;    // VIF-named interfaces of no known domain
  std::vector<Bridge> bridges;
  std::vector<Link> links;
  std::vector<std::string> warnings; // e.g. names cut by old ifconfig
};

HostMap join_host(HostInputs inputs);

// ---- lookups (vif-of's selections) ---------------------------------------

// VMs matching `key` as name-label, uuid, or a unique uuid prefix (at least 4
// hex digits).  Several VMs may share a name-label: all are returned.  An
// ambiguous uuid prefix is an error listing the candidates; no match is an
// empty vector.
Result<std::vector<const HostVm *>> find_vms(const HostMap &host, const std::string &key);
std::vector<const HostVm *> find_vms_by_domid(const HostMap &host, std::int64_t dom_id);
// VMs of other pool members matching `key` like find_vms (name-label, uuid or
// a unique uuid prefix): what to tell a user who asks here for a VM running
// elsewhere.
std::vector<const Vm *> find_vms_elsewhere(const HostMap &host, const std::string &key);

struct IfaceOwner {
  const HostVm *vm = nullptr;    // nullptr for an orphan or a non-VIF port
  const HostVif *vif = nullptr;  // nullptr for a non-VIF interface
};
// Who owns interface `name` (a vif, tap, or -emu name).
std::optional<IfaceOwner> find_iface(const HostMap &host, const std::string &name);
// VIFs whose guest MAC (or, failing that, dom0-side MAC other than
// fe:ff:ff:ff:ff:ff) equals `mac` (any spelling).
std::vector<IfaceOwner> find_mac(const HostMap &host, const std::string &mac);
// VMs whose guest metrics (xe `networks`) list `ip`, compared as addresses:
// "2001:DB8:0::238" finds "2001:db8::238".
std::vector<const HostVm *> find_ip(const HostMap &host, const std::string &ip);

} // namespace vifwall
