#!/usr/bin/env python3
"""Benchmark inputs made from a sim host file, without root or namespaces.

  gen_inputs.py links HOST OUTDIR      interface and bridge listings
  gen_inputs.py firewall HOST OUTDIR   CloudStack security-group rule sets
  gen_inputs.py snapshot HOST OUTDIR   a vif-of snapshot (xe from sim/xe)

`links` writes what dom0 of `sim/sim up HOST` shows (same names, ifindexes,
MACs, flags, masters and order; see sim/netsim.py), in the formats of the
Debian 12 tools in tests/data/samples/: ip-s-link, ip-o-link, ip-br-link,
ip-j-s-link.json, ifconfig-a, brctl-show, bridge-link.  Counters are
pseudo-random but fixed by the host file, so two runs give the same bytes.
bench/run uses real captures from the sim instead when it can (root).

`firewall` writes the rule set CloudStack's XenServer plugin (vmops) leaves
after `default_network_rules` and one `network_rules` call per user VM
(/work/shared/reference/cloudstack-sg.md §2a, §2b, §3): iptables-save,
iptables-S, ipset-save, ebtables-save, arptables-save.  They are written in
the tools' save formats, which are also what their restore commands read, so
bench/run can load them into a throw-away namespace and capture the real
tools' output.  This generator is meant to be swapped for sg-apply once that
exists (bench/run --firewall-generator).

Python 3 standard library only, like sim/.
"""

import ipaddress
import json
import os
import random
import subprocess
import sys
import zlib
from typing import Dict, List, Optional, Tuple

sys.dont_write_bytecode = True  # nothing written into bench/ or sim/
HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(os.path.dirname(HERE), "sim")
sys.path.insert(0, SIM)

import hostfile  # noqa: E402  (sim/hostfile.py)

XEN_MAC = hostfile.XEN_BACKEND_MAC


# ---- the interfaces of a sim's dom0 ------------------------------------------

class Iface:
    """One dom0 interface as `sim up` creates it."""

    def __init__(self, ifindex: int, name: str, kind: str, mac: str, master: Optional[str] = None,
                 peer_index: Optional[int] = None, peer_ns: Optional[str] = None,
                 ipv4: Optional[ipaddress.IPv4Interface] = None):
        self.ifindex = ifindex
        self.name = name
        self.kind = kind  # loopback | bridge | veth | tap
        self.mac = mac
        self.master = master
        self.peer_index = peer_index
        self.peer_ns = peer_ns
        self.ipv4 = ipv4
        self.rx = dict(bytes=0, packets=0, errors=0, dropped=0, missed=0, mcast=0)
        self.tx = dict(bytes=0, packets=0, errors=0, dropped=0, carrier=0, collsns=0)

    @property
    def carrier(self) -> bool:
        return self.kind != "tap"  # nobody reads a tap: no carrier, as in the sim

    @property
    def flags(self) -> List[str]:
        if self.kind == "loopback":
            return ["LOOPBACK", "UP", "LOWER_UP"]
        if not self.carrier:
            return ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]
        return ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"]

    @property
    def operstate(self) -> str:
        if self.kind == "loopback":
            return "UNKNOWN"
        return "UP" if self.carrier else "DOWN"

    @property
    def qdisc(self) -> str:
        return "pfifo_fast" if self.kind == "tap" else "noqueue"

    @property
    def shown_name(self) -> str:
        """ip's name: a veth shows its peer's ifindex in the other namespace."""
        return f"{self.name}@if{self.peer_index}" if self.peer_index else self.name


