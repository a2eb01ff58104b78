// The one walk over a FirewallView (print_view) and the three renderings
// made of it: the admin's text, the raw rules, JSON.  Each fact is one
// ViewPrinter::field() call with its JSON value and its text; the layouts
// below say where the text form puts it (summary and raw layouts differ,
// the facts do not).
#include <algorithm>

#include "rule_match.hpp"
#include "text.hpp"
#include "view_printer.hpp"

namespace vifwall {

using view_detail::contains;

namespace {

using Layout = TextLayout;

// ---- the text of facts ---------------------------------------------------------

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width)
    text.append(width - text.size(), ' ');
  return text;
}

std::string setup_text(const HostView &host) {
  return host.checks.empty() ? "unknown (no iptables or ebtables dump)"
         : host.complete()   ? "complete"
         : host.absent()     ? "MISSING"
                             : "INCOMPLETE";
}

const char *setup_json(const HostView &host) {
  return host.checks.empty() ? "unknown"
         : host.complete()   ? "complete"
         : host.absent()     ? "missing"
                             : "incomplete";
}

std::string default_text(const std::string &target, Direction direction) {
  if (target.empty())
    return "no final rule";
  if (target == "DROP" || target == "REJECT")
    return "drop";
  if (target == "RETURN")
    return direction == Direction::egress ? "allow (RETURN)" : "RETURN to the caller";
  return target == "ACCEPT" ? "allow" : target;
}

constexpr std::string_view kRawPrefix = "raw: "; // a rule shown as its words

std::size_t rule_line_size(const ReadBackRule &rule) {
  return (rule.understood ? 0 : kRawPrefix.size()) + rule.text.size();
}

// ---- layouts -------------------------------------------------------------------

constexpr std::string_view kUserVm = "{name}{kind}{naming}  [chains: {chains}]\n"
                                     "  VIFs:       {vifs}\n"
                                     "  IPs:        {ips}{ipset}\n"
                                     "  MAC:        {mac}\n"
                                     "  Protection: {protections}\n"
                                     "{vmops}{leftovers}{drops}{ingress}{egress}{ingress6}{egress6}{sets}";
// A VM with several NICs or with IPv6: one block per NIC instead of the
// VM-wide IPs, MAC and protections (which stay in the JSON, for NIC 0's
// consumers).
constexpr std::string_view kUserVmNics = "{name}{kind}{naming}  [chains: {chains}]\n"
                                         "  VIFs:       {vifs}\n"
                                         "{nics}"
                                         "{vmops}{leftovers}{drops}{ingress}{egress}{ingress6}{egress6}{sets}";
constexpr std::string_view kNic = "  NIC {device}: {vifs}  MAC {mac}  IPv4 {ipv4}{ipset}  IPv6 {ipv6}{ipset6}\n"
                                  "    Protection: {protections}\n";
constexpr std::string_view kSystemVm = "{name}{kind}{naming}  [chains: {chains}]\n"
                                       "  VIFs:       {vifs}\n"
                                       "  Traffic:    from the VM {egress_default}, to the VM {default}\n"
                                       "{leftovers}{drops}{sets}";
constexpr std::string_view kRawVm = "## {name}\n{raw}{sets}";
// A VM's drops on one line; the host's one a line (print_view's drop_counts).
const TextLayout kVmDrops = TextLayout::list(", ", "", "  Dropped:    ", "\n");

std::string_view protection_form(const std::string &name) {
  if (name == "ip")
    return "IP anti-spoofing{in_place}{missing_vifs}{how}";
  if (name == "mac")
    return "MAC anti-spoofing{in_place}{missing_vifs}{how}";
  if (name == "arp")
    return "ARP anti-spoofing{in_place}{missing_vifs}{how}";
  if (name == "ipv6")
    return "IPv6 source check{in_place}{missing_vifs}{how}";
  if (name == "ra")
    return "RA guard{in_place}{missing_vifs}{how}";
  if (name == "na")
    return "NA target check{in_place}{missing_vifs}{how}";
  if (name == "dhcpv6")
    return "DHCPv6 server guard{in_place}{missing_vifs}{how}";
  return "DHCP anti-spoofing{in_place}{missing_vifs}{how}";
}

