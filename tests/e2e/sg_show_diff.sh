#!/usr/bin/env bash
# sg-show and sg-diff against sg-apply on the simulated dom0 of the seed host:
#  * apply -> sg-show describes exactly what was applied, sg-diff is empty;
#  * one rule removed by hand -> sg-diff exits 1 naming that VM and rule only;
#  * a foreign rule added -> reported;
#  * a snapshot (vif-of --capture) answers like the live host;
#  * a VM "reboots" (new dom-id) -> the stale VIF is reported, and sg-apply
#    run again makes sg-diff empty;
#  * rules of a VM that is not running (stale) and a running VM without
#    rules (unprotected) -> reported;
#  * trouble exits 2; the completions offer the recorded VMs;
#  * a dual-stack VM with two NICs, from its captured snapshot: sg-show's
#    NIC blocks and IPv6 rules, sg-diff clean (0), then 1 for a removed
#    ip6tables rule or inet6 member.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"
TOOLS=$BUILD_DIR/tools
STATE=$E2E_TMP/state

name=$(sim_up "$SEED_HOST")
in_dom0() { "$SIM" dom0 "$name" -- "$@"; }
# sg-apply with everything it writes inside the test's directory.
apply() {
  in_dom0 env VIFWALL_STATE_DIR="$STATE" VIFWALL_LOCK_FILE="$E2E_TMP/lock" \
    VIFWALL_EBTABLES_LOCK="$E2E_TMP/eblock" "$TOOLS/sg-apply" "$@"
}
show() { in_dom0 "$TOOLS/sg-show" --state-dir "$STATE" "$@"; }
# sg-diff, its exit status in $rc, its stdout in $out.
diff_rc() {
  set +e
  out=$(in_dom0 "$TOOLS/sg-diff" --state-dir "$STATE" "$@" 2> "$E2E_TMP/diff.err")
  rc=$?
  set -e
}
# The difference lines of $out (without the summary line).
diff_lines() { grep -v '^sg-diff: ' <<<"$out" || true; }

RULES_3='I:tcp;22;22;10.147.41.240/32,NEXT I:icmp;-1;-1;0.0.0.0/0,NEXT '
RULES_5='I:tcp;8080;8090;192.168.7.0/24,10.1.0.0/16,NEXT I:udp;53;53;0.0.0.0/0,NEXT I:47;0;0;10.147.41.238/32,NEXT E:tcp;443;443;10.147.40.0/23,NEXT E:icmp;8;0;0.0.0.0/0,NEXT '
apply setup
for vm in r-4-VM s-1-VM v-2-VM; do apply systemvm --vm "$vm"; done
apply default --vm i-2-3-VM --vm-id 3 --ip 10.147.41.238 --mac 06:f8:c8:00:00:09
apply rules --vm i-2-3-VM --vm-id 3 --ip 10.147.41.238 --mac 06:f8:c8:00:00:09 \
  --sig 0cc175b9c0f1b6a831c399e269772661 --seq 1 --rules "$RULES_3"
apply default --vm i-2-5-VM --vm-id 5 --ip 10.147.41.240 --mac 06:f8:c8:00:00:0b --sec-ips '10.147.41.241;'
apply rules --vm i-2-5-VM --vm-id 5 --ip 10.147.41.240 --mac 06:f8:c8:00:00:0b \
  --sig 92eb5ffee6ae2fec3ad71c777531578f --seq 2 --rules "$RULES_5"

