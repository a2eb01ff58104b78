// Who may reach a VM (lib/sg/check/summary.cpp): probes from its rules'
// peers, other VMs and the outside, each judged by the same evaluation.
#include "check_fixtures.hpp"
#include "sg/view/view_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

const ReachProbe &probe(const ReachSummary &s, const std::string &from, const std::string &service) {
  for (const auto &p : s.probes)
    if (p.from == from && p.service == service)
      return p;
  FAIL("no probe " << from << " " << service);
  throw;
}

} // namespace

TEST_CASE("summary: the VM's rules probed from its peers and the outside", "[sg_check][summary]") {
  const FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-arptables");
  const FirewallView view = build_view(snapshot);
  const CheckTables tables(snapshot, view);
  auto s = summarize_reach(tables, view, "i-2-5-VM");
  REQUIRE(s);
  CHECK(s->vif == "vif8.0");
  CHECK(s->ip == "10.147.41.240");
  // tcp 8080-8090 from 192.168.7.0/24 and 10.1.0.0/16: a host of each, from outside
  CHECK(probe(*s, "192.168.7.1 (outside, in 192.168.7.0/24)", "tcp/8080").verdict == Verdict::pass);
  CHECK(probe(*s, "10.1.0.1 (outside, in 10.1.0.0/16)", "tcp/8080").verdict == Verdict::pass);
  CHECK(probe(*s, "203.0.113.7 (outside)", "tcp/8080").verdict == Verdict::drop);
  CHECK(probe(*s, "203.0.113.7 (outside)", "udp/53").verdict == Verdict::pass); // from 0.0.0.0/0
  // gre from i-2-3-VM's address: the peer is the VM itself
  CHECK(probe(*s, "i-2-3-VM", "protocol 47").verdict == Verdict::pass);
  CHECK(probe(*s, "203.0.113.7 (outside)", "protocol 47").verdict == Verdict::drop);
  CHECK(probe(*s, "i-2-3-VM", "tcp/22").verdict == Verdict::drop);
  const std::string text = render_reach_text(*s);
  CHECK(text.rfind("i-2-5-VM (vif8.0, 10.147.41.240): who may reach it\n", 0) == 0);
  CHECK_FALSE(summarize_reach(tables, view, "r-4-VM")); // no address in the firewall
  CHECK_FALSE(summarize_reach(tables, view, "i-9-9-VM"));
}
