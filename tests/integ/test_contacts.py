"""Contacts: GET /api/contacts/ and its filters, GET and PATCH
/api/contacts/{id}/, an inbound message reopening a resolved contact, sends
to a BSUID or a contact_id, and the messages list's contact filters."""

import re
import secrets
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from integ_support import (RFC3339_UTC, assert_error, assert_message_shape,
                           unique_phone, unique_token, user_add)

CONTACT_KEYS = {"id", "phone", "user_id", "parent_user_id", "username",
                "name", "last_inbound_at", "window_expires_at", "state",
                "assignee", "unread"}
JSON = {"Content-Type": "application/json"}
BUSINESS = "+15550000001"


def unique_bsuid():
    return "US." + "".join(str(secrets.randbelow(10)) for _ in range(20))


@pytest.fixture
def contact(query):
    """contact(phone=None, user_id=None, ...) -> id: a contact made as the
    webhook makes one (wadesk_contact)."""
    def make(phone=None, user_id=None, parent=None, username=None,
             name=None):
        return query("SELECT wadesk_contact(%s, %s, %s, %s, %s)",
                     (phone, user_id, parent, username, name))[0][0]
    return make


@pytest.fixture
def assignee(env):
    """A new admin user's name (the test's own, so filters see only it)."""
    name = unique_token("agent")
    p = user_add(env, name, "pw-" + secrets.token_hex(8))
    assert p.returncode == 0, p.stderr
    return name


def _get(api, cid):
    r = api.get("/api/contacts/%d/" % cid)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == CONTACT_KEYS, body
    return body


def _list(api, **params):
    r = api.get("/api/contacts/", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "next"}
    for c in body["data"]:
        assert set(c) == CONTACT_KEYS, c
    return body


def _ids(api, **params):
    return [c["id"] for c in _list(api, **params)["data"]]


def _patch(api, cid, body):
    return api.patch("/api/contacts/%d/" % cid, json=body)


# ------------------------------------------------------------ GET one

def test_get_bsuid_only_contact(api, contact):
    bsuid = unique_bsuid()
    cid = contact(None, bsuid, "US.ENT.5519", "kai.travels", "Kai")
    c = _get(api, cid)
    assert c == {
        "id": cid, "phone": None, "user_id": bsuid,
        "parent_user_id": "US.ENT.5519", "username": "kai.travels",
        "name": "Kai", "last_inbound_at": None, "window_expires_at": None,
        "state": "open", "assignee": None, "unread": 0}


def test_get_phone_contact_after_an_inbound_message(api, webhook, query):
    phone = unique_phone()
    r = webhook({"sender": phone, "content": "hello " + unique_token()})
    assert r.status_code == 200, r.text
    cid = query("SELECT id FROM contacts WHERE phone = %s", (phone,))[0][0]
    c = _get(api, cid)
    assert c["phone"] == phone and c["user_id"] is None
    assert c["unread"] == 1 and c["state"] == "open"
    assert RFC3339_UTC.match(c["last_inbound_at"])
    assert RFC3339_UTC.match(c["window_expires_at"])
    # window_expires_at is last_inbound_at + 24 hours, to the millisecond.
    assert _plus_24h(c["last_inbound_at"]) == c["window_expires_at"]


def test_last_inbound_and_window_follow_every_message(api, webhook, query):
    """The customer's newest message sets last_inbound_at and the window,
    even a few seconds after the one before (the contact row itself is
    only written when its list time is a minute behind)."""
    phone = unique_phone()
    for t, text in ((1767225600, "first"), (1767225605, "five seconds on")):
        r = webhook({"object": "whatsapp_business_account", "entry": [{
            "id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550001111",
                             "phone_number_id": "1"},
                "messages": [{"from": phone[1:], "id": "wamid." +
                              unique_token(), "timestamp": str(t),
                              "type": "text", "text": {"body": text}}]}}]}]})
        assert r.status_code == 200, r.text
    cid = query("SELECT id FROM contacts WHERE phone = %s", (phone,))[0][0]
    c = _get(api, cid)
    assert c["last_inbound_at"] == "2026-01-01T00:00:05.000Z"
    assert c["window_expires_at"] == "2026-01-02T00:00:05.000Z"
    assert c["unread"] == 2


