// The fuzz target bodies (see targets.hpp) and the table naming them.
//
// To add a target: write `int fuzz_NAME(const std::uint8_t *data,
// std::size_t size)` below (parse, then check_error / check_* on the result),
// add a row to the table at the end, and optionally drop tricky inputs in
// fuzz/seeds/NAME/.  scripts/fuzz and the regression test pick it up from the
// table; CMake needs no change.
//
// Parsers that may not be in every tree yet (lib/ grows in parallel
// branches) are guarded with __has_include; their rows then have run ==
// nullptr, and scripts/fuzz and the replay test skip them.

#include "targets.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "host.hpp"
#include "host_inputs.hpp"
#include "host_print.hpp"
#include "model.hpp"
#include "netfilter.hpp"
#include "parse_arptables.hpp"
#include "parse_brctl.hpp"
#include "parse_ebtables.hpp"
#include "parse_ifconfig.hpp"
#include "parse_ip_json.hpp"
#include "parse_ip_json_internal.hpp"
#include "parse_ip_link.hpp"
#include "parse_ipset.hpp"
#include "parse_iptables_save.hpp"
#include "parse_xe.hpp"
#include "sg_state.hpp"
#include "text.hpp"
#include "vif_query.hpp"

#if __has_include("sg_rules.hpp")
#define VIFWALL_FUZZ_HAVE_SG_RULES 1
#include "sg_rules.hpp"
#endif
#if __has_include("base64.hpp")
#define VIFWALL_FUZZ_HAVE_BASE64 1
#include "base64.hpp"
#endif
#if __has_include("validate.hpp")
#define VIFWALL_FUZZ_HAVE_VALIDATE 1
#include "validate.hpp"
#endif
#if __has_include("sg_check.hpp")
#include "firewall_snapshot.hpp"
#include "sg_check.hpp"
#define VIFWALL_FUZZ_HAVE_SG_CHECK 1
#endif
#if __has_include("sg_names.hpp")
#define VIFWALL_FUZZ_HAVE_SG_NAMES 1
#include "sg_names.hpp"
#endif

