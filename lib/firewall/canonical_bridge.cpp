// The canonical forms of ebtables and arptables rules (netfilter.hpp's
// canonical_args for Family::ebtables and Family::arptables): each family's
// syntax, where its options go, and their print order, for canonical_form().
#include "netfilter_internal.hpp"

#include <set>

#include "text.hpp"

namespace vifwall::netfilter_detail {

namespace {

// ---- ebtables --------------------------------------------------------------------------

std::optional<std::size_t> ebtables_arity(const std::string &name) {
  if (name == "-j" || name == "--jump" || name == "-p" || name == "-s" ||
      name == "-d" || name == "-i" || name == "-o")
    return 1;
  return std::nullopt;
}

// Options that stay matches even when written after -j (ebtables reads
// its command line in any order); everything else after -j belongs to
// the target (`--mark-set`, `--to-destination`, `--arpreply-mac`, ...).
bool is_ebtables_match_option(const std::string &name) {
  if (name.size() == 2)
    return true; // -p -s -d -i -o ...
  for (const char *prefix : {"--ip-", "--ip6-", "--arp-", "--vlan-", "--802_3-",
                             "--among-", "--pkttype-", "--stp-", "--limit",
                             "--log", "--nflog", "--ulog", "--logical-"})
    if (starts_with(name, prefix))
      return true;
  return name == "--mark" || name == "--mark_m";
}

// A match option's values in their canonical spelling.
void normalize_ebtables_match(OptionGroup &g) {
  if (g.name == "-p") {
    for (auto &v : g.values)
      v = normalize_ethertype(v);
  } else if (g.name == "-s" || g.name == "-d") {
    for (auto &v : g.values)
      v = normalize_mac_value(v, true);
  } else if (g.name == "--arp-mac-src" || g.name == "--arp-mac-dst") {
    for (auto &v : g.values)
      v = normalize_mac_value(v, false);
  } else if (g.name == "--ip-src" || g.name == "--ip-dst" ||
             g.name == "--arp-ip-src" || g.name == "--arp-ip-dst" ||
             g.name == "--ip6-src" || g.name == "--ip6-dst") {
    for (auto &v : g.values)
      v = normalize_address(v);
  } else if (g.name == "--ip-proto" || g.name == "--ip6-proto") {
    for (auto &v : g.values)
      v = normalize_ip_protocol(v, g.name == "--ip6-proto");
  } else if (g.name == "--ip-sport" || g.name == "--ip-dport" ||
             g.name == "--ip6-sport" || g.name == "--ip6-dport") {
    for (auto &v : g.values)
      v = normalize_port_range(v);
  } else if (g.name == "--arp-op") {
    for (auto &v : g.values)
      v = normalize_arp_opcode(v);
  }
}

// Matches (sorted: ebtables ANDs them in any order), the target (no target
// means -j CONTINUE), the target's options.
class EbtablesForm : public RuleForm {
public:
  void place(OptionGroup &&g) override {
    if (g.name == "-p" || g.name == "-s" || g.name == "-d" || g.name == "-i" ||
        g.name == "-o" || g.name == "-j")
      pad_values(g, 1); // long aliases are read without a fixed arity
    if (g.name == "-j" && !target_) {
      target_ = std::move(g);
      return;
    }
    if (g.name == "-j" || (target_ && !is_ebtables_match_option(g.name))) {
      target_options_.push_back(std::move(g)); // a second -j stays after the first
      return;
    }
    normalize_ebtables_match(g);
    matches_.push_back(std::move(g));
  }

