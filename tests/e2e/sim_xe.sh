#!/usr/bin/env bash
# The stand-in xe prints xe's exact record format: golden vm-list of the seed
# host, the seed notes' real `xe vm-list power-state=running
# params=dom-id,name-label,uuid` output byte for byte, --minimal escaping,
# param-get, filters and xe's errors.  The format checks need no root; the
# last part runs xe inside a sim's dom0 the way vif-of will.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "$@"

golden="$SOURCE_DIR/sim/testdata"
export VIFWALL_SIM_HOST="$SEED_HOST"

# 1. Default vm-list: fields uuid, name-label, power-state; W = 4 + 17.
"$XE" vm-list >"$E2E_TMP/vm-list.actual"
assert_same_file "$golden/xen6.vm-list" "$E2E_TMP/vm-list.actual" "xe vm-list"

# 2. The seed notes' real output (NBSP-indented in the blog copy), for the
#    five VMs the notes know; xen6 replaces the notes' host name.
notes="$SOURCE_DIR/tests/data/seed/xenserver-cloudstack-notes.txt"
sed 's/\xc2\xa0/ /g' "$notes" |
  awk '/xe vm-list +power-state=running params=dom-id,name-label,uuid/ { keep = 1; next }
       /^VIF \(virtual interface\)/ { keep = 0 }
       keep' |
  sed 's/Rack1Pod1Host22/xen6/' >"$E2E_TMP/seed-vm-list.expected"
[ "$(grep -c '^uuid ( RO)' "$E2E_TMP/seed-vm-list.expected")" -eq 5 ] || fail "could not extract the seed's vm-list"
sed '/^vm i-2-5-VM /,/^ *vif /d' "$SEED_HOST" >"$E2E_TMP/five-vms.host"
VIFWALL_SIM_HOST="$E2E_TMP/five-vms.host" "$XE" vm-list power-state=running params=dom-id,name-label,uuid \
  >"$E2E_TMP/seed-vm-list.actual"
assert_same_file "$E2E_TMP/seed-vm-list.expected" "$E2E_TMP/seed-vm-list.actual" \
  "xe vm-list power-state=running params=dom-id,name-label,uuid against the seed notes"

# 3. Field order is xapi's record order whatever params= says; unknown names
#    in params= are ignored; filters select records.
assert_eq "uuid ( RO)          : 44b0e85e-00b4-73c0-6405-eacff81b8bbe
    name-label ( RW): i-2-3-VM
        dom-id ( RO): 7" \
  "$("$XE" vm-list name-label=i-2-3-VM params=dom-id,no-such-field,name-label,uuid)" "params= order and unknown names"
assert_eq "vm-uuid ( RO)    : 44b0e85e-00b4-73c0-6405-eacff81b8bbe
        MAC ( RO): 06:f8:c8:00:00:09" \
  "$("$XE" vif-list MAC=06:F8:C8:00:00:09 params=MAC,vm-uuid)" "vif-list, case-insensitive MAC filter"
assert_eq "xenbr1" "$("$XE" network-list --minimal params=bridge name-label='Pool-wide network associated with eth1')" \
  "network-list --minimal"
assert_eq "i-2-5-VM" "$("$XE" vm-list --minimal params=name-label networks:0/ip=10.147.41.240)" "map filter networks:0/ip"
"$XE" vif-list params=uuid,vm-uuid,device,MAC,network-uuid vm-name-label=i-2-3-VM >"$E2E_TMP/vif-list.actual"
assert_same_file "$golden/xen6.vif-list.i-2-3-VM" "$E2E_TMP/vif-list.actual" \
  "vif-list (stable VIF and network uuids)"

