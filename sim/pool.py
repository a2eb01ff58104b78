"""Pools of simulated dom0s: several sims ("members") that share one pool state.

A pool POOL is a directory STATE/POOL/ holding `pool.json` (its members, in
order, and which of them are marked down) and `lock`; each member is a full
sim named POOL-h1, POOL-h2, ... (its own dom0, outside LAN and guests, built
by netsim.up from one host file) whose state says `"pool": POOL`.  The
stand-in xe, started in any member's dom0, reads pool.json and every
member's host copy and answers for the whole pool, as xapi does: `xe
vm-list` on any member lists the VMs of every member.

As in a XenServer/XCP-ng pool, dom-ids are numbered per host, so they repeat
across members; only `resident-on` (the uuid of the member a VM runs on)
tells them apart.  A VM migrates with `migrate`: its dom0 ports move to the
destination member's dom0 under their new dom-id and its guest namespace is
renamed, so the guest keeps running, with its addresses and MACs.

pool.json and the member host copies change under the pool's `lock`
(flock, exclusive); xe reads them holding it shared, so it never sees a VM
on two members, or on none, in the middle of a migration.
"""

import copy
import ctypes
import dataclasses
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import time
from contextlib import contextmanager
from typing import List, Optional, Tuple

import hostfile
import netsim

POOL_FILE = "pool.json"
POOL_LOCK = "lock"
MAX_MEMBERS = 16
# Member sims are POOL-h<N>, and sim names have at most 32 characters.
MAX_POOL_NAME = 32 - len("-h16")
MAX_DOMID = 32751


class Member:
    """One member as the pool sees it: its sim name and its host."""

    def __init__(self, index: int, sim: str, host: hostfile.Host, down: bool):
        self.index = index  # 1-based, as in POOL-h<index>
        self.sim = sim
        self.host = host
        self.down = down

    @property
    def uuid(self) -> str:
        return self.host.host_uuid()

    def describe(self) -> str:
        return f"{self.sim} ({self.host.name_label}, {self.uuid})"


def member_sim(pool: str, index: int) -> str:
    return f"{pool}-h{index}"


def pool_dir(base: str, name: str) -> str:
    return netsim.sim_dir(base, name)


def is_pool(base: str, name: str) -> bool:
    return bool(name) and "/" not in name and os.path.isfile(os.path.join(pool_dir(base, name), POOL_FILE))


