#!/usr/bin/env bash
# Two sims of the same host run side by side: different namespace names, the
# same interface names inside, both pass traffic, and taking one down leaves
# the other intact.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

first=$(sim_up "$SEED_HOST")
second=$(sim_up "$SEED_HOST")
[ "$first" != "$second" ] || fail "both sims are named $first"

both=$(printf '%s\n' "$first" "$second" | sort)
assert_eq "$both" "$("$SIM" list | cut -f1 | sort)" "sim list shows both sims"

pings() {
  "$SIM" guest "$1" i-2-3-VM -- ping -n -c 1 -W 2 10.147.41.240 >/dev/null &&
    "$SIM" guest "$1" i-2-5-VM -- ping -n -c 1 -W 2 10.147.41.238 >/dev/null
}
for sim in "$first" "$second"; do
  pings "$sim" || fail "guests of $sim cannot ping each other"
  # Same names inside each namespace, each sim with its own xe view.
  assert_contains "$(ip -n "$sim-dom0" -o link show dev vif7.0)" "master xenbr0" "vif7.0 in $sim"
  assert_eq "$VIFWALL_SIM_DIR/$sim/host" "$("$SIM" dom0 "$sim" -- printenv VIFWALL_SIM_HOST)" "xe's host file in $sim"
done

namespaces_before=$(sim_namespaces "$second")
"$SIM" down "$first"
assert_sim_gone "$first"
assert_eq "$namespaces_before" "$(sim_namespaces "$second")" "namespaces of $second after taking $first down"
pings "$second" || fail "guests of $second cannot ping each other after $first went down"
assert_contains "$("$SIM" dom0 "$second" -- brctl show)" "vif7.0" "brctl show in $second"
assert_eq "$second" "$("$SIM" list | cut -f1)" "sim list after taking $first down"

"$SIM" down "$second"
assert_sim_gone "$second"
echo "PASS: $TEST_NAME"