def _plus_24h(ts):
    t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (t + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S.%f")[
        :-3] + "Z"


@pytest.mark.parametrize("path", ["/api/contacts/999999999999/",
                                  "/api/contacts/999999999999"])
def test_get_unknown_is_404(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_get_needs_a_key(anon, contact):
    cid = contact(unique_phone())
    assert_error(anon.get("/api/contacts/%d/" % cid), 401, "unauthorized")
    assert_error(anon.get("/api/contacts/"), 401, "unauthorized")


def test_method_not_allowed_lists_patch(api, contact):
    cid = contact(unique_phone())
    r = api.delete("/api/contacts/%d/" % cid)
    assert_error(r, 405, "method_not_allowed")
    assert set(re.split(r",\s*", r.headers["Allow"])) == {
        "GET", "HEAD", "PATCH"}
    r = api.post("/api/contacts/", json={})
    assert_error(r, 405, "method_not_allowed")
    assert "PATCH" not in r.headers["Allow"]


# ------------------------------------------------------------ list

def test_list_newest_first_and_pages_by_before_id(api, contact):
    tag = unique_token("page")
    made = [contact(unique_phone(), name="%s %d" % (tag, i))
            for i in range(5)]
    first = _list(api, q=tag, limit=2)
    assert [c["id"] for c in first["data"]] == made[:-3:-1]
    nxt = first["next"]
    assert nxt.startswith("/api/contacts/?")
    qs = parse_qs(urlsplit(nxt).query)
    assert qs["q"] == [tag] and qs["limit"] == ["2"]
    assert qs["before_id"] == [str(made[3])]
    seen = [c["id"] for c in first["data"]]
    while nxt:
        r = api.get(nxt)
        assert r.status_code == 200, r.text
        seen += [c["id"] for c in r.json()["data"]]
        nxt = r.json()["next"]
    assert seen == made[::-1]
    assert _ids(api, q=tag, before_id=made[2]) == [made[1], made[0]]


def test_list_default_limit_is_50(api, query):
    tag = unique_token("bulk")
    query("INSERT INTO contacts (phone, name) SELECT '+4930' || "
          "lpad((%s::bigint * 100 + g)::text, 9, '0'), %s FROM "
          "generate_series(1, 51) g", (secrets.randbelow(10 ** 6), tag))
    body = _list(api, q=tag)
    assert len(body["data"]) == 50
    assert parse_qs(urlsplit(body["next"]).query)["limit"] == ["50"]
    assert len(_list(api, q=tag, limit=200)["data"]) == 51


@pytest.mark.parametrize("how", ["name", "username", "phone", "phone-digits",
                                 "bsuid", "upper"])
def test_q_matches_name_username_phone_or_bsuid(api, contact, how):
    tag = unique_token("who")
    phone, bsuid = unique_phone(), unique_bsuid()
    cid = contact(phone, bsuid, None, tag + ".user", "Name " + tag)
    other = contact(unique_phone(), unique_bsuid(), None, None, "other")
    q = {"name": "Name " + tag, "username": tag + ".user",
         "phone": phone, "phone-digits": phone[1:], "bsuid": bsuid,
         "upper": ("NAME " + tag).upper()}[how]
    ids = _ids(api, q=q)
    assert cid in ids and other not in ids


def test_q_wildcards_are_literal(api, contact):
    tag = unique_token("lit")
    plain = contact(unique_phone(), name=tag + " 100 percent")
    pct = contact(unique_phone(), name=tag + " 100% sure")
    assert _ids(api, q=tag + " 100%") == [pct]
    assert plain in _ids(api, q=tag)


def test_state_filter(api, contact):
    tag = unique_token("st")
    a = contact(unique_phone(), name=tag)
    b = contact(unique_phone(), name=tag)
    assert _patch(api, b, {"state": "resolved"}).status_code == 200
    assert _ids(api, q=tag, state="resolved") == [b]
    assert _ids(api, q=tag, state="open") == [a]
    assert _ids(api, q=tag) == [b, a]


def test_assignee_filter(api, contact, assignee):
    tag = unique_token("as")
    a = contact(unique_phone(), name=tag)
    b = contact(unique_phone(), name=tag)
    assert _patch(api, b, {"assignee": assignee}).status_code == 200
    assert _ids(api, assignee=assignee) == [b]
    assert _ids(api, q=tag, assignee=assignee) == [b]
    assert _ids(api, q=tag, assignee="none") == [a]
    assert _ids(api, q=tag, assignee=unique_token("nobody")) == []


def test_window_open_and_closed(api, contact, query):
    tag = unique_token("win")
    never = contact(unique_phone(), name=tag)
    recent = contact(unique_phone(), name=tag)
    old = contact(unique_phone(), name=tag)
    query("UPDATE contacts SET last_inbound_at = now() - interval '1 hour' "
          "WHERE id = %s", (recent,))
    query("UPDATE contacts SET last_inbound_at = now() - interval '25 hours'"
          " WHERE id = %s", (old,))
    assert _ids(api, q=tag, window="open") == [recent]
    assert _ids(api, q=tag, window="closed") == [old, never]
    c = _get(api, old)
    assert c["window_expires_at"] == _plus_24h(c["last_inbound_at"])


def test_filters_stay_in_next(api, contact, assignee):
    tag = unique_token("keep")
    for _ in range(3):
        cid = contact(unique_phone(), name=tag)
        assert _patch(api, cid, {"assignee": assignee,
                                 "state": "resolved"}).status_code == 200
    body = _list(api, q=tag, state="resolved", assignee=assignee,
                 window="closed", limit=1)
    qs = parse_qs(urlsplit(body["next"]).query)
    assert qs["q"] == [tag] and qs["state"] == ["resolved"]
    assert qs["assignee"] == [assignee] and qs["window"] == ["closed"]


def test_empty_parameters_are_ignored(api, contact):
    cid = contact(unique_phone())
    r = api.get("/api/contacts/?q=&state=&assignee=&window=&before_id="
                "&limit=")
    assert r.status_code == 200, r.text
    assert cid in [c["id"] for c in r.json()["data"]]


def test_invalid_utf8_assignee_is_400(api):
    r = api.get("/api/contacts/?assignee=%C0%80")
    assert_error(r, 400, "invalid_parameter", "assignee")
    r = api.get("/api/contacts/?assignee=%FF")
    assert_error(r, 400, "invalid_parameter", "assignee")


@pytest.mark.parametrize("params,field", [
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "abc"}, "limit"),
    ({"before_id": "0"}, "before_id"),
    ({"before_id": "x"}, "before_id"),
    ({"before_id": "99999999999999999999"}, "before_id"),
    ({"state": "closed"}, "state"),
    ({"state": "OPEN"}, "state"),
    ({"window": "expired"}, "window"),
    ({"assignee": "a" * 201}, "assignee"),
    ({"assignee": "a\tb"}, "assignee"),
    ({"q": "ab"}, "q"),
    ({"q": "x" * 201}, "q"),
])
def test_bad_parameter_is_400(api, params, field):
    assert_error(api.get("/api/contacts/", params=params), 400,
                 "invalid_parameter", field)


