"""sg-check against the kernel: real frames through a simulated dom0.

    sg_check_packets.py CONFIG.json ROUND FIRST_ID SG_CHECK WORKDIR

CONFIG names the sim's endpoints: {"dom0": NS, "endpoints": [{"name": ...,
"ns": NS, "ip": ..., "mac": ... (null: read from the namespace's eth0),
"vm_name": VM or null for the outside}, ...]}.  The driver

 1. builds the packets of ROUND (ids from FIRST_ID): every ordered pair of
    endpoints on tcp/udp ports rules allow and deny, ICMP (echo-request,
    echo-reply = INVALID to conntrack, timestamp, an error), ARP requests
    and replies, honest and spoofed; spoofed source IPs and MACs; IPv4
    broadcasts; IPv6;
 2. asks sg-check for every verdict in one run (--batch, JSON lines, in the
    dom0 namespace: the live tables);
 3. sends every packet as a raw Ethernet frame (AF_PACKET) from its source
    namespace and sniffs every destination namespace's eth0 -- one process,
    sockets opened in each namespace through setns(2), all of them before
    the first frame is sent -- each frame carrying "SGCK" + its id in its
    payload (ARP: in the frame's padding);
 4. after the last frame, sends one marker (an ARP request every host
    allows) from each source to each destination and reads until every
    marker arrived (bounded: 10 s), so no sleep decides anything;
 5. compares: delivered to its destination <=> sg-check said pass.

Prints "ROUND: N packets, N agreed" and each disagreement; exit 1 on any.
Standard library only.
"""

import json
import os
import random
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
from rawframes import receive_until_markers, checksum, go_home, home_namespace, ipv4, mac_bytes, mac_of, raw_socket

MAGIC = b"SGCK"
MARKER_BASE = 0x7F000000


# ---- frames -------------------------------------------------------------------

def l4(p, tag):
    """The transport header and payload of packet p (IPv4 pseudo header for checksums)."""
    data = MAGIC + struct.pack("!I", p["id"]) + tag
    pseudo = lambda length: (socket.inet_aton(p["src_ip"]) + socket.inet_aton(p["dst_ip"]) +
                             struct.pack("!BBH", 0, p["proto_num"], length))
    if p["proto"] == "tcp":
        hdr = struct.pack("!HHIIBBHHH", p["sport"], p["dport"], p["id"], 0, 5 << 4, 0x02, 64240, 0, 0)
        seg = hdr + data
        c = checksum(pseudo(len(seg)) + seg)
        return seg[:16] + struct.pack("!H", c) + seg[18:]
    if p["proto"] == "udp":
        seg = struct.pack("!HHHH", p["sport"], p["dport"], 8 + len(data), 0) + data
        c = checksum(pseudo(len(seg)) + seg) or 0xFFFF
        return seg[:6] + struct.pack("!H", c) + seg[8:]
    # icmp: echo-like header (id, seq) for every type; errors quote nothing real
    msg = struct.pack("!BBHHH", p["icmp_type"], p["icmp_code"], 0, p["id"] & 0xFFFF, 1) + data
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def ipv6_udp(p):
    data = MAGIC + struct.pack("!I", p["id"])
    src, dst = socket.inet_pton(socket.AF_INET6, p["src_ip"]), socket.inet_pton(socket.AF_INET6, p["dst_ip"])
    seg = struct.pack("!HHHH", p["sport"], p["dport"], 8 + len(data), 0) + data
    c = checksum(src + dst + struct.pack("!IxxxB", len(seg), 17) + seg) or 0xFFFF
    seg = seg[:6] + struct.pack("!H", c) + seg[8:]
    return struct.pack("!IHBB16s16s", 6 << 28, len(seg), 17, 64, src, dst) + seg


def frame(p):
    eth = mac_bytes(p["dst_mac"]) + mac_bytes(p["src_mac"])
    if p["proto"] == "arp":
        body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, p["arp_op"], mac_bytes(p["src_mac"]),
                           socket.inet_aton(p["src_ip"]), mac_bytes(p["arp_target_mac"]),
                           socket.inet_aton(p["dst_ip"]))
        pad = MAGIC + struct.pack("!I", p["id"])
        return eth + struct.pack("!H", 0x0806) + body + pad + b"\0" * 6
    if p["proto"] == "ipv6":
        return eth + struct.pack("!H", 0x86DD) + ipv6_udp(p)
    return eth + struct.pack("!H", 0x0800) + ipv4(p["src_ip"], p["dst_ip"], p["proto_num"], l4(p, b""), p["id"])


