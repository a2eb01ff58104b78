#!/usr/bin/env bash
# CloudStack drives sg-apply (issue 14): the CLI the XAPI plugin calls in
# place of vmops, on the real kernel in a simulated pool, with real TCP
# packets.  `rules --sec-ips` lets a secondary address in and out; `rule-logs`
# prints get_rule_logs_for_vms' string, field by field; a "reboot" (the sim
# cannot reboot a VM in place, so i-2-3-VM live-migrates to h2 and back to h1
# with another dom-id: its vif7.0 is gone and vif11.0 is there instead, as
# after a reboot) leaves the VM unfiltered until `rule-logs`, called as
# CloudStack's ping calls get_rule_logs_for_vms (through XAPI and the
# vmops wrapper), repairs it, after
# which packets follow the rules again; `cleanup --count` prints how many VMs
# it removed; `reapply` restores a rule someone deleted (sg-diff, which
# hinted at it, is clean afterwards); `setup --cleanup` removes dead VMs.
# Everything runs in the sim's namespaces.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"
export LC_ALL=C

H1=$SOURCE_DIR/sim/testdata/pool-h1.host
H2=$SOURCE_DIR/sim/testdata/pool-h2.host
A=i-2-3-VM A_IP=10.147.41.238 A_MAC=06:f8:c8:00:00:09 SEC=10.147.41.241
B=i-2-5-VM B_IP=10.147.41.240 B_MAC=06:f8:c8:00:00:0b
DEAD=i-2-11-VM # halted on h1
OUT_IP=10.147.40.1

pool=vwsc$$
trap '"$SIM" down "$pool" >/dev/null 2>&1 || true' EXIT
"$SIM" pool-up --name "$pool" "$H1" "$H2" >/dev/null
OUT=$pool-h1-out

