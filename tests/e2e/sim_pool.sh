#!/usr/bin/env bash
# Pools in the simulator: two members whose VMs share dom-id 7; `xe vm-list`
# from either member lists both with the right resident-on; each member's
# /etc/xensource-inventory names its own uuid; `xe host-call-plugin` runs the
# plugin as XAPI does, in the member's own dom0; a member marked down fails
# with xe's HOST_OFFLINE error; a live migration moves the VIFs and packets
# flow after it; `sim down` leaves no namespace, /etc/netns entry or state.
# The first part (xe's plugin call on a bare host file) needs no root.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
export LC_ALL=C # sort order

H1=$SOURCE_DIR/sim/testdata/pool-h1.host
H2=$SOURCE_DIR/sim/testdata/pool-h2.host
A=6a1f3c2e-8d4b-4e5a-9c7d-1b2e3f4a5b61 # xenpool1's uuid
B=7b2a4d3f-9e5c-4f6b-8d8e-2c3f4a5b6c72 # xenpool2's uuid

# A test plugin, written against the XenAPIPlugin contract (tests/xapi/).
export VIFWALL_SIM_PLUGIN_DIR=$E2E_TMP/plugins
mkdir -p "$VIFWALL_SIM_PLUGIN_DIR"
cat >"$VIFWALL_SIM_PLUGIN_DIR/vwtest" <<'EOF'
#!/usr/bin/env python3
import json, subprocess, sys
import XenAPIPlugin

def links(session, args):  # this host's interfaces
    return subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout

def inventory(session, args):  # this host's /etc/xensource-inventory
    with open("/etc/xensource-inventory") as f:
        return f.read()

def echo(session, args):
    return json.dumps({"session": session._session.startswith("OpaqueRef:"), "args": args}, sort_keys=True)

def boom(session, args):
    raise RuntimeError("kaboom")

def fail(session, args):
    raise XenAPIPlugin.Failure("VWTEST_FAILED", ["a", "b c"])

def crash(session, args):
    sys.stdout.write("partial\n")
    sys.stderr.write("about to crash\n")
    sys.exit(3)

XenAPIPlugin.dispatch({"links": links, "inventory": inventory, "echo": echo, "boom": boom, "fail": fail,
                       "crash": crash})
EOF
printf '#!/bin/sh\necho "not XML-RPC"\n' >"$VIFWALL_SIM_PLUGIN_DIR/garbage"
chmod +x "$VIFWALL_SIM_PLUGIN_DIR/vwtest" "$VIFWALL_SIM_PLUGIN_DIR/garbage"

# expect_xe_failure WHAT EXPECTED-STDERR COMMAND...: exit status 1, nothing
# on stdout, exactly that on stderr.
expect_xe_failure() {
  local what=$1 expected=$2 status=0
  shift 2
  "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err" || status=$?
  assert_eq 1 "$status" "$what: exit status"
  assert_eq "" "$(cat "$E2E_TMP/out")" "$what: stdout"
  assert_eq "$expected" "$(cat "$E2E_TMP/err")" "$what: stderr"
}

# 1. No root: on a bare host file (no sim) xe runs the plugin right here.
export VIFWALL_SIM_HOST=$H1
call() { "$XE" host-call-plugin host-uuid=$A plugin=vwtest "$@"; }
assert_eq '{"args": {"x": "1", "y": "a b"}, "session": true}' "$(call fn=echo args:x=1 'args:y=a b')" \
  "host-call-plugin passes args: as the struct"
call fn=echo >"$E2E_TMP/echo.out"
printf '%s\n' '{"args": {}, "session": true}' >"$E2E_TMP/echo.expected"
assert_same_file "$E2E_TMP/echo.expected" "$E2E_TMP/echo.out" "the result, on a line of its own"
expect_xe_failure "a plugin raising" "There was a failure communicating with the plug-in.
status: boom
stdout: RuntimeError
stderr: kaboom" call fn=boom
expect_xe_failure "a plugin raising XenAPIPlugin.Failure" "Error code: VWTEST_FAILED
Error parameters: a, b c" call fn=fail
expect_xe_failure "a plugin exiting 3" "There was a failure communicating with the plug-in.
status: non-zero exit
stdout: partial

