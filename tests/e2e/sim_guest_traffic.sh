#!/usr/bin/env bash
# On the seed host (no firewall yet), the two user VMs reach each other through
# dom0's xenbr0: ping both ways and a TCP connection with nc, and the bridge
# learns both guest MACs on their vif ports.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
a=i-2-3-VM a_ip=10.147.41.238
b=i-2-5-VM b_ip=10.147.41.240

"$SIM" guest "$name" "$a" -- ping -n -c 1 -W 2 "$b_ip" >/dev/null || fail "$a cannot ping $b ($b_ip)"
"$SIM" guest "$name" "$b" -- ping -n -c 1 -W 2 "$a_ip" >/dev/null || fail "$b cannot ping $a ($a_ip)"

# The frames crossed dom0's bridge: it learnt each guest MAC on its vif port.
fdb=$("$SIM" dom0 "$name" -- bridge fdb show br xenbr0)
assert_contains "$fdb" "06:f8:c8:00:00:09 dev vif7.0 master xenbr0" "xenbr0 learnt $a's MAC on vif7.0"
assert_contains "$fdb" "06:f8:c8:00:00:0b dev vif8.0 master xenbr0" "xenbr0 learnt $b's MAC on vif8.0"

# TCP: $b listens, $a connects and sends a line, $b receives it.
port=5001
spawn "$E2E_TMP/server.pid" sh -c "exec \"\$0\" guest \"\$1\" \"\$2\" -- timeout 10 nc -l \"\$3\" \"\$4\" >\"\$5\"" \
  "$SIM" "$name" "$b" "$b_ip" "$port" "$E2E_TMP/received"
listening() {
  "$SIM" guest "$name" "$b" -- ss -Hltn "sport = :$port" | grep -q LISTEN
}
wait_until 5 listening || fail "nc did not start listening in $b"
echo "hello from $a" | "$SIM" guest "$name" "$a" -- nc -N -w 2 "$b_ip" "$port" || fail "$a cannot connect to $b_ip:$port"
server=$(cat "$E2E_TMP/server.pid")
wait_until 5 sh -c "! kill -0 $server 2>/dev/null" || fail "nc in $b did not finish"
assert_eq "hello from $a" "$(cat "$E2E_TMP/received")" "line received by $b over TCP"

# A system VM reaches dom0 over the link-local bridge, and the router the
# outside world over the uplink.
"$SIM" guest "$name" s-1-VM -- ping -n -c 1 -W 2 169.254.0.1 >/dev/null || fail "s-1-VM cannot ping dom0 on xapi0"
"$SIM" guest "$name" r-4-VM -- ping -n -c 1 -W 2 10.147.40.1 >/dev/null || fail "r-4-VM cannot reach the outside"
echo "PASS: $TEST_NAME"
