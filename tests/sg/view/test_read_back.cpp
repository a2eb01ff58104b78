// lib/sg/view/read_back.cpp: a rule's words read back as a security-group rule.
#include <catch2/catch.hpp>

#include "sg_view.hpp"

using namespace vifwall;

namespace {

const SetMembers kSets = {{"net", {"10.0.0.0/8", "192.168.1.7"}},
                          {"v6", {"2001:db8::1", "2001:db8:1::/48"}},
                          {"odd", {"10.0.0.0/8 nomatch"}}};

ReadBackRule in(std::vector<std::string> args) { return read_back_rule(Direction::ingress, args, kSets); }
ReadBackRule eg(std::vector<std::string> args) { return read_back_rule(Direction::egress, args, kSets); }

} // namespace

TEST_CASE("read_back_rule: what is understood and what is shown raw", "[sg_view][read_back]") {
  auto range = in({"-p", "udp", "-m", "udp", "--dport", "5000:5010", "-m", "state", "--state", "NEW",
                   "-m", "set", "--match-set", "net", "src", "-j", "ACCEPT"});
  CHECK(range.understood);
  CHECK(range.text == "udp 5000-5010 from 10.0.0.0/8, 192.168.1.7/32");
  auto every_port = in({"-p", "tcp", "-m", "state", "--state", "NEW", "-j", "ACCEPT"});
  CHECK(every_port.text == "tcp 0-65535 from 0.0.0.0/0");
  auto all = in({"-m", "state", "--state", "NEW", "-m", "set", "--match-set", "net", "src", "-j", "ACCEPT"});
  CHECK(all.text == "all from 10.0.0.0/8, 192.168.1.7/32");
  auto esp = eg({"-p", "esp", "-m", "state", "--state", "NEW", "-j", "RETURN"});
  CHECK(esp.text == "50 to 0.0.0.0/0");
  auto named_icmp = in({"-p", "icmp", "-m", "icmp", "--icmp-type", "echo-request", "-j", "ACCEPT"});
  CHECK(named_icmp.text == "icmp type 8 code any from 0.0.0.0/0");
  auto address = eg({"-d", "172.16.0.0/12", "-p", "tcp", "-m", "tcp", "--dport", "443", "-j", "RETURN"});
  CHECK(address.text == "tcp 443 to 172.16.0.0/12");

  auto missing = in({"-p", "tcp", "-m", "tcp", "--dport", "22", "-m", "set", "--match-set", "gone", "src",
                     "-j", "ACCEPT"});
  CHECK(missing.understood);
  CHECK(missing.set_missing);
  CHECK(missing.text == "tcp 22 from (nobody) [set gone does not exist]");

  for (const auto &args : std::vector<std::vector<std::string>>{
           {"-s", "192.0.2.1/32", "-j", "LOG"},                                // not ACCEPT
           {"!", "-s", "10.0.0.0/8", "-j", "ACCEPT"},                           // negation
           {"-p", "tcp", "-m", "tcp", "--sport", "22", "-j", "ACCEPT"},          // source port
           {"-m", "set", "--match-set", "net", "dst", "-j", "ACCEPT"},          // wrong direction
           {"-i", "eth0", "-j", "ACCEPT"},                                      // interface
           {"-m", "limit", "--limit", "5/min", "-j", "ACCEPT"},                 // other match
           {"-d", "10.0.0.1/32", "-j", "ACCEPT"},                               // dst in ingress
       }) {
    INFO(join_rule_words(args));
    auto read = in(args);
    CHECK_FALSE(read.understood);
    CHECK(read.text == join_rule_words(args));
  }
}

