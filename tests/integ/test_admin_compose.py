"""The admin's answers beyond text, as an agent uses them (no JavaScript):
the 24-hour window line, a template chosen, filled, previewed and sent
from a conversation and from the Send Message page, quoting a message in
the reply, and the reaction buttons under a customer's message.

The stack runs the simulator without the window policy; test_window.py
covers the picker that replaces the reply box when the policy holds.
"""

import re
import time

import pytest

from admin_support import assert_html, csrf_of, escaped
from integ_support import sync_templates, unique_phone, unique_token

BUSINESS = "+15550001111"


@pytest.fixture(scope="module", autouse=True)
def catalog(env):
    sync_templates(env)


def _customer_wrote(webhook, phone, seconds_ago=0, text=None):
    text = text or "question " + unique_token()
    wamid = "wamid." + unique_token()
    r = webhook({"object": "whatsapp_business_account", "entry": [{
        "id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": BUSINESS[1:],
                         "phone_number_id": "1"},
            "contacts": [{"wa_id": phone[1:], "profile": {"name": "Ana"}}],
            "messages": [{"from": phone[1:], "id": wamid,
                          "timestamp": str(int(time.time()) - seconds_ago),
                          "type": "text", "text": {"body": text}}]}}]}]})
    assert r.status_code == 200, r.text
    return text


def _message(query, phone, text):
    return query("SELECT m.id, m.contact_id FROM messages m JOIN contacts c"
                 " ON c.id = m.contact_id WHERE c.phone = %s"
                 " AND m.content = %s", (phone, text))[0]


def _latest_out(query, cid):
    return query("SELECT id, type, content, reply_to, raw->'template'->>'name'"
                 " FROM messages WHERE contact_id = %s"
                 " AND direction = 'outbound' ORDER BY id DESC LIMIT 1",
                 (cid,))


# ------------------------------------------------------------ the window

def test_window_line_says_open_closed_or_never(admin, webhook, query):
    phone = unique_phone()
    text = _customer_wrote(webhook, phone, seconds_ago=3600)
    _, cid = _message(query, phone, text)
    page = admin.get("/admin/conversations/%d" % cid)
    assert_html(page, 200)
    assert 'class="window window-open"' in page.text
    assert "Free-form replies until" in page.text
    old = unique_phone()
    text = _customer_wrote(webhook, old, seconds_ago=30 * 3600)
    _, cid = _message(query, old, text)
    page = admin.get("/admin/conversations/%d" % cid)
    assert 'class="window window-closed"' in page.text
    assert "The 24-hour window closed at" in page.text
    # The simulator does not enforce it: the reply box stays, with a way
    # to a template.
    assert 'id="reply-content"' in page.text
    assert "Send a template instead" in page.text


# ------------------------------------------------------------ templates

def test_template_chosen_filled_previewed_and_sent(admin, webhook, query):
    phone = unique_phone()
    text = _customer_wrote(webhook, phone)
    _, cid = _message(query, phone, text)
    base = "/admin/conversations/%d" % cid
    page = admin.get(base + "?template=")
    assert_html(page, 200)
    # Only approved templates are offered.
    assert 'value="order_update/en"' in page.text
    assert 'value="spring_sale/en"' not in page.text
    assert 'value="account_alert/en"' not in page.text
    # Chosen: one field per placeholder, labelled by it.
    page = admin.get(base, params={"template": "order_update/en"})
    for n in ("1", "2", "3"):
        assert '<label for="tp-%s">{{%s}}</label>' % (n, n) in page.text
        assert 'name="p.%s"' % n in page.text
    assert "compose-send" not in page.text, "no send before a preview"
    # Previewed: the text the customer will read, and the send form.
    params = {"template": "order_update/en", "p.1": "Ana <b>",
              "p.2": "A-1042", "p.3": "ready"}
    page = admin.get(base, params=params)
    rendered = "Hi Ana <b>, your order A-1042 is ready."
    assert escaped(rendered) in page.text and "<b>," not in page.text
    assert 'class="compose-send"' in page.text
    token = csrf_of(page.text)
    form = {"csrf": token, "back": "conversation", "receiver": phone,
            "sender": BUSINESS, "template": "order_update/en",
            "p.1": "Ana <b>", "p.2": "A-1042", "p.3": "ready"}
    r = admin.post("/admin/messages/new", data=form)
    assert r.status_code == 303, r.text[:300]
    assert r.headers["Location"] == base + "?sent=1"
    mid, typ, content, reply_to, name = _latest_out(query, cid)[0]
    assert (typ, content, name) == ("template", rendered, "order_update")


def test_template_errors_show_and_store_nothing(admin, webhook, query):
    phone = unique_phone()
    text = _customer_wrote(webhook, phone)
    _, cid = _message(query, phone, text)
    page = admin.get("/admin/conversations/%d?template=order_update/en"
                     % cid)
    token = csrf_of(page.text)
    before = query("SELECT count(*) FROM messages")[0][0]
    # A field left empty, a template not approved, an unknown one.
    for extra, says in (
            ({"template": "order_update/en", "p.1": "Ana", "p.2": "A-1",
              "p.3": ""}, "1-1024 characters"),
            ({"template": "spring_sale/en"}, "PAUSED"),
            ({"template": "nope/en"}, "no template"),
            ({"template": "broken"}, "Choose a template")):
        form = dict({"csrf": token, "back": "conversation",
                     "receiver": phone, "sender": BUSINESS}, **extra)
        r = admin.post("/admin/messages/new", data=form)
        assert_html(r, 422)
        assert says in r.text, (extra, r.text[-800:])
    assert query("SELECT count(*) FROM messages")[0][0] == before
    # The chooser says so too, and offers no send.
    page = admin.get("/admin/conversations/%d" % cid,
                     params={"template": "spring_sale/en"})
    assert "not approved" in page.text and "compose-send" not in page.text


