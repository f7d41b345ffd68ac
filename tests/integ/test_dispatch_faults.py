"""Fault injection for the outbox dispatcher (`wadesk dispatch`, cloudapi
provider) against the fake WhatsApp Cloud API (fake_cloudapi.py).

The module fixture stops the stack's own (simulated) dispatcher (each test
stops it again by its PID file, should anything have restarted it, and
fails if another dispatcher works on the database), starts the fake, and
lets each test start `build/wadesk dispatch` processes of its own
(subprocess.Popen, each with its own log file) pointed at the fake, with a
short lease (WADESK_LEASE_S=3), a small backoff,
WADESK_DISPATCH_CONCURRENCY=8 (open requests) and WADESK_DISPATCH_BATCH=16
(rows per claim).  A test's dispatchers are stopped by PID when
it ends; on module teardown, whatever happened, PostgreSQL is started again
if a test left it stopped and the stack's dispatcher is restarted
(`nginx/stack.sh start`, which starts only what is not running).

Delivery guarantees these tests pin down:

- Several dispatchers on one database never send a message twice while they
  all stay up: a claim leases its rows (`FOR UPDATE SKIP LOCKED`, then
  run_at = now() + WADESK_LEASE_S).
- A dispatcher that dies (kill -9) between sending and recording loses
  nothing: its leased rows fall due again when the lease ends and another
  dispatcher sends them.  Delivery is therefore AT LEAST ONCE: what was in
  flight at the crash may reach WhatsApp twice, at most one batch
  (WADESK_DISPATCH_BATCH rows, of which WADESK_DISPATCH_CONCURRENCY requests
  are open at a time) per crash.  The database still
  records each message as sent exactly once.
- SIGTERM lets the batch in flight finish and be recorded before the
  dispatcher exits 0.
- A PostgreSQL outage while a send is in flight does not lose its result, as
  long as the database is back within the dispatcher's record-retry window
  (WADESK_LEASE_S - 1 seconds: after the lease the rows may be claimed again);
  beyond that window the result is dropped and the message sent once more
  (at-least-once again).  After reconnecting, the dispatcher LISTENs again.

Recipients are unique per test and the fake is scripted and read per
recipient, so messages of other sessions that reach the fake meanwhile (they
are answered 200) do not disturb these tests.
"""

import json
import os
import signal
import subprocess
import threading
import time

import psycopg2
import pytest
import requests

from fake_cloudapi import (PHONE_NUMBER_ID, TOKEN, VERSION, FakeCloudAPI,
                           Flaky, Gate, Ok, pid_alive, read_pid, stop_pid,
                           tcp_peer_ports, wa_error)
from integ_support import (BINARY, ROOT, Sender, run_stack, unique_phone,
                           unique_token)

LEASE_S = 3
CONCURRENCY = 8
# Rows per claim (WADESK_DISPATCH_BATCH), more than the open requests.
BATCH = 16
MAX_ATTEMPTS = 3
BACKOFF_BASE_MS = 50
BACKOFF_MAX_MS = 400
# Below the lease: a slow answer never outlives its claim.
TIMEOUT_MS = 2500
FINAL = ("sent", "failed")


# -------------------------------------------------------------- fake answers

class Delay:
    """A rule: answers like `then` after `seconds` (keeps a dispatcher's batch
    in flight for a moment so that claims of several dispatchers
    interleave)."""

    def __init__(self, seconds, then=None):
        self.seconds = seconds
        self.then = then or Ok()
        self.name = "delay+" + getattr(self.then, "name", "?")

    def respond(self, fake, rec):
        fake._stopping.wait(self.seconds)
        return self.then.respond(fake, rec)


class Hold:
    """A rule shared by many recipients: while holding, every request waits
    (at most `limit` seconds) until release(); then it is answered like
    `then`.  release(abandon=True) is for requests whose client was killed
    meanwhile: they are marked late, so they never count as a success the
    dispatcher saw.  Requests arriving after the release are answered at
    once."""

    name = "hold"

    def __init__(self, then=None, limit=20.0):
        self.then = then or Ok()
        self.limit = limit
        self.lock = threading.Lock()
        self.holding = True
        self.abandon = False
        self.released = threading.Event()
        self.held = []

    def respond(self, fake, rec):
        with self.lock:
            hold = self.holding
            if hold:
                self.held.append(rec)
        if hold:
            self.released.wait(self.limit)
            if self.abandon:
                rec.late = True
        return self.then.respond(fake, rec)

    def held_to(self):
        with self.lock:
            return [r.to for r in self.held]

    def release(self, abandon=False):
        with self.lock:
            self.abandon = abandon
            self.holding = False
        self.released.set()


# ------------------------------------------------------------------ processes

