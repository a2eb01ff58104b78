#!/usr/bin/env bash
# Per-NIC filtering and IPv6 security groups (issue #15) with real packets, on
# examples/hosts/ipv6.host: A (i-2-21-VM) with a dual-stack NIC on xenbr0 and
# another on xenbr1, B (i-2-22-VM, HVM) dual stack, C (i-2-23-VM) IPv4 only.
#  * Without a firewall every probe arrives, the attacks included (so each
#    attack probe can fail), and IPv6 ping and TCP work.
#  * `setup --ipv6` refuses, changing nothing, while dom0's
#    net.bridge.bridge-nf-call-ip6tables is 0.
#  * With `setup --ipv6`, `default` for every NIC and one IPv6 TCP rule:
#    the allowed port opens and a denied one stays closed over IPv6; IPv6
#    source spoofing, a router advertisement, a neighbour advertisement for
#    another VM's address, a DHCPv6 server reply, redirects and ND with a
#    hop limit below 255 from a VM are dropped, as is IPv6 from the IPv4-only
#    VM; the second NIC can send neither with another address (not even its
#    other NIC's) nor with its other NIC's MAC, while its own traffic passes.
#  * `destroy --vm A --nic 1` leaves no rule and no set of NIC 1 and NIC 0
#    still filters; destroying every VM leaves nothing of them.
# The raw probes are batched: one tests/e2e/ipv6_packets.py run per phase.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

HOST=$SOURCE_DIR/examples/hosts/ipv6.host
name=$(sim_up "$HOST")
A=i-2-21-VM A_IP=10.150.0.21 A_MAC=06:a1:50:00:00:21 A_IP6=2001:db8:150::21
A1_IP=10.151.0.21 A1_MAC=06:a1:51:00:00:21 A1_IP6=2001:db8:151::21
B=i-2-22-VM B_IP=10.150.0.22 B_MAC=06:a1:50:00:00:22 B_IP6=2001:db8:150::22
C=i-2-23-VM C_IP=10.150.0.23 C_MAC=06:a1:50:00:00:23
OUT_IP=10.150.0.254 OUT_IP6=2001:db8:150::fe OUT1_IP6=2001:db8:151::fe

