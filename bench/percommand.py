#!/usr/bin/env python3
"""CloudStack's way of programming a host's firewall, as a baseline: one
`iptables` / `ipset` / `ebtables` / `arptables` process per rule.

CloudStack's XenServer plugin (vmops, see /work/shared/reference/
cloudstack-sg.md §2b, §3, §7) never uses a restore tool: every chain, rule,
set and set member is one `util.pread2` subprocess.  To compare like with like,
this module does not re-implement vmops' rule rendering; it turns the change
`sg-apply --dry-run` prints (the exact texts sg-apply would hand to
iptables-restore, ipset restore and ebtables-restore) into the equivalent
commands, one process each, so both ways end with the same ruleset:

* `ipset restore` lines (`create`, `add`, `destroy`, ...) -> `ipset -exist LINE`;
* `iptables-restore --noflush` lines -> `iptables -t TABLE LINE`, where a
  `:CHAIN` line becomes `-N CHAIN` (new chain) or `-F CHAIN` (an existing one:
  that is what --noflush does with a declared user chain), or `-P` for a
  built-in chain's policy;
* the whole-table `ebtables-restore` text -> the `-N`/`-P`/`-D`/`-A`/`-I`/`-X`
  commands that turn the live table into it;
* arptables commands are already one process each in sg-apply.

The cut-off (sg-apply's first ebtables load, which keeps a VM's interfaces
closed while its tables change) is left out: CloudStack has none.  What vmops
does on top (an `iptables-save`, `ebtables-save`, `ipset -v` and `xe` lookups
per call, `ipset -W` swaps through temporary sets) is left out too, so the
baseline is a lower bound for vmops.

Run alone it prints the commands for a dry-run file, one per line:

  bench/percommand.py --iptables legacy --live-iptables SAVE --live-ebtables SAVE DRYRUN
"""

import argparse
import re
import shlex
import sys
from typing import Dict, List, Optional, Set, Tuple

BUILTIN_CHAINS = {"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING", "BROUTING"}

# The section headers of `sg-apply --dry-run` (lib/sg/apply/sg_apply.cpp render_dry_run),
# by prefix; the first matching prefix wins, so "(1/2" comes before the bare name.
SECTION_HEADERS = [
    ("# ipset -exist restore", "ipset_load"),
    ("# ebtables-restore (1/2", "ebtables_cutoff"),
    ("# ebtables-restore (2/2)", "ebtables_final"),
    ("# ebtables-restore", "ebtables_final"),
    ("# arptables commands", "arptables"),
    ("# iptables-restore --noflush", "iptables"),
    ("# ipset restore (after", "ipset_destroy"),
    ("# nothing to change", "nothing"),
]


class DryRunError(Exception):
    pass


def parse_dry_run(text: str) -> Dict[str, List[str]]:
    """The sections of `sg-apply --dry-run` output: name -> lines (no newline).
    An unknown header is an error, so that a change in sg-apply's output is
    noticed instead of silently benchmarking less than it loads."""
    sections: Dict[str, List[str]] = {}
    current: Optional[List[str]] = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("# "):
            name = next((key for prefix, key in SECTION_HEADERS if line.startswith(prefix)), None)
            if name is None:
                raise DryRunError(f"dry-run:{number}: unknown section {line!r}")
            current = sections.setdefault(name, [])
            continue
        if current is None:
            if line.strip():
                raise DryRunError(f"dry-run:{number}: expected a '# ...' section header, got {line!r}")
            continue
        current.append(line)
    return sections


# ---- tables as the save tools print them ---------------------------------------

MAC_WORD = re.compile(r"^[0-9A-Fa-f]{1,2}(:[0-9A-Fa-f]{1,2}){5}(/[0-9A-Fa-f:]+)?$")


def canonical_word(word: str) -> str:
    """ebtables prints MACs without leading zeros (6:0:0:0:0:1c), sg-apply
    and ebtables-save with them: compare MACs in one spelling."""
    if MAC_WORD.match(word):
        mac, _, mask = word.partition("/")
        mac = ":".join(f"{int(part, 16):02x}" for part in mac.split(":"))
        return mac + ("/" + mask.lower() if mask else "")
    return word


class Table:
    """One table of a save/restore text: chains in order, their policies and
    rules (each rule as its words after `-A CHAIN`)."""

    def __init__(self) -> None:
        self.policies: Dict[str, str] = {}
        self.rules: Dict[str, List[List[str]]] = {}

    def chain(self, name: str, policy: str = "-") -> None:
        if name not in self.policies:
            self.policies[name] = policy
            self.rules[name] = []

    def canonical(self, unordered: Set[str] = frozenset()) -> Dict[str, Tuple[str, Tuple]]:
        """Chain -> (policy, rules) with words in one spelling; the chains in
        `unordered` compare as multisets (shared jump chains, where a VM that
        was removed and added again comes back at the end)."""
        out = {}
        for name, policy in self.policies.items():
            rules = [tuple(canonical_word(w) for w in rule) for rule in self.rules[name]]
            if name in unordered:
                rules.sort()
            out[name] = (policy, tuple(rules))
        return out


def parse_table(lines: List[str], table: str = "filter") -> Table:
    """The `*TABLE` part of an iptables-save / ebtables-save / restore text
    (the whole text when it has no `*` lines)."""
    result = Table()
    has_tables = any(line.startswith("*") for line in lines)
    inside = not has_tables
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            inside = line[1:] == table
            continue
        if not inside or line == "COMMIT":
            continue
        if line.startswith(":"):
            words = line[1:].split()
            result.chain(words[0], words[1] if len(words) > 1 else "-")
        elif line.startswith("-A "):
            words = shlex.split(line)
            if words[0] == "-A" and len(words) >= 2:
                result.chain(words[1])
                result.rules[words[1]].append(words[2:])
    return result