namespace vifwall::fuzz {

namespace {

const std::string kSource = "fuzz-input";

std::string_view as_text(const std::uint8_t *data, std::size_t size) {
  return {reinterpret_cast<const char *>(data), size};
}

[[noreturn]] void violated(const char *check, const std::string &detail) {
  throw InvariantViolation(std::string("invariant violated: ") + check +
                           (detail.empty() ? "" : " (" + detail + ")"));
}

// CHECK(condition, detail): the detail expression is built only on failure.
#define CHECK(condition, detail)                                                                   \
  do {                                                                                             \
    if (!(condition))                                                                              \
      violated(#condition, detail);                                                                \
  } while (0)

bool lenient_mode = false;

// A check of a finer point of a contract (see set_lenient): skipped in
// lenient mode.
#define CHECK_STRICT(condition, detail)                                                            \
  do {                                                                                             \
    if (!lenient_mode && !(condition))                                                             \
      violated(#condition, detail);                                                                \
  } while (0)

// Line numbers may point at most one past the last line (truncated input is
// reported at the end); clean_text drops CRs, so only '\n' counts.
std::size_t line_bound(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// An error renders on one line and says something about this input.
void check_error(const Error &error, std::string_view text, const std::string &source) {
  CHECK(!error.message.empty(), error.str());
  CHECK(error.source == source, error.source + " vs " + source);
  CHECK(error.line <= line_bound(text), error.str());
  for (char c : error.message)
    CHECK_STRICT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f,
                 quote_for_error(error.message, 200));
}

template <class T>
bool check_result(const Result<T> &result, std::string_view text,
                  const std::string &source = kSource) {
  if (!result)
    check_error(result.error(), text, source);
  return result.has_value();
}

void check_mac(const std::string &mac) {
  const auto normalized = normalize_mac(mac);
  CHECK(normalized && *normalized == mac, quote_for_error(mac));
}

// `bound` is line_bound(text), computed once per input (counting lines for
// every record would make the check quadratic and the fuzzer slow).
void check_line(std::size_t line, std::size_t bound) {
  CHECK(line <= bound, std::to_string(line) + " > " + std::to_string(bound));
}

bool is_lower(const std::string &s) { return to_lower(s) == s; }

void check_links(const std::vector<Link> &links, std::string_view text) {
  const std::size_t bound = line_bound(text);
  for (const auto &link : links) {
    CHECK_STRICT(!link.name.empty(), std::to_string(link.line));
    if (link.mac)
      check_mac(*link.mac);
    CHECK(is_lower(link.state), link.state);
    check_line(link.line, bound);
    for (const auto &flag : link.flags)
      CHECK_STRICT(!flag.empty(), link.name);
    (void)parse_vif_name(link.name);
  }
}

void check_bridges(const std::vector<Bridge> &bridges) {
  for (const auto &bridge : bridges) {
    CHECK_STRICT(!bridge.name.empty(), "");
    for (const auto &port : bridge.ports)
      CHECK_STRICT(!port.empty(), bridge.name);
  }
}

// ---- xe ---------------------------------------------------------------------------

void check_xe_records(const std::vector<XeRecord> &records, std::string_view text) {
  const std::size_t bound = line_bound(text);
  static const std::set<std::string> kAccess = {" RO", " RW", "MRO", "MRW", "SRO", "SRW"};
  for (const auto &record : records) {
    CHECK(!record.fields.empty(), std::to_string(record.line));
    CHECK(record.line == record.fields.front().line, std::to_string(record.line));
    CHECK(record.get(record.fields.back().name) != nullptr, record.fields.back().name);
    std::size_t previous = 0;
    for (const auto &field : record.fields) {
      CHECK(!field.name.empty(), std::to_string(field.line));
      CHECK(kAccess.count(field.access), quote_for_error(field.access));
      CHECK(field.line > previous, std::to_string(field.line));
      previous = field.line;
      check_line(field.line, bound);
      // The value helpers see every raw value somewhere in the tools.
      (void)parse_xe_map(field.value);
      (void)split_xe_set(field.value);
      (void)is_xe_placeholder(field.value);
    }
  }
}

bool has_blank(const std::string &s) { return s.find_first_of(" \t\v\f\n") != std::string::npos; }

int fuzz_xe_records(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto records = parse_xe_records(text, kSource);
  if (check_result(records, text))
    check_xe_records(*records, text);
  return 0;
}

int fuzz_xe_minimal(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  check_result(parse_xe_minimal(text, kSource), text);
  return 0;
}

int fuzz_xe_vm_list(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto vms = parse_xe_vm_list(text, kSource);
  if (!check_result(vms, text))
    return 0;
  for (const auto &vm : *vms) {
    CHECK(!vm.uuid.empty(), std::to_string(vms->size()));
    CHECK_STRICT(!has_blank(vm.uuid), quote_for_error(vm.uuid));
    CHECK(is_lower(vm.power_state), vm.power_state);
  }
  return 0;
}

int fuzz_xe_vif_list(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto vifs = parse_xe_vif_list(text, kSource);
  if (!check_result(vifs, text))
    return 0;
  for (const auto &vif : *vifs) {
    CHECK(!vif.uuid.empty(), std::to_string(vifs->size()));
    CHECK_STRICT(!has_blank(vif.uuid), quote_for_error(vif.uuid));
    if (!vif.mac.empty())
      check_mac(vif.mac);
  }
  return 0;
}

int fuzz_xe_network_list(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto networks = parse_xe_network_list(text, kSource);
  if (!check_result(networks, text))
    return 0;
  for (const auto &network : *networks) {
    CHECK(!network.uuid.empty(), std::to_string(networks->size()));
    CHECK_STRICT(!has_blank(network.uuid), quote_for_error(network.uuid));
  }
  return 0;
}

// ---- links and bridges ------------------------------------------------------------

template <auto Parse> int fuzz_links(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto links = Parse(text, kSource);
  if (check_result(links, text))
    check_links(*links, text);
  return 0;
}

// parse_ip_link_json reads with its fast path and falls back on the DOM:
// both ways must give the same links or the same error.
int fuzz_ip_link_json(const std::uint8_t *data, std::size_t size) {
  fuzz_links<parse_ip_link_json>(data, size);
  const auto text = as_text(data, size);
  const auto fast = parse_ip_link_json(text, kSource);
  const auto dom = parse_ip_link_json_dom(text, kSource);
  CHECK(fast.has_value() == dom.has_value(), std::string(text.substr(0, 200)));
  if (fast && dom)
    CHECK(*fast == *dom, std::string(text.substr(0, 200)));
  if (!fast && !dom)
    CHECK(fast.error().str() == dom.error().str(), fast.error().str());
  return 0;
}

template <auto Parse> int fuzz_bridges(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto bridges = Parse(text, kSource);
  if (check_result(bridges, text))
    check_bridges(*bridges);
  return 0;
}

// ---- netfilter --------------------------------------------------------------------

// canonical_rule's output is a spelling of the same rule, so it must be its
// own canonical form (else two equal rules could compare unequal).
void check_canonical(Family family, const FwRule &rule) {
  const std::string canonical = canonical_rule(family, rule);
  const auto words = split_rule_words(canonical);
  CHECK(words.has_value(), canonical);
  const std::string again = canonical_args(family, *words);
  CHECK_STRICT(again == canonical,
               join_rule_words(rule.args) + " -> " + canonical + " -> " + again);
}

void check_dump(const FwDump &dump, std::string_view text, std::initializer_list<Family> families) {
  const std::size_t bound = line_bound(text);
  for (const auto &table : dump.tables) {
    CHECK_STRICT(!table.name.empty(), std::to_string(table.line));
    check_line(table.line, bound);
    for (const auto &chain : table.chains) {
      CHECK_STRICT(!chain.name.empty(), std::to_string(chain.line));
      check_line(chain.line, bound);
    }
    for (const auto &rule : table.rules) {
      CHECK(table.chain(rule.chain) != nullptr, rule.chain);
      check_line(rule.line, bound);
      const auto round_trip = split_rule_words(join_rule_words(rule.args));
      CHECK(round_trip && *round_trip == rule.args, join_rule_words(rule.args));
      (void)rule.target();
      for (Family family : families)
        check_canonical(family, rule);
    }
  }
}

template <auto Parse, Family... Families>
int fuzz_firewall(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto dump = Parse(text, kSource);
  if (check_result(dump, text))
    check_dump(*dump, text, {Families...});
  return 0;
}

// parse_iptables_rules has a third parameter (the table).
Result<FwDump> parse_iptables_rules_filter(std::string_view text, const std::string &source) {
  return parse_iptables_rules(text, source);
}

void check_ipsets(const IpsetDump &dump, std::string_view text) {
  const std::size_t bound = line_bound(text);
  for (const auto &set : dump.sets) {
    CHECK_STRICT(!set.name.empty(), std::to_string(set.line));
    check_line(set.line, bound);
    CHECK(std::is_sorted(set.members.begin(), set.members.end()), set.name);
    for (const auto &[member, options] : set.member_options)
      CHECK(std::binary_search(set.members.begin(), set.members.end(), member), member);
    (void)dump.find(set.name);
  }
}

template <auto Parse> int fuzz_ipset(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto dump = Parse(text, kSource);
  if (check_result(dump, text))
    check_ipsets(*dump, text);
  return 0;
}

// ---- sg-apply state files -----------------------------------------------------------

// Every parser starts with clean_text, so a file we write from parsed values
// reads back the same only if cleaning twice changes nothing.  Checked once
// here (strict), so that the round trips below can assume it.
bool check_clean_text_idempotent(std::string_view text) {
  const std::string once = clean_text(text);
  const bool idempotent = clean_text(once) == once;
  CHECK_STRICT(idempotent, quote_for_error(once, 200));
  return idempotent;
}

int fuzz_rule_log(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto log = parse_rule_log(text, kSource);
  if (!check_result(log, text) || !check_clean_text_idempotent(text))
    return 0;
  auto again = parse_rule_log(format_rule_log(*log), kSource);
  CHECK(again && *again == *log, format_rule_log(*log));
  (void)decide_rules_update(*log, *again);
  return 0;
}

int fuzz_vm_state(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto state = parse_vm_state(text, kSource);
  if (!check_result(state, text) || !check_clean_text_idempotent(text))
    return 0;
  auto again = parse_vm_state(format_vm_state(*state), kSource);
  CHECK(again && *again == *state, format_vm_state(*state));
  return 0;
}

// ---- the vif-of pipeline ------------------------------------------------------------

// Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      length = 2;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > s.size())
      return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80)
        return false;
      code = (code << 6) | (next & 0x3f);
    }
    static const std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
      return false;
    i += length;
  }
  return true;
}