sg() { sg_apply_in "$name" "$@"; }
dom0() { ip netns exec "$name-dom0" "$@"; }
in_ns() {
  case $1 in
    outside) echo "$name-out" ;;
    "$A") echo "$name-g21" ;;
    "$B") echo "$name-g22" ;;
    "$C") echo "$name-g23" ;;
    *) fail "unknown endpoint $1" ;;
  esac
}
on() {
  local ns
  ns=$(in_ns "$1")
  shift
  ip netns exec "$ns" "$@"
}
# probes PHASE PROBE=arrive|drop|any...: one batch of raw frames (ipv6_packets.py).
probes() { python3 "$SOURCE_DIR/tests/e2e/ipv6_packets.py" "$HOST" "$name" "$@"; }
pings6() { on "$1" ping -6 -n -c 1 -W 1 "${@:2}" >/dev/null 2>&1; }
pings4() { on "$1" ping -4 -n -c 1 -W 1 "${@:2}" >/dev/null 2>&1; }
port_listening() { on "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

# tcp6_connects FROM TO TO_IP6 PORT: a real TCP connection over IPv6 and a line through it.
tcp6_connects() {
  local from=$1 to=$2 ip=$3 port=$4 got=$E2E_TMP/got.$RANDOM
  spawn "$E2E_TMP/srv.pid" sh -c 'exec "$@" > "'"$got"'"' _ \
    ip netns exec "$(in_ns "$to")" timeout 10 nc -6 -l "$ip" "$port"
  wait_until 5 port_listening "$to" "$port" || fail "no listener on $to:$port"
  local rc=0
  echo "hello $port" | on "$from" nc -6 -N -w 2 "$ip" "$port" || rc=1
  kill "$(cat "$E2E_TMP/srv.pid")" 2>/dev/null || true
  wait_until 5 sh -c "! kill -0 $(cat "$E2E_TMP/srv.pid") 2>/dev/null" || true
  [ $rc -eq 0 ] && grep -q "hello $port" "$got" 2>/dev/null
}

# Everything the firewall can hold, for "changed nothing" and "nothing left".
tables() {
  {
    echo "== iptables"; dom0 iptables-save -t filter | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//'
    echo "== ip6tables"; dom0 ip6tables-save -t filter | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//'
    echo "== ebtables"; dom0 ebtables -t filter -L; dom0 ebtables -t nat -L
    echo "== arptables"; dom0 arptables-legacy -n -L
    echo "== ipset"; dom0 ipset save | sed -E 's/ initval 0x[0-9a-f]+//'
  } 2>&1
}

ATTACKS=(spoof6-other spoof6-vm spoof6-ll ra-from-vm na-claims-b dhcp6-server redirect-from-vm
  ns-hop-limit-64 ipv6-from-v4-only nic1-spoof4 nic1-spoof4-nic0 nic1-spoof6 nic1-spoof6-nic0
  nic1-spoof6-ll-nic0 nic1-mac-nic0)
HONEST=(ns-a-b ns-ll-a-b na-b-a na-a-out echo6-a-out echo6-b-a udp6-a-out udp6-ll-a-out ra-to-vm
  udp4-a-out udp4-c-out nic1-udp4 nic1-udp6 nic1-ns nic1-echo6)
expect() { local e=$1 p; shift; for p in "$@"; do printf '%s=%s\n' "$p" "$e"; done; }

# ---- without a firewall: every probe arrives ------------------------------------
# shellcheck disable=SC2046  # one word per probe
probes open $(expect arrive "${ATTACKS[@]}" "${HONEST[@]}" syn6-out-a-22 syn6-out-a-23 syn6-b-a-22) ||
  fail "baseline: a probe does not arrive without a firewall, it would prove nothing"
pings6 "$A" "$B_IP6" || fail "baseline: $A cannot ping $B over IPv6"
pings6 "$A" "$OUT_IP6" || fail "baseline: $A cannot ping the LAN over IPv6"
pings6 "$A" -I eth1 "$OUT1_IP6" || fail "baseline: $A's NIC 1 cannot ping its LAN over IPv6"
tcp6_connects outside "$A" "$A_IP6" 23 || fail "baseline: the LAN cannot reach $A:23 over IPv6"

# ---- setup --ipv6 refuses without bridge-nf-call-ip6tables ------------------------
sg setup
dom0 sysctl -q -w net.bridge.bridge-nf-call-ip6tables=0
tables >"$E2E_TMP/before-refusal"
rc=0
sg setup --ipv6 2>"$E2E_TMP/refusal.err" || rc=$?
[ "$rc" -ne 0 ] || fail "setup --ipv6 with net.bridge.bridge-nf-call-ip6tables=0 succeeded"
assert_contains "$(cat "$E2E_TMP/refusal.err")" net.bridge.bridge-nf-call-ip6tables \
  "setup --ipv6's refusal names the sysctl"
tables >"$E2E_TMP/after-refusal"
assert_same_file "$E2E_TMP/before-refusal" "$E2E_TMP/after-refusal" "the refused setup --ipv6 changed the firewall"
dom0 sysctl -q -w net.bridge.bridge-nf-call-ip6tables=1

# ---- the firewall: every NIC, one IPv6 TCP rule ---------------------------------
sg setup --ipv6
sg default --vm "$A" --vm-id 21 --ip "$A_IP" --mac "$A_MAC" --ip6 "$A_IP6"
sg default --vm "$A" --vm-id 21 --nic 1 --ip "$A1_IP" --mac "$A1_MAC" --ip6 "$A1_IP6"
sg default --vm "$B" --vm-id 22 --ip "$B_IP" --mac "$B_MAC" --ip6 "$B_IP6"
sg default --vm "$C" --vm-id 23 --ip "$C_IP" --mac "$C_MAC"
sg rules --vm "$A" --vm-id 21 --ip "$A_IP" --mac "$A_MAC" --sig a1 --seq 1 \
  --rules "I:tcp;22;22;$OUT_IP6/127,NEXT "
# shellcheck disable=SC2046
probes firewall $(expect drop "${ATTACKS[@]}") $(expect arrive "${HONEST[@]}") \
  syn6-out-a-22=arrive syn6-out-a-23=drop syn6-b-a-22=drop dad-ns=arrive ||
  fail "with the firewall a probe did not do as expected (see above)"
tcp6_connects outside "$A" "$A_IP6" 22 || fail "rules: the LAN cannot reach $A:22 over IPv6 although allowed"
tcp6_connects outside "$A" "$A_IP6" 23 && fail "rules: the LAN reached $A:23 over IPv6 (only 22 is allowed)"
tcp6_connects "$B" "$A" "$A_IP6" 22 && fail "rules: $B reached $A:22 over IPv6 (only $OUT_IP6/127 is allowed)"
pings6 "$A" "$B_IP6" || fail "firewall: $A cannot ping $B over IPv6 (ND or echo blocked)"
pings6 "$A" "$OUT_IP6" || fail "firewall: $A cannot ping the LAN over IPv6"
pings6 "$A" -I eth1 "$OUT1_IP6" || fail "firewall: $A's NIC 1 cannot ping its LAN over IPv6"
pings4 "$A" "$OUT_IP" || fail "firewall: $A cannot ping the LAN over IPv4"

# sg-show and sg-diff read the live IPv6 layer back: every NIC, in sync.
show_out=$("$SIM" dom0 "$name" -- "$BUILD_DIR/tools/sg-show" --state-dir "$E2E_TMP/state" "$A")
assert_contains "$show_out" "NIC 1: vif21.1" "sg-show shows A's second NIC"
assert_contains "$show_out" "RA guard: yes" "sg-show shows the RA guard"
assert_contains "$show_out" "Ingress IPv6" "sg-show shows A's IPv6 ingress rules"
rc=0
diff_out=$("$SIM" dom0 "$name" -- "$BUILD_DIR/tools/sg-diff" --state-dir "$E2E_TMP/state" 2>&1) || rc=$?
[ "$rc" -eq 0 ] || fail "sg-diff right after sg-apply with IPv6 and two NICs (exit $rc): $diff_out"
# (the whole listing first: grep -m1 closing the pipe early would kill
# ip6tables with SIGPIPE, and pipefail would end the test without a word)
listing=$(dom0 ip6tables -S "$A-def")
rule=$(grep -m1 -- '--icmpv6-type 134 -j DROP' <<<"$listing" | sed 's/^-A /-D /')
[ -n "$rule" ] || fail "no RA guard of A in ip6tables to remove"
# shellcheck disable=SC2086  # the rule's words
dom0 ip6tables $rule
rc=0
diff_out=$("$SIM" dom0 "$name" -- "$BUILD_DIR/tools/sg-diff" --state-dir "$E2E_TMP/state" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "sg-diff missed an RA guard removed from ip6tables (exit $rc): $diff_out"
assert_contains "$diff_out" "ip6tables" "sg-diff names the table of the removed rule"
sg default --vm "$A" --vm-id 21 --ip "$A_IP" --mac "$A_MAC" --ip6 "$A_IP6"
"$SIM" dom0 "$name" -- "$BUILD_DIR/tools/sg-diff" --state-dir "$E2E_TMP/state" >/dev/null ||
  fail "sg-apply default did not repair the removed RA guard"

# CloudStack's own call for the second NIC: default_network_rules with NIC 1's
# IP and MAC and no NIC number (its plugin put every NIC on device 0, "the
# last NIC wins"): sg-apply finds the device by the MAC, through xe, and
# finds NIC 1 already as asked.
out=$(sg -v default --vm "$A" --vm-id 21 --ip "$A1_IP" --mac "$A1_MAC" --ip6 "$A1_IP6")
assert_contains "$out" "nothing to change" "CloudStack's call for NIC 1 (its MAC, no --nic) is NIC 1's"
grep -q "^nic 1 mac $A1_MAC" "$E2E_TMP/state/$A.state" || fail "NIC 1 is not in $A's record"
grep -q "^mac $A_MAC" "$E2E_TMP/state/$A.state" || fail "CloudStack's call for NIC 1 replaced NIC 0"

# ---- destroy NIC 1 only ------------------------------------------------------------
tables >"$E2E_TMP/with-nic1"
grep -q 'vif21\.1' "$E2E_TMP/with-nic1" || fail "no rule names vif21.1 before destroy --nic 1: the check below would prove nothing"
sg destroy --vm "$A" --nic 1
tables >"$E2E_TMP/without-nic1"
if grep -n 'vif21\.1' "$E2E_TMP/without-nic1" >&2; then fail "destroy --nic 1 left rules naming vif21.1"; fi
nic1_sets=$(dom0 ipset list -n | grep -E "^$A-.*n1\$" || true)
[ -z "$nic1_sets" ] || fail "destroy --nic 1 left NIC 1's sets: $nic1_sets"
dom0 ipset list -n | grep -qx "$A" || fail "destroy --nic 1 took NIC 0's IPv4 set $A"
probes nic0-after spoof6-other=drop spoof6-vm=drop ra-from-vm=drop na-claims-b=drop dhcp6-server=drop \
  udp6-a-out=arrive echo6-a-out=arrive ns-a-b=arrive na-b-a=arrive syn6-out-a-22=arrive syn6-out-a-23=drop ||
  fail "after destroy --nic 1, NIC 0 no longer filters as before"
pings6 "$A" "$B_IP6" || fail "after destroy --nic 1, $A cannot ping $B over IPv6"

# ---- destroy everything --------------------------------------------------------------
for vm in "$A" "$B" "$C"; do sg destroy --vm "$vm"; done
tables >"$E2E_TMP/after-destroy"
if grep -nE 'i-2-2[123]-VM|vif2[123]\.|tap22\.' "$E2E_TMP/after-destroy" >&2; then
  fail "destroying every VM left rules or sets of them"
fi
echo "PASS: $TEST_NAME"
