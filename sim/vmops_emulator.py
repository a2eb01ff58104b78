#!/usr/bin/env python3
"""Programs the firewall of the current network namespace the way CloudStack's
XenServer host plugin (`vmops`) does, for the takeover tests of sg-apply.

Written from ../shared/reference/cloudstack-sg.md (sections 1-5), which
paraphrases apache/cloudstack scripts/vm/hypervisor/xenserver/vmops; no code
of CloudStack is copied.  What it reproduces, because a host sg-apply takes
over looks exactly like this:

  * one command per rule (iptables, ipset, ebtables, arptables), errors
    ignored the way vmops ignores them;
  * per-rule ipsets in vmops' naming (i-2-3-VMt22_22, i-2-3-VM-eu53_53,
    i-2-3-VM_i_any), filled through a temporary set and `ipset swap`;
  * rules inserted with -I, so a chain holds them in the reverse order;
  * the MAC check in the ebtables nat table (PREROUTING) when nat works;
  * its leftovers: default_network_rules run again for the same dom-id
    duplicates the arptables FORWARD jumps; destroy leaves the nat MAC rule
    and, for VM names over 14 characters, the rule sets (their 13-character
    prefix does not contain the chain name destroy greps for);
  * the state files <vm>.log (7 fields) and <vm>.ip in the state directory.

Run it inside the simulated dom0 (`sim dom0 NAME -- python3 sim/vmops_emulator.py ...`).
Standard library only; every command is an argument list, never a shell.

  vmops_emulator.py [--state-dir DIR] can_bridge_firewall --uplink eth0 [--uplink ...]
  vmops_emulator.py [--state-dir DIR] default_network_rules --vmName VM --vmIP IP --vmMAC MAC
                        --vmID ID --domid D [--secIps 'a;b;'] [--tap]
  vmops_emulator.py [--state-dir DIR] default_network_rules_systemvm --vmName VM --domid D --devices 0,1
  vmops_emulator.py [--state-dir DIR] network_rules --vmName VM --vmIP IP --vmMAC MAC --vmID ID
                        --domid D --signature S --seqno N --rules 'I:tcp;22;22;0.0.0.0/0,NEXT '
  vmops_emulator.py [--state-dir DIR] destroy_network_rules_for_vm --vmName VM
"""

import argparse
import os
import re
import subprocess
import sys
import time


def run(*argv):
    """One command; its stdout, or None when it failed (vmops ignores errors)."""
    proc = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    return proc.stdout if proc.returncode == 0 else None


def arptables_program():
    # arptables-nft has no FORWARD chain; dom0's legacy arptables has.
    if run("arptables", "-n", "-L", "FORWARD") is not None:
        return "arptables"
    return "arptables-legacy"


ARPTABLES = None


def arptables(*args):
    global ARPTABLES
    if ARPTABLES is None:
        ARPTABLES = arptables_program()
    return run(ARPTABLES, *args)


# ---- names (cloudstack-sg.md section 1, the current [XS] rules) ---------------------

def chain_name(vm):
    if vm.startswith(("i-", "r-")) and vm.endswith("untagged"):
        return "-".join(vm.split("-")[:-1])
    return vm[:24] if len(vm) > 25 else vm


def chain_name_def(vm):
    if vm.startswith("i-"):
        base = "-".join(vm.split("-")[:-1]) if vm.endswith("untagged") else vm
        base = base[:24] if len(base) > 25 else base
        return base + "-def"
    return vm[:24] if len(vm) > 25 else vm


def vm_set_name(vm):
    return vm[:27] if len(vm) > 28 else vm


def rule_set_prefix(vm):
    name = chain_name(vm)
    if name.startswith(("i-", "r-")) and len(name) > 14:
        return name[:13]
    return name


def rule_set_name(prefix, protocol, start, end):
    if start == "-1":
        return prefix + "_" + protocol[0] + "_any"
    return prefix + protocol[0] + start + "_" + end


def vif_names(domid, tap):
    vifs = ["vif%s.0" % domid]
    if tap:
        vifs.append("tap%s.0" % domid)
    return vifs


