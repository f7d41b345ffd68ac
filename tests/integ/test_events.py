"""Events to other systems: endpoints (API, CLI, admin page), the events a
change writes in its own transaction, Standard Webhooks signatures checked
here with hmac/base64 (and with the README's snippet), delivery order,
retries, isolation of a slow endpoint, the address rules.

A fake receiver (fake_receiver.py) on 127.0.0.1 stands in for the other
system; the stack allows it with WADESK_EVENTS_ALLOW_PRIVATE=1.  Every
endpoint a test creates is disabled when it ends, so no other test's writes
are announced to a receiver that is gone.
"""

import base64
import hashlib
import hmac
import os
import re
import signal
import subprocess
import time

import psycopg2
import pytest

from admin_support import csrf_of
from fake_cloudapi import pid_alive, read_pid, stop_pid
from fake_receiver import FakeReceiver
from integ_support import (BINARY, ROOT, RFC3339_UTC, assert_error,
                           json_bytes, run_cli, run_stack, unique_phone,
                           unique_token)

TYPES = ["message.received", "message.created", "message.updated",
         "contact.updated"]
WAIT = 15


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module", autouse=True)
def no_endpoints_left(env):
    """Endpoints left enabled by an earlier run would get this module's
    events (and slow it down): disable them first, and every endpoint
    at the end."""
    def disable_all():
        conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("UPDATE endpoints SET enabled = false,"
                        " disabled_reason = 'test cleanup' WHERE enabled")
        conn.close()
    disable_all()
    yield
    disable_all()


@pytest.fixture
def receivers():
    made = []

    def make():
        rx = FakeReceiver().start()
        made.append(rx)
        return rx
    yield make
    for rx in made:
        rx.stop()


@pytest.fixture
def endpoint(api, query):
    """endpoint(url, types=None) -> the API's answer (with the secret)."""
    made = []

    def create(url, types=None):
        body = {"url": url}
        if types is not None:
            body["types"] = types
        r = api.post("/api/endpoints/", json=body)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        return r.json()
    yield create
    for i in made:
        query("UPDATE endpoints SET enabled = false WHERE id = %s", (i,))


# ------------------------------------------------------------------- helpers

def verify(secret, req):
    """An independent Standard Webhooks check of a received request."""
    key = base64.b64decode(secret[len("whsec_"):])
    mid = req.headers["webhook-id"]
    ts = req.headers["webhook-timestamp"]
    mac = hmac.new(key, ("%s.%s." % (mid, ts)).encode() + req.body,
                   hashlib.sha256).digest()
    want = "v1," + base64.b64encode(mac).decode()
    return any(hmac.compare_digest(want, s)
               for s in req.headers["webhook-signature"].split())


def inbound(webhook, sender=None, content=None):
    sender = sender or unique_phone()
    content = content or unique_token("ev-in-")
    r = webhook({"sender": sender, "content": content})
    assert r.status_code == 200, r.text
    return sender, content


def of_message(reqs, mid):
    return [q for q in reqs if q.json()["data"].get("id") == mid and
            q.json()["type"].startswith("message.")]


def message_id(query, sender):
    return query("SELECT id FROM messages WHERE sender = %s", (sender,))[0][0]


def send_one(send, receiver=None):
    r = send({"sender": unique_phone(), "receiver": receiver or unique_phone(),
              "content": unique_token("ev-out-")})
    assert r.status_code == 201, r.text
    return r.json()


def wait_attempts(query, eid, n, timeout=5):
    """Waits until endpoint eid has n recorded attempts (a delivery is
    recorded just after the receiver answered)."""
    deadline = time.monotonic() + timeout
    while query("SELECT count(*) FROM delivery_attempts WHERE endpoint_id"
                " = %s", (eid,))[0][0] < n and time.monotonic() < deadline:
        time.sleep(0.05)


def attempts_of(query, eid):
    return query("SELECT http_status, error FROM delivery_attempts"
                 " WHERE endpoint_id = %s ORDER BY id", (eid,))


