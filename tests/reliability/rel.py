"""Shared helpers of the reliability tests (tests/e2e/reliability_*.sh).

The drivers run INSIDE the simulated dom0's network namespace
(`ip netns exec NAME-dom0 python3 DRIVER ...`), so sg-apply and the
netfilter tools are started directly, without `sim dom0`'s overhead.
Packets are sent by probe agents (probe_agent.py) started in the guests'
namespaces.  Standard library only.

A driver starts with `import rel` (Python puts the driver's own directory,
this one, first on sys.path), takes the seed host's VMs from here (A, B,
ID_ARGS) and ends with `rel.run_driver(main)`.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def scale():
    """VIFWALL_RELIABILITY_SCALE: a multiplier of the default counts (CI: 1)."""
    try:
        value = float(os.environ.get("VIFWALL_RELIABILITY_SCALE", "1"))
    except ValueError:
        value = 1.0
    return max(value, 0.01)


def scaled(count):
    return max(1, int(round(count * scale())))


def log(*words):
    print(*words, file=sys.stderr, flush=True)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run_driver(main):
    """A driver's entry point: main(), a Failure printed as "FAIL: ..." and exit 1."""
    try:
        main()
    except Failure as error:
        log("FAIL: %s" % error)
        sys.exit(1)


def real(tool):
    """The path of `tool` in PATH (the real one, before wrappers are put first)."""
    path = shutil.which(tool)
    check(path, "%s not found" % tool)
    return path


class SgApply:
    """Runs build/tools/sg-apply with private state, lock and ebtables-lock paths."""

    def __init__(self, binary, tmp, state_dir=None, extra_env=None):
        self.binary = binary
        self.tmp = tmp
        self.state_dir = state_dir or os.path.join(tmp, "state")
        self.env = dict(os.environ)
        self.env.update({
            "VIFWALL_STATE_DIR": self.state_dir,
            "VIFWALL_LOCK_FILE": os.path.join(tmp, "lock"),
            "VIFWALL_EBTABLES_LOCK": os.path.join(tmp, "eblock"),
            "LC_ALL": "C",
        })
        if extra_env:
            self.env.update(extra_env)

    def argv(self, args):
        return [self.binary] + list(args)

    def start(self, args, stdin=subprocess.DEVNULL):
        """Popen with output in files (no pipe a killed run could leave open)."""
        out = open(os.path.join(self.tmp, "sg.out"), "w+b")
        err = open(os.path.join(self.tmp, "sg.err"), "w+b")
        proc = subprocess.Popen(self.argv(args), env=self.env, stdin=stdin, stdout=out,
                                stderr=err)
        proc._rel_files = (out, err)
        return proc

    def finish(self, proc):
        """Waits with wait4: (status, stdout, stderr, max RSS in KiB)."""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out, err = proc._rel_files
        out.seek(0)
        err.seek(0)
        result = (proc.returncode, out.read().decode("utf-8", "replace"),
                  err.read().decode("utf-8", "replace"), usage.ru_maxrss)
        out.close()
        err.close()
        return result

    def run(self, args, input_bytes=None, timeout=60):
        """(exit status, stdout, stderr, max RSS KiB)."""
        if input_bytes is None:
            proc = self.start(args)
        else:
            proc = self.start(args, stdin=subprocess.PIPE)
            proc.stdin.write(input_bytes)
            proc.stdin.close()
        timed_out = []

        def kill():
            timed_out.append(True)
            proc.kill()
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            result = self.finish(proc)
        finally:
            timer.cancel()
        if timed_out:
            raise Failure("sg-apply %s: still running after %ss" % (" ".join(args)[:200], timeout))
        return result

    def ok(self, args, what=None):
        rc, out, err, _ = self.run(args)
        check(rc == 0, "%s: exit %d: %s" % (what or " ".join(args), rc, err.strip()))
        return out


def run_text(argv):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=dict(os.environ, LC_ALL="C")).stdout.decode()


_COUNTERS = re.compile(r"\[\d+:\d+\]")


def iptables_dump():
    text = run_text(["iptables-save", "-t", "filter"])
    return "".join(_COUNTERS.sub("", line) + "\n" for line in text.splitlines()
                   if not line.startswith("#"))


def ip6tables_dump():
    text = run_text(["ip6tables-save", "-t", "filter"])
    return "".join(_COUNTERS.sub("", line) + "\n" for line in text.splitlines()
                   if not line.startswith("#"))


