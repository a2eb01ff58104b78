// sg-check: would this packet pass the host's bridge firewall, and which
// rule decides.  Pure functions: the firewall as read (FirewallSnapshot, and
// sg-show's FirewallView of it for names) and a packet in, a verdict and the
// trace of every rule that matched on the way out.
//
// The path modelled is the one a bridged frame takes through netfilter with
// br_netfilter and CloudStack's sysctls (bridge-nf-call-iptables=1,
// bridge-nf-call-arptables=1): the ebtables filter FORWARD chain first
// (NF_BR_PRI_FILTER_BRIDGED), then, for IPv4, the iptables filter FORWARD
// chain (with the bridge ports as physdev, the bridge as -i/-o, conntrack's
// view as --state), and, for ARP, the arptables filter FORWARD chain (with
// the bridge ports as -i/-o).  Other tables (nat, mangle, raw, broute) are
// not in a snapshot and not evaluated.
//
// Matches are three-valued: a rule matches when every match is true, does
// not when one is false, and is undecidable otherwise.  An undecidable rule
// whose target would change the path ends the evaluation: the verdict is
// "unknown", naming the rule and the match -- never a guess.
//
// Where it lives: parse_packet.cpp (the packet spec, one line of words),
// resolve_packet.cpp (spec + firewall view -> concrete packet),
// match_rules.cpp (a rule's words -> a matcher), evaluate.cpp (the walk),
// summary.cpp (who may reach a VM), print_check.cpp (the one printer walk
// for text and JSON).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "firewall_snapshot.hpp"
#include "sg_view.hpp"
#include "view_printer.hpp"

namespace vifwall {

// ---- the packet as the user names it -----------------------------------------

enum class Flow { new_flow, established, related };
const char *to_string(Flow flow);

// One packet spec: words KEY=VALUE (parse_packet_words).  Endpoints are
// unresolved: a VM name, a VIF (vif7.0, tap7.0) or an IP address.
struct PacketSpec {
  std::string from, to;       // required
  std::string protocol;       // "tcp", "udp", "icmp", "arp" or a number 0..255
  std::optional<int> sport, dport;
  std::optional<int> icmp_type, icmp_code; // icmp; default echo-request
  std::string arp_op;         // "request" (default) or "reply"
  std::string src_ip, dst_ip; // override the endpoints' addresses (spoofing)
  std::string src_mac, dst_mac; // override the endpoints' MACs
  std::string in, out;        // the bridge ports (default: the endpoints' VIF or the uplink)
  std::string bridge;         // the bridge device, for iptables -i/-o (optional)
  Flow flow = Flow::new_flow;
  std::string id;             // the caller's label, echoed in the answer
};

// The keys parse_packet_words accepts, for --help and the completion.
extern const std::vector<std::string> kPacketKeys;

// Parses words "from=i-2-5-VM", "to=10.147.41.238", "proto=tcp", "dport=22"
// ... (keys: kPacketKeys; `port` is `dport`).  Every value is validated
// (VM names, addresses, MACs, ports, protocols, interfaces).  Errors:
// "SOURCE:LINE: expected KEY=VALUE, got ..." and the like.
Result<PacketSpec> parse_packet_words(const std::vector<std::string> &words,
                                      const std::string &source, std::size_t line);
// The same for one line of text (blanks separate words).
Result<PacketSpec> parse_packet_line(std::string_view line, const std::string &source,
                                     std::size_t line_number);

// ---- the concrete packet -------------------------------------------------------

enum class EtherType { ipv4, ipv6, arp };

struct Packet {
  std::string in_port, out_port;   // bridge ports: vif7.0, tap8.0, eth0
  std::string bridge;              // "" = not known
  EtherType ether = EtherType::ipv4;
  std::string src_mac, dst_mac;    // normalized; "" = some unicast MAC not known
  std::string src_ip, dst_ip;      // IPv4 dotted, IPv6 canonical; ARP: sender, target
  int protocol = 6;                // IP protocol number
  int sport = -1, dport = -1;      // tcp, udp
  int icmp_type = -1, icmp_code = -1;
  int arp_op = 1;                  // 1 request, 2 reply
  std::string arp_target_mac;      // ARP header's target hardware address
  Flow flow = Flow::new_flow;
};

// What conntrack says of the packet ("NEW", "ESTABLISHED", "RELATED",
// "INVALID"): a new ICMP packet of a type that cannot start a connection
// (echo-reply, errors without their connection) is INVALID.
std::string conntrack_state(const Packet &packet);

// Which ends the packet joins, for the answer.
struct Endpoints {
  std::string from_vm, to_vm; // "" = outside the host
};

struct ResolvedPacket {
  Packet packet;
  Endpoints ends;
  std::vector<std::string> notes; // choices made ("i-2-5-VM has 2 addresses, using ...")
};

// Resolves the spec against the firewall view: a VM name gives its first VIF,
// its first address and its MAC; a VIF its VM; an address the VM whose set
// holds it, else the outside (through `uplink`, or the first uplink FORWARD
// accepts).  Errors name `source:line`: an unknown VM or VIF, no uplink, the
// same port on both ends, an IPv4/IPv6 mix.
Result<ResolvedPacket> resolve_packet(const PacketSpec &spec, const FirewallView &view,
                                      const std::string &source, std::size_t line);

// ---- the verdict ------------------------------------------------------------------

enum class Verdict { pass, drop, unknown };
const char *to_string(Verdict verdict);

// One rule that matched on the way (or the chain end that applied).
struct TraceStep {
  std::string table;        // "ebtables", "iptables", "arptables"
  std::string chain;
  std::size_t position = 0; // 1-based; 0: the chain's end (policy or return)
  std::vector<std::string> args; // the rule's words ("" for a chain end)
  std::string readable;     // sg-show's reading of an ingress/egress rule, else the words
  std::string action;       // "jump X", "goto X", "RETURN", "ACCEPT", "DROP", "REJECT", "LOG",
                            // "policy ACCEPT", "end of chain, back to X"
  std::string unknown;      // the match that could not be evaluated, and why
  bool decisive = false;    // the step that decided the verdict
};

struct CheckResult {
  Verdict verdict = Verdict::unknown;
  std::string reason;            // one line: "dropped by iptables i-2-3-VM #3 (DROP)"
  std::vector<TraceStep> trace;  // in order; one step decisive (unless no table was read)
  std::string state;             // conntrack_state()
};

// The tables prepared for many evaluations: each chain's rules found once,
// each rule read into a matcher the first time a packet reaches it.
class CheckTables {
public:
  CheckTables(const FirewallSnapshot &snapshot, const FirewallView &view);
  ~CheckTables();
  CheckTables(const CheckTables &) = delete;
  CheckTables &operator=(const CheckTables &) = delete;

