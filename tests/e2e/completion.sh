#!/usr/bin/env bash
# bash completion for vif-of: options, VM names (from a snapshot and from the
# cached live list), and that a TAB never waits long for a hung xe.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
export PATH="$BUILD_DIR/tools:$PATH" XDG_RUNTIME_DIR=$E2E_TMP

# complete_with SCRIPT FUNCTION WORDS...: COMPREPLY, one per line.
complete_with() {
    bash -c '
        source "$1"; fn=$2; shift 2
        COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        "$fn"
        printf "%s\n" "${COMPREPLY[@]}"
    ' _ "$@"
}
complete_words() { complete_with "$SOURCE_DIR/completions/vif-of" _vif_of "$@"; }

out=$(complete_words vif-of --js)
[ "$out" = "--json" ] || fail "option completion gave: $out"

out=$(complete_words vif-of --from "$SOURCE_DIR/examples/xen6" i-)
[ "$out" = "i-2-3-VM" ] || fail "VM completion from a snapshot gave: $out"

out=$(complete_words vif-of --from "$SOURCE_DIR/examples/xen6" Con)
[ "$out" = "Control domain on host: Rack1Pod1Host22" ] || fail "a name with spaces must stay one word: $out"

# Live: a fake xe that counts its calls and answers for a pool of two: only
# the VMs running on this member (the inventory's uuid) are offered.
mkdir -p "$E2E_TMP/bin"
here=3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10
there=7f6e5d4c-3b2a-4190-8877-665544332211
echo "INSTALLATION_UUID='$here'" > "$E2E_TMP/inventory"
export VIFWALL_INVENTORY=$E2E_TMP/inventory
cat > "$E2E_TMP/bin/xe" <<XE
#!/bin/sh
echo "call \$1" >> "\$XE_CALLS"
if [ "\$1" = vif-list ]; then
  vif() { printf 'uuid ( RO): %s\n    vm-uuid ( RO): %s\n     device ( RO): %s\n        MAC ( RO): %s\n\n\n' "\$@"; }
  vif bbbb0000-0000-0000-0000-000000000001 aaaa0000-0000-0000-0000-000000000002 1 06:f8:c8:00:00:0a
  vif bbbb0000-0000-0000-0000-000000000002 aaaa0000-0000-0000-0000-000000000002 0 06:F8:C8:00:00:09
  vif bbbb0000-0000-0000-0000-000000000003 aaaa0000-0000-0000-0000-000000000003 0 06:f8:c8:00:00:99
  exit 0
fi
record() { printf 'uuid ( RO)           : %s\n     name-label ( RW): %s\n    power-state ( RO): %s\n         dom-id ( RO): %s\n    resident-on ( RO): %s\n       networks (MRO): %s\n\n\n' "\$@"; }
record aaaa0000-0000-0000-0000-000000000001 'web, one' running 3 $here ''
record aaaa0000-0000-0000-0000-000000000002 i-2-3-VM running 7 $here '0/ip: 10.1.1.2; 0/ipv4/0: 10.1.1.2; 0/ipv6/0: FD00:1:0::5; 1/ip: 10.1.1.3'
record aaaa0000-0000-0000-0000-000000000003 i-9-9-VM running 7 $there '0/ip: 10.9.9.9'
record aaaa0000-0000-0000-0000-000000000004 stopped halted -1 '<not in database>' ''
record aaaa0000-0000-0000-0000-000000000005 r-4-VM paused 6 $here ''
XE
chmod +x "$E2E_TMP/bin/xe"
export XE_CALLS=$E2E_TMP/calls
out=$(VIFWALL_XE=$E2E_TMP/bin/xe vif-of --list-vms)
[ "$out" = "$(printf 'web, one\ni-2-3-VM\nr-4-VM')" ] || fail "--list-vms gave: $out"
# One refresh: the VMs, then their MACs.
[ "$(cat "$E2E_TMP/calls")" = "$(printf 'call vm-list\ncall vif-list')" ] || fail "a refresh asks xe: $(cat "$E2E_TMP/calls")"
out=$(VIFWALL_XE=$E2E_TMP/bin/xe vif-of --list-vms)
[ "$(wc -l < "$E2E_TMP/calls")" -eq 2 ] || fail "the second TAB within the TTL must not call xe"
# The chosen VM's values, from the same cache: its CloudStack id, the guest
# agent's addresses (IPv6 canonical), its MACs by device; no other VM's.
out=$(VIFWALL_XE=$E2E_TMP/bin/xe vif-of --list-vm-values i-2-3-VM)
[ "$out" = "$(printf 'vm-id 3\nip 10.1.1.2\nip 10.1.1.3\nip fd00:1::5\nmac 06:f8:c8:00:00:09\nmac 06:f8:c8:00:00:0a')" ] ||
  fail "--list-vm-values i-2-3-VM gave: $out"
