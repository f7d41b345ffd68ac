"""Fault injection under load: workers killed -9 while sends stream in,
PostgreSQL restarted in immediate mode mid-load, and a read-only database.

Every send carries a unique content tagged with the run, so what the
database holds can be matched one to one with what the clients were told.
"""

import os
import random
import signal
import threading
import time

import psycopg2
import pytest
import requests

from integ_support import json_bytes, unique_phone, unique_token

from integ_support import children
from test_resilience import _stack_pg


class SendLoad:
    """Threads sending unique messages until stopped; records every answer
    as (content, status or None for a transport error, retry_after)."""

    def __init__(self, env, threads):
        self.url = env["WADESK_URL"] + "/api/send-message/"
        self.headers = {"Authorization": "Bearer " + env["WADESK_API_KEY"],
                        "Content-Type": "application/json"}
        self.tag = unique_token("load-")
        self.results = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,))
                        for i in range(threads)]

    def _run(self, i):
        s = requests.Session()
        n = 0
        while not self.stop.is_set():
            n += 1
            content = "%s %d-%d" % (self.tag, i, n)
            body = json_bytes({"sender": unique_phone(),
                               "receiver": unique_phone(),
                               "content": content})
            t = time.monotonic()
            try:
                r = s.post(self.url, data=body, headers=self.headers,
                           timeout=15)
                got = (content, r.status_code, r.headers.get("Retry-After"),
                       t)
            except requests.RequestException:
                got = (content, None, None, t)
                s = requests.Session()
            with self.lock:
                self.results.append(got)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def stored(self, query):
        rows = query("SELECT content, count(*) FROM messages "
                     "WHERE content LIKE %s GROUP BY content",
                     (self.tag + " %",))
        return dict(rows)


def test_workers_killed_during_steady_sends_lose_and_invent_nothing(
        env, var_dir, query):
    master = int((var_dir / "pids" / "serve.pid").read_text())
    replaced = []
    with SendLoad(env, threads=12) as load:
        time.sleep(0.5)
        for _ in range(3):
            before = children(master)
            victim = random.choice(before)
            t = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            while True:
                now = children(master)
                if victim not in now and len(now) == len(before):
                    replaced.append(time.monotonic() - t)
                    break
                assert time.monotonic() - t < 1.0, \
                    "worker %d not replaced within 1 s" % victim
                time.sleep(0.01)
            time.sleep(0.5)
    stored = load.stored(query)
    ok = {c for c, st, _, _ in load.results if st == 201}
    unsure = {c for c, st, _, _ in load.results if st in (None, 502)}
    other = [(c, st) for c, st, _, _ in load.results
             if st not in (201, 502, None)]
    assert len(ok) > 100, "the load barely ran: %d sends" % len(ok)
    assert other == [], "unexpected answers: %s" % other[:5]
    # Every 201 is stored exactly once...
    assert all(stored.get(c) == 1 for c in ok), \
        [c for c in ok if stored.get(c) != 1][:5]
    # ...and nothing is stored that was not acknowledged, except requests
    # cut off with the worker (502 or a dropped connection).
    invented = set(stored) - ok - unsure
    assert invented == set(), sorted(invented)[:5]
    assert all(n == 1 for n in stored.values())
    assert max(replaced) < 1.0


def _fresh_query(env):
    """A query function on a new connection (the fixture's died with the
    restart)."""
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"])
    conn.autocommit = True

    def run(sql, params=()):
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    return run


def test_postgresql_restarted_immediately_under_load(env, base_url):
    restart_at = {}
    with SendLoad(env, threads=8) as load:
        time.sleep(0.7)
        restart_at["t"] = time.monotonic()
        p = _stack_pg(env, "restart")
        up = time.monotonic()
        assert p.returncode == 0, p.stderr
        # Give the load two seconds of a running database.
        time.sleep(2.5)
    results = sorted(load.results, key=lambda r: r[3])
    statuses = [st for _, st, _, _ in results]
    assert 201 in statuses
    # While it was down: 503 with Retry-After, never another 5xx.
    bad = [(c, st) for c, st, _, _ in results if st not in (201, 503, None)]
    assert bad == [], bad[:5]
    assert all(ra is not None for _, st, ra, _ in results if st == 503)
    # Back to 2xx within two seconds of PostgreSQL answering again.
    after = [r for r in results if r[3] >= up]
    first_ok = next((r[3] for r in after if r[1] == 201), None)
    assert first_ok is not None and first_ok - up < 2.0, \
        "no 201 within 2 s of the restart"
    # The tail of the run is all 201.
    tail = [st for _, st, _, t in results if t > up + 2.0]
    assert tail and all(st == 201 for st in tail), tail[:10]
    # Every acknowledged message survived the crash.
    stored = load.stored(_fresh_query(env))
    ok = [c for c, st, _, _ in results if st == 201]
    assert all(stored.get(c) == 1 for c in ok)
    assert all(n == 1 for n in stored.values())


@pytest.fixture
def read_only_database(env):
    """default_transaction_read_only for the whole cluster (the workers'
    existing sessions pick it up on reload); always undone."""
    # The superuser logs in only through the cluster's unix socket.
    dsn = dict(host=env["WADESK_PG_SOCKET_DIR"], port=env["WADESK_PG_PORT"],
               user="postgres", dbname="postgres")
    su = psycopg2.connect(**dsn)
    su.autocommit = True
    cur = su.cursor()

    def set_ro(on):
        cur.execute("ALTER SYSTEM SET default_transaction_read_only = %s",
                    ("on" if on else "off",))
        cur.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)
    try:
        set_ro(True)
        yield
    finally:
        cur.execute("ALTER SYSTEM RESET default_transaction_read_only")
        cur.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)
        su.close()


def test_read_only_database_gives_503_not_a_crash(env, base_url, query,
                                                  var_dir, read_only_database):
    master = int((var_dir / "pids" / "serve.pid").read_text())
    workers = children(master)
    content = unique_token("readonly-")
    h = {"Authorization": "Bearer " + env["WADESK_API_KEY"],
         "Content-Type": "application/json"}
    for _ in range(8):      # reach every worker
        r = requests.post(base_url + "/api/send-message/", headers=h,
                          data=json_bytes({"sender": unique_phone(),
                                           "receiver": unique_phone(),
                                           "content": content}), timeout=10)
        assert r.status_code == 503, r.text
        assert r.headers.get("Retry-After")
        assert r.json()["error"]["code"] == "database_unavailable"
    # Reads still work; nothing was stored; no worker died.
    r = requests.get(base_url + "/api/messages/?limit=1", headers=h,
                     timeout=10)
    assert r.status_code == 200
    assert query("SELECT count(*) FROM messages WHERE content = %s",
                 (content,)) == [(0,)]
    assert children(master) == workers
