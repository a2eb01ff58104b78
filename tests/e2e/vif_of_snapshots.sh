#!/usr/bin/env bash
# vif-of over snapshot directories: the seed host (examples/xen6) and a host
# the parsers were not written against (tests/data/snapshots/sample-host plus
# the real Debian outputs in tests/data/samples), in every combination of
# interface listing and bridge listing.  No root needed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
vif_of=$BUILD_DIR/tools/vif-of

# --- the seed host -----------------------------------------------------------
out=$("$vif_of" --from "$SOURCE_DIR/examples/xen6" i-2-3-VM)
echo "$out"
grep -Eq '^i-2-3-VM +7 +vif7\.0 +xenbr0 ' <<<"$out" || fail "i-2-3-VM is not vif7.0 on xenbr0"
[ "$(wc -l <<<"$out")" -eq 2 ] || fail "i-2-3-VM should have exactly one interface"

out=$("$vif_of" --from "$SOURCE_DIR/examples/xen6" v-2-VM)
grep -Eq '^v-2-VM +2 +vif2\.0 +xapi0 ' <<<"$out" || fail "v-2-VM vif2.0 not on xapi0"
grep -Eq '^v-2-VM +2 +vif2\.1 +xenbr0 ' <<<"$out" || fail "v-2-VM vif2.1 not on xenbr0"
grep -Eq '^v-2-VM +2 +vif2\.2 +xenbr0 ' <<<"$out" || fail "v-2-VM vif2.2 not on xenbr0"
[ "$(wc -l <<<"$out")" -eq 4 ] || fail "v-2-VM should have exactly three interfaces"

# Reverse lookups and exit statuses.
out=$("$vif_of" --from "$SOURCE_DIR/examples/xen6" --iface vif4.2)
grep -Eq '^s-1-VM +4 +vif4\.2 +xenbr0 ' <<<"$out" || fail "--iface vif4.2 is not s-1-VM's"
set +e
"$vif_of" --from "$SOURCE_DIR/examples/xen6" no-such-vm >/dev/null 2>"$E2E_TMP/err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "a missing VM must exit 1, got $rc"
grep -q 'no VM with name-label, uuid or uuid prefix "no-such-vm"' "$E2E_TMP/err" || fail "missing-VM message: $(cat "$E2E_TMP/err")"
set +e
"$vif_of" --from "$SOURCE_DIR/examples/xen6" --bogus >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "an unknown option must exit 2, got $rc"
# uuid prefix
out=$("$vif_of" --from "$SOURCE_DIR/examples/xen6" 44b0e85e)
grep -q 'vif7.0' <<<"$out" || fail "uuid prefix lookup"

# JSON of the whole seed host.
"$vif_of" --from "$SOURCE_DIR/examples/xen6" --all --json > "$E2E_TMP/seed.json"
python3 - "$E2E_TMP/seed.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
vms = {vm["name_label"]: vm for vm in doc["vms"]}
assert set(vms) == {"s-1-VM", "i-2-3-VM", "r-4-VM", "v-2-VM",
                    "Control domain on host: Rack1Pod1Host22"}, vms.keys()
def bridges(name):
    return {v["name"]: v["bridge"] for v in vms[name]["vifs"]}
assert bridges("i-2-3-VM") == {"vif7.0": "xenbr0"}
assert bridges("v-2-VM") == {"vif2.0": "xapi0", "vif2.1": "xenbr0", "vif2.2": "xenbr0"}
assert bridges("s-1-VM") == {"vif4.0": "xapi0", "vif4.1": "xenbr0", "vif4.2": "xenbr0", "vif4.3": "xenbr0"}
assert bridges("r-4-VM") == {"vif6.0": "xenbr0", "vif6.1": "xapi0"}
assert bridges("Control domain on host: Rack1Pod1Host22") == {"vif0.0": "xapi0"}
vif70 = vms["i-2-3-VM"]["vifs"][0]
assert vif70 == {"name": "vif7.0", "kind": "vif", "device": 0, "bridge": "xenbr0",
                 "mac": "fe:ff:ff:ff:ff:ff", "guest_mac": None, "ipv4": [], "ipv6": [],
                 "mtu": 1500, "state": "up",
                 "rx_packets": 11, "rx_bytes": 1098, "rx_errors": 0, "rx_dropped": 0,
                 "tx_packets": 40, "tx_bytes": 13418, "tx_errors": 0, "tx_dropped": 7}, vif70
assert vms["i-2-3-VM"]["dom_id"] == 7 and vms["i-2-3-VM"]["power_state"] is None
assert doc["orphans"] == []
PY

