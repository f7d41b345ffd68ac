"""GET /api/messages/: filters, newest first, keyset pagination."""

import http.client
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from integ_support import (assert_error, assert_message_shape, unique_phone,
                           unique_token)


def _send(send, sender, receiver, content):
    r = send({"sender": sender, "receiver": receiver, "content": content})
    assert r.status_code == 201, r.text
    return r.json()


def _inbound(webhook, sender, content):
    r = webhook({"sender": sender, "content": content})
    assert r.status_code == 200, r.text


def _list(api, **params):
    r = api.get("/api/messages/", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"data", "next"}
    return body


def _bulk_inbound(query, sender, n):
    """n inbound rows from sender, straight into the table (fast)."""
    query("INSERT INTO messages (direction, sender, receiver, content, "
          "status) SELECT 'inbound', %s, 'Me', 'bulk ' || g, 'received' "
          "FROM generate_series(1, %s) g", (sender, n))


def test_contact_filter_returns_that_conversation_newest_first(api, send,
                                                               webhook):
    customer, other = unique_phone(), unique_phone()
    a = _send(send, "+15550000001", customer, "first")
    b = _send(send, "+15550000001", other, "someone else")
    _inbound(webhook, customer, "reply " + unique_token())
    c = _send(send, "+15550000001", customer, "third")
    body = _list(api, contact=customer)
    ids = [m["id"] for m in body["data"]]
    assert len(ids) == 3 and b["id"] not in ids
    assert ids == sorted(ids, reverse=True)
    assert ids[0] == c["id"] and ids[-1] == a["id"]
    for m in body["data"]:
        assert_message_shape(m)
        assert customer in (m["sender"], m["receiver"])
    assert body["next"] is None


def test_contact_filter_accepts_the_number_without_plus(api, send):
    customer = unique_phone()
    m = _send(send, "+15550000001", customer, "no plus")
    with_plus = _list(api, contact=customer)["data"]
    without = _list(api, contact=customer.lstrip("+"))["data"]
    assert [x["id"] for x in with_plus] == [m["id"]]
    assert [x["id"] for x in without] == [m["id"]]


def test_direction_filter(api, send, webhook):
    customer = unique_phone()
    out = _send(send, "+15550000001", customer, "outbound one")
    _inbound(webhook, customer, "inbound one")
    inbound = _list(api, contact=customer, direction="inbound")["data"]
    outbound = _list(api, contact=customer, direction="outbound")["data"]
    assert [m["direction"] for m in inbound] == ["inbound"]
    assert inbound[0]["sender"] == customer
    assert inbound[0]["status"] == "received"
    assert [m["id"] for m in outbound] == [out["id"]]


def test_status_filter(api, send, webhook, query):
    customer = unique_phone()
    queued = _send(send, "+15550000001", customer, "outbound")
    # A failed message (final), written by hand with no outbox row so that
    # no dispatcher touches it.
    failed_id = query(
        "INSERT INTO messages (direction, sender, receiver, content, status, "
        "error_code, error_message) VALUES ('outbound', '+15550000001', %s, "
        "'failed one', 'failed', '131026', 'undeliverable') RETURNING id",
        (customer,))[0][0]
    _inbound(webhook, customer, "inbound")
    got_failed = _list(api, contact=customer, status="failed")["data"]
    assert [m["id"] for m in got_failed] == [failed_id]
    assert got_failed[0]["error"] == {"code": "131026",
                                      "message": "undeliverable"}
    received = _list(api, contact=customer, status="received")["data"]
    assert len(received) == 1 and received[0]["direction"] == "inbound"
    ids = {m["id"] for m in _list(api, contact=customer)["data"]}
    assert queued["id"] in ids and len(ids) == 3


def test_q_is_a_case_insensitive_substring_search(api, send):
    tok = unique_token()
    hit = _send(send, unique_phone(), unique_phone(),
                "Invoice ZEBRA-%s is ready" % tok.upper())
    _send(send, unique_phone(), unique_phone(), "unrelated " + unique_token())
    data = _list(api, q="zebra-%s" % tok)["data"]
    assert [m["id"] for m in data] == [hit["id"]]


def test_q_folds_case_beyond_ascii(api, send):
    tok = unique_token()
    hit = _send(send, unique_phone(), unique_phone(), "ÉCOLE Zoë " + tok)
    assert [m["id"] for m in _list(api, q="école zoë " + tok)["data"]] == \
        [hit["id"]]


