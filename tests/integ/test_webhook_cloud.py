"""POST /api/webhook/ with the WhatsApp Cloud API shape, signed, through nginx:
batches of entries, changes, messages of every type, and statuses for
outbound messages (WHATSAPP.md)."""

import secrets
import time
from datetime import datetime, timezone

import pytest

from fake_cloudapi import (DISPLAY_NUMBER, PHONE_NUMBER_ID, WABA_ID,
                           WebhookPoster, encode, failed_error, sign,
                           status_item, status_payload)
from integ_support import assert_error, json_bytes, unique_phone


@pytest.fixture(scope="module")
def hook(env, base_url):
    p = WebhookPoster(base_url, env["WADESK_APP_SECRET"])
    yield p
    p.close()


# ------------------------------------------------------------ payload pieces

def wamid():
    return "wamid.HBgL" + secrets.token_hex(14).upper()


def wa_number():
    """A unique WhatsApp number as WhatsApp writes it: digits, no '+'."""
    return unique_phone()[1:]


def text_msg(frm, mid, body, ts="1767225600", **extra):
    m = {"from": frm, "id": mid, "timestamp": ts, "type": "text",
         "text": {"body": body}}
    m.update(extra)
    return m


def typed_msg(frm, mid, mtype, content, ts="1767225600"):
    m = {"from": frm, "id": mid, "timestamp": ts, "type": mtype}
    if content is not None:
        m[mtype] = content
    return m


def contact(wa_id, name=None, profile=True):
    c = {"wa_id": wa_id}
    if profile:
        c["profile"] = {"name": name} if name is not None else {}
    return c


def change(messages=None, contacts=None, statuses=None,
           display=DISPLAY_NUMBER, field="messages"):
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": display,
                          "phone_number_id": PHONE_NUMBER_ID}}
    if contacts is not None:
        value["contacts"] = contacts
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"field": field, "value": value}


def entry(*changes, waba=WABA_ID):
    return {"id": waba, "changes": list(changes)}


def payload(*entries, obj="whatsapp_business_account"):
    return {"object": obj, "entry": list(entries)}


# ------------------------------------------------------------------ checking

def _utc(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _stored(query, api, mid):
    """The message stored for WhatsApp id mid, as the API shows it, or
    None."""
    rows = query("SELECT id FROM messages WHERE provider_message_id = %s",
                 (mid,))
    if not rows:
        return None
    assert len(rows) == 1
    r = api.get("/api/messages/%d/" % rows[0][0])
    assert r.status_code == 200, r.text
    return r.json()


def _count(query, *mids):
    return query("SELECT count(*) FROM messages WHERE provider_message_id "
                 "= ANY(%s)", (list(mids),))[0][0]


def _ok(r):
    assert r.status_code == 200, "%d %s" % (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json")
    return r


def _assert_inbound(m, frm, receiver, content, unix_ts, name):
    assert m is not None, "message not stored"
    assert m["direction"] == "inbound"
    assert m["status"] == "received"
    assert m["sender"] == "+" + frm
    assert m["receiver"] == receiver
    assert m["content"] == content
    assert m["contact_name"] == name
    assert m["error"] is None
    assert _utc(m["timestamp"]) == datetime.fromtimestamp(unix_ts,
                                                          timezone.utc), m
    assert [e["status"] for e in m["events"]] == ["received"]


# ---------------------------------------------------------- inbound messages

def test_batch_of_entries_changes_and_messages_is_stored(hook, api, query):
    a, b, c, d = (wa_number() for _ in range(4))
    ida, idb, idc, idd = (wamid() for _ in range(4))
    other_display = "15550002222"
    body = payload(
        entry(change(messages=[text_msg(a, ida, "My order never arrived",
                                        ts="1767225600"),
                               text_msg(b, idb, "Where is my refund?",
                                        ts=1767225601)],
                     # contacts in another order than the messages
                     contacts=[contact(b, "Bruno Díaz"),
                               contact(a, "Ana Ruiz")]),
              change(messages=[text_msg(c, idc, "Olá! ¿Qué tal? 👋",
                                        ts="1767225602")],
                     contacts=[contact(c, "Chloé")])),
        entry(change(messages=[text_msg(d, idd, "second entry",
                                        ts=1767225603)],
                     contacts=[contact(d, "Dana 🌸")],
                     display=other_display)))
    _ok(hook.post(body))
    _assert_inbound(_stored(query, api, ida), a, "+" + DISPLAY_NUMBER,
                    "My order never arrived", 1767225600, "Ana Ruiz")
    _assert_inbound(_stored(query, api, idb), b, "+" + DISPLAY_NUMBER,
                    "Where is my refund?", 1767225601, "Bruno Díaz")
    _assert_inbound(_stored(query, api, idc), c, "+" + DISPLAY_NUMBER,
                    "Olá! ¿Qué tal? 👋", 1767225602, "Chloé")
    _assert_inbound(_stored(query, api, idd), d, "+" + other_display,
                    "second entry", 1767225603, "Dana 🌸")


@pytest.mark.parametrize("ts", ["1767312000", 1767312000],
                         ids=["string", "number"])
def test_timestamp_is_the_messages_time(hook, api, query, ts):
    frm, mid = wa_number(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(frm, mid, "timed", ts=ts)],
        contacts=[contact(frm, "T")])))))
    m = _stored(query, api, mid)
    assert m["timestamp"].startswith("2026-01-02T00:00:00"), m["timestamp"]
    assert m["timestamp"].endswith("Z")
    assert _utc(m["timestamp"]) == datetime(2026, 1, 2, tzinfo=timezone.utc)