// The input holds up to four texts separated by NUL bytes: the VM list, the
// links, then optionally the bridges and the VIF list (NUL never occurs in
// the real outputs, so seeds are the real files joined with NULs).
int fuzz_host(const std::uint8_t *data, std::size_t size) {
  const auto input = as_text(data, size);
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 3) {
    const auto nul = input.find('\0', start);
    if (nul == std::string_view::npos)
      break;
    parts.push_back(input.substr(start, nul - start));
    start = nul + 1;
  }
  parts.push_back(input.substr(start));
  if (parts.size() < 2)
    return 0;

  HostTexts texts;
  texts.vm_list = {std::string(parts[0]), "xe-vm-list", "xe-vm-list"};
  texts.links = {std::string(parts[1]), "links", "ip-s-link"};
  if (parts.size() > 2)
    texts.bridges = InputText{std::string(parts[2]), "bridges", "brctl-show"};
  if (parts.size() > 3)
    texts.vif_list = InputText{std::string(parts[3]), "xe-vif-list", "xe-vif-list"};

  auto inputs = parse_host_texts(texts);
  if (!inputs) {
    const Error &error = inputs.error();
    const std::size_t source_index = error.source == "xe-vm-list" ? 0
                                     : error.source == "links"    ? 1
                                     : error.source == "bridges"  ? 2
                                                                  : 3;
    CHECK(source_index < parts.size(), error.str());
    check_error(error, parts[source_index], error.source);
    return 0;
  }
  const std::size_t vm_count = inputs->vms.size();
  const HostMap host = join_host(std::move(*inputs));
  CHECK(host.vms.size() == vm_count, std::to_string(host.vms.size()));

  VifQuery query;
  query.all = true;
  auto answer = run_query(host, query);
  CHECK(answer.has_value(), answer.error().str());

  (void)render_vif_table(answer->selection, TableOptions{});
  (void)render_vif_table(answer->selection, TableOptions{true, true});
  (void)render_vif_json(answer->selection, true);
  const std::string json_text = render_vif_json(answer->selection, false);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception &e) {
    violated("render_vif_json output parses", e.what() + std::string(": ") + json_text);
  }
  CHECK(json.is_object() && json["vms"].is_array() && json["orphans"].is_array(), json_text);
  CHECK(json["vms"].size() == host.vms.size(), json_text);
  CHECK(json["orphans"].size() == host.orphans.size(), json_text);
  for (std::size_t i = 0; i < host.vms.size(); ++i) {
    const auto &vm = host.vms[i].vm;
    const auto &printed = json["vms"][i];
    if (is_valid_utf8(vm.name_label))
      CHECK(printed["name_label"] == vm.name_label, json_text);
    CHECK(printed["vifs"].size() == host.vms[i].vifs.size(), json_text);
  }

  // The reverse lookups over every name the host has.
  for (const auto &host_vm : host.vms) {
    (void)find_vms(host, host_vm.vm.uuid);
    (void)find_vms(host, host_vm.vm.name_label);
    if (host_vm.vm.dom_id)
      (void)find_vms_by_domid(host, *host_vm.vm.dom_id);
    for (const auto &[key, ip] : host_vm.vm.networks)
      (void)find_ip(host, ip);
    for (const auto &vif : host_vm.vifs) {
      const auto owner = find_iface(host, vif.name);
      CHECK(owner && owner->vif && owner->vif->name == vif.name, vif.name);
      if (vif.guest_mac)
        (void)find_mac(host, *vif.guest_mac);
    }
  }
  for (const auto &link : host.links)
    (void)find_iface(host, link.name);
  return 0;
}

