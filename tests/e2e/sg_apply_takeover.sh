#!/usr/bin/env bash
# Taking over a host CloudStack's own vmops plugin programmed (issue 14): on
# a simulated dom0 programmed the way vmops does (sim/vmops_emulator.py, its
# leftovers included), sg-show and sg-diff describe it, `sg-apply takeover`
# converts it while real packets probe that nothing opens at any moment,
# and afterwards the same packets pass, no leftover is left, and CloudStack's
# logs are unchanged.  The driver is tests/reliability/takeover.py; it runs
# in the sim's dom0 through `sim dom0`, so the stand-in xe answers.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SOURCE_DIR/sim/testdata/vmops.host")
"$SIM" dom0 "$name" -- python3 "$SOURCE_DIR/tests/reliability/takeover.py" \
  "$BUILD_DIR/tools/sg-apply" "$E2E_TMP" "$name" "$SOURCE_DIR" || fail "takeover (see above)"
echo "PASS: $TEST_NAME"