stderr: about to crash" call fn=crash
expect_xe_failure "an unknown function" "Error code: UNKNOWN_XENAPI_PLUGIN_FUNCTION
Error parameters: nope" call fn=nope
expect_xe_failure "a plugin that is not there" "The requested plug-in could not be found.
name: nosuch" "$XE" host-call-plugin host-uuid=$A plugin=nosuch fn=x
expect_xe_failure "output that is not XML-RPC" "There was a failure communicating with the plug-in.
status: failed to parse plugin output
stdout: not XML-RPC

stderr: syntax error: line 1, column 0" "$XE" host-call-plugin host-uuid=$A plugin=garbage fn=x
expect_xe_failure "an unknown host" "The uuid you supplied was invalid.
type: host
uuid: $B" call fn=echo host-uuid=$B
expect_xe_failure "no fn" "Required parameter not found: fn
For usage run: 'xe help'" call
unset VIFWALL_SIM_HOST

require_root
require_sim
pool=vwpool$$
# names_like PATTERN...: the paths the globs match (none: nothing).
names_like() {
  local path
  for path in "$@"; do
    [ -e "$path" ] && echo "${path##*/}"
  done
  return 0
}
assert_no_pool_left() {
  local left
  left=$(names_like /run/netns/"$1"-* /etc/netns/"$1"-*)
  [ -z "$left" ] || fail "namespaces or /etc/netns entries of $1 left: $left"
  left=$(names_like "$VIFWALL_SIM_DIR/$1" "$VIFWALL_SIM_DIR/$1"-*)
  [ -z "$left" ] || fail "state of $1 left: $left"
}

# 2. Host files: dom-ids repeat across members, never within one; host and
#    VM uuids are the pool's own.  Refused before anything is built.
sed '/^vm i-2-5-VM/s/domid 8/domid 7/' "$H1" >"$E2E_TMP/dup-domid.host"
status=0
"$SIM" pool-up --name "${pool}bad" "$E2E_TMP/dup-domid.host" "$H2" 2>"$E2E_TMP/err" || status=$?
assert_eq 1 "$status" "a member with dom-id 7 twice"
assert_contains "$(cat "$E2E_TMP/err")" "dup-domid.host:17: dom-id 7 is already used on line 14" "dom-id twice in a member"
status=0
"$SIM" pool-up --name "${pool}bad" "$H1" "$H1" 2>"$E2E_TMP/err" || status=$?
assert_eq 1 "$status" "the same host twice"
assert_contains "$(cat "$E2E_TMP/err")" "pool-h1.host:3: host uuid $A is already the uuid of" "the same host uuid twice"
sed "s/^host xenpool2 uuid .*/host xenpool3 uuid 8c3b5e4a-0f6d-4a7c-9e9f-3d4a5b6c7d83/" "$H2" >"$E2E_TMP/h3.host"
grep '^vm i-2-3-VM' "$H1" | sed 's/domid 7/domid 9/; s/i-2-3-VM/i-2-3-VM-copy/' >>"$E2E_TMP/h3.host"
status=0
"$SIM" pool-up --name "${pool}bad" "$H1" "$E2E_TMP/h3.host" 2>"$E2E_TMP/err" || status=$?
assert_eq 1 "$status" "a VM uuid on two members"
assert_contains "$(cat "$E2E_TMP/err")" "VM uuid 44b0e85e-00b4-73c0-6405-eacff81b8bbe is already used in" "VM uuid twice"
assert_no_pool_left "${pool}bad"