on() { # on MEMBER CMD...: CMD in the member's dom0
  local member=$1
  shift
  "$SIM" dom0 "$pool" --host "$member" -- "$@"
}
# sg ARGS...: sg-apply on h1, with the test's state directory and locks.
sg() {
  on h1 env VIFWALL_STATE_DIR="$E2E_TMP/state" VIFWALL_LOCK_FILE="$E2E_TMP/lock" \
    VIFWALL_EBTABLES_LOCK="$E2E_TMP/eblock" "$BUILD_DIR/tools/sg-apply" "$@"
}
sg_diff() { on h1 env VIFWALL_STATE_DIR="$E2E_TMP/state" "$BUILD_DIR/tools/sg-diff" "$@"; }
status_of() { # the exit status of a command, which may fail; its output in $E2E_TMP/out
  local rc=0
  "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err" || rc=$?
  echo "$rc"
}
port_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }
# tcp_connects FROM-NS TO-NS IP PORT [SOURCE-IP]: a real TCP connection and a line through it.
tcp_connects() {
  local from=$1 to=$2 ip=$3 port=$4 got=$E2E_TMP/got.$RANDOM
  local source=()
  [ $# -lt 5 ] || source=(-s "$5")
  spawn "$E2E_TMP/srv.pid" sh -c 'exec "$@" > "'"$got"'"' _ ip netns exec "$to" timeout 10 nc -l "$ip" "$port"
  wait_until 5 port_listening "$to" "$port" || fail "no listener on $to:$port"
  local rc=0
  echo "hello $port" | ip netns exec "$from" nc -N -w 2 "${source[@]}" "$ip" "$port" || rc=1
  kill "$(cat "$E2E_TMP/srv.pid")" 2>/dev/null || true
  wait_until 5 sh -c "! kill -0 $(cat "$E2E_TMP/srv.pid") 2>/dev/null" || true
  [ $rc -eq 0 ] && grep -q "hello $port" "$got" 2>/dev/null
}
# CloudStack's ping reaches the host only through XAPI: get_rule_logs_for_vms
# goes through vifwall's wrapper, installed by xapi/install in a plugin
# directory of the test's own in front of a stand-in CloudStack vmops, and
# called by the sim's xe as xapi calls a plugin (the XML-RPC call in argv[1],
# the methodResponse read from stdout), with the real sg-apply behind it.
H1_UUID=6a1f3c2e-8d4b-4e5a-9c7d-1b2e3f4a5b61 # pool-h1.host
PLUGINS=$E2E_TMP/root/etc/xapi.d/plugins
mkdir -p "$PLUGINS"
printf '#!/usr/bin/env python3\nimport XenAPIPlugin\nXenAPIPlugin.dispatch({})\n' >"$PLUGINS/vmops"
chmod 755 "$PLUGINS/vmops"
"$SOURCE_DIR/xapi/install" install --root "$E2E_TMP/root" --no-firewall >/dev/null
xapi() { # xapi FN [args:KEY=VALUE...]: host.call_plugin(h1, "vmops", FN, ARGS)
  local fn=$1
  shift
  on h1 env VIFWALL_SIM_PLUGIN_DIR="$PLUGINS" VIFWALL_BIN_DIR="$BUILD_DIR/tools" \
    VIFWALL_STATE_DIR="$E2E_TMP/state" VIFWALL_LOCK_FILE="$E2E_TMP/lock" VIFWALL_EBTABLES_LOCK="$E2E_TMP/eblock" \
    xe host-call-plugin host-uuid="$H1_UUID" plugin=vmops fn="$fn" "$@"
}
# rule_logs_are EXPECTED WHAT: get_rule_logs_for_vms through XAPI answers
# EXPECTED (xe prints it and one newline), byte for byte.
rule_logs_are() {
  xapi get_rule_logs_for_vms args:host_uuid="$H1_UUID" >"$E2E_TMP/logs" ||
    fail "$2: get_rule_logs_for_vms through XAPI failed"
  printf '%s\n' "$1" >"$E2E_TMP/logs.expected"
  assert_same_file "$E2E_TMP/logs.expected" "$E2E_TMP/logs" "$2"
}

# ---- default + rules with CloudStack's secIps -----------------------------------
RULES="I:tcp;22;22;0.0.0.0/0,NEXT "
sg setup
sg default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sec-ips "0;"
sg default --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC"
sg rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sig a1 --seq 1 --rules "$RULES" --sec-ips "$SEC;"
assert_eq "$A,$SEC;,3" "$(cat "$E2E_TMP/state/$A.ip")" "$A.ip after rules --sec-ips"
G=$pool-h1-g7
ip netns exec "$G" ip addr add "$SEC/23" dev eth0
tcp_connects "$OUT" "$G" "$A_IP" 22 || fail "rules: the LAN cannot reach $A:22 (allowed)"
tcp_connects "$OUT" "$G" "$SEC" 22 || fail "rules: the LAN cannot reach $A's secondary $SEC:22"
tcp_connects "$OUT" "$G" "$A_IP" 23 && fail "rules: the LAN reached $A:23 (denied)"
tcp_connects "$G" "$OUT" "$OUT_IP" 80 "$SEC" || fail "rules: $A cannot send from its secondary $SEC"
ip netns exec "$G" ip addr add 10.147.41.249/23 dev eth0
tcp_connects "$G" "$OUT" "$OUT_IP" 80 10.147.41.249 && fail "rules: $A sent from 10.147.41.249 (not its address)"
ip netns exec "$G" ip addr del 10.147.41.249/23 dev eth0

# ---- rule-logs: vmops' string, field by field ------------------------------------
rule_logs_are "$A,3,$A_IP,7,a1,1;$B,5,$B_IP,8,_initial_,-1" "rule-logs"
IFS=';' read -r -a entries <"$E2E_TMP/logs"
assert_eq 2 "${#entries[@]}" "rule-logs: one entry per running i- VM with a log"
IFS=',' read -r -a f <<<"${entries[0]}"
assert_eq 6 "${#f[@]}" "rule-logs: fields of $A (syncNetworkGroups keeps 6-field entries)"
assert_eq "$A" "${f[0]}" "rule-logs: vmName"
assert_eq 3 "${f[1]}" "rule-logs: vmID"
assert_eq "$A_IP" "${f[2]}" "rule-logs: vmIP"
assert_eq 7 "${f[3]}" "rule-logs: domID"
assert_eq a1 "${f[4]}" "rule-logs: signature"
assert_eq 1 "${f[5]}" "rule-logs: seqno"

# ---- a "reboot": new dom-id, new VIFs; rule-logs repairs it ----------------------
"$SIM" migrate "$pool" "$A" h2 >/dev/null
assert_eq 11 "$("$SIM" migrate "$pool" "$A" h1 --domid 11)" "back on h1 under dom-id 11"
G=$pool-h1-g11
[ -e "/run/netns/$G" ] || fail "no guest namespace $G"
tcp_connects "$OUT" "$G" "$A_IP" 22 && fail "before the repair: the LAN reached $A:22 through the unfiltered vif11.0"
rule_logs_are "$A,3,$A_IP,11,a1,-1;$B,5,$B_IP,8,_initial_,-1" "rule-logs after the reboot"
assert_eq "$A,3,$A_IP,11,a1,-1,$A_MAC" "$(cat "$E2E_TMP/state/$A.log")" "$A.log rewritten as vmops does"
rules_now=$(on h1 iptables-save -t filter)
assert_contains "$rules_now" "--physdev-out vif11.0 --physdev-is-bridged -j $A" "the -def chain follows vif11.0"
assert_contains "$rules_now" "--physdev-in vif11.0 --physdev-is-bridged -j i-2-3-VM-def" "the jump follows vif11.0"
case $rules_now in *vif7.0*) fail "a rule for the gone vif7.0 is left: $rules_now" ;; esac
case $(on h1 ebtables-save) in *vif7.0*) fail "an ebtables rule for vif7.0 is left" ;; esac
tcp_connects "$OUT" "$G" "$A_IP" 22 || fail "after the repair: the LAN cannot reach $A:22 (allowed)"
tcp_connects "$OUT" "$G" "$SEC" 22 || fail "after the repair: the LAN cannot reach $SEC:22 (allowed)"
tcp_connects "$OUT" "$G" "$A_IP" 23 && fail "after the repair: the LAN reached $A:23 (denied)"
assert_eq 0 "$(status_of sg_diff)" "sg-diff after the repair: $(cat "$E2E_TMP/out")"
# Repaired once: the next ping changes nothing.
before=$(on h1 iptables-save -t filter | grep -v '^#')
rule_logs_are "$A,3,$A_IP,11,a1,-1;$B,5,$B_IP,8,_initial_,-1" "rule-logs, again"
assert_eq "$before" "$(on h1 iptables-save -t filter | grep -v '^#')" "a second rule-logs changes nothing"
# CloudStack resends the rules (newer seqno, same signature): only the log changes.
sg rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sig a1 --seq 2 --rules "$RULES" --sec-ips "$SEC;"
assert_eq "$A,3,$A_IP,11,a1,2,$A_MAC" "$(cat "$E2E_TMP/state/$A.log")" "the log after CloudStack's resend"

