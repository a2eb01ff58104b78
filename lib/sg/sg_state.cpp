#include "sg_state.hpp"

#include <algorithm>
#include <dirent.h>

#include "file_util.hpp"
#include "text.hpp"

namespace vifwall {

Result<RuleLog> parse_rule_log(std::string_view raw, const std::string &source) {
  const std::string text = clean_text(raw);
  const auto line = trim(text);
  if (line.find('\n') != std::string_view::npos)
    return fail(source, 2, "expected one line \"vmName,vmID,vmIP,domID,signature,seqno[,vmMac]\"");
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    fields.emplace_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                           : comma - start));
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  if (fields.size() != 6 && fields.size() != 7)
    return fail(source, 1,
                "expected 6 or 7 comma-separated fields "
                "\"vmName,vmID,vmIP,domID,signature,seqno[,vmMac]\", got " +
                    std::to_string(fields.size()));
  if (!parse_i64(fields[5]))
    return fail(source, 1, "expected a number as seqno (field 6), got " + quote_for_error(fields[5]));
  RuleLog log{fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
              fields.size() == 7 ? fields[6] : ""};
  return log;
}

std::string format_rule_log(const RuleLog &log) {
  std::string out = log.vm_name + "," + log.vm_id + "," + log.vm_ip + "," + log.dom_id + "," +
                    log.signature + "," + log.seqno;
  if (!log.mac.empty())
    out += "," + log.mac;
  return out + "\n";
}

LogDecision decide_rules_update(const std::optional<RuleLog> &old, const RuleLog &incoming) {
  if (!old)
    return LogDecision::program_all;
  if (old->dom_id != incoming.dom_id || old->vm_id != incoming.vm_id ||
      old->vm_ip != incoming.vm_ip)
    return LogDecision::program_all;
  const auto old_seq = parse_i64(old->seqno).value_or(-1);
  const auto new_seq = parse_i64(incoming.seqno).value_or(-1);
  const bool same_signature = old->signature == incoming.signature;
  if (new_seq < old_seq)
    return LogDecision::ignore;
  if (new_seq > old_seq)
    return same_signature ? LogDecision::update_log : LogDecision::program_rules;
  return same_signature ? LogDecision::nothing : LogDecision::program_rules;
}

const char *to_string(LogDecision decision) {
  switch (decision) {
  case LogDecision::program_all: return "program all";
  case LogDecision::program_rules: return "program rules";
  case LogDecision::update_log: return "update log";
  case LogDecision::ignore: return "ignore (older seqno)";
  case LogDecision::nothing: return "nothing to do";
  }
  return "?";
}

namespace {

constexpr std::string_view kStateMagic = "vifwall-state 1";

std::string comma_list(const std::vector<std::string> &items) {
  return items.empty() ? "-" : join_strings(items, ",");
}

std::vector<std::string> split_comma_list(std::string_view text) {
  std::vector<std::string> out;
  if (text == "-")
    return out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start)
      out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// "nic N mac M ip A secondary-ips L ipv6 L vifs L" (format_vm_state's order;
// any order is read).
Result<VmNic> parse_nic_line(const std::vector<std::string_view> &words, const std::string &source,
                             std::size_t line) {
  constexpr std::string_view expected =
      "\"nic N mac M ip A secondary-ips LIST ipv6 LIST vifs LIST\"";
  VmNic nic;
  const auto device = words.size() >= 2 ? parse_u64(words[1]) : std::nullopt;
  if (!device || *device < 1 || *device > static_cast<unsigned>(kMaxNicDevice) ||
      words.size() % 2 != 0)
    return fail(source, line, "expected " + std::string(expected) + " with N 1-" +
                                  std::to_string(kMaxNicDevice));
  nic.device = static_cast<int>(*device);
  for (std::size_t k = 2; k + 1 < words.size(); k += 2) {
    const auto key = words[k];
    const auto value = words[k + 1];
    if (key == "mac")
      nic.mac = std::string(value);
    else if (key == "ip")
      nic.ip = std::string(value);
    else if (key == "secondary-ips")
      nic.secondary_ips = split_comma_list(value);
    else if (key == "ipv6")
      nic.ipv6 = split_comma_list(value);
    else if (key == "vifs")
      nic.vifs = split_comma_list(value);
  }
  if (nic.mac.empty() || nic.ip.empty() || nic.vifs.empty())
    return fail(source, line, "expected " + std::string(expected) + ", got no mac, ip or vifs");
  return nic;
}

} // namespace

std::string format_vm_state(const VmState &s) {
  std::string out;
  out += std::string(kStateMagic) + "\n";
  out += "# Written by sg-apply: what was applied to this VM. Read by sg-diff.\n";
  out += std::string("kind ") + (s.kind == VmKind::user ? "user" : "system") + "\n";
  out += "vm " + s.vm_name + "\n";
  out += "vm-id " + s.vm_id + "\n";
  out += "ip " + s.ip + "\n";
  out += "secondary-ips " + join_strings(s.secondary_ips, " ") + "\n";
  out += "mac " + s.mac + "\n";
  out += "dom-id " + s.dom_id + "\n";
  out += "vifs " + join_strings(s.vifs, " ") + "\n";
  if (!s.ipv6.empty())
    out += "ipv6 " + join_strings(s.ipv6, " ") + "\n";
  for (const auto &nic : s.other_nics)
    out += "nic " + std::to_string(nic.device) + " mac " + nic.mac + " ip " + nic.ip +
           " secondary-ips " + comma_list(nic.secondary_ips) + " ipv6 " + comma_list(nic.ipv6) +
           " vifs " + comma_list(nic.vifs) + "\n";
  out += "arp-filter " + s.arp_filter + "\n";
  out += std::string("generation ") + s.generation + "\n";
  out += std::string("rules-applied ") + (s.rules_applied ? "yes" : "no") + "\n";
  out += "rules " + s.rules + "\n";
  out += "signature " + s.signature + "\n";
  out += "seqno " + s.seqno + "\n";
  return out;
}

