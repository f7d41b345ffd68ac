"""A worker killed mid-stream, and PostgreSQL going away and coming back."""

import os
import signal
import subprocess
import threading
import time

import psycopg2
import pytest
import requests

from admin_support import fcgi
from integ_support import (STACK_SH, assert_error, children, json_bytes, sign,
                           unique_phone, unique_token, wait_until)


# ------------------------------------------------------------ worker crash

@pytest.fixture
def serve_master(var_dir):
    path = var_dir / "pids" / "serve.pid"
    if not path.is_file():
        pytest.skip("no %s: the pool is not run by stack.sh" % path.name)
    pid = int(path.read_text().strip())
    try:
        os.kill(pid, 0)
    except OSError:
        pytest.fail("the serve master (pid %d) is not running" % pid)
    return pid


class _Stream:
    """Threads that send messages back to back until stopped."""

    def __init__(self, env, threads=2):
        self.env = env
        self.stop = threading.Event()
        self.results = []       # (monotonic start, status or None, id, text)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,))
                        for i in range(threads)]

    def _run(self, i):
        url = self.env["WADESK_URL"].rstrip("/") + "/api/send-message/"
        receiver = unique_phone()
        with requests.Session() as s:
            s.headers.update({
                "Authorization": "Bearer " + self.env["WADESK_API_KEY"],
                "Content-Type": "application/json"})
            n = 0
            while not self.stop.is_set():
                n += 1
                t = time.monotonic()
                body = json_bytes({"sender": "+15550000002",
                                   "receiver": receiver,
                                   "content": "stream %d %d" % (i, n)})
                try:
                    r = s.post(url, data=body, timeout=10)
                    mid = r.json().get("id") if r.status_code == 201 else None
                    rec = (t, r.status_code, mid, r.text[:200])
                except (requests.RequestException, ValueError) as e:
                    rec = (t, None, None, repr(e))
                with self.lock:
                    self.results.append(rec)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(15)


