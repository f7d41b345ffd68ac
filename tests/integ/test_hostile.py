"""Hostile requests through nginx (issue 6, items 3 and 4(e)).

test_hostile_request: every case of hostile_corpus.py, sent as raw bytes over
a socket.  Each is answered with a 4xx, never a 5xx; a JSON
{"error": {"code", "message"}} unless the request was not valid HTTP at all
(then nginx may answer with its own HTML page); no row carrying this run's
markers appears in messages, message_events, outbox, idempotency_keys or
pending_statuses; and no worker of the serve master died.

Then: a slow body (nginx buffers it; workers keep serving), client
disconnects mid-request (no worker dies, hangs or grows), and a last check
over the whole module (same workers, /readyz, no trace in the database, no
error logged for any of our requests).

Other sessions may use the same stack and database meanwhile: every database
check counts only rows carrying this run's markers, and a worker killed with
SIGKILL (test_resilience.py does that) is reported, not blamed on a case.
"""

import concurrent.futures
import json
import os
import re
import secrets
import socket
import threading
import time
import warnings

import psycopg2
import pytest

import hostile_corpus
from integ_support import children, unique_phone

TIMEOUT = 20            # per request: nothing here may take that long

# ------------------------------------------------------------ raw HTTP


class Answer:
    __slots__ = ("status", "reason", "headers", "body", "error", "elapsed")

    def __init__(self):
        self.status = None
        self.reason = ""
        self.headers = {}
        self.body = b""
        self.error = None
        self.elapsed = 0.0

    @property
    def ctype(self):
        return self.headers.get("content-type", "")

    def is_html(self):
        return self.ctype.startswith("text/html") or \
            self.body.lstrip().lower().startswith(b"<html")

    def __repr__(self):
        return "%s %s %r %r" % (self.status, self.reason, self.ctype,
                                self.body[:300])


def http_address(base_url):
    m = re.match(r"^https?://([^/:]+)(?::(\d+))?", base_url)
    return m.group(1), int(m.group(2) or 80)


def exchange(addr, raw, timeout=TIMEOUT, head=False):
    """Sends raw, reads one response.  A send that fails half-way (nginx
    may answer and close before a huge body is in) still reads the answer."""
    ans = Answer()
    t0 = time.monotonic()
    try:
        s = socket.create_connection(addr, timeout=timeout)
    except OSError as e:
        ans.error = "connect: %r" % e
        return ans
    data = b""
    try:
        try:
            s.sendall(raw)
        except OSError as e:
            ans.error = "send: %r" % e
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                ans.error = "timeout after %.1f s" % (time.monotonic() - t0)
                break
            except OSError as e:
                if not data:
                    ans.error = (ans.error or "") + " recv: %r" % e
                break
            if not chunk:
                break
            data += chunk
            if _complete(data, head):
                break
    finally:
        s.close()
    ans.elapsed = time.monotonic() - t0
    _parse(ans, data)
    if ans.status is not None:
        ans.error = None
    return ans


def _complete(data, head):
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    if head:
        return True
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", data[:end])
    return m is not None and len(data) >= end + 4 + int(m.group(1))


def _parse(ans, data):
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return
    lines = data[:end].decode("latin-1").split("\r\n")
    m = re.match(r"^HTTP/\d\.\d (\d{3}) ?(.*)$", lines[0])
    if not m:
        return
    ans.status = int(m.group(1))
    ans.reason = m.group(2)
    for line in lines[1:]:
        name, _, value = line.partition(":")
        ans.headers[name.strip().lower()] = value.strip()
    ans.body = data[end + 4:]
    m = re.match(r"^\d+$", ans.headers.get("content-length", ""))
    if m:
        # Only this answer: nginx may answer leftover bytes too.
        ans.body = ans.body[:int(m.group(0))]


# ------------------------------------------------------ processes and logs