# ---- the packets of a round ------------------------------------------------------------

TCP_PORTS = [22, 23, 80, 443, 8080, 8085, 8090, 8091, 7001, 7002]
UDP_PORTS = [53, 54, 5000, 5005, 5011, 7000, 9999]
ICMP = [(8, 0), (0, 0), (13, 0), (3, 3)]


class Builder:
    def __init__(self, first_id, seed):
        self.next_id = first_id
        self.rng = random.Random(seed)
        self.packets = []

    def add(self, s, d, proto, **kw):
        p = {"id": self.next_id, "src": s["name"], "dst": d["name"], "proto": proto,
             "src_ip": kw.pop("src_ip", s["ip"]), "dst_ip": kw.pop("dst_ip", d["ip"]),
             "src_mac": kw.pop("src_mac", s["mac"]), "dst_mac": kw.pop("dst_mac", d["mac"])}
        self.next_id += 1
        p["sport"] = 20000 + (p["id"] % 40000)  # unique per packet: no flow is ever seen twice
        p.update(kw)
        p["proto_num"] = {"tcp": 6, "udp": 17, "icmp": 1}.get(proto, 0)
        self.packets.append(p)

    def spoof_mac(self):
        return "02:5c:%02x:%02x:%02x:%02x" % tuple(self.rng.randrange(256) for _ in range(4))


def build(endpoints, first_id, seed):
    b = Builder(first_id, seed)
    unused_ip = "10.147.41.199"
    vms = [e for e in endpoints if e["vm"]]
    for s in endpoints:
        for d in endpoints:
            if s is d:
                continue
            for port in TCP_PORTS:
                b.add(s, d, "tcp", dport=port)
            for port in UDP_PORTS:
                b.add(s, d, "udp", dport=port)
            for t, c in ICMP:
                b.add(s, d, "icmp", icmp_type=t, icmp_code=c)
            # ARP: an honest request and reply, a request and a reply claiming another address
            b.add(s, d, "arp", arp_op=1, dst_mac="ff:ff:ff:ff:ff:ff", arp_target_mac="00:00:00:00:00:00")
            b.add(s, d, "arp", arp_op=2, arp_target_mac=d["mac"])
            b.add(s, d, "arp", arp_op=1, src_ip=unused_ip, dst_mac="ff:ff:ff:ff:ff:ff",
                  arp_target_mac="00:00:00:00:00:00")
            others = [e for e in vms if e is not s and e is not d]
            if others:
                b.add(s, d, "arp", arp_op=2, src_ip=others[0]["ip"], arp_target_mac=d["mac"])
            # spoofed source address and MAC
            b.add(s, d, "tcp", dport=80, src_ip=unused_ip)
            b.add(s, d, "icmp", icmp_type=8, icmp_code=0, src_ip=unused_ip)
            if others:
                b.add(s, d, "tcp", dport=8080, src_ip=others[0]["ip"])
            b.add(s, d, "tcp", dport=80, src_mac=b.spoof_mac())
            b.add(s, d, "udp", dport=53, src_mac=b.spoof_mac())
            # IPv4 broadcasts (flooded; checked where they should land): DHCP and not
            b.add(s, d, "udp", dport=67, sport_fixed=68, dst_ip="255.255.255.255", dst_mac="ff:ff:ff:ff:ff:ff")
            b.add(s, d, "udp", dport=9, dst_ip="255.255.255.255", dst_mac="ff:ff:ff:ff:ff:ff")
            # IPv6 (link-local, unicast)
            b.add(s, d, "ipv6", src_ip="fe80::%x" % (s["index"] + 1), dst_ip="fe80::%x" % (d["index"] + 1),
                  dport=5000)
    for p in b.packets:
        if "sport_fixed" in p:
            p["sport"] = p.pop("sport_fixed")
    return b.packets


def spec_line(p, ends):
    s, d = ends[p["src"]], ends[p["dst"]]
    words = ["id=%d" % p["id"], "from=" + (s["vm_name"] or s["ip"]), "to=" + (d["vm_name"] or d["ip"]),
             "src-mac=" + p["src_mac"], "dst-mac=" + p["dst_mac"]]
    if not s["vm"]:
        words.append("in=eth0")
    if not d["vm"]:
        words.append("out=eth0")
    words += ["src-ip=" + p["src_ip"], "dst-ip=" + p["dst_ip"]]  # a system VM has no set of addresses
    if p["proto"] == "arp":
        words += ["proto=arp", "arp=" + ("request" if p["arp_op"] == 1 else "reply")]
    elif p["proto"] == "icmp":
        words += ["proto=icmp", "icmp=%d/%d" % (p["icmp_type"], p["icmp_code"])]
    else:
        words += ["proto=" + ("udp" if p["proto"] == "ipv6" else p["proto"]),
                  "sport=%d" % p["sport"], "dport=%d" % p["dport"]]
    return " ".join(words)


