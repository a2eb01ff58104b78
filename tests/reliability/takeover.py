"""Taking over a host CloudStack's own vmops plugin programmed (issue 14).

Usage (inside the simulated dom0 of sim/testdata/vmops.host, through `sim dom0`
so that xe answers):
    python3 takeover.py SG_APPLY TMP_DIR SIM_NAME SOURCE_DIR

sim/vmops_emulator.py programs the host the way vmops does, leftovers
included: one command per rule, per-rule sets in vmops' naming, the MAC checks
in the ebtables nat table, default_network_rules run twice for i-2-3-VM
(duplicated arptables jumps and nat rules), a long-named VM destroyed (its
arptables chain, nat rule and rule set stay), and by hand what a half-failed
destroy leaves: a nat MAC check and a rule set of a VM that is gone.  Then:
  * sg-show describes every VM as vmops left it (its rules read back from the
    per-rule sets, the MAC check found in nat, the leftovers named, text and
    JSON), and sg-diff says which VMs are in vmops' layout and hints at
    `sg-apply takeover` (exit 1);
  * real packets (probe agents in the guests and on the LAN) record what the
    host lets through, and are checked against the rules;
  * a takeover refuses a VM whose chain holds a rule vmops never writes,
    naming it, and changes nothing;
  * `sg-apply takeover` runs while the agents probe without pause: no probe
    that was blocked before passes at any moment;
  * afterwards the same probes pass and fail as before; no nat MAC check,
    vmops-named set or duplicated jump is left; CloudStack's logs are byte for
    byte what vmops wrote (same signature and seqno, so the management server
    sees nothing), rule-logs answers the same string; sg-diff is clean, sg-show
    reports no vmops layout; a second takeover changes nothing;
  * then CloudStack drives the host through XAPI exactly as the management
    server does (xapi_calls.py: `xe host-call-plugin`, vifwall's wrapper
    installed by xapi/install, the real sg-apply behind it) and the packets
    follow: new rules for i-2-3-VM, a secondary IP added and removed, the
    rule logs, a refused argument, a destroy, the cleanup count, the host
    setup, and a function forwarded to CloudStack's own file.
"""

import json
import os
import re
import subprocess
import sys

import rel
from xapi_calls import Xapi

A, A_IP, A_MAC, A_SEC, A_SPOOF = "i-2-3-VM", "10.147.41.238", "06:f8:c8:00:00:09", "10.147.41.241", "10.147.41.249"
B, B_IP, B_MAC = "i-2-5-VM", "10.147.41.240", "06:f8:c8:00:00:0b"
R = "r-4-VM"
GONE = "i-12345-678901-VM"
OUT_IP = "10.147.40.1"
SIG2 = "0123456789abcdef0123456789abcdef"  # the MD5 of the new rule string, as CloudStack sends it
A_RULES = ("I:tcp;22;22;0.0.0.0/0,NEXT I:tcp;80;80;10.147.40.0/23,192.168.0.0/16,NEXT "
           "I:icmp;8;0;10.147.40.0/23,NEXT E:udp;53;53;0.0.0.0/0,NEXT E:tcp;80;80;10.147.40.0/23,NEXT ")

# (name, agent, target ip, port, source or None, passes under A's and B's rules)
PROBES = [
    ("LAN->A:22", "OUT", A_IP, 22, None, True),
    ("LAN->A:23", "OUT", A_IP, 23, None, False),
    ("LAN->A:80", "OUT", A_IP, 80, None, True),
    ("LAN->A(secondary):22", "OUT", A_SEC, 22, None, True),
    ("A->LAN:80", "A", OUT_IP, 80, None, True),
    ("A->LAN:443", "A", OUT_IP, 443, None, False),
    ("A(secondary)->LAN:80", "A", OUT_IP, 80, A_SEC, True),
    ("A(spoofed)->LAN:80", "A", OUT_IP, 80, A_SPOOF, False),
    ("LAN->B:22", "OUT", B_IP, 22, None, False),
    ("B->LAN:443", "B", OUT_IP, 443, None, True),
]