class Dispatcher:
    """One `wadesk dispatch` of ours, with its own log file."""

    def __init__(self, name, proc, log_path, logf):
        self.name = name
        self.proc = proc
        self.pid = proc.pid
        self.log_path = log_path
        self._logf = logf

    def alive(self):
        return self.proc.poll() is None

    def lines(self):
        out = []
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return out
        for raw in text.splitlines():
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
        return out

    def dispatched(self, ids=None, outcome=None):
        """message_id -> number of "dispatch" lines (of this pid)."""
        got = {}
        for o in self.lines():
            if o.get("msg") != "dispatch" or o.get("pid") != self.pid:
                continue
            if outcome is not None and o.get("outcome") != outcome:
                continue
            mid = o.get("message_id")
            if ids is None or mid in ids:
                got[mid] = got.get(mid, 0) + 1
        return got

    def logged(self, msg):
        return any(o.get("msg") == msg for o in self.lines())

    def tail(self, n=25):
        try:
            return "\n".join(self.log_path.read_text(
                errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def kill9(self):
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(5)

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout; closes the log file."""
        try:
            if self.alive():
                os.kill(self.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.kill(self.pid, signal.SIGKILL)
                    self.proc.wait(5)
        finally:
            self._logf.close()


class Faults:
    def __init__(self, env, var_dir, fake):
        self.env = env
        self.var_dir = var_dir
        self.fake = fake
        self.log_dir = var_dir / "log"
        self.started = []
        self.own = set()
        self._n = 0

    def foreign(self):
        return _foreign_dispatchers(self.env["WADESK_DATABASE_URL"],
                                    self.own)

    def start(self, name, **overrides):
        """Starts a dispatcher against the fake; waits for its first log
        line ("dispatching")."""
        self._n += 1
        log_path = self.log_dir / ("dispatch-faults-%s-%d.log"
                                   % (name, self._n))
        child = dict(os.environ)
        child.update({k: v for k, v in self.env.items()
                      if k.startswith("WADESK_")})
        child.update({
            "WADESK_PROVIDER": "cloudapi",
            "WADESK_CLOUDAPI_BASE_URL": self.fake.base_url,
            "WADESK_CLOUDAPI_VERSION": VERSION,
            "WADESK_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WADESK_CLOUDAPI_TOKEN": TOKEN,
            "WADESK_BACKOFF_BASE_MS": str(BACKOFF_BASE_MS),
            "WADESK_BACKOFF_MAX_MS": str(BACKOFF_MAX_MS),
            "WADESK_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            "WADESK_CLOUDAPI_TIMEOUT_MS": str(TIMEOUT_MS),
            "WADESK_LEASE_S": str(LEASE_S),
            "WADESK_DISPATCH_CONCURRENCY": str(CONCURRENCY),
            "WADESK_DISPATCH_BATCH": str(BATCH),
        })
        child.update({k: str(v) for k, v in overrides.items()})
        logf = open(log_path, "wb")
        proc = subprocess.Popen(
            [os.environ.get("WADESK_TEST_DISPATCH_BINARY") or str(BINARY),
             "dispatch"], env=child, cwd=str(ROOT), stdin=subprocess.DEVNULL,
            stdout=logf, stderr=subprocess.STDOUT)
        d = Dispatcher(name, proc, log_path, logf)
        self.started.append(d)
        self.own.add(proc.pid)
        deadline = time.monotonic() + 5
        while not d.logged("dispatching"):
            assert d.alive(), "dispatcher %s exited with %s:\n%s" % (
                name, proc.returncode, d.tail())
            assert time.monotonic() < deadline, \
                "dispatcher %s logged nothing in 5 s" % name
            time.sleep(0.02)
        return d

    def stop_all(self):
        for d in self.started:
            d.stop()
        self.started = []

    def pg(self, action):
        p = run_stack(self.env, self.var_dir, "pg", "VAR", action)
        assert p.returncode == 0, "stack.sh pg %s: %s %s" % (
            action, p.stdout[-1000:], p.stderr[-1000:])


def _foreign_dispatchers(db_url, own):
    """{pid: command line} of `wadesk dispatch` processes on this machine
    that work on this database and are not ours (the stack's own when
    another session restarted it, another session's test dispatchers)."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in own:
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = f.read().split(b"\0")
            if len(argv) < 2 or os.path.basename(argv[0]) != b"wadesk" \
                    or argv[1] != b"dispatch":
                continue
            with open("/proc/%s/environ" % name, "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        url = b"WADESK_DATABASE_URL=" + db_url.encode()
        if url in environ and pid_alive(int(name)):
            found[int(name)] = b" ".join(argv).decode(errors="replace")
    return found


@pytest.fixture(scope="module")
def faults(env, var_dir):
    pid_file = var_dir / "pids" / "dispatch.pid"
    (var_dir / "log").mkdir(parents=True, exist_ok=True)
    fake = FakeCloudAPI(token=TOKEN, phone_number_id=PHONE_NUMBER_ID)
    f = Faults(env, var_dir, fake)
    try:
        fake.start()
        stop_pid(read_pid(pid_file))
        yield f
    finally:
        try:
            f.stop_all()
        finally:
            fake.stop()
            # Starts PostgreSQL too if a test left it stopped.
            p = run_stack(env, var_dir, "start", "VAR")
            assert p.returncode == 0, (
                "could not restart the stack's dispatcher: %s %s"
                % (p.stdout[-2000:], p.stderr[-2000:]))


@pytest.fixture
def dispatchers(faults):
    """faults, with the outbox to this test's own dispatchers: the stack's
    dispatcher is stopped by its PID file (again, should something have
    restarted it; the module restores it at the end), and the test fails
    at once if any other dispatcher still works on this database.  The
    dispatchers the test starts are stopped after it."""
    stop_pid(read_pid(faults.var_dir / "pids" / "dispatch.pid"))
    other = faults.foreign()
    assert not other, (
        "other dispatchers work on this database (%s): stop them, these "
        "tests need the outbox to themselves" % other)
    try:
        yield faults
    finally:
        faults.stop_all()
        other = faults.foreign()
        assert not other, (
            "a dispatcher not started by this test appeared on this "
            "database while it ran (%s); its results are not this "
            "dispatcher's" % other)


# -------------------------------------------------------------------- helpers

class DB:
    """Queries with a connection that comes back after a PostgreSQL
    restart."""

    def __init__(self, url):
        self.url = url
        self.conn = None

    def __call__(self, sql, params=()):
        for attempt in (1, 2):
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg2.connect(self.url, connect_timeout=5)
                    self.conn.autocommit = True
                with self.conn.cursor() as cur:
                    cur.execute(sql, params)
                    return cur.fetchall() if cur.description else []
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                self.close()
                if attempt == 2:
                    raise

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
        self.conn = None


@pytest.fixture
def q(env):
    db = DB(env["WADESK_DATABASE_URL"])
    yield db
    db.close()


@pytest.fixture
def sender(env, base_url):
    return Sender(env, base_url)


def _rows(q, ids):
    """id -> (status, provider_message_id, error_message)."""
    return {r[0]: r[1:] for r in q(
        "SELECT id, status, provider_message_id, error_message FROM messages "
        "WHERE id = ANY(%s)", (list(ids),))}


def _wait_final(q, ids, timeout, what="", dispatchers=()):
    deadline = time.monotonic() + timeout
    while True:
        rows = _rows(q, ids)
        pending = {i: r for i, r in rows.items() if r[0] not in FINAL}
        if not pending and len(rows) == len(ids):
            return rows
        if time.monotonic() >= deadline:
            out = q("SELECT message_id, attempts, run_at - now(), last_error "
                    "FROM outbox WHERE message_id = ANY(%s) ORDER BY 1 "
                    "LIMIT 10", (list(pending),))
            pytest.fail("%s%d of %d messages not sent/failed after %.0f s: "
                        "%s\noutbox: %s\n%s" % (
                            what + ": " if what else "", len(pending),
                            len(ids), timeout, list(pending.items())[:10],
                            out, "\n".join("--- %s (pid %d, %s)\n%s" % (
                                d.name, d.pid,
                                "alive" if d.alive() else
                                "exit %s" % d.proc.returncode, d.tail(10))
                                for d in dispatchers)))
        time.sleep(0.1)


def _event_counts(q, ids):
    """id -> {status: count} of its events."""
    out = {i: {} for i in ids}
    for mid, status, n in q(
            "SELECT message_id, status, count(*) FROM message_events "
            "WHERE message_id = ANY(%s) GROUP BY 1, 2", (list(ids),)):
        out[mid][status] = n
    return out


def _outbox_left(q, ids):
    return q("SELECT message_id, attempts, run_at - now() FROM outbox "
             "WHERE message_id = ANY(%s)", (list(ids),))


def _wait_for(pred, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------------- tests

@pytest.mark.parametrize("n_dispatchers", [2, 3])
def test_several_dispatchers_send_each_message_exactly_once(
        dispatchers, sender, q, n_dispatchers):
    """n dispatchers on one database and one fake; 300 messages posted
    concurrently while they run.  The fake holds every answer 40 ms so a
    batch stays in flight and the dispatchers' claims interleave (otherwise
    one fast dispatcher may legitimately drain everything)."""
    fake = dispatchers.fake
    n = 300
    receivers = [unique_phone() for _ in range(n)]
    fake.script_many(receivers, then=Delay(0.04))
    ds = [dispatchers.start("multi%d-%s" % (n_dispatchers, c))
          for c in "abc"[:n_dispatchers]]
    t0 = time.monotonic()
    ids = sender.many(receivers)
    t_posted = time.monotonic() - t0
    by_id = dict(zip(ids, receivers))
    rows = _wait_final(q, ids, 25, "after %.1f s of posting" % t_posted, ds)

    not_sent = {i: r for i, r in rows.items() if r[0] != "sent"}
    assert not not_sent, list(not_sent.items())[:10]
    # The provider saw exactly one request per message, and it succeeded.
    twice = {}
    for mid, (status, pid, err) in rows.items():
        reqs = fake.requests_for(by_id[mid])
        if len(reqs) != 1 or not reqs[0].succeeded:
            twice[mid] = reqs
            continue
        assert pid == reqs[0].wamid, (mid, pid, reqs[0].wamid)
    assert not twice, "%d messages not sent exactly once: %s" % (
        len(twice), list(twice.items())[:5])
    # The database recorded each once.
    events = _event_counts(q, ids)
    bad = {i: e for i, e in events.items()
           if e.get("sent") != 1 or "queued" in e or "failed" in e}
    assert not bad, list(bad.items())[:10]
    assert not _outbox_left(q, ids)
    # Every dispatcher took a share; no message was logged sent by two.
    idset = set(ids)
    shares = [d.dispatched(idset, "sent") for d in ds]
    spread = {d.name: len(s) for d, s in zip(ds, shares)}
    assert all(spread.values()), (
        "not every dispatcher did work: %s (%.1f s to post %d)"
        % (spread, t_posted, n))
    seen = {}
    for d, share in zip(ds, shares):
        for mid, k in share.items():
            assert k == 1, "%s logged message %d sent %d times" % (
                d.name, mid, k)
            assert mid not in seen, "message %d sent by %s and %s" % (
                mid, seen[mid], d.name)
            seen[mid] = d.name
    assert set(seen) == idset, "%d messages logged by no dispatcher" % (
        len(idset - set(seen)))
    for d in ds:
        assert d.alive(), d.tail()


def test_kill_9_mid_batch_the_lease_brings_the_rows_back(dispatchers, sender,
                                                         q):
    """kill -9 while a batch is in flight at the provider, before the
    results are recorded.  The rows it had claimed stay leased until the
    lease ends, then fall due and a fresh dispatcher sends them; rows it had
    not claimed go out at once.  Every message ends `sent`, with one 'sent'
    event, nothing left in the outbox.

    At-least-once: WhatsApp may have accepted the killed batch's requests
    (they reached it; the answers were lost with the process), so those
    messages go out a second time.  The duplicates are bounded by the batch
    in flight: only messages whose request had reached the provider before
    the kill are sent twice (at most WADESK_DISPATCH_CONCURRENCY requests
    are open at once, at most WADESK_DISPATCH_BATCH rows claimed), none
    more than twice, no other message more than once."""
    fake = dispatchers.fake
    n = 24
    receivers = [unique_phone() for _ in range(n)]
    hold = Hold(limit=20)
    fake.script_many(receivers, then=hold)
    # Queued before any dispatcher runs, so the first claim takes a full
    # batch of them.
    ids = sender.many(receivers, threads=4)
    by_id = dict(zip(ids, receivers))
    by_to = {v.lstrip("+"): k for k, v in by_id.items()}
    a = dispatchers.start("kill9-a")

    def held_mine():
        return [t for t in hold.held_to() if t in by_to]

    # Wait until every connection of the batch is held (or, when other
    # sessions' rows took places in it, until nothing more arrives for half
    # a second).
    deadline = time.monotonic() + 8
    last, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        k = len(held_mine())
        if k >= CONCURRENCY:
            break
        if k != last:
            last, stable_since = k, time.monotonic()
        elif k > 0 and time.monotonic() - stable_since > 0.5:
            break
        time.sleep(0.02)
    reached = {by_to[t] for t in held_mine()}
    assert reached, "the dispatcher sent nothing in 8 s:\n" + a.tail()
    assert len(reached) <= CONCURRENCY
    t_first = min(r.t for r in hold.held if r.to in by_to)
    # Claimed (the claim is committed before the sends) and leased, not
    # recorded: still queued, due when the lease ends.
    leased = {r[0]: r[1:] for r in q(
        "SELECT message_id, attempts, extract(epoch FROM run_at - now()) "
        "FROM outbox WHERE message_id = ANY(%s) AND attempts > 0",
        (ids,))}
    claimed = set(leased)
    assert reached <= claimed, (reached - claimed, leased)
    assert len(claimed) <= BATCH, leased
    assert all(att == 1 and 0 < due <= LEASE_S + 0.5
               for att, due in leased.values()), leased
    assert q("SELECT count(*) FROM outbox WHERE message_id = ANY(%s)",
             (ids,))[0][0] == n

    a.kill9()
    t_kill = time.monotonic()
    assert a.proc.returncode == -signal.SIGKILL
    hold.release(abandon=True)      # their client is gone
    b = dispatchers.start("kill9-b")
    rows = _wait_final(q, ids, LEASE_S + 10, "after kill -9", [a, b])

    assert all(r[0] == "sent" for r in rows.values()), rows
    events = _event_counts(q, ids)
    bad = {i: e for i, e in events.items()
           if e.get("sent") != 1 or "failed" in e}
    assert not bad, "sent events: %s" % bad
    assert not _outbox_left(q, ids), _outbox_left(q, ids)
    dup = 0
    for mid, (status, pid, err) in rows.items():
        reqs = fake.requests_for(by_id[mid])
        ok = [r for r in reqs if r.succeeded]
        assert len(ok) == 1, (mid, reqs)
        assert pid == ok[0].wamid, (mid, pid, reqs)
        if mid in reached:
            # Once in the killed batch, once more after the lease.
            assert len(reqs) == 2 and ok[0] is reqs[1], (mid, reqs)
            dup += 1
        else:
            assert len(reqs) == 1, (mid, reqs)
        if mid in claimed:
            late = ok[0].t - t_first
            assert late >= LEASE_S - 0.5, (
                "message %d was sent again %.2f s after its batch went out: "
                "before its %d s lease ended" % (mid, late, LEASE_S))
        else:
            # Not leased: out at once, not after the lease.
            assert ok[0].t - t_kill < LEASE_S - 1, (
                "unclaimed message %d waited %.2f s after the kill"
                % (mid, ok[0].t - t_kill))
    assert dup == len(reached) <= min(CONCURRENCY, BATCH)
    assert b.alive(), b.tail()


def test_sigterm_mid_send_records_the_result_then_exits(dispatchers, sender,
                                                        q):
    """SIGTERM while a send is held at the provider: the dispatcher waits for
    the answer, records it (`sent` with the fake's id), takes no new work,
    logs "dispatcher stopped" and exits 0; a new dispatcher does not send it
    again."""
    fake = dispatchers.fake
    receiver = unique_phone()
    gate = Gate(timeout=15)
    fake.script(receiver, gate)
    a = dispatchers.start("term-a")
    mid = sender.one(receiver)
    assert gate.arrived.wait(5), "the dispatcher never called the fake:\n" \
        + a.tail()
    os.kill(a.pid, signal.SIGTERM)
    time.sleep(0.5)
    assert a.alive(), "the dispatcher exited with a send in flight " \
        "(exit %s):\n%s" % (a.proc.returncode, a.tail())
    # Work queued after the SIGTERM is left for another dispatcher.
    later_to = unique_phone()
    later = sender.one(later_to)
    time.sleep(0.2)
    t_open = time.monotonic()
    gate.open()
    try:
        rc = a.proc.wait(5)
    except subprocess.TimeoutExpired:
        pytest.fail("the dispatcher did not exit within 5 s of the answer "
                    "after SIGTERM:\n" + a.tail())
    took = time.monotonic() - t_open
    assert rc == 0, "exit status %s:\n%s" % (rc, a.tail())
    assert a.logged("dispatcher stopped"), a.tail()
    reqs = fake.requests_for(receiver)
    assert len(reqs) == 1 and reqs[0].succeeded, reqs
    row = _rows(q, [mid])[mid]
    assert row[0] == "sent" and row[1] == reqs[0].wamid, (row, reqs)
    assert a.dispatched({mid}, "sent") == {mid: 1}, a.tail()
    assert not _outbox_left(q, [mid])
    assert _rows(q, [later])[later][0] == "queued"
    assert not fake.requests_for(later_to), \
        "the stopping dispatcher took new work"
    assert took < 5

    b = dispatchers.start("term-b")
    _wait_final(q, [later], 5, "the next dispatcher", [b])
    assert _rows(q, [later])[later][0] == "sent"
    time.sleep(0.5)
    assert len(fake.requests_for(receiver)) == 1, fake.requests_for(receiver)
    assert _event_counts(q, [mid])[mid] == {"sent": 1}
    assert not b.dispatched({mid}), b.tail()


@pytest.fixture
def pg_guard(faults):
    """pg("stop"/"start"); PostgreSQL is started again after the test
    whatever happened."""
    yield faults.pg
    faults.pg("start")


def test_postgresql_outage_while_a_send_is_in_flight(dispatchers, sender, q,
                                                     pg_guard):
    """A send is in flight at the provider when PostgreSQL stops; the answer
    arrives while the database is down; PostgreSQL is back 1.5 s later.  The
    dispatcher keeps the result and records it once the database is back:
    `sent` with that answer's id, one 'sent' event, one provider request.
    It keeps running and delivers new messages afterwards.

    The dispatcher retries recording for WADESK_LEASE_S - 1 seconds (after
    that the lease may have passed to another dispatcher), so this test's
    dispatcher gets an 8 s lease: the outage must fit in that window."""
    fake = dispatchers.fake
    receiver = unique_phone()
    gate = Gate(timeout=15)
    fake.script(receiver, gate)
    a = dispatchers.start("pg-a", WADESK_LEASE_S=8)
    mid = sender.one(receiver)
    assert gate.arrived.wait(5), "the dispatcher never called the fake:\n" \
        + a.tail()
    q.close()
    t0 = time.monotonic()
    pg_guard("stop")
    t_stop = time.monotonic() - t0
    gate.open()
    assert _wait_for(lambda: fake.requests_for(receiver)[0].status, 3), \
        "the fake did not answer"
    time.sleep(1.5)
    assert a.alive(), a.tail()
    t1 = time.monotonic()
    pg_guard("start")
    t_start = time.monotonic() - t1

    rows = _wait_final(q, [mid], 10, "after PostgreSQL came back", [a])
    reqs = fake.requests_for(receiver)
    assert rows[mid][0] == "sent", (rows, reqs, a.tail())
    assert len(reqs) == 1 and reqs[0].succeeded, (
        "the provider got %d requests (outage: stop %.1f s, down 1.5 s, "
        "start %.1f s): %s\n%s" % (len(reqs), t_stop, t_start, reqs,
                                   a.tail()))
    assert rows[mid][1] == reqs[0].wamid, (rows, reqs)
    assert _event_counts(q, [mid])[mid] == {"sent": 1}
    assert not _outbox_left(q, [mid])
    assert a.alive(), a.tail()
    # Still delivering.
    to2 = unique_phone()
    mid2 = sender.one(to2)
    rows = _wait_final(q, [mid2], 8, "a new message after the outage", [a])
    assert rows[mid2][0] == "sent"
    assert len(fake.requests_for(to2)) == 1
    assert a.dispatched({mid2}, "sent") == {mid2: 1}, a.tail()
    assert a.alive(), a.tail()


def test_postgresql_outage_longer_than_the_lease_is_at_least_once(
        dispatchers, sender, q, pg_guard):
    """As above with the default 3 s lease and PostgreSQL down 4 s after the
    answer: the record retries end with the lease, the result is dropped
    ("could not record a batch") and the message goes out once more when it
    falls due.  At-least-once: at most one extra provider request (none if
    the dispatcher kept the answer until the database came back), and the
    database still ends with one 'sent' event and the id of the answer it
    recorded."""
    fake = dispatchers.fake
    receiver = unique_phone()
    gate = Gate(timeout=15)
    fake.script(receiver, gate)
    a = dispatchers.start("pg-long")
    mid = sender.one(receiver)
    assert gate.arrived.wait(5), a.tail()
    q.close()
    pg_guard("stop")
    gate.open()
    time.sleep(LEASE_S + 1)
    assert a.alive(), a.tail()
    pg_guard("start")
    rows = _wait_final(q, [mid], LEASE_S + 8, "after PostgreSQL came back",
                       [a])
    reqs = fake.requests_for(receiver)
    assert rows[mid][0] == "sent", (rows, reqs)
    assert _event_counts(q, [mid])[mid] == {"sent": 1}
    assert not _outbox_left(q, [mid])
    ok = [r for r in reqs if r.succeeded]
    assert 1 <= len(reqs) <= 2 and rows[mid][1] in [r.wamid for r in ok], \
        (rows, reqs)
    if len(reqs) == 2:
        # The first answer was dropped, and said so; the second one counts.
        assert a.logged("could not record a batch; its rows fall due "
                        "again when the lease ends"), a.tail()
        assert rows[mid][1] == reqs[1].wamid, (rows, reqs)
    assert a.alive(), a.tail()


def _pickup_latencies(fake, sender, k=5):
    """Seconds from a send's 201 to the fake's receiving it, k times one
    after another (a dispatcher that LISTENs wakes at once; one that does
    not waits for its next 1 s sweep)."""
    out = []
    for _ in range(k):
        to = unique_phone()
        sender.one(to)
        t = time.monotonic()
        got = fake.wait_requests(to, 1, 3)
        assert got, "no send within 3 s"
        out.append(max(0.0, got[0].t - t))
        time.sleep(0.1)
    return sorted(out)


def _backends(q, env, pid):
    """PostgreSQL backend pids of process pid's connections."""
    ports = tcp_peer_ports(pid, int(env["WADESK_PG_PORT"]))
    if not ports:
        return []
    return [r[0] for r in q("SELECT pid FROM pg_stat_activity WHERE "
                            "client_port = ANY(%s)", (ports,))]


def test_dispatcher_listens_again_after_its_connection_is_lost(
        dispatchers, sender, q, env):
    """The dispatcher's database connection is killed (pg_terminate_backend)
    while a send is in flight; it reconnects to record the answer.  Then it
    must LISTEN on the new connection again: a new message is picked up at
    once (NOTIFY), as before, not at the next 1 s sweep."""
    fake = dispatchers.fake
    a = dispatchers.start("relisten")
    before = _pickup_latencies(fake, sender)
    assert before[len(before) // 2] < 0.3, (
        "before the fault, pick-up latencies %s" % before)
    receiver = unique_phone()
    gate = Gate(timeout=15)
    fake.script(receiver, gate)
    mid = sender.one(receiver)
    assert gate.arrived.wait(5), a.tail()
    backends = _backends(q, env, a.pid)
    assert len(backends) == 1, "dispatcher backends: %s" % backends
    assert q("SELECT pg_terminate_backend(%s)", (backends[0],))[0][0]
    time.sleep(0.2)
    gate.open()
    rows = _wait_final(q, [mid], 5, "after the connection was killed", [a])
    assert rows[mid][0] == "sent"
    assert len(fake.requests_for(receiver)) == 1
    assert _event_counts(q, [mid])[mid] == {"sent": 1}
    new = _wait_for(lambda: [b for b in _backends(q, env, a.pid)
                             if b != backends[0]], 3)
    assert new, "the dispatcher did not reconnect"
    after = _pickup_latencies(fake, sender)
    assert after[len(after) // 2] < 0.3, (
        "after reconnecting, the dispatcher no longer wakes on NOTIFY: "
        "pick-up latencies before %s s, after %s s (its 1 s sweep)\n%s"
        % (["%.3f" % x for x in before], ["%.3f" % x for x in after],
           a.tail(8)))
    assert a.alive(), a.tail()


def test_flaky_provider_and_a_kill_9_mid_run(dispatchers, sender, q):
    """Two dispatchers, the fake failing 30% of calls (HTTP 500, retried with
    backoff, WADESK_MAX_ATTEMPTS=3), 200 messages; one dispatcher is killed
    -9 in the middle of the run and started again.  Every message ends `sent`
    or `failed` (none stuck queued after the lease and the backoffs); a sent
    message has exactly one 'sent' event and no 'failed', a failed one
    exactly one 'failed' and no 'sent'.  Provider requests beyond one
    success per message come only from the killed batch (at-least-once):
    at most WADESK_DISPATCH_BATCH of them."""
    fake = dispatchers.fake
    n = 200
    receivers = [unique_phone() for _ in range(n)]
    fake.script_many(receivers, then=Delay(0.03, Flaky(0.3, seed=4711)))
    a = dispatchers.start("flaky-a")
    b = dispatchers.start("flaky-b")
    mine = {r.lstrip("+") for r in receivers}
    box = {}

    def post():
        box["ids"] = sender.many(receivers, threads=8)
    poster = threading.Thread(target=post)
    poster.start()
    # Mid-run: a third of the messages has reached the fake.
    assert _wait_for(lambda: sum(1 for r in fake.requests
                                 if r.to in mine) >= n // 3, 20), \
        "the dispatchers sent fewer than %d in 20 s" % (n // 3)
    a.kill9()
    a2 = dispatchers.start("flaky-a2")
    poster.join(60)
    assert not poster.is_alive() and "ids" in box, "posting did not finish"
    ids = box["ids"]
    by_id = dict(zip(ids, receivers))
    rows = _wait_final(q, ids, LEASE_S + 15, "flaky + kill -9", [a, b, a2])

    assert not _outbox_left(q, ids), _outbox_left(q, ids)
    events = _event_counts(q, ids)
    extra = over = 0
    sent = failed = 0
    for mid, (status, pid, err) in rows.items():
        reqs = fake.requests_for(by_id[mid])
        ok = [r for r in reqs if r.succeeded]
        e = events[mid]
        # A claim killed in flight counts as an attempt, yet the row is
        # claimed once more after its lease even when that was the last.
        assert len(reqs) <= MAX_ATTEMPTS + 1, (mid, reqs)
        over += max(0, len(reqs) - MAX_ATTEMPTS)
        if status == "sent":
            sent += 1
            assert e.get("sent") == 1 and "failed" not in e, (mid, e)
            assert pid in [r.wamid for r in ok], (mid, pid, reqs)
            extra += len(ok) - 1
        else:
            failed += 1
            assert e.get("failed") == 1 and "sent" not in e, (mid, e)
            assert pid is None and err and "gave up" in err, (mid, err)
            extra += len(ok)
    assert sent > n // 2, "only %d of %d sent" % (sent, n)
    assert over <= BATCH, over
    assert extra <= BATCH, (
        "%d provider successes beyond one per message: more than the one "
        "batch killed in flight" % extra)
    for d in (b, a2):
        assert d.alive(), d.tail()


# ------------------------------------------- outcomes the database refuses

@pytest.fixture
def api_get(env, base_url):
    """api_get(id) -> the message as GET /api/messages/{id}/ returns it."""
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + env["WADESK_API_KEY"]

    def get(mid):
        r = s.get("%s/api/messages/%d/" % (base_url, mid), timeout=10)
        assert r.status_code == 200, r.text[:300]
        return r.json()
    yield get
    s.close()


# WhatsApp's error texts are often localised: 600 bytes of "€" (3 bytes
# each) do not fit the 511 bytes kept, and were cut inside a character;
# "\u0000" is legal JSON that PostgreSQL refuses in jsonb and C strings end
# at.
ERROR_TEXTS = {
    "multibyte-600-bytes": "\u20ac" * 200,
    "nul": "(#131026) Nachricht nicht zustellbar\u0000: \u00fcberpr\u00fcfen",
}


@pytest.mark.parametrize("case", list(ERROR_TEXTS))
def test_provider_error_text_fails_its_message_and_delivery_goes_on(
        dispatchers, sender, q, api_get, case):
    """A permanent error whose text does not fit as is: the message ends
    `failed` with a readable error (cut on a character boundary, NUL
    dropped); the messages claimed with it and those queued after it are
    delivered; nothing reaches the provider twice."""
    fake = dispatchers.fake
    text = ERROR_TEXTS[case]
    bad_to = unique_phone()
    fake.script(bad_to, then=wa_error(131026, text, http=400))
    with_it = [unique_phone() for _ in range(4)]
    # Queued before the dispatcher starts: one claim takes them all.
    bad = sender.one(bad_to)
    batch = sender.many(with_it, threads=4)
    d = dispatchers.start("errtext-" + case)
    rows = _wait_final(q, [bad] + batch, 10, case, [d])
    after_to = [unique_phone() for _ in range(3)]
    after = sender.many(after_to, threads=3)
    rows.update(_wait_final(q, after, 10, case + ", queued after", [d]))

    assert rows[bad][0] == "failed", rows[bad]
    err = api_get(bad)["error"]
    assert err["code"] == "131026", err
    if case == "nul":
        assert err["message"] == text.replace("\u0000", ""), err
    else:
        msg = err["message"]
        assert len(msg) >= 150 and set(msg) == {"\u20ac"}, msg
        assert len(msg.encode("utf-8")) < 512, len(msg.encode("utf-8"))
    for mid in batch + after:
        assert rows[mid][0] == "sent", (mid, rows[mid], d.tail())
    time.sleep(0.5)
    for to in [bad_to] + with_it + after_to:
        assert len(fake.requests_for(to)) == 1, (to, fake.requests_for(to))
    assert _event_counts(q, [bad])[bad] == {"failed": 1}
    assert not _outbox_left(q, [bad] + batch + after)
    assert d.alive(), d.tail()


def test_duplicate_provider_id_fails_that_message_not_the_batch(
        dispatchers, sender, q, api_get):
    """The provider answers two messages with the same id, which the
    database refuses to store twice.  One of them is recorded `sent`, the
    other `failed` (it was handed over, so it is not sent again, not even
    after its lease); the rest of the batch is delivered."""
    fake = dispatchers.fake
    wamid = fake.new_wamid()
    twins = [unique_phone(), unique_phone()]
    for to in twins:
        fake.script(to, Ok(wamid))
    others = [unique_phone() for _ in range(4)]
    ids = [sender.one(to) for to in twins]
    rest = sender.many(others, threads=4)
    d = dispatchers.start("dup-pid")
    rows = _wait_final(q, ids + rest, 10, "duplicate provider id", [d])

    assert sorted(rows[i][0] for i in ids) == ["failed", "sent"], rows
    sent = [i for i in ids if rows[i][0] == "sent"][0]
    failed = [i for i in ids if rows[i][0] == "failed"][0]
    assert rows[sent][1] == wamid
    assert rows[failed][1] is None
    err = api_get(failed)["error"]
    assert err["code"] == "unrecordable" and err["message"], err
    for mid in rest:
        assert rows[mid][0] == "sent", (mid, rows[mid])
    # Past the lease: nothing went out again.
    time.sleep(LEASE_S + 1)
    for to in twins + others:
        assert len(fake.requests_for(to)) == 1, (to, fake.requests_for(to))
    assert not _outbox_left(q, ids + rest)
    assert d.logged("could not record a message's outcome; failing it so "
                    "that it is not sent again"), d.tail()
    assert d.alive(), d.tail()


# ---------------------------------------------------------------- housekeeping

def test_housekeeping_purges_statuses_parked_for_over_7_days(dispatchers,
                                                             q):
    """A status for a provider id no message ever got waits in
    pending_statuses; after 7 days the dispatcher's housekeeping (run when
    it starts, then every few minutes) drops it.  A younger one stays."""
    old, young = "wamid.OLD" + unique_token(), "wamid.NEW" + unique_token()
    q("INSERT INTO pending_statuses (provider_message_id, status, "
      "reported_at, created_at) VALUES "
      "(%s, 'delivered', now() - interval '8 days', "
      " now() - interval '8 days'), "
      "(%s, 'delivered', now() - interval '6 days', "
      " now() - interval '6 days')", (old, young))
    try:
        def left():
            return {r[0] for r in q(
                "SELECT provider_message_id FROM pending_statuses "
                "WHERE provider_message_id IN (%s, %s)", (old, young))}
        d = dispatchers.start("housekeeping")
        assert _wait_for(lambda: old not in left(), 5), (
            "a status parked 8 days ago is still there:\n" + d.tail())
        assert young in left()
    finally:
        q("DELETE FROM pending_statuses WHERE provider_message_id IN "
          "(%s, %s)", (old, young))