// Several NICs or IPv6: the NIC blocks say more than the VM-wide lines.
bool shows_nics(const VmView &vm) {
  if (vm.nics.size() > 1 || !vm.def6_chain.empty())
    return true;
  return std::any_of(vm.nics.begin(), vm.nics.end(), [](const ViewNic &nic) { return !nic.ipset6.empty(); });
}

std::string_view rules_form(Direction direction, bool chain, bool ipv6) {
  if (ipv6 && direction == Direction::ingress)
    return chain ? "  Ingress IPv6 ({chain} in ip6tables, default: {default})\n{rules}"
                 : "  Ingress IPv6: no chain\n";
  if (ipv6)
    return chain ? "  Egress IPv6 ({chain} in ip6tables, default: {default})\n{rules}"
                 : "  Egress IPv6: no chain\n";
  if (direction == Direction::ingress)
    return chain ? "  Ingress ({chain}, default: {default})\n{rules}" : "  Ingress: no chain\n";
  return chain ? "  Egress ({chain}, default: {default})\n{rules}" : "  Egress: no chain\n";
}

// ---- the walk --------------------------------------------------------------------

struct Walk {
  ViewPrinter &p;
  const ViewPrintOptions &o;

  // packets, bytes (null without counters) and approximate (when it is).
  // Text: "  2.4k pkts, 244K bytes" after a read-back rule (`raw`: "[p:b] "
  // before a raw rule).
  void counters(const std::optional<RuleCounters> &c, bool raw) {
    if (!c) {
      p.field("packets", nullptr, "");
      p.field("bytes", nullptr, "");
      return;
    }
    std::string packets, bytes;
    if (raw) {
      packets = "[" + std::to_string(c->packets) + ":";
      bytes = std::to_string(c->bytes) + "] ";
    } else if (o.counters) {
      const std::string approx = c->approximate ? "~" : "";
      packets = "  " + approx + (o.exact ? std::to_string(c->packets) : compact_count(c->packets, false)) +
                (c->packets == 1 ? " pkt, " : " pkts, ");
      bytes = approx + (o.exact ? std::to_string(c->bytes) : compact_count(c->bytes, true)) +
              (c->bytes == 1 ? " byte" : " bytes");
    }
    p.field("packets", c->packets, packets);
    p.field("bytes", c->bytes, bytes);
    if (c->approximate)
      p.field("approximate", true, "");
  }

  // The rules as the dump had them; they come grouped by table (build_view
  // adds one table after the other), so a table's header opens its group.
  void raw_rules(const std::vector<ViewRule> &rules) {
    if (!p.shows("raw"))
      return;
    p.open_array("raw", Layout::list(""));
    const std::string *table = nullptr;
    for (const auto &rule : rules) {
      p.open_object("", Layout::of_form("{table}{packets}{bytes}{rule}\n"));
      p.field("table", rule.table, table && *table == rule.table ? "" : "# " + rule.table + "\n");
      table = &rule.table;
      p.field("chain", rule.chain, "");
      p.field("position", static_cast<std::uint64_t>(rule.position), "");
      p.field("args", rule.args, "");
      const std::string line = "-A " + rule.chain + " " + join_rule_words(rule.args);
      p.field("rule", line, line);
      counters(rule.counters, true);
      p.close();
    }
    p.close();
  }

