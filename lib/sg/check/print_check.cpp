// The one walk that prints sg-check's answers, in text and JSON, through
// sg-show's ViewPrinter (view_printer.hpp): each fact is one field() call
// with its JSON value and its text, so the two forms cannot drift apart.
#include "sg_check.hpp"
#include "text.hpp"

namespace vifwall {

namespace {

using Layout = TextLayout;

std::string upper_verdict(Verdict v) {
  return v == Verdict::pass ? "PASS" : v == Verdict::drop ? "DROP" : "UNKNOWN";
}

std::string packet_text(const Packet &p) {
  auto at = [](const std::string &ip, int port) { return port >= 0 ? ip + ":" + std::to_string(port) : ip; };
  if (p.ether == EtherType::arp)
    return std::string("arp ") + (p.arp_op == 1 ? "request who-has " + p.dst_ip + " tell " + p.src_ip
                                                : "reply " + p.src_ip + " is-at " + (p.src_mac.empty() ? "?" : p.src_mac));
  std::string proto = p.protocol == 6 ? "tcp" : p.protocol == 17 ? "udp" : p.protocol == 1 ? "icmp" : "proto " + std::to_string(p.protocol);
  if (p.protocol == 1)
    proto += " " + std::to_string(p.icmp_type) + "/" + std::to_string(p.icmp_code);
  return proto + " " + at(p.src_ip, p.sport) + " -> " + at(p.dst_ip, p.dport);
}

std::string end_text(const std::string &vm, const std::string &port) {
  return (vm.empty() ? std::string("outside") : vm) + " (" + port + ")";
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width)
    text.append(width - text.size(), ' ');
  return text + " ";
}

class CheckPrint {
public:
  explicit CheckPrint(ViewPrinter &printer) : p(printer) {}

  void packet(const ResolvedPacket &r) {
    const Packet &k = r.packet;
    p.open_object("packet", Layout::of_form("{text}"));
    p.field("text", packet_text(k), packet_text(k));
    p.field("ether", k.ether == EtherType::ipv4 ? "ipv4" : k.ether == EtherType::ipv6 ? "ipv6" : "arp", "");
    p.field("in", k.in_port, "");
    p.field("out", k.out_port, "");
    p.field("src_ip", k.src_ip, "");
    p.field("dst_ip", k.dst_ip, "");
    p.field("src_mac", k.src_mac.empty() ? JsonValue(nullptr) : JsonValue(k.src_mac), "");
    p.field("dst_mac", k.dst_mac.empty() ? JsonValue(nullptr) : JsonValue(k.dst_mac), "");
    if (k.ether == EtherType::arp) {
      p.field("arp_op", k.arp_op == 1 ? "request" : "reply", "");
    } else {
      p.field("protocol", k.protocol, "");
      if (k.sport >= 0)
        p.field("sport", k.sport, "");
      if (k.dport >= 0)
        p.field("dport", k.dport, "");
      if (k.icmp_type >= 0) {
        p.field("icmp_type", k.icmp_type, "");
        p.field("icmp_code", k.icmp_code, "");
      }
    }
    p.field("flow", to_string(k.flow), "");
    p.close();
    p.field("from_vm", r.ends.from_vm.empty() ? JsonValue(nullptr) : JsonValue(r.ends.from_vm),
            end_text(r.ends.from_vm, k.in_port));
    p.field("to_vm", r.ends.to_vm.empty() ? JsonValue(nullptr) : JsonValue(r.ends.to_vm),
            end_text(r.ends.to_vm, k.out_port));
  }

