"""SIGKILL sg-apply at random moments of `default`, `rules` and `destroy`.

Usage (inside the simulated seed dom0):  python3 kills.py SG_APPLY TMP_DIR SIM_NAME

The VM under test is A (i-2-3-VM, vif7.0); B (i-2-5-VM) is a bystander whose
policy never changes.  A walks through a cycle of policies (none, defaults,
ingress tcp/22 from B, plus a secondary IP, tcp/80 from B and tcp/22 from
the LAN with egress limited to tcp/443, back, destroyed).  Every transition
is first run uninterrupted to learn each state's tables and which probes
pass; then, again and again, a transition is started and SIGKILLed after a
random delay (uniform over the run's measured duration), and:
  * orphans of the killed run (an iptables-restore still reading its input)
    are waited for, and counted;
  * real packets: every probe that passes must pass in the old or the new
    state; probes of B must pass exactly as always;
  * the tables: either A is cut off (the quarantine DROP rules for all of
    A's VIFs at the top of ebtables FORWARD, and then no probe of A passes),
    each atomic table holds the old or the new content and B's rules are
    untouched; or every table holds exactly the old or exactly the new
    state (and the sets the rules use hold the same members);
  * the next uninterrupted run of the same command converges: the tables are
    the new state's exactly, no scratch set or temporary file is left, and
    `default`/`destroy` run once more print "nothing to change".
"""

import json
import os
import random
import re
import signal
import sys
import time

import rel
from rel import A, A_IP, A_VIF, B, B_IP, B_MAC, ID_ARGS

OUT_IP = "10.147.40.1"
A_SEC = "10.147.41.241"   # becomes A's secondary IP in some states
A_SPOOF = "10.147.41.250"  # never A's

# (name, agent, target ip, port, source ip or None)
PROBES = [
    ("B->A:22", "B", A_IP, 22, None),
    ("B->A:23", "B", A_IP, 23, None),
    ("B->A:80", "B", A_IP, 80, None),
    ("LAN->A:22", "OUT", A_IP, 22, None),
    ("LAN->A:80", "OUT", A_IP, 80, None),
    ("A->LAN:443", "A", OUT_IP, 443, None),
    ("A->LAN:25", "A", OUT_IP, 25, None),
    ("A->B:22", "A", B_IP, 22, None),
    ("A(spoofed)->LAN:443", "A", OUT_IP, 443, A_SPOOF),
    ("A(secondary)->LAN:443", "A", OUT_IP, 443, A_SEC),
    ("LAN->B:22", "OUT", B_IP, 22, None),
    ("LAN->B:23", "OUT", B_IP, 23, None),
]
B_PROBES = {"LAN->B:22", "LAN->B:23"}

RULES_22_FROM_B = "I:tcp;22;22;%s/32,NEXT " % B_IP
RULES_80_AND_EGRESS = ("I:tcp;80;80;%s/32,NEXT I:tcp;22;22;%s/32,NEXT E:tcp;443;443;0.0.0.0/0,NEXT "
                       % (B_IP, OUT_IP))


class Cycle:
    """The transitions, each (op, from_state, to_state, argv maker)."""

    def __init__(self):
        self.seq = 0

    def rules(self, text):
        def make():
            self.seq += 1
            return ["rules"] + ID_ARGS + ["--sig=%x" % (0xa000 + self.seq), "--seq=%d" % self.seq,
                                          "--rules=" + text]
        return make

    def transitions(self):
        default = lambda: ["default"] + ID_ARGS  # noqa: E731
        default_sec = lambda: ["default"] + ID_ARGS + ["--sec-ips=%s;" % A_SEC]  # noqa: E731
        destroy = lambda: ["destroy", "--vm=" + A]  # noqa: E731
        return [
            ("default", "none", "defaults", default),
            ("destroy", "defaults", "none", destroy),
            ("default", "none", "defaults", default),
            ("rules", "defaults", "ssh-from-B", self.rules(RULES_22_FROM_B)),
            ("default", "ssh-from-B", "ssh-from-B+secondary", default_sec),
            ("rules", "ssh-from-B+secondary", "web+egress", self.rules(RULES_80_AND_EGRESS)),
            ("rules", "web+egress", "ssh-from-B+secondary", self.rules(RULES_22_FROM_B)),
            ("destroy", "ssh-from-B+secondary", "none", destroy),
        ]


