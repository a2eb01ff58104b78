"""Builds and removes a simulated dom0 out of Linux network namespaces.

One sim = one dom0 namespace (bridges, uplinks, vif/tap ports), one
"outside" namespace holding the far ends of the uplinks, and one namespace
per running VM holding the guest end of each VIF.  Every namespace name starts
with the sim name, so two sims never collide, and the state directory
records the namespaces *before* they are created, so `down` can always find
what a killed or failed `up` left behind.

Each dom0 also gets its own /etc/xensource-inventory (the file in which a
XenServer host names itself: INSTALLATION_UUID), as /etc/netns/NS/ entries
that `ip netns exec NS` bind-mounts over /etc (see "etc/netns" below).

All commands run with argument lists (never through a shell).
"""

import ctypes
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from typing import Dict, List, Optional

import hostfile

PR_SET_PDEATHSIG = 1
STATE_FILE = "state.json"
HOST_COPY = "host"
NETNS_DIR = "/run/netns"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

# Test hook: `VIFWALL_SIM_FAIL_AT=<step>` makes `up` fail at that step, so the
# tests can check that a failing `up` removes what it built.
FAIL_AT_ENV = "VIFWALL_SIM_FAIL_AT"
STEPS = ("inventory", "namespaces", "dom0", "outside", "guests", "sysctl")


class SimError(Exception):
    """A failure to report on one line (`sim: ...`)."""


def state_base(explicit: Optional[str] = None) -> str:
    """The directory holding one sub-directory per sim."""
    if explicit:
        return explicit
    if os.environ.get("VIFWALL_SIM_DIR"):
        return os.environ["VIFWALL_SIM_DIR"]
    return os.path.join(os.environ.get("XDG_RUNTIME_DIR") or "/tmp", "vifwall-sim")


def sim_dir(base: str, name: str) -> str:
    return os.path.join(base, name)


def dom0_ns(name: str) -> str:
    return f"{name}-dom0"


def outside_ns(name: str) -> str:
    return f"{name}-out"


def guest_ns(name: str, vm: hostfile.Vm) -> str:
    return f"{name}-g{vm.domid}"


def planned_namespaces(name: str, host: hostfile.Host) -> List[str]:
    return [dom0_ns(name), outside_ns(name)] + [guest_ns(name, vm) for vm in host.running_vms()]


def netns_exists(ns: str) -> bool:
    return os.path.exists(os.path.join(NETNS_DIR, ns))


def dom0_env(environ: Dict[str, str], directory: str, name: str,
             pool_directory: Optional[str] = None) -> Dict[str, str]:
    """The environment of commands in sim `name`'s dom0 (`sim dom0`, and the
    plugins `xe host-call-plugin` runs there): the stand-in xe first in PATH,
    VIFWALL_SIM_HOST/NAME, and VIFWALL_SIM_POOL for a pool member."""
    env = dict(environ)
    env["PATH"] = os.path.join(directory, "bin") + os.pathsep + env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    env["VIFWALL_SIM_HOST"] = os.path.join(directory, HOST_COPY)
    env["VIFWALL_SIM_NAME"] = name
    if pool_directory:
        env["VIFWALL_SIM_POOL"] = pool_directory
    else:
        env.pop("VIFWALL_SIM_POOL", None)
    return env


# ---- running commands ------------------------------------------------------