# ------------------------------------------------------------ PATCH

def test_patch_state_and_assignee(api, contact, assignee):
    cid = contact(unique_phone(), name="Patchy")
    r = _patch(api, cid, {"state": "resolved", "assignee": assignee})
    assert r.status_code == 200, r.text
    c = r.json()
    assert set(c) == CONTACT_KEYS
    assert c["state"] == "resolved" and c["assignee"] == assignee
    assert _get(api, cid) == c
    # Each part alone leaves the other as it was.
    c = _patch(api, cid, {"state": "open"}).json()
    assert c["state"] == "open" and c["assignee"] == assignee
    c = _patch(api, cid, {"assignee": None}).json()
    assert c["state"] == "open" and c["assignee"] is None
    c = _patch(api, cid, {"unknown": 1, "name": "ignored"}).json()
    assert c["name"] == "Patchy"
    assert _patch(api, cid, {}).status_code == 200


@pytest.mark.parametrize("body,field", [
    ({"state": "closed"}, "state"),
    ({"state": "Resolved"}, "state"),
    ({"state": ""}, "state"),
    ({"state": None}, "state"),
    ({"state": 1}, "state"),
    ({"state": ["open"]}, "state"),
    ({"state": "open\u0000"}, "state"),
    ({"assignee": 5}, "assignee"),
    ({"assignee": True}, "assignee"),
    ({"assignee": {"name": "admin"}}, "assignee"),
    ({"assignee": ""}, "assignee"),
    ({"assignee": "a\nb"}, "assignee"),
    ({"assignee": "x" * 201}, "assignee"),
])
def test_patch_wrong_field_is_422(api, contact, body, field):
    cid = contact(unique_phone())
    assert_error(_patch(api, cid, body), 422, "validation_failed", field)
    assert _get(api, cid)["state"] == "open"


