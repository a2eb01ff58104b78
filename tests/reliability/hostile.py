"""Hostile values for every sg-apply argument that reaches a command or a file.

Usage (inside the simulated dom0):  python3 hostile.py SG_APPLY TMP_DIR

Each argument gets at least 100 values (hand-written nasty ones plus
programmatic mutations of a valid value).  Every value is passed to a command
line that is otherwise valid and WOULD change the host (checked first with
--dry-run), so a value that is wrongly accepted shows up.  For each value:
  * exit status 1 or 2 (never 0, never a signal or "internal error"),
  * stderr is one clear "sg-apply: error: ..." message naming the argument,
    printable (no raw control characters: a value cannot paint the
    terminal) and short,
  * iptables, ebtables, arptables, every ipset and the state directory
    (names, sizes, checksums, mtimes) are byte-identical before and after.
Semantic traps (destroy --vm FORWARD, --vm i-2-5-VM-def, ...) are valid names
and may be accepted, but must change nothing.
"""

import base64
import os
import re
import sys
import time
import zlib

import rel
from rel import A, A_ID, A_IP, A_MAC, A_VIF

VALID_RULES = "I:tcp;22;22;10.0.0.0/8,192.168.0.0/16,NEXT I:icmp;8;0;10.147.40.0/23,NEXT E:udp;53;53;0.0.0.0/0,NEXT "
RAW_FF = "\udcff"  # passed to argv as the raw byte 0xff (invalid UTF-8)

# Strings that are wrong for every argument (shell, option and path tricks,
# blanks, control characters, Unicode look-alikes, overlong).
GENERIC = [
    "", " ", "  ", "\t", "\n", "\r", "\r\n", "a b", "a\nb", "a\tb", "'", '"', "''", '""', "`id`",
    "$(id)", "$(reboot)", "${IFS}", "$IFS", ";", ";reboot", "a;b", "|", "a|b", "&", "&&", "||",
    ">", ">/etc/passwd", "<", "*", "?", "[", "]", "{", "}", "{a,b}", "\\", "\\n", "!", "#", "~",
    "%", "%n%n%n%n", "%s%s%s", "^", "=", "==", "../x", "../../etc/passwd", "/etc/passwd", "/",
    "//", "-j ACCEPT", "-A FORWARD -j ACCEPT", "-j", "--help", "-h", "--version", "-", "--",
    "-x", "-1", "\x01", "\x1b[31mred", "\x1b]0;title\x07", "\x7f", "\x08\x08\x08", "\u00a0",
    "\u200b", "\u202e", "\ufeff", "\u00e9", "\u0130", "\uff11", RAW_FF, "a" + RAW_FF,
    "null", "None",
    "undefined", "NaN", "true", "0x41", "A" * 256, "A" * 4096, "A" * 100000,
    "COMMIT", "*filter", ":FORWARD ACCEPT", "create x hash:ip", "destroy", "flush",
]

NASTY_CHARS = [" ", "\t", "\n", ";", "|", "&", "$", "`", "'", '"', "\\", "*", "?", "<", ">", "(",
               ")", "{", "}", "[", "]", "!", "#", "~", "%", "^", "=", ",", "/", ":", "@", "+",
               "\x01", "\x1b", "\x7f", "\u00a0", "\u200b", RAW_FF]


def mutations(valid, allowed_chars):
    """The valid value with one nasty character (not in `allowed_chars`)
    inserted at the start, in the middle and at the end."""
    out = []
    for char in NASTY_CHARS:
        if char in allowed_chars:
            continue
        middle = len(valid) // 2
        out += [char + valid, valid[:middle] + char + valid[middle:], valid + char]
    return out


def unique(values):
    seen, out = set(), []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def valid_vm_name(value):
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", value) is not None


def valid_iface(value):
    return (re.fullmatch(r"[A-Za-z0-9._@+][A-Za-z0-9._@+-]{0,14}", value) is not None
            and value not in (".", ".."))


VM_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def vm_names():
    hand = ["-i-2-3-VM", ".i-2-3-VM", "_i-2-3-VM", "i-2-3-VM;reboot", "i-2-3-VM -j ACCEPT",
            "i-2-3-VM\n", "i" * 65, "i-" + "2" * 63, "i-2-3-VM/../x", "i-2-3-VM\x00"[:-1] + "\x01",
            "i-2-3-VM" + "\u00a0", "\u00a0" + "i-2-3-VM", "i-2-3-V\u039c", "i\u20132\u20133-VM",
            "i-2-3-VM:", "i-2-3-VM,", "i-2-3-VM+", "i-2-3-VM@x", "i-2-3-VM*", "$A", "i-2-3-VM'"]
    return unique([v for v in hand + GENERIC + mutations(A, VM_CHARS) if not valid_vm_name(v)])


