#include "pool_query.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

#include "host_inputs.hpp"
#include "parse_xe.hpp"
#include "text.hpp"
#include "validate.hpp"

namespace vifwall {

namespace {

constexpr std::size_t kMaxSelectors = 64;  // the plugin's limit too
constexpr std::size_t kMaxVmKey = 255;
constexpr std::size_t kMaxReason = 400;
const std::chrono::seconds kXeMargin{15};  // xe's own time on top of the plugin's

bool looks_like_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// A member's words (xe's error, a tool's stderr) made fit for one line of a
// message: blank runs and newlines as one space, control characters as '?',
// at most kMaxReason bytes.
std::string one_line(std::string_view text) {
  std::string out;
  bool blank = false;
  for (char c : trim(text)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      blank = true;
      continue;
    }
    if (blank && !out.empty())
      out.push_back(' ');
    blank = false;
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
    if (out.size() >= kMaxReason) {
      out += "...";
      break;
    }
  }
  return out;
}

} // namespace

std::string describe_member(const PoolMember &member) {
  const std::string name = one_line(member.name_label);
  return name.empty() ? member.uuid : name + " (" + member.uuid + ")";
}

Result<std::vector<PoolMember>> parse_host_list(std::string_view text, const std::string &source) {
  auto records = parse_xe_records(text, source);
  if (!records)
    return tl::unexpected(records.error());
  std::vector<PoolMember> members;
  for (const auto &record : *records) {
    const std::string *uuid = record.get("uuid");
    if (!uuid || !looks_like_uuid(trim(*uuid)))
      return fail(source, record.line,
                  "expected a host uuid (36 hex digits and '-'), got " +
                      (uuid ? quote_for_error(*uuid) : std::string("no uuid field")));
    PoolMember member;
    member.uuid = to_lower(trim(*uuid));
    if (const std::string *name = record.get("name-label"))
      member.name_label = *name;
    if (const std::string *live = record.get("host-metrics-live")) {
      const std::string value = to_lower(trim(*live));
      if (value == "true" || value == "false")
        member.live = value == "true";
    }
    const bool twice = std::any_of(members.begin(), members.end(),
                                   [&](const PoolMember &m) { return m.uuid == member.uuid; });
    if (twice)
      return fail(source, record.line, "expected each host once, got " + member.uuid + " again");
    members.push_back(std::move(member));
  }
  if (members.empty())
    return fail(source, 0, "expected at least one host, got none");
  return members;
}

std::chrono::seconds pool_timeout(double command_seconds) {
  const double seconds = std::ceil(command_seconds * 6);
  if (!(seconds >= 1))
    return std::chrono::seconds(1);
  return std::chrono::seconds(seconds > 300 ? 300 : static_cast<long>(seconds));
}

Result<std::vector<std::pair<std::string, std::string>>> pool_vif_args(const VifQuery &query) {
  std::vector<std::pair<std::string, std::string>> args;
  if (query.all)
    args.emplace_back("all", "true");
  auto add = [&](const char *kind, const std::vector<std::string> &values,
                 const std::function<Result<std::string>(const std::string &)> &check) -> Result<void> {
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto value = check(values[i]);
      if (!value)
        return tl::unexpected(value.error());
      args.emplace_back(std::string(kind) + "." + std::to_string(i), *value);
    }
    return {};
  };
  auto vm_key = [](const std::string &key) -> Result<std::string> {
    if (key.empty() || key.size() > kMaxVmKey || has_control(key))
      return fail("invalid VM " + quote_for_error(key) +
                  ": expected a name-label, uuid or uuid prefix of 1 to 255 bytes without "
                  "control characters");
    return key;
  };
  std::vector<std::string> domids;
  for (auto domid : query.domids) {
    if (domid < 0 || domid > 32767)
      return fail("invalid dom-id " + std::to_string(domid) + ": expected 0 to 32767");
    domids.push_back(std::to_string(domid));
  }
  auto as_is = [](const std::string &v) -> Result<std::string> { return v; };
  auto iface = [](const std::string &v) -> Result<std::string> { return validate_iface(v); };
  auto mac = [](const std::string &v) -> Result<std::string> { return validate_mac(v); };
  auto ip = [](const std::string &v) -> Result<std::string> { return validate_ip(v); };
  for (auto step : {add("vm", query.vms, vm_key), add("domid", domids, as_is),
                    add("iface", query.ifaces, iface), add("mac", query.macs, mac),
                    add("ip", query.ips, ip), add("bridge", query.bridges, iface)})
    if (!step)
      return tl::unexpected(step.error());
  if (args.size() > kMaxSelectors)
    return fail("expected at most " + std::to_string(kMaxSelectors) +
                " selections with --pool, got " + std::to_string(args.size()));
  return args;
}

namespace {

// One member's call: xe's error, or the envelope read and checked.
void call_member(CommandRunner &runner, const std::string &xe, const PoolOptions &options,
                 const std::string &plugin, const std::string &fn,
                 const std::vector<std::pair<std::string, std::string>> &args, MemberAnswer &slot) {
  if (slot.member.live == false) {
    slot.error = "down (host-metrics-live is false)";
    return;
  }
  Command command{{xe, "host-call-plugin", "host-uuid=" + slot.member.uuid, "plugin=" + plugin,
                   "fn=" + fn, "args:timeout=" + std::to_string(options.timeout.count())}};
  for (const auto &[key, value] : args)
    command.argv.push_back("args:" + key + "=" + value);
  command.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout + kXeMargin);
  auto output = run_checked(runner, command);
  if (!output) {
    slot.error = "xe host-call-plugin failed: " + one_line(output.error().message);
    return;
  }
  auto answer = parse_plugin_answer(output->out, "the answer of " + describe_member(slot.member));
  if (!answer) {
    slot.error = one_line(answer.error().str());
    return;
  }
  if (answer->host && *answer->host != slot.member.uuid) {
    slot.error = "answered as host " + one_line(*answer->host) + ", not as " + slot.member.uuid;
    return;
  }
  slot.answer = std::move(*answer);
}

} // namespace

Result<std::vector<MemberAnswer>>
ask_pool(CommandRunner &runner, const PoolOptions &options, const std::string &plugin,
         const std::string &fn, const std::vector<std::pair<std::string, std::string>> &args) {
  auto xe = find_xe(options.xe);
  if (!xe)
    return tl::unexpected(xe.error());
  if (options.timeout.count() < 1 || options.timeout.count() > 300)
    return fail("expected a plugin timeout of 1 to 300 seconds, got " +
                std::to_string(options.timeout.count()));
  Command list{{*xe, "host-list", "params=uuid,name-label,host-metrics-live"}};
  list.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kXeMargin + kXeMargin);
  auto listed = run_checked(runner, list);
  if (!listed)
    return tl::unexpected(listed.error());
  auto members = parse_host_list(listed->out, "xe host-list");
  if (!members)
    return tl::unexpected(members.error());
  std::vector<MemberAnswer> answers(members->size());
  std::vector<std::function<void()>> tasks;
  for (std::size_t i = 0; i < members->size(); ++i) {
    answers[i].member = (*members)[i];
    tasks.push_back([&, i] { call_member(runner, *xe, options, plugin, fn, args, answers[i]); });
  }
  run_together(runner, tasks);
  return answers;
}

} // namespace vifwall