[ "$(wc -l < "$E2E_TMP/calls")" -eq 2 ] || fail "--list-vm-values within the TTL must not call xe"
out=$(VIFWALL_XE=$E2E_TMP/bin/xe vif-of --list-vm-values i-9-9-VM)
[ "$out" = "vm-id 9" ] || fail "a VM of another member has no cached values here: $out"
out=$(VIFWALL_XE=$E2E_TMP/bin/xe vif-of --list-vms --cache-ttl 0)
[ "$(wc -l < "$E2E_TMP/calls")" -eq 4 ] || fail "an expired cache must be refreshed"

# A hung xe: the stale list comes back after the 2 s completion timeout, not after 60 s.
cat > "$E2E_TMP/bin/xe" <<'XE'
#!/bin/sh
exec sleep 60
XE
start=$(date +%s)
out=$(VIFWALL_XE=$E2E_TMP/bin/xe vif-of --list-vms --cache-ttl 0)
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -lt 10 ] || fail "completion waited ${elapsed}s for a hung xe"
grep -qx 'i-2-3-VM' <<<"$out" || fail "a hung xe should give the stale cached list, got: $out"
# sg-apply: subcommands, their options, and VM names from the state directory.
sg_complete() { complete_with "$SOURCE_DIR/completions/sg-apply" _sg_apply "$@"; }
out=$(sg_complete sg-apply def)
[ "$out" = "default" ] || fail "sg-apply subcommand completion gave: $out"
out=$(sg_complete sg-apply rules --rules-)
[ "$out" = "--rules-file" ] || fail "sg-apply rules option completion gave: $out"
# sg-apply's options after the subcommand (they fall through).
out=$(sg_complete sg-apply setup --state)
[ "$out" = "--state-dir" ] || fail "sg-apply setup --state completion gave: $out"
out=$(sg_complete sg-apply batch --dry)
[ "$out" = "--dry-run" ] || fail "sg-apply batch --dry completion gave: $out"
mkdir -p "$E2E_TMP/state"
printf 'vifwall-state 1\nvm i-2-3-VM\n' > "$E2E_TMP/state/i-2-3-VM.state"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" destroy --vm i-)
[ "$out" = "i-2-3-VM" ] || fail "sg-apply destroy --vm completion gave: $out"
# The subcommands CloudStack's contract added, and their options.
out=$(sg_complete sg-apply rule | sort | tr '\n' ' ')
[ "$out" = "rule-logs rules " ] || fail "sg-apply rule completion gave: $out"
out=$(sg_complete sg-apply re)
[ "$out" = "reapply" ] || fail "sg-apply re completion gave: $out"
out=$(sg_complete sg-apply take)
[ "$out" = "takeover" ] || fail "sg-apply take completion gave: $out"
out=$(sg_complete sg-apply cleanup --co)
[ "$out" = "--count" ] || fail "sg-apply cleanup --co completion gave: $out"
out=$(sg_complete sg-apply setup --cl)
[ "$out" = "--cleanup" ] || fail "sg-apply setup --cl completion gave: $out"
out=$(sg_complete sg-apply rules --sec)
[ "$out" = "--sec-ips" ] || fail "sg-apply rules --sec completion gave: $out"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" reapply --vm i-)
[ "$out" = "i-2-3-VM" ] || fail "sg-apply reapply --vm completion gave: $out"
# takeover offers the VMs with CloudStack's log and no state of sg-apply's.
printf 'i-2-3-VM,3,10.147.41.238,7,a,1,06:f8:c8:00:00:09\n' > "$E2E_TMP/state/i-2-3-VM.log"
printf 'i-2-5-VM,5,10.147.41.240,8,_initial_,-1,06:f8:c8:00:00:0b\n' > "$E2E_TMP/state/i-2-5-VM.log"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" takeover --vm i-)
[ "$out" = "i-2-5-VM" ] || fail "sg-apply takeover --vm completion gave: $out"
# The values of the VM named by --vm: vif-of's cache and sg-apply's record.
printf 'vifwall-state 1\nvm i-2-3-VM\nvm-id 3\nip 10.147.41.238\nsecondary-ips 10.147.41.250\nmac 06:f8:c8:00:00:09\n' \
  > "$E2E_TMP/state/i-2-3-VM.state"