  CheckResult evaluate(const Packet &packet) const;

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

// ---- who may reach a VM -------------------------------------------------------------

// One probe of the summary and its verdict.
struct ReachProbe {
  std::string from;        // "i-2-5-VM", "10.1.0.1 (outside)"
  std::string service;     // "tcp/22", "udp/53", "icmp echo-request", "tcp (other ports)"
  std::string protocol;
  int port = -1;           // -1: none
  Verdict verdict = Verdict::unknown;
  std::string reason;
};

struct ReachSummary {
  std::string vm;
  std::string vif, ip;
  std::vector<ReachProbe> probes;
};

// Probes the VM from every other VM of the view and from an outside address
// of each CIDR its ingress rules name (and one no rule names), on each port
// range's first port, a port no rule names per protocol, ICMP echo-request:
// every verdict from CheckTables::evaluate.  Errors: the VM has no VIF or
// address in the firewall.
Result<ReachSummary> summarize_reach(const CheckTables &tables, const FirewallView &view,
                                     const std::string &vm);

// ---- printing -----------------------------------------------------------------------

struct CheckAnswer {
  const PacketSpec *spec = nullptr;
  const ResolvedPacket *resolved = nullptr;
  const CheckResult *result = nullptr;
  const Error *error = nullptr; // a line of a batch that could not be checked
};

// The one walk: one answer (full trace with `trace`, else the verdict line),
// or the summary.  Text and JSON come from the same calls.
void print_check(ViewPrinter &printer, const CheckAnswer &answer, bool trace);
void print_reach(ViewPrinter &printer, const ReachSummary &summary);

std::string render_check_text(const CheckAnswer &answer, bool trace);
// One JSON document; compact (`pretty` false) it is one line: JSON lines.
std::string render_check_json(const CheckAnswer &answer, bool trace, bool pretty);
std::string render_reach_text(const ReachSummary &summary);
std::string render_reach_json(const ReachSummary &summary, bool pretty);

// ---- batches ------------------------------------------------------------------------

// Checks every line of `text` (packet words as parse_packet_line reads them;
// blank lines and lines starting with '#' are skipped): one answer per line,
// text or JSON lines, in input order.  A line that does not parse or
// resolve is answered with its error (verdict "error") and the others are
// still checked.
struct BatchOutput {
  std::string text;
  std::size_t passed = 0, dropped = 0, unknown = 0, errors = 0;
};
BatchOutput check_batch(std::string_view text, const std::string &source, const CheckTables &tables,
                        const FirewallView &view, bool json, bool trace);

} // namespace vifwall
