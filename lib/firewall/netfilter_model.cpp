// The firewall model's lookups (netfilter.hpp): a rule's target, a table's
// chains and rules, a dump's tables, an ipset dump's sets.
#include "netfilter.hpp"

#include "netfilter_internal.hpp"
#include "text.hpp"

namespace vifwall {

using netfilter_detail::takes_one_text_value;

std::string FwRule::target() const { return std::string(target_name()); }

std::string_view FwRule::target_name() const {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view word = args[i];
    // Values (addresses, ports, names) are most words: one test skips them.
    if (word.size() < 2 || word[0] != '-')
      continue;
    if (word[1] == '-') {
      if (takes_one_text_value(word)) {
        ++i;
        continue;
      }
      if (word == "--jump" || word == "--goto")
        return i + 1 < args.size() ? std::string_view(args[i + 1]) : std::string_view();
      continue;
    }
    if (word[1] == 'j' || word[1] == 'g')
      return word.size() == 2 ? (i + 1 < args.size() ? std::string_view(args[i + 1]) : std::string_view())
                              : word.substr(2);
  }
  return {};
}

const FwChain *FwTable::chain(std::string_view wanted) const {
  for (const FwChain &c : chains)
    if (c.name == wanted)
      return &c;
  return nullptr;
}

std::vector<const FwRule *> FwTable::rules_of(std::string_view wanted) const {
  std::vector<const FwRule *> out;
  for (const FwRule &r : rules)
    if (r.chain == wanted)
      out.push_back(&r);
  return out;
}

const FwTable *FwDump::table(std::string_view wanted) const {
  for (const FwTable &t : tables)
    if (t.name == wanted)
      return &t;
  return nullptr;
}

FwTable filter_table_of(const FwDump &dump) {
  if (const FwTable *table = dump.table("filter"))
    return *table;
  FwTable empty;
  empty.name = "filter";
  return empty;
}

bool is_nf_tables(const FwDump &dump) {
  // iptables-nft 1.8.0-1.8.2 (Debian 10, RHEL 8) called itself xtables-save.
  return dump.generator.find("nf_tables") != std::string::npos ||
         starts_with(dump.generator, "xtables-");
}

const IpSet *IpsetDump::find(std::string_view wanted) const {
  for (const IpSet &s : sets)
    if (s.name == wanted)
      return &s;
  return nullptr;
}

} // namespace vifwall