def dom0_ifaces(host: hostfile.Host, sim_name: str = "bench") -> List[Iface]:
    """dom0's interfaces in ifindex order, with fixed pseudo-random counters."""
    ifaces = [Iface(1, "lo", "loopback", "00:00:00:00:00:00")]
    index = 2
    for b, bridge in enumerate(host.bridges):
        mac = bridge.mac or XEN_MAC
        ifaces.append(Iface(index, bridge.name, "bridge", mac, ipv4=bridge.ip))
        index += 1
        if bridge.uplink:
            ifaces.append(Iface(index, bridge.uplink, "veth", mac, master=bridge.name,
                                peer_index=2 + b, peer_ns=f"{sim_name}-out"))
            index += 1
    for vm in host.running_vms():
        for vif in vm.vifs:
            ifaces.append(Iface(index, vm.dom0_ifname(vif), "veth", XEN_MAC, master=vif.bridge,
                                peer_index=2 + vif.device, peer_ns=f"{sim_name}-g{vm.domid}"))
            index += 1
            if vm.hvm:
                ifaces.append(Iface(index, vm.tap_ifname(vif), "tap", XEN_MAC, master=vif.bridge))
                index += 1
    rng = random.Random(zlib.crc32(host.host_uuid().encode()))
    for iface in ifaces:
        if iface.kind in ("loopback", "tap"):
            continue
        for stats, direction in ((iface.rx, "rx"), (iface.tx, "tx")):
            packets = int(rng.paretovariate(0.6) * 40) if rng.random() < 0.95 else 0
            stats["packets"] = packets
            stats["bytes"] = packets * rng.randint(60, 1400)
            stats["dropped"] = rng.randint(0, packets // 8) if packets and rng.random() < 0.3 else 0
            if direction == "rx" and iface.kind == "bridge":
                stats["mcast"] = packets // 3
    return ifaces


# ---- ip -s link, ip -o link, ip -br link, ip -j -s link ----------------------

def _ip_header(iface: Iface, with_qlen: bool = True) -> str:
    mtu = 65536 if iface.kind == "loopback" else 1500
    master = f" master {iface.master}" if iface.master else ""
    return (f"{iface.ifindex}: {iface.shown_name}: <{','.join(iface.flags)}> mtu {mtu} "
            f"qdisc {iface.qdisc}{master} state {iface.operstate} mode DEFAULT group default"
            + (" qlen 1000" if with_qlen else ""))


def _ip_link_line(iface: Iface) -> str:
    if iface.kind == "loopback":
        return "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
    netns = f" link-netns {iface.peer_ns}" if iface.peer_ns else ""
    return f"    link/ether {iface.mac} brd ff:ff:ff:ff:ff:ff{netns}"


def _stats_lines(iface: Iface) -> List[str]:
    """iproute2 >= 5.14 print_stats64: columns as wide as their widest number."""
    rx, tx = iface.rx, iface.tx
    cols = [len("*X errors:"), len("packets"), len("errors"), len("dropped"), len("heartbt"),
            len("overrun"), len("compressed")]
    for values in ((rx["bytes"], rx["packets"], rx["errors"], rx["dropped"], rx["missed"], rx["mcast"]),
                   (tx["bytes"], tx["packets"], tx["errors"], tx["dropped"], tx["carrier"], tx["collsns"])):
        for i, value in enumerate(values):
            cols[i] = max(cols[i], len(str(value)))

    def header(tag: str, names: List[str]) -> str:
        return (f"    {tag}: {names[0]:>{cols[0] - 4}} " + " ".join(
            f"{n:>{cols[i + 1]}}" for i, n in enumerate(names[1:])) + f" {'':>{cols[6]}}")

    def row(values: Tuple[int, ...]) -> str:
        return "    " + "".join(f"{v:>{cols[i]}} " for i, v in enumerate(values))

    return [header("RX", ["bytes", "packets", "errors", "dropped", "missed", "mcast"]),
            row((rx["bytes"], rx["packets"], rx["errors"], rx["dropped"], rx["missed"], rx["mcast"])),
            header("TX", ["bytes", "packets", "errors", "dropped", "carrier", "collsns"]),
            row((tx["bytes"], tx["packets"], tx["errors"], tx["dropped"], tx["carrier"], tx["collsns"]))]


def ip_s_link(ifaces: List[Iface]) -> str:
    out = []
    for iface in ifaces:
        out += [_ip_header(iface), _ip_link_line(iface)] + _stats_lines(iface)
    return "\n".join(out) + "\n"


def ip_o_link(ifaces: List[Iface]) -> str:
    return "".join(f"{_ip_header(i)}\\{_ip_link_line(i)}\n" for i in ifaces)


def ip_br_link(ifaces: List[Iface]) -> str:
    return "".join(f"{i.shown_name:<16} {i.operstate:<14} {i.mac} <{','.join(i.flags)}> \n"
                   for i in ifaces)


def ip_j_s_link(ifaces: List[Iface]) -> str:
    records = []
    for i in ifaces:
        record: Dict[str, object] = {"ifindex": i.ifindex}
        if i.peer_index:
            record["link_index"] = i.peer_index
        record.update({"ifname": i.name, "flags": i.flags,
                       "mtu": 65536 if i.kind == "loopback" else 1500, "qdisc": i.qdisc})
        if i.master:
            record["master"] = i.master
        record.update({"operstate": i.operstate, "linkmode": "DEFAULT", "group": "default",
                       "txqlen": 1000, "link_type": "loopback" if i.kind == "loopback" else "ether",
                       "address": i.mac,
                       "broadcast": "00:00:00:00:00:00" if i.kind == "loopback" else "ff:ff:ff:ff:ff:ff"})
        if i.peer_ns:
            record["link_netnsid"] = 0
        record["stats64"] = {
            "rx": {"bytes": i.rx["bytes"], "packets": i.rx["packets"], "errors": i.rx["errors"],
                   "dropped": i.rx["dropped"], "over_errors": i.rx["missed"], "multicast": i.rx["mcast"]},
            "tx": {"bytes": i.tx["bytes"], "packets": i.tx["packets"], "errors": i.tx["errors"],
                   "dropped": i.tx["dropped"], "carrier_errors": i.tx["carrier"],
                   "collisions": i.tx["collsns"]}}
        records.append(record)
    return json.dumps(records, separators=(",", ":")) + "\n"


# ---- ifconfig -a (net-tools 2.10) --------------------------------------------

def _human(n: int) -> str:
    """net-tools' "(214.0 KiB)": tenths, 1024-based, strict '>' thresholds."""
    tenths, unit = n * 10, "B"
    for limit, name in ((1 << 50, "PiB"), (1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"),
                        (1 << 10, "KiB")):
        if n > limit:
            tenths, unit = n * 10 // limit, name
            break
    return f"{tenths // 10}.{tenths % 10} {unit}"


def _link_local(mac: str) -> str:
    """The EUI-64 fe80:: address the kernel gives an interface with carrier."""
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 0x02
    words = [(b[0] << 8) | b[1], (b[2] << 8) | 0xFF, 0xFE00 | b[3], (b[4] << 8) | b[5]]
    return str(ipaddress.IPv6Address("fe80::" + ":".join(f"{w:x}" for w in words)))


def ifconfig_a(ifaces: List[Iface]) -> str:
    out = []
    for i in sorted(ifaces, key=lambda x: x.name.encode()):
        flag_bits = {"loopback": 73, "tap": 4099}.get(i.kind, 4163)
        names = {"loopback": "UP,LOOPBACK,RUNNING", "tap": "UP,BROADCAST,MULTICAST"}.get(
            i.kind, "UP,BROADCAST,RUNNING,MULTICAST")
        mtu = 65536 if i.kind == "loopback" else 1500
        out.append(f"{i.name}: flags={flag_bits}<{names}>  mtu {mtu}")
        if i.kind == "loopback":
            out += ["        inet 127.0.0.1  netmask 255.0.0.0",
                    "        inet6 ::1  prefixlen 128  scopeid 0x10<host>",
                    "        loop  txqueuelen 1000  (Local Loopback)"]
        else:
            if i.ipv4 is not None:
                out.append(f"        inet {i.ipv4.ip}  netmask {i.ipv4.netmask}  "
                           f"broadcast {i.ipv4.network.broadcast_address}")
            if i.carrier:
                out.append(f"        inet6 {_link_local(i.mac)}  prefixlen 64  scopeid 0x20<link>")
            out.append(f"        ether {i.mac}  txqueuelen 1000  (Ethernet)")
        rx, tx = i.rx, i.tx
        out += [f"        RX packets {rx['packets']}  bytes {rx['bytes']} ({_human(rx['bytes'])})",
                f"        RX errors {rx['errors']}  dropped {rx['dropped']}  overruns 0  frame 0",
                f"        TX packets {tx['packets']}  bytes {tx['bytes']} ({_human(tx['bytes'])})",
                f"        TX errors {tx['errors']}  dropped {tx['dropped']} overruns 0  carrier 0  "
                f"collisions 0", ""]
    return "\n".join(out) + "\n"


# ---- brctl show, bridge link --------------------------------------------------

def brctl_show(ifaces: List[Iface]) -> str:
    out = ["bridge name\tbridge id\t\tSTP enabled\tinterfaces"]
    bridges = sorted((i for i in ifaces if i.kind == "bridge"), key=lambda x: x.name.encode())
    for bridge in bridges:
        ports = sorted((i.name for i in ifaces if i.master == bridge.name), key=str.encode)
        bridge_id = "8000." + bridge.mac.replace(":", "")
        out.append(f"{bridge.name}\t\t{bridge_id}\tno\t\t{ports[0] if ports else ''}")
        out += [f"\t\t\t\t\t\t\t{port}" for port in ports[1:]]
    return "\n".join(out) + "\n"


def bridge_link(ifaces: List[Iface]) -> str:
    by_index = {i.ifindex: i.name for i in ifaces}
    out = []
    for i in ifaces:
        if not i.master:
            continue
        # `bridge link` resolves the peer's ifindex in dom0's own namespace
        # (an iproute2 quirk the parser has to ignore).
        name = f"{i.name}@{by_index[i.peer_index]}" if i.peer_index in by_index else i.name
        state = "forwarding" if i.carrier else "disabled"
        out.append(f"{i.ifindex}: {name}: <{','.join(i.flags)}> mtu 1500 master {i.master} "
                   f"state {state} priority 32 cost 2 ")
    return "\n".join(out) + "\n"


def write_links(host: hostfile.Host, outdir: str) -> List[str]:
    ifaces = dom0_ifaces(host)
    files = {"ip-s-link": ip_s_link(ifaces), "ip-o-link": ip_o_link(ifaces),
             "ip-br-link": ip_br_link(ifaces), "ip-j-s-link.json": ip_j_s_link(ifaces),
             "ifconfig-a": ifconfig_a(ifaces), "brctl-show": brctl_show(ifaces),
             "bridge-link": bridge_link(ifaces)}
    return _write(outdir, files)


# ---- CloudStack security groups -----------------------------------------------

BANNER = "# Generated by iptables-save v1.4.21 on Thu Nov 26 02:22:36 2026"
COMPLETED = "# Completed on Thu Nov 26 02:22:36 2026"

# The rule strings a VM's security group gets (`network_rules`' wire format,
# cloudstack-sg.md §3), picked per VM so that chains differ in length.
INGRESS_CHOICES = [
    ("tcp", 22, 22, ["0.0.0.0/0"]),
    ("tcp", 80, 80, ["0.0.0.0/0"]),
    ("tcp", 443, 443, ["10.0.0.0/8", "192.168.0.0/16"]),
    ("tcp", 3306, 3306, ["10.100.0.0/16"]),
    ("udp", 161, 162, ["10.0.0.0/8"]),
    ("icmp", -1, -1, ["0.0.0.0/0"]),
    ("tcp", 8000, 8999, ["172.16.0.0/12", "10.0.0.0/8"]),
]
EGRESS_CHOICES = [
    ("udp", 53, 53, ["10.0.0.0/8"]),
    ("tcp", 1, 65535, ["0.0.0.0/0"]),
    ("tcp", 25, 25, ["192.168.10.0/24"]),
]


class RuleSet:
    def __init__(self) -> None:
        self.ipt: Dict[str, List[str]] = {"FORWARD": [], "BRIDGE-FIREWALL": [],
                                          "BRIDGE-DEFAULT-FIREWALL": []}
        self.ipt_chains: List[str] = ["BRIDGE-DEFAULT-FIREWALL", "BRIDGE-FIREWALL"]
        self.sets: Dict[str, Tuple[str, List[str]]] = {}
        self.eb_filter: Dict[str, List[str]] = {"INPUT": [], "FORWARD": [], "OUTPUT": [],
                                                "DEFAULT_EBTABLES": []}
        self.eb_nat: List[str] = []
        self.arp: Dict[str, List[str]] = {"INPUT": [], "OUTPUT": [], "FORWARD": []}


def _physdev(direction: str, vif: str) -> str:
    return f"-m physdev --physdev-{direction} {vif} --physdev-is-bridged"


def _ports(proto: str, start: int, end: int) -> str:
    if proto == "icmp":
        return "-p icmp -m icmp --icmp-type any" if start == -1 else \
            f"-p icmp -m icmp --icmp-type {start}/{end}"
    ports = str(start) if start == end else f"{start}:{end}"
    return f"-p {proto} -m {proto} --dport {ports}"


def _global_rules(rules: RuleSet, host: hostfile.Host) -> None:
    """can_bridge_firewall + allow_egress_traffic + default_ebtables_rules (§2a)."""
    fw = rules.ipt
    fw["BRIDGE-DEFAULT-FIREWALL"] += [
        "-m state --state RELATED,ESTABLISHED -j ACCEPT",
        "-p udp -m physdev --physdev-is-bridged -m udp --sport 68 --dport 67 -j ACCEPT",
        "-p udp -m physdev --physdev-is-bridged -m udp --sport 67 --dport 68 -j ACCEPT"]
    fw["BRIDGE-FIREWALL"].append("-j BRIDGE-DEFAULT-FIREWALL")
    fw["FORWARD"].append("-m physdev --physdev-is-bridged -j BRIDGE-FIREWALL")
    fw["FORWARD"] += [f"-m physdev --physdev-out {b.uplink}+ --physdev-is-bridged -j ACCEPT"
                      for b in reversed(host.bridges) if b.uplink]
    fw["FORWARD"].append("-j DROP")
    eb = rules.eb_filter
    eb["FORWARD"].append("-j DEFAULT_EBTABLES")
    eb["DEFAULT_EBTABLES"] += [
        "-p IPv4 --ip-dst 255.255.255.255 --ip-proto udp --ip-dport 67 -j ACCEPT",
        "-p IPv4 --ip-dst 255.255.255.255 --ip-proto udp --ip-dport 68 -j ACCEPT",
        "-p ARP --arp-op Request -j ACCEPT",
        "-p ARP --arp-op Reply -j ACCEPT",
        "-p IPv4 -d Broadcast -j DROP",
        "-p IPv4 -d Multicast -j DROP",
        "-p IPv4 --ip-dst 255.255.255.255 -j DROP",
        "-p IPv4 --ip-dst 224.0.0.0/4 -j DROP",
        "-p IPv4 -j RETURN",
        "-p IPv6 -j DROP",
        "-p 802_1Q -j DROP",
        "-j DROP"]


def _vm_rules(rules: RuleSet, vm: hostfile.Vm, rng: random.Random) -> None:
    """default_network_rules (§2b) then one network_rules call (§3) for one VM."""
    chain, egress, default = vm.name_label, vm.name_label + "-eg", vm.name_label + "-def"
    vm_set = vm.name_label
    vif0 = vm.vifs[0]
    ip = str(vif0.ipv4[0].ip)
    mac = vif0.mac
    vifs = [vm.dom0_ifname(vif0)] + ([vm.tap_ifname(vif0)] if vm.hvm else [])
    rules.ipt_chains += [chain, egress, default]
    rules.sets[vm_set] = ("hash:net", [ip])

    fw = rules.ipt
    fw[chain], fw[egress], fw[default] = [], [], []
    for v in vifs:
        # `-I BRIDGE-FIREWALL 2 ... --physdev-in`: lands right after the
        # BRIDGE-DEFAULT-FIREWALL jump, before every earlier VM's rules.
        fw["BRIDGE-FIREWALL"].insert(1, f"{_physdev('in', v)} -j {default}")
        fw["BRIDGE-FIREWALL"].append(f"{_physdev('out', v)} -j {default}")
        fw[default] += [
            f"-p udp {_physdev('in', v)} -m set --match-set {vm_set} src -m udp --dport 53 -j RETURN",
            f"{_physdev('in', v)} -m set ! --match-set {vm_set} src -j DROP",
            f"{_physdev('out', v)} -m set ! --match-set {vm_set} dst -j DROP",
            f"{_physdev('in', v)} -m set --match-set {vm_set} src -j {egress}",
            f"{_physdev('out', v)} -j {chain}"]

    # network_rules: every command is `-I chain` (position 1), so the chain
    # ends up in reverse order of the rule string; then the final DROP/RETURN.
    ingress = rng.sample(INGRESS_CHOICES, rng.randint(1, 4))
    egress_rules = rng.sample(EGRESS_CHOICES, rng.randint(0, 2))
    for entries, target_chain, action, direction, set_prefix in (
            (ingress, chain, "ACCEPT", "src", vm.name_label),
            (egress_rules, egress, "RETURN", "dst", vm.name_label + "-e")):
        commands = []
        for proto, start, end, cidrs in entries:
            allow_any = "0.0.0.0/0" in cidrs
            rest = [c for c in cidrs if c != "0.0.0.0/0"]
            state = "" if proto == "icmp" else " -m state --state NEW"
            if rest:
                set_name = (f"{set_prefix}_i_any" if start == -1 else
                            f"{set_prefix}{proto[0]}{start}_{end}")
                rules.sets[set_name] = ("hash:net", rest)
                commands.append(f"{_ports(proto, start, end)}{state} -m set --match-set "
                                f"{set_name} {direction} -j {action}")
            if allow_any:
                commands.append(f"{_ports(proto, start, end)}{state} -j {action}")
        fw[target_chain] += list(reversed(commands))
    fw[egress].append("-j DROP" if egress_rules else "-j RETURN")
    fw[chain].append("-j DROP")

    # ebtables (§2b.10): the nat PREROUTING anti-spoof works on current
    # ebtables, so it goes there; the per-VM chain keeps the DHCP rules.
    eb = rules.eb_filter
    eb[chain] = []
    for v in vifs:
        eb["FORWARD"].insert(1, f"-i {v} -j {chain}")
        eb["FORWARD"].append(f"-o {v} -j {chain}")
        rules.eb_nat.insert(0, f"-s ! {mac} -i {v} -j DROP")
        eb[chain] += [f"-p IPv4 -i {v} --ip-proto udp --ip-dport 68 -j DROP",
                      f"-p IPv4 -o {v} --ip-proto udp --ip-dport 67 -j DROP"]

    # arptables (§2b.9), in arptables-legacy-save's spelling: target first.
    arp = rules.arp
    arp[chain] = []
    for v in vifs:
        arp["FORWARD"].insert(0, f"-j {chain} -i {v}")
        arp["FORWARD"].append(f"-j {chain} -o {v}")
        # Spelled as arptables-legacy 0.0.5 prints them (checked in a netns).
        arp[chain] += [
            f"-j ACCEPT -i {v} -s {ip} --src-mac {mac} --opcode 2",
            f"-j RETURN -i {v} -s {ip} --src-mac {mac} --opcode 1",
            f"-j ACCEPT -o {v} -d {ip} --opcode 1",
            f"-j ACCEPT -o {v} -d {ip} --dst-mac {mac} --opcode 2"]
    arp[chain].append("-j DROP")


def security_groups(host: hostfile.Host) -> RuleSet:
    rules = RuleSet()
    _global_rules(rules, host)
    rng = random.Random(zlib.crc32(host.host_uuid().encode()) ^ 0x5A5A)
    for vm in host.running_vms():
        if vm.kind == "user" and vm.vifs and vm.vifs[0].ipv4:
            _vm_rules(rules, vm, rng)
    return rules


def iptables_save(rules: RuleSet) -> str:
    out = [BANNER, "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    out += [f":{c} - [0:0]" for c in sorted(rules.ipt_chains)]
    for chain in ["FORWARD"] + sorted(rules.ipt_chains):
        out += [f"-A {chain} {rule}" for rule in rules.ipt[chain]]
    out += ["COMMIT", COMPLETED]
    return "\n".join(out) + "\n"


def iptables_s(rules: RuleSet) -> str:
    out = ["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"]
    out += [f"-N {c}" for c in sorted(rules.ipt_chains)]
    for chain in ["FORWARD"] + sorted(rules.ipt_chains):
        out += [f"-A {chain} {rule}" for rule in rules.ipt[chain]]
    return "\n".join(out) + "\n"


def ipset_save(rules: RuleSet) -> str:
    out = []
    for name, (kind, members) in rules.sets.items():
        out.append(f"create {name} {kind} family inet hashsize 1024 maxelem 65536")
        out += [f"add {name} {member}" for member in members]
    return "\n".join(out) + "\n"


def ebtables_save(rules: RuleSet) -> str:
    """Legacy ebtables-save (the perl script of dom0's ebtables 2.0.10)."""
    out = ["# Generated by ebtables-save v1.0 on Thu Nov 26 02:22:36 UTC 2026", "*filter",
           ":INPUT ACCEPT", ":FORWARD ACCEPT", ":OUTPUT ACCEPT"]
    user = [c for c in rules.eb_filter if c not in ("INPUT", "FORWARD", "OUTPUT")]
    out += [f":{c} RETURN" for c in user]  # `ebtables -N` gives RETURN
    for chain, chain_rules in rules.eb_filter.items():
        out += [f"-A {chain} {rule}" for rule in chain_rules]
    out += ["", "*nat", ":PREROUTING ACCEPT", ":OUTPUT ACCEPT", ":POSTROUTING ACCEPT"]
    out += [f"-A PREROUTING {rule}" for rule in rules.eb_nat]
    return "\n".join(out) + "\n\n"


def arptables_save(rules: RuleSet) -> str:
    """Legacy arptables-save (perl script): no banner, no COMMIT."""
    out = ["*filter", ":INPUT ACCEPT", ":OUTPUT ACCEPT", ":FORWARD ACCEPT"]
    out += [f":{c} -" for c in rules.arp if c not in ("INPUT", "OUTPUT", "FORWARD")]
    for chain, chain_rules in rules.arp.items():
        out += [f"-A {chain} {rule} " for rule in chain_rules]
    return "\n".join(out) + "\n"


def arptables_list(rules: RuleSet) -> str:
    """`arptables-legacy -L -n`: the save lines without `-A CHAIN`."""
    out = []
    references: Dict[str, int] = {}
    for chain_rules in rules.arp.values():
        for rule in chain_rules:
            target = rule.split()[1]
            references[target] = references.get(target, 0) + 1
    for chain, chain_rules in rules.arp.items():
        if chain in ("INPUT", "OUTPUT", "FORWARD"):
            out.append(f"Chain {chain} (policy ACCEPT)")
        else:
            out.append(f"Chain {chain} ({references.get(chain, 0)} references)")
        out += [f"{rule} " for rule in chain_rules]
        out.append("")
    return "\n".join(out[:-1]) + "\n"


def write_firewall(host: hostfile.Host, outdir: str) -> List[str]:
    rules = security_groups(host)
    return _write(outdir, {"iptables-save": iptables_save(rules), "iptables-S": iptables_s(rules),
                           "ipset-save": ipset_save(rules), "ebtables-save": ebtables_save(rules),
                           "arptables-save": arptables_save(rules),
                           "arptables-L-n": arptables_list(rules)})


# ---- a vif-of snapshot ----------------------------------------------------------

# What `vif-of --capture` asks xe for (lib/host/host_inputs.cpp, read_live).
VM_PARAMS = "params=uuid,name-label,power-state,dom-id,networks"
VIF_PARAMS = "params=uuid,vm-uuid,vm-name-label,device,MAC,MTU,network-uuid,network-name-label"


def xe_output(host_path: str, *args: str) -> str:
    env = dict(os.environ, VIFWALL_SIM_HOST=os.path.abspath(host_path))
    return subprocess.run([os.path.join(SIM, "xe"), *args], env=env, check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def write_snapshot(host: hostfile.Host, host_path: str, outdir: str) -> List[str]:
    ifaces = dom0_ifaces(host)
    return _write(outdir, {"xe-vm-list": xe_output(host_path, "vm-list", VM_PARAMS),
                           "xe-vif-list": xe_output(host_path, "vif-list", VIF_PARAMS),
                           "ip-s-link": ip_s_link(ifaces), "brctl-show": brctl_show(ifaces)})


def _write(outdir: str, files: Dict[str, str]) -> List[str]:
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for name, text in files.items():
        path = os.path.join(outdir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        paths.append(path)
    return paths


def main(argv: List[str]) -> int:
    if len(argv) != 4 or argv[1] not in ("links", "firewall", "snapshot"):
        print("usage: gen_inputs.py links|firewall|snapshot HOST OUTDIR", file=sys.stderr)
        return 2
    command, host_path, outdir = argv[1:]
    try:
        host = hostfile.load(host_path)
    except hostfile.HostFileError as error:
        print(f"gen_inputs: {error}", file=sys.stderr)
        return 1
    if command == "links":
        write_links(host, outdir)
    elif command == "firewall":
        write_firewall(host, outdir)
    else:
        write_snapshot(host, host_path, outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
