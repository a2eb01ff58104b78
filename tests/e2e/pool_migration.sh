#!/usr/bin/env bash
# Pools, end to end on the real kernel: two simulated members whose VMs share
# dom-id 7.  Each member's tools answer for its own VMs only (vif-of by name,
# dom-id and interface; sg-apply's VIF lookup; snapshots with and without the
# inventory), and a VM live-migrated from h1 to h2 keeps its security group:
# `cleanup` on h1 removes every chain, set and bridge rule of it, h2 programs
# it under its new dom-id, and real TCP connections show the rules before and
# after.  (Before pools were understood, cleanup on h1 saw the VM "running"
# and kept its rules for good; vif-of answered h2's dom-id 7.)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"
export LC_ALL=C

H1=$SOURCE_DIR/sim/testdata/pool-h1.host
H2=$SOURCE_DIR/sim/testdata/pool-h2.host
A=6a1f3c2e-8d4b-4e5a-9c7d-1b2e3f4a5b61 # xenpool1's uuid
B=7b2a4d3f-9e5c-4f6b-8d8e-2c3f4a5b6c72 # xenpool2's uuid
VM=i-2-3-VM VM_IP=10.147.41.238 VM_MAC=06:f8:c8:00:00:09
OTHER=i-3-7-VM OTHER_IP=10.147.41.77 OTHER_MAC=06:3c:7a:00:00:07

pool=vwpm$$
trap '"$SIM" down "$pool" >/dev/null 2>&1 || true' EXIT
"$SIM" pool-up --name "$pool" "$H1" "$H2" >/dev/null

# on MEMBER CMD...: CMD in the member's dom0 (xe, inventory, PATH as there).
on() {
  local member=$1
  shift
  "$SIM" dom0 "$pool" --host "$member" -- "$@"
}
vif_of() { # MEMBER ARGS...
  local member=$1
  shift
  on "$member" "$BUILD_DIR/tools/vif-of" "$@"
}
# sg MEMBER ARGS...: sg-apply with the member's own state directory and locks.
sg() {
  local member=$1
  shift
  on "$member" env VIFWALL_STATE_DIR="$E2E_TMP/state-$member" VIFWALL_LOCK_FILE="$E2E_TMP/lock-$member" \
    VIFWALL_EBTABLES_LOCK="$E2E_TMP/eblock-$member" "$BUILD_DIR/tools/sg-apply" "$@"
}
status_of() { # the exit status of a command, which may fail
  local rc=0
  "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err" || rc=$?
  echo "$rc"
}

# ---- 1. vif-of answers for this member only -----------------------------------
assert_eq "vif7.0" "$(vif_of h1 "$VM" --json | jq -r '.vms[].vifs[].name' | paste -sd' ')" \
  "h1: $VM's VIFs"
assert_eq "$VM" "$(vif_of h1 --iface vif7.0 --json | jq -r '.vms[].name_label')" "h1: vif7.0 is $VM's"
assert_eq "$VM" "$(vif_of h1 --domid 7 --json | jq -r '.vms[].name_label')" "h1: dom-id 7 is $VM"
assert_eq "$OTHER" "$(vif_of h2 --domid 7 --json | jq -r '.vms[].name_label')" "h2: dom-id 7 is $OTHER"
assert_eq "$OTHER" "$(vif_of h2 --iface vif7.0 --json | jq -r '.vms[].name_label')" "h2: vif7.0 is $OTHER's"
assert_eq "tap7.0 vif7.0" "$(vif_of h2 "$OTHER" --json | jq -r '.vms[].vifs[].name' | sort | paste -sd' ')" \
  "h2: $OTHER's VIF and tap"
assert_eq 1 "$(status_of vif_of h1 "$OTHER")" "h1: $OTHER is not here"
assert_contains "$(cat "$E2E_TMP/err")" "\"$OTHER\" (b1c2d3e4-f5a6-4b7c-9d8e-7f6a5b4c3d21) runs on pool member $B, not on this host ($A)" \
  "h1 says where $OTHER runs"

