#include <catch2/catch.hpp>

#include <random>

#include "parse_ipset.hpp"
#include "testutil.hpp"
#include "text.hpp"

using namespace vifwall;

namespace {

IpsetDump save_sample(const std::string &name) {
  auto dump = parse_ipset_save(test::read_data(name), name);
  INFO(name << ": " << (dump ? "" : dump.error().str()));
  REQUIRE(dump);
  return *dump;
}

IpsetDump list_sample(const std::string &name) {
  auto dump = parse_ipset_list(test::read_data(name), name);
  INFO(name << ": " << (dump ? "" : dump.error().str()));
  REQUIRE(dump);
  return *dump;
}

using Strings = std::vector<std::string>;

} // namespace

TEST_CASE("ipset save: sets, types, families, options, members", "[ipset]") {
  const IpsetDump dump = save_sample("samples/ipset-save.txt");
  REQUIRE(dump.sets.size() == 5);
  const IpSet &vm = dump.sets[0];
  CHECK(vm.name == "i-2-9-VM");
  CHECK(vm.type == "hash:ip");
  CHECK(vm.family == "inet");
  CHECK(vm.options == Strings{"hashsize", "1024", "maxelem", "65536", "bucketsize", "12",
                              "initval", "0x77dba640"});
  CHECK(vm.members == Strings{"10.1.1.2", "10.1.1.3"});
  CHECK(vm.member_options.empty());
  CHECK(vm.line == 1);
  CHECK_FALSE(vm.references);

  CHECK(dump.find("i-2-9-VM-6")->family == "inet6");
  CHECK(dump.find("i-2-9-VM-6")->members == Strings{"fd00:1::2"});

  const IpSet &nets = *dump.find("trusted-nets");
  CHECK(nets.type == "hash:net");
  CHECK(nets.members == Strings{"10.0.0.0/8", "192.168.50.0/24"}); // sorted
  CHECK(nets.member_options.at("192.168.50.0/24") ==
        Strings{"packets", "0", "bytes", "0", "comment", "mgmt lan"});
  CHECK(nets.member_options.at("10.0.0.0/8") == Strings{"packets", "0", "bytes", "0"});

  const IpSet &tmp = *dump.find("blocked-tmp");
  CHECK(tmp.options[4] == "timeout");
  CHECK(tmp.member_options.at("203.0.113.7") == Strings{"timeout", "242"});

  const IpSet &longest = *dump.find("a234567890123456789012345678901");
  CHECK(longest.name.size() == 31);
  CHECK(longest.members.empty());
  CHECK(dump.find("nosuch") == nullptr);

  const IpsetDump one = save_sample("samples/ipset-list-output-save-i-2-9-VM.txt");
  REQUIRE(one.sets.size() == 1);
  CHECK(one.sets[0] == vm);
}

TEST_CASE("ipset list: the same sets as ipset save", "[ipset]") {
  const IpsetDump listed = list_sample("samples/ipset-list.txt");
  const IpsetDump saved = save_sample("samples/ipset-save.txt");
  REQUIRE(listed.sets.size() == saved.sets.size());
  for (std::size_t i = 0; i < saved.sets.size(); ++i) {
    INFO(saved.sets[i].name);
    CHECK(listed.sets[i].name == saved.sets[i].name);
    CHECK(listed.sets[i].type == saved.sets[i].type);
    CHECK(listed.sets[i].family == saved.sets[i].family);
    CHECK(listed.sets[i].options == saved.sets[i].options);
    CHECK(listed.sets[i].members == saved.sets[i].members);
    CHECK(listed.sets[i].member_options == saved.sets[i].member_options);
  }
  CHECK(listed.sets[0].references == 2u);
  CHECK(listed.sets[0].entries == 2u);
  CHECK(listed.sets[4].references == 0u);
  CHECK(listed.sets[4].entries == 0u);
  CHECK(listed.sets[2].line == 22);
}