def write_file(path, text):
    with open(path, "w") as out:
        out.write(text)


# ---- can_bridge_firewall (section 2a) ----------------------------------------------

DEFAULT_EBTABLES = [
    ["-p", "IPv4", "--ip-dst", "255.255.255.255", "--ip-proto", "udp", "--ip-dport", "67", "-j", "ACCEPT"],
    ["-p", "IPv4", "--ip-dst", "255.255.255.255", "--ip-proto", "udp", "--ip-dport", "68", "-j", "ACCEPT"],
    ["-p", "ARP", "--arp-op", "Request", "-j", "ACCEPT"],
    ["-p", "ARP", "--arp-op", "Reply", "-j", "ACCEPT"],
    ["-p", "IPv4", "-d", "Broadcast", "-j", "DROP"],
    ["-p", "IPv4", "-d", "Multicast", "-j", "DROP"],
    ["-p", "IPv4", "--ip-dst", "255.255.255.255", "-j", "DROP"],
    ["-p", "IPv4", "--ip-dst", "224.0.0.0/4", "-j", "DROP"],
    ["-p", "IPv4", "-j", "RETURN"],
    ["-p", "IPv6", "-j", "DROP"],
    ["-p", "802_1Q", "-j", "DROP"],
    ["-j", "DROP"],
]

DHCP_ACCEPTS = [
    ["-m", "physdev", "--physdev-is-bridged", "-p", "udp", "--dport", "67", "--sport", "68", "-j", "ACCEPT"],
    ["-m", "physdev", "--physdev-is-bridged", "-p", "udp", "--dport", "68", "--sport", "67", "-j", "ACCEPT"],
]
RELATED = ["-m", "state", "--state", "RELATED,ESTABLISHED", "-j", "ACCEPT"]


def can_bridge_firewall(args):
    if run("iptables", "-N", "BRIDGE-FIREWALL") is not None:
        run("iptables", "-I", "BRIDGE-FIREWALL", *RELATED)
        for rule in DHCP_ACCEPTS:
            run("iptables", "-A", "BRIDGE-FIREWALL", *rule)
        run("iptables", "-D", "FORWARD", "-j", "RH-Firewall-1-INPUT")
    if run("iptables", "-N", "BRIDGE-DEFAULT-FIREWALL") is not None:
        for rule in [RELATED] + DHCP_ACCEPTS:
            run("iptables", "-A", "BRIDGE-DEFAULT-FIREWALL", *rule)
        run("iptables", "-I", "BRIDGE-FIREWALL", "-j", "BRIDGE-DEFAULT-FIREWALL")
        for rule in [RELATED] + DHCP_ACCEPTS:
            run("iptables", "-D", "BRIDGE-FIREWALL", *rule)
    if "BRIDGE-FIREWALL" not in (run("iptables", "-n", "-L", "FORWARD") or ""):
        run("iptables", "-I", "FORWARD", "-m", "physdev", "--physdev-is-bridged", "-j", "BRIDGE-FIREWALL")
        run("iptables", "-A", "FORWARD", "-j", "DROP")
    for uplink in args.uplink:
        if uplink + "+ " not in (run("iptables", "-n", "-L", "FORWARD") or ""):
            run("iptables", "-I", "FORWARD", "2", "-m", "physdev", "--physdev-is-bridged",
                "--physdev-out", uplink + "+", "-j", "ACCEPT")
    if run("ebtables", "-N", "DEFAULT_EBTABLES") is not None:
        run("ebtables", "-A", "FORWARD", "-jDEFAULT_EBTABLES")
        for rule in DEFAULT_EBTABLES:
            run("ebtables", "-A", "DEFAULT_EBTABLES", *rule)
    os.makedirs(args.state_dir, exist_ok=True)
    print("true")


# ---- helpers shared by default, systemvm and destroy ----------------------------------

def delete_bridge_firewall_rules(chain):
    """vmops: iptables-save | grep CHAIN, each -A line turned into -D."""
    for line in (run("iptables-save", "-t", "filter") or "").splitlines():
        if line.startswith("-A BRIDGE-FIREWALL") and chain in line.split():
            run("iptables", "-D", *line.split()[1:])


