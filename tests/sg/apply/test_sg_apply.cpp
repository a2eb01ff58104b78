// SgApplier's own behaviour, through the fake host of fake_host.hpp: what
// each operation loads, that a second run changes nothing, that a VM's
// change touches that VM alone, dry runs, the lock, batches and the rule-log
// decisions.  (Faults and rollbacks: test_sg_apply_faults.cpp.)
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fake_host.hpp"
#include "sg_apply.hpp"
#include "sg_desired.hpp"
#include "sg_state.hpp"
#include "text.hpp"
#include "testutil.hpp"

using namespace vifwall;
using namespace vifwall::test;
namespace fs = std::filesystem;

namespace {

// The seed VM exactly as the seed notes show it: no secondary address.
const DefaultRequest kSeedVm{"i-2-3-VM", "3", "10.147.41.238", "06:f8:c8:00:00:09", "", {"vif7.0"}};

// Lines of `text` starting with `prefix`.
std::vector<std::string> lines_starting(const std::string &text, const std::string &prefix) {
  std::vector<std::string> out;
  for (const Line &line : split_lines(text))
    if (starts_with(line.text, prefix))
      out.emplace_back(trim(line.text));
  return out;
}

// The meaning of an arptables rule: without `arptables -L`'s counters, "any"
// interfaces and "--h-length 6" (see test_sg_render.cpp).
std::string arp_meaning(std::string_view line) {
  line = line.substr(0, line.find(" , pcnt="));
  const auto words = split_blanks(line);
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i + 1 < words.size() &&
        (((words[i] == "-i" || words[i] == "-o") && words[i + 1] == "any") ||
         (words[i] == "--h-length" && words[i + 1] == "6"))) {
      ++i;
      continue;
    }
    out += (out.empty() ? "" : " ") + std::string(words[i]);
  }
  return out;
}

// The rules of `chain` in the seed's `arptables -L`, by meaning.
std::vector<std::string> seed_arptables_chain(const std::string &chain) {
  std::vector<std::string> out;
  bool inside = false;
  const std::string notes = read_data("seed/xenserver-cloudstack-notes.txt"); // the lines point into it
  for (const Line &line : split_lines(notes)) {
    if (starts_with(line.text, "Chain "))
      inside = starts_with(line.text, "Chain " + chain + " ");
    else if (inside && starts_with(line.text, "-j "))
      out.push_back(arp_meaning(line.text));
  }
  return out;
}

std::vector<std::string> arp_meanings(const std::vector<std::string> &rules) {
  std::vector<std::string> out;
  for (const auto &rule : rules)
    out.push_back(arp_meaning(rule));
  return out;
}

SgOptions arptables_options(const Scene &scene) {
  SgOptions options = scene.options();
  options.arp_filter = ArpFilter::arptables;
  return options;
}

// Every chain and set name of the fake host that mentions `vm`'s names.
std::vector<std::string> objects_of(const FakeHost &host, const std::string &vm_prefix) {
  std::vector<std::string> out;
  for (const auto *table : {&host.iptables, &host.ebtables, &host.arptables})
    for (const auto &chain : table->order)
      if (starts_with(chain, vm_prefix))
        out.push_back(chain);
  for (const auto &set : host.set_order)
    if (starts_with(set, vm_prefix))
      out.push_back(set);
  return out;
}

