"""Several business numbers: `wadesk number add/list`, GET /api/numbers/,
inbound messages routed by metadata.phone_number_id, sends through the
number their sender names (the cloudapi provider, against the fake Cloud
API) and each number paced at WADESK_NUMBER_MPS.

The module fixture stops the stack's worker pool and dispatcher and starts
them again with the cloudapi provider pointed at the fake (and
WADESK_NUMBER_MPS=20); on teardown, whatever happened, they start again as
the stack's own (simulated).  Phone number ids, display numbers and
customers are unique per test.
"""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from fake_cloudapi import PHONE_NUMBER_ID, TOKEN, VERSION, FakeCloudAPI
from integ_support import (assert_error, json_bytes, restart_stack,
                           run_cli, stack_diagnosis, unique_phone,
                           unique_token, wait_until)

MPS = 20


@pytest.fixture(scope="module")
def fake(env, var_dir, base_url):
    f = FakeCloudAPI(token=TOKEN, phone_number_id=PHONE_NUMBER_ID)
    f.start()
    try:
        restart_stack(env, base_url, WADESK_PROVIDER="cloudapi",
                 WADESK_CLOUDAPI_BASE_URL=f.base_url,
                 WADESK_CLOUDAPI_VERSION=VERSION,
                 WADESK_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
                 WADESK_CLOUDAPI_TOKEN=TOKEN,
                 WADESK_NUMBER_MPS=str(MPS))
        yield f
    finally:
        try:
            restart_stack(env, base_url)
        finally:
            f.stop()


def _pnid():
    return "1%014d" % secrets.randbelow(10 ** 14)


def _add_number(env, fake=None, name=None):
    """A new business number: (id, phone number id, display)."""
    pnid, display = _pnid(), unique_phone()
    args = ["number", "add", pnid, display] + ([name] if name else [])
    p = run_cli(env, *args)
    assert p.returncode == 0, p.stderr
    if fake is not None:
        fake.add_number(pnid)
    return int(p.stdout.strip()), pnid, display


def _inbound(webhook, pnid, display, customer, text=None):
    """A customer's text to business number pnid (display); its wamid."""
    wamid = "wamid." + unique_token()
    r = webhook({"object": "whatsapp_business_account", "entry": [{
        "id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": display[1:],
                         "phone_number_id": pnid},
            "contacts": [{"wa_id": customer[1:], "profile": {"name": "Ana"}}],
            "messages": [{"from": customer[1:], "id": wamid,
                          "timestamp": str(int(time.time())),
                          "type": "text",
                          "text": {"body": text or "hi " + unique_token()}}],
        }}]}]})
    assert r.status_code == 200, r.text
    return wamid


def _by_wamid(api, wamid):
    def find():
        r = api.get("/api/messages/?direction=inbound&limit=50")
        for m in r.json()["data"]:
            if m["provider_message_id"] == wamid:
                return m
        return None
    m = wait_until(find, 5)
    assert m, "inbound message %s not listed" % wamid
    return m


def _numbers(api):
    r = api.get("/api/numbers/")
    assert r.status_code == 200, r.text
    return r.json()["data"]


# ------------------------------------------------------------ CLI and API

def test_number_add_then_listed_by_the_api_and_the_cli(env, api, anon,
                                                       fake):
    nid, pnid, display = _add_number(env, name="Sales")
    assert {"id": nid, "phone_number_id": pnid, "display": display,
            "name": "Sales"} in _numbers(api)
    p = run_cli(env, "number", "list")
    assert p.returncode == 0 and pnid in p.stdout and display in p.stdout
    assert_error(anon.get("/api/numbers/"), 401, "unauthorized")


@pytest.mark.parametrize("args", [
    ["add", "abc", "+15550001234"],
    ["add", "123", "not-a-phone"],
    ["add", "123"],
    ["frobnicate"],
])
def test_number_add_refuses_wrong_arguments(env, args):
    assert run_cli(env, "number", *args).returncode == 2


