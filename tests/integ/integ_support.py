"""Shared helpers for the black-box integration tests (imported by conftest.py
and the test modules; pytest puts this directory on sys.path)."""

import hashlib
import hmac
import json
import os
import random
import re
import secrets
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

# tests/integ/integ_support.py -> the repository root, two levels up.
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ENV_FILE = ROOT / "var" / "test" / "dev.env"
BINARY = ROOT / "build" / "wadesk"
STACK_SH = ROOT / "nginx" / "stack.sh"

RFC3339_UTC = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
MESSAGE_KEYS = {
    "id", "direction", "sender", "receiver", "content", "timestamp",
    "status", "provider_message_id", "contact_name", "error",
}

# API keys created by the tests (apikey create): the log test checks that
# none of them reached a log file.
CREATED_SECRETS = []

_rng = random.SystemRandom()


def read_env_file(path):
    """Parses shell KEY=value lines (maybe quoted, maybe exported)."""
    env = {}
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export "):].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


def unique_phone():
    """A random valid E.164 number (13 digits, first not 0), with the '+'."""
    return "+49" + str(_rng.randint(1, 9)) + "".join(
        str(_rng.randint(0, 9)) for _ in range(9))


def unique_token(prefix="t"):
    return "%s%s" % (prefix, secrets.token_hex(6))


def sign(secret, body):
    """The X-Hub-Signature-256 value WhatsApp sends for body (bytes)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def json_bytes(obj):
    """Compact UTF-8 JSON (non-ASCII characters sent raw, not escaped)."""
    return json.dumps(obj, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


_UNSET = object()


def assert_error(resp, status, code, field=_UNSET):
    """The response is the contract's JSON error with this status and code
    (and this field, when given; field=None means no field member)."""
    assert resp.status_code == status, (
        "expected %d %s, got %d: %s" % (status, code, resp.status_code,
                                        resp.text[:300]))
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), (
        "error %d is not JSON (Content-Type %r): %s"
        % (status, ctype, resp.text[:300]))
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    err = body["error"]
    assert err.get("code") == code, body
    assert isinstance(err.get("message"), str) and err["message"], body
    if field is not _UNSET:
        if field is None:
            assert "field" not in err or err["field"] is None, body
        else:
            assert err.get("field") == field, body
    return err


def assert_message_shape(msg):
    assert set(msg) >= MESSAGE_KEYS, "missing keys: %s" % (
        MESSAGE_KEYS - set(msg))
    assert isinstance(msg["id"], int) and msg["id"] > 0
    assert msg["direction"] in ("outbound", "inbound")
    assert RFC3339_UTC.match(msg["timestamp"]), msg["timestamp"]
    assert msg["error"] is None or (
        isinstance(msg["error"], dict) and set(msg["error"]) >= {
            "code", "message"})


def wait_until(predicate, timeout, interval=0.05):
    """Polls predicate() until it returns a truthy value; returns that value,
    or the last (falsy) one once timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def run_cli(env, *args, timeout=30, input=None):
    """Runs build/wadesk against the stack's database."""
    child_env = dict(os.environ)
    child_env["WADESK_DATABASE_URL"] = env["WADESK_DATABASE_URL"]
    return subprocess.run([str(BINARY)] + list(args), env=child_env,
                          capture_output=True, text=True, timeout=timeout,
                          input=input)