def emulate(source_dir, state_dir, *args):
    rel.run_text([sys.executable, os.path.join(source_dir, "sim", "vmops_emulator.py"),
                  "--state-dir", state_dir] + list(args))


def program_like_vmops(source_dir, state_dir):
    vmops = lambda *args: emulate(source_dir, state_dir, *args)
    vmops("can_bridge_firewall", "--uplink", "eth0")
    for _ in range(2):  # CloudStack starts the VM twice: the arptables jumps double
        vmops("default_network_rules", "--vmName", A, "--vmIP", A_IP, "--vmMAC", A_MAC, "--vmID", "3",
              "--domid", "7", "--secIps", A_SEC + ";")
    vmops("network_rules", "--vmName", A, "--vmIP", A_IP, "--vmMAC", A_MAC, "--vmID", "3", "--domid", "7",
          "--signature", "5d41402abc4b2a76b9719d911017c592", "--seqno", "4", "--rules", A_RULES)
    vmops("default_network_rules", "--vmName", B, "--vmIP", B_IP, "--vmMAC", B_MAC, "--vmID", "5",
          "--domid", "8", "--tap")
    vmops("default_network_rules_systemvm", "--vmName", R, "--domid", "6", "--devices", "0,1")
    vmops("default_network_rules", "--vmName", GONE, "--vmIP", "10.147.41.251", "--vmMAC",
          "06:f8:c8:00:00:2b", "--vmID", "678901", "--domid", "12")
    vmops("network_rules", "--vmName", GONE, "--vmIP", "10.147.41.251", "--vmMAC", "06:f8:c8:00:00:2b",
          "--vmID", "678901", "--domid", "12", "--signature", "x", "--seqno", "2", "--rules",
          "I:tcp;22;22;10.0.0.0/8,NEXT ")
    vmops("destroy_network_rules_for_vm", "--vmName", GONE)
    # What a destroy that failed half way leaves of a VM (dom-id 21) that is gone.
    rel.run_text(["ebtables", "-t", "nat", "-A", "PREROUTING", "-i", "vif21.0", "-s", "!",
                  "06:f8:c8:00:00:99", "-j", "DROP"])
    rel.run_text(["ipset", "create", "i-2-21-VMt22_22", "hash:net"])
    rel.run_text(["ipset", "add", "i-2-21-VMt22_22", "10.0.0.0/8"])


def nat_dump():
    return rel.run_text(["ebtables", "-t", "nat", "-L"])


def everything(state_dir):
    return rel.full_dump(state_dir) + "==== nat\n" + nat_dump()


def tool(sg_apply, name):
    return os.path.join(os.path.dirname(sg_apply), name)


