#include "vif_query.hpp"

#include <algorithm>
#include <set>

#include "text.hpp"

namespace vifwall {

namespace {

class SelectionBuilder {
public:
  explicit SelectionBuilder(HostSelection &selection) : selection_(selection) {}

  void vm(const HostVm &vm) {
    if (vms_.insert(&vm).second)
      selection_.add_vm(vm);
  }
  void vif(const HostVm *vm, const HostVif &vif) {
    if (vm && vms_.count(vm))
      return; // the whole VM is already shown
    if (vifs_.insert(&vif).second)
      selection_.add_vif(vm, vif);
  }
  void link(const Link &link, const std::string &bridge) {
    if (links_.insert(&link).second)
      selection_.add_link(link, bridge);
  }

private:
  HostSelection &selection_;
  std::set<const HostVm *> vms_;
  std::set<const HostVif *> vifs_;
  std::set<const Link *> links_;
};

} // namespace

Result<QueryAnswer> run_query(const HostMap &host, const VifQuery &query) {
  QueryAnswer answer;
  SelectionBuilder select(answer.selection);

  if (query.all) {
    for (const auto &vm : host.vms)
      select.vm(vm);
    for (const auto &vif : host.orphans)
      select.vif(nullptr, vif);
  }
  for (const auto &key : query.vms) {
    auto found = find_vms(host, key);
    if (!found)
      return tl::unexpected(found.error());
    if (found->empty()) {
      const auto away = find_vms_elsewhere(host, key);
      if (away.empty())
        answer.not_found.push_back("no VM with name-label, uuid or uuid prefix " +
                                   quote_for_error(key));
      for (const Vm *vm : away)
        answer.not_found.push_back(
            "VM " + quote_for_error(vm->name_label) + " (" + vm->uuid + ") runs on pool member " +
            vm->resident_on.value_or("?") + ", not on this host" +
            (host.this_host.empty() ? std::string() : " (" + host.this_host + ")") +
            "; vif-of --pool asks every member");
    }
    for (const auto *vm : *found)
      select.vm(*vm);
  }
  for (auto domid : query.domids) {
    auto found = find_vms_by_domid(host, domid);
    if (found.empty()) {
      // A domain with interfaces but no VM record is still worth showing.
      bool any = false;
      for (const auto &vif : host.orphans)
        if (vif.dom_id == domid) {
          select.vif(nullptr, vif);
          any = true;
        }
      if (!any)
        answer.not_found.push_back("no VM with dom-id " + std::to_string(domid));
    }
    for (const auto *vm : found)
      select.vm(*vm);
  }
  for (const auto &name : query.ifaces) {
    auto owner = find_iface(host, name);
    if (!owner) {
      answer.not_found.push_back("no interface " + quote_for_error(name));
    } else if (!owner->vif) {
      answer.not_found.push_back("interface " + quote_for_error(name) +
                                 " is not a VM interface (not vif<domid>.<device> or "
                                 "tap<domid>.<device>)");
    } else {
      select.vif(owner->vm, *owner->vif);
    }
  }
  for (const auto &mac : query.macs) {
    if (!normalize_mac(mac))
      return fail("invalid MAC address " + quote_for_error(mac) +
                  ": expected six hex octets like 06:f8:c8:00:00:09");
    auto owners = find_mac(host, mac);
    if (owners.empty())
      answer.not_found.push_back("no VM interface with MAC " + *normalize_mac(mac) +
                                 (host.vms.empty() ? "" : " (guest MACs come from `xe vif-list`)"));
    for (const auto &owner : owners)
      select.vif(owner.vm, *owner.vif);
  }
  for (const auto &ip : query.ips) {
    auto found = find_ip(host, ip);
    if (found.empty())
      answer.not_found.push_back("no VM reports IP " + quote_for_error(ip) +
                                 " (xe's `networks` field; needs the guest agent)");
    for (const auto *vm : found)
      select.vm(*vm);
  }
  for (const auto &name : query.bridges) {
    auto bridge = std::find_if(host.bridges.begin(), host.bridges.end(),
                               [&](const Bridge &b) { return b.name == name; });
    if (bridge == host.bridges.end()) {
      answer.not_found.push_back("no bridge " + quote_for_error(name));
      continue;
    }
    for (const auto &port : bridge->ports) {
      auto owner = find_iface(host, port);
      if (owner && owner->vif) {
        select.vif(owner->vm, *owner->vif);
        continue;
      }
      auto link = std::find_if(host.links.begin(), host.links.end(),
                               [&](const Link &l) { return l.name == port; });
      if (link != host.links.end())
        select.link(*link, bridge->name);
    }
  }
  return answer;
}

} // namespace vifwall