# ---- sg-show describes exactly what was applied ------------------------------
show > "$E2E_TMP/show.txt"
cat "$E2E_TMP/show.txt"
assert_contains "$(cat "$E2E_TMP/show.txt")" "host setup: complete" "sg-show host setup"
for line in "    tcp 8080-8090 from 10.1.0.0/16, 192.168.7.0/24" "    udp 53 from 0.0.0.0/0" \
  "    47 from 10.147.41.238/32" "    tcp 443 to 10.147.40.0/23" "    icmp type 8 code 0 to 0.0.0.0/0" \
  "    tcp 22 from 10.147.41.240/32" "    icmp type any from 0.0.0.0/0" \
  "  IPs:        10.147.41.240, 10.147.41.241 (set i-2-5-VM)" "  MAC:        06:f8:c8:00:00:0b" \
  "  VIFs:       vif8.0 (dom-id 8), tap8.0 (dom-id 8)"; do
  grep -qF -- "$line" "$E2E_TMP/show.txt" || fail "sg-show should print [$line]"
done
show --json > "$E2E_TMP/show.json"
python3 - "$E2E_TMP/show.json" "$STATE" <<'PY'
import json, sys, os
doc = json.load(open(sys.argv[1]))
state_dir = sys.argv[2]
assert doc["host"]["setup"] == "complete", doc["host"]
vms = {vm["name"]: vm for vm in doc["vms"]}
assert sorted(vms) == ["i-2-3-VM", "i-2-5-VM", "r-4-VM", "s-1-VM", "v-2-VM"], sorted(vms)

def recorded(vm):
    fields = {}
    for line in open(os.path.join(state_dir, vm + ".state")):
        key, _, value = line.rstrip("\n").partition(" ")
        fields[key] = value
    return fields

def parse_rules(text):
    """CloudStack's rule string -> {direction: [(proto, start, end, sorted cidrs)]}."""
    out = {"ingress": [], "egress": []}
    for entry in text.split("NEXT"):
        entry = entry.strip(" ;")
        if not entry:
            continue
        kind, _, rest = entry.partition(":")
        proto, start, end, cidrs = rest.split(";", 3)
        start, end = int(start), int(end)
        if proto in ("tcp", "udp") and start == 0 and end == 0:
            end = 65535
        if proto not in ("tcp", "udp", "icmp"):
            start = end = 0
        cidrs = sorted(c for c in cidrs.split(",") if c)
        out["ingress" if kind == "I" else "egress"].append((proto, start, end, cidrs))
    return out

for name in ("i-2-3-VM", "i-2-5-VM"):
    vm, state = vms[name], recorded(name)
    assert vm["kind"] == "user"
    assert [v["name"] for v in vm["vifs"]] == state["vifs"].split(), (vm["vifs"], state["vifs"])
    assert vm["mac"] == state["mac"], vm["mac"]
    assert vm["ips"] == sorted([state["ip"]] + state["secondary-ips"].split()), vm["ips"]
    for p in ("ip", "mac", "arp", "dhcp"):
        assert vm["protections"][p]["in_place"], (name, p, vm["protections"][p])
    want = parse_rules(state["rules"])
    for direction in ("ingress", "egress"):
        got = [(r["protocol"], r["start"], r["end"], sorted(r["cidrs"])) for r in vm[direction]["rules"]]
        assert all(r["understood"] for r in vm[direction]["rules"])
        assert got == want[direction], (name, direction, got, want[direction])
    assert vm["ingress"]["default"] == "DROP"
    assert vm["egress"]["default"] == ("DROP" if want["egress"] else "RETURN")
for name in ("r-4-VM", "s-1-VM", "v-2-VM"):
    vm, state = vms[name], recorded(name)
    assert vm["kind"] == "system" and vm["default"] == "ACCEPT", vm
    assert [v["name"] for v in vm["vifs"]] == state["vifs"].split(), vm["vifs"]
PY
raw=$(show --raw i-2-3-VM)
assert_contains "$raw" "-A i-2-3-VM -p tcp -m tcp --dport 22 -m state --state NEW -m set --match-set i-2-3-VM-i1a src -j ACCEPT" "sg-show --raw"
assert_contains "$raw" "add i-2-3-VM-i1a 10.147.41.240" "sg-show --raw lists the sets"
[[ $raw != *i-2-5-VM* ]] || fail "sg-show --raw i-2-3-VM shows another VM: $raw"

