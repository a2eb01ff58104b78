#include <catch2/catch.hpp>

#include <cstdio>
#include <unistd.h>

#include "name_cache.hpp"

using namespace vifwall;

TEST_CASE("the completion cache keeps each VM's addresses and MACs", "[name_cache]") {
  const std::vector<CachedVm> vms{
      {"i-2-3-VM", {"10.1.1.2", "fd00:1::5"}, {"06:f8:c8:00:00:09", "06:f8:c8:00:00:0a"}},
      {"web 1: frontend; eu", {}, {}},
      {"tab\there", {"10.0.0.1"}, {}}, // cannot be told from the separators: left out
      {"comma", {"10.0.0.1,10.0.0.2"}, {}}, // a value with the list separator: dropped
  };
  const std::string text = format_name_cache(vms);
  CHECK(text == "i-2-3-VM\tip=10.1.1.2,fd00:1::5\tmac=06:f8:c8:00:00:09,06:f8:c8:00:00:0a\n"
                "web 1: frontend; eu\n"
                "comma\n");
  const auto back = parse_name_cache(text);
  REQUIRE(back.size() == 3);
  CHECK(back[0] == vms[0]);
  CHECK(back[1] == vms[1]);
  CHECK(back[2].ips.empty());
  // What older versions wrote: bare names.
  CHECK(parse_name_cache("a\nb c\n\n").size() == 2);
}

TEST_CASE("the cache file round-trips and is ours only", "[name_cache]") {
  char dir[] = "/tmp/vifwall-cache-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string path = std::string(dir) + "/vms";
  REQUIRE(write_name_cache(path, {{"i-2-3-VM", {"10.1.1.2"}, {}}}));
  auto cached = read_name_cache(path);
  REQUIRE(cached);
  CHECK(cached->names() == std::vector<std::string>{"i-2-3-VM"});
  REQUIRE(cached->find("i-2-3-VM"));
  CHECK(cached->find("i-2-3-VM")->ips == std::vector<std::string>{"10.1.1.2"});
  CHECK(cached->find("nope") == nullptr);
  std::remove(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("cached_vms_of takes addresses from networks and MACs from the VIFs", "[name_cache]") {
  Vm vm;
  vm.uuid = "u1";
  vm.name_label = "i-2-3-VM";
  vm.networks = {{"0/ip", "10.1.1.2"}, {"0/ipv4/0", "10.1.1.2"}, {"0/ipv6/0", "FD00:1:0::5"},
                 {"1/ip", "10.1.1.3"}, {"1/ipv6/0", "not an address"}};
  std::vector<XeVif> vifs(3);
  vifs[0].vm_uuid = "u1", vifs[0].device = "1", vifs[0].mac = "06:f8:c8:00:00:0a";
  vifs[1].vm_uuid = "u1", vifs[1].device = "0", vifs[1].mac = "06:f8:c8:00:00:09";
  vifs[2].vm_uuid = "other", vifs[2].device = "0", vifs[2].mac = "06:f8:c8:00:00:0b";
  const auto cached = cached_vms_of({vm}, &vifs);
  REQUIRE(cached.size() == 1);
  CHECK(cached[0].ips == std::vector<std::string>{"10.1.1.2", "10.1.1.3", "fd00:1::5"});
  CHECK(cached[0].macs == std::vector<std::string>{"06:f8:c8:00:00:09", "06:f8:c8:00:00:0a"});
  CHECK(cached_vms_of({vm}, nullptr)[0].macs.empty());
}

TEST_CASE("cloudstack_vm_id reads the id out of CloudStack's instance names", "[name_cache]") {
  CHECK(cloudstack_vm_id("i-2-3-VM") == "3");
  CHECK(cloudstack_vm_id("i-12-345-myvm") == "345");
  CHECK(cloudstack_vm_id("r-4-VM") == "4");
  CHECK(cloudstack_vm_id("v-2-VM") == "2");
  CHECK(cloudstack_vm_id("s-1-VM") == "1");
  CHECK_FALSE(cloudstack_vm_id("web 1"));
  CHECK_FALSE(cloudstack_vm_id("i-x-3-VM"));
  CHECK_FALSE(cloudstack_vm_id("i-2-VM"));
  CHECK_FALSE(cloudstack_vm_id("Control domain on host: h"));
}
