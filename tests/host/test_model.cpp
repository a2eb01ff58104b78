#include <catch2/catch.hpp>

#include "model.hpp"

using namespace vifwall;

TEST_CASE("parse_vif_name reads vif, tap and -emu names", "[model]") {
  CHECK(parse_vif_name("vif7.0") == VifName{VifKind::vif, 7, 0});
  CHECK(parse_vif_name("tap12.3") == VifName{VifKind::tap, 12, 3});
  CHECK(parse_vif_name("vif7.0-emu") == VifName{VifKind::tap, 7, 0});
  CHECK_FALSE(parse_vif_name("vif7"));
  CHECK_FALSE(parse_vif_name("vif7."));
  CHECK_FALSE(parse_vif_name("vif07.0"));
  CHECK_FALSE(parse_vif_name("vif32768.0"));
  CHECK_FALSE(parse_vif_name("vif32752.")); // truncated by old ifconfig
  CHECK_FALSE(parse_vif_name("eth0"));
  CHECK_FALSE(parse_vif_name("vif+"));
}