GENERATION = re.compile(r"\b(%s-[ie]\d+)[ab]\b" % re.escape(A))


def norm(text):
    """A's per-rule sets come in two generations (a, b); which one a state
    uses depends on the history (a killed run that had loaded everything
    leaves the next run nothing to flip), so states are compared with the
    generation letter blanked."""
    return GENERATION.sub(r"\1G", text)


def sets_of(ipset_text):
    sets, current = {}, None
    for line in ipset_text.splitlines():
        words = line.split()
        if words and words[0] == "create":
            current = words[1]
            sets[current] = []
        elif words and words[0] == "add" and current is not None:
            sets[current].append(words[2])
    return {name: sorted(members) for name, members in sets.items()}


def same_set_contents(now_parts, ref_parts):
    """The sets the live iptables rules use hold what the reference's
    same-named (generation blanked) sets hold."""
    now_sets, ref_sets = sets_of(now_parts["ipset"]), sets_of(ref_parts["ipset"])
    ref_by_norm = {norm(name): members for name, members in ref_sets.items()}
    for name in referenced_sets(now_parts["iptables"]):
        if now_sets.get(name) != ref_by_norm.get(norm(name)):
            return False
    return True


def split_dump(dump):
    parts = {}
    for chunk in dump.split("==== ")[1:]:
        name, _, text = chunk.partition("\n")
        parts[name] = text
    return parts


def quarantine_state(ebtables_text):
    """(rules of FORWARD, whether A's quarantine is there and well placed)."""
    forward, in_forward = [], False
    for line in ebtables_text.splitlines():
        if line.startswith("Bridge chain:"):
            in_forward = line.startswith("Bridge chain: FORWARD,")
            continue
        if in_forward and line.strip():
            forward.append(line.strip())
    quarantine = {"-i %s -j vifwall-cutoff" % A_VIF, "-o %s -j vifwall-cutoff" % A_VIF}
    present = [rule for rule in forward if rule in quarantine]
    return forward, present


def without_quarantine(ebtables_text):
    out, in_cutoff = [], False
    for line in ebtables_text.splitlines():
        if line.startswith("Bridge chain:"):
            in_cutoff = line.startswith("Bridge chain: vifwall-cutoff,")
        if in_cutoff or not line.strip():
            continue  # the cut-off chain itself exists only while a wall stands
        if line.strip() in ("-i %s -j vifwall-cutoff" % A_VIF, "-o %s -j vifwall-cutoff" % A_VIF):
            continue
        out.append(line)
    text = "\n".join(out) + "\n"

    # The entry count of FORWARD changes with the quarantine.
    return re.sub(r"(Bridge chain: FORWARD, entries: )\d+", r"\1N", text)


def referenced_sets(iptables_text):
    return sorted(set(re.findall(r"--match-set (\S+) ", iptables_text)))


A_CHAINS = {A, A + "-eg", A + "-def"}


def is_a_set(name):
    return name == A or re.fullmatch(r"%s-[ie]\d+[abG]" % re.escape(A), name) is not None \
        or name.startswith("vifwall-tmp-")


def not_about_a(text):
    """The lines of a dump that are not A's: not in A's chains, not jumping
    to them, not naming A's VIF, not A's sets (counts blanked)."""
    out = []
    skip = False
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue  # chain separators: one more with the wall's chain
        if line.startswith(("Chain ", "Bridge chain: ")):
            name = words[1].rstrip(",") if line.startswith("Chain ") else words[2].rstrip(",")
            skip = name in A_CHAINS or name == "vifwall-cutoff"  # the wall's own chain
        if skip:
            continue
        if words and words[0] in ("create", "add") and len(words) > 1 and is_a_set(words[1]):
            continue
        if line.startswith(":") and words[0][1:] in A_CHAINS:
            continue
        if len(words) > 1 and words[0] == "-A" and words[1] in A_CHAINS:
            continue
        if "-j" in words and words.index("-j") + 1 < len(words) and words[words.index("-j") + 1] in A_CHAINS:
            continue
        if A_VIF in words:
            continue
        out.append(re.sub(r"\(\d+ references\)", "", re.sub(r"entries: \d+", "", line)))
    return out


