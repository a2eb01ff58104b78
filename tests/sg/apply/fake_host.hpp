// The fixtures of the sg/apply tests: a fake host standing in for the
// netfilter tools, a scratch directory, and the seed VM and its neighbours.
//
// FakeHost is a CommandRunner with a small model of iptables and ip6tables
// (--noflush edits; ip6tables unless `with_ip6tables` is off), ebtables (whole-table restores), ipset (-exist restore) and, when
// `with_arptables`, arptables (one command at a time); its listings are what
// SgApplier reads back.  A test can tell it to refuse a given load (or to
// hide a tool), and compare the modelled tables (snapshot()) and the
// commands it received.  Scene puts stand-in executables first in PATH, so
// that find_program() finds the tools whatever this machine has; nothing
// there is ever run (the fake answers instead).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "exec.hpp"
#include "firewall_io.hpp"
#include "firewall_snapshot.hpp"
#include "sg_apply.hpp"
#include "sg_render.hpp"
#include "sg_rules.hpp"

namespace vifwall::test {

inline std::vector<std::string> words_of(const std::string &line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;)
    words.push_back(word);
  return words;
}

inline std::string join_from(const std::vector<std::string> &words, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < words.size(); ++i)
    out += (out.empty() ? "" : " ") + words[i];
  return out;
}

