// Canonical rules (netfilter.hpp): canonical_args/canonical_rule by family,
// and the walk over option groups the three families' forms share.
#include "netfilter.hpp"

#include "netfilter_internal.hpp"

namespace vifwall {

namespace netfilter_detail {

std::string canonical_form(const std::vector<std::string> &args, const FamilySyntax &syntax,
                           RuleForm &form) {
  // Printed in this order, which reads back into the same groups: strays
  // first (printed after an option they would become its values), then
  // what the family placed, and a dangling `!` last.
  std::vector<OptionGroup> strays; // groups without a name (`! x`, leading words)
  for (OptionGroup &g : group_options(args, syntax.grouping)) {
    if (is_dangling_negation(g)) {
      ++form.dangling_negations;
      continue;
    }
    g.name = alias(g.name, syntax.aliases);
    if (is_counter_option(g))
      continue;
    if (g.name.empty())
      strays.push_back(std::move(g));
    else
      form.place(std::move(g));
  }
  std::vector<std::string> out;
  append_words(out, strays);
  form.print(out);
  out.insert(out.end(), form.dangling_negations, "!");
  return join_rule_words(out);
}

} // namespace netfilter_detail

std::string canonical_args(Family family, const std::vector<std::string> &args) {
  switch (family) {
  case Family::iptables:
    return netfilter_detail::canonical_iptables(args, false);
  case Family::ip6tables:
    return netfilter_detail::canonical_iptables(args, true);
  case Family::ebtables:
    return netfilter_detail::canonical_ebtables(args);
  case Family::arptables:
    return netfilter_detail::canonical_arptables(args);
  }
  return join_rule_words(args);
}

std::string canonical_rule(Family family, const FwRule &rule) {
  return canonical_args(family, rule.args);
}

} // namespace vifwall
