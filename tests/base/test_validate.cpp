#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "text.hpp"
#include "validate.hpp"

using namespace vifwall;

namespace {

// Runs validator `kind` on `value`; the error message, or "" on success.
std::string error_of(const std::string &kind, const std::string &value) {
  auto message = [](const auto &result) {
    return result ? std::string() : result.error().message;
  };
  if (kind == "vm") return message(validate_vm_name(value));
  if (kind == "ipv4") return message(validate_ipv4(value));
  if (kind == "ip") return message(validate_ip(value));
  if (kind == "cidr") return message(validate_cidr(value));
  if (kind == "mac") return message(validate_mac(value));
  if (kind == "port") return message(validate_port(value));
  if (kind == "protocol") return message(validate_protocol(value));
  if (kind == "iface") return message(validate_iface(value));
  if (kind == "domid") return message(validate_dom_id(value));
  if (kind == "vmid") return message(validate_vm_id(value));
  if (kind == "seqno") return message(validate_seqno(value));
  if (kind == "signature") return message(validate_signature(value));
  FAIL("unknown validator " << kind);
  return {};
}

struct Hostile {
  const char *kind;
  std::string value;
};

} // namespace

TEST_CASE("validators reject hostile values and name them", "[validate]") {
  const std::string nl = "i-2-3-VM\n-A FORWARD -j ACCEPT";
  const std::vector<Hostile> hostile = {
      // VM names
      {"vm", "a b"},
      {"vm", ""},
      {"vm", "i-2-3-VM;reboot"},
      {"vm", "i-2-3-VM$(id)"},
      {"vm", "$(rm -rf /)"},
      {"vm", "`id`"},
      {"vm", "-j ACCEPT"},
      {"vm", "-i-2-3-VM"},
      {"vm", "\"quoted\""},
      {"vm", "'quoted'"},
      {"vm", nl},
      {"vm", "../x"},
      {"vm", "i-2-3-VM/../../etc"},
      {"vm", std::string(65, 'a')},
      {"vm", "i-2-3-VM\t"},
      {"vm", "i-2-3-VM|sh"},
      {"vm", "i-2-3-VM&"},
      {"vm", "i-2-3-VM>x"},
      {"vm", ".hidden"},
      {"vm", "i-2-3-VM\xC2\xA0"},
      {"vm", std::string("i-2\0-3", 6)},
      // IPv4
      {"ipv4", "256.1.1.1"},
      {"ipv4", "1.2.3"},
      {"ipv4", "1.2.3.4.5"},
      {"ipv4", "010.1.1.1"},
      {"ipv4", "1.2.3.4 "},
      {"ipv4", " 1.2.3.4"},
      {"ipv4", "1.2.3.4;id"},
      {"ipv4", ""},
      {"ipv4", "1..2.3"},
      {"ipv4", "-1.2.3.4"},
      {"ipv4", "1.2.3.4/32"},
      {"ipv4", "::1"},
      {"ipv4", "0x7f.0.0.1"},
      // any IP
      {"ip", "fe80::1%eth0"},
      {"ip", "1::2::3"},
      {"ip", "gggg::1"},
      {"ip", "12345::1"},
      {"ip", "$(id)"},
      // CIDRs
      {"cidr", "1.2.3.4/33"},
      {"cidr", "1.2.3.4/"},
      {"cidr", "1.2.3.4/-1"},
      {"cidr", "1.2.3.4/08"},
      {"cidr", "1.2.3.4/24/8"},
      {"cidr", "256.0.0.0/8"},
      {"cidr", "10.0.0.0/8 -j ACCEPT"},
      {"cidr", "::/129"},
      {"cidr", "0.0.0.0/0,"},
      {"cidr", "/24"},
      // MACs
      {"mac", "06:f8:c8:00:00"},
      {"mac", "06:f8:c8:00:00:09:0a"},
      {"mac", "06:f8:c8:00:00:zz"},
      {"mac", "06:f8:c8:00:00:09;id"},
      {"mac", ""},
      // ports
      {"port", "65536"},
      {"port", "-2"},
      {"port", "-1"},
      {"port", "22;id"},
      {"port", ""},
      {"port", "2 2"},
      {"port", "0x16"},
      {"port", "99999999999999999999999"},
      // protocols
      {"protocol", "tcp;rm"},
      {"protocol", "tcp -j ACCEPT"},
      {"protocol", "256"},
      {"protocol", "-1"},
      {"protocol", "gre"},
      {"protocol", ""},
      {"protocol", "tcp\n"},
      // interfaces
      {"iface", "eth0/1"},
      {"iface", "vif 7.0"},
      {"iface", "."},
      {"iface", ".."},
      {"iface", "eth0:1"},
      {"iface", "-j"},
      {"iface", "averyveryverylongname"},
      {"iface", ""},
      {"iface", "vif7.0;id"},
      {"iface", "vif$(id)"},
      // ids, sequence numbers, signatures
      {"domid", "32768"},
      {"domid", "-1"},
      {"domid", "7a"},
      {"domid", ""},
      {"vmid", "-3"},
      {"vmid", "3 "},
      {"vmid", "99999999999999999999"},
      {"vmid", ""},
      {"seqno", "-2"},
      {"seqno", "1.5"},
      {"seqno", "--1"},
      {"seqno", "-"},
      {"seqno", ""},
      {"signature", "_INITIAL_"},
      {"signature", "abc;rm"},
      {"signature", std::string(65, 'a')},
      {"signature", ""},
      {"signature", "xyz"},
  };
  REQUIRE(hostile.size() >= 60);
  for (const auto &bad : hostile) {
    INFO(bad.kind << " " << quote_for_error(bad.value));
    const std::string message = error_of(bad.kind, bad.value);
    REQUIRE_FALSE(message.empty());
    CHECK(message.find(quote_for_error(bad.value)) != std::string::npos);
    CHECK(message.find("expected") != std::string::npos);
  }
}