def test_q_matches_sender_and_receiver(api, send):
    sender, receiver = unique_phone(), unique_phone()
    m = _send(send, sender, receiver, "numbers")
    assert [x["id"] for x in _list(api, q=sender[3:])["data"]] == [m["id"]]
    assert [x["id"] for x in _list(api, q=receiver[3:])["data"]] == [m["id"]]


def test_q_treats_like_wildcards_literally(api, send):
    tok = unique_token()
    literal = _send(send, unique_phone(), unique_phone(),
                    "%s 100%%_off\\now" % tok)
    _send(send, unique_phone(), unique_phone(), "%s 100xxoff\\now" % tok)
    _send(send, unique_phone(), unique_phone(), "%s 1009_off" % tok)
    assert [m["id"] for m in _list(api, q=tok + " 100%_off\\")["data"]] == \
        [literal["id"]]
    assert _list(api, q=tok + "%")["data"] == []
    assert len(_list(api, q=tok)["data"]) == 3


def test_filters_combine(api, send, webhook):
    customer = unique_phone()
    tok = unique_token()
    _send(send, "+15550000001", customer, "apple " + tok)
    _inbound(webhook, customer, "apple " + tok)
    _inbound(webhook, customer, "pear " + tok)
    data = _list(api, contact=customer, direction="inbound",
                 status="received", q="APPLE")["data"]
    assert len(data) == 1
    assert data[0]["content"] == "apple " + tok
    assert data[0]["direction"] == "inbound"


def test_pagination_follows_next_links(api, send, base_url):
    customer = unique_phone()
    created = [_send(send, "+15550000001", customer, "page %d" % i)["id"]
               for i in range(5)]
    seen, pages = [], 0
    body = _list(api, contact=customer, limit=2)
    while True:
        pages += 1
        seen += [m["id"] for m in body["data"]]
        assert len(body["data"]) <= 2
        if body["next"] is None:
            break
        nxt = body["next"]
        assert nxt.startswith("/api/messages/?"), nxt
        params = parse_qs(urlsplit(nxt).query)
        assert params["contact"] == [customer]
        assert params["limit"] == ["2"]
        assert params["before_id"] == [str(seen[-1])]
        r = api.get(base_url + nxt)
        assert r.status_code == 200, r.text
        body = r.json()
        assert pages < 10
    assert pages == 3
    assert seen == sorted(created, reverse=True)


def test_pages_stay_stable_when_new_messages_arrive(api, send, base_url):
    customer = unique_phone()
    ids = [_send(send, "+15550000001", customer, "k %d" % i)["id"]
           for i in range(4)]
    first = _list(api, contact=customer, limit=2)
    assert [m["id"] for m in first["data"]] == [ids[3], ids[2]]
    newer = _send(send, "+15550000001", customer, "arrived meanwhile")
    second = api.get(base_url + first["next"]).json()
    assert [m["id"] for m in second["data"]] == [ids[1], ids[0]]
    assert newer["id"] not in [m["id"] for m in second["data"]]


def test_unknown_parameters_are_ignored(api, send):
    customer = unique_phone()
    m = _send(send, "+15550000001", customer, "unknown params")
    data = _list(api, contact=customer, sort="asc", page="7")["data"]
    assert [x["id"] for x in data] == [m["id"]]


def test_next_is_null_on_an_exactly_full_last_page(api, send):
    customer = unique_phone()
    for i in range(2):
        _send(send, "+15550000001", customer, "exact %d" % i)
    body = _list(api, contact=customer, limit=2)
    assert len(body["data"]) == 2
    assert body["next"] is None


def test_before_id_returns_only_older_messages(api, send):
    customer = unique_phone()
    ids = [_send(send, "+15550000001", customer, "b %d" % i)["id"]
           for i in range(3)]
    data = _list(api, contact=customer, before_id=ids[2])["data"]
    assert [m["id"] for m in data] == [ids[1], ids[0]]


def test_default_limit_is_50(api, query):
    sender = unique_phone()
    _bulk_inbound(query, sender, 51)
    body = _list(api, contact=sender)
    assert len(body["data"]) == 50
    assert body["next"] is not None
    assert parse_qs(urlsplit(body["next"]).query)["limit"] == ["50"]


def test_limit_200_is_allowed(api, query):
    sender = unique_phone()
    _bulk_inbound(query, sender, 201)
    body = _list(api, contact=sender, limit=200)
    assert len(body["data"]) == 200
    assert body["next"] is not None
    rest = _list(api, contact=sender, limit=200,
                 before_id=body["data"][-1]["id"])
    assert len(rest["data"]) == 1 and rest["next"] is None