  void host(const HostView &host) {
    p.open_object("host", Layout::of_form(o.raw ? "## host\n{raw}" : "host setup: {setup}\n{checks}{leftovers}{drops}"));
    p.field("setup", setup_json(host), setup_text(host));
    p.open_array("checks", Layout::list(""));
    for (const auto &check : host.checks) {
      p.open_object("", Layout::of_form("  {present}{what}\n"));
      // The uplinks (a field of the host, below) show with their check.
      const bool uplinks = check.what == "FORWARD accepts bridged traffic out of the uplinks" &&
                           !host.uplinks.empty();
      p.field("what", check.what, uplinks ? check.what + " (" + join_strings(host.uplinks, ", ") + ")" : check.what);
      p.field("present", check.present, check.present ? "yes  " : check.required ? "NO   " : "no   ");
      p.field("required", check.required, "");
      p.close();
    }
    p.close();
    p.field("uplinks", host.uplinks, "");
    leftovers(host.leftovers, "  Leftovers:  ");
    drop_counts(host.drops, Layout::list("\n    ", "", "  Dropped by default:\n    ", "\n"),
                "{packets}  {text}", true);
    raw_rules(host.raw);
    p.close();
  }

  // Per table; the text names each chain once.
  void chains(const VmView &vm) {
    p.open_object("chains", Layout::list(", "));
    std::vector<std::string_view> shown;
    for (const auto &[table, names] : vm.chains) {
      std::string fresh;
      for (const auto &name : names)
        if (std::find(shown.begin(), shown.end(), name) == shown.end()) {
          shown.push_back(name);
          fresh.append(fresh.empty() ? "" : ", ").append(name);
        }
      p.field(table, names, fresh);
    }
    p.close();
  }

  void vifs(const VmView &vm) {
    p.open_array("vifs", Layout::list(", ", "none"));
    for (const auto &v : vm.vifs) {
      p.open_object("", Layout::of_form("{name}{dom_id}"));
      p.field("name", v.name, v.name);
      p.field("dom_id", v.dom_id, v.dom_id ? " (dom-id " + std::to_string(*v.dom_id) + ")" : "");
      p.field("jumps", v.jumps, "");
      p.close();
    }
    p.close();
  }

  // `separator`: the indentation under the first one.
  void protections(const std::vector<Protection> &list, std::string_view separator = "\n              ") {
    if (!p.shows("protections"))
      return;
    p.open_object("protections", Layout::list(separator));
    for (const auto &pr : list) {
      p.open_object(pr.name, Layout::of_form(protection_form(pr.name)));
      const bool partly = !pr.in_place() && !pr.vifs.empty();
      p.field("in_place", pr.in_place(), pr.in_place() ? ": yes" : partly ? ": PARTLY" : ": NO");
      const bool how = !pr.vifs.empty() && !pr.how.empty() &&
                       (pr.name == "arp" || (pr.name == "mac" && pr.how != "ebtables"));
      p.field("how", pr.how, how ? " (" + pr.how + ")" : "");
      p.field("vifs", pr.vifs, "");
      p.field("missing_vifs", pr.missing_vifs, partly ? " (not on " + join_strings(pr.missing_vifs, ", ") + ")" : "");
      p.close();
    }
    p.close();
  }

  // One read-back rule; `width`: the column its counters start at.
  void read_back(const ReadBackRule &rule, std::size_t width) {
    p.open_object("", Layout::of_form("    {understood}{text}{packets}{bytes}\n"));
    const std::string_view prefix = rule.understood ? "" : kRawPrefix;
    p.field("understood", rule.understood, prefix);
    const bool counted = o.counters && rule.rule.counters;
    p.field("text", rule.text, counted ? pad(rule.text, width - std::min(width, prefix.size())) : rule.text);
    if (rule.understood) {
      p.field("protocol", rule.sg.protocol, "");
      p.field("start", rule.sg.start, "");
      p.field("end", rule.sg.end, "");
      p.field("cidrs", rule.sg.cidrs, "");
    }
    p.field("set", rule.set, "");
    if (rule.merged > 1) // ip6tables' per-CIDR rules shown as one
      p.field("merged", static_cast<std::uint64_t>(rule.merged), "");
    if (rule.set_missing)
      p.field("set_missing", true, ""); // in `text`: "[set X does not exist]"
    p.field("target", rule.target, "");
    p.field("position", static_cast<std::uint64_t>(rule.rule.position), "");
    p.field("args", rule.rule.args, "");
    counters(rule.rule.counters, false);
    p.close();
  }