def cli(env, *args, allow=None):
    child = dict(os.environ)
    child["WADESK_DATABASE_URL"] = env["WADESK_DATABASE_URL"]
    if allow is not None:
        child["WADESK_EVENTS_ALLOW_PRIVATE"] = allow
    return subprocess.run([str(BINARY)] + list(args), env=child,
                          capture_output=True, text=True, timeout=30)


# ---------------------------------------------------------------- endpoints

def test_api_create_shows_the_secret_once(api, endpoint, receivers):
    rx = receivers()
    ep = endpoint(rx.url, ["message.received", "contact.updated"])
    assert set(ep) == {"id", "url", "types", "enabled", "secret"}
    assert ep["url"] == rx.url and ep["enabled"] is True
    assert ep["types"] == ["message.received", "contact.updated"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+={0,2}", ep["secret"])
    assert 24 <= len(base64.b64decode(ep["secret"][6:])) <= 32
    r = api.get("/api/endpoints/")
    assert r.status_code == 200
    assert ep["secret"] not in r.text and "secret" not in r.text
    listed = [e for e in r.json()["data"] if e["id"] == ep["id"]]
    assert listed == [{"id": ep["id"], "url": rx.url, "enabled": True,
                       "types": ["message.received", "contact.updated"]}]
    # Without types: every type.
    assert endpoint(rx.url)["types"] == TYPES


@pytest.mark.parametrize("body,field", [
    ({}, "url"),
    ({"url": 5}, "url"),
    ({"url": ""}, "url"),
    ({"url": "ftp://example.com/x"}, "url"),
    ({"url": "https://"}, "url"),
    ({"url": "https://a b.example/"}, "url"),
    ({"url": "https://user:pw@example.com/"}, "url"),
    ({"url": "https://example.com:0/"}, "url"),
    ({"url": "https://example.com:99999/"}, "url"),
    ({"url": "https://example.com/" + "a" * 2000}, "url"),
    ({"url": "https://example.com/", "types": []}, "types"),
    ({"url": "https://example.com/", "types": "message.received"}, "types"),
    ({"url": "https://example.com/", "types": ["message.deleted"]}, "types"),
    ({"url": "https://example.com/", "types": [1]}, "types"),
])
def test_api_create_validation(api, count_rows, body, field):
    before = count_rows("endpoints")
    assert_error(api.post("/api/endpoints/", json=body), 422,
                 "validation_failed", field)
    assert count_rows("endpoints") == before


def test_api_endpoints_need_a_key_and_json(anon, api):
    assert anon.get("/api/endpoints/").status_code == 401
    assert anon.post("/api/endpoints/", json={"url": "https://e.x/"}) \
        .status_code == 401
    r = api.post("/api/endpoints/", data="url=x",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("url", [
    "http://example.com/hook",
    "https://127.0.0.1/hook",
    "https://127.1/hook",
    "https://2130706433/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.1:8443/hook",
    "https://100.64.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
])
def test_private_urls_refused_without_the_setting(env, count_rows, url):
    before = count_rows("endpoints")
    p = cli(env, "endpoint", "add", url, allow="0")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert "WADESK_EVENTS_ALLOW_PRIVATE" in p.stderr
    assert count_rows("endpoints") == before


def test_cli_add_list_disable(env, query):
    url = "https://events.example.com/%s" % unique_token()
    p = cli(env, "endpoint", "add", url, "message.received,message.updated",
            allow="0")
    assert p.returncode == 0, p.stderr
    secret = p.stdout.strip()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+={0,2}", secret)
    eid = int(re.search(r"endpoint (\d+) created", p.stderr).group(1))
    try:
        assert query("SELECT types FROM endpoints WHERE id = %s", (eid,)) \
            == [(["message.received", "message.updated"],)]
        p = cli(env, "endpoint", "list")
        assert p.returncode == 0 and url in p.stdout
        assert secret not in p.stdout and secret not in p.stderr
        line = [x for x in p.stdout.splitlines() if url in x][0]
        assert line.split()[:2] == [str(eid), "yes"]
        assert cli(env, "endpoint", "add", url, "message.nope").returncode \
            == 2
        p = cli(env, "endpoint", "disable", str(eid))
        assert p.returncode == 0, p.stderr
        assert cli(env, "endpoint", "disable", str(eid)).returncode == 1
        line = [x for x in cli(env, "endpoint", "list").stdout.splitlines()
                if url in x][0]
        assert line.split()[:2] == [str(eid), "no"]
        assert "disabled by an operator" in line
    finally:
        query("UPDATE endpoints SET enabled = false WHERE id = %s", (eid,))


# ------------------------------------------------------------------- events

def test_message_received_is_signed_and_is_the_api_message(
        api, webhook, query, endpoint, receivers):
    rx = receivers()
    ep = endpoint(rx.url, ["message.received"])
    sender, content = inbound(webhook)
    mid = message_id(query, sender)
    reqs = rx.wait(lambda q: of_message(q, mid), WAIT)
    got = of_message(reqs, mid)
    assert len(got) == 1, [q.body for q in reqs]
    req = got[0]
    assert req.path == "/hook"
    assert req.headers["content-type"] == "application/json"
    assert re.fullmatch(r"msg_[0-9a-f]{32}", req.headers["webhook-id"])
    assert abs(int(req.headers["webhook-timestamp"]) - time.time()) < 60
    assert req.headers["webhook-signature"].startswith("v1,")
    assert verify(ep["secret"], req)
    assert not verify("whsec_" + base64.b64encode(b"x" * 24).decode(), req)
    body = req.json()
    assert set(body) == {"type", "timestamp", "data"}
    assert body["type"] == "message.received"
    assert RFC3339_UTC.match(body["timestamp"])
    want = api.get("/api/messages/%d/" % mid).json()
    del want["events"]
    assert body["data"] == want
    assert body["data"]["content"] == content


def test_readme_python_snippet_verifies_a_delivery(webhook, query, endpoint,
                                                   receivers):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- verify-python -->\n```python\n(.*?)```", text,
                     re.S).group(1)
    assert len(code.strip().splitlines()) <= 14
    ns = {}
    exec(compile(code, "README.md", "exec"), ns)
    rx = receivers()
    ep = endpoint(rx.url, ["message.received"])
    sender, _ = inbound(webhook)
    mid = message_id(query, sender)
    req = of_message(rx.wait(lambda q: of_message(q, mid), WAIT), mid)[0]
    assert ns["verify"](ep["secret"], req.headers, req.body) is True
    assert ns["verify"](ep["secret"], req.headers, req.body + b" ") is False
    # The shell snippet (openssl) gives the same signature.
    sh = re.search(r"<!-- verify-shell -->\n```sh\n(.*?)```", text,
                   re.S).group(1)
    tmp = ROOT / "var" / ("body-%s.json" % unique_token())
    tmp.write_bytes(req.body)
    try:
        p = subprocess.run(["sh", "-c", "cd %s && %s" % (tmp.parent, sh.replace(
            "body.json", tmp.name))], capture_output=True, text=True,
            env={"PATH": os.environ["PATH"], "SECRET": ep["secret"],
                 "ID": req.headers["webhook-id"],
                 "TS": req.headers["webhook-timestamp"]}, timeout=30)
    finally:
        tmp.unlink()
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() in req.headers["webhook-signature"].split()


def test_send_is_created_then_updated_in_order(api, send, endpoint,
                                               receivers):
    rx = receivers()
    ep = endpoint(rx.url, ["message.created", "message.updated"])
    msg = send_one(send)
    mid = msg["id"]
    reqs = rx.wait(lambda q: len(of_message(q, mid)) >= 4, WAIT)
    got = of_message(reqs, mid)
    assert [(q.json()["type"], q.json()["data"]["status"]) for q in got] == [
        ("message.created", "queued"), ("message.updated", "sent"),
        ("message.updated", "delivered"), ("message.updated", "read")]
    assert all(verify(ep["secret"], q) for q in got)
    assert len({q.headers["webhook-id"] for q in got}) == 4
    # The created event is the 201 answer; each update is a snapshot.
    assert got[0].json()["data"] == msg
    assert got[1].json()["data"]["provider_message_id"]
    final = api.get("/api/messages/%d/" % mid).json()
    del final["events"]
    assert got[3].json()["data"] == final
    stamps = [q.json()["timestamp"] for q in got]
    assert stamps == sorted(stamps)


def test_types_filter_and_contact_updated(api, send, webhook, query, endpoint,
                                          receivers):
    rx = receivers()
    ep = endpoint(rx.url, ["contact.updated"])
    sender, _ = inbound(webhook)
    cid = query("SELECT contact_id FROM messages WHERE sender = %s",
                (sender,))[0][0]
    send_one(send, sender)
    r = api.patch("/api/contacts/%d/" % cid, json={"state": "resolved"})
    assert r.status_code == 200, r.text
    reqs = rx.wait(lambda q: len(q) >= 1, WAIT)
    time.sleep(1.5)             # the message events would be here by now
    reqs = rx.snapshot()
    assert [q.json()["type"] for q in reqs] == ["contact.updated"], \
        [q.body for q in reqs]
    assert verify(ep["secret"], reqs[0])
    assert reqs[0].json()["data"] == api.get("/api/contacts/%d/" % cid).json()
    assert reqs[0].json()["data"]["state"] == "resolved"
    # A change that changes nothing announces nothing.
    r = api.patch("/api/contacts/%d/" % cid, json={"state": "resolved"})
    assert r.status_code == 200
    time.sleep(1)
    assert len(rx.snapshot()) == 1


def test_disabled_endpoint_gets_nothing(env, webhook, send, count_rows,
                                        endpoint, receivers):
    rx = receivers()
    ep = endpoint(rx.url)
    p = cli(env, "endpoint", "disable", str(ep["id"]))
    assert p.returncode == 0, p.stderr
    inbound(webhook)
    send_one(send)
    time.sleep(2)
    assert rx.snapshot() == []
    assert count_rows("deliveries", "endpoint_id = %s", (ep["id"],)) == 0


def test_nothing_is_announced_for_what_rolled_back(env, send, query,
                                                   count_rows, endpoint,
                                                   receivers):
    rx = receivers()
    endpoint(rx.url)
    before = count_rows("events")
    # Refused sends write nothing, so they announce nothing.
    r = send({"sender": unique_phone(), "receiver": "12", "content": "x"})
    assert r.status_code == 422
    r = send({"sender": unique_phone(), "contact_id": 999999999999,
              "content": "x"})
    assert r.status_code in (404, 422)
    # A change rolled back leaves no event; the same change committed does.
    cid = query("SELECT id FROM contacts ORDER BY id DESC LIMIT 1")[0][0]
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE contacts SET name = %s WHERE id = %s",
                        (unique_token("n-"), cid))
            cur.execute("INSERT INTO messages (direction, sender, receiver,"
                        " content, status) VALUES ('inbound', %s, 'Me', 'x',"
                        " 'received')", (unique_phone(),))
            cur.execute("SELECT count(*) FROM events")
            assert cur.fetchone()[0] == before + 2
        conn.rollback()
    finally:
        conn.close()
    assert count_rows("events") == before
    time.sleep(1.5)
    assert rx.snapshot() == []


