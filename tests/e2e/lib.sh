# shellcheck shell=bash
# Shared helpers for the end-to-end tests in tests/e2e/.
#
# CMake runs every test as `bash SCRIPT BUILD_DIR SOURCE_DIR`; exit 0 passes,
# 77 skips, anything else fails.  Every test starts with
#
#   # shellcheck source-path=SCRIPTDIR source=lib.sh
#   . "$(dirname "$0")/lib.sh"
#   e2e_init --root --sim "$@"   # or just e2e_init "$@" when it needs neither
#
# --root skips (77) when not root, --sim when the simulator's prerequisites
# are missing; under CI=true either skip is a failure instead (see skip).
# e2e_init gives the test a private sim state directory and scratch
# directory ($E2E_TMP) and installs a trap that runs `sim down --all` on it
# when the test ends for any reason (pass, failure, `set -e` abort,
# SIGINT/SIGTERM/SIGHUP), so no namespace survives a test.  If a run was
# SIGKILLed (no trap can run then), the next run of the same test in the
# same build directory removes its leftovers first.

set -euo pipefail

# e2e_init [--root] [--sim] BUILD_DIR SOURCE_DIR: sets BUILD_DIR SOURCE_DIR
# SIM XE SEED_HOST TEST_NAME E2E_TMP, exports VIFWALL_SIM_DIR, installs the
# cleanup trap, then checks what the options ask for (require_root,
# require_sim), in that order.
e2e_init() {
  local needs_root=false needs_sim=false
  while [ $# -gt 0 ]; do
    case $1 in
      --root) needs_root=true ;;
      --sim) needs_sim=true ;;
      --*) echo "e2e_init: unknown option $1" >&2; exit 2 ;;
      *) break ;;
    esac
    shift
  done
  if [ $# -lt 2 ]; then
    echo "usage: bash $0 BUILD_DIR SOURCE_DIR" >&2
    exit 2
  fi
  mkdir -p "$1"
  BUILD_DIR=$(cd "$1" && pwd)
  SOURCE_DIR=$(cd "$2" && pwd)
  SIM="$SOURCE_DIR/sim/sim"
  # shellcheck disable=SC2034  # used by the tests that source this file
  XE="$SOURCE_DIR/sim/xe"
  # shellcheck disable=SC2034
  SEED_HOST="$SOURCE_DIR/examples/hosts/xen6.host"
  TEST_NAME=$(basename "$0" .sh)
  E2E_TMP="$BUILD_DIR/e2e/$TEST_NAME"
  export VIFWALL_SIM_DIR="$E2E_TMP/sims"
  # Leftovers of a SIGKILLed earlier run of this test.
  if [ -d "$VIFWALL_SIM_DIR" ] && [ "$(id -u)" -eq 0 ]; then
    "$SIM" down --all || true
  fi
  rm -rf "$E2E_TMP"
  mkdir -p "$E2E_TMP"
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  if $needs_root; then require_root; fi
  if $needs_sim; then require_sim; fi
}

# The EXIT trap: kills the test's background jobs, takes every sim of the
# test down, removes the scratch directory, keeps the exit status.
e2e_cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  local pids
  pids=$(jobs -p)
  if [ -n "$pids" ]; then
    disown -a # no "Killed" notices for jobs killed on purpose
    # shellcheck disable=SC2086  # one pid per word
    kill -9 $pids 2>/dev/null || true
  fi
  if [ -d "${VIFWALL_SIM_DIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
    if ! "$SIM" down --all; then
      echo "cleanup: sim down --all reported problems" >&2
      [ "$status" -ne 0 ] || status=1
    fi
  fi
  if [ "$status" -eq 0 ] || [ "$status" -eq 77 ]; then
    rm -rf "${E2E_TMP:?}"
  else
    echo "(scratch files kept in $E2E_TMP)" >&2
  fi
  exit "$status"
}

# skip REASON: exit 77, or fail when CI=true (CI must never go green by skipping).
skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAILED: $* -- CI=true turns this skip into a failure" >&2
    exit 1
  fi
  echo "SKIPPED: $*"
  exit 77
}

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    skip "needs root (run as root or in CI)"
  fi
}

# Skips (or fails under CI) unless `sim check` passes; prints what is missing.
require_sim() {
  local report
  if ! report=$("$SIM" check 2>&1); then
    echo "$report" >&2
    skip "the simulator's prerequisites are missing (see above)"
  fi
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
  if [ "$1" != "$2" ]; then
    fail "$3: expected [$1], got [$2]"
  fi
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
  case "$1" in
    *"$2"*) ;;
    *) fail "$3: [$2] not found in: $1" ;;
  esac
}

# assert_same_file EXPECTED_FILE ACTUAL_FILE WHAT: byte-for-byte, with a diff.
assert_same_file() {
  if ! cmp -s "$1" "$2"; then
    diff -u "$1" "$2" | cat -A | head -60 >&2 || true
    fail "$3: $2 differs from $1"
  fi
}

# sg_apply_in SIM ARGS...: the built sg-apply in SIM's dom0, with the test's
# own state directory and locks (never the host's /var/run/cloud or /var/lock).
sg_apply_in() {
  local sim=$1
  shift
  "$SIM" dom0 "$sim" -- env VIFWALL_STATE_DIR="$E2E_TMP/state" VIFWALL_LOCK_FILE="$E2E_TMP/lock" \
    VIFWALL_EBTABLES_LOCK="$E2E_TMP/eblock" VIFWALL_SYSLOG_SOCKET="${VIFWALL_SYSLOG_SOCKET:-}" \
    "$BUILD_DIR/tools/sg-apply" "$@"
}