  // `ipv6`: the ip6tables twin (hidden in the text when `shown` is false:
  // the VM has no chain there).
  void rules(const char *key, Direction direction, const std::string &chain,
             const std::vector<ReadBackRule> &rules, const std::string &default_target, std::size_t width,
             std::optional<bool> ipv6_shown = std::nullopt) {
    if (!p.shows(key))
      return;
    const bool ipv6 = ipv6_shown.has_value();
    p.open_object(key, ipv6 && !*ipv6_shown ? Layout::hidden()
                                            : Layout::of_form(rules_form(direction, !chain.empty(), ipv6)));
    if (chain.empty())
      p.field("chain", nullptr, "");
    else
      p.field("chain", chain, chain);
    p.field("default", default_target, default_text(default_target, direction));
    p.open_array("rules", Layout::list("", "    (no rules)\n"));
    for (const auto &rule : rules)
      read_back(rule, width);
    p.close();
    p.close();
  }

  // The NICs (ViewNic), each with its addresses and protections.
  void nics(const VmView &vm) {
    if (!p.shows("nics"))
      return;
    p.open_array("nics", Layout::list(""));
    for (const auto &nic : vm.nics) {
      p.open_object("", Layout::of_form(kNic));
      p.field("device", nic.device, std::to_string(nic.device));
      p.field("vifs", nic.vifs, nic.vifs.empty() ? std::string("none") : join_strings(nic.vifs, ", "));
      p.field("mac", nic.mac, nic.mac ? *nic.mac : std::string("unknown"));
      auto set_text = [](const std::string &set, bool missing) {
        return set.empty() ? std::string() : missing ? " (set " + set + " DOES NOT EXIST)" : " (set " + set + ")";
      };
      p.field("ipset", nic.ipset, set_text(nic.ipset, nic.ipset_missing));
      if (nic.ipset_missing)
        p.field("ipset_missing", true, "");
      p.field("ipv4", nic.ipv4, nic.ipv4.empty() ? std::string("none") : join_strings(nic.ipv4, ", "));
      p.field("ipset6", nic.ipset6, set_text(nic.ipset6, nic.ipset6_missing));
      if (nic.ipset6_missing)
        p.field("ipset6_missing", true, "");
      p.field("ipv6", nic.ipv6, nic.ipv6.empty() ? std::string("none") : join_strings(nic.ipv6, ", "));
      protections(nic.protections, "\n                ");
      p.close();
    }
    p.close();
  }

  void user_vm(const VmView &vm) {
    std::string ipset;
    if (!vm.ipset.empty()) // with ipset_missing
      ipset = vm.ipset_missing ? " (set " + vm.ipset + " DOES NOT EXIST)" : " (set " + vm.ipset + ")";
    p.field("ipset", vm.ipset, ipset);
    if (vm.ipset_missing)
      p.field("ipset_missing", true, "");
    p.field("ips", vm.ips, vm.ips.empty() ? std::string("none") : join_strings(vm.ips, ", "));
    p.field("mac", vm.mac, vm.mac ? *vm.mac : std::string("unknown (no MAC rule)"));
    protections(vm.protections);
    nics(vm);
    vmops(vm);
    leftovers(vm.leftovers, "  Leftovers:  ");
    drop_counts(vm.drops, kVmDrops, "{text} {packets}", false);
    // One column for the counters of both directions.
    std::size_t width = 0;
    for (const auto *list : {&vm.ingress, &vm.egress, &vm.ingress6, &vm.egress6})
      for (const auto &rule : *list)
        width = std::max(width, rule_line_size(rule));
    width = std::min<std::size_t>(width, 60);
    rules("ingress", Direction::ingress, vm.ingress_chain, vm.ingress, vm.ingress_default, width);
    rules("egress", Direction::egress, vm.egress_chain, vm.egress, vm.egress_default, width);
    // The ip6tables twins, when the VM has any chain there.
    const bool v6 = !vm.ingress6_chain.empty() || !vm.egress6_chain.empty() || !vm.def6_chain.empty();
    rules("ingress6", Direction::ingress, vm.ingress6_chain, vm.ingress6, vm.ingress6_default, width, v6);
    rules("egress6", Direction::egress, vm.egress6_chain, vm.egress6, vm.egress6_default, width, v6);
  }

