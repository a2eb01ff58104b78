#!/usr/bin/env bash
# Nothing leaks: a test process SIGKILLed while holding a sim (with processes
# running inside it), `sim up` itself SIGKILLed midway, `up` failing on a bad
# host file or at any build step, and a test using lib.sh that fails or is
# interrupted -- afterwards no namespace, process or state is left.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

# No live process mentions the sim (zombies of killed processes don't count:
# they hold no namespace, and PID 1 of a container may never reap them).
assert_no_process_mentions() {
  local found
  found=$(ps -eo stat=,pid=,args= | awk -v name="$1" '$1 !~ /^Z/ && index($0, name) && !/awk -v name/')
  [ -z "$found" ] || fail "processes of $1 left: $found"
}

# 1. A holder that ran `sim up`, started processes inside, then got SIGKILLed.
cat >"$E2E_TMP/holder.sh" <<'EOF'
"$1" up "$2" >"$3.tmp" && mv "$3.tmp" "$3"
name=$(cat "$3")
"$1" guest "$name" i-2-3-VM -- sleep 300 &
"$1" dom0 "$name" -- sleep 300 &
exec sleep 300
EOF
spawn "$E2E_TMP/holder.pid" bash "$E2E_TMP/holder.sh" "$SIM" "$SEED_HOST" "$E2E_TMP/holder.name"
wait_until 10 test -s "$E2E_TMP/holder.name" || fail "the holder did not bring its sim up"
held=$(cat "$E2E_TMP/holder.name")
wait_until 5 netns_has_processes "$held-g7" || fail "no process inside the guest"
wait_until 5 netns_has_processes "$held-dom0" || fail "no process inside dom0"
kill -9 "$(cat "$E2E_TMP/holder.pid")"
"$SIM" down --all
assert_sim_gone "$held"
assert_no_process_mentions "$held"

# 2. `sim up` itself SIGKILLed midway, on a host big enough to take a while.
"$SIM" generate --vms 60 --vifs 2 --seed 7 >"$E2E_TMP/big.host"
midway=vwleak$$
spawn "$E2E_TMP/up.pid" "$SIM" up --name "$midway" "$E2E_TMP/big.host"
wait_until 10 test -e "/run/netns/$midway-dom0" || fail "sim up made no namespace"
kill -9 "$(cat "$E2E_TMP/up.pid")"
complete=$(grep -c '"complete": true' "$VIFWALL_SIM_DIR/$midway/state.json" || true)
echo "(sim up killed with complete=$complete)"
"$SIM" down --all
assert_sim_gone "$midway"
assert_no_process_mentions "$midway"

# 3. `up` refuses a bad host file before building anything.
printf 'bridge xenbr0\nvm a uuid 11111111-2222-4333-8444-555555555555 domid 1 running user pv\n  vif 0 bridge xenbr9 mac 06:00:00:00:00:01\n' \
  >"$E2E_TMP/bad.host"
status=0
"$SIM" up --name vwbad$$ "$E2E_TMP/bad.host" 2>"$E2E_TMP/bad.err" || status=$?
assert_eq 1 "$status" "sim up of a bad host file: exit status"
assert_contains "$(cat "$E2E_TMP/bad.err")" "bad.host:3: unknown bridge 'xenbr9'" "sim up of a bad host file: message"
assert_sim_gone vwbad$$

# 4. `up` failing at any build step removes what it built.
for step in namespaces dom0 outside guests sysctl; do
  status=0
  VIFWALL_SIM_FAIL_AT=$step "$SIM" up --name "vwfail$$" "$SEED_HOST" 2>"$E2E_TMP/fail.err" || status=$?
  assert_eq 1 "$status" "sim up failing at $step: exit status"
  assert_contains "$(cat "$E2E_TMP/fail.err")" "up failed, cleaned up: injected failure at step $step" "failing at $step"
  assert_sim_gone "vwfail$$"
done

# 5. lib.sh's trap takes the sims of a failing or interrupted test down.
cat >"$E2E_TMP/failing_test.sh" <<'EOF'
. "$LIB"
e2e_init "$@"
name=$(sim_up "$SEED_HOST")
echo "$name" >"$NAME_FILE"
if [ "$MODE" = fail ]; then
  false   # set -e aborts the test here
fi
sleep 300 &
wait
EOF
for mode in fail interrupt; do
  rm -f "$E2E_TMP/child.name"
  export LIB="$SOURCE_DIR/tests/e2e/lib.sh" NAME_FILE="$E2E_TMP/child.name" MODE=$mode
  child_build="$E2E_TMP/child-build"
  if [ $mode = fail ]; then
    status=0
    bash "$E2E_TMP/failing_test.sh" "$child_build" "$SOURCE_DIR" || status=$?
    assert_eq 1 "$status" "a failing test's exit status"
  else
    spawn "$E2E_TMP/child.pid" bash "$E2E_TMP/failing_test.sh" "$child_build" "$SOURCE_DIR"
    wait_until 10 test -s "$E2E_TMP/child.name" || fail "the child test did not bring its sim up"
    child=$(cat "$E2E_TMP/child.pid")
    kill -TERM "$child"
    wait_until 10 sh -c "! kill -0 $child 2>/dev/null" || fail "the interrupted test did not exit"
  fi
  child_name=$(cat "$E2E_TMP/child.name")
  VIFWALL_SIM_DIR="$child_build/e2e/failing_test/sims" assert_sim_gone "$child_name"
  assert_no_process_mentions "$child_name"
done
echo "PASS: $TEST_NAME"