def vm_ids():
    hand = ["-1", "-3", "3x", "x3", "0x10", "1e3", "3.0", "3,0", "+3", " 3", "3 ", "3\n",
            "\u0663", "\uff13", "99999999999999999999", "9223372036854775808",
            "-9223372036854775809", "18446744073709551616", "3;reboot", "$(id)", "3 -j ACCEPT",
            "0b11", "0o3", "3_000", "３"]
    return unique(hand + GENERIC + mutations(A_ID, set("0123456789")))


IP6_CHARS = set("0123456789abcdefABCDEF:")
A_IP6 = "2001:db8:41::238"  # a global address of A's NIC 0
A_NIC1 = ["--nic=1", "--ip=10.147.41.250", "--mac=06:f8:c8:00:01:09", "--vif=vif7.1"]


def ipv6s():
    """Values --ip6 must refuse: not an address, IPv4, a zone id, IPv4-mapped,
    multicast, unspecified, loopback, over-long."""
    hand = ["garbage", "2001:db8::g", "10.147.41.238", "0.0.0.0", "::ffff:1.2.3.4", "::ffff:10.147.41.238",
            "fe80::1%eth0", "fe80::1%25eth0", "2001:db8::1%1", "ff02::1", "ff02::1:ff00:238", "ff05::2",
            "ff00::", "::", "::1", "2001:db8:0:0:0:0:0:0:1", "2001:db8::1::2", "12345::1", "2001:db8:::1",
            ":2001:db8::1", "2001:db8::1:", "2001:db8::1/129", "2001:db8::1/-1", "2001:db8::1/",
            "[2001:db8::1]", "2001:db8::1 2001:db8::2", "2001:db8::1,2001:db8::2", "2001:db8::1;",
            "2001:db8::" + "1" * 100, "2001:db8:" + "1:" * 40 + ":1", "0x20010db8::1", "\uff12001:db8::1",
            "2001:db8::1\n", "-2001:db8::1"]
    return unique(hand + GENERIC + mutations(A_IP6, IP6_CHARS))


def nics():
    hand = ["-1", "16", "17", "99999999999", "9223372036854775808", "1x", "x1", "0x1", "1.0", "1e0",
            "1,2", " 1", "1 ", "1\n", "+1", "--1", "\u0661", "\uff11", "1;reboot", "1 -j ACCEPT", "NaN"]
    return unique(hand + GENERIC + mutations("1", set("0123456789")))


IP_CHARS = set("0123456789.")


def ipv4s(valid):
    hand = ["1.2.3", "1.2.3.4.5", "256.1.1.1", "1.256.1.1", "1.1.1.256", "999.1.1.1",
            "1.2.3.-1", "01.2.3.4", "1.02.3.4", "1.2.3.004", "1.2.3.4/32", "1.2.3.4/24",
            "10.0.0.0/8", "::1", "fe80::1", "::ffff:1.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n",
            "0x7f.0.0.1", "127.1", "1.2.3.4;reboot", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4%eth0",
            "\uff14.1.1.1", "1.2.3.4,5.6.7.8", "4294967296", "2130706433", "1.2.3.4:80",
            "a.b.c.d", "1.2.3.4 -j ACCEPT", "1.2.3.4\x00"[:-1] + "\x1b", "-1.2.3.4", "+1.2.3.4",
            "1.2.3.1e1", "1.2.3.0x1", "0300.0.0.1", "1.2.3.4/33", "1.2.3.4/"]
    return unique(hand + GENERIC + mutations(valid, IP_CHARS))


MAC_CHARS = set("0123456789abcdefABCDEF:-")


def macs():
    hand = ["06:f8:c8:00:00", "06:f8:c8:00:00:09:10", "gg:f8:c8:00:00:09", "06:f8:c8:00:00:0g",
            "06:f8:c8:00:00:09 ", " 06:f8:c8:00:00:09", "06:f8:c8:00:00:009", "006:f8:c8:00:00:09",
            "06:f8:c8::00:09", "06:f8:c8:00:00:", ":f8:c8:00:00:09", "06::f8:c8:00:00:09",
            "06.f8.c8.00.00.09", "06f8.c800.0009", "06 f8 c8 00 00 09", "06:f8:c8:00:00:09\n",
            "06:f8:c8:00:00:09;reboot", "06:f8:c8:00:00:09 -j ACCEPT", "06:f8:c8:00:00:0x9",
            "06:f8:c8:00:00:+9", "06:f8:c8:00:00:-9", "06:f8:c8:00:00:09:", "06:f8:c8:00:00:1ff",
            "\uff10\uff16:f8:c8:00:00:09", "06:f8:c8:00:00:09/ff:ff:ff:ff:ff:ff",
            "06:f8:c8:00:00:09!", "! 06:f8:c8:00:00:09", "0:0:0:0:0:0:0", "ffff:ffff:ffff"]
    return unique(hand + GENERIC + mutations(A_MAC, MAC_CHARS))


