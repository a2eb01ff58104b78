// Batches (lib/sg/check/batch.cpp): one answer per line, errors answered
// in place.
#include <nlohmann/json.hpp>

#include "check_fixtures.hpp"
#include "text.hpp"
#include "sg/view/view_fixtures.hpp"

using namespace vifwall;
using namespace vifwall::test;

TEST_CASE("batch: one verdict per line, a bad line answered with its error", "[sg_check][batch]") {
  const FirewallSnapshot snapshot = snapshot_of("sgshow/xen6-arptables");
  const FirewallView view = build_view(snapshot);
  const CheckTables tables(snapshot, view);
  const std::string input = "# comment\n"
                            "from=10.147.40.1 to=i-2-3-VM proto=icmp id=a\r\n"
                            "\n"
                            "from=10.147.40.1 to=i-2-3-VM proto=tcp dport=22 id=b\n"
                            "from=10.147.40.1 to=i-2-3-VM proto=tcp\n"
                            "from=10.147.40.1 to=i-2-3-VM proto=tcp dport=22 -m limit\n";
  const BatchOutput text = check_batch(input, "in.txt", tables, view, false, false);
  CHECK(text.passed == 1);
  CHECK(text.dropped == 1);
  CHECK(text.errors == 2);
  const auto lines = split_lines(text.text);
  REQUIRE(lines.size() == 4);
  CHECK(starts_with(lines[0].text, "PASS     a  icmp 8/0"));
  CHECK(starts_with(lines[1].text, "DROP     b  tcp"));
  CHECK(lines[2].text == "ERROR  in.txt:5: expected dport=PORT for proto=tcp");
  CHECK(lines[3].text == "ERROR  in.txt:6: expected KEY=VALUE, got \"-m\"");

  const BatchOutput json = check_batch(input, "in.txt", tables, view, true, false);
  const auto jlines = split_lines(json.text);
  REQUIRE(jlines.size() == 4);
  CHECK(nlohmann::json::parse(jlines[0].text)["verdict"] == "pass");
  CHECK(nlohmann::json::parse(jlines[1].text)["id"] == "b");
  CHECK(nlohmann::json::parse(jlines[2].text)["line"] == 5);
}
