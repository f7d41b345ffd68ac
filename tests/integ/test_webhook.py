"""The WhatsApp webhook: verification (GET) and signed deliveries (POST)."""

import time
from datetime import datetime, timedelta, timezone

import pytest

from integ_support import (RFC3339_UTC, assert_error, json_bytes,
                           unique_phone, unique_token)

# The WhatsApp Cloud API payload shape ({"object", "entry"}): True expects
# 200 and a stored message from test_cloud_api_shape; False expects the 422
# that the app answered before the shape was implemented.
CLOUD_API_IMPLEMENTED = True


# ---------------------------------------------------------------- verification

def test_verify_echoes_the_challenge(anon, env):
    challenge = str(int(time.time() * 1000))
    r = anon.get("/api/webhook/", params={
        "hub.mode": "subscribe",
        "hub.verify_token": env["WADESK_VERIFY_TOKEN"],
        "hub.challenge": challenge})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text == challenge


def test_verify_answers_head(anon, env):
    r = anon.head("/api/webhook/", params={
        "hub.mode": "subscribe",
        "hub.verify_token": env["WADESK_VERIFY_TOKEN"],
        "hub.challenge": "77"})
    assert r.status_code == 200 and r.content == b""
    r = anon.head("/api/webhook/", params={
        "hub.mode": "subscribe", "hub.verify_token": "wrong",
        "hub.challenge": "77"})
    assert r.status_code == 403


def test_verify_without_trailing_slash(anon, env):
    r = anon.get("/api/webhook", params={
        "hub.mode": "subscribe",
        "hub.verify_token": env["WADESK_VERIFY_TOKEN"],
        "hub.challenge": "1158201444"})
    assert r.status_code == 200 and r.text == "1158201444"


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong",
     "hub.challenge": "42"},
    {"hub.mode": "subscribe", "hub.challenge": "42"},
    {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "42"},
    {},
], ids=["wrong-token", "no-token", "empty-token", "no-params"])
def test_verify_with_a_wrong_token_is_403(anon, params):
    r = anon.get("/api/webhook/", params=params)
    assert_error(r, 403, "forbidden")


def test_verify_needs_mode_subscribe(anon, env):
    r = anon.get("/api/webhook/", params={
        "hub.mode": "unsubscribe",
        "hub.verify_token": env["WADESK_VERIFY_TOKEN"], "hub.challenge": "42"})
    assert_error(r, 403, "forbidden")


def test_verify_with_a_token_prefix_is_403(anon, env):
    r = anon.get("/api/webhook/", params={
        "hub.mode": "subscribe",
        "hub.verify_token": env["WADESK_VERIFY_TOKEN"][:-1],
        "hub.challenge": "42"})
    assert_error(r, 403, "forbidden")


# ------------------------------------------------------------- simple shape

def test_simple_shape_stores_an_inbound_message(env, webhook, query):
    # The receiver is the business number (the local stack sets one), else
    # "Me".
    me = env.get("WADESK_BUSINESS_NUMBER") or "Me"
    sender = unique_phone()
    content = "Hi, I need help " + unique_token()
    r = webhook({"sender": sender.lstrip("+"), "content": content})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["message"] == "Webhook received asynchronously"
    data = body["data"]
    assert data["sender"] == sender
    assert data["receiver"] == me
    assert data["content"] == content
    assert RFC3339_UTC.match(data["timestamp"])
    ts = datetime.fromisoformat(data["timestamp"].replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - ts) < timedelta(minutes=5)
    rows = query("SELECT direction, sender, receiver, content, status "
                 "FROM messages WHERE sender = %s", (sender,))
    assert rows == [("inbound", sender, me, content, "received")]


def test_inbound_message_is_listed_by_the_api(webhook, api):
    sender = unique_phone()
    content = unique_token("listed-")
    assert webhook({"sender": sender, "content": content}).status_code == 200
    r = api.get("/api/messages/", params={"contact": sender,
                                          "direction": "inbound"})
    assert r.status_code == 200
    data = r.json()["data"]
    assert len(data) == 1 and data[0]["content"] == content
    assert data[0]["status"] == "received"


def test_redelivery_with_the_same_id_stores_one_message(webhook, query):
    sender = unique_phone()
    wamid = "wamid." + unique_token()
    payload = {"sender": sender, "content": "dup " + wamid, "id": wamid}
    first = webhook(payload)
    second = webhook(payload)
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert first.json()["data"] == second.json()["data"]
    rows = query("SELECT provider_message_id FROM messages WHERE sender = %s",
                 (sender,))
    assert rows == [(wamid,)]