def sec_ips():
    hand = ["x;", "1.2.3;", "256.0.0.1;", "1.2.3.4;x;", "1.2.3.4/24;", "1.2.3.4; 5.6.7.8;",
            "1.2.3.4;;5.6.7.8;", "1.2.3.4,5.6.7.8", "1.2.3.4 5.6.7.8", "1.2.3.4;\n5.6.7.8;",
            "::1;", "fe80::1;", "1.2.3.4;$(id);", "1.2.3.4;-j ACCEPT;", "0;x;", "01.2.3.4;",
            "1.2.3.4;" * 15000 + "x;", "1.2.3.4;" + "9" * 1000 + ";", "a;" * 1000]
    return unique(hand + [g for g in GENERIC if g not in ("", "-1")] +
                  [m + ";" for m in mutations("10.147.41.241", IP_CHARS | {";"})])


IFACE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+-")


def ifaces(valid):
    hand = ["../x", "vif7.0/..", "x/y", "a" * 16, "vif7.0vif7.0vif7", "vif 7", "-vif7.0", ".",
            "..", "vif7.0:1", "eth0:0", "eth0\n", "vif7.0;", "vif7.0 -j ACCEPT", "vif7.0!",
            "! vif7.0", "vif7.0\x00"[:-1] + "\x1b", "vif\u00a07.0", "vif7.\uff10", "/dev/null",
            "vif7.0,vif8.0", "vif7.0 vif8.0", "vif7.0\tvif8.0", "'vif7.0'", "\"vif7.0\""]
    return unique([v for v in hand + GENERIC + mutations(valid, IFACE_CHARS) if not valid_iface(v)])


HEX = set("0123456789abcdefABCDEF")


def signatures():
    hand = ["g", "0x1", "a" * 65, "0" * 65, "_initial", "initial_", "_INITIAL_", " 01", "01 ",
            "01\n", "-1", "01;reboot", "01 -j ACCEPT", "\uff10\uff11", "_initial_;", "_initial_\n",
            "0123456789abcdef0123456789abcdefg"]
    return unique(hand + [g for g in GENERIC if g != ""] + mutations("0a1b", HEX))


def seqnos():
    hand = ["-2", "-10", "1.5", "1e3", "0x10", "9223372036854775808", "-9223372036854775809",
            "+1", " 1", "1 ", "1\n", "\u0661", "\uff11", "1;reboot", "1 -j ACCEPT", "--1", "1-",
            "0b1", "1_0", "NaN", "inf", "-inf"]
    return unique(hand + [g for g in GENERIC if g not in ("-1",)] + mutations("7", set("0123456789")))


