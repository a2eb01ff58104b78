#!/usr/bin/env bash
# sg-apply with each iptables variant (legacy as on dom0, nft as Debian's
# default), and with long VM names that would collide in CloudStack's naming.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
A=i-2-3-VM A_IP=10.147.41.238 A_MAC=06:f8:c8:00:00:09
B=i-2-5-VM B_IP=10.147.41.240 B_MAC=06:f8:c8:00:00:0b
sg() { sg_apply_in "$name" "$@"; }
# connects FROM_VM IP PORT: a TCP connect with a short timeout (a working
# connect on this LAN takes well under a millisecond).
connects() {
  "$SIM" guest "$name" "$1" -- python3 -c '
import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); sys.exit(0)
except ConnectionRefusedError:
    sys.exit(0)   # the SYN got through and the host answered: allowed
except OSError:
    sys.exit(1)
' "$2" "$3"
}

for variant in legacy nft; do
  sg --iptables "$variant" setup
  sg --iptables "$variant" default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0
  sg --iptables "$variant" default --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC" --vif vif8.0
  other=$([ "$variant" = legacy ] && echo nft || echo legacy)
  "$SIM" dom0 "$name" -- "iptables-$variant-save" -t filter | grep -q "^:$A-def" ||
    fail "$variant: no $A-def chain in iptables-$variant"
  if "$SIM" dom0 "$name" -- "iptables-$other-save" -t filter 2>/dev/null | grep -q "^:$A-def"; then
    fail "$variant: rules went to iptables-$other"
  fi
  connects "$B" "$A_IP" 22 && fail "$variant: ingress must be denied"
  sg --iptables "$variant" rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0 \
    --sig 1 --seq 1 --rules "I:tcp;22;22;$B_IP/32,NEXT "
  connects "$B" "$A_IP" 22 || fail "$variant: tcp 22 from $B must be allowed"
  connects "$B" "$A_IP" 23 && fail "$variant: tcp 23 must stay denied"
  out=$(sg --iptables "$variant" -v rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0 \
    --sig 2 --seq 2 --rules "I:tcp;22;22;$B_IP/32,NEXT ")
  assert_eq "nothing to change" "$out" "$variant: same rules, new signature"
  sg --iptables "$variant" destroy --vm "$A"
  sg --iptables "$variant" destroy --vm "$B"
  # Take the host part down by hand so the next variant starts clean.
  "$SIM" dom0 "$name" -- sh -c "iptables-$variant -F FORWARD; iptables-$variant -F BRIDGE-FIREWALL;
    iptables-$variant -F BRIDGE-DEFAULT-FIREWALL; iptables-$variant -X BRIDGE-FIREWALL;
    iptables-$variant -X BRIDGE-DEFAULT-FIREWALL"
done

# Long names that share CloudStack's 13-character set prefix and 24-character
# chain prefix: each VM gets its own chains and sets, and destroying one
# leaves the other whole.
L1=i-12345-678901-VM-with-a-very-long-instance-name-1
L2=i-12345-678901-VM-with-a-very-long-instance-name-2
sg setup
sg default --vm "$L1" --vm-id 1 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0
sg default --vm "$L2" --vm-id 2 --ip "$B_IP" --mac "$B_MAC" --vif vif8.0
sg rules --vm "$L1" --vm-id 1 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0 --sig 1 --seq 1 --rules "I:tcp;22;22;10.0.0.0/8,NEXT "
sg rules --vm "$L2" --vm-id 2 --ip "$B_IP" --mac "$B_MAC" --vif vif8.0 --sig 1 --seq 1 --rules "I:tcp;22;22;10.0.0.0/8,NEXT "
chains=$("$SIM" dom0 "$name" -- iptables-save -t filter | grep -c '^:i-12345')
assert_eq 6 "$chains" "chains of the two long-named VMs"
"$SIM" dom0 "$name" -- iptables-save -t filter | awk '/^:/ { if (length($1) - 1 > 28) exit 1 }' ||
  fail "a chain name is longer than 28 characters"
"$SIM" dom0 "$name" -- ipset list -n | awk '{ if (length($0) > 31) exit 1 }' || fail "a set name is longer than 31 characters"
sets=$("$SIM" dom0 "$name" -- ipset list -n | grep -c '^i-12345')
assert_eq 4 "$sets" "sets of the two long-named VMs (own set + one rule set each)"
sg destroy --vm "$L1"
assert_eq 3 "$("$SIM" dom0 "$name" -- iptables-save -t filter | grep -c '^:i-12345')" "chains left after destroying one"
assert_eq 2 "$("$SIM" dom0 "$name" -- ipset list -n | grep -c '^i-12345')" "sets left after destroying one"
out=$(sg -v rules --vm "$L2" --vm-id 2 --ip "$B_IP" --mac "$B_MAC" --vif vif8.0 --sig 1 --seq 1 --rules "I:tcp;22;22;10.0.0.0/8,NEXT ")
case $out in "nothing to change"*) ;; *) fail "the surviving long-named VM was damaged: $out" ;; esac
echo "PASS: $TEST_NAME"