  void print(std::vector<std::string> &out) override {
    static const std::vector<std::string> order = {"-p", "-s", "-d", "-i", "-o",
                                                   "--logical-in", "--logical-out"};
    sort_groups(matches_, order);
    sort_groups(target_options_);
    append_words(out, matches_);
    if (target_) {
      target_->append_words(out);
    } else {
      out.emplace_back("-j");
      out.emplace_back("CONTINUE");
    }
    append_words(out, target_options_);
  }

private:
  std::vector<OptionGroup> matches_, target_options_;
  std::optional<OptionGroup> target_;
};

// ---- arptables -------------------------------------------------------------------------

std::optional<std::size_t> arptables_arity(const std::string &name) {
  // --h-length too: `-l-d` prints as `--h-length -d`, which must read back
  // as one option with the value `-d`.
  if (name == "-j" || name == "--jump" || name == "-s" || name == "-d" ||
      name == "-i" || name == "-o" || name == "-l" || name == "--h-length")
    return 1;
  return std::nullopt;
}

// Whether a match option of arptables is at its default and is dropped:
// only when nothing else (a stray word) came with it, since a dropped word
// would make two different rules look equal.
bool is_arptables_default(const OptionGroup &g) {
  if (g.negated || g.values.size() != 1)
    return false;
  const std::string &value = g.values[0];
  if (g.name == "-i" || g.name == "-o")
    return value == "any" || value == "*"; // -v prints an unset interface as `any` (`*` with -n)
  return g.name == "--h-length" && value == "6";
}

void normalize_arptables_match(OptionGroup &g) {
  if (g.name == "-s" || g.name == "-d") {
    for (auto &v : g.values)
      v = normalize_address(v);
  } else if (g.name == "--src-mac" || g.name == "--dst-mac") {
    for (auto &v : g.values)
      v = normalize_mac_value(v, false);
  } else if (g.name == "--opcode") {
    for (auto &v : g.values)
      v = normalize_arp_opcode(v);
  } else if (g.name == "--h-type" || g.name == "--proto-type") {
    for (auto &v : g.values)
      normalize_arp_type(g.name, v);
  }
}

void normalize_arptables_target_option(OptionGroup &g) {
  if (g.name == "--mangle-mac-s" || g.name == "--mangle-mac-d")
    for (auto &v : g.values)
      v = normalize_mac_value(v, false);
  if (g.name == "--mangle-ip-s" || g.name == "--mangle-ip-d")
    for (auto &v : g.values)
      v = normalize_address(v);
}

// Matches (sorted), the target and its options last.
class ArptablesForm : public RuleForm {
public:
  void place(OptionGroup &&g) override {
    static const std::set<std::string> match_options = {
        "-i", "-o", "-s", "-d", "--src-mac", "--dst-mac",
        "--h-length", "--opcode", "--h-type", "--proto-type"};
    if (g.name == "-s" || g.name == "-d" || g.name == "-i" || g.name == "-o" ||
        g.name == "-j")
      pad_values(g, 1); // long aliases are read without a fixed arity
    if (g.name == "-j" && !target_) {
      target_ = std::move(g);
      return;
    }
    if (!match_options.count(g.name)) { // target options, also a second -j
      normalize_arptables_target_option(g);
      target_options_.push_back(std::move(g));
      return;
    }
    if (is_arptables_default(g))
      return;
    normalize_arptables_match(g);
    matches_.push_back(std::move(g));
  }

  void print(std::vector<std::string> &out) override {
    static const std::vector<std::string> order = {
        "-i", "-o", "-s", "-d", "--src-mac", "--dst-mac", "--h-length",
        "--opcode", "--h-type", "--proto-type"};
    sort_groups(matches_, order);
    sort_groups(target_options_);
    append_words(out, matches_);
    if (target_)
      target_->append_words(out);
    append_words(out, target_options_);
  }

private:
  std::vector<OptionGroup> matches_, target_options_;
  std::optional<OptionGroup> target_;
};

} // namespace

std::string canonical_ebtables(const std::vector<std::string> &args) {
  static const AliasMap aliases = {
      {"--proto", "-p"},           {"--protocol", "-p"},
      {"--source", "-s"},          {"--src", "-s"},
      {"--destination", "-d"},     {"--dst", "-d"},
      {"--in-interface", "-i"},    {"--in-if", "-i"},
      {"--out-interface", "-o"},   {"--out-if", "-o"},
      {"--jump", "-j"},            {"--ip-source", "--ip-src"},
      {"--ip-destination", "--ip-dst"}, {"--ip-protocol", "--ip-proto"},
      {"--ip-source-port", "--ip-sport"}, {"--ip-destination-port", "--ip-dport"},
      {"--ip6-source", "--ip6-src"}, {"--ip6-destination", "--ip6-dst"},
      {"--ip6-protocol", "--ip6-proto"}, {"--ip6-source-port", "--ip6-sport"},
      {"--ip6-destination-port", "--ip6-dport"}, {"--arp-opcode", "--arp-op"}};
  static const FamilySyntax syntax{{"psdioj", ebtables_arity}, aliases};
  EbtablesForm form;
  return canonical_form(args, syntax, form);
}

std::string canonical_arptables(const std::vector<std::string> &args) {
  static const AliasMap aliases = {
      {"--in-interface", "-i"},   {"--out-interface", "-o"},
      {"--source-ip", "-s"},      {"--destination-ip", "-d"},
      {"--src-ip", "-s"},         {"--dst-ip", "-d"},
      {"--source-mac", "--src-mac"}, {"--destination-mac", "--dst-mac"},
      {"-l", "--h-length"},       {"--jump", "-j"}};
  static const FamilySyntax syntax{{"sdiojl", arptables_arity}, aliases};
  ArptablesForm form;
  return canonical_form(args, syntax, form);
}

} // namespace vifwall::netfilter_detail
