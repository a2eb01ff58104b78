#!/usr/bin/env bash
# sg-apply on the simulated seed host produces the seed's own ebtables and
# arptables rules for i-2-3-VM (rules and their order in FORWARD,
# DEFAULT_EBTABLES and i-2-3-VM), and a second identical run changes nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init --root --sim "$@"

name=$(sim_up "$SEED_HOST")
sg() { sg_apply_in "$name" "$@"; }
sg setup
sg --arp-filter arptables default --vm i-2-3-VM --vm-id 3 --ip 10.147.41.238 --mac 06:f8:c8:00:00:09

"$SIM" dom0 "$name" -- ebtables-save > "$E2E_TMP/ebtables-save"
arptables_tool=arptables-legacy
"$SIM" dom0 "$name" -- "$arptables_tool" -L -v > "$E2E_TMP/arptables-L"

python3 - "$SOURCE_DIR/tests/data/seed/xenserver-cloudstack-notes.txt" "$E2E_TMP/ebtables-save" "$E2E_TMP/arptables-L" <<'PY'
import re, sys
seed = open(sys.argv[1], encoding="utf-8").read().replace("\u00a0", " ")

def mac(m):
    return ":".join("%02x" % int(p, 16) for p in m.split(":"))

def eb_rules(text):
    chains = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("-A "):
            words = line.split()
            words = [mac(w) if re.fullmatch(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}", w) else w for w in words[2:]]
            chains.setdefault(line.split()[1], []).append(" ".join(words))
    return chains

seed_eb = seed[seed.index("#ebtables-save"):seed.index("Security groups arptables configuration")]
want, got = eb_rules(seed_eb), eb_rules(open(sys.argv[2]).read())
for chain in ("FORWARD", "DEFAULT_EBTABLES", "i-2-3-VM"):
    assert got.get(chain) == want[chain], f"ebtables {chain}:\n got  {got.get(chain)}\n want {want[chain]}"
assert len(want["DEFAULT_EBTABLES"]) == 12 and len(want["i-2-3-VM"]) == 3

def arp_rules(text):
    chains, chain = {}, None
    for line in text.splitlines():
        m = re.match(r"Chain (\S+)", line)
        if m:
            chain = m.group(1); chains[chain] = []; continue
        line = re.sub(r",\s*pcnt=.*$", "", line.strip())
        if not line.startswith("-j"):
            continue
        words = line.split()
        out, i = [], 0
        while i < len(words):
            if words[i] in ("-i", "-o") and words[i + 1] in ("any", "*"):
                i += 2; continue
            if words[i] == "--h-length":
                i += 2; continue
            out.append(words[i]); i += 1
        chains[chain].append(" ".join(out))
    return chains

seed_arp = seed[seed.index("output of 'arptables -L'"):seed.index("Rules reference on xenserver")]
want, got = arp_rules(seed_arp), arp_rules(open(sys.argv[3]).read())
for chain in ("FORWARD", "i-2-3-VM"):
    assert got.get(chain) == want[chain], f"arptables {chain}:\n got  {got.get(chain)}\n want {want[chain]}"
assert len(want["i-2-3-VM"]) == 5
print("seed ebtables and arptables rules reproduced")
PY

# Idempotent: the same calls again change nothing.
before=$("$SIM" dom0 "$name" -- sh -c 'iptables-save -t filter | grep -v "^#"; ebtables -L; arptables-legacy -L; ipset save')
out=$(sg -v setup)
assert_eq "nothing to change" "$out" "second setup"
out=$(sg -v default --vm i-2-3-VM --vm-id 3 --ip 10.147.41.238 --mac 06:f8:c8:00:00:09)
assert_eq "nothing to change" "$out" "second default"
after=$("$SIM" dom0 "$name" -- sh -c 'iptables-save -t filter | grep -v "^#"; ebtables -L; arptables-legacy -L; ipset save')
[ "$before" = "$after" ] || fail "a second identical run changed the tables"

# The state files CloudStack's tooling reads.
assert_eq "i-2-3-VM,3,10.147.41.238,7,_initial_,-1,06:f8:c8:00:00:09" "$(cat "$E2E_TMP/state/i-2-3-VM.log")" "i-2-3-VM.log"
echo "PASS: $TEST_NAME"
