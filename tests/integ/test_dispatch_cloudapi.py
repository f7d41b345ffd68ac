"""The dispatcher with the cloudapi provider, against a fake WhatsApp Cloud API.

The module fixture stops the stack's own (simulated) dispatcher, starts the
fake (fake_cloudapi.py) and a `wadesk dispatch` of its own pointed at it; on
teardown, whatever happened, it stops that dispatcher and starts the stack's
again (`nginx/stack.sh start`, which starts only what is not running).

The Graph API version tests swap that dispatcher for one with another
WADESK_CLOUDAPI_VERSION (unset, current, retired) for their duration
(Cloud.dispatcher), then start it again as it was.

Recipients (phone numbers or BSUIDs) are unique per test; the fake is scripted per recipient and its
records are read per recipient, so messages of other sessions that reach it
meanwhile (answered 200) do not disturb these tests.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from fake_cloudapi import (DEFAULT_TEMPLATES, dispatch_env, PHONE_NUMBER_ID, TOKEN,
                           VERSION, WABA_ID, FakeCloudAPI, Flaky, Gate, Hang,
                           Ok, WebhookPoster, cpu_seconds, read_pid,
                           server_error, status_item, stop_pid,
                           tcp_peer_ports, too_many, wa_error)
from admin_support import Admin
from integ_support import (BINARY, ROOT, json_bytes, run_stack, stack_env,
                           sync_templates, unique_phone, unique_token,
                           wait_until)

MAX_ATTEMPTS = 3
BACKOFF_BASE_MS = 50
BACKOFF_MAX_MS = 400
TIMEOUT_MS = 1000
FINAL = ("sent", "delivered", "read", "failed")


# ------------------------------------------------------------------ fixtures

def _restart_stack_dispatcher(env, var_dir):
    p = run_stack(env, var_dir, "start", "VAR")
    assert p.returncode == 0, (
        "could not restart the stack's dispatcher: %s %s"
        % (p.stdout[-2000:], p.stderr[-2000:]))


def _dispatch_env(env, fake, overrides):
    """The environment of a dispatcher pointed at the fake, with this
    module's quick retries; an override of None unsets the variable."""
    return dispatch_env(env, fake, **dict({
        "WADESK_BACKOFF_BASE_MS": BACKOFF_BASE_MS,
        "WADESK_BACKOFF_MAX_MS": BACKOFF_MAX_MS,
        "WADESK_MAX_ATTEMPTS": MAX_ATTEMPTS,
        "WADESK_CLOUDAPI_TIMEOUT_MS": TIMEOUT_MS,
        "WADESK_LEASE_S": 5}, **overrides))


