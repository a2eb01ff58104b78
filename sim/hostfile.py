"""Host description files for the simulated XenServer dom0.

A host file is a small line-based description of one Xen host: its bridges,
its VMs and the VIFs of each VM.  `sim up` builds network namespaces from it
and the stand-in `xe` answers queries from it, so both always agree.  The
format is documented in sim/README.md; this module parses it into plain
data classes, validates it (every error names the file and the 1-based
line), and renders it back (used by `sim generate`).
"""

import ipaddress
import re
import shlex
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import List, Optional

# Linux limits interface names to 15 bytes (IFNAMSIZ - 1).
MAX_IFNAME = 15

# Stable uuids for objects the host file does not name explicitly (VIFs,
# networks, PIFs, consoles): uuid5 under this namespace, so the same host file
# always yields the same uuids, run after run.
UUID_NAMESPACE = uuidlib.uuid5(uuidlib.NAMESPACE_DNS, "sim.vifwall.invalid")

# Xen netback gives every dom0-side vif (and qemu every tap) this MAC.
XEN_BACKEND_MAC = "fe:ff:ff:ff:ff:ff"

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


class HostFileError(Exception):
    """A host file problem, rendered `source:line: message` (ninja style)."""

    def __init__(self, source: str, line: int, message: str):
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line
        self.message = message