def ebtables_dump():
    return run_text(["ebtables", "-t", "filter", "-L"])


def arptables_dump():
    return run_text(["arptables-legacy", "-n", "-L"])


def ipset_dump(sort=True):
    text = run_text(["ipset", "save"])
    if not sort:
        return text
    # ipset lists sets in creation order; a destroyed and re-created set
    # moves, and gets a new random hash seed (initval).  Sorting sets (each
    # with its members) and dropping the seed keeps the meaning.
    sets, current = {}, None
    for line in text.splitlines():
        line = re.sub(r" initval 0x[0-9a-f]+", "", line)
        words = line.split()
        if words and words[0] == "create":
            current = words[1]
            sets[current] = [line]
        elif current is not None:
            sets[current].append(line)
    return "".join("\n".join([lines[0]] + sorted(lines[1:])) + "\n"
                   for _, lines in sorted(sets.items()))


def state_listing(state_dir, with_mtime=False):
    """One line per file: name, mode, size, sha256 (and mtime)."""
    if not os.path.isdir(state_dir):
        return "(no state directory)\n" if not os.path.exists(state_dir) else "(not a directory)\n"
    lines = []
    for name in sorted(os.listdir(state_dir)):
        path = os.path.join(state_dir, name)
        st = os.lstat(path)
        digest = ""
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        line = "%s %o %d %s" % (name, st.st_mode, st.st_size, digest)
        if with_mtime:
            line += " %d" % st.st_mtime_ns
        lines.append(line)
    return "".join(line + "\n" for line in lines)


def full_dump(state_dir=None, sort_sets=True, with_mtime=False):
    parts = [("iptables", iptables_dump()), ("ip6tables", ip6tables_dump()), ("ebtables", ebtables_dump()),
             ("arptables", arptables_dump()), ("ipset", ipset_dump(sort_sets))]
    if state_dir is not None:
        parts.append(("state", state_listing(state_dir, with_mtime)))
    return "".join("==== %s\n%s" % (name, text) for name, text in parts)


def first_difference(a, b, context=3):
    """A short unified diff for messages."""
    import difflib
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after",
                                      lineterm="", n=context))
    return "\n".join(lines[:60])