# 3. The pool: one sim per member, guests by their per-member dom-ids.
assert_eq "$pool" "$("$SIM" pool-up --name "$pool" "$H1" "$H2")" "pool-up prints the pool's name"
expected=$(printf '%s\n' "$pool-h1-dom0" "$pool-h1-g0" "$pool-h1-g7" "$pool-h1-g8" "$pool-h1-out" \
  "$pool-h2-dom0" "$pool-h2-g0" "$pool-h2-g7" "$pool-h2-out")
assert_eq "$expected" "$(names_like /run/netns/"$pool"-* | sort)" "the pool's namespaces"
assert_contains "$("$SIM" list)" "$pool	pool	$pool-h1,$pool-h2" "sim list shows the pool"
in1() { "$SIM" dom0 "$pool" --host h1 -- "$@"; }
in2() { "$SIM" dom0 "$pool" --host xenpool2 -- "$@"; } # members by h<N>, name-label, uuid or sim name

# 4. Each member's inventory names its own uuid (bound by `ip netns exec`,
#    without a warning), a single sim's too.
in1 cat /etc/xensource-inventory >"$E2E_TMP/inv1" 2>"$E2E_TMP/inv1.err"
assert_contains "$(cat "$E2E_TMP/inv1")" "INSTALLATION_UUID='$A'" "h1's inventory"
assert_contains "$(cat "$E2E_TMP/inv1")" "CONTROL_DOMAIN_UUID='0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f1'" "h1's dom0"
assert_eq "" "$(cat "$E2E_TMP/inv1.err")" "no bind-mount warning"
assert_eq "INSTALLATION_UUID='$B'" "$(in2 grep INSTALLATION_UUID /etc/xensource-inventory)" "h2's inventory"
assert_eq "INSTALLATION_UUID='$B'" "$(ip netns exec "$pool-h2-dom0" grep INSTALLATION_UUID /etc/xensource-inventory)" \
  "h2's inventory through plain ip netns exec"
[ -f "/etc/netns/$pool-h1-dom0/xensource-inventory" ] || fail "no /etc/netns entry for h1"

# 5. xe answers for the pool from either member.
params=params=name-label,power-state,resident-on,dom-id
in1 xe vm-list $params >"$E2E_TMP/vms1"
in2 xe vm-list $params >"$E2E_TMP/vms2"
assert_same_file "$E2E_TMP/vms1" "$E2E_TMP/vms2" "vm-list is the same from both members"
record() { # NAME RESIDENT-ON DOM-ID [POWER]: the vm-list record
  printf 'name-label ( RW)     : %s\n    power-state ( RO): %s\n    resident-on ( RO): %s\n         dom-id ( RO): %s\n' \
    "$1" "${4:-running}" "$2" "$3"
}
vms=$(cat "$E2E_TMP/vms1")
assert_contains "$vms" "$(record i-2-3-VM "$A" 7)" "i-2-3-VM: dom-id 7 on xenpool1"
assert_contains "$vms" "$(record i-3-7-VM "$B" 7)" "i-3-7-VM: dom-id 7 on xenpool2"
assert_contains "$vms" "$(record i-2-5-VM "$A" 8)" "i-2-5-VM on xenpool1"
assert_contains "$vms" "$(record i-2-11-VM '<not in database>' -1 halted)" "a halted VM runs nowhere"
assert_contains "$vms" "$(record "Control domain on host: xenpool2" "$B" 0)" "each member's control domain"
assert_eq 6 "$(grep -c '^name-label' <<<"$vms")" "every VM of the pool"
assert_eq "Control domain on host: xenpool2,i-3-7-VM" "$(in1 xe vm-list resident-on=$B params=name-label --minimal)" \
  "vm-list resident-on=B from h1"
assert_eq "uuid ( RO)          : $A
    name-label ( RW): xenpool1


uuid ( RO)          : $B
    name-label ( RW): xenpool2" "$(in2 xe host-list params=uuid,name-label)" "host-list: every member"
assert_eq 6 "$(in1 xe vif-list --minimal | tr ',' '\n' | grep -c .)" "vif-list: every VIF of the pool"
assert_eq "Pool-wide network associated with eth0,cloud_link_local_network" \
  "$(in1 xe network-list params=name-label --minimal | tr ',' '\n' | sort | paste -sd,)" "networks are pool-wide"
