// SgApplier under faults, with a fake CommandRunner standing in for the
// netfilter tools: a small model of iptables (--noflush edits), ebtables
// (whole-table restores) and ipset (-exist restore), whose listings are what
// SgApplier reads back.  A test tells the fake to refuse a given load (or to
// hide a tool) and then checks the error message, the commands the fake
// received, and that the modelled tables are exactly as before the run.
// ARP filtering goes into ebtables (--arp-filter ebtables), so every change
// of a run goes through a modelled table.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

#include "exec.hpp"
#include "sg_apply.hpp"
#include "sg_rules.hpp"

using namespace vifwall;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> words_of(const std::string &line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;)
    words.push_back(word);
  return words;
}

std::string join_from(const std::vector<std::string> &words, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < words.size(); ++i)
    out += (out.empty() ? "" : " ") + words[i];
  return out;
}

std::string base_name(const std::string &path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// One table: chains in creation order, each with a policy and rules (the
// rule text after "-A CHAIN ").
struct Table {
  std::vector<std::string> order;
  std::map<std::string, std::string> policy;
  std::map<std::string, std::vector<std::string>> rules;
  bool operator==(const Table &) const = default;

  void ensure(const std::string &chain, const std::string &chain_policy) {
    if (!rules.count(chain)) {
      order.push_back(chain);
      rules[chain];
    }
    policy[chain] = chain_policy;
  }
  void erase(const std::string &chain) {
    order.erase(std::find(order.begin(), order.end(), chain));
    rules.erase(chain);
    policy.erase(chain);
  }
};

// The fake host: tool semantics just deep enough for what sg-apply sends.
class FakeHost final : public CommandRunner {
public:
  Table iptables, ebtables;
  std::map<std::string, std::pair<std::string, std::set<std::string>>> sets; // name -> type, members
  std::vector<std::string> set_order;
  std::vector<Command> received;       // every command, in order
  std::map<std::string, int> refuse;   // tool -> refuse its N-th load (0: never, -1: every one)
  std::map<std::string, int> loads;    // tool -> loads so far
  std::set<std::string> missing;       // tools that cannot be started

  FakeHost() {
    for (const char *chain : {"INPUT", "FORWARD", "OUTPUT"}) {
      iptables.ensure(chain, "ACCEPT");
      ebtables.ensure(chain, "ACCEPT");
    }
  }

  Result<CommandOutput> run(const Command &command) override {
    received.push_back(command);
    const std::string tool = base_name(command.argv.at(0));
    const std::vector<std::string> args(command.argv.begin() + 1, command.argv.end());
    for (const auto &gone : missing)
      if (tool.rfind(gone, 0) == 0)
        return fail(command.argv[0], 0, "command not found (fake)");
    CommandOutput out;
    auto refused = [&](const std::string &name) {
      const int n = ++loads[name];
      const auto it = refuse.find(name);
      if (it == refuse.end() || it->second == 0 || (it->second > 0 && it->second != n))
        return false;
      out.exit_code = 1;
      out.err = name + ": refused by the fake kernel (load " + std::to_string(n) + ")\n";
      return true;
    };
    if (tool == "iptables" && args == std::vector<std::string>{"-V"}) {
      out.out = "iptables v1.8.9 (nf_tables)\n";
    } else if (tool == "ebtables" && !args.empty() && args[0] == "-V") {
      out.out = "ebtables 1.8.9 (nf_tables)\n";
    } else if (tool == "ebtables" && args == std::vector<std::string>{"-t", "filter", "-L"}) {
      out.out = list_ebtables();
    } else if (tool == "ebtables" && args == std::vector<std::string>{"-t", "filter", "-L", "INPUT"}) {
      out.out = "Bridge table: filter\n\nBridge chain: INPUT, entries: 0, policy: ACCEPT\n";
    } else if (tool == "ipset" && (args == std::vector<std::string>{"version"})) {
      out.out = "ipset v7.17, protocol version: 7\n";
    } else if (tool == "ipset" && args == std::vector<std::string>{"save"}) {
      out.out = save_ipsets();
    } else if (tool == "iptables-save") {
      out.out = save_iptables();
    } else if (tool == "iptables-restore") {
      if (!refused("iptables-restore"))
        restore_iptables(command.input);
    } else if (tool == "ebtables-restore") {
      if (!refused("ebtables-restore"))
        restore_ebtables(command.input);
    } else if (tool == "ipset" && args == std::vector<std::string>{"-exist", "restore"}) {
      if (!refused("ipset"))
        restore_ipsets(command.input);
    } else {
      out.exit_code = 1; // arptables and anything else: not here
      out.err = "fake: not available: " + describe(command.argv) + "\n";
    }
    return out;
  }

  std::vector<std::string> inputs_of(const std::string &tool) const {
    std::vector<std::string> out;
    for (const auto &command : received)
      if (base_name(command.argv[0]) == tool && !command.input.empty())
        out.push_back(command.input);
    return out;
  }

  bool loaded_anything() const {
    for (const auto &command : received)
      if (!command.input.empty())
        return true;
    return false;
  }

  std::string snapshot() const { return save_iptables() + list_ebtables() + save_ipsets(); }

private:
  std::string save_iptables() const {
    std::string out = "*filter\n";
    for (const auto &chain : iptables.order)
      out += ":" + chain + " " + iptables.policy.at(chain) + " [0:0]\n";
    for (const auto &chain : iptables.order)
      for (const auto &rule : iptables.rules.at(chain))
        out += "-A " + chain + " " + rule + "\n";
    return out + "COMMIT\n";
  }

  // iptables-restore --noflush: all or nothing, like the kernel's commit.
  void restore_iptables(const std::string &text) {
    Table next = iptables;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const auto words = words_of(line);
      if (words.empty() || words[0] == "*filter" || words[0] == "COMMIT" || words[0][0] == '#')
        continue;
      if (words[0][0] == ':') {
        const std::string chain = words[0].substr(1);
        const bool builtin = chain == "INPUT" || chain == "FORWARD" || chain == "OUTPUT";
        next.ensure(chain, builtin ? next.policy[chain] : "-");
        next.rules[chain].clear(); // --noflush still flushes a declared chain
        continue;
      }
      const std::string &chain = words.at(1);
      auto &rules = next.rules.at(chain);
      if (words[0] == "-A") {
        rules.push_back(join_from(words, 2));
      } else if (words[0] == "-I") {
        const bool numbered = words.size() > 2 && std::isdigit(static_cast<unsigned char>(words[2][0]));
        const std::size_t at = numbered ? std::stoul(words[2]) - 1 : 0;
        rules.insert(rules.begin() + static_cast<long>(std::min(at, rules.size())),
                     join_from(words, numbered ? 3 : 2));
      } else if (words[0] == "-D") {
        auto it = std::find(rules.begin(), rules.end(), join_from(words, 2));
        REQUIRE(it != rules.end()); // a stale -D fails the whole restore in the kernel too
        rules.erase(it);
      } else if (words[0] == "-F") {
        rules.clear();
      } else if (words[0] == "-X") {
        next.erase(chain);
      } else {
        FAIL("fake iptables-restore: unexpected line " << line);
      }
    }
    iptables = next;
  }

  std::string list_ebtables() const {
    std::string out = "Bridge table: filter\n\n";
    for (const auto &chain : ebtables.order) {
      const auto &rules = ebtables.rules.at(chain);
      out += "Bridge chain: " + chain + ", entries: " + std::to_string(rules.size()) +
             ", policy: " + ebtables.policy.at(chain) + "\n";
      for (const auto &rule : rules)
        out += rule + "\n";
      out += "\n";
    }
    return out;
  }

  // ebtables-restore: the whole table is replaced.
  void restore_ebtables(const std::string &text) {
    Table next;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const auto words = words_of(line);
      if (words.empty() || words[0] == "*filter" || words[0] == "COMMIT")
        continue;
      if (words[0][0] == ':') {
        next.ensure(words[0].substr(1), words.at(1));
      } else if (words[0] == "-A") {
        next.rules.at(words.at(1)).push_back(join_from(words, 2));
      } else {
        FAIL("fake ebtables-restore: unexpected line " << line);
      }
    }
    ebtables = next;
  }

  std::string save_ipsets() const {
    std::string out;
    for (const auto &name : set_order) {
      const auto &[type, members] = sets.at(name);
      out += "create " + name + " " + type + " family inet hashsize 1024 maxelem 65536\n";
      for (const auto &member : members)
        out += "add " + name + " " + member + "\n";
    }
    return out;
  }

  // ipset -exist restore: line by line (not atomic, as in the kernel).
  void restore_ipsets(const std::string &text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const auto words = words_of(line);
      if (words.empty())
        continue;
      const std::string &name = words.at(1);
      if (words[0] == "create") {
        if (!sets.count(name)) {
          sets[name] = {words.at(2), {}};
          set_order.push_back(name);
        }
      } else if (words[0] == "add") {
        sets.at(name).second.insert(words.at(2));
      } else if (words[0] == "flush") {
        sets.at(name).second.clear();
      } else if (words[0] == "swap") {
        std::swap(sets.at(name), sets.at(words.at(2)));
      } else if (words[0] == "destroy") {
        // -exist: destroying a set that is not there is no error.
        if (sets.erase(name))
          set_order.erase(std::find(set_order.begin(), set_order.end(), name));
      } else {
        FAIL("fake ipset restore: unexpected line " << line);
      }
    }
  }
};

