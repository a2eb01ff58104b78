"""IPv6 and second-NIC probes with real frames, for tests/e2e/sg_apply_ipv6.sh.

    ipv6_packets.py HOST_FILE SIM PHASE PROBE=EXPECT...

HOST_FILE is examples/hosts/ipv6.host (read with sim/hostfile.py), SIM the
name of a sim built from it, EXPECT one of arrive, drop or any (only
reported).  The driver sends the named probes of the catalogue below (and no
other) in one process, as in sg_check_packets.py: one AF_PACKET socket on
each endpoint's interface, all opened (setns(2)) before the first frame; the
frames, each carrying "V6PK" + its id (in an ND option of an unassigned
type for ND messages, so receivers ignore it); then per (source,
destination) pair one honest ARP request, the marker, which every firewall
here lets through; reading stops when every marker arrived (at most 10 s),
so no sleep decides anything.  A probe "arrived" when its frame reached the
destination's interface.  Prints one line per probe and exits 1 when one
did not do as expected (2: bad arguments, or a marker never arrived).
Standard library only.
"""

import os
import socket
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
from rawframes import (receive_until_markers, checksum, ethernet, go_home, home_namespace, ipv4, ipv6,
                       ipv6_pseudo, mac_of, raw_socket)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sim"))
import hostfile  # noqa: E402  (sim/, beside tests/)

MAGIC = b"V6PK"
MARKER_BASE = 0x7E000000
ICMPV6, UDP, TCP = 58, 17, 6
ND_MAGIC_OPTION = 253  # RFC 4727 experimental option type: ignored by receivers

A, B, C = "i-2-21-VM", "i-2-22-VM", "i-2-23-VM"


class Endpoint:
    def __init__(self, name, ns, ifname, mac, ip4, ip6):
        self.name, self.ns, self.ifname, self.mac, self.ip4, self.ip6 = name, ns, ifname, mac, ip4, ip6
        self.ll = str(hostfile.link_local(mac))


def endpoints(host_path, sim):
    host = hostfile.load(host_path)
    ends = {}
    for label, vm_name, device in (("A0", A, 0), ("A1", A, 1), ("B", B, 0), ("C", C, 0)):
        vm = host.find_vm(vm_name)
        vif = next(v for v in vm.vifs if v.device == device)
        ends[label] = Endpoint(label, "%s-g%d" % (sim, vm.domid), vm.guest_ifname(vif), vif.mac,
                               str(vif.ipv4[0].ip), str(vif.ipv6[0].ip) if vif.ipv6 else None)
    home = home_namespace()
    for label, bridge in (("OUT0", "xenbr0"), ("OUT1", "xenbr1")):
        b = host.bridge(bridge)
        sock = raw_socket(sim + "-out", b.uplink)  # the outside end's MAC is the kernel's random one
        ends[label] = Endpoint(label, sim + "-out", b.uplink, mac_of(sock, b.uplink), str(b.outside_ip.ip),
                               str(b.outside_ip6.ip))
        sock.close()
    go_home(home)
    os.close(home)
    return ends


# ---- frames -------------------------------------------------------------------

def tag(ident):
    return MAGIC + struct.pack("!I", ident)


def nd_tag(ident):
    """The id as an ND option (16 bytes: type, length 2, tag, padding)."""
    return struct.pack("!BB", ND_MAGIC_OPTION, 2) + tag(ident) + b"\0" * 6


def link_layer_option(kind, mac):
    """Source (1) or target (2) link-layer address option."""
    return struct.pack("!BB", kind, 1) + bytes(int(x, 16) for x in mac.split(":"))


def icmp6(src, dst, icmp_type, body, hop_limit=64, code=0):
    msg = struct.pack("!BBH", icmp_type, code, 0) + body
    c = checksum(ipv6_pseudo(src, dst, ICMPV6, len(msg)) + msg)
    return ipv6(src, dst, ICMPV6, msg[:2] + struct.pack("!H", c) + msg[4:], hop_limit)


def udp6(src, dst, sport, dport, ident):
    data = tag(ident)
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = checksum(ipv6_pseudo(src, dst, UDP, len(seg)) + seg) or 0xFFFF
    return ipv6(src, dst, UDP, seg[:6] + struct.pack("!H", c) + seg[8:])


def tcp6_syn(src, dst, sport, dport, ident):
    seg = struct.pack("!HHIIBBHHH", sport, dport, ident, 0, 5 << 4, 0x02, 64240, 0, 0) + tag(ident)
    c = checksum(ipv6_pseudo(src, dst, TCP, len(seg)) + seg)
    return ipv6(src, dst, TCP, seg[:16] + struct.pack("!H", c) + seg[18:])


def udp4(src, dst, sport, dport, ident):
    data = tag(ident)
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data  # checksum 0: none (IPv4)
    return ipv4(src, dst, UDP, seg, ident)


def solicited_node(addr):
    raw = socket.inet_pton(socket.AF_INET6, addr)
    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff02" + "0000" * 4 + "0001" + "ff") + raw[13:])


