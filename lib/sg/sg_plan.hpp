// From "what the firewall should hold" (a VmPlan from sg_render) and "what it
// holds" (parsed live tables) to the smallest change, per table, that makes
// the live one hold the plan -- and nothing else of ours.
//
// Contract:
//  * Chains in `owned` (this VM's, old and new names) are ours: their content
//    is replaced when it differs from the plan, and they are destroyed when
//    the plan no longer has them.
//  * In shared chains (FORWARD, BRIDGE-FIREWALL) only rules `is_ours` accepts
//    are ever deleted (jumps to our chains, e.g. a stale vif of the VM's last
//    domid); other software's rules are never touched.  Planned rules missing
//    from a shared chain are inserted next to their planned neighbours, and
//    after the host-wide anchors (the jump to BRIDGE-DEFAULT-FIREWALL or
//    DEFAULT_EBTABLES) when they have none.
//  * Rules are compared by meaning (canonical_args), so a plan written the way
//    we type rules matches what the save tools print back.
//  * An empty TableEdit means the table already holds the plan: a second
//    identical run changes nothing.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "netfilter.hpp"
#include "sg_render.hpp"

namespace vifwall {

struct RuleDeletion {
  std::string chain;
  std::vector<std::string> args; // as the live table printed them
  std::size_t position = 0;      // 1-based, in the live chain before any change
};

struct RuleInsertion {
  std::string chain;
  std::vector<std::string> args;
  std::size_t position = 0; // 1-based, valid when applied in order after the deletions
};

struct TableEdit {
  Family family = Family::iptables;
  std::vector<std::string> create_chains;  // declared before anything else
  std::vector<ChainContent> replace_chains; // ours, existing, content differs
  std::vector<ChainContent> new_chains;     // ours, missing: created with this content
  std::vector<RuleDeletion> deletions;      // from shared chains
  std::vector<std::string> destroy_chains;  // ours, no longer planned
  std::vector<RuleInsertion> insertions;    // into shared chains, in order
  // The whole table after the edit (for ebtables, which is loaded whole).
  FwTable result;

  bool empty() const;
  // "+3 -1 rules, 2 chains replaced" for logs.
  std::string summary() const;
};

using IsOurs = std::function<bool(const FwRule &)>;

// `live` may be nullptr (table absent or empty).  `family` selects the
// canonical form.  Chains of the plan's shared_chains that are missing are
// created.
TableEdit diff_table(Family family, const TablePlan &plan, const FwTable *live,
                     const std::set<std::string> &owned, const IsOurs &is_ours);

// The edit that undoes `edit` exactly, rule positions included, given the
// table it was computed from (`before`).  For a rollback after a later step
// failed: the restored table is byte-for-byte the one that was read.
TableEdit inverse_edit(const TableEdit &edit, const FwTable &before);

// iptables-restore --noflush input for the edit (an empty string for an empty
// edit).  Chains are declared, then stale rules deleted (-D with the live
// arguments), destroyed chains flushed and deleted, replaced and new chains
// filled, and insertions made with -I CHAIN N / -A CHAIN.
std::string render_iptables_edit(const TableEdit &edit);

// A whole `*filter` table for ebtables-restore (legacy ebtables-restore has no
// --noflush and rebuilds each table it reads; ebtables-nft-restore does the
// same without --noflush): every chain with its policy, every rule.
std::string render_ebtables_table(const FwTable &table);

// arptables argument vectors (without the program): deletions by number,
// highest first; -N / -F for chains; -X for destroyed ones; -A for chain
// content; -I CHAIN N / -A for insertions.
std::vector<std::vector<std::string>> render_arptables_edit(const TableEdit &edit);

// The ebtables chain the cut-off rules jump to: it drops everything.  A
// chain of our own, so that our cut-off rules can never be confused with
// anybody else's `-i VIF -j DROP`.
inline constexpr const char *kCutoffChain = "vifwall-cutoff";

// The arptables commands that undo `done` (a prefix of
// render_arptables_edit()'s output, run in order), given the table before
// them: each command's inverse, last first, so that even a sequence that
// stopped half way is put back exactly (rules at their old positions).
std::vector<std::vector<std::string>>
undo_arptables_commands(const std::vector<std::vector<std::string>> &done, const FwTable &before);

// Adds ebtables rules at the top of FORWARD sending everything from and to
// `vifs` to kCutoffChain (created if missing): the VM is cut off while
// several tables change, so that no moment lets through what neither its old
// nor its new policy allows.
FwTable with_quarantine(const FwTable &table, const std::vector<std::string> &vifs);
// A FORWARD rule sending one of `vifs` to kCutoffChain.
bool is_quarantine_rule(const FwRule &rule, const std::set<std::string> &vifs);
// Removes kCutoffChain when no rule jumps to it any more.
FwTable without_unused_cutoff(FwTable table);

} // namespace vifwall