_RID = re.compile(rb'"request_id":"([0-9a-f]+)"')


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Stack:
    """The serve master, its workers and the app's log, as seen from here."""

    def __init__(self, var_dir):
        self.pidfile = var_dir / "pids" / "serve.pid"
        self.logfile = var_dir / "log" / "wadesk.log"
        if not self.pidfile.is_file():
            pytest.skip("no %s: the pool is not run by stack.sh" %
                        self.pidfile)
        self.master = self.current_master()
        self.workers = set(children(self.master))
        assert self.workers, "the serve master %d has no workers" % \
            self.master
        self.log_start = self.log_size()
        self.log_pos = self.log_start
        self.external_kills = []      # (when, log line): SIGKILL from others

    def current_master(self):
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError) as e:
            pytest.fail("the serve master is not running (%s)" % e)
        return pid

    def log_size(self):
        try:
            return self.logfile.stat().st_size
        except OSError:
            return 0

    def log_lines(self, start, rids=None):
        """Parsed JSON lines of the app log from an offset on (only those of
        the request ids rids, when given)."""
        out = []
        try:
            with open(self.logfile, "rb") as f:
                f.seek(start)
                data = f.read()
        except OSError:
            return out
        for raw in data.splitlines():
            if rids is not None:
                m = _RID.search(raw)
                if m is None or m.group(1).decode() not in rids:
                    continue
            try:
                out.append(json.loads(raw))
            except ValueError:
                continue
        return out

    def exits_since(self, pos):
        return [rec for rec in self.log_lines(pos)
                if rec.get("pid") == self.master and
                "worker exited" in str(rec.get("msg"))]

    def check(self, what):
        """No worker died since the last check.  Returns a failure message
        or None; a worker the log shows killed by SIGKILL is someone else's
        fault test (test_resilience kills workers): recorded, not failed."""
        master = self.current_master()
        if master != self.master:
            msg = ("the serve master changed (%d -> %d) during %s: the stack "
                   "was restarted" % (self.master, master, what))
            self.master = master
            self.workers = set(children(master))
            self.log_pos = self.log_size()
            return msg
        now = set(children(self.master))
        if now == self.workers:
            self.log_pos = self.log_size()
            return None
        time.sleep(0.3)         # let the master log the exit
        exits = self.exits_since(self.log_pos)
        gone = self.workers - set(children(self.master))
        self.workers = set(children(self.master))
        self.log_pos = self.log_size()
        killed = [e for e in exits if e.get("exit") == "signal 9"]
        if gone and killed and len(killed) == len(exits) and \
                len(killed) >= len(gone):
            self.external_kills.append((what, killed))
            warnings.warn("worker(s) %s SIGKILLed during %s (by another "
                          "test?)" % (sorted(gone), what))
            return None
        if not gone:
            return None         # only new workers: a late respawn
        return ("worker(s) %s died during %s; master log: %s" % (
            sorted(gone), what, exits or "no exit logged yet"))

    def answers_by_pid(self, request_ids, start):
        """request_id -> worker pid, from the app log."""
        want = set(request_ids)
        out = {}
        for rec in self.log_lines(start, want):
            rid = rec.get("request_id")
            if rec.get("msg") == "request":
                out[rid] = rec.get("pid")
        return out


# ------------------------------------------------------------- fixtures

class Ctx:
    def __init__(self, env):
        self.key = env["WADESK_API_KEY"]
        self.secret = env["WADESK_APP_SECRET"]
        self.verify_token = env["WADESK_VERIFY_TOKEN"]
        self.tag = "hx" + secrets.token_hex(5)
        self.sender = unique_phone()
        self.receiver = unique_phone()
        self.wa_from = unique_phone()[1:]
        self.phones = [self.sender, self.receiver, "+" + self.wa_from]


CASE_NAMES = [(c.name, c.xfail) for c in hostile_corpus.build_cases(
    hostile_corpus.PlaceholderCtx())]

TRACE_SQL = """
WITH m AS (
    SELECT id FROM messages
    WHERE id > %(base)s AND (strpos(content, %(tag)s) > 0
        OR sender = ANY(%(phones)s) OR receiver = ANY(%(phones)s)
        OR strpos(coalesce(provider_message_id, ''), %(tag)s) > 0))
SELECT (SELECT count(*) FROM m),
       (SELECT count(*) FROM message_events
            WHERE message_id IN (SELECT id FROM m)),
       (SELECT count(*) FROM outbox WHERE message_id IN (SELECT id FROM m)),
       (SELECT count(*) FROM idempotency_keys WHERE strpos(key, %(tag)s) > 0),
       (SELECT count(*) FROM pending_statuses
            WHERE id > %(pbase)s AND strpos(provider_message_id, %(tag)s) > 0)
"""
TRACE_TABLES = ("messages", "message_events", "outbox", "idempotency_keys",
                "pending_statuses")


