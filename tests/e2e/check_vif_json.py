#!/usr/bin/env python3
"""Checks vif-of's JSON against docs/vif-of.schema.json.

  check_vif_json.py SCHEMA FILE...

Every FILE must validate.  First the schema itself is checked to be strict:
documents that break it in the ways a careless change would (a key renamed,
an unknown key, a MAC in ebtables' one-digit form, no schema_version) must
NOT validate, so a schema that accepts anything fails this script.
"""
import copy
import json
import sys

import jsonschema


def errors(validator, doc):
    return sorted(error.message for error in validator.iter_errors(doc))


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    docs = [(path, json.load(open(path))) for path in sys.argv[2:]]
    bad = 0
    for path, doc in docs:
        found = errors(validator, doc)
        for message in found:
            print(f"{path}: {message}")
        bad += bool(found)
    # The schema must refuse what a drifting vif-of would print.
    sample = next((doc for _, doc in docs if any(vm["vifs"] for vm in doc["vms"])), None)
    assert sample is not None, "no document with a VIF to mutate"
    vm = next(vm for vm in sample["vms"] if vm["vifs"])
    mutations = {
        "no schema_version": lambda d: d.pop("schema_version"),
        "schema_version 2": lambda d: d.update(schema_version=2),
        "unknown top-level key": lambda d: d.update(extra=1),
        "VIF key renamed": lambda d: d["vms"][d["vms"].index(vm)]["vifs"][0].update(
            ip=d["vms"][d["vms"].index(vm)]["vifs"][0].pop("ipv4")),
        "one-digit MAC": lambda d: d["vms"][d["vms"].index(vm)]["vifs"][0].update(mac="6:f8:c8:0:0:9"),
        "counter as string": lambda d: d["vms"][d["vms"].index(vm)]["vifs"][0].update(rx_packets="11"),
        "address list as string": lambda d: d["vms"][d["vms"].index(vm)]["vifs"][0].update(ipv4="10.0.0.1"),
    }
    for what, mutate in mutations.items():
        doc = copy.deepcopy(sample)
        mutate(doc)
        if not errors(validator, doc):
            print(f"the schema accepts a document with {what}")
            bad += 1
    print(f"{len(docs)} documents checked, {len(mutations)} mutations refused" if not bad else
          f"{bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