def _die_with_parent() -> None:
    """preexec_fn: the child gets SIGKILL when `sim` dies, so an `up` killed
    with SIGKILL leaves no `ip` running on that could add namespaces after
    `down` has cleaned up."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def run(argv: List[str], stdin: Optional[str] = None, what: str = "") -> str:
    """Runs argv; raises SimError with its stderr when it fails."""
    try:
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, preexec_fn=_die_with_parent)
    except OSError as exc:
        raise SimError(f"cannot run {argv[0]}: {exc.strerror}") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().replace("\n", "; ")
        raise SimError(f"{what or ' '.join(argv)} failed: {detail}")
    return proc.stdout


def ip_batch(commands: List[str], netns: Optional[str] = None, what: str = "ip -batch") -> None:
    """Runs `ip [-n NS] -batch -` over commands (one `ip` process for many)."""
    if not commands:
        return
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    run(argv, stdin="\n".join(commands) + "\n", what=what)


def ip_batches_parallel(jobs: Dict[str, List[str]], width: int = 8) -> None:
    """Runs one `ip -n NS -batch -` per namespace, `width` at a time."""
    pending = list(jobs.items())
    while pending:
        chunk, pending = pending[:width], pending[width:]
        procs = []
        for ns, commands in chunk:
            proc = subprocess.Popen(["ip", "-n", ns, "-batch", "-"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=_die_with_parent)
            procs.append((ns, proc, "\n".join(commands) + "\n"))
        errors = []
        for ns, proc, text in procs:
            out, err = proc.communicate(text)
            if proc.returncode != 0:
                errors.append(f"configuring namespace {ns} failed: {(err or out).strip()}")
        if errors:
            raise SimError("; ".join(errors))


# ---- prerequisites -----------------------------------------------------------

NETFILTER_TOOLS = ("iptables", "ip6tables", "ebtables", "arptables", "ipset")


def missing_prerequisites() -> List[str]:
    """One human-readable line per missing prerequisite (empty: all there)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root privileges (network namespaces need root: run as root or via sudo)")
    have_ip = shutil.which("ip") is not None
    if not have_ip:
        missing.append("ip (iproute2)")
    for tool in NETFILTER_TOOLS:
        if shutil.which(tool) is None:
            missing.append(f"{tool} (netfilter tool used inside dom0)")
    if shutil.which("sysctl") is None:
        missing.append("sysctl (procps; sets bridge-nf-call-* inside dom0)")
    if have_ip and os.geteuid() == 0:
        missing.extend(_probe_kernel())
    return missing


def _probe_kernel() -> List[str]:
    """Tries bridge, veth and tap creation in a throw-away namespace."""
    probe = f"vwprobe-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        run(["ip", "netns", "add", probe])
    except SimError as exc:
        return [f"network namespace support ({exc})"]
    missing = []
    try:
        for label, argv in (
                ("bridge support (kernel module bridge)", ["link", "add", "vwbr", "type", "bridge"]),
                ("veth support (kernel module veth)", ["link", "add", "vwv0", "type", "veth", "peer", "name", "vwv1"]),
                ("tap support (/dev/net/tun, kernel module tun)", ["tuntap", "add", "dev", "vwtap", "mode", "tap"])):
            proc = subprocess.run(["ip", "-n", probe] + argv, capture_output=True, text=True)
            if proc.returncode != 0:
                missing.append(f"{label}: {proc.stderr.strip()}")
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return missing


# ---- state ------------------------------------------------------------------

