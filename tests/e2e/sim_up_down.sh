#!/usr/bin/env bash
# sim up builds the seed host as namespaces (dom0 with bridges, uplinks,
# vif/tap ports and bridge-nf sysctls; one namespace per running guest), and
# sim down removes all of it, including processes still running inside.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
[ -n "$name" ] || fail "sim up printed no name"
dom0="$name-dom0"

# One namespace for dom0, one for the outside, one per running VM (by dom-id).
expected=$(printf '%s\n' "$name-dom0" "$name-g0" "$name-g2" "$name-g4" "$name-g6" "$name-g7" "$name-g8" "$name-out")
assert_eq "$expected" "$(sim_namespaces "$name" | sort)" "namespaces of the seed sim"

# Ports and their bridges, as in the seed's brctl show (plus i-2-5-VM).
port_master() {
  ip -n "$dom0" -o link show dev "$1" | sed -n 's/.* master \([^ ]*\) .*/\1/p'
}
for port in vif0.0 vif2.0 vif4.0 vif6.1; do assert_eq xapi0 "$(port_master "$port")" "bridge of $port"; done
for port in eth0 vif2.1 vif2.2 vif4.1 vif4.2 vif4.3 vif6.0 vif7.0 vif8.0 tap8.0; do
  assert_eq xenbr0 "$(port_master "$port")" "bridge of $port"
done
assert_eq xenbr1 "$(port_master eth1)" "bridge of eth1"
assert_contains "$(ip -n "$dom0" -d -o link show dev tap8.0)" "tun type tap" "tap8.0 is a tap device"
assert_contains "$(ip -n "$dom0" -o link show dev vif7.0)" "link/ether fe:ff:ff:ff:ff:ff" "netback MAC of vif7.0"
assert_contains "$(ip -n "$dom0" -o link show dev xenbr0)" "link/ether d4:ae:52:bc:e6:51" "xenbr0 takes eth0's MAC"
assert_contains "$(ip -n "$dom0" -o addr show dev xenbr0)" "inet 10.147.40.22/23" "dom0 address on xenbr0"
assert_contains "$(ip -n "$dom0" -o addr show dev xapi0)" "inet 169.254.0.1/16" "dom0 address on xapi0"
assert_eq "" "$(ip -n "$dom0" -o -4 addr show dev xenbr1)" "xenbr1 has no IPv4 address"

# bridge-nf sysctls inside dom0 (what CloudStack's security groups rely on).
for key in bridge-nf-call-iptables bridge-nf-call-arptables bridge-nf-call-ip6tables; do
  assert_eq 1 "$("$SIM" dom0 "$name" -- sysctl -n "net.bridge.$key")" "net.bridge.$key in dom0"
done

# The guest end: eth0 with the guest's MAC and address, loopback up.
guest_link=$("$SIM" guest "$name" i-2-3-VM -- ip -o link show dev eth0)
assert_contains "$guest_link" "link/ether 06:f8:c8:00:00:09" "i-2-3-VM's MAC"
assert_contains "$guest_link" "state UP" "i-2-3-VM's eth0 is up"
assert_contains "$("$SIM" guest "$name" i-2-3-VM -- ip -o addr show dev eth0)" "inet 10.147.41.238/23" "i-2-3-VM's address"
assert_contains "$("$SIM" guest "$name" 44b0e85e-00b4-73c0-6405-eacff81b8bbe -- ip -o link show dev lo)" "LOOPBACK,UP" "guest by uuid; lo up"
assert_contains "$("$SIM" guest "$name" 4 -- ip -o link show dev eth3)" "06:1a:74:00:00:0f" "guest by dom-id: s-1-VM's eth3"

# What vif-of runs inside dom0 sees the bridges and the stand-in xe.
brctl_out=$("$SIM" dom0 "$name" -- brctl show)
assert_contains "$brctl_out" $'xapi0\t\t8000.feffffffffff\tno\t\tvif0.0' "brctl show: xapi0"
assert_contains "$brctl_out" $'xenbr0\t\t8000.d4ae52bce651\tno\t\teth0' "brctl show: xenbr0"
assert_contains "$("$SIM" dom0 "$name" -- ip -s link show dev vif7.0)" "RX:" "ip -s link in dom0"
assert_contains "$("$SIM" dom0 "$name" -- bridge link show)" "vif7.0" "bridge link in dom0"
assert_eq "$VIFWALL_SIM_DIR/$name/bin/xe" "$("$SIM" dom0 "$name" -- sh -c 'command -v xe')" "xe in dom0's PATH"
records=$("$SIM" dom0 "$name" -- xe vm-list params=uuid,name-label,power-state,dom-id)
assert_eq 6 "$(grep -c '^uuid ( RO)' <<<"$records")" "VM records from xe in dom0"
assert_contains "$records" "     name-label ( RW): i-2-3-VM
    power-state ( RO): running
         dom-id ( RO): 7" "i-2-3-VM's record"
set +e
"$SIM" dom0 "$name" -- sh -c 'exit 42'
status=$?
set -e
assert_eq 42 "$status" "exit status through sim dom0"

# A process left running inside a guest does not keep anything alive.
spawn "$E2E_TMP/sleeper.pid" "$SIM" guest "$name" i-2-5-VM -- sleep 300
sleeper=$(cat "$E2E_TMP/sleeper.pid")
wait_until 5 netns_has_processes "$name-g8" || fail "sleep did not start inside i-2-5-VM"

"$SIM" down "$name"
assert_sim_gone "$name"
if kill -0 "$sleeper" 2>/dev/null; then
  fail "process $sleeper inside the guest survived sim down"
fi
assert_eq "" "$("$SIM" list)" "sim list after down"
echo "PASS: $TEST_NAME"
