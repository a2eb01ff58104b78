// Helpers of the tests of lib/sg/check: a host firewall made of the plans
// sg-apply renders (lib/sg/sg_render), loaded into tables as a kernel would
// hold them, and short ways to ask for a verdict.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sg_check.hpp"
#include "sg_render.hpp"
#include "sg_rules.hpp"

namespace vifwall::test {

// A rendered TablePlan as the kernel holds it: the built-in chains with
// `policy`, shared chains with their planned rules (jumps_first, then
// jumps_last), owned chains with their content.  User chains get
// `user_policy`, or with `plan_policies` the plan's own (an ebtables chain
// CloudStack creates has ACCEPT, which legacy ebtables holds and
// ebtables-nft turns into RETURN, as the captured fixtures show).
inline FwTable table_of_plan(const TablePlan &plan, const std::string &user_policy, bool plan_policies = false) {
  FwTable t;
  t.name = "filter";
  for (const char *builtin : {"INPUT", "FORWARD", "OUTPUT"})
    t.chains.push_back(FwChain{builtin, "ACCEPT", std::nullopt, std::nullopt, 0});
  auto add_rules = [&](const std::string &chain, const std::vector<std::vector<std::string>> &rules) {
    for (const auto &args : rules)
      t.rules.push_back(FwRule{chain, args, std::nullopt, t.rules.size() + 1});
  };
  std::vector<std::string> shared = plan.shared_chains;
  for (const auto &r : plan.jumps_first)
    if (std::find(shared.begin(), shared.end(), r.chain) == shared.end())
      shared.push_back(r.chain);
  for (const auto &r : plan.jumps_last)
    if (std::find(shared.begin(), shared.end(), r.chain) == shared.end())
      shared.push_back(r.chain);
  for (const auto &name : shared) {
    if (!t.chain(name))
      t.chains.push_back(FwChain{name, user_policy, std::nullopt, std::nullopt, 0});
    add_rules(name, planned_rules(plan, name));
  }
  for (const auto &c : plan.owned_chains) {
    if (!t.chain(c.name))
      t.chains.push_back(FwChain{c.name, plan_policies && !c.policy.empty() ? c.policy : user_policy,
                                 std::nullopt, std::nullopt, 0});
    add_rules(c.name, c.rules);
  }
  return t;
}

// The seed-like host: setup with uplink eth0, i-2-3-VM (vif7.0, .238) with
// `a_rules`, i-2-5-VM (vif8.0, .240) with `b_rules`, ARP in `arp`.
struct RenderedHost {
  FirewallSnapshot snapshot;
  FirewallView view;
  std::unique_ptr<CheckTables> tables;
};

// `ebtables`: which ebtables holds the tables (nullopt: a dump that does not say).
inline std::unique_ptr<RenderedHost> rendered_host(const std::string &a_rules, const std::string &b_rules,
                                                   ArpFilter arp = ArpFilter::arptables,
                                                   std::optional<Variant> ebtables = Variant::nft) {
  VmPlan plan = render_host_setup({"eth0"}, arp).value();
  auto vm = [&](const std::string &name, const std::string &ip, const std::string &mac, const std::string &vif,
                const std::string &rules) {
    VmIdentity id{name, "", ip, {}, mac, {vif}};
    append_plan(plan, render_user_vm_defaults(id, arp).value());
    auto parsed = parse_rule_string(rules, "rules").value();
    append_plan(plan, render_vm_rules(names_for_vm(name), parsed, 'a').value());
  };
  vm("i-2-3-VM", "10.147.41.238", "06:f8:c8:00:00:09", "vif7.0", a_rules);
  vm("i-2-5-VM", "10.147.41.240", "06:f8:c8:00:00:0b", "vif8.0", b_rules);
  auto host = std::make_unique<RenderedHost>();
  host->snapshot.iptables = table_of_plan(plan.iptables, "-");
  host->snapshot.ebtables = table_of_plan(plan.ebtables, "RETURN", ebtables != Variant::nft);
  host->snapshot.ebtables_backend = ebtables;
  host->snapshot.arptables = table_of_plan(plan.arptables, "-");
  IpsetDump sets;
  for (const auto &s : plan.sets) {
    IpSet set;
    set.name = s.name;
    set.type = s.type;
    set.family = s.family;
    for (const auto &m : s.members)
      set.members.push_back(normalize_ipset_member(s.type, m));
    std::sort(set.members.begin(), set.members.end());
    sets.sets.push_back(set);
  }
  host->snapshot.ipsets = sets;
  host->view = build_view(host->snapshot);
  host->tables = std::make_unique<CheckTables>(host->snapshot, host->view);
  return host;
}

// The packet of `words` ("from=... to=..."), resolved on `view`.
inline Packet packet_of(const FirewallView &view, const std::string &words) {
  auto spec = parse_packet_line(words, "test", 1);
  REQUIRE(spec);
  auto resolved = resolve_packet(*spec, view, "test", 1);
  INFO((resolved ? "" : resolved.error().str()));
  REQUIRE(resolved);
  return resolved->packet;
}

inline CheckResult check(const RenderedHost &host, const std::string &words) {
  return host.tables->evaluate(packet_of(host.view, words));
}

// The decisive step.
inline const TraceStep &decider(const CheckResult &r) {
  for (const auto &s : r.trace)
    if (s.decisive)
      return s;
  FAIL("no decisive step: " << r.reason);
  throw;
}

} // namespace vifwall::test
