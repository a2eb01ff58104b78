// Internal to lib/sg/apply: SgApplier::Impl, what an SgApplier holds, shared
// by sg_apply.cpp (the operations and runs) and vm_jobs.cpp (preparing
// jobs).  Not part of the layer's API: sg_apply.hpp is.
//
// Contract: one Impl per SgApplier, outliving every VmJob it prepares (a
// job's callbacks capture values, never the Impl).  `io` is made on first
// use by firewall(), which checks the tools once per SgApplier; nothing
// else runs a netfilter tool.  `options` does not change after
// construction.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "firewall_io.hpp"
#include "host_inputs.hpp"
#include "sg_apply.hpp"

namespace vifwall {

struct SgApplier::Impl {
  CommandRunner &runner;
  SgOptions options;
  std::optional<FirewallIo> io;
  std::function<void(const std::string &)> *on_change = nullptr;

  Impl(CommandRunner &r, SgOptions o) : runner(r), options(std::move(o)) {}

  // The netfilter tools, detected (and checked against --arp-filter) once.
  Result<FirewallIo *> firewall();
  bool uses_arptables() const { return options.arp_filter == ArpFilter::arptables; }
  // Whether the host's ebtables is ebtables-nft (after firewall()).
  bool ebtables_nft() const { return io && io->tools().ebtables.variant == Variant::nft; }
  // Standard output of a command that must succeed within the timeout.
  Result<std::string> output_of(std::vector<std::string> argv);
  // Which VMs run on this host (xe and the inventory: read_local_vms).
  Result<LocalVms> local_vms();
};

// What a job must know of the VM's recorded state before it changes it: the
// VIFs it had and whether any of its NICs had IPv6.
inline void remember_old(VmJob &job, const VmState &old) {
  job.old_vifs = all_vifs(old);
  job.had_ipv6 = has_ipv6(old);
}

// Adds `from`'s changes, notes, warnings, removed VMs and dry-run text to
// `into` (an operation made of several runs: setup then cleanup, a takeover).
void merge_outcome(SgOutcome &into, SgOutcome &&from);

} // namespace vifwall