# ---- sg-diff is empty ----------------------------------------------------------
diff_rc
assert_eq 0 "$rc" "sg-diff right after sg-apply ($out)"
assert_eq "sg-diff: no differences, 5 VMs ok" "$out" "sg-diff output after sg-apply"
diff_rc --json
assert_eq 0 "$rc" "sg-diff --json after sg-apply"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["differ"] is False and d["vms_ok"] == 5, d' "$out"

# ---- one rule removed by hand --------------------------------------------------
in_dom0 iptables -D i-2-5-VM -p udp -m udp --dport 53 -m state --state NEW -j ACCEPT
diff_rc
assert_eq 1 "$rc" "sg-diff after a rule was removed"
assert_eq "i-2-5-VM: missing iptables i-2-5-VM: udp 53 from 0.0.0.0/0" "$(diff_lines)" "the missing rule, and nothing else"
diff_rc --summary
assert_eq 1 "$rc" "sg-diff --summary exit status"
assert_eq "sg-diff: 1 VM differs (i-2-5-VM: 1 missing), 4 VMs ok" "$out" "sg-diff --summary"
diff_rc --json
python3 - "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
bad = [vm for vm in d["vms"] if not vm["ok"]]
assert [vm["name"] for vm in bad] == ["i-2-5-VM"], bad
assert bad[0]["differences"] == [{"kind": "missing", "table": "iptables", "chain": "i-2-5-VM",
    "rule": "udp 53 from 0.0.0.0/0",
    "args": ["-p", "udp", "-m", "udp", "--dport", "53", "-m", "state", "--state", "NEW", "-j", "ACCEPT"],
    "detail": ""}], bad
assert d["host"] == [] and d["problems"] == []
PY
in_dom0 iptables -I i-2-5-VM 2 -p udp -m udp --dport 53 -m state --state NEW -j ACCEPT
diff_rc --quiet
assert_eq 0 "$rc" "sg-diff after the rule was put back"

# ---- a foreign rule ------------------------------------------------------------
in_dom0 iptables -I i-2-3-VM 1 -s 192.0.2.1/32 -j LOG
in_dom0 ebtables -I FORWARD 1 -i vif7.0 -j ACCEPT
diff_rc
assert_eq 1 "$rc" "sg-diff with foreign rules"
assert_eq "i-2-3-VM: foreign iptables i-2-3-VM: -s 192.0.2.1/32 -j LOG (position 1)" "$(diff_lines)" \
  "the foreign rule in the VM's chain (the ebtables FORWARD rule is not ours to judge)"
in_dom0 iptables -D i-2-3-VM -s 192.0.2.1/32 -j LOG
in_dom0 ebtables -D FORWARD -i vif7.0 -j ACCEPT
in_dom0 iptables -I BRIDGE-FIREWALL 2 -p tcp --dport 25 -j ACCEPT
diff_rc
assert_eq "host: foreign iptables BRIDGE-FIREWALL: -p tcp -m tcp --dport 25 -j ACCEPT" "$(diff_lines)" \
  "a foreign rule in BRIDGE-FIREWALL"
in_dom0 iptables -D BRIDGE-FIREWALL -p tcp --dport 25 -j ACCEPT
diff_rc --quiet
assert_eq 0 "$rc" "sg-diff after the foreign rules were removed"

# ---- a snapshot answers like the live host --------------------------------------
in_dom0 "$TOOLS/vif-of" --capture "$E2E_TMP/snap" 2> "$E2E_TMP/capture.err"
for f in iptables-save ip6tables-save ebtables-save arptables ipset-save xe-vm-list; do
  [ -e "$E2E_TMP/snap/$f" ] || fail "vif-of --capture did not write $f: $(cat "$E2E_TMP/capture.err")"