// A process holding `path`'s lock until it is told to let go (fcntl locks
// are per process: this one cannot block itself).
class LockHolder {
public:
  explicit LockHolder(const std::string &path) {
    int ready[2], release[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(release) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::alarm(30); // never outlives a test run that went wrong
      // Only the parent's end of `release` may stay open, or the read below
      // never sees the end of the pipe.
      ::close(ready[0]);
      ::close(release[1]);
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
      struct flock request {};
      request.l_type = F_WRLCK;
      request.l_whence = SEEK_SET;
      const char status = fd >= 0 && ::fcntl(fd, F_SETLKW, &request) == 0 ? 'y' : 'n';
      (void)!::write(ready[1], &status, 1);
      char byte;
      (void)!::read(release[0], &byte, 1);
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_ = release[1];
    char status = 0;
    const bool locked = ::read(ready[0], &status, 1) == 1 && status == 'y';
    ::close(ready[0]);
    if (!locked) {
      let_go();
      FAIL("the helper process could not lock " << path);
    }
  }
  ~LockHolder() { let_go(); }
  LockHolder(const LockHolder &) = delete;
  LockHolder &operator=(const LockHolder &) = delete;

private:
  void let_go() {
    if (release_ < 0)
      return;
    ::close(release_);
    release_ = -1;
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_t pid_ = -1;
  int release_ = -1;
};

} // namespace

TEST_CASE("the seed VM's defaults load the seed's ebtables rules and arptables chain", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  host.with_arptables = true;
  SgApplier applier(host, arptables_options(scene));
  REQUIRE(applier.setup({"eth0"}));
  auto applied = applier.apply_default(kSeedVm);
  REQUIRE(applied);
  CHECK(applied->changed);

  // ebtables: the last whole-table load holds the seed's ebtables-save rules.
  const auto eb = host.inputs_of("ebtables-restore");
  REQUIRE_FALSE(eb.empty());
  const std::string seed = read_data("seed/xenserver-cloudstack-notes.txt");
  std::vector<std::string> seed_eb;
  for (const auto &line : lines_starting(seed, "-A "))
    seed_eb.push_back(line);
  REQUIRE(seed_eb.size() == 18);
  CHECK(lines_starting(eb.back(), "-A ") == seed_eb);
  CHECK(contains(eb.back(), ":i-2-3-VM "));

  // arptables: the commands built the seed's FORWARD jumps and VM chain.
  CHECK(arp_meanings(host.arptables.rules.at("FORWARD")) == seed_arptables_chain("FORWARD"));
  CHECK(arp_meanings(host.arptables.rules.at("i-2-3-VM")) == seed_arptables_chain("i-2-3-VM"));
  const auto edits = host.arptables_edits();
  CHECK(std::find(edits.begin(), edits.end(), "-N i-2-3-VM") != edits.end());

  // ipset: the VM's own address set; iptables: its three chains, jumped to.
  const auto sets = host.inputs_of("ipset");
  REQUIRE(sets.size() == 1);
  CHECK(contains(sets[0], "create i-2-3-VM "));
  CHECK(contains(sets[0], "add i-2-3-VM 10.147.41.238"));
  const auto ipt = host.inputs_of("iptables-restore");
  REQUIRE(ipt.size() == 2); // setup's, the VM's
  for (const char *chain : {":i-2-3-VM - ", ":i-2-3-VM-eg - ", ":i-2-3-VM-def - "})
    CHECK(contains(ipt[1], chain));
  CHECK(contains(ipt[1], "-j i-2-3-VM-def"));

  // The outcome names each table changed, for syslog as well.
  std::vector<std::string> told;
  applier.on_change = [&](const std::string &line) { told.push_back(line); };
  auto moved = applier.apply_default(DefaultRequest{"i-2-3-VM", "3", "10.147.41.239", "06:f8:c8:00:00:09",
                                                    "", {"vif7.0"}});
  REQUIRE(moved);
  CHECK(told == moved->changes);
  REQUIRE_FALSE(moved->changes.empty());
  for (const auto &line : moved->changes)
    CHECK(starts_with(line, "i-2-3-VM: "));
}

TEST_CASE("the state files of a VM's defaults are CloudStack's and vifwall's", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  SgApplier applier(host, scene.options());
  REQUIRE(applier.setup({"eth0"}));
  REQUIRE(applier.apply_default(kVmA));
  CHECK(read_text(scene.state_file("i-2-3-VM.log")) ==
        "i-2-3-VM,3,10.147.41.238,7,_initial_,-1,06:f8:c8:00:00:09\n");
  CHECK(read_text(scene.state_file("i-2-3-VM.ip")) == "i-2-3-VM,10.147.41.241;,3\n");
  auto state = parse_vm_state(read_text(scene.state_file("i-2-3-VM.state")), "state");
  REQUIRE(state);
  CHECK(state->vifs == std::vector<std::string>{"vif7.0"});
  CHECK(state->secondary_ips == std::vector<std::string>{"10.147.41.241"});
  CHECK(state->arp_filter == "ebtables");
  CHECK_FALSE(state->rules_applied);
  CHECK(fs::exists(host_state_path(scene.dir + "/state")));
}

TEST_CASE("a second identical run changes nothing and loads nothing", "[sg_apply]") {
  for (const bool arptables : {false, true}) {
    DYNAMIC_SECTION("arp filter " << (arptables ? "arptables" : "ebtables")) {
      Scene scene;
      FakeHost host;
      host.with_arptables = arptables;
      const SgOptions options = arptables ? arptables_options(scene) : scene.options();
      {
        SgApplier applier(host, options);
        REQUIRE(applier.setup({"eth0"}));
        REQUIRE(applier.apply_default(kVmA));
        REQUIRE(applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT E:udp;53;53;0.0.0.0/0,NEXT ", "1")));
        REQUIRE(applier.apply_systemvm("s-1-VM", {"vif9.0"}));
      }
      const std::string before = host.snapshot();
      const std::string log_before = read_text(scene.state_file("i-2-3-VM.log"));
      host.received.clear();
      SgApplier again(host, options);
      auto setup = again.setup({"eth0"});
      REQUIRE(setup);
      CHECK_FALSE(setup->changed);
      auto systemvm = again.apply_systemvm("s-1-VM", {"vif9.0"});
      REQUIRE(systemvm);
      CHECK_FALSE(systemvm->changed);
      // `default` keeps the rules already applied: nothing changes.
      auto defaults = again.apply_default(kVmA);
      REQUIRE(defaults);
      CHECK_FALSE(defaults->changed);
      CHECK(defaults->changes.empty());
      CHECK_FALSE(host.loaded_anything());
      CHECK(host.snapshot() == before);
      // `default` rewrote the log (CloudStack's: an "_initial_" signature),
      // so the same rules again are reprogrammed -- and find nothing to do.
      CHECK(read_text(scene.state_file("i-2-3-VM.log")) != log_before);
      auto rules = again.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT E:udp;53;53;0.0.0.0/0,NEXT ", "1"));
      REQUIRE(rules);
      CHECK_FALSE(rules->changed);
      CHECK_FALSE(host.loaded_anything());
      CHECK(host.snapshot() == before);
    }
  }
}

TEST_CASE("destroy removes exactly the VM's chains and sets and keeps foreign rules", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  // Other software's rules and set, in the chains we share.
  host.iptables.rules.at("FORWARD").push_back("-i eth1 -j ACCEPT");
  host.ebtables.rules.at("FORWARD").push_back("-i eth1 -j ACCEPT");
  host.sets["blocklist"] = {"hash:net", {"192.0.2.0/24"}};
  host.set_order.push_back("blocklist");
  const std::string before = host.snapshot();
  const std::string b_state = read_text(scene.state_file("i-2-5-VM.state"));

  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  REQUIRE(applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1")));
  REQUIRE_FALSE(objects_of(host, "i-2-3-").empty());
  auto destroyed = SgApplier(host, scene.options()).destroy(kVmA.vm_name);
  REQUIRE(destroyed);
  CHECK(destroyed->changed);
  CHECK(objects_of(host, "i-2-3-").empty());
  CHECK(host.snapshot() == before);
  CHECK(host.iptables.rules.at("FORWARD").back() == "-i eth1 -j ACCEPT");
  CHECK(host.ebtables.rules.at("FORWARD").back() == "-i eth1 -j ACCEPT");
  CHECK(host.sets.count("blocklist"));
  for (const char *file : {"i-2-3-VM.state", "i-2-3-VM.log", "i-2-3-VM.ip"})
    CHECK_FALSE(fs::exists(scene.state_file(file)));
  CHECK(read_text(scene.state_file("i-2-5-VM.state")) == b_state);

  // Destroying what is gone changes nothing.
  host.received.clear();
  auto again = SgApplier(host, scene.options()).destroy(kVmA.vm_name);
  REQUIRE(again);
  CHECK_FALSE(again->changed);
  CHECK_FALSE(host.loaded_anything());
}

TEST_CASE("a rules update changes that VM only", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  const auto b_rules = [&] {
    std::vector<std::vector<std::string>> out;
    for (const char *chain : {"i-2-5-VM", "i-2-5-VM-eg", "i-2-5-VM-def"})
      out.push_back(host.iptables.rules.at(chain));
    out.push_back(host.ebtables.rules.at("i-2-5-VM"));
    return out;
  };
  const auto b_before = b_rules();
  const auto b_sets = host.sets.at("i-2-5-VM");
  const std::string b_state = read_text(scene.state_file("i-2-5-VM.state"));
  host.received.clear();

  auto updated = applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "1"));
  REQUIRE(updated);
  CHECK(updated->changed);
  for (const auto &input : host.inputs_of("iptables-restore"))
    CHECK_FALSE(contains(input, "i-2-5-"));
  for (const auto &input : host.inputs_of("ipset"))
    CHECK_FALSE(contains(input, "i-2-5-"));
  CHECK(b_rules() == b_before);
  CHECK(host.sets.at("i-2-5-VM") == b_sets);
  CHECK(read_text(scene.state_file("i-2-5-VM.state")) == b_state);
  // A's records name the rules applied.
  CHECK(read_text(scene.state_file("i-2-3-VM.log")) ==
        "i-2-3-VM,3,10.147.41.238,7,a1,1,06:f8:c8:00:00:09\n");
  auto state = parse_vm_state(read_text(scene.state_file("i-2-3-VM.state")), "state");
  REQUIRE(state);
  CHECK(state->rules == "I:tcp;22;22;10.0.0.0/8,NEXT ");
  CHECK(state->rules_applied);
  bool port_22 = false;
  for (const auto &rule : host.iptables.rules.at("i-2-3-VM"))
    port_22 = port_22 || contains(rule, "--dport 22");
  CHECK(port_22);
}

TEST_CASE("a dry run renders what would be loaded and runs no load", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  const std::string before = host.snapshot();
  SgOptions options = scene.options();
  options.dry_run = true;
  auto dry = SgApplier(host, options).apply_default(kVmA);
  REQUIRE(dry);
  CHECK(dry->changed);
  CHECK(dry->changes.empty());
  for (const char *heading : {"# ipset -exist restore\n", "# ebtables-restore\n", "# iptables-restore --noflush\n"})
    CHECK(contains(dry->dry_run_text, heading));
  CHECK(contains(dry->dry_run_text, "add i-2-3-VM 10.147.41.238"));
  CHECK(contains(dry->dry_run_text, ":i-2-3-VM-def - [0:0]"));
  CHECK_FALSE(host.loaded_anything());
  for (const auto &command : host.received)
    CHECK_FALSE(ends_with(base_name(command.argv[0]), "-restore"));
  CHECK(host.snapshot() == before);
  CHECK_FALSE(fs::exists(scene.state_file("i-2-3-VM.state")));
  CHECK_FALSE(fs::exists(scene.state_file("i-2-3-VM.log")));

  // What the dry run showed is what the real run loads.
  REQUIRE(SgApplier(host, scene.options()).apply_default(kVmA));
  CHECK(contains(dry->dry_run_text, host.inputs_of("iptables-restore").at(0)));
  CHECK(contains(dry->dry_run_text, host.inputs_of("ebtables-restore").at(0)));
  auto nothing = SgApplier(host, options).apply_default(kVmA);
  REQUIRE(nothing);
  CHECK_FALSE(nothing->changed);
  CHECK(nothing->dry_run_text.empty());
}

TEST_CASE("a busy lock fails with the lock's status before anything runs", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  SgOptions options = scene.options();
  options.lock_timeout = std::chrono::milliseconds(50);
  LockHolder holder(options.lock_file);
  auto result = SgApplier(host, options).apply_default(kVmA);
  REQUIRE_FALSE(result);
  CHECK(is_lock_timeout(result.error()));
  CHECK(contains(result.error().str(), "busy"));
  CHECK(host.received.empty());
  CHECK_FALSE(fs::exists(scene.state_file("i-2-3-VM.state")));
  // XAPI's ebtables lock counts the same.
  SgOptions eb_options = scene.options();
  eb_options.lock_file = scene.dir + "/other-lock";
  eb_options.ebtables_lock_file = options.lock_file;
  eb_options.lock_timeout = std::chrono::milliseconds(50);
  auto eb_result = SgApplier(host, eb_options).setup({"eth0"});
  REQUIRE_FALSE(eb_result);
  CHECK(is_lock_timeout(eb_result.error()));
  CHECK_FALSE(host.loaded_anything());
  // Other failures are not lock timeouts.
  CHECK_FALSE(is_lock_timeout(Error{"x", 0, "cannot lock: Permission denied"}));
}

TEST_CASE("a batch changes many VMs with one load per table", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  std::vector<VmJob> jobs;
  for (int n = 10; n < 13; ++n) {
    const std::string id = std::to_string(n);
    auto job = applier.prepare_default(
        DefaultRequest{"i-2-" + id + "-VM", id, "10.1.1." + id, "06:00:00:00:00:" + id, "", {"vif" + id + ".0"}});
    REQUIRE(job);
    jobs.push_back(std::move(*job));
  }
  auto destroy_b = applier.prepare_destroy(kVmB.vm_name);
  REQUIRE(destroy_b);
  jobs.push_back(std::move(*destroy_b));
  auto result = applier.run(std::move(jobs));
  REQUIRE(result);
  CHECK(result->changed);
  // One load per table; B is live and changes in several tables, so the
  // run's VIFs are cut off meanwhile (the second ebtables load lifts it).
  CHECK(host.inputs_of("iptables-restore").size() == 1);
  const auto eb = host.inputs_of("ebtables-restore");
  REQUIRE(eb.size() == 2);
  CHECK(contains(eb[0], "-A FORWARD -i vif8.0 -j vifwall-cutoff"));
  CHECK_FALSE(contains(eb[1], "vifwall-cutoff"));
  const auto sets = host.inputs_of("ipset");
  REQUIRE(sets.size() == 2); // the new VMs' sets; B's, destroyed after iptables let go of them
  CHECK(contains(sets[1], "destroy i-2-5-VM"));
  for (const auto &line : result->changes)
    CHECK(starts_with(line, "i-2-10-VM, i-2-11-VM, i-2-12-VM, i-2-5-VM: "));
  CHECK(objects_of(host, "i-2-5-").empty());
  for (const char *vm : {"i-2-10-VM", "i-2-11-VM", "i-2-12-VM"}) {
    CHECK(host.iptables.rules.count(vm));
    CHECK(fs::exists(scene.state_file(std::string(vm) + ".state")));
  }
  CHECK_FALSE(fs::exists(scene.state_file("i-2-5-VM.state")));
}

TEST_CASE("a batch naming a VM twice is refused before anything runs", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  SgApplier applier(host, scene.options());
  std::vector<VmJob> jobs;
  for (int i = 0; i < 2; ++i) {
    auto job = applier.prepare_destroy("i-2-3-VM");
    REQUIRE(job);
    jobs.push_back(std::move(*job));
  }
  auto result = applier.run(std::move(jobs));
  REQUIRE_FALSE(result);
  CHECK(result.error().str() == "VM i-2-3-VM appears twice; give each VM once per run");
  CHECK(host.received.empty());
}

TEST_CASE("rules updates follow CloudStack's log decisions", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  REQUIRE(applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "5")));
  const std::string before = host.snapshot();
  const std::string state_before = read_text(scene.state_file("i-2-3-VM.state"));
  host.received.clear();

  SECTION("the same seqno and signature: nothing to do") {
    auto same = applier.apply_rules(rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "5"));
    REQUIRE(same);
    CHECK_FALSE(same->changed);
    REQUIRE(same->notes.size() == 1);
    CHECK(starts_with(same->notes[0], "i-2-3-VM: nothing to do (log "));
    CHECK(host.received.empty());
  }
  SECTION("an older seqno is ignored, whatever its rules") {
    auto older = applier.apply_rules(rules_for_a("I:tcp;80;80;10.0.0.0/8,NEXT ", "4"));
    REQUIRE(older);
    CHECK_FALSE(older->changed);
    REQUIRE(older->notes.size() == 1);
    CHECK(starts_with(older->notes[0], "i-2-3-VM: ignore (older seqno)"));
    CHECK(host.snapshot() == before);
    CHECK(read_text(scene.state_file("i-2-3-VM.state")) == state_before);
  }
  SECTION("a newer seqno with the same signature only rewrites the log") {
    RulesRequest newer = rules_for_a("I:tcp;22;22;10.0.0.0/8,NEXT ", "6");
    newer.signature = "a5";
    auto updated = applier.apply_rules(newer);
    REQUIRE(updated);
    CHECK_FALSE(updated->changed);
    CHECK(updated->notes == std::vector<std::string>{
                                "i-2-3-VM: same signature, newer seqno: only the log is updated"});
    CHECK(read_text(scene.state_file("i-2-3-VM.log")) ==
          "i-2-3-VM,3,10.147.41.238,7,a5,6,06:f8:c8:00:00:09\n");
    CHECK_FALSE(host.loaded_anything());
    CHECK(host.snapshot() == before);
  }
}

