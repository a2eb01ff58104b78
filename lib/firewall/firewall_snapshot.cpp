#include "firewall_snapshot.hpp"

#include <sys/stat.h>

#include "parse_arptables.hpp"
#include "parse_ebtables.hpp"
#include "parse_ipset.hpp"
#include "parse_iptables_save.hpp"
#include "text.hpp"

namespace vifwall {

const std::vector<std::string> kIptablesSnapshotNames = {"iptables-save"};
const std::vector<std::string> kIp6tablesSnapshotNames = {"ip6tables-save"};
const std::vector<std::string> kEbtablesSnapshotNames = {"ebtables-save", "ebtables"};
const std::vector<std::string> kArptablesSnapshotNames = {"arptables", "arptables-save"};
const std::vector<std::string> kIpsetSnapshotNames = {"ipset-save", "ipset-list"};

std::vector<InputText> FirewallTexts::present() const {
  std::vector<InputText> out;
  for (const auto *text : {&iptables, &ip6tables, &ebtables, &arptables, &ipsets})
    if (*text)
      out.push_back(**text);
  return out;
}

namespace {

// The first line that is neither blank nor a `#` comment.
std::string_view first_content_line(const std::string &text) {
  for (const auto &line : split_lines(text)) {
    const auto trimmed = trim(line.text);
    if (!trimmed.empty() && trimmed.front() != '#')
      return trimmed;
  }
  return {};
}

void add_dump_warnings(std::vector<std::string> &out, const std::string &source,
                       const std::vector<std::string> &warnings) {
  for (const auto &warning : warnings)
    out.push_back(source + ": " + warning);
}

} // namespace

namespace {

// iptables-save, or `iptables -S` (whose output names no table: filter).
Result<FwDump> iptables_dump(const std::string &raw, const std::string &source) {
  const std::string text = clean_text(raw);
  const auto first = first_content_line(text);
  if (starts_with(first, "-P ") || starts_with(first, "-N "))
    return parse_iptables_rules(text, source, "filter");
  return parse_iptables_save(text, source);
}

Result<FwDump> ebtables_dump(const std::string &raw, const std::string &source) {
  const std::string text = clean_text(raw);
  if (starts_with(first_content_line(text), "Bridge table:"))
    return parse_ebtables_list(text, source);
  return parse_ebtables_save(text, source);
}

Result<FwDump> arptables_dump(const std::string &raw, const std::string &source) {
  const std::string text = clean_text(raw);
  if (starts_with(first_content_line(text), "Chain "))
    return parse_arptables_list(text, source);
  return parse_arptables_save(text, source);
}

// From the save's banner: "ebtables-nft-save v1.8.9 (nf_tables)", legacy's
// "ebtables-save v1.0" (Debian adds " (legacy)").  A listing has none.
std::optional<Variant> ebtables_backend_of(const FwDump &dump) {
  if (is_nf_tables(dump))
    return Variant::nft;
  if (dump.generator.find("(legacy)") != std::string::npos || starts_with(dump.generator, "ebtables-save v1."))
    return Variant::legacy;
  return std::nullopt;
}

Result<FwTable> filter_table(const Result<FwDump> &dump) {
  if (!dump)
    return tl::unexpected(dump.error());
  return filter_table_of(*dump);
}

} // namespace

Result<FwTable> parse_iptables_text(const std::string &text, const std::string &source) {
  return filter_table(iptables_dump(text, source));
}

Result<FwTable> parse_ebtables_text(const std::string &text, const std::string &source) {
  return filter_table(ebtables_dump(text, source));
}

Result<FwTable> parse_arptables_text(const std::string &text, const std::string &source) {
  return filter_table(arptables_dump(text, source));
}

Result<IpsetDump> parse_ipset_text(const std::string &raw, const std::string &source) {
  const std::string text = clean_text(raw);
  if (starts_with(first_content_line(text), "Name:"))
    return parse_ipset_list(text, source);
  return parse_ipset_save(text, source);
}

Result<FirewallSnapshot> parse_firewall_texts(const FirewallTexts &texts) {
  FirewallSnapshot snapshot;
  snapshot.warnings = texts.warnings;
  using DumpParser = Result<FwDump> (*)(const std::string &, const std::string &);
  const struct {
    const std::optional<InputText> &input;
    DumpParser parse;
    std::optional<FwTable> &into;
  } tables[] = {
      {texts.iptables, iptables_dump, snapshot.iptables},
      {texts.ip6tables, iptables_dump, snapshot.ip6tables},
      {texts.ebtables, ebtables_dump, snapshot.ebtables},
      {texts.arptables, arptables_dump, snapshot.arptables},
  };
  for (const auto &table : tables) {
    if (!table.input)
      continue;
    auto dump = table.parse(table.input->text, table.input->source);
    if (!dump)
      return tl::unexpected(dump.error());
    table.into = filter_table_of(*dump);
    if (&table.into == &snapshot.ebtables) {
      snapshot.ebtables_backend = ebtables_backend_of(*dump);
      if (const FwTable *nat = dump->table("nat"))
        snapshot.ebtables_nat = *nat;
    }
    // "# Warning: iptables-legacy tables present": rules in the other
    // backend are invisible to this dump, which the user must know.
    add_dump_warnings(snapshot.warnings, table.input->file_name, dump->warnings);
  }
  if (texts.ipsets) {
    auto sets = parse_ipset_text(texts.ipsets->text, texts.ipsets->source);
    if (!sets)
      return tl::unexpected(sets.error());
    snapshot.ipsets = std::move(*sets);
  }
  return snapshot;
}

namespace {

bool is_regular_file(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// DIR/NAME or DIR/NAME.txt for the first name of `names` that exists.
std::optional<std::pair<std::string, std::string>>
find_snapshot_file(const std::string &dir, const std::vector<std::string> &names) {
  for (const auto &name : names)
    for (const auto &path : {dir + "/" + name, dir + "/" + name + ".txt"})
      if (is_regular_file(path))
        return std::make_pair(path, name);
  return std::nullopt;
}

struct SnapshotSlot {
  const std::vector<std::string> *names;
  std::optional<InputText> FirewallTexts::*member;
};

const SnapshotSlot kSlots[] = {
    {&kIptablesSnapshotNames, &FirewallTexts::iptables},
    {&kIp6tablesSnapshotNames, &FirewallTexts::ip6tables},
    {&kEbtablesSnapshotNames, &FirewallTexts::ebtables},
    {&kArptablesSnapshotNames, &FirewallTexts::arptables},
    {&kIpsetSnapshotNames, &FirewallTexts::ipsets},
};

} // namespace

bool has_firewall_snapshot(const std::string &dir) {
  for (const auto &slot : kSlots)
    if (find_snapshot_file(dir, *slot.names))
      return true;
  return false;
}

Result<FirewallTexts> read_firewall_snapshot(const std::string &dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail(dir, 0, "not a snapshot directory (it does not exist or is not a directory)");
  FirewallTexts texts;
  bool any = false;
  for (const auto &slot : kSlots) {
    auto found = find_snapshot_file(dir, *slot.names);
    if (!found)
      continue;
    auto text = read_input_file(found->first);
    if (!text)
      return tl::unexpected(text.error());
    texts.*slot.member = InputText{std::move(*text), found->first, found->second};
    any = true;
  }
  if (!any)
    return fail(dir, 0,
                "snapshot has no firewall dumps (iptables-save, ip6tables-save, ebtables-save, "
                "arptables, ipset-save); take one with `vif-of --capture DIR`");
  return texts;
}

namespace {

struct Capturer {
  CommandRunner &runner;
  const CaptureOptions &options;
  std::vector<std::string> &warnings;