def test_patch_unknown_assignee_is_422_and_changes_nothing(api, contact):
    cid = contact(unique_phone())
    r = _patch(api, cid, {"state": "resolved",
                          "assignee": unique_token("ghost")})
    assert_error(r, 422, "validation_failed", "assignee")
    assert _get(api, cid)["state"] == "open"


def test_patch_unknown_contact_is_404(api, env):
    r = api.patch("/api/contacts/999999999999/",
                  json={"assignee": env["WADESK_ADMIN_USER"]})
    assert_error(r, 404, "not_found")
    assert_error(api.patch("/api/contacts/999999999999/",
                           json={"state": "open"}), 404, "not_found")


def test_patch_body_errors(api, anon, contact):
    cid = contact(unique_phone())
    url = "/api/contacts/%d/" % cid
    assert_error(api.patch(url, data=b"{", headers=JSON), 400,
                 "invalid_json")
    assert_error(api.patch(url, data=b"[]", headers=JSON), 400,
                 "invalid_json")
    assert_error(api.patch(url, data=b'{"state": "open"}',
                           headers={"Content-Type": "text/plain"}),
                 415, "unsupported_media_type")
    assert_error(anon.patch(url, json={"state": "resolved"}), 401,
                 "unauthorized")
    assert _get(api, cid)["state"] == "open"


# ------------------------------------------------------------ reopening

def test_inbound_message_reopens_a_resolved_contact(api, webhook, query):
    phone = unique_phone()
    assert webhook({"sender": phone, "content": "first"}).status_code == 200
    cid = query("SELECT id FROM contacts WHERE phone = %s", (phone,))[0][0]
    c = _patch(api, cid, {"state": "resolved"}).json()
    assert c["state"] == "resolved" and c["unread"] == 1
    assert _ids(api, q=phone, state="resolved") == [cid]
    r = webhook({"sender": phone[1:], "content": "one more thing"})
    assert r.status_code == 200, r.text
    c = _get(api, cid)
    assert c["state"] == "open" and c["unread"] == 2
    assert _ids(api, q=phone, state="open") == [cid]
    assert query("SELECT count(*) FROM contacts WHERE phone = %s",
                 (phone,))[0][0] == 1


# ------------------------------------------------------------ sending

def test_send_to_a_bsuid(api, send, contact):
    bsuid = unique_bsuid()
    cid = contact(None, bsuid, None, "kai.travels", "Kai")
    r = send({"sender": BUSINESS, "receiver": bsuid, "content": "hi Kai"})
    assert r.status_code == 201, r.text
    m = r.json()
    assert_message_shape(m)
    assert m["receiver"] == bsuid and m["contact_id"] == cid
    assert m["direction"] == "outbound" and m["type"] == "text"