def destroy_ebtables_rules(chain):
    for line in (run("ebtables-save") or "").splitlines():
        if line.startswith("-A ") and chain in line.split() and not line.startswith("-A " + chain + " "):
            run("ebtables", "-D", *line.split()[1:])
    run("ebtables", "-F", chain)
    run("ebtables", "-X", chain)


def create_or_flush(tool, chain):
    if tool("-N", chain) is None:
        tool("-F", chain)


def iptables(*args):
    return run("iptables", *args)


def ebtables(*args):
    return run("ebtables", *args)


# ---- default_network_rules (section 2b) -------------------------------------------------

def arp_rules(vif, ip, mac):
    h = ["--h-length", "6"]  # arptables 0.0.5 wants it with a MAC match
    return [
        ["-i", vif, "--opcode", "Reply", "--source-mac", mac, "--source-ip", ip] + h + ["-j", "ACCEPT"],
        ["-i", vif, "--opcode", "Request", "--source-mac", mac, "--source-ip", ip] + h + ["-j", "RETURN"],
        ["-o", vif, "--opcode", "Request", "--destination-ip", ip, "-j", "ACCEPT"],
        ["-o", vif, "--opcode", "Reply", "--destination-mac", mac, "--destination-ip", ip] + h + ["-j", "ACCEPT"],
    ]


def default_network_rules(args):
    vm, chain, def_chain, vmset = args.vmName, chain_name(args.vmName), chain_name_def(args.vmName), \
        vm_set_name(args.vmName)
    vifs = vif_names(args.domid, args.tap)
    delete_bridge_firewall_rules(def_chain)
    destroy_ebtables_rules(chain)
    for name in (chain, chain + "-eg", def_chain):
        create_or_flush(iptables, name)
    run("ipset", "-F", vmset)
    run("ipset", "-X", vmset)
    run("ipset", "-N", vmset, "nethash")
    run("ipset", "-A", vmset, args.vmIP)
    sec_ips = [ip for ip in args.secIps.split(";")[:-1]] if args.secIps else []
    if sec_ips and sec_ips[0] == "0":
        sec_ips = []
    for ip in sec_ips:
        run("ipset", "-A", vmset, ip)
    write_file(os.path.join(args.state_dir, vm + ".ip"), "%s,%s,%s" % (vm, args.secIps or "0;", args.vmID))
    phys = ["-m", "physdev", "--physdev-is-bridged"]
    for vif in vifs:
        iptables("-A", "BRIDGE-FIREWALL", *phys, "--physdev-out", vif, "-j", def_chain)
        iptables("-I", "BRIDGE-FIREWALL", "2", *phys, "--physdev-in", vif, "-j", def_chain)
    for vif in vifs:
        iptables("-A", def_chain, *phys, "--physdev-in", vif, "-m", "set", "--match-set", vmset, "src",
                 "-p", "udp", "--dport", "53", "-j", "RETURN")
        iptables("-A", def_chain, *phys, "--physdev-in", vif, "-m", "set", "!", "--match-set", vmset, "src",
                 "-j", "DROP")
        iptables("-A", def_chain, *phys, "--physdev-out", vif, "-m", "set", "!", "--match-set", vmset, "dst",
                 "-j", "DROP")
        iptables("-A", def_chain, *phys, "--physdev-in", vif, "-m", "set", "--match-set", vmset, "src",
                 "-j", chain + "-eg")
        iptables("-A", def_chain, *phys, "--physdev-out", vif, "-j", chain)
    # arptables: the chain is flushed, but the FORWARD jumps are inserted
    # again, so a second call for the same dom-id duplicates them.
    create_or_flush(arptables, chain)
    for vif in vifs:
        arptables("-I", "FORWARD", "-i", vif, "-j", chain)
        arptables("-A", "FORWARD", "-o", vif, "-j", chain)
        for rule in arp_rules(vif, args.vmIP, args.vmMAC):
            arptables("-A", chain, *rule)
        for ip in sec_ips:
            for rule in arp_rules(vif, ip, args.vmMAC):
                arptables("-I", chain, *rule)
    arptables("-A", chain, "-j", "DROP")
    create_or_flush(ebtables, chain)
    for vif in vifs:
        ebtables("-I", "FORWARD", "2", "-i", vif, "-j", chain)
        ebtables("-A", "FORWARD", "-o", vif, "-j", chain)
        if ebtables("-t", "nat", "-I", "PREROUTING", "-i", vif, "-s", "!", args.vmMAC, "-j", "DROP") is None:
            ebtables("-A", chain, "-i", vif, "-s", "!", args.vmMAC, "-j", "DROP")
        ebtables("-A", chain, "-i", vif, "-p", "IPv4", "--ip-proto", "udp", "--ip-dport", "68", "-j", "DROP")
        ebtables("-A", chain, "-o", vif, "-p", "IPv4", "--ip-proto", "udp", "--ip-dport", "67", "-j", "DROP")
    write_log(args.state_dir, vm, args.vmID, args.vmIP, args.domid, "_initial_", "-1", args.vmMAC)
    print("true")


