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

// Snapshot file names, in order of preference when several are present; each
// may also end in ".txt".
extern const std::vector<std::string> kLinkSnapshotNames;
extern const std::vector<std::string> kBridgeSnapshotNames;

// Reads DIR/xe-vm-list, DIR/xe-vif-list (optional), one links file and one
// bridges file (optional: ip's "master" is used without it).
Result<HostTexts> read_snapshot_dir(const std::string &dir);

struct LiveOptions {
  std::string xe;  // path given with --xe; empty: PATH, then /opt/xensource/bin
  std::string inventory = "/etc/xensource-inventory"; // a missing file is fine
  std::chrono::milliseconds timeout{10000};
};

// Runs xe vm-list / vif-list, `ip -s link` (or `ifconfig -a` where ip is
// missing) and `brctl show` (or `bridge link`) through `runner`.
Result<HostTexts> read_live(CommandRunner &runner, const LiveOptions &options);

// Locates xe: `explicit_path` if given, else PATH, then /opt/xensource/bin.
Result<std::string> find_xe(const std::string &explicit_path);

} // namespace vifwall