def _stop_proc(proc):
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Cloud:
    def __init__(self, env, fake, log_path, poster):
        self.env = env
        self.fake = fake
        self.proc = None
        self.log_path = log_path
        self.post = poster
        self._logf = None

    def start(self, **overrides):
        """Starts the dispatcher (the module's, or one with overrides)."""
        if self._logf is None:
            self._logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.environ.get("WADESK_TEST_DISPATCH_BINARY") or str(BINARY),
             "dispatch"], env=_dispatch_env(self.env, self.fake, overrides),
            cwd=str(ROOT), stdin=subprocess.DEVNULL, stdout=self._logf,
            stderr=subprocess.STDOUT)
        time.sleep(0.3)
        assert self.proc.poll() is None, (
            "wadesk dispatch (cloudapi) exited with %s; see %s\n%s"
            % (self.proc.returncode, self.log_path, self.log_tail()))

    def stop(self):
        _stop_proc(self.proc)

    def close(self):
        try:
            self.stop()
        finally:
            if self._logf is not None:
                self._logf.close()
                self._logf = None

    @contextlib.contextmanager
    def dispatcher(self, **overrides):
        """The module's dispatcher replaced by one with other settings for
        the block, then started again as it was."""
        self.stop()
        try:
            self.start(**overrides)
            yield self
        finally:
            self.stop()
            self.start()

    def log_tail(self, n=30):
        try:
            return "\n".join(self.log_path.read_text(
                errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@pytest.fixture(scope="module")
def cloud(env, var_dir, base_url):
    pid_file = var_dir / "pids" / "dispatch.pid"
    log_dir = var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "dispatch-cloudapi.log"
    fake = FakeCloudAPI(token=TOKEN, phone_number_id=PHONE_NUMBER_ID)
    poster = WebhookPoster(base_url, env["WADESK_APP_SECRET"])
    c = Cloud(env, fake, log_path, poster)
    try:
        fake.start()
        stop_pid(read_pid(pid_file))
        c.start()
        yield c
    finally:
        try:
            c.close()
        finally:
            fake.stop()
            poster.close()
            _restart_stack_dispatcher(env, var_dir)


# ------------------------------------------------------------------- helpers

def _send(send, receiver, content=None):
    r = send({"sender": unique_phone(), "receiver": receiver,
              "content": content or "Cloud " + unique_token()})
    assert r.status_code == 201, r.text
    return r.json()


def _get(api, mid):
    r = api.get("/api/messages/%d/" % mid)
    assert r.status_code == 200, r.text
    return r.json()


def _wait(api, mid, statuses=FINAL, timeout=8.0, cloud=None):
    deadline = time.monotonic() + timeout
    while True:
        m = _get(api, mid)
        if m["status"] in statuses:
            return m
        if time.monotonic() >= deadline:
            pytest.fail("message %d is %s after %.0f s, expected %s; "
                        "events %s\ndispatcher log:\n%s" % (
                            mid, m["status"], timeout, statuses,
                            m.get("events"),
                            cloud.log_tail() if cloud else ""))
        time.sleep(0.03)


def _statuses(m):
    return [e["status"] for e in m["events"]]


def _unique_bsuid():
    """A random business-scoped user id, as WhatsApp writes them."""
    return "US.%d" % (10 ** 19 + secrets.randbelow(9 * 10 ** 19))


def _assert_well_formed(rec, receiver, content=None, version=VERSION):
    assert not rec.problems, rec.problems
    assert rec.method == "POST"
    assert rec.path == "/%s/%s/messages" % (version, PHONE_NUMBER_ID)
    assert rec.version == version
    assert rec.headers.get("authorization") == "Bearer " + TOKEN
    assert rec.headers.get("content-type", "").startswith("application/json")
    body = rec.json
    assert body["messaging_product"] == "whatsapp"
    if receiver.startswith("+"):
        assert body["to"] == receiver.lstrip("+")
        assert "+" not in body["to"]
        assert "recipient" not in body, body
    else:
        assert body["recipient"] == receiver
        assert "to" not in body, body
    assert body["type"] == "text"
    assert isinstance(body["text"], dict)
    if content is not None:
        assert body["text"]["body"] == content


# --------------------------------------------------------------------- tests

def test_send_reaches_sent_with_the_fakes_message_id(cloud, api, send,
                                                     query):
    receiver = unique_phone()
    content = ("Olá Ana — \"quoted\" / back\\slash <b>&amp;</b>\n"
               "second line 👍 " + unique_token())
    msg = _send(send, receiver, content)
    m = _wait(api, msg["id"], cloud=cloud)
    assert m["status"] == "sent", m
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == 1, reqs
    _assert_well_formed(reqs[0], receiver, content)
    assert reqs[0].succeeded
    assert m["provider_message_id"] == reqs[0].wamid
    assert m["provider_message_id"].startswith("wamid.")
    assert m["error"] is None
    assert _statuses(m) == ["queued", "sent"], m["events"]
    assert query("SELECT count(*) FROM outbox WHERE message_id = %s",
                 (msg["id"],))[0][0] == 0
    # Nothing more goes out for it.
    time.sleep(0.3)
    assert len(cloud.fake.requests_for(receiver)) == 1


def test_receiver_given_without_plus_is_sent_as_digits(cloud, api, send):
    receiver = unique_phone()
    msg = _send(send, receiver.lstrip("+"))
    assert msg["receiver"] == receiver
    m = _wait(api, msg["id"], cloud=cloud)
    assert m["status"] == "sent", m
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == 1 and reqs[0].json["to"] == receiver[1:], reqs
    assert "recipient" not in reqs[0].json, reqs[0].json


def test_bsuid_receiver_is_sent_as_recipient_without_to(cloud, api, send):
    """A customer known only by a BSUID: "recipient" instead of "to"."""
    receiver = _unique_bsuid()
    content = "BSUID " + unique_token()
    msg = _send(send, receiver, content)
    assert msg["receiver"] == receiver, msg
    m = _wait(api, msg["id"], cloud=cloud)
    assert m["status"] == "sent", m
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == 1, reqs
    _assert_well_formed(reqs[0], receiver, content)
    assert reqs[0].json["recipient"] == receiver
    assert "to" not in reqs[0].json, reqs[0].json
    assert reqs[0].succeeded
    assert m["provider_message_id"] == reqs[0].wamid
    assert m["error"] is None
    assert _statuses(m) == ["queued", "sent"], m["events"]


def test_phone_receiver_is_sent_as_to_without_recipient(cloud, api, send):
    receiver = unique_phone()
    msg = _send(send, receiver)
    m = _wait(api, msg["id"], cloud=cloud)
    assert m["status"] == "sent", m
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == 1, reqs
    _assert_well_formed(reqs[0], receiver)
    assert reqs[0].json["to"] == receiver[1:]
    assert "recipient" not in reqs[0].json, reqs[0].json


@pytest.mark.parametrize("code,text,bsuid", [
    (131047, "(#131047) Re-engagement message", False),
    (131026, "(#131026) Message undeliverable", False),
    (100, "(#100) Invalid parameter", False),
    (131062, "(#131062) This message cannot be sent to a business-scoped "
     "user ID", True),
], ids=["131047-outside-24h", "131026-undeliverable", "100-bad-parameter",
        "131062-not-to-a-bsuid"])
def test_permanent_error_fails_at_once_without_retry(cloud, api, send, code,
                                                     text, bsuid):
    receiver = _unique_bsuid() if bsuid else unique_phone()
    cloud.fake.script(receiver, wa_error(code, text, http=400))
    msg = _send(send, receiver)
    m = _wait(api, msg["id"], cloud=cloud)
    assert m["status"] == "failed", m
    assert m["error"] == {"code": str(code), "message": text}, m["error"]
    assert m["provider_message_id"] is None
    time.sleep(0.4)     # a retry would come within the backoff (<= 400 ms)
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == 1, reqs
    _assert_well_formed(reqs[0], receiver, msg["content"])
    m = _get(api, msg["id"])
    assert m["status"] == "failed"
    assert _statuses(m) == ["queued", "failed"], m["events"]
    assert "sent" not in _statuses(m)


# ------------------------------------------------------ Graph API versions

@pytest.mark.parametrize("setting,version", [
    (None, "v27.0"), ("v27.0", "v27.0"), ("v26.0", "v26.0")],
    ids=["unset-means-v27.0", "v27.0", "v26.0"])
def test_current_graph_api_version_is_in_the_url(cloud, api, send, setting,
                                                 version):
    """WADESK_CLOUDAPI_VERSION unset: a current version (v27.0); a current
    one set: that one."""
    with cloud.dispatcher(WADESK_CLOUDAPI_VERSION=setting):
        receiver = unique_phone()
        msg = _send(send, receiver)
        m = _wait(api, msg["id"], cloud=cloud)
    assert m["status"] == "sent", m
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == 1, reqs
    _assert_well_formed(reqs[0], receiver, msg["content"], version=version)
    assert reqs[0].path.startswith("/%s/" % version)


def test_retired_graph_api_version_fails_the_message_at_once(cloud, api,
                                                             send, query):
    """v21.0 (ends on 2027-01-21; the fake already treats it as retired):
    WhatsApp's 2635 answer is permanent, so the message fails with it after
    one request instead of being retried."""
    with cloud.dispatcher(WADESK_CLOUDAPI_VERSION="v21.0"):
        receiver = unique_phone()
        msg = _send(send, receiver)
        m = _wait(api, msg["id"], cloud=cloud)
        time.sleep(0.4)     # a retry would come within the backoff
        reqs = cloud.fake.requests_for(receiver)
    assert m["status"] == "failed", m
    assert m["error"]["code"] == "2635", m["error"]
    assert m["error"]["message"].startswith(
        "(#2635) You are calling a deprecated version of the Graph API"), \
        m["error"]
    assert m["provider_message_id"] is None
    assert len(reqs) == 1, reqs
    assert reqs[0].version == "v21.0" and reqs[0].retired
    assert reqs[0].status == 400 and reqs[0].answer == "retired_version"
    assert _statuses(_get(api, msg["id"])) == ["queued", "failed"]
    assert query("SELECT count(*) FROM outbox WHERE message_id = %s",
                 (msg["id"],))[0][0] == 0


TRANSIENT = {
    "429": [too_many()],
    "500": [server_error(500)],
    "503": [server_error(503)],
    "hang": [Hang(2.5)],
    "130429-throughput": [wa_error(130429, http=400)],
    "131000-unknown": [wa_error(131000, http=400)],
    "500-then-429": [server_error(500), too_many()],
}


@pytest.mark.parametrize("case", list(TRANSIENT))
def test_transient_answer_is_retried_then_sent(cloud, api, send, query,
                                               case):
    receiver = unique_phone()
    script = TRANSIENT[case]
    cloud.fake.script(receiver, *script)
    msg = _send(send, receiver)
    m = _wait(api, msg["id"], statuses=("sent", "failed"), timeout=10,
              cloud=cloud)
    reqs = cloud.fake.requests_for(receiver)
    assert m["status"] == "sent", (m, reqs)
    assert len(reqs) == len(script) + 1, reqs
    for r in reqs:
        _assert_well_formed(r, receiver, msg["content"])
    ok = [r for r in reqs if r.succeeded]
    assert len(ok) == 1 and ok[0] is reqs[-1], reqs
    # The id of the answer that counted, never one the client gave up on.
    assert m["provider_message_id"] == ok[0].wamid
    assert m["error"] is None
    st = _statuses(m)
    assert st[0] == "queued" and st[-1] == "sent", m["events"]
    assert st.count("sent") == 1 and "failed" not in st, m["events"]
    assert query("SELECT count(*) FROM outbox WHERE message_id = %s",
                 (msg["id"],))[0][0] == 0


def test_retry_after_is_honoured(cloud, api, send):
    receiver = unique_phone()
    cloud.fake.script(receiver, too_many(retry_after=1))
    msg = _send(send, receiver)
    m = _wait(api, msg["id"], statuses=("sent", "failed"), timeout=10,
              cloud=cloud)
    assert m["status"] == "sent", m
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == 2, reqs
    gap = reqs[1].t - reqs[0].t_answer
    assert gap >= 0.9, "retried %.3f s after a 429 with Retry-After: 1" % gap


def test_retry_waits_the_backoff_not_longer(cloud, api, send):
    """WADESK_BACKOFF_BASE_MS=50: the first retry is due at most 50 ms after
    a 500, so it goes out well within half a second."""
    receiver = unique_phone()
    cloud.fake.script(receiver, server_error())
    msg = _send(send, receiver)
    m = _wait(api, msg["id"], statuses=("sent", "failed"), timeout=10,
              cloud=cloud)
    assert m["status"] == "sent", m
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == 2, reqs
    gap = reqs[1].t - reqs[0].t_answer
    assert gap < 0.5, (
        "the retry of a 500 went out %.3f s after it, but the backoff is at "
        "most %d ms (WADESK_BACKOFF_BASE_MS=%d)"
        % (gap, BACKOFF_BASE_MS, BACKOFF_BASE_MS))


def test_pair_rate_limit_131056_backs_off_longer(cloud, api, send, query):
    receiver = unique_phone()
    cloud.fake.script(receiver, wa_error(131056, http=400))
    msg = _send(send, receiver)
    mid = msg["id"]
    assert cloud.fake.wait_requests(receiver, 1, 5), "no send within 5 s"
    deadline = time.monotonic() + 5
    row = None
    while time.monotonic() < deadline:
        row = query("SELECT attempts, extract(epoch FROM run_at - now()), "
                    "last_error FROM outbox WHERE message_id = %s", (mid,))
        if row and row[0][2]:
            break
        time.sleep(0.03)
    assert row and row[0][2], "the retry was not recorded: %s" % row
    attempts, due_in, last_error = row[0]
    assert attempts == 1
    assert "131056" in last_error
    # Longer than WADESK_BACKOFF_MAX_MS (400 ms): WhatsApp's pair limit.
    assert due_in > 5, "131056 retried in %.1f s" % due_in
    assert _get(api, mid)["status"] == "queued"
    assert len(cloud.fake.requests_for(receiver)) == 1
    # Bring it forward instead of waiting: then it goes out and is sent.
    query("UPDATE outbox SET run_at = now() WHERE message_id = %s", (mid,))
    query("NOTIFY wadesk_outbox")
    m = _wait(api, mid, statuses=("sent", "failed"), timeout=5, cloud=cloud)
    assert m["status"] == "sent", m
    assert len(cloud.fake.requests_for(receiver)) == 2


def test_always_500_gives_up_after_max_attempts(cloud, api, send, query):
    receiver = unique_phone()
    cloud.fake.script(receiver, then=server_error())
    msg = _send(send, receiver)
    m = _wait(api, msg["id"], statuses=("sent", "failed"), timeout=10,
              cloud=cloud)
    assert m["status"] == "failed", m
    reqs = cloud.fake.requests_for(receiver)
    assert len(reqs) == MAX_ATTEMPTS, reqs
    assert m["error"] is not None
    assert "gave up" in m["error"]["message"], m["error"]
    assert m["error"]["code"], m["error"]
    assert m["provider_message_id"] is None
    st = _statuses(m)
    assert st[0] == "queued" and st[-1] == "failed", m["events"]
    assert st.count("failed") == 1 and "sent" not in st, m["events"]
    assert query("SELECT count(*) FROM outbox WHERE message_id = %s",
                 (msg["id"],))[0][0] == 0
    time.sleep(0.5)
    assert len(cloud.fake.requests_for(receiver)) == MAX_ATTEMPTS


def _sent(cloud, api, send):
    receiver = unique_phone()
    msg = _send(send, receiver)
    m = _wait(api, msg["id"], cloud=cloud)
    assert m["status"] == "sent", m
    return receiver, m


def test_status_webhooks_advance_the_message(cloud, api, send):
    receiver, m = _sent(cloud, api, send)
    wamid = m["provider_message_id"]
    cloud.post.each(status_item(wamid, "delivered", receiver))
    m = _get(api, m["id"])
    assert m["status"] == "delivered"
    cloud.post.each(status_item(wamid, "read", receiver))
    m = _get(api, m["id"])
    assert m["status"] == "read"
    assert _statuses(m) == ["queued", "sent", "delivered", "read"]
    assert m["error"] is None


def test_late_delivered_after_read_is_an_event_only(cloud, api, send):
    receiver, m = _sent(cloud, api, send)
    wamid = m["provider_message_id"]
    cloud.post.each(status_item(wamid, "delivered", receiver),
                    status_item(wamid, "read", receiver),
                    status_item(wamid, "delivered", receiver))
    m = _get(api, m["id"])
    assert m["status"] == "read"
    assert _statuses(m) == ["queued", "sent", "delivered", "read",
                            "delivered"], m["events"]


def test_out_of_order_and_duplicated_statuses(cloud, api, send):
    receiver, m = _sent(cloud, api, send)
    wamid = m["provider_message_id"]
    # read first (no delivered before it), then duplicates and stragglers,
    # one webhook each and then all in one batch.
    cloud.post.each(status_item(wamid, "read", receiver),
                    status_item(wamid, "read", receiver),
                    status_item(wamid, "sent", receiver),
                    status_item(wamid, "delivered", receiver))
    cloud.post.statuses(status_item(wamid, "delivered", receiver),
                        status_item(wamid, "read", receiver))
    m = _get(api, m["id"])
    assert m["status"] == "read"
    st = _statuses(m)
    assert st[:2] == ["queued", "sent"]
    assert st[2:] == ["read", "read", "sent", "delivered", "delivered",
                      "read"], m["events"]


def test_failed_status_on_a_sent_message(cloud, api, send):
    receiver, m = _sent(cloud, api, send)
    wamid = m["provider_message_id"]
    cloud.post.each(status_item(wamid, "failed", receiver))
    m = _get(api, m["id"])
    assert m["status"] == "failed"
    assert m["error"]["code"] == "131047", m["error"]
    assert "Re-engagement message" in m["error"]["message"], m["error"]
    ev = m["events"][-1]
    assert ev["status"] == "failed"
    assert ev["detail"] and ev["detail"]["errors"][0]["code"] == 131047
    # failed is final: a later delivered is only an event.
    cloud.post.each(status_item(wamid, "delivered", receiver))
    m = _get(api, m["id"])
    assert m["status"] == "failed"
    assert _statuses(m)[-1] == "delivered"


def test_status_before_the_send_answer_is_applied_when_the_id_is_stored(
        cloud, api, send, query):
    """WhatsApp may report a status before the dispatcher has stored the id
    the send returned: the fake holds its answer while the statuses for the
    id it is about to return arrive."""
    receiver = unique_phone()
    wamid = "wamid.EARLY" + unique_token()
    gate = Gate(then=Ok(wamid), timeout=0.8)
    cloud.fake.script(receiver, gate)
    msg = _send(send, receiver)
    assert gate.arrived.wait(5), "the dispatcher never called the fake"
    t0 = time.monotonic()
    cloud.post.each(status_item(wamid, "delivered", receiver),
                    status_item(wamid, "read", receiver))
    parked = query("SELECT count(*) FROM pending_statuses WHERE "
                   "provider_message_id = %s", (wamid,))[0][0]
    in_time = time.monotonic() - t0 < 0.7
    gate.open()
    m = _wait(api, msg["id"], statuses=("read", "failed"), timeout=5,
              cloud=cloud)
    assert m["status"] == "read", m
    assert m["provider_message_id"] == wamid
    assert _statuses(m) == ["queued", "sent", "delivered", "read"], \
        m["events"]
    if in_time:
        assert parked == 2, "the early statuses were not kept: %d" % parked
    assert query("SELECT count(*) FROM pending_statuses WHERE "
                 "provider_message_id = %s", (wamid,))[0][0] == 0
    assert len(cloud.fake.requests_for(receiver)) == 1


def test_status_for_an_id_no_message_has_yet_is_kept_until_it_appears(
        cloud, api, send, query):
    receiver = unique_phone()
    wamid = "wamid.AHEAD" + unique_token()
    r = cloud.post.statuses(status_item(wamid, "delivered", receiver))
    assert r.status_code == 200
    assert query("SELECT count(*) FROM messages WHERE provider_message_id "
                 "= %s", (wamid,))[0][0] == 0
    cloud.fake.script(receiver, Ok(wamid))
    msg = _send(send, receiver)
    m = _wait(api, msg["id"], statuses=("delivered", "read", "failed"),
              cloud=cloud)
    assert m["status"] == "delivered", m
    assert m["provider_message_id"] == wamid
    assert _statuses(m) == ["queued", "sent", "delivered"], m["events"]


def test_a_failure_rate_of_30_percent_over_50_messages(cloud, env, base_url,
                                                       query):
    n = 50
    receivers = [unique_phone() for _ in range(n)]
    cloud.fake.script_many(receivers, then=Flaky(0.3, seed=20260125))
    headers = {"Authorization": "Bearer " + env["WADESK_API_KEY"],
               "Content-Type": "application/json"}
    local = threading.local()

    def one(receiver):
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        r = s.post(base_url + "/api/send-message/", headers=headers,
                   data=json_bytes({"sender": unique_phone(),
                                    "receiver": receiver,
                                    "content": "flaky " + unique_token()}),
                   timeout=20)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(one, receivers))
    by_id = dict(zip(ids, receivers))

    deadline = time.monotonic() + 30
    rows = []
    while time.monotonic() < deadline:
        rows = query("SELECT id, status, provider_message_id, error_message "
                     "FROM messages WHERE id = ANY(%s)", (ids,))
        if all(r[1] in ("sent", "failed") for r in rows):
            break
        time.sleep(0.2)
    pending = [r for r in rows if r[1] not in ("sent", "failed")]
    assert not pending, "not final after 30 s: %s\n%s" % (
        pending[:5], cloud.log_tail())
    sent = [r for r in rows if r[1] == "sent"]
    failed = [r for r in rows if r[1] == "failed"]
    assert sent, "no message at all got through a 30% failure rate"
    for mid, _, pid, _ in sent:
        ok = cloud.fake.successes_for(by_id[mid])
        assert len(ok) == 1, (mid, cloud.fake.requests_for(by_id[mid]))
        assert pid == ok[0].wamid
        assert len(cloud.fake.requests_for(by_id[mid])) <= MAX_ATTEMPTS
    for mid, _, pid, err in failed:
        reqs = cloud.fake.requests_for(by_id[mid])
        assert len(reqs) == MAX_ATTEMPTS, (mid, reqs)
        assert not any(r.succeeded for r in reqs), (mid, reqs)
        assert pid is None and "gave up" in err, (mid, err)
    events = dict(query(
        "SELECT message_id, count(*) FILTER (WHERE status IN ('sent', "
        "'failed')) FROM message_events WHERE message_id = ANY(%s) "
        "GROUP BY message_id", (ids,)))
    assert all(events.get(i) == 1 for i in ids), events
    assert query("SELECT count(*) FROM outbox WHERE message_id = ANY(%s)",
                 (ids,))[0][0] == 0


def test_idle_dispatcher_does_not_spin(cloud, env, query):
    """Nothing to send: the dispatcher waits for a NOTIFY or the next sweep;
    it and its PostgreSQL backend stay near 0% CPU."""
    pid = cloud.proc.pid
    pg_port = int(env.get("WADESK_PG_PORT") or
                  env["WADESK_DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    ports = tcp_peer_ports(pid, pg_port)
    rows = query("SELECT pid FROM pg_stat_activity WHERE client_port = "
                 "ANY(%s)", (ports,)) if ports else []
    if not rows:
        pytest.skip("cannot find the dispatcher's PostgreSQL backend")
    backend = rows[0][0]
    for _ in range(4):
        if query("SELECT count(*) FROM outbox")[0][0]:
            time.sleep(1)
            continue
        seen = len(cloud.fake.requests)
        t0 = time.monotonic()
        c0 = cpu_seconds(pid) + cpu_seconds(backend)
        time.sleep(1.5)
        c1 = cpu_seconds(pid) + cpu_seconds(backend)
        elapsed = time.monotonic() - t0
        if len(cloud.fake.requests) != seen or \
                query("SELECT count(*) FROM outbox")[0][0]:
            continue
        share = (c1 - c0) / elapsed
        assert share < 0.25, (
            "the idle cloudapi dispatcher (pid %d) and its backend (pid %d) "
            "used %.0f%% of a CPU over %.1f s with an empty outbox: a busy "
            "loop" % (pid, backend, share * 100, elapsed))
        return
    pytest.skip("the outbox never stayed empty (other sessions are sending)")


def test_dispatcher_is_still_running(cloud):
    assert cloud.proc.poll() is None, cloud.log_tail()


# ------------------------------------------- templates, quotes, reactions

def _customer_message(cloud, phone):
    """A customer's text through the signed webhook; its WhatsApp id."""
    wamid = "wamid." + unique_token()
    r = cloud.post.post({"object": "whatsapp_business_account", "entry": [{
        "id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111",
                         "phone_number_id": PHONE_NUMBER_ID},
            "messages": [{"from": phone.lstrip("+"), "id": wamid,
                          "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": "hi"}}]}}]}]})
    assert r.status_code == 200, r.text
    return wamid