def run(argv, env):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def check_described(sg_apply, env):
    rc, text, err = run([tool(sg_apply, "sg-show")], env)
    rel.check(rc == 0, "sg-show: exit %d: %s" % (rc, err))
    for expected in [
            "CloudStack: programmed by its vmops plugin (per-rule sets i-2-3-VMi8_0, i-2-3-VMt80_80, "
            "i-2-3-VM-et80_80; MAC check in the ebtables nat table for vif7.0)",
            "MAC anti-spoofing: yes (ebtables nat)",
            "tcp 80 from 10.147.40.0/23, 192.168.0.0/16",
            "tcp 80 to 10.147.40.0/23",
            "arptables FORWARD 5: -j i-2-3-VM -i vif7.0",
            "ebtables nat PREROUTING 5: -s ! 06:f8:c8:00:00:09 -i vif7.0 -j DROP (another copy",
            "ipset i-12345-67890t22_22 (a CloudStack per-rule set no rule uses)",
            "ebtables nat PREROUTING 6: -s ! 06:f8:c8:00:00:99 -i vif21.0 -j DROP (CloudStack's MAC check "
            "of vif21.0, which no VM's chains use)",
            "ipset i-2-21-VMt22_22 (a CloudStack per-rule set no rule uses; its VM is gone)"]:
        rel.check(expected in text, "sg-show does not say %r:\n%s" % (expected, text))
    rc, out, err = run([tool(sg_apply, "sg-show"), "--json"], env)
    rel.check(rc == 0, "sg-show --json: exit %d: %s" % (rc, err))
    view = json.loads(out)
    vms = {vm["name"]: vm for vm in view["vms"]}
    rel.check(sorted(vms[A]["vmops"]["rule_sets"]) == ["i-2-3-VM-et80_80", "i-2-3-VMi8_0", "i-2-3-VMt80_80"],
              "sg-show --json: vmops.rule_sets of %s: %s" % (A, vms[A]["vmops"]))
    rel.check(vms[B]["vmops"]["nat_mac_vifs"] == ["tap8.0", "vif8.0"],
              "sg-show --json: vmops.nat_mac_vifs of %s: %s" % (B, vms[B]["vmops"]))
    kinds = sorted(left["kind"] for left in vms[A]["leftovers"])
    rel.check(kinds == ["duplicate"] * 3, "sg-show --json: leftovers of %s: %s" % (A, vms[A]["leftovers"]))
    host = sorted((left["kind"], left["table"]) for left in view["host"]["leftovers"])
    rel.check(host == [("stale-nat-mac-check", "ebtables-nat"), ("unused-set", "ipset")],
              "sg-show --json: host leftovers: %s" % view["host"]["leftovers"])

    rc, text, err = run([tool(sg_apply, "sg-diff")], env)
    rel.check(rc == 1, "sg-diff on a vmops host: exit %d (want 1): %s%s" % (rc, text, err))
    for vm in (A, B, R):
        rel.check("%s: vmops-layout programmed by CloudStack's vmops plugin" % vm in text,
                  "sg-diff does not name %s as vmops' layout:\n%s" % (vm, text))
    rel.check("%s: missing ebtables %s: -s ! 06:f8:c8:00:00:09 -i vif7.0 -j DROP" % (A, A) in text,
              "sg-diff does not say the MAC check moves to the filter table:\n" + text)
    rel.check("run `sg-apply takeover`" in text and "reapply" not in text,
              "sg-diff's hint is not the takeover:\n" + text)


def cloudstack_drives(xapi, agents, sg_apply, env):
    """The management server's calls after the takeover, through XAPI."""
    rel.check(xapi.call("pingxenserver") == "success", "pingxenserver is not CloudStack's")
    rules = "I:tcp;23;23;0.0.0.0/0,NEXT E:tcp;443;443;0.0.0.0/0,NEXT "
    answer = xapi.call("network_rules", vmName=A, vmIP=A_IP, vmMAC=A_MAC, vmID="3", signature=SIG2,
                       seqno="5", deflated="false", rules=rules, secIps=A_SEC + ";")
    rel.check(answer == "true", "network_rules answered %r" % answer)
    want = {"LAN->A:22": False, "LAN->A:23": True, "LAN->A:80": False, "LAN->A(secondary):22": False,
            "A->LAN:80": False, "A->LAN:443": True, "A(secondary)->LAN:80": False,
            "A(spoofed)->LAN:80": False, "LAN->B:22": False, "B->LAN:443": True}
    now = probe(agents)
    rel.check(now == want, "after network_rules through XAPI: %s, want %s" % (now, want))
    rel.check(xapi.call("get_rule_logs_for_vms", host_uuid=xapi.host) ==
              "%s,3,%s,7,%s,5;%s,5,%s,8,_initial_,-1" % (A, A_IP, SIG2, B, B_IP), "get_rule_logs_for_vms")
    for action, expected in (("-A", [True, True]), ("-D", [False, False])):
        rel.check(xapi.call("network_rules_vmSecondaryIp", vmName=A, vmMac=A_MAC, vmSecIp=A_SPOOF,
                            action=action) == "true", "network_rules_vmSecondaryIp " + action)
        passed = rel.probe_all(agents, [("A", OUT_IP, 443, A_SPOOF), ("OUT", A_SPOOF, 23, None)])
        rel.check(passed == expected, "secondary IP %s after %s: %s" % (A_SPOOF, action, passed))
    # A value CloudStack never sends is refused before anything runs.
    tables = rel.iptables_dump()
    err = xapi.call("default_network_rules", ok=False, vmName=A + ";reboot", vmIP=A_IP, vmMAC=A_MAC, vmID="3")
    rel.check("VIFWALL_INVALID_ARGUMENT" in err and "vmName" in err, "a refused vmName: %s" % err)
    rel.check(rel.iptables_dump() == tables, "a refused call changed iptables")
    rel.check(xapi.call("destroy_network_rules_for_vm", vmName=B) == "true", "destroy_network_rules_for_vm")
    rel.check(B not in rel.iptables_dump() and B not in rel.ebtables_dump(), "%s's rules are left" % B)
    # B started again (its defaults), the router's chain again; a VM that
    # does not run here cannot be programmed: CloudStack gets "false".
    rel.check(xapi.call("default_network_rules", vmName=B, vmIP=B_IP, vmMAC=B_MAC, vmID="5") == "true",
              "default_network_rules")
    passed = rel.probe_all(agents, [("OUT", B_IP, 22, None), ("B", OUT_IP, 443, None)])
    rel.check(passed == [False, True], "B after default_network_rules through XAPI: %s" % passed)
    rel.check(xapi.call("default_network_rules_systemvm", vmName=R) == "true", "default_network_rules_systemvm")
    rel.check(xapi.call("network_rules", vmName="i-2-99-VM", vmIP="10.147.41.99", vmMAC="06:f8:c8:00:00:63",
                        vmID="99", signature=SIG2, seqno="1", deflated="false", rules=rules) == "false",
              "network_rules for a VM that does not run here")
    rel.check(xapi.call("cleanup_rules", instance="VM") == "0", "cleanup_rules: no VM stopped since")
    rel.check(xapi.call("can_bridge_firewall", host_uuid=xapi.host, instance="VM") == "true",
              "can_bridge_firewall")
    rc, text, err = run([tool(sg_apply, "sg-diff"), A, R], env)
    rel.check(rc == 0, "sg-diff after CloudStack's calls: exit %d: %s%s" % (rc, text, err))


