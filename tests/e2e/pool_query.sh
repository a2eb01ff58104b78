#!/usr/bin/env bash
# vif-of --pool and sg-diff --pool in a simulated two-member pool: the
# selection reaches every member through `xe host-call-plugin` and the
# vifwall plugin, answers come back with their member (HOST column, "host"
# and "hostname" in JSON); a member that is down is named, the other still
# answers, and the exit status (3) says the answer is partial.  Only the
# pool's own namespaces are touched, never the root namespace's firewall.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
export LC_ALL=C

H1=$SOURCE_DIR/sim/testdata/pool-h1.host
H2=$SOURCE_DIR/sim/testdata/pool-h2.host
A=6a1f3c2e-8d4b-4e5a-9c7d-1b2e3f4a5b61 # xenpool1's uuid
B=7b2a4d3f-9e5c-4f6b-8d8e-2c3f4a5b6c72 # xenpool2's uuid
TOOLS=$BUILD_DIR/tools
[ -x "$TOOLS/vif-of" ] && [ -x "$TOOLS/sg-diff" ] || fail "no built vif-of and sg-diff in $TOOLS"

require_root
require_sim
export VIFWALL_SIM_PLUGIN_DIR=$E2E_TMP/plugins
mkdir -p "$VIFWALL_SIM_PLUGIN_DIR"
ln -s "$SOURCE_DIR/xapi/vifwall" "$VIFWALL_SIM_PLUGIN_DIR/vifwall"
pool=vwpq$$ # taken down at the end, and by e2e_init's EXIT trap ("$SIM" down --all) on a failure
assert_eq "$pool" "$("$SIM" pool-up --name "$pool" "$H1" "$H2")" "pool-up"

# run [--host hN] TOOL ARGS...: TOOL in a member's dom0 (h1 by default);
# stdout, stderr and the exit status in $E2E_TMP/{out,err} and $status.
run() {
  local host=h1
  if [ "$1" = --host ]; then host=$2; shift 2; fi
  local tool=$1
  shift
  status=0
  "$SIM" dom0 "$pool" --host "$host" -- env VIFWALL_BIN_DIR="$TOOLS" "$TOOLS/$tool" "$@" \
    >"$E2E_TMP/out" 2>"$E2E_TMP/err" || status=$?
}
out() { cat "$E2E_TMP/out"; }
err() { cat "$E2E_TMP/err"; }
# rows: HOST VM DOM IFACE of the table, header left out.
rows() { out | awk 'NR > 1 { print $1, $2, $3, $4 }'; }

# 1. A VM by name: found on h1 only (h2 says it runs elsewhere: normal).
run vif-of --pool i-2-3-VM
assert_eq 0 "$status" "vif-of --pool i-2-3-VM: exit status ($(err))"
assert_eq "HOST" "$(out | awk 'NR == 1 { print $1 }')" "the HOST column comes first"
assert_eq "xenpool1 i-2-3-VM 7 vif7.0" "$(rows)" "i-2-3-VM on xenpool1"
assert_eq "" "$(err)" "no message when a member does not have the VM"
#    Asked from h2: the same answer.
run --host h2 vif-of --pool i-2-3-VM
assert_eq "xenpool1 i-2-3-VM 7 vif7.0" "$(rows)" "i-2-3-VM, asked from xenpool2"

# 2. dom-id 7 is on both members: both answer, each with its host.
run vif-of --pool --domid 7
assert_eq 0 "$status" "vif-of --pool --domid 7"
assert_eq "xenpool1 i-2-3-VM 7 vif7.0
xenpool2 i-3-7-VM 7 vif7.0
xenpool2 i-3-7-VM 7 tap7.0" "$(rows)" "dom-id 7 on both members"

# 3. JSON: every VM with its member's uuid and name, and the members.
run vif-of --pool --domid 7 --json
assert_eq 0 "$status" "vif-of --pool --domid 7 --json"
python3 - "$E2E_TMP/out" "$A" "$B" <<'PY' || fail "vif-of --pool --json"
import json, sys
doc = json.load(open(sys.argv[1])); a, b = sys.argv[2], sys.argv[3]
got = [(vm["host"], vm["hostname"], vm["name_label"], vm["dom_id"], [v["name"] for v in vm["vifs"]]) for vm in doc["vms"]]
assert got == [(a, "xenpool1", "i-2-3-VM", 7, ["vif7.0"]), (b, "xenpool2", "i-3-7-VM", 7, ["vif7.0", "tap7.0"])], got
assert doc["orphans"] == [], doc["orphans"]
assert doc["hosts"] == [{"host": a, "hostname": "xenpool1", "answered": True, "exit": 0},
                        {"host": b, "hostname": "xenpool2", "answered": True, "exit": 0}], doc["hosts"]