  void step(const TraceStep &s) {
    p.open_object("", Layout::of_form("  {decisive}{table}{action}{readable}{unknown}\n"));
    std::string where = s.table + " " + s.chain + (s.position ? " #" + std::to_string(s.position) : "");
    p.field("table", s.table, pad(where, 30)); // the text shows table, chain and position together
    p.field("chain", s.chain, "");
    p.field("position", static_cast<std::uint64_t>(s.position), "");
    p.field("action", s.action, pad(s.action, 22));
    p.field("args", s.args, "");
    p.field("readable", s.readable, s.readable);
    p.field("unknown", s.unknown.empty() ? JsonValue(nullptr) : JsonValue(s.unknown),
            s.unknown.empty() ? "" : "  CANNOT EVALUATE: " + s.unknown);
    p.field("decisive", s.decisive, s.decisive ? "=> " : "   ");
    p.close();
  }

  void answer(const CheckAnswer &a, bool trace) {
    if (a.error) {
      p.open_object("", Layout::of_form("{verdict}  {error}\n"));
      p.field("verdict", "error", "ERROR");
      p.field("line", static_cast<std::uint64_t>(a.error->line), "");
      p.field("error", a.error->str(), a.error->str());
      p.close();
      return;
    }
    const CheckResult &r = *a.result;
    p.open_object("", Layout::of_form(trace ? "{verdict} {id}{packet}  {from_vm} -> {to_vm}{state}\n"
                                              "{trace}{notes}  {reason}\n"
                                            : "{verdict} {id}{packet}  {reason}\n"));
    p.field("verdict", to_string(r.verdict), pad(upper_verdict(r.verdict), 7));
    p.field("id", a.spec->id.empty() ? JsonValue(nullptr) : JsonValue(a.spec->id),
            a.spec->id.empty() ? "" : a.spec->id + "  ");
    packet(*a.resolved);
    p.field("state", r.state, r.state.empty() ? "" : "  [conntrack: " + r.state + "]");
    p.field("reason", r.reason, r.reason);
    p.field("notes", a.resolved->notes, a.resolved->notes.empty() ? "" : "  note: " + join(a.resolved->notes) + "\n");
    if (trace) {
      p.open_array("trace", Layout::list("", "  (no rule matched)\n"));
      for (const auto &s : r.trace)
        step(s);
      p.close();
    }
    p.close();
  }

  void reach(const ReachSummary &s) {
    p.open_object("", Layout::of_form("{vm} ({vif}, {ip}): who may reach it\n{probes}"));
    p.field("vm", s.vm, s.vm);
    p.field("vif", s.vif, s.vif);
    p.field("ip", s.ip, s.ip);
    p.open_array("probes", Layout::list("", "  (no probes)\n"));
    for (const auto &probe : s.probes) {
      p.open_object("", Layout::of_form("  {verdict}{from}{service}{reason}\n"));
      p.field("verdict", to_string(probe.verdict), pad(upper_verdict(probe.verdict), 7));
      p.field("from", probe.from, pad(probe.from, 28));
      p.field("service", probe.service, pad(probe.service, 22));
      p.field("protocol", probe.protocol, "");
      if (probe.port >= 0)
        p.field("port", probe.port, "");
      p.field("reason", probe.reason, probe.reason);
      p.close();
    }
    p.close();
    p.close();
  }

private:
  static std::string join(const std::vector<std::string> &list) { return join_strings(list, "; "); }
  ViewPrinter &p;
};

} // namespace

void print_check(ViewPrinter &printer, const CheckAnswer &answer, bool trace) {
  CheckPrint(printer).answer(answer, trace);
}

void print_reach(ViewPrinter &printer, const ReachSummary &summary) {
  CheckPrint(printer).reach(summary);
}

std::string render_check_text(const CheckAnswer &answer, bool trace) {
  TextViewPrinter text;
  print_check(text, answer, trace);
  return text.take();
}

std::string render_check_json(const CheckAnswer &answer, bool trace, bool pretty) {
  JsonViewPrinter json(pretty);
  print_check(json, answer, trace);
  return json.str();
}

std::string render_reach_text(const ReachSummary &summary) {
  TextViewPrinter text;
  print_reach(text, summary);
  return text.take();
}

std::string render_reach_json(const ReachSummary &summary, bool pretty) {
  JsonViewPrinter json(pretty);
  print_reach(json, summary);
  return json.str();
}

} // namespace vifwall