def test_raw_utf8_body_is_accepted_too(hook, api, query, env):
    """WhatsApp escapes non-ASCII, but the signature covers whatever bytes
    arrive: raw UTF-8 works as well."""
    frm, mid = wa_number(), wamid()
    raw = json_bytes(payload(entry(change(
        messages=[text_msg(frm, mid, "Grüße 🙂")],
        contacts=[contact(frm, "Jörg")]))))
    assert b"\\u" not in raw
    _ok(hook.post(raw))
    m = _stored(query, api, mid)
    assert m["content"] == "Grüße 🙂" and m["contact_name"] == "Jörg"


def test_redelivery_stores_nothing_new(hook, api, query):
    a, b = wa_number(), wa_number()
    ida, idb = wamid(), wamid()
    body = encode(payload(entry(change(
        messages=[text_msg(a, ida, "first"), text_msg(b, idb, "second")],
        contacts=[contact(a, "A"), contact(b, "B")]))))
    _ok(hook.post(body))
    before = {i: _stored(query, api, i) for i in (ida, idb)}
    n_events = query("SELECT count(*) FROM message_events WHERE message_id "
                     "= ANY(%s)", ([m["id"] for m in before.values()],))[0][0]
    for _ in range(2):
        _ok(hook.post(body))
    assert _count(query, ida) == 1 and _count(query, idb) == 1
    after = {i: _stored(query, api, i) for i in (ida, idb)}
    for i in (ida, idb):
        assert after[i]["id"] == before[i]["id"]
        assert after[i]["content"] == before[i]["content"]
    assert query("SELECT count(*) FROM message_events WHERE message_id "
                 "= ANY(%s)", ([m["id"] for m in before.values()],))[0][0] \
        == n_events
    # A later batch repeating one known message and carrying a new one.
    c, idc = wa_number(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(a, ida, "first"), text_msg(c, idc, "third")])))))
    assert _count(query, ida) == 1
    assert _stored(query, api, idc)["content"] == "third"


@pytest.mark.parametrize("mtype,content,expected", [
    ("image", {"caption": "Receipt", "mime_type": "image/jpeg",
               "sha256": "aGVsbG8=", "id": "1234567890"}, "[image] Receipt"),
    ("image", {"mime_type": "image/jpeg", "sha256": "aGVsbG8=",
               "id": "1234567891"}, "[image]"),
    ("reaction", {"message_id": "wamid.HBgLREACTED", "emoji": "👍"},
     "[reaction] 👍"),
    ("location", {"latitude": 52.52, "longitude": 13.405,
                  "name": "Main St 5", "address": "Main St 5, Berlin"},
     "[location] Main St 5"),
    ("sticker", {"mime_type": "image/webp", "sha256": "aGk=",
                 "id": "1234567892", "animated": False}, "[sticker]"),
    ("audio", {"mime_type": "audio/ogg; codecs=opus", "sha256": "aGk=",
               "id": "1234567893", "voice": True}, "[audio]"),
    ("video", {"caption": "Unboxing", "mime_type": "video/mp4",
               "sha256": "aGk=", "id": "1234567894"}, "[video] Unboxing"),
    ("interactive", {"type": "button_reply",
                     "button_reply": {"id": "yes-1", "title": "Yes"}},
     "[interactive] Yes"),
    ("foo", {"bar": 1}, "[foo]"),
    ("unsupported", None, "[unsupported] Message type unknown"),
], ids=["image-caption", "image-bare", "reaction", "location", "sticker",
        "audio", "video-caption", "interactive", "unknown-foo",
        "unsupported"])