def ask_sg_check(sg_check, dom0, batch_path):
    start = time.monotonic()
    run = subprocess.run(["ip", "netns", "exec", dom0, sg_check, "--batch", batch_path, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    took = time.monotonic() - start
    if run.returncode not in (0, 1, 2) or run.stderr.strip():
        sys.exit("sg-check failed (%d): %s" % (run.returncode, run.stderr.strip()))
    answers = {}
    for line in run.stdout.splitlines():
        a = json.loads(line)
        if a["verdict"] == "error":
            sys.exit("sg-check could not read a packet: " + a["error"])
        answers[int(a["id"])] = a
    return answers, took


def send_and_sniff(packets, endpoints):
    home = home_namespace()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one CPU: frames keep their order
    socks = {e["name"]: raw_socket(e["ns"]) for e in endpoints}
    go_home(home)
    seen = {e["name"]: set() for e in endpoints}
    marker_id = MARKER_BASE
    markers = {}
    for p in packets:
        socks[p["src"]].send(frame(p))
    for s in endpoints:  # markers: an honest ARP request every firewall here lets through
        for d in endpoints:
            if s is d:
                continue
            m = {"id": marker_id, "proto": "arp", "arp_op": 1, "src_ip": s["ip"], "dst_ip": d["ip"],
                 "src_mac": s["mac"], "dst_mac": "ff:ff:ff:ff:ff:ff", "arp_target_mac": "00:00:00:00:00:00"}
            markers[marker_id] = d["name"]
            socks[s["name"]].send(frame(m))
            marker_id += 1
    waiting = receive_until_markers(socks, MAGIC, markers, seen)
    if waiting:
        sys.exit("markers never arrived: %s" % sorted("%x->%s" % (m, markers[m]) for m in waiting))
    return seen


def main():
    config_path, round_name, first_id, sg_check, workdir = sys.argv[1:6]
    with open(config_path) as f:
        config = json.load(f)
    endpoints = config["endpoints"]
    for index, e in enumerate(endpoints):
        e["index"] = index
        e["vm"] = bool(e.get("vm_name"))
        if not e.get("mac"):
            sock = raw_socket(e["ns"])
            e["mac"] = mac_of(sock)
            sock.close()
    ends = {e["name"]: e for e in endpoints}
    packets = build(endpoints, int(first_id), seed=int(first_id))
    batch_path = os.path.join(workdir, round_name + ".batch")
    with open(batch_path, "w") as f:
        for p in packets:
            f.write(spec_line(p, ends) + "\n")
    answers, took = ask_sg_check(sg_check, config["dom0"], batch_path)
    start = time.monotonic()
    seen = send_and_sniff(packets, endpoints)
    sent_took = time.monotonic() - start
    disagree = []
    counts = {"pass": 0, "drop": 0}
    for p in packets:
        a = answers.get(p["id"])
        delivered = p["id"] in seen[p["dst"]]
        said = a["verdict"] if a else "missing"
        counts[said] = counts.get(said, 0) + 1
        if said != ("pass" if delivered else "drop"):
            disagree.append("  id %d %s: kernel %s, sg-check %s (%s)" % (
                p["id"], spec_line(p, ends), "delivered" if delivered else "dropped", said,
                a["reason"] if a else "-"))
    agreed = len(packets) - len(disagree)
    print("%s: %d packets, %d agreed (sg-check: %d pass, %d drop, %d other; batch %.2f s, sending %.2f s)" % (
        round_name, len(packets), agreed, counts.get("pass", 0), counts.get("drop", 0),
        len(packets) - counts.get("pass", 0) - counts.get("drop", 0), took, sent_took))
    for line in disagree[:40]:
        print(line)
    if counts.get("pass", 0) == 0 or counts.get("drop", 0) == 0:
        sys.exit("%s: every packet had the same verdict: the test would prove nothing" % round_name)
    sys.exit(1 if disagree else 0)


if __name__ == "__main__":
    main()
