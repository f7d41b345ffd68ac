"""The local stack on a shared machine: its folder in /var/tmp has a name
anyone can compute, so nginx/stack.sh must refuse one it did not make.

Each case plants something at the folder name of a fresh VAR directory,
runs `stack.sh start VAR` (which must stop before starting anything) and
always cleans up with `stack.sh stop VAR`.

And its PID files, which outlive a reboot: a PID in one may belong to
another program by then, which the stack must never signal.
"""

import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from integ_support import ROOT, STACK_SH, unique_token


def shared_dir_of(var):
    """The folder stack.sh uses for VAR (see its $shared)."""
    h = hashlib.sha256(str(Path(var).resolve()).encode()).hexdigest()[:12]
    return Path("/var/tmp/wadesk-" + h)


def stack(env, action, var):
    child = {k: v for k, v in os.environ.items()
             if not k.startswith("WADESK_")}
    # Ports of its own, should anything get as far as starting.
    child["WADESK_HTTP_PORT"] = str(int(env["WADESK_HTTP_PORT"]) + 7)
    child["WADESK_PG_PORT"] = str(int(env["WADESK_PG_PORT"]) + 7)
    return subprocess.run(["sh", str(STACK_SH), action, str(var)],
                          env=child, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def fresh_var(env):
    var = ROOT / "var" / ("stack-trap-" + unique_token())
    var.mkdir(parents=True)
    shared = shared_dir_of(var)
    assert not os.path.lexists(shared)
    yield var, shared
    stack(env, "stop", var)
    if os.path.islink(shared):
        os.unlink(shared)
    elif shared.is_dir():
        shutil.rmtree(shared)
    shutil.rmtree(var, ignore_errors=True)


def assert_refused(p, shared, why):
    assert p.returncode != 0, "stack.sh accepted %s:\n%s" % (shared, p.stderr)
    assert str(shared) in p.stderr and why in p.stderr, p.stderr


def test_a_planted_symlink_is_refused(env, fresh_var):
    var, shared = fresh_var
    target = Path(tempfile.mkdtemp(prefix="wadesk-target-"))
    try:
        os.symlink(target, shared)
        p = stack(env, "start", var)
        assert_refused(p, shared, "symbolic link")
        # Nothing was created or changed through the link.
        assert list(target.iterdir()) == []
        assert target.stat().st_uid == os.getuid()
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_a_folder_of_another_user_is_refused(env, fresh_var):
    if os.getuid() != 0:
        pytest.skip("needs root to make a folder owned by someone else")
    var, shared = fresh_var
    other = pwd.getpwnam("nobody").pw_uid
    shared.mkdir(mode=0o755)
    os.chown(shared, other, -1)
    p = stack(env, "start", var)
    assert_refused(p, shared, "belongs to another user")
    assert list(shared.iterdir()) == []


def test_a_folder_others_can_write_is_refused(env, fresh_var):
    var, shared = fresh_var
    shared.mkdir()
    os.chmod(shared, 0o777)
    p = stack(env, "start", var)
    assert_refused(p, shared, "writable by other users")
    assert list(shared.iterdir()) == []


def test_a_pid_file_left_behind_never_signals_another_program(env,
                                                            fresh_var):
    var, _ = fresh_var
    (var / "pids").mkdir()
    other = subprocess.Popen(["sleep", "60"])
    try:
        # As after a reboot: files written an hour ago, their PIDs now
        # another program's (one started after the files were written).
        for name in ("nginx", "serve", "dispatch"):
            f = var / "pids" / (name + ".pid")
            f.write_text("%d\n" % other.pid)
            an_hour_ago = time.time() - 3600
            os.utime(f, (an_hour_ago, an_hour_ago))
        p = stack(env, "stop", var)
        assert p.returncode == 0, p.stderr
        assert other.poll() is None, "stop signalled another program"
        # The same PID in a file written after the process started: the
        # stack's own process, which stop ends.
        (var / "pids" / "dispatch.pid").write_text("%d\n" % other.pid)
        p = stack(env, "stop", var)
        assert p.returncode == 0, p.stderr
        assert other.wait(10) == -15
    finally:
        other.kill()
        other.wait()
