#!/usr/bin/env bash
# Concurrency (issue 6): parallel sg-apply runs for many VMs of a generated
# host and for one VM end in the state of the same commands run one after
# the other; with the lock (or XAPI's ebtables lock) held elsewhere a run
# waits and succeeds, or after --wait exits 75 and changes nothing.  The
# driver is tests/reliability/concurrency.py.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

vms=$(awk -v s="${VIFWALL_RELIABILITY_SCALE:-1}" 'BEGIN { n = int(16 * s); if (n < 8) n = 8; if (n > 64) n = 64; print n }')
"$SIM" generate --vms "$vms" --vifs 1 --seed 6 > "$E2E_TMP/host"
name=$(sim_up "$E2E_TMP/host")
reliability_driver "$name" concurrency "$E2E_TMP/host" || fail "concurrency (see above)"
echo "PASS: $TEST_NAME"