  // Runs argv; on success returns stdout with the "# Warning:" lines of
  // stderr put first (where iptables-nft-save's own warning would sit if
  // merged), so the parsers record them.
  std::optional<std::string> run(const std::vector<std::string> &argv,
                                 std::vector<std::pair<std::string, std::string>> env = {},
                                 std::string *problem = nullptr) {
    Command command{argv};
    command.timeout = options.timeout;
    command.env = std::move(env);
    auto output = runner.run(command);
    std::string why;
    if (!output) {
      why = output.error().str();
    } else if (output->timed_out) {
      why = "timed out after " + std::to_string(options.timeout.count()) + " ms";
    } else if (!output->ok()) {
      const auto err = trim(output->err);
      why = "failed" + (err.empty() ? std::string() : ": " + std::string(err.substr(0, err.find('\n'))));
    } else {
      std::string text;
      for (const auto &line : split_lines(output->err))
        if (starts_with(trim(line.text), "# Warning:"))
          text += std::string(trim(line.text)) + "\n";
      return text + output->out;
    }
    if (problem) {
      // The program by name, as the user would type it.
      std::vector<std::string> shown = argv;
      shown[0] = shown[0].substr(shown[0].rfind('/') + 1);
      *problem = describe(shown) + ": " + why;
    }
    return std::nullopt;
  }