def write_log(state_dir, vm, vm_id, ip, domid, signature, seqno, mac):
    write_file(os.path.join(state_dir, vm + ".log"),
               ",".join([vm, vm_id, ip, domid, signature, seqno, mac]) + "\n")


# ---- default_network_rules_systemvm (section 2c) ----------------------------------------

def default_network_rules_systemvm(args):
    vm, chain = args.vmName, chain_name(args.vmName)
    vifs = ["vif%s.%s" % (args.domid, device) for device in args.devices.split(",")]
    delete_bridge_firewall_rules(chain)
    create_or_flush(iptables, chain)
    phys = ["-m", "physdev", "--physdev-is-bridged"]
    for vif in vifs:
        iptables("-A", "BRIDGE-FIREWALL", *phys, "--physdev-out", vif, "-j", chain)
        iptables("-I", "BRIDGE-FIREWALL", "2", *phys, "--physdev-in", vif, "-j", chain)
        iptables("-I", chain, *phys, "--physdev-in", vif, "-j", "RETURN")
    iptables("-A", chain, "-j", "ACCEPT")
    write_log(args.state_dir, vm, "-1", "_ignore_", args.domid, "_initial_", "-1", "ff:ff:ff:ff:ff:ff")
    print("true")


# ---- network_rules (section 3) ----------------------------------------------------------

def network_rules(args):
    vm, chain = args.vmName, chain_name(args.vmName)
    prefix = rule_set_prefix(vm)
    for name in (chain, chain + "-eg"):
        create_or_flush(iptables, name)
    egress_entries = 0
    commands = []
    for entry in args.rules.split("NEXT"):
        entry = entry.strip().strip(",")
        if not entry:
            continue
        fields = entry.split(";")
        if len(fields) < 4:
            continue
        kind, protocol = fields[0].split(":")
        start, end = fields[1], fields[2]
        cidrs = [c for c in fields[3].split(",") if c]
        if kind == "E":
            rule_chain, action, direction, set_prefix = chain + "-eg", "RETURN", "dst", prefix + "-e"
            egress_entries += 1
        else:
            rule_chain, action, direction, set_prefix = chain, "ACCEPT", "src", prefix
        allow_any = "0.0.0.0/0" in cidrs
        if allow_any:
            cidrs.remove("0.0.0.0/0")
        if protocol == "all":
            match = ["-m", "state", "--state", "NEW"]
        elif protocol == "icmp":
            match = ["-p", "icmp", "--icmp-type", "any" if start == "-1" else start + "/" + end]
        else:
            match = ["-p", protocol, "-m", protocol, "--dport", start + ":" + end,
                     "-m", "state", "--state", "NEW"]
        if cidrs:
            rule_set = rule_set_name(set_prefix, protocol, start, end)
            fill_rule_set(rule_set, cidrs)
            commands.append(["-I", rule_chain] + match + ["-m", "set", "--match-set", rule_set, direction,
                                                           "-j", action])
        if allow_any and protocol != "all":
            commands.append(["-I", rule_chain] + match + ["-j", action])
    for command in commands:
        iptables(*command)
    iptables("-A", chain + "-eg", "-j", "DROP" if egress_entries else "RETURN")
    iptables("-A", chain, "-j", "DROP")
    write_log(args.state_dir, vm, args.vmID, args.vmIP, args.domid, args.signature, args.seqno, args.vmMAC)
    print("true")


