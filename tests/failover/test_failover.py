"""Failover with nothing acknowledged lost (README: "A synchronous standby
and failover").

Sends and signed webhooks run at 64 connections against the stack on the
pair; the primary is killed with SIGKILL (postmaster and every backend at
once) and the standby promoted with the README's command.  Every client
retries what was not answered 2xx, as the README tells clients to: a send
with the same Idempotency-Key, a webhook with the same message id.  Then,
on the promoted standby: every 2xx is there, exactly once, and nothing
else; the answers during the outage were 503 with Retry-After and nothing
worse; service came back within seconds of the promotion (measured); the
dispatcher goes on delivering; an in-flight send's Idempotency-Key still
answers with its one message.
"""

import os
import pty
import re
import secrets
import select
import shutil
import signal
import subprocess
import threading
import time

import requests

from conftest import HTTP_PORT, ROOT, VAR, read_env_file, report
from fake_cloudapi import DISPLAY_NUMBER, PHONE_NUMBER_ID, WABA_ID
from integ_support import json_bytes, key_hash, sign, unique_phone, \
    unique_token, wait_until

CONNECTIONS = 64
BEFORE_KILL = 3.0       # seconds of load before the primary dies
DOWN = 1.0              # seconds without a primary before the promotion
AFTER = 3.0             # seconds of load once service is back
RETRY_CAP = 0.2         # a client waits Retry-After, capped for the test
GIVE_UP = 60.0          # a request not answered 2xx by then fails the test


class Attempt:
    __slots__ = ("start", "end", "status", "retry_after", "error")

    def __init__(self, start):
        self.start = start
        self.end = None
        self.status = None
        self.retry_after = None
        self.error = None


class Request:
    """One logical request, tried until it is answered 2xx."""

    def __init__(self, kind, n, tag):
        self.kind = kind
        self.n = n
        self.attempts = []
        self.answer = None
        if kind == "send":
            self.content = "%s s%d" % (tag, n)
            self.key = "%s-s%d" % (tag, n)
        else:
            self.content = "%s w%d" % (tag, n)
            self.wamid = "wamid.%sW%d" % (tag, n)