def multicast_mac(addr):
    raw = socket.inet_pton(socket.AF_INET6, addr)
    return "33:33:" + ":".join("%02x" % b for b in raw[12:])


def ns(s, target, ident, src=None, hop_limit=255):
    src = src or s.ip6
    dst = solicited_node(target)
    body = struct.pack("!I", 0) + socket.inet_pton(socket.AF_INET6, target)
    if src != "::":
        body += link_layer_option(1, s.mac)
    return multicast_mac(dst), icmp6(src, dst, 135, body + nd_tag(ident), hop_limit)


def na(s, d, target, ident, solicited=True):
    flags = (0x40000000 if solicited else 0) | 0x20000000  # S, O
    body = struct.pack("!I", flags) + socket.inet_pton(socket.AF_INET6, target) + link_layer_option(2, s.mac)
    return d.mac, icmp6(s.ip6, d.ip6, 136, body + nd_tag(ident), 255)


def ra(s, ident):
    # Router lifetime 0 and no prefix: a receiver that takes it changes nothing.
    body = struct.pack("!BBHII", 64, 0, 0, 0, 0) + link_layer_option(1, s.mac)
    return "33:33:00:00:00:01", icmp6(s.ll, "ff02::1", 134, body + nd_tag(ident), 255)


def redirect(s, d, ident):
    body = (struct.pack("!I", 0) + socket.inet_pton(socket.AF_INET6, s.ll) +
            socket.inet_pton(socket.AF_INET6, "2001:db8:ffff::1") + nd_tag(ident))
    return d.mac, icmp6(s.ll, d.ll, 137, body, 255)


def echo6(s, d, ident):
    return d.mac, icmp6(s.ip6, d.ip6, 128, struct.pack("!HH", ident & 0xFFFF, 1) + tag(ident))


# ---- the catalogue: name -> (source, destination, frame maker) -------------------
# A maker gets (source, destination, id, endpoints) and returns (destination MAC,
# IP packet, ethertype[, source MAC]).

V6, V4 = 0x86DD, 0x0800


def catalogue():
    def u6(src=None, dst=None, sport=40000, dport=5000):
        return lambda s, d, i, e: (d.mac, udp6(src(e) if src else s.ip6, dst(e) if dst else d.ip6,
                                               sport, dport, i), V6)

    def u4(src=None, mac=None):
        return lambda s, d, i, e: (d.mac, udp4(src(e) if src else s.ip4, d.ip4, 40000, 5000, i), V4) + \
            ((mac(e),) if mac else ())

    def syn(port):
        return lambda s, d, i, e: (d.mac, tcp6_syn(s.ip6, d.ip6, 30000 + i % 30000, port, i), V6)

    return {
        # attacks: each must arrive without a firewall and be dropped with it
        "spoof6-other": ("A0", "OUT0", u6(src=lambda e: "2001:db8:150::99")),
        "spoof6-vm": ("A0", "OUT0", u6(src=lambda e: e["B"].ip6)),
        "spoof6-ll": ("A0", "OUT0", u6(src=lambda e: "fe80::99", dst=lambda e: e["OUT0"].ll)),
        "ra-from-vm": ("A0", "B", lambda s, d, i, e: ra(s, i) + (V6,)),
        "na-claims-b": ("A0", "OUT0", lambda s, d, i, e: na(s, d, e["B"].ip6, i, solicited=False) + (V6,)),
        "dhcp6-server": ("A0", "OUT0", u6(src=lambda e: e["A0"].ll, dst=lambda e: e["OUT0"].ll,
                                          sport=547, dport=546)),
        "redirect-from-vm": ("A0", "B", lambda s, d, i, e: redirect(s, d, i) + (V6,)),
        "ns-hop-limit-64": ("A0", "B", lambda s, d, i, e: ns(s, e["B"].ip6, i, hop_limit=64) + (V6,)),
        "ipv6-from-v4-only": ("C", "OUT0", u6(src=lambda e: e["C"].ll, dst=lambda e: e["OUT0"].ll)),
        "nic1-spoof4": ("A1", "OUT1", u4(src=lambda e: "10.151.0.99")),
        "nic1-spoof4-nic0": ("A1", "OUT1", u4(src=lambda e: e["A0"].ip4)),
        "nic1-spoof6": ("A1", "OUT1", u6(src=lambda e: "2001:db8:151::99")),
        "nic1-spoof6-nic0": ("A1", "OUT1", u6(src=lambda e: e["A0"].ip6)),
        "nic1-spoof6-ll-nic0": ("A1", "OUT1", u6(src=lambda e: e["A0"].ll, dst=lambda e: e["OUT1"].ll)),
        "nic1-mac-nic0": ("A1", "OUT1", u4(mac=lambda e: e["A0"].mac)),
        # honest traffic
        "ns-a-b": ("A0", "B", lambda s, d, i, e: ns(s, d.ip6, i) + (V6,)),
        "ns-ll-a-b": ("A0", "B", lambda s, d, i, e: ns(s, d.ip6, i, src=s.ll) + (V6,)),
        "na-b-a": ("B", "A0", lambda s, d, i, e: na(s, d, s.ip6, i) + (V6,)),
        "na-a-out": ("A0", "OUT0", lambda s, d, i, e: na(s, d, s.ip6, i) + (V6,)),
        "echo6-a-out": ("A0", "OUT0", lambda s, d, i, e: echo6(s, d, i) + (V6,)),
        "echo6-b-a": ("B", "A0", lambda s, d, i, e: echo6(s, d, i) + (V6,)),
        "udp6-a-out": ("A0", "OUT0", u6()),
        "udp6-ll-a-out": ("A0", "OUT0", u6(src=lambda e: e["A0"].ll, dst=lambda e: e["OUT0"].ll)),
        "ra-to-vm": ("OUT0", "A0", lambda s, d, i, e: ra(s, i) + (V6,)),
        "udp4-a-out": ("A0", "OUT0", u4()),
        "udp4-c-out": ("C", "OUT0", u4()),
        "nic1-udp4": ("A1", "OUT1", u4()),
        "nic1-udp6": ("A1", "OUT1", u6()),
        "nic1-ns": ("A1", "OUT1", lambda s, d, i, e: ns(s, d.ip6, i) + (V6,)),
        "nic1-echo6": ("A1", "OUT1", lambda s, d, i, e: echo6(s, d, i) + (V6,)),
        "syn6-out-a-22": ("OUT0", "A0", syn(22)),
        "syn6-out-a-23": ("OUT0", "A0", syn(23)),
        "syn6-b-a-22": ("B", "A0", syn(22)),
        # duplicate address detection (source ::): reported, the contract says nothing
        "dad-ns": ("A0", "B", lambda s, d, i, e: ns(s, s.ip6, i, src="::") + (V6,)),
    }