def _sent_body(cloud, api, send, body):
    """Sends body; the JSON the fake received for it (once)."""
    r = send(body)
    assert r.status_code == 201, r.text
    m = _wait(api, r.json()["id"], cloud=cloud)
    assert m["status"] == "sent", m
    reqs = cloud.fake.requests_for(body.get("receiver") or m["receiver"])
    reqs = [q for q in reqs if q.wamid == m["provider_message_id"]]
    assert len(reqs) == 1, reqs
    assert not reqs[0].problems, reqs[0].problems
    return reqs[0].json


def test_template_goes_in_whatsapps_shape(cloud, api, send, env):
    sync_templates(env)
    receiver = unique_phone()
    body = _sent_body(cloud, api, send, {
        "sender": unique_phone(), "receiver": receiver,
        "template": {"name": "order_update", "language": "en",
                     "parameters": ["Ana", "A-1042", "ready"]}})
    assert body == {
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": receiver[1:], "type": "template",
        "template": {"name": "order_update", "language": {"code": "en"},
                     "components": [{"type": "body", "parameters": [
                         {"type": "text", "text": "Ana"},
                         {"type": "text", "text": "A-1042"},
                         {"type": "text", "text": "ready"}]}]}}


def test_named_template_parameters_carry_their_names(cloud, api, send, env):
    sync_templates(env)
    body = _sent_body(cloud, api, send, {
        "sender": unique_phone(), "receiver": unique_phone(),
        "template": {"name": "delivery_window", "language": "en",
                     "parameters": {"first_name": "Kai", "from": "9:00",
                                    "to": "11:00"}}})
    params = body["template"]["components"][0]["parameters"]
    assert sorted((p["parameter_name"], p["text"]) for p in params) == [
        ("first_name", "Kai"), ("from", "9:00"), ("to", "11:00")]
    assert all(p["type"] == "text" for p in params)
    body = _sent_body(cloud, api, send, {
        "sender": unique_phone(), "receiver": unique_phone(),
        "template": {"name": "hello_world", "language": "en_US"}})
    assert body["template"] == {"name": "hello_world",
                                "language": {"code": "en_US"}}


