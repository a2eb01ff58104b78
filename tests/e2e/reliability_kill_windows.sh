#!/usr/bin/env bash
# Kills at chosen moments (issue 6): the windows that random SIGKILLs hit
# only sometimes, hit every time -- a `destroy` killed before it lifts the
# VM's cut-off, a `rules` run killed between writing VM.log and VM.state, and
# a run killed while ebtables-restore is still reading a table larger than a
# pipe holds.  The driver is tests/reliability/kill_windows.py.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"
command -v strace >/dev/null || skip "strace is missing (package strace)"

name=$(sim_up "$SEED_HOST")
reliability_driver "$name" kill_windows || fail "kills at chosen moments (see above)"
echo "PASS: $TEST_NAME"
