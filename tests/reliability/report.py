"""Writes RELIABILITY.md from the JSON reports of the reliability tests.

Usage: python3 report.py REPORT_DIR OUTPUT_MD   (run by scripts/reliability)
"""

import datetime
import json
import os
import platform
import subprocess
import sys

# What these tests found in sg-apply.  `check` tells from the reports
# whether the finding still reproduces; `fix` says what was done about it.
FINDINGS = [
    {
        "id": "destroy-lift",
        "title": "A `destroy` killed (or failing) after iptables dropped the VM but before ebtables lifted "
                 "its cut-off leaves `-i VIF -j vifwall-cutoff` / `-o VIF -j vifwall-cutoff` at the top of ebtables FORWARD "
                 "for good: the next `destroy` no longer knows the VIF is the VM's (it only looks for "
                 "VIFs in jumps to the VM's chains).",
        "where": "lib/sg/apply/sg_apply.cpp: destroy() passes no VIFs to run_vm(); vm_change() collects the "
                 "quarantine VIFs from live jumps only",
        "test": "tests/e2e/reliability_kill_windows.sh (destroy-lift); reliability_kills.sh; "
                "tests/sg/apply/test_sg_apply_faults.cpp (\"running it again lifts it\")",
        "check": lambda r: "destroy-lift" in r.get("kill_windows", {}).get("failed", {}),
    },
    {
        "id": "log-before-state",
        "title": "A `rules` run killed between renaming VM.log and VM.state: the next run with the same "
                 "seqno does nothing (the log says it is applied), VM.state keeps the OLD rules, and a "
                 "later `default` (reboot, secondary IP) re-applies them: revoked access comes back.",
        "where": "lib/sg/apply/sg_apply.cpp: apply_rules() writes the log before the state file; the decision "
                 "(decide_rules_update) trusts the log alone",
        "test": "tests/e2e/reliability_kill_windows.sh (log-before-state); reliability_kills.sh",
        "check": lambda r: "log-before-state" in r.get("kill_windows", {}).get("failed", {}),
    },
    {
        "id": "truncated-input",
        "title": "A run killed while ebtables-restore still reads a table bigger than a pipe (64 KiB: "
                 "about a hundred VMs) leaves the child to load the part it got: other VMs' chains and "
                 "other software's rules are emptied, and no later run for another VM repairs them.",
        "where": "lib/base/exec.cpp / lib/firewall/firewall_io.cpp: the whole-table input is streamed through a pipe "
                 "to a child that outlives sg-apply and commits at EOF",
        "test": "tests/e2e/reliability_kill_windows.sh (truncated-input)",
        "check": lambda r: "truncated-input" in r.get("kill_windows", {}).get("failed", {}),
    },
    {
        "id": "decision-before-lock",
        "title": "Parallel `rules` runs for one VM: the seqno decision is taken before the lock, so an "
                 "older seqno that gets the lock last wins; a `default` started with a `rules` update "
                 "re-applies the rules it read before the lock (the older ones).",
        "where": "lib/sg/apply/sg_apply.cpp: apply_rules() and apply_default() read VM.log / VM.state before "
                 "impl.lock()",
        "test": "tests/e2e/reliability_concurrency.sh",
        "check": lambda r: any("seqno" in p or "older rules" in p
                               for p in r.get("concurrency", {}).get("problems", [])),
    },
    {
        "id": "sec-ips-zero",
        "title": "`--sec-ips '0;x;'` (or '0;10.1.1.1;') is accepted as \"no secondary IPs\": everything "
                 "after a leading 0 is ignored, garbage included.",
        "where": "lib/sg/sg_rules.cpp: parse_secondary_ips() returns on items.front() == \"0\"",
        "test": "tests/e2e/reliability_hostile.sh",
        "check": lambda r: any(f.get("arg") == "--sec-ips" for f in r.get("hostile", {}).get("failures", [])),
    },
    {
        "id": "unprintable-errors",
        "title": "Error messages echo some values raw: CLI11's (--action, --iptables, --arp-filter, "
                 "--wait, --timeout) and paths (--state-dir, --lock-file, --ebtables-lock); a value with "
                 "ESC or CR reaches the terminal, and a 100 000-character value is echoed whole.",
        "where": "tools/sg-apply/main.cpp (CLI11 checks); lib errors that use a path as the source",
        "test": "tests/e2e/reliability_hostile.sh",
        "check": lambda r: any(f.get("kind") == "message" for f in r.get("hostile", {}).get("failures", [])),
    },
    {
        "id": "nan-timeout",
        "title": "`--timeout nan` / `--wait nan` pass CLI11's range check; the cast to milliseconds is "
                 "undefined (\"timed out after -9223372036854775808 ms\").",
        "where": "tools/sg-apply/main.cpp",
        "test": "tests/e2e/reliability_hostile.sh",
        "check": lambda r: any(f.get("arg") == "--timeout" and "nan" in f.get("value", "").lower()
                               for f in r.get("hostile", {}).get("failures", [])),
    },
    {
        "id": "rollback-order",
        "title": "A failed `destroy` is rolled back with the VM's jumps in iptables BRIDGE-FIREWALL and "
                 "arptables FORWARD in another order (same meaning: each matches its own VIF), not "
                 "byte-identical.",
        "where": "lib/sg/apply/sg_apply.cpp: rollback() re-plans with diff_table(plan_of_live(before)), which "
                 "inserts next to planned neighbours, not at the old positions",
        "test": "tests/e2e/reliability_failures.sh",
        "check": lambda r: any(s["op"] == "destroy" and any("changed" in p for p in s["problems"])
                               for s in r.get("failures", {}).get("scenarios", [])),
    },
    {
        "id": "silent-set-destroy",
        "title": "`destroy` ignores a failed `ipset destroy` (exit 0, no message), and nothing later "
                 "removes the VM's sets (cleanup looks at state files and iptables chains only).",
        "where": "lib/sg/apply/sg_apply.cpp: apply_change() discards load_ipsets(sets_to_destroy)'s error",
        "test": "tests/e2e/reliability_failures.sh",
        "check": lambda r: any(s["scenario"] == "ipset restore refused" and s["op"] == "destroy" and s["problems"]
                               for s in r.get("failures", {}).get("scenarios", [])),
    },
    {
        "id": "state-target-unwritable",
        "title": "A state file path that cannot be replaced (a directory in its place) is found only "
                 "after the tables were loaded: exit 1 \"cannot write\", but the change stays loaded "
                 "(sg-apply(8): exit 1 means nothing changed).",
        "where": "lib/sg/apply/sg_apply.cpp: PreparedFiles::check_writable() probes a different file name",
        "test": "tests/e2e/reliability_failures.sh",
        "check": lambda r: any(s["scenario"].startswith("state file is a directory") and s["problems"]
                               for s in r.get("failures", {}).get("scenarios", [])),
    },
]

