// The walk: a packet through ebtables' nat PREROUTING (when it has rules),
// ebtables' filter FORWARD, then iptables' (IPv4)
// or arptables' (ARP) filter FORWARD, rule by rule, with jumps, gotos,
// returns and policies as each family has them; every rule that matched is
// a step of the trace.  Rules are read into matchers the first time a packet
// reaches them and kept, so a batch reads each rule once.
#include <unordered_map>

#include "check_internal.hpp"
#include "sg_check.hpp"
#include "text.hpp"

namespace vifwall {

using namespace check_detail;

const char *to_string(Verdict verdict) {
  switch (verdict) {
  case Verdict::pass: return "pass";
  case Verdict::drop: return "drop";
  case Verdict::unknown: return "unknown";
  }
  return "unknown";
}

std::string conntrack_state(const Packet &p) {
  if (p.ether == EtherType::arp)
    return "";
  if (p.flow == Flow::established)
    return "ESTABLISHED";
  if (p.flow == Flow::related)
    return "RELATED";
  if (p.protocol == 1) {
    // nf_conntrack_proto_icmp: only these types start a connection; a reply
    // or an error without its connection has no conntrack entry: INVALID.
    const int t = p.icmp_type;
    return t == 8 || t == 13 || t == 15 || t == 17 ? "NEW" : "INVALID";
  }
  return "NEW";
}

namespace {

struct FamilyTable {
  FamilyTable(Family f, const char *l) : family(f), label(l) {}
  Family family;
  const char *label;
  const FwTable *table = nullptr;
  RulesByChain chains;
};

} // namespace

struct CheckTables::Impl {
  const FirewallSnapshot &snapshot;
  FamilyTable ebtables{Family::ebtables, "ebtables"}, iptables{Family::iptables, "iptables"},
      arptables{Family::arptables, "arptables"};
  // The ebtables nat table, whose PREROUTING a frame passes before filter
  // FORWARD: where CloudStack's own vmops puts its MAC checks.
  FamilyTable ebtables_nat{Family::ebtables, "ebtables nat"};
  SetMembers sets;
  std::map<std::string, Direction> sg_chains; // VMs' ingress and egress chains
  mutable std::unordered_map<const FwRule *, CompiledRule> compiled;

  Impl(const FirewallSnapshot &s, const FirewallView &view) : snapshot(s) {
    auto index = [](FamilyTable &t, const std::optional<FwTable> &table) {
      if (table) {
        t.table = &*table;
        t.chains = rules_by_chain(*table);
      }
    };
    index(ebtables, s.ebtables);
    index(iptables, s.iptables);
    index(arptables, s.arptables);
    index(ebtables_nat, s.ebtables_nat);
    if (s.ipsets)
      sets = set_members_of(*s.ipsets);
    for (const auto &vm : view.vms) {
      if (!vm.ingress_chain.empty())
        sg_chains[vm.ingress_chain] = Direction::ingress;
      if (!vm.egress_chain.empty())
        sg_chains[vm.egress_chain] = Direction::egress;
    }
  }

  const CompiledRule &compile(Family family, const FwRule &rule) const {
    auto it = compiled.find(&rule);
    if (it == compiled.end())
      it = compiled.emplace(&rule, compile_rule(family, rule)).first;
    return it->second;
  }

  std::string readable(const FamilyTable &t, const FwRule &rule) const {
    if (t.family == Family::iptables)
      if (auto it = sg_chains.find(rule.chain); it != sg_chains.end()) {
        ReadBackRule back = read_back_rule(it->second, rule.args, sets);
        if (back.understood)
          return back.text + " (" + back.target + ")";
      }
    return join_rule_words(rule.args);
  }
};

namespace {

enum class Outcome { accept, drop, unknown };

// One family's walk from its built-in FORWARD chain (PREROUTING for the
// ebtables nat table).
class Walk {
public:
  Walk(const CheckTables::Impl &impl, const FamilyTable &t, const Packet &p, const std::string &state,
       std::vector<TraceStep> &trace, std::string start = "FORWARD")
      : impl_(impl), t_(t), ctx_{p, state, impl.sets, impl.snapshot.ipsets ? &*impl.snapshot.ipsets : nullptr},
        trace_(trace), start_(std::move(start)) {}

  Outcome run();

private:
  struct Frame {
    std::string chain;
    std::size_t next = 0; // index of the rule after the jump
  };