inline std::string base_name(const std::string &path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A whole file ("" when it cannot be read).
inline std::string read_text(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

inline bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
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
  Table iptables, ip6tables, ebtables, arptables;
  std::map<std::string, std::pair<std::string, std::set<std::string>>> sets; // name -> type, members
  std::vector<std::string> set_order;
  std::vector<Command> received;       // every command, in order
  std::map<std::string, int> refuse;   // tool -> refuse its N-th load (0: never, -1: every one)
  std::map<std::string, int> loads;    // tool -> loads so far
  std::set<std::string> missing;       // tools that cannot be started
  bool with_arptables = false;         // answer arptables (legacy, with FORWARD)
  bool with_ip6tables = true;          // answer ip6tables (off: `ip6tables -V` fails, none detected)
  std::string xe_vm_list;              // what `xe vm-list ...` prints (empty: xe fails)

  FakeHost() {
    for (const char *chain : {"INPUT", "FORWARD", "OUTPUT"}) {
      iptables.ensure(chain, "ACCEPT");
      ip6tables.ensure(chain, "ACCEPT");
      ebtables.ensure(chain, "ACCEPT");
      arptables.ensure(chain, "ACCEPT");
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
    } else if (tool == "ebtables" && args.size() == 4 && args[0] == "-t" && args[1] == "filter" &&
               args[2] == "-L") {
      list_ebtables_chain(args[3], out);
    } else if (tool == "iptables" && args.size() == 2 && args[0] == "-S") {
      list_iptables_chain(iptables, "iptables", args[1], out);
    } else if (with_ip6tables && tool == "ip6tables" && args == std::vector<std::string>{"-V"}) {
      out.out = "ip6tables v1.8.9 (nf_tables)\n";
    } else if (with_ip6tables && tool == "ip6tables" && args.size() == 2 && args[0] == "-S") {
      list_iptables_chain(ip6tables, "ip6tables", args[1], out);
    } else if (with_ip6tables && tool == "ip6tables-save") {
      out.out = save_iptables(ip6tables);
    } else if (with_ip6tables && tool == "ip6tables-restore") {
      if (!refused("ip6tables-restore"))
        restore_iptables(ip6tables, command.input);
    } else if (tool == "ipset" && args == std::vector<std::string>{"list", "-n"}) {
      for (const auto &name : set_order)
        out.out += name + "\n";
    } else if (tool == "ipset" && args.size() == 2 && args[0] == "save") {
      if (sets.count(args[1])) {
        out.out = save_set(args[1]);
      } else {
        out.exit_code = 1;
        out.err = "ipset v7.17: The set with the given name does not exist\n";
      }
    } else if (tool == "ipset" && (args == std::vector<std::string>{"version"})) {
      out.out = "ipset v7.17, protocol version: 7\n";
    } else if (tool == "ipset" && args == std::vector<std::string>{"save"}) {
      out.out = save_ipsets();
    } else if (tool == "iptables-save") {
      out.out = save_iptables();
    } else if (tool == "iptables-restore") {
      if (!refused("iptables-restore"))
        restore_iptables(iptables, command.input);
    } else if (tool == "ebtables-restore") {
      if (!refused("ebtables-restore"))
        restore_ebtables(command.input);
    } else if (tool == "ipset" && args == std::vector<std::string>{"-exist", "restore"}) {
      if (!refused("ipset"))
        restore_ipsets(command.input);
    } else if (tool == "arptables" && with_arptables) {
      answer_arptables(args, out, refused);
    } else if (tool == "xe" && !args.empty() && args[0] == "vm-list" && !xe_vm_list.empty()) {
      out.out = xe_vm_list;
    } else {
      out.exit_code = 1; // arptables (unless with_arptables) and anything else: not here
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

  // The arptables commands that change the table (no listings, no -V), each
  // as its arguments joined by spaces.
  std::vector<std::string> arptables_edits() const {
    std::vector<std::string> out;
    for (const auto &command : received)
      if (base_name(command.argv[0]) == "arptables" && command.argv.size() > 1 &&
          command.argv[1] != "-n" && command.argv[1] != "-V")
        out.push_back(join_from(command.argv, 1));
    return out;
  }

  // Whether anything was loaded: a restore tool's input or an arptables edit.
  bool loaded_anything() const {
    for (const auto &command : received)
      if (!command.input.empty())
        return true;
    return !arptables_edits().empty();
  }

  std::string snapshot() const {
    return save_iptables() + "# ip6tables\n" + save_iptables(ip6tables) + list_ebtables() + save_ipsets() +
           (with_arptables ? list_arptables() : "");
  }

  // The listings, as the tools print them.
  std::string save_iptables() const { return save_iptables(iptables); }
  std::string save_ip6tables() const { return save_iptables(ip6tables); }
  static std::string save_iptables(const Table &table) {
    std::string out = "*filter\n";
    for (const auto &chain : table.order)
      out += ":" + chain + " " + table.policy.at(chain) + " [0:0]\n";
    for (const auto &chain : table.order)
      for (const auto &rule : table.rules.at(chain))
        out += "-A " + chain + " " + rule + "\n";
    return out + "COMMIT\n";
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

  std::string save_ipsets() const {
    std::string out;
    for (const auto &name : set_order)
      out += save_set(name);
    return out;
  }

  std::string save_set(const std::string &name) const {
    const auto &[type, members] = sets.at(name);
    // An inet6 set is told by its members (the fake keeps no family).
    bool inet6 = false;
    for (const auto &member : members)
      inet6 = inet6 || contains(member, ":");
    std::string out = "create " + name + " " + type + " family " + (inet6 ? "inet6" : "inet") +
                      " hashsize 1024 maxelem 65536\n";
    for (const auto &member : members)
      out += "add " + name + " " + member + "\n";
    return out;
  }

  // `iptables -S CHAIN` / `ip6tables -S CHAIN` (iptables-legacy's message
  // for a chain that is not there).
  static void list_iptables_chain(const Table &table, const std::string &tool, const std::string &chain,
                                  CommandOutput &out) {
    if (!table.rules.count(chain)) {
      out.exit_code = 1;
      out.err = tool + ": No chain/target/match by that name.\n";
      return;
    }
    const bool builtin = chain == "INPUT" || chain == "FORWARD" || chain == "OUTPUT";
    out.out = builtin ? "-P " + chain + " " + table.policy.at(chain) + "\n" : "-N " + chain + "\n";
    for (const auto &rule : table.rules.at(chain))
      out.out += "-A " + chain + " " + rule + "\n";
  }

  // `ebtables -t filter -L CHAIN` (ebtables-nft 1.8.9's message for a chain
  // that is not there).
  void list_ebtables_chain(const std::string &chain, CommandOutput &out) const {
    if (!ebtables.rules.count(chain)) {
      out.exit_code = 1;
      out.err = "ebtables v1.8.9 (nf_tables): chain `" + chain +
                "' in table `filter' is incompatible, use 'nft' tool.\n";
      return;
    }
    const auto &rules = ebtables.rules.at(chain);
    out.out = "Bridge table: filter\n\nBridge chain: " + chain + ", entries: " + std::to_string(rules.size()) +
              ", policy: " + ebtables.policy.at(chain) + "\n";
    for (const auto &rule : rules)
      out.out += rule + "\n";
  }

  // `arptables -n -L` of legacy arptables 0.0.5.
  std::string list_arptables(const std::string &only = "") const {
    std::string out;
    for (const auto &chain : arptables.order) {
      if (!only.empty() && chain != only)
        continue;
      const auto &rules = arptables.rules.at(chain);
      if (!out.empty())
        out += "\n";
      const bool builtin = chain == "INPUT" || chain == "FORWARD" || chain == "OUTPUT";
      out += "Chain " + chain +
             (builtin ? " (policy " + arptables.policy.at(chain) + ")\n" : " (0 references)\n");
      for (const auto &rule : rules)
        out += rule + "\n";
    }
    return out;
  }

private:
  // iptables-restore / ip6tables-restore --noflush: all or nothing, like the
  // kernel's commit.
  static void restore_iptables(Table &table, const std::string &text) {
    Table next = table;
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
    table = next;
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

  // arptables: listings, and one edit per command (-N -F -X -A -I -D).
  template <typename Refused>
  void answer_arptables(const std::vector<std::string> &args, CommandOutput &out, Refused &refused) {
    if (args == std::vector<std::string>{"-V"}) {
      out.out = "arptables v0.0.5\n";
      return;
    }
    if (args.size() == 3 && args[0] == "-n" && args[1] == "-L") {
      // One chain (detection lists FORWARD); arptables-legacy's message for
      // a chain that is not there.
      if (!arptables.rules.count(args[2])) {
        out.exit_code = 1;
        out.err = "arptables: Table does not exist (do you need to insmod?)\n";
        return;
      }
      out.out = list_arptables(args[2]);
      return;
    }
    if (args == std::vector<std::string>{"-n", "-L"}) {
      out.out = list_arptables();
      return;
    }
    if (refused("arptables"))
      return;
    REQUIRE(args.size() >= 2);
    const std::string &verb = args[0], &chain = args[1];
    if (verb == "-N") {
      arptables.ensure(chain, "-");
      return;
    }
    REQUIRE(arptables.rules.count(chain));
    auto &rules = arptables.rules.at(chain);
    const bool numbered = args.size() > 2 && std::isdigit(static_cast<unsigned char>(args[2][0]));
    if (verb == "-F") {
      rules.clear();
    } else if (verb == "-X") {
      arptables.erase(chain);
    } else if (verb == "-A") {
      rules.push_back(join_from(args, 2));
    } else if (verb == "-I") {
      const std::size_t at = numbered ? std::stoul(args[2]) - 1 : 0;
      rules.insert(rules.begin() + static_cast<long>(std::min(at, rules.size())),
                   join_from(args, numbered ? 3 : 2));
    } else if (verb == "-D" && numbered && args.size() == 3) {
      const std::size_t at = std::stoul(args[2]);
      REQUIRE((at >= 1 && at <= rules.size()));
      rules.erase(rules.begin() + static_cast<long>(at - 1));
    } else if (verb == "-D") {
      auto it = std::find(rules.begin(), rules.end(), join_from(args, 2));
      REQUIRE(it != rules.end());
      rules.erase(it);
    } else {
      FAIL("fake arptables: unexpected command " << join_from(args, 0));
    }
  }
};

// The fake host's tables as SgApplier reads them back (for the tests of the
// pure pieces, which take a LiveFirewall).
inline LiveFirewall live_of(const FakeHost &host) {
  LiveFirewall live;
  live.iptables = parse_iptables_text(host.save_iptables(), "iptables-save").value();
  if (host.with_ip6tables)
    live.ip6tables = parse_iptables_text(host.save_ip6tables(), "ip6tables-save").value();
  live.ebtables = parse_ebtables_text(host.list_ebtables(), "ebtables -L").value();
  live.ipsets = parse_ipset_text(host.save_ipsets(), "ipset save").value();
  if (host.with_arptables)
    live.arptables = parse_arptables_text(host.list_arptables(), "arptables -n -L").value();
  return live;
}

// The IPv6 twin the renderer gives a VM, hand-built (rendering is not
// sg-apply's; these tests need only its shape): `vm`'s ingress chain in
// ip6tables accepting sources in the inet6 set `set` (with `members`),
// jumped to from BRIDGE-FIREWALL for `vif`.  Added to `plan`.
inline void add_ip6_chains(VmPlan &plan, const std::string &vm, const std::string &vif,
                           const std::string &set, const std::vector<std::string> &members) {
  plan.ip6tables.owned_chains.push_back(
      ChainContent{vm, {{"-m", "set", "--match-set", set, "src", "-j", "ACCEPT"}, {"-j", "DROP"}}, ""});
  plan.ip6tables.shared_chains.push_back("BRIDGE-FIREWALL");
  plan.ip6tables.jumps_first.push_back(
      RuleSpec{"BRIDGE-FIREWALL", {"-m", "physdev", "--physdev-out", vif, "--physdev-is-bridged", "-j", vm}});
  plan.sets.push_back(SetContent{set, "hash:net", "inet6", members});
}

// The host setup's IPv6 layer, hand-built the same way: FORWARD jumps to
// BRIDGE-FIREWALL, which first jumps to BRIDGE-DEFAULT-FIREWALL.
inline TablePlan ip6_host_layer() {
  TablePlan plan;
  plan.owned_chains = {ChainContent{"BRIDGE-DEFAULT-FIREWALL",
                                    {{"-m", "state", "--state", "RELATED,ESTABLISHED", "-j", "ACCEPT"}}, ""}};
  plan.shared_chains = {"BRIDGE-FIREWALL"};
  plan.jumps_first = {RuleSpec{"FORWARD", {"-m", "physdev", "--physdev-is-bridged", "-j", "BRIDGE-FIREWALL"}},
                      RuleSpec{"BRIDGE-FIREWALL", {"-j", "BRIDGE-DEFAULT-FIREWALL"}}};
  return plan;
}

// The tools as detected on `host`, ip6tables included even where this
// machine's kernel has no IPv6 (detection then leaves it out): the fake
// answers it anyway.
inline NetfilterTools fake_tools(CommandRunner &host) {
  auto tools = detect_netfilter_tools(host, IptablesChoice::automatic);
  REQUIRE(tools);
  if (!tools->ip6tables)
    tools->ip6tables = IptablesTools{"ip6tables-save", "ip6tables-restore", Variant::nft, "1.8.9"};
  return std::move(*tools);
}

// A scratch directory with stand-in executables first in PATH.
class Scene {
public:
  Scene() {
    char pattern[] = "/tmp/vifwall-sg-apply-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir = pattern;
    std::filesystem::create_directories(dir + "/bin");
    for (const char *tool : {"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save",
                             "ip6tables-restore", "ebtables", "ebtables-save", "ebtables-restore", "ipset",
                             "arptables"}) {
      const std::string path = dir + "/bin/" + tool;
      std::ofstream(path) << "#!/bin/sh\nexit 99\n";
      std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    }
    // The bridge netfilter knobs on, whatever this machine's are.
    std::filesystem::create_directories(dir + "/proc-sys/net/bridge");
    for (const char *knob : {"bridge-nf-call-iptables", "bridge-nf-call-ip6tables", "bridge-nf-call-arptables"})
      std::ofstream(dir + "/proc-sys/net/bridge/" + knob) << "1\n";
    const char *path = std::getenv("PATH");
    saved_path = path ? path : "";
    ::setenv("PATH", (dir + "/bin:" + saved_path).c_str(), 1);
  }
  ~Scene() {
    ::setenv("PATH", saved_path.c_str(), 1);
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  Scene(const Scene &) = delete;
  Scene &operator=(const Scene &) = delete;

  // ARP filtering in ebtables: every change goes through a modelled
  // restore (set arp_filter to arptables with FakeHost::with_arptables).
  SgOptions options() const {
    SgOptions o;
    o.state_dir = dir + "/state";
    o.lock_file = dir + "/lock";
    o.ebtables_lock_file = dir + "/eblock";
    o.arp_filter = ArpFilter::ebtables;
    o.lock_timeout = std::chrono::milliseconds(2000);
    o.network_conf = dir + "/network.conf"; // absent: no backend to check
    o.proc_sys = dir + "/proc-sys";
    return o;
  }

  std::string state_file(const std::string &name) const { return dir + "/state/" + name; }

  std::string dir, saved_path;
};

// The seed VM (tests/data/seed: i-2-3-VM on vif7.0), and a neighbour.
inline const DefaultRequest kVmA{"i-2-3-VM", "3", "10.147.41.238", "06:f8:c8:00:00:09", "10.147.41.241;",
                                 {"vif7.0"}};
// A with another address: its ebtables, iptables and set change together.
inline const DefaultRequest kVmAMoved{"i-2-3-VM", "3", "10.147.41.239", "06:f8:c8:00:00:09", "", {"vif7.0"}};
inline const DefaultRequest kVmB{"i-2-5-VM", "5", "10.147.41.240", "06:f8:c8:00:00:0b", "", {"vif8.0"}};

inline RulesRequest rules_for_a(const std::string &rule_string, const std::string &seq) {
  auto rules = parse_rule_string(rule_string, "test");
  REQUIRE(rules);
  return RulesRequest{kVmA.vm_name, kVmA.vm_id, kVmA.ip, kVmA.mac, "a" + seq, seq, *rules, "test",
                      kVmA.vifs};
}

// The host every fault test starts from: setup, and B with its defaults.
inline void prepare(FakeHost &host, const SgOptions &options) {
  SgApplier applier(host, options);
  REQUIRE(applier.setup({"eth0"}));
  REQUIRE(applier.apply_default(kVmB));
  host.received.clear();
  host.loads.clear();
}
inline void prepare(FakeHost &host, const Scene &scene) { prepare(host, scene.options()); }

} // namespace vifwall::test
