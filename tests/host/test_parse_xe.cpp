#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "parse_xe.hpp"
#include "testutil.hpp"
#include "text.hpp"

using namespace vifwall;
using vifwall::test::read_data;
using vifwall::test::read_source;

namespace {

// Lines [first, last] (1-based, inclusive) of `text`, each with its '\n'.
std::string line_range(const std::string &text, std::size_t first,
                       std::size_t last) {
  std::string out;
  for (const Line &line : split_lines(text))
    if (line.number >= first && line.number <= last) {
      out += line.text;
      out += '\n';
    }
  return out;
}

std::string replace_all(std::string text, const std::string &from,
                        const std::string &to) {
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

// What a blog copy does to xe output: indentation and trailing blanks gone,
// and only one blank line between records.
std::string as_pasted_copy(const std::string &text) {
  std::string out;
  bool previous_blank = false;
  for (const Line &line : split_lines(text)) {
    const std::string_view stripped = trim(line.text);
    if (stripped.empty() && previous_blank)
      continue;
    previous_blank = stripped.empty();
    out += stripped;
    out += '\n';
  }
  return out;
}

std::string without_blank_lines(const std::string &text) {
  std::string out;
  for (const Line &line : split_lines(text))
    if (!is_blank(line.text)) {
      out += line.text;
      out += '\n';
    }
  return out;
}

const std::vector<Vm> &expected_seed_vms() {
  static const std::vector<Vm> vms = {
      {"20238d97-f5cb-9de7-5605-771f2052b051", "s-1-VM", "", 4, {}},
      {"44b0e85e-00b4-73c0-6405-eacff81b8bbe", "i-2-3-VM", "", 7, {}},
      {"64abc60a-feeb-5dc6-7a1a-18b2b60ac75b", "r-4-VM", "", 6, {}},
      {"80f42fd0-0a78-a971-af67-640c96ce44fd", "v-2-VM", "", 2, {}},
      {"c2e2ed54-9594-49f4-80aa-df341f998d6b",
       "Control domain on host: Rack1Pod1Host22", "", 0, {}},
  };
  return vms;
}

// UUIDs of tests/data/xe/*.txt (one made-up pool, matching the topology of
// tests/data/samples: vif2.0/vif2.1/vif4.0 on xenbr0, tap5.0, vif12.0).
const std::string dom0_uuid = "79c8c292-6b94-45b5-b498-82321e35049e";
const std::string vm2_uuid = "eb7a7995-9588-432d-8242-aadbc8f429a4";
const std::string vm4_uuid = "515c6123-6c88-4537-bcf3-bd58da60fb1c";
const std::string vm5_uuid = "88718c96-6f3d-48f7-b4b1-b64633be40f5";
const std::string vm12_uuid = "5b08acc2-13a5-4f07-9a1b-195060c40eb7";
const std::string halted_uuid = "4a894db7-e48f-42b9-aa5d-670af9a3638e";
const std::string xenbr0_net = "82b9bfbc-91ba-4257-9abe-22cad37b17c6";
const std::string xapi1_net = "a5240b60-20d0-429c-8cf1-97f45625871b";
const std::string longname_net = "400cb70f-964e-43c0-b4a3-165de1ab3e01";

std::vector<Vm> expected_fixture_vms() {
  return {
      {dom0_uuid, "Control domain on host: xcp-ng-lab1", "running", 0, {}},
      {vm2_uuid,
       "i-2-3-VM",
       "running",
       2,
       {{"0/ip", "10.1.1.2"},
        {"0/ipv4/0", "10.1.1.2"},
        {"0/ipv6/0", "fe80::4f8:c8ff:fe00:9"}}},
      {vm4_uuid,
       "r-4-VM",
       "running",
       4,
       {{"0/ip", "10.1.1.4"}, {"0/ipv4/0", "10.1.1.4"}}},
      {vm5_uuid,
       "web: front; v2",
       "running",
       5,
       {{"0/ip", "10.1.1.5"},
        {"0/ipv4/0", "10.1.1.5"},
        {"0/ipv6/0", "fe80::4f8:c8ff:fe00:c"},
        {"0/ipv6/1", "fd00:1::5"}}},
      {vm12_uuid, "S\xC3\xA9rveur-12 (caf\xC3\xA9)", "paused", 12, {}},
      {halted_uuid, "build box", "halted", -1, {}},
  };
}

} // namespace

// ---- the seed's vm-list ------------------------------------------------------

TEST_CASE("xe vm-list from the seed notes: 5 VMs incl. dom0 with ': ' in its name",
          "[xe]") {
  const std::string seed =
      read_data("seed/xenserver-cloudstack-notes.txt");
  const std::string vm_list = line_range(seed, 13, 37);
  REQUIRE(vm_list.find("\xC2\xA0") != std::string::npos); // NBSP indentation

  auto vms = parse_xe_vm_list(vm_list, "seed");
  REQUIRE(vms);
  CHECK(*vms == expected_seed_vms());

  // The same text shipped as an example parses the same.
  auto example = parse_xe_vm_list(read_source("examples/xen6/xe-vm-list"),
                                  "xe-vm-list");
  REQUIRE(example);
  CHECK(*example == expected_seed_vms());

  auto records = parse_xe_records(vm_list, "seed");
  REQUIRE(records);
  REQUIRE(records->size() == 5);
  CHECK((*records)[0].line == 1);
  CHECK((*records)[4].line == 21);
  const XeRecord &dom0 = (*records)[4];
  REQUIRE(dom0.fields.size() == 3);
  CHECK(dom0.fields[0] ==
        XeField{"uuid", " RO", "c2e2ed54-9594-49f4-80aa-df341f998d6b", 21});
  CHECK(dom0.fields[1] == XeField{"name-label", " RW",
                                  "Control domain on host: Rack1Pod1Host22", 22});
  CHECK(dom0.fields[2] == XeField{"dom-id", " RO", "0", 23});
}

TEST_CASE("xe: the whole seed (prose around the vm-list) is not xe output",
          "[xe]") {
  const std::string seed =
      read_data("seed/xenserver-cloudstack-notes.txt");
  auto records = parse_xe_records(seed, "notes.txt");
  REQUIRE_FALSE(records);
  CHECK(records.error().str() ==
        "notes.txt:1: expected an xe field line like \"uuid ( RO): VALUE\", "
        "got \"Friday, September 20, 2013\"");

  // With the shell prompt line in front: the prompt is named, on line 1.
  auto with_prompt = parse_xe_vm_list(line_range(seed, 12, 37), "paste");
  REQUIRE_FALSE(with_prompt);
  CHECK(with_prompt.error().line == 1);
  CHECK(starts_with(with_prompt.error().message,
                    "expected an xe field line like \"uuid ( RO): VALUE\", got "
                    "\"[root@Rack1Pod1Host22 ~]# xe vm-list"));
}

TEST_CASE("xe: ifconfig output fails on line 1", "[xe]") {
  auto vms = parse_xe_vm_list(read_data("samples/ifconfig.txt"), "ifconfig.txt");
  REQUIRE_FALSE(vms);
  CHECK(vms.error().line == 1);
  CHECK(vms.error().str() ==
        "ifconfig.txt:1: expected an xe field line like \"uuid ( RO): VALUE\", "
        "got \"eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\"");

  // Old-format ifconfig from the seed, too.
  const std::string seed =
      read_data("seed/xenserver-cloudstack-notes.txt");
  auto old = parse_xe_records(line_range(seed, 61, 70), "old-ifconfig");
  REQUIRE_FALSE(old);
  CHECK(old.error().line == 1);
}

// ---- vm-list with power-state and networks -----------------------------------

TEST_CASE("xe vm-list with power-state, dom-id and the networks map", "[xe]") {
  const std::string text = read_data("xe/vm-list-power-networks.txt");
  auto vms = parse_xe_vm_list(text, "vm-list");
  REQUIRE(vms);
  CHECK(*vms == expected_fixture_vms());

  auto records = parse_xe_records(text, "vm-list");
  REQUIRE(records);
  REQUIRE(records->size() == 6);
  // Placeholders stay raw in the records; only the typed view drops them.
  CHECK(*(*records)[0].get("networks") == "<not in database>");
  CHECK((*records)[0].fields[4].access == "MRO");
  // "networks (MRO): " with its trailing space: an empty value.
  CHECK(*(*records)[4].get("networks") == "");
  CHECK((*records)[5].line == 36);
}

TEST_CASE("xe: power-state is lower-cased and upper-case copies still parse",
          "[xe]") {
  auto vms = parse_xe_vm_list("uuid ( RO)           : u-1\n"
                              "    power-state ( RO): Running\n",
                              "t");
  REQUIRE(vms);
  REQUIRE(vms->size() == 1);
  CHECK((*vms)[0].power_state == "running");
  CHECK_FALSE((*vms)[0].dom_id); // not listed
  CHECK((*vms)[0].name_label.empty());
}

// ---- damaged copies: CRLF, NBSP, one blank line, no indentation ------------

TEST_CASE("xe: CRLF line ends parse like LF", "[xe]") {
  const std::string text = read_data("xe/vm-list-power-networks.txt");
  auto vms = parse_xe_vm_list(replace_all(text, "\n", "\r\n"), "crlf");
  REQUIRE(vms);
  CHECK(*vms == expected_fixture_vms());

  auto records = parse_xe_records(replace_all(text, "\n", "\r\n"), "crlf");
  REQUIRE(records);
  CHECK(*(*records)[1].get("uuid") == vm2_uuid); // no stray '\r'
}

TEST_CASE("xe: non-breaking-space indentation parses like spaces", "[xe]") {
  const std::string text = read_data("xe/vm-list-power-networks.txt");
  auto vms = parse_xe_vm_list(replace_all(text, "  ", "\xC2\xA0 "), "nbsp");
  REQUIRE(vms);
  CHECK(*vms == expected_fixture_vms());
}

TEST_CASE("xe: stripped indentation, trailing blanks and one blank line between "
          "records",
          "[xe]") {
  const std::string pasted =
      as_pasted_copy(read_data("xe/vm-list-power-networks.txt"));
  REQUIRE(pasted.find("\nname-label ( RW): i-2-3-VM\n") != std::string::npos);
  REQUIRE(pasted.find("networks (MRO):\n") != std::string::npos);
  REQUIRE(pasted.find("\n\n\n") == std::string::npos);
  auto vms = parse_xe_vm_list(pasted, "pasted");
  REQUIRE(vms);
  CHECK(*vms == expected_fixture_vms());

  const std::string seed = line_range(
      read_data("seed/xenserver-cloudstack-notes.txt"), 13, 37);
  auto seed_vms = parse_xe_vm_list(as_pasted_copy(seed), "pasted seed");
  REQUIRE(seed_vms);
  CHECK(*seed_vms == expected_seed_vms());
}

TEST_CASE("xe: without any blank line, the first field name repeating starts a "
          "new record",
          "[xe]") {
  const std::string packed =
      without_blank_lines(read_data("xe/vm-list-power-networks.txt"));
  auto vms = parse_xe_vm_list(packed, "packed");
  REQUIRE(vms);
  CHECK(*vms == expected_fixture_vms());

  auto records = parse_xe_records(packed, "packed");
  REQUIRE(records);
  REQUIRE(records->size() == 6);
  CHECK((*records)[1].line == 6);

  // A repeated field that is not the first one stays in the record.
  auto repeated = parse_xe_records("uuid ( RO): a\n"
                                   "tags (SRW): x\n"
                                   "tags (SRW): y\n"
                                   "uuid ( RO): b\n",
                                   "t");
  REQUIRE(repeated);
  REQUIRE(repeated->size() == 2);
  CHECK((*repeated)[0].fields.size() == 3);
  CHECK((*repeated)[1].line == 4);
}

TEST_CASE("xe: three or more blank lines, leading blank lines and no final "
          "newline",
          "[xe]") {
  auto records = parse_xe_records("\n\nuuid ( RO): a\n\n\n\n\n"
                                  "uuid ( RO): b\n"
                                  "  name-label ( RW): last",
                                  "t");
  REQUIRE(records);
  REQUIRE(records->size() == 2);
  CHECK((*records)[0].line == 3);
  CHECK((*records)[1].line == 8);
  CHECK(*(*records)[1].get("name-label") == "last");
}

// ---- values -----------------------------------------------------------------

TEST_CASE("xe: values keep ': ', '; ', edge blanks, UTF-8 and empty values",
          "[xe]") {
  const std::string text =
      "uuid ( RO)                    : 0f0e\n"
      "              name-label ( RW): db: primary; eu-west  \n"
      "        name-description ( RW): \n"
      "                    tags (SRW):\n"
      "             other-label ( RW):  two leading blanks\n"
      "                   owner ( RW): J\xC3\xBCrgen\n";
  auto records = parse_xe_records(text, "t");
  REQUIRE(records);
  REQUIRE(records->size() == 1);
  const XeRecord &record = (*records)[0];
  CHECK(*record.get("name-label") == "db: primary; eu-west  ");
  CHECK(*record.get("name-description") == "");
  CHECK(*record.get("tags") == "");
  CHECK(record.fields[3].access == "SRW");
  CHECK(*record.get("other-label") == " two leading blanks");
  CHECK(*record.get("owner") == "J\xC3\xBCrgen");

  // The typed view keeps the name raw, too.
  auto vms = parse_xe_vm_list(text, "t");
  REQUIRE(vms);
  CHECK((*vms)[0].name_label == "db: primary; eu-west  ");
}

TEST_CASE("xe: a multi-line value continues on lines that are not field lines",
          "[xe]") {
  const std::string text = read_data("xe/network-list.txt");
  auto records = parse_xe_records(text, "network-list");
  REQUIRE(records);
  REQUIRE(records->size() == 5);
  const XeRecord &record = (*records)[3];
  CHECK(*record.get("name-description") ==
        "bridge with a 15-character name\nsecond line of the description");
  CHECK(record.fields[2].line == 21);
  CHECK(*record.get("bridge") == "xenbr-longname1");
  CHECK(record.fields[3].line == 23);

  // Continuation lines that look almost like fields stay in the value.
  auto tricky = parse_xe_records("uuid ( RO): u\n"
                                 "name-description ( RW): see\n"
                                 "  notes (section 2): here\n"
                                 "bridge ( RO): xenbr0\n",
                                 "t");
  REQUIRE(tricky);
  REQUIRE((*tricky)[0].fields.size() == 3);
  CHECK((*tricky)[0].fields[1].value == "see\n  notes (section 2): here");
}

TEST_CASE("xe: [DEPRECATED] labels and (RO) without the space", "[xe]") {
  auto records = parse_xe_records(
      "uuid ( RO)                                  : u\n"
      "    PV-drivers-up-to-date ( RO) [DEPRECATED]: true\n"
      "name-label (RW): retyped\n",
      "t");
  REQUIRE(records);
  REQUIRE((*records)[0].fields.size() == 3);
  CHECK((*records)[0].fields[1] ==
        XeField{"PV-drivers-up-to-date", " RO", "true", 2});
  CHECK((*records)[0].fields[2] == XeField{"name-label", " RW", "retyped", 3});
}

TEST_CASE("parse_xe_map splits pairs on '; ' and keys on the first ': '", "[xe]") {
  using Map = std::map<std::string, std::string>;
  CHECK(parse_xe_map("0/ip: 10.1.1.2; 0/ipv6/0: fe80::1") ==
        Map{{"0/ip", "10.1.1.2"}, {"0/ipv6/0", "fe80::1"}});
  CHECK(parse_xe_map("location: /var/opt/ISO_IMAGES; legacy_mode: true") ==
        Map{{"location", "/var/opt/ISO_IMAGES"}, {"legacy_mode", "true"}});
  // A value with ": " in it: only the first ": " separates.
  CHECK(parse_xe_map("url: http://h: 80") == Map{{"url", "http://h: 80"}});
  // A value with "; " in it: a piece without ": " continues the value.
  CHECK(parse_xe_map("note: a; b; k: v") == Map{{"note", "a; b"}, {"k", "v"}});
  // Empty values, with and without the trailing space.
  CHECK(parse_xe_map("a: ; b:") == Map{{"a", ""}, {"b", ""}});
  CHECK(parse_xe_map("").empty());
  CHECK(parse_xe_map("<not in database>").empty());
  CHECK(parse_xe_map("lonely") == Map{{"lonely", ""}});
}

TEST_CASE("split_xe_set and is_xe_placeholder", "[xe]") {
  CHECK(split_xe_set("10.1.1.4; 10.1.1.40") ==
        std::vector<std::string>{"10.1.1.4", "10.1.1.40"});
  CHECK(split_xe_set("attach") == std::vector<std::string>{"attach"});
  CHECK(split_xe_set("").empty());
  CHECK(is_xe_placeholder("<not in database>"));
  CHECK(is_xe_placeholder("<expensive field>"));
  CHECK(is_xe_placeholder("OpaqueRef:NULL"));
  CHECK(is_xe_placeholder("<unknown time> "));
  CHECK_FALSE(is_xe_placeholder("<Web Server>"));
  CHECK_FALSE(is_xe_placeholder("xenbr0"));
  CHECK_FALSE(is_xe_placeholder("<>"));
}

// ---- vif-list ---------------------------------------------------------------

TEST_CASE("xe vif-list with default params", "[xe]") {
  auto vifs = parse_xe_vif_list(read_data("xe/vif-list-default.txt"), "vif-list");
  REQUIRE(vifs);
  REQUIRE(vifs->size() == 7);
  CHECK((*vifs)[0] == XeVif{"e085b021-e0d4-4f2b-935a-b03d8de49eb1", vm2_uuid,
                            "", "0", "", xenbr0_net, "", std::nullopt});
  CHECK((*vifs)[1].device == "1");
  CHECK((*vifs)[2].vm_uuid == vm4_uuid);
  CHECK((*vifs)[3].network_uuid == xapi1_net);
  CHECK((*vifs)[4].network_uuid == longname_net);
  // A VIF on a network that is gone: the placeholder is kept, not fatal.
  CHECK((*vifs)[6].network_uuid == "<not in database>");
  CHECK((*vifs)[6].vm_uuid == halted_uuid);
}

TEST_CASE("xe vif-list params=all: every field, MACs normalized", "[xe]") {
  const std::string text = read_data("xe/vif-list-all.txt");
  auto vifs = parse_xe_vif_list(text, "vif-list-all");
  REQUIRE(vifs);
  REQUIRE(vifs->size() == 7);
  CHECK((*vifs)[0] == XeVif{"e085b021-e0d4-4f2b-935a-b03d8de49eb1", vm2_uuid,
                            "i-2-3-VM", "0", "06:f8:c8:00:00:09", xenbr0_net,
                            "Pool-wide network associated with eth0", 1500});
  CHECK((*vifs)[3].vm_name_label == "web: front; v2");
  CHECK((*vifs)[3].network_name_label == "Guest Network 100");
  CHECK((*vifs)[4].vm_name_label == "S\xC3\xA9rveur-12 (caf\xC3\xA9)");
  CHECK((*vifs)[4].mtu == 9000u);
  CHECK((*vifs)[4].network_name_label == "lab: long bridge; test");
  CHECK((*vifs)[5].mac == "06:f8:c8:00:00:0d"); // printed upper case
  CHECK((*vifs)[6].network_name_label == "<not in database>");

  // The default listing names the same VIFs.
  auto defaults =
      parse_xe_vif_list(read_data("xe/vif-list-default.txt"), "vif-list");
  REQUIRE(defaults);
  REQUIRE(defaults->size() == vifs->size());
  for (std::size_t i = 0; i < vifs->size(); ++i) {
    CHECK((*defaults)[i].uuid == (*vifs)[i].uuid);
    CHECK((*defaults)[i].vm_uuid == (*vifs)[i].vm_uuid);
    CHECK((*defaults)[i].device == (*vifs)[i].device);
    CHECK((*defaults)[i].network_uuid == (*vifs)[i].network_uuid);
  }

  auto records = parse_xe_records(text, "vif-list-all");
  REQUIRE(records);
  const XeRecord &first = (*records)[0];
  REQUIRE(first.fields.size() == 27);
  CHECK(first.fields[3] == XeField{"allowed-operations", "SRO", "unplug", 4});
  CHECK(first.fields[11].name == "qos_algorithm_params");
  CHECK(first.fields[11].access == "MRW");
  CHECK(parse_xe_map(*first.get("other-config")) ==
        std::map<std::string, std::string>{{"ethtool-tx", "off"},
                                           {"promiscuous", "on"}});
  CHECK(*first.get("io_read_kbs") == "<expensive field>");
  CHECK(first.fields[26].name == "ipv6-gateway");
  CHECK(split_xe_set(*(*records)[2].get("ipv4-allowed")) ==
        std::vector<std::string>{"10.1.1.4", "10.1.1.40"});
  CHECK(*(*records)[2].get("locking-mode") == "locked");
  CHECK((*records)[1].line == 30);
}

// ---- network-list -----------------------------------------------------------

TEST_CASE("xe network-list with default params", "[xe]") {
  auto networks = parse_xe_network_list(read_data("xe/network-list.txt"),
                                        "network-list");
  REQUIRE(networks);
  const std::vector<XeNetwork> expected = {
      {xenbr0_net, "Pool-wide network associated with eth0", "xenbr0"},
      {"b039ee16-9646-4718-8f3d-9a4de6cf02bb",
       "Pool-wide network associated with eth1", "xenbr1"},
      {xapi1_net, "Guest Network 100", "xapi1"},
      {longname_net, "lab: long bridge; test", "xenbr-longname1"},
      {"83d8e92d-f2ad-4c0e-a683-acdf2060d7c4", "Host internal management network",
       "xenapi"},
  };
  CHECK(*networks == expected);
}

// ---- --minimal --------------------------------------------------------------

TEST_CASE("xe --minimal splits on unescaped commas and unescapes", "[xe]") {
  using Values = std::vector<std::string>;
  auto values = parse_xe_minimal("a\\,b,c\\\\d,,web: front; v2\n", "t");
  REQUIRE(values);
  CHECK(*values == Values{"a,b", "c\\d", "", "web: front; v2"});

  // An escaped backslash before a comma: the comma separates.
  values = parse_xe_minimal("x\\\\,y\n", "t");
  REQUIRE(values);
  CHECK(*values == Values{"x\\", "y"});

  // A backslash before anything else is kept.
  values = parse_xe_minimal("C:\\dir\n", "t");
  REQUIRE(values);
  CHECK(*values == Values{"C:\\dir"});

  values = parse_xe_minimal("20238d97-f5cb-9de7-5605-771f2052b051\r\n", "t");
  REQUIRE(values);
  CHECK(*values == Values{"20238d97-f5cb-9de7-5605-771f2052b051"});

  values = parse_xe_minimal(" edge ,b\n", "t");
  REQUIRE(values);
  CHECK(*values == Values{" edge ", "b"});
}

TEST_CASE("xe --minimal with no records is one empty line", "[xe]") {
  for (const char *empty : {"\n", "", "\r\n", "  \n"}) {
    auto values = parse_xe_minimal(empty, "t");
    REQUIRE(values);
    CHECK(values->empty());
  }
}

TEST_CASE("xe --minimal refuses record output", "[xe]") {
  auto values = parse_xe_minimal(read_data("xe/network-list.txt"), "nets");
  REQUIRE_FALSE(values);
  CHECK(values.error().line == 1);
  CHECK(starts_with(values.error().str(),
                    "nets:1: expected --minimal output (one line of "
                    "comma-separated values), got a record field line"));
}

// ---- empty input ------------------------------------------------------------

TEST_CASE("xe: empty input and only blank lines are zero records", "[xe]") {
  for (const char *empty : {"", "\n", "\n\n\n", "  \r\n\xC2\xA0\n"}) {
    auto records = parse_xe_records(empty, "t");
    REQUIRE(records);
    CHECK(records->empty());
    auto vms = parse_xe_vm_list(empty, "t");
    REQUIRE(vms);
    CHECK(vms->empty());
    auto vifs = parse_xe_vif_list(empty, "t");
    REQUIRE(vifs);
    CHECK(vifs->empty());
    auto networks = parse_xe_network_list(empty, "t");
    REQUIRE(networks);
    CHECK(networks->empty());
  }
}

// ---- errors -----------------------------------------------------------------

TEST_CASE("xe: a garbage line between records names its line", "[xe]") {
  auto records = parse_xe_records("uuid ( RO): a\n"
                                  "\n"
                                  "\n"
                                  "Connection to host closed.\n"
                                  "uuid ( RO): b\n",
                                  "xe.out");
  REQUIRE_FALSE(records);
  CHECK(records.error().str() ==
        "xe.out:4: expected an xe field line like \"uuid ( RO): VALUE\", got "
        "\"Connection to host closed.\"");
}

TEST_CASE("xe vm-list: a non-numeric dom-id is an error on its line", "[xe]") {
  std::string text = read_data("xe/vm-list-power-networks.txt");
  text = replace_all(text, "dom-id ( RO): 4\n", "dom-id ( RO): four\n");
  auto vms = parse_xe_vm_list(text, "vm-list");
  REQUIRE_FALSE(vms);
  CHECK(vms.error().str() ==
        "vm-list:18: expected a number for dom-id (-1 when not running), got "
        "\"four\"");

  auto empty = parse_xe_vm_list("uuid ( RO): u\ndom-id ( RO):\n", "t");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().line == 2);
}

