// What pool members answer, read back: the vifwall plugin's envelope
// (parse_plugin_answer, declared in pool_query.hpp), vif-of's JSON into the
// host model, sg-diff's JSON into what the pool's text needs, and the
// pool's sg-diff document.  A member's output is untrusted input: every
// reader checks types and says where it went wrong ("the answer of
// xenpool2 (...): vms[1].dom_id: expected an integer, got "7"").
// nlohmann-json is used here only (pool_answer.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "host.hpp"
#include "pool_query.hpp"

namespace vifwall {

// `vif-of --json` ({"vms": [...], "orphans": [...]}, vif-of(8)) back into
// VMs and interfaces.  Unknown keys are ignored (a newer member); a
// missing or null fact is "not known".
struct MemberVifs {
  std::vector<HostVm> vms;
  std::vector<HostVif> orphans;
};
Result<MemberVifs> parse_vif_of_json(std::string_view json, const std::string &source);

// `sg-diff --json` (sg-diff(8)): the verdict, the summary line, each
// difference as the text report's line ("VM: KIND TABLE CHAIN: RULE
// (DETAIL)"), then "note: " and "problem: " lines.
struct MemberDiff {
  bool differ = false;
  std::string summary;
  std::vector<std::string> lines;
};
Result<MemberDiff> parse_sg_diff_json(std::string_view json, const std::string &source);

// sg-diff --pool --json: {"differ", "partial", "hosts": [{"host",
// "hostname", "answered", "exit", "error" (when not answered), "output"
// (the member's sg-diff document, or null)}]}.
std::string render_pool_diff_json(const std::vector<MemberAnswer> &answers, bool differ,
                                  bool pretty);

} // namespace vifwall