class Load:
    """CONNECTIONS threads: half send, half post WhatsApp webhooks."""

    def __init__(self, app):
        self.base = "http://127.0.0.1:%d" % HTTP_PORT
        self.key = app["WADESK_API_KEY"]
        self.secret = app["WADESK_APP_SECRET"]
        self.tag = unique_token("fo")
        self.done = []
        self.failed = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.counter = 0
        self.threads = [threading.Thread(target=self.worker, args=(i,))
                        for i in range(CONNECTIONS)]

    def next_n(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def post(self, s, r):
        if r.kind == "send":
            return s.post(self.base + "/api/send-message/", timeout=30,
                          data=json_bytes({"sender": "+15550001111",
                                           "receiver": self.phone,
                                           "content": r.content}),
                          headers={"Authorization": "Bearer " + self.key,
                                   "Content-Type": "application/json",
                                   "Idempotency-Key": r.key})
        body = json_bytes({"object": "whatsapp_business_account", "entry": [{
            "id": WABA_ID, "changes": [{"field": "messages",
                "value": {"messaging_product": "whatsapp",
                          "metadata": {"display_phone_number": DISPLAY_NUMBER,
                                       "phone_number_id": PHONE_NUMBER_ID},
                          "contacts": [{"wa_id": self.wa,
                                        "profile": {"name": "Failover"}}],
                          "messages": [{"from": self.wa, "id": r.wamid,
                                        "timestamp": str(int(time.time())),
                                        "type": "text",
                                        "text": {"body": r.content}}]}}]}]})
        return s.post(self.base + "/api/webhook/", data=body, timeout=30,
                      headers={"Content-Type": "application/json",
                               "X-Hub-Signature-256": sign(self.secret,
                                                           body)})

    def one(self, s, r):
        deadline = time.monotonic() + GIVE_UP
        while time.monotonic() < deadline:
            a = Attempt(time.monotonic())
            r.attempts.append(a)
            try:
                resp = self.post(s, r)
                a.status = resp.status_code
                a.retry_after = resp.headers.get("Retry-After")
            except requests.RequestException as e:
                a.error = repr(e)
                s.close()
            a.end = time.monotonic()
            if a.status is not None and 200 <= a.status < 300:
                r.answer = resp.json() if r.kind == "send" else None
                return True
            wait = RETRY_CAP
            if a.retry_after and a.retry_after.isdigit():
                wait = min(int(a.retry_after), RETRY_CAP)
            time.sleep(wait)
        return False

    def worker(self, i):
        s = requests.Session()
        kind = "send" if i % 2 == 0 else "hook"
        while not self.stop.is_set():
            r = Request(kind, self.next_n(), self.tag)
            ok = self.one(s, r)
            with self.lock:
                (self.done if ok else self.failed).append(r)
        s.close()

    def start(self):
        self.phone = unique_phone()
        self.wa = unique_phone()[1:]
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(GIVE_UP + 30)


def first_ok_after(load, t):
    """When the first request sent after t was answered 2xx."""
    ends = [a.end for r in load.done for a in r.attempts
            if a.start >= t and a.status and 200 <= a.status < 300]
    return min(ends) if ends else None


def test_without_its_standby_a_commit_is_503_and_its_key_finds_it(pair,
                                                                   app):
    """The synchronous standby is down: the primary cannot confirm a
    commit on two machines.  The send is answered 503 (not 2xx) once the
    worker's deadline passes, not held forever; it was committed on the
    primary alone, and the retry with its Idempotency-Key returns it."""
    load = Load(app)
    load.phone = unique_phone()
    r = Request("send", 0, load.tag)
    s = requests.Session()
    pair.standby.stop("immediate")
    try:
        t0 = time.monotonic()
        resp = load.post(s, r)
        waited = time.monotonic() - t0
        assert resp.status_code == 503, resp.text
        assert resp.headers.get("Retry-After")
        # WADESK_STATEMENT_TIMEOUT_MS (2 s here) + 2 s, then the cancel.
        assert 3.5 < waited < 10, waited
        with pair.connect(pair.primary) as db, db.cursor() as cur:
            cur.execute("SELECT id FROM messages WHERE content = %s",
                        (r.content,))
            rows = cur.fetchall()
        assert len(rows) == 1, "not committed on the primary"
    finally:
        pair.standby.start()
    assert wait_until(pair.in_sync, 30)
    resp = load.post(s, r)
    assert resp.status_code == 201, resp.text
    assert resp.json()["id"] == rows[0][0]
    s.close()
    report("standby down: a send was answered 503 after %.1f s (committed "
           "on the primary alone); its retry returned it" % waited)


def test_failover_loses_nothing_acknowledged(pair, app):
    assert pair.in_sync()
    load = Load(app)
    load.start()
    try:
        time.sleep(BEFORE_KILL)
        before = sum(1 for r in load.done)
        t_kill = time.monotonic()
        killed = pair.primary.kill()
        t_killed = time.monotonic()
        time.sleep(DOWN)
        t_promote = time.monotonic()
        pair.standby.run_recipe("promote")
        t_promoted = time.monotonic()
        assert wait_until(lambda: first_ok_after(load, t_promote), 30), \
            "no request was answered 2xx within 30 s of the promotion"
        time.sleep(AFTER)
    finally:
        load.finish()
    assert not load.failed, "%d requests never answered 2xx" % len(
        load.failed)

    t_back = first_ok_after(load, t_promote)
    attempts = [a for r in load.done for a in r.attempts]
    non_2xx = [a for a in attempts if not (a.status and a.status < 300)]
    sends = [r for r in load.done if r.kind == "send"]
    hooks = [r for r in load.done if r.kind == "hook"]
    report("failover: %d sends and %d webhooks answered 2xx (%d before the "
           "kill); %d processes of the primary killed; %d answers 503 while "
           "no primary; pg_ctl promote took %.2f s; first 2xx %.2f s after "
           "the promotion began, %.2f s after the kill" %
           (len(sends), len(hooks), before, killed, len(non_2xx),
            t_promoted - t_promote, t_back - t_promote, t_back - t_kill))

    # What clients saw: 2xx, or 503 with Retry-After; no 500, no 502/504,
    # no connection dropped by nginx.
    bad = [(a.status, a.error) for a in non_2xx
           if a.status != 503 or not a.retry_after]
    assert not bad, "answers other than 2xx or 503 + Retry-After: %s" % (
        bad[:10],)
    assert non_2xx, "no request met the outage: the kill did not happen?"
    assert t_back - t_promote < 10, "service back %.1f s after promote" % (
        t_back - t_promote)

    # The promoted standby has every acknowledged request exactly once,
    # and nothing that was not acknowledged.
    with pair.connect(pair.standby) as db, db.cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery()")
        assert cur.fetchone()[0] is False
        cur.execute("SELECT content, count(*), min(id) FROM messages"
                    " WHERE content LIKE %s AND direction = 'outbound'"
                    " GROUP BY content", (load.tag + " s%",))
        rows = {c: (n, i) for c, n, i in cur.fetchall()}
        cur.execute("SELECT provider_message_id, count(*) FROM messages"
                    " WHERE provider_message_id LIKE %s GROUP BY 1",
                    ("wamid.%sW%%" % load.tag,))
        hook_rows = dict(cur.fetchall())
    assert sorted(rows) == sorted(r.content for r in sends)
    assert all(n == 1 for n, _ in rows.values()), "a send stored twice"
    for r in sends:
        assert rows[r.content][1] == r.answer["id"], r.content
    assert sorted(hook_rows) == sorted(r.wamid for r in hooks)
    assert all(n == 1 for n in hook_rows.values()), "a webhook stored twice"

    # The Idempotency-Key of a send that was in flight when the primary
    # died answers with its one message, from the new primary.
    s = requests.Session()
    # Sent before the kill was done, and not answered 2xx: in flight.
    in_flight = [r for r in sends if len(r.attempts) > 1 and
                 r.attempts[0].start < t_killed]
    assert in_flight, "no send was in flight at the kill"
    acked_before = [r for r in sends if r.attempts[-1].end < t_kill][:5]
    for r in in_flight + acked_before:
        resp = load.post(s, r)
        assert resp.status_code == 201, resp.text
        assert resp.json()["id"] == r.answer["id"]
    s.close()
    report("failover: %d sends were in flight at the kill; each one's "
           "Idempotency-Key answers its one message" % len(in_flight))

    # The dispatcher carries on from the new primary: every send of the
    # run reaches `read` (the simulator's last status).
    def all_read():
        with pair.connect(pair.standby) as db, db.cursor() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE status = 'read'),"
                        " count(*) FROM messages WHERE content LIKE %s"
                        " AND direction = 'outbound'", (load.tag + " s%",))
            done, total = cur.fetchone()
            return done == total
    t0 = time.monotonic()
    assert wait_until(all_read, 90, 0.5), "sends not delivered after failover"
    report("failover: every send of the run read %.1f s after the load "
           "stopped" % (time.monotonic() - t0))