TEST_CASE("xe vif-list: a bad MAC or MTU is an error on its line", "[xe]") {
  std::string text = read_data("xe/vif-list-all.txt");
  auto bad_mac = parse_xe_vif_list(
      replace_all(text, "MAC ( RO): 06:f8:c8:00:00:0b", "MAC ( RO): 06:f8:c8:00:00"),
      "vif-list");
  REQUIRE_FALSE(bad_mac);
  CHECK(bad_mac.error().str() ==
        "vif-list:65: expected a MAC address like 06:f8:c8:00:00:09, got "
        "\"06:f8:c8:00:00\"");

  auto bad_mtu = parse_xe_vif_list(
      replace_all(text, "MTU ( RO): 9000", "MTU ( RO): 9000000000"), "vif-list");
  REQUIRE_FALSE(bad_mtu);
  CHECK(bad_mtu.error().str() ==
        "vif-list:125: expected an MTU (a number of bytes), got \"9000000000\"");
}

TEST_CASE("xe: a record without uuid is an error on the record's first line",
          "[xe]") {
  const std::string text = "uuid ( RO)          : u1\n"
                           "    name-label ( RW): one\n"
                           "\n"
                           "\n"
                           "name-label ( RW)    : two\n"
                           "        dom-id ( RO): 3\n";
  auto vms = parse_xe_vm_list(text, "vm-list");
  REQUIRE_FALSE(vms);
  CHECK(vms.error().str() ==
        "vm-list:5: expected a \"uuid\" field in this xe record, got only: "
        "\"name-label\", \"dom-id\" (add uuid to params=)");
  CHECK_FALSE(parse_xe_vif_list(text, "t"));
  CHECK_FALSE(parse_xe_network_list(text, "t"));
  // The raw records are fine: uuid is a typed-view requirement.
  CHECK(parse_xe_records(text, "t"));
}

