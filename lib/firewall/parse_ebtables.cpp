#include "parse_ebtables.hpp"

#include <unordered_set>

#include "parse_iptables_save.hpp"
#include "text.hpp"

namespace vifwall {

Result<FwDump> parse_ebtables_save(std::string_view text, const std::string &source) {
  return parse_xtables_save(text, source, SaveDialect{false, true});
}

namespace {

struct OpenChain {
  std::string name;
  std::uint64_t entries = 0;
  std::uint64_t seen = 0;
  std::size_t line = 0;
};

// "i-2-9-VM-in, entries: 7, policy: RETURN" -> chain, count, policy.
std::optional<std::tuple<std::string, std::uint64_t, std::string>>
parse_chain_header(std::string_view rest) {
  const auto entries = rest.find(", entries: ");
  const auto policy = rest.find(", policy: ");
  if (entries == std::string_view::npos || policy == std::string_view::npos ||
      policy < entries)
    return std::nullopt;
  const std::string_view name = rest.substr(0, entries);
  const auto count = parse_u64(trim(rest.substr(entries + 11, policy - entries - 11)));
  const std::string_view pol = trim(rest.substr(policy + 10));
  if (name.empty() || !count || pol.empty() || split_blanks(pol).size() != 1)
    return std::nullopt;
  return std::make_tuple(std::string(name), *count, std::string(pol));
}

} // namespace

Result<FwDump> parse_ebtables_list(std::string_view text, const std::string &source) {
  const std::string cleaned = clean_text(text);
  FwDump dump;
  FwTable *table = nullptr;
  std::unordered_set<std::string> table_chains; // names in *table
  std::optional<OpenChain> chain;
  std::size_t last_line = 0;

  // A chain must list as many rules as its header announced.
  auto check_count = [&](std::size_t at) -> std::optional<Error> {
    if (chain && chain->seen != chain->entries)
      return Error{source, at,
                   "expected " + counted(chain->entries, "rule") + " in chain " +
                       quote_for_error(chain->name) + " (\"entries: " +
                       std::to_string(chain->entries) +
                       "\" at line " + std::to_string(chain->line) + "), got " +
                       std::to_string(chain->seen) + " (truncated?)"};
    return std::nullopt;
  };

  for (const Line &line : split_lines(cleaned)) {
    last_line = line.number;
    const std::string_view text_line = trim(line.text);
    if (is_skippable_line(text_line, dump))
      continue;
    if (starts_with(text_line, "Bridge table:")) {
      if (auto error = check_count(line.number))
        return tl::unexpected<Error>(*error);
      chain.reset();
      const std::string name(trim(text_line.substr(13)));
      if (name.empty())
        return fail(source, line.number,
                    "expected \"Bridge table: NAME\", got " + quote_for_error(text_line));
      dump.tables.push_back(FwTable{name, {}, {}, line.number});
      table = &dump.tables.back();
      table_chains.clear();
      continue;
    }
    if (starts_with(text_line, "Bridge chain:")) {
      if (!table)
        return fail(source, line.number,
                    "expected \"Bridge table: NAME\" before chains, got " +
                        quote_for_error(text_line));
      if (auto error = check_count(line.number))
        return tl::unexpected<Error>(*error);
      auto header = parse_chain_header(trim(text_line.substr(13)));
      if (!header)
        return fail(source, line.number,
                    "expected \"Bridge chain: NAME, entries: N, policy: POLICY\", got " +
                        quote_for_error(text_line));
      auto &[name, entries, policy] = *header;
      if (!table_chains.insert(name).second)
        return fail(source, line.number,
                    "expected a new chain, got " + quote_for_error(name) + " again");
      table->chains.push_back(FwChain{name, policy, std::nullopt, std::nullopt, line.number});
      chain = OpenChain{name, entries, 0, line.number};
      continue;
    }
    if (!chain)
      return fail(source, line.number,
                  "expected \"Bridge table: NAME\" or \"Bridge chain: NAME, entries: N, "
                  "policy: POLICY\", got " +
                      quote_for_error(text_line));

    // A rule: [NUM[.]] RULE [, pcnt = P -- bcnt = B]
    std::string_view rule_text = text_line;
    std::optional<RuleCounters> counters;
    const auto tail = rule_text.rfind(", pcnt = ");
    if (tail != std::string_view::npos) {
      const auto parts = split_blanks(rule_text.substr(tail + 2));
      // pcnt = P -- bcnt = B
      if (parts.size() != 7 || parts[0] != "pcnt" || parts[1] != "=" || parts[3] != "--" ||
          parts[4] != "bcnt" || parts[5] != "=")
        return fail(source, line.number,
                    "expected \", pcnt = PACKETS -- bcnt = BYTES\", got " +
                        quote_for_error(rule_text.substr(tail)));
      counters = parse_listing_count(parts[2], parts[6]);
      if (!counters)
        return fail(source, line.number,
                    "expected counter numbers, got " + quote_for_error(rule_text.substr(tail)));
      rule_text = trim(rule_text.substr(0, tail));
    }
    auto words = split_rule_words(rule_text);
    if (!words)
      return fail(source, line.number,
                  "expected a closing '\"', got end of line in " + quote_for_error(text_line));
    if (!words->empty()) {
      std::string first = words->front();
      if (!first.empty() && first.back() == '.')
        first.pop_back();
      if (parse_u64(first))
        words->erase(words->begin()); // --Ln rule number
    }
    if (words->empty() || (words->front() != "!" && words->front()[0] != '-'))
      return fail(source, line.number,
                  "expected a rule (\"-p ...\", \"-j TARGET\"), got " + quote_for_error(text_line));
    if (chain->seen == chain->entries)
      return fail(source, line.number,
                  "expected at most " + counted(chain->entries, "rule") +
                      " in chain " + quote_for_error(chain->name) + ", got another: " +
                      quote_for_error(text_line));
    ++chain->seen;
    FwRule rule;
    rule.chain = chain->name;
    rule.args = std::move(*words);
    rule.counters = counters;
    rule.line = line.number;
    table->rules.push_back(std::move(rule));
  }
  if (auto error = check_count(last_line))
    return tl::unexpected<Error>(*error);
  return dump;
}

} // namespace vifwall