def test_non_text_types_get_readable_content(hook, api, query, mtype,
                                             content, expected):
    frm, mid = wa_number(), wamid()
    item = typed_msg(frm, mid, mtype, content)
    if mtype == "unsupported":
        item["errors"] = [{"code": 131051, "title": "Message type unknown",
                           "message": "Message type unknown"}]
    _ok(hook.post(payload(entry(change(
        messages=[item], contacts=[contact(frm, "Typer")])))))
    m = _stored(query, api, mid)
    assert m is not None, "a %s message was not stored" % mtype
    assert m["content"] == expected
    assert m["direction"] == "inbound" and m["status"] == "received"
    assert m["sender"] == "+" + frm and m["contact_name"] == "Typer"
    # An unknown type is kept as "unsupported", with the item as it came.
    assert m["type"] == ("unsupported" if mtype == "foo" else mtype)
    raw = query("SELECT raw FROM messages WHERE id = %s", (m["id"],))[0][0]
    assert raw == item


def test_missing_contacts_or_profile_is_fine(hook, api, query):
    a, b, c = wa_number(), wa_number(), wa_number()
    ida, idb, idc = wamid(), wamid(), wamid()
    _ok(hook.post(payload(entry(
        change(messages=[text_msg(a, ida, "no contacts at all")]),
        change(messages=[text_msg(b, idb, "contact without profile")],
               contacts=[contact(b, profile=False)]),
        change(messages=[text_msg(c, idc, "profile without name")],
               contacts=[contact(c)])))))
    for mid, frm, text in ((ida, a, "no contacts at all"),
                           (idb, b, "contact without profile"),
                           (idc, c, "profile without name")):
        m = _stored(query, api, mid)
        assert m is not None, text
        assert m["content"] == text and m["sender"] == "+" + frm
        assert m["contact_name"] is None


@pytest.mark.parametrize("bad_from", [None, "", "not-a-number", "+"],
                         ids=["missing", "empty", "letters", "plus-only"])
def test_message_without_a_usable_sender_is_skipped(hook, api, query,
                                                    bad_from):
    a, c = wa_number(), wa_number()
    ida, idb, idc = wamid(), wamid(), wamid()
    bad = text_msg("x", idb, "who sent this?")
    if bad_from is None:
        del bad["from"]
    else:
        bad["from"] = bad_from
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(a, ida, "before"), bad,
                  text_msg(c, idc, "after")],
        contacts=[contact(a, "A"), contact(c, "C")])))))
    assert _stored(query, api, ida)["content"] == "before"
    assert _stored(query, api, idc)["content"] == "after"
    assert _count(query, idb) == 0


def test_change_whose_field_is_not_messages_is_ignored(hook, api, query):
    a, b = wa_number(), wa_number()
    ignored, kept = wamid(), wamid()
    _ok(hook.post(payload(entry(
        change(messages=[text_msg(a, ignored, "not a message change")],
               field="account_update"),
        change(messages=[text_msg(b, kept, "a message change")])))))
    assert _count(query, ignored) == 0
    assert _stored(query, api, kept)["content"] == "a message change"
    # A batch with only other fields is acknowledged too.
    _ok(hook.post(payload(entry({"field": "message_template_status_update",
                                 "value": {"event": "APPROVED",
                                           "message_template_id": 1}}))))


def test_messages_and_statuses_in_one_payload(hook, api, query, send):
    mid, pid = _outbound_sent(api, send, query)
    frm, inid = wa_number(), wamid()
    ch = change(messages=[text_msg(frm, inid, "and a reply")],
                contacts=[contact(frm, "R")],
                statuses=[status_item(pid, "delivered")])
    _ok(hook.post(payload(entry(ch))))
    assert _stored(query, api, inid)["content"] == "and a reply"
    assert api.get("/api/messages/%d/" % mid).json()["status"] == \
        "delivered"