// ---- security group rules (lib/sg_rules, lib/validate, lib/sg_names) ---------------

#ifdef VIFWALL_FUZZ_HAVE_SG_RULES
// What every successfully parsed rule list must satisfy: already normalized,
// and the three printed forms read back to the same rules.
void check_sg_rules(const std::vector<SgRule> &rules) {
  CHECK(rules.size() <= kMaxRules, std::to_string(rules.size()));
  std::vector<SgRule> with_cidrs;
  for (const auto &rule : rules) {
    auto normalized = normalize_rule(rule);
    CHECK(normalized && *normalized == rule, format_rule_readable(rule));
    CHECK(rule.cidrs.size() <= kMaxCidrsPerRule, std::to_string(rule.cidrs.size()));
    if (!rule.cidrs.empty())
      with_cidrs.push_back(rule);
  }
  const std::string wire = format_rule_string(rules);
  auto from_wire = parse_rule_string(wire, "formatted");
  CHECK(from_wire && *from_wire == rules,
        wire + (from_wire ? std::string() : " -> " + from_wire.error().str()));
  const std::string file = format_rules_file(with_cidrs);
  auto from_file = parse_rules_file(file, "formatted");
  CHECK(from_file && *from_file == with_cidrs,
        file + (from_file ? std::string() : " -> " + from_file.error().str()));
}