assert_eq "" "$("$SIM" dom0 "$pool-h2" -- xe vm-list --minimal name-label=nothing)" "a member by its sim name"

# 6. host-call-plugin runs the plugin in the member's own dom0, from either
#    member: its interfaces (tap7.0 is h2's, vif8.0 h1's) and its inventory.
links_of() { # FROM-MEMBER HOST-UUID: the vif/tap names the plugin saw
  "$SIM" dom0 "$pool" --host "$1" -- xe host-call-plugin host-uuid="$2" plugin=vwtest fn=links |
    grep -o ' \(vif\|tap\)[0-9]*\.[0-9]*' | tr -d ' ' | sort | paste -sd' '
}
assert_eq "tap7.0 vif0.0 vif7.0" "$(links_of h1 $B)" "h2's interfaces, asked from h1"
assert_eq "tap8.0 vif0.0 vif7.0 vif8.0" "$(links_of h1 $A)" "h1's interfaces, asked from h1"
assert_eq "tap8.0 vif0.0 vif7.0 vif8.0" "$(links_of h2 $A)" "h1's interfaces, asked from h2"
assert_contains "$(in1 xe host-call-plugin host-uuid=$B plugin=vwtest fn=inventory)" "INSTALLATION_UUID='$B'" \
  "h2's inventory, asked from h1"
assert_contains "$(in2 xe host-call-plugin host-uuid=$A plugin=vwtest fn=inventory)" "INSTALLATION_UUID='$A'" \
  "h1's inventory, asked from h2"

# 7. A member marked down: HOST_OFFLINE for it, answers from the others.
"$SIM" pool-member-down "$pool" h2
expect_xe_failure "a plugin call to a member that is down" \
  "You attempted an operation which involves a host which could not be contacted.
host: $B (xenpool2)" in1 xe host-call-plugin host-uuid=$B plugin=vwtest fn=echo
assert_contains "$(in1 xe host-call-plugin host-uuid=$A plugin=vwtest fn=echo)" '"args": {}' "h1 still answers"
assert_eq "true,false" "$(in1 xe host-list params=host-metrics-live --minimal)" "host-metrics-live of a member down"
assert_eq 6 "$(in1 xe vm-list --minimal | tr ',' '\n' | grep -c .)" "its VMs are still in the pool's database"
assert_contains "$("$SIM" list)" "down: $pool-h2" "sim list shows the member down"
"$SIM" pool-member-up "$pool" "$B"
assert_contains "$(in1 xe host-call-plugin host-uuid=$B plugin=vwtest fn=echo)" '"args": {}' "h2 answers again"

# 8. The vifwall plugin through the pool (with the built vif-of).
if [ -x "$BUILD_DIR/tools/vif-of" ]; then
  ln -s "$SOURCE_DIR/xapi/vifwall" "$VIFWALL_SIM_PLUGIN_DIR/vifwall"
  in1 env VIFWALL_BIN_DIR="$BUILD_DIR/tools" xe host-call-plugin host-uuid=$B plugin=vifwall fn=vif_of \
    args:timeout=60 >"$E2E_TMP/vifwall.json"
  python3 - "$E2E_TMP/vifwall.json" "$B" <<'EOF' || fail "the vifwall plugin's answer from h2"
import json, sys
r = json.load(open(sys.argv[1]))
assert sorted(r) == ["exit", "host", "hostname", "output", "stderr", "tool"], r
assert r["host"] == sys.argv[2] and r["tool"] == "vif-of" and isinstance(r["exit"], int), r
EOF
  expect_xe_failure "the vifwall plugin with a bad argument" "Error code: VIFWALL_INVALID_ARGUMENT
Error parameters: sg_show, timeout must be an integer from 1 to 300 (seconds), got \"0\"" \
    in1 xe host-call-plugin host-uuid=$B plugin=vifwall fn=sg_show args:timeout=0