def test_receiver_500_is_retried_with_the_same_id_and_in_order(
        webhook, query, endpoint, receivers):
    rx = receivers()
    rx.script((500, 0))
    ep = endpoint(rx.url, ["message.received"])
    s1, _ = inbound(webhook)
    s2, _ = inbound(webhook)
    m1, m2 = message_id(query, s1), message_id(query, s2)
    reqs = rx.wait(lambda q: len(q) >= 3, 30)
    assert len(reqs) == 3, [q.status for q in reqs]
    ids = [q.json()["data"]["id"] for q in reqs]
    assert ids == [m1, m1, m2]
    assert [q.status for q in reqs] == [500, 200, 200]
    assert reqs[0].headers["webhook-id"] == reqs[1].headers["webhook-id"]
    assert reqs[0].body == reqs[1].body
    assert reqs[1].headers["webhook-id"] != reqs[2].headers["webhook-id"]
    assert all(verify(ep["secret"], q) for q in reqs)
    # A backoff, not at once.
    assert reqs[1].at - reqs[0].at >= 0.3
    deadline = time.monotonic() + 5
    while True:
        rows = query("SELECT a.attempt, a.http_status, d.state FROM"
                     " delivery_attempts a JOIN deliveries d ON d.id ="
                     " a.delivery_id WHERE a.endpoint_id = %s ORDER BY a.id",
                     (ep["id"],))
        if len(rows) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert rows == [(1, 500, "delivered"), (2, 200, "delivered"),
                    (1, 200, "delivered")]