done
set +e
snap_out=$("$TOOLS/sg-diff" --state-dir "$STATE" --from "$E2E_TMP/snap")
snap_rc=$?
set -e
assert_eq 0 "$snap_rc" "sg-diff --from the snapshot ($snap_out)"
"$TOOLS/sg-show" --state-dir "$STATE" --from "$E2E_TMP/snap" --no-counters > "$E2E_TMP/snap-show.txt"
show --no-counters > "$E2E_TMP/live-show.txt"
assert_same_file "$E2E_TMP/live-show.txt" "$E2E_TMP/snap-show.txt" "sg-show live and from the snapshot"
# The snapshot as the desired side: the host still matches it.
diff_rc --desired-from "$E2E_TMP/snap"
assert_eq 0 "$rc" "sg-diff --desired-from a snapshot of the same host ($out)"

# ---- a VM reboots: new dom-id --------------------------------------------------
# The sim has no vm-reboot: give i-2-3-VM dom-id 9 in the sim's host file
# (what its xe answers from) and rename its dom0 interface as Xen would.
sed -i 's/^\(vm i-2-3-VM .*\) domid 7 /\1 domid 9 /' "$VIFWALL_SIM_DIR/$name/host"
in_dom0 ip link set vif7.0 down
in_dom0 ip link set vif7.0 name vif9.0
in_dom0 ip link set vif9.0 up
diff_rc
assert_eq 1 "$rc" "sg-diff after the reboot"
assert_eq "i-2-3-VM: stale-vif vif7.0 (dom-id 7 is gone: i-2-3-VM runs as dom-id 9 now; rules for it in iptables BRIDGE-FIREWALL, iptables i-2-3-VM-def, ebtables FORWARD, ebtables i-2-3-VM, arptables FORWARD, arptables i-2-3-VM)
i-2-3-VM: unprotected vif9.0 (no rule sends vif9.0's traffic through i-2-3-VM's chains)" "$(diff_lines)" \
  "the stale VIF after a reboot"
assert_contains "$out" "sg-diff: 1 VM differs (i-2-3-VM: stale vif7.0, unprotected vif9.0), 4 VMs ok" "summary after the reboot"
# CloudStack reprograms the VM; then nothing differs.
apply default --vm i-2-3-VM --vm-id 3 --ip 10.147.41.238 --mac 06:f8:c8:00:00:09
diff_rc
assert_eq 0 "$rc" "sg-diff after sg-apply ran for the new dom-id ($out)"
assert_contains "$(show i-2-3-VM)" "VIFs:       vif9.0 (dom-id 9)" "sg-show after the reboot"

# ---- a VM that is not running, and a running VM without rules --------------------
apply default --vm i-2-9-VM --vm-id 9 --ip 10.147.41.250 --mac 06:f8:c8:00:00:0c --vif vif12.0
apply destroy --vm i-2-5-VM
diff_rc
assert_eq 1 "$rc" "sg-diff with a stale and an unprotected VM"
assert_eq "i-2-5-VM: unprotected running (dom-id 8) without rules
i-2-9-VM: stale-vm not running, but 21 of its rules are in the firewall" "$(diff_lines)" \
  "stale and unprotected VMs"
diff_rc --no-xe
assert_eq 0 "$rc" "sg-diff --no-xe cannot see either ($out)"
assert_contains "$out" "note: running VMs unknown" "sg-diff --no-xe says what it left out"

# ---- trouble exits 2 -----------------------------------------------------------
diff_rc --bogus-option
assert_eq 2 "$rc" "sg-diff with an unknown option"
mkdir -p "$E2E_TMP/badstate"
echo "not a state file" > "$E2E_TMP/badstate/i-2-3-VM.state"
set +e
"$TOOLS/sg-diff" --state-dir "$E2E_TMP/badstate" --from "$E2E_TMP/snap" > /dev/null 2> "$E2E_TMP/err"
rc=$?
set -e
assert_eq 2 "$rc" "sg-diff with a broken state file"
assert_contains "$(cat "$E2E_TMP/err")" "badstate/i-2-3-VM.state:1: " "the broken state file is named"
set +e
"$TOOLS/sg-show" --from "$E2E_TMP/no-such-dir" > /dev/null 2>&1
rc=$?
set -e
assert_eq 2 "$rc" "sg-show --from a missing directory"
set +e
in_dom0 "$TOOLS/sg-show" i-2-99-VM > /dev/null 2>&1
rc=$?
set -e
assert_eq 1 "$rc" "sg-show for a VM without rules"