def test_killed_worker_is_replaced_while_requests_keep_succeeding(
        env, serve_master, query):
    before = children(serve_master)
    assert before, "the serve master has no workers"
    victim = before[len(before) // 2]

    def replaced():
        now = children(serve_master)
        return (victim not in now and len(now) == len(before) and
                bool(set(now) - set(before)))

    with _Stream(env) as stream:
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        ok = wait_until(replaced, timeout=1.0, interval=0.01)
        replaced_after = time.monotonic() - killed_at
        time.sleep(0.7)
    assert ok, "no new worker within 1 s (workers now: %s, before: %s)" \
        % (children(serve_master), before)
    assert replaced_after <= 1.05
    os.kill(serve_master, 0)    # the master survived
    results = stream.results
    assert len(results) >= 20, "the stream barely ran: %d requests" % len(
        results)
    failed = [r for r in results if r[1] != 201]
    # Only a request the victim was serving at that instant may be lost.
    assert len(failed) <= 1, failed
    late = [r for r in failed if r[0] > killed_at + 0.2]
    assert late == [], "requests failed after the worker was killed: %s" % late
    assert all(r[1] is None or r[1] == 502 for r in failed), failed
    # Every 201 was committed.
    ids = [r[2] for r in results if r[1] == 201]
    assert query("SELECT count(*) FROM messages WHERE id = ANY(%s)",
                 (ids,))[0][0] == len(ids)
    after_kill = [r for r in results if r[0] > killed_at]
    assert any(r[1] == 201 for r in after_kill)


# ------------------------------------------------------------ database down

def _stack_pg(env, action):
    child = dict(os.environ)
    # stack.sh rewrites the cluster's port from these: keep the stack's own.
    child["WADESK_PG_PORT"] = env["WADESK_PG_PORT"]
    child["WADESK_HTTP_PORT"] = env["WADESK_HTTP_PORT"]
    return subprocess.run(["sh", str(STACK_SH), "pg", env["WADESK_VAR"],
                           action], env=child, capture_output=True,
                          text=True, timeout=120)


def _ready(url):
    try:
        return requests.get(url + "/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def pg_stopper(env, base_url):
    """stop() stops PostgreSQL; whatever happens, it is started again."""
    if not env.get("WADESK_PG_PORT") or not env.get("WADESK_VAR"):
        pytest.skip("dev.env lacks WADESK_PG_PORT/WADESK_VAR")

    def stop():
        p = _stack_pg(env, "stop")
        assert p.returncode == 0, p.stderr
    yield stop
    p = _stack_pg(env, "start")
    assert p.returncode == 0, "PostgreSQL did not start again: %s" % p.stderr
    assert wait_until(lambda: _ready(base_url), timeout=15, interval=0.1), \
        "the stack is not ready again after PostgreSQL restarted"


def _expect_503(r, what):
    assert r.status_code == 503, "%s: %d %s" % (what, r.status_code,
                                                r.text[:200])
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.strip().isdigit(), \
        "%s: Retry-After %r" % (what, retry)
    if r.request.method != "HEAD":
        assert_error(r, 503, "database_unavailable")


def test_database_outage_gives_503_then_recovers(env, base_url, anon,
                                                 pg_stopper):
    auth = {"Authorization": "Bearer " + env["WADESK_API_KEY"]}
    json_h = dict(auth, **{"Content-Type": "application/json"})
    idem_key = "integ-outage-" + unique_token()
    content = unique_token("outage-")
    send_body = json_bytes({"sender": unique_phone(),
                            "receiver": unique_phone(), "content": content})
    inbound_sender = unique_phone()
    hook_body = json_bytes({"sender": inbound_sender, "content": "outage"})
    hook_h = {"Content-Type": "application/json",
              "X-Hub-Signature-256": sign(env["WADESK_APP_SECRET"],
                                          hook_body)}
    calls = [
        ("GET /readyz", lambda: anon.get("/readyz")),
        ("HEAD /readyz", lambda: anon.head("/readyz")),
        ("GET list", lambda: anon.get("/api/messages/", headers=auth)),
        ("GET one", lambda: anon.get("/api/messages/1/", headers=auth)),
        ("POST send", lambda: anon.post("/api/send-message/", data=send_body,
                                        headers=json_h)),
        ("POST send idem", lambda: anon.post(
            "/api/send-message/", data=send_body,
            headers=dict(json_h, **{"Idempotency-Key": idem_key}))),
        ("POST webhook", lambda: anon.post("/api/webhook/", data=hook_body,
                                           headers=hook_h)),
    ]
    assert _ready(base_url), "the stack is not ready before the test"

    pg_stopper()
    # Several rounds, so that every worker meets the outage.
    for _ in range(3):
        for what, call in calls:
            _expect_503(call(), what)
    # The process itself is up.
    assert anon.get("/healthz").status_code == 200
    # Client errors stay client errors.
    assert_error(anon.get("/api/messages/"), 401, "unauthorized")
    assert anon.post("/api/send-message/", data=b"{", headers=json_h) \
        .status_code in (400, 503)

    p = _stack_pg(env, "start")
    assert p.returncode == 0, p.stderr
    seen = []

    def ready():
        r = anon.get("/readyz")
        seen.append(r.status_code)
        return r.status_code == 200
    assert wait_until(ready, timeout=10, interval=0.1), \
        "/readyz is not 200 within 10 s of PostgreSQL starting: %s" % seen

    # Every worker reconnects by itself: soon, a run of successes.
    def run_of_successes():
        for _ in range(8):
            r = anon.get("/api/messages/?limit=1", headers=auth)
            seen.append(r.status_code)
            if r.status_code != 200:
                return False
        return True
    assert wait_until(run_of_successes, timeout=5, interval=0.1), seen
    # While it came back, nothing but 503 and 200.
    assert set(seen) <= {200, 503}, seen

    # Nothing was stored during the outage; the Idempotency-Key was not used
    # up by the 503.
    r = anon.post("/api/send-message/", data=send_body,
                  headers=dict(json_h, **{"Idempotency-Key": idem_key}))
    assert r.status_code == 201, r.text
    r = anon.post("/api/webhook/", data=hook_body, headers=hook_h)
    assert r.status_code == 200, r.text
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM messages WHERE content = %s",
                        (content,))
            assert cur.fetchone()[0] == 1
            cur.execute("SELECT count(*) FROM messages WHERE sender = %s",
                        (inbound_sender,))
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.parametrize("kib", [0, 60, 300])
def test_input_a_route_does_not_read_leaves_the_worker_serving(env, anon,
                                                                kib):
    """A worker reads what is left of a request before it closes (or, past
    twice the largest body nginx sends, leaves it to libfcgi's close): an
    answer either way, and the pool goes on answering."""
    sock = env.get("WADESK_SOCKET", "")
    if not sock.startswith("/"):
        pytest.skip("the stack's FastCGI socket is not a unix socket")
    params = {"REQUEST_METHOD": "GET", "DOCUMENT_URI": "/healthz",
              "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1",
              "CONTENT_LENGTH": str(kib * 1024),
              "REQUEST_ID": "fcgi-" + unique_token()}
    status, _, body = fcgi(sock, params, b"x" * (kib * 1024))
    assert status == 200, body[:200]
    for _ in range(20):
        r = anon.get("/healthz")
        assert r.status_code == 200, r.text