export VIFWALL_XE=$E2E_TMP/bin/xe
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" rules --vm i-2-3-VM --ip "" | tr '\n' ' ')
[ "$out" = "10.147.41.238 10.147.41.250 10.1.1.2 10.1.1.3 " ] || fail "sg-apply --ip values (IPv4) gave: $out"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" secondary-ip --vm i-2-3-VM --ip "" | tr '\n' ' ')
[ "$out" = "10.147.41.238 10.147.41.250 10.1.1.2 10.1.1.3 fd00:1::5 " ] || fail "secondary-ip --ip values (both families) gave: $out"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" rules --vm i-2-3-VM --ip 10.1.1 | tr '\n' ' ')
[ "$out" = "10.1.1.2 10.1.1.3 " ] || fail "sg-apply --ip 10.1.1 values gave: $out"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" default --vm i-2-3-VM --mac "" | tr '\n' ' ')
[ "$out" = "06:f8:c8:00:00:09 06:f8:c8:00:00:0a " ] || fail "sg-apply --mac values (no repeats) gave: $out"
# NICs and IPv6: the recorded NICs for destroy --nic, 1-15 for default --nic,
# IPv6 addresses from the record (NIC 0's and the others') and the guest agent.
printf 'vifwall-state 1\nvm i-2-6-VM\nipv6 2001:db8::6\nnic 1 mac 06:f8:c8:00:00:1a ip 10.1.1.6 secondary-ips - ipv6 2001:db8:1::6,2001:db8:1::7 vifs vif9.1\nnic 3 mac 06:f8:c8:00:00:1c ip 10.1.3.6 secondary-ips - ipv6 - vifs vif9.3\n' \
  > "$E2E_TMP/state/i-2-6-VM.state"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" destroy --vm i-2-6-VM --nic "" | tr '\n' ' ')
[ "$out" = "1 3 " ] || fail "sg-apply destroy --nic values gave: $out"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" default --vm i-2-6-VM --nic 1 | tr '\n' ' ')
[ "$out" = "1 10 11 12 13 14 15 " ] || fail "sg-apply default --nic values gave: $out"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" default --vm i-2-6-VM --ip6 "" | tr '\n' ' ')
[ "$out" = "2001:db8::6 2001:db8:1::6 2001:db8:1::7 " ] || fail "sg-apply --ip6 values gave: $out"
out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" default --vm i-2-3-VM --ip6 "" | tr '\n' ' ')
[ "$out" = "fd00:1::5 " ] || fail "sg-apply --ip6 values from the guest agent gave: $out"
out=$(sg_complete sg-apply setup --ipv)
[ "$out" = "--ipv6" ] || fail "sg-apply setup --ipv completion gave: $out"
out=$(sg_complete sg-apply default --vm i-2-3-VM --vm-id "")
[ "$out" = "3" ] || fail "sg-apply --vm-id value gave: $out"
out=$(sg_complete sg-apply default --ip "")
[ -z "$out" ] || fail "without --vm there is no VM to offer values of: $out"
unset VIFWALL_XE
# sg-apply's own records (names starting with '_') are never offered as VMs.
printf 'vifwall-host 1\n' > "$E2E_TMP/state/_host.state"
printf 'x\n' > "$E2E_TMP/state/_host.log"
printf 'x\n' > "$E2E_TMP/state/_lock.log" # a record with no state file of its own
for sub in destroy reapply takeover rules; do
  out=$(sg_complete sg-apply --state-dir "$E2E_TMP/state" $sub --vm "")
  ! grep -q '^_' <<<"$out" || fail "sg-apply $sub --vm offered a record: $out"
done
for tool in sg-show sg-diff sg-check; do
  fn=_${tool//-/_}
  out=$(complete_with "$SOURCE_DIR/completions/$tool" "$fn" "$tool" --state-dir "$E2E_TMP/state" "")
  ! grep -q '^_' <<<"$out" || fail "$tool offered a record: $out"
done
out=$(sg_complete sg-apply --arp-filter e)
[ "$out" = "ebtables" ] || fail "--arp-filter completion gave: $out"
# sg-check: options, the SERVICE word, VM names from a snapshot after --src/--dst/--vm.
check_complete() { complete_with "$SOURCE_DIR/completions/sg-check" _sg_check "$@"; }
out=$(check_complete sg-check --dp)
[ "$out" = "--dport" ] || fail "sg-check option completion gave: $out"
out=$(check_complete sg-check ud)
[ "$out" = "udp/" ] || fail "sg-check service completion gave: $out"
out=$(check_complete sg-check --state e)
[ "$out" = "established" ] || fail "sg-check --state completion gave: $out"
snap=$SOURCE_DIR/tests/data/sgshow/xen6-arptables
out=$(check_complete sg-check --from "$snap" --src i-2-)
[ "$out" = "$(printf 'i-2-3-VM\ni-2-5-VM')" ] || fail "sg-check --src completion from a snapshot gave: $out"
out=$(check_complete sg-check --from "$snap" --vm r-)
[ "$out" = "r-4-VM" ] || fail "sg-check --vm completion from a snapshot gave: $out"
echo "completion: all checks passed"
