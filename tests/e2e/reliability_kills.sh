#!/usr/bin/env bash
# Kills (issue 6): on the simulated seed dom0, SIGKILL sg-apply at random
# moments of `default`, `rules` and `destroy` (240 times; more with
# VIFWALL_RELIABILITY_SCALE).  After every kill no packet passes that neither
# the old nor the new policy lets through (real TCP probes between guests and
# the LAN, and the tables read back: old, new, or the VM cut off), the
# bystander VM is untouched, and the next run converges to the new policy.
# The driver is tests/reliability/kills.py (it runs inside the sim's dom0).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
# A's own extra addresses: one it may never use, one that becomes its
# secondary IP in some states.
"$SIM" guest "$name" i-2-3-VM -- ip addr add 10.147.41.250/32 dev eth0
"$SIM" guest "$name" i-2-3-VM -- ip addr add 10.147.41.241/32 dev eth0
reliability_driver "$name" kills "$name" || fail "kills (see above)"
echo "PASS: $TEST_NAME"