def test_redirects_are_not_followed(webhook, query, endpoint, receivers):
    """A 3xx is a failed attempt (retried later), never a request to the
    Location, which could point anywhere."""
    rx, target = receivers(), receivers()
    rx.default = (307, 0)
    rx.location = target.url
    ep = endpoint(rx.url, ["message.received"])
    inbound(webhook)
    rx.wait(lambda q: len(q) >= 1, WAIT)
    wait_attempts(query, ep["id"], 1)
    assert attempts_of(query, ep["id"])[0] == (307, "HTTP 307")
    assert query("SELECT state FROM deliveries WHERE endpoint_id = %s",
                 (ep["id"],)) == [("pending",)]
    time.sleep(1)
    assert target.snapshot() == []


def test_slow_endpoint_delays_neither_others_nor_sends(api, send, webhook,
                                                       query, endpoint,
                                                       receivers):
    slow, fast = receivers(), receivers()
    slow.default = (200, 6.0)
    endpoint(slow.url, ["message.received"])
    endpoint(fast.url, ["message.received"])
    t0 = time.monotonic()
    senders = [inbound(webhook)[0] for _ in range(3)]
    ids = [message_id(query, s) for s in senders]
    reqs = fast.wait(lambda q: len(q) >= 3, WAIT)
    assert [q.json()["data"]["id"] for q in reqs] == ids
    assert reqs[-1].at - t0 < 4.0, reqs[-1].at - t0
    # The slow one is still on its first event.
    assert len(slow.snapshot()) == 0
    msg = send_one(send)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        st = api.get("/api/messages/%d/" % msg["id"]).json()["status"]
        if st != "queued":
            break
        time.sleep(0.05)
    assert st != "queued", "a slow endpoint held up a WhatsApp send"
    got = slow.wait(lambda q: len(q) >= 1, WAIT)
    assert got[0].json()["data"]["id"] == ids[0]