def test_send_to_a_new_bsuid_makes_its_contact(api, send, query):
    bsuid = unique_bsuid()
    r = send({"sender": BUSINESS, "receiver": bsuid, "content": "hello"})
    assert r.status_code == 201, r.text
    cid = r.json()["contact_id"]
    assert _get(api, cid)["user_id"] == bsuid


@pytest.mark.parametrize("kind", ["phone", "bsuid", "both"])
def test_send_to_a_contact_id(api, send, contact, kind):
    phone, bsuid = unique_phone(), unique_bsuid()
    cid = contact(phone if kind != "bsuid" else None,
                  bsuid if kind != "phone" else None)
    r = send({"sender": BUSINESS, "contact_id": cid, "content": "by id"})
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["contact_id"] == cid
    # The phone when known, else the BSUID.
    assert m["receiver"] == (bsuid if kind == "bsuid" else phone)
    r = send({"sender": BUSINESS, "contact_id": str(cid), "content": "s"})
    assert r.status_code == 201, r.text


def test_send_to_an_unknown_contact_id_is_422(send, count_rows):
    before = count_rows("messages")
    r = send({"sender": BUSINESS, "contact_id": 999999999999,
              "content": "nobody"})
    assert_error(r, 422, "validation_failed", "contact_id")
    assert count_rows("messages") == before


def test_send_to_receiver_and_contact_id_is_422(send, contact):
    cid = contact(unique_phone())
    r = send({"sender": BUSINESS, "receiver": unique_phone(),
              "contact_id": cid, "content": "both"})
    assert_error(r, 422, "validation_failed", "contact_id")


# ------------------------------------------------------------ messages

def test_messages_contact_filters(api, send, webhook, contact):
    phone, bsuid = unique_phone(), unique_bsuid()
    by_phone = contact(phone)
    by_bsuid = contact(None, bsuid)
    a = send({"sender": BUSINESS, "receiver": phone, "content": "a"}).json()
    assert webhook({"sender": phone, "content": "b"}).status_code == 200
    c = send({"sender": BUSINESS, "receiver": bsuid, "content": "c"}).json()
    noise = send({"sender": BUSINESS, "receiver": unique_phone(),
                  "content": "noise"}).json()

    def ids(**params):
        r = api.get("/api/messages/", params=params)
        assert r.status_code == 200, r.text
        return [m["id"] for m in r.json()["data"]]

    got = ids(contact=phone)
    assert len(got) == 2 and got[-1] == a["id"] and noise["id"] not in got
    assert ids(contact=phone[1:]) == got
    assert ids(contact_id=by_phone) == got
    assert ids(contact=bsuid) == [c["id"]]
    assert ids(contact_id=by_bsuid) == [c["id"]]
    assert ids(contact_id=by_bsuid, direction="inbound") == []
    assert ids(contact=unique_bsuid()) == []
    assert ids(contact_id=999999999999) == []
    # The next link keeps contact_id.
    r = api.get("/api/messages/", params={"contact_id": by_phone,
                                          "limit": 1})
    qs = parse_qs(urlsplit(r.json()["next"]).query)
    assert qs["contact_id"] == [str(by_phone)]


@pytest.mark.parametrize("params,field", [
    ({"contact": "12"}, "contact"),
    ({"contact": "us.123"}, "contact"),
    ({"contact_id": "0"}, "contact_id"),
    ({"contact_id": "x"}, "contact_id"),
    ({"contact_id": "99999999999999999999"}, "contact_id"),
    ({"contact": "+4915112345678", "contact_id": "5"}, "contact_id"),
])
def test_messages_bad_contact_filter_is_400(api, params, field):
    assert_error(api.get("/api/messages/", params=params), 400,
                 "invalid_parameter", field)