def test_reply_quotes_with_context(cloud, api, send):
    phone = unique_phone()
    wamid = _customer_message(cloud, phone)
    q = api.get("/api/messages/", params={"contact": phone}).json()["data"][0]
    body = _sent_body(cloud, api, send, {
        "sender": unique_phone(), "receiver": phone,
        "content": "Yes, today.", "reply_to": q["id"]})
    assert body["context"] == {"message_id": wamid}
    assert body["type"] == "text" and body["text"]["body"] == "Yes, today."


def test_reaction_goes_to_the_whatsapp_message(cloud, api, send):
    phone = unique_phone()
    wamid = _customer_message(cloud, phone)
    q = api.get("/api/messages/", params={"contact": phone}).json()["data"][0]
    body = _sent_body(cloud, api, send, {
        "sender": unique_phone(), "receiver": phone,
        "reaction": {"message_id": q["id"], "emoji": "\U0001F44D"}})
    assert body == {"messaging_product": "whatsapp",
                    "recipient_type": "individual", "to": phone[1:],
                    "type": "reaction",
                    "reaction": {"message_id": wamid,
                                 "emoji": "\U0001F44D"}}


def test_buttons_go_as_interactive_reply_buttons(cloud, api, send):
    receiver = _unique_bsuid()
    body = _sent_body(cloud, api, send, {
        "sender": unique_phone(), "receiver": receiver,
        "content": "Did this solve it?",
        "buttons": [{"id": "yes", "title": "Yes, thanks"},
                    {"id": "no", "title": "Not yet"}]})
    assert body == {
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "recipient": receiver, "type": "interactive",
        "interactive": {"type": "button",
                        "body": {"text": "Did this solve it?"},
                        "action": {"buttons": [
                            {"type": "reply",
                             "reply": {"id": "yes", "title": "Yes, thanks"}},
                            {"type": "reply",
                             "reply": {"id": "no", "title": "Not yet"}}]}}}