TEST_CASE("xe: truncated output keeps what is valid", "[xe]") {
  // Cut after a complete line in the middle of the last record.
  const std::string text = line_range(
      read_data("xe/vm-list-power-networks.txt"), 1, 37);
  auto vms = parse_xe_vm_list(text, "cut");
  REQUIRE(vms);
  REQUIRE(vms->size() == 6);
  CHECK((*vms)[5] == Vm{halted_uuid, "build box", "", std::nullopt, {}});

  // Cut in the middle of a line: the half label reads as the next line of
  // the uuid value, which then is no uuid - an error, not a silent join key.
  auto half_line = parse_xe_vm_list("uuid ( RO)          : u1\n"
                                    "    name-la",
                                    "cut");
  REQUIRE_FALSE(half_line);
  CHECK(half_line.error().str() ==
        "cut:1: expected a uuid, got \"u1\\n    name-la\"");
}

TEST_CASE("xe: field names in the no-uuid error are escaped and cut",
          "[xe]") {
  // A field name is whatever precedes " (": an escape sequence in it must
  // not reach the terminal through the error message.
  auto vms = parse_xe_vm_list("\n\x1b[2J\x1b[31mname-label ( RW): vm\n", "vm-list");
  REQUIRE_FALSE(vms);
  CHECK(vms.error().str() ==
        "vm-list:2: expected a \"uuid\" field in this xe record, got only: "
        "\"\\x1b[2J\\x1b[31mname-label\" (add uuid to params=)");

  // A long name is cut, and a record of many fields lists a few of them.
  std::string text = std::string(100, 'n') + " ( RO): x\n";
  for (int i = 0; i < 10; ++i)
    text += " f" + std::to_string(i) + " ( RO): x\n";
  auto many = parse_xe_network_list(text, "t");
  REQUIRE_FALSE(many);
  CHECK(many.error().message ==
        "expected a \"uuid\" field in this xe record, got only: \"" +
            std::string(40, 'n') +
            "...\", \"f0\", \"f1\", \"f2\", \"f3\", \"f4\", \"f5\", \"f6\" and 3 "
            "more (add uuid to params=)");
}

