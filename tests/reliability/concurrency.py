"""Parallel sg-apply runs, and the lock.

Usage (inside a generated sim's dom0):  python3 concurrency.py SG_APPLY TMP_DIR HOST_FILE

  * N parallel `default` runs for N VMs, then N parallel `rules` runs, then
    `destroy` for half of them in parallel with new `rules` for the others:
    every run exits 0, and the final tables equal those of the same final
    commands run one after the other (the order of jumps in shared chains and
    the generation letter of rule sets aside: both depend on run order only);
  * parallel runs for ONE VM: `rules` with seqnos 1..K at once end with the
    highest seqno's rules (older ones are ignored, CloudStack's rule), and K
    identical `default` runs at once change the host exactly once;
  * the lock held elsewhere: a run waits for it and then succeeds when it is
    released in time; with --wait shorter than the hold it exits 75 saying
    "busy" and changes nothing (for our lock and for XAPI's ebtables lock).
"""

import os
import subprocess
import sys
import time

import rel


def run_parallel(sg, commands):
    """Starts every command at once; [(exit, stdout, stderr)] in order."""
    procs = []
    for index, argv in enumerate(commands):
        out = open(os.path.join(sg.tmp, "par-%d.out" % index), "w+b")
        err = open(os.path.join(sg.tmp, "par-%d.err" % index), "w+b")
        procs.append((subprocess.Popen(sg.argv(["--wait=120"] + argv), env=sg.env, stdout=out, stderr=err),
                      out, err))
    results = []
    for proc, out, err in procs:
        proc.wait(timeout=300)
        out.seek(0)
        err.seek(0)
        results.append((proc.returncode, out.read().decode(), err.read().decode()))
        out.close()
        err.close()
    return results


def rules_of(vm, port, seq):
    return ["rules"] + rel.id_args(vm) + ["--sig=%x" % (0x100 + seq), "--seq=%d" % seq,
                                          "--rules=I:tcp;%d;%d;10.0.0.0/8,NEXT E:udp;53;53;0.0.0.0/0,NEXT " % (port, port)]


def hold_lock(path, seconds, ready):
    return subprocess.Popen([sys.executable, "-c", """
import fcntl, sys, time
f = open(sys.argv[1], "a+"); fcntl.lockf(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
""", path, ready, str(seconds)])


