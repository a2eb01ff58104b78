#!/usr/bin/env bash
# Leaks (issue 6): default / rules / secondary-ip / destroy cycles over the
# VMs of a generated host (200 cycles; 1000 and more with
# VIFWALL_RELIABILITY_SCALE) leave every table, set and the state directory
# exactly as before, and the memory of a run stays flat.  The driver is
# tests/reliability/leaks.py.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

"$SIM" generate --vms 40 --vifs 1 --seed 7 > "$E2E_TMP/host"
name=$(sim_up "$E2E_TMP/host")
reliability_driver "$name" leaks "$E2E_TMP/host" || fail "leaks (see above)"
echo "PASS: $TEST_NAME"