  // CloudStack's system VM chain: RETURN for traffic from the VM (not
  // filtered here), the final target for traffic to it.
  void system_vm(const VmView &vm) {
    p.field("chain", vm.def_chain, "");
    p.field("default", vm.ingress_default,
            vm.ingress_default == "ACCEPT" ? std::string("accepted")
                                           : default_text(vm.ingress_default, Direction::ingress));
    p.field("egress_default", vm.egress_default,
            vm.egress_default == "RETURN" ? "not filtered" : "not passed through");
    leftovers(vm.leftovers, "  Leftovers:  ");
    drop_counts(vm.drops, kVmDrops, "{text} {packets}", false);
  }

  // What says CloudStack's own plugin programmed the VM (sg-apply's layout
  // is otherwise the same), and how to convert it.
  void vmops(const VmView &vm) {
    const VmopsTraits &t = vm.vmops;
    p.open_object("vmops", t.any() ? Layout::of_form("  CloudStack: programmed by its vmops plugin "
                                                     "({rule_sets}{nat_mac_vifs}); "
                                                     "`sg-apply takeover` converts it\n")
                                   : Layout::hidden());
    p.field("rule_sets", t.rule_sets, t.rule_sets.empty() ? "" : "per-rule sets " + join_strings(t.rule_sets, ", "));
    p.field("nat_mac_vifs", t.nat_mac_vifs,
            t.nat_mac_vifs.empty() ? ""
                                   : std::string(t.rule_sets.empty() ? "" : "; ") +
                                         "MAC check in the ebtables nat table for " + join_strings(t.nat_mac_vifs, ", "));
    p.close();
  }

  // What the DROP rules dropped, by why (DropCount); in the text only when
  // counters are shown, as "ingress default 12 pkts" (`form`).
  // `aligned`: the counts right-aligned (one drop a line).
  void drop_counts(const std::vector<DropCount> &list, const Layout &layout, std::string_view form,
                   bool aligned) {
    p.open_array("drops", o.counters && !o.raw ? layout : Layout::hidden());
    auto count_text = [&](const RuleCounters &c) {
      return (c.approximate ? "~" : "") +
             (o.exact ? std::to_string(c.packets) : compact_count(c.packets, false)) +
             (c.packets == 1 ? " pkt" : " pkts");
    };
    std::size_t width = 0;
    for (const auto &drop : list)
      width = aligned ? std::max(width, count_text(drop.counters).size()) : 0;
    for (const auto &drop : list) {
      p.open_object("", Layout::of_form(form));
      p.field("kind", drop.kind, "");
      p.field("text", drop.text, drop.text);
      const RuleCounters &c = drop.counters;
      std::string packets = count_text(c);
      packets.insert(0, width - std::min(width, packets.size()), ' ');
      p.field("packets", c.packets, packets);
      p.field("bytes", c.bytes, "");
      if (c.approximate)
        p.field("approximate", true, "");
      p.open_array("rules", Layout::hidden());
      for (const auto &rule : drop.rules) {
        p.open_object("", Layout::hidden());
        p.field("table", rule.table, "");
        p.field("chain", rule.chain, "");
        p.field("position", static_cast<std::uint64_t>(rule.position), "");
        p.field("args", rule.args, "");
        p.field("packets", rule.counters ? JsonValue(rule.counters->packets) : JsonValue(nullptr), "");
        p.field("bytes", rule.counters ? JsonValue(rule.counters->bytes) : JsonValue(nullptr), "");
        p.close();
      }
      p.close();
      p.close();
    }
    p.close();
  }