def rule_strings():
    entries = VALID_RULES.split(" ")[:-1]  # "I:tcp;22;22;...,NEXT"
    out = []
    # Truncated: every prefix that does not end on an entry boundary.
    boundaries = {0}
    position = 0
    for entry in entries:
        position += len(entry)
        boundaries.update({position, position + 1})
        position += 1
    for cut in range(1, len(VALID_RULES)):
        if cut not in boundaries:
            out.append(VALID_RULES[:cut])
    # Field-level mutations of the first entry.
    fields = {
        "direction": ["X", "i", "e", "IE", "", "I I", "-j ACCEPT", "I;"],
        "protocol": ["", "tcp6", "TCP ", "t cp", "300", "256", "-1", "-6", "0x6", "tcp;udp",
                     "tcp -j ACCEPT", "$(id)", "icmpv6", "ipv6-icmp", "sctp", "esp "],
        "start": ["", "-1", "-2", "65536", "99999", "x", "2 2", "22.0", "0x16", "1e2", "22-23",
                  "$(id)", "22 -j ACCEPT", "+22"],
        "end": ["", "-2", "65536", "21", "x", "0x16", "22;", "22 --dport 1:65535"],
        "cidrs": ["", "2001:db8::/129", "::/-1", "2001:db8::/", "2001:db8::g/64", "2001:db8:::/64",
                  "2001:db8::/64x", "2001:db8::/64%eth0", "2001:db8::/0x40", "garbage/64", "::ffff:1.2.3.4/129",
                  "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0/8", "300.0.0.0/8",
                  "10.0.0.0/8/8", "::/129", "fe80::/10%eth0", "10.0.0.0/8 -j ACCEPT",
                  "10.0.0.0/8;reboot", "10.0.0.0 /8", "10.0.0.0/08x", "0/0", "any", "*",
                  "10.0.0.0/8,,", "10.0.0.0/8,x"],
    }
    for field, values in fields.items():
        for value in values:
            entry = {"direction": "I", "protocol": "tcp", "start": "22", "end": "22",
                     "cidrs": "10.0.0.0/8"}
            entry[field] = value
            out.append("%(direction)s:%(protocol)s;%(start)s;%(end)s;%(cidrs)s,NEXT " % entry)
    # ICMP out of range, start > end.
    out += ["I:icmp;256;0;0.0.0.0/0,NEXT ", "I:icmp;8;256;0.0.0.0/0,NEXT ",
            "I:icmp;-1;0;0.0.0.0/0,NEXT ", "I:icmp;-2;-1;0.0.0.0/0,NEXT ",
            "I:tcp;80;22;0.0.0.0/0,NEXT ", "I:udp;-1;-1;0.0.0.0/0,NEXT "]
    # Extra rules and injections riding on a valid one.
    good = "I:tcp;22;22;0.0.0.0/0,NEXT"
    out += [good + "; -j ACCEPT", good + " -j ACCEPT", good + "\n-A FORWARD -j ACCEPT",
            good + " COMMIT", good + "\nCOMMIT\n*filter\n-A FORWARD -j ACCEPT\nCOMMIT\n",
            "I:tcp;22;22;0.0.0.0/0 -j ACCEPT,NEXT ", "I:tcp;22;22;0.0.0.0/0\n-A FORWARD -j ACCEPT,NEXT ",
            good + " X", good + " NEXT", good + " I:", good + " I:tcp", good + " ;", good + "NEXT ",
            good + " " + good[:-4], "NEXT ", "NEXT NEXT ", ",NEXT ", "I:,NEXT ", ":;;;,NEXT ",
            good.replace(";", ";;", 1) + " ", good.replace(":", "::") + " ",
            good + " \x00"[:-1] + "\x1b[2J"]
    # Large, up to what one argument can carry (128 KiB); the huge ones go
    # through --deflated and --rules-file.
    out.append("I:tcp;22;22;10.0.0.1/32,NEXT " * 4000 + "I:tcp;22;22;10.0.0.1/33,NEXT ")
    out.append("I:tcp;22;22;" + "10.0.0.1/32," * 10000 + "x,NEXT ")
    return unique([v for v in out + [g for g in GENERIC if g.strip() != ""] if v.strip() != ""])


def rules_files():
    good = "ingress tcp 22 from 10.0.0.0/8\n"
    out = [
        "ingress tcp 22 from 10.0.0.0/8; -j ACCEPT\n", "ingress tcp 22 from 10.0.0.0/8 -j ACCEPT\n",
        "ingress tcp 22 from\n", "ingress tcp 22\n", "ingress tcp\n", "ingress\n", "tcp 22 from 1.2.3.4\n",
        "ingress tcp 99999 from 1.2.3.4\n", "ingress tcp 80-22 from 1.2.3.4\n", "ingress tcp 22-\n",
        "ingress tcp -22 from 1.2.3.4\n", "ingress tcp 22 to 1.2.3.4\n", "egress tcp 22 from 1.2.3.4\n",
        "ingress tcp 22 from 1.2.3.4/33\n", "ingress tcp 22 from 300.1.1.1\n", "ingress icmp type 256 from 0.0.0.0/0\n",
        "ingress icmp type 8 code 256 from 0.0.0.0/0\n", "ingress icmp code 3 from 0.0.0.0/0\n",
        "ingress 256 from 1.2.3.4\n", "ingress -1 from 1.2.3.4\n", "ingress tcp6 22 from 1.2.3.4\n",
        "ingress tcp 22 from 1.2.3.4 extra\n", "ingres tcp 22 from 1.2.3.4\n", "INGRESS TCP 22 FROM\n",
        "-A FORWARD -j ACCEPT\n", "*filter\n:FORWARD ACCEPT\n-A FORWARD -j ACCEPT\nCOMMIT\n",
        "I:tcp;22;22;0.0.0.0/0,NEXT \n", "\x00\x01\x02\x03", "\x00" * 100, "ingress tcp 22 from 1.2.3.4\x00\n",
        "\xff\xfe" + good, good + "\x1b[2J\n", good + "garbage\n", good + "ingress\n", good[:-5],
        good[:10], "ingress tcp 22 from 1.2.3.4,x\n", "ingress tcp 22 from x,1.2.3.4\n",
        "ingress tcp 22 from 1.2.3.4 1.2.3.4/\n", "ingress tcp 22 from $(id)\n", "ingress tcp `id` from 1.2.3.4\n",
        "ingress tcp 22 from 1.2.3.4 # ok\negress udp 53 to\n", "\n\n\ningress udp from\n",
        (good * 10001), "ingress tcp 22 from " + ", ".join("10.0.%d.%d" % (i >> 8, i & 255) for i in range(65537)) + "\n",
    ]
    for cut in range(1, len(good) - 1):
        prefix = good[:cut]
        if prefix.rstrip().endswith(("10.0.0.0/8", "10.0.0.0")):
            continue  # still a valid rule (a bare address means /32)
        out.append(prefix)
    # Field mutations of one line.
    for word_index in range(5):
        for bad in ["x", "$(id)", "-j", ";", "999999", "\x1b"]:
            words = good.split()
            words[word_index] = bad
            out.append(" ".join(words) + "\n")
    return unique(out)


