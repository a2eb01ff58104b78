// The comparison as sg-diff prints it: the text report, its summary line and
// the JSON document all come from one walk over the Comparison
// (print_comparison() below) through report::Printer, so that a fact added
// to one output is in the other.  The JSON schema is in sg-diff(8).
#include <algorithm>
#include <map>

#include "compare_internal.hpp"
#include "print_sink.hpp"
#include "sg_compare.hpp"

namespace vifwall {

namespace {

using report::Printer;
using report::Show;
using report::TextForm;

// "1 missing, 2 extra" / "stale vif8.0" for the summary.
std::string brief(const std::vector<Difference> &differences) {
  std::vector<std::string> parts;
  std::map<DiffKind, std::size_t> counts;
  std::vector<std::string> stale_vifs, unprotected_vifs;
  for (const auto &d : differences) {
    if (d.kind == DiffKind::stale_vif)
      stale_vifs.push_back(d.rule);
    else if (d.kind == DiffKind::unprotected && !d.rule.empty())
      unprotected_vifs.push_back(d.rule);
    else
      ++counts[d.kind];
  }
  for (DiffKind kind : {DiffKind::missing, DiffKind::extra, DiffKind::changed, DiffKind::foreign}) {
    if (counts[kind])
      parts.push_back(std::to_string(counts[kind]) + " " + to_string(kind));
  }
  if (counts[DiffKind::vmops_layout])
    parts.insert(parts.begin(), "CloudStack vmops layout");
  if (counts[DiffKind::stale_vm])
    parts.push_back("stale (not running)");
  if (counts[DiffKind::unprotected])
    parts.push_back("unprotected");
  if (!stale_vifs.empty())
    parts.push_back("stale " + join_strings(stale_vifs, " "));
  if (!unprotected_vifs.empty())
    parts.push_back("unprotected " + join_strings(unprotected_vifs, " "));
  return join_strings(parts, ", ");
}

// The summary without its newline; `differing` is c.vms_differing(),
// counted once by the caller.
std::string summary_line(const Comparison &c, std::size_t differing) {
  std::string out = "sg-diff: ";
  std::vector<std::string> parts;
  if (!c.host.empty())
    parts.push_back("host setup: " + brief(c.host));
  // One line, however many VMs differ: the first few by name.
  constexpr std::size_t kNamed = 5;
  std::size_t named = 0;
  for (const auto &vm : c.vms)
    if (!vm.differences.empty() && named++ < kNamed)
      parts.push_back(vm.vm + ": " + brief(vm.differences));
  if (differing > kNamed)
    parts.push_back("and " + std::to_string(differing - kNamed) + " more");
  const std::size_t ok = c.vms.size() - differing;
  if (c.host.empty() && differing == 0) {
    out += "no differences, " + counted(ok, "VM") + " ok";
  } else {
    if (differing > 0)
      out += counted(differing, "VM") + (differing == 1 ? " differs" : " differ");
    else
      out += "host setup differs";
    out += " (" + join_strings(parts, "; ") + "), " + counted(ok, "VM") + " ok";
  }
  if (!c.problems.empty())
    out += "; " + counted(c.problems.size(), "problem") + " (not all compared)";
  return out;
}

// Text only, after the summary: the command that rebuilds the VMs whose
// rules drifted from what sg-apply recorded (missing, extra, changed or
// foreign rules; a stale or unprotected VM needs cleanup or programming,
// not a rebuild).  "" when there is none.
std::string reapply_hint(const Comparison &c) {
  std::string vms;
  bool vmops = false;
  for (const auto &vm : c.vms) {
    const bool of_vmops = std::any_of(vm.differences.begin(), vm.differences.end(),
                                      [](const Difference &d) { return d.kind == DiffKind::vmops_layout; });
    vmops = vmops || of_vmops;
    if (of_vmops)
      continue; // no record of sg-apply's to rebuild from: a takeover, below
    for (const auto &d : vm.differences)
      if (d.kind == DiffKind::missing || d.kind == DiffKind::extra || d.kind == DiffKind::changed ||
          d.kind == DiffKind::foreign) {
        vms += " --vm " + vm.vm;
        break;
      }
  }
  std::string hint;
  if (vmops)
    hint = "sg-diff: hint: to convert what CloudStack's vmops programmed, run `sg-apply takeover`";
  if (!vms.empty())
    hint += (hint.empty() ? "" : "\n") + std::string("sg-diff: hint: to rebuild from the recorded state, run `sg-apply reapply") +
            vms + "`";
  return hint;
}

// One difference: in text the line "WHO: KIND TABLE CHAIN: RULE (DETAIL)"
// (the parts that are empty left out; a VM-wide finding's detail without
// parentheses), in JSON {"kind", "table", "chain", "rule", "args", "detail"}.
// `who` is text only: in JSON the difference is inside its VM's object
// ("name") or in "host".
void print_difference(Printer &p, const std::string &who, const Difference &d) {
  const bool located = !d.table.empty();
  p.open_object();
  p.string(Show::text, "", who, {"", ": ", true});
  p.string(Show::any, "kind", to_string(d.kind), {"", "", true});
  p.string(Show::any, "table", d.table, {" "});
  // Text names a chain only with its table (there is always one).
  p.string(located ? Show::any : Show::json, "chain", d.chain, {" "});
  if (located)
    p.text(":");
  // Two-digit MACs, as people and xe write them (ebtables -L does not).
  p.string(Show::any, "rule", normalize_macs_in(d.rule), {" "});
  p.strings(Show::json, "args", d.args); // text has the rule's readable form
  const bool bare = d.rule.empty() && !located;
  p.string(Show::any, "detail", normalize_macs_in(d.detail), bare ? TextForm{" "} : TextForm{" (", ")"});
  p.text("\n");
  p.close_object();
}

void print_lines(Printer &p, std::string_view key, const std::vector<std::string> &lines,
                 std::string_view prefix) {
  p.open_array(key);
  for (const auto &line : lines)
    p.string(Show::any, "", line, {prefix, "\n", true});
  p.close_array();
}

// The walk.  Text: the differences of the host and of each VM, the notes,
// the problems, the summary.  JSON: the verdict and summary first, then
// "host", "vms" (every VM, with "ok"), "notes", "problems".
void print_comparison(Printer &p, const Comparison &c) {
  const std::size_t differing = c.vms_differing();
  const std::string summary = summary_line(c, differing);
  p.open_object();
  p.boolean(Show::json, "differ", !c.host.empty() || differing > 0);
  p.string(Show::json, "summary", summary); // text: last, below
  p.number(Show::json, "vms_ok", c.vms.size() - differing);
  p.number(Show::json, "vms_differing", differing);
  p.open_array("host");
  for (const auto &d : c.host)
    print_difference(p, "host", d);
  p.close_array();
  p.open_array("vms");
  for (const auto &vm : c.vms) {
    p.open_object();
    p.string(Show::json, "name", vm.vm); // text: each line's WHO
    p.boolean(Show::json, "ok", vm.differences.empty());
    p.open_array("differences");
    for (const auto &d : vm.differences)
      print_difference(p, vm.vm, d);
    p.close_array();
    p.close_object();
  }
  p.close_array();
  print_lines(p, "notes", c.notes, "note: ");
  print_lines(p, "problems", c.problems, "problem: ");
  p.string(Show::text, "summary", summary, {"", "\n", true});
  p.string(Show::text, "hint", reapply_hint(c), {"", "\n"});
  p.close_object();
}

} // namespace

std::string render_comparison_summary(const Comparison &c) {
  return summary_line(c, c.vms_differing()) + "\n";
}

std::string render_comparison_text(const Comparison &c) {
  Printer p = Printer::text();
  print_comparison(p, c);
  return p.take();
}

std::string render_comparison_json(const Comparison &c, bool pretty) {
  Printer p = Printer::json(pretty);
  print_comparison(p, c);
  return p.take();
}

} // namespace vifwall