# 4. --minimal: first printed field of each record, \ and , escaped; nothing
#    matched prints one empty line.
cat >"$E2E_TMP/comma.host" <<'EOF'
bridge xenbr0 ip 10.1.1.1/24
vm plain uuid 11111111-2222-4333-8444-555555555555 domid 1 running user pv
vm "web,db\\1" uuid 22222222-2222-4333-8444-555555555555 domid 2 running user pv
  vif 0 bridge xenbr0 mac 06:00:00:00:00:01 ip 10.1.1.2/24
EOF
export VIFWALL_SIM_HOST="$E2E_TMP/comma.host"
assert_eq 'plain,web\,db\\1' "$("$XE" vm-list --minimal params=name-label)" "--minimal escaping"
assert_eq 'web\,db\\1' "$("$XE" vm-param-get --minimal uuid=22222222-2222-4333-8444-555555555555 param-name=name-label)" \
  "param-get --minimal escaping"
assert_eq 'web,db\1' "$("$XE" vm-param-get uuid=22222222-2222-4333-8444-555555555555 param-name=name-label)" \
  "param-get prints the raw value"
"$XE" vm-list --minimal name-label=nothing-matches >"$E2E_TMP/empty.actual"
printf '\n' >"$E2E_TMP/empty.expected"
assert_same_file "$E2E_TMP/empty.expected" "$E2E_TMP/empty.actual" "--minimal with no records"
export VIFWALL_SIM_HOST="$SEED_HOST"

# 5. vm-param-get, plain and with param-key; a missing key fails.
u=44b0e85e-00b4-73c0-6405-eacff81b8bbe
assert_eq 7 "$("$XE" vm-param-get uuid=$u param-name=dom-id)" "vm-param-get dom-id"
assert_eq "0/ip: 10.147.41.238; 0/ipv4/0: 10.147.41.238" "$("$XE" vm-param-get uuid=$u param-name=networks)" \
  "vm-param-get networks"
assert_eq 10.147.41.238 "$("$XE" vm-param-get uuid=$u param-name=networks param-key=0/ip)" "param-key 0/ip"
expect_failure() { # WHAT EXPECTED-STDERR-LINE COMMAND...
  local what=$1 line=$2 status=0
  shift 2
  "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err" || status=$?
  assert_eq 1 "$status" "$what: exit status"
  assert_eq "" "$(cat "$E2E_TMP/out")" "$what: stdout"
  grep -qxF -- "$line" "$E2E_TMP/err" || fail "$what: stderr lacks [$line]: $(cat "$E2E_TMP/err")"
}
expect_failure "missing map key" "message: Failure: Key 9/ip not found in map" \
  "$XE" vm-param-get uuid=$u param-name=networks param-key=9/ip
expect_failure "unknown uuid" "The uuid you supplied was invalid." "$XE" vm-param-get uuid=nope param-name=dom-id
expect_failure "missing param-name" "Required parameter not found: param-name" "$XE" vm-param-get uuid=$u

# 6. An unknown command and an unknown filter key fail like xe.
expect_failure "unknown command" "Unknown command: vm-frobnicate" "$XE" vm-frobnicate
assert_eq "For usage run: 'xe help'" "$(sed -n 2p "$E2E_TMP/err")" "unknown command: second line"
expect_failure "unknown filter" "message: Failure: Unknown field 'no-such-key'" "$XE" vm-list no-such-key=1

# 7. Inside a sim's dom0, `xe` is the stand-in and answers for that sim.
require_root
require_sim
unset VIFWALL_SIM_HOST
name=$(sim_up "$SEED_HOST")
"$SIM" dom0 "$name" -- xe vm-list >"$E2E_TMP/dom0-vm-list.actual"
assert_same_file "$golden/xen6.vm-list" "$E2E_TMP/dom0-vm-list.actual" "xe vm-list inside dom0"
records=$("$SIM" dom0 "$name" -- xe vm-list params=uuid,name-label,power-state,dom-id)
assert_eq 6 "$(grep -c '^ *dom-id ( RO): ' <<<"$records")" "vif-of's vm-list inside dom0"
echo "PASS: $TEST_NAME"