class Run:
    """State shared by the tests of this module."""

    def __init__(self, env, var_dir, base_url):
        self.env = env
        self.addr = http_address(base_url)
        self.ctx = Ctx(env)
        self.cases = {c.name: c for c in hostile_corpus.build_cases(self.ctx)}
        assert sorted(self.cases) == sorted(n for n, _ in CASE_NAMES)
        self.conn = psycopg2.connect(env["WADESK_DATABASE_URL"],
                                     connect_timeout=5)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("SELECT coalesce(max(id), 0) FROM messages")
            self.base_id = cur.fetchone()[0]
            cur.execute("SELECT coalesce(max(id), 0) FROM pending_statuses")
            self.base_pending = cur.fetchone()[0]
        self.stack = Stack(var_dir)
        self.results = {}       # case name -> Answer
        self.request_ids = {}   # request id -> case name
        self.failed_workers = []
        self.last_traces = dict.fromkeys(TRACE_TABLES, 0)
        self.leaks = {}         # case -> rows it left (a failed case)
        self.started = time.monotonic()

    def new_rows(self, before):
        """Rows of ours created since the snapshot `before` (a traces()
        result): messages, idempotency keys and pending statuses (events and
        outbox rows follow the messages)."""
        now = self.traces()
        return {t: now[t] - before[t] for t in ("messages",
                                                 "idempotency_keys",
                                                 "pending_statuses")
                if now[t] != before[t]}

    def traces(self):
        with self.conn.cursor() as cur:
            cur.execute(TRACE_SQL, {"base": self.base_id,
                                    "pbase": self.base_pending,
                                    "tag": self.ctx.tag,
                                    "phones": self.ctx.phones})
            return dict(zip(TRACE_TABLES, cur.fetchone()))

    def close(self):
        self.conn.close()


@pytest.fixture(scope="module")
def run(env, var_dir, base_url):
    r = Run(env, var_dir, base_url)
    yield r
    r.close()


def _assert_json_error(ans, case_name):
    assert ans.ctype.startswith("application/json"), (
        "%s: a %d that is not JSON (Content-Type %r): %r" % (
            case_name, ans.status, ans.ctype, ans.body[:300]))
    try:
        body = json.loads(ans.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        pytest.fail("%s: the error body is not JSON (%s): %r" % (
            case_name, e, ans.body[:300]))
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), (
        "%s: not {\"error\": {...}}: %r" % (case_name, body))
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], (case_name, err)
    assert isinstance(err.get("message"), str) and err["message"], (
        case_name, err)
    return err


# ------------------------------------------------------------- the corpus

@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=x))
    if x else n for n, x in CASE_NAMES])
def test_hostile_request(run, name):
    case = run.cases[name]
    head = case.raw.startswith(b"HEAD ")
    ans = exchange(run.addr, case.raw, head=head)
    run.results[name] = ans
    rid = ans.headers.get("x-request-id")
    if rid:
        run.request_ids[rid] = name
    died = run.stack.check(name)
    if died:
        run.failed_workers.append(died)
    before, traces = run.last_traces, run.traces()
    run.last_traces = traces
    # Events and outbox rows follow messages (the dispatcher works on any
    # row a failed case stored): a case is judged by what it created.
    grown = {t: traces[t] - before[t] for t in traces
             if traces[t] != before[t]}
    leaked = set(grown) & {"messages", "idempotency_keys", "pending_statuses"}
    if leaked:
        run.leaks[name] = grown

    assert ans.status is not None, "%s: no HTTP answer (%s)" % (
        name, ans.error)
    assert ans.status < 500, "%s: a %d (5xx) answer: %r" % (
        name, ans.status, ans)
    assert 400 <= ans.status < 500, "%s: expected a 4xx, got %r" % (
        name, ans)
    if case.expect:
        assert ans.status in case.expect, "%s: expected %s, got %r" % (
            name, case.expect, ans)
    if ans.is_html():
        assert case.nginx_html, (
            "%s: nginx answered %d with HTML to a request that is valid "
            "HTTP (the contract wants JSON errors): %r" % (
                name, ans.status, ans))
    elif not head:
        err = _assert_json_error(ans, name)
        if case.code:
            assert err["code"] == case.code, "%s: expected code %s, got %r"\
                % (name, case.code, err)
    if ans.status == 405 and not ans.is_html():
        assert ans.headers.get("allow"), "%s: a 405 without Allow" % name
    assert died is None, died
    assert not leaked, "%s: the request left rows behind: %s" % (name, grown)


