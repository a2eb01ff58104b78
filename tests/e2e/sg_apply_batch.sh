#!/usr/bin/env bash
# sg-apply batch: many VMs in one change (one load per table), checked
# before anything is applied, and idempotent.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
sg() { sg_apply_in "$name" "$@"; }
dump() {
  "$SIM" dom0 "$name" -- sh -c 'iptables-save -t filter | grep -v "^#" | sed "s/\[[0-9]*:[0-9]*\]//";
    ebtables -t filter -L; arptables-legacy -n -L; ipset save | sort'
}
sg setup
cat > "$E2E_TMP/host.batch" <<'BATCH'
# The seed host after a reboot of dom0: every VM at once.
systemvm --vm r-4-VM --vif vif6.0 --vif vif6.1
systemvm --vm s-1-VM --vif vif4.0 --vif vif4.1 --vif vif4.2 --vif vif4.3
default --vm i-2-3-VM --vm-id 3 --ip 10.147.41.238 --mac 06:f8:c8:00:00:09 --vif vif7.0
rules --vm i-2-3-VM --vm-id 3 --ip 10.147.41.238 --mac 06:f8:c8:00:00:09 --vif vif7.0 \
      --sig 1 --seq 1 --rules 'I:tcp;22;22;10.147.41.240/32,NEXT '
default --vm i-2-5-VM --vm-id 5 --ip 10.147.41.240 --mac 06:f8:c8:00:00:0b --vif vif8.0 --vif tap8.0
BATCH
assert_contains "$(sg batch "$E2E_TMP/host.batch" 2>&1 || true)" "appears twice" "a VM twice in one batch"
# One VM per batch line: fold the rules into the batch without the separate default.
sed -i '/^default --vm i-2-3-VM/d' "$E2E_TMP/host.batch"
dump > "$E2E_TMP/empty"

# Exactly one load per table for the whole host.  (LeakSanitizer cannot run
# under ptrace: off for this one run of a sanitized build.)
"$SIM" dom0 "$name" -- strace -f -qq -e trace=execve -o "$E2E_TMP/trace" \
  env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" VIFWALL_STATE_DIR="$E2E_TMP/state" VIFWALL_LOCK_FILE="$E2E_TMP/lock" \
  VIFWALL_EBTABLES_LOCK="$E2E_TMP/eblock" "$BUILD_DIR/tools/sg-apply" --arp-filter ebtables batch "$E2E_TMP/host.batch"
loads=$(grep -c 'execve(".*iptables[^"]*-restore"' "$E2E_TMP/trace" || true)
assert_eq 1 "$loads" "iptables-restore runs for a whole-host batch"
eb_loads=$(grep -c 'execve(".*ebtables[^"]*-restore"' "$E2E_TMP/trace" || true)
[ "$eb_loads" -le 2 ] || fail "ebtables-restore ran $eb_loads times (at most 2: the cut-off and its lifting)"

for vm in i-2-3-VM i-2-5-VM r-4-VM s-1-VM; do
  [ -e "$E2E_TMP/state/$vm.state" ] || fail "batch wrote no state for $vm"
done
ok=$("$SIM" guest "$name" i-2-5-VM -- python3 -c '
import socket; s = socket.socket(); s.settimeout(1)
try: s.connect(("10.147.41.238", 22)); print("open")
except ConnectionRefusedError: print("open")
except OSError: print("closed")')
assert_eq open "$ok" "tcp 22 from i-2-5-VM to i-2-3-VM after the batch"

out=$(sg -v --arp-filter ebtables batch "$E2E_TMP/host.batch")
assert_eq "nothing to change" "$out" "the same batch again"

# A bad line anywhere: nothing is applied, and the error names file and line.
dump > "$E2E_TMP/before-bad"
printf 'destroy --vm i-2-5-VM\ndefault --vm i-9-9-VM --vm-id 9 --ip 10.147.41.999 --mac 06:f8:c8:00:00:99 --vif vif9.0\n' \
  > "$E2E_TMP/bad.batch"
set +e
sg --arp-filter ebtables batch "$E2E_TMP/bad.batch" 2> "$E2E_TMP/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a batch with a bad line succeeded"
assert_contains "$(cat "$E2E_TMP/err")" "bad.batch:2: " "error location"
assert_contains "$(cat "$E2E_TMP/err")" "10.147.41.999" "error value"
assert_same_file "$E2E_TMP/before-bad" <(dump) "tables after a batch with a bad line"

# A batch of destroys takes the host back to where it was.
printf 'destroy --vm %s\n' i-2-3-VM i-2-5-VM r-4-VM s-1-VM > "$E2E_TMP/down.batch"
sg --arp-filter ebtables batch "$E2E_TMP/down.batch"
assert_same_file "$E2E_TMP/empty" <(dump) "tables after destroying every VM in one batch"
echo "PASS: $TEST_NAME"
