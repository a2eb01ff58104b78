// Helpers of the tests of lib/sg/view: the sgshow fixtures as snapshots and
// views, and short ways to look into a view.
#pragma once

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "firewall_snapshot.hpp"
#include "sg_view.hpp"

namespace vifwall::test {

inline const std::string kViewData = VIFWALL_TEST_DATA;
// sg-apply's dual-stack VM with two NICs (tests/data/sgshow/README.md).
inline const std::string kIpv6Nics = "sgshow/ipv6-two-nics";

// tests/data/<dir> (a snapshot directory) parsed.
inline FirewallSnapshot snapshot_of(const std::string &dir) {
  auto texts = read_firewall_snapshot(kViewData + "/" + dir);
  REQUIRE(texts);
  auto snapshot = parse_firewall_texts(*texts);
  REQUIRE(snapshot);
  return *snapshot;
}

// A snapshot of an iptables-save text alone.
inline FirewallSnapshot iptables_only(const std::string &text) {
  FirewallSnapshot snapshot;
  auto table = parse_iptables_text(text, "iptables-save");
  REQUIRE(table);
  snapshot.iptables = *table;
  return snapshot;
}

inline std::vector<std::string> texts_of(const std::vector<ReadBackRule> &rules) {
  std::vector<std::string> out;
  for (const auto &rule : rules)
    out.push_back(rule.text);
  return out;
}

inline std::vector<std::string> names_of(const FirewallView &view) {
  std::vector<std::string> out;
  for (const auto &vm : view.vms)
    out.push_back(vm.name);
  return out;
}

inline const Protection &protection(const std::vector<Protection> &list, const std::string &name) {
  for (const auto &p : list)
    if (p.name == name)
      return p;
  FAIL("no protection " << name);
  throw;
}

inline const Protection &protection(const VmView &vm, const std::string &name) {
  return protection(vm.protections, name);
}

inline std::vector<const VmView *> all(const FirewallView &view) {
  std::vector<const VmView *> out;
  for (const auto &vm : view.vms)
    out.push_back(&vm);
  return out;
}

// The facts (JSON pointers, TextViewPrinter::facts()) that `json` does not
// have: what a text shows that its JSON leaves out.
inline std::vector<std::string> missing_in_json(const std::vector<std::string> &facts, const std::string &json) {
  const auto doc = nlohmann::json::parse(json);
  std::vector<std::string> missing;
  for (const auto &fact : facts)
    if (!doc.contains(nlohmann::json::json_pointer(fact)))
      missing.push_back(fact);
  return missing;
}

} // namespace vifwall::test
