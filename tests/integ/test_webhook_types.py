"""POST /api/webhook/ (Cloud API shape) with what WhatsApp sends since 2026
(WHATSAPP.md): customers known by a BSUID, a phone number or both, every
message type stored as data with its raw item, replies, reactions on the
message reacted to, number and user id changes, errors on message items and
on the value, and the played and read-without-delivered statuses."""

import secrets
import time

import pytest

from fake_cloudapi import DISPLAY_NUMBER, WebhookPoster, status_item
from integ_support import unique_phone
from test_webhook_cloud import (_count, _msg, _ok, _outbound_sent, _stored,
                                change, contact, entry, payload, text_msg,
                                typed_msg, wa_number, wamid)


@pytest.fixture(scope="module")
def hook(env, base_url):
    p = WebhookPoster(base_url, env["WADESK_APP_SECRET"])
    yield p
    p.close()


# ------------------------------------------------------------ payload pieces

def bsuid(parent=False):
    """A business-scoped user id as WhatsApp writes it."""
    return "US." + ("ENT." if parent else "") + \
        str(secrets.randbelow(10 ** 19) + 10 ** 19)


def username():
    return "kai." + secrets.token_hex(4)


def user_contact(user_id, name=None, uname=None, wa_id=None, parent=None):
    """A contacts[] entry of a customer with a BSUID (and maybe a phone)."""
    profile = {}
    if name is not None:
        profile["name"] = name
    if uname is not None:
        profile["username"] = uname
    c = {"profile": profile, "user_id": user_id}
    if parent is not None:
        c["parent_user_id"] = parent
    if wa_id is not None:
        c["wa_id"] = wa_id
    return c


def user_msg(user_id, mid, body, ts="1767225600", frm=None, **extra):
    """A text message from a customer known by a BSUID (and maybe `from`)."""
    m = {"from_user_id": user_id, "id": mid, "timestamp": ts, "type": "text",
         "text": {"body": body}}
    if frm is not None:
        m["from"] = frm
    m.update(extra)
    return m


def reaction_msg(frm, mid, target, emoji, ts):
    r = {"message_id": target}
    if emoji is not None:
        r["emoji"] = emoji
    return typed_msg(frm, mid, "reaction", r, ts=str(ts))


def changed_number(old, new, mid, ts="1767225700", wa_id=True):
    s = {"type": "user_changed_number",
         "body": "User Ana changed from +%s to +%s" % (old, new)}
    if wa_id:
        s["wa_id"] = new
    return {"from": old, "id": mid, "timestamp": ts, "type": "system",
            "system": s}


def changed_user_id(old, new, mid, ts="1767225700"):
    return {"from_user_id": old, "id": mid, "timestamp": ts,
            "type": "system",
            "system": {"type": "user_changed_user_id",
                       "body": "User changed their user id",
                       "previous_user_id": old, "user_id": new}}


def contact_row(query, cid):
    rows = query("SELECT phone, user_id, parent_user_id, username, name "
                 "FROM contacts WHERE id = %s", (cid,))
    assert rows, "contact %s does not exist" % cid
    return dict(zip(("phone", "user_id", "parent_user_id", "username",
                     "name"), rows[0]))


def contacts_of(query, phone=None, user_id=None):
    return [r[0] for r in query(
        "SELECT id FROM contacts WHERE phone = %s OR user_id = %s",
        (phone, user_id))]


def now():
    return int(time.time())


# ----------------------------------------------------------------- identity

def test_bsuid_only_message_is_stored(hook, api, query):
    uid, parent, uname, mid = bsuid(), bsuid(parent=True), username(), wamid()
    r = _ok(hook.post(payload(entry(change(
        messages=[user_msg(uid, mid, "Hi")],
        contacts=[user_contact(uid, "Kai", uname, parent=parent)])))))
    assert r.json()["data"]["messages"] == 1
    m = _stored(query, api, mid)
    assert m is not None, "a message from a BSUID was not stored"
    assert m["sender"] == uid
    assert m["type"] == "text" and m["content"] == "Hi"
    assert m["contact_name"] == "Kai"
    assert isinstance(m["contact_id"], int)
    c = contact_row(query, m["contact_id"])
    assert c == {"phone": None, "user_id": uid, "parent_user_id": parent,
                 "username": uname, "name": "Kai"}


