#!/usr/bin/env bash
# The narrow read of sg-apply's one-VM commands, in the kernel, with each
# iptables variant and each ARP mode: a VM's default, rules, update and
# destroy list only its own chains, BRIDGE-FIREWALL and FORWARD and its own
# sets (never a whole iptables or ipset dump: every tool is run through a
# wrapper that logs its arguments), and other software's rules are never
# disturbed: a chain of its own, a rule in BRIDGE-FIREWALL and in iptables'
# and ebtables' FORWARD, an ebtables chain, an ebtables nat rule and a set
# keep their text and their order among the rules that are not the VM's,
# and their packet counters (set by hand, so a rule deleted and put back
# would show; ebtables' only across runs that load no ebtables: a whole
# ebtables-restore zeroes them, as it always did); a second identical run
# loads nothing; destroy leaves every table exactly as before the VM.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
A=i-2-3-VM A_IP=10.147.41.238 A_MAC=06:f8:c8:00:00:09
B=i-2-5-VM B_IP=10.147.41.240 B_MAC=06:f8:c8:00:00:0b

# Wrappers that log each netfilter tool's arguments, first in PATH.
WRAP=$E2E_TMP/wrap
mkdir -p "$WRAP"
for tool in iptables-legacy iptables-legacy-save iptables-legacy-restore iptables-nft iptables-nft-save \
  iptables-nft-restore iptables iptables-save iptables-restore ebtables ebtables-save ebtables-restore \
  ebtables-nft ebtables-nft-save ebtables-nft-restore ipset arptables arptables-legacy; do
  real=$(command -v "$tool" || true)
  [ -n "$real" ] || continue
  printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\nexec "%s" "$@"\n' "$tool" "$E2E_TMP" "$real" > "$WRAP/$tool"
  chmod +x "$WRAP/$tool"
done
sg() {
  "$SIM" dom0 "$name" -- env PATH="$WRAP:$PATH" VIFWALL_STATE_DIR="$E2E_TMP/state" \
    VIFWALL_LOCK_FILE="$E2E_TMP/lock" VIFWALL_EBTABLES_LOCK="$E2E_TMP/eblock" \
    "$BUILD_DIR/tools/sg-apply" --iptables "$variant" --arp-filter "$arp" "$@"
}
d0() { "$SIM" dom0 "$name" -- "$@"; }
# The calls of the last sg-apply run.
calls() { cat "$E2E_TMP/calls" 2>/dev/null || true; }
run_logged() { : > "$E2E_TMP/calls"; sg "$@"; }
# Every table and set without dates; iptables with its counters (a whole
# ebtables load, which a destroy needs, zeroes ebtables' counters: see
# docs/security-groups.md).
dump() {
  d0 sh -c "
    iptables-$variant-save -c -t filter | grep -v '^#'
    echo ---; ebtables -t filter -L
    echo ---; ebtables -t nat -L
    echo ---; arptables-legacy -n -L 2>/dev/null
    echo ---; ipset save | sort"
}
# What other software added, in order, with the rules of the chains it
# shares with us that are not A's: nothing of it may change while A comes,
# changes and goes (A's jumps in between are A's).  iptables with counters.
foreign() {
  d0 sh -c "
    iptables-$variant-save -c -t filter | grep -E '^:OTHER-TOOL |^\[[0-9]+:[0-9]+\] -A (FORWARD|BRIDGE-FIREWALL|OTHER-TOOL) ' |
      grep -v -e '$A' -e vif7.0
    ebtables -t filter -L FORWARD | grep -v -e '$A' -e vif7.0 -e vifwall-cutoff -e 'entries:'
    ebtables -t filter -L other-eb
    ebtables -t nat -L PREROUTING --Lc
    ipset save blocklist"
}
# ebtables' counters of the foreign rules: kept by every run that does not
# load ebtables (a rules update).
eb_counters() { d0 ebtables -t filter -L --Lc | grep -e other-eb; }
# No whole-table iptables or ipset listing in the last run; nothing of B's.
assert_narrow() {
  local what=$1 log
  log=$(calls)
  case $log in *"iptables-$variant-save"* | *"iptables-save"*) fail "$variant/$arp $what: a whole iptables dump: $log" ;; esac
  if grep -qx 'ipset save' "$E2E_TMP/calls"; then fail "$variant/$arp $what: a whole ipset save"; fi
  case $log in *"$B"*) fail "$variant/$arp $what: listed $B's chains or sets: $log" ;; esac
  assert_contains "$log" "iptables-$variant -S BRIDGE-FIREWALL" "$variant/$arp $what: BRIDGE-FIREWALL listed"
  assert_contains "$log" "iptables-$variant -S $A-def" "$variant/$arp $what: $A-def listed"
  assert_contains "$log" "ipset list -n" "$variant/$arp $what: set names listed"
}