TEST_CASE("invalid values fail before anything runs, naming the option", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  SgApplier applier(host, scene.options());
  DefaultRequest bad_ip = kVmA;
  bad_ip.ip = "10.147.41.300";
  auto ip = applier.apply_default(bad_ip);
  REQUIRE_FALSE(ip);
  CHECK(starts_with(ip.error().str(), "--ip: "));
  DefaultRequest bad_mac = kVmA;
  bad_mac.mac = "06:f8:c8:00:00";
  auto mac = applier.apply_default(bad_mac);
  REQUIRE_FALSE(mac);
  CHECK(starts_with(mac.error().str(), "--mac: "));
  DefaultRequest system_name = kVmA;
  system_name.vm_name = "r-4-VM";
  auto system = applier.apply_default(system_name);
  REQUIRE_FALSE(system);
  CHECK(contains(system.error().str(), "use `sg-apply systemvm`"));
  auto vif = applier.apply_systemvm("s-1-VM", {"vif9.0;rm"});
  REQUIRE_FALSE(vif);
  CHECK(starts_with(vif.error().str(), "--vif: "));
  auto secondary = applier.secondary_ip("i-2-3-VM", kVmA.mac, "10.0.0.1", true);
  REQUIRE_FALSE(secondary);
  CHECK(contains(secondary.error().str(), "run `sg-apply default` for it first"));
  CHECK_FALSE(host.loaded_anything());
}