class Agent:
    """A probe agent (probe_agent.py) in one network namespace."""

    def __init__(self, netns, name=None):
        self.name = name or netns
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, sys.executable, os.path.join(HERE, "probe_agent.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def send(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def receive(self):
        line = self.proc.stdout.readline()
        check(line, "probe agent %s died" % self.name)
        reply = json.loads(line)
        check(reply.get("ok"), "probe agent %s: %s" % (self.name, reply.get("error")))
        return reply

    def call(self, **request):
        self.send(**request)
        line = self.proc.stdout.readline()
        check(line, "probe agent %s died" % self.name)
        reply = json.loads(line)
        check(reply.get("ok"), "probe agent %s: %s" % (self.name, reply.get("error")))
        return reply

    def listen(self, ports):
        return self.call(op="listen", ports=list(ports))

    def probe(self, targets, timeout=0.2, source=None):
        """targets: [(ip, port)]; True where a TCP handshake (or a RST) came back."""
        return self.call(op="probe", targets=[list(t) for t in targets], timeout=timeout,
                         source=source)["results"]

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()


def probe_all(agents, probes, timeout=0.2):
    """probes: [(agent name, ip, port, source or None)]; every agent probes at
    the same time.  Returns one bool per probe (True: the packets passed)."""
    groups = {}
    for index, (who, ip, port, source) in enumerate(probes):
        groups.setdefault(who, []).append((index, [ip, port, source]))
    for who, items in groups.items():
        agents[who].send(op="probe", targets=[t for _, t in items], timeout=timeout)
    results = [False] * len(probes)
    for who, items in groups.items():
        answer = agents[who].receive()["results"]
        for (index, _), passed in zip(items, answer):
            results[index] = passed
    return results


def become_subreaper():
    """Orphans of a SIGKILLed sg-apply (its iptables-restore, ...) become our
    children, so the test can wait until they are gone."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    check(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, "prctl(PR_SET_CHILD_SUBREAPER) failed")


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as handle:
            return [int(word) for word in handle.read().split()]
    except OSError:
        return []


def reap_orphans(known=(), timeout=30):
    """Waits for every child not in `known` (orphans adopted as subreaper).
    Returns the commands of those that were still running."""
    names = []
    deadline = time.monotonic() + timeout
    first = True
    while True:
        pending = [pid for pid in children_of(os.getpid()) if pid not in known]
        if first:
            for pid in pending:
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as handle:
                        names.append(handle.read().replace(b"\0", b" ").decode().strip())
                except OSError:
                    pass
            first = False
        if not pending:
            break
        check(time.monotonic() < deadline, "orphans still running after %ss: %s" % (timeout, names))
        for pid in pending:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.002)
    # Zombies adopted and already dead.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    return names


def write_report(name, data):
    """Appends the test's summary to $VIFWALL_RELIABILITY_REPORT_DIR/NAME.json."""
    directory = os.environ.get("VIFWALL_RELIABILITY_REPORT_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    data = dict(data)
    data["scale"] = scale()
    with open(os.path.join(directory, name + ".json"), "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)


def user_vms(host_file):
    """The running user VMs of a sim host file: [{name, id, domid, ip, mac, vifs}]."""
    import shlex
    vms, current = [], None
    with open(host_file) as handle:
        for line in handle:
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] == "vm":
                current = None
                if "running" in words and "user" in words:
                    domid = words[words.index("domid") + 1]
                    current = {"name": words[1], "domid": domid, "vifs": [], "ip": None, "mac": None}
                    match = re.match(r"i-\d+-(\d+)-VM$", words[1])
                    current["id"] = match.group(1) if match else domid
                    vms.append(current)
                    if "hvm" in words:
                        current["hvm"] = True
            elif words[0] == "vif" and current is not None:
                device = words[1]
                current["vifs"].append("vif%s.%s" % (current["domid"], device))
                if device == "0":
                    current["mac"] = words[words.index("mac") + 1]
                    if "ip" in words:
                        current["ip"] = words[words.index("ip") + 1].split("/")[0]
    for vm in vms:
        if vm.get("hvm"):
            vm["vifs"].append("tap%s.0" % vm["domid"])
    return vms


def id_args(vm):
    return (["--vm=" + vm["name"], "--vm-id=" + vm["id"], "--ip=" + vm["ip"], "--mac=" + vm["mac"]] +
            ["--vif=" + vif for vif in vm["vifs"]])


# The seed host's user VMs (examples/hosts/xen6.host), as the drivers that
# run on it use them: A is the VM under test, B a bystander.
A, A_ID, A_IP, A_MAC, A_VIF = "i-2-3-VM", "3", "10.147.41.238", "06:f8:c8:00:00:09", "vif7.0"
B, B_IP, B_MAC = "i-2-5-VM", "10.147.41.240", "06:f8:c8:00:00:0b"
ID_ARGS = id_args({"name": A, "id": A_ID, "ip": A_IP, "mac": A_MAC, "vifs": [A_VIF]})  # A's


_GENERATION = re.compile(r"\b(i-\d+-\d+-VM-[ie]\d+)[ab]\b")
_SHARED = ("BRIDGE-FIREWALL", "FORWARD")


def canonical(dump):
    """A full dump with what legitimately depends on the order of runs made
    neutral: the order of jumps in shared chains (each matches its own VIF,
    so their order means nothing) and the generation letter of per-rule sets."""
    dump = _GENERATION.sub(r"\1G", dump)
    out, block, block_is_shared = [], [], False

    def flush():
        out.extend(sorted(block) if block_is_shared else block)
        block.clear()
    for line in dump.splitlines():
        if line.startswith("-A "):  # iptables-save: sort each shared chain's rules
            chain = line.split()[1]
            if chain in _SHARED:
                out.append("\0" + chain + " " + line)
                continue
            out.append(line)
            continue
        if line.startswith(("Bridge chain: ", "Chain ", "====")) or not line.strip():
            flush()
            block_is_shared = line.startswith(("Bridge chain: FORWARD,", "Chain FORWARD "))
            out.append(re.sub(r"\(\d+ references\)", "", line))
            continue
        block.append(line)
    flush()
    # Group the marked iptables lines per chain, sorted, where the first was.
    result, seen = [], {}
    for line in out:
        if line.startswith("\0"):
            chain = line[1:].split(" ", 1)[0]
            if chain not in seen:
                seen[chain] = len(result)
                result.append([])
            result[seen[chain]].append(line.split(" ", 1)[1])
        else:
            result.append(line)
    text = []
    for item in result:
        text.extend(sorted(item) if isinstance(item, list) else [item])
    return "\n".join(text) + "\n"
