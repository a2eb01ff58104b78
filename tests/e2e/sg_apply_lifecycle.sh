#!/usr/bin/env bash
# sg-apply's lifecycle on the simulated seed host: destroy puts every table
# and set back exactly as before the VM was added; cleanup removes only what
# belongs to VMs that are not running; a reboot (new dom-id) re-points the
# VIF jumps and the old ones disappear; foreign rules are never touched; bad
# input and a held lock change nothing; every run that changed, failed or
# found the lock busy left one syslog line, and the one that changed nothing
# none.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
syslog_listen
A=i-2-3-VM A_IP=10.147.41.238 A_MAC=06:f8:c8:00:00:09
B=i-2-5-VM B_IP=10.147.41.240 B_MAC=06:f8:c8:00:00:0b
sg() { sg_apply_in "$name" "$@"; }
# Every table and set of dom0, without counters and dates.
dump() {
  "$SIM" dom0 "$name" -- sh -c '
    iptables-save -t filter | grep -v "^#" | sed "s/\[[0-9]*:[0-9]*\]//"
    echo ---; ebtables -t filter -L
    echo ---; arptables-legacy -n -L
    echo ---; ipset save | sort'
}

# Someone else's rules, which sg-apply must leave alone.
"$SIM" dom0 "$name" -- iptables -N OTHER-SOFTWARE
"$SIM" dom0 "$name" -- iptables -A OTHER-SOFTWARE -s 192.0.2.1/32 -j ACCEPT
"$SIM" dom0 "$name" -- iptables -A FORWARD -j OTHER-SOFTWARE
"$SIM" dom0 "$name" -- ebtables -N FORWARD_vif7.0
"$SIM" dom0 "$name" -- ebtables -A FORWARD -i vif7.0 -j FORWARD_vif7.0

sg setup
sg systemvm --vm r-4-VM
sg default --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC"
dump > "$E2E_TMP/before"

sg default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sec-ips '10.147.41.241;'
sg rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sig 01 --seq 1 \
  --rules "I:tcp;22;22;10.0.0.0/8,192.168.0.0/16,NEXT I:udp;53;53;0.0.0.0/0,NEXT E:icmp;8;0;10.147.40.0/23,NEXT "
sg secondary-ip --vm "$A" --mac "$A_MAC" --ip 10.147.41.242 --action add
dump > "$E2E_TMP/with-A"
cmp -s "$E2E_TMP/before" "$E2E_TMP/with-A" && fail "adding $A changed nothing?"
"$SIM" dom0 "$name" -- ipset list "$A" | grep -q 10.147.41.242 || fail "secondary-ip add: not in $A's set"

# ---- destroy: back to exactly the state before ---------------------------------
sg destroy --vm "$A"
dump > "$E2E_TMP/after"
assert_same_file "$E2E_TMP/before" "$E2E_TMP/after" "tables after destroy"
[ ! -e "$E2E_TMP/state/$A.log" ] && [ ! -e "$E2E_TMP/state/$A.state" ] || fail "destroy left $A's state files"
assert_contains "$(dump)" "OTHER-SOFTWARE" "foreign iptables chain"
assert_contains "$(dump)" "FORWARD_vif7.0" "XAPI's ebtables chain"

# ---- reboot: new dom-id, jumps re-pointed -----------------------------------------
sg default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC"
# The VM comes back as domain 9: dom0's vif7.0 becomes vif9.0.
"$SIM" dom0 "$name" -- ip link set vif7.0 down
"$SIM" dom0 "$name" -- ip link set vif7.0 name vif9.0
"$SIM" dom0 "$name" -- ip link set vif9.0 up
sg default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --vif vif9.0
rules=$(dump)
assert_contains "$rules" "--physdev-in vif9.0 --physdev-is-bridged -j $A-def" "iptables jump for the new vif"
assert_contains "$rules" "-i vif9.0 -j $A" "ebtables jump for the new vif"
case $rules in *"vif7.0 --physdev-is-bridged"* | *"-i vif7.0 -j $A"* | *"-o vif7.0 -j $A"*)
  fail "jumps for the old vif7.0 are left after the reboot" ;; esac
assert_contains "$rules" "FORWARD_vif7.0" "XAPI's ebtables jump (not ours) must stay"
assert_eq "$A,3,$A_IP,9,_initial_,-1,$A_MAC" "$(cat "$E2E_TMP/state/$A.log")" "log after the reboot"

# ---- cleanup: only what belongs to VMs that are not running --------------------
sg cleanup --running "$B" r-4-VM
rules=$(dump)
case $rules in *"$A-def"* | *"Bridge chain: $A,"*) fail "cleanup kept the stopped $A" ;; esac
assert_contains "$rules" "$B-def" "cleanup must keep the running $B"
assert_contains "$rules" "-j r-4-VM" "cleanup must keep the running r-4-VM"