PY
#    A halted VM every member lists is shown once, on no host.
run vif-of --pool --all --json
assert_eq 0 "$status" "vif-of --pool --all --json"
# The pool's JSON is vif-of's documented schema too (docs/vif-of.schema.json).
cp "$E2E_TMP/out" "$E2E_TMP/pool.json"
for py in /usr/bin/python3 python3 ""; do
  [ -n "$py" ] || fail "no python3 with jsonschema (scripts/install-deps installs python3-jsonschema)"
  "$py" -c 'import jsonschema' 2>/dev/null && break
done
"$py" "$SOURCE_DIR/tests/e2e/check_vif_json.py" "$SOURCE_DIR/docs/vif-of.schema.json" "$E2E_TMP/pool.json" ||
  fail "vif-of --pool --json does not match the schema"
python3 - "$E2E_TMP/out" <<'PY' || fail "vif-of --pool --all --json"
import json, sys
doc = json.load(open(sys.argv[1]))
halted = [vm for vm in doc["vms"] if vm["name_label"] == "i-2-11-VM"]
assert len(halted) == 1 and halted[0]["host"] is None, halted
assert sorted(vm["name_label"] for vm in doc["vms"] if vm["host"]) == [
    "Control domain on host: xenpool1", "Control domain on host: xenpool2", "i-2-3-VM", "i-2-5-VM", "i-3-7-VM"]
PY

# 4. Nothing anywhere: exit 1, said once for the pool.
run vif-of --pool no-such-vm
assert_eq 1 "$status" "a VM on no member"
assert_eq "vif-of: error: no VM with name-label, uuid or uuid prefix \"no-such-vm\" on any pool member" "$(err)" \
  "not found on any member"
#    A bad value is refused before any member is asked.
run vif-of --pool --iface '-rf'
assert_eq 2 "$status" "a bad interface name"

# 5. sg-diff --pool --json: every member's comparison.
run sg-diff --pool --json
assert_eq 1 "$status" "sg-diff --pool --json: the VMs are unprotected ($(err))"
python3 - "$E2E_TMP/out" "$A" "$B" <<'PY' || fail "sg-diff --pool --json"
import json, sys
doc = json.load(open(sys.argv[1])); a, b = sys.argv[2], sys.argv[3]
assert doc["differ"] is True and doc["partial"] is False, doc
assert [(h["host"], h["hostname"], h["answered"], h["exit"]) for h in doc["hosts"]] == [
    (a, "xenpool1", True, 1), (b, "xenpool2", True, 1)], doc["hosts"]
names = [[vm["name"] for vm in h["output"]["vms"]] for h in doc["hosts"]]
assert names == [["i-2-3-VM", "i-2-5-VM"], ["i-3-7-VM"]], names
PY
run sg-diff --pool --summary
assert_eq 1 "$status" "sg-diff --pool --summary"
assert_contains "$(out)" "xenpool2: sg-diff: 1 VM differs (i-3-7-VM: unprotected)" "h2's summary line"
assert_eq 2 "$(out | wc -l)" "one summary line per member"

# 6. h2 down: h1 still answers, h2 is named, the exit status is 3 (partial).
"$SIM" pool-member-down "$pool" h2
run vif-of --pool --domid 7
assert_eq 3 "$status" "vif-of --pool with a member down"
assert_eq "xenpool1 i-2-3-VM 7 vif7.0" "$(rows)" "h1 still answers"
assert_contains "$(err)" "vif-of: warning: pool member xenpool2 ($B) did not answer" "the warning names h2"
run vif-of --pool --domid 7 --json
assert_eq 3 "$status" "vif-of --pool --json with a member down"
python3 - "$E2E_TMP/out" "$B" <<'PY' || fail "vif-of --pool --json, h2 down"
import json, sys
doc = json.load(open(sys.argv[1]))
assert [vm["hostname"] for vm in doc["vms"]] == ["xenpool1"], doc["vms"]
down = [h for h in doc["hosts"] if not h["answered"]]
assert len(down) == 1 and down[0]["host"] == sys.argv[2] and down[0]["hostname"] == "xenpool2", down
assert down[0]["error"], down
PY
run sg-diff --pool --json
assert_eq 3 "$status" "sg-diff --pool --json with a member down"
python3 - "$E2E_TMP/out" "$B" <<'PY' || fail "sg-diff --pool --json, h2 down"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["partial"] is True, doc
h1, h2 = doc["hosts"]
assert h1["answered"] and h1["output"]["differ"] is True, h1
assert h2["host"] == sys.argv[2] and not h2["answered"] and h2["error"] and h2["output"] is None, h2
PY
assert_contains "$(err)" "sg-diff: warning: pool member xenpool2 ($B) did not answer" "sg-diff names h2"

# 7. h2 back, but no plugin anywhere: every member is reported, exit 3.
"$SIM" pool-member-up "$pool" h2
rm "$VIFWALL_SIM_PLUGIN_DIR/vifwall"
run vif-of --pool --domid 7
assert_eq 3 "$status" "no plugin on any member"
assert_contains "$(err)" "pool member xenpool1 ($A) did not answer: xe host-call-plugin failed" "h1's failure"
assert_contains "$(err)" "could not be found" "xe's reason"

"$SIM" down "$pool"
echo "PASS: $TEST_NAME"
