#!/usr/bin/env bash
# vif-of run live in the simulated dom0 of the seed host answers what the host
# file says: it runs (the stand-in) xe, ip -s link and brctl show itself.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"
VIF_OF=$BUILD_DIR/tools/vif-of

name=$(sim_up "$SEED_HOST")
in_dom0() { "$SIM" dom0 "$name" -- "$@"; }

out=$(in_dom0 "$VIF_OF" i-2-3-VM)
echo "$out"
grep -Eq '^i-2-3-VM +7 +vif7\.0 +xenbr0 +06:f8:c8:00:00:09 +[^ ]+ +up ' <<<"$out" ||
  fail "live: i-2-3-VM should be vif7.0 on xenbr0 with guest MAC 06:f8:c8:00:00:09"

out=$(in_dom0 "$VIF_OF" --iface tap8.0)
grep -Eq '^i-2-5-VM +8 +tap8\.0 +xenbr0 ' <<<"$out" || fail "live: tap8.0 should be i-2-5-VM's: $out"

# The whole host, checked against the host file itself.
in_dom0 "$VIF_OF" --all --json > "$E2E_TMP/live.json"
python3 - "$E2E_TMP/live.json" "$SEED_HOST" <<'PY'
import json, re, shlex, sys
doc = json.load(open(sys.argv[1]))
expected = {}   # vm name -> {iface: (bridge, guest mac)}
vm = None
for raw in open(sys.argv[2]):
    line = raw.split("#", 1)[0].strip()
    if not line:
        continue
    words = shlex.split(line)
    if words[0] == "vm":
        vm = words[1]; domid = words[words.index("domid") + 1]
        hvm = "hvm" in words
        expected[vm] = {}
    elif words[0] == "vif":
        dev = words[1]; bridge = words[words.index("bridge") + 1]; mac = words[words.index("mac") + 1]
        expected[vm][f"vif{domid}.{dev}"] = (bridge, mac)
        if hvm:
            expected[vm][f"tap{domid}.{dev}"] = (bridge, mac)
got = {v["name_label"]: {i["name"]: (i["bridge"], i["guest_mac"]) for i in v["vifs"]} for v in doc["vms"]}
assert got == expected, (got, expected)
for v in doc["vms"]:
    for i in v["vifs"]:
        assert i["rx_packets"] is not None and i["mtu"] is not None, i
assert doc["orphans"] == [], doc["orphans"]
PY

# --capture writes a snapshot that answers the same way later, elsewhere.
in_dom0 "$VIF_OF" --capture "$E2E_TMP/snap" 2> "$E2E_TMP/capture.err"
for f in xe-vm-list xe-vif-list ip-s-link brctl-show; do
  [ -s "$E2E_TMP/snap/$f" ] || fail "--capture did not write $f: $(cat "$E2E_TMP/capture.err")"
done
out=$("$VIF_OF" --from "$E2E_TMP/snap" --bridge xapi0)
for port in vif0.0 vif2.0 vif4.0 vif6.1; do
  grep -q " $port " <<<"$out" || fail "snapshot: xapi0 should hold $port: $out"
done

# A hung xe is killed at the timeout and reported; nothing is printed as an answer.
mkdir -p "$E2E_TMP/bin"
printf '#!/bin/sh\nexec sleep 60\n' > "$E2E_TMP/bin/xe"
chmod +x "$E2E_TMP/bin/xe"
set +e
in_dom0 "$VIF_OF" --xe "$E2E_TMP/bin/xe" --timeout 1 --all > "$E2E_TMP/out" 2> "$E2E_TMP/err"
rc=$?
set -e
assert_eq 2 "$rc" "exit status when xe hangs"
assert_contains "$(cat "$E2E_TMP/err")" "timed out after 1000 ms" "message when xe hangs"
echo "PASS: $TEST_NAME"