def link_local(mac: str) -> ipaddress.IPv6Address:
    """The EUI-64 link-local address of MAC (RFC 4291 appendix A), as a
    kernel with addr_gen_mode eui64 would make it."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + eui))


def stable_uuid(*parts: str) -> str:
    """A uuid derived from `parts` (same parts, same uuid)."""
    return str(uuidlib.uuid5(UUID_NAMESPACE, ":".join(parts)))


@dataclass
class Bridge:
    name: str
    uplink: Optional[str] = None
    mac: Optional[str] = None
    ip: Optional[ipaddress.IPv4Interface] = None
    outside_ip: Optional[ipaddress.IPv4Interface] = None
    outside_ip6: Optional[ipaddress.IPv6Interface] = None
    network_uuid: Optional[str] = None
    name_label: Optional[str] = None
    name_description: str = ""
    line: int = 0

    def network_label(self) -> str:
        """The xe network name-label (XenServer's default wording)."""
        if self.name_label is not None:
            return self.name_label
        if self.uplink:
            return f"Pool-wide network associated with {self.uplink}"
        return f"Host internal network {self.name}"

    def network_id(self) -> str:
        return self.network_uuid or stable_uuid("network", self.name)

    def pif_uuid(self) -> Optional[str]:
        return stable_uuid("pif", self.uplink) if self.uplink else None


@dataclass
class Vif:
    device: int
    bridge: str
    mac: str
    ipv4: List[ipaddress.IPv4Interface] = field(default_factory=list)
    ipv6: List[ipaddress.IPv6Interface] = field(default_factory=list)
    uuid: Optional[str] = None
    line: int = 0


@dataclass
class Vm:
    name_label: str
    uuid: str
    domid: int  # -1 when halted, as xe prints it
    running: bool
    kind: str  # user | system | control
    hvm: bool
    memory: int
    vcpus: int
    description: str = ""
    vifs: List[Vif] = field(default_factory=list)
    line: int = 0

    @property
    def is_control_domain(self) -> bool:
        return self.kind == "control"

    def vif_uuid(self, vif: Vif) -> str:
        return vif.uuid or stable_uuid("vif", self.uuid, str(vif.device))

    def dom0_ifname(self, vif: Vif) -> str:
        """The netback device name in dom0: vif<domid>.<device>."""
        return f"vif{self.domid}.{vif.device}"

    def tap_ifname(self, vif: Vif) -> str:
        """The qemu emulated twin of an HVM guest's VIF: tap<domid>.<device>."""
        return f"tap{self.domid}.{vif.device}"

    @staticmethod
    def guest_ifname(vif: Vif) -> str:
        return f"eth{vif.device}"


@dataclass
class Host:
    source: str
    name_label: str = "xen6"
    uuid: Optional[str] = None
    bridges: List[Bridge] = field(default_factory=list)
    vms: List[Vm] = field(default_factory=list)
    line: int = 0  # of the `host` line (0: none, the defaults)

    def host_uuid(self) -> str:
        return self.uuid or stable_uuid("host", self.name_label)

    def bridge(self, name: str) -> Optional[Bridge]:
        for b in self.bridges:
            if b.name == name:
                return b
        return None

    def running_vms(self) -> List[Vm]:
        return [vm for vm in self.vms if vm.running]

    def find_vm(self, key: str) -> Optional[Vm]:
        """A VM by name-label, uuid or (running) dom-id."""
        for vm in self.vms:
            if key in (vm.name_label, vm.uuid):
                return vm
        for vm in self.vms:
            if vm.running and key == str(vm.domid):
                return vm
        return None


DEFAULT_MEMORY = {"control": 786432000, "system": 268435456, "user": 536870912}


class _Line:
    """The tokens of one host file line, consumed left to right."""

    def __init__(self, source: str, number: int, tokens: List[str]):
        self.source = source
        self.number = number
        self.tokens = tokens
        self.pos = 1  # tokens[0] is the keyword

    def error(self, message: str) -> HostFileError:
        return HostFileError(self.source, self.number, message)

    def more(self) -> bool:
        return self.pos < len(self.tokens)

    def next(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def value_of(self, key: str) -> str:
        if not self.more():
            raise self.error(f'expected a value after "{key}"')
        return self.next()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_mac(line: _Line, text: str) -> str:
    mac = text.lower()
    if not _MAC_RE.match(mac):
        raise line.error(f"expected a MAC like 06:f8:c8:00:00:09, got {_quote(text)}")
    if int(mac[:2], 16) & 1:
        raise line.error(f"MAC {text} is a multicast address")
    return mac


def _parse_uuid(line: _Line, text: str) -> str:
    value = text.lower()
    if not _UUID_RE.match(value):
        raise line.error(f"expected a uuid (8-4-4-4-12 hex digits), got {_quote(text)}")
    return value


def _parse_int(line: _Line, text: str, what: str, lowest: int, highest: int) -> int:
    if not re.match(r"^-?[0-9]+$", text):
        raise line.error(f"expected {what} (an integer), got {_quote(text)}")
    value = int(text)
    if value < lowest or value > highest:
        raise line.error(f"{what} {value} is out of range {lowest}..{highest}")
    return value


def _parse_iface(line: _Line, text: str, version: int):
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        iface = None
    if iface is None or iface.version != version or "/" not in text:
        example = "10.1.1.2/24" if version == 4 else "fd00::2/64"
        raise line.error(f"expected an IPv{version} address with prefix like {example}, got {_quote(text)}")
    return iface


def _parse_ifname(line: _Line, text: str, what: str) -> str:
    if not _IFNAME_RE.match(text) or len(text) > MAX_IFNAME:
        raise line.error(f"{what} {_quote(text)} is not a valid interface name "
                         f"(letters, digits, _ . -; at most {MAX_IFNAME} characters)")
    return text


def _parse_host(line: _Line, host: Host) -> None:
    host.name_label = line.value_of("host")
    host.line = line.number
    while line.more():
        key = line.next()
        if key == "uuid":
            host.uuid = _parse_uuid(line, line.value_of(key))
        else:
            raise line.error(f"unknown host attribute {_quote(key)} (expected uuid)")


def _parse_bridge(line: _Line) -> Bridge:
    bridge = Bridge(name=_parse_ifname(line, line.value_of("bridge"), "bridge name"), line=line.number)
    while line.more():
        key = line.next()
        if key == "uplink":
            bridge.uplink = _parse_ifname(line, line.value_of(key), "uplink")
        elif key == "mac":
            bridge.mac = _parse_mac(line, line.value_of(key))
        elif key == "ip":
            bridge.ip = _parse_iface(line, line.value_of(key), 4)
        elif key == "outside-ip":
            bridge.outside_ip = _parse_iface(line, line.value_of(key), 4)
        elif key == "outside-ip6":
            bridge.outside_ip6 = _parse_iface(line, line.value_of(key), 6)
        elif key == "network-uuid":
            bridge.network_uuid = _parse_uuid(line, line.value_of(key))
        elif key == "name-label":
            bridge.name_label = line.value_of(key)
        elif key == "name-description":
            bridge.name_description = line.value_of(key)
        else:
            raise line.error(f"unknown bridge attribute {_quote(key)} (expected uplink, mac, ip, "
                             "outside-ip, outside-ip6, network-uuid, name-label or name-description)")
    if bridge.outside_ip is not None and not bridge.uplink:
        raise line.error(f"bridge {bridge.name} has outside-ip but no uplink")
    if bridge.outside_ip6 is not None and not bridge.uplink:
        raise line.error(f"bridge {bridge.name} has outside-ip6 but no uplink")
    return bridge


def _parse_vm(line: _Line) -> Vm:
    name = line.value_of("vm")
    if not name:
        raise line.error("a VM name-label must not be empty")
    uuid = None
    domid = None
    state = kind = virt = None
    memory = vcpus = None
    description = ""
    while line.more():
        key = line.next()
        if key == "uuid":
            uuid = _parse_uuid(line, line.value_of(key))
        elif key in ("domid", "dom-id"):
            domid = _parse_int(line, line.value_of(key), "dom-id", -1, 32751)
        elif key == "memory":
            memory = _parse_int(line, line.value_of(key), "memory", 1, 1 << 50)
        elif key == "vcpus":
            vcpus = _parse_int(line, line.value_of(key), "vcpus", 1, 512)
        elif key == "description":
            description = line.value_of(key)
        elif key in ("running", "halted"):
            if state is not None:
                raise line.error("the power state is given twice")
            state = key
        elif key in ("user", "system", "control"):
            if kind is not None:
                raise line.error("the VM kind (user, system, control) is given twice")
            kind = key
        elif key in ("pv", "hvm"):
            if virt is not None:
                raise line.error("the virtualisation mode (pv, hvm) is given twice")
            virt = key
        else:
            raise line.error(f"unknown vm attribute {_quote(key)} (expected uuid, domid, running|halted, "
                             "user|system|control, pv|hvm, memory, vcpus or description)")
    if uuid is None:
        raise line.error(f'vm {_quote(name)} needs "uuid UUID"')
    if state is None:
        raise line.error(f"vm {_quote(name)} needs a power state: running or halted")
    if kind is None:
        raise line.error(f"vm {_quote(name)} needs a kind: user, system or control")
    if virt is None:
        raise line.error(f"vm {_quote(name)} needs a mode: pv or hvm")
    running = state == "running"
    if running:
        if domid is None or domid < 0:
            raise line.error(f'running vm {_quote(name)} needs "domid N" (N >= 0)')
    else:
        if domid not in (None, -1):
            raise line.error(f"halted vm {_quote(name)} has no domain (omit domid or write -1)")
        domid = -1
    if kind == "control" and domid not in (0, -1):
        raise line.error("the control domain has dom-id 0")
    return Vm(name_label=name, uuid=uuid, domid=domid, running=running, kind=kind, hvm=virt == "hvm",
              memory=memory or DEFAULT_MEMORY[kind], vcpus=vcpus or 1, description=description,
              line=line.number)


def _parse_vif(line: _Line) -> Vif:
    vif = Vif(device=_parse_int(line, line.value_of("vif"), "VIF device", 0, 999), bridge="", mac="",
              line=line.number)
    while line.more():
        key = line.next()
        if key == "bridge":
            vif.bridge = line.value_of(key)
        elif key == "mac":
            vif.mac = _parse_mac(line, line.value_of(key))
        elif key == "ip":
            vif.ipv4.append(_parse_iface(line, line.value_of(key), 4))
        elif key == "ip6":
            vif.ipv6.append(_parse_iface(line, line.value_of(key), 6))
        elif key == "uuid":
            vif.uuid = _parse_uuid(line, line.value_of(key))
        else:
            raise line.error(f"unknown vif attribute {_quote(key)} (expected bridge, mac, ip, ip6 or uuid)")
    if not vif.bridge:
        raise line.error(f'vif {vif.device} needs "bridge NAME"')
    if not vif.mac:
        raise line.error(f'vif {vif.device} needs "mac MAC"')
    return vif


def _validate(host: Host) -> None:
    def error(line: int, message: str) -> HostFileError:
        return HostFileError(host.source, line, message)

    bridge_names = {}
    netdevs = {}  # every name that becomes a dom0 interface -> line
    for b in host.bridges:
        if b.name in bridge_names:
            raise error(b.line, f"bridge {b.name} is already defined on line {bridge_names[b.name]}")
        bridge_names[b.name] = b.line
    for b in host.bridges:
        for name in (b.name, b.uplink):
            if name is None:
                continue
            if name in netdevs:
                raise error(b.line, f"interface name {name} is already used on line {netdevs[name]}")
            netdevs[name] = b.line

    uuids = {}
    names = {}
    domids = {}
    macs = {}
    addresses = {}
    control = None
    for vm in host.vms:
        if vm.uuid in uuids:
            raise error(vm.line, f"uuid {vm.uuid} is already used on line {uuids[vm.uuid]}")
        uuids[vm.uuid] = vm.line
        if vm.name_label in names:
            # xe allows duplicate name-labels, but `sim guest NAME VM` could not
            # tell the namespaces apart.
            raise error(vm.line, f"VM name-label {vm.name_label!r} is already used on line {names[vm.name_label]}")
        names[vm.name_label] = vm.line
        if vm.is_control_domain:
            if control is not None:
                raise error(vm.line, f"a control domain is already defined on line {control}")
            control = vm.line
        if vm.running:
            if vm.domid in domids:
                raise error(vm.line, f"dom-id {vm.domid} is already used on line {domids[vm.domid]}")
            domids[vm.domid] = vm.line
        devices = {}
        for vif in vm.vifs:
            if vif.device in devices:
                raise error(vif.line, f"VM {vm.name_label} already has VIF device {vif.device} (line {devices[vif.device]})")
            devices[vif.device] = vif.line
            if vif.bridge not in bridge_names:
                raise error(vif.line, f"unknown bridge {vif.bridge!r} (declare it with a bridge line)")
            if vif.uuid is not None:
                if vif.uuid in uuids:
                    raise error(vif.line, f"uuid {vif.uuid} is already used on line {uuids[vif.uuid]}")
                uuids[vif.uuid] = vif.line
            if not vm.running:
                continue
            # Only attached VIFs become interfaces and carry traffic, so only
            # they must be unique on the wire.
            if vif.mac in macs:
                raise error(vif.line, f"MAC {vif.mac} is already used on line {macs[vif.mac]}")
            macs[vif.mac] = vif.line
            for addr in list(vif.ipv4) + list(vif.ipv6):
                if addr.ip in addresses:
                    raise error(vif.line, f"address {addr.ip} is already used on line {addresses[addr.ip]}")
                addresses[addr.ip] = vif.line
            names_to_add = [vm.dom0_ifname(vif)] + ([vm.tap_ifname(vif)] if vm.hvm else [])
            for ifname in names_to_add:
                if len(ifname) > MAX_IFNAME:
                    raise error(vif.line, f"interface name {ifname} is longer than {MAX_IFNAME} characters")
                if ifname in netdevs:
                    raise error(vif.line, f"interface name {ifname} is already used on line {netdevs[ifname]}")
                netdevs[ifname] = vif.line
    for b in host.bridges:
        for addr in (b.ip, b.outside_ip6):
            if addr is not None:
                if addr.ip in addresses:
                    raise error(b.line, f"address {addr.ip} is already used on line {addresses[addr.ip]}")
                addresses[addr.ip] = b.line


def parse(text: str, source: str) -> Host:
    """Parses host-file text; raises HostFileError naming `source` and the line."""
    host = Host(source=source)
    seen_host_line = None
    current_vm = None
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        # Treat a UTF-8 no-break space (pasted from a web page) as a blank.
        raw = raw.replace("\u00a0", " ")
        try:
            tokens = shlex.split(raw, comments=True)
        except ValueError as exc:
            raise HostFileError(source, number, f"cannot split the line into words: {exc}") from None
        if not tokens:
            continue
        line = _Line(source, number, tokens)
        keyword = tokens[0]
        if keyword == "host":
            if seen_host_line is not None:
                raise line.error(f"the host line is already given on line {seen_host_line}")
            seen_host_line = number
            _parse_host(line, host)
        elif keyword == "bridge":
            host.bridges.append(_parse_bridge(line))
        elif keyword == "vm":
            current_vm = _parse_vm(line)
            host.vms.append(current_vm)
        elif keyword == "vif":
            if current_vm is None:
                raise line.error("a vif line must follow the vm line it belongs to")
            current_vm.vifs.append(_parse_vif(line))
        else:
            raise line.error(f"unknown keyword {_quote(keyword)} (expected host, bridge, vm or vif)")
    _validate(host)
    return host


def load(path: str) -> Host:
    """Reads and parses a host file; OSError and HostFileError propagate."""
    with open(path, encoding="utf-8") as f:
        return parse(f.read(), path)


def _word(text: str) -> str:
    """One host-file word, quoted only when it needs to be."""
    if text and re.match(r"^[A-Za-z0-9_.:/@+=,%-]+$", text):
        return text
    return shlex.quote(text)


def render(host: Host, header: str = "") -> str:
    """The host-file text for `host` (parse(render(h)) describes the same host)."""
    out = []
    for comment in header.splitlines():
        out.append(f"# {comment}".rstrip())
    host_line = f"host {_word(host.name_label)}"
    if host.uuid:
        host_line += f" uuid {host.uuid}"
    out.append(host_line)
    out.append("")
    for b in host.bridges:
        words = ["bridge", b.name]
        if b.uplink:
            words += ["uplink", b.uplink]
        if b.mac:
            words += ["mac", b.mac]
        if b.ip is not None:
            words += ["ip", str(b.ip)]
        if b.outside_ip is not None:
            words += ["outside-ip", str(b.outside_ip)]
        if b.outside_ip6 is not None:
            words += ["outside-ip6", str(b.outside_ip6)]
        if b.network_uuid:
            words += ["network-uuid", b.network_uuid]
        if b.name_label is not None:
            words += ["name-label", _word(b.name_label)]
        if b.name_description:
            words += ["name-description", _word(b.name_description)]
        out.append(" ".join(words))
    for vm in host.vms:
        out.append("")
        words = ["vm", _word(vm.name_label), "uuid", vm.uuid]
        if vm.running:
            words += ["domid", str(vm.domid)]
        words += ["running" if vm.running else "halted", vm.kind, "hvm" if vm.hvm else "pv"]
        if vm.memory != DEFAULT_MEMORY[vm.kind]:
            words += ["memory", str(vm.memory)]
        if vm.vcpus != 1:
            words += ["vcpus", str(vm.vcpus)]
        if vm.description:
            words += ["description", _word(vm.description)]
        out.append(" ".join(words))
        for vif in vm.vifs:
            words = ["  vif", str(vif.device), "bridge", vif.bridge, "mac", vif.mac]
            for a in vif.ipv4:
                words += ["ip", str(a)]
            for a in vif.ipv6:
                words += ["ip6", str(a)]
            if vif.uuid:
                words += ["uuid", vif.uuid]
            out.append(" ".join(words))
    return "\n".join(out) + "\n"