def test_same_customer_later_with_phone_and_bsuid_is_one_contact(hook, api,
                                                                  query):
    uid, uname, frm = bsuid(), username(), wa_number()
    first, second, third = wamid(), wamid(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[user_msg(uid, first, "only my user id")],
        contacts=[user_contact(uid, "Kai", uname)])))))
    cid = _stored(query, api, first)["contact_id"]
    _ok(hook.post(payload(entry(change(
        messages=[user_msg(uid, second, "now with my number", frm=frm)],
        contacts=[user_contact(uid, "Kai", uname, wa_id=frm)])))))
    m = _stored(query, api, second)
    assert m["contact_id"] == cid
    assert m["sender"] == "+" + frm
    c = contact_row(query, cid)
    assert c["phone"] == "+" + frm and c["user_id"] == uid
    assert contacts_of(query, "+" + frm, uid) == [cid]
    # The phone alone now finds the same contact too.
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(frm, third, "by phone only")])))))
    assert _stored(query, api, third)["contact_id"] == cid


def test_customer_known_by_phone_then_writing_with_bsuid(hook, api, send,
                                                         query):
    phone, uid = unique_phone(), bsuid()
    r = send({"sender": DISPLAY_NUMBER, "receiver": phone,
              "content": "Your order has shipped"})
    assert r.status_code == 201, r.text
    cid = r.json()["contact_id"]
    assert contact_row(query, cid)["phone"] == phone
    mid = wamid()
    _ok(hook.post(payload(entry(change(
        messages=[user_msg(uid, mid, "Thanks!", frm=phone[1:])],
        contacts=[user_contact(uid, "Lea", wa_id=phone[1:])])))))
    m = _stored(query, api, mid)
    assert m["contact_id"] == cid
    c = contact_row(query, cid)
    assert c["phone"] == phone and c["user_id"] == uid
    assert contacts_of(query, phone, uid) == [cid]


def test_bsuid_only_message_without_contacts_is_stored(hook, api, query):
    uid, mid = bsuid(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[user_msg(uid, mid, "no contacts entry")])))))
    m = _stored(query, api, mid)
    assert m["sender"] == uid and m["contact_name"] is None


def test_contacts_entry_matched_by_user_id_among_several(hook, api, query):
    u1, u2, p1 = bsuid(), bsuid(), wa_number()
    m1, m2 = wamid(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[user_msg(u1, m1, "one"), user_msg(u2, m2, "two")],
        contacts=[user_contact(u2, "Two", "two.x"),
                  user_contact(u1, "One", "one.x", wa_id=p1)])))))
    a, b = _stored(query, api, m1), _stored(query, api, m2)
    assert a["contact_name"] == "One" and a["sender"] == "+" + p1
    assert b["contact_name"] == "Two" and b["sender"] == u2
    assert contact_row(query, a["contact_id"])["username"] == "one.x"
    assert contact_row(query, b["contact_id"])["username"] == "two.x"


# ----------------------------------------------------- number and id changes

def test_user_changed_number_keeps_one_thread(hook, api, query):
    old, new = wa_number(), wa_number()
    first, sysid, after = wamid(), wamid(), wamid()
    before = payload(entry(change(
        messages=[text_msg(old, first, "before the change")],
        contacts=[contact(old, "Ana")])))
    _ok(hook.post(before))
    cid = _stored(query, api, first)["contact_id"]
    seen = query("SELECT wadesk_unread(id, read_upto),"
                 " wadesk_last_inbound(id, last_inbound_at) FROM contacts"
                 " WHERE id = %s",
                 (cid,))[0]
    assert seen[0] == 1 and seen[1] is not None
    _ok(hook.post(payload(entry(change(
        messages=[changed_number(old, new, sysid)])))))
    s = _stored(query, api, sysid)
    assert s["type"] == "system" and s["contact_id"] == cid
    assert s["content"].startswith("[system] User Ana changed from")
    assert contact_row(query, cid)["phone"] == "+" + new
    # WhatsApp's notice is no customer message: no unread, no new window.
    assert query("SELECT wadesk_unread(id, read_upto),"
                 " wadesk_last_inbound(id, last_inbound_at) FROM contacts"
                 " WHERE id = %s",
                 (cid,))[0] == seen
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(new, after, "from my new number")],
        contacts=[contact(new, "Ana")])))))
    assert _stored(query, api, after)["contact_id"] == cid
    assert contacts_of(query, "+" + old, None) == []
    # A late re-delivery from the old number leaves no contact behind.
    _ok(hook.post(before))
    assert contacts_of(query, "+" + old, None) == []
    assert _count(query, first) == 1