TEST_CASE("xe: a uuid with any blank of text.hpp (VT, FF) is an error",
          "[xe]") {
  struct Blank {
    const char *raw;
    const char *shown; // as quote_for_error prints it
  };
  for (const Blank &blank : {Blank{" ", " "}, Blank{"\t", "\\t"},
                             Blank{"\v", "\\x0b"}, Blank{"\f", "\\x0c"}}) {
    INFO("blank " << blank.shown);
    const std::string text = "\nuuid ( RO): 167dd41a-3" + std::string(blank.raw) +
                             "a-4e47-8e5a-c63a43514e2e\n"
                             " name-label ( RW): vm\n";
    auto vms = parse_xe_vm_list(text, "vm-list");
    REQUIRE_FALSE(vms);
    CHECK(vms.error().str() == "vm-list:2: expected a uuid, got \"167dd41a-3" +
                                   std::string(blank.shown) +
                                   "a-4e47-8e5a-c63a43514e2e\"");
    CHECK_FALSE(parse_xe_vif_list(text, "t"));
    CHECK_FALSE(parse_xe_network_list(text, "t"));
  }
  // Blanks around the uuid are copy damage, not part of it.
  auto padded = parse_xe_vm_list("uuid ( RO): \v\f u1 \f\v\n", "t");
  REQUIRE(padded);
  CHECK((*padded)[0].uuid == "u1");
}