# ---- completions offer the recorded VMs ------------------------------------------
complete_words() {
  local file=$1 function=$2
  shift 2
  PATH="$TOOLS:$PATH" bash -c 'source "$1"; f=$2; shift 2
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    $f; printf "%s\n" "${COMPREPLY[@]}"' _ "$file" "$function" "$@"
}
assert_eq "i-2-3-VM
i-2-9-VM" "$(complete_words "$SOURCE_DIR/completions/sg-diff" _sg_diff sg-diff --state-dir "$STATE" i-)" \
  "sg-diff completes recorded VMs"
assert_eq "--summary" "$(complete_words "$SOURCE_DIR/completions/sg-diff" _sg_diff sg-diff --su)" "sg-diff option completion"
assert_eq "i-2-3-VM
i-2-5-VM" "$(complete_words "$SOURCE_DIR/completions/sg-show" _sg_show sg-show --from "$E2E_TMP/snap" i-)" \
  "sg-show completes the VMs of a snapshot"
# ---- a dual-stack VM with two NICs (#15), from its captured snapshot ------------
# sg-apply does not load ip6tables yet, so this reads the fixture sg-apply's
# own plan was loaded from (tests/data/sgshow/README.md) instead of the sim.
V6=$SOURCE_DIR/tests/data/sgshow/ipv6-two-nics
v6_show=$("$TOOLS/sg-show" --from "$V6" --state-dir "$V6/state" --no-counters i-2-3-VM)
for line in "  NIC 1: vif7.1  MAC 06:f8:c8:00:00:0a  IPv4 10.2.2.5 (set i-2-3-VM-n1)  IPv6 2001:db8:2::5, fe80::4f8:c8ff:fe00:a (set i-2-3-VM-6n1)" \
  "                NA target check: yes" "    tcp 22 from 2001:db8:9::/48, 2001:db8:a::/64" \
  "    icmpv6 type 128 code any from ::/0"; do
  assert_contains "$v6_show" "$line" "sg-show of the two-NIC VM"
done
v6_diff() {
  set +e
  out=$("$TOOLS/sg-diff" --state-dir "$V6/state" --no-xe --from "$1" 2> "$E2E_TMP/diff.err")
  rc=$?
  set -e
}
v6_diff "$V6"
assert_eq 0 "$rc" "sg-diff of the two-NIC VM in sync ($out)"
cp -r "$V6" "$E2E_TMP/v6-rule"
sed -i '/-A i-2-3-VM -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT/d' "$E2E_TMP/v6-rule/ip6tables-save"
v6_diff "$E2E_TMP/v6-rule"
assert_eq 1 "$rc" "sg-diff after an ip6tables rule was removed"
assert_eq "i-2-3-VM: missing ip6tables i-2-3-VM: icmpv6 type 128 code any from ::/0" "$(diff_lines | grep -v '^note: ')" \
  "the missing ip6tables rule, and nothing else"
cp -r "$V6" "$E2E_TMP/v6-member"
sed -i '/^add i-2-3-VM-6n1 2001:db8:2::5$/d' "$E2E_TMP/v6-member/ipset-save"
v6_diff "$E2E_TMP/v6-member"
assert_eq 1 "$rc" "sg-diff after an inet6 member was removed"
assert_contains "$out" "(set i-2-3-VM-6n1: missing 2001:db8:2::5)" "the missing inet6 member"

echo "PASS: $TEST_NAME"