TEST_CASE("ipset list -terse: headers, no members", "[ipset]") {
  const IpsetDump terse = list_sample("samples/ipset-list-terse.txt");
  REQUIRE(terse.sets.size() == 5);
  CHECK(terse.sets[2].name == "trusted-nets");
  CHECK(terse.sets[2].options == Strings{"hashsize", "1024", "maxelem", "65536", "counters",
                                         "comment", "bucketsize", "12", "initval",
                                         "0x0ee523f1"});
  CHECK(terse.sets[2].entries == 2u);
  for (const auto &set : terse.sets)
    CHECK(set.members.empty());
}

TEST_CASE("ipset members are normalized and sorted, hash order does not matter", "[ipset]") {
  // The swap session listed i-2-9-VM in this order.
  auto listed = parse_ipset_list("Name: i-2-9-VM\nType: hash:ip\nRevision: 6\n"
                                 "Header: family inet hashsize 1024 maxelem 65536\n"
                                 "Size in memory: 296\nReferences: 2\nNumber of entries: 2\n"
                                 "Members:\n10.1.1.5\n10.1.1.2\n",
                                 "swap");
  auto saved = parse_ipset_save("create i-2-9-VM-tmp hash:ip family inet hashsize 1024 maxelem "
                                "65536\nadd i-2-9-VM-tmp 10.1.1.2\nadd i-2-9-VM-tmp 10.1.1.5\n",
                                "restore.txt");
  REQUIRE(listed);
  REQUIRE(saved);
  CHECK(listed->sets[0].members == saved->sets[0].members);
  CHECK(listed->sets[0].members == Strings{"10.1.1.2", "10.1.1.5"});

  // ipset 6.x: no "Number of entries"; composite members; nomatch; CRLF.
  auto old = parse_ipset_list("Name: web\r\nType: hash:net,port\r\nRevision: 1\r\n"
                              "Header: family inet hashsize 1024 maxelem 65536 \r\n"
                              "Size in memory: 16880\r\nReferences: 1\r\nMembers:\r\n"
                              "10.0.0.0/8,tcp:80\r\n192.168.1.7/32,443\r\n10.9.0.0/16,tcp:80 nomatch\r\n",
                              "old");
  REQUIRE(old);
  CHECK_FALSE(old->sets[0].entries);
  CHECK(old->sets[0].members ==
        Strings{"10.0.0.0/8,tcp:80", "10.9.0.0/16,tcp:80 nomatch", "192.168.1.7,tcp:443"});
}

TEST_CASE("ipset errors name the line", "[ipset]") {
  auto names = parse_ipset_list(test::read_data("samples/ipset-list-name.txt"), "names.txt");
  REQUIRE_FALSE(names);
  CHECK(names.error().str() == "names.txt:1: expected \"Name: SET\", got \"i-2-9-VM\"");

  // Truncated inside the member list.
  const std::string full = test::read_data("samples/ipset-list.txt");
  const auto lines = split_lines(full);
  std::string cut;
  for (std::size_t i = 0; i < 9; ++i)
    cut += std::string(lines[i].text) + "\n";
  auto truncated = parse_ipset_list(cut, "cut.txt");
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().str() ==
        "cut.txt:9: expected 2 members in set \"i-2-9-VM\" (\"Number of entries\"), got 1 "
        "(truncated?)");

  auto no_type = parse_ipset_list("Name: x\nRevision: 1\nMembers:\n\nName: y\nType: hash:ip\n",
                                  "t.txt");
  REQUIRE_FALSE(no_type);
  CHECK(no_type.error().str() ==
        "t.txt:3: expected \"Type: TYPE\" in the record of set \"x\" (line 1), got none");
  auto garbage = parse_ipset_list("Name: x\nType: hash:ip\nwhat is this\n", "t.txt");
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().str() ==
        "t.txt:3: expected \"KEY: VALUE\" in the record of set \"x\", got \"what is this\"");
  auto bad_number = parse_ipset_list("Name: x\nType: hash:ip\nReferences: many\n", "t.txt");
  REQUIRE_FALSE(bad_number);
  CHECK(bad_number.error().line == 3);

  auto add_first = parse_ipset_save("add ghost 10.0.0.1\n", "s.txt");
  REQUIRE_FALSE(add_first);
  CHECK(add_first.error().str() ==
        "s.txt:1: expected a set created by an earlier \"create\" line, got \"ghost\"");
  auto old_syntax = parse_ipset_save("-N i-2-3-VM iphash\n-A i-2-3-VM 10.1.1.2\n", "s.txt");
  REQUIRE_FALSE(old_syntax);
  CHECK(old_syntax.error().str() ==
        "s.txt:1: expected \"create\" or \"add\" (ipset 6+ save format), got \"-N i-2-3-VM "
        "iphash\" (ipset 4.x syntax is not supported)");
  auto twice = parse_ipset_save("create a hash:ip\ncreate a hash:ip\n", "s.txt");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().str() == "s.txt:2: expected a new set, got \"a\" again (created at line 1)");
  auto quote = parse_ipset_save("create a hash:ip comment\nadd a 10.0.0.1 comment \"open\n",
                                "s.txt");
  REQUIRE_FALSE(quote);
  CHECK(quote.error().line == 2);
  auto other = parse_ipset_save("Name: x\n", "s.txt");
  REQUIRE_FALSE(other);
  CHECK(other.error().str() ==
        "s.txt:1: expected \"create NAME TYPE ...\" or \"add NAME ELEMENT ...\", got \"Name: x\"");
}

