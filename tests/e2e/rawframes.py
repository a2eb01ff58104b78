"""Raw Ethernet frames in the simulator's namespaces, shared by the packet
drivers (sg_check_packets.py, ipv6_packets.py): entering a namespace with
setns(2), an AF_PACKET socket on one of its interfaces, and the IPv4/IPv6
headers and checksums of hand-made frames.  Standard library only.
"""

import ctypes
import fcntl
import os
import select
import socket
import struct
import time

ETH_P_ALL = 0x0003
CLONE_NEWNET = 0x40000000
SIOCGIFHWADDR = 0x8927
PACKET_OUTGOING = 4

libc = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


def raw_socket(ns, ifname="eth0"):
    """A non-blocking AF_PACKET socket on IFNAME of namespace NS (the
    calling thread stays in NS: go home with go_home)."""
    enter(ns)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, 33, 32 * 1024 * 1024)  # SO_RCVBUFFORCE
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def home_namespace():
    """A descriptor of the current network namespace, for go_home."""
    return os.open("/proc/self/ns/net", os.O_RDONLY)


def go_home(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns back home")


def mac_of(sock, ifname="eth0"):
    info = fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, struct.pack("256s", ifname.encode()))
    return ":".join("%02x" % b for b in info[18:24])


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ipv4(src, dst, proto, payload, ident):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0, 64, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6(src, dst, next_header, payload, hop_limit=64):
    """An IPv6 header before PAYLOAD (whose checksum the caller made with
    ipv6_pseudo)."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, hop_limit,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload


def ipv6_pseudo(src, dst, next_header, length):
    """The IPv6 pseudo header of upper-layer checksums (RFC 8200 8.1)."""
    return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
            struct.pack("!IxxxB", length, next_header))


def ethernet(dst_mac, src_mac, ethertype, body):
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + struct.pack("!H", ethertype) + body


def receive_until_markers(socks, magic, markers, seen, timeout=10.0):
    """Reads every socket of `socks` (name -> non-blocking raw socket) until
    each marker id in `markers` (id -> the name that must receive it) arrived
    there, or `timeout` seconds passed.  Every id found after `magic` in a
    received frame is added to seen[name].  Returns the marker ids that never
    arrived (empty: all did, so every earlier frame had its chance)."""
    by_fd = {sock.fileno(): name for name, sock in socks.items()}
    waiting = set(markers)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        ready, _, _ = select.select(list(socks.values()), [], [], 0.5)
        for sock in ready:
            name = by_fd[sock.fileno()]
            while True:
                try:
                    data, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                at = data.find(magic)
                if at < 0 or at + 8 > len(data):
                    continue
                ident = struct.unpack("!I", data[at + 4:at + 8])[0]
                seen[name].add(ident)
                if ident in waiting and markers[ident] == name:
                    waiting.discard(ident)
    return waiting