  void warn(const std::string &what, const std::string &why) {
    warnings.push_back(what + " not captured: " + why);
  }
};

std::string iptables_prefix(IptablesChoice choice, const std::string &family) {
  switch (choice) {
  case IptablesChoice::legacy:
    return family + "-legacy";
  case IptablesChoice::nft:
    return family + "-nft";
  case IptablesChoice::automatic:
    break;
  }
  return family;
}

std::optional<InputText> capture_iptables(Capturer &c, const std::string &family,
                                          const std::string &file_name) {
  const std::string save = iptables_prefix(c.options.iptables, family) + "-save";
  auto exe = find_program(save);
  if (!exe) {
    c.warn(file_name, save + " not found");
    return std::nullopt;
  }
  std::string problem;
  auto text = c.run({*exe, "-c"}, {}, &problem);
  if (!text) {
    c.warn(file_name, problem);
    return std::nullopt;
  }
  return InputText{std::move(*text), save + " -c", file_name};
}

std::optional<InputText> capture_ebtables(Capturer &c) {
  const std::string file_name = kEbtablesSnapshotNames.front();
  std::string problems;
  for (const std::string name : {"ebtables", "ebtables-nft", "ebtables-legacy"}) {
    auto exe = find_program(name);
    if (!exe)
      continue;
    // The save (the snapshot's namesake) with counters first: on a host of
    // 1000 VMs the listing costs as much again, and running it first only
    // to learn that this variant works made ebtables the longest read.
    // The listing is the fallback when the save fails or misses the filter
    // table.
    if (auto save = find_program(name + "-save")) {
      auto version = c.run({*exe, "-V"});
      const bool nft = name == "ebtables-nft" ||
                       (version && version->find("nf_tables") != std::string::npos);
      std::vector<std::string> argv{*save};
      if (nft)
        argv.push_back("-c");
      const std::string display = name + "-save" + (nft ? " -c" : "");
      auto text = c.run(argv, {{"EBTABLES_SAVE_COUNTER", "yes"}});
      if (text) {
        auto table = parse_ebtables_save(*text, display);
        if (table && table->table("filter"))
          return InputText{std::move(*text), display, file_name};
      }
    }
    std::string problem;
    auto listing = c.run({*exe, "-t", "filter", "-L", "--Lc"}, {}, &problem);
    if (!listing) {
      problems += (problems.empty() ? "" : "; ") + problem;
      continue;
    }
    return InputText{std::move(*listing), name + " -t filter -L --Lc", file_name};
  }
  c.warn(file_name, problems.empty() ? "no ebtables found" : problems);
  return std::nullopt;
}

std::optional<InputText> capture_arptables(Capturer &c) {
  const std::string file_name = kArptablesSnapshotNames.front();
  std::optional<InputText> without_forward;
  std::string problems;
  for (const std::string name : {"arptables", "arptables-legacy", "arptables-nft"}) {
    auto exe = find_program(name);
    if (!exe)
      continue;
    std::string problem;
    std::vector<std::string> argv{*exe, "-n", "-L", "-v", "-x"};
    auto text = c.run(argv, {}, &problem);
    if (!text) {
      argv.pop_back(); // arptables without -x
      text = c.run(argv, {}, &problem);
    }
    if (!text) {
      problems += (problems.empty() ? "" : "; ") + problem;
      continue;
    }
    InputText input{std::move(*text), name + " " + describe({argv.begin() + 1, argv.end()}), file_name};
    // Only a variant with FORWARD sees bridged ARP (arptables-nft has none).
    if (input.text.find("Chain FORWARD") != std::string::npos)
      return input;
    if (!without_forward)
      without_forward = std::move(input);
  }
  if (without_forward)
    return without_forward;
  c.warn(file_name, problems.empty() ? "no arptables found" : problems);
  return std::nullopt;
}

std::optional<InputText> capture_ipsets(Capturer &c) {
  const std::string file_name = kIpsetSnapshotNames.front();
  auto exe = find_program("ipset");
  if (!exe) {
    c.warn(file_name, "ipset not found");
    return std::nullopt;
  }
  std::string problem;
  auto text = c.run({*exe, "save"}, {}, &problem);
  if (!text) {
    c.warn(file_name, problem);
    return std::nullopt;
  }
  return InputText{std::move(*text), "ipset save", file_name};
}

} // namespace

FirewallTexts capture_firewall(CommandRunner &runner, const CaptureOptions &options) {
  // The five dumps are independent: taken at the same time when the runner
  // allows it, each with its own warnings, merged in this order.
  FirewallTexts texts;
  std::vector<std::string> warnings[5];
  std::vector<Capturer> capturers;
  for (auto &list : warnings)
    capturers.push_back(Capturer{runner, options, list});
  run_together(runner, {
      [&] { texts.iptables = capture_iptables(capturers[0], "iptables", kIptablesSnapshotNames.front()); },
      [&] { texts.ip6tables = capture_iptables(capturers[1], "ip6tables", kIp6tablesSnapshotNames.front()); },
      [&] { texts.ebtables = capture_ebtables(capturers[2]); },
      [&] { texts.arptables = capture_arptables(capturers[3]); },
      [&] { texts.ipsets = capture_ipsets(capturers[4]); },
  });
  for (auto &list : warnings)
    texts.warnings.insert(texts.warnings.end(), list.begin(), list.end());
  return texts;
}

Result<FirewallSnapshot> read_firewall(const std::string &from_dir, CommandRunner &runner,
                                       const CaptureOptions &options) {
  FirewallTexts texts;
  if (from_dir.empty()) {
    texts = capture_firewall(runner, options);
  } else {
    auto read = read_firewall_snapshot(from_dir);
    if (!read)
      return tl::unexpected(read.error());
    texts = std::move(*read);
  }
  if (!texts.iptables) {
    std::string why = from_dir.empty() ? "" : from_dir + ": no iptables-save file";
    for (const auto &warning : texts.warnings)
      if (starts_with(warning, kIptablesSnapshotNames.front()))
        why = warning;
    return fail("cannot read the iptables rules: " + why);
  }
  return parse_firewall_texts(texts);
}

} // namespace vifwall