@pytest.mark.parametrize("obj", ["page", "instagram", "", None],
                         ids=["page", "instagram", "empty", "missing"])
def test_object_other_than_whatsapp_business_account_is_422(hook, query,
                                                            obj):
    frm, mid = wa_number(), wamid()
    body = payload(entry(change(messages=[text_msg(frm, mid, "hi")])),
                   obj=obj)
    if obj is None:
        del body["object"]
    assert_error(hook.post(body), 422, "validation_failed")
    assert _count(query, mid) == 0


def _bad_signature_cases(secret, body):
    good = sign(secret, body)
    return {
        "missing": None,
        "wrong-secret": sign(secret + "x", body),
        "other-body": sign(secret, body + b" "),
        "no-prefix": good[len("sha256="):],
        "sha1-prefix": "sha1=" + good[len("sha256="):],
        "truncated": good[:-2],
        "empty": "",
    }


@pytest.mark.parametrize("case", ["missing", "wrong-secret", "other-body",
                                  "no-prefix", "sha1-prefix", "truncated",
                                  "empty"])
def test_bad_signature_is_401_and_stores_nothing(hook, env, anon, query,
                                                 case):
    frm, mid = wa_number(), wamid()
    body = encode(payload(entry(change(
        messages=[text_msg(frm, mid, "forged")],
        contacts=[contact(frm, "Mallory")]))))
    sig = _bad_signature_cases(env["WADESK_APP_SECRET"], body)[case]
    headers = {"Content-Type": "application/json"}
    if sig is not None:
        headers["X-Hub-Signature-256"] = sig
    r = anon.post("/api/webhook/", data=body, headers=headers)
    assert_error(r, 401, "unauthorized")
    assert _count(query, mid) == 0


def test_signature_over_the_exact_bytes(hook, env, anon, query):
    """Signed as sent (escaped), but delivered re-serialised (raw UTF-8):
    the bytes differ, so the signature does not match."""
    frm, mid = wa_number(), wamid()
    obj = payload(entry(change(messages=[text_msg(frm, mid, "Grüße")])))
    sig = sign(env["WADESK_APP_SECRET"], encode(obj))
    r = anon.post("/api/webhook/", data=json_bytes(obj), headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sig})
    assert_error(r, 401, "unauthorized")
    assert _count(query, mid) == 0


# ------------------------------------------------------------------ statuses

def _outbound_sent(api, send, query, tries=5):
    """An outbound message created through the API, standing at 'sent' with
    a WhatsApp id of our own (set in the database), out of the simulated
    provider's reach.  Returns (message id, provider message id)."""
    for _ in range(tries):
        r = send({"sender": unique_phone(), "receiver": unique_phone(),
                  "content": "status target " + secrets.token_hex(4)})
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        pid = wamid()
        # Take it off the outbox before the dispatcher sends it ...
        if query("WITH d AS (DELETE FROM outbox WHERE message_id = %s "
                 "RETURNING message_id) UPDATE messages SET status = 'sent',"
                 " provider_message_id = %s, updated_at = now() FROM d "
                 "WHERE messages.id = d.message_id RETURNING 1",
                 (mid, pid)):
            query("INSERT INTO message_events (message_id, status) "
                  "VALUES (%s, 'sent')", (mid,))
            return mid, pid
        # ... or, if it was quicker, catch it at 'sent' and swap its id.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if query("UPDATE messages SET provider_message_id = %s WHERE "
                     "id = %s AND status = 'sent' AND provider_message_id "
                     "LIKE 'sim.%%' RETURNING 1", (pid, mid)):
                return mid, pid
            if query("SELECT status FROM messages WHERE id = %s",
                     (mid,))[0][0] not in ("queued", "sent"):
                break
            time.sleep(0.01)
    pytest.fail("could not get an outbound message to 'sent'")


def _msg(api, mid):
    r = api.get("/api/messages/%d/" % mid)
    assert r.status_code == 200, r.text
    return r.json()


def _new_events(m, before):
    return [e["status"] for e in m["events"][before:]]