def test_user_changed_number_from_the_body(hook, api, query):
    old, new = wa_number(), wa_number()
    first, sysid = wamid(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(old, first, "hello")])))))
    cid = _stored(query, api, first)["contact_id"]
    _ok(hook.post(payload(entry(change(
        messages=[changed_number(old, new, sysid, wa_id=False)])))))
    assert contact_row(query, cid)["phone"] == "+" + new


def test_user_changed_number_merges_a_contact_the_new_number_had(hook, api,
                                                                 query):
    old, new = wa_number(), wa_number()
    a, b, sysid = wamid(), wamid(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(old, a, "old number"),
                  text_msg(new, b, "new number, first")])))))
    cid = _stored(query, api, a)["contact_id"]
    assert _stored(query, api, b)["contact_id"] != cid
    _ok(hook.post(payload(entry(change(
        messages=[changed_number(old, new, sysid)])))))
    assert _stored(query, api, b)["contact_id"] == cid
    assert contacts_of(query, "+" + new, None) == [cid]


def test_user_changed_user_id_keeps_one_thread(hook, api, query):
    old, new = bsuid(), bsuid()
    first, sysid, after = wamid(), wamid(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[user_msg(old, first, "before")],
        contacts=[user_contact(old, "Kai", "kai.x")])))))
    cid = _stored(query, api, first)["contact_id"]
    _ok(hook.post(payload(entry(change(
        messages=[changed_user_id(old, new, sysid)])))))
    s = _stored(query, api, sysid)
    assert s["type"] == "system" and s["contact_id"] == cid
    assert contact_row(query, cid)["user_id"] == new
    _ok(hook.post(payload(entry(change(
        messages=[user_msg(new, after, "after")],
        contacts=[user_contact(new, "Kai", "kai.x")])))))
    assert _stored(query, api, after)["contact_id"] == cid
    assert contacts_of(query, None, old) == []


# ------------------------------------------------------------------ replies

def test_reply_links_to_our_message(hook, api, send, query):
    ours, pid = _outbound_sent(api, send, query)
    frm, mid, other, unknown = wa_number(), wamid(), wamid(), wamid()
    _ok(hook.post(payload(entry(change(messages=[
        text_msg(frm, mid, "yes, that one",
                 context={"from": DISPLAY_NUMBER, "id": pid}),
        text_msg(frm, other, "and this?",
                 context={"from": DISPLAY_NUMBER, "id": unknown})])))))
    m = _stored(query, api, mid)
    assert m["reply_to"] == ours
    assert _stored(query, api, other)["reply_to"] is None


# ---------------------------------------------------------------- reactions

def test_reaction_its_replacement_and_removal(hook, api, send, query):
    target, pid = _outbound_sent(api, send, query)
    frm, t = wa_number(), now()
    r1, r2, r3 = wamid(), wamid(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[reaction_msg(frm, r1, pid, "👍", t)])))))
    m = _stored(query, api, r1)
    assert m["type"] == "reaction" and m["content"] == "[reaction] 👍"
    reactions = _msg(api, target)["reactions"]
    assert [(x["emoji"], x["direction"]) for x in reactions] == \
        [("👍", "inbound")]
    assert reactions[0]["timestamp"].endswith("Z")
    # A new reaction replaces the customer's previous one.
    _ok(hook.post(payload(entry(change(
        messages=[reaction_msg(frm, r2, pid, "❤️", t + 1)])))))
    assert [x["emoji"] for x in _msg(api, target)["reactions"]] == ["❤️"]
    # A removed reaction comes without an emoji and drops it.
    _ok(hook.post(payload(entry(change(
        messages=[reaction_msg(frm, r3, pid, None, t + 2)])))))
    assert _msg(api, target)["reactions"] == []
    m = _stored(query, api, r3)
    assert m["type"] == "reaction" and m["content"] == "[reaction] (removed)"


def test_reaction_arriving_late_does_not_replace_a_newer_one(hook, api,
                                                             query):
    frm, target, t = wa_number(), wamid(), now()
    late, newer = wamid(), wamid()
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(frm, target, "react to me")])))))
    _ok(hook.post(payload(entry(change(
        messages=[reaction_msg(frm, newer, target, "😂", t + 5),
                  reaction_msg(frm, late, target, "😮", t)])))))
    m = _stored(query, api, target)
    assert [x["emoji"] for x in m["reactions"]] == ["😂"]
    assert _count(query, late, newer) == 2