def sync_templates(env):
    """`wadesk templates sync` with the simulated provider: the built-in
    catalog (order_update, delivery_window, spring_sale ...)."""
    child_env = dict(os.environ)
    child_env.update(WADESK_DATABASE_URL=env["WADESK_DATABASE_URL"],
                     WADESK_PROVIDER="simulated")
    p = subprocess.run([str(BINARY), "templates", "sync"], env=child_env,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p


def user_add(env, user, password):
    """`wadesk user add USER` with the password on stdin."""
    return run_cli(env, "user", "add", user, input=password + "\n")


def key_hash(key):
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# Settings of a test's own dispatcher that must not leak into the stack's
# when a test (re)starts the stack with nginx/stack.sh.
_DISPATCH_KEYS = (
    "WADESK_CLOUDAPI_BASE_URL", "WADESK_CLOUDAPI_VERSION",
    "WADESK_PHONE_NUMBER_ID", "WADESK_CLOUDAPI_TOKEN",
    "WADESK_CLOUDAPI_TIMEOUT_MS", "WADESK_BACKOFF_BASE_MS",
    "WADESK_BACKOFF_MAX_MS", "WADESK_MAX_ATTEMPTS", "WADESK_LEASE_S",
    "WADESK_DISPATCH_CONCURRENCY", "WADESK_DISPATCH_BATCH")


def stack_env(env):
    """The environment for `sh nginx/stack.sh ... VAR` on the stack under
    test: its own ports, the simulated provider with quick deliveries, and
    none of the settings a test gives its own dispatchers."""
    child = dict(os.environ)
    for k in _DISPATCH_KEYS:
        child.pop(k, None)
    child["WADESK_PROVIDER"] = "simulated"
    for k, default in (("WADESK_HTTP_PORT", "18080"),
                       ("WADESK_PG_PORT", "54339")):
        child[k] = env.get(k) or os.environ.get(k) or default
    child.setdefault("WADESK_SIM_DELIVER_MS", "300")
    child.setdefault("WADESK_SIM_READ_MS", "600")
    return child


def run_stack(env, var_dir, *args, timeout=120):
    """sh nginx/stack.sh ARGS, where "VAR" stands for var_dir."""
    return subprocess.run(
        ["sh", str(STACK_SH)] + [str(var_dir) if a == "VAR" else a
                                 for a in args],
        env=stack_env(env), cwd=str(ROOT), capture_output=True, text=True,
        timeout=timeout)


def restart_stack(env, base_url, procs=("serve", "dispatch"), **extra):
    """Stops the stack's processes procs and starts them again with the
    WADESK_* settings in extra on top of the stack's own (a key of None
    is left unset); waits until /readyz answers 200 and checks that each
    of procs is a new process that still runs."""
    from fake_cloudapi import pid_alive, read_pid, stop_pid
    var_dir = Path(env["WADESK_VAR"])
    pid_file = {name: var_dir / "pids" / ("%s.pid" % name) for name in procs}
    old = {}
    for name in procs:
        old[name] = read_pid(pid_file[name])
        stop_pid(old[name])
    child = stack_env(env)
    for k, v in extra.items():
        if v is None:
            child.pop(k, None)
        else:
            child[k] = v
    p = subprocess.run(["sh", str(STACK_SH), "start", str(var_dir)],
                       env=child, cwd=str(ROOT), capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]

    def ready():
        try:
            return requests.get(base_url + "/readyz",
                                timeout=2).status_code == 200
        except requests.RequestException:
            return False
    assert wait_until(ready, 20), "the stack did not come back"
    for name in procs:
        pid = read_pid(pid_file[name])
        assert pid != old[name] and pid_alive(pid), (
            "%s was not restarted (PID %s before, %s now)\n%s"
            % (name, old[name], pid, stack_diagnosis(env)))


def stack_diagnosis(env, message_id=None):
    """What a test that waited in vain for the dispatcher prints: the
    stack's dispatcher and every process running `wadesk dispatch`, the
    message's outbox row, the end of the stack's log."""
    from fake_cloudapi import pid_alive, read_pid
    var_dir = Path(env["WADESK_VAR"])
    pid = read_pid(var_dir / "pids" / "dispatch.pid")
    lines = ["dispatch.pid: %s (%s)" % (
        pid, "running" if pid_alive(pid) else "not running")]
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"dispatch" in argv and any(a.endswith(b"wadesk") for a in argv):
            lines.append("process %s: %s" % (
                entry, b" ".join(argv).decode(errors="replace")))
    if message_id is not None:
        try:
            import psycopg2
            with psycopg2.connect(env["WADESK_DATABASE_URL"]) as conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT m.status, o.attempts, o.run_at,"
                                " o.locked_until, o.last_error, now()"
                                " FROM messages m LEFT JOIN outbox o"
                                " ON o.message_id = m.id WHERE m.id = %s",
                                (message_id,))
                    lines.append("message %s: status, outbox attempts, "
                                 "run_at, locked_until, last_error, now: %r"
                                 % (message_id, cur.fetchall()))
            conn.close()
        except Exception as e:   # a diagnosis must not hide the failure
            lines.append("database: %s" % e)
    try:
        with open(var_dir / "log" / "wadesk.log", "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 3000))
            lines.append("end of wadesk.log:\n" +
                         f.read().decode(errors="replace"))
    except OSError as e:
        lines.append("wadesk.log: %s" % e)
    return "\n".join(lines)


class Sender:
    """POST /api/send-message/ from many threads (one session each)."""

    def __init__(self, env, base_url):
        self.url = base_url + "/api/send-message/"
        self.headers = {"Authorization": "Bearer " + env["WADESK_API_KEY"],
                        "Content-Type": "application/json"}
        self.local = threading.local()

    def one(self, receiver, content=None, timeout=20.0):
        """Sends; retries a 503 (database unavailable) until timeout;
        returns the new message's id."""
        s = getattr(self.local, "s", None)
        if s is None:
            s = self.local.s = requests.Session()
        body = json_bytes({"sender": unique_phone(), "receiver": receiver,
                           "content": content or "send " + unique_token()})
        deadline = time.monotonic() + timeout
        while True:
            r = s.post(self.url, headers=self.headers, data=body, timeout=20)
            if r.status_code != 503 or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        assert r.status_code == 201, "%d %s" % (r.status_code, r.text[:300])
        return r.json()["id"]

    def many(self, receivers, threads=16):
        """One send per receiver, from `threads` threads; ids in order."""
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(self.one, receivers))


def children(ppid):
    """Live (non-zombie) child PIDs of ppid, sorted, from /proc/*/stat."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == ppid and fields[0] not in ("Z", "X"):
            kids.append(int(entry))
    return sorted(kids)