for variant in legacy nft; do
  for arp in ebtables arptables; do
    sg setup
    sg default --vm "$B" --vm-id 5 --ip "$B_IP" --mac "$B_MAC" --vif vif8.0
    # Other software's rules, after setup as on a running host.
    d0 "iptables-$variant" -N OTHER-TOOL
    d0 ipset create blocklist hash:net
    d0 ipset add blocklist 192.0.2.0/24
    d0 "iptables-$variant" -A OTHER-TOOL -m set --match-set blocklist src -c 7 700 -j DROP
    d0 "iptables-$variant" -I FORWARD 1 -i other1 -c 11 1100 -j OTHER-TOOL
    d0 "iptables-$variant" -I BRIDGE-FIREWALL 2 -m physdev --physdev-in other9 --physdev-is-bridged -c 13 1300 -j ACCEPT
    d0 ebtables -N other-eb -P RETURN
    d0 ebtables -A other-eb -p IPv4 -c 17 1700 -j RETURN
    d0 ebtables -I FORWARD 1 -i other2 -c 19 1900 -j other-eb
    d0 ebtables -A FORWARD -i other1 -c 23 2300 -j other-eb
    d0 ebtables -t nat -A PREROUTING -i other1 -c 29 2900 -j ACCEPT
    before=$(dump)
    foreign_before=$(foreign)
    [ -n "$foreign_before" ] || fail "no foreign rules to watch"

    run_logged default --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0
    assert_narrow default
    assert_eq "$foreign_before" "$(foreign)" "$variant/$arp: foreign rules after default"

    run_logged rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0 --sig 1 --seq 1 \
      --rules "I:tcp;22;22;$B_IP/32,NEXT I:udp;53;53;10.0.0.0/8,NEXT "
    assert_narrow rules
    assert_eq "$foreign_before" "$(foreign)" "$variant/$arp: foreign rules after rules"

    counters=$(eb_counters)
    run_logged rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0 --sig 2 --seq 2 \
      --rules "I:tcp;80;80;$B_IP/32,NEXT I:udp;53;53;10.1.0.0/16,NEXT "
    assert_narrow update
    # An update that changes neither ebtables nor arptables reads neither whole.
    grep -qx 'ebtables -t filter -L' "$E2E_TMP/calls" && fail "$variant/$arp update: a whole ebtables listing"
    grep -qx 'arptables-legacy -n -L' "$E2E_TMP/calls" && fail "$variant/$arp update: a whole arptables listing"
    assert_eq "$foreign_before" "$(foreign)" "$variant/$arp: foreign rules after the update"
    assert_eq "$counters" "$(eb_counters)" "$variant/$arp: ebtables counters after the update"
    d0 ipset list -n | grep -q "^$A-i1" || fail "$variant/$arp: no rule set of $A after the update"

    # The same update again: nothing to change (idempotent), nothing loaded.
    run_logged -v rules --vm "$A" --vm-id 3 --ip "$A_IP" --mac "$A_MAC" --vif vif7.0 --sig 3 --seq 3 \
      --rules "I:tcp;80;80;$B_IP/32,NEXT I:udp;53;53;10.1.0.0/16,NEXT " > "$E2E_TMP/out"
    assert_eq "nothing to change" "$(cat "$E2E_TMP/out")" "$variant/$arp: the same rules again"
    case $(calls) in *restore*) fail "$variant/$arp: the same rules again loaded: $(calls)" ;; esac

    run_logged destroy --vm "$A"
    assert_narrow destroy
    assert_eq "$foreign_before" "$(foreign)" "$variant/$arp: foreign rules after destroy"
    printf '%s\n' "$before" > "$E2E_TMP/before"
    dump > "$E2E_TMP/after"
    assert_same_file "$E2E_TMP/before" "$E2E_TMP/after" "$variant/$arp: every table after destroy"

    # Take everything down so that the next round starts clean.
    sg destroy --vm "$B"
    d0 sh -c "iptables-$variant -F; iptables-$variant -X; ebtables -F; ebtables -X; ebtables -t nat -F;
      arptables-legacy -F 2>/dev/null; arptables-legacy -X 2>/dev/null; ipset destroy"
    rm -f "$E2E_TMP/state/"*
  done
done
echo "PASS: $TEST_NAME"
