"""SIGKILL sg-apply at chosen moments that random kills hit only sometimes.

Usage (inside the simulated seed dom0):  python3 kill_windows.py SG_APPLY TMP_DIR [SCENARIO...]

Scenarios (each starts from a clean host: setup, B with defaults, A's state):
  destroy-lift     `destroy` killed after iptables and arptables dropped A's
                   rules, before the ebtables load that lifts A's cut-off.
                   The next `destroy` must leave no DROP rule for A's VIF.
  log-before-state `rules` killed between renaming A.state and A.log (strace
                   injects SIGKILL at the fourth rename; sg-apply writes the
                   log last, so a killed run leaves a log that asks for the
                   rules again).  The next run with the same seqno must
                   reprogram and leave A.state saying what is applied, and a
                   later `default` must not bring back the old rules.
  truncated-input  `default` killed while the ebtables-restore child is still
                   reading a table larger than a pipe holds (64 KiB): the
                   child must not load the part it got.  Other chains (B's,
                   other software's) must keep every rule.
Exit status 1 when a scenario fails; each prints what it found.
"""

import os
import re
import signal
import subprocess
import sys
import time

import rel
from rel import A, A_VIF, B, B_IP, B_MAC, ID_ARGS

WEB_RULES = "I:tcp;80;80;%s/32,NEXT " % B_IP
SSH_RULES = "I:tcp;22;22;%s/32,NEXT " % B_IP


def wrapper_dir(tmp, name, script):
    """A directory holding one executable `name` (put first in PATH)."""
    directory = os.path.join(tmp, "wrap-" + name + "-" + str(time.monotonic_ns()))
    os.makedirs(directory)
    path = os.path.join(directory, name)
    with open(path, "w") as handle:
        handle.write("#!/bin/sh\n" + script)
    os.chmod(path, 0o755)
    return directory


def clean_host(sg):
    """Nothing of ours, then setup and B."""
    # A `default` first, so A's VIF is named in the tables again.
    sg.run(["default"] + ID_ARGS)
    for vm in (A, B):
        sg.run(["destroy", "--vm=" + vm])
    # A quarantine nobody owns any more (see destroy-lift) is removed by hand.
    text = rel.run_text(["ebtables-save"])
    if re.search(r"^-A FORWARD -[io] \S+ -j vifwall-cutoff$", text, re.M):
        kept = "\n".join(line for line in text.splitlines()
                         if not re.match(r"^-A FORWARD -[io] vif\S+ -j vifwall-cutoff$", line)) + "\n"
        subprocess.run([rel.real("ebtables-restore")], input=kept.encode(), check=True)
    sg.ok(["setup"])
    sg.ok(["default", "--vm=" + B, "--vm-id=5", "--ip=" + B_IP, "--mac=" + B_MAC, "--vif=vif8.0",
           "--vif=tap8.0"])


def ebtables_chains(text):
    """{chain: [rules]} from `ebtables -L`."""
    chains, current = {}, None
    for line in text.splitlines():
        match = re.match(r"Bridge chain: (\S+), entries: \d+, policy: (\S+)", line)
        if match:
            current = match.group(1)
            chains[current] = ["policy " + match.group(2)]
        elif current and line.strip():
            chains[current].append(line.strip())
    return chains


def destroy_lift(sg, tmp):
    clean_host(sg)
    before = rel.full_dump()
    sg.ok(["default"] + ID_ARGS)
    sg.ok(["rules"] + ID_ARGS + ["--sig=1", "--seq=1", "--rules=" + SSH_RULES])
    counter = os.path.join(tmp, "eb-count")
    if os.path.exists(counter):
        os.unlink(counter)
    # The second ebtables-restore of the destroy is the one lifting the
    # cut-off: the wrapper kills sg-apply (its parent) instead.
    directory = wrapper_dir(tmp, "ebtables-restore", """
n=$(cat '%s' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '%s'
if [ "$n" -ge 2 ]; then kill -9 $PPID; exit 1; fi
exec '%s' "$@"
""" % (counter, counter, rel.real("ebtables-restore")))
    killed = rel.SgApply(sg.binary, sg.tmp, extra_env={"PATH": directory + ":" + os.environ["PATH"]})
    rc, _, err, _ = killed.run(["destroy", "--vm=" + A])
    rel.check(rc == -signal.SIGKILL, "the destroy was not killed where intended: exit %d %s" % (rc, err))
    cut_off = [line for line in rel.ebtables_dump().splitlines() if line.strip() in
               ("-i %s -j vifwall-cutoff" % A_VIF, "-o %s -j vifwall-cutoff" % A_VIF)]
    rel.check(cut_off, "after the kill A should still be cut off (the quarantine)")
    sg.ok(["destroy", "--vm=" + A], "destroy after the kill")
    after = rel.full_dump()
    problems = []
    if after != before:
        problems.append("the next destroy did not converge:\n" + rel.first_difference(before, after))
    sg.ok(["destroy", "--vm=" + A], "a second destroy")
    if rel.full_dump() != before:
        problems.append("nor did a second destroy: the DROP rules for %s stay for good" % A_VIF)
    return problems


