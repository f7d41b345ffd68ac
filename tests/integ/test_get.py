"""GET /api/messages/{id}/: one message with its status history."""

import json

import pytest

from integ_support import (RFC3339_UTC, assert_error, assert_message_shape,
                           unique_phone, unique_token)


@pytest.fixture
def message(send):
    r = send({"sender": unique_phone(), "receiver": unique_phone(),
              "content": unique_token("get-")})
    assert r.status_code == 201, r.text
    return r.json()


def test_get_returns_the_message_with_its_queued_event(api, message):
    r = api.get("/api/messages/%d/" % message["id"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    got = r.json()
    assert_message_shape(got)
    # (A running dispatcher may already have moved status and provider id.)
    for key in ("id", "direction", "sender", "receiver", "content",
                "timestamp", "contact_name"):
        assert got[key] == message[key], key
    assert isinstance(got["events"], list) and got["events"]
    first = got["events"][0]
    assert set(first) >= {"status", "timestamp", "detail"}
    assert first["status"] == "queued"
    assert RFC3339_UTC.match(first["timestamp"])
    assert first["detail"] is None


@pytest.mark.parametrize("suffix", ["", "/"])
def test_get_with_and_without_trailing_slash(api, message, suffix):
    r = api.get("/api/messages/%d%s" % (message["id"], suffix))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == message["id"]


def test_head_answers_like_get_without_a_body(api, message):
    r = api.head("/api/messages/%d/" % message["id"])
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.content == b""


def test_events_are_oldest_first_with_detail(api, query):
    # A failed outbound message written straight into the tables (no outbox
    # row, so no dispatcher touches it).
    wamid = "wamid." + unique_token()
    mid = query(
        "INSERT INTO messages (direction, sender, receiver, content, status, "
        "provider_message_id, error_code, error_message) VALUES ('outbound', "
        "%s, %s, 'history', 'failed', %s, '131026', 'Message undeliverable') "
        "RETURNING id", (unique_phone(), unique_phone(), wamid))[0][0]
    detail = {"errors": [{"code": 131026, "title": "undeliverable"}]}
    # "queued" is the message row itself; the table holds what followed.
    query("INSERT INTO message_events (message_id, status, detail, "
          "created_at) VALUES (%s, 'sent', NULL, now() + interval '1 s'), "
          "(%s, 'failed', %s::jsonb, now() + interval '2 s')",
          (mid, mid, json.dumps(detail)))
    got = api.get("/api/messages/%d/" % mid).json()
    assert [e["status"] for e in got["events"]] == ["queued", "sent",
                                                    "failed"]
    stamps = [e["timestamp"] for e in got["events"]]
    assert all(RFC3339_UTC.match(t) for t in stamps)
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert got["events"][0]["detail"] is None
    assert got["events"][2]["detail"] == detail
    assert got["status"] == "failed"
    assert got["provider_message_id"] == wamid
    assert got["error"] == {"code": "131026",
                            "message": "Message undeliverable"}


def test_inbound_message_has_a_received_event(api, webhook, query):
    sender = unique_phone()
    r = webhook({"sender": sender, "content": unique_token("in-")})
    assert r.status_code == 200, r.text
    mid = query("SELECT id FROM messages WHERE sender = %s", (sender,))[0][0]
    got = api.get("/api/messages/%d" % mid).json()
    assert got["direction"] == "inbound" and got["status"] == "received"
    assert [e["status"] for e in got["events"]] == ["received"]


def test_unknown_id_is_404(api, query):
    top = query("SELECT coalesce(max(id), 0) FROM messages")[0][0]
    assert_error(api.get("/api/messages/%d/" % (top + 1000000)), 404,
                 "not_found")


@pytest.mark.parametrize("ident", [
    "0", "abc", "-1", "1.5", "999999999999999999", "99999999999999999999999",
])
def test_bad_or_absent_ids_are_404(api, ident):
    assert_error(api.get("/api/messages/%s/" % ident), 404, "not_found")