def test_number_add_of_a_taken_display_fails(env, fake):
    _, _, display = _add_number(env)
    p = run_cli(env, "number", "add", _pnid(), display)
    assert p.returncode == 1 and "another number" in p.stderr


def test_business_number_shortcut_is_a_number(env, api, fake):
    business = env.get("WADESK_BUSINESS_NUMBER")
    if not business:
        pytest.skip("the stack has no business number")
    assert business in [n["display"] for n in _numbers(api)]


# ------------------------------------------------------------------ inbound

def test_inbound_on_a_known_number_gets_it(env, api, webhook, fake):
    nid, pnid, display = _add_number(env)
    customer = unique_phone()
    m = _by_wamid(api, _inbound(webhook, pnid, display, customer))
    assert m["number_id"] == nid
    assert m["receiver"] == display and m["sender"] == customer


def test_inbound_on_an_unknown_number_records_it(api, webhook, query, fake):
    pnid, display, customer = _pnid(), unique_phone(), unique_phone()
    wamid = _inbound(webhook, pnid, display, customer, "first words")
    m = _by_wamid(api, wamid)
    assert m["content"] == "first words" and m["receiver"] == display
    new = [n for n in _numbers(api) if n["phone_number_id"] == pnid]
    assert new == [{"id": m["number_id"], "phone_number_id": pnid,
                    "display": display, "name": None}]
    # Its next message: the same number, no new one.
    m2 = _by_wamid(api, _inbound(webhook, pnid, display, customer))
    assert m2["number_id"] == m["number_id"]
    assert query("SELECT count(*) FROM numbers WHERE phone_number_id = %s",
                 (pnid,)) == [(1,)]


def test_one_batch_for_two_numbers_routes_each(env, api, webhook, fake):
    a, b = _add_number(env), _add_number(env)
    wams = []
    changes = []
    for nid, pnid, display in (a, b):
        wamid = "wamid." + unique_token()
        wams.append((wamid, nid))
        customer = unique_phone()
        changes.append({"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": display[1:],
                         "phone_number_id": pnid},
            "contacts": [{"wa_id": customer[1:]}],
            "messages": [{"from": customer[1:], "id": wamid,
                          "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": "x"}}]}})
    r = webhook({"object": "whatsapp_business_account",
                 "entry": [{"id": "0", "changes": changes}]})
    assert r.status_code == 200, r.text
    for wamid, nid in wams:
        assert _by_wamid(api, wamid)["number_id"] == nid


# ----------------------------------------------------------------- outbound

def test_sends_go_through_their_senders_number(env, api, send, webhook,
                                               fake):
    sent = []
    for _ in range(2):
        nid, pnid, display = _add_number(env, fake)
        customer = unique_phone()
        _inbound(webhook, pnid, display, customer)
        r = send({"sender": display, "receiver": customer,
                  "content": "from " + display})
        assert r.status_code == 201, r.text
        assert r.json()["number_id"] == nid
        sent.append((customer, pnid))
    for customer, pnid in sent:
        got = fake.wait_requests(customer, 1, 30)
        assert [g.phone_number_id for g in got] == [pnid], (
            got, stack_diagnosis(env))
        assert got[0].succeeded, got


def test_unknown_sender_is_422_and_nothing_stored(env, send, webhook, query,
                                                  fake):
    nid, pnid, display = _add_number(env, fake)
    customer = unique_phone()
    _inbound(webhook, pnid, display, customer)
    before = query("SELECT count(*) FROM messages")[0][0]
    r = send({"sender": unique_phone(), "receiver": customer,
              "content": "who am I"})
    err = assert_error(r, 422, "unknown_sender", "sender")
    assert "numbers" in err["message"]
    assert query("SELECT count(*) FROM messages")[0][0] == before


# ------------------------------------------------------------------- pacing