def test_send_message_page_offers_templates(admin, query):
    phone = unique_phone()
    page = admin.get("/admin/messages/new", params={
        "to": phone, "from": BUSINESS, "template": "delivery_window/en",
        "p.first_name": "Kai", "p.from": "9:00", "p.to": "11:00"})
    assert_html(page, 200)
    assert 'id="template-to"' in page.text and escaped(phone) in page.text
    assert "Hello Kai, your parcel arrives between 9:00 and 11:00." \
        in page.text
    form = re.search(r'<form method="post" action="/admin/messages/new"'
                     r' class="compose-send">(.*?)</form>', page.text, re.S)
    assert form, page.text[-1500:]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)"'
                             r' value="([^"]*)">', form.group(1)))
    assert fields["receiver"] == phone and fields["sender"] == BUSINESS
    assert fields["p.first_name"] == "Kai"
    r = admin.post("/admin/messages/new", data=fields)
    assert r.status_code == 303, r.text[:300]
    mid = int(r.headers["Location"].split("/")[-1].split("?")[0])
    row = query("SELECT type, content FROM messages WHERE id = %s", (mid,))
    assert row == [("template",
                    "Hello Kai, your parcel arrives between 9:00 and 11:00.")]


# ------------------------------------------------------------ quoting

def test_reply_quotes_a_message_of_the_thread(admin, webhook, query):
    phone = unique_phone()
    text = _customer_wrote(webhook, phone, text="Where is my order? " +
                           unique_token())
    qid, cid = _message(query, phone, text)
    page = admin.get("/admin/conversations/%d" % cid)
    assert 'href="/admin/conversations/%d?reply_to=%d#reply"' % (cid, qid) \
        in page.text
    page = admin.get("/admin/conversations/%d" % cid,
                     params={"reply_to": qid})
    assert 'name="reply_to" value="%d"' % qid in page.text
    assert "Replying to" in page.text and escaped(text) in page.text
    r = admin.post("/admin/messages/new", data={
        "csrf": csrf_of(page.text), "back": "conversation",
        "receiver": phone, "sender": BUSINESS, "reply_to": str(qid),
        "content": "It ships today."})
    assert r.status_code == 303, r.text[:300]
    assert _latest_out(query, cid)[0][3] == qid
    # Another conversation's message cannot be quoted.
    other = unique_phone()
    text2 = _customer_wrote(webhook, other)
    _, cid2 = _message(query, other, text2)
    r = admin.post("/admin/messages/new", data={
        "csrf": csrf_of(page.text), "back": "conversation",
        "receiver": other, "sender": BUSINESS, "reply_to": str(qid),
        "content": "wrong thread"})
    assert_html(r, 422)
    assert "this customer" in r.text
    assert _latest_out(query, cid2) == []


# ------------------------------------------------------------ reactions

def test_reaction_buttons_react_and_change(admin, webhook, query, api):
    phone = unique_phone()
    text = _customer_wrote(webhook, phone)
    qid, cid = _message(query, phone, text)
    page = admin.get("/admin/conversations/%d" % cid)
    assert 'id="react-%d"' % qid in page.text
    assert 'aria-label="React with \U0001F44D"' in page.text
    token = csrf_of(page.text)
    url = "/admin/conversations/%d/react" % cid
    assert 'name="sender" value="%s"' % BUSINESS in page.text
    r = admin.post(url, data={"csrf": token, "message_id": str(qid),
                              "sender": BUSINESS, "emoji": "\U0001F44D"})
    assert r.status_code == 303, r.text[:300]
    assert r.headers["Location"] == \
        "/admin/conversations/%d?done=reacted#m%d" % (cid, qid)
    got = api.get("/api/messages/%d/" % qid).json()["reactions"]
    assert [(x["emoji"], x["direction"]) for x in got] == \
        [("\U0001F44D", "outbound")]
    r = admin.post(url, data={"csrf": token, "message_id": str(qid),
                              "sender": BUSINESS, "emoji": "\U0001F64F"})
    assert r.status_code == 303
    got = api.get("/api/messages/%d/" % qid).json()["reactions"]
    assert [x["emoji"] for x in got] == ["\U0001F64F"]
    page = admin.get(r.headers["Location"].split("#")[0])
    assert "Reaction sent." in page.text
    other = unique_phone()
    text2 = _customer_wrote(webhook, other)
    oid, _ = _message(query, other, text2)
    before = query("SELECT count(*) FROM messages")[0][0]
    # Not offered, not a message of this conversation, no CSRF token.
    assert_html(admin.post(url, data={"csrf": token, "message_id": str(qid),
                                      "emoji": "x"}), 400)
    assert_html(admin.post(url, data={"csrf": token, "message_id": str(oid),
                                      "sender": BUSINESS,
                                      "emoji": "\U0001F44D"}), 422)
    assert_html(admin.post(url, data={"message_id": str(qid),
                                      "emoji": "\U0001F44D"}), 403)
    assert query("SELECT count(*) FROM messages")[0][0] == before