def fill_rule_set(rule_set, cidrs):
    """vmops: a temporary set, filled, swapped with the rule set (created when
    missing), then destroyed."""
    temp = re.sub(r"[-_]", "", rule_set) + str(int(time.time()) % 1000)
    run("ipset", "-N", rule_set, "nethash")
    run("ipset", "-N", temp, "nethash")
    for cidr in cidrs:
        run("ipset", "-A", temp, cidr)
    run("ipset", "-W", temp, rule_set)
    run("ipset", "-X", temp)


# ---- destroy_network_rules_for_vm (section 5) -----------------------------------------

def destroy_network_rules_for_vm(args):
    vm, chain, def_chain = args.vmName, chain_name(args.vmName), chain_name_def(args.vmName)
    delete_bridge_firewall_rules(def_chain)
    if vm.startswith(("i-", "r-", "l-")):
        iptables("-F", def_chain)
        iptables("-X", def_chain)
    # ebtables: every rule naming the chain; the nat MAC rule does not, and stays.
    destroy_ebtables_rules(chain)
    for line in (arptables("-v", "-n", "-L", "FORWARD") or "").splitlines():
        words = line.split()
        if chain in words:
            spec = [w for w in words[:words.index(",") if "," in words else len(words)]]
            deletion = []
            skip = False
            for i, word in enumerate(spec):
                if skip:
                    skip = False
                    continue
                if word in ("-i", "-o") and i + 1 < len(spec) and spec[i + 1] == "any":
                    skip = True
                    continue
                deletion.append(word)
            arptables("-D", "FORWARD", *deletion)
    arptables("-F", chain)
    arptables("-X", chain)
    for name in (chain, chain + "-eg"):
        iptables("-F", name)
        iptables("-X", name)
    for suffix in (".log", ".ip"):
        try:
            os.remove(os.path.join(args.state_dir, vm + suffix))
        except OSError:
            pass
    if vm.startswith(("i-", "r-", "l-")):
        for line in (run("ipset", "save") or "").splitlines():
            words = line.split()
            if len(words) > 1 and words[0] in ("create", "-N") and chain in words[1]:
                run("ipset", "-F", words[1])
                run("ipset", "-X", words[1])
    print("true")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=os.environ.get("VIFWALL_STATE_DIR", "/var/run/cloud"))
    sub = parser.add_subparsers(dest="function", required=True)
    p = sub.add_parser("can_bridge_firewall")
    p.add_argument("--uplink", action="append", default=[])
    p.set_defaults(run=can_bridge_firewall)
    for name, func in (("default_network_rules", default_network_rules), ("network_rules", network_rules)):
        p = sub.add_parser(name)
        for option in ("--vmName", "--vmIP", "--vmMAC", "--vmID", "--domid"):
            p.add_argument(option, required=True)
        p.add_argument("--secIps", default="")
        p.add_argument("--tap", action="store_true")
        p.add_argument("--signature", default="_initial_")
        p.add_argument("--seqno", default="-1")
        p.add_argument("--rules", default="")
        p.set_defaults(run=func)
    p = sub.add_parser("default_network_rules_systemvm")
    p.add_argument("--vmName", required=True)
    p.add_argument("--domid", required=True)
    p.add_argument("--devices", default="0")
    p.set_defaults(run=default_network_rules_systemvm)
    p = sub.add_parser("destroy_network_rules_for_vm")
    p.add_argument("--vmName", required=True)
    p.set_defaults(run=destroy_network_rules_for_vm)
    args = parser.parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