# ---- the commands -----------------------------------------------------------------

def ipset_commands(ipset: str, lines: List[str]) -> List[List[str]]:
    return [[ipset, "-exist"] + shlex.split(line) for line in lines if line.strip()]


def iptables_commands(iptables: str, lines: List[str], live_chains: Set[str]) -> List[List[str]]:
    """An `iptables-restore --noflush` text as single iptables commands.
    `-w`: the xtables lock is one file for every network namespace of the
    machine, and a run of thousands of commands would otherwise fail whenever
    another iptables on the machine holds it (CloudStack passes none; the wait
    only happens under contention)."""
    commands: List[List[str]] = []
    existing = set(live_chains)
    table = "filter"
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            table = line[1:]
            continue
        base = [iptables, "-w", "-t", table]
        if line.startswith(":"):
            words = line[1:].split()
            name, policy = words[0], words[1] if len(words) > 1 else "-"
            if name in BUILTIN_CHAINS:
                if policy != "-":
                    commands.append(base + ["-P", name, policy])
            elif name in existing:
                commands.append(base + ["-F", name])
            else:
                commands.append(base + ["-N", name])
                existing.add(name)
            continue
        words = shlex.split(line)
        commands.append(base + words)
        if words[0] in ("-X", "--delete-chain") and len(words) > 1:
            existing.discard(words[1])
    return commands


def ebtables_commands(ebtables: str, live: Table, target: Table) -> List[List[str]]:
    """The commands that turn the live ebtables filter table into `target`
    (a whole-table ebtables-restore text), the way vmops edits it: new chains,
    policies, deleted rules, appended (or inserted) rules, removed chains."""
    def key(rule: List[str]) -> Tuple[str, ...]:
        return tuple(canonical_word(w) for w in rule)

    commands: List[List[str]] = []
    for name, policy in target.policies.items():
        if name not in live.policies:
            commands.append([ebtables, "-t", "filter", "-N", name, "-P", policy])
        elif live.policies[name] != policy:
            commands.append([ebtables, "-t", "filter", "-P", name, policy])
    for name in target.policies:
        old = live.rules.get(name, [])
        new = target.rules[name]
        wanted = {key(rule) for rule in new}
        for rule in old:
            if key(rule) not in wanted:
                commands.append([ebtables, "-t", "filter", "-D", name] + rule)
        current = [key(rule) for rule in old if key(rule) in wanted]
        at = 0
        for index, rule in enumerate(new):
            if at < len(current) and current[at] == key(rule):
                at += 1
                continue
            if key(rule) in current[at:]:
                raise DryRunError(f"ebtables chain {name}: rules would have to move; "
                                  "the per-command conversion only adds and deletes")
            if at == len(current):
                commands.append([ebtables, "-t", "filter", "-A", name] + rule)
            else:
                commands.append([ebtables, "-t", "filter", "-I", name, str(index + 1)] + rule)
                current.insert(at, key(rule))
                at += 1
    for name in live.policies:
        if name not in target.policies and name not in BUILTIN_CHAINS:
            commands.append([ebtables, "-t", "filter", "-F", name])
            commands.append([ebtables, "-t", "filter", "-X", name])
    return commands


def arptables_commands(arptables: str, lines: List[str]) -> List[List[str]]:
    out = []
    for line in lines:
        words = shlex.split(line)
        if words and words[0] == "arptables":
            out.append([arptables] + words[1:])
        elif words:
            raise DryRunError(f"expected an arptables command, got {line!r}")
    return out


def commands_for(sections: Dict[str, List[str]], tools: Dict[str, str], live_iptables_chains: Set[str],
                 live_ebtables: Table) -> List[List[str]]:
    """Every command of the change, in the order that keeps each step valid:
    sets before the rules that match them, ebtables chains before the jumps,
    old sets destroyed last (sg-apply's own order, less the cut-off)."""
    commands = ipset_commands(tools["ipset"], sections.get("ipset_load", []))
    if "ebtables_final" in sections:
        commands += ebtables_commands(tools["ebtables"], live_ebtables,
                                      parse_table(sections["ebtables_final"]))
    commands += arptables_commands(tools["arptables"], sections.get("arptables", []))
    commands += iptables_commands(tools["iptables"], sections.get("iptables", []), live_iptables_chains)
    commands += ipset_commands(tools["ipset"], sections.get("ipset_destroy", []))
    return commands


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dry_run", help="output of `sg-apply --dry-run ...`")
    parser.add_argument("--iptables", default="iptables", help="iptables binary (e.g. iptables-legacy)")
    parser.add_argument("--ebtables", default="ebtables")
    parser.add_argument("--arptables", default="arptables")
    parser.add_argument("--ipset", default="ipset")
    parser.add_argument("--live-iptables", help="iptables-save of the host before the change")
    parser.add_argument("--live-ebtables", help="ebtables-save of the host before the change")
    args = parser.parse_args()
    with open(args.dry_run) as f:
        sections = parse_dry_run(f.read())
    live_chains: Set[str] = set()
    if args.live_iptables:
        with open(args.live_iptables) as f:
            live_chains = set(parse_table(f.read().splitlines()).policies)
    live_eb = Table()
    if args.live_ebtables:
        with open(args.live_ebtables) as f:
            live_eb = parse_table(f.read().splitlines())
    tools = {"iptables": args.iptables, "ebtables": args.ebtables, "arptables": args.arptables,
             "ipset": args.ipset}
    for command in commands_for(sections, tools, live_chains, live_eb):
        print(" ".join(shlex.quote(word) for word in command))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DryRunError as error:
        print(f"percommand: {error}", file=sys.stderr)
        sys.exit(1)