def test_empty_emoji_removes_and_unknown_target_is_fine(hook, api, query):
    frm, target, t = wa_number(), wamid(), now()
    r1, r2, r3 = wamid(), wamid(), wamid()
    _ok(hook.post(payload(entry(change(messages=[
        text_msg(frm, target, "hi"),
        reaction_msg(frm, r1, target, "🙏", t),
        reaction_msg(frm, r2, target, "", t + 1),
        reaction_msg(frm, r3, wamid(), "👍", t + 2)])))))
    assert _stored(query, api, target)["reactions"] == []
    assert _stored(query, api, r3)["type"] == "reaction"


# ------------------------------------------------------------ buttons, types

@pytest.mark.parametrize("mtype,content,expected", [
    ("interactive", {"type": "button_reply",
                     "button_reply": {"id": "yes-1", "title": "Yes, ship"}},
     "[interactive] Yes, ship"),
    ("interactive", {"type": "list_reply",
                     "list_reply": {"id": "row-2", "title": "Tomorrow",
                                    "description": "9-12"}},
     "[interactive] Tomorrow"),
    ("button", {"payload": "STOP_PROMO", "text": "Stop promotions"},
     "[button] Stop promotions"),
    ("order", {"catalog_id": "123", "text": "By noon please",
               "product_items": [
                   {"product_retailer_id": "sku-1", "quantity": 2,
                    "item_price": 9.5, "currency": "EUR"},
                   {"product_retailer_id": "sku-2", "quantity": 1,
                    "item_price": 3, "currency": "EUR"}]},
     "[order] 2 items: By noon please"),
    ("document", {"filename": "invoice.pdf", "mime_type": "application/pdf",
                  "sha256": "aGk=", "id": "1234567895"},
     "[document] invoice.pdf"),
    ("contacts", [{"name": {"formatted_name": "Bo Li", "first_name": "Bo"},
                   "phones": [{"phone": "+1 555 0100", "type": "CELL"}]}],
     "[contacts] Bo Li"),
], ids=["button-reply", "list-reply", "template-button", "order",
        "document", "contacts"])
def test_taps_and_types_show_what_they_carry(hook, api, query, mtype,
                                             content, expected):
    frm, mid, ours = wa_number(), wamid(), wamid()
    item = typed_msg(frm, mid, mtype, content)
    item["context"] = {"from": DISPLAY_NUMBER, "id": ours}
    _ok(hook.post(payload(entry(change(
        messages=[item], contacts=[contact(frm, "Tap")])))))
    m = _stored(query, api, mid)
    assert m["type"] == mtype and m["content"] == expected
    assert query("SELECT raw FROM messages WHERE id = %s",
                 (m["id"],))[0][0] == item


def test_referral_is_kept_in_the_raw_item(hook, api, query):
    frm, mid = wa_number(), wamid()
    referral = {"source_url": "https://fb.me/abc", "source_id": "1203",
                "source_type": "ad", "headline": "Spring sale",
                "body": "20% off", "media_type": "image",
                "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH"}
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(frm, mid, "Is this still on?",
                           referral=referral)])))))
    m = _stored(query, api, mid)
    raw = query("SELECT raw FROM messages WHERE id = %s", (m["id"],))[0][0]
    assert raw["referral"] == referral
    assert m["content"] == "Is this still on?"


def test_nul_and_long_content_are_stored_cleaned_and_cut(hook, api, query):
    frm, a, b = wa_number(), wamid(), wamid()
    _ok(hook.post(payload(entry(change(messages=[
        text_msg(frm, a, "é" * 5000),
        text_msg(frm, b, "nul\u0000here")])))))
    assert _stored(query, api, a)["content"] == "é" * 4096
    m = _stored(query, api, b)
    assert m["content"] == "nulhere"
    assert query("SELECT raw->'text'->>'body' FROM messages WHERE id = %s",
                 (m["id"],))[0][0] == "nulhere"


# ------------------------------------------------------------------- errors

