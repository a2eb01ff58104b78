#!/usr/bin/env bash
# The command-line conventions every tool keeps (tools/common/cli_common):
# options of the main command after the subcommand too, an unknown
# subcommand named as such, no single-dash word silently misread (-br is not
# -b r), a cluster of one-letter flags read as the flags, and a bad value
# exiting 2 with the option and what was expected.  No root: nothing here
# reaches the firewall (sg-apply stops at its checks, before the lock).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
tools=$BUILD_DIR/tools
xen6=$SOURCE_DIR/examples/xen6
export VIFWALL_LOCK_FILE=$E2E_TMP/lock VIFWALL_EBTABLES_LOCK=$E2E_TMP/eblock
export VIFWALL_XE=$E2E_TMP/no-xe # never the host's xe

# run TOOL ARGS...: sets rc, out, err.
run() {
  local tool=$1
  shift
  rc=0
  "$tools/$tool" "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err" || rc=$?
  out=$(cat "$E2E_TMP/out")
  err=$(cat "$E2E_TMP/err")
}

# refused STATUS MESSAGE TOOL ARGS...: TOOL exits STATUS and its first
# stderr line is "TOOL: error: MESSAGE".
refused() {
  local status=$1 message=$2
  shift 2
  run "$@"
  assert_eq "$status" "$rc" "exit status of $*"
  assert_eq "$1: error: $message" "$(head -1 <<<"$err")" "message of $*"
}

# --- options of the main command after the subcommand ---------------------------
# reapply of a VM without a recorded state fails on the state file, whose
# path says which --state-dir was read.
mkdir -p "$E2E_TMP/state"
run sg-apply --state-dir "$E2E_TMP/state" reapply --vm i-2-3-VM
before=$err
assert_eq 1 "$rc" "reapply without a state file"
assert_contains "$before" "$E2E_TMP/state/i-2-3-VM" "reapply reads --state-dir given before the subcommand"
run sg-apply reapply --vm i-2-3-VM --state-dir "$E2E_TMP/state"
assert_eq 1 "$rc" "reapply with --state-dir after the subcommand"
assert_eq "$before" "$err" "--state-dir after the subcommand means the same"
run sg-apply reapply --state-dir="$E2E_TMP/state" -v --vm i-2-3-VM
assert_eq "$before" "$err" "--state-dir=DIR and -v after the subcommand"
# ... and the subcommand's own options stay its own.
refused 2 'unknown option "--vm"' sg-apply --vm i-2-3-VM reapply

# --- unknown subcommands and options ------------------------------------------------
run sg-apply frobnicate
assert_eq 2 "$rc" "sg-apply frobnicate"
assert_contains "$(head -1 <<<"$err")" 'sg-apply: error: unknown subcommand "frobnicate"; expected one of: setup, default, systemvm, rules,' "sg-apply frobnicate"
for sub in destroy secondary-ip cleanup rule-logs reapply batch; do
  assert_contains "$err" "$sub" "the subcommands named for frobnicate"
done
run sg-apply --dry-run frobnicate --vm x
assert_contains "$err" 'unknown subcommand "frobnicate"' "an unknown subcommand after options"
refused 2 'unknown option "--bogus"' vif-of --from "$xen6" --all --bogus
refused 2 'unknown option "--bogus" for setup' sg-apply setup --bogus
refused 2 'unknown option "-z"' sg-show -z

# --- single-dash words -------------------------------------------------------------
refused 2 'unknown option "-br": single-dash options are one letter each, and -b takes a value; for -b with the value "r" write -b r or --bridge r' \
  vif-of --from "$xen6" --all -br
assert_eq "" "$out" "nothing printed for -br"
refused 2 'unknown option "-xz": there is no -z (single-dash options are one letter each; long ones begin with --)' \
  vif-of --from "$xen6" --all -xz
refused 2 'unknown option "-vm": there is no -m (single-dash options are one letter each; long ones begin with --)' \
  sg-apply default -vm i-2-3-VM
