"""CloudStack's calls through XAPI, for the takeover driver (takeover.py).

vifwall's wrapper is installed by xapi/install in front of a stand-in
CloudStack vmops, in a plugin directory of the test's own; every call is made
with `xe host-call-plugin`, which the sim's xe answers as xapi does (it runs
the plugin file with the XML-RPC call in argv[1] and reads its
methodResponse), with the real sg-apply behind the wrapper.
"""

import os
import subprocess

import rel

CLOUDSTACK_VMOPS = """#!/usr/bin/env python3
# A stand-in for CloudStack's own vmops: what the wrapper forwards to.
import XenAPIPlugin


def pingxenserver(session, args):
    return "success"


if __name__ == "__main__":
    XenAPIPlugin.dispatch({"pingxenserver": pingxenserver})
"""


def run(argv, env):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


class Xapi:
    def __init__(self, source_dir, tmp, env, sg_apply):
        root = os.path.join(tmp, "root")
        plugins = os.path.join(root, "etc", "xapi.d", "plugins")
        os.makedirs(plugins, exist_ok=True)
        vmops = os.path.join(plugins, "vmops")
        with open(vmops, "w") as out:  # what CloudStack pushes at host setup
            out.write(CLOUDSTACK_VMOPS)
        os.chmod(vmops, 0o755)
        self.env = dict(env, VIFWALL_SIM_PLUGIN_DIR=plugins, VIFWALL_BIN_DIR=os.path.dirname(sg_apply))
        rc, out, err = run([os.path.join(source_dir, "xapi", "install"), "install", "--root", root,
                            "--no-firewall"], self.env)
        rel.check(rc == 0, "xapi/install install: exit %d: %s%s" % (rc, out, err))
        rc, out, err = run(["xe", "host-list", "--minimal"], self.env)
        rel.check(rc == 0 and out.strip(), "xe host-list: %s%s" % (out, err))
        self.host = out.strip().split(",")[0]

    def call(self, fn, ok=True, **args):
        """The plugin's answer (a string) or, with ok=False, xe's error."""
        argv = ["xe", "host-call-plugin", "host-uuid=" + self.host, "plugin=vmops", "fn=" + fn]
        argv += ["args:%s=%s" % item for item in sorted(args.items())]
        rc, out, err = run(argv, self.env)
        if ok:
            rel.check(rc == 0, "%s through XAPI: exit %d: %s%s" % (fn, rc, out, err))
            return out.rstrip("\n")
        rel.check(rc != 0, "%s through XAPI should have failed: %s" % (fn, out))
        return err