def test_unsupported_message_keeps_its_errors(hook, api, query):
    frm, mid = wa_number(), wamid()
    item = {"from": frm, "id": mid, "timestamp": "1767225600",
            "type": "unsupported",
            "errors": [{"code": 131051, "title": "Message type unknown",
                        "message": "Message type unknown",
                        "error_data": {"details": "Message type is currently "
                                       "not supported."}}]}
    _ok(hook.post(payload(entry(change(
        messages=[item], contacts=[contact(frm, "Una")])))))
    m = _stored(query, api, mid)
    assert m["type"] == "unsupported"
    assert m["content"] == "[unsupported] Message type unknown"
    assert m["status"] == "received"
    assert m["error"] == {"code": "131051", "message": "Message type "
                          "unknown: Message type is currently not "
                          "supported."}


def test_value_errors_are_kept_and_nothing_rejected(hook, api, query,
                                                    log_dir):
    frm, mid = wa_number(), wamid()
    body = payload(entry(change(messages=[text_msg(frm, mid, "still here")])))
    value = body["entry"][0]["changes"][0]["value"]
    value["errors"] = [{"code": 131000, "title": "Something went wrong",
                        "message": "Something went wrong",
                        "error_data": {"details": "marker-" + mid},
                        "href": "https://developers.facebook.com/docs/"}]
    r = _ok(hook.post(body))
    assert r.json()["data"]["messages"] == 1
    assert _stored(query, api, mid)["content"] == "still here"
    # Only errors, no messages: acknowledged as well.
    _ok(hook.post(payload(entry({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER},
        "errors": [{"code": 131026, "title": "Message undeliverable"}]}}))))
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if any("marker-" + mid in p.read_text(errors="replace")
               for p in log_dir.glob("*.log")):
            break
        time.sleep(0.1)
    else:
        pytest.fail("value.errors[] not logged")


# ----------------------------------------------------------------- statuses

def test_played_moves_read_to_played(hook, api, send, query):
    mid, pid = _outbound_sent(api, send, query)
    hook.statuses(status_item(pid, "delivered"), status_item(pid, "read"))
    assert _msg(api, mid)["status"] == "read"
    hook.statuses(status_item(pid, "played"))
    m = _msg(api, mid)
    assert m["status"] == "played"
    # A late read or delivered does not move it back.
    hook.statuses(status_item(pid, "read"), status_item(pid, "delivered"))
    m = _msg(api, mid)
    assert m["status"] == "played"
    assert [e["status"] for e in m["events"]][-3:] == \
        ["played", "read", "delivered"]


def test_read_without_delivered(hook, api, send, query):
    mid, pid = _outbound_sent(api, send, query)
    hook.statuses(status_item(pid, "read"))
    m = _msg(api, mid)
    assert m["status"] == "read"
    assert "delivered" not in [e["status"] for e in m["events"]]
    hook.statuses(status_item(pid, "delivered"))
    m = _msg(api, mid)
    assert m["status"] == "read"
    assert [e["status"] for e in m["events"]][-2:] == ["read", "delivered"]


@pytest.mark.parametrize("recipient", ["recipient_id", "recipient_user_id",
                                       "neither"])
def test_status_matched_by_id_whatever_names_the_recipient(hook, api, send,
                                                           query, recipient):
    mid, pid = _outbound_sent(api, send, query)
    item = status_item(pid, "delivered")
    del item["recipient_id"]
    if recipient == "recipient_id":
        item["recipient_id"] = wa_number()
    elif recipient == "recipient_user_id":
        item["recipient_user_id"] = bsuid()
        item["recipient_parent_user_id"] = bsuid(parent=True)
    hook.statuses(item)
    assert _msg(api, mid)["status"] == "delivered"


def test_pricing_and_conversation_stay_in_the_event_detail(hook, api, send,
                                                           query):
    mid, pid = _outbound_sent(api, send, query)
    pricing = {"billable": False, "pricing_model": "PMP",
               "type": "free_entry_point", "category": "service"}
    conversation = {"id": "conv-" + secrets.token_hex(4),
                    "origin": {"type": "referral_conversion"},
                    "expiration_timestamp": str(now() + 86400)}
    item = status_item(pid, "delivered", billable=False)
    item["pricing"] = pricing
    item["conversation"] = conversation
    hook.statuses(item)
    ev = _msg(api, mid)["events"][-1]
    assert ev["status"] == "delivered"
    assert ev["detail"]["pricing"] == pricing
    assert ev["detail"]["conversation"] == conversation
    # pricing alone (v24.0 and later leave conversation out).
    item = status_item(pid, "read", billable=False)
    item["pricing"] = dict(pricing, type="regular")
    hook.statuses(item)
    ev = _msg(api, mid)["events"][-1]
    assert ev["status"] == "read"
    assert ev["detail"] == {"pricing": dict(pricing, type="regular")}


