// Asking every pool member through XAPI: the members (`xe host-list`), one
// call of the vifwall host plugin on each (`xe host-call-plugin`), and what
// came back, member by member.  A member that is down, whose plugin is
// missing or fails, or whose answer is not the plugin's JSON is an answer
// too: a MemberAnswer with an error, never a failure of the whole call.
//
// Every value reaches xe as one word of an argument vector (exec.hpp), after
// validation: host uuids from host-list, the plugin arguments (selection
// values checked by pool_vif_args, again by the plugin).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "exec.hpp"
#include "vif_query.hpp"

namespace vifwall {

struct PoolMember {
  std::string uuid;            // lower case, validated
  std::string name_label;      // raw, for display only
  std::optional<bool> live;    // host-metrics-live; nullopt when not listed
  // For messages and the HOST column: the name-label, or the uuid without one.
  std::string display() const { return name_label.empty() ? uuid : name_label; }
};

// `xe host-list params=uuid,name-label,host-metrics-live`.  Every record
// needs a uuid that looks like one (hex and '-', 36 characters); an
// empty list is an error (xe always lists at least this host).
Result<std::vector<PoolMember>> parse_host_list(std::string_view text, const std::string &source);

// The plugin's answer, its envelope (xapi/vifwall): {host, hostname, tool,
// exit, output, stderr}.  `output` is kept as JSON text ("" for null) for
// the tool-specific readers of pool_answer.hpp.
struct PluginAnswer {
  std::optional<std::string> host; // the member's INSTALLATION_UUID
  std::string hostname;
  std::string tool;
  int exit = 0;
  std::string output; // compact JSON, "" when the tool printed none
  std::string stderr_text;
};

struct MemberAnswer {
  PoolMember member;
  std::optional<PluginAnswer> answer; // nullopt: the member did not answer
  std::string error;                  // why it did not (or why its answer is unusable)
  bool answered() const { return error.empty(); }
};

struct PoolOptions {
  std::string xe; // path of xe; empty: find_xe's search
  // Per member: the plugin's own timeout (whole seconds, 1-300) and xe's,
  // which is this plus a margin.
  std::chrono::seconds timeout{60};
};

// The plugin's timeout for a tool whose commands may each take
// `command_seconds` (--timeout): six times that, rounded up, 1-300 seconds.
std::chrono::seconds pool_timeout(double command_seconds);

// The plugin arguments of a vif-of selection: "vm.0"=NAME, "domid.0"=N,
// "iface.N", "mac.N", "ip.N", "bridge.N", "all"="true".  Every value is
// checked first (VM keys: 1-255 bytes without control characters; the
// others as validate.hpp says); the first bad one is the error.
Result<std::vector<std::pair<std::string, std::string>>> pool_vif_args(const VifQuery &query);

// The members, then `fn` of the plugin `plugin` on each (at the same time
// when the runner is concurrent), in host-list order.  Fails only when the
// members cannot be listed.  A member whose host-metrics-live is false is
// not called: its answer is the error "down (host-metrics-live is false)".
Result<std::vector<MemberAnswer>>
ask_pool(CommandRunner &runner, const PoolOptions &options, const std::string &plugin,
         const std::string &fn, const std::vector<std::pair<std::string, std::string>> &args);

// The text of one member's call (xe's stdout) read as the plugin's envelope
// (pool_answer.cpp); "" source names the member in errors.
Result<PluginAnswer> parse_plugin_answer(std::string_view text, const std::string &source);

// "xenpool2 (7b2a...)": how messages name a member.
std::string describe_member(const PoolMember &member);

} // namespace vifwall