Result<VmState> parse_vm_state(std::string_view raw, const std::string &source) {
  const std::string text = clean_text(raw);
  const auto lines = split_lines(text);
  if (lines.empty() || trim(lines.front().text) != kStateMagic)
    return fail(source, 1, "expected \"" + std::string(kStateMagic) + "\" (a vifwall state file)");
  VmState state;
  bool have_name = false;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto line = lines[i].text;
    if (line.empty() || line.front() == '#')
      continue;
    const auto space = line.find(' ');
    const auto key = line.substr(0, space);
    const std::string value(space == std::string_view::npos ? std::string_view() : line.substr(space + 1));
    auto words = [&] {
      std::vector<std::string> out;
      for (auto w : split_blanks(value))
        out.emplace_back(w);
      return out;
    };
    if (key == "kind") {
      if (value != "user" && value != "system")
        return fail(source, lines[i].number, "expected kind user or system, got " + quote_for_error(value));
      state.kind = value == "user" ? VmKind::user : VmKind::system;
    } else if (key == "vm") {
      state.vm_name = value;
      have_name = !value.empty();
    } else if (key == "vm-id") {
      state.vm_id = value;
    } else if (key == "ip") {
      state.ip = value;
    } else if (key == "secondary-ips") {
      state.secondary_ips = words();
    } else if (key == "mac") {
      state.mac = value;
    } else if (key == "dom-id") {
      state.dom_id = value;
    } else if (key == "vifs") {
      state.vifs = words();
    } else if (key == "ipv6") {
      state.ipv6 = words();
    } else if (key == "nic") {
      std::vector<std::string_view> nic_words = split_blanks(line);
      auto nic = parse_nic_line(nic_words, source, lines[i].number);
      if (!nic)
        return tl::unexpected(nic.error());
      for (const auto &known : state.other_nics)
        if (known.device == nic->device)
          return fail(source, lines[i].number,
                      "expected each NIC once, got NIC " + std::to_string(nic->device) + " again");
      state.other_nics.push_back(std::move(*nic));
    } else if (key == "arp-filter") {
      state.arp_filter = value;
    } else if (key == "generation") {
      if (value != "a" && value != "b")
        return fail(source, lines[i].number, "expected generation a or b, got " + quote_for_error(value));
      state.generation = value[0];
    } else if (key == "rules-applied") {
      state.rules_applied = value == "yes";
    } else if (key == "rules") {
      state.rules = value;
    } else if (key == "signature") {
      state.signature = value;
    } else if (key == "seqno") {
      state.seqno = value;
    } else {
      // Newer versions may add keys; an older reader keeps going.
    }
  }
  if (!have_name)
    return fail(source, 0, "state file names no VM (no \"vm NAME\" line)");
  return state;
}

std::vector<std::string> all_vifs(const VmState &state) {
  std::vector<std::string> vifs = state.vifs;
  for (const auto &nic : state.other_nics)
    vifs.insert(vifs.end(), nic.vifs.begin(), nic.vifs.end());
  return vifs;
}

bool has_ipv6(const VmState &state) {
  if (!state.ipv6.empty())
    return true;
  for (const auto &nic : state.other_nics)
    if (!nic.ipv6.empty())
      return true;
  return false;
}

std::string rule_log_path(const std::string &dir, const std::string &vm) { return dir + "/" + vm + ".log"; }
std::string vm_state_path(const std::string &dir, const std::string &vm) { return dir + "/" + vm + ".state"; }
std::string ip_file_path(const std::string &dir, const std::string &vm) { return dir + "/" + vm + ".ip"; }

std::vector<std::string> vms_with_rule_logs(const std::string &state_dir) {
  std::vector<std::string> names;
  DIR *dir = ::opendir(state_dir.c_str());
  if (!dir)
    return names;
  while (auto *entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (ends_with(name, ".log") && name.size() > 4 && name.front() != '_' && name.front() != '.')
      names.push_back(name.substr(0, name.size() - 4));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end(), natural_less);
  return names;
}

Result<std::vector<VmState>> read_all_vm_states(const std::string &state_dir) {
  std::vector<VmState> states;
  DIR *dir = ::opendir(state_dir.c_str());
  if (!dir)
    return states; // no state directory: nothing was applied
  std::vector<std::string> names;
  while (auto *entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    // "_host.state" is sg-apply setup's record, not a VM ('_' cannot start a
    // VM name).
    if (ends_with(name, ".state") && name.size() > 6 && name.front() != '_' && name.front() != '.')
      names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end(), natural_less);
  for (const auto &name : names) {
    const std::string path = state_dir + "/" + name;
    auto text = read_input_file(path);
    if (!text)
      return tl::unexpected(text.error());
    auto state = parse_vm_state(*text, path);
    if (!state)
      return tl::unexpected(state.error());
    states.push_back(std::move(*state));
  }
  return states;
}

std::vector<std::string> recorded_vm_names(const std::string &state_dir) {
  std::vector<std::string> names;
  if (auto states = read_all_vm_states(state_dir))
    for (const auto &state : *states)
      names.push_back(state.vm_name);
  return names;
}

} // namespace vifwall