# ------------------------------------------------------------ templates sync

def _sync_from_fake(env, fake, **overrides):
    child = _dispatch_env(env, fake, dict({"WADESK_WABA_ID": WABA_ID},
                                          **overrides))
    return subprocess.run([str(BINARY), "templates", "sync"], env=child,
                          capture_output=True, text=True, timeout=30)


def _listed(api):
    r = api.get("/api/templates/")
    assert r.status_code == 200, r.text
    return {(t["name"], t["language"]): t for t in r.json()["data"]}


def test_templates_sync_reads_every_page(cloud, api, env):
    try:
        before = len(cloud.fake.template_requests)
        p = _sync_from_fake(env, cloud.fake)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == "8 templates"
        reqs = cloud.fake.template_requests[before:]
        # 8 templates, 3 a page: three pages, each asked with the token.
        assert len(reqs) == 3, reqs
        assert all(a == "Bearer " + TOKEN for _, a in reqs)
        assert [r[0].split("?")[0] for r in reqs] == [
            "/%s/%s/message_templates" % (VERSION, WABA_ID)] * 3
        assert "after=" not in reqs[0][0] and "after=3" in reqs[1][0] \
            and "after=6" in reqs[2][0]
        t = _listed(api)
        assert t[("cloud_survey", "de")] == {
            "name": "cloud_survey", "language": "de",
            "category": "MARKETING", "status": "APPROVED",
            "body": "Hallo {{1}}, wie zufrieden waren Sie mit {{2}}?",
            "parameters": 2, "parameter_format": "POSITIONAL",
            "parameter_names": ["1", "2"], "header": "Kurze Umfrage"}
        # WhatsApp no longer lists it: the next sync drops it.
        with cloud.fake._lock:
            cloud.fake.templates = [x for x in cloud.fake.templates
                                    if x["name"] != "cloud_survey"]
        p = _sync_from_fake(env, cloud.fake)
        assert p.returncode == 0 and p.stdout.strip() == "7 templates", \
            p.stderr
        assert ("cloud_survey", "de") not in _listed(api)
    finally:
        with cloud.fake._lock:
            cloud.fake.templates = list(DEFAULT_TEMPLATES)
        sync_templates(env)