TEST_CASE("a secondary address joins the VM's set and its records", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  host.received.clear();
  auto added = applier.secondary_ip(kVmA.vm_name, kVmA.mac, "10.147.41.250", true);
  REQUIRE(added);
  CHECK(added->changed);
  CHECK(host.sets.at("i-2-3-VM").second.count("10.147.41.250"));
  CHECK(read_text(scene.state_file("i-2-3-VM.ip")) == "i-2-3-VM,10.147.41.241;10.147.41.250;,3\n");
  // A MAC other than the VM's is refused.
  auto other_mac = applier.secondary_ip(kVmA.vm_name, "06:f8:c8:00:00:0a", "10.147.41.251", true);
  REQUIRE_FALSE(other_mac);
  CHECK(contains(other_mac.error().str(), "has no NIC with MAC"));
  auto removed = applier.secondary_ip(kVmA.vm_name, kVmA.mac, "10.147.41.250", false);
  REQUIRE(removed);
  CHECK(removed->changed);
  CHECK_FALSE(host.sets.at("i-2-3-VM").second.count("10.147.41.250"));
  CHECK(read_text(scene.state_file("i-2-3-VM.ip")) == "i-2-3-VM,10.147.41.241;,3\n");
}

TEST_CASE("cleanup destroys the VMs that are not running, in one change", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  SgApplier applier(host, scene.options());
  REQUIRE(applier.apply_default(kVmA));
  REQUIRE(applier.apply_systemvm("s-1-VM", {"vif9.0"}));
  host.received.clear();
  auto cleaned = applier.cleanup(std::vector<std::string>{"i-2-5-VM"});
  REQUIRE(cleaned);
  CHECK(cleaned->changed);
  CHECK(host.inputs_of("iptables-restore").size() == 1);
  CHECK(objects_of(host, "i-2-3-").empty());
  CHECK(objects_of(host, "s-1-").empty());
  CHECK_FALSE(objects_of(host, "i-2-5-").empty());
  CHECK(fs::exists(scene.state_file("i-2-5-VM.state")));
  CHECK_FALSE(fs::exists(scene.state_file("s-1-VM.state")));
  auto bad = applier.cleanup(std::vector<std::string>{"no such;vm"});
  REQUIRE_FALSE(bad);
  CHECK(starts_with(bad.error().str(), "--running: "));
}

