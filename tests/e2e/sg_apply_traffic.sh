#!/usr/bin/env bash
# Security groups on the simulated seed host, checked with real packets:
# ingress denied and egress allowed by default, exactly the allowed ingress
# after `rules`, egress restricted once egress rules exist, and a guest that
# spoofs its IP, its MAC or ARP, or answers DHCP, is stopped.  Each spoofing
# probe is first shown to work without the firewall, so the probe itself can
# fail.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
A=i-2-3-VM A_IP=10.147.41.238 A_MAC=06:f8:c8:00:00:09
B=i-2-5-VM B_IP=10.147.41.240 B_MAC=06:f8:c8:00:00:0b
OUT_IP=10.147.40.1

sg() { sg_apply_in "$name" "$@"; }
# in WHO CMD...: WHO is a VM name, or "outside" (the LAN beyond the uplink).
on() {
  local who=$1
  shift
  if [ "$who" = outside ]; then ip netns exec "$name-out" "$@"; else "$SIM" guest "$name" "$who" -- "$@"; fi
}
port_listening() { on "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }
udp_bound() { on "$1" ss -Hlun "sport = :$2" | grep -q .; }

# tcp_connects FROM TO TO_IP PORT: a real TCP connection and a line through it.
tcp_connects() {
  local from=$1 to=$2 ip=$3 port=$4 got=$E2E_TMP/got.$RANDOM
  spawn "$E2E_TMP/srv.pid" sh -c 'exec "$@" > "'"$got"'"' _ \
    ip netns exec "$(in_ns "$to")" timeout 10 nc -l "$ip" "$port"
  wait_until 5 port_listening "$to" "$port" || fail "no listener on $to:$port"
  local rc=0
  echo "hello $port" | on "$from" nc -N -w 2 "$ip" "$port" || rc=1
  kill "$(cat "$E2E_TMP/srv.pid")" 2>/dev/null || true
  wait_until 5 sh -c "! kill -0 $(cat "$E2E_TMP/srv.pid") 2>/dev/null" || true
  [ $rc -eq 0 ] && grep -q "hello $port" "$got" 2>/dev/null
}
in_ns() { if [ "$1" = outside ]; then echo "$name-out"; else echo "$name-g$(domid_of "$1")"; fi; }
domid_of() { case $1 in "$A") echo 7 ;; "$B") echo 8 ;; *) fail "unknown VM $1" ;; esac; }

# udp_arrives FROM TO TO_IP PORT SRC_PORT: one datagram, received or not.
udp_arrives() {
  local from=$1 to=$2 ip=$3 port=$4 sport=$5 got=$E2E_TMP/udp.$RANDOM
  spawn "$E2E_TMP/udp.pid" sh -c 'exec "$@" > "'"$got"'"' _ \
    ip netns exec "$(in_ns "$to")" timeout 3 nc -u -l "$ip" "$port"
  wait_until 5 udp_bound "$to" "$port" || fail "no UDP listener on $to:$port"
  echo "dhcp? $port" | on "$from" nc -u -w 1 -p "$sport" "$ip" "$port" || true
  wait_until 4 sh -c "! kill -0 $(cat "$E2E_TMP/udp.pid") 2>/dev/null" || true
  grep -q "dhcp? $port" "$got" 2>/dev/null
}
pings() { on "$1" ping -n -c 1 -W 1 "${@:2}" >/dev/null 2>&1; }

# ARP spoof: A claims B's address to the outside, which already knows B.
arp_spoof_lands() {
  on outside ip neigh flush all
  pings outside "$B_IP" || true                   # outside learns B's MAC (ARP works even if ICMP is denied)
  on outside ip neigh show "$B_IP" | grep -q "$B_MAC" || fail "outside did not learn $B's MAC"
  on "$A" ip addr add "$B_IP/32" dev eth0 2>/dev/null || true
  on "$A" arping -q -c 2 -U -I eth0 -s "$B_IP" "$B_IP" || true
  on "$A" ip addr del "$B_IP/32" dev eth0
  on outside ip neigh show "$B_IP" | grep -q "$A_MAC"
}

# ---- without a firewall: every probe below succeeds --------------------------
tcp_connects "$B" "$A" "$A_IP" 22 || fail "baseline: $B cannot reach $A:22"
arp_spoof_lands || fail "baseline: the ARP spoof probe does not work, it would prove nothing"
udp_arrives "$A" outside "$OUT_IP" 68 67 || fail "baseline: a DHCP-server reply from $A does not arrive"