TEST_CASE("validate_vm_name message says what is allowed", "[validate]") {
  auto result = validate_vm_name("a b");
  REQUIRE_FALSE(result);
  CHECK(result.error().message ==
        "invalid VM name \"a b\": expected letters, digits, '-', '_' or '.', "
        "starting with a letter or digit, at most 64 characters");
  CHECK(result.error().source.empty());
  CHECK(result.error().line == 0);
}

TEST_CASE("validators accept good values and normalize them", "[validate]") {
  for (const char *name : {"i-2-3-VM", "r-4-VM", "s-1-VM", "v-2-VM", "l-9-VM",
                           "i-12345-678901-VM", "web01.example_host"})
    CHECK(validate_vm_name(name).value() == name);
  CHECK(validate_vm_name(std::string(64, 'a')));

  CHECK(validate_ipv4("10.147.41.238").value() == "10.147.41.238");
  CHECK(validate_ipv4("0.0.0.0"));
  CHECK(validate_ipv4("255.255.255.255"));
  CHECK(validate_ip("10.1.1.2").value() == "10.1.1.2");
  CHECK(validate_ip("FD00:1:0:0::2").value() == "fd00:1::2");
  CHECK(validate_ip("2001:0db8:0000:0000:0000:0000:0000:0001").value() == "2001:db8::1");

  CHECK(validate_cidr("10.0.0.0/8").value() == "10.0.0.0/8");
  CHECK(validate_cidr("10.1.1.5").value() == "10.1.1.5/32");
  CHECK(validate_cidr("10.1.1.5/24").value() == "10.1.1.5/24"); // host bits kept
  CHECK(validate_cidr("0.0.0.0/0").value() == "0.0.0.0/0");
  CHECK(validate_cidr("2001:DB8::/32").value() == "2001:db8::/32");
  CHECK(validate_cidr("::/0").value() == "::/0");
  CHECK(validate_cidr("fd00::1").value() == "fd00::1/128");

  CHECK(validate_mac("06:F8:C8:00:00:09").value() == "06:f8:c8:00:00:09");
  CHECK(validate_mac("6:f8:c8:0:0:9").value() == "06:f8:c8:00:00:09");
  CHECK(validate_mac("06-f8-c8-00-00-09").value() == "06:f8:c8:00:00:09");

  CHECK(validate_port("0").value() == 0);
  CHECK(validate_port("65535").value() == 65535);
  CHECK(validate_port("22").value() == 22);

  CHECK(validate_protocol("TCP").value() == "tcp");
  CHECK(validate_protocol("Udp").value() == "udp");
  CHECK(validate_protocol("icmp").value() == "icmp");
  CHECK(validate_protocol("ALL").value() == "all");
  CHECK(validate_protocol("47").value() == "47");
  CHECK(validate_protocol("047").value() == "47");
  CHECK(validate_protocol("0").value() == "0");
  CHECK(validate_protocol("255").value() == "255");

  for (const char *iface : {"vif7.0", "tap7.0", "eth0", "bond0", "xenbr0",
                            "eth0+", "xenbr-longname1", "vlan@eth0", "a_b"})
    CHECK(validate_iface(iface).value() == iface);

  CHECK(validate_dom_id("0").value() == 0);
  CHECK(validate_dom_id("32767").value() == 32767);
  CHECK(validate_vm_id("3").value() == "3");
  CHECK(validate_vm_id("007").value() == "7");
  CHECK(validate_seqno("-1").value() == -1);
  CHECK(validate_seqno("0").value() == 0);
  CHECK(validate_seqno("9223372036854775807").value() == 9223372036854775807LL);
  CHECK(validate_signature("_initial_").value() == "_initial_");
  CHECK(validate_signature("D41D8CD98F00B204E9800998ECF8427E").value() ==
        "d41d8cd98f00b204e9800998ecf8427e");
}