def test_different_ids_store_different_messages(webhook, count_rows):
    sender = unique_phone()
    for i in range(2):
        r = webhook({"sender": sender, "content": "same text",
                     "id": "wamid." + unique_token()})
        assert r.status_code == 200, r.text
    assert count_rows("messages", "sender = %s", (sender,)) == 2


def test_without_id_every_delivery_is_stored(webhook, count_rows):
    sender = unique_phone()
    for _ in range(2):
        assert webhook({"sender": sender, "content": "again"}) \
            .status_code == 200
    assert count_rows("messages", "sender = %s", (sender,)) == 2


def test_numeric_id_is_accepted(webhook, query):
    sender = unique_phone()
    r = webhook({"sender": sender, "content": "numeric id",
                 "id": int(sender[1:])})
    assert r.status_code == 200, r.text
    assert query("SELECT provider_message_id FROM messages WHERE sender = %s",
                 (sender,)) == [(sender[1:],)]


def _cloud_payload(sender, wamid, text):
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881",
                                 "phone_number_id": "106540352242922"},
                    "contacts": [{"profile": {"name": "Sheena Nelson"},
                                  "wa_id": sender}],
                    "messages": [{"from": sender, "id": wamid,
                                  "timestamp": "1749416383",
                                  "type": "text", "text": {"body": text}}],
                },
            }],
        }],
    }


def test_cloud_api_shape(webhook, query):
    # See CLOUD_API_IMPLEMENTED above.
    sender = unique_phone()[1:]
    wamid = "wamid." + unique_token()
    payload = _cloud_payload(sender, wamid, "Does it come in another color?")
    r = webhook(payload)
    sql = ("SELECT sender, receiver, content, contact_name, direction, "
           "status, extract(epoch FROM created_at)::bigint FROM messages "
           "WHERE provider_message_id = %s")
    rows = query(sql, (wamid,))
    if CLOUD_API_IMPLEMENTED:
        assert r.status_code == 200, r.text
        # The message's own time, not the arrival time; the receiver is the
        # business number from metadata.
        assert rows == [("+" + sender, "+15550783881",
                         "Does it come in another color?", "Sheena Nelson",
                         "inbound", "received", 1749416383)]
        # WhatsApp re-delivers: still one message.
        again = webhook(payload)
        assert again.status_code == 200, again.text
        assert len(query(sql, (wamid,))) == 1
    else:
        assert_error(r, 422, "validation_failed")
        assert rows == []


@pytest.mark.parametrize("payload", [
    {"foo": "bar"},
    {},
    {"message": {"from": "15551234567", "body": "hi"}},
], ids=["foo", "empty-object", "nested"])
def test_unknown_shape_is_422(webhook, count_rows, payload):
    before = count_rows("messages")
    assert_error(webhook(payload), 422, "validation_failed")
    assert count_rows("messages") == before


@pytest.mark.parametrize("payload,field", [
    ({"sender": "12", "content": "short number"}, "sender"),
    ({"sender": "+0123456789", "content": "leading zero"}, "sender"),
    ({"sender": 15551234567, "content": "number type"}, "sender"),
    ({"content": "no sender"}, "sender"),
    ({"sender": "+15551234567"}, "content"),
    ({"sender": "+15551234567", "content": ""}, "content"),
    ({"sender": "+15551234567", "content": 7}, "content"),
    ({"sender": "+15551234567", "content": "x" * 4097}, "content"),
    ({"sender": "+15551234567", "content": "a\u0000b"}, "content"),
    ({"sender": "+15551234567", "content": "bad id", "id": ""}, "id"),
    ({"sender": "+15551234567", "content": "bad id", "id": ["x"]}, "id"),
])
def test_invalid_simple_payload_is_422(webhook, count_rows, payload, field):
    before = count_rows("messages")
    assert_error(webhook(payload), 422, "validation_failed", field)
    assert count_rows("messages") == before


def test_signed_invalid_json_is_400(webhook, count_rows):
    before = count_rows("messages")
    assert_error(webhook(b'{"sender": "+15551234567", "content": '), 400,
                 "invalid_json")
    assert count_rows("messages") == before


def test_signed_empty_body_is_400(webhook):
    assert_error(webhook(b""), 400, "invalid_json")


def test_unsigned_invalid_json_is_401(webhook):
    r = webhook(b'{"sender": ', signed=False)
    assert_error(r, 401, "unauthorized")


def test_signed_body_with_wrong_content_type_is_415(webhook, count_rows):
    sender = unique_phone()
    r = webhook(json_bytes({"sender": sender, "content": "plain"}),
                headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")
    assert count_rows("messages", "sender = %s", (sender,)) == 0