def log_before_state(sg, tmp):
    clean_host(sg)
    sg.ok(["default"] + ID_ARGS)
    sg.ok(["rules"] + ID_ARGS + ["--sig=1", "--seq=1", "--rules=" + WEB_RULES])
    # Renames of a `rules` run: two probe files, then A.state, then A.log.
    strace = rel.real("strace")
    argv = [strace, "-qq", "-o", "/dev/null", "-e", "trace=rename,renameat,renameat2",
            "-e", "inject=rename,renameat,renameat2:signal=KILL:when=4"] + \
        sg.argv(["rules"] + ID_ARGS + ["--sig=2", "--seq=2", "--rules=" + SSH_RULES])
    proc = subprocess.run(argv, env=sg.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(os.path.join(sg.state_dir, A + ".log")) as handle:
        log_text = handle.read()
    with open(os.path.join(sg.state_dir, A + ".state")) as handle:
        state_text = handle.read()
    rel.check("seqno 2" in state_text and log_text.split(",")[5] == "1",
              "the kill did not land between the two renames (exit %d): log %r" % (proc.returncode, log_text))
    problems = []
    rc, out, err, _ = sg.run(["-v", "rules"] + ID_ARGS + ["--sig=2", "--seq=2", "--rules=" + SSH_RULES])
    if rc != 0:
        problems.append("the next rules run failed: %s" % err)
    with open(os.path.join(sg.state_dir, A + ".state")) as handle:
        state_text = handle.read()
    if "seqno 2" not in state_text or "80;80" in state_text:
        problems.append("after the next `rules --seq 2` (%s) A.state still records seqno 1 and the "
                        "tcp/80 rule: %s" % ((out + err).strip(), " | ".join(
                            l for l in state_text.splitlines() if l.startswith(("rules", "seqno")))))
    leftovers = [n for n in os.listdir(sg.state_dir) if ".tmp." in n]
    if leftovers:
        problems.append("temporary files left after the next run: %s" % leftovers)
    # A later `default` (a reboot, a secondary IP) reads A.state's rules.
    sg.ok(["default"] + ID_ARGS + ["--sec-ips=10.147.41.241;"])
    chain = [l for l in rel.iptables_dump().splitlines() if l.startswith("-A %s " % A)]
    if any("--dport 80" in l for l in chain):
        problems.append("a later `default` re-opened tcp/80 from B, revoked by rules --seq 2: %s" % chain)
    return problems


PIPE_BYTES = 65536  # what a pipe holds before a writer blocks (Linux default)


def ip_of_length(length, index):
    """A dotted quad of exactly `length` characters (7..15)."""
    parts = [1, 1, 1, 1]
    extra = length - 7
    for position in range(4):
        add = min(extra, 2)
        parts[position] = [1 + index % 9, 10 + index % 90, 100 + index % 156][add]
        extra -= add
    return ".".join(str(p) for p in parts)


def load_foreign_chain(ips):
    """OTHER-SOFTWARE (declared before B's chain) with one rule per address."""
    table = rel.run_text(["ebtables-save"])
    lines = [l for l in table.splitlines() if not l.startswith("#") and not l.startswith("-A OTHER-SOFTWARE ")]
    if ":OTHER-SOFTWARE ACCEPT" not in lines:
        lines.insert(lines.index(":DEFAULT_EBTABLES RETURN") + 1, ":OTHER-SOFTWARE ACCEPT")
    rules = ["-A OTHER-SOFTWARE -p IPv4 --ip-src %s -j CONTINUE" % ip for ip in ips]
    subprocess.run([rel.real("ebtables-restore")], input=("\n".join(lines + rules) + "\n").encode(), check=True)


def first_ebtables_load(sg, argv):
    """The first ebtables-restore input of a run, from --dry-run."""
    out = sg.ok(["--dry-run"] + argv)
    match = re.search(r"^# ebtables-restore[^\n]*\n(.*?)(?=^# |\Z)", out, re.S | re.M)
    rel.check(match, "no ebtables load in the dry run")
    return match.group(1)


def truncated_input(sg, tmp):
    clean_host(sg)
    sg.run(["destroy", "--vm=" + B])
    # Another software's big chain, declared before B's, so B's rules come
    # after it in the table text; its rules are sized so that the first
    # 64 KiB of the text end exactly at the end of a line: a truncated table
    # that ebtables-restore can parse.
    load_foreign_chain(["10.9.0.1"] * 1500)
    sg.ok(["default", "--vm=" + B, "--vm-id=5", "--ip=" + B_IP, "--mac=" + B_MAC, "--vif=vif8.0",
           "--vif=tap8.0"])
    argv = ["default"] + ID_ARGS
    text = first_ebtables_load(sg, argv)
    start = text.index("-A OTHER-SOFTWARE ")
    base = len("-A OTHER-SOFTWARE -p IPv4 --ip-src  -j CONTINUE\n")
    room = PIPE_BYTES - start
    count = room // (base + 11)
    lengths = [7] * count
    left = room - count * (base + 7)
    for index in range(count):
        add = min(8, left)
        lengths[index] += add
        left -= add
    rel.check(left == 0, "cannot size the foreign rules to %d bytes" % room)
    load_foreign_chain([ip_of_length(n, i) for i, n in enumerate(lengths)] + ["10.8.0.1"] * 200)
    text = first_ebtables_load(sg, argv)
    rel.check(len(text) > PIPE_BYTES and text[PIPE_BYTES - 1] == "\n" and
              text.index("-A %s " % B) > PIPE_BYTES,
              "could not place a line end at byte %d before B's rules" % PIPE_BYTES)
    before = ebtables_chains(rel.ebtables_dump())
    # The child reads slowly: sg-apply blocks writing the table into the
    # pipe, and is killed there.
    directory = wrapper_dir(tmp, "ebtables-restore", "sleep 0.6\nexec '%s' \"$@\"\n" % rel.real("ebtables-restore"))
    slow = rel.SgApply(sg.binary, sg.tmp, extra_env={"PATH": directory + ":" + os.environ["PATH"]})
    proc = slow.start(argv)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    slow.finish(proc)
    rel.reap_orphans()
    after = ebtables_chains(rel.ebtables_dump())
    problems = []
    for chain, rules_before in before.items():
        got = after.get(chain)
        if got is None:
            problems.append("chain %s is gone" % chain)
        elif chain != "FORWARD" and got != rules_before:
            problems.append("chain %s: %d rules before, %d after the kill: the first %d bytes of the "
                            "table were loaded" % (chain, len(rules_before) - 1, len(got) - 1, PIPE_BYTES))
    # The next run for A does not repair B.
    sg.run(argv)
    final = ebtables_chains(rel.ebtables_dump())
    if final.get(B) != before.get(B):
        problems.append("after the next run for A, B's chain still has %d of its %d rules: B's MAC "
                        "and DHCP anti-spoofing are gone" % (len(final.get(B, [None])) - 1,
                                                             len(before.get(B)) - 1))
    return problems


SCENARIOS = {"destroy-lift": destroy_lift, "log-before-state": log_before_state,
             "truncated-input": truncated_input}


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(SCENARIOS)
    rel.become_subreaper()
    sg = rel.SgApply(binary, tmp)
    failed = {}
    for name in names:
        problems = SCENARIOS[name](sg, tmp)
        if problems:
            failed[name] = problems
            rel.log("FAIL %s:\n  %s" % (name, "\n  ".join(p[:3000] for p in problems)))
        else:
            rel.log("ok   %s" % name)
    rel.write_report("kill_windows", {"scenarios": names, "failed": failed})
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    rel.run_driver(main)