def test_a_busy_number_is_paced_and_never_starves_another(env, base_url,
                                                          webhook, fake):
    busy, quiet = _add_number(env, fake), _add_number(env, fake)
    c_busy, c_quiet = unique_phone(), unique_phone()
    _inbound(webhook, busy[1], busy[2], c_busy)
    _inbound(webhook, quiet[1], quiet[2], c_quiet)
    headers = {"Authorization": "Bearer " + env["WADESK_API_KEY"],
               "Content-Type": "application/json"}
    url = base_url + "/api/send-message/"

    def post(sender, receiver):
        r = requests.post(url, headers=headers, timeout=20, data=json_bytes(
            {"sender": sender, "receiver": receiver,
             "content": "paced " + unique_token()}))
        assert r.status_code == 201, r.text
        return time.monotonic()

    burst = 200
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: post(busy[2], c_busy), range(burst)))
    # The busy number has most of its burst still queued: the quiet one's
    # few messages go out at once all the same.
    quiet_sent = [post(quiet[2], c_quiet) for _ in range(3)]
    got = fake.wait_requests(c_quiet, 3, 30)
    assert len(got) == 3, (got, stack_diagnosis(env))
    delays = [g.t - t for g, t in zip(sorted(got, key=lambda g: g.t),
                                      quiet_sent)]
    assert max(delays) < 1.0, delays
    early = len(fake.requests_for(c_busy))
    assert early < burst / 2, "the burst was not paced (%d sent)" % early

    got = fake.wait_requests(c_busy, burst, burst / MPS + 15)
    assert len(got) == burst, "%d of %d" % (len(got), burst)
    assert all(g.phone_number_id == busy[1] for g in got)
    times = sorted(g.t for g in got)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert MPS * 0.7 < rate < MPS * 1.3, "%.1f messages/s" % rate
    # No one second holds much more than the limit (plus the small burst).
    worst = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
    assert worst <= MPS * 1.3 + 3, worst


# -------------------------------------------------------------------- admin

def test_admin_filters_messages_and_conversations_by_number(env, admin,
                                                            webhook, fake):
    a, b = _add_number(env, name="North"), _add_number(env)
    ca, cb = unique_phone(), unique_phone()
    _inbound(webhook, a[1], a[2], ca, "to north " + unique_token())
    _inbound(webhook, b[1], b[2], cb, "to other " + unique_token())

    page = admin.get("/admin/messages/?number=%d" % a[0])
    assert page.status_code == 200
    assert ca in page.text and cb not in page.text
    # The filter offers every number, the chosen one selected.
    assert 'id="filter-number"' in page.text
    assert '<option value="%d" selected>%s (North)</option>' % (
        a[0], a[2]) in page.text
    page = admin.get("/admin/messages/?number=%d" % b[0])
    assert cb in page.text and ca not in page.text
    assert admin.get("/admin/messages/?number=x").status_code == 400

    page = admin.get("/admin/conversations/?filter=all&number=%d" % a[0])
    assert page.status_code == 200
    assert ca in page.text and cb not in page.text
    assert 'id="filter-number"' in page.text
    page = admin.get("/admin/conversations/?filter=all&number=%d" % b[0])
    assert cb in page.text and ca not in page.text
    assert admin.get(
        "/admin/conversations/?number=-1").status_code == 400


def test_admin_thread_shows_its_number(env, admin, webhook, query, fake):
    nid, pnid, display = _add_number(env, name="Lisbon")
    customer = unique_phone()
    _inbound(webhook, pnid, display, customer)
    cid = query("SELECT id FROM contacts WHERE phone = %s", (customer,))[0][0]
    page = admin.get("/admin/conversations/%d" % cid)
    assert page.status_code == 200
    assert '<strong class="number">%s (Lisbon)</strong>' % display \
        in page.text


def test_admin_send_form_picks_the_sender_from_the_numbers(env, admin,
                                                           fake):
    nid, pnid, display = _add_number(env, name="Picker")
    page = admin.get("/admin/messages/new")
    assert page.status_code == 200
    assert '<select name="sender" id="field-sender">' in page.text
    assert '<option value="%s">%s (Picker)</option>' % (display, display) \
        in page.text