# -------------------------------------------------------------------- batch

def test_mixed_batch_and_its_redelivery(hook, api, send, query):
    """Everything above in one batch plus malformed items: the rest is
    stored, 200; the same batch again stores nothing twice, changes no
    contact and doubles no reaction."""
    ours, pid = _outbound_sent(api, send, query)
    played, ppid = _outbound_sent(api, send, query)
    uid, phone, old, new = bsuid(), wa_number(), wa_number(), wa_number()
    olduid, newuid = bsuid(), bsuid()
    t = now()
    # Customers that exist before the batch.
    pre = [wamid(), wamid()]
    _ok(hook.post(payload(entry(change(
        messages=[text_msg(old, pre[0], "old number"),
                  user_msg(olduid, pre[1], "old user id")])))))
    ids = {k: wamid() for k in ("bsuid", "both", "reply", "react", "button",
                                "template", "unsupported", "number",
                                "user_id", "bad")}
    messages = [
        user_msg(uid, ids["bsuid"], "user id only"),
        user_msg(uid, ids["both"], "with my number", frm=phone),
        text_msg(phone, ids["reply"], "replying",
                 context={"from": DISPLAY_NUMBER, "id": pid}),
        reaction_msg(phone, ids["react"], pid, "🎉", t),
        dict(typed_msg(phone, ids["button"], "interactive",
                       {"type": "button_reply",
                        "button_reply": {"id": "b1", "title": "Track"}}),
             context={"from": DISPLAY_NUMBER, "id": pid}),
        typed_msg(phone, ids["template"], "button",
                  {"payload": "P", "text": "Talk to a human"}),
        {"from": phone, "id": ids["unsupported"], "timestamp": str(t),
         "type": "unsupported",
         "errors": [{"code": 131051, "title": "Message type unknown"}]},
        changed_number(old, new, ids["number"]),
        changed_user_id(olduid, newuid, ids["user_id"]),
        {"id": ids["bad"], "timestamp": str(t), "type": "text",
         "text": {"body": "nobody sent this"}},
        "not an object",
    ]
    body = payload(entry(change(
        messages=messages,
        contacts=[user_contact(uid, "Kai", "kai.batch", wa_id=phone)],
        statuses=[status_item(ppid, "read"), status_item(ppid, "played")])))
    body["entry"][0]["changes"][0]["value"]["errors"] = [
        {"code": 131000, "title": "Something went wrong"}]
    snapshot = None
    for attempt in ("first delivery", "re-delivery"):
        r = _ok(hook.post(body))
        data = r.json()["data"]
        assert data["skipped"] == 2, (attempt, data)
        assert data["statuses"] == 2, (attempt, data)
        stored = {k: _stored(query, api, v) for k, v in ids.items()}
        assert stored.pop("bad") is None
        for k, m in stored.items():
            assert m is not None, (attempt, k)
        assert _count(query, *ids.values()) == len(ids) - 1
        uidc = stored["bsuid"]["contact_id"]
        assert stored["both"]["contact_id"] == uidc
        assert stored["reply"]["contact_id"] == uidc
        assert stored["reply"]["reply_to"] == ours
        assert stored["button"]["reply_to"] == ours
        assert stored["button"]["content"] == "[interactive] Track"
        assert stored["template"]["type"] == "button"
        assert stored["unsupported"]["error"]["code"] == "131051"
        assert stored["number"]["contact_id"] == \
            _stored(query, api, pre[0])["contact_id"]
        assert stored["user_id"]["contact_id"] == \
            _stored(query, api, pre[1])["contact_id"]
        target = _msg(api, ours)
        assert [x["emoji"] for x in target["reactions"]] == ["🎉"]
        assert _msg(api, played)["status"] == "played"
        state = (
            contact_row(query, uidc),
            contact_row(query, stored["number"]["contact_id"]),
            contact_row(query, stored["user_id"]["contact_id"]),
            query("SELECT count(*) FROM contacts WHERE phone = ANY(%s) OR "
                  "user_id = ANY(%s)", (["+" + phone, "+" + old, "+" + new],
                                        [uid, olduid, newuid]))[0][0],
            target["reactions"])
        if snapshot is None:
            snapshot = state
        assert state == snapshot, attempt
    assert snapshot[1]["phone"] == "+" + new
    assert snapshot[2]["user_id"] == newuid
    assert snapshot[3] == 3