def test_templates_sync_failure_changes_nothing(cloud, api, env):
    before = _listed(api)
    p = _sync_from_fake(env, cloud.fake, WADESK_CLOUDAPI_TOKEN="wrong")
    assert p.returncode == 1
    assert "401" in p.stderr and "Invalid OAuth access token" in p.stderr
    p = _sync_from_fake(env, cloud.fake, WADESK_WABA_ID=None)
    assert p.returncode == 1 and "WADESK_WABA_ID" in p.stderr
    assert _listed(api) == before


# ------------------------------------------------------------ read receipts

def _receipts_for(cloud, wamids):
    return [b for b, ok in list(cloud.fake.read_receipts)
            if b.get("message_id") in wamids]


def test_opening_a_conversation_sends_one_read_receipt(cloud, api, admin,
                                                       query):
    phone = unique_phone()
    older = _customer_message(cloud, phone)
    newest = _customer_message(cloud, phone)
    cid = api.get("/api/messages/", params={"contact": phone}).json()[
        "data"][0]["contact_id"]
    r = admin.get("/admin/conversations/%d" % cid)
    assert r.status_code == 200
    got = wait_until(lambda: _receipts_for(cloud, (older, newest)), 8)
    # The newest customer message is read (WhatsApp marks the earlier
    # ones with it), in WhatsApp's shape, once.
    assert got == [{"messaging_product": "whatsapp", "status": "read",
                    "message_id": newest}], got
    assert all(ok for b, ok in cloud.fake.read_receipts
               if b.get("message_id") == newest)
    assert wait_until(lambda: query(
        "SELECT count(*) FROM read_receipts r JOIN messages m"
        " ON m.id = r.message_id WHERE m.contact_id = %s",
        (cid,))[0][0] == 0, 5)
    # Nothing new since: another visit tells WhatsApp nothing.
    assert admin.get("/admin/conversations/%d" % cid).status_code == 200
    time.sleep(1.5)
    assert len(_receipts_for(cloud, (older, newest))) == 1
    # A new customer message, a new visit: that one is read.
    later = _customer_message(cloud, phone)
    assert admin.get("/admin/conversations/%d" % cid).status_code == 200
    assert wait_until(lambda: _receipts_for(cloud, (later,)), 8)