# ---- defaults: ingress denied, egress allowed --------------------------------
sg setup
sg default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC"
sg default --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC"
tcp_connects "$B" "$A" "$A_IP" 22 && fail "defaults: $B reached $A:22 (ingress must be denied)"
tcp_connects outside "$A" "$A_IP" 22 && fail "defaults: the LAN reached $A:22"
pings "$A" "$OUT_IP" || fail "defaults: $A cannot ping the LAN (egress must be allowed)"
tcp_connects "$A" outside "$OUT_IP" 80 || fail "defaults: $A cannot open tcp/80 on the LAN"

# ---- spoofing -------------------------------------------------------------
on "$A" ip addr add 10.147.41.250/23 dev eth0
pings "$A" -I 10.147.41.250 "$OUT_IP" && fail "IP spoof: $A sent from 10.147.41.250"
on "$A" ip addr del 10.147.41.250/23 dev eth0
pings "$A" "$OUT_IP" || fail "after the IP spoof probe $A lost egress"

on "$A" ip link set eth0 address 06:f8:c8:00:00:99
on outside ip neigh flush all
pings "$A" "$OUT_IP" && fail "MAC spoof: $A got through with another MAC"
on "$A" ip link set eth0 address "$A_MAC"
on "$A" ip neigh flush all
pings "$A" "$OUT_IP" || fail "after the MAC spoof probe $A lost egress"

arp_spoof_lands && fail "ARP spoof: the LAN learnt $B's address at $A's MAC"
udp_arrives "$A" outside "$OUT_IP" 68 67 && fail "DHCP server: $A's reply to port 68 got out"
udp_arrives "$A" outside "$OUT_IP" 69 67 || fail "control: $A's UDP to port 69 must get out"

# ---- ingress rules: exactly what is allowed -------------------------------
sg rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sig a1 --seq 1 \
  --rules "I:tcp;22;22;$B_IP/32,NEXT "
tcp_connects "$B" "$A" "$A_IP" 22 || fail "rules: $B cannot reach $A:22 although allowed"
tcp_connects "$B" "$A" "$A_IP" 23 && fail "rules: $B reached $A:23 (only 22 is allowed)"
tcp_connects outside "$A" "$A_IP" 22 && fail "rules: the LAN reached $A:22 (only $B_IP/32 is allowed)"
pings "$B" "$A_IP" && fail "rules: $B pinged $A (icmp is not allowed)"

# The same through a rules file, with 'all' from anywhere (CloudStack dropped that one).
printf 'ingress all from 0.0.0.0/0\n' > "$E2E_TMP/all.rules"
sg rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sig a2 --seq 2 --rules-file "$E2E_TMP/all.rules"
pings "$B" "$A_IP" || fail "rules: 'all from 0.0.0.0/0' does not let $B ping $A"
tcp_connects outside "$A" "$A_IP" 23 || fail "rules: 'all from 0.0.0.0/0' does not let the LAN in"

# ---- egress rules restrict egress once present --------------------------------
sg rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sig a3 --seq 3 \
  --rules "I:tcp;22;22;$B_IP/32,NEXT E:tcp;80;80;$OUT_IP/32,NEXT "
tcp_connects "$A" outside "$OUT_IP" 80 || fail "egress: $A cannot reach the allowed tcp/80"
tcp_connects "$A" outside "$OUT_IP" 81 && fail "egress: $A reached tcp/81 (only 80 is allowed)"
pings "$A" "$OUT_IP" && fail "egress: $A pinged the LAN (icmp egress is not allowed)"
tcp_connects "$B" "$A" "$A_IP" 22 || fail "egress rules broke $A's ingress rule"

# ---- the same anti-ARP-spoofing with ebtables only (no arptables) ---------------
sg destroy --vm "$A"
sg destroy --vm "$B"
sg --arp-filter ebtables setup
sg --arp-filter ebtables default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC"
sg --arp-filter ebtables default --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC"
[ -z "$("$SIM" dom0 "$name" -- arptables-legacy -L FORWARD -n | grep -- '-j')" ] ||
  fail "--arp-filter ebtables left arptables rules"
arp_spoof_lands && fail "ARP spoof (ebtables filter): the LAN learnt $B's address at $A's MAC"
pings "$A" "$OUT_IP" || fail "--arp-filter ebtables: $A lost egress (its own ARP must work)"
echo "PASS: $TEST_NAME"
