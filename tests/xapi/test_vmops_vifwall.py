#!/usr/bin/env python3
"""Tests of vifwall's vmops wrapper (xapi/vmops-vifwall) and its installer
(xapi/install), called as XAPI calls a plugin.

XAPI runs /etc/xapi.d/plugins/vmops with one argument, an XML-RPC
methodCall FN(session, {args}), and reads one XML-RPC methodResponse from
stdout (xapi-project/xen-api ocaml/xapi/xapi_plugins.ml: call_plugin
marshals the args as a struct of strings, runs the file with
Forkhelpers.execute_command_get_output, a non-zero exit is
XENAPI_PLUGIN_FAILURE "non-zero exit", and the Success value must be a
string).  These tests do the same, with the stand-in XenAPIPlugin of this
directory, a stand-in sg-apply that records its argument vector and
answers as told, and a stand-in CloudStack vmops.

The contract, read at the source (apache/cloudstack; paths below are in
that repository).  Plugin side: scripts/vm/hypervisor/xenserver/vmops
@1502b6056d81 (its XenAPIPlugin.dispatch table; xenserver84/vmops is the
Python 3 port with the same functions).  Caller side:
plugins/hypervisors/xenserver/src/main/java/com/cloud/hypervisor/xenserver/
resource/CitrixResourceBase.java (callHostPlugin: args are a String map,
the result has every "\\n" removed, a XenAPI failure becomes a
CloudRuntimeException) and resource/wrapper/xenbase/Citrix*Wrapper.java.

  function                        args (CloudStack's names)                     return the Java side checks
  can_bridge_firewall             host_uuid, instance                           'true' / 'false' (Boolean.valueOf) --
                                  (vmops: host_uuid unused here, instance       CitrixResourceBase.canBridgeFirewall(conn),
                                  optional, default 'VM')                       from CitrixSetupCommandWrapper; false fails setup
  default_network_rules           vmName, vmIP, vmMAC, vmID, secIps             'true' / 'false' -- CitrixStartCommandWrapper,
                                  (vmops pops all five; secIps "ip;ip;" or      once per SG NIC; result == null || isEmpty ||
                                  "0;", ":" before 4.12)                        !parseBoolean -> warning
  default_network_rules_systemvm  vmName                                        'true' / 'false' -- CitrixStartCommandWrapper,
                                                                                CitrixNetworkRulesSystemVmCommandWrapper
  network_rules                   vmName, vmIP, vmMAC, vmID, signature, seqno,  'true' / 'false' ('false' or None on failure:
                                  deflated="true", rules (base64 of zlib),      vmops catches everything) --
                                  secIps; vmops: deflated and secIps optional   CitrixSecurityGroupRulesCommandWrapper:
                                  (args.get), deflated compared lower-cased     not parseBoolean -> "programming network
                                                                                rules failed"
  destroy_network_rules_for_vm    vmName                                        'true' (vmops always) -- CitrixStopCommandWrapper,
                                                                                CitrixMigrateCommandWrapper (BooleanUtils.toBoolean;
                                                                                'false' is only a warning)
  network_rules_vmSecondaryIp     vmName, vmMac, vmSecIp, action                'true' / 'false' --
                                  (action "-A" add / "-D" remove:               CitrixNetworkRulesVmSecondaryIpCommandWrapper
                                  core/.../NetworkRulesVmSecondaryIpCommand)
  get_rule_logs_for_vms           host_uuid                                     'name,id,ip,domid,sig,seq' per i- VM joined by
                                                                                ';' ('' for none, ' ' when vmops cannot read the
                                                                                host) -- CitrixResourceBase.syncNetworkGroups:
                                                                                split(";"), split(","), entries of 6 fields only
  cleanup_rules                   instance                                      the count as a decimal string, '-1' on failure --
                                                                                CitrixCleanupNetworkRulesCmdWrapper:
                                                                                Integer.parseInt(result), < 0 -> failed

Each row is pinned by a test of the Contract class below (the argument
names and the return strings), and by the SgFunctions tests (the sg-apply
argument vector each call becomes).

Python 2.7 (XenServer 7.x) is tested as test_plugin_vifwall.py does: when
an interpreter is found, the same cases run under it.

Run: python3 tests/xapi/test_vmops_vifwall.py [-v]
"""

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import xmlrpc.client
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
WRAPPER = os.path.join(SOURCE, "xapi", "vmops-vifwall")
INSTALLER = os.path.join(SOURCE, "xapi", "install")
SESSION = "OpaqueRef:6b3e2b0e-1d7c-4a8e-9f3a-2c5d8e1f0a11"
HOST_UUID = "3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10"



from python27 import NO_PYTHON27, PYTHON27  # noqa: E402 (tests/xapi on sys.path)


def write_script(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)

RULES = "I:tcp;22;22;0.0.0.0/0,NEXT I:icmp;-1;-1;10.0.0.0/8,NEXT E:all;0;0;0.0.0.0/0,NEXT "
RULES_DEFLATED = base64.b64encode(zlib.compress(RULES.encode())).decode()