def test_statuses_move_an_outbound_message_forward(hook, api, send, query):
    mid, pid = _outbound_sent(api, send, query)
    m = _msg(api, mid)
    assert m["status"] == "sent" and m["provider_message_id"] == pid
    n = len(m["events"])
    hook.statuses(status_item(pid, "delivered"))
    m = _msg(api, mid)
    assert m["status"] == "delivered"
    hook.statuses(status_item(pid, "read"))
    m = _msg(api, mid)
    assert m["status"] == "read"
    assert m["error"] is None
    assert _new_events(m, n) == ["delivered", "read"]


def test_statuses_out_of_order_and_duplicated(hook, api, send, query):
    mid, pid = _outbound_sent(api, send, query)
    n = len(_msg(api, mid)["events"])
    # read before delivered, duplicates, and a late sent: one webhook each.
    hook.each(status_item(pid, "read"), status_item(pid, "delivered"),
              status_item(pid, "read"), status_item(pid, "sent"))
    m = _msg(api, mid)
    assert m["status"] == "read"
    assert _new_events(m, n) == ["read", "delivered", "read", "sent"]
    # And all in one batch.
    hook.statuses(status_item(pid, "delivered"), status_item(pid, "delivered"))
    m = _msg(api, mid)
    assert m["status"] == "read"
    assert _new_events(m, n)[-2:] == ["delivered", "delivered"]


def test_failed_after_read_is_an_event_only(hook, api, send, query):
    mid, pid = _outbound_sent(api, send, query)
    hook.statuses(status_item(pid, "read"))
    n = len(_msg(api, mid)["events"])
    hook.statuses(status_item(pid, "failed"))
    m = _msg(api, mid)
    assert m["status"] == "read"
    assert m["error"] is None
    assert _new_events(m, n) == ["failed"]
    detail = m["events"][-1]["detail"]
    assert detail and detail["errors"][0]["code"] == 131047, detail


def test_failed_on_a_sent_message_fails_it_with_the_error(hook, api, send,
                                                        query):
    mid, pid = _outbound_sent(api, send, query)
    n = len(_msg(api, mid)["events"])
    hook.statuses(status_item(pid, "failed", errors=[failed_error(
        131047, "Re-engagement message")]))
    m = _msg(api, mid)
    assert m["status"] == "failed"
    assert m["error"]["code"] == "131047", m["error"]
    assert "Re-engagement message" in m["error"]["message"], m["error"]
    assert _new_events(m, n) == ["failed"]
    assert m["events"][-1]["detail"]["errors"][0]["code"] == 131047
    # failed is final.
    hook.each(status_item(pid, "delivered"), status_item(pid, "read"))
    m = _msg(api, mid)
    assert m["status"] == "failed"
    assert m["error"]["code"] == "131047"
    assert _new_events(m, n) == ["failed", "delivered", "read"]


def test_failed_with_another_code(hook, api, send, query):
    mid, pid = _outbound_sent(api, send, query)
    hook.statuses(status_item(pid, "failed", errors=[failed_error(
        131026, "Message undeliverable", "Receiver is incapable of "
        "receiving this message")]))
    m = _msg(api, mid)
    assert m["status"] == "failed"
    assert m["error"]["code"] == "131026"
    assert "Message undeliverable" in m["error"]["message"]


def test_status_for_an_unknown_id_is_answered_200(hook, api, query):
    pid = wamid()
    r = hook.statuses(status_item(pid, "delivered"),
                      status_item(pid, "read"))
    assert r.status_code == 200
    assert _count(query, pid) == 0


def test_unusable_status_items_do_not_reject_the_batch(hook, api, send,
                                                      query):
    mid, pid = _outbound_sent(api, send, query)
    no_id = status_item(pid, "delivered")
    del no_id["id"]
    odd = status_item(pid, "deleted")
    _ok(hook.post(status_payload([no_id, odd,
                                  status_item(pid, "delivered")])))
    m = _msg(api, mid)
    assert m["status"] == "delivered"
    assert "deleted" not in [e["status"] for e in m["events"]]


# ------------------------------------------- what PostgreSQL would refuse

