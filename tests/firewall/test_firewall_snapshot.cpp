#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

#include "firewall_snapshot.hpp"
#include "testutil.hpp"

using namespace vifwall;
using vifwall::test::read_data;

namespace {

const std::string kFixture = std::string(VIFWALL_TEST_DATA) + "/sgshow/xen6-arptables";

std::string program_name(const std::string &path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Answers commands by their program name and arguments ("ipset save"), and
// records what ran.  Anything else exits 1 like a missing subcommand.
class FakeRunner : public CommandRunner {
public:
  std::map<std::string, CommandOutput> answers;
  std::vector<std::string> ran;
  std::vector<Command> commands;

  Result<CommandOutput> run(const Command &command) override {
    std::vector<std::string> argv = command.argv;
    argv[0] = program_name(argv[0]);
    const std::string line = describe(argv);
    ran.push_back(line);
    commands.push_back(command);
    auto found = answers.find(line);
    if (found == answers.end()) {
      CommandOutput failed;
      failed.exit_code = 1;
      failed.err = "fake: no answer for " + line + "\n";
      return failed;
    }
    return found->second;
  }
};

CommandOutput ok(std::string out, std::string err = "") {
  CommandOutput output;
  output.out = std::move(out);
  output.err = std::move(err);
  return output;
}

// A directory of empty executables first in PATH, so find_program() finds
// our names whatever the machine has installed; restored afterwards.
class FakePath {
public:
  explicit FakePath(const std::vector<std::string> &programs) {
    char pattern[] = "/tmp/vifwall-fakepath-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    for (const auto &name : programs) {
      const std::string path = dir_ + "/" + name;
      std::ofstream(path) << "#!/bin/sh\nexit 99\n";
      std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    }
    const char *old = std::getenv("PATH");
    old_ = old ? old : "";
    ::setenv("PATH", (dir_ + ":" + old_).c_str(), 1);
  }
  ~FakePath() {
    ::setenv("PATH", old_.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }
  const std::string &dir() const { return dir_; }

private:
  std::string dir_, old_;
};

std::string temp_dir() {
  char pattern[] = "/tmp/vifwall-snapshot-XXXXXX";
  return ::mkdtemp(pattern);
}

void write(const std::string &path, const std::string &text) { std::ofstream(path) << text; }

} // namespace

TEST_CASE("a snapshot directory written by vif-of --capture reads and parses", "[firewall_snapshot]") {
  auto texts = read_firewall_snapshot(kFixture);
  REQUIRE(texts);
  REQUIRE(texts->iptables);
  REQUIRE(texts->ip6tables);
  REQUIRE(texts->ebtables);
  REQUIRE(texts->arptables);
  REQUIRE(texts->ipsets);
  CHECK(texts->iptables->file_name == "iptables-save");
  CHECK(texts->iptables->source == kFixture + "/iptables-save");
  CHECK(texts->present().size() == 5);

  auto snapshot = parse_firewall_texts(*texts);
  REQUIRE(snapshot);
  REQUIRE(snapshot->iptables);
  CHECK(snapshot->iptables->name == "filter");
  CHECK(snapshot->iptables->chain("i-2-5-VM-def") != nullptr);
  const auto ingress = snapshot->iptables->rules_of("i-2-3-VM");
  REQUIRE(ingress.size() == 3);
  REQUIRE(ingress[1]->counters);
  CHECK(ingress[1]->counters->packets == 1);
  CHECK(ingress[1]->counters->bytes == 84);
  // ip6tables-save printed nothing (no ip6tables rules): an empty filter table.
  REQUIRE(snapshot->ip6tables);
  CHECK(snapshot->ip6tables->rules.empty());
  // The arptables file is a -L -n -v listing.
  REQUIRE(snapshot->arptables);
  const auto arp = snapshot->arptables->rules_of("i-2-5-VM");
  REQUIRE(arp.size() == 17);
  CHECK(arp[9]->counters == RuleCounters{8, 224, false});
  REQUIRE(snapshot->ipsets);
  const IpSet *set = snapshot->ipsets->find("i-2-5-VM-i1a");
  REQUIRE(set);
  CHECK(set->members == std::vector<std::string>{"10.1.0.0/16", "192.168.7.0/24"});
  CHECK(snapshot->warnings.empty());
}

TEST_CASE("each dump's format is told from its content", "[firewall_snapshot]") {
  // ebtables: -L listing and save.
  auto listing = parse_ebtables_text(read_data("samples/ebtables-nft-L-Lc.txt"), "eb");
  REQUIRE(listing);
  CHECK(listing->chain("i-2-9-VM-in") != nullptr);
  auto save = parse_ebtables_text(read_data("netfilter/seed-ebtables-save.txt"), "eb");
  REQUIRE(save);
  CHECK(save->rules_of("i-2-3-VM").size() == 3);
  // arptables: -L listing and the save script.
  auto arp_list = parse_arptables_text(read_data("netfilter/seed-arptables-L.txt"), "arp");
  REQUIRE(arp_list);
  CHECK(arp_list->rules_of("i-2-3-VM").size() == 5);
  auto arp_save = parse_arptables_text(read_data("samples/arptables-legacy-save.txt"), "arp");
  REQUIRE(arp_save);
  CHECK(arp_save->chain("vm-9-arp") != nullptr);
  // ipset: list and save give the same members.
  auto from_list = parse_ipset_text(read_data("samples/ipset-list.txt"), "list");
  auto from_save = parse_ipset_text(read_data("samples/ipset-save.txt"), "save");
  REQUIRE(from_list);
  REQUIRE(from_save);
  REQUIRE(from_list->find("i-2-9-VM"));
  REQUIRE(from_save->find("i-2-9-VM"));
  CHECK(from_list->find("i-2-9-VM")->members == from_save->find("i-2-9-VM")->members);
  // iptables: a dump without a filter table is an empty filter table.
  auto nat_only = parse_iptables_text("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n", "ipt");
  REQUIRE(nat_only);
  CHECK(nat_only->name == "filter");
  CHECK(nat_only->chains.empty());
}

TEST_CASE("the tools' warnings travel with the snapshot", "[firewall_snapshot]") {
  FirewallTexts texts;
  texts.iptables = InputText{read_data("samples/iptables-nft-save.txt"), "ipt", "iptables-save"};
  texts.warnings.push_back("arptables not captured: arptables not found");
  auto snapshot = parse_firewall_texts(texts);
  REQUIRE(snapshot);
  REQUIRE(snapshot->warnings.size() == 2);
  CHECK(snapshot->warnings[0] == "arptables not captured: arptables not found");
  CHECK(snapshot->warnings[1] ==
        "iptables-save: Warning: iptables-legacy tables present, use iptables-legacy-save to see them");
  CHECK_FALSE(snapshot->ebtables);
  CHECK_FALSE(snapshot->arptables);
  CHECK_FALSE(snapshot->ipsets);
}

TEST_CASE("parse errors name the snapshot file and line", "[firewall_snapshot]") {
  FirewallTexts texts;
  texts.iptables = InputText{"*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j DROP\n",
                             "/snap/iptables-save", "iptables-save"};
  auto truncated = parse_firewall_texts(texts);
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().source == "/snap/iptables-save");
  CHECK(truncated.error().message.find("COMMIT") != std::string::npos);

