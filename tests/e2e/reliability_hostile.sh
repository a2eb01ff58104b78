#!/usr/bin/env bash
# Hostile values (issue 6): at least 100 values for every sg-apply argument
# that reaches a command or a file -- names with blanks, quotes, ';', '$(...)',
# '-j ACCEPT', newlines, control characters, overlong; malformed and
# out-of-range addresses, CIDRs, MACs, ports, protocols; interface names like
# '../x'; rule strings truncated at every position or carrying extra rules; a
# --deflated payload that is not zlib, corrupted byte by byte, or a zip bomb;
# rules files with garbage; state directories and lock files that cannot be
# used.  Each must end in a clear error and a non-zero exit, and every table,
# set and the state directory must be byte-identical afterwards.  The driver
# is tests/reliability/hostile.py (it runs inside the simulated dom0).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
reliability_driver "$name" hostile || fail "hostile values (see above)"
echo "PASS: $TEST_NAME"
