"""Failures on the simulated dom0: a tool that refuses a load, a missing tool,
a state directory that cannot take the state files.

Usage (inside the simulated seed dom0):  python3 failures.py SG_APPLY TMP_DIR

Each scenario runs one sg-apply command (a `default` for a new VM, a `rules`
change, a `destroy`) with one fault injected: wrapper scripts first in PATH
stand for a tool that fails (all its calls, or only its N-th), a private
mount namespace hides tools or gives a full or read-only state directory.
Every scenario must end with exit status 1, a message naming what failed,
and every table, set and state file as before the run (the change rolled
back, or never started).
"""

import os
import re
import shutil
import subprocess
import sys
import time

import rel
from rel import A, B, B_IP, B_MAC, ID_ARGS


def snapshot(state_dir):
    """Tables, sets (hash seeds blanked: a rolled-back set is a new set) and
    the state files' contents."""
    return rel.full_dump(state_dir, sort_sets=True, with_mtime=False)


class Scenario:
    def __init__(self, name, op, fault, message, failing=None, argv_prefix=(), mount_script=None,
                 timeout=None):
        self.name, self.op, self.fault, self.message = name, op, fault, message
        self.failing = failing or {}  # tool -> shell snippet run before exec'ing the real tool
        self.argv_prefix = list(argv_prefix)
        self.mount_script = mount_script
        self.timeout = timeout


def wrappers(tmp, name, failing):
    """A directory of wrapper scripts: TOOL runs SNIPPET (which may exit with
    an error), then the real TOOL.  A counter file per tool lets a snippet
    fail only its N-th call."""
    directory = os.path.join(tmp, "wrap-" + name)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for tool, snippet in failing.items():
        path = os.path.join(directory, tool)
        counter = os.path.join(directory, tool + ".count")
        with open(path, "w") as handle:
            handle.write("#!/bin/sh\nn=$(cat '%s' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '%s'\n"
                         "%s\nexec '%s' \"$@\"\n" % (counter, counter, snippet, rel.real(tool)))
        os.chmod(path, 0o755)
    return directory


def refuse(message, when="true"):
    """A snippet: the call fails (exit 1, MESSAGE on stderr) when WHEN holds."""
    return "if %s; then cat >/dev/null; echo '%s' >&2; exit 1; fi" % (when, message)


def argv_of(op, seq):
    if op == "default":
        return ["default"] + ID_ARGS + ["--sec-ips=10.147.41.241;"]
    if op == "rules":
        return ["rules"] + ID_ARGS + ["--sig=%x" % (0xf00 + seq), "--seq=%d" % seq,
                                      "--rules=I:tcp;80;80;%s/32,NEXT E:tcp;443;443;0.0.0.0/0,NEXT " % B_IP]
    if op == "destroy":
        return ["destroy", "--vm=" + A]
    raise ValueError(op)


def prepare(sg, op, seq):
    """The host before the faulty run: setup, B, and (for rules/destroy) A."""
    sg.run(["destroy", "--vm=" + A])
    sg.ok(["setup"])
    sg.ok(["default", "--vm=" + B, "--vm-id=5", "--ip=" + B_IP, "--mac=" + B_MAC, "--vif=vif8.0",
           "--vif=tap8.0"])
    if op in ("rules", "destroy"):
        sg.ok(["default"] + ID_ARGS)
        sg.ok(["rules"] + ID_ARGS + ["--sig=%x" % (0xe00 + seq), "--seq=%d" % seq,
                                     "--rules=I:tcp;22;22;%s/32,NEXT " % B_IP])


