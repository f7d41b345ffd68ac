"""The npm checkers the test suites use (Redocly CLI for app/openapi.yaml,
axe-core for the admin pages), at the exact versions pinned in
tests/lint/package.json and package-lock.json.

They are installed at test time with `npm ci` into tests/lint/node_modules
(ignored by git), once: later runs find them there and do not touch the
network. When node or npm is missing, or the registry cannot be reached,
ensure() says why, and the tests that need a tool skip with that reason
instead of failing.
"""

import fcntl
import json
import re
import shutil
import subprocess
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent
NODE_MODULES = TOOLS_DIR / "node_modules"
LOCK_FILE = TOOLS_DIR / ".install.lock"
PINNED = json.loads((TOOLS_DIR / "package.json").read_text(
    encoding="utf-8"))["dependencies"]
# npm's own defaults wait minutes for a registry that does not answer.
NPM_CI = ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts",
          "--prefer-offline", "--fetch-timeout=20000", "--fetch-retries=1",
          "--loglevel=error"]
INSTALL_TIMEOUT = 300

_result = None      # (ok, reason), once per process


def installed_version(package):
    """The version of package in tests/lint/node_modules, or None."""
    try:
        meta = json.loads((NODE_MODULES / package / "package.json")
                          .read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta.get("version")


def _all_pinned():
    return all(installed_version(p) == v for p, v in PINNED.items())


def _install():
    if shutil.which("node") is None or shutil.which("npm") is None:
        return False, "node and npm are not installed (Debian: nodejs, npm)"
    with open(LOCK_FILE, "w") as lock:
        # Another test process may be installing: wait for it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _all_pinned():
            return True, ""
        try:
            p = subprocess.run(NPM_CI, cwd=TOOLS_DIR, capture_output=True,
                               text=True, timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            return False, ("npm ci did not finish in %d s (is the npm "
                           "registry reachable?)" % INSTALL_TIMEOUT)
        if p.returncode != 0:
            # The first lines say what went wrong (npm's error code and
            # message); the rest is a stack trace and hints.
            lines = [ln.replace("npm error", "").strip()
                     for ln in (p.stderr + p.stdout).splitlines()]
            lines = [ln for ln in lines if ln][:4]
            return False, "npm ci exited %d (is the npm registry " \
                "reachable?): %s" % (p.returncode, " | ".join(lines)[:500])
        if not _all_pinned():
            return False, "npm ci did not install %s" % ", ".join(
                "%s@%s" % pv for pv in PINNED.items())
    return True, ""


def ensure():
    """(True, "") when the pinned tools are in tests/lint/node_modules
    (installing them first if needed), else (False, why not)."""
    global _result
    if _result is None:
        _result = (True, "") if _all_pinned() else _install()
    return _result


def node_version():
    """node's version as a tuple of ints, or None."""
    try:
        out = subprocess.run(["node", "--version"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"v(\d+)\.(\d+)\.(\d+)", out.strip())
    return tuple(int(x) for x in m.groups()) if m else None


def redocly_command():
    """The command that runs the pinned Redocly CLI."""
    return ["node", str(NODE_MODULES / "@redocly" / "cli" / "bin" /
                        "cli.js")]


def axe_source():
    """The text of the pinned axe-core's axe.min.js."""
    return (NODE_MODULES / "axe-core" / "axe.min.js").read_text(
        encoding="utf-8")
