// The one walk of sg-check's answers (lib/sg/check/print_check.cpp): text
// and JSON from the same calls.
#include <nlohmann/json.hpp>

#include "check_fixtures.hpp"
#include "sg/view/view_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test;

namespace {

struct Checked {
  PacketSpec spec;
  ResolvedPacket resolved;
  CheckResult result;
  CheckAnswer answer() const { return CheckAnswer{&spec, &resolved, &result, nullptr}; }
};

Checked checked(const FirewallSnapshot &snapshot, const FirewallView &view, const std::string &words) {
  Checked c;
  c.spec = parse_packet_line(words, "t", 1).value();
  c.resolved = resolve_packet(c.spec, view, "t", 1).value();
  c.result = CheckTables(snapshot, view).evaluate(c.resolved.packet);
  return c;
}

} // namespace

TEST_CASE("print: the verdict, the trace and the decider in text and JSON", "[sg_check][print_check]") {
  const FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-arptables");
  const FirewallView view = build_view(snapshot);
  const Checked c = checked(snapshot, view, "from=10.147.40.1 to=i-2-3-VM proto=tcp dport=22 id=x1");
  const std::string text = render_check_text(c.answer(), true);
  CHECK(text.rfind("DROP     x1  tcp 10.147.40.1:40000 -> 10.147.41.238:22  outside (eth0) -> i-2-3-VM (vif7.0)"
                   "  [conntrack: NEW]\n", 0) == 0);
  CHECK(text.find("  => iptables i-2-3-VM #3") != std::string::npos);
  CHECK(text.find("\n     iptables i-2-3-VM-def #5       jump i-2-3-VM") != std::string::npos);
  CHECK(text.find("  dropped by iptables i-2-3-VM #3 (DROP)\n") != std::string::npos);
  const std::string quiet = render_check_text(c.answer(), false);
  CHECK(quiet == "DROP     x1  tcp 10.147.40.1:40000 -> 10.147.41.238:22  dropped by iptables i-2-3-VM #3 (DROP)\n");

  auto json = nlohmann::json::parse(render_check_json(c.answer(), true, false));
  CHECK(json["verdict"] == "drop");
  CHECK(json["id"] == "x1");
  CHECK(json["to_vm"] == "i-2-3-VM");
  CHECK(json["from_vm"].is_null());
  CHECK(json["packet"]["dport"] == 22);
  std::size_t decisive = 0;
  for (const auto &step : json["trace"])
    decisive += step["decisive"].get<bool>();
  CHECK(decisive == 1);
  CHECK(json["trace"].size() == c.result.trace.size());
  CHECK(json["trace"].back()["args"] == nlohmann::json::array({"-j", "DROP"}));
  // compact JSON is one line: JSON lines in batches
  const std::string line = render_check_json(c.answer(), false, false);
  CHECK(line.find('\n') == line.size() - 1);
}

TEST_CASE("print: every layout key names a fact", "[sg_check][print_check]") {
  const FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-arptables");
  const FirewallView view = build_view(snapshot);
  const Checked c = checked(snapshot, view, "from=i-2-5-VM to=i-2-3-VM proto=arp");
  TextViewPrinter audit(true);
  print_check(audit, c.answer(), true);
  CHECK(audit.problems().empty());
  CHECK(audit.str().rfind("PASS     arp request who-has 10.147.41.238 tell 10.147.41.240", 0) == 0);
}
