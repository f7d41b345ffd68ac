"""A primary and a synchronous standby built with the README's own steps
("A synchronous standby and failover"), and a wadesk stack pointed at both
through a multi-host WADESK_DATABASE_URL.

Everything runs on this machine: two PostgreSQL clusters on their own
ports in a fresh folder under /var/tmp (the database user may not be able
to enter the checkout), and the stack of nginx/stack.sh in its own VAR.
Ports: WADESK_FAILOVER_HTTP_PORT (default 18081) for nginx,
WADESK_FAILOVER_PG_PORT (default 54340) for the primary and the next one
for the standby.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integ"))

from integ_support import children, read_env_file, wait_until  # noqa: E402

HTTP_PORT = int(os.environ.get("WADESK_FAILOVER_HTTP_PORT", "18081"))
PG_PORT = int(os.environ.get("WADESK_FAILOVER_PG_PORT", "54340"))
VAR = ROOT / os.environ.get("WADESK_FAILOVER_VAR", "var/failover")
PGBIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
               key=lambda p: int(p.parent.name))[-1]


def recipe(name):
    """The shell block of README.md marked <!-- failover: name -->."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- failover: %s -->\s*```sh\n(.*?)```" %
                  re.escape(name), text, re.S)
    assert m, "README.md has no failover recipe block %r" % name
    return m.group(1)


def as_pg(args, env=None, check=True, timeout=120):
    """Runs args as the database user (postgres when we are root)."""
    if os.getuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + list(args)
    full = dict(os.environ)
    full["PATH"] = "%s:%s" % (PGBIN, full.get("PATH", "/usr/bin:/bin"))
    full.update(env or {})
    p = subprocess.run(args, env=full, capture_output=True, text=True,
                       timeout=timeout, cwd="/")
    if check:
        assert p.returncode == 0, "%s: %s%s" % (args, p.stdout, p.stderr)
    return p


class Node:
    """One PostgreSQL server of the pair."""

    def __init__(self, top, name, port):
        self.top = top
        self.name = name
        self.data = top / name
        self.port = port

    def env(self, **extra):
        e = {"PGDATA": str(self.data), "PGHOST": str(self.top),
             "PGPORT": str(self.port), "PGUSER": "postgres"}
        e.update(extra)
        return e

    def run_recipe(self, name, **extra):
        return as_pg(["sh", "-eu", "-c", recipe(name)], self.env(**extra))

    def psql(self, sql):
        return as_pg(["psql", "-X", "-q", "-tA", "-d", "postgres",
                      "-v", "ON_ERROR_STOP=1", "-c", sql],
                     self.env()).stdout.strip()

    def pid(self):
        try:
            return int((self.data / "postmaster.pid").read_text()
                       .split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def kill(self):
        """SIGKILL of the postmaster and every process it started: the
        machine is gone, nothing gets to finish."""
        pid = self.pid()
        assert pid, "%s is not running" % self.name
        victims = [pid] + children(pid)
        for v in victims:
            try:
                os.kill(v, 9)
            except ProcessLookupError:
                pass
        return len(victims)

    def stop(self, mode="fast"):
        if (self.data / "postmaster.pid").exists():
            as_pg(["pg_ctl", "-D", str(self.data), "-m", mode, "-w",
                   "stop"], check=False)

    def start(self):
        as_pg(["pg_ctl", "-D", str(self.data), "-l",
               str(self.top / (self.name + ".log")), "-w", "start"],
              self.env())


class Pair:
    def __init__(self):
        top = Path(tempfile.mkdtemp(prefix="wadesk-failover-",
                                    dir="/var/tmp"))
        os.chmod(top, 0o700)
        if os.getuid() == 0:
            shutil.chown(top, "postgres")
        self.top = top
        self.primary = Node(top, "primary", PG_PORT)
        self.standby = Node(top, "standby", PG_PORT + 1)
        self.password = secrets.token_hex(12)
        self.repl_password = secrets.token_hex(12)
        self.url = ("postgresql://wadesk:%s@127.0.0.1:%d,127.0.0.1:%d/wadesk"
                    "?target_session_attrs=read-write" %
                    (self.password, self.primary.port, self.standby.port))

    def build(self):
        p = self.primary
        as_pg([str(PGBIN / "initdb"), "-D", str(p.data), "-U", "postgres",
               "--auth-local=trust", "--auth-host=scram-sha-256", "-E",
               "UTF8", "--lc-collate=C", "--lc-ctype=C.UTF-8"])
        # Where this machine's pair listens; the port comes from PGPORT at
        # start, so that the standby's copy of this file takes its own.
        conf = ("\nlisten_addresses = '127.0.0.1'\n"
                "unix_socket_directories = '%s'\nmax_connections = 200\n"
                "shared_buffers = 128MB\n" % self.top)
        subprocess.run(
            (["runuser", "-u", "postgres", "--"] if os.getuid() == 0
             else []) + ["sh", "-c", 'cat >> "$0"',
                         str(p.data / "postgresql.conf")],
            input=conf, text=True, check=True)
        p.start()
        p.psql("CREATE ROLE wadesk LOGIN PASSWORD '%s'" % self.password)
        p.psql("CREATE DATABASE wadesk OWNER wadesk")
        p.run_recipe("primary", REPLICATION_PASSWORD=self.repl_password,
                     STANDBY_ADDR="127.0.0.1")
        return self

    def add_standby(self):
        self.standby.run_recipe("standby",
                                REPLICATION_PASSWORD=self.repl_password,
                                PRIMARY_ADDR="127.0.0.1",
                                PRIMARY_PORT=str(self.primary.port))
        assert wait_until(self.in_sync, 30), \
            "the standby never became synchronous"

    def in_sync(self):
        return self.primary.psql(
            "SELECT sync_state FROM pg_stat_replication"
            " WHERE application_name = 'standby1'") == "sync"

    def connect(self, node):
        return psycopg2.connect(host="127.0.0.1", port=node.port,
                                dbname="wadesk", user="wadesk",
                                password=self.password)

    def close(self):
        for n in (self.primary, self.standby):
            n.stop("immediate")
        shutil.rmtree(self.top, ignore_errors=True)


def stack(action, extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WADESK_") or k == "WADESK_BIN"}
    env.update({"WADESK_HTTP_PORT": str(HTTP_PORT),
                "WADESK_PROVIDER": "simulated",
                "WADESK_SIM_DELIVER_MS": "300", "WADESK_SIM_READ_MS": "600"})
    env.update(extra or {})
    return subprocess.run(["sh", str(ROOT / "nginx" / "stack.sh"), action,
                           str(VAR)], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pair():
    p = Pair()
    try:
        p.build()
        p.add_standby()
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def app(pair):
    """The stack on the pair; its dev.env settings."""
    stack("reset")
    # A batch claimed just as the primary dies (the answer lost with the
    # connection) goes out when its lease ends: a short one keeps the test
    # short.
    r = stack("start", {"WADESK_DATABASE_URL": pair.url,
                        "WADESK_LEASE_S": "15",
                        "WADESK_STATEMENT_TIMEOUT_MS": "2000"})
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        yield read_env_file(VAR / "dev.env")
    finally:
        stack("stop")


def report(line):
    """A line for the suite's summary (run-all prints the file)."""
    VAR.mkdir(parents=True, exist_ok=True)
    with open(VAR / "report.txt", "a", encoding="utf-8") as f:
        f.write(line.rstrip() + "\n")
    print(line)


@pytest.fixture(scope="session", autouse=True)
def _fresh_report():
    try:
        (VAR / "report.txt").unlink()
    except FileNotFoundError:
        pass
    yield

