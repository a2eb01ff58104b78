"""Finding a Python 2.7 interpreter for the XAPI plugins' tests (the plugins
must run on the Python 2.7 of XenServer 7.x).  Shared by
test_plugin_vifwall.py and test_vmops_vifwall.py."""

import glob
import os
import shutil
import subprocess


def _is_python27(path):
    try:
        proc = subprocess.run([path, "-c", "import sys; sys.exit(sys.version_info[:2] != (2, 7))"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_python27():
    """A Python 2.7 interpreter, or None: $VIFWALL_PYTHON2, python2.7 and
    python2 in PATH, pyenv's versions/2.7*.  pyenv's shims answer for
    versions that are not selected, so every candidate is run once to see."""
    candidates = [os.environ["VIFWALL_PYTHON2"]] if os.environ.get("VIFWALL_PYTHON2") else []
    candidates += [found for found in (shutil.which("python2.7"), shutil.which("python2")) if found]
    for root in [r for r in (os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv")) if r]:
        candidates += sorted(glob.glob(os.path.join(root, "versions", "2.7*", "bin", "python2.7")))
    for candidate in candidates:
        if _is_python27(candidate):
            return candidate
    return None


PYTHON27 = find_python27()
NO_PYTHON27 = ("no Python 2.7 interpreter here (looked at $VIFWALL_PYTHON2, python2.7 and python2 in PATH, "
               "and pyenv's versions/2.7*; the npm package \"python2\" ships no interpreter)")