TEST_CASE("empty ipset outputs", "[ipset]") {
  auto save = parse_ipset_save("", "e");
  REQUIRE(save);
  CHECK(save->sets.empty());
  auto list = parse_ipset_list("\n", "e");
  REQUIRE(list);
  CHECK(list->sets.empty());
}

TEST_CASE("ipset save: an empty set name or type is an error on its line", "[ipset]") {
  // ipset refuses `create "" ...`; a set no rule can name is not a set.
  auto empty_name =
      parse_ipset_save("create ok hash:ip\ncreate \"\" hash:ip family inet\nadd \"\" 10.0.0.1\n",
                       "s.txt");
  REQUIRE_FALSE(empty_name);
  CHECK(empty_name.error().str() ==
        "s.txt:2: expected a set name after \"create\", got \"\" in "
        "\"create \\\"\\\" hash:ip family inet\"");
  auto empty_type = parse_ipset_save("create a \"\"\n", "s.txt");
  REQUIRE_FALSE(empty_type);
  CHECK(empty_type.error().str() ==
        "s.txt:1: expected a set type after \"create\", got \"\" in \"create a \\\"\\\"\"");
  // An add to an empty name finds no set, as before.
  auto add_empty = parse_ipset_save("add \"\" 10.0.0.1\n", "s.txt");
  REQUIRE_FALSE(add_empty);
  CHECK(add_empty.error().line == 1);
}

TEST_CASE("ipset list: set names in errors are escaped", "[ipset]") {
  auto no_type = parse_ipset_list("\nName: set\x1b[2J\x1b[31m\n", "l.txt");
  REQUIRE_FALSE(no_type);
  CHECK(no_type.error().str() ==
        "l.txt:2: expected \"Type: TYPE\" in the record of set \"set\\x1b[2J\\x1b[31m\" "
        "(line 2), got none");
  auto garbage = parse_ipset_list("Name: x\x7f\nType: hash:ip\nwhat is this\n", "l.txt");
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().str() ==
        "l.txt:3: expected \"KEY: VALUE\" in the record of set \"x\\x7f\", got \"what is this\"");
  auto cut = parse_ipset_list(
      "Name: \x1b]0;owned\x07\nType: hash:ip\nNumber of entries: 2\nMembers:\n10.0.0.1\n", "l.txt");
  REQUIRE_FALSE(cut);
  CHECK(cut.error().str() == "l.txt:5: expected 2 members in set \"\\x1b]0;owned\\x07\" "
                             "(\"Number of entries\"), got 1 (truncated?)");
}