else
  echo "(no $BUILD_DIR/tools/vif-of: the vifwall plugin part is left out)"
fi

# 9. Live migration: i-2-3-VM (dom-id 7 on h1) to h2, where 7 is taken.
guest() { "$SIM" guest "$pool" "$@"; }
port_master() { # NS PORT
  ip -n "$1" -o link show dev "$2" 2>/dev/null | sed -n 's/.* master \([^ ]*\) .*/\1/p'
}
guest i-2-3-VM -- ping -n -c 1 -W 1 10.147.40.2 >/dev/null 2>&1 && fail "h2's LAN answered before the migration"
spawn "$E2E_TMP/sleeper.pid" "$SIM" guest "$pool" i-2-3-VM -- sleep 300
sleeper=$(cat "$E2E_TMP/sleeper.pid")
wait_until 5 netns_has_processes "$pool-h1-g7" || fail "sleep did not start in i-2-3-VM"
assert_eq 1 "$("$SIM" migrate "$pool" i-2-3-VM h2)" "the lowest free dom-id on h2"
ip -n "$pool-h1-dom0" link show dev vif7.0 >/dev/null 2>&1 && fail "vif7.0 is still on h1"
[ ! -e "/run/netns/$pool-h1-g7" ] || fail "the guest namespace is still h1's"
assert_eq xenbr0 "$(port_master "$pool-h2-dom0" vif1.0)" "vif1.0 on h2's xenbr0"
assert_eq xenbr0 "$(port_master "$pool-h2-dom0" vif7.0)" "i-3-7-VM's vif7.0 stays"
assert_contains "$(ip -n "$pool-h2-dom0" -o link show dev vif1.0)" "link/ether fe:ff:ff:ff:ff:ff" "netback MAC"
assert_contains "$(guest i-2-3-VM -- ip -o link show dev eth0)" "link/ether 06:f8:c8:00:00:09" "the guest keeps its MAC"
assert_contains "$(guest i-2-3-VM -- ip -o addr show dev eth0)" "inet 10.147.41.238/23" "the guest keeps its address"
kill -0 "$sleeper" 2>/dev/null || fail "the guest's process did not survive the migration"
netns_has_processes "$pool-h2-g1" || fail "the guest's process is not in its namespace on h2"
assert_contains "$(in1 xe vm-list name-label=i-2-3-VM params=resident-on,dom-id)" "resident-on ( RO)    : $B
         dom-id ( RO): 1" "xe: resident-on h2, dom-id 1"
guest i-2-3-VM -- ping -n -c 1 -W 2 10.147.40.2 >/dev/null || fail "i-2-3-VM cannot reach h2's LAN after the migration"
guest i-2-3-VM -- ping -n -c 1 -W 2 10.147.41.77 >/dev/null || fail "i-2-3-VM cannot reach i-3-7-VM on h2"
assert_contains "$(bridge -n "$pool-h2-dom0" fdb show br xenbr0)" "06:f8:c8:00:00:09 dev vif1.0 master xenbr0" \
  "h2's bridge learnt the guest on vif1.0"