  texts.iptables = InputText{"*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n", "ipt", "iptables-save"};
  texts.ipsets = InputText{"create s hash:ip\nadd t 10.0.0.1\n", "/snap/ipset-save", "ipset-save"};
  auto bad_set = parse_firewall_texts(texts);
  REQUIRE_FALSE(bad_set);
  CHECK(bad_set.error().str().rfind("/snap/ipset-save:2: ", 0) == 0);
}

TEST_CASE("a snapshot directory takes .txt names and the alternative names", "[firewall_snapshot]") {
  const std::string dir = temp_dir();
  write(dir + "/iptables-save.txt", "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j DROP\nCOMMIT\n");
  write(dir + "/ebtables", read_data("samples/ebtables-nft-L.txt"));
  write(dir + "/ipset-list", read_data("samples/ipset-list.txt"));
  REQUIRE(has_firewall_snapshot(dir));
  auto texts = read_firewall_snapshot(dir);
  REQUIRE(texts);
  REQUIRE(texts->iptables);
  CHECK(texts->iptables->source == dir + "/iptables-save.txt");
  REQUIRE(texts->ebtables);
  CHECK(texts->ebtables->file_name == "ebtables");
  CHECK_FALSE(texts->arptables);
  CHECK_FALSE(texts->ip6tables);
  auto snapshot = parse_firewall_texts(*texts);
  REQUIRE(snapshot);
  CHECK(snapshot->iptables->rules.size() == 1);
  CHECK(snapshot->ipsets->find("i-2-9-VM") != nullptr);
  std::filesystem::remove_all(dir);
}

TEST_CASE("an empty or missing snapshot directory is an error", "[firewall_snapshot]") {
  const std::string dir = temp_dir();
  CHECK_FALSE(has_firewall_snapshot(dir));
  auto empty = read_firewall_snapshot(dir);
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message.find("vif-of --capture") != std::string::npos);
  std::filesystem::remove_all(dir);
  auto missing = read_firewall_snapshot(dir);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("not a snapshot directory") != std::string::npos);

  FakeRunner runner;
  auto read = read_firewall(dir, runner, CaptureOptions{});
  REQUIRE_FALSE(read);
  CHECK(runner.ran.empty()); // a snapshot read runs nothing
}