def exited(pid):
    """Whether the child is done (a zombie), without reaping it: sg.finish() does."""
    with open("/proc/%d/stat" % pid) as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def probe(agents):
    passed = rel.probe_all(agents, [(who, ip, port, src) for _, who, ip, port, src, _ in PROBES])
    return {name: ok for (name, *_), ok in zip(PROBES, passed)}


def main():
    sg_apply, tmp, sim, source_dir = sys.argv[1:5]
    state_dir = os.path.join(tmp, "state")
    os.makedirs(state_dir, exist_ok=True)
    sg = rel.SgApply(sg_apply, tmp)
    env = dict(sg.env)
    program_like_vmops(source_dir, state_dir)
    logs_before = {name: open(os.path.join(state_dir, name)).read()
                   for name in sorted(os.listdir(state_dir))}

    check_described(sg_apply, env)

    agents = {"A": rel.Agent("%s-g7" % sim, "A"), "B": rel.Agent("%s-g8" % sim, "B"),
              "OUT": rel.Agent("%s-out" % sim, "LAN")}
    try:
        for address in (A_SEC, A_SPOOF):
            rel.run_text(["ip", "netns", "exec", "%s-g7" % sim, "ip", "addr", "add", address + "/23",
                          "dev", "eth0"])
        agents["A"].listen([22, 23, 80])
        agents["B"].listen([22])
        agents["OUT"].listen([80, 443])
        before = probe(agents)
        for name, *_, expected in PROBES:
            rel.check(before[name] == expected,
                      "vmops' rules: %s %s (want %s)" % (name, "passes" if before[name] else "is dropped",
                                                         "pass" if expected else "drop"))

        # A rule vmops never writes: the takeover refuses, and changes nothing.
        admin = ["-I", A, "1", "-p", "tcp", "-m", "tcp", "--dport", "9999", "-m", "comment", "--comment",
                 "admin", "-j", "ACCEPT"]
        rel.run_text(["iptables"] + admin)
        tables = everything(state_dir)
        rc, out, err, _ = sg.run(["takeover"])
        rel.check(rc == 1 and "--dport 9999" in err and "not one CloudStack writes" in err,
                  "takeover with an admin's rule in %s: exit %d: %s" % (A, rc, err))
        rel.check(everything(state_dir) == tables,
                  "a refused takeover changed something:\n" + rel.first_difference(tables, everything(state_dir)))
        rel.run_text(["iptables", "-D"] + admin[1:2] + admin[3:])

        # The takeover, probed without pause: nothing passes that did not before.
        proc = sg.start(["-v", "takeover"])
        rounds = 0
        while True:
            running = not exited(proc.pid)
            now = probe(agents)
            rounds += 1
            opened = [name for name, ok in now.items() if ok and not before[name]]
            rel.check(not opened, "during the takeover (round %d) these passed: %s" % (rounds, opened))
            if not running:
                break
        rc, out, err, _ = sg.finish(proc)
        rel.check(rc == 0, "takeover: exit %d: %s" % (rc, err))
        rel.log("takeover probed in %d rounds; %s" % (rounds, err.strip().replace("\n", " | ")))
        for vm in (A, B, R):
            rel.check("%s: taken over from CloudStack's vmops" % vm in err, "takeover does not name %s: %s" % (vm, err))

        after = probe(agents)
        rel.check(after == before, "after the takeover: %s (before: %s)" % (after, before))
        check_converged(sg_apply, sg, state_dir, logs_before, env)
        cloudstack_drives(Xapi(source_dir, tmp, env, sg_apply), agents, sg_apply, env)
    finally:
        for agent in agents.values():
            agent.close()
    rel.write_report("takeover", {"probes": len(PROBES), "rounds_during_takeover": rounds})