int fuzz_sg_rule_string(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto rules = parse_rule_string(text, kSource);
  if (!rules) {
    // The "line" of a rule-string error is the entry number: not bounded by '\n'.
    CHECK(!rules.error().message.empty(), rules.error().str());
    return 0;
  }
  check_sg_rules(*rules);
  return 0;
}

int fuzz_sg_rules_file(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto rules = parse_rules_file(text, kSource);
  if (check_result(rules, text))
    check_sg_rules(*rules);
  return 0;
}

void check_inflated(const Result<std::string> &inflated) {
  if (!inflated) {
    CHECK(!inflated.error().message.empty(), inflated.error().str());
    return;
  }
  CHECK(inflated->size() <= kMaxInflatedBytes, std::to_string(inflated->size()));
  auto rules = parse_rule_string(*inflated, "inflated");
  if (rules)
    check_sg_rules(*rules);
}

// Base64 text as CloudStack sends it (mostly refused before inflating).
int fuzz_sg_deflated_text(const std::uint8_t *data, std::size_t size) {
  check_inflated(decode_deflated(as_text(data, size), kSource));
  return 0;
}

#ifdef VIFWALL_FUZZ_HAVE_BASE64
// Raw bytes, base64-encoded first, so that the fuzzer works on zlib streams
// (truncated, bombs, trailing bytes) rather than on the base64 layer.
int fuzz_sg_deflated_zlib(const std::uint8_t *data, std::size_t size) {
  const std::string encoded = encode_base64(as_text(data, size));
  auto decoded = decode_base64(encoded);
  CHECK(decoded && *decoded == as_text(data, size), encoded);
  check_inflated(decode_deflated(encoded, kSource));
  return 0;
}
#endif

int fuzz_sg_secondary_ips(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  auto ips = parse_secondary_ips(text, kSource);
  if (!ips) {
    CHECK(!ips.error().message.empty(), ips.error().str());
    return 0;
  }
#ifdef VIFWALL_FUZZ_HAVE_VALIDATE
  for (const auto &ip : *ips) {
    auto valid = validate_ipv4(ip);
    CHECK(valid && *valid == ip, ip);
  }
#endif
  return 0;
}
#endif // VIFWALL_FUZZ_HAVE_SG_RULES

#if defined(VIFWALL_FUZZ_HAVE_VALIDATE) && defined(VIFWALL_FUZZ_HAVE_SG_NAMES) &&                  \
    defined(VIFWALL_FUZZ_HAVE_SG_RULES)
// validate_*() return normalized values: validating one again must give it
// back unchanged, else a value could be written in two spellings.
template <class Validate> void check_idempotent(Validate validate, std::string_view text) {
  auto first = validate(text);
  if (!first) {
    CHECK(!first.error().message.empty(), "");
    return;
  }
  if constexpr (std::is_same_v<std::decay_t<decltype(*first)>, std::string>) {
    auto second = validate(*first);
    CHECK(second && *second == *first, *first);
  }
}

