#include "parse_arptables.hpp"

#include <unordered_set>

#include "parse_iptables_save.hpp"
#include "text.hpp"

namespace vifwall {

namespace {

void warn_about_dead_forward(FwDump &dump) {
  for (const FwTable &table : dump.tables)
    if (const FwChain *forward = table.chain("FORWARD"); forward && forward->policy == "-")
      dump.warnings.push_back(
          "arptables FORWARD is a user chain here (arptables-nft has no FORWARD "
          "hook): no packet traverses its rules");
}

// "(policy ACCEPT 3788 packets, 106K bytes)" body without the parentheses.
bool parse_chain_detail(std::string_view detail, FwChain &chain) {
  const auto words = split_blanks(detail);
  if (words.size() == 2 && words[0] == "policy") {
    chain.policy = std::string(words[1]);
    return true;
  }
  if (words.size() == 6 && words[0] == "policy" && words[3] == "packets," &&
      words[5] == "bytes") {
    chain.policy = std::string(words[1]);
    chain.counters = parse_listing_count(words[2], words[4]);
    return chain.counters.has_value();
  }
  if (words.size() == 2 && (words[1] == "references" || words[1] == "reference")) {
    chain.policy = "-";
    chain.references = parse_u64(words[0]);
    return chain.references.has_value();
  }
  return false;
}

} // namespace

Result<FwDump> parse_arptables_list(std::string_view text, const std::string &source) {
  const std::string cleaned = clean_text(text);
  FwDump dump;
  dump.tables.push_back(FwTable{"filter", {}, {}, 0});
  FwTable &table = dump.tables.back();
  std::unordered_set<std::string> chain_names;
  std::optional<std::string> chain; // rules go here (names stay valid, pointers would not)

  for (const Line &line : split_lines(cleaned)) {
    const std::string_view text_line = trim(line.text);
    if (is_skippable_line(text_line, dump))
      continue;
    if (starts_with(text_line, "Chain ")) {
      const std::string_view rest = text_line.substr(6);
      const auto open = rest.find(" (");
      if (open == std::string_view::npos || rest.back() != ')')
        return fail(source, line.number,
                    "expected \"Chain NAME (policy POLICY)\" or \"Chain NAME (N "
                    "references)\", got " +
                        quote_for_error(text_line));
      FwChain parsed{std::string(rest.substr(0, open)), "", std::nullopt, std::nullopt,
                     line.number};
      const std::string_view detail = rest.substr(open + 2, rest.size() - open - 3);
      if (parsed.name.empty() || !parse_chain_detail(detail, parsed))
        return fail(source, line.number,
                    "expected \"(policy POLICY[ N packets, B bytes])\" or \"(N "
                    "references)\", got " +
                        quote_for_error(rest.substr(open + 1)));
      if (!chain_names.insert(parsed.name).second)
        return fail(source, line.number,
                    "expected a new chain, got " + quote_for_error(parsed.name) + " again");
      chain = parsed.name;
      table.chains.push_back(std::move(parsed));
      continue;
    }
    if (!chain)
      return fail(source, line.number,
                  "expected \"Chain NAME (policy POLICY)\", got " + quote_for_error(text_line));

    // A rule: [NUM ]-j TARGET ITEMS [, pcnt=P -- bcnt=B]
    std::string_view rule_text = text_line;
    std::optional<RuleCounters> counters;
    const auto tail = rule_text.rfind(", pcnt=");
    if (tail != std::string_view::npos) {
      const auto parts = split_blanks(rule_text.substr(tail + 2));
      // pcnt=P -- bcnt=B
      if (parts.size() != 3 || !starts_with(parts[0], "pcnt=") || parts[1] != "--" ||
          !starts_with(parts[2], "bcnt="))
        return fail(source, line.number,
                    "expected \", pcnt=PACKETS -- bcnt=BYTES\", got " +
                        quote_for_error(rule_text.substr(tail)));
      counters = parse_listing_count(parts[0].substr(5), parts[2].substr(5));
      if (!counters)
        return fail(source, line.number,
                    "expected counter numbers, got " + quote_for_error(rule_text.substr(tail)));
      rule_text = trim(rule_text.substr(0, tail));
    }
    auto words = split_rule_words(rule_text);
    if (!words)
      return fail(source, line.number,
                  "expected a closing '\"', got end of line in " + quote_for_error(text_line));
    if (!words->empty() && parse_u64(words->front()))
      words->erase(words->begin()); // --line-numbers
    if (words->empty() || (words->front() != "!" && words->front()[0] != '-'))
      return fail(source, line.number,
                  "expected a rule (\"-j TARGET ...\"), got " + quote_for_error(text_line));
    FwRule rule;
    rule.chain = *chain;
    rule.args = std::move(*words);
    rule.counters = counters;
    rule.line = line.number;
    table.rules.push_back(std::move(rule));
  }
  warn_about_dead_forward(dump);
  return dump;
}

Result<FwDump> parse_arptables_save(std::string_view text, const std::string &source) {
  auto dump = parse_xtables_save(text, source, SaveDialect{false, false});
  if (dump)
    warn_about_dead_forward(*dump);
  return dump;
}

} // namespace vifwall