def marker(s, d, ident):
    """An honest ARP request from s for d's IPv4 address, the id in its padding."""
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, bytes(int(x, 16) for x in s.mac.split(":")),
                       socket.inet_aton(s.ip4), b"\0" * 6, socket.inet_aton(d.ip4))
    return ethernet("ff:ff:ff:ff:ff:ff", s.mac, 0x0806, body + tag(ident) + b"\0" * 6)


def send_and_sniff(frames, pairs, ends):
    """frames: [(id, source, destination, frame)]; returns {endpoint: ids seen}."""
    used = sorted({name for pair in pairs for name in pair})
    home = home_namespace()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one CPU: frames keep their order
    socks = {name: raw_socket(ends[name].ns, ends[name].ifname) for name in used}
    go_home(home)
    os.close(home)
    for _, src, _, data in frames:
        socks[src].send(data)
    markers = {}
    for index, (src, dst) in enumerate(sorted(pairs)):
        ident = MARKER_BASE + index
        markers[ident] = dst
        socks[src].send(marker(ends[src], ends[dst], ident))
    seen = {name: set() for name in used}
    waiting = receive_until_markers(socks, MAGIC, markers, seen)
    for sock in socks.values():
        sock.close()
    if waiting:
        sys.stderr.write("markers never arrived: %s\n" % ", ".join(
            sorted("%s" % [p for p in pairs if p[1] == markers[m]] for m in waiting)))
        sys.exit(2)
    return seen


def main():
    if len(sys.argv) < 5:
        sys.exit("usage: ipv6_packets.py HOST_FILE SIM PHASE PROBE=arrive|drop|any...")
    host_path, sim, phase = sys.argv[1:4]
    ends = endpoints(host_path, sim)
    known = catalogue()
    wanted = []
    for word in sys.argv[4:]:
        name, _, expect = word.partition("=")
        if name not in known or expect not in ("arrive", "drop", "any"):
            sys.stderr.write("ipv6_packets.py: bad probe %r (known: %s; expect arrive, drop or any)\n" % (
                word, " ".join(sorted(known))))
            sys.exit(2)
        wanted.append((name, expect))
    frames, pairs = [], set()
    for index, (name, _) in enumerate(wanted):
        src, dst, make = known[name]
        ident = 1 + index
        made = make(ends[src], ends[dst], ident, ends)
        dst_mac, packet, ethertype = made[:3]
        src_mac = made[3] if len(made) > 3 else ends[src].mac
        frames.append((ident, src, dst, ethernet(dst_mac, src_mac, ethertype, packet)))
        pairs.add((src, dst))
    seen = send_and_sniff(frames, pairs, ends)
    wrong = 0
    for (name, expect), (ident, src, dst, _) in zip(wanted, frames):
        got = "arrive" if ident in seen[dst] else "drop"
        verdict = "ok" if expect in ("any", got) else "UNEXPECTED"
        wrong += verdict != "ok"
        print("%s: %-20s %-4s -> %-4s %-7s (expected %s) %s" % (
            phase, name, src, dst, "arrived" if got == "arrive" else "dropped", expect, verdict))
    print("%s: %d probes, %d as expected" % (phase, len(wanted), len(wanted) - wrong))
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