# --- a host never seen, every input combination -----------------------------
host=$SOURCE_DIR/tests/data/snapshots/sample-host
samples=$SOURCE_DIR/tests/data/samples
for links in ip-link.txt:ip-link ip-o-link.txt:ip-o-link ip-s-link.txt:ip-s-link \
             ip-s-s-link.txt:ip-s-s-link ip-d-link.txt:ip-d-link \
             ip-j-s-link.json:ip-j-s-link.json ip-j-link.json:ip-j-link.json \
             ifconfig-a.txt:ifconfig; do
  for bridges in brctl-show.txt:brctl-show bridge-link-show.txt:bridge-link none; do
    dir=$E2E_TMP/${links##*:}-${bridges##*:}
    mkdir -p "$dir"
    cp "$host/xe-vm-list" "$host/xe-vif-list" "$dir/"
    cp "$samples/${links%%:*}" "$dir/${links##*:}"
    [ "$bridges" = none ] || cp "$samples/${bridges%%:*}" "$dir/${bridges##*:}"
    "$vif_of" --from "$dir" --all --json > "$dir/out.json" || fail "vif-of failed on $dir"
    python3 - "$dir/out.json" "${links##*:}" "${bridges##*:}" <<'PY' || fail "wrong mapping for $dir"
import json, sys
doc = json.load(open(sys.argv[1])); links = sys.argv[2]; bridges = sys.argv[3]
vms = {vm["name_label"]: vm for vm in doc["vms"]}
know_bridges = not (links == "ifconfig" and bridges == "none")
has_stats = links in ("ip-s-link", "ip-s-s-link", "ip-j-s-link.json", "ifconfig")
expect = {
    "web 1: frontend; eu": [("vif2.0", "vif", 0, "06:f8:c8:00:00:09"), ("vif2.1", "vif", 1, "06:f8:c8:00:00:0a")],
    "i-2-4-VM": [("vif4.0", "vif", 0, "06:f8:c8:00:00:0b")],
    "hvm guest": [("tap5.0", "tap", 0, "06:f8:c8:00:00:0c")],
    "Control domain on host: scratch": [],
    "stopped-vm": [],
}
assert set(vms) == set(expect), vms.keys()
for name, vifs in expect.items():
    got = [(v["name"], v["kind"], v["device"], v["guest_mac"]) for v in vms[name]["vifs"]]
    assert got == vifs, (name, got)
    for v in vms[name]["vifs"]:
        assert v["bridge"] == ("xenbr0" if know_bridges else None), (name, v)
        assert v["mac"] == "fe:ff:ff:ff:ff:ff", v
        assert (v["rx_packets"] is not None) == has_stats, v
        assert v["mtu"] == 1500
assert vms["stopped-vm"]["power_state"] == "halted" and vms["stopped-vm"]["dom_id"] == -1
assert vms["tap5.0" and "hvm guest"]["vifs"][0]["state"] == "down"
orphans = [(o["name"], o["dom_id"], o["bridge"]) for o in doc["orphans"]]
assert orphans == [("vif12.0", 12, "xenbr-longname1" if know_bridges else None)], orphans
PY
  done
done

# Reverse lookups on the never-seen host, by MAC in another spelling and by IP.
dir=$E2E_TMP/ip-s-link-brctl-show
out=$("$vif_of" --from "$dir" --mac 6:F8:C8:0:0:A)
grep -q '^web 1: frontend; eu ' <<<"$out" || fail "--mac lookup: $out"
grep -q 'vif2.1' <<<"$out" || fail "--mac should select vif2.1"
out=$("$vif_of" --from "$dir" --ip 10.1.1.4)
grep -q '^i-2-4-VM ' <<<"$out" || fail "--ip lookup: $out"
out=$("$vif_of" --from "$dir" --bridge xenbr0)
for port in eth0 vif2.0 vif2.1 vif4.0 tap5.0; do
  grep -q " $port " <<<"$out" || fail "--bridge xenbr0 misses $port"
done
grep -Eq '^\(dom0\) +- +eth0 ' <<<"$out" || fail "the uplink should show as (dom0)"

# Single-file inputs, one from stdin.
out=$("$vif_of" --xe-vm-list "$SOURCE_DIR/examples/xen6/xe-vm-list" --links - \
        --bridges "$SOURCE_DIR/examples/xen6/brctl-show" r-4-VM < "$SOURCE_DIR/examples/xen6/ifconfig")
grep -Eq '^r-4-VM +6 +vif6\.1 +xapi0 ' <<<"$out" || fail "single files + stdin"

# Bad input names the file and the line.
mkdir -p "$E2E_TMP/bad"
cp "$SOURCE_DIR/examples/xen6/xe-vm-list" "$SOURCE_DIR/examples/xen6/brctl-show" "$E2E_TMP/bad/"
sed 's/RX packets:11 /RX packets:eleven /' "$SOURCE_DIR/examples/xen6/ifconfig" > "$E2E_TMP/bad/ifconfig"
set +e
"$vif_of" --from "$E2E_TMP/bad" --all > /dev/null 2> "$E2E_TMP/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "bad input must exit 2, got $rc"
# (The path is matched as a string: a build directory may hold regex characters.)
grep -F "vif-of: error: $E2E_TMP/bad/ifconfig:" "$E2E_TMP/err" | grep -Eq ':[0-9]+: expected' ||
  fail "bad input message: $(cat "$E2E_TMP/err")"
echo "vif_of_snapshots: all checks passed"