def read_pool(base: str, name: str) -> Optional[dict]:
    try:
        with open(os.path.join(pool_dir(base, name), POOL_FILE), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_pool(base: str, name: str, state: dict) -> None:
    path = os.path.join(pool_dir(base, name), POOL_FILE)
    _write_atomic(path, json.dumps(state, indent=1) + "\n")


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextmanager
def pool_lock(directory: str, exclusive: bool = True):
    """flock on DIR/lock: exclusive for changes, shared for readers (xe)."""
    fd = os.open(os.path.join(directory, POOL_LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def pool_of(base: str, sim: str) -> Optional[str]:
    """The pool sim `sim` is a member of (None: a stand-alone sim)."""
    state = netsim.read_state(netsim.sim_dir(base, sim)) or {}
    return state.get("pool")


def load_members(base: str, state: dict) -> List[Member]:
    """The members of a pool state, with their current host copies."""
    members = []
    down = set(state.get("down", []))
    for index, entry in enumerate(state.get("members", []), start=1):
        sim = entry["sim"]
        host = hostfile.load(os.path.join(netsim.sim_dir(base, sim), netsim.HOST_COPY))
        members.append(Member(index, sim, host, sim in down))
    return members


def resolve_member(members: List[Member], key: str, pool: str) -> Member:
    """A member by h<N>, N, its sim name, its host name-label or its host uuid."""
    for m in members:
        if key in (f"h{m.index}", str(m.index), m.sim, m.uuid):
            return m
    named = [m for m in members if m.host.name_label == key]
    if len(named) == 1:
        return named[0]
    choices = ", ".join(f"h{m.index}={m.host.name_label}" for m in members)
    raise netsim.SimError(f"pool {pool} has no member {key!r} (members: {choices}; "
                          "give h<N>, the sim name, the host name-label or the host uuid)")


# ---- pool-up ----------------------------------------------------------------

def _validate_pool(hosts: List[hostfile.Host]) -> None:
    """What must hold across members (each host file was checked alone):
    distinct host uuids and name-labels, and VM and VIF uuids unique in
    the pool (xapi's database holds them all).  Dom-ids, MACs and addresses
    may repeat across members: each member is its own host and LAN."""
    def clash(host: hostfile.Host, line: int, message: str) -> hostfile.HostFileError:
        return hostfile.HostFileError(host.source, line, message)

    host_uuids = {}
    labels = {}
    uuids = {}
    for host in hosts:
        if host.host_uuid() in host_uuids:
            raise clash(host, host.line or 1, f"host uuid {host.host_uuid()} is already the uuid of {host_uuids[host.host_uuid()]}"
                        " (every member needs its own `host NAME-LABEL uuid UUID`)")
        host_uuids[host.host_uuid()] = host.source
        if host.name_label in labels:
            raise clash(host, host.line or 1, f"host name-label {host.name_label!r} is already used by {labels[host.name_label]}")
        labels[host.name_label] = host.source
        for vm in host.vms:
            objects = [(vm.uuid, vm.line, "VM")] + [(vif.uuid, vif.line, "VIF") for vif in vm.vifs if vif.uuid]
            for uuid, line, kind in objects:
                if uuid in uuids:
                    where = uuids[uuid]
                    raise clash(host, line, f"{kind} uuid {uuid} is already used in {where[0]}:{where[1]} "
                                "(uuids are unique in a pool)")
                uuids[uuid] = (host.source, line)


def _raise_interrupted(signum, _frame):
    raise netsim.Interrupted(f"interrupted by signal {signal.Signals(signum).name}")


def pool_up(host_paths: List[str], base: str, name: Optional[str] = None) -> str:
    """Builds one member sim per host file, sharing one pool state; returns
    the pool name.  Removes everything it built when it fails."""
    if not host_paths:
        raise netsim.SimError("pool-up needs at least one host file")
    if len(host_paths) > MAX_MEMBERS:
        raise netsim.SimError(f"a pool has at most {MAX_MEMBERS} members, got {len(host_paths)}")
    texts = []
    hosts = []
    for path in host_paths:
        with open(path, encoding="utf-8") as f:
            texts.append(f.read())
        hosts.append(hostfile.parse(texts[-1], path))
    _validate_pool(hosts)  # host file errors leave nothing behind
    os.makedirs(base, exist_ok=True)

    if name is not None and (not netsim.NAME_RE.match(name) or len(name) > MAX_POOL_NAME):
        raise netsim.SimError(f"bad pool name {name!r}: letters, digits, _ . - (at most {MAX_POOL_NAME}, "
                              "starting with a letter or digit)")
    for _attempt in range(20):
        candidate = name or "vp" + secrets.token_hex(3)
        sims = [member_sim(candidate, i) for i in range(1, len(hosts) + 1)]
        taken = [s for s in sims if os.path.exists(netsim.sim_dir(base, s))]
        taken += [ns for s, h in zip(sims, hosts) for ns in netsim.planned_namespaces(s, h)
                  if netsim.netns_exists(ns)]
        if not taken:
            try:
                os.mkdir(pool_dir(base, candidate))  # atomic: claims the pool name
                break
            except FileExistsError:
                taken = [pool_dir(base, candidate)]
        if name is not None:
            raise netsim.SimError(f"a sim or pool named {name} already exists ({taken[0]})")
    else:
        raise netsim.SimError("could not find a free pool name")
    name = candidate

    state = {"name": name, "kind": "pool",
             "members": [{"sim": s, "host_source": os.path.abspath(p)} for s, p in zip(sims, host_paths)],
             "down": [], "pid": os.getpid(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
             "complete": False}
    old_handlers = {}
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        old_handlers[sig] = signal.signal(sig, _raise_interrupted)
    try:
        write_pool(base, name, state)  # before anything is built: `down` finds it all
        for sim, path, text in zip(sims, host_paths, texts):
            netsim.up(path, base, sim, pool=name, host_text=text)
        state["complete"] = True
        write_pool(base, name, state)
    except BaseException:
        for sig in old_handlers:
            signal.signal(sig, signal.SIG_IGN)
        pool_down(base, name)
        raise
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
    return name


def pool_down(base: str, name: str) -> List[str]:
    """Takes every member down, then the pool directory; returns problems."""
    state = read_pool(base, name) or {}
    sims = [m["sim"] for m in state.get("members", []) if isinstance(m, dict) and "sim" in m]
    # Members a killed pool-up had not written down yet, found by name.
    member_re = re.compile(rf"^{re.escape(name)}-h[0-9]+$")
    sims += [s for s in netsim.list_sims(base) if member_re.match(s) and s not in sims]
    try:
        ns_re = re.compile(rf"^({re.escape(name)}-h[0-9]+)-(dom0|out|g[0-9]+)$")
        for ns in os.listdir(netsim.NETNS_DIR):
            found = ns_re.match(ns)
            if found and found.group(1) not in sims:
                sims.append(found.group(1))
    except FileNotFoundError:
        pass
    problems = []
    for sim in sims:
        problems += [f"{sim}: {p}" for p in netsim.down(base, sim)]
    shutil.rmtree(pool_dir(base, name), ignore_errors=True)
    return problems


# ---- members down and up ----------------------------------------------------

def set_member_down(base: str, name: str, key: str, down: bool) -> Member:
    """Marks a member down (its xapi unreachable: host-call-plugin on it
    fails with HOST_OFFLINE, host-list says host-metrics-live false) or up."""
    with pool_lock(pool_dir(base, name)):
        state = read_pool(base, name)
        if state is None:
            raise netsim.SimError(f"no pool named {name!r} in {base}")
        member = resolve_member(load_members(base, state), key, name)
        marked = [s for s in state.get("down", []) if s != member.sim]
        if down:
            marked.append(member.sim)
        state["down"] = marked
        write_pool(base, name, state)
    return member


# ---- migration --------------------------------------------------------------

MS_BIND = 4096
MNT_DETACH = 2


def rename_netns(old: str, new: str) -> None:
    """Gives namespace `old` the name `new`, keeping the namespace (and every
    process and interface in it): a second bind mount of the nsfs file
    under the new name, then the old name dropped the way `ip netns del`
    drops it (umount2 MNT_DETACH, unlink)."""
    libc = ctypes.CDLL(None, use_errno=True)
    old_path = os.path.join(netsim.NETNS_DIR, old)
    new_path = os.path.join(netsim.NETNS_DIR, new)
    fd = os.open(new_path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
    os.close(fd)
    if libc.mount(old_path.encode(), new_path.encode(), None, MS_BIND, None) != 0:
        err = ctypes.get_errno()
        os.unlink(new_path)
        raise netsim.SimError(f"cannot bind {old_path} on {new_path}: {os.strerror(err)}")
    if libc.umount2(old_path.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        raise netsim.SimError(f"cannot unmount {old_path}: {os.strerror(err)}")
    os.unlink(old_path)


def _ip(ns: str, *words: str) -> None:
    netsim.run(["ip", "-n", ns] + list(words))


def _update_namespaces(base: str, sim: str, add: List[str] = (), remove: List[str] = ()) -> None:
    directory = netsim.sim_dir(base, sim)
    state = netsim.read_state(directory)
    if state is None:
        raise netsim.SimError(f"sim {sim} has no state in {directory}")
    names = [ns for ns in state.get("namespaces", []) if ns not in remove]
    names += [ns for ns in add if ns not in names]
    state["namespaces"] = names
    netsim.write_state(directory, state)


def migrate(base: str, name: str, vm_key: str, to_key: str,
            domid: Optional[int] = None) -> Tuple[Member, Member, hostfile.Vm]:
    """Live-migrates VM `vm_key` (name-label or uuid) to member `to_key`.
    Returns (source, destination, the VM as it is now).  SIGINT, SIGTERM
    and SIGHUP undo what was done, as a failure does."""
    old_handlers = {}
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        old_handlers[sig] = signal.signal(sig, _raise_interrupted)
    try:
        return _migrate(base, name, vm_key, to_key, domid, old_handlers)
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)


def _migrate(base, name, vm_key, to_key, domid, handlers):
    with pool_lock(pool_dir(base, name)):
        state = read_pool(base, name)
        if state is None:
            raise netsim.SimError(f"no pool named {name!r} in {base}")
        members = load_members(base, state)
        found = [(m, vm) for m in members for vm in m.host.vms if vm_key in (vm.name_label, vm.uuid)]
        if not found:
            raise netsim.SimError(f"pool {name} has no VM {vm_key!r} (give its name-label or uuid)")
        if len(found) > 1:
            raise netsim.SimError(f"VM name-label {vm_key!r} is on several members "
                                  f"({', '.join(m.sim for m, _ in found)}): give its uuid")
        src, vm = found[0]
        dst = resolve_member(members, to_key, name)
        if dst is src:
            raise netsim.SimError(f"VM {vm.name_label} already runs on {src.describe()}")
        if vm.is_control_domain:
            raise netsim.SimError(f"{vm.name_label} is a control domain: it does not migrate")
        if not vm.running:
            raise netsim.SimError(f"VM {vm.name_label} is halted: only running VMs migrate live")
        for m in (src, dst):
            if m.down:
                raise netsim.SimError(f"member {m.describe()} is marked down")
        used = {v.domid for v in dst.host.running_vms()}
        if domid is None:
            new_domid = next(d for d in range(1, MAX_DOMID + 1) if d not in used)
        elif domid < 1 or domid > MAX_DOMID or domid in used:
            raise netsim.SimError(f"dom-id {domid} is not free on {dst.sim} (1..{MAX_DOMID}, "
                                  f"used there: {' '.join(map(str, sorted(used)))})")
        else:
            new_domid = domid
        missing = sorted({vif.bridge for vif in vm.vifs if dst.host.bridge(vif.bridge) is None})
        if missing:
            raise netsim.SimError(f"{dst.sim} has no bridge {', '.join(missing)} for {vm.name_label}'s VIFs")

        # The two host files after the move, checked by the host-file rules
        # (interface names, MACs and addresses on the destination, ...)
        # before anything moves.
        moved = dataclasses.replace(vm, domid=new_domid, vifs=list(vm.vifs))
        new_src = copy.copy(src.host)
        new_src.vms = [v for v in src.host.vms if v is not vm]
        new_dst = copy.copy(dst.host)
        new_dst.vms = list(dst.host.vms) + [moved]
        texts = {}
        for m, host in ((src, new_src), (dst, new_dst)):
            text = hostfile.render(host, header=f"host copy of {m.sim} (pool {name}), rewritten by sim migrate")
            try:
                hostfile.parse(text, f"{m.sim} after the migration")
            except hostfile.HostFileError as exc:
                raise netsim.SimError(f"cannot migrate {vm.name_label} to {dst.sim}: {exc.message}") from None
            texts[m.sim] = text

        old_ns = netsim.guest_ns(src.sim, vm)
        new_ns = netsim.guest_ns(dst.sim, moved)
        src_dom0, dst_dom0 = netsim.dom0_ns(src.sim), netsim.dom0_ns(dst.sim)
        if not netsim.netns_exists(old_ns):
            raise netsim.SimError(f"the guest namespace {old_ns} does not exist")
        if netsim.netns_exists(new_ns):
            raise netsim.SimError(f"namespace {new_ns} already exists")

        _update_namespaces(base, dst.sim, add=[new_ns])  # before it exists: `down` finds it
        undo = []
        try:
            for i, vif in enumerate(vm.vifs):
                old_port, new_port = vm.dom0_ifname(vif), moved.dom0_ifname(vif)
                tmp = f"vwm{os.getpid() % 100000}.{i}"
                # Rename before the move: the destination may have its own
                # vif<old>.<n> (dom-ids repeat across members).
                _ip(src_dom0, "link", "set", "dev", old_port, "down")
                undo.append(lambda p=old_port: _ip(src_dom0, "link", "set", "dev", p, "up"))
                _ip(src_dom0, "link", "set", "dev", old_port, "nomaster")
                undo.append(lambda p=old_port, b=vif.bridge: _ip(src_dom0, "link", "set", "dev", p, "master", b))
                _ip(src_dom0, "link", "set", "dev", old_port, "name", tmp)
                undo.append(lambda p=old_port, t=tmp: _ip(src_dom0, "link", "set", "dev", t, "name", p))
                _ip(src_dom0, "link", "set", "dev", tmp, "netns", dst_dom0)
                undo.append(lambda t=tmp: _ip(dst_dom0, "link", "set", "dev", t, "netns", src_dom0))
                _ip(dst_dom0, "link", "set", "dev", tmp, "name", new_port)
                undo.append(lambda p=new_port, t=tmp: _ip(dst_dom0, "link", "set", "dev", p, "name", t))
                _ip(dst_dom0, "link", "set", "dev", new_port, "master", vif.bridge)
                undo.append(lambda p=new_port: _ip(dst_dom0, "link", "set", "dev", p, "nomaster"))
                _ip(dst_dom0, "link", "set", "dev", new_port, "up")
                undo.append(lambda p=new_port: _ip(dst_dom0, "link", "set", "dev", p, "down"))
                if vm.hvm:
                    # qemu's tap is not moved but made anew, as the
                    # destination starts its own device model.
                    old_tap, new_tap = vm.tap_ifname(vif), moved.tap_ifname(vif)
                    _ip(src_dom0, "tuntap", "del", "dev", old_tap, "mode", "tap")
                    undo.append(lambda t=old_tap, b=vif.bridge: _make_tap(src_dom0, t, b))
                    _make_tap(dst_dom0, new_tap, vif.bridge)
                    undo.append(lambda t=new_tap: _ip(dst_dom0, "tuntap", "del", "dev", t, "mode", "tap"))
            netsim.check_step("migrate")  # test hook: fail with the ports moved, before the rename
            rename_netns(old_ns, new_ns)
            undo.append(lambda: rename_netns(new_ns, old_ns))
            for m in (dst, src):
                _write_atomic(os.path.join(netsim.sim_dir(base, m.sim), netsim.HOST_COPY), texts[m.sim])
        except BaseException as exc:
            for sig in handlers:
                signal.signal(sig, signal.SIG_IGN)  # let the undo finish
            problems = []
            for step in reversed(undo):
                try:
                    step()
                except Exception as undo_exc:  # keep undoing the rest
                    problems.append(str(undo_exc))
            if not netsim.netns_exists(new_ns):
                _update_namespaces(base, dst.sim, remove=[new_ns])
            if problems and isinstance(exc, Exception):
                raise netsim.SimError(f"{exc}; undoing it failed too: {'; '.join(problems)}") from None
            raise
        _update_namespaces(base, src.sim, remove=[old_ns])
    return src, dst, moved


def _make_tap(ns: str, tap: str, bridge: str) -> None:
    _ip(ns, "tuntap", "add", "dev", tap, "mode", "tap")
    _ip(ns, "link", "set", "dev", tap, "address", hostfile.XEN_BACKEND_MAC)
    _ip(ns, "link", "set", "dev", tap, "master", bridge)
    _ip(ns, "link", "set", "dev", tap, "up")