  // Rules and sets nobody needs (vmops' leftovers), one per line.
  void leftovers(const std::vector<Leftover> &list, std::string_view label) {
    p.open_array("leftovers", Layout::list("\n              ", "", label, "\n"));
    for (const auto &one : list) {
      p.open_object("", Layout::of_form("{text}"));
      p.field("kind", one.kind, "");
      p.field("table", one.table, "");
      p.field("chain", one.chain, "");
      p.field("args", one.args, "");
      p.field("position", static_cast<std::uint64_t>(one.position), "");
      p.field("text", one.text, one.text);
      p.close();
    }
    p.close();
  }

  // The sets the VM's rules use and those named after it that none uses.
  void sets(const VmView &vm) {
    p.open_array("sets", o.raw ? Layout::list("", "", "# ipset\n")
                               : Layout::list(", ", "", "  Unused sets: ", "\n"));
    for (const auto &set : vm.sets) {
      const bool used = !contains(vm.unused_sets, set.name);
      p.open_object("", o.raw ? Layout::of_form("create {name} {type}{family}\n{members}")
                        : used ? Layout::hidden()
                               : Layout::of_form("{name}"));
      p.field("name", set.name, set.name);
      p.field("type", set.type, set.type);
      p.field("family", set.family, set.family.empty() ? "" : " family " + set.family);
      std::string adds; // only the raw layout shows the members
      if (o.raw)
        for (const auto &member : set.members)
          adds += "add " + set.name + " " + member + "\n";
      p.field("members", set.members, adds);
      p.field("used", used, "");
      p.close();
    }
    p.close();
  }

  void vm(const VmView &vm) {
    p.open_object("", Layout::of_form(o.raw      ? kRawVm
                                      : vm.system ? kSystemVm
                                      : shows_nics(vm) ? kUserVmNics
                                                       : kUserVm));
    p.field("name", vm.name, vm.name);
    p.field("kind", vm.system ? "system" : "user", vm.system ? "  system VM" : "  user VM");
    p.field("naming", to_string(vm.naming), vm.naming == Naming::old ? " (older CloudStack naming)" : "");
    chains(vm);
    vifs(vm);
    if (vm.system)
      system_vm(vm);
    else
      user_vm(vm);
    sets(vm);
    raw_rules(vm.raw);
    p.close();
  }

  // Blocks (the host, each VM, each warning) one blank line apart.
  void document(const FirewallView &view, const std::vector<const VmView *> &vms) {
    p.open_object("", Layout::of_form(o.raw    ? (o.host ? "{host}{vms}" : "{vms}")
                                      : o.host ? "{host}{vms}{warnings}"
                                               : "{vms}{warnings}"));
    if (o.host)
      host(view.host);
    p.open_array("vms", Layout::list("\n", "", o.host ? "\n" : ""));
    for (const VmView *one : vms)
      vm(*one);
    p.close();
    p.open_array("warnings", Layout::list("\n", "", o.host || !vms.empty() ? "\n" : ""));
    for (const auto &warning : view.warnings)
      p.field("", warning, "warning: " + warning + "\n");
    p.close();
    p.close();
  }
};

} // namespace

void print_view(ViewPrinter &printer, const FirewallView &view, const std::vector<const VmView *> &vms,
                const ViewPrintOptions &options) {
  Walk{printer, options}.document(view, vms);
}

std::string render_view_text(const FirewallView &view, const std::vector<const VmView *> &vms,
                             const ViewTextOptions &options) {
  TextViewPrinter text;
  print_view(text, view, vms, {options.host, options.counters, options.exact, false});
  return text.take();
}

std::string render_view_raw(const FirewallView &view, const std::vector<const VmView *> &vms,
                            const ViewTextOptions &options) {
  TextViewPrinter text;
  print_view(text, view, vms, {options.host, options.counters, options.exact, true});
  return text.take();
}

std::string render_view_json(const FirewallView &view, const std::vector<const VmView *> &vms,
                             bool with_host, bool pretty) {
  JsonViewPrinter json(pretty);
  print_view(json, view, vms, {with_host, true, false, false});
  return json.str();
}

} // namespace vifwall