// Names derived from a VM name: bounded, and recognized back as that VM's.
int fuzz_sg_names(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  check_idempotent(validate_vm_name, text);
  check_idempotent(validate_ipv4, text);
  check_idempotent(validate_ip, text);
  check_idempotent(validate_cidr, text);
  check_idempotent(validate_mac, text);
  check_idempotent(validate_port, text);
  check_idempotent(validate_protocol, text);
  check_idempotent(validate_iface, text);
  check_idempotent(validate_dom_id, text);
  check_idempotent(validate_vm_id, text);
  check_idempotent(validate_seqno, text);
  check_idempotent(validate_signature, text);

  const std::string name(text);
  const VmNames names = names_for_vm(name);
  for (const auto *chain : {&names.ingress, &names.egress, &names.def})
    CHECK(!chain->empty() && chain->size() <= kMaxChainName, *chain);
  CHECK(!names.ipset.empty() && names.ipset.size() <= kMaxSetName, names.ipset);
  CHECK(names.set_base.size() <= kMaxSetBase, names.set_base);
  (void)is_system_vm(name);
  (void)recognize_chain(name);
  (void)swap_set_name(name);
  for (Direction direction : {Direction::ingress, Direction::egress})
    for (std::size_t index : {std::size_t{1}, std::size_t{42}, kMaxRulesPerDirection})
      for (char generation : {'a', 'b'}) {
        const std::string set = rule_set_name(names, direction, index, generation);
        CHECK(set.size() <= kMaxSetName, set);
        const auto recognized = recognize_rule_set(set);
        CHECK(recognized &&
                  *recognized == (RuleSetName{names.set_base, direction, index, generation}),
              set);
      }
  if (validate_vm_name(name)) {
    const auto ingress = recognize_chain(names.ingress);
    if (ingress) {
      CHECK(ingress->base == names.ingress, names.ingress);
      const auto egress = recognize_chain(names.egress);
      CHECK(egress && egress->base == names.ingress, names.egress);
    }
  }
  return 0;
}
#define VIFWALL_FUZZ_HAVE_SG_NAMES_TARGET 1
#endif

} // namespace

// ---- the table ----------------------------------------------------------------------

// Seed globs (relative to the source root) feed scripts/fuzz's corpora.
#define XE_SEEDS "tests/data/xe/* tests/data/snapshots/*/xe-* examples/xen6/xe-*"
#define LINK_SEEDS                                                                                 \
  "tests/data/ifconfig/* tests/data/iplink/*.txt tests/data/samples/ifconfig* "                    \
  "tests/data/samples/ip-*.txt examples/xen6/ifconfig"
#define IPT_SEEDS                                                                                  \
  "tests/data/samples/iptables-* tests/data/samples/ip6tables-* "                                  \
  "tests/data/netfilter/iptables-*"
#define EBT_SEEDS "tests/data/samples/ebtables-* tests/data/netfilter/*ebtables-*"
#define ARP_SEEDS "tests/data/samples/arptables-* tests/data/netfilter/*arptables-*"
#define SG_SEEDS "tests/data/sg/*.txt"

#ifdef VIFWALL_FUZZ_HAVE_SG_RULES
#define IF_SG_RULES(function) function
#else
#define IF_SG_RULES(function) nullptr
#endif
#if defined(VIFWALL_FUZZ_HAVE_SG_RULES) && defined(VIFWALL_FUZZ_HAVE_BASE64)
#define IF_BASE64(function) function
#else
#define IF_BASE64(function) nullptr
#endif
#ifdef VIFWALL_FUZZ_HAVE_SG_CHECK
// ---- sg-check ---------------------------------------------------------------------------