# The stand-in sg-apply: appends its argv (a JSON list) to $SG_RECORD,
# prints $SG_STDOUT, sleeps $SG_SLEEP, exits $SG_EXIT.
SG_APPLY = """#!%s
import json, os, sys, time
with open(os.environ["SG_RECORD"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
sys.stdout.write(os.environ.get("SG_STDOUT", ""))
sys.stderr.write(os.environ.get("SG_STDERR", ""))
time.sleep(float(os.environ.get("SG_SLEEP", "0")))
sys.exit(int(os.environ.get("SG_EXIT", "0")))
""" % sys.executable

# A stand-in CloudStack vmops: its own dispatch table (storage, VR, ping
# helpers, and the SG functions, which must never be reached).  It imports
# cloudstack_pluginlib, which lives beside it, as the real one does.
CLOUDSTACK_VMOPS = """#!%s
# CloudStack's vmops (test stand-in) %s
import os, sys
import XenAPIPlugin
import cloudstack_pluginlib

def pingxenserver(session, args):
    return 'success'

def setup_iscsi(session, args):
    return 'iscsi:' + args['uuid']

def whoami(session, args):
    return '%%s|%%s|%%s' %% (os.path.basename(sys.executable), sys.argv[0], cloudstack_pluginlib.NAME)

def sg(session, args):
    return 'REACHED-CLOUDSTACK-VMOPS'

if __name__ == "__main__":
    XenAPIPlugin.dispatch({"pingxenserver": pingxenserver, "setup_iscsi": setup_iscsi, "whoami": whoami,
                           "network_rules": sg, "can_bridge_firewall": sg, "cleanup_rules": sg})
"""


def cloudstack_vmops(interpreter, version="4.20"):
    return CLOUDSTACK_VMOPS % (interpreter, version)


