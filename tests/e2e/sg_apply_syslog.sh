#!/usr/bin/env bash
# sg-apply leaves one syslog line for every run that fails or finds the lock
# busy (subcommand, VM, sig/seq, why), none for a dry run, and with no
# syslog socket it says so on stderr, with the line, instead of losing it.
# The socket is the test's own (syslog_listen).  The runs that change a
# firewall are in sg_apply_lifecycle.sh (root, the simulator).  Root is
# needed only for the lock-busy run, which goes into a network namespace of
# its own, so that not even a broken lock could reach the host's firewall.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
sg_apply=$BUILD_DIR/tools/sg-apply
export VIFWALL_STATE_DIR=$E2E_TMP/state VIFWALL_LOCK_FILE=$E2E_TMP/lock VIFWALL_EBTABLES_LOCK=$E2E_TMP/eblock
export VIFWALL_XE=$E2E_TMP/no-xe
mkdir -p "$VIFWALL_STATE_DIR"
A_MAC=06:f8:c8:00:00:09

syslog_listen
"$sg_apply" reapply --vm i-2-3-VM 2>"$E2E_TMP/err" && fail "reapply without a state file succeeded"
"$sg_apply" --dry-run reapply --vm i-2-3-VM 2>/dev/null && fail "a dry reapply without a state file succeeded"
"$sg_apply" rules --vm i-2-3-VM --vm-id 3 --ip 10.1.1.300 --mac "$A_MAC" --sig 0a1b --seq 7 --rules '' \
  --vif vif7.0 2>/dev/null && fail "rules with a bad --ip succeeded"
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
  spawn "$E2E_TMP/holder.pid" python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "a+"); fcntl.lockf(f, fcntl.LOCK_EX); open(sys.argv[2], "w").close(); time.sleep(60)
' "$VIFWALL_LOCK_FILE" "$E2E_TMP/locked"
  wait_until 10 test -e "$E2E_TMP/locked" || fail "the lock holder did not start"
  rc=0
  unshare -n "$sg_apply" --wait 0 destroy --vm i-2-5-VM 2>/dev/null || rc=$?
  assert_eq 75 "$rc" "destroy with the lock held"
  kill "$(cat "$E2E_TMP/holder.pid")"
  lock_busy=true
else
  lock_busy=false
  echo "(not root or no unshare: the lock-busy line is checked in CI)"
  [ "${CI:-}" != true ] || fail "CI=true must run the lock-busy case as root"
fi
syslog_lines >"$E2E_TMP/syslog.txt"
lines=$(cat "$E2E_TMP/syslog.txt")
echo "$lines"
assert_eq "" "$(grep warning "$E2E_TMP/err" || true)" "no warning while a syslog socket listens"
mapfile -t got <<<"$lines"
pid_re='sg-apply\[[0-9]+\]:'
[[ ${got[0]} =~ ^\<27\>$pid_re\ reapply\ vm=i-2-3-VM:\ failed\ \(exit\ 1\):\ $E2E_TMP/state/i-2-3-VM ]] ||
  fail "the failed reapply's line: ${got[0]}"
[[ ${got[1]} =~ ^\<27\>$pid_re\ rules\ vm=i-2-3-VM\ sig=0a1b\ seq=7:\ failed\ \(exit\ 2\):\ --ip:\ .*10\.1\.1\.300 ]] ||
  fail "the bad value's line (the dry run leaves none): ${got[1]}"
if $lock_busy; then
  [[ ${got[2]} =~ ^\<28\>$pid_re\ destroy\ vm=i-2-5-VM:\ lock\ busy:\ .*$E2E_TMP/lock ]] ||
    fail "the lock-busy line: ${got[2]}"
  assert_eq 3 "${#got[@]}" "one line per run that failed or found the lock busy"
else
  assert_eq 2 "${#got[@]}" "one line per run that failed"
fi

# No syslog socket: the line on stderr, once, saying why.
VIFWALL_SYSLOG_SOCKET=$E2E_TMP/no-such-socket "$sg_apply" reapply --vm i-2-3-VM 2>"$E2E_TMP/err" &&
  fail "reapply without a state file succeeded"
warnings=$(grep -c 'warning' "$E2E_TMP/err" || true)
assert_eq 1 "$warnings" "warnings without a syslog socket: $(cat "$E2E_TMP/err")"
assert_contains "$(cat "$E2E_TMP/err")" \
  "sg-apply: warning: no syslog line ($E2E_TMP/no-such-socket: cannot send to the syslog socket: No such file or directory); it says: reapply vm=i-2-3-VM: failed (exit 1): " \
  "the warning without a syslog socket"
echo "PASS: $TEST_NAME"