STATE_FIELDS = re.compile(r"^(seqno|signature|generation) .*$", re.M)


def state_files(state_dir):
    """A's state files, with seqno and signature blanked (they grow from
    cycle to cycle), and the seqno the .state and .log carry."""
    files, seqnos = {}, {}
    for suffix in (".log", ".ip", ".state"):
        path = os.path.join(state_dir, A + suffix)
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            text = handle.read()
        if suffix == ".state":
            match = re.search(r"^seqno (\S+)$", text, re.M)
            seqnos[suffix] = match.group(1) if match else None
            text = STATE_FIELDS.sub(r"\1 N", text)
        elif suffix == ".log":
            fields = text.strip().split(",")
            if len(fields) == 7:
                seqnos[suffix] = fields[5]
                fields[4] = fields[5] = "N"
            text = ",".join(fields)
        files[suffix] = text
    return files, seqnos


def main():
    binary, tmp, sim = sys.argv[1], sys.argv[2], sys.argv[3]
    rel.become_subreaper()
    sg = rel.SgApply(binary, tmp)
    rng = random.Random(int(os.environ.get("VIFWALL_RELIABILITY_SEED", "0")) or None)
    seed_used = rng.randrange(1 << 30)
    rng.seed(seed_used)
    kills_wanted = rel.scaled(240)

    sg.ok(["setup"])
    sg.ok(["default", "--vm=" + B, "--vm-id=5", "--ip=" + B_IP, "--mac=" + B_MAC, "--vif=vif8.0",
           "--vif=tap8.0"])
    sg.ok(["rules", "--vm=" + B, "--vm-id=5", "--ip=" + B_IP, "--mac=" + B_MAC, "--vif=vif8.0",
           "--vif=tap8.0", "--sig=b1", "--seq=1", "--rules=I:tcp;22;22;0.0.0.0/0,NEXT "])

    agents = {"A": rel.Agent("%s-g7" % sim, "A"), "B": rel.Agent("%s-g8" % sim, "B"),
              "OUT": rel.Agent("%s-out" % sim, "LAN")}
    agents["A"].listen([22, 23, 80])
    agents["B"].listen([22, 23])
    agents["OUT"].listen([25, 443])
    known_children = {agent.proc.pid for agent in agents.values()}

    def probe(timeout=0.2):
        return rel.probe_all(agents, [(who, ip, port, source) for _, who, ip, port, source in PROBES],
                             timeout)

    def describe(results):
        return ", ".join(name for (name, *_), passed in zip(PROBES, results) if passed) or "(nothing)"

    cycle = Cycle()
    transitions = cycle.transitions()

    # ---- the reference cycle: each state's tables, probes, run time ----------
    refs, durations = {}, {}
    # References with a generous timeout: a loaded machine must not turn
    # "passes" into "dropped".
    refs["none"] = {"dump": rel.full_dump(), "probes": probe(1.0), "files": state_files(sg.state_dir)[0]}
    for op, old, new, make in transitions:
        start = time.monotonic()
        sg.ok(make(), "reference %s %s->%s" % (op, old, new))
        durations.setdefault((op, old, new), []).append(time.monotonic() - start)
        dump = rel.full_dump()
        if new in refs:
            rel.check(norm(refs[new]["dump"]) == norm(dump), "state %s differs between two visits:\n%s" %
                      (new, rel.first_difference(refs[new]["dump"], dump)))
        else:
            refs[new] = {"dump": dump, "probes": probe(1.0), "files": state_files(sg.state_dir)[0]}
    for state, ref in refs.items():
        rel.log("state %-22s passes: %s" % (state, describe(ref["probes"])))
    # The probes must tell the states apart, or they would prove nothing.
    p = {name: i for i, (name, *_) in enumerate(PROBES)}
    expect = [("defaults", "B->A:22", False), ("ssh-from-B", "B->A:22", True),
              ("ssh-from-B", "B->A:23", False), ("web+egress", "B->A:80", True),
              ("web+egress", "B->A:22", False), ("web+egress", "A->LAN:25", False),
              ("defaults", "A->LAN:25", True), ("defaults", "A(spoofed)->LAN:443", False),
              ("none", "A(spoofed)->LAN:443", True), ("ssh-from-B+secondary", "A(secondary)->LAN:443", True),
              ("ssh-from-B", "A(secondary)->LAN:443", False), ("defaults", "LAN->B:22", True),
              ("defaults", "LAN->B:23", False), ("web+egress", "LAN->A:22", True)]
    for state, name, passed in expect:
        rel.check(refs[state]["probes"][p[name]] == passed,
                  "reference state %s: probe %s %s, expected %s" % (state, name,
                  "passes" if refs[state]["probes"][p[name]] else "fails", "pass" if passed else "fail"))
    for state, ref in refs.items():
        for name in B_PROBES:
            rel.check(ref["probes"][p[name]] == refs["none"]["probes"][p[name]],
                      "B's probe %s differs in state %s" % (name, state))

    # ---- kills ---------------------------------------------------------------
    stats = {"attempts": 0, "kills": 0, "completed_before_kill": 0, "quarantined_after_kill": 0,
             "old_state_after_kill": 0, "new_state_after_kill": 0, "orphans": 0,
             "orphan_commands": {}, "per_op": {}, "violations": [], "convergence_failures": [],
             "delays_ms": [], "probe_rounds": 0}
    started = time.monotonic()
    step = 0
    while stats["kills"] < kills_wanted:
        op, old, new, make = transitions[step % len(transitions)]
        step += 1
        per_op = stats["per_op"].setdefault(op, {"kills": 0, "completed": 0, "quarantined": 0})
        argv = make()
        duration = sum(durations[(op, old, new)]) / len(durations[(op, old, new)])
        delay = rng.uniform(0, duration)
        stats["attempts"] += 1
        proc = sg.start(argv)
        time.sleep(delay)
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
        if pid == 0:
            os.kill(proc.pid, signal.SIGKILL)
            _, status = os.waitpid(proc.pid, 0)
        for handle in proc._rel_files:
            handle.close()
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        if killed and stats["attempts"] % 4 == 0:
            # The production case: the next run starts at once, while the
            # killed run's children (an iptables-restore, an
            # ebtables-restore...) may still be finishing its work, without
            # the lock.  Does it still converge?
            race = stats.setdefault("race", {"attempts": 0, "with_orphans": 0, "failures": []})
            race["attempts"] += 1
            stats["kills"] += 1
            per_op["kills"] += 1
            live_orphans = [pid for pid in rel.children_of(os.getpid()) if pid not in known_children]
            if live_orphans:
                race["with_orphans"] += 1
            rc, out, err, _ = sg.run(argv)
            rel.reap_orphans(known_children)
            dump = rel.full_dump()
            problems = []
            if rc != 0:
                problems.append("exit %d: %s" % (rc, err.strip()))
            if norm(dump) != norm(refs[new]["dump"]):
                problems.append("tables are not the new state:\n" + rel.first_difference(
                    norm(refs[new]["dump"]), norm(dump)))
            if problems:
                race["failures"].append("%s %s->%s killed after %.1f ms, %d orphans racing: %s" % (
                    op, old, new, delay * 1000, len(live_orphans), "; ".join(problems)))
                rel.log("RACE " + race["failures"][-1][:3000])
            # Back to the new state for the next attempts.
            sg.run(["default"] + ID_ARGS)
            sg.ok(["destroy", "--vm=" + A])
            if new != "none":
                for op2, _, new2, make2 in transitions[2:]:
                    sg.ok(make2(), "replay %s" % op2)
                    if new2 == new:
                        break
            rel.check(norm(rel.full_dump()) == norm(refs[new]["dump"]), "could not reach %s again" % new)
            continue
        orphans = rel.reap_orphans(known_children)
        if orphans:
            stats["orphans"] += 1
            for command in orphans:
                key = os.path.basename(command.split()[0]) if command else "?"
                stats["orphan_commands"][key] = stats["orphan_commands"].get(key, 0) + 1
        if killed:
            stats["kills"] += 1
            per_op["kills"] += 1
            stats["delays_ms"].append(round(delay * 1000, 1))
        else:
            rel.check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
                      "%s exited with %s before the kill" % (" ".join(argv), status))
            stats["completed_before_kill"] += 1
            per_op["completed"] += 1
        label = "%s %s->%s killed after %.1f ms" % (op, old, new, delay * 1000) if killed else \
            "%s %s->%s (finished before the kill)" % (op, old, new)

        # Real packets.
        results = probe()
        stats["probe_rounds"] += 1
        if any(results[i] != refs[old]["probes"][i] for i, (name, *_r) in enumerate(PROBES) if name in B_PROBES):
            results = probe(1.0)  # a slow machine, or really B's policy? Ask again, patiently.
        ref_old, ref_new = refs[old]["probes"], refs[new]["probes"]
        for index, (name, *_rest) in enumerate(PROBES):
            if name in B_PROBES:
                if results[index] != ref_old[index]:
                    stats["violations"].append("%s: bystander probe %s %s" % (
                        label, name, "passed" if results[index] else "failed"))
            elif results[index] and not (ref_old[index] or ref_new[index]):
                stats["violations"].append("%s: %s passed, which neither %s nor %s allows" % (
                    label, name, old, new))

        # The tables.
        now = split_dump(rel.full_dump())
        old_parts, new_parts = split_dump(refs[old]["dump"]), split_dump(refs[new]["dump"])
        forward, present = quarantine_state(now["ebtables"])
        if present:
            stats["quarantined_after_kill"] += 1
            per_op["quarantined"] += 1
            problems = []
            if sorted(forward[:2]) != sorted(["-i %s -j vifwall-cutoff" % A_VIF, "-o %s -j vifwall-cutoff" % A_VIF]):
                problems.append("quarantine incomplete or not at the top of FORWARD: %s" % forward[:4])
            a_results = [r for (name, *_), r in zip(PROBES, results) if name not in B_PROBES]
            if any(a_results):
                problems.append("A is quarantined but probes passed: %s" % describe(results))
            if norm(now["iptables"]) not in (norm(old_parts["iptables"]), norm(new_parts["iptables"])):
                problems.append("iptables is neither the old nor the new table")
            if without_quarantine(now["ebtables"]) not in (without_quarantine(old_parts["ebtables"]),
                                                           without_quarantine(new_parts["ebtables"])):
                problems.append("ebtables (without the quarantine) is neither old nor new")
            for table in ("iptables", "ebtables", "arptables", "ipset"):
                if not_about_a(norm(now[table])) != not_about_a(norm(old_parts[table])):
                    problems.append("%s: rules not of A changed" % table)
            for problem in problems:
                stats["violations"].append("%s: %s" % (label, problem))
        else:
            tables = ("iptables", "ebtables", "arptables")
            matched = None
            for name, parts in (("old", old_parts), ("new", new_parts)):
                if all(norm(now[t]) == norm(parts[t]) for t in tables) and same_set_contents(now, parts):
                    matched = name
                    break
            if matched is None:
                stats["violations"].append("%s: not quarantined, and the tables are neither the old "
                                           "nor the new state:\n%s" % (label, rel.first_difference(
                                               refs[new]["dump"], rel.full_dump())))
            else:
                stats[matched + "_state_after_kill"] += 1

        # Convergence: the next uninterrupted run.
        rc, out, err, _ = sg.run(argv)
        problems = []
        if rc != 0:
            problems.append("the next run failed (exit %d): %s" % (rc, err.strip()))
        dump = rel.full_dump()
        if norm(dump) != norm(refs[new]["dump"]):
            problems.append("tables after the next run are not the new state:\n" +
                            rel.first_difference(refs[new]["dump"], dump))
        leftovers = [n for n in os.listdir(sg.state_dir) if ".tmp." in n or ".probe." in n]
        if leftovers:
            problems.append("temporary files left: %s" % leftovers)
        if "vifwall-tmp-" in dump:
            problems.append("a scratch set is left")
        files, seqnos = state_files(sg.state_dir)
        if files != refs[new]["files"]:
            problems.append("state files are not the new state's: %s, expected %s" % (
                json.dumps(files), json.dumps(refs[new]["files"])))
        if op == "rules":
            seq = [w.split("=", 1)[1] for w in argv if w.startswith("--seq=")][0]
            if seqnos.get(".state") != seq or seqnos.get(".log") != seq:
                problems.append("after rules --seq %s the state files carry seqno %s" % (seq, seqnos))
        if op in ("default", "destroy"):
            rc2, out2, err2, _ = sg.run(["-v"] + argv)
            if rc2 != 0 or out2.strip() != "nothing to change":
                problems.append("a further run was not a no-op: exit %d, %r %r" % (rc2, out2, err2))
        if problems:
            stats["convergence_failures"].append("%s: %s" % (label, "; ".join(problems)))
            rel.log("CONVERGENCE FAILURE %s: %s" % (label, "; ".join(problems)))
            # Get back on track: destroy A (a `default` first names vif7.0
            # again, so a quarantine left on it is lifted) and replay the
            # reference path up to the new state.
            sg.run(["default"] + ID_ARGS)
            sg.ok(["destroy", "--vm=" + A])
            if new != "none":
                for op2, _, new2, make2 in transitions[2:]:
                    sg.ok(make2(), "replay %s" % op2)
                    if new2 == new:
                        break
            rel.check(norm(rel.full_dump()) == norm(refs[new]["dump"]) and
                      state_files(sg.state_dir)[0] == refs[new]["files"],
                      "could not reach state %s again" % new)
        for violation in stats["violations"][-3:]:
            if violation.startswith(label):
                rel.log("VIOLATION " + violation)
        if stats["attempts"] % 50 == 0:
            rel.log("%d attempts, %d kills, %.0f s" % (stats["attempts"], stats["kills"],
                                                        time.monotonic() - started))

    for agent in agents.values():
        agent.close()
    seconds = time.monotonic() - started
    delays = sorted(stats["delays_ms"])
    summary = {
        "seed": seed_used, "kills": stats["kills"], "attempts": stats["attempts"],
        "completed_before_kill": stats["completed_before_kill"],
        "quarantined_after_kill": stats["quarantined_after_kill"],
        "old_state_after_kill": stats["old_state_after_kill"],
        "new_state_after_kill": stats["new_state_after_kill"],
        "kills_with_orphans": stats["orphans"], "orphan_commands": stats["orphan_commands"],
        "per_op": stats["per_op"], "probe_rounds": stats["probe_rounds"],
        "probes_per_round": len(PROBES), "violations": stats["violations"],
        "convergence_failures": stats["convergence_failures"], "seconds": round(seconds, 1),
        "race": stats.get("race", {}),
        "run_ms": {"%s %s->%s" % key: round(1000 * sum(v) / len(v), 1) for key, v in durations.items()},
        "delay_ms_range": [delays[0], delays[-1]] if delays else [],
        "reference_probes": {state: describe(ref["probes"]) for state, ref in refs.items()},
    }
    rel.write_report("kills", summary)
    rel.log(json.dumps({k: v for k, v in summary.items() if k not in ("violations", "convergence_failures")},
                       indent=1))
    if stats["violations"] or stats["convergence_failures"]:
        rel.log("%d violations, %d convergence failures (seed %d)" % (
            len(stats["violations"]), len(stats["convergence_failures"]), seed_used))
        for line in (stats["violations"] + stats["convergence_failures"])[:20]:
            rel.log("  " + line[:2000])
        sys.exit(1)
    print("kills: %d SIGKILLs (%d quarantined, %d old, %d new state), %d probe rounds, all safe and "
          "converged, in %.0f s" % (stats["kills"], stats["quarantined_after_kill"],
                                    stats["old_state_after_kill"], stats["new_state_after_kill"],
                                    stats["probe_rounds"], seconds))


if __name__ == "__main__":
    rel.run_driver(main)