TEST_CASE("capture runs the save tools with counters and keeps their warnings", "[firewall_snapshot]") {
  FakePath path({"iptables-save", "ip6tables-save", "ebtables", "ebtables-save", "arptables",
                 "arptables-legacy", "ipset"});
  FakeRunner runner;
  const std::string ipt = read_data("sgshow/xen6-arptables/iptables-save");
  runner.answers["iptables-save -c"] =
      ok(ipt, "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n");
  runner.answers["ip6tables-save -c"] = ok("");
  runner.answers["ebtables -t filter -L --Lc"] = ok("Bridge table: filter\n");
  runner.answers["ebtables -V"] = ok("ebtables 1.8.9 (nf_tables)\n");
  runner.answers["ebtables-save -c"] = ok(read_data("sgshow/xen6-arptables/ebtables-save"));
  // arptables-nft has no FORWARD chain; arptables-legacy has.
  runner.answers["arptables -n -L -v -x"] = ok("Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n");
  runner.answers["arptables-legacy -n -L -v -x"] = ok(read_data("sgshow/xen6-arptables/arptables"));
  runner.answers["ipset save"] = ok(read_data("sgshow/xen6-arptables/ipset-save"));

  const FirewallTexts texts = capture_firewall(runner, CaptureOptions{});
  CHECK(texts.warnings.empty());
  REQUIRE(texts.iptables);
  CHECK(texts.iptables->text.rfind("# Warning: iptables-legacy tables present", 0) == 0);
  CHECK(texts.iptables->file_name == "iptables-save");
  REQUIRE(texts.ebtables);
  CHECK(texts.ebtables->source == "ebtables-save -c");
  REQUIRE(texts.arptables);
  CHECK(texts.arptables->source == "arptables-legacy -n -L -v -x");
  CHECK(texts.arptables->file_name == "arptables");
  REQUIRE(texts.ipsets);
  // Legacy ebtables-save takes its counters from the environment.
  for (const auto &command : runner.commands)
    if (program_name(command.argv[0]) == "ebtables-save")
      CHECK(command.env == std::vector<std::pair<std::string, std::string>>{
                               {"EBTABLES_SAVE_COUNTER", "yes"}});

  auto snapshot = parse_firewall_texts(texts);
  REQUIRE(snapshot);
  CHECK(snapshot->warnings ==
        std::vector<std::string>{"iptables-save: Warning: iptables-legacy tables present, use "
                                 "iptables-legacy-save to see them"});
}

TEST_CASE("capture falls back and leaves out what fails, with warnings", "[firewall_snapshot]") {
  FakePath path({"iptables-legacy-save", "ip6tables-legacy-save", "ebtables", "ebtables-save",
                 "arptables", "ipset"});
  FakeRunner runner;
  runner.answers["iptables-legacy-save -c"] = ok("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n");
  // Legacy ebtables-save skips a filter table built into the kernel: the
  // listing is kept instead.
  const std::string listing = read_data("samples/ebtables-nft-L-Lc.txt");
  runner.answers["ebtables -t filter -L --Lc"] = ok(listing);
  runner.answers["ebtables -V"] = ok("ebtables v2.0.10-4 (December 2011)\n");
  runner.answers["ebtables-save"] = ok("# Generated by ebtables-save v1.0 on Mon Sep  2 2013\n");
  // Old arptables without -x.
  runner.answers["arptables -n -L -v"] = ok(read_data("netfilter/seed-arptables-L.txt"));
  // ip6tables-legacy-save fails, ipset is broken.
  CaptureOptions options;
  options.iptables = IptablesChoice::legacy;
  const FirewallTexts texts = capture_firewall(runner, options);

  REQUIRE(texts.iptables);
  CHECK(texts.iptables->source == "iptables-legacy-save -c");
  CHECK_FALSE(texts.ip6tables);
  REQUIRE(texts.ebtables);
  CHECK(texts.ebtables->text == listing);
  CHECK(texts.ebtables->source == "ebtables -t filter -L --Lc");
  REQUIRE(texts.arptables);
  CHECK(texts.arptables->source == "arptables -n -L -v");
  CHECK_FALSE(texts.ipsets);
  REQUIRE(texts.warnings.size() == 2);
  CHECK(texts.warnings[0] == "ip6tables-save not captured: ip6tables-legacy-save -c: failed: "
                             "fake: no answer for ip6tables-legacy-save -c");
  CHECK(texts.warnings[1].rfind("ipset-save not captured: ", 0) == 0);

  auto snapshot = parse_firewall_texts(texts);
  REQUIRE(snapshot);
  CHECK(snapshot->ebtables->chain("i-2-9-VM-in") != nullptr);
  CHECK(snapshot->arptables->rules_of("i-2-3-VM").size() == 5);
}

