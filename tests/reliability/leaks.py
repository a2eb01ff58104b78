"""Many default / rules / destroy cycles: no table, set, state file or memory
left behind.

Usage (inside a generated sim's dom0):  python3 leaks.py SG_APPLY TMP_DIR HOST_FILE

Half of the VMs stay programmed the whole time (their rules must never
move); the other half cycle: default, rules (a new seqno each time, rules
that alternate in shape), a secondary IP added, destroy.  After every 50
cycles, and at the end, every table and set must be exactly as at the start
(with the stable VMs in place), with no scratch set and no file in the state
directory but the stable VMs' and the host's.  The peak memory (max RSS,
sg-apply and the tools it runs) of each run is recorded: the last runs must
not need more than the first.
"""

import os
import statistics
import sys
import time

import rel

RULE_SHAPES = [
    "I:tcp;22;22;10.0.0.0/8,NEXT ",
    "I:tcp;80;80;10.0.0.0/8,192.168.0.0/16,NEXT I:icmp;8;0;0.0.0.0/0,NEXT E:udp;53;53;0.0.0.0/0,NEXT ",
    "I:all;0;0;10.1.0.0/16,NEXT E:tcp;443;443;0.0.0.0/0,NEXT E:tcp;80;80;0.0.0.0/0,NEXT ",
    "",
]


def main():
    binary, tmp, host_file = sys.argv[1], sys.argv[2], sys.argv[3]
    sg = rel.SgApply(binary, tmp)
    vms = rel.user_vms(host_file)
    rel.check(len(vms) >= 4, "the host needs at least 4 user VMs")
    cycles = rel.scaled(200)
    stable, cycling = vms[: len(vms) // 2], vms[len(vms) // 2:]
    sg.ok(["setup"])
    for vm in stable:
        sg.ok(["default"] + rel.id_args(vm))
        sg.ok(["rules"] + rel.id_args(vm) + ["--sig=5", "--seq=5", "--rules=" + RULE_SHAPES[1]])
    initial = rel.full_dump()
    initial_files = sorted(os.listdir(sg.state_dir))
    rss, runs, problems = [], 0, []
    started = time.monotonic()

    def run(argv):
        nonlocal runs
        rc, out, err, maxrss = sg.run(argv)
        runs += 1
        rss.append(maxrss)
        if rc != 0:
            problems.append("%s: exit %d: %s" % (" ".join(argv)[:200], rc, err.strip()))

    def check_clean(when):
        dump = rel.full_dump()
        if dump != initial:
            problems.append("%s: the tables are not as at the start:\n%s" % (when, rel.first_difference(initial, dump)))
        if "vifwall-tmp-" in dump:
            problems.append("%s: a scratch set is left" % when)
        files = sorted(os.listdir(sg.state_dir))
        if files != initial_files:
            problems.append("%s: state directory holds %s, expected %s" % (when, files, initial_files))

    for cycle in range(cycles):
        vm = cycling[cycle % len(cycling)]
        run(["default"] + rel.id_args(vm))
        run(["rules"] + rel.id_args(vm) + ["--sig=%x" % (cycle + 16), "--seq=%d" % (cycle + 1),
                                          "--rules", RULE_SHAPES[cycle % len(RULE_SHAPES)]])
        run(["secondary-ip", "--vm=" + vm["name"], "--mac=" + vm["mac"], "--ip=10.250.%d.%d" % (
            cycle // 250 % 250, cycle % 250 + 1), "--action=add"])
        run(["destroy", "--vm=" + vm["name"]])
        if (cycle + 1) % 50 == 0 or cycle + 1 == cycles:
            check_clean("after %d cycles" % (cycle + 1))
            rel.log("%d cycles, %d runs, %.0f s, max RSS median %d KiB" % (
                cycle + 1, runs, time.monotonic() - started, statistics.median(rss[-200:])))
        if len(problems) > 20:
            break
    tenth = max(len(rss) // 10, 1)
    first, last = statistics.median(rss[:tenth]), statistics.median(rss[-tenth:])
    if last > first * 1.10 + 1024:
        problems.append("memory grew: median max RSS %d KiB in the first tenth of the runs, %d KiB in "
                        "the last" % (first, last))
    report = {"cycles": cycles, "runs": runs, "vms_cycling": len(cycling), "vms_stable": len(stable),
              "seconds": round(time.monotonic() - started, 1), "max_rss_kib_first_tenth": first,
              "max_rss_kib_last_tenth": last, "max_rss_kib_max": max(rss), "problems": problems}
    rel.write_report("leaks", report)
    if problems:
        for problem in problems[:20]:
            rel.log("FAIL: " + problem[:3000])
        sys.exit(1)
    print("leaks: %d cycles (%d runs) over %d VMs left every table, set and the state directory as "
          "before; max RSS %d -> %d KiB" % (cycles, runs, len(cycling), first, last))


if __name__ == "__main__":
    rel.run_driver(main)