def test_cloud_shape_oddities_are_acknowledged_not_stored(run, env):
    """Signed Cloud API payloads whose items are all unusable: 200 (WhatsApp
    must not retry them), nothing stored, nothing crashes."""
    ctx = run.ctx
    start = run.traces()
    jd = hostile_corpus.jdump
    waba = "whatsapp_business_account"

    def cloud(value, field="messages"):
        return {"object": waba, "entry": [{"id": "1", "changes": [
            {"field": field, "value": value}]}]}

    bodies = {
        "entry-items-wrong-types": {"object": waba, "entry": [
            1, "x", None, [], True, {"changes": 5},
            {"changes": [None, 1, "x", {"field": 5}]}]},
        "field-not-messages": cloud({"messages": [{
            "from": ctx.wa_from, "id": ctx.tag + "-f", "type": "text",
            "text": {"body": ctx.tag}}]}, field="account_update"),
        "value-not-object": cloud([1, 2]),
        "messages-not-array": cloud({"messages": {"from": ctx.wa_from}}),
        "message-items-wrong-types": cloud({"messages": [
            1, "x", None, [], True]}),
        "from-wrong-types": cloud({"messages": [
            {"from": v, "id": "%s-%d" % (ctx.tag, i), "type": "text",
             "text": {"body": ctx.tag}}
            for i, v in enumerate([None, 4915112345678, [], {}, True, "",
                                   "+", "0123456789", "x" * 300,
                                   "4915\u0000123456"])]}),
        "statuses-unusable": cloud({"statuses": [
            {"id": None, "status": "sent"}, {"id": ctx.tag + "-s1"},
            {"id": ctx.tag + "-s2", "status": "bogus"},
            {"id": ctx.tag + "-s3", "status": 5},
            {"id": "", "status": "read"},
            {"id": ctx.tag + "x" * 300, "status": "delivered"},
            {"id": [ctx.tag], "status": "failed"}, 7, None]}),
        "metadata-odd": cloud({"metadata": {"display_phone_number": [1]},
                               "contacts": "x", "messages": []}),
        # No usable from or from_user_id: a contacts[] entry with ids of
        # its own lends none to the item; a NUL cuts no id shorter.
        "from-user-id-unusable": cloud({
            "contacts": [{"profile": {"name": "Lender", "username": "l.x"},
                          "user_id": "US.1349120865530274191",
                          "wa_id": ctx.wa_from}],
            "messages": [
                {"from_user_id": v, "id": "%s-u%d" % (ctx.tag, i),
                 "type": "text", "text": {"body": ctx.tag}}
                for i, v in enumerate([None, 1349120865530274191, [], {},
                                       True, "", "US.", "us.1234", "US1234",
                                       "US." + "1" * 200, "US.12\u00003",
                                       "US.1 2", "4915\u0000123456"])] + [
                {"from": "4915\u0000123456", "from_user_id": "US.\u00001",
                 "id": ctx.tag + "-u-both", "type": "text",
                 "text": {"body": ctx.tag}}]}),
        "new-types-without-sender": cloud({"messages": [
            {"id": ctx.tag + "-r", "type": "reaction",
             "reaction": {"message_id": "wamid.X", "emoji": "x"}},
            {"id": ctx.tag + "-sy", "type": "system",
             "system": {"type": "user_changed_user_id",
                        "previous_user_id": "US.1", "user_id": "US.2"}},
            {"id": ctx.tag + "-b", "type": "button",
             "context": {"id": "wamid.X"},
             "button": {"payload": "P", "text": "T"}},
            {"id": ctx.tag + "-ref", "type": "text", "text": {"body": "x"},
             "referral": {"ctwa_clid": "c", "source_type": "ad"},
             "errors": [{"code": 131051}]}]}),
        "value-errors-odd": cloud({"errors": [
            "x", 1, None, [], {"code": []}, {"code": {"a": 1}, "title": 5,
                                             "error_data": "x"},
            {"code": "\u0000", "title": "\u0000" * 3,
             "error_data": {"details": ["x"]}}]}),
        "value-errors-not-array": cloud({"errors": {"code": 131000},
                                         "statuses": "x"}),
    }
    for name, obj in bodies.items():
        body = jd(obj)
        raw = hostile_corpus.request(
            "POST", "/api/webhook/", body, [
                ("X-Hub-Signature-256",
                 "sha256=" + hostile_corpus.hmac_hex(ctx.secret, body))])
        ans = exchange(run.addr, raw)
        rid = ans.headers.get("x-request-id")
        if rid:
            run.request_ids[rid] = "cloud/" + name
        assert ans.status == 200, "cloud/%s: %r" % (name, ans)
        data = json.loads(ans.body)["data"]
        assert data["messages"] == 0 and data["statuses"] == 0, (name, data)
        died = run.stack.check("cloud/" + name)
        assert died is None, died
        new = run.new_rows(start)
        assert not new, "cloud/%s stored rows: %s" % (name, new)