// A small host: one VM with anti-spoofing and one ingress rule, the uplink.
const char *const kCheckIptables =
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    ":BRIDGE-FIREWALL - [0:0]\n:i-2-3-VM - [0:0]\n:i-2-3-VM-def - [0:0]\n:i-2-3-VM-eg - [0:0]\n"
    "-A FORWARD -m physdev --physdev-is-bridged -j BRIDGE-FIREWALL\n"
    "-A FORWARD -m physdev --physdev-out eth0+ --physdev-is-bridged -j ACCEPT\n-A FORWARD -j DROP\n"
    "-A BRIDGE-FIREWALL -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
    "-A BRIDGE-FIREWALL -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM-def\n"
    "-A i-2-3-VM-def -m physdev --physdev-in vif7.0 --physdev-is-bridged -m set ! --match-set i-2-3-VM src -j DROP\n"
    "-A i-2-3-VM-def -m physdev --physdev-in vif7.0 --physdev-is-bridged -j i-2-3-VM-eg\n"
    "-A i-2-3-VM-def -m physdev --physdev-out vif7.0 --physdev-is-bridged -j i-2-3-VM\n"
    "-A i-2-3-VM -p tcp -m tcp --dport 22 -m state --state NEW -j ACCEPT\n-A i-2-3-VM -j DROP\n"
    "-A i-2-3-VM-eg -j RETURN\nCOMMIT\n";
const char *const kCheckEbtables = "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n:i-2-3-VM RETURN\n"
                                   "-A FORWARD -i vif7.0 -j i-2-3-VM\n-A i-2-3-VM -s ! 6:f8:c8:0:0:9 -j DROP\n";
const char *const kCheckIpset = "create i-2-3-VM hash:net family inet\nadd i-2-3-VM 10.147.41.238\n";

FirewallSnapshot check_snapshot(const std::string &iptables, const std::string &ebtables) {
  FirewallTexts texts;
  texts.iptables = InputText{iptables, kSource, "iptables-save"};
  texts.ebtables = InputText{ebtables, kSource, "ebtables-save"};
  texts.ipsets = InputText{kCheckIpset, kSource, "ipset-save"};
  auto snapshot = parse_firewall_texts(texts);
  return snapshot ? *snapshot : FirewallSnapshot{};
}

void check_verdict(const CheckResult &r) {
  std::size_t decisive = 0;
  for (const auto &step : r.trace)
    decisive += step.decisive;
  CHECK(decisive <= 1, r.reason);
  CHECK(!r.reason.empty(), "no reason");
  CHECK(r.verdict != Verdict::unknown || decisive == 1, r.reason);
}

// The bytes as a batch of packet specs against the small host: one answer
// per packet line, errors inside the text.
int fuzz_sg_check_batch(const std::uint8_t *data, std::size_t size) {
  const auto text = as_text(data, size);
  static const FirewallSnapshot snapshot = check_snapshot(kCheckIptables, kCheckEbtables);
  static const FirewallView view = build_view(snapshot);
  static const CheckTables tables(snapshot, view);
  const BatchOutput out = check_batch(text, kSource, tables, view, false, false);
  std::size_t packets = 0;
  const std::string clean = clean_text(text);
  for (const auto &line : split_lines(clean)) {
    const auto words = trim(line.text);
    packets += !words.empty() && words.front() != '#';
  }
  CHECK(out.passed + out.dropped + out.unknown + out.errors == packets, out.text);
  return 0;
}

// The bytes as iptables-save rules (and the same as ebtables rules): a
// fixed set of packets walks them without crashing, each with one verdict.
int fuzz_sg_check_rules(const std::uint8_t *data, std::size_t size) {
  const std::string text(as_text(data, size));
  const FirewallSnapshot snapshot = check_snapshot(text, text);
  const FirewallView view = build_view(snapshot);
  const CheckTables tables(snapshot, view);
  for (const char *spec : {"from=10.1.1.1 to=10.147.41.238 in=eth0 out=vif7.0 proto=tcp dport=22",
                           "from=10.147.41.238 to=10.1.1.1 in=vif7.0 out=eth0 proto=udp dport=53",
                           "from=10.147.41.238 to=10.1.1.1 in=vif7.0 out=eth0 proto=icmp icmp=0",
                           "from=10.147.41.238 to=10.1.1.1 in=vif7.0 out=eth0 proto=arp arp=reply"}) {
    auto parsed = parse_packet_line(spec, kSource, 1);
    CHECK(parsed, parsed.error().str());
    auto resolved = resolve_packet(*parsed, view, kSource, 1);
    if (resolved)
      check_verdict(tables.evaluate(resolved->packet));
  }
  return 0;
}
#define IF_SG_CHECK(function) function
#else
#define IF_SG_CHECK(function) nullptr
#endif