# ---- 2. snapshots: with the inventory, and without it -------------------------
vif_of h1 --capture "$E2E_TMP/snap" 2>/dev/null
[ -s "$E2E_TMP/snap/xensource-inventory" ] || fail "--capture did not save xensource-inventory"
assert_contains "$(cat "$E2E_TMP/snap/xe-vm-list")" "resident-on ( RO)" "--capture asks xe for resident-on"
assert_eq "$VM" "$("$BUILD_DIR/tools/vif-of" --from "$E2E_TMP/snap" --domid 7 --json | jq -r '.vms[].name_label')" \
  "the snapshot knows it is h1's"
cp -r "$E2E_TMP/snap" "$E2E_TMP/snap-old"
rm "$E2E_TMP/snap-old/xensource-inventory"
assert_eq 2 "$(status_of "$BUILD_DIR/tools/vif-of" --from "$E2E_TMP/snap-old" --domid 7)" \
  "no inventory and a shared dom-id: refused"
err=$(cat "$E2E_TMP/err")
assert_contains "$err" "expected one running VM per dom-id" "the refusal says why"
assert_contains "$err" "\"$VM\" (44b0e85e-00b4-73c0-6405-eacff81b8bbe, on host $A)" "it names $VM"
assert_contains "$err" "\"$OTHER\" (b1c2d3e4-f5a6-4b7c-9d8e-7f6a5b4c3d21, on host $B)" "it names $OTHER"
assert_eq "" "$(cat "$E2E_TMP/out")" "nothing guessed on stdout"

# ---- 3. security groups, VIFs looked up on each member ------------------------
# tcp_connects FROM-NS TO-NS IP PORT: a real TCP connection and a line through it.
port_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }
tcp_connects() {
  local from=$1 to=$2 ip=$3 port=$4 got=$E2E_TMP/got.$RANDOM
  spawn "$E2E_TMP/srv.pid" sh -c 'exec "$@" > "'"$got"'"' _ ip netns exec "$to" timeout 10 nc -l "$ip" "$port"
  wait_until 5 port_listening "$to" "$port" || fail "no listener on $to:$port"
  local rc=0
  echo "hello $port" | ip netns exec "$from" nc -N -w 2 "$ip" "$port" || rc=1
  kill "$(cat "$E2E_TMP/srv.pid")" 2>/dev/null || true
  wait_until 5 sh -c "! kill -0 $(cat "$E2E_TMP/srv.pid") 2>/dev/null" || true
  [ $rc -eq 0 ] && grep -q "hello $port" "$got" 2>/dev/null
}
rules="I:tcp;22;22;0.0.0.0/0,NEXT "
for member in h1 h2; do sg "$member" setup; done
sg h1 default --vm "$VM" --vm-id 3 --ip "$VM_IP" --mac "$VM_MAC" # no --vif: found on h1
sg h1 rules --vm "$VM" --vm-id 3 --ip "$VM_IP" --mac "$VM_MAC" --sig a1 --seq 1 --rules "$rules"
sg h2 default --vm "$OTHER" --vm-id 7 --ip "$OTHER_IP" --mac "$OTHER_MAC"
assert_contains "$(on h1 iptables-save -t filter)" "--physdev-out vif7.0 --physdev-is-bridged -j $VM" \
  "h1: $VM's traffic through vif7.0 goes to its chain"
h2_rules=$(on h2 iptables-save -t filter)
assert_contains "$h2_rules" "-j $OTHER" "h2: $OTHER has its chains"
case $h2_rules in *"-j $VM"*) fail "h2 programmed $VM, which runs on h1" ;; esac
assert_eq 1 "$(status_of sg h2 default --vm "$VM" --vm-id 3 --ip "$VM_IP" --mac "$VM_MAC")" \
  "h2 refuses to program a VM of h1"
assert_contains "$(cat "$E2E_TMP/err")" "runs on pool member $A, not on this host" "h2 says where $VM runs"

