// Getting the three texts vif-of joins (xe's VM list, the interfaces, the
// bridges) from a snapshot directory, single files, or the live host, and
// turning them into HostInputs.  The format of each text is detected from its
// content, so users can feed whatever they captured.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "exec.hpp"
#include "file_util.hpp"
#include "host.hpp"

namespace vifwall {

struct HostTexts {
  InputText vm_list;
  std::optional<InputText> vif_list;
  InputText links;
  std::optional<InputText> bridges;
  // /etc/xensource-inventory (this host's uuid); saved as
  // "xensource-inventory" in a snapshot.  nullopt: not a Xen host, or an old
  // snapshot.
  std::optional<InputText> inventory;

  // The texts that are present, for writing a snapshot.
  std::vector<InputText> present() const;
};

// Interfaces from ifconfig (old or new), ip link (any text form) or ip -j link.
Result<std::vector<Link>> parse_links(const std::string &text, const std::string &source);
// Bridges from `brctl show` or `bridge link`.
Result<std::vector<Bridge>> parse_bridges(const std::string &text, const std::string &source);

// Parses every text and keeps the VMs of THIS host.  In a pool, xe lists the
// VMs of every member and dom-ids repeat across members, so:
//  * with this host's uuid (the inventory) and `resident-on` in the VM list,
//    running VMs resident on another member go to HostInputs::elsewhere;
//  * without either, a dom-id shared by two running VMs cannot be resolved:
//    an error naming every candidate, never a guess;
//  * without either and without a collision, every VM is taken as local (a
//    stand-alone host, or a snapshot from before pools were understood).
Result<HostInputs> parse_host_texts(const HostTexts &texts);

// The same rules over parsed VMs: splits `vms` into here and elsewhere.
// `this_host` empty means unknown.  `source` names the VM list in errors.
Result<void> keep_local_vms(std::vector<Vm> &vms, std::vector<Vm> &elsewhere,
                            const std::string &this_host, const std::string &source);

// split_by_host alone: moves the VMs resident on another member to
// `elsewhere` when this host's uuid is known and the list has resident-on;
// returns whether it could (false: nothing moved).
bool split_by_host(std::vector<Vm> &vms, std::vector<Vm> &elsewhere, const std::string &this_host);

// INSTALLATION_UUID of an inventory text; "" when there is none, or when it
// has no KEY=VALUE line at all (a placeholder).
Result<std::string> this_host_of(const std::optional<InputText> &inventory);

// Running or paused: a VM that has a domain, and so VIFs.
bool is_running(const Vm &vm);

// Which VMs run on THIS host: the one answer that sg-apply (VIF lookups,
// cleanup), sg-diff and completion share with vif-of.  Matched by name, not
// dom-id, so a dom-id shared across members is no problem here; without
// locality (no inventory, or xe without resident-on) every running VM of the
// list counts as here, which keeps rules rather than removing them.
struct LocalVms {
  std::string this_host;       // "" when unknown
  bool located = false;        // true when resident-on told members apart
  std::vector<Vm> running_here; // running or paused, here
  std::vector<Vm> elsewhere;   // running on another member (located only)
  std::vector<std::string> names() const; // running_here's name-labels
};
LocalVms local_vms_of(std::vector<Vm> vms, const std::string &this_host);
Result<LocalVms> local_vms_of_texts(const InputText &vm_list,
                                    const std::optional<InputText> &inventory);

// Snapshot file names, in order of preference when several are present; each
// may also end in ".txt".
extern const std::vector<std::string> kLinkSnapshotNames;
extern const std::vector<std::string> kBridgeSnapshotNames;

// Reads DIR/xe-vm-list, DIR/xe-vif-list (optional), one links file and one
// bridges file (optional: ip's "master" is used without it).
Result<HostTexts> read_snapshot_dir(const std::string &dir);

// $VIFWALL_INVENTORY when set (tests, a chroot), else /etc/xensource-inventory.
std::string default_inventory_path();

struct LiveOptions {
  std::string xe;  // path given with --xe; empty: PATH, then /opt/xensource/bin
  std::string inventory = default_inventory_path(); // a missing file is fine
  std::chrono::milliseconds timeout{10000};
};

// Runs xe vm-list / vif-list, `ip -s link` (or `ifconfig -a` where ip is
// missing) and `brctl show` (or `bridge link`) through `runner`.
Result<HostTexts> read_live(CommandRunner &runner, const LiveOptions &options);

// Live LocalVms: `xe vm-list` (with resident-on) and the inventory only.
Result<LocalVms> read_local_vms(CommandRunner &runner, const LiveOptions &options);

// `xe vif-list params=uuid,vm-uuid,device,MAC`: the guests' MACs (for the
// completion cache; the other fields are left empty).
Result<std::vector<XeVif>> read_guest_macs(CommandRunner &runner, const LiveOptions &options);

// Locates xe: `explicit_path` if given, else PATH, then /opt/xensource/bin.
Result<std::string> find_xe(const std::string &explicit_path);

} // namespace vifwall
