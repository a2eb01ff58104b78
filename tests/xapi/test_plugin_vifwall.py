#!/usr/bin/env python3
"""Tests of the vifwall XAPI plugin (xapi/vifwall), called as XAPI calls it.

XAPI runs /etc/xapi.d/plugins/NAME with one argument, an XML-RPC methodCall
FN(session, {args}), and reads an XML-RPC methodResponse from its stdout
(xapi-project/xen-api ocaml/xapi/xapi_plugins.ml).  These tests do the same
with the plugin file, the stand-in XenAPIPlugin of this directory on
PYTHONPATH, and stand-in tools (small scripts in a temporary directory named
by VIFWALL_BIN_DIR): success, a failing tool (exit 2), output that is not
JSON, a tool that outlives its timeout, bad arguments.

The plugin must also run on the Python 2.7 of XenServer 7.x.  When a Python
2.7 interpreter is found ($VIFWALL_PYTHON2, python2.7/python2 in PATH, or a
pyenv 2.7 install) the same tests run under it, and the file is compiled by
it; otherwise those tests are skipped, saying so.  (The npm package
"python2", 0.0.1, "Python2 for Node, built with emscripten", holds only a
package.json: no interpreter to run a script with.)

Run: python3 tests/xapi/test_plugin_vifwall.py [-v]
"""

import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tokenize
import unittest
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
PLUGIN = os.path.join(SOURCE, "xapi", "vifwall")
HOST_UUID = "3d2b9a8e-5c1f-4e47-9a51-0b6f8c2d7e10"
SESSION = "OpaqueRef:6b3e2b0e-1d7c-4a8e-9f3a-2c5d8e1f0a11"


from python27 import NO_PYTHON27, PYTHON27  # noqa: E402 (tests/xapi on sys.path)


# A stand-in tool: says which tool it is, its arguments, the program that
# started it (the plugin's Python) and LC_ALL, as JSON.
ECHO_TOOL = """#!/bin/sh
printf '{"tool": "%s", "argv": "%s", "parent": "%s", "lc_all": "%s"}\\n' \
  "$(basename "$0")" "$*" "$(readlink /proc/$PPID/exe)" "$LC_ALL"
echo "note from $(basename "$0")" >&2
"""