TEST_CASE("ipset save: adds to one set, then another, then the first again", "[ipset]") {
  auto dump = parse_ipset_save("create a hash:net family inet hashsize 1024 maxelem 65536\n"
                               "create \"b c\" hash:ip\n"
                               "add a 10.0.0.0/8\nadd a 192.168.1.7/16\n"
                               "add \"b c\" 10.1.1.1 comment \"x \\\"y\\\"\"\n"
                               "add a 172.16.0.1 nomatch\n",
                               "s.txt");
  REQUIRE(dump);
  REQUIRE(dump->sets.size() == 2);
  const IpSet &a = dump->sets[0];
  CHECK(a.family == "inet");
  CHECK(a.options == std::vector<std::string>{"hashsize", "1024", "maxelem", "65536"});
  CHECK(a.members ==
        std::vector<std::string>{"10.0.0.0/8", "172.16.0.1 nomatch", "192.168.0.0/16"});
  const IpSet &bc = dump->sets[1];
  CHECK(bc.name == "b c");
  CHECK(bc.members == std::vector<std::string>{"10.1.1.1"});
  CHECK(bc.member_options.at("10.1.1.1") == std::vector<std::string>{"comment", "x \"y\""});

  auto unknown_after_run =
      parse_ipset_save("create a hash:ip\nadd a 10.0.0.1\nadd b 10.0.0.2\n", "s.txt");
  REQUIRE_FALSE(unknown_after_run);
  CHECK(unknown_after_run.error().str() ==
        "s.txt:3: expected a set created by an earlier \"create\" line, got \"b\"");
  auto before_create =
      parse_ipset_save("create a hash:ip\nadd a 10.0.0.1\nadd b 10.0.0.2\ncreate b hash:ip\n",
                       "s.txt");
  REQUIRE_FALSE(before_create);
  CHECK(before_create.error().line == 3);
}

TEST_CASE("ipset save: members are what normalize_ipset_member makes of them", "[ipset]") {
  // parse_ipset_save keeps canonical IPv4 members of address sets as printed
  // instead of rebuilding them: that must never differ from the rebuild.
  auto check = [](const std::string &type, const std::string &elem) {
    INFO(type << " " << elem);
    auto dump = parse_ipset_save("create s " + type + "\nadd s \"" + elem + "\"\n", "m.txt");
    REQUIRE(dump);
    REQUIRE(dump->sets[0].members.size() == 1);
    CHECK(dump->sets[0].members[0] == normalize_ipset_member(type, elem));
  };
  for (const char *elem :
       {"10.0.0.1", "10.0.0.0/8", "10.0.0.1/8", "10.0.0.1/32", "10.0.0.0/0", "0.0.0.0/0",
        "1.2.3.4/0", "255.255.255.255", "255.255.255.254/31", "255.255.255.255/31",
        "010.0.0.1", "10.0.0.01", "10.0.0.256", "10.0.0", "10.0.0.1.5", "10..0.1", "10.0.0.1/",
        "10.0.0.0/08", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/255.0.0.0", "10.0.0.1-10.0.0.9",
        "10.0.0.0/8,tcp:80", "fe80::1", "fe80::/64", "FE80::1/128", "", "a.b.c.d", " 1.2.3.4",
        "1.2.3.4 ", "+1.2.3.4", "1.2.3.4/+8", "1234.0.0.1", "1.2.3.4/1x"}) {
    for (const char *type : {"hash:ip", "hash:net", "bitmap:ip", "hash:net,port", "hash:mac",
                             "list:set", "hash:ip,port,ip", "hash"})
      check(type, elem);
  }
  std::mt19937 random(2026);
  for (int round = 0; round < 5000; ++round) {
    std::string elem;
    for (int octet = 0; octet < 4; ++octet) {
      const unsigned value = random() % 8 == 0 ? random() % 300 : random() % 256;
      elem += (octet ? "." : "") + std::string(random() % 20 == 0 ? "0" : "") +
              std::to_string(value);
    }
    if (random() % 2)
      elem += "/" + std::to_string(random() % 34);
    check(random() % 2 ? "hash:net" : "hash:ip", elem);
  }
}