#ifdef VIFWALL_FUZZ_HAVE_SG_NAMES_TARGET
#define IF_SG_NAMES(function) function
#else
#define IF_SG_NAMES(function) nullptr
#endif

void set_lenient(bool lenient) { lenient_mode = lenient; }
bool lenient() { return lenient_mode; }

const std::vector<Target> &targets() {
  static const std::vector<Target> table = {
      {"xe_records", fuzz_xe_records, 8192, XE_SEEDS " tests/data/seed/*"},
      {"xe_minimal", fuzz_xe_minimal, 1024, XE_SEEDS},
      {"xe_vm_list", fuzz_xe_vm_list, 8192, XE_SEEDS},
      {"xe_vif_list", fuzz_xe_vif_list, 8192, XE_SEEDS},
      {"xe_network_list", fuzz_xe_network_list, 4096, XE_SEEDS},
      {"ifconfig", fuzz_links<parse_ifconfig>, 8192, LINK_SEEDS},
      {"ip_link", fuzz_links<parse_ip_link>, 8192, LINK_SEEDS},
      {"ip_link_brief", fuzz_links<parse_ip_link_brief>, 4096, LINK_SEEDS},
      {"ip_link_json", fuzz_ip_link_json, 16384,
       "tests/data/samples/*.json tests/data/iplink/*.json"},
      {"brctl_show", fuzz_bridges<parse_brctl_show>, 4096,
       "tests/data/samples/brctl-* tests/data/samples/bridge-* examples/xen6/brctl-show"},
      {"bridge_link", fuzz_bridges<parse_bridge_link>, 4096,
       "tests/data/samples/brctl-* tests/data/samples/bridge-* examples/xen6/brctl-show"},
      {"iptables_save", fuzz_firewall<parse_iptables_save, Family::iptables, Family::ip6tables>,
       16384, IPT_SEEDS},
      {"iptables_rules",
       fuzz_firewall<parse_iptables_rules_filter, Family::iptables, Family::ip6tables>, 8192,
       IPT_SEEDS},
      {"ebtables_save", fuzz_firewall<parse_ebtables_save, Family::ebtables>, 8192, EBT_SEEDS},
      {"ebtables_list", fuzz_firewall<parse_ebtables_list, Family::ebtables>, 8192, EBT_SEEDS},
      {"arptables_list", fuzz_firewall<parse_arptables_list, Family::arptables>, 8192, ARP_SEEDS},
      {"arptables_save", fuzz_firewall<parse_arptables_save, Family::arptables>, 8192, ARP_SEEDS},
      {"ipset_save", fuzz_ipset<parse_ipset_save>, 8192, "tests/data/samples/ipset-*"},
      {"ipset_list", fuzz_ipset<parse_ipset_list>, 8192, "tests/data/samples/ipset-*"},
      {"rule_log", fuzz_rule_log, 1024, ""},
      {"vm_state", fuzz_vm_state, 4096, ""},
      // Seeds: scripts/fuzz joins each snapshot's files with NULs.
      {"host", fuzz_host, 32768, ""},
      {"sg_rule_string", IF_SG_RULES(fuzz_sg_rule_string), 4096, SG_SEEDS},
      {"sg_rules_file", IF_SG_RULES(fuzz_sg_rules_file), 4096, SG_SEEDS},
      {"sg_deflated_text", IF_SG_RULES(fuzz_sg_deflated_text), 4096, "tests/data/sg/*.b64"},
      {"sg_deflated_zlib", IF_BASE64(fuzz_sg_deflated_zlib), 4096, ""},
      {"sg_secondary_ips", IF_SG_RULES(fuzz_sg_secondary_ips), 1024, ""},
      {"sg_names", IF_SG_NAMES(fuzz_sg_names), 256, ""},
      {"sg_check_batch", IF_SG_CHECK(fuzz_sg_check_batch), 4096, ""},
      {"sg_check_rules", IF_SG_CHECK(fuzz_sg_check_rules), 8192, IPT_SEEDS},
  };
  return table;
}

const Target *find_target(std::string_view name) {
  for (const auto &target : targets())
    if (name == target.name)
      return &target;
  return nullptr;
}

} // namespace vifwall::fuzz