def deflated_payloads():
    def b64(data):
        return base64.b64encode(data).decode()
    plain = VALID_RULES.encode()
    good = zlib.compress(plain)
    out = ["!!!!", "not base64 at all", "bm90IHpsaWI=", b64(b"not zlib"), b64(good[:-1]),
           b64(good[:-4]), b64(good[:2]), b64(good[:len(good) // 2]), b64(good + b"trailing"),
           b64(good + good), b64(zlib.compress(plain)[2:]), b64(b"\x1f\x8b" + good),
           b64(zlib.compress(b"I:tcp;22;22;0.0.0.0/0,NEXT; -j ACCEPT")),
           b64(zlib.compress(b"I:tcp;22;99999;0.0.0.0/0,NEXT ")),
           b64(zlib.compress(b"\x00\x01garbage")), b64(zlib.compress(plain + b"\x00")),
           b64(good)[:-1], b64(good)[:-2] + "==", b64(good) + "=", "=" + b64(good),
           b64(good).replace("A", "-"), b64(good)[:5] + " " + b64(good)[5:],
           b64(good)[:5] + "\n" + b64(good)[5:], b64(good) + "\x00"[:-1] + "\x1b",
           b64(good).upper(), b64(good).lower(), b64(b""), b64(b"\x78\x9c"), b64(b"\x78\x9c\x03\x00"),
           b64(zlib.compress(b"I:" * 1000)), b64(zlib.compress(b"\xff" * 100)),
           b64(bytes(range(256)))]
    # A zip bomb: 17 MiB of zeros inflate past the 16 MiB limit.
    out.append(b64(zlib.compress(b"0" * (17 << 20), 9)))
    # Corrupt one byte at a time (zlib's checksums must catch it).
    for index in range(0, len(good)):
        for flip in (0x01, 0x80, 0xff):
            data = bytearray(good)
            data[index] ^= flip
            try:
                if zlib.decompress(bytes(data)) == plain:
                    continue
            except zlib.error:
                pass
            if len(out) < 160:
                out.append(b64(bytes(data)))
    # Valid zlib of hostile rule strings.
    for text in rule_strings()[:40]:
        try:
            out.append(b64(zlib.compress(text.encode("utf-8", "surrogateescape"))))
        except UnicodeEncodeError:
            pass
    out += [g for g in GENERIC if g.strip()]
    return unique([v for v in out if not decodes_to(v, plain)])


def decodes_to(text, plain):
    """True when a lenient base64 reading (blanks ignored, padding
    completed) of `text` is a zlib stream of exactly `plain`: the same
    payload, legitimately accepted."""
    try:
        compact = "".join(text.split())
        compact += "=" * (-len(compact) % 4)
        return zlib.decompress(base64.b64decode(compact)) == plain
    except Exception:
        return False


def state_dirs(tmp):
    afile = os.path.join(tmp, "a-file")
    with open(afile, "w") as handle:
        handle.write("x")
    return unique(["/etc/passwd/x", afile + "/state", afile + "/a/b", "/proc/self/x", "/proc/1",
                   "/proc/sys/net", "/sys/kernel", "/dev/null", "/dev/null/x", "/dev/full/x",
                   os.path.join(tmp, "no/such/deep/dir"), "/nonexistent-dir/x/y"] +
                  [afile + "/" + g for g in GENERIC] + [afile])


ACTIONS = unique(["ADD", "Del", "", "add;", "delete", "add ", " add", "add\n", "remove", "1", "0",
                  "yes", "add,del", "add del", "adddel"] + GENERIC +
                 mutations("add", set()) + mutations("del", set()))


class Case:
    __slots__ = ("arg", "command", "value", "argv", "stdin", "expect", "message")

    def __init__(self, arg, command, value, argv, expect="reject", message=None, stdin=None):
        self.arg, self.command, self.value, self.argv = arg, command, value, argv
        self.expect, self.message, self.stdin = expect, message, stdin


def base(command, seq="7"):
    if command == "default":
        return ["default", "--vm=" + A, "--vm-id=" + A_ID, "--ip=" + A_IP, "--mac=" + A_MAC,
                "--sec-ips=10.147.41.241;", "--vif=" + A_VIF]
    if command == "default-nic1":
        return [w for w in base("default") if not w.startswith(("--ip=", "--mac=", "--vif=", "--sec-ips="))] + \
            A_NIC1 + ["--ip6=2001:db8:41::250"]
    if command == "rules":
        return ["rules", "--vm=" + A, "--vm-id=" + A_ID, "--ip=" + A_IP, "--mac=" + A_MAC,
                "--sig=0a1b", "--seq=" + seq, "--vif=" + A_VIF, "--rules=" + VALID_RULES]
    if command == "systemvm":
        return ["systemvm", "--vm=r-4-VM", "--vif=vif6.0"]
    if command == "destroy":
        return ["destroy", "--vm=i-2-5-VM"]
    if command == "cleanup":
        return ["cleanup", "--running=r-4-VM"]
    if command == "secondary-ip":
        return ["secondary-ip", "--vm=" + A, "--mac=" + A_MAC, "--ip=10.147.41.242", "--action=add"]
    if command == "setup":
        return ["setup", "--uplink=eth9"]
    raise ValueError(command)


def replaced(argv, option, value):
    """argv with OPTION's value replaced (or added)."""
    out, done = [], False
    for word in argv:
        if word.startswith(option + "="):
            out.append(option + "=" + value)
            done = True
        else:
            out.append(word)
    if not done:
        out.append(option + "=" + value)
    return out


def build_cases(tmp):
    cases = []

    def per_value(arg, command, values, message):
        for value in values:
            cases.append(Case(arg, command, value, replaced(base(command), arg, value), message=message))

    per_value("--vm", "default", vm_names(), r"--vm")
    per_value("--vm", "destroy", vm_names(), r"--vm")
    per_value("--vm-id", "default", vm_ids(), r"VM id|--vm-id")
    per_value("--ip", "default", ipv4s(A_IP), r"IPv4 address|--ip")
    # secondary-ip's --ip takes a guest's IPv6 address too (fe80::1 is one).
    per_value("--ip", "secondary-ip", [v for v in ipv4s("10.147.41.242") if v != "fe80::1"],
              r"IPv4 address|IPv6 address|--ip")
    per_value("--mac", "default", macs(), r"MAC|--mac")
    per_value("--sec-ips", "default", sec_ips(), r"--sec-ips")
    per_value("--ip6", "default", ipv6s(), r"--ip6|IPv6")
    per_value("--ip6", "default-nic1", ipv6s(), r"--ip6|IPv6")
    per_value("--nic", "default-nic1", nics(), r"--nic|NIC")
    per_value("--ip", "secondary-ip", [v for v in ipv6s() if ":" in v and "." not in v[-4:]][:40] +
              ["::ffff:1.2.3.4", "::ffff:10.147.41.242"], r"IPv4 address|IPv6 address|--ip")
    per_value("--vif", "default", ifaces(A_VIF), r"--vif")
    per_value("--vif", "systemvm", ifaces("vif6.0"), r"--vif")
    per_value("--sig", "rules", signatures(), r"--sig")
    per_value("--seq", "rules", seqnos(), r"--seq")
    per_value("--rules", "rules", rule_strings(), r"--rules")
    per_value("--uplink", "setup", ifaces("eth0"), r"--uplink")
    per_value("--running", "cleanup", vm_names(), r"--running")
    per_value("--action", "secondary-ip", ACTIONS, r"--action")
    # The deflated transport form.
    for value in deflated_payloads():
        argv = replaced(base("rules"), "--rules", value) + ["--deflated"]
        cases.append(Case("--deflated", "rules", value, argv, message=r"--rules"))
    # Rules files: the content is hostile.
    for index, content in enumerate(rules_files()):
        path = os.path.join(tmp, "rules-%d.txt" % index)
        with open(path, "wb") as handle:
            handle.write(content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content)
        argv = [w for w in base("rules") if not w.startswith("--rules=")] + ["--rules-file=" + path]
        cases.append(Case("--rules-file", "rules", content, argv, message=r"rules-\d+\.txt"))
    # ... and through standard input.
    for content in rules_files()[:20]:
        argv = [w for w in base("rules") if not w.startswith("--rules=")] + ["--rules-file=-"]
        cases.append(Case("--rules-file -", "rules", content, argv, message=r"<stdin>",
                          stdin=content.encode("utf-8", "surrogateescape")))
    # Rules-file paths that are not readable rules files.
    for path in ["/nonexistent", tmp, "/dev/zero", "/dev/urandom", "/proc/self/mem", "/etc/shadow-",
                 "", "/dev/null/x", os.path.join(tmp, "a-file") + "/x"]:
        argv = [w for w in base("rules") if not w.startswith("--rules=")] + ["--rules-file=" + path]
        cases.append(Case("--rules-file path", "rules", path, argv, message=r"."))
    # State directories that cannot take the state files.
    for value in state_dirs(tmp):
        for command in ("default", "rules"):
            cases.append(Case("--state-dir", command, value, ["--state-dir=" + value] + base(command),
                              message=r"state|director|cannot|Not a directory|No such file"))
    # Lock files that cannot be locked.
    afile = os.path.join(tmp, "a-file")
    link = os.path.join(tmp, "lock-symlink")
    if not os.path.lexists(link):
        os.symlink(os.path.join(tmp, "lock-target"), link)
    for option in ("--lock-file", "--ebtables-lock"):
        for value in unique(["", "/etc/passwd/x", "/proc/self/x", "/nonexistent/dir/lock", tmp, link,
                             "/sys/kernel/lock", "/proc/1", "/"] + [afile + "/" + g for g in GENERIC]):
            cases.append(Case(option, "default", value, [option + "=" + value] + base("default"),
                              message=r"lock"))
    # Numbers and choices of the global options: usage errors.
    numbers = ["-1", "abc", "1e400", "nan", "-nan", "inf", "-inf", "86401", "", "1,5",
               "0x10", "1s", " 1", "$(id)", "1e-400", "1..2", "1.2.3", "--1", "1e", "e1", "0.1.",
               "99999999999999999999999", "-0.0001", "\uff11", "1 2"]
    for option in ("--wait", "--timeout"):
        # 3601 s is a valid wait, but too long a timeout.
        for value in unique(numbers + GENERIC + (["3601"] if option == "--timeout" else [])):
            cases.append(Case(option, "default", value, [option + "=" + value] + base("default"),
                              expect="reject-or-noop", message=option))
    for option, valid in (("--arp-filter", "arptables"), ("--iptables", "nft")):
        for value in unique(["", "ARPTABLES", "nft ", "legacy;", "ebtables,arptables", "none", "NFT",
                             "Legacy", "auto ", "automatic"] + GENERIC + mutations(valid, set())):
            cases.append(Case(option, "default", value, [option + "=" + value] + base("default"),
                              message=option))
    # --xe is only used without --vif: a hostile xe path must not run anything.
    for value in unique(["", "/nonexistent/xe", "$(reboot)", "xe;reboot", "/etc/passwd", "/dev/null",
                         tmp, "-j ACCEPT", "/bin/false", "/bin/true"] + GENERIC +
                        [afile + "/" + g for g in GENERIC]):
        argv = ["--xe=" + value] + [w for w in base("default") if not w.startswith("--vif=")]
        cases.append(Case("--xe", "default", value, argv, message=r"xe|interfaces|VM"))
    # Semantic traps: valid names that collide with chains, sets and other VMs.
    for name in ["FORWARD", "INPUT", "OUTPUT", "DROP", "ACCEPT", "RETURN", "BRIDGE-FIREWALL",
                 "BRIDGE-DEFAULT-FIREWALL", "DEFAULT_EBTABLES", "FORWARD_vif7.0", "i-2-5-VM-eg",
                 "i-2-5-VM-def", "i-2-5", "i-2-5-VM-i1a", "i-2-5-VM-i1b", "r-4-VM-def",
                 "vifwall-tmp-aaaaaaa", "i-2-5-VMX", "I-2-5-VM", "i-2-5-vm", "i-2-5-VM.",
                 "eth0", "xenbr0", "vif8.0", "i-2-3-VM-eg", "i-2-3-VM-def"]:
        cases.append(Case("--vm (trap)", "destroy", name, ["destroy", "--vm=" + name],
                          expect="reject-or-noop", message=r"--vm"))
    return cases


def strip_mtimes(dump):
    head, _, state = dump.partition("==== state\n")
    return head + "".join(line.rsplit(" ", 1)[0] + "\n" for line in state.splitlines())


def printable_problem(text):
    for char in text:
        if char == "\n":
            continue
        if ord(char) < 0x20 or ord(char) == 0x7f:
            return "raw control character %r" % char
    return None


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    sg = rel.SgApply(binary, tmp)
    state = sg.state_dir

    # The host: setup, A with rules and a secondary IP, B, a system VM.
    sg.ok(["setup", "--ipv6"])
    sg.ok(["systemvm", "--vm=r-4-VM", "--vif=vif6.0"])
    sg.ok(["default", "--vm=i-2-5-VM", "--vm-id=5", "--ip=10.147.41.240", "--mac=06:f8:c8:00:00:0b",
           "--vif=vif8.0", "--vif=tap8.0"])
    sg.ok(base("default"))
    sg.ok(replaced(replaced(base("rules", seq="5"), "--rules", "I:tcp;22;22;10.0.0.0/8,NEXT "),
                   "--sig", "0a1a"))
    cases = build_cases(tmp)

    # Controls: each base command line is valid and would change the host,
    # so a rejection below is the hostile value's doing.
    for command in ("default", "default-ip6", "default-nic1", "rules", "systemvm", "destroy", "cleanup",
                    "secondary-ip", "secondary-ip6", "setup"):
        argv = ["--dry-run"] + base({"default-ip6": "default", "secondary-ip6": "secondary-ip"}.get(command, command))
        if command == "default":
            argv = ["--dry-run"] + replaced(base(command), "--sec-ips", "10.147.41.243;")
        if command == "default-ip6":
            argv = ["--dry-run"] + replaced(base("default"), "--ip6", A_IP6)
        if command == "secondary-ip6":
            argv = ["--dry-run"] + replaced(base("secondary-ip"), "--ip", "2001:db8:41::242")
        rc, out, err, _ = sg.run(argv)
        rel.check(rc == 0, "control %s: exit %d: %s" % (command, rc, err))
        rel.check(command in ("default", "default-ip6", "systemvm") or out.strip() != "# nothing to change",
                  "control %s would change nothing, so it cannot show a wrongly accepted value" % command)

    before = rel.full_dump(state, sort_sets=False, with_mtime=True)
    per_arg = {}
    failures = []
    accepted = []
    longest_error = 0
    slowest = (0.0, None)
    started = time.monotonic()
    for index, case in enumerate(cases):
        stats = per_arg.setdefault(case.arg, {"values": 0, "exit1": 0, "exit2": 0, "accepted_noop": 0})
        stats["values"] += 1
        t0 = time.monotonic()
        rc, out, err, _ = sg.run(case.argv, input_bytes=case.stdin, timeout=30)
        elapsed = time.monotonic() - t0
        if elapsed > slowest[0]:
            slowest = (elapsed, case.arg)
        problems = []
        if rc == 0:
            if case.expect == "reject-or-noop":
                stats["accepted_noop"] += 1
                accepted.append("%s %r" % (case.arg, case.value[:60]))
            else:
                problems.append("accepted (exit 0)")
        elif rc in (1, 2):
            stats["exit%d" % rc] += 1
            if not err.startswith("sg-apply: error: "):
                problems.append("stderr does not start with 'sg-apply: error: '")
            if "internal error" in err:
                problems.append("internal error")
            message = case.message
            if case.value == "":
                # CLI11 reads an empty "--opt=" as "--opt" and takes the next
                # word as its value; the error then names what is missing.
                message += r"|is required|subcommand"
            if not re.search(message, err):
                problems.append("message does not name %s" % case.message)
            bad = printable_problem(err)
            if bad:
                problems.append("stderr has a " + bad)
            if len(err) > 8192:
                problems.append("stderr is %d bytes" % len(err))
            longest_error = max(longest_error, len(err))
        else:
            problems.append("exit status %d" % rc)
        after = rel.full_dump(state, sort_sets=False, with_mtime=True)
        if after != before and rc == 0 and case.expect == "reject-or-noop":
            # An accepted no-op run rewrites the state files with the same
            # content (new mtimes): compare contents only.
            if strip_mtimes(after) == strip_mtimes(before):
                before = after
        if after != before:
            problems.append("changed the host:\n" + rel.first_difference(before, after))
            # Put A's policy back, so the next values meet the same host.
            sg.ok(base("default"))
            before = rel.full_dump(state, sort_sets=False, with_mtime=True)
        if problems:
            kind = "message" if all(p.startswith(("stderr", "message")) for p in problems) else "safety"
            failures.append({"arg": case.arg, "command": case.command, "value": repr(case.value[:200]),
                             "exit": rc, "stderr": err[:500], "problems": problems, "kind": kind})
            rel.log("FAIL %s %s %r: %s\n  %s" % (case.command, case.arg, case.value[:80], "; ".join(problems),
                                                  err.strip()[:300]))
    duration = time.monotonic() - started
    for arg, stats in sorted(per_arg.items()):
        rel.log("%-20s %4d values, exit 1: %4d, exit 2: %4d, accepted without change: %d" %
                (arg, stats["values"], stats["exit1"], stats["exit2"], stats["accepted_noop"]))
    rel.log("%d cases in %.1f s (slowest %.2f s: %s); longest error %d bytes" %
            (len(cases), duration, slowest[0], slowest[1], longest_error))
    if accepted:
        rel.log("accepted without any change: " + ", ".join(accepted))
    rel.write_report("hostile", {"cases": len(cases), "per_argument": per_arg, "failures": failures,
                                 "seconds": round(duration, 1), "accepted_noop": accepted})
    if failures:
        safety = sum(1 for f in failures if f["kind"] == "safety")
        rel.log("%d of %d hostile values FAILED: %d accepted or changed the host, %d with an unclear "
                "message (raw control characters, overlong, not naming the argument)" %
                (len(failures), len(cases), safety, len(failures) - safety))
        sys.exit(1)
    print("hostile values: %d cases, all refused with a clear error and no change" % len(cases))


if __name__ == "__main__":
    rel.run_driver(main)