def test_empty_parameters_are_ignored(api, send):
    customer = unique_phone()
    m = _send(send, "+15550000001", customer, "empty params")
    r = api.get("/api/messages/?status=&direction=&q=&before_id=&limit="
                "&contact=" + customer.lstrip("+"))
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["data"]] == [m["id"]]


def test_unknown_contact_gives_an_empty_list(api):
    body = _list(api, contact=unique_phone())
    assert body == {"data": [], "next": None}


@pytest.mark.parametrize("params,field", [
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"limit": "abc"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"limit": "99999999999999999999999"}, "limit"),
    ({"status": "pending"}, "status"),
    ({"status": "QUEUED"}, "status"),
    ({"direction": "sideways"}, "direction"),
    ({"contact": "12"}, "contact"),
    ({"contact": "not-a-number"}, "contact"),
    ({"before_id": "0"}, "before_id"),
    ({"before_id": "-5"}, "before_id"),
    ({"before_id": "x1"}, "before_id"),
    ({"before_id": "99999999999999999999"}, "before_id"),
    ({"q": "x" * 201}, "q"),
])
def test_invalid_parameters_are_400(api, params, field):
    r = api.get("/api/messages/", params=params)
    assert_error(r, 400, "invalid_parameter", field)


def test_q_of_200_characters_is_allowed(api):
    r = api.get("/api/messages/", params={"q": "é" * 200})
    assert r.status_code == 200, r.text


class _RawResponse:
    def __init__(self, resp):
        self.status_code = resp.status
        self.headers = resp.headers
        self.content = resp.read()
        self.text = self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


def _raw_get(env, path):
    """GET path exactly as given: requests and urllib3 would re-quote a
    stray '%'."""
    url = urlsplit(env["WADESK_URL"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("GET", path, headers={
            "Authorization": "Bearer " + env["WADESK_API_KEY"]})
        return _RawResponse(conn.getresponse())
    finally:
        conn.close()


@pytest.mark.parametrize("qs", ["limit=%zz", "q=abc%", "q=%4", "q=%00",
                                "status=%G1"])
def test_malformed_query_string_is_400(env, qs):
    r = _raw_get(env, "/api/messages/?" + qs)
    assert_error(r, 400, "invalid_parameter")


@pytest.mark.parametrize("qs", ["q=%FF%FE", "q=caf%C3", "q=%C0%AF"])
def test_q_that_is_not_utf8_is_400(env, qs):
    r = _raw_get(env, "/api/messages/?" + qs)
    assert_error(r, 400, "invalid_parameter", "q")


@pytest.mark.parametrize("qs", ["q=a%1Fb", "q=%09tab", "q=line%0Abreak",
                                "q=del%7F"])
def test_q_with_control_characters_is_400(env, qs):
    # The search joins content, sender and receiver with U+001F.
    r = _raw_get(env, "/api/messages/?" + qs)
    assert_error(r, 400, "invalid_parameter", "q")


def test_q_never_matches_across_two_fields(api, send):
    tok = unique_token()
    sender = unique_phone()
    _send(send, sender, unique_phone(), "ends with " + tok)
    # The end of the content followed by the start of the sender.
    assert _list(api, q=tok + sender[:4])["data"] == []
    assert _list(api, q=tok + " " + sender[:4])["data"] == []


def test_next_link_keeps_a_q_with_reserved_characters(api, send, base_url):
    q = "R&D=100%% + #1 / %s?" % unique_token()
    ids = [_send(send, unique_phone(), unique_phone(), "%s (%d)" % (q, i))
           ["id"] for i in range(3)]
    body = _list(api, q=q, limit=1)
    seen = [m["id"] for m in body["data"]]
    while body["next"]:
        r = api.get(base_url + body["next"])
        assert r.status_code == 200, r.text
        body = r.json()
        assert all(m["content"].startswith(q) for m in body["data"])
        seen += [m["id"] for m in body["data"]]
        assert len(seen) <= 3
    assert seen == ids[::-1]


def test_list_with_and_without_trailing_slash_and_head(api, send):
    customer = unique_phone()
    m = _send(send, "+15550000001", customer, "slash")
    a = api.get("/api/messages", params={"contact": customer})
    b = api.get("/api/messages/", params={"contact": customer})
    assert a.status_code == b.status_code == 200
    # (Compared without status: a dispatcher may move it in between.)
    for r in (a, b):
        assert [(x["id"], x["content"]) for x in r.json()["data"]] == \
            [(m["id"], "slash")]
    h = api.head("/api/messages/", params={"contact": customer})
    assert h.status_code == 200
    assert h.headers["Content-Type"].startswith("application/json")
    assert h.content == b""