// A scratch directory with stand-in executables first in PATH, so
// find_program() finds the tools there whatever this machine has; nothing
// there is ever run (the fake answers instead).
class Scene {
public:
  Scene() {
    char pattern[] = "/tmp/vifwall-faults-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir = pattern;
    fs::create_directories(dir + "/bin");
    for (const char *tool : {"iptables", "iptables-save", "iptables-restore", "ebtables", "ebtables-save",
                             "ebtables-restore", "ipset"}) {
      const std::string path = dir + "/bin/" + tool;
      std::ofstream(path) << "#!/bin/sh\nexit 99\n";
      fs::permissions(path, fs::perms::owner_all);
    }
    const char *path = std::getenv("PATH");
    saved_path = path ? path : "";
    ::setenv("PATH", (dir + "/bin:" + saved_path).c_str(), 1);
  }
  ~Scene() {
    ::setenv("PATH", saved_path.c_str(), 1);
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  SgOptions options() const {
    SgOptions o;
    o.state_dir = dir + "/state";
    o.lock_file = dir + "/lock";
    o.ebtables_lock_file = dir + "/eblock";
    o.arp_filter = ArpFilter::ebtables;
    o.lock_timeout = std::chrono::milliseconds(2000);
    return o;
  }

  std::string dir, saved_path;
};

const DefaultRequest kVmA{"i-2-3-VM", "3", "10.147.41.238", "06:f8:c8:00:00:09", "10.147.41.241;", {"vif7.0"}};
// A with another address: its ebtables, iptables and set change together.
const DefaultRequest kVmAMoved{"i-2-3-VM", "3", "10.147.41.239", "06:f8:c8:00:00:09", "", {"vif7.0"}};
const DefaultRequest kVmB{"i-2-5-VM", "5", "10.147.41.240", "06:f8:c8:00:00:0b", "", {"vif8.0"}};

RulesRequest rules_for_a(const std::string &rule_string, const std::string &seq) {
  auto rules = parse_rule_string(rule_string, "test");
  REQUIRE(rules);
  return RulesRequest{kVmA.vm_name, kVmA.vm_id, kVmA.ip, kVmA.mac, "a" + seq, seq, *rules, "test",
                      kVmA.vifs};
}

// The host every test starts from: setup, and B with its defaults.
void prepare(FakeHost &host, Scene &scene) {
  SgApplier applier(host, scene.options());
  REQUIRE(applier.setup({"eth0"}));
  REQUIRE(applier.apply_default(kVmB));
  host.received.clear();
  host.loads.clear();
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("the fake host takes a whole default/rules/destroy cycle back to where it started", "[sg_apply_faults]") {
  // The model is faithful enough for the fault tests: sg-apply reads back
  // what it loaded, finds nothing to change the second time, and destroy
  // restores the exact starting tables.
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  SgApplier applier(host, scene.options());
  auto applied = applier.apply_default(kVmA);
  REQUIRE(applied);
  CHECK(applied->changed);
  REQUIRE(applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1")));
  auto again = SgApplier(host, scene.options()).apply_default(kVmA);
  REQUIRE(again);
  CHECK_FALSE(again->changed);
  REQUIRE(SgApplier(host, scene.options()).destroy(kVmA.vm_name));
  CHECK(host.snapshot() == before);
}

TEST_CASE("a refused iptables-restore: the ebtables and ipset loads before it are undone", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  host.refuse["iptables-restore"] = -1;
  SgApplier applier(host, scene.options());
  auto result = applier.apply_default(kVmA);
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(contains(message, "i-2-3-VM: iptables-restore failed, nothing of this change was kept"));
  CHECK(contains(message, "refused by the fake kernel"));
  // The order of the loads: the set created, A's ebtables rules (a new VM
  // needs no cut-off: ebtables only restricts, and goes first), iptables
  // refused; then the rollback destroys the new set and restores ebtables.
  const auto eb = host.inputs_of("ebtables-restore");
  const auto sets = host.inputs_of("ipset");
  REQUIRE(eb.size() == 2);
  CHECK(contains(eb[0], "vif7.0"));
  CHECK_FALSE(contains(eb[0], "vifwall-cutoff"));
  CHECK_FALSE(contains(eb[1], "vif7.0"));
  REQUIRE(sets.size() == 2);
  CHECK(contains(sets[0], "create i-2-3-VM hash:net"));
  CHECK(contains(sets[1], "destroy i-2-3-VM"));
  CHECK(host.snapshot() == before);
  // No state file was written for A.
  CHECK_FALSE(fs::exists(scene.dir + "/state/i-2-3-VM.state"));
  CHECK_FALSE(fs::exists(scene.dir + "/state/i-2-3-VM.log"));
}

TEST_CASE("a refused rules change keeps the old rules and the old sets", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  REQUIRE(applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1")));
  const std::string before = host.snapshot();
  std::ifstream log_in(scene.dir + "/state/i-2-3-VM.log");
  const std::string log_before((std::istreambuf_iterator<char>(log_in)), {});
  host.refuse["iptables-restore"] = -1;
  auto result = SgApplier(host, scene.options()).apply_rules(rules_for_a("I:tcp;80;80;10.1.0.0/16,NEXT ", "2"));
  REQUIRE_FALSE(result);
  CHECK(contains(result.error().str(), "iptables-restore failed"));
  CHECK(host.snapshot() == before);
  std::ifstream log_after_in(scene.dir + "/state/i-2-3-VM.log");
  CHECK(std::string((std::istreambuf_iterator<char>(log_after_in)), {}) == log_before);
}

TEST_CASE("a new VM is programmed without a cut-off, ebtables before iptables", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  const auto eb = host.inputs_of("ebtables-restore");
  REQUIRE(eb.size() == 1);
  CHECK_FALSE(contains(eb[0], "vifwall-cutoff"));
  std::vector<std::string> loads;
  for (const auto &command : host.received) {
    const std::string tool = command.argv[0].substr(command.argv[0].rfind('/') + 1);
    if (tool == "ebtables-restore" || tool == "iptables-restore")
      loads.push_back(tool);
  }
  CHECK(loads == std::vector<std::string>{"ebtables-restore", "iptables-restore"});
  // Once it has rules, a change of its address touches several tables:
  // behind the wall, which the second ebtables load takes down.
  host.received.clear();
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmAMoved));
  const auto moved = host.inputs_of("ebtables-restore");
  REQUIRE(moved.size() == 2);
  CHECK(contains(moved[0], "-A FORWARD -i vif7.0 -j vifwall-cutoff"));
  CHECK_FALSE(contains(moved[1], "vifwall-cutoff"));
}

TEST_CASE("ebtables refusing to lift the cut-off: everything is put back", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  host.loads.clear();
  host.received.clear();
  const std::string before = host.snapshot();
  host.refuse["ebtables-restore"] = 2; // 1: cut off, 2: lift (refused), 3: the rollback's
  auto result = SgApplier(host, scene.options()).apply_default(kVmAMoved);
  REQUIRE_FALSE(result);
  CHECK(contains(result.error().str(), "ebtables-restore (lifting the cut-off) failed"));
  // The address set was refilled (through a scratch set) behind the wall,
  // and is refilled back.
  CHECK(host.inputs_of("ipset").size() == 2);
  CHECK(host.inputs_of("ebtables-restore").size() == 3);
  CHECK(host.snapshot() == before);
}

TEST_CASE("a refused ipset restore: nothing else was loaded, and nothing stays", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  host.refuse["ipset"] = 1;
  auto result = SgApplier(host, scene.options()).apply_default(kVmA);
  REQUIRE_FALSE(result);
  CHECK(contains(result.error().str(), "ipset restore failed"));
  CHECK(host.inputs_of("iptables-restore").empty());
  CHECK(host.snapshot() == before);
}

TEST_CASE("when the rollback fails too, the VM stays cut off and the message says so", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  host.loads.clear();
  host.refuse["ebtables-restore"] = 2; // lifting the cut-off
  host.refuse["ipset"] = 2;            // the rollback's ipset restore
  auto result = SgApplier(host, scene.options()).apply_default(kVmAMoved);
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(contains(message, "ebtables-restore (lifting the cut-off) failed"));
  CHECK(contains(message, "rollback incomplete"));
  CHECK(contains(message, "cut off"));
  // Fail closed: A's VIF is dropped at the top of FORWARD.
  const auto &forward = host.ebtables.rules.at("FORWARD");
  REQUIRE(forward.size() >= 2);
  CHECK(forward[0] == "-i vif7.0 -j vifwall-cutoff");
  CHECK(forward[1] == "-o vif7.0 -j vifwall-cutoff");
}

TEST_CASE("missing tools are all named, and nothing is loaded", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  host.missing = {"ipset", "ebtables"};
  auto result = SgApplier(host, scene.options()).apply_default(kVmA);
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(contains(message, "ipset is missing or not working"));
  CHECK(contains(message, "no working ebtables"));
  CHECK_FALSE(host.loaded_anything());
}

TEST_CASE("a state directory that cannot take the files: nothing is run at all", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  std::ofstream(scene.dir + "/a-file") << "x";
  SgOptions options = scene.options();
  options.state_dir = scene.dir + "/a-file/state"; // under a regular file: ENOTDIR even for root
  auto result = SgApplier(host, options).apply_default(kVmA);
  REQUIRE_FALSE(result);
  CHECK(contains(result.error().str(), "a-file/state"));
  CHECK(host.received.empty());
  auto rules = SgApplier(host, options).apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1"));
  REQUIRE_FALSE(rules);
  CHECK(host.received.empty());
}

TEST_CASE("after a destroy that could not lift the cut-off nor roll back, running it again lifts it",
          "[sg_apply_faults]") {
  // KNOWN BUG (reported; see RELIABILITY.md): the message says "run the same
  // sg-apply command again to finish", but once iptables no longer names
  // the VM's VIF, the next destroy does not know the DROP rules are the
  // VM's and leaves them for good.  A SIGKILL between the iptables load and
  // the lift (tests/e2e/reliability_kill_windows.sh) ends the same way.
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  host.loads.clear();
  host.refuse["ebtables-restore"] = 2; // the lift
  host.refuse["iptables-restore"] = 2; // the rollback's undo of the iptables change
  auto failed = SgApplier(host, scene.options()).destroy(kVmA.vm_name);
  REQUIRE_FALSE(failed);
  CHECK(contains(failed.error().str(), "run the same sg-apply command again"));
  REQUIRE(host.ebtables.rules.at("FORWARD").at(0) == "-i vif7.0 -j vifwall-cutoff");
  host.refuse.clear();
  REQUIRE(SgApplier(host, scene.options()).destroy(kVmA.vm_name));
  CHECK(host.ebtables.rules.at("FORWARD").at(0) != "-i vif7.0 -j vifwall-cutoff");
  CHECK(host.snapshot() == before);
}

TEST_CASE("a refused batch of many VMs names how many, a few of them, and what failed", "[sg_apply_faults]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  host.refuse["iptables-restore"] = -1;
  SgApplier applier(host, scene.options());
  std::vector<VmJob> jobs;
  for (int n = 10; n < 16; ++n) {
    const std::string id = std::to_string(n);
    const std::string mac = "06:00:00:00:00:" + id;
    auto job = applier.prepare_default(
        DefaultRequest{"i-2-" + id + "-VM", id, "10.1.1." + id, mac, "", {"vif" + id + ".0"}});
    REQUIRE(job);
    jobs.push_back(std::move(*job));
  }
  auto result = applier.run(std::move(jobs));
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(contains(message, "6 VMs (i-2-10-VM, i-2-11-VM, i-2-12-VM, ..., i-2-15-VM): iptables-restore failed"));
  CHECK(contains(message, "refused by the fake kernel"));
  CHECK_FALSE(contains(message, "i-2-13-VM"));
  CHECK(host.snapshot() == before);
}
