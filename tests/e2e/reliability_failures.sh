#!/usr/bin/env bash
# Failures (issue 6): a restore refused by the kernel (iptables-restore,
# ipset, ebtables-restore first or when lifting the cut-off, arptables
# mid-way), a tool that hangs past --timeout, missing tools, a full or
# read-only state directory, a state file that cannot be replaced.  Each run
# exits 1 with a message naming what failed, and the tables, sets and state
# files are as before.  The driver is tests/reliability/failures.py.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"
command -v unshare >/dev/null || skip "unshare is missing (package util-linux)"

name=$(sim_up "$SEED_HOST")
reliability_driver "$name" failures || fail "failures (see above)"
echo "PASS: $TEST_NAME"
