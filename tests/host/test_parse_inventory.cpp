#include <catch2/catch.hpp>

#include "parse_inventory.hpp"

using namespace vifwall;

TEST_CASE("parse_inventory reads xensource-inventory's KEY='VALUE' lines", "[inventory]") {
  const std::string text = "PRIMARY_DISK='/dev/disk/by-id/scsi-3600'\n"
                           "# a comment\n"
                           "\n"
                           "BUILD_NUMBER=\"release/yangtze/master/58\"\r\n"
                           "INSTALLATION_UUID='3D2B9A8E-5c1f-4e47-9a51-0b6f8c2d7e10'\n"
                           "DOM0_VCPUS=4\n";
  auto inventory = parse_inventory(text, "xensource-inventory");
  REQUIRE(inventory);
  CHECK(inventory->at("PRIMARY_DISK") == "/dev/disk/by-id/scsi-3600");
  CHECK(inventory->at("BUILD_NUMBER") == "release/yangtze/master/58");
  CHECK(inventory->at("DOM0_VCPUS") == "4");
  CHECK(installation_uuid(text, "inv").value() == "3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10");
}

TEST_CASE("parse_inventory names the line it cannot read", "[inventory]") {
  auto bad = parse_inventory("A='1'\nthis is not a key value line\n", "/etc/xensource-inventory");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().str() == "/etc/xensource-inventory:2: expected KEY='VALUE' as in "
                             "/etc/xensource-inventory, got \"this is not a key value line\"");
  CHECK_FALSE(parse_inventory("9KEY='x'\n", "inv"));
  CHECK_FALSE(parse_inventory("KEY=two words\n", "inv"));

  auto missing = installation_uuid("BUILD_NUMBER='1'\n", "inv");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().str(), Catch::Contains("INSTALLATION_UUID"));
  auto not_uuid = installation_uuid("INSTALLATION_UUID='../../etc'\n", "inv");
  REQUIRE_FALSE(not_uuid);
  CHECK_THAT(not_uuid.error().str(), Catch::Contains("expected a uuid"));
}

TEST_CASE("is_uuid takes 8-4-4-4-12 hex digits only", "[inventory]") {
  CHECK(is_uuid("44b0e85e-00b4-73c0-6405-eacff81b8bbe"));
  CHECK(is_uuid("44B0E85E-00B4-73C0-6405-EACFF81B8BBE"));
  CHECK_FALSE(is_uuid("44b0e85e-00b4-73c0-6405-eacff81b8bb"));
  CHECK_FALSE(is_uuid("44b0e85e000b4-73c0-6405-eacff81b8bbe"));
  CHECK_FALSE(is_uuid("g4b0e85e-00b4-73c0-6405-eacff81b8bbe"));
  CHECK_FALSE(is_uuid(""));
}

TEST_CASE("inventory_is_empty: comments and blanks only", "[inventory]") {
  // The simulator's placeholder, long enough to live on the heap (a line
  // view into a destroyed copy once read it as garbage).
  const std::string placeholder =
      "# Mount point left by the vifwall simulator (sim/sim) while a sim is up:\n"
      "# `ip netns exec NAME-dom0` bind-mounts /etc/netns/NAME-dom0/xensource-inventory\n"
      "# here.  Removed with the last sim.  Not a XenServer inventory.\n";
  CHECK(inventory_is_empty(placeholder));
  CHECK(inventory_is_empty(""));
  CHECK(inventory_is_empty("\n   \n\t# x\r\n"));
  CHECK_FALSE(inventory_is_empty(placeholder + "BUILD_NUMBER='1'\n"));
  CHECK_FALSE(inventory_is_empty("INSTALLATION_UUID='3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10'"));
}
