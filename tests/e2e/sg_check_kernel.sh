#!/usr/bin/env bash
# sg-check's verdicts against the kernel's: a simulated dom0 with three user
# VMs and a system VM programmed by sg-apply (allowed and denied tcp and udp
# ports, ICMP, egress rules), then well over a thousand real frames
# (tests/e2e/sg_check_packets.py: tcp, udp, icmp, ARP, spoofed addresses and
# MACs, broadcasts, IPv6, from guests and from the LAN beyond the uplink),
# each delivered or not by the kernel, each judged by one `sg-check --batch`
# on the live tables: every verdict must be the kernel's.  Then again after
# an admin's own rules in a VM chain, BRIDGE-FIREWALL, FORWARD and ebtables;
# a rule sg-check cannot evaluate makes its verdict unknown (exit 2); the
# summary of a VM; and a third round with ARP checked in ebtables.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

cat >"$E2E_TMP/check.host" <<'EOF'
host chk uuid 5e0c3a8e-5c1f-4e47-9a51-0b6f8c2d7e11
bridge xapi0 ip 169.254.0.1/16
bridge xenbr0 uplink eth0 mac d4:ae:52:bc:e6:51 ip 10.147.40.22/23 outside-ip 10.147.40.1/23
vm "Control domain on host: chk" uuid c2e2ed54-9594-49f4-80aa-df341f998d6c domid 0 running control pv
  vif 0 bridge xapi0 mac fe:ff:ff:ff:ff:fe
vm r-4-VM uuid 64abc60a-feeb-5dc6-7a1a-18b2b60ac75c domid 6 running system pv
  vif 0 bridge xenbr0 mac 06:4e:3c:00:00:10 ip 10.147.40.125/23
vm i-2-3-VM uuid 44b0e85e-00b4-73c0-6405-eacff81b8bbf domid 7 running user pv
  vif 0 bridge xenbr0 mac 06:f8:c8:00:00:09 ip 10.147.41.238/23
vm i-2-5-VM uuid 9c4b1f7e-3a2d-4e8b-b6c1-5d0f2a7e8c32 domid 8 running user hvm
  vif 0 bridge xenbr0 mac 06:f8:c8:00:00:0b ip 10.147.41.240/23
vm i-2-9-VM uuid 1d4b1f7e-3a2d-4e8b-b6c1-5d0f2a7e8c33 domid 9 running user pv
  vif 0 bridge xenbr0 mac 06:f8:c8:00:00:0d ip 10.147.41.242/23
EOF
name=$(sim_up "$E2E_TMP/check.host")
A=i-2-3-VM A_IP=10.147.41.238 A_MAC=06:f8:c8:00:00:09
B=i-2-5-VM B_IP=10.147.41.240 B_MAC=06:f8:c8:00:00:0b
C=i-2-9-VM C_IP=10.147.41.242 C_MAC=06:f8:c8:00:00:0d
OUT_IP=10.147.40.1
sg() { sg_apply_in "$name" "$@"; }
dom0() { ip netns exec "$name-dom0" "$@"; }
check() { dom0 "$BUILD_DIR/tools/sg-check" "$@"; }

sg setup
sg systemvm --vm r-4-VM
sg default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC"
sg default --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC" --sec-ips '10.147.41.241;'
sg default --vm "$C" --vm-id 9 --ip "$C_IP" --mac "$C_MAC"
sg rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sig a1 --seq 1 \
  --rules "I:tcp;22;22;$B_IP/32,NEXT I:tcp;80;80;0.0.0.0/0,NEXT I:udp;53;53;10.147.40.0/23,NEXT I:icmp;8;0;0.0.0.0/0,NEXT "
sg rules --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC" --sig b1 --seq 1 \
  --rules "I:tcp;8080;8090;$A_IP/32,10.147.40.0/24,NEXT I:udp;5000;5010;0.0.0.0/0,NEXT I:icmp;-1;-1;10.147.41.0/24,NEXT E:tcp;80;80;10.147.40.0/23,NEXT E:udp;53;53;0.0.0.0/0,NEXT E:icmp;8;0;0.0.0.0/0,NEXT "
sg rules --vm "$C" --vm-id 9 --ip "$C_IP" --mac "$C_MAC" --sig c1 --seq 1 \
  --rules "I:all;0;0;$A_IP/32,NEXT I:udp;7000;7000;0.0.0.0/0,NEXT "