# ------------------------------------------------------------ slow bodies

def test_slow_bodies_do_not_block_the_workers(run):
    """More stalled uploads than there are workers: nginx holds them (it
    buffers request bodies), every other request is served meanwhile, and
    nothing of the stalled requests reaches the database."""
    ctx = run.ctx
    start = run.traces()
    n_workers = len(run.stack.workers)
    stalled = []
    body = hostile_corpus.jdump({"sender": ctx.sender,
                                 "receiver": ctx.receiver,
                                 "content": ctx.tag + " slow " + "s" * 400})
    for i in range(n_workers * 2 + 2):
        raw = hostile_corpus.request("POST", "/api/send-message/", body,
                                     key=ctx.key)
        s = socket.create_connection(run.addr, timeout=5)
        # The head and half of the body, then nothing.
        cut = raw.index(b"\r\n\r\n") + 4 + len(body) // 2
        s.sendall(raw[:cut])
        stalled.append(s)
    try:
        time.sleep(0.3)
        slow = []
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futs = [pool.submit(exchange, run.addr, hostile_corpus.request(
                "GET", path, ctype=None, key=ctx.key), 5)
                for path in ["/healthz", "/readyz",
                             "/api/messages/?limit=1"] * 8]
            for f in futs:
                ans = f.result()
                assert ans.status == 200, ans
                slow.append(ans.elapsed)
        assert max(slow) < 2.0, "requests were slow while bodies stalled: "\
            "%s" % sorted(slow)[-5:]
        # Still nothing from nginx on the stalled ones: it waits for the
        # rest of the body (client_body_timeout 10 s); we do not.
        for s in stalled:
            s.setblocking(False)
            try:
                got = s.recv(1)
            except BlockingIOError:
                got = None
            assert got is None, "nginx answered a half-sent body: %r" % got
    finally:
        for s in stalled:
            s.close()
    time.sleep(0.3)
    died = run.stack.check("slow bodies")
    assert died is None, died
    new = run.new_rows(start)
    assert not new, "stalled uploads stored rows: %s" % new


# ------------------------------------------------- client disconnects (4e)