# A cluster of flags is the flags.
run vif-of --from "$xen6" --all -j -p -x
separate=$out
run vif-of --from "$xen6" --all -jpx
assert_eq 0 "$rc" "vif-of -jpx"
assert_eq "$separate" "$out" "-jpx is -j -p -x"
run vif-of --from "$xen6" -aw
assert_eq 0 "$rc" "vif-of -aw"
assert_contains "$out" "Control domain on host" "-w (never shorten names) in -aw"
# A value is a value, whatever it looks like.
run vif-of --from "$xen6" --iface -br
assert_eq 1 "$rc" "--iface -br: an interface that is not there"
assert_contains "$err" '-br' "the interface -br named"
run vif-of --from "$xen6" -i -br
assert_eq 1 "$rc" "-i -br: an interface that is not there"

# --- invalid values: exit 2, the option and what was expected -------------------------
refused 2 '--domid: expected a number 0-32767, got "abc"' vif-of --from "$xen6" --domid abc
refused 2 '--domid: expected a number 0-32767, got "40000"' vif-of --from "$xen6" -d 40000
refused 2 '--domid: expected a number 0-32767, got "-1"' vif-of --from "$xen6" --domid=-1
refused 2 '--timeout: expected a number of seconds from 0.1 to 3600, got "nan"' vif-of --from "$xen6" --all -t nan
refused 2 '--iptables: expected one of auto, legacy, nft, got "ipchains"' sg-show --iptables ipchains
refused 2 '--iptables: expected one of auto, legacy, nft, got "x"' sg-diff --iptables x
refused 2 '--arp-filter: expected one of arptables, ebtables, got "bogus"' sg-apply setup --arp-filter bogus
refused 2 '--wait: expected a number of seconds from 0 to 86400, got "soon"' sg-apply --wait soon cleanup
refused 2 '--action: expected one of add, del, got "toggle"' \
  sg-apply secondary-ip --vm i-2-3-VM --mac 06:f8:c8:00:00:09 --ip 10.1.1.1 --action toggle
# Values lib/ checks: exit 2 too, before anything runs (sg-apply exited 1).
run sg-apply default --vm i-2-3-VM --vm-id 3 --ip 999.1.1.1 --mac 06:f8:c8:00:00:09 --vif vif7.0
assert_eq 2 "$rc" "sg-apply default with a bad --ip"
assert_contains "$err" "sg-apply: error: --ip: " "the bad --ip named"
assert_contains "$err" '"999.1.1.1"' "the bad --ip quoted"
run sg-apply rules --vm 'i-2-3-VM;' --vm-id 3 --ip 10.1.1.1 --mac 06:f8:c8:00:00:09 --sig a --seq 1 --rules '' --vif vif7.0
assert_eq 2 "$rc" "sg-apply rules with a bad --vm"
assert_contains "$err" "sg-apply: error: --vm: " "the bad --vm named"
run sg-apply rules --vm i-2-3-VM --vm-id 3 --ip 10.1.1.1 --mac 06:f8:c8:00:00:09 --sig a --seq 1 \
  --rules-file "$E2E_TMP/no-such.rules" --vif vif7.0
assert_eq 2 "$rc" "sg-apply rules with a missing --rules-file"
assert_contains "$err" "sg-apply: error: --rules-file: $E2E_TMP/no-such.rules" "the missing rules file named"
printf 'default --vm i-2-3-VM --vm-id 3 --ip 10.1.1.300 --mac 06:f8:c8:00:00:09 --vif vif7.0\n' >"$E2E_TMP/bad.batch"
run sg-apply batch "$E2E_TMP/bad.batch"
assert_eq 2 "$rc" "a batch line with a bad --ip"
assert_contains "$err" "$E2E_TMP/bad.batch:1: --ip: " "the batch line and option named"
printf 'default -vm i-2-3-VM\n' >"$E2E_TMP/dash.batch"
run sg-apply batch "$E2E_TMP/dash.batch"
assert_eq 2 "$rc" "a batch line with -vm"
assert_contains "$err" 'dash.batch:1: unknown option "-vm": there is no -v' "-vm in a batch line"
echo "cli conventions: ok"
