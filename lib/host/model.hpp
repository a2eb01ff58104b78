// The host model: what the parsers produce and what the tools join, print and
// program.  Plain aggregates with no behaviour beyond comparison, so that every
// parser can be tested by comparing values, and every printer (text or JSON)
// renders the same data.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vifwall {

// ---- xe (XAPI CLI) ---------------------------------------------------------

// One field of an `xe` record, as printed: `name ( RO): value`.
struct XeField {
  std::string name;    // "name-label"
  std::string access;  // " RO", " RW", "MRO", "MRW", "SRO", "SRW"
  std::string value;   // raw text after the first ": " (may contain ": ")
  std::size_t line = 0;
  bool operator==(const XeField &) const = default;
};

// One record of `xe <class>-list` / `<class>-param-list`.
struct XeRecord {
  std::vector<XeField> fields;
  std::size_t line = 0; // line of the first field

  // The value of field `name`, or nullptr.
  const std::string *get(const std::string &name) const;
  bool operator==(const XeRecord &) const = default;
};

struct Vm {
  std::string uuid;
  std::string name_label;
  std::string power_state;            // lower case; empty when not listed
  std::optional<std::int64_t> dom_id; // -1 when not running; nullopt if absent
  // From the `networks` map: "0/ip" -> "10.1.1.2", "0/ipv6/0" -> "fe80::1".
  std::map<std::string, std::string> networks;
  // The uuid of the host it runs on (`resident-on`): nullopt when the field
  // was not listed, "" for a placeholder (a halted VM runs nowhere).  In a
  // pool, xe lists every member's VMs and dom-ids repeat across members:
  // this is the only field that says which VMs are here.
  std::optional<std::string> resident_on;
  bool operator==(const Vm &) const = default;
};

struct XeVif {
  std::string uuid;
  std::string vm_uuid;
  std::string vm_name_label;
  std::string device;  // "0", "1", ...
  std::string mac;     // normalized lower case, empty when not listed
  std::string network_uuid;
  std::string network_name_label;
  std::optional<std::uint32_t> mtu;
  bool operator==(const XeVif &) const = default;
};

struct XeNetwork {
  std::string uuid;
  std::string name_label;
  std::string bridge;
  bool operator==(const XeNetwork &) const = default;
};

// ---- links (ifconfig, ip link) --------------------------------------------

struct Counters {
  std::optional<std::uint64_t> packets;
  std::optional<std::uint64_t> bytes;
  std::optional<std::uint64_t> errors;
  std::optional<std::uint64_t> dropped;
  bool operator==(const Counters &) const = default;
};

// One network interface of dom0.
struct Link {
  std::string name;                    // without ip's "@peer" suffix
  std::optional<int> ifindex;          // ip only
  std::optional<std::string> mac;      // normalized lower case
  std::optional<std::uint32_t> mtu;
  // Lower case: ip's operstate ("up", "down", "unknown", "lowerlayerdown"...);
  // from ifconfig "up" (UP and RUNNING) or "down".  Empty if not printed.
  std::string state;
  std::vector<std::string> flags;      // upper case, as printed
  std::optional<std::string> master;   // bridge this is a port of (ip only)
  Counters rx;
  Counters tx;
  bool name_truncated = false;         // old ifconfig cut it to 9 characters
  std::size_t line = 0;                // where its record starts
  bool operator==(const Link &) const = default;
};

// ---- bridges (brctl show, bridge link) -------------------------------------

struct Bridge {
  std::string name;
  std::string id;          // "8000.feffffffffff"; empty from `bridge link`
  std::optional<bool> stp; // nullopt from `bridge link`
  std::vector<std::string> ports; // in printed order
  bool operator==(const Bridge &) const = default;
};

// ---- VIF names -------------------------------------------------------------

enum class VifKind { vif, tap };

// A dom0 interface name of a guest's NIC: vif<domid>.<device>, its HVM
// emulated twin tap<domid>.<device>, or the "-emu" spelling some builds use.
struct VifName {
  VifKind kind = VifKind::vif;
  std::int64_t dom_id = 0;
  std::int64_t device = 0;
  bool operator==(const VifName &) const = default;
};

// nullopt unless `name` is exactly one of the spellings above.
std::optional<VifName> parse_vif_name(const std::string &name);
const char *to_string(VifKind kind);

} // namespace vifwall