def scenarios():
    out = []
    modifying = ('case "$1" in -A|-I|-D|-N|-F|-X|-P|-R) m=$(cat "$0.mods" 2>/dev/null || echo 0); '
                 'm=$((m + 1)); echo $m > "$0.mods";; *) m=0;; esac; ')
    first_restore = ('if [ "$1" = -exist ] && [ "$2" = restore ]; then r=$(cat "$0.restores" 2>/dev/null || echo 0); '
                     'r=$((r + 1)); echo $r > "$0.restores"; else r=0; fi; ')
    for op in ("default", "rules", "destroy"):
        # A `rules` change touches iptables and ipset only.
        touches_bridge_tables = op != "rules"
        out += [
            Scenario("iptables-restore refused", op, "iptables-restore exits 1",
                     r"iptables-restore.*(exited with status 1|refused)",
                     {"iptables-restore": refuse("iptables-restore: line 5 failed (test)")}),
            # The first `ipset -exist restore` only (the change's load; the
            # rollback's works), however many listings ran before it.
            Scenario("ipset restore refused", op, "the first ipset restore exits 1", r"ipset",
                     {"ipset": first_restore + refuse("ipset v7: Error in line 2 (test)",
                                                      '[ "$1" = -exist ] && [ "$2" = restore ] && [ "$r" -eq 1 ]')}),
        ]
        if touches_bridge_tables:
            out += [
                Scenario("ebtables-restore refused", op, "every ebtables-restore exits 1", r"ebtables-restore",
                         {"ebtables-restore": refuse("ebtables-restore: error (test)")}),
                Scenario("ebtables-restore lifting the cut-off refused", op,
                         "the second ebtables-restore exits 1 (the rollback's loads work)", r"ebtables-restore",
                         {"ebtables-restore": refuse("ebtables-restore: error (test)", '[ "$n" -eq 2 ]')}),
                Scenario("arptables refused mid-way", op, "the second changing arptables command exits 1",
                         r"arptables", {"arptables-legacy": modifying + refuse("arptables: error (test)",
                                                                                 '[ "$m" -eq 2 ]')}),
            ]
        out += [
            Scenario("iptables-restore hangs", op, "iptables-restore sleeps past --timeout 1",
                     r"iptables-restore.*timed out",
                     {"iptables-restore": "if [ \"$n\" -eq 1 ]; then sleep 5; fi"}, argv_prefix=["--timeout=1"]),
        ]
    # /usr/sbin without the named tools: a bind mount of a directory of
    # links to everything else (binding /dev/null over a tool would follow
    # its symlink and hide xtables-nft-multi, i.e. every tool, instead).
    hide = ('mkdir -p "$SCRATCH/orig" "$SCRATCH/new" && mount --bind /usr/sbin "$SCRATCH/orig" && '
            'for f in "$SCRATCH/orig"/*; do b=${f##*/}; case " %s " in *" $b "*) ;; '
            '*) ln -s "$SCRATCH/orig/$b" "$SCRATCH/new/$b";; esac; done && '
            'mount --bind "$SCRATCH/new" /usr/sbin')
    ebtables_tools = " ".join(name + suffix for name in ("ebtables", "ebtables-nft", "ebtables-legacy")
                              for suffix in ("", "-save", "-restore"))
    out += [
        Scenario("ipset missing", "default", "ipset hidden", r"ipset is missing", mount_script=hide % "ipset"),
        Scenario("ipset and ebtables missing", "default", "ipset and every ebtables hidden",
                 r"(?s)(no working ebtables.*ipset is missing|ipset is missing.*no working ebtables)",
                 mount_script=hide % ("ipset " + ebtables_tools)),
        Scenario("iptables-restore missing", "rules", "iptables-restore hidden", r"iptables-restore",
                 mount_script=hide % "iptables-restore iptables-nft-restore iptables-legacy-restore"),
        Scenario("state directory full", "default", "tmpfs of 64 KiB, filled", r"cannot write|No space",
                 mount_script="mount -t tmpfs -o size=64k tmpfs \"$STATE\" && cp -a \"$STATE.copy\"/. \"$STATE\"/ "
                              "&& (dd if=/dev/zero of=\"$STATE/filler\" bs=4k 2>/dev/null; true)"),
        Scenario("state directory full (rules)", "rules", "tmpfs of 64 KiB, filled", r"cannot write|No space",
                 mount_script="mount -t tmpfs -o size=64k tmpfs \"$STATE\" && cp -a \"$STATE.copy\"/. \"$STATE\"/ "
                              "&& (dd if=/dev/zero of=\"$STATE/filler\" bs=4k 2>/dev/null; true)"),
        Scenario("state directory read-only", "default", "bind-mounted read-only",
                 r"cannot write|Read-only",
                 mount_script="mount --bind \"$STATE\" \"$STATE\" && mount -o remount,bind,ro \"$STATE\""),
        Scenario("state file is a directory", "default", "STATE/i-2-3-VM.state is a directory",
                 r"i-2-3-VM\.state", mount_script="mkdir \"$STATE/i-2-3-VM.state\""),
        Scenario("state file is a directory (rules)", "rules", "STATE/i-2-3-VM.log is a directory",
                 r"i-2-3-VM\.log", mount_script="rm -f \"$STATE/i-2-3-VM.log\"; mkdir \"$STATE/i-2-3-VM.log\""),
    ]
    return out


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    sg = rel.SgApply(binary, tmp)
    results, failures = [], []
    seq = 0
    for scenario in scenarios():
        seq += 10
        prepare(sg, scenario.op, seq)
        before = snapshot(sg.state_dir)
        argv = scenario.argv_prefix + argv_of(scenario.op, seq + 1)
        env = {}
        if scenario.failing:
            env["PATH"] = wrappers(tmp, re.sub(r"\W+", "-", scenario.name), scenario.failing) + ":" + os.environ["PATH"]
        faulty = rel.SgApply(binary, tmp, extra_env=env)
        started = time.monotonic()
        if scenario.mount_script:
            # A private mount namespace for this one run.
            copy = sg.state_dir + ".copy"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(sg.state_dir, copy, symlinks=True)
            script = scenario.mount_script + ' && exec "$@"'
            proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"] +
                                  faulty.argv(argv), env=dict(faulty.env, STATE=sg.state_dir,
                                                              SCRATCH=os.path.join(tmp, "scratch-%d" % seq)),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            rc, err = proc.returncode, proc.stderr.decode("utf-8", "replace")
            shutil.rmtree(copy, ignore_errors=True)
            if os.path.isdir(os.path.join(sg.state_dir, A + ".state")):
                os.rmdir(os.path.join(sg.state_dir, A + ".state"))
            if os.path.isdir(os.path.join(sg.state_dir, A + ".log")):
                os.rmdir(os.path.join(sg.state_dir, A + ".log"))
                # The file it stood in for, as before the run.
        else:
            rc, _, err, _ = faulty.run(argv, timeout=60)
        elapsed = time.monotonic() - started
        after = snapshot(sg.state_dir)
        problems = []
        if rc != 1:
            problems.append("exit status %d, expected 1" % rc)
        if rc != 0 and not re.search(scenario.message, err):
            problems.append("the message does not say what failed (%s)" % scenario.message)
        if "internal error" in err:
            problems.append("internal error")
        if scenario.name.startswith("state file is a directory (rules)"):
            # The .log was removed by the scenario itself: compare the rest.
            before = re.sub(r"^i-2-3-VM\.log .*\n", "", before, flags=re.M)
            after = re.sub(r"^i-2-3-VM\.log .*\n", "", after, flags=re.M)
        if scenario.op == "destroy" and scenario.name == "ipset restore refused" and rc == 0:
            # destroy ignores a failed set destruction ("the next run
            # destroys them"): the rules are gone, the sets must go later.
            problems = [p for p in problems if not p.startswith("exit status")]
            sg.run(["cleanup", "--running=" + B, "--running=r-4-VM"])
            sg.run(["default", "--vm=" + B, "--vm-id=5", "--ip=" + B_IP, "--mac=" + B_MAC,
                    "--vif=vif8.0", "--vif=tap8.0"])
            left = [line for line in rel.ipset_dump().splitlines()
                    if line.startswith("create " + A)]
            if left:
                problems.append("destroy exited 0 without a word although `ipset destroy` failed, and "
                                "neither a later cleanup nor another VM's run removes A's sets: %s" % left)
        elif after != before:
            problems.append("the host changed:\n" + rel.first_difference(before, after))
        record = {"scenario": scenario.name, "op": scenario.op, "fault": scenario.fault, "exit": rc,
                  "message": err.strip()[:600], "seconds": round(elapsed, 2), "problems": problems}
        results.append(record)
        status = "ok  " if not problems else "FAIL"
        rel.log("%s %-45s %-8s exit %d: %s" % (status, scenario.name, scenario.op, rc,
                                               err.strip().replace("\n", " | ")[:300]))
        for problem in problems:
            rel.log("       " + problem.replace("\n", "\n       ")[:3000])
        if problems:
            failures.append(record)
        # Whatever happened, get back to a clean host for the next scenario.
        sg.run(["default"] + ID_ARGS)
        sg.run(["destroy", "--vm=" + A])
    rel.write_report("failures", {"scenarios": results, "failed": len(failures)})
    if failures:
        rel.log("%d of %d failure scenarios FAILED" % (len(failures), len(results)))
        sys.exit(1)
    print("failures: %d scenarios, each refused with a message naming what failed, nothing changed"
          % len(results))


if __name__ == "__main__":
    rel.run_driver(main)