def check_converged(sg_apply, sg, state_dir, logs_before, env):
    """After the takeover: no leftover, CloudStack's files as vmops wrote them, clean views."""
    nat = nat_dump()
    rel.check(" -j DROP" not in nat, "nat MAC checks are left:\n" + nat)
    sets = rel.ipset_dump()
    left = [name for name in re.findall(r"^create (\S+)", sets, re.M) if re.search(r"\d+_(\d+|any)$", name)]
    rel.check(not left, "vmops-named sets are left: %s" % left)
    arp_forward = rel.run_text(["arptables-legacy", "-n", "-L", "FORWARD"]).splitlines()
    jumps = [line for line in arp_forward if line.startswith("-j ")]
    rel.check(len(jumps) == len(set(jumps)) == 6, "arptables FORWARD after the takeover:\n%s" % "\n".join(jumps))
    rel.check(GONE not in rel.arptables_dump(), "the gone VM's arptables chain is left")
    for vif in ("vif7.0", "vif8.0", "tap8.0"):
        rel.check(re.search(r"-s ! \S+ -i %s -j DROP" % re.escape(vif), rel.ebtables_dump()),
                  "no MAC check for %s in the ebtables filter table" % vif)
    for name, text in logs_before.items():
        if name.endswith((".log", ".ip")) and GONE not in name:
            rel.check(open(os.path.join(state_dir, name)).read() == text,
                      "%s changed: CloudStack would see a difference" % name)
    for vm in (A, B, R):
        rel.check(os.path.exists(os.path.join(state_dir, vm + ".state")), "no %s.state after the takeover" % vm)
    rule_logs = sg.ok(["rule-logs"]).strip()
    rel.check(rule_logs == "%s,3,%s,7,5d41402abc4b2a76b9719d911017c592,4;%s,5,%s,8,_initial_,-1" % (A, A_IP, B, B_IP),
              "rule-logs after the takeover: %s" % rule_logs)

    rc, text, err = run([tool(sg_apply, "sg-diff")], env)
    rel.check(rc == 0, "sg-diff after the takeover: exit %d: %s%s" % (rc, text, err))
    rc, text, err = run([tool(sg_apply, "sg-show")], env)
    rel.check("vmops" not in text and "Leftovers" not in text, "sg-show after the takeover:\n" + text)
    tables = everything(state_dir)
    rc, out, err, _ = sg.run(["-v", "takeover"])
    rel.check(rc == 0 and "taken over" not in err, "a second takeover: exit %d: %s" % (rc, err))
    rel.check(everything(state_dir) == tables,
              "a second takeover changed something:\n" + rel.first_difference(tables, everything(state_dir)))


if __name__ == "__main__":
    rel.run_driver(main)