def write_script(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


class PluginCase(unittest.TestCase):
    """Runs the plugin file itself (its #! line picks the Python), as XAPI does."""

    interpreter = None  # None: exec the file; else run it with this Python

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vifwall-plugin-test.")
        # A blank in the directory name: the tools must run from an argument
        # vector, never through a shell.
        self.bin = os.path.join(self.tmp, "bin dir")
        os.mkdir(self.bin)
        self.inventory = os.path.join(self.tmp, "xensource-inventory")
        with open(self.inventory, "w") as f:
            f.write("PRODUCT_BRAND='XenServer'\nINSTALLATION_UUID='%s'\n"
                    "CONTROL_DOMAIN_UUID='c2e2ed54-9594-49f4-80aa-df341f998d6b'\n" % HOST_UUID.upper())
        for tool in ("vif-of", "sg-show", "sg-diff"):
            self.tool(tool, ECHO_TOOL)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tool(self, name, text):
        write_script(os.path.join(self.bin, name), text)

    def env(self, **extra):
        env = dict(os.environ)
        env.update({"PYTHONPATH": HERE, "VIFWALL_BIN_DIR": self.bin, "VIFWALL_INVENTORY": self.inventory,
                    "PYTHONDONTWRITEBYTECODE": "1"})
        env.update(extra)
        return env

    def call_raw(self, argv_tail, env=None):
        argv = ([self.interpreter] if self.interpreter else []) + [PLUGIN] + argv_tail
        return subprocess.run(argv, env=env or self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120)

    def call(self, fn, args=None, env=None):
        """('Success', value) or ('Failure', [code, params...]), read from
        the plugin's methodResponse the way xapi reads it."""
        call = xmlrpc.client.dumps((SESSION, args or {}), fn)
        proc = self.call_raw([call], env)
        self.assertEqual(proc.returncode, 0, "the plugin failed: %r" % proc.stderr)
        (response,), method = xmlrpc.client.loads(proc.stdout.decode())
        self.assertIsNone(method)  # a methodResponse, not a call
        if response["Status"] == "Success":
            self.assertIsInstance(response["Value"], str)
            return "Success", response["Value"]
        self.assertEqual(response["Status"], "Failure")
        return "Failure", response["ErrorDescription"]

    def result(self, fn, args=None, env=None):
        status, value = self.call(fn, args, env)
        self.assertEqual(status, "Success", value)
        decoded = json.loads(value)
        self.assertEqual(sorted(decoded), ["exit", "host", "hostname", "output", "stderr", "tool"])
        return decoded

    # ---- success ----------------------------------------------------------

    def test_vif_of_success(self):
        r = self.result("vif_of")
        self.assertEqual(r["tool"], "vif-of")
        self.assertEqual(r["exit"], 0)
        self.assertEqual(r["host"], HOST_UUID)  # from INSTALLATION_UUID, lower case
        self.assertEqual(r["hostname"], os.uname()[1])
        self.assertEqual(r["output"]["tool"], "vif-of")
        self.assertEqual(r["output"]["argv"], "--json --all")
        self.assertEqual(r["output"]["lc_all"], "C")
        self.assertEqual(r["stderr"], "note from vif-of\n")

    def test_sg_show_and_sg_diff_arguments(self):
        for fn, tool in (("sg_show", "sg-show"), ("sg_diff", "sg-diff")):
            r = self.result(fn)
            self.assertEqual((r["tool"], r["exit"]), (tool, 0))
            self.assertEqual(r["output"]["argv"], "--json")

    def test_timeout_argument_accepted(self):
        for value in ("1", "300", "60"):
            self.assertEqual(self.result("vif_of", {"timeout": value})["exit"], 0)

    def test_no_inventory(self):
        r = self.result("vif_of", env=self.env(VIFWALL_INVENTORY=os.path.join(self.tmp, "none")))
        self.assertIsNone(r["host"])
        self.assertEqual(r["exit"], 0)

    # ---- the tool fails -----------------------------------------------------

    def test_tool_failure_exit_2(self):
        self.tool("sg-show", "#!/bin/sh\necho 'sg-show: error: cannot read the firewall' >&2\nexit 2\n")
        r = self.result("sg_show")
        self.assertEqual(r["exit"], 2)
        self.assertIsNone(r["output"])
        self.assertEqual(r["stderr"], "sg-show: error: cannot read the firewall\n")

    def test_failure_with_json_output(self):
        self.tool("sg-diff", "#!/bin/sh\necho '{\"differences\": 3}'\nexit 1\n")
        r = self.result("sg_diff")
        self.assertEqual((r["exit"], r["output"]), (1, {"differences": 3}))

    def test_non_json_output(self):
        self.tool("vif-of", "#!/bin/sh\necho 'i-2-3-VM  vif7.0  xenbr0'\n")
        r = self.result("vif_of")
        self.assertEqual(r["exit"], 0)
        self.assertIsNone(r["output"])

    def test_killed_by_a_signal(self):
        self.tool("vif-of", "#!/bin/sh\nkill -TERM $$\nsleep 5\n")
        self.assertEqual(self.result("vif_of")["exit"], 128 + 15)

    def test_tool_missing(self):
        os.unlink(os.path.join(self.bin, "sg-diff"))
        r = self.result("sg_diff")
        self.assertEqual(r["exit"], 127)
        self.assertIn("sg-diff not found in", r["stderr"])

    def test_tool_not_executable(self):
        os.chmod(os.path.join(self.bin, "sg-show"), 0o644)
        self.assertEqual(self.result("sg_show")["exit"], 127)  # not a tool then

    def test_stderr_is_capped(self):
        self.tool("vif-of", "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' x >&2\necho '[]'\n")
        r = self.result("vif_of")
        self.assertEqual((r["exit"], r["output"]), (0, []))
        self.assertLess(len(r["stderr"]), 17000)
        self.assertTrue(r["stderr"].startswith("xxxx"))
        self.assertIn("stderr cut at 16384 of 200000 bytes", r["stderr"])

    # ---- the timeout --------------------------------------------------------

    def test_timeout_kills_the_tool_and_its_children(self):
        marker = os.path.join(self.tmp, "grandchild-survived")
        # The tool starts a child of its own, then hangs; both must die.
        self.tool("vif-of", "#!/bin/sh\n(sleep 4; touch '%s') &\necho started >&2\nsleep 30\n" % marker)
        start = time.monotonic()
        r = self.result("vif_of", {"timeout": "1"})
        elapsed = time.monotonic() - start
        self.assertEqual(r["exit"], 124)
        self.assertIsNone(r["output"])
        self.assertIn("started\n", r["stderr"])
        self.assertIn("vif-of killed after 1 s (timeout)", r["stderr"])
        self.assertLess(elapsed, 10, "the timeout did not stop the tool")
        time.sleep(4.5)
        self.assertFalse(os.path.exists(marker), "the tool's child outlived the timeout")

    # ---- bad calls ----------------------------------------------------------

    def test_unknown_argument_refused(self):
        self.assertEqual(self.call("vif_of", {"colour": "red"}),
                         ("Failure", ["VIFWALL_INVALID_ARGUMENT", "vif_of",
                                      'unknown argument "colour": vif_of takes timeout=SECONDS (1-300), all=true '
                                      'and vm, domid, iface, mac, ip, bridge (each also as KIND.N)']))
        self.assertEqual(self.call("sg_show", {"vm": "i-2-3-VM"}),
                         ("Failure", ["VIFWALL_INVALID_ARGUMENT", "sg_show",
                                      'unknown argument "vm": sg_show takes only timeout=SECONDS (1-300)']))

    # ---- vif_of's selection (vif-of --pool) ---------------------------------

    def test_selection_reaches_vif_of_in_order(self):
        args = {"vm.1": "r-4-VM", "vm": "i-2-3-VM", "domid": "7", "iface.0": "vif4.2", "mac": "06:F8:c8:00:00:09",
                "ip": "10.147.41.238", "bridge": "xenbr0", "domid.2": "12", "timeout": "30"}
        r = self.result("vif_of", args)
        self.assertEqual(r["output"]["argv"], "--json --domid=7 --domid=12 --iface=vif4.2 --mac=06:F8:c8:00:00:09 "
                                              "--ip=10.147.41.238 --bridge=xenbr0 -- i-2-3-VM r-4-VM")

    def test_selection_all_and_odd_vm_names(self):
        self.assertEqual(self.result("vif_of", {"all": "true"})["output"]["argv"], "--json --all")
        # A name with blanks, a leading '-' and UTF-8 reaches vif-of as one word, after "--".
        tool = "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/argv\"\necho '{\"vms\": [], \"orphans\": []}'\n"
        self.tool("vif-of", tool)
        self.result("vif_of", {"vm": "-x my VM \u00e9", "vm.1": "$(reboot)"})
        with open(os.path.join(self.bin, "argv"), "rb") as f:
            self.assertEqual(f.read().decode("utf-8").splitlines(), ["--json", "--", "-x my VM \u00e9", "$(reboot)"])

    def test_bad_selections_refused_before_running(self):
        marker = os.path.join(self.tmp, "ran")
        self.tool("vif-of", "#!/bin/sh\ntouch '%s'\n" % marker)
        bad = [({"domid": "32768"}, "domid must be an integer from 0 to 32767"),
               ({"domid": "7\n"}, "domid must be"), ({"domid": "-1"}, "domid must be"),
               ({"iface": "-rf"}, "iface must be an interface name"), ({"iface": "a" * 16}, "iface must be"),
               ({"bridge": "br 0"}, "bridge must be a bridge name"), ({"mac": "06:f8:c8:00:00"}, "mac must be six"),
               ({"ip": "10.0.0.1; reboot"}, "ip must be an IPv4 or IPv6"), ({"vm": ""}, "vm must be a name-label"),
               ({"vm": "a\nb"}, "vm must be"), ({"vm": "x" * 256}, "vm must be"), ({"all": "yes"}, "all must be true"),
               ({"vm.1000": "x"}, "unknown argument"), ({"vms": "x"}, "unknown argument"),
               (dict(("vm.%d" % i, "x") for i in range(65)), "at most 64 selections")]
        for args, message in bad:
            status, description = self.call("vif_of", args)
            self.assertEqual(status, "Failure", args)
            self.assertEqual(description[:2], ["VIFWALL_INVALID_ARGUMENT", "vif_of"], args)
            self.assertIn(message, description[2], args)
        self.assertFalse(os.path.exists(marker))

    def test_nothing_found_is_an_answer(self):
        self.tool("vif-of", "#!/bin/sh\necho '{\"vms\": [], \"orphans\": []}'\n"
                            "echo \"vif-of: error: no VM with dom-id 9\" >&2\nexit 1\n")
        r = self.result("vif_of", {"domid": "9"})
        self.assertEqual((r["exit"], r["output"]), (1, {"vms": [], "orphans": []}))

    def test_bad_timeouts_refused(self):
        for value in ("0", "301", "1000", "abc", "1.5", "", " 5", "-1", "+5", "0x10"):
            status, description = self.call("sg_show", {"timeout": value})
            self.assertEqual(status, "Failure", value)
            self.assertEqual(description[:2], ["VIFWALL_INVALID_ARGUMENT", "sg_show"], value)
            self.assertIn("timeout must be an integer from 1 to 300", description[2])

    def test_refused_before_running_anything(self):
        marker = os.path.join(self.tmp, "ran")
        self.tool("vif-of", "#!/bin/sh\ntouch '%s'\n" % marker)
        self.assertEqual(self.call("vif_of", {"timeout": "0"})[0], "Failure")
        self.assertFalse(os.path.exists(marker))

    def test_unknown_function(self):
        self.assertEqual(self.call("vif_off"), ("Failure", ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", "vif_off"]))

    def test_not_called_as_xapi_calls(self):
        proc = self.call_raw([])  # no methodCall: XenAPIPlugin refuses, the exit status is not 0
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b"Incorrect number of commandline arguments", proc.stderr)


class PluginUnderPython27(PluginCase):
    """The same calls, with the plugin run by Python 2.7 (XenServer 7.x)."""

    interpreter = PYTHON27

    def setUp(self):
        if PYTHON27 is None:
            self.skipTest(NO_PYTHON27)
        PluginCase.setUp(self)

    def test_vif_of_success(self):
        PluginCase.test_vif_of_success(self)
        self.assertIn("python2", os.path.basename(self.result("vif_of")["output"]["parent"]))


class Interpreter(unittest.TestCase):
    """The file parses as Python 3 and 2.7; its #! line picks a Python that
    can import XenAPIPlugin."""

    def source(self):
        with open(PLUGIN) as f:
            return f.read()

    def test_compiles_as_python3(self):
        compile(self.source(), PLUGIN, "exec")

    def test_compiles_as_python27(self):
        if PYTHON27 is None:
            self.skipTest(NO_PYTHON27)
        proc = subprocess.run([PYTHON27, "-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
                               PLUGIN], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())

    def test_no_python3_only_constructs(self):
        """What Python 2.7 lacks (compiling under 2.7 catches syntax; this
        also runs where no 2.7 is found): f-strings, subprocess.run,
        subprocess timeouts, annotations."""
        tokens = list(tokenize.generate_tokens(io.StringIO(self.source()).readline))
        words = [t.string for t in tokens if t.type in (tokenize.NAME, tokenize.OP)]
        for t in tokens:
            if t.type == tokenize.STRING:
                self.assertFalse(re.match(r"^[rRbBuU]*[fF]", t.string), "f-string: %s" % t.string)
        joined = " ".join(words)
        for needle in ("subprocess . run", "communicate ( timeout", "wait ( timeout", "nonlocal", "->",
                       "async", "await"):
            self.assertNotIn(needle, joined)

    def test_executable(self):
        self.assertTrue(os.access(PLUGIN, os.X_OK), "install it with mode 0755, as xapi runs the file")

    def test_prefers_python3_then_falls_back_to_python2(self):
        """With a python3 that lacks XenAPIPlugin (as on a XenServer 8.2 whose
        XenAPI is only packaged for Python 2), the #! line takes python2."""
        if PYTHON27 is None:
            self.skipTest(NO_PYTHON27)
        case = PluginCase("test_vif_of_success")
        case.setUp()
        try:
            fake = os.path.join(case.tmp, "fake-bin")
            os.mkdir(fake)
            write_script(os.path.join(fake, "python3"), "#!/bin/sh\nexit 1\n")  # no XenAPIPlugin here
            os.symlink(PYTHON27, os.path.join(fake, "python2"))
            env = case.env(PATH=fake + os.pathsep + "/usr/bin:/bin")
            parent = case.result("vif_of", env=env)["output"]["parent"]
            self.assertEqual(os.path.realpath(parent), os.path.realpath(PYTHON27))
            # and python3 when it has the module
            parent = case.result("vif_of")["output"]["parent"]
            self.assertIn("python3", os.path.basename(parent))
        finally:
            case.tearDown()


if __name__ == "__main__":
    if PYTHON27 is None:
        sys.stderr.write("note: Python 2.7 tests will be skipped: %s\n" % NO_PYTHON27)
    else:
        sys.stderr.write("note: Python 2.7 tests use %s\n" % PYTHON27)
    unittest.main(verbosity=2)