# Cleanup asking the (stand-in) xe which VMs run: every VM of the seed host
# runs, so nothing goes.
before_cleanup=$(dump)
sg cleanup
assert_eq "$before_cleanup" "$(dump)" "cleanup with every VM running"

# ---- bad input and a held lock change nothing -------------------------------------
dump > "$E2E_TMP/stable"
for bad in \
  "default --vm i-2-3-VM;reboot --vm-id 3 --ip $A_IP --mac $A_MAC --vif vif9.0" \
  "default --vm $A --vm-id 3 --ip 10.147.41.300 --mac $A_MAC --vif vif9.0" \
  "default --vm $A --vm-id 3 --ip $A_IP --mac 06:f8:c8:00:00 --vif vif9.0" \
  "default --vm $A --vm-id 3 --ip $A_IP --mac $A_MAC --vif ../x" \
  "rules --vm $A --vm-id 3 --ip $A_IP --mac $A_MAC --sig 01 --seq 1 --vif vif9.0 --rules I:tcp;22;22;10.0.0.0/33,NEXT" \
  "rules --vm $A --vm-id 3 --ip $A_IP --mac $A_MAC --sig 01 --seq 1 --vif vif9.0 --rules I:tcp;22;99999;0.0.0.0/0,NEXT" \
  "rules --vm $A --vm-id 3 --ip $A_IP --mac $A_MAC --sig 01 --seq 1 --vif vif9.0 --rules I:tcp;22;22;0.0.0.0/0,NEXT; -j ACCEPT" \
  "rules --vm $A --vm-id 3 --ip $A_IP --mac $A_MAC --sig 01 --seq 1 --vif vif9.0 --deflated --rules bm90IHpsaWI=" ; do
  read -r -a words <<<"$bad"
  set +e
  sg "${words[@]}" > "$E2E_TMP/out" 2> "$E2E_TMP/err"
  rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "accepted bad input: $bad"
  grep -q "^sg-apply: error: " "$E2E_TMP/err" || fail "no clear error for: $bad ($(cat "$E2E_TMP/err"))"
done
dump > "$E2E_TMP/stable-after"
assert_same_file "$E2E_TMP/stable" "$E2E_TMP/stable-after" "tables after bad input"

# A lock held elsewhere: wait, then exit 75 and change nothing.
spawn "$E2E_TMP/holder.pid" python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "a+"); fcntl.lockf(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close(); time.sleep(30)
' "$E2E_TMP/lock" "$E2E_TMP/locked"
wait_until 10 test -e "$E2E_TMP/locked" || fail "the lock holder did not start"
set +e
sg --wait 0.5 destroy --vm "$B" 2> "$E2E_TMP/err"
rc=$?
set -e
assert_eq 75 "$rc" "exit status with the lock held elsewhere"
assert_contains "$(cat "$E2E_TMP/err")" "busy" "message with the lock held elsewhere"
kill "$(cat "$E2E_TMP/holder.pid")"
assert_same_file "$E2E_TMP/stable" <(dump) "tables after a lock timeout"

# ---- syslog: one line per run that changed, failed or found the lock busy ---------
syslog_lines >"$E2E_TMP/syslog.txt"
cat "$E2E_TMP/syslog.txt"
count() { grep -Ec "$1" "$E2E_TMP/syslog.txt" || true; }
head='^<[0-9]+>sg-apply\[[0-9]+\]: '
assert_eq "$(wc -l <"$E2E_TMP/syslog.txt")" "$(count "$head[^:]+: (changed: |failed \(exit [12]\): |lock busy: )")" \
  "every syslog line says changed, failed or lock busy"
assert_eq 1 "$(count "^<30>sg-apply\[[0-9]+\]: setup: changed: ")" "the setup's line"
assert_eq 1 "$(count "^<30>sg-apply\[[0-9]+\]: rules vm=$A sig=01 seq=1: changed: .*iptables")" "the rules' line"
assert_eq 1 "$(count "^<30>sg-apply\[[0-9]+\]: secondary-ip vm=$A: changed: .*ipset")" "the secondary IP's line"
assert_eq 2 "$(count "$head""destroy vm=")" "destroy: $A's change and $B's busy lock"
assert_eq 1 "$(count "$head""cleanup: ")" "the cleanup that removed $A, and not the one that changed nothing"
# Seven of the eight bad inputs: "... NEXT; -j ACCEPT" splits into words here,
# and the command-line parser refuses -j before anything runs (no line).
assert_eq 7 "$(count "^<27>sg-apply\[[0-9]+\]: (default|rules) vm=.*: failed \(exit 2\): --")" "one line per bad value, naming the option"
assert_eq 1 "$(count "^<28>sg-apply\[[0-9]+\]: destroy vm=$B: lock busy: ")" "the busy lock's line"
assert_eq 18 "$(wc -l <"$E2E_TMP/syslog.txt")" "syslog lines: 10 changes, 7 bad values, 1 busy lock"
echo "PASS: $TEST_NAME"