TEST_CASE("setup lists every missing prerequisite at once", "[sg_apply]") {
  Scene scene;
  FakeHost host;
  host.missing = {"ipset"};
  SgOptions options = scene.options();
  std::ofstream(scene.dir + "/network.conf") << "openvswitch\n";
  options.network_conf = scene.dir + "/network.conf";
  options.proc_sys = scene.dir + "/proc-sys";
  fs::create_directories(options.proc_sys + "/net/bridge");
  std::ofstream(options.proc_sys + "/net/bridge/bridge-nf-call-iptables") << "0\n";
  auto result = SgApplier(host, options).setup({"eth0"});
  REQUIRE_FALSE(result);
  const std::string message = result.error().str();
  CHECK(starts_with(message, "host not ready for security groups:\n  - network backend is \"openvswitch\""));
  CHECK(contains(message, "net.bridge.bridge-nf-call-iptables is not 1"));
  CHECK(contains(message, "ipset is missing or not working"));
  CHECK_FALSE(contains(message, "arptables")); // --arp-filter ebtables
  CHECK_FALSE(host.loaded_anything());
}

TEST_CASE("cleanup finds a stopped VM by its ip6tables chains alone", "[sg_apply][ip6tables]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  host.ip6tables.ensure("BRIDGE-FIREWALL", "-");
  host.ip6tables.ensure("i-2-9-VM", "-");
  host.ip6tables.rules.at("i-2-9-VM") = {"-j DROP"};
  host.ip6tables.rules.at("BRIDGE-FIREWALL") = {"-m physdev --physdev-out vif9.0 --physdev-is-bridged -j i-2-9-VM",
                                                "-m physdev --physdev-in eth9 --physdev-is-bridged -j ACCEPT"};
  auto cleaned = SgApplier(host, scene.options()).cleanup(std::vector<std::string>{"i-2-5-VM"});
  REQUIRE(cleaned);
  CHECK(cleaned->removed == std::vector<std::string>{"i-2-9-VM"});
  CHECK_FALSE(host.ip6tables.rules.count("i-2-9-VM"));
  CHECK(host.ip6tables.rules.at("BRIDGE-FIREWALL") ==
        std::vector<std::string>{"-m physdev --physdev-in eth9 --physdev-is-bridged -j ACCEPT"});
  CHECK_FALSE(objects_of(host, "i-2-5-").empty());
}

TEST_CASE("the leftover sweep keeps a vmops set an ip6tables rule still uses", "[sg_apply][ip6tables]") {
  Scene scene;
  FakeHost host;
  prepare(host, scene);
  for (const char *name : {"i-2-9-VMt22_22", "i-2-8-VMt22_22"}) {
    host.sets[name] = {"hash:net", {"2001:db8::/64"}};
    host.set_order.push_back(name);
  }
  host.ip6tables.rules.at("FORWARD").push_back("-m set --match-set i-2-9-VMt22_22 src -j LOG");
  auto swept = SgApplier(host, scene.options()).sweep_leftovers();
  REQUIRE(swept);
  CHECK(host.sets.count("i-2-9-VMt22_22"));
  CHECK_FALSE(host.sets.count("i-2-8-VMt22_22"));
}
