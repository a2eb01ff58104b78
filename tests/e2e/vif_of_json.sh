#!/usr/bin/env bash
# vif-of's JSON against its documented schema (docs/vif-of.schema.json):
# the seed host, a host with guest addresses (IPv4 and IPv6, two NICs) over
# every interface and bridge listing, an orphan, single selections.  No
# root needed.  The --pool form is checked in pool_query.sh.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "$@"
vif_of=$BUILD_DIR/tools/vif-of
schema=$SOURCE_DIR/docs/vif-of.schema.json

# Debian's python3-jsonschema lives in /usr/bin/python3's path.
py=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import jsonschema' 2>/dev/null; then py=$candidate; break; fi
done
[ -n "$py" ] || skip "no python3 with jsonschema (scripts/install-deps installs python3-jsonschema)"

out=$E2E_TMP/json
mkdir -p "$out"
"$vif_of" --from "$SOURCE_DIR/examples/xen6" --all --json >"$out/seed.json"
"$vif_of" --from "$SOURCE_DIR/examples/xen6" i-2-3-VM --json --pretty >"$out/seed-one.json"

host=$SOURCE_DIR/tests/data/snapshots/sample-host
samples=$SOURCE_DIR/tests/data/samples
for links in ip-s-link.txt:ip-s-link ip-j-s-link.json:ip-j-s-link.json ifconfig-a.txt:ifconfig; do
  dir=$E2E_TMP/${links##*:}
  mkdir -p "$dir"
  cp "$host/xe-vm-list" "$host/xe-vif-list" "$dir/"
  cp "$samples/${links%%:*}" "$dir/${links##*:}"
  cp "$samples/brctl-show.txt" "$dir/brctl-show"
  "$vif_of" --from "$dir" --all --json >"$out/${links##*:}.json"
done
"$vif_of" --from "$E2E_TMP/ip-s-link" --iface vif12.0 --json >"$out/orphan.json"
"$vif_of" --from "$E2E_TMP/ip-s-link" --ip 10.1.1.3 --json >"$out/by-ip.json"

"$py" "$SOURCE_DIR/tests/e2e/check_vif_json.py" "$schema" "$out"/*.json || fail "vif-of's JSON does not match its schema"

# The addresses are the guest agent's, per NIC, in table and JSON alike.
"$py" - "$out/ip-s-link.json" <<'PY' || fail "guest addresses per NIC"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema_version"] == 1
vms = {vm["name_label"]: vm for vm in doc["vms"]}
web = {v["name"]: (v["ipv4"], v["ipv6"]) for v in vms["web 1: frontend; eu"]["vifs"]}
assert web == {"vif2.0": (["10.1.1.2"], []), "vif2.1": (["10.1.1.3"], [])}, web
assert [v["ipv4"] for v in vms["i-2-4-VM"]["vifs"]] == [["10.1.1.4"]]
assert all(o["ipv4"] == [] and o["ipv6"] == [] for o in doc["orphans"])
PY
table=$("$vif_of" --from "$E2E_TMP/ip-s-link" --all)
echo "$table"
head -1 <<<"$table" | grep -q ' MAC  *IP  *STATE ' || fail "the table has no IP column after MAC"
grep -Eq '^web 1: frontend; eu .* vif2\.1 .* 10\.1\.1\.3 ' <<<"$table" || fail "vif2.1's address not in the table"
grep -Eq '^stopped-vm .* - +halted' <<<"$table" || fail "a halted VM shows no address"
echo "ok"