def read_state(directory: str) -> Optional[dict]:
    try:
        with open(os.path.join(directory, STATE_FILE), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_state(directory: str, state: dict) -> None:
    path = os.path.join(directory, STATE_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def list_sims(base: str) -> List[str]:
    try:
        entries = sorted(os.listdir(base))
    except FileNotFoundError:
        return []
    return [e for e in entries if os.path.isdir(os.path.join(base, e))]


# ---- etc/netns: each dom0's own /etc/xensource-inventory --------------------
#
# `ip netns exec NS CMD` unshares the mount namespace and bind-mounts every
# entry of /etc/netns/NS/ over /etc/<entry> (iproute2 ip/ipnetns.c,
# bind_etc(); ip-netns(8): "ip netns exec automates handling of this
# configuration, file convention for network namespace unaware applications,
# by creating a mount namespace and bind mounting all of the per network
# namespace configure files into their traditional location in /etc").
# So /etc/netns/<sim>-dom0/xensource-inventory is what everything run in that
# dom0 through `ip netns exec` (sim dom0, xe host-call-plugin, the
# reliability drivers) reads as /etc/xensource-inventory.
#
# A bind mount needs its target to exist: with no /etc/xensource-inventory on
# this machine, iproute2 6.1 prints "Bind /etc/netns/NS/xensource-inventory ->
# /etc/xensource-inventory failed: No such file or directory" and runs the
# command without it (tried here).  So while any sim has an inventory, a
# placeholder /etc/xensource-inventory (comment lines only) is the mount point;
# it is created only when no such file exists, remembered in PLACEHOLDER_MARK
# (its device and inode), and removed with the last sim's inventory.  A real
# /etc/xensource-inventory (a Xen host) is never touched.  All of it happens
# under ETC_LOCK, so concurrent sims never remove the mount point another one
# still needs.

ETC_NETNS_DIR = "/etc/netns"
INVENTORY_NAME = "xensource-inventory"
INVENTORY_MOUNT_POINT = "/etc/xensource-inventory"
ETC_LOCK = "/run/vifwall-sim-etc.lock"
PLACEHOLDER_MARK = "/run/vifwall-sim-etc.placeholder"
PLACEHOLDER_TEXT = ("# Mount point left by the vifwall simulator (sim/sim) while a sim is up:\n"
                    "# `ip netns exec NAME-dom0` bind-mounts /etc/netns/NAME-dom0/xensource-inventory\n"
                    "# here.  Removed with the last sim.  Not a XenServer inventory.\n")


def etc_netns_dir(ns: str) -> str:
    return os.path.join(ETC_NETNS_DIR, ns)


@contextmanager
def etc_lock():
    fd = os.open(ETC_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def inventory_text(host: hostfile.Host) -> str:
    """The dom0's /etc/xensource-inventory: KEY='VALUE' lines as the host
    installer writes them (xenserver/host-installer backend.py,
    writeInventory(): PRODUCT_BRAND, PRODUCT_VERSION, BUILD_NUMBER,
    INSTALLATION_DATE, INSTALLATION_UUID, CONTROL_DOMAIN_UUID, DOM0_MEM,
    DOM0_VCPUS, MANAGEMENT_INTERFACE, MANAGEMENT_ADDRESS_TYPE; disk keys left
    out).  Values match what the stand-in xe says of the same host."""
    control = next((vm for vm in host.vms if vm.is_control_domain), None)
    management = next((b.name for b in host.bridges if b.ip is not None and b.uplink), "")
    values = [
        ("PRODUCT_BRAND", "XenServer"),
        ("PRODUCT_VERSION", "6.2.0"),
        ("BUILD_NUMBER", "70446c"),
        ("INSTALLATION_DATE", "2013-09-01 14:02:11.000000"),
        ("INSTALLATION_UUID", host.host_uuid()),
        ("CONTROL_DOMAIN_UUID", control.uuid if control else hostfile.stable_uuid("control", host.host_uuid())),
        ("DOM0_MEM", str((control.memory if control else hostfile.DEFAULT_MEMORY["control"]) // (1 << 20))),
        ("DOM0_VCPUS", str(control.vcpus if control else 1)),
        ("MANAGEMENT_INTERFACE", management),
        ("MANAGEMENT_ADDRESS_TYPE", "IPv4"),
    ]
    return "".join(f"{key}='{value}'\n" for key, value in values)


def _read_mark() -> Optional[tuple]:
    try:
        with open(PLACEHOLDER_MARK, encoding="utf-8") as f:
            dev, ino = f.read().split()
        return int(dev), int(ino)
    except (OSError, ValueError):
        return None


def _ensure_mount_point() -> None:
    """Creates the placeholder /etc/xensource-inventory if there is none
    (caller holds etc_lock)."""
    if os.path.lexists(INVENTORY_MOUNT_POINT):
        return
    fd = os.open(INVENTORY_MOUNT_POINT, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, PLACEHOLDER_TEXT.encode())
        st = os.fstat(fd)
    finally:
        os.close(fd)
    with open(PLACEHOLDER_MARK, "w", encoding="utf-8") as f:
        f.write(f"{st.st_dev} {st.st_ino}\n")


def _any_inventory_left() -> bool:
    try:
        entries = os.listdir(ETC_NETNS_DIR)
    except FileNotFoundError:
        return False
    return any(os.path.exists(os.path.join(ETC_NETNS_DIR, e, INVENTORY_NAME)) for e in entries)


def _drop_mount_point_if_unused() -> None:
    """Removes our placeholder once no sim inventory is left (caller holds
    etc_lock).  Only the very file we created goes."""
    mark = _read_mark()
    if mark is None or _any_inventory_left():
        return
    try:
        st = os.lstat(INVENTORY_MOUNT_POINT)
        if (st.st_dev, st.st_ino) == mark:
            os.unlink(INVENTORY_MOUNT_POINT)
    except FileNotFoundError:
        pass
    try:
        os.unlink(PLACEHOLDER_MARK)
    except FileNotFoundError:
        pass


def install_inventory(ns: str, text: str) -> None:
    """Writes /etc/netns/NS/xensource-inventory (atomically) and makes sure
    /etc/xensource-inventory exists for `ip netns exec NS` to bind it on."""
    with etc_lock():
        os.makedirs(ETC_NETNS_DIR, mode=0o755, exist_ok=True)
        directory = etc_netns_dir(ns)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        # The temporary file sits in /etc/netns itself: an entry of
        # /etc/netns/NS would be bind-mounted (or warned about) by any
        # concurrent `ip netns exec NS`.
        tmp = os.path.join(ETC_NETNS_DIR, f".{ns}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(directory, INVENTORY_NAME))
        _ensure_mount_point()


def remove_etc_netns(directories: List[str]) -> List[str]:
    """Removes /etc/netns/NS directories (and /etc/netns when empty, and the
    placeholder when no sim needs it); returns what would not go."""
    left = []
    with etc_lock():
        for directory in directories:
            if os.path.dirname(directory) != ETC_NETNS_DIR:
                continue  # never anything outside /etc/netns
            shutil.rmtree(directory, ignore_errors=True)
            if os.path.lexists(directory):
                left.append(directory)
        try:
            os.rmdir(ETC_NETNS_DIR)
        except OSError:
            pass  # not empty (other sims, or somebody else's entries), or absent
        _drop_mount_point_if_unused()
    return left


def etc_netns_of(name: str) -> List[str]:
    """The /etc/netns entries that belong to sim `name` (by name)."""
    try:
        entries = os.listdir(ETC_NETNS_DIR)
    except FileNotFoundError:
        return []
    return [etc_netns_dir(e) for e in entries if e == dom0_ns(name)]


# ---- up ---------------------------------------------------------------------

class Interrupted(Exception):
    pass


def _raise_interrupted(signum, _frame):
    raise Interrupted(f"interrupted by signal {signal.Signals(signum).name}")


def new_name() -> str:
    return "vw" + secrets.token_hex(3)


def check_step(step: str) -> None:
    if os.environ.get(FAIL_AT_ENV) == step:
        raise SimError(f"injected failure at step {step} ({FAIL_AT_ENV})")


_check_step = check_step


def _dom0_commands(name: str, host: hostfile.Host) -> List[str]:
    cmds = ["link set lo up"]
    for b in host.bridges:
        cmds.append(f"link add {b.name} type bridge")
        if b.mac:
            # A bridge takes its uplink's MAC in XenServer; an explicit address
            # also stops it from changing as ports come and go.
            cmds.append(f"link set {b.name} address {b.mac}")
        if b.uplink:
            cmds.append(f"link add {b.uplink} type veth peer name {b.uplink} netns {outside_ns(name)}")
            if b.mac:
                cmds.append(f"link set {b.uplink} address {b.mac}")
            cmds.append(f"link set {b.uplink} master {b.name}")
            cmds.append(f"link set {b.uplink} up")
    for vm in host.running_vms():
        for vif in vm.vifs:
            port = vm.dom0_ifname(vif)
            cmds.append(f"link add {port} type veth peer name {vm.guest_ifname(vif)} "
                        f"address {vif.mac} netns {guest_ns(name, vm)}")
            cmds.append(f"link set {port} address {hostfile.XEN_BACKEND_MAC}")
            cmds.append(f"link set {port} master {vif.bridge}")
            cmds.append(f"link set {port} up")
            if vm.hvm:
                tap = vm.tap_ifname(vif)
                cmds.append(f"tuntap add dev {tap} mode tap")
                cmds.append(f"link set {tap} address {hostfile.XEN_BACKEND_MAC}")
                cmds.append(f"link set {tap} master {vif.bridge}")
                cmds.append(f"link set {tap} up")
    for b in host.bridges:
        cmds.append(f"link set {b.name} up")
        if b.ip is not None:
            cmds.append(f"addr add {b.ip} brd + dev {b.name}")
    return cmds


def _outside_commands(host: hostfile.Host) -> List[str]:
    cmds = ["link set lo up"]
    for b in host.bridges:
        if b.uplink:
            if b.outside_ip6 is not None:
                cmds.append(f"link set dev {b.uplink} addrgenmode none")  # see _outside_link_locals
            cmds.append(f"link set {b.uplink} up")
            if b.outside_ip is not None:
                cmds.append(f"addr add {b.outside_ip} brd + dev {b.uplink}")
            if b.outside_ip6 is not None:
                cmds.append(f"addr add {b.outside_ip6} dev {b.uplink} nodad")
    return cmds


def _ipv6_link_local_commands(dev: str, mac: str) -> List[str]:
    """Before `dev` goes up: no kernel-made link-local (it would be
    tentative for the 1-2 s of duplicate address detection, and unusable as a
    source meanwhile) but the same EUI-64 address of `mac`, usable at once
    (nodad)."""
    return [f"link set dev {dev} addrgenmode none", f"addr add {hostfile.link_local(mac)}/64 dev {dev} nodad"]


def _outside_link_locals(name: str, host: hostfile.Host) -> None:
    """The EUI-64 link-local (nodad) of each outside uplink with IPv6: its
    MAC is the kernel's random one, known only once the veth exists."""
    uplinks = [b.uplink for b in host.bridges if b.uplink and b.outside_ip6 is not None]
    if not uplinks:
        return
    links = json.loads(run(["ip", "-n", outside_ns(name), "-j", "link", "show"], what="reading the outside links"))
    macs = {link["ifname"]: link["address"] for link in links}
    ip_batch([f"addr add {hostfile.link_local(macs[dev])}/64 dev {dev} nodad" for dev in uplinks],
             netns=outside_ns(name), what="adding the outside link-local addresses")


def _guest_commands(vm: hostfile.Vm) -> List[str]:
    cmds = ["link set lo up"]
    for vif in vm.vifs:
        dev = vm.guest_ifname(vif)
        if vif.ipv6:
            cmds += _ipv6_link_local_commands(dev, vif.mac)
        cmds.append(f"link set {dev} up")
        for addr in vif.ipv4:
            cmds.append(f"addr add {addr} brd + dev {dev}")
        for addr in vif.ipv6:
            # nodad: the address is usable at once, no 1-2 s duplicate probe.
            cmds.append(f"addr add {addr} dev {dev} nodad")
    return cmds


def _set_bridge_sysctls(ns: str) -> None:
    keys = ["net.bridge.bridge-nf-call-iptables=1", "net.bridge.bridge-nf-call-arptables=1",
            "net.bridge.bridge-nf-call-ip6tables=1"]
    argv = ["ip", "netns", "exec", ns, "sysctl", "-q", "-w"] + keys
    if subprocess.run(argv, capture_output=True).returncode == 0:
        return
    # The net.bridge.* sysctls appear once br_netfilter is loaded.
    subprocess.run(["modprobe", "br_netfilter"], capture_output=True)
    run(argv, what="setting net.bridge.bridge-nf-call-{iptables,arptables,ip6tables}=1 in dom0 "
                   "(is br_netfilter available?)")


def up(host_path: str, base: str, name: Optional[str] = None, pool: Optional[str] = None,
       host_text: Optional[str] = None) -> str:
    """Builds a sim from host_path; returns its name.  Cleans up on failure.
    `pool`: the pool this sim is a member of (recorded in its state).
    `host_text`: the host file's text when already read (pool-up)."""
    if host_text is None:
        with open(host_path, encoding="utf-8") as f:
            host_text = f.read()
    host = hostfile.parse(host_text, host_path)  # parse errors leave nothing behind
    os.makedirs(base, exist_ok=True)

    if name is not None and not NAME_RE.match(name):
        raise SimError(f"bad sim name {name!r}: letters, digits, _ . - (at most 32, starting with a "
                       "letter or digit)")
    for attempt in range(20):
        candidate = name or new_name()
        namespaces = planned_namespaces(candidate, host)
        taken = [ns for ns in namespaces if netns_exists(ns)]
        directory = sim_dir(base, candidate)
        if not taken:
            try:
                os.mkdir(directory)  # atomic: claims the name in this state dir
                break
            except FileExistsError:
                pass
        if name is not None:
            raise SimError(f"a sim named {name} already exists"
                           + (f" (namespace {taken[0]})" if taken else f" ({directory})"))
    else:
        raise SimError("could not find a free sim name")
    name = candidate

    state = {"name": name, "namespaces": namespaces, "etc_netns": [etc_netns_dir(dom0_ns(name))],
             "host_source": os.path.abspath(host_path), "pid": os.getpid(),
             "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "complete": False}
    if pool is not None:
        state["pool"] = pool
    old_handlers = {}
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        old_handlers[sig] = signal.signal(sig, _raise_interrupted)
    try:
        write_state(directory, state)
        with open(os.path.join(directory, HOST_COPY), "w", encoding="utf-8") as f:
            f.write(host_text)
        bindir = os.path.join(directory, "bin")
        os.mkdir(bindir)
        os.symlink(os.path.join(os.path.dirname(os.path.realpath(__file__)), "xe"),
                   os.path.join(bindir, "xe"))

        _check_step("inventory")
        install_inventory(dom0_ns(name), inventory_text(host))
        _check_step("namespaces")
        ip_batch([f"netns add {ns}" for ns in namespaces], what="creating namespaces")
        _check_step("dom0")
        ip_batch(_dom0_commands(name, host), netns=dom0_ns(name), what="building dom0")
        _check_step("outside")
        ip_batch(_outside_commands(host), netns=outside_ns(name), what="building the outside namespace")
        _outside_link_locals(name, host)
        _check_step("guests")
        ip_batches_parallel({guest_ns(name, vm): _guest_commands(vm) for vm in host.running_vms()})
        _check_step("sysctl")
        _set_bridge_sysctls(dom0_ns(name))
        state["complete"] = True
        write_state(directory, state)
    except BaseException:
        # Ignore further signals while undoing, then re-raise the cause.
        for sig in old_handlers:
            signal.signal(sig, signal.SIG_IGN)
        down(base, name)
        raise
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
    return name


# ---- down -------------------------------------------------------------------

def _netns_inodes(namespaces: List[str]) -> Dict[tuple, str]:
    inodes = {}
    for ns in namespaces:
        try:
            st = os.stat(os.path.join(NETNS_DIR, ns))
        except OSError:
            continue
        inodes[(st.st_dev, st.st_ino)] = ns
    return inodes


def processes_in(namespaces: List[str]) -> List[int]:
    """Pids of live processes whose network namespace is one of `namespaces`
    (the same /proc/PID/ns/net comparison `ip netns pids` makes, for all
    namespaces in one pass)."""
    inodes = _netns_inodes(namespaces)
    if not inodes:
        return []
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in inodes and not _is_zombie(int(entry)):
            pids.append(int(entry))
    return pids


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def _kill_all(namespaces: List[str]) -> List[int]:
    """SIGKILLs every process inside; returns the pids that would not die."""
    deadline = time.monotonic() + 5.0
    pids = processes_in(namespaces)
    while pids and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
        pids = processes_in(namespaces)
    return pids


def down(base: str, name: str) -> List[str]:
    """Removes sim `name`: kills its processes, deletes its namespaces, its
    /etc/netns entries and its state directory.  Returns problems (empty
    when all went away)."""
    directory = sim_dir(base, name)
    state = read_state(directory)
    if state is not None:
        namespaces = list(state.get("namespaces", []))
        etc_dirs = list(state.get("etc_netns", []))
    else:
        namespaces = []
        etc_dirs = []
    etc_dirs += [d for d in etc_netns_of(name) if d not in etc_dirs]
    # Anything named like this sim's namespaces goes too, even if the state
    # file was lost (e.g. `up` killed before writing it).
    try:
        namespaces += [ns for ns in os.listdir(NETNS_DIR)
                       if ns.startswith(name + "-") and ns not in namespaces
                       and re.match(r"^(dom0|out|g[0-9]+)$", ns[len(name) + 1:])]
    except FileNotFoundError:
        pass
    problems = []
    stubborn = _kill_all(namespaces)
    if stubborn:
        problems.append(f"processes would not die: {' '.join(map(str, stubborn))}")
    existing = [ns for ns in namespaces if netns_exists(ns)]
    if existing:
        subprocess.run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {ns}\n" for ns in existing),
                       capture_output=True, text=True)
    left = [ns for ns in existing if netns_exists(ns)]
    if left:
        problems.append(f"namespaces left: {' '.join(left)}")
    etc_left = remove_etc_netns(etc_dirs)
    if etc_left:
        problems.append(f"/etc/netns entries left: {' '.join(etc_left)}")
    shutil.rmtree(directory, ignore_errors=True)
    return problems
