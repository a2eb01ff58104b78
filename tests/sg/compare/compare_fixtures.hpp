// Fixtures shared by the tests of lib/sg/compare: the applied seed host of
// tests/data/sgshow (firewall dumps, xe listings, sg-apply's state
// directory), edited in place to make the differences under test.
#pragma once

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "firewall_snapshot.hpp"
#include "host_inputs.hpp"
#include "sg_compare.hpp"
#include "sg_state.hpp"
#include "testutil.hpp"

namespace vifwall::test::compare {

inline const std::string kData = VIFWALL_TEST_DATA;
inline const std::string kApplied = "sgshow/xen6-arptables";

// Replaces `from` by `to` (must be present) in one of the texts.
struct Edit {
  std::optional<InputText> FirewallTexts::*file;
  std::string from, to;
  bool everywhere = false; // every occurrence, not just the first
};

inline FirewallSnapshot snapshot_of(const std::string &dir, const std::vector<Edit> &edits = {}) {
  auto texts = read_firewall_snapshot(kData + "/" + dir);
  REQUIRE(texts);
  for (const auto &edit : edits) {
    std::string &text = ((*texts).*(edit.file))->text;
    auto at = text.find(edit.from);
    INFO("edit: " << edit.from);
    REQUIRE(at != std::string::npos);
    while (at != std::string::npos) {
      text.replace(at, edit.from.size(), edit.to);
      at = edit.everywhere ? text.find(edit.from, at + edit.to.size()) : std::string::npos;
    }
  }
  auto snapshot = parse_firewall_texts(*texts);
  REQUIRE(snapshot);
  return *snapshot;
}

inline RunningHost running_of(const std::string &dir) {
  auto texts = read_snapshot_dir(kData + "/" + dir);
  REQUIRE(texts);
  auto inputs = parse_host_texts(*texts);
  REQUIRE(inputs);
  return running_from_host_map(join_host(std::move(*inputs)));
}

inline std::vector<VmState> states_of(const std::string &dir) {
  auto states = read_all_vm_states(kData + "/" + dir + "/state");
  REQUIRE(states);
  return *states;
}

inline DesiredFirewall desired_of(const std::string &dir) {
  const std::string state_dir = kData + "/" + dir + "/state";
  auto host = parse_host_state(read_data(dir + "/state/_host.state"), "_host.state");
  REQUIRE(host);
  auto desired = desired_from_state(states_of(dir), *host, state_dir);
  REQUIRE(desired);
  return *desired;
}

inline std::vector<Difference> all_differences(const Comparison &c) {
  std::vector<Difference> out = c.host;
  for (const auto &vm : c.vms)
    out.insert(out.end(), vm.differences.begin(), vm.differences.end());
  return out;
}

inline const VmComparison &vm_of(const Comparison &c, const std::string &name) {
  for (const auto &vm : c.vms)
    if (vm.vm == name)
      return vm;
  FAIL("no VM " << name << " in the comparison");
  throw;
}

// The only difference of the comparison, which must be in `vm`.
inline Difference only_difference(const Comparison &c, const std::string &vm) {
  const auto all = all_differences(c);
  INFO(render_comparison_text(c));
  REQUIRE(all.size() == 1);
  REQUIRE(vm_of(c, vm).differences.size() == 1);
  return all.front();
}

// The seed host as applied, compared with `edits` made to its dumps.
inline Comparison compare_applied(const std::vector<Edit> &edits) {
  return compare_firewall(desired_of(kApplied), snapshot_of(kApplied, edits), running_of(kApplied));
}

inline constexpr auto kIpt = &FirewallTexts::iptables;
inline constexpr auto kEb = &FirewallTexts::ebtables;
inline constexpr auto kArp = &FirewallTexts::arptables;
inline constexpr auto kSets = &FirewallTexts::ipsets;

} // namespace vifwall::test::compare
