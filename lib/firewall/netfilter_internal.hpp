// Internal to lib/firewall: the pieces the files behind netfilter.hpp share
// (netfilter_model, rule_words, canonical_values, option_groups,
// canonical_rules, canonical_iptables, canonical_bridge).  Not an API: only
// those files include it, everything else goes through netfilter.hpp.
//
// Contract of the pieces:
// - The normalize_* functions take one value as a tool prints or a user
//   types it and return the one spelling the canonical forms compare; a value
//   they do not understand comes back unchanged (never an error: a rule with
//   an odd value must still compare equal to itself).  Pure, no I/O.
// - group_options() splits a rule's words into option groups; every input
//   word ends up in exactly one group, so printing all groups keeps every
//   word, and printing groups one after the other reads back into the same
//   groups (the canonical forms must be their own canonical form).
// - canonical_form() is the walk every family's canonical form shares; a
//   family passes in its syntax and a RuleForm that places and prints the
//   named options.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netfilter.hpp"

namespace vifwall::netfilter_detail {

// ---- words --------------------------------------------------------------------

// Options whose single value is free text and may itself look like an option
// ("--comment -x"): the value is always taken, whatever it looks like.
inline bool takes_one_text_value(std::string_view option) {
  return option == "--comment" || option == "--log-prefix" ||
         option == "--nflog-prefix" || option == "--ulog-prefix";
}

// ---- canonical values (canonical_values.cpp) --------------------------------

std::string upper(std::string_view s);
std::vector<std::string> split_on(std::string_view s, char sep);
std::string join_on(const std::vector<std::string> &parts, char sep);

struct AddressForm {
  bool omit_host_prefix = false; // ipset prints hosts without /32
};

// "10.0.0.5/255.255.0.0" -> "10.0.0.0/16", "192.168.1.7" -> "192.168.1.7/32",
// "FD00:1:0::2" -> "fd00:1::2/128".  Anything that is not a numeric address
// (a host name, a range) comes back unchanged.
std::string normalize_address(std::string_view text, AddressForm form = {});
// 0.0.0.0/0 or ::/0, as normalize_address prints them.
bool is_any_address(const std::string &normalized);
// "22:22" -> "22", ":1023" -> "0:1023", "1024:" -> "1024:65535".
std::string normalize_port_range(std::string_view s);
// A comma list of port ranges (multiport), each normalized.
std::string normalize_port_list(std::string_view s);
// A protocol as iptables-save prints it: the name where it has one.
std::string normalize_ip_protocol(std::string_view s, bool ipv6);
// The match module that `-p PROTO` loads implicitly for its options; "" if none.
std::string protocol_match(const std::string &protocol);
// An ICMP type as iptables-save prints it: "TYPE" or "TYPE/CODE".
std::string normalize_icmp_type(std::string_view s, bool ipv6);
// Conntrack states in the order libxt_state/libxt_conntrack print them.
std::string normalize_state_list(std::string_view s);
// TCP flag lists in libxt_tcp's print order; "ALL" and "NONE" resolved.
std::string normalize_tcp_flags(std::string_view s);
// MAC, MAC/MASK and (with `ebtables_names`) ebtables' names for MAC/MASK pairs.
std::string normalize_mac_value(std::string_view s, bool ebtables_names);
// /etc/ethertypes names ebtables prints for -p.
std::string normalize_ethertype(std::string_view s);
// ARP opcodes by the names ebtables and arptables print.
std::string normalize_arp_opcode(std::string_view s);
// An arptables --h-type (decimal; "Ethernet" is 1) or --proto-type (hex;
// "IPv4" is 0x800) value, rewritten in place; left as it is when no number.
void normalize_arp_type(std::string_view option, std::string &value);

// ---- option groups (option_groups.cpp) --------------------------------------

// One option with its negation and values: `! --dport 22`.
struct OptionGroup {
  bool negated = false;
  std::string name; // "" for a stray value
  std::vector<std::string> values;