  const std::vector<const FwRule *> &rules_of(const std::string &chain) const {
    static const std::vector<const FwRule *> none;
    auto it = t_.chains.find(chain);
    return it == t_.chains.end() ? none : it->second;
  }
  bool has_chain(const std::string &chain) const { return t_.table->chain(chain) != nullptr; }

  TraceStep &step(const std::string &chain, std::size_t position, const FwRule *rule, std::string action) {
    TraceStep s;
    s.table = t_.label;
    s.chain = chain;
    s.position = position;
    if (rule) {
      s.args = rule->args;
      s.readable = impl_.readable(t_, *rule);
    }
    s.action = std::move(action);
    trace_.push_back(std::move(s));
    return trace_.back();
  }
  Outcome decide(TraceStep &s, Outcome o) {
    s.decisive = true;
    return o;
  }
  Outcome unknown(TraceStep &s, std::string why) {
    s.unknown = std::move(why);
    s.decisive = true;
    return Outcome::unknown;
  }
  // The end of `chain` reached (or a RETURN in it): its policy, or back to the caller.
  std::optional<Outcome> chain_end(std::string chain, std::vector<Frame> &stack, std::string &cur,
                                   std::size_t &i, bool returned);

  const CheckTables::Impl &impl_;
  const FamilyTable &t_;
  MatchContext ctx_;
  std::vector<TraceStep> &trace_;
  std::string start_;
};

std::optional<Outcome> Walk::chain_end(const std::string chain, std::vector<Frame> &stack, std::string &cur,
                                       std::size_t &i, bool returned) {
  const FwChain *c = t_.table->chain(chain);
  const std::string policy = c ? c->policy : "";
  const bool builtin = stack.empty();
  const auto backend = impl_.snapshot.ebtables_backend;
  const bool nft_return = policy == "ACCEPT" && backend == Variant::nft; // ebtables-nft ignores it
  if (!builtin && t_.family == Family::ebtables && !returned && policy != "RETURN" && !policy.empty() &&
      !nft_return) {
    TraceStep &s = step(chain, 0, nullptr, "policy " + policy);
    if (policy == "ACCEPT" && backend == Variant::legacy)
      return decide(s, Outcome::accept);
    if (policy == "ACCEPT")
      return unknown(s, "user chain " + chain + " has policy ACCEPT, which ebtables-nft ignores "
                        "(RETURN) and legacy ebtables honours: the dump does not say which printed it");
    if (policy == "DROP")
      return decide(s, Outcome::drop);
    return unknown(s, "policy " + policy + " is not modelled");
  }
  if (builtin) {
    TraceStep &s = step(chain, 0, nullptr, "policy " + (policy.empty() ? std::string("ACCEPT") : policy));
    if (policy == "DROP")
      return decide(s, Outcome::drop);
    if (policy == "ACCEPT" || policy.empty())
      return decide(s, Outcome::accept);
    return unknown(s, "policy " + policy + " is not modelled");
  }
  cur = stack.back().chain;
  i = stack.back().next;
  stack.pop_back();
  if (!returned)
    step(chain, 0, nullptr,
         (policy == "RETURN" ? "policy RETURN, back to "
          : nft_return       ? "policy ACCEPT (RETURN on ebtables-nft), back to "
                             : "end of chain, back to ") + cur);
  return std::nullopt;
}

Outcome Walk::run() {
  std::vector<Frame> stack;
  std::string cur = start_;
  std::size_t i = 0;
  const std::vector<const FwRule *> *rules_ptr = nullptr; // cur's rules, looked up when cur changes
  for (std::size_t budget = 1000000; budget > 0; --budget) {
    if (!rules_ptr)
      rules_ptr = &rules_of(cur);
    const auto &rules = *rules_ptr;
    if (i >= rules.size()) {
      rules_ptr = nullptr;
      if (auto end = chain_end(cur, stack, cur, i, false))
        return *end;
      continue;
    }
    const FwRule &rule = *rules[i];
    const std::size_t position = ++i;
    const CompiledRule &c = impl_.compile(t_.family, rule);
    std::string why;
    const Truth truth = rule_truth(t_.family, c, ctx_, why);
    if (truth == Truth::no || (c.action == Action::cont && truth == Truth::unknown))
      continue;
    const std::string target = c.target;
    switch (c.action) {
    case Action::accept:
    case Action::drop:
    case Action::reject: {
      TraceStep &s = step(cur, position, &rule, target);
      if (truth == Truth::unknown)
        return unknown(s, why);
      return decide(s, c.action == Action::accept ? Outcome::accept : Outcome::drop);
    }
    case Action::cont:
      step(cur, position, &rule, target.empty() ? "count" : target);
      continue;
    case Action::ret: {
      TraceStep &s = step(cur, position, &rule, "RETURN");
      if (truth == Truth::unknown)
        return unknown(s, why);
      const std::string from = cur;
      rules_ptr = nullptr;
      if (auto end = chain_end(from, stack, cur, i, true))
        return *end;
      continue;
    }
    case Action::jump:
    case Action::go_to:
    case Action::unknown: {
      const bool go = c.action == Action::go_to;
      TraceStep &s = step(cur, position, &rule, (go ? "goto " : "jump ") + target);
      if (truth == Truth::unknown)
        return unknown(s, why);
      if (!has_chain(target))
        return unknown(s, "target " + target + " is not modelled");
      if (stack.size() > 64)
        return unknown(s, "more than 64 nested jumps");
      if (!go)
        stack.push_back(Frame{cur, i});
      else if (stack.empty())
        return unknown(s, "goto from a built-in chain");
      cur = target;
      i = 0;
      rules_ptr = nullptr;
      continue;
    }
    }
  }
  TraceStep &s = step(cur, 0, nullptr, "stop");
  return unknown(s, "the walk did not end (a loop of jumps)");
}

// A table the path needs but the snapshot lacks.
Outcome missing(std::vector<TraceStep> &trace, const char *label) {
  TraceStep s;
  s.table = label;
  s.chain = "FORWARD";
  s.action = "not read";
  s.unknown = std::string(label) + " was not captured";
  s.decisive = true;
  trace.push_back(std::move(s));
  return Outcome::unknown;
}

std::string reason_of(const CheckResult &r) {
  for (const auto &s : r.trace) {
    if (!s.decisive)
      continue;
    const std::string where = s.table + " " + s.chain + (s.position ? " #" + std::to_string(s.position) : "");
    if (r.verdict == Verdict::unknown)
      return "unknown at " + where + ": " + s.unknown;
    const std::string by = s.position ? "rule" : s.action;
    return std::string(r.verdict == Verdict::pass ? "passed" : "dropped") + " by " + where +
           (s.position ? " (" + s.action + ")" : " (" + by + ")");
  }
  return "no table decided";
}

} // namespace

CheckTables::CheckTables(const FirewallSnapshot &snapshot, const FirewallView &view)
    : impl_(std::make_unique<Impl>(snapshot, view)) {}
CheckTables::~CheckTables() = default;

CheckResult CheckTables::evaluate(const Packet &packet) const {
  CheckResult r;
  r.state = conntrack_state(packet);
  auto run = [&](const FamilyTable &t) {
    if (!t.table)
      return missing(r.trace, t.label);
    return Walk(*impl_, t, packet, r.state, r.trace).run();
  };
  auto verdict = [](Outcome o) {
    return o == Outcome::accept ? Verdict::pass : o == Outcome::drop ? Verdict::drop : Verdict::unknown;
  };
  Outcome o = Outcome::accept;
  const FamilyTable &nat = impl_->ebtables_nat;
  if (nat.table && nat.chains.count("PREROUTING")) {
    o = Walk(*impl_, nat, packet, r.state, r.trace, "PREROUTING").run();
    if (o == Outcome::accept)
      for (auto &s : r.trace)
        s.decisive = false;
  }
  if (o == Outcome::accept)
    o = run(impl_->ebtables);
  if (o == Outcome::accept) {
    // The decisive step of ebtables only let the frame on: the next table decides.
    for (auto &s : r.trace)
      s.decisive = false;
    if (packet.ether == EtherType::ipv4) {
      o = run(impl_->iptables);
    } else if (packet.ether == EtherType::arp) {
      o = run(impl_->arptables);
    } else {
      TraceStep s;
      s.table = "ip6tables";
      s.chain = "FORWARD";
      s.action = "not evaluated";
      s.unknown = "IPv6 filtering (ip6tables) is not modelled";
      s.decisive = true;
      r.trace.push_back(std::move(s));
      o = Outcome::unknown;
    }
  }
  r.verdict = verdict(o);
  r.reason = reason_of(r);
  return r;
}

} // namespace vifwall