# WhatsApp's error texts are often localised, and may be long: a title of
# 240 bytes and details of 600, all multi-byte, do not fit the 511 bytes of
# a message's error and used to be cut inside a character.  "\u0000" is
# legal JSON that PostgreSQL refuses in jsonb (the event's detail).
ODD_ERRORS = {
    "multibyte": ("\u20ac" * 80, "\u00fc" * 300),
    "nul": ("Nachricht\u0000 nicht zustellbar",
            "Empf\u00e4nger\u0000 kann sie nicht empfangen"),
}


@pytest.mark.parametrize("case", list(ODD_ERRORS))
def test_failed_status_with_an_odd_error_text_is_stored(hook, api, send,
                                                        query, case):
    """The status is applied and the error kept, readable: cut on a
    character boundary, NUL dropped, in the message's error and in the
    event's detail; a parked status (unknown id) with the same error too."""
    title, details = ODD_ERRORS[case]
    err = failed_error(131026, title, details)
    mid, pid = _outbound_sent(api, send, query)
    unknown = wamid()
    try:
        hook.statuses(status_item(pid, "failed", errors=[err]),
                      status_item(unknown, "failed", errors=[err]))
        m = _msg(api, mid)
        assert m["status"] == "failed", m
        assert m["error"]["code"] == "131026", m["error"]
        text = m["error"]["message"]
        if case == "nul":
            assert text == "Nachricht nicht zustellbar: Empf\u00e4nger " \
                "kann sie nicht empfangen", text
        else:
            # The title cut to 200 bytes (66 whole characters), then as
            # many whole characters of the details as fit.
            assert text.startswith("\u20ac" * 66 + ": \u00fc"), text
            assert set(text[68:]) == {"\u00fc"}, text
            assert 400 < len(text.encode("utf-8")) < 512, len(text)
        got = m["events"][-1]["detail"]["errors"][0]
        assert got["title"] == title.replace("\u0000", ""), got
        assert got["error_data"]["details"] == \
            details.replace("\u0000", ""), got
        parked = query("SELECT error_code, error_message, detail FROM "
                       "pending_statuses WHERE provider_message_id = %s",
                       (unknown,))
        assert len(parked) == 1 and parked[0][0] == "131026", parked
        assert parked[0][1] == text, parked
        assert parked[0][2]["errors"][0]["title"] == \
            title.replace("\u0000", "")
    finally:
        query("DELETE FROM pending_statuses WHERE provider_message_id = %s",
              (unknown,))


@pytest.fixture
def refused_content(query):
    """A message text the database refuses (a CHECK constraint added for
    the test, standing in for any item one cannot store: a constraint, a
    value PostgreSQL will not take)."""
    tag = secrets.token_hex(6)
    text = "refused by the database " + tag
    query("ALTER TABLE messages ADD CONSTRAINT test_refuse_%s CHECK "
          "(content <> %%s) NOT VALID" % tag, (text,))
    try:
        yield text
    finally:
        query("ALTER TABLE messages DROP CONSTRAINT test_refuse_%s" % tag)


def test_an_item_the_database_refuses_is_skipped_and_the_rest_commit(
        hook, api, query, refused_content):
    """One message of a batch cannot be stored: the others are, the answer
    is 200 (WhatsApp would re-deliver a non-2xx for days, blocking the
    channel) with the refused item counted as skipped, and WhatsApp's
    re-delivery of the same batch stores nothing twice."""
    a, b, c = wa_number(), wa_number(), wa_number()
    ids = [wamid(), wamid(), wamid()]
    mid, pid = ids[1], wamid()
    body = payload(entry(
        change(messages=[text_msg(a, ids[0], "first"),
                         text_msg(b, ids[1], refused_content)],
               contacts=[contact(a, "Ana"), contact(b, "Bea")]),
        change(messages=[text_msg(c, ids[2], "third")],
               statuses=[status_item(pid, "delivered")])))
    for attempt in ("first delivery", "re-delivery"):
        r = _ok(hook.post(body))
        data = r.json()["data"]
        assert data["skipped"] == 1, (attempt, data)
        assert data["statuses"] == 1, (attempt, data)
        assert _count(query, ids[0]) == 1, attempt
        assert _count(query, ids[2]) == 1, attempt
        assert _count(query, mid) == 0, attempt
        assert _stored(query, api, ids[0])["content"] == "first"
        assert _stored(query, api, ids[2])["content"] == "third"
    query("DELETE FROM pending_statuses WHERE provider_message_id = %s",
          (pid,))