TEST_CASE("read_back_rule: ports, ICMP types and protocols", "[sg_view][read_back]") {
  auto ports = [](const std::string &dport) {
    return in({"-p", "tcp", "-m", "tcp", "--dport", dport, "-j", "ACCEPT"});
  };
  CHECK(ports("22").sg.start == 22);
  CHECK(ports("22").sg.end == 22);
  CHECK(ports("1024:").sg.start == 1024);
  CHECK(ports("1024:").sg.end == 65535);
  CHECK(ports(":1023").sg.start == 0);
  CHECK(ports(":1023").sg.end == 1023);
  for (const std::string bad : {"25:22", "65536", "x", "1:70000", ""}) {
    INFO(bad);
    CHECK_FALSE(ports(bad).understood);
  }

  auto type_code = in({"-p", "icmp", "-m", "icmp", "--icmp-type", "3/4", "-j", "ACCEPT"});
  CHECK(type_code.understood);
  CHECK(type_code.sg.start == 3);
  CHECK(type_code.sg.end == 4);
  auto any_icmp = in({"-p", "1", "-j", "ACCEPT"});
  CHECK(any_icmp.sg.protocol == "icmp");
  CHECK(any_icmp.sg.start == -1);
  CHECK_FALSE(in({"-p", "icmp", "-m", "icmp", "--icmp-type", "no-such-type", "-j", "ACCEPT"}).understood);
  CHECK_FALSE(in({"-p", "icmp", "--dport", "22", "-j", "ACCEPT"}).understood);      // ports on ICMP
  CHECK_FALSE(in({"-p", "tcp", "--icmp-type", "8", "-j", "ACCEPT"}).understood);    // type on TCP
  CHECK_FALSE(in({"-p", "gre", "-m", "tcp", "--dport", "1", "-j", "ACCEPT"}).understood);
  CHECK_FALSE(in({"-p", "nosuchproto", "-j", "ACCEPT"}).understood);
  CHECK_FALSE(in({"--dport", "22", "-j", "ACCEPT"}).understood); // ports without a protocol

  auto gre = in({"-p", "gre", "-j", "ACCEPT"});
  CHECK(gre.sg.protocol == "47"); // by number, as CloudStack sends it
  CHECK(gre.text == "47 from 0.0.0.0/0");
  CHECK(in({"-p", "all", "-j", "ACCEPT"}).sg.protocol == "all");
  CHECK(in({"-p", "0", "-j", "ACCEPT"}).sg.protocol == "all");
}

TEST_CASE("read_back_rule: peers, targets and the words around them", "[sg_view][read_back]") {
  auto v6 = in({"-m", "set", "--match-set", "v6", "src", "-j", "ACCEPT"});
  CHECK(v6.sg.cidrs == std::vector<std::string>{"2001:db8::1/128", "2001:db8:1::/48"});
  auto host = in({"-s", "192.0.2.9", "-j", "ACCEPT"});
  CHECK(host.sg.cidrs == std::vector<std::string>{"192.0.2.9/32"});
  CHECK_FALSE(in({"-m", "set", "--match-set", "odd", "src", "-j", "ACCEPT"}).understood); // nomatch
  CHECK_FALSE(in({"-s", "192.0.2.9", "-m", "set", "--match-set", "net", "src", "-j", "ACCEPT"}).understood);
  auto old_set = in({"-m", "set", "--set", "net", "src", "-j", "ACCEPT"}); // iptables 1.3
  CHECK(old_set.understood);
  CHECK(old_set.set == "net");

  auto commented = eg({"-p", "udp", "-m", "comment", "--comment", "dns", "-m", "conntrack", "--ctstate",
                       "NEW", "-m", "udp", "--dport", "53", "-j", "ACCEPT"});
  CHECK(commented.understood);
  CHECK(commented.target == "ACCEPT");
  CHECK(commented.text == "udp 53 to 0.0.0.0/0");
  CHECK_FALSE(in({"-m", "state", "--state", "ESTABLISHED", "-j", "ACCEPT"}).understood);
  CHECK_FALSE(in({"-j", "RETURN"}).understood);   // ingress allows with ACCEPT only
  CHECK(eg({"-jRETURN"}).understood);              // glued target
  CHECK_FALSE(in({"-j", "REJECT", "--reject-with", "icmp-host-prohibited"}).understood);
  CHECK_FALSE(eg({"-s", "10.0.0.0/8", "-j", "RETURN"}).understood); // egress peers are -d

  auto kept = in({"-p", "tcp", "-j", "ACCEPT"});
  CHECK(kept.direction == Direction::ingress);
  CHECK(kept.rule.args == std::vector<std::string>{"-p", "tcp", "-j", "ACCEPT"});
}