def test_endpoint_failing_for_five_days_is_disabled(webhook, query, endpoint,
                                                    receivers):
    rx = receivers()
    rx.default = (503, 0)
    ep = endpoint(rx.url, ["message.received"])
    query("UPDATE endpoints SET failing_since = now() - interval '5 days 1"
          " minute' WHERE id = %s", (ep["id"],))
    inbound(webhook)
    rx.wait(lambda q: len(q) >= 1, WAIT)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        row = query("SELECT enabled, disabled_reason FROM endpoints"
                    " WHERE id = %s", (ep["id"],))[0]
        if not row[0]:
            break
        time.sleep(0.1)
    assert row == (False, "disabled after 5 days of failures")


# --------------------------------------------------------------- admin page

def test_admin_page_lists_deliveries_and_sends_again(admin, webhook, query,
                                                     endpoint, receivers):
    rx = receivers()
    ep = endpoint(rx.url, ["message.received"])
    sender, _ = inbound(webhook)
    mid = message_id(query, sender)
    first = of_message(rx.wait(lambda q: of_message(q, mid), WAIT), mid)[0]
    wait_attempts(query, ep["id"], 1)
    r = admin.get("/admin/endpoints/")
    assert r.status_code == 200
    assert 'href="/admin/endpoints/"' in r.text
    section = r.text[r.text.index('id="endpoint-%d"' % ep["id"]):]
    section = section[:section.index("</section>")]
    assert rx.url in section and "message.received" in section
    assert "Send again" in section and ">200<" in section
    assert ep["secret"] not in r.text
    did = query("SELECT id FROM deliveries WHERE endpoint_id = %s",
                (ep["id"],))[0][0]
    assert "/admin/deliveries/%d/resend" % did in section
    # Without the CSRF token nothing happens.
    r = admin.post("/admin/deliveries/%d/resend" % did, data={},
                   allow_redirects=False)
    assert r.status_code == 403
    token = csrf_of(admin.get("/admin/endpoints/").text)
    r = admin.post("/admin/deliveries/%d/resend" % did,
                   data={"csrf": token}, allow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    again = rx.wait(lambda q: len(of_message(q, mid)) >= 2, WAIT)
    again = of_message(again, mid)
    assert again[1].headers["webhook-id"] == first.headers["webhook-id"]
    assert again[1].body == first.body
    assert verify(ep["secret"], again[1])
    r = admin.post("/admin/deliveries/999999999/resend",
                   data={"csrf": token}, allow_redirects=False)
    assert r.status_code == 404


def test_admin_add_and_disable(admin, query):
    token = admin.csrf("/admin/endpoints/")
    r = admin.post("/admin/endpoints/", data={
        "csrf": token, "url": "ftp://nope", "message.received": "1"})
    assert r.status_code == 422 and "url must start with https://" in r.text
    url = "https://hooks.example.com/%s" % unique_token()
    r = admin.post("/admin/endpoints/", data={
        "csrf": token, "url": url, "message.received": "1",
        "contact.updated": "1"})
    assert r.status_code == 200, r.text[:300]
    secret = re.search(r'id="endpoint-secret">(whsec_[^<]+)<', r.text).group(1)
    eid, types = query("SELECT id, types FROM endpoints WHERE url = %s",
                       (url,))[0]
    try:
        assert types == ["message.received", "contact.updated"]
        assert secret not in admin.get("/admin/endpoints/").text
        r = admin.post("/admin/endpoints/%d/disable" % eid,
                       data={"csrf": token}, allow_redirects=False)
        assert r.status_code == 303
        page = admin.get("/admin/endpoints/").text
        section = page[page.index('id="endpoint-%d"' % eid):]
        assert "disabled by " in section[:section.index("</section>")]
        r = admin.post("/admin/endpoints/%d/disable" % eid,
                       data={"csrf": token}, allow_redirects=False)
        assert r.status_code == 404
    finally:
        query("UPDATE endpoints SET enabled = false WHERE id = %s", (eid,))


# ----------------------------------------- dispatchers of the test's own

class OwnDispatchers:
    """Replaces the stack's dispatcher by ones the test starts with its own
    settings (each in a process group of its own, so that a kill -9 takes
    its delivery process along, as a crash would); on close, stops them and
    starts the stack's again."""

    def __init__(self, env, var_dir):
        self.env = env
        self.var_dir = var_dir
        self.pid_file = var_dir / "pids" / "dispatch.pid"
        self.procs = []
        self.log = open(var_dir / "log" / "dispatch-events.log", "ab")
        stop_pid(read_pid(self.pid_file))

    def start(self, **settings):
        child = dict(os.environ)
        child.update({k: v for k, v in self.env.items()
                      if k.startswith("WADESK_")})
        child.update(settings)
        proc = subprocess.Popen([str(BINARY), "dispatch"], env=child,
                                stdout=self.log, stderr=self.log,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def crash(self, proc):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.log.close()
        # A stopped dispatcher nobody reaped yet is a zombie, which the
        # stack script's kill -0 takes for alive: forget its pid.
        if not pid_alive(read_pid(self.pid_file)):
            self.pid_file.unlink(missing_ok=True)
        p = run_stack(self.env, self.var_dir, "start", "VAR")
        assert p.returncode == 0, p.stderr[-2000:]


@pytest.fixture
def own_dispatchers(env, var_dir, endpoint):
    d = OwnDispatchers(env, var_dir)
    yield d
    d.close()


def test_dispatcher_without_the_setting_refuses_private_addresses(
        webhook, query, endpoint, receivers, own_dispatchers):
    """A dispatcher without WADESK_EVENTS_ALLOW_PRIVATE: the receiver on
    127.0.0.1 (allowed when it was added) gets nothing, and each attempt
    records why: http is refused, and so is https to a name (localhost)
    that resolves to loopback, at connect time."""
    rx = receivers()
    port = int(rx.url.split(":")[2].split("/")[0])
    plain = endpoint(rx.url, ["message.received"])
    named = endpoint("https://localhost:%d/hook" % port, ["message.received"])
    own_dispatchers.start(WADESK_EVENTS_ALLOW_PRIVATE="0")
    inbound(webhook)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and not (
            attempts_of(query, plain["id"]) and
            attempts_of(query, named["id"])):
        time.sleep(0.1)
    a, b = attempts_of(query, plain["id"]), attempts_of(query, named["id"])
    assert a and b, (a, b)
    assert a[0][0] is None and "http" in a[0][1].lower(), a
    assert b[0][0] is None and b[0][1].startswith("refused"), b
    assert rx.snapshot() == []


def test_timeout_then_crash_mid_delivery_then_delivered_once_more(
        webhook, query, endpoint, receivers, own_dispatchers):
    """A receiver that hangs past WADESK_EVENTS_TIMEOUT_MS: the attempt
    times out and is retried; the dispatcher is killed (-9, with its
    delivery process) while the retry is in flight; another dispatcher
    delivers it when the lease ends.  Every request carries the same
    webhook-id and body."""
    rx = receivers()
    rx.script((200, 2.5), (200, 0.9))
    ep = endpoint(rx.url, ["message.received"])
    settings = {"WADESK_EVENTS_TIMEOUT_MS": "1000",
                "WADESK_EVENTS_RETRY_BASE_MS": "300"}
    first = own_dispatchers.start(**settings)
    inbound(webhook)
    # The retry is in flight (the receiver holds it 0.9 s): crash.
    assert rx.wait_arrived(2, WAIT)
    own_dispatchers.crash(first)
    a = attempts_of(query, ep["id"])
    assert len(a) == 1 and a[0][0] is None, a
    assert "timed out" in a[0][1].lower() or "timeout" in a[0][1].lower(), a
    own_dispatchers.start(**settings)
    # The lease of a claimed delivery: 2 x the timeout + 10 s.
    reqs = rx.wait(lambda q: len(q) >= 3, 30)
    assert len(reqs) == 3, [q.status for q in reqs]
    assert len({q.headers["webhook-id"] for q in reqs}) == 1
    assert len({q.body for q in reqs}) == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and query(
            "SELECT state FROM deliveries WHERE endpoint_id = %s",
            (ep["id"],))[0][0] != "delivered":
        time.sleep(0.05)
    assert query("SELECT state, attempts FROM deliveries WHERE endpoint_id"
                 " = %s", (ep["id"],)) == [("delivered", 3)]


def test_writes_pay_for_events_only_while_an_endpoint_listens(api, query):
    """No enabled endpoint: no event triggers on messages and contacts (a
    send writes nothing more); the first enabled endpoint arms them, the
    last one disabled disarms them."""
    def armed():
        return query("SELECT count(*) FROM pg_trigger WHERE tgname IN"
                     " ('messages_events_new', 'messages_events_changed',"
                     " 'contacts_events_changed')")[0][0]

    others = [r[0] for r in query("SELECT id FROM endpoints WHERE enabled")]
    try:
        query("UPDATE endpoints SET enabled = false WHERE enabled")
        assert armed() == 0
        r = api.post("/api/endpoints/",
                     json={"url": "http://127.0.0.1:9/arm-" + unique_token()})
        assert r.status_code == 201, r.text
        assert armed() == 3
        query("UPDATE endpoints SET enabled = false WHERE id = %s",
              (r.json()["id"],))
        assert armed() == 0
    finally:
        if others:
            query("UPDATE endpoints SET enabled = true WHERE id = ANY(%s)",
                  (others,))