NOTES = [
    "After a SIGKILL the killed run's children (iptables-restore, ebtables-restore, ...) go on "
    "without the lock: they were still running after most kills.  The kill test waits for them "
    "before it reads the tables; one attempt in four starts the next run at once instead (the "
    "production case), see the race counts.",
    "An empty `--opt=` makes CLI11 take the next word as the option's value (`--ip= --mac=X` sets "
    "the IP to `--mac=X`); `--rules=` with an empty value is refused, `--rules ''` works.",
    "A run that finds nothing to change still rewrites the state files (same content, new mtime).",
    "Errors about --ip and --vm-id say \"invalid IPv4 address\" / \"invalid VM id\" without naming "
    "the option.",
]


def load(directory, name):
    path = os.path.join(directory, name + ".json")
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


def tool_version(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10,
                              text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


def main():
    directory, output = sys.argv[1], sys.argv[2]
    reports = {name: load(directory, name) for name in
               ("hostile", "kills", "kill_windows", "failures", "concurrency", "leaks")}
    results = {}
    results_path = os.path.join(directory, "results.txt")
    if os.path.exists(results_path):
        with open(results_path) as handle:
            for line in handle:
                name, rc, seconds = line.split()
                results[name] = (int(rc), int(seconds))
    scale = next((r["scale"] for r in reports.values() if "scale" in r), None)
    out = []
    w = out.append
    w("# Reliability of sg-apply")
    w("")
    w("Generated by `scripts/reliability` (do not edit by hand): hostile input, SIGKILLs, failures, "
      "concurrency and leaks, run against the simulated dom0 (`sim/`), as issue 6 asks.  Run it "
      "again as root after `scripts/build`; `VIFWALL_RELIABILITY_SCALE` multiplies the counts "
      "(CI runs the same tests at scale 1 through CTest).")
    w("")
    w("- Date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    w("- Machine: %s, %s, %d CPUs, kernel %s" % (platform.node() or "?", platform.machine(),
                                                   os.cpu_count() or 0, platform.release()))
    w("- Tools: %s; %s; %s; %s" % (tool_version(["iptables", "-V"]), tool_version(["ebtables", "-V"]),
                                    tool_version(["arptables-legacy", "-V"]), tool_version(["ipset", "version"])))
    w("- Scale: %s" % scale)
    w("")
    w("| test | result | seconds |")
    w("|---|---|---|")
    for name in ("hostile", "kills", "kill_windows", "failures", "concurrency", "leaks", "unit"):
        if name in results:
            rc, seconds = results[name]
            w("| %s | %s | %s |" % (name if name != "unit" else "unit `[sg_apply_faults]`",
                                    "passed" if rc == 0 else ("skipped" if rc == 77 else "**FAILED**"),
                                    seconds if name != "unit" else "-"))
    w("")

    hostile = reports["hostile"]
    w("## Hostile values (`tests/e2e/reliability_hostile.sh`)")
    w("")
    if hostile:
        w("%d values in %s s; each must end in exit 1 or 2 with one clear, printable `sg-apply: error:` "
          "line naming the argument, and leave iptables, ebtables, arptables, every set and the state "
          "directory (names, sizes, checksums, mtimes) byte-identical." % (hostile["cases"], hostile["seconds"]))
        w("")
        w("| argument | values | exit 1 | exit 2 | accepted, no change | failed |")
        w("|---|---|---|---|---|---|")
        failed_per_arg = {}
        for failure in hostile.get("failures", []):
            failed_per_arg[failure["arg"]] = failed_per_arg.get(failure["arg"], 0) + 1
        for arg, stats in sorted(hostile["per_argument"].items()):
            w("| `%s` | %d | %d | %d | %d | %d |" % (arg, stats["values"], stats["exit1"], stats["exit2"],
                                                     stats["accepted_noop"], failed_per_arg.get(arg, 0)))
        w("")
        safety = [f for f in hostile.get("failures", []) if f.get("kind") == "safety"]
        w("Wrongly accepted or changed the host: %d; unclear message only: %d." % (
            len(safety), len(hostile.get("failures", [])) - len(safety)))
        for failure in safety[:10]:
            w("- `%s %s=%s`: %s" % (failure["command"], failure["arg"], failure["value"][:80],
                                    failure["problems"][0].splitlines()[0]))
    else:
        w("(no report)")
    w("")

    kills = reports["kills"]
    w("## Kills (`tests/e2e/reliability_kills.sh`, `reliability_kill_windows.sh`)")
    w("")
    if kills:
        w("%d SIGKILLs in %d attempts (%d runs finished before their kill), delays uniform over each "
          "run's measured duration (%s ms), seed %s, %s s." % (
              kills["kills"], kills["attempts"], kills["completed_before_kill"],
              "-".join(str(d) for d in kills.get("delay_ms_range", [])), kills["seed"], kills["seconds"]))
        w("")
        w("| operation | kills | finished first | VM cut off after the kill |")
        w("|---|---|---|---|")
        for op, stats in sorted(kills["per_op"].items()):
            w("| %s | %d | %d | %d |" % (op, stats["kills"], stats["completed"], stats["quarantined"]))
        w("")
        w("After the kills that were checked at once: %d left the VM cut off, %d the old state, %d the "
          "new state.  %d probe rounds of %d real TCP probes (guest to guest, LAN to guest, guest to LAN, "
          "spoofed and secondary source addresses): %d probes passed that neither the old nor the new "
          "policy allows." % (kills["quarantined_after_kill"], kills["old_state_after_kill"],
                              kills["new_state_after_kill"], kills["probe_rounds"], kills["probes_per_round"],
                              len([v for v in kills["violations"] if "passed" in v])))
        w("Table checks that failed: %d.  Next runs that did not converge (tables, state files, "
          "leftovers): %d." % (len(kills["violations"]), len(kills["convergence_failures"])))
        race = kills.get("race", {})
        if race:
            w("Next run started at once, racing the killed run's orphaned children (%d of %d times "
              "some were still running): %d did not converge." % (race.get("with_orphans", 0),
                                                                  race.get("attempts", 0),
                                                                  len(race.get("failures", []))))
        w("Kills with orphaned children still running: %d (%s)." % (
            kills["kills_with_orphans"], ", ".join("%s %d" % kv for kv in sorted(kills["orphan_commands"].items()))))
        w("")
        reasons = {}
        for line in kills["convergence_failures"]:
            key = line.split(":", 1)[0].split(" killed")[0]
            reasons[key] = reasons.get(key, 0) + 1
        if reasons:
            w("Convergence failures by transition: " + ", ".join("%s: %d" % kv for kv in sorted(reasons.items())) + ".")
            w("")
    windows = reports["kill_windows"]
    if windows:
        w("Kills at chosen moments: %s; failing: %s." % (", ".join(windows["scenarios"]),
                                                          ", ".join(sorted(windows["failed"])) or "none"))
        w("")

    failures = reports["failures"]
    w("## Failures (`tests/e2e/reliability_failures.sh`, unit `[sg_apply_faults]`)")
    w("")
    if failures:
        w("| scenario | command | exit | result | message (start) |")
        w("|---|---|---|---|---|")
        for s in failures["scenarios"]:
            w("| %s | %s | %d | %s | %s |" % (s["scenario"], s["op"], s["exit"],
                                             "ok" if not s["problems"] else "**" + s["problems"][0].splitlines()[0][:90] + "**",
                                             s["message"].splitlines()[0][:110].replace("|", "\\|") if s["message"] else ""))
        w("")
    conc = reports["concurrency"]
    w("## Concurrency (`tests/e2e/reliability_concurrency.sh`)")
    w("")
    if conc:
        w("%d VMs: %d parallel runs for different VMs (default, rules, destroy mixed with rules), %d "
          "for single VMs, compared with the same commands run one after the other; %s s." % (
              conc["vms"], conc.get("parallel_runs", 0), conc.get("same_vm_parallel_runs", 0),
              conc.get("parallel_seconds", "?")))
        if "parallel_rules_one_vm_final_seqno" in conc:
            w("12 parallel `rules` runs for one VM ended with seqno %s; `default` with `rules` reverted the "
              "rules %s times." % (conc["parallel_rules_one_vm_final_seqno"],
                                   conc.get("default_with_rules_reverted", "?")))
        for lock in conc.get("lock", []):
            w("- %s, %s: exit %d after %s s" % (lock["lock"], lock["case"], lock["exit"], lock["seconds"]))
        w("")
        for problem in conc.get("problems", []):
            w("- **%s**" % problem.splitlines()[0][:300])
        w("")
    leaks = reports["leaks"]
    w("## Leaks (`tests/e2e/reliability_leaks.sh`)")
    w("")
    if leaks:
        w("%d cycles (default, rules, secondary-ip add, destroy: %d runs) over %d VMs while %d others "
          "stayed programmed, %s s: %s.  Max RSS per run (sg-apply and the tools it runs): median %d KiB "
          "in the first tenth, %d KiB in the last, %d KiB at most." % (
              leaks["cycles"], leaks["runs"], leaks["vms_cycling"], leaks["vms_stable"], leaks["seconds"],
              "every table, set and the state directory as before" if not leaks["problems"] else
              "**%d problems**" % len(leaks["problems"]), leaks["max_rss_kib_first_tenth"],
              leaks["max_rss_kib_last_tenth"], leaks["max_rss_kib_max"]))
        w("")

    w("## Findings")
    w("")
    w("| # | finding | where | test | status |")
    w("|---|---|---|---|---|")
    for index, finding in enumerate(FINDINGS, 1):
        have_report = any(reports.values())
        status = ("reproduces" if finding["check"](reports) else "fixed (no longer reproduces)") \
            if have_report else "?"
        w("| %d | %s | %s | %s | %s |" % (index, finding["title"], finding["where"], finding["test"], status))
    w("")
    w("Notes:")
    w("")
    for note in NOTES:
        w("- " + note)
    w("")
    out.extend(kept_sections(output))
    with open(output, "w") as handle:
        handle.write("\n".join(out))


KEPT_BEGIN = "<!-- kept by report.py: begin -->"
KEPT_END = "<!-- kept by report.py: end -->"


def kept_sections(output):
    """The block between KEPT_BEGIN and KEPT_END of the file being replaced
    (results of other tests, such as sg-check's agreement with the kernel),
    markers included, so regenerating this report does not drop them."""
    try:
        with open(output) as handle:
            text = handle.read()
    except FileNotFoundError:
        return []
    start, end = text.find(KEPT_BEGIN), text.find(KEPT_END)
    if start < 0 or end < start:
        return []
    return text[start:end + len(KEPT_END)].split("\n") + [""]


if __name__ == "__main__":
    main()