TEST_CASE("is_unconditional and set_members_of", "[sg_view][read_back]") {
  CHECK(is_unconditional({"-j", "DROP"}));
  CHECK(is_unconditional({"--jump", "RETURN"}));
  CHECK(is_unconditional({"-jDROP"}));
  CHECK_FALSE(is_unconditional({"-j"}));
  CHECK_FALSE(is_unconditional({"-p", "tcp", "-j", "DROP"}));
  CHECK_FALSE(is_unconditional({}));

  IpsetDump dump;
  IpSet a;
  a.name = "a";
  a.members = {"10.0.0.1", "10.0.0.2"};
  IpSet b;
  b.name = "b";
  dump.sets = {a, b};
  const SetMembers members = set_members_of(dump);
  CHECK(members.at("a") == a.members);
  CHECK(members.at("b").empty());
}

TEST_CASE("read_back_rule in ip6tables: ICMPv6 in every spelling, IPv6 peers", "[sg_view][read_back]") {
  auto v6 = [](std::vector<std::string> args) { return read_back_rule(Direction::ingress, args, kSets, true); };
  for (const std::string protocol : {"ipv6-icmp", "icmpv6", "58"})
    for (const std::string type : {"128", "echo-request"}) {
      INFO(protocol << " " << type);
      auto echo = v6({"-p", protocol, "-m", "icmp6", "--icmpv6-type", type, "-j", "ACCEPT"});
      CHECK(echo.understood);
      CHECK(echo.text == "icmpv6 type 128 code any from ::/0");
    }
  auto any_type = v6({"-p", "ipv6-icmp", "-j", "ACCEPT"});
  CHECK(any_type.text == "icmpv6 type any from ::/0");
  auto host = v6({"-s", "2001:db8::1/128", "-p", "tcp", "-m", "tcp", "--dport", "22", "-m", "state",
                  "--state", "NEW", "-j", "ACCEPT"});
  CHECK(host.text == "tcp 22 from 2001:db8::1/128");
  auto set = v6({"-p", "udp", "-m", "set", "--match-set", "v6", "src", "-m", "udp", "--dport", "53", "-m",
                 "state", "--state", "NEW", "-j", "ACCEPT"});
  CHECK(set.text == "udp 53 from 2001:db8::1/128, 2001:db8:1::/48");
  // In iptables, protocol 58 is just a number: no ICMPv6 type is read there.
  CHECK_FALSE(in({"-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", "128", "-j", "ACCEPT"}).understood);
}

TEST_CASE("group_cidr_rules: ip6tables' rule per CIDR reads as the one rule it was", "[sg_view][read_back]") {
  auto rule = [](std::string cidr, std::string port, std::size_t position, std::uint64_t packets) {
    ReadBackRule read = read_back_rule(Direction::ingress,
                                       {"-s", cidr, "-p", "tcp", "-m", "tcp", "--dport", port, "-m", "state",
                                        "--state", "NEW", "-j", "ACCEPT"},
                                       {}, true);
    read.rule.position = position;
    read.rule.counters = RuleCounters{packets, packets * 100, false};
    return read;
  };
  const auto grouped = group_cidr_rules({rule("2001:db8:9::/48", "22", 1, 1), rule("2001:db8:a::/64", "22", 2, 2),
                                         rule("2001:db8:b::/64", "80", 3, 4), rule("2001:db8:c::/64", "80", 5, 8)});
  REQUIRE(grouped.size() == 3);
  CHECK(grouped[0].text == "tcp 22 from 2001:db8:9::/48, 2001:db8:a::/64");
  CHECK(grouped[0].merged == 2);
  CHECK(grouped[0].rule.position == 1);
  CHECK(grouped[0].rule.counters->packets == 3);
  CHECK(grouped[0].rule.counters->bytes == 300);
  // Another port is another rule; a rule between them (position 4) keeps
  // two of the same port apart.
  CHECK(grouped[1].text == "tcp 80 from 2001:db8:b::/64");
  CHECK(grouped[2].text == "tcp 80 from 2001:db8:c::/64");
  // A rule with a set is never merged into another.
  ReadBackRule with_set = read_back_rule(Direction::ingress,
                                         {"-p", "tcp", "-m", "tcp", "--dport", "22", "-m", "set", "--match-set",
                                          "v6", "src", "-m", "state", "--state", "NEW", "-j", "ACCEPT"},
                                         kSets, true);
  with_set.rule.position = 3;
  CHECK(group_cidr_rules({rule("2001:db8:9::/48", "22", 2, 1), with_set}).size() == 2);
}