TEST_CASE("read_firewall refuses a host whose iptables cannot be read", "[firewall_snapshot]") {
  FakePath path({"iptables-save", "ipset"});
  FakeRunner runner;
  runner.answers["ipset save"] = ok("");
  auto read = read_firewall("", runner, CaptureOptions{});
  REQUIRE_FALSE(read);
  CHECK(read.error().message.rfind("cannot read the iptables rules: iptables-save not captured: ", 0) == 0);
}

TEST_CASE("every shared sample of a format we read parses; the others fail on their line",
          "[firewall_snapshot]") {
  using Parse = Result<FwTable> (*)(const std::string &, const std::string &);
  const struct {
    const char *file;
    Parse parse;
    std::size_t rules; // in the filter table; npos: a parse error on line 1 is expected
  } cases[] = {
      {"iptables-legacy-save.txt", parse_iptables_text, 20},
      {"iptables-legacy-save-c.txt", parse_iptables_text, 20},
      {"iptables-nft-save.txt", parse_iptables_text, 20},
      {"iptables-nft-save-c.txt", parse_iptables_text, 20},
      {"iptables-legacy-S.txt", parse_iptables_text, 20},
      {"ip6tables-legacy-save.txt", parse_iptables_text, 4},
      {"ip6tables-nft-save.txt", parse_iptables_text, 4},
      {"iptables-legacy-L-n-v-x.txt", parse_iptables_text, std::string::npos},
      {"ebtables-save.txt", parse_ebtables_text, 18},
      {"ebtables-nft-save.txt", parse_ebtables_text, 13},
      {"ebtables-nft-save-c.txt", parse_ebtables_text, 13},
      {"ebtables-nft-L.txt", parse_ebtables_text, 13},
      {"ebtables-nft-L-Lc.txt", parse_ebtables_text, 13},
      {"ebtables-nft-L-Ln-Lc.txt", parse_ebtables_text, 13},
      {"ebtables-nft-L-Lx.txt", parse_ebtables_text, 13},
      {"ebtables-legacy-L-unsupported-kernel.txt", parse_ebtables_text, std::string::npos},
      {"arptables-legacy-L.txt", parse_arptables_text, 9},
      {"arptables-legacy-L-v.txt", parse_arptables_text, 9},
      {"arptables-legacy-L-n-v.txt", parse_arptables_text, 9},
      {"arptables-legacy-L-n-v-x.txt", parse_arptables_text, 9},
      {"arptables-legacy-L-n-line-numbers.txt", parse_arptables_text, 9},
      {"arptables-legacy-save.txt", parse_arptables_text, 9},
      {"arptables-nft-L.txt", parse_arptables_text, 2},
      {"arptables-nft-L-n-v.txt", parse_arptables_text, 2},
      {"arptables-nft-save.txt", parse_arptables_text, 2},
      {"arptables-nft-save-c.txt", parse_arptables_text, 2},
      {"arptables-nft-A-FORWARD-error.txt", parse_arptables_text, std::string::npos},
  };
  for (const auto &c : cases) {
    INFO(c.file);
    auto table = c.parse(read_data(std::string("samples/") + c.file), c.file);
    if (c.rules == std::string::npos) {
      REQUIRE_FALSE(table);
      CHECK(table.error().source == c.file);
      CHECK(table.error().line == 1);
      continue;
    }
    REQUIRE(table);
    CHECK(table->rules.size() == c.rules);
  }
  for (const char *file : {"ipset-save.txt", "ipset-list.txt", "ipset-list-terse.txt",
                           "ipset-list-output-save-i-2-9-VM.txt"}) {
    INFO(file);
    auto sets = parse_ipset_text(read_data(std::string("samples/") + file), file);
    REQUIRE(sets);
    CHECK(sets->find("i-2-9-VM") != nullptr);
  }
  auto xml = parse_ipset_text(read_data("samples/ipset-list-output-xml-trusted-nets.txt"), "xml");
  REQUIRE_FALSE(xml);
  CHECK(xml.error().line == 1);
}

TEST_CASE("which ebtables printed the dump, from its banner", "[firewall_snapshot]") {
  auto backend_of = [](const std::string &fixture) {
    FirewallTexts texts;
    texts.ebtables = InputText{read_data(fixture), "eb", "ebtables-save"};
    auto snapshot = parse_firewall_texts(texts);
    REQUIRE(snapshot);
    return snapshot->ebtables_backend;
  };
  CHECK(backend_of("netfilter/seed-ebtables-save.txt") == Variant::legacy); // "ebtables-save v1.0"
  CHECK(backend_of("samples/ebtables-nft-save.txt") == Variant::nft);
  CHECK(backend_of("samples/ebtables-nft-L-Lc.txt") == std::nullopt); // a listing says neither
}
