// Many packets in one process: each line of a batch parsed, resolved and
// evaluated against the same prepared tables, one answer per line.
#include "sg_check.hpp"
#include "text.hpp"

namespace vifwall {

BatchOutput check_batch(std::string_view text, const std::string &source, const CheckTables &tables,
                        const FirewallView &view, bool json, bool trace) {
  BatchOutput out;
  const std::string clean = clean_text(text);
  for (const auto &line : split_lines(clean)) {
    const std::string_view words = trim(line.text);
    if (words.empty() || words.front() == '#')
      continue;
    CheckAnswer answer;
    std::optional<Error> error;
    auto spec = parse_packet_line(words, source, line.number);
    Result<ResolvedPacket> resolved = spec ? resolve_packet(*spec, view, source, line.number)
                                           : Result<ResolvedPacket>(tl::unexpected(spec.error()));
    CheckResult result;
    if (!resolved) {
      error = resolved.error();
      answer.error = &*error;
      ++out.errors;
    } else {
      result = tables.evaluate(resolved->packet);
      answer.spec = &*spec;
      answer.resolved = &*resolved;
      answer.result = &result;
      ++(result.verdict == Verdict::pass   ? out.passed
         : result.verdict == Verdict::drop ? out.dropped
                                           : out.unknown);
    }
    out.text += json ? render_check_json(answer, trace, false) : render_check_text(answer, trace);
  }
  return out;
}

} // namespace vifwall
