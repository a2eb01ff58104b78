// vif-of --pool: every member's answer to the same selection, merged into
// one selection whose rows carry their member (the HOST column, JSON's
// "host" and "hostname"), and printed by host_print's one walk, so the
// pool's table and JSON cannot drift from a single host's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host_print.hpp"
#include "pool_answer.hpp"
#include "pool_query.hpp"
#include "vif_query.hpp"

namespace vifwall {

struct PoolVifAnswer {
  struct Member {
    MemberAnswer answer; // answered() false: reported, not in the rows
    RowHost host;
    MemberVifs vifs;
  };
  // Heap members: the selection's rows point into them.
  std::vector<std::unique_ptr<Member>> members;
  HostSelection selection;
  // One message per selector that matched on no member (exit 1).
  std::vector<std::string> not_found;
  // "xenpool2 (uuid) did not answer: REASON", one per member that did not answer (exit 3).
  std::vector<std::string> failures;
};

// Reads each answer (a tool exit other than 0 or 1, or output that is not
// vif-of's JSON, makes the member one that did not answer), then merges in
// member order.  A halted VM every member lists is shown once, with no host.
std::unique_ptr<PoolVifAnswer> merge_pool_vifs(std::vector<MemberAnswer> answers,
                                               const VifQuery &query);

// {"vms", "orphans" (each with "host" and "hostname"), "hosts": [{"host",
// "hostname", "answered", "exit", "error" when not answered}]}.
std::string render_pool_vif_json(const PoolVifAnswer &answer, bool pretty);

} // namespace vifwall