def main():
    binary, tmp, host_file = sys.argv[1], sys.argv[2], sys.argv[3]
    sg = rel.SgApply(binary, tmp)
    vms = rel.user_vms(host_file)
    rel.check(len(vms) >= 8, "the host needs at least 8 user VMs")
    report = {"vms": len(vms)}
    sg.ok(["setup"])
    initial = rel.full_dump()
    problems = []

    def expect_all_ok(results, what):
        bad = [(i, rc, err.strip()) for i, (rc, _, err) in enumerate(results) if rc != 0]
        if bad:
            problems.append("%s: %d of %d runs failed: %s" % (what, len(bad), len(results), bad[:3]))

    started = time.monotonic()
    # ---- many VMs at once ------------------------------------------------------
    final_commands = {}
    expect_all_ok(run_parallel(sg, [["default"] + rel.id_args(vm) for vm in vms]), "parallel default")
    expect_all_ok(run_parallel(sg, [rules_of(vm, 1000 + i, 1) for i, vm in enumerate(vms)]), "parallel rules")
    half = len(vms) // 2
    mixed = [["destroy", "--vm=" + vm["name"]] for vm in vms[:half]] + \
            [rules_of(vm, 2000 + i, 2) for i, vm in enumerate(vms[half:])]
    expect_all_ok(run_parallel(sg, mixed), "parallel destroy and rules")
    for i, vm in enumerate(vms[half:]):
        final_commands[vm["name"]] = [["default"] + rel.id_args(vm), rules_of(vm, 2000 + i, 2)]
    parallel_dump = rel.full_dump(sg.state_dir)
    report["parallel_runs"] = 3 * len(vms)

    # ---- one VM, many runs at once -------------------------------------------------
    target = vms[0]  # destroyed above
    sg.ok(["default"] + rel.id_args(target))
    k = 12
    results = run_parallel(sg, [rules_of(target, 3000 + seq, seq) for seq in range(1, k + 1)])
    expect_all_ok(results, "parallel rules for one VM")
    with open(os.path.join(sg.state_dir, target["name"] + ".log")) as handle:
        log_fields = handle.read().strip().split(",")
    report["parallel_rules_one_vm_final_seqno"] = "%s of 1..%d" % (log_fields[5], k)
    if log_fields[5] != str(k):
        problems.append("after %d parallel rules runs for one VM the log has seqno %s, expected %d" %
                        (k, log_fields[5], k))
    chain = [l for l in rel.iptables_dump().splitlines() if l.startswith("-A %s " % target["name"])]
    if not any("--dport %d " % (3000 + k) in l for l in chain) or \
            any("--dport %d " % (3000 + s) in l for l in chain for s in range(1, k)):
        problems.append("after parallel rules runs for one VM its chain is not seqno %d's: %s" % (k, chain))
    final_commands[target["name"]] = [["default"] + rel.id_args(target), rules_of(target, 3000 + k, k)]
    other = vms[1]  # destroyed above
    results = run_parallel(sg, [["-v", "default"] + rel.id_args(other) for _ in range(k)])
    expect_all_ok(results, "parallel identical default for one VM")
    changed = sum(1 for _, out, _ in results if out.strip() != "nothing to change")
    if changed != 1:
        problems.append("%d identical parallel default runs for one VM: %d changed the host, expected 1" %
                        (k, changed))
    # `default` keeps the rules already applied: started together with a
    # `rules` update, it must not put the older rules back.
    third = vms[3]
    sg.ok(["default"] + rel.id_args(third))
    trials, reverted = 8, 0
    for trial in range(trials):
        seq = 10 + trial
        results = run_parallel(sg, [rules_of(third, 4000 + seq, seq), ["default"] + rel.id_args(third)])
        expect_all_ok(results, "rules and default together for one VM")
        chain = [l for l in rel.iptables_dump().splitlines() if l.startswith("-A %s " % third["name"])]
        if not any("--dport %d " % (4000 + seq) in l for l in chain):
            reverted += 1
            last = chain
        sg.ok(rules_of(third, 4000 + seq, seq))  # whatever happened, the newest rules for the next trial
    if reverted:
        problems.append("`rules --seq N` and `default` started together for one VM: %d of %d times the "
                        "older rules were back in force afterwards (e.g. %s)" % (reverted, trials, last))
    final_commands[third["name"]] = [["default"] + rel.id_args(third), rules_of(third, 4000 + 10 + trials - 1,
                                                                             10 + trials - 1)]
    final_commands[other["name"]] = [["default"] + rel.id_args(other)]
    report["same_vm_parallel_runs"] = 2 * k + 2 * trials
    report["default_with_rules_reverted"] = "%d of %d" % (reverted, trials)
    parallel_dump = rel.full_dump()

    # ---- the same final commands, one after the other -------------------------------
    for vm in vms:
        sg.run(["destroy", "--vm=" + vm["name"]])
    rel.check(rel.canonical(rel.full_dump()) == rel.canonical(initial), "destroying every VM did not "
              "restore the initial tables")
    for vm in vms:
        for argv in final_commands.get(vm["name"], []):
            sg.ok(argv)
    sequential_dump = rel.full_dump()
    if rel.canonical(parallel_dump) != rel.canonical(sequential_dump):
        problems.append("parallel runs ended in another state than sequential ones:\n" +
                        rel.first_difference(rel.canonical(sequential_dump), rel.canonical(parallel_dump)))
    report["parallel_seconds"] = round(time.monotonic() - started, 1)

    # ---- the lock ----------------------------------------------------------------------
    vm = vms[2]
    for lock_name, path in (("sg-apply lock", os.path.join(tmp, "lock")),
                            ("XAPI's ebtables lock", os.path.join(tmp, "eblock"))):
        ready = os.path.join(tmp, "locked")
        if os.path.exists(ready):
            os.unlink(ready)
        holder = hold_lock(path, 1.0, ready)
        while not os.path.exists(ready):
            time.sleep(0.01)
        t0 = time.monotonic()
        rc, out, err, _ = sg.run(["--wait=10", "-v", "default"] + rel.id_args(vm))
        waited = time.monotonic() - t0
        holder.wait()
        if rc != 0 or waited < 0.8:
            problems.append("%s held for 1 s, --wait 10: exit %d after %.2f s (expected 0 after ~1 s): %s" %
                            (lock_name, rc, waited, err.strip()))
        report.setdefault("lock", []).append({"lock": lock_name, "case": "held 1 s, --wait 10",
                                              "exit": rc, "seconds": round(waited, 2)})
        before = rel.full_dump(sg.state_dir)
        if os.path.exists(ready):
            os.unlink(ready)
        holder = hold_lock(path, 5.0, ready)
        while not os.path.exists(ready):
            time.sleep(0.01)
        t0 = time.monotonic()
        rc, out, err, _ = sg.run(["--wait=0.5", "destroy", "--vm=" + vm["name"]])
        waited = time.monotonic() - t0
        holder.kill()
        holder.wait()
        if rc != 75 or "busy" not in err or not 0.4 < waited < 3:
            problems.append("%s held, --wait 0.5: exit %d after %.2f s, expected 75 and \"busy\": %s" %
                            (lock_name, rc, waited, err.strip()))
        if rel.full_dump(sg.state_dir) != before:
            problems.append("%s held: the timed-out run changed the host" % lock_name)
        report["lock"].append({"lock": lock_name, "case": "held 5 s, --wait 0.5", "exit": rc,
                               "seconds": round(waited, 2), "message": err.strip()})
    report["problems"] = problems
    rel.write_report("concurrency", report)
    if problems:
        for problem in problems:
            rel.log("FAIL: " + problem[:3000])
        sys.exit(1)
    print("concurrency: %d VMs, %d parallel runs, %d for one VM, lock waits and timeouts (75) as documented"
          % (len(vms), report["parallel_runs"], report["same_vm_parallel_runs"]))


if __name__ == "__main__":
    rel.run_driver(main)
