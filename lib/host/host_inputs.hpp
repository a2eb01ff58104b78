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
};

// Interfaces from ifconfig (old or new), ip link (any text form) or ip -j link.
Result<std::vector<Link>> parse_links(const std::string &text, const std::string &source);
// Bridges from `brctl show` or `bridge link`.
Result<std::vector<Bridge>> parse_bridges(const std::string &text, const std::string &source);

Result<HostInputs> parse_host_texts(const HostTexts &texts);

// Snapshot file names, in order of preference when several are present; each
// may also end in ".txt".
extern const std::vector<std::string> kLinkSnapshotNames;
extern const std::vector<std::string> kBridgeSnapshotNames;

// Reads DIR/xe-vm-list, DIR/xe-vif-list (optional), one links file and one
// bridges file (optional: ip's "master" is used without it).
Result<HostTexts> read_snapshot_dir(const std::string &dir);

struct LiveOptions {
  std::string xe;  // path given with --xe; empty: PATH, then /opt/xensource/bin
  std::chrono::milliseconds timeout{10000};
};

// Runs xe vm-list / vif-list, `ip -s link` (or `ifconfig -a` where ip is
// missing) and `brctl show` (or `bridge link`) through `runner`.
Result<HostTexts> read_live(CommandRunner &runner, const LiveOptions &options);

// Locates xe: `explicit_path` if given, else PATH, then /opt/xensource/bin.
Result<std::string> find_xe(const std::string &explicit_path);

} // namespace vifwall