class Case(unittest.TestCase):
    """A temporary root with a stand-in sg-apply; calls a plugin file as XAPI does."""

    interpreter = None  # None: exec the file (its #! line); else run it with this Python

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vmops-vifwall-test.")
        self.bin = os.path.join(self.tmp, "bin dir")  # a blank: argument vectors, never a shell
        os.mkdir(self.bin)
        self.record = os.path.join(self.tmp, "sg-apply.argv")
        write_script(os.path.join(self.bin, "sg-apply"), SG_APPLY)
        self.extra_env = {}
        # The plugin's #! line looks python3 up in PATH: find this one first
        # (pyenv's shims are slow, and may pick another version).
        self.pybin = os.path.join(self.tmp, "python-bin")
        os.mkdir(self.pybin)
        os.symlink(os.path.realpath(sys.executable), os.path.join(self.pybin, "python3"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def python(self):
        return self.interpreter or sys.executable

    def env(self, **extra):
        env = dict(os.environ)
        env.update({"PYTHONPATH": HERE, "VIFWALL_BIN_DIR": self.bin, "SG_RECORD": self.record,
                    "PYTHONDONTWRITEBYTECODE": "1", "PATH": self.pybin + os.pathsep + env.get("PATH", "")})
        env.update(self.extra_env)
        env.update(extra)
        return env

    def sg_answers(self, stdout="", exit=0, stderr="", sleep=0):
        self.extra_env.update({"SG_STDOUT": stdout, "SG_EXIT": str(exit), "SG_STDERR": stderr,
                               "SG_SLEEP": str(sleep)})

    def recorded(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(line) for line in f]

    def call_file(self, plugin, fn, args=None, env=None):
        """('Success', value) or ('Failure', [code, params...])."""
        call = xmlrpc.client.dumps((SESSION, args or {}), fn)
        argv = ([self.interpreter] if self.interpreter else []) + [plugin, call]
        proc = subprocess.run(argv, env=env or self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, "the plugin failed (xapi: non-zero exit): %r" % proc.stderr)
        (response,), method = xmlrpc.client.loads(proc.stdout.decode())
        self.assertIsNone(method)
        if response["Status"] == "Success":
            self.assertIsInstance(response["Value"], str)  # xapi: XMLRPC.From.string
            return "Success", response["Value"]
        self.assertEqual(response["Status"], "Failure")
        return "Failure", response["ErrorDescription"]

    def call(self, fn, args=None, env=None):
        return self.call_file(WRAPPER, fn, args, env)

    def value(self, fn, args=None, env=None):
        status, value = self.call(fn, args, env)
        self.assertEqual(status, "Success", value)
        return value


# CloudStack's calls, argument for argument, as the Java wrappers make them.
CALLS = {
    "can_bridge_firewall": {"host_uuid": HOST_UUID, "instance": "VM"},
    "default_network_rules": {"vmName": "i-2-3-VM", "vmIP": "10.147.41.238", "vmMAC": "06:f8:c8:00:00:09",
                              "vmID": "3", "secIps": "10.147.41.239;10.147.41.240;"},
    "default_network_rules_systemvm": {"vmName": "r-4-VM"},
    "network_rules": {"vmName": "i-2-3-VM", "vmIP": "10.147.41.238", "vmMAC": "06:f8:c8:00:00:09", "vmID": "3",
                      "signature": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "seqno": "7", "deflated": "true",
                      "rules": RULES_DEFLATED, "secIps": "0;"},
    "destroy_network_rules_for_vm": {"vmName": "i-2-3-VM"},
    "network_rules_vmSecondaryIp": {"vmName": "i-2-3-VM", "vmMac": "06:f8:c8:00:00:09",
                                    "vmSecIp": "10.147.41.239", "action": "-A"},
    "get_rule_logs_for_vms": {"host_uuid": HOST_UUID},
    "cleanup_rules": {"instance": "VM"},
}

# ... and the sg-apply argument vectors they become.
ARGV = {
    "can_bridge_firewall": ["setup", "--cleanup"],
    "default_network_rules": ["default", "--vm", "i-2-3-VM", "--vm-id", "3", "--ip", "10.147.41.238",
                              "--mac", "06:f8:c8:00:00:09", "--sec-ips", "10.147.41.239;10.147.41.240;"],
    "default_network_rules_systemvm": ["systemvm", "--vm", "r-4-VM"],
    "network_rules": ["rules", "--vm", "i-2-3-VM", "--vm-id", "3", "--ip", "10.147.41.238",
                      "--mac", "06:f8:c8:00:00:09", "--sig", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "--seq", "7",
                      "--rules", RULES_DEFLATED, "--deflated", "--sec-ips", "0;"],
    "destroy_network_rules_for_vm": ["destroy", "--vm", "i-2-3-VM"],
    "network_rules_vmSecondaryIp": ["secondary-ip", "--vm", "i-2-3-VM", "--mac", "06:f8:c8:00:00:09",
                                    "--ip", "10.147.41.239", "--action", "add"],
    "get_rule_logs_for_vms": ["rule-logs"],
    "cleanup_rules": ["cleanup", "--count"],
}

# What sg-apply prints on success, and what the function then returns.
SUCCESS = {
    "get_rule_logs_for_vms": ("i-2-3-VM,3,10.147.41.238,7,0f1e2d3c,7;i-2-5-VM,5,10.147.41.9,8,_initial_,-1\n",
                              "i-2-3-VM,3,10.147.41.238,7,0f1e2d3c,7;i-2-5-VM,5,10.147.41.9,8,_initial_,-1"),
    "cleanup_rules": ("2\n", "2"),
}
# What each returns when sg-apply fails: what CloudStack's vmops returns on failure.
FAILURE = {"get_rule_logs_for_vms": " ", "cleanup_rules": "-1"}


class Contract(unittest.TestCase):
    """CloudStack's side of the contract, pinned (see the table at the top)."""

    def test_the_security_group_functions(self):
        self.assertEqual(sorted(CALLS), sorted([
            "can_bridge_firewall", "default_network_rules", "default_network_rules_systemvm", "network_rules",
            "destroy_network_rules_for_vm", "network_rules_vmSecondaryIp", "get_rule_logs_for_vms",
            "cleanup_rules"]))

    def test_argument_names(self):
        names = {fn: sorted(args) for fn, args in CALLS.items()}
        self.assertEqual(names, {
            "can_bridge_firewall": ["host_uuid", "instance"],
            "default_network_rules": ["secIps", "vmID", "vmIP", "vmMAC", "vmName"],
            "default_network_rules_systemvm": ["vmName"],
            "network_rules": ["deflated", "rules", "secIps", "seqno", "signature", "vmID", "vmIP", "vmMAC",
                              "vmName"],
            "destroy_network_rules_for_vm": ["vmName"],
            "network_rules_vmSecondaryIp": ["action", "vmMac", "vmName", "vmSecIp"],  # vmMac, not vmMAC
            "get_rule_logs_for_vms": ["host_uuid"],
            "cleanup_rules": ["instance"],
        })

    def test_rules_transport(self):
        # compressStringifiedRules: DeflaterOutputStream (zlib) + Base64.
        self.assertEqual(zlib.decompress(base64.b64decode(CALLS["network_rules"]["rules"])).decode(), RULES)

    def test_rule_log_entries_have_six_fields(self):
        # syncNetworkGroups keeps entries of exactly 6 comma-separated fields.
        for entry in SUCCESS["get_rule_logs_for_vms"][1].split(";"):
            self.assertEqual(len(entry.split(",")), 6)


class SgFunctions(Case):
    """Every security-group function: the sg-apply argv and the return string."""

    def test_each_call_runs_sg_apply_once_with_these_arguments(self):
        for fn in sorted(CALLS):
            with self.subTest(fn=fn):
                os.path.exists(self.record) and os.unlink(self.record)
                stdout, expected = SUCCESS.get(fn, ("", "true"))
                self.sg_answers(stdout=stdout)
                self.assertEqual(self.value(fn, dict(CALLS[fn])), expected)
                self.assertEqual(self.recorded(), [ARGV[fn]])

    def test_sg_apply_failing(self):
        for status in (1, 75):
            for fn in sorted(CALLS):
                with self.subTest(fn=fn, status=status):
                    self.sg_answers(stdout=SUCCESS.get(fn, ("",))[0], exit=status, stderr="sg-apply: error: no\n")
                    self.assertEqual(self.value(fn, dict(CALLS[fn])), FAILURE.get(fn, "false"))

    def test_sg_apply_missing(self):
        os.unlink(os.path.join(self.bin, "sg-apply"))
        for fn in sorted(CALLS):
            with self.subTest(fn=fn):
                self.assertEqual(self.value(fn, dict(CALLS[fn])), FAILURE.get(fn, "false"))

    def test_sg_apply_killed_after_the_timeout(self):
        self.sg_answers(sleep=30)
        start = time.monotonic()
        self.assertEqual(self.value("network_rules", dict(CALLS["network_rules"]),
                                    env=self.env(VIFWALL_VMOPS_TIMEOUT="1")), "false")
        self.assertLess(time.monotonic() - start, 15)

    def test_unexpected_output_is_a_failure(self):
        self.sg_answers(stdout="lots\n")
        self.assertEqual(self.value("cleanup_rules", {"instance": "VM"}), "-1")
        self.sg_answers(stdout="i-2-3-VM,3,<b>\n")
        self.assertEqual(self.value("get_rule_logs_for_vms", {"host_uuid": HOST_UUID}), " ")

    def test_no_rule_logs_is_the_empty_string(self):
        self.sg_answers(stdout="\n")
        self.assertEqual(self.value("get_rule_logs_for_vms", {"host_uuid": HOST_UUID}), "")

    def test_cleanup_count_zero(self):
        self.sg_answers(stdout="0\n")
        self.assertEqual(self.value("cleanup_rules", {}), "0")  # instance is optional
        self.assertEqual(self.recorded(), [["cleanup", "--count"]])

    def test_can_bridge_firewall_optional_arguments(self):
        self.assertEqual(self.value("can_bridge_firewall", {"host_uuid": HOST_UUID}), "true")
        self.assertEqual(self.value("can_bridge_firewall", {}), "true")
        self.assertEqual(self.recorded(), [["setup", "--cleanup"]] * 2)

    def test_network_rules_plain_rules(self):
        args = dict(CALLS["network_rules"], rules=RULES)
        del args["deflated"]
        self.assertEqual(self.value("network_rules", args), "true")
        self.assertEqual(self.recorded()[0][-4:], ["--rules", RULES, "--sec-ips", "0;"])
        args["deflated"] = "false"
        self.assertEqual(self.value("network_rules", args), "true")
        self.assertNotIn("--deflated", self.recorded()[1])

    def test_network_rules_deflated_is_case_insensitive(self):
        # vmops: deflated.lower() == 'true'
        self.assertEqual(self.value("network_rules", dict(CALLS["network_rules"], deflated="True")), "true")
        self.assertIn("--deflated", self.recorded()[0])

    def test_network_rules_chunked_base64(self):
        # commons-codec before 1.5 breaks base64 lines with CRLF every 76 characters
        long_rules = "".join("I:tcp;%d;%d;10.%d.0.0/16,NEXT " % (p, p, p % 250) for p in range(1, 400))
        data = base64.b64encode(zlib.compress(long_rules.encode())).decode()
        chunked = "\r\n".join(data[i:i + 76] for i in range(0, len(data), 76)) + "\r\n"
        self.assertEqual(self.value("network_rules", dict(CALLS["network_rules"], rules=chunked)), "true")
        argv = self.recorded()[0]
        self.assertEqual(argv[argv.index("--rules") + 1], data)

    def test_network_rules_empty_rule_set(self):
        args = dict(CALLS["network_rules"], rules="")
        del args["deflated"]
        self.assertEqual(self.value("network_rules", args), "true")
        argv = self.recorded()[0]
        self.assertEqual(argv[argv.index("--rules") + 1], "")

    def test_network_rules_without_sec_ips(self):
        # CloudStack before secondary IPs sent no secIps (vmops: args.get)
        args = dict(CALLS["network_rules"])
        del args["secIps"]
        self.assertEqual(self.value("network_rules", args), "true")
        self.assertEqual(self.recorded()[0][-3:], ["--rules", RULES_DEFLATED, "--deflated"])

    def test_network_rules_largest_call_xapi_can_make(self):
        # xapi passes the whole methodCall as one argument (xapi_plugins.ml), so
        # a call that reaches the plugin at all has rules that fit in one
        # argument of sg-apply (Linux MAX_ARG_STRLEN, 128 KiB).
        args = dict(CALLS["network_rules"], rules="A" * 120000)
        self.assertEqual(self.value("network_rules", args), "true")
        self.assertEqual(len(self.recorded()[0][self.recorded()[0].index("--rules") + 1]), 120000)

    def test_old_colon_separated_sec_ips(self):
        # Before 4.12 CitrixStartCommandWrapper joined secondary IPs with ":" ("0:" for none).
        for given, passed in (("10.1.1.2:10.1.1.3:", "10.1.1.2;10.1.1.3;"), ("0:", "0;")):
            os.path.exists(self.record) and os.unlink(self.record)
            self.assertEqual(self.value("default_network_rules", dict(CALLS["default_network_rules"],
                                                                      secIps=given)), "true")
            self.assertEqual(self.recorded()[0][-2:], ["--sec-ips", passed])

    def test_default_network_rules_without_sec_ips(self):
        args = dict(CALLS["default_network_rules"])
        del args["secIps"]
        self.assertEqual(self.value("default_network_rules", args), "true")
        self.assertEqual(self.recorded(), [ARGV["default_network_rules"][:-2]])

    def test_secondary_ip_remove(self):
        args = dict(CALLS["network_rules_vmSecondaryIp"], action="-D")
        self.assertEqual(self.value("network_rules_vmSecondaryIp", args), "true")
        self.assertEqual(self.recorded()[0][-2:], ["--action", "del"])

    def test_unknown_arguments_are_ignored(self):
        # as vmops ignores them; a newer CloudStack may send more (KVM has vmIP6)
        args = dict(CALLS["destroy_network_rules_for_vm"], vmIP6="fd00::5", colour="$(reboot)")
        self.assertEqual(self.value("destroy_network_rules_for_vm", args), "true")
        self.assertEqual(self.recorded(), [ARGV["destroy_network_rules_for_vm"]])

    def test_sg_apply_runs_with_lc_all_c_and_no_shell(self):
        write_script(os.path.join(self.bin, "sg-apply"),
                     "#!/bin/sh\nprintf '%s' \"$LC_ALL\" > '" + self.record + "'\n")
        self.assertEqual(self.value("destroy_network_rules_for_vm", {"vmName": "i-2-3-VM"}), "true")
        with open(self.record) as f:
            self.assertEqual(f.read(), "C")


BAD = [
    # (function, argument, bad values)
    ("default_network_rules", "vmName", ["", "i-2-3-VM;reboot", "-rf", "i 2", "a" * 65, "i-2-3-VM\n", "$(id)",
                                         "../../etc"]),
    ("default_network_rules", "vmIP", ["", "10.1.1", "10.1.1.256", "010.1.1.1", "10.1.1.1 ", "fd00::1",
                                       "10.1.1.1;id"]),
    ("default_network_rules", "vmMAC", ["", "06:f8:c8:00:00", "06-f8-c8-00-00-09", "06:f8:c8:00:00:0g",
                                        "--help"]),
    ("default_network_rules", "vmID", ["", "-3", "3a", "1" * 20, " 3"]),
    ("default_network_rules", "secIps", ["", "0", "10.1.1.2", "10.1.1.2;;", ";", "10.1.1.2;x;", "fd00::1;",
                                         "10.1.1.2:10.1.1.3;"]),
    ("network_rules", "signature", ["", "abc def", "a;b", "x" * 129]),
    ("network_rules", "seqno", ["", "1.5", "7a", "--7"]),
    ("network_rules", "deflated", ["", "yes", "1"]),
    ("network_rules", "rules", ["I:tcp;22;22;0.0.0.0/0,NEXT\n", "eJz$", "`id`", "a'b"]),
    ("network_rules_vmSecondaryIp", "action", ["", "-I", "add", "-a", "A"]),
    ("network_rules_vmSecondaryIp", "vmSecIp", ["", "10.1.1.2;", "fd00::2"]),
    ("network_rules_vmSecondaryIp", "vmMac", ["", "zz:f8:c8:00:00:09"]),
    ("get_rule_logs_for_vms", "host_uuid", ["", "3d2b9a8e", "3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e1g"]),
    ("can_bridge_firewall", "instance", ["", "V M", "VM;x"]),
    ("cleanup_rules", "instance", ["", "a" * 65]),
    ("default_network_rules_systemvm", "vmName", ["", "r-4-VM&"]),
]


class RealSgApplyParses(unittest.TestCase):
    """Every argument vector the wrapper makes is one the built sg-apply
    parses (exit status not 2, usage), run with --dry-run and private lock
    and state paths: nothing changes.  Skipped without a built sg-apply
    ($VIFWALL_SG_APPLY, else build/tools/sg-apply)."""

    def test_argv_forms(self):
        binary = os.environ.get("VIFWALL_SG_APPLY") or os.path.join(SOURCE, "build", "tools", "sg-apply")
        if not os.access(binary, os.X_OK):
            self.skipTest("no built sg-apply at %s" % binary)
        tmp = tempfile.mkdtemp(prefix="vmops-vifwall-real.")
        try:
            env = dict(os.environ, VIFWALL_STATE_DIR=tmp, VIFWALL_LOCK_FILE=os.path.join(tmp, "lock"),
                       VIFWALL_EBTABLES_LOCK=os.path.join(tmp, "ebtables.lock"), LC_ALL="C")
            forms = dict(ARGV, reapply=["reapply"])
            forms["network_rules_plain"] = ARGV["network_rules"][:13] + ["--rules", RULES, "--sec-ips", "0;"]
            for fn, argv in sorted(forms.items()):
                with self.subTest(fn=fn):
                    proc = subprocess.run([binary, "--dry-run", "--wait", "1", "--timeout", "10"] + argv, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                    self.assertNotEqual(proc.returncode, 2, proc.stderr.decode())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class BadArguments(Case):
    """Refused with VIFWALL_INVALID_ARGUMENT before sg-apply runs."""

    def assert_refused(self, fn, args, needle):
        status, description = self.call(fn, args)
        self.assertEqual(status, "Failure", (fn, args))
        self.assertEqual(description[:2], ["VIFWALL_INVALID_ARGUMENT", fn])
        self.assertIn(needle, description[2])

    def test_bad_values(self):
        for fn, name, values in BAD:
            for value in values:
                with self.subTest(fn=fn, name=name, value=value):
                    self.assert_refused(fn, dict(CALLS[fn], **{name: value}), name)
        self.assertEqual(self.recorded(), [])

    def test_plain_rules_refuse_base64_characters(self):
        args = dict(CALLS["network_rules"])
        del args["deflated"]  # rules is then the plain string, which has no + or =
        self.assert_refused("network_rules", args, "rules must be a CloudStack rule string")

    def test_missing_required_arguments(self):
        optional = {"can_bridge_firewall": {"host_uuid", "instance"}, "cleanup_rules": {"instance"},
                    "default_network_rules": {"secIps"}, "network_rules": {"deflated", "secIps"}}
        for fn in sorted(CALLS):
            for name in sorted(set(CALLS[fn]) - optional.get(fn, set())):
                with self.subTest(fn=fn, name=name):
                    args = dict(CALLS[fn])
                    del args[name]
                    self.assert_refused(fn, args, "missing argument %s" % name)
        self.assertEqual(self.recorded(), [])

    def test_the_message_quotes_the_value(self):
        status, description = self.call("destroy_network_rules_for_vm", {"vmName": "i-2\n-VM"})
        self.assertEqual(description[2], 'vmName must be a CloudStack instance name (letters, digits, . - _; '
                                         'at most 64), got "i-2\\n-VM"')


class Forwarding(Case):
    """Functions that are not security groups reach CloudStack's vmops."""

    def setUp(self):
        Case.setUp(self)
        self.plugins = os.path.join(self.tmp, "plugins")
        os.mkdir(self.plugins)
        self.plugin = os.path.join(self.plugins, "vmops")
        shutil.copy(WRAPPER, self.plugin)
        with open(os.path.join(self.plugins, "cloudstack_pluginlib.py"), "w") as f:
            f.write("NAME = 'pluginlib beside vmops'\n")
        self.original = os.path.join(self.plugins, "vmops.cloudstack")
        with open(self.original, "w") as f:
            f.write(cloudstack_vmops(self.python()))
        os.chmod(self.original, 0o644)  # as installed: xapi cannot run it by that name

    def test_non_sg_functions_reach_the_original(self):
        self.assertEqual(self.call_file(self.plugin, "pingxenserver"), ("Success", "success"))
        self.assertEqual(self.call_file(self.plugin, "setup_iscsi", {"uuid": "abc"}), ("Success", "iscsi:abc"))
        self.assertEqual(self.recorded(), [])

    def test_the_original_runs_as_from_the_plugin_dir(self):
        status, value = self.call_file(self.plugin, "whoami")
        interpreter, argv0, lib = value.split("|")
        self.assertEqual(argv0, self.original)
        self.assertEqual(lib, "pluginlib beside vmops")  # sys.path[0] is the plugin directory
        self.assertEqual(interpreter, os.path.basename(self.python()))  # its own #! line

    def test_unknown_function_answered_by_the_original(self):
        self.assertEqual(self.call_file(self.plugin, "no_such_fn"),
                         ("Failure", ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", "no_such_fn"]))

    def test_sg_functions_never_reach_the_original(self):
        self.sg_answers(stdout="1\n")
        self.assertEqual(self.call_file(self.plugin, "cleanup_rules", {"instance": "VM"}), ("Success", "1"))
        self.assertEqual(self.call_file(self.plugin, "network_rules", dict(CALLS["network_rules"])),
                         ("Success", "true"))
        self.assertEqual(len(self.recorded()), 2)

    def test_no_original(self):
        os.unlink(self.original)
        status, description = self.call_file(self.plugin, "pingxenserver")
        self.assertEqual(status, "Failure")
        self.assertEqual(description[:2], ["VIFWALL_NO_CLOUDSTACK_VMOPS", "pingxenserver"])

    def test_not_called_as_xapi_calls(self):
        argv = ([self.interpreter] if self.interpreter else []) + [self.plugin]
        proc = subprocess.run(argv, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"Incorrect number of commandline arguments", proc.stderr)


def tree(root):
    """{relative path: (mode, content or link target)} of everything under root."""
    found = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(d, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", None)
            else:
                with open(path, "rb") as f:
                    found[rel] = (oct(st.st_mode & 0o7777), f.read())
    return found


class Installer(Case):
    """xapi/install: install, takeover after a re-push, remove; each idempotent."""

    def setUp(self):
        Case.setUp(self)
        self.root = os.path.join(self.tmp, "root")
        self.plugins = os.path.join(self.root, "etc", "xapi.d", "plugins")
        os.makedirs(self.plugins)
        self.vmops = os.path.join(self.plugins, "vmops")
        self.original = os.path.join(self.plugins, "vmops.cloudstack")
        with open(os.path.join(self.plugins, "cloudstack_pluginlib.py"), "w") as f:
            f.write("NAME = 'pluginlib'\n")

    def push(self, version):
        """What CloudStack's host setup does: copy its vmops over the plugin."""
        data = cloudstack_vmops(self.python(), version).encode()
        with open(self.vmops, "wb") as f:
            f.write(data)
        os.chmod(self.vmops, 0o755)
        return data

    def run_installer(self, *args, **kw):
        script = kw.get("script", INSTALLER)
        argv = [self.python(), script] + list(args) + ["--root", self.root]
        proc = subprocess.run(argv, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(proc.returncode, kw.get("status", 0), proc.stdout + proc.stderr)
        return proc.stdout.decode()

    def content(self, path):
        with open(path, "rb") as f:
            return f.read()

    def mode(self, path):
        return os.stat(path).st_mode & 0o7777

    def test_install_keeps_cloudstack_vmops_and_puts_the_wrapper_in_front(self):
        pushed = self.push("4.20")
        self.run_installer("install")
        self.assertEqual(self.content(self.vmops), self.content(WRAPPER))
        self.assertEqual(self.mode(self.vmops), 0o755)
        self.assertEqual(self.content(self.original), pushed)
        self.assertEqual(self.mode(self.original), 0o644)
        lib = os.path.join(self.root, "usr", "lib", "vifwall")
        self.assertEqual(self.content(os.path.join(lib, "vmops-vifwall")), self.content(WRAPPER))
        self.assertEqual(self.content(os.path.join(lib, "xapi-install")), self.content(INSTALLER))
        units = os.path.join(self.root, "etc", "systemd", "system")
        path_unit = self.content(os.path.join(units, "vifwall-vmops.path")).decode()
        self.assertIn("PathChanged=/etc/xapi.d/plugins/vmops\n", path_unit)
        self.assertIn("Unit=vifwall-vmops.service\n", path_unit)
        service = self.content(os.path.join(units, "vifwall-vmops.service")).decode()
        self.assertIn("ExecStart=/usr/lib/vifwall/xapi-install takeover --reapply\n", service)
        self.assertIn("Type=oneshot\n", service)
        self.assertEqual(os.readlink(os.path.join(units, "multi-user.target.wants", "vifwall-vmops.path")),
                         "../vifwall-vmops.path")
        self.assertEqual(self.run_installer("status").strip(),
                         "xapi/install: %s: vifwall's wrapper" % self.vmops)

    def test_install_twice_is_install_once(self):
        self.push("4.20")
        self.run_installer("install")
        once = tree(self.root)
        out = self.run_installer("install")
        self.assertEqual(tree(self.root), once)
        self.assertIn("already installed; nothing to do", out)
        # and from the installed copy as well
        self.run_installer("install", script=os.path.join(self.root, "usr", "lib", "vifwall", "xapi-install"))
        self.assertEqual(tree(self.root), once)

    def test_installed_plugin_answers_both_kinds(self):
        self.push("4.20")
        self.run_installer("install")
        self.assertEqual(self.call_file(self.vmops, "pingxenserver"), ("Success", "success"))
        self.assertEqual(self.call_file(self.vmops, "destroy_network_rules_for_vm", {"vmName": "i-2-3-VM"}),
                         ("Success", "true"))
        self.assertEqual(self.recorded(), [["takeover"], ["destroy", "--vm", "i-2-3-VM"]])

    def test_a_re_pushed_vmops_is_taken_over_again(self):
        self.push("4.19")
        self.run_installer("install")
        pushed = self.push("4.20")  # host setup again, maybe a newer CloudStack
        self.assertEqual(self.run_installer("status", status=1).strip(),
                         "xapi/install: %s: CloudStack's vmops (not taken over)" % self.vmops)
        # what the path unit runs, from the installed copy
        script = os.path.join(self.root, "usr", "lib", "vifwall", "xapi-install")
        self.run_installer("takeover", "--reapply", script=script)
        self.assertEqual(self.content(self.vmops), self.content(WRAPPER))
        self.assertEqual(self.content(self.original), pushed)  # the newest CloudStack vmops
        self.assertEqual(self.mode(self.original), 0o644)
        # CloudStack's vmops may have run meanwhile: our VMs rebuilt, its VMs taken over
        self.assertEqual(self.recorded(), [["takeover"], ["reapply"], ["takeover"]])
        self.assertEqual(self.call_file(self.vmops, "whoami")[1].split("|")[1], self.original)
        # the unit fires again for the wrapper's own rename: nothing more happens
        after = tree(self.root)
        self.run_installer("takeover", "--reapply", script=script)
        self.assertEqual(tree(self.root), after)
        self.assertEqual(self.recorded(), [["takeover"], ["reapply"], ["takeover"]])

    def test_takeover_of_the_wrapper_is_a_no_op(self):
        self.push("4.20")
        self.run_installer("install")
        once = tree(self.root)
        self.run_installer("takeover")
        self.assertEqual(tree(self.root), once)

    def test_remove_restores_the_original(self):
        pushed = self.push("4.20")
        before = tree(self.root)
        self.run_installer("install")
        out = self.run_installer("remove")
        self.assertIn("CloudStack's vmops is %s again" % self.vmops, out)
        self.assertEqual(self.content(self.vmops), pushed)
        self.assertEqual(self.mode(self.vmops), 0o755)
        after = tree(self.root)
        # everything else vifwall put there is gone; the directories it made stay only if others use them
        extra = sorted(set(after) - set(before))
        self.assertEqual([p for p in extra if after[p][0] != "dir"], [])
        self.assertEqual({p: after[p] for p in before}, before)
        # remove twice = remove once
        self.assertIn("not installed; nothing to do", self.run_installer("remove"))
        self.assertEqual(tree(self.root), after)

    def test_remove_after_an_unnoticed_re_push_keeps_cloudstacks_file(self):
        self.push("4.19")
        self.run_installer("install")
        pushed = self.push("4.20")
        self.run_installer("remove")
        self.assertEqual(self.content(self.vmops), pushed)
        self.assertFalse(os.path.exists(self.original))

    def test_install_before_cloudstack_pushed_anything(self):
        self.run_installer("install")
        self.assertEqual(self.content(self.vmops), self.content(WRAPPER))
        self.assertFalse(os.path.exists(self.original))
        self.assertEqual(self.call_file(self.vmops, "pingxenserver")[1][0], "VIFWALL_NO_CLOUDSTACK_VMOPS")
        pushed = self.push("4.20")
        self.run_installer("takeover")
        self.assertEqual(self.content(self.original), pushed)
        self.assertEqual(self.call_file(self.vmops, "pingxenserver"), ("Success", "success"))
        self.run_installer("remove")
        self.assertEqual(self.content(self.vmops), pushed)

    def test_remove_without_an_original_removes_the_wrapper(self):
        self.run_installer("install")
        self.run_installer("remove")
        self.assertFalse(os.path.exists(self.vmops))

    def test_takeover_without_reapply_runs_nothing(self):
        self.push("4.19")
        self.run_installer("install", "--no-firewall")
        self.push("4.20")
        self.run_installer("takeover")
        self.assertEqual(self.recorded(), [])

    def test_install_takes_the_firewall_over_unless_told_not_to(self):
        self.push("4.20")
        self.run_installer("install", "--no-firewall")  # what the package's upgrade runs
        self.assertEqual(self.recorded(), [])
        self.run_installer("install")
        self.assertEqual(self.recorded(), [["takeover"]])  # sg-apply converts what vmops programmed

    def test_a_refused_takeover_fails_the_install_but_keeps_the_wrapper(self):
        self.push("4.20")
        self.sg_answers(exit=1, stderr="sg-apply: error: i-2-3-VM: ... not one CloudStack writes")
        out = self.run_installer("install", status=1)
        self.assertIn("sg-apply takeover exited 1", out)
        self.assertIn("run `sg-apply takeover`", out)
        self.assertEqual(self.content(self.vmops), self.content(WRAPPER))

    def test_usage(self):
        self.run_installer("frobnicate", status=2)
        self.run_installer("install", "--reapply", status=2)
        self.run_installer("takeover", "--no-firewall", status=2)
        argv = [self.python(), INSTALLER, "install", "--root", os.path.join(self.tmp, "none")]
        self.assertEqual(subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE).returncode, 2)


def under_python27(base):
    class Case27(base):
        interpreter = PYTHON27

        def setUp(self):
            if PYTHON27 is None:
                self.skipTest(NO_PYTHON27)
            base.setUp(self)

    Case27.__name__ = Case27.__qualname__ = base.__name__ + "UnderPython27"
    Case27.__doc__ = (base.__doc__ or "") + " (Python 2.7)"
    return Case27


SgFunctionsUnderPython27 = under_python27(SgFunctions)
BadArgumentsUnderPython27 = under_python27(BadArguments)
ForwardingUnderPython27 = under_python27(Forwarding)
InstallerUnderPython27 = under_python27(Installer)


class Files(unittest.TestCase):
    def test_compile_under_python27(self):
        if PYTHON27 is None:
            self.skipTest(NO_PYTHON27)
        for path in (WRAPPER, INSTALLER):
            proc = subprocess.run([PYTHON27, "-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "
                                   "'exec')", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode())

    def test_executable(self):
        for path in (WRAPPER, INSTALLER):
            self.assertTrue(os.access(path, os.X_OK), path)

    def test_the_wrapper_carries_the_marker(self):
        with open(WRAPPER) as f:
            self.assertIn("vifwall-vmops-wrapper", f.read())


if __name__ == "__main__":
    if PYTHON27 is None:
        sys.stderr.write("note: Python 2.7 tests will be skipped: %s\n" % NO_PYTHON27)
    else:
        sys.stderr.write("note: Python 2.7 tests use %s\n" % PYTHON27)
    unittest.main(verbosity=2)