def pty_run(args, env, cwd):
    """Starts args on a new pseudo-terminal (a shell's foreground job, so
    that ^C reaches it as it does a user's); returns (pid, fd)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execvpe(args[0], args, env)
    return pid, fd


def read_until(fd, text, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in buf and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf.decode("utf-8", "replace")


def running(pid):
    """Alive and not a zombie waiting to be reaped."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_make_run_uses_the_given_database_and_stops_on_ctrl_c(pair, app):
    """`make run` with WADESK_DATABASE_URL: no cluster of its own, a key
    that works against that database even when VAR kept one from a run on
    its own cluster, 503 while the database is unreachable, and ^C stops
    every process even then."""
    var = VAR.parent / (VAR.name + "-run")
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("WADESK_") or k == "WADESK_BIN"}
    base.update({"WADESK_HTTP_PORT": str(HTTP_PORT + 1),
                 "WADESK_PROVIDER": "simulated"})
    stack_sh = ["sh", str(ROOT / "nginx" / "stack.sh")]
    subprocess.run(stack_sh + ["reset", str(var)], env=base,
                   capture_output=True, timeout=120)
    # An earlier run on a cluster of its own left its secrets in VAR, with
    # a key only that cluster knows (as stack.sh writes them).
    var.mkdir(parents=True, exist_ok=True)
    stale = "wdk_" + secrets.token_hex(32)
    (var / "secrets.env").write_text(
        "WADESK_APP_SECRET=%s\nWADESK_VERIFY_TOKEN=%s\n"
        "WADESK_ADMIN_USER=admin\nWADESK_ADMIN_PASSWORD=%s\n"
        "WADESK_PG_PASSWORD=%s\nWADESK_API_KEY=%s\n" % (
            secrets.token_hex(32), secrets.token_hex(16),
            secrets.token_hex(9), secrets.token_hex(24), stale))
    os.chmod(var / "secrets.env", 0o600)

    env = dict(base, WADESK_DATABASE_URL=pair.url)
    pid, fd = pty_run(["make", "--no-print-directory", "run",
                       "RUN_VAR=" + str(var)], env, str(ROOT))
    try:
        out = read_until(fd, "Ctrl-C stops everything", 180)
        assert "Ctrl-C stops everything" in out, out[-3000:]
        key = re.search(r"API key\s+(wdk_\w+)", out).group(1)
        assert key != stale
        assert "kept API key is not in this database" in out
        settings = read_env_file(var / "dev.env")
        assert settings["WADESK_DATABASE_URL"] == pair.url
        assert settings["WADESK_API_KEY"] == key
        assert "WADESK_PG_PORT" not in settings
        # No cluster of its own was started.
        assert not (var / "pg" / "postmaster.pid").exists()
        url = "http://127.0.0.1:%d" % (HTTP_PORT + 1)
        h = {"Authorization": "Bearer " + key}
        resp = requests.get(url + "/api/messages/?limit=1", headers=h,
                            timeout=10)
        assert resp.status_code == 200, resp.text
        with pair.connect(pair.standby) as db, db.cursor() as cur:
            cur.execute("SELECT count(*) FROM api_keys WHERE key_hash = %s"
                        " AND revoked_at IS NULL", (key_hash(key),))
            assert cur.fetchone()[0] == 1

        procs = {n: int((var / "pids" / ("%s.pid" % n)).read_text())
                 for n in ("serve", "dispatch", "nginx")}
        # The database goes away: 503 with Retry-After, at once.
        for node in (pair.primary, pair.standby):
            node.stop("immediate")
        t0 = time.monotonic()
        resp = requests.get(url + "/api/messages/?limit=1", headers=h,
                            timeout=30)
        assert resp.status_code == 503, resp.text
        assert resp.headers.get("Retry-After")
        assert resp.json()["error"]["code"] == "database_unavailable"
        assert time.monotonic() - t0 < 10

        # ^C, as a user types it: every process stops.
        t0 = time.monotonic()
        os.write(fd, b"\x03")
        read_until(fd, "\0", 30)
        _, status = os.waitpid(pid, 0)
        pid = None
        assert wait_until(lambda: not any(running(p)
                                          for p in procs.values()), 15), \
            "still running after ^C: %s" % [n for n, p in procs.items()
                                             if running(p)]
        report("make run: ^C with the database unreachable stopped nginx, "
               "the pool and the dispatcher in %.2f s" %
               (time.monotonic() - t0))
    finally:
        if pid is not None:
            os.killpg(pid, signal.SIGINT)      # ^C to the whole job
            os.waitpid(pid, 0)
        os.close(fd)
        subprocess.run(stack_sh + ["stop", str(var)], env=base,
                       capture_output=True, timeout=120)
        subprocess.run(stack_sh + ["reset", str(var)], env=base,
                       capture_output=True, timeout=120)
        shutil.rmtree(var, ignore_errors=True)