# syslog_listen: a syslog socket of the test's own (a unix datagram socket
# bound by a Python receiver), exported as $VIFWALL_SYSLOG_SOCKET, so that
# sg-apply's syslog lines can be read back with syslog_lines.  Returns once
# the socket is bound.
syslog_listen() {
  SYSLOG_DIR=$E2E_TMP/syslog
  mkdir -p "$SYSLOG_DIR"
  mkfifo "$SYSLOG_DIR/ready"
  python3 -c '
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
open(sys.argv[2], "w").close()  # opening the fifo for writing releases the reader
sock.settimeout(600)
with open(sys.argv[3], "w") as out:
    while True:
        line = sock.recv(65536).decode("utf-8", "replace")
        if line == "END":
            break
        out.write(line + "\n")
' "$SYSLOG_DIR/log" "$SYSLOG_DIR/ready" "$SYSLOG_DIR/lines" &
  SYSLOG_PID=$!
  timeout 20 sh -c 'read -r _ <"$1"' _ "$SYSLOG_DIR/ready" || true
  [ -S "$SYSLOG_DIR/log" ] || fail "the syslog receiver did not bind $SYSLOG_DIR/log"
  export VIFWALL_SYSLOG_SOCKET=$SYSLOG_DIR/log
}

# syslog_lines: every line received since syslog_listen, in order, without
# the date (the priority stays: "<27>sg-apply[PID]: ..."); stops the
# receiver.  Not in $(...): the receiver is a child of the test's shell, so
# redirect it instead (syslog_lines >FILE).
syslog_lines() {
  python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"END", sys.argv[1])' "$SYSLOG_DIR/log"
  wait "$SYSLOG_PID" || fail "the syslog receiver failed"
  sed -E 's/^(<[0-9]+>)[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} /\1/' "$SYSLOG_DIR/lines"
}

# reliability_driver SIM DRIVER [ARGS...]: tests/reliability/DRIVER.py run
# inside SIM's dom0 namespace directly (without `sim dom0`'s overhead), with
# the built sg-apply and the test's scratch directory as its first arguments.
reliability_driver() {
  local sim=$1 driver=$2
  shift 2
  ip netns exec "$sim-dom0" python3 "$SOURCE_DIR/tests/reliability/$driver.py" \
    "$BUILD_DIR/tools/sg-apply" "$E2E_TMP" "$@"
}

# sim_up HOSTFILE [up options]: prints the new sim's name.
sim_up() {
  "$SIM" up "$@"
}

# The namespaces that exist now and belong to sim NAME (NAME-dom0, NAME-out,
# NAME-g<domid>), one per line.  Reads /run/netns directly: `ip netns list`
# complains about namespaces that are being created at that moment.
sim_namespaces() {
  local entry
  for entry in /run/netns/"$1"-*; do
    [ -e "$entry" ] || continue
    entry=${entry#/run/netns/}
    case "${entry#"$1"-}" in
      dom0 | out | g[0-9]*) echo "$entry" ;;
    esac
  done
}

# assert_sim_gone NAME: no namespace, no state directory left.
assert_sim_gone() {
  local left
  left=$(sim_namespaces "$1")
  [ -z "$left" ] || fail "namespaces of sim $1 left behind: $left"
  [ ! -e "$VIFWALL_SIM_DIR/$1" ] || fail "state directory of sim $1 left behind"
}

# netns_has_processes NS: true when some process lives in namespace NS.
netns_has_processes() {
  [ -n "$(ip netns pids "$1" 2>/dev/null)" ]
}

# spawn PIDFILE COMMAND...: starts COMMAND in the background and writes its
# pid to PIDFILE.  The tests kill such processes on purpose, so the wrapper
# subshell swallows bash's "Killed" job notice (COMMAND's stderr stays).
spawn() {
  local pidfile=$1
  shift
  rm -f "$pidfile"
  (
    "$@" 2>&3 &
    echo $! >"$pidfile"
    wait $! || true
  ) 3>&2 2>/dev/null &
  wait_until 5 test -s "$pidfile" || fail "could not start $*"
}

# wait_until TIMEOUT_SECONDS COMMAND...: polls COMMAND every 0.05 s.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# Run directly (`bash tests/e2e/lib.sh`; CMake leaves it out of the tests), it
# checks its own rules: a skip is exit 77, but a failure under CI=true.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  status=0
  (CI='' skip "self-test") >/dev/null || status=$?
  [ "$status" -eq 77 ] || { echo "FAIL: skip exits $status, expected 77" >&2; exit 1; }
  status=0
  (CI=true skip "self-test") 2>/dev/null || status=$?
  [ "$status" -eq 1 ] || { echo "FAIL: skip under CI=true exits $status, expected 1" >&2; exit 1; }
  status=0
  (assert_eq a b "self-test") 2>/dev/null || status=$?
  [ "$status" -eq 1 ] || { echo "FAIL: assert_eq a b exits $status, expected 1" >&2; exit 1; }
  (assert_contains "vif7.0 master xenbr0" "master xenbr0" "self-test") || exit 1
  status=0
  (e2e_init --bogus a b) 2>/dev/null || status=$?
  [ "$status" -eq 2 ] || { echo "FAIL: e2e_init --bogus exits $status, expected 2" >&2; exit 1; }
  echo "PASS: lib.sh self-test"
fi