# ---- reapply restores a deleted rule ---------------------------------------------
ssh_rule=$(on h1 iptables-save -t filter | grep -e "^-A $A .*--dport 22") || fail "no SSH rule in $A"
# shellcheck disable=SC2046 # the rule's words (iptables-save quotes nothing here)
on h1 iptables $(sed 's/^-A /-D /' <<<"$ssh_rule")
tcp_connects "$OUT" "$G" "$A_IP" 22 && fail "the deleted rule still lets the LAN in"
assert_eq 1 "$(status_of sg_diff)" "sg-diff sees the deleted rule"
assert_eq "sg-diff: hint: to rebuild from the recorded state, run \`sg-apply reapply --vm $A\`" \
  "$(tail -n 1 "$E2E_TMP/out")" "sg-diff's last line names sg-apply reapply"
sg reapply --vm "$A"
tcp_connects "$OUT" "$G" "$A_IP" 22 || fail "after reapply: the LAN cannot reach $A:22"
assert_eq 0 "$(status_of sg_diff)" "sg-diff after reapply: $(cat "$E2E_TMP/out")"
assert_eq "nothing to change" "$(sg -v reapply)" "reapply of every VM once all is as recorded"

# ---- cleanup --count: what cleanup_rules answers -----------------------------------
sg default --vm "$DEAD" --vm-id 11 --ip 10.147.41.250 --mac 06:f8:c8:00:00:1b --vif vif20.0
"$SIM" migrate "$pool" "$B" h2 >/dev/null # B no longer runs here
sg cleanup --count >"$E2E_TMP/count"
printf '2\n' >"$E2E_TMP/count.expected"
assert_same_file "$E2E_TMP/count.expected" "$E2E_TMP/count" "cleanup --count: $DEAD and $B"
for vm in "$DEAD" "$B"; do
  [ ! -e "$E2E_TMP/state/$vm.log" ] || fail "cleanup kept $vm.log"
  case $(on h1 iptables-save -t filter) in *"$vm"*) fail "cleanup left iptables rules of $vm" ;; esac
done
assert_eq 0 "$(sg cleanup --count)" "a second cleanup --count"
assert_eq "" "$(sg cleanup)" "cleanup without --count prints nothing"
tcp_connects "$OUT" "$G" "$A_IP" 22 || fail "cleanup broke $A's rules"
rule_logs_are "$A,3,$A_IP,11,a1,2" "rule-logs once $B left"

# ---- setup --cleanup: can_bridge_firewall ------------------------------------------
sg default --vm "$DEAD" --vm-id 11 --ip 10.147.41.250 --mac 06:f8:c8:00:00:1b --vif vif20.0
assert_eq "" "$(sg setup --cleanup)" "setup --cleanup prints nothing"
[ ! -e "$E2E_TMP/state/$DEAD.log" ] || fail "setup --cleanup kept $DEAD"
[ -e "$E2E_TMP/state/$A.log" ] || fail "setup --cleanup removed the running $A"
assert_eq 0 "$(status_of sg_diff)" "sg-diff at the end: $(cat "$E2E_TMP/out")"

"$SIM" down "$pool"
trap - EXIT
echo "ok: sg-apply as CloudStack's plugin calls it"
