"""POST /api/send-message/: a queued outbound message, committed with its
outbox row and its first event."""

from datetime import datetime, timedelta, timezone

import pytest

from integ_support import (assert_message_shape, json_bytes, unique_phone,
                           unique_token)


def _parse_ts(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_send_returns_201_with_the_queued_message(send):
    sender, receiver = unique_phone(), unique_phone()
    content = "Hello " + unique_token()
    r = send({"sender": sender, "receiver": receiver, "content": content})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    msg = r.json()
    assert_message_shape(msg)
    assert msg["direction"] == "outbound"
    assert msg["sender"] == sender
    assert msg["receiver"] == receiver
    assert msg["content"] == content
    assert msg["status"] == "queued"
    assert msg["provider_message_id"] is None
    assert msg["contact_name"] is None
    assert msg["error"] is None
    ts = _parse_ts(msg["timestamp"])
    assert abs(datetime.now(timezone.utc) - ts) < timedelta(minutes=5)


def test_send_commits_message_outbox_row_and_queued_event(send, query, api):
    sender, receiver = unique_phone(), unique_phone()
    content = unique_token("outbox-")
    r = send({"sender": sender, "receiver": receiver, "content": content})
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    # A 2xx answer to a write means the row is committed: visible at once.
    rows = query("SELECT direction, sender, receiver, content "
                 "FROM messages WHERE id = %s", (mid,))
    assert rows == [("outbound", sender, receiver, content)]
    events = [e["status"] for e in
              api.get("/api/messages/%d/" % mid).json()["events"]]
    assert events[0] == "queued"
    # The outbox row is there, unless a dispatcher has already taken it (then
    # the message has moved on from queued).
    outbox = query("SELECT count(*) FROM outbox WHERE message_id = %s",
                   (mid,))[0][0]
    status = query("SELECT status FROM messages WHERE id = %s", (mid,))[0][0]
    assert outbox == 1 or (outbox == 0 and status != "queued" and
                           len(events) > 1), (outbox, status, events)


@pytest.mark.parametrize("given,stored", [
    ("15551234567", "+15551234567"),
    ("+15551234567", "+15551234567"),
    ("1234567", "+1234567"),                    # 7 digits: the minimum
    ("123456789012345", "+123456789012345"),    # 15 digits: the maximum
])
def test_phone_numbers_are_normalised_to_e164(send, query, given, stored):
    content = unique_token("norm-")
    r = send({"sender": given, "receiver": given, "content": content})
    assert r.status_code == 201, r.text
    msg = r.json()
    assert msg["sender"] == stored and msg["receiver"] == stored
    assert query("SELECT sender, receiver FROM messages WHERE id = %s",
                 (msg["id"],)) == [(stored, stored)]


def test_ids_grow_with_creation_order(send):
    sender, receiver = unique_phone(), unique_phone()
    ids = []
    for i in range(3):
        r = send({"sender": sender, "receiver": receiver,
                  "content": "order %d" % i})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_unknown_fields_are_ignored(send, query):
    content = unique_token("extra-")
    r = send({"sender": unique_phone(), "receiver": unique_phone(),
              "content": content, "status": "read", "id": 1,
              "direction": "inbound", "priority": {"x": [1, 2]}})
    assert r.status_code == 201, r.text
    msg = r.json()
    assert msg["status"] == "queued" and msg["direction"] == "outbound"
    # The dispatcher may already have moved it on; never to "read" at once
    # because of the client's field, and never inbound.
    rows = query("SELECT status, direction FROM messages WHERE content = %s",
                 (content,))
    assert len(rows) == 1 and rows[0][1] == "outbound"
    assert rows[0][0] in ("queued", "sent", "delivered", "read")


@pytest.mark.parametrize("ctype", [
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "Application/JSON",
])
def test_json_content_type_variants_are_accepted(send, ctype):
    r = send({"sender": unique_phone(), "receiver": unique_phone(),
              "content": unique_token()}, headers={"Content-Type": ctype})
    assert r.status_code == 201, r.text


def test_unicode_content_round_trips(send, api):
    content = "Grüße 👋🏽 مرحبا 你好 " + unique_token()
    r = send({"sender": unique_phone(), "receiver": unique_phone(),
              "content": content})
    assert r.status_code == 201, r.text
    assert r.json()["content"] == content
    got = api.get("/api/messages/%d/" % r.json()["id"])
    assert got.status_code == 200
    assert got.json()["content"] == content


def test_escaped_surrogate_pair_is_decoded(send):
    """"\\ud83d\\ude00" in JSON is one character, U+1F600."""
    body = ('{"sender":"%s","receiver":"%s","content":"smile \\ud83d\\ude00"}'
            % (unique_phone(), unique_phone())).encode()
    r = send(body)
    assert r.status_code == 201, r.text
    assert r.json()["content"] == "smile \U0001F600"


def test_sent_message_is_readable_through_the_api(send, api):
    content = unique_token("readback-")
    r = send({"sender": unique_phone(), "receiver": unique_phone(),
              "content": content})
    assert r.status_code == 201, r.text
    created = r.json()
    got = api.get("/api/messages/%d" % created["id"])
    assert got.status_code == 200, got.text
    got = got.json()
    # (The dispatcher may have moved the status on already.)
    for key in ("id", "direction", "sender", "receiver", "content",
                "timestamp"):
        assert got[key] == created[key], key


def test_whitespace_around_the_json_object_is_fine(send):
    body = b"\r\n \t" + json_bytes({"sender": unique_phone(),
                                    "receiver": unique_phone(),
                                    "content": "padded"}) + b" \n"
    assert send(body).status_code == 201