def _disconnect_once(run, i, kind, sent_log, lock):
    ctx = run.ctx
    content = "%s dc %d %s" % (ctx.tag, i, kind)
    body = hostile_corpus.jdump({"sender": ctx.sender,
                                 "receiver": ctx.receiver,
                                 "content": content})
    raw = hostile_corpus.request("POST", "/api/send-message/", body,
                                 key=ctx.key)
    head_len = raw.index(b"\r\n\r\n") + 4
    s = socket.create_connection(run.addr, timeout=5)
    try:
        if kind == "headers-only":
            s.sendall(raw[:head_len])
        elif kind == "half-body":
            s.sendall(raw[:head_len + len(body) // 2])
        elif kind == "half-head":
            s.sendall(raw[:head_len // 2])
        elif kind == "half-big-body":
            big = hostile_corpus.jdump({
                "sender": ctx.sender, "receiver": ctx.receiver,
                "content": content + " " + "b" * 60000})
            r2 = hostile_corpus.request("POST", "/api/send-message/", big,
                                        key=ctx.key)
            s.sendall(r2[:len(r2) // 2])
        elif kind == "half-chunked":
            r2 = hostile_corpus.request(
                "POST", "/api/send-message/", hostile_corpus.chunked(body),
                [("Transfer-Encoding", "chunked")], key=ctx.key, length=None)
            s.sendall(r2[:len(r2) - 20])
        elif kind in ("full-close", "full-rst", "full-half-close",
                      "full-webhook-close", "full-close-after-1ms",
                      "full-rst-after-2ms"):
            if kind == "full-webhook-close":
                wb = hostile_corpus.jdump({"sender": ctx.sender,
                                           "content": content})
                raw = hostile_corpus.request(
                    "POST", "/api/webhook/", wb, [
                        ("X-Hub-Signature-256", "sha256=" +
                         hostile_corpus.hmac_hex(ctx.secret, wb))])
            if kind in ("full-rst", "full-rst-after-2ms"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.sendall(raw)
            with lock:
                sent_log.append(content)
            if kind == "full-half-close":
                s.shutdown(socket.SHUT_WR)
                time.sleep(0.005)
            elif kind == "full-close-after-1ms":
                time.sleep(0.001)       # while the worker is at it
            elif kind == "full-rst-after-2ms":
                time.sleep(0.002)
        else:
            raise AssertionError(kind)
    finally:
        s.close()


DISCONNECT_KINDS = ["headers-only", "half-body", "half-head", "half-big-body",
                    "half-chunked", "full-close", "full-rst",
                    "full-half-close", "full-webhook-close",
                    "full-close-after-1ms", "full-rst-after-2ms"]


def _disconnect_round(run, n, offset, sent_log):
    lock = threading.Lock()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        futs = [pool.submit(_disconnect_once, run, offset + i,
                            DISCONNECT_KINDS[i % len(DISCONNECT_KINDS)],
                            sent_log, lock) for i in range(n)]
        for f in futs:
            f.result()


def _all_workers_answer(run, n=64):
    """n parallel /healthz and /readyz: all answer 200 quickly, and the app
    log shows every worker among those that answered."""
    reqs = [hostile_corpus.request("GET", p, ctype=None)
            for p in ["/healthz", "/readyz"] * (n // 2)]
    start = run.stack.log_size()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        answers = list(pool.map(lambda r: exchange(run.addr, r, 5), reqs))
    bad = [a for a in answers if a.status != 200]
    assert not bad, "health checks failed: %s" % bad[:5]
    slowest = max(a.elapsed for a in answers)
    assert slowest < 3.0, "a health check took %.2f s" % slowest
    rids = [a.headers.get("x-request-id") for a in answers]
    pids = set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        pids = set(run.stack.answers_by_pid(rids, start).values())
        if pids >= run.stack.workers:
            break
        time.sleep(0.2)
    return pids, slowest


def test_client_disconnects_do_not_leak_or_wedge_workers(run):
    stack = run.stack
    sent = []
    # Warm up (arenas grow to their working size), then measure.
    _disconnect_round(run, 45, 0, sent)
    time.sleep(1.0)
    died = stack.check("disconnect warm-up")
    assert died is None, died
    rss_before = {p: rss_kb(p) for p in stack.workers}

    t0 = time.monotonic()
    _disconnect_round(run, 220, 1000, sent)
    elapsed = time.monotonic() - t0
    time.sleep(1.5)             # requests nginx passed on finish meanwhile

    died = stack.check("client disconnects")
    assert died is None, died
    pids, slowest = _all_workers_answer(run)
    assert pids >= stack.workers, (
        "workers %s answered none of 64 parallel health checks (wedged?)"
        % sorted(stack.workers - pids))
    rss_after = {p: rss_kb(p) for p in stack.workers}
    growth = {p: rss_after[p] - rss_before.get(p, rss_after[p])
              for p in rss_after}
    print("\ndisconnects: 220 in %.2f s; health checks slowest %.3f s; "
          "RSS kB before %s after %s" % (elapsed, slowest, rss_before,
                                         rss_after))
    # Under AddressSanitizer freed memory sits in its quarantine, so RSS
    # grows without a leak (LeakSanitizer checks leaks in that run).
    sanitized = "ASAN_OPTIONS" in os.environ
    assert sanitized or max(growth.values()) <= 1024, (
        "worker RSS grew by more than 1 MiB over 220 disconnects: %s kB"
        % growth)

    # Every fully sent message exists once or not at all; nothing else of
    # ours is duplicated either.
    with run.conn.cursor() as cur:
        cur.execute("SELECT content, count(*) FROM messages WHERE id > %s "
                    "AND strpos(content, %s) > 0 AND content LIKE %s "
                    "GROUP BY content", (run.base_id, run.ctx.tag,
                                         run.ctx.tag + " dc %"))
        stored = dict(cur.fetchall())
    dups = {c: n for c, n in stored.items() if n > 1}
    assert not dups, "duplicated messages: %s" % dups
    unexpected = set(stored) - set(sent)
    assert not unexpected, (
        "messages stored from requests whose body never fully arrived: %s"
        % sorted(unexpected)[:10])
    print("disconnects: %d fully sent, %d stored" % (len(sent), len(stored)))


# ----------------------------------------------------------- at the end

def test_zz_hostile_run_left_workers_and_database_intact(run):
    """Over the whole module: the same serve master, no worker died from
    our requests, /readyz answers, no rows of ours from the rejected
    requests, and the app logged no error for any of them."""
    died = run.stack.check("the end of the module")
    failures = list(run.failed_workers) + ([died] if died else [])
    assert not failures, failures
    ready = exchange(run.addr, hostile_corpus.request(
        "GET", "/readyz", ctype=None))
    assert ready.status == 200, ready

    # Rows of ours are those of the disconnect test (complete requests
    # whose answer was never read) and those of cases that already failed
    # for leaving them: nothing appeared unnoticed between the checks.
    with run.conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM messages WHERE id > %s AND "
                    "(strpos(content, %s) > 0 OR sender = ANY(%s) OR "
                    "receiver = ANY(%s)) AND content NOT LIKE %s",
                    (run.base_id, run.ctx.tag, run.ctx.phones,
                     run.ctx.phones, run.ctx.tag + " dc %"))
        rows = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM idempotency_keys WHERE "
                    "strpos(key, %s) > 0", (run.ctx.tag,))
        keys = cur.fetchone()[0]
    leaked = sum(g.get("messages", 0) for g in run.leaks.values())
    assert rows == leaked and keys == sum(
        g.get("idempotency_keys", 0) for g in run.leaks.values()), (
        "%d messages / %d idempotency keys of ours, %d of them from the "
        "failed cases %s" % (rows, keys, leaked, sorted(run.leaks)))

    # What the app logged for our requests: no error line, and the status it
    # logged is the one we got.
    time.sleep(0.2)
    logged = {}
    for rec in run.stack.log_lines(run.stack.log_start,
                                   set(run.request_ids)):
        logged.setdefault(rec.get("request_id"), []).append(rec)
    errors = []
    for rid, recs in logged.items():
        name = run.request_ids[rid]
        for rec in recs:
            if rec.get("level") in ("error", "fatal"):
                errors.append((name, rec))
            if rec.get("msg") == "request" and name in run.results and \
                    rec.get("status") != run.results[name].status:
                errors.append((name, "logged %s, answered %s" % (
                    rec.get("status"), run.results[name].status)))
    assert not errors, errors

    html = sorted((n, a.status) for n, a in run.results.items()
                  if a.status is not None and a.is_html())
    by_app = sum(1 for rid in logged if rid in run.request_ids)
    print("\nhostile corpus: %d cases, %d reached the app, %d answered with "
          "nginx's HTML:" % (len(run.results), by_app, len(html)))
    for n, status in html:
        print("  %d %s" % (status, n))
    if run.stack.external_kills:
        print("workers SIGKILLed by someone else meanwhile: %s" %
              run.stack.external_kills)