cat >"$E2E_TMP/ends.json" <<EOF
{"dom0": "$name-dom0", "endpoints": [
  {"name": "A", "ns": "$name-g7", "ip": "$A_IP", "mac": "$A_MAC", "vm_name": "$A"},
  {"name": "B", "ns": "$name-g8", "ip": "$B_IP", "mac": "$B_MAC", "vm_name": "$B"},
  {"name": "C", "ns": "$name-g9", "ip": "$C_IP", "mac": "$C_MAC", "vm_name": "$C"},
  {"name": "R", "ns": "$name-g6", "ip": "10.147.40.125", "mac": "06:4e:3c:00:00:10", "vm_name": "r-4-VM"},
  {"name": "OUT", "ns": "$name-out", "ip": "$OUT_IP", "mac": null, "vm_name": null}]}
EOF
agree() { python3 "$SOURCE_DIR/tests/e2e/sg_check_packets.py" "$E2E_TMP/ends.json" "$@" "$BUILD_DIR/tools/sg-check" "$E2E_TMP"; }

# ---- the tables as sg-apply wrote them -------------------------------------------
agree as-programmed 1 || fail "sg-check disagrees with the kernel on the tables sg-apply wrote"

# ---- an admin's own rules, where sg-apply would not put them ---------------------------
dom0 iptables -I "$A" 1 -p tcp -s "$B_IP" --dport 23 -j ACCEPT                 # a VM chain
dom0 iptables -I "$B" 1 -p tcp -m multiport --dports 7001,7002 -j ACCEPT        # multiport
dom0 iptables -I BRIDGE-FIREWALL 2 -m physdev --physdev-is-bridged -p tcp --dport 8085 -s 10.147.40.0/24 -j DROP
dom0 iptables -I FORWARD 1 -m physdev --physdev-is-bridged -p udp --dport 9999 -j REJECT
dom0 iptables -I FORWARD 2 -p icmp --icmp-type timestamp-request -j LOG --log-prefix "sgcheck "
dom0 ebtables -I FORWARD 1 -p IPv4 --ip-proto udp --ip-dport 5005 -j DROP
dom0 ebtables -I FORWARD 1 -p IPv4 -i vif9.0 --ip-proto tcp --ip-dport 443 -j ACCEPT
agree admin-rules 100000 || fail "sg-check disagrees with the kernel after hand-made rules"

# ---- a match sg-check cannot evaluate: named, and the verdict is unknown ----------------
dom0 iptables -I "$A" 1 -p tcp --dport 80 -m limit --limit 1/s -j ACCEPT
status=0
out=$(check --src "$B" --dst "$A" tcp/80) || status=$?
assert_eq 2 "$status" "a rule with -m limit on the path: exit status"
assert_contains "$out" "CANNOT EVALUATE: match -m limit is not modelled" "the unknown match is named"
status=0
check --src "$OUT_IP" --dst "$A" icmp >/dev/null || status=$?
assert_eq 0 "$status" "icmp from the LAN does not meet the tcp/80 limit rule and passes"
status=0
check --src "$OUT_IP" --dst "$A" tcp/22 >/dev/null || status=$?
assert_eq 1 "$status" "tcp/22 from the LAN is dropped"

# ---- who may reach i-2-9-VM: the summary, from the same evaluation --------------
summary=$(check --vm "$C" --json)
python3 - "$summary" <<'PY' || fail "sg-check --vm $C: wrong summary: $summary"
import json, sys
probes = {(p["from"], p["service"]): p["verdict"] for p in json.loads(sys.argv[1])["probes"]}
assert probes[("i-2-3-VM", "tcp/22")] == "pass", "all from i-2-3-VM"      # I:all from A's address
assert probes[("203.0.113.7 (outside)", "udp/7000")] == "pass", "udp 7000 from anywhere"
assert probes[("203.0.113.7 (outside)", "tcp/22")] == "drop", "nothing else from the LAN"
PY

# ---- the same host with ARP checked by ebtables (--arp-filter ebtables) ----------
for vm in "$A" "$B" "$C"; do sg destroy --vm "$vm"; done
sg --arp-filter ebtables setup
sg --arp-filter ebtables default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC"
sg --arp-filter ebtables default --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC" --sec-ips '10.147.41.241;'
sg --arp-filter ebtables default --vm "$C" --vm-id 9 --ip "$C_IP" --mac "$C_MAC"
sg rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --sig a2 --seq 2 \
  --rules "I:tcp;22;22;$B_IP/32,NEXT I:icmp;-1;-1;0.0.0.0/0,NEXT E:tcp;80;80;0.0.0.0/0,NEXT "
sg rules --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC" --sig b2 --seq 2 --rules "I:udp;53;54;0.0.0.0/0,NEXT "
sg rules --vm "$C" --vm-id 9 --ip "$C_IP" --mac "$C_MAC" --sig c2 --seq 2 --rules "I:tcp;1;65535;10.147.40.0/23,NEXT "
agree ebtables-arp 200000 || fail "sg-check disagrees with the kernel with ARP checked by ebtables"
echo "PASS: $TEST_NAME"