g_before="$pool-h1-g7"
tcp_connects "$pool-h1-out" "$g_before" "$VM_IP" 22 || fail "before: the LAN cannot reach $VM:22 (allowed)"
tcp_connects "$pool-h1-out" "$g_before" "$VM_IP" 23 && fail "before: the LAN reached $VM:23 (denied)"
sg h1 cleanup
assert_contains "$(on h1 iptables-save -t filter)" "-j $VM" "cleanup on h1 keeps a VM that runs there"

# ---- 4. live migration to h2, cleanup on h1, programming on h2 -----------------
domid=$("$SIM" migrate "$pool" "$VM" h2)
g_after="$pool-h2-g$domid"
[ -e "/run/netns/$g_after" ] || fail "no guest namespace $g_after after the migration"
sg h1 cleanup
for tool in "iptables-save -t filter" "ipset list -n" "ebtables-save" "arptables-save"; do
  # shellcheck disable=SC2086 # the tool and its options
  left=$(on h1 $tool 2>/dev/null | grep -e "$VM" -e "vif7\.0" || true)
  assert_eq "" "$left" "h1 after cleanup: nothing of $VM in $tool"
done
[ ! -e "$E2E_TMP/state-h1/$VM.log" ] || fail "h1 kept $VM's state log"

# sg-diff asks the same question: on h1 only i-2-5-VM (never programmed) runs
# unfiltered, $VM is no longer h1's; on h2 $VM runs unfiltered.
sg_diff() { # MEMBER ARGS...
  local member=$1
  shift
  on "$member" env VIFWALL_STATE_DIR="$E2E_TMP/state-$member" "$BUILD_DIR/tools/sg-diff" "$@"
}
assert_eq 1 "$(status_of sg_diff h1)" "sg-diff on h1 after cleanup"
assert_eq "i-2-5-VM: unprotected running (dom-id 8) without rules" "$(grep -v '^sg-diff:' "$E2E_TMP/out")" \
  "sg-diff on h1: only its own unprogrammed VM"
assert_eq 1 "$(status_of sg_diff h2)" "sg-diff on h2 before programming $VM"
assert_contains "$(cat "$E2E_TMP/out")" "$VM: unprotected running (dom-id $domid) without rules" \
  "sg-diff on h2 names $VM under its new dom-id"
sg h2 cleanup
assert_contains "$(on h2 iptables-save -t filter)" "-j $OTHER" "cleanup on h2 keeps $OTHER"
sg h2 default --vm "$VM" --vm-id 3 --ip "$VM_IP" --mac "$VM_MAC"
sg h2 rules --vm "$VM" --vm-id 3 --ip "$VM_IP" --mac "$VM_MAC" --sig a1 --seq 1 --rules "$rules"
assert_contains "$(on h2 iptables-save -t filter)" "--physdev-out vif$domid.0 --physdev-is-bridged -j $VM" \
  "h2: $VM's new VIF goes to its chain"
tcp_connects "$pool-h2-out" "$g_after" "$VM_IP" 22 || fail "after: the LAN cannot reach $VM:22 on h2 (allowed)"
tcp_connects "$pool-h2-out" "$g_after" "$VM_IP" 23 && fail "after: the LAN reached $VM:23 on h2 (denied)"
tcp_connects "$pool-h2-out" "$pool-h2-g7" "$OTHER_IP" 22 && fail "after: $OTHER lost its default deny"
assert_eq "vif$domid.0" "$(vif_of h2 "$VM" --json | jq -r '.vms[].vifs[].name')" "vif-of on h2 follows $VM"
assert_eq 1 "$(status_of vif_of h1 "$VM")" "vif-of on h1: $VM is gone from here"
assert_eq 0 "$(status_of sg_diff h2)" "sg-diff on h2 once $VM is programmed: $(cat "$E2E_TMP/out")"

"$SIM" down "$pool"
trap - EXIT
echo "ok: pools: locality and migration"