def test_read_receipts_can_be_turned_off(cloud, api, env, var_dir,
                                         base_url, query):
    """WADESK_READ_RECEIPTS=0 on the workers: a visit queues nothing."""
    phone = unique_phone()
    _customer_message(cloud, phone)
    cid = api.get("/api/messages/", params={"contact": phone}).json()[
        "data"][0]["contact_id"]
    stop_pid(read_pid(var_dir / "pids" / "serve.pid"))
    try:
        child = stack_env(env)
        child["WADESK_READ_RECEIPTS"] = "0"
        p = subprocess.run(["sh", str(ROOT / "nginx" / "stack.sh"), "start",
                            str(var_dir)], env=child, cwd=str(ROOT),
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert wait_until(lambda: _ready(base_url), 20)
        a = Admin(base_url)
        a.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"])
        assert a.get("/admin/conversations/%d" % cid).status_code == 200
        a.close()
        assert query("SELECT count(*) FROM read_receipts r JOIN messages m"
                     " ON m.id = r.message_id WHERE m.contact_id = %s",
                     (cid,))[0][0] == 0
        assert query("SELECT wadesk_unread(id, read_upto) FROM contacts"
                     " WHERE id = %s", (cid,))[0][0] == 0
    finally:
        stop_pid(read_pid(var_dir / "pids" / "serve.pid"))
        p = run_stack(env, var_dir, "start", "VAR")
        assert p.returncode == 0, p.stderr
        assert wait_until(lambda: _ready(base_url), 20)


def _ready(base_url):
    try:
        return requests.get(base_url + "/readyz", timeout=2).status_code \
            == 200
    except requests.RequestException:
        return False