  std::vector<std::string> words() const;
  // Appends words() to `out` (no vector of its own).
  void append_words(std::vector<std::string> &out) const;
  std::string sort_key() const;
};

using AliasMap = std::map<std::string, std::string>;

// How a family's words group into options.
struct GroupingRules {
  // Short options that take a value and may be glued to it (`-jDROP`).
  std::string_view glued_short;
  // Exact number of values of an option, when the heuristic "values run up
  // to the next option-like word" is not good enough; nullopt otherwise.
  std::optional<std::size_t> (*arity)(const std::string &option) = nullptr;
};

bool looks_like_option(std::string_view word);

// Splits args into option groups.  A word that is no option joins the
// group before it as one more value (a stray word stays with the option it
// followed, wherever that option is sorted to); words before any option,
// or after a `!` that no option follows, make groups without a name; a `!`
// that negates nothing (the last word, or one before another `!`) makes a
// dangling group (is_dangling_negation).  The canonical forms print groups
// so that splitting the printed text groups it the same way: their output
// must be their own canonical form, and keep every word.
std::vector<OptionGroup> group_options(const std::vector<std::string> &args,
                                       const GroupingRules &rules);

// The group group_options makes of a `!` that negates nothing.  Printed
// last, since anything printed after it would be negated.
inline bool is_dangling_negation(const OptionGroup &g) {
  return g.name.empty() && !g.negated && g.values.size() == 1 && g.values[0] == "!";
}

// After an alias (`--in-if` -> `-i`) the option may have a fixed number of
// values its long name was not read with; printed without one, it would take
// the next word when read back, so a missing value is printed as "".
inline void pad_values(OptionGroup &g, std::size_t count) {
  if (g.values.size() < count)
    g.values.resize(count);
}

// `name`'s entry in `aliases`, or `name` itself (a reference to one of the
// two: valid as long as both are).
const std::string &alias(const std::string &name, const AliasMap &aliases);

// `-c P B`, dropped from canonical forms (`! -c` is no counter, and kept).
bool is_counter_option(const OptionGroup &g);

// Sorts option groups: the options in `print_order` first, in that order
// (the order the tool lists them, so canonical strings read naturally), then
// the others by name and value.
void sort_groups(std::vector<OptionGroup> &groups,
                 const std::vector<std::string> &print_order = {});

// Appends each group's words to `out`.
void append_words(std::vector<std::string> &out, const std::vector<OptionGroup> &groups);

// ---- the shared walk (canonical_rules.cpp) ----------------------------------

// What one family adds to the walk: where each named option goes, and how
// the options are printed.  One object per canonical_form() call.
class RuleForm {
public:
  virtual ~RuleForm() = default;
  // One option group with a name (already through the family's aliases,
  // counters dropped), in input order.
  virtual void place(OptionGroup &&group) = 0;
  // Appends the placed options in the family's print order, after the
  // strays and before the dangling `!`s.
  virtual void print(std::vector<std::string> &out) = 0;
  // `!`s that negate nothing, printed last; place() may add some (`! -m x`).
  std::size_t dangling_negations = 0;
};

struct FamilySyntax {
  GroupingRules grouping;
  const AliasMap &aliases; // long spellings -> the names the tool prints
};

// The walk every family shares: groups `args`, counts dangling `!`s, maps
// names through the aliases, drops `-c P B` counters, keeps the groups
// without a name (strays) to print first, and hands every other group to
// `form`; prints strays, form.print(), the dangling `!`s, joined by
// join_rule_words.
std::string canonical_form(const std::vector<std::string> &args, const FamilySyntax &syntax,
                           RuleForm &form);

// The families (canonical_iptables.cpp, canonical_bridge.cpp).
std::string canonical_iptables(const std::vector<std::string> &args, bool ipv6);
std::string canonical_ebtables(const std::vector<std::string> &args);
std::string canonical_arptables(const std::vector<std::string> &args);

} // namespace vifwall::netfilter_detail
