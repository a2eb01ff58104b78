#include <catch2/catch.hpp>

#include "host_inputs.hpp"
#include "testutil.hpp"
#include "vif_query.hpp"

using namespace vifwall;
using vifwall::test::read_source;

namespace {
HostMap seed_host() {
  HostTexts texts;
  texts.vm_list = {read_source("examples/xen6/xe-vm-list"), "xe-vm-list", "xe-vm-list"};
  texts.links = {read_source("examples/xen6/ifconfig"), "ifconfig", "ifconfig"};
  texts.bridges = InputText{read_source("examples/xen6/brctl-show"), "brctl-show", "brctl-show"};
  auto inputs = parse_host_texts(texts);
  REQUIRE(inputs);
  return join_host(std::move(*inputs));
}

std::vector<std::string> ifaces(const QueryAnswer &answer) {
  std::vector<std::string> out;
  for (const auto &row : answer.selection.rows)
    out.push_back(row.vif ? row.vif->name : row.link ? row.link->name : "-");
  return out;
}
} // namespace

TEST_CASE("run_query answers each selection on the seed host", "[vifquery]") {
  const HostMap host = seed_host();
  VifQuery by_name;
  by_name.vms = {"v-2-VM"};
  auto answer = run_query(host, by_name);
  REQUIRE(answer);
  CHECK(ifaces(*answer) == std::vector<std::string>{"vif2.0", "vif2.1", "vif2.2"});
  CHECK(answer->not_found.empty());

  VifQuery bridge;
  bridge.bridges = {"xenbr0"};
  answer = run_query(host, bridge);
  REQUIRE(answer);
  CHECK(ifaces(*answer) == std::vector<std::string>{"eth0", "vif2.1", "vif2.2", "vif4.1", "vif4.2",
                                                    "vif4.3", "vif6.0", "vif7.0"});

  VifQuery mixed; // a VM selected twice, plus misses
  mixed.vms = {"i-2-3-VM", "nope"};
  mixed.domids = {7, 99};
  mixed.ifaces = {"vif7.0", "eth0", "vif9.9"};
  answer = run_query(host, mixed);
  REQUIRE(answer);
  CHECK(ifaces(*answer) == std::vector<std::string>{"vif7.0"});
  REQUIRE(answer->not_found.size() == 4);
  CHECK(answer->not_found[0].find("\"nope\"") != std::string::npos);
  CHECK(answer->not_found[1] == "no VM with dom-id 99");
  CHECK(answer->not_found[2].find("not a VM interface") != std::string::npos);
  CHECK(answer->not_found[3] == "no interface \"vif9.9\"");

  VifQuery bad_mac;
  bad_mac.macs = {"06:f8:zz"};
  auto failed = run_query(host, bad_mac);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message.find("invalid MAC address") != std::string::npos);

  VifQuery all;
  all.all = true;
  answer = run_query(host, all);
  REQUIRE(answer);
  CHECK(answer->selection.rows.size() == 11);
}

TEST_CASE("run_query says where a VM of another pool member runs", "[vifquery][pool]") {
  const std::string here = "3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10";
  const std::string there = "7f6e5d4c-3b2a-4190-8877-665544332211";
  HostTexts texts;
  texts.vm_list = {"uuid ( RO)           : aaaa0000-0000-0000-0000-000000000001\n"
                   "     name-label ( RW): i-9-9-VM\n"
                   "    power-state ( RO): running\n"
                   "         dom-id ( RO): 7\n"
                   "    resident-on ( RO): " + there + "\n\n\n" +
                       read_source("examples/xen6/xe-vm-list"),
                   "xe-vm-list", "xe-vm-list"};
  // The seed's VMs have no resident-on; only the first record says where it is.
  texts.links = {read_source("examples/xen6/ifconfig"), "ifconfig", "ifconfig"};
  texts.inventory = InputText{"INSTALLATION_UUID='" + here + "'\n", "inv", "xensource-inventory"};
  auto inputs = parse_host_texts(texts);
  REQUIRE(inputs);
  const HostMap host = join_host(std::move(*inputs));
  VifQuery query;
  query.vms = {"i-9-9-VM"};
  query.domids = {7};
  auto answer = run_query(host, query);
  REQUIRE(answer);
  // dom-id 7 is the seed's i-2-3-VM, here; the other member's dom-id 7 is not.
  CHECK(ifaces(*answer) == std::vector<std::string>{"vif7.0"});
  REQUIRE(answer->not_found.size() == 1);
  CHECK(answer->not_found[0] == "VM \"i-9-9-VM\" (aaaa0000-0000-0000-0000-000000000001) runs on pool member " +
                                    there + ", not on this host (" + here +
                                    "); vif-of --pool asks every member");
}