#    An HVM VM with a chosen dom-id: taken ones are refused, nothing moves.
status=0
"$SIM" migrate "$pool" i-2-5-VM h2 --domid 7 2>"$E2E_TMP/err" || status=$?
assert_eq 1 "$status" "dom-id 7 is taken on h2"
assert_contains "$(cat "$E2E_TMP/err")" "dom-id 7 is not free on $pool-h2" "the refusal"
assert_eq xenbr0 "$(port_master "$pool-h1-dom0" vif8.0)" "vif8.0 stays on h1"
#    A failure midway is undone.
status=0
VIFWALL_SIM_FAIL_AT=migrate "$SIM" migrate "$pool" i-2-5-VM h2 --domid 12 2>/dev/null || status=$?
assert_eq 1 "$status" "an injected failure"
assert_eq xenbr0 "$(port_master "$pool-h1-dom0" vif8.0)" "vif8.0 back on h1"
assert_eq xenbr0 "$(port_master "$pool-h1-dom0" tap8.0)" "tap8.0 back on h1"
[ -e "/run/netns/$pool-h1-g8" ] || fail "the guest namespace was not given back"
guest i-2-5-VM -- ping -n -c 1 -W 2 10.147.40.1 >/dev/null || fail "i-2-5-VM lost h1's LAN after the undo"
assert_eq 12 "$("$SIM" migrate "$pool" i-2-5-VM xenpool2 --domid 12)" "dom-id 12 as asked"
assert_eq xenbr0 "$(port_master "$pool-h2-dom0" vif12.0)" "vif12.0 on h2"
assert_eq xenbr0 "$(port_master "$pool-h2-dom0" tap12.0)" "tap12.0 on h2"
ip -n "$pool-h1-dom0" link show dev tap8.0 >/dev/null 2>&1 && fail "tap8.0 is still on h1"
guest i-2-5-VM -- ping -n -c 1 -W 2 10.147.41.238 >/dev/null || fail "the two migrated VMs cannot reach each other"
assert_eq "vif0.0 vif1.0 vif12.0 vif7.0" "$(links_of h1 $B | tr ' ' '\n' | grep vif | paste -sd' ')" \
  "the plugin sees the moved VIFs on h2"

# 10. sim down: nothing left, the guest's process neither.
"$SIM" down "$pool"
assert_no_pool_left "$pool"
if kill -0 "$sleeper" 2>/dev/null; then
  fail "process $sleeper of the migrated guest survived sim down"
fi

# 11. A single sim is a pool of one: its dom0 has an inventory too.
single=$(sim_up "$SEED_HOST")
assert_eq "INSTALLATION_UUID='3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10'" \
  "$("$SIM" dom0 "$single" -- grep INSTALLATION_UUID /etc/xensource-inventory)" "the seed host's inventory"
assert_contains "$("$SIM" dom0 "$single" -- xe host-list params=uuid)" 3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10 \
  "xe agrees"
"$SIM" down "$single"
assert_sim_gone "$single"
[ ! -e "/etc/netns/$single-dom0" ] || fail "/etc/netns/$single-dom0 left"

# 12. A pool-up failing at any step, or SIGKILLed, leaves nothing once down.
for step in inventory namespaces sysctl; do
  status=0
  VIFWALL_SIM_FAIL_AT=$step "$SIM" pool-up --name "${pool}f" "$H1" "$H2" 2>"$E2E_TMP/err" || status=$?
  assert_eq 1 "$status" "pool-up failing at $step"
  assert_contains "$(cat "$E2E_TMP/err")" "pool-up failed, cleaned up: injected failure at step $step" "at $step"
  assert_no_pool_left "${pool}f"
done
"$SIM" generate --vms 30 --vifs 2 --seed 11 >"$E2E_TMP/big1.host"
"$SIM" generate --vms 30 --vifs 2 --seed 12 | sed 's/simhost/simhost2/g' >"$E2E_TMP/big2.host"
spawn "$E2E_TMP/pool-up.pid" "$SIM" pool-up --name "${pool}k" "$E2E_TMP/big1.host" "$E2E_TMP/big2.host"
wait_until 60 test -e "/run/netns/${pool}k-h2-dom0" || fail "pool-up did not reach its second member"
kill -9 "$(cat "$E2E_TMP/pool-up.pid")"
"$SIM" down --all
assert_no_pool_left "${pool}k"

# 13. The mount point the sims needed goes with the last of them.
if ! ls /etc/netns/*/xensource-inventory >/dev/null 2>&1 && [ -e /etc/xensource-inventory ]; then
  if grep -q "Mount point left by the vifwall simulator" /etc/xensource-inventory; then
    fail "the placeholder /etc/xensource-inventory outlived the last sim"
  fi
fi
echo "PASS: $TEST_NAME"
