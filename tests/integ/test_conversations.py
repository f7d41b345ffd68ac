"""The admin's conversations, one per contact: the list's filters and
pages, a customer known only by a business-scoped user id (BSUID), resolve,
reopen and assign (CSRF forms), unread counts, quoted replies, reactions,
message types and the played status, and replies to a BSUID."""

import json
import re

import pytest

from admin_support import assert_html, csrf_of, escaped
from integ_support import unique_phone, unique_token

BUSINESS = "+15550001111"


def _bsuid():
    return "US.%d" % int(unique_token("")[0:12], 16)


@pytest.fixture
def contact(query):
    """contact(phone=None, user_id=None, ...) -> id: a contact made with
    wadesk_contact, its last customer message now (top of the list)."""
    def make(phone=None, user_id=None, parent=None, username=None,
             name=None, state="open", assignee=None):
        cid = query("SELECT wadesk_contact(%s, %s, %s, %s, %s)",
                    (phone, user_id, parent, username, name))[0][0]
        query("UPDATE contacts SET last_inbound_at = clock_timestamp(),"
              " state = %s, assignee_id = %s WHERE id = %s",
              (state, assignee, cid))
        return cid
    return make


@pytest.fixture
def message(query):
    """message(contact_id, direction, content, **columns) -> id."""
    def make(cid, direction, content, status=None, type_="text",
             reply_to=None, reactions=None):
        customer = query("SELECT coalesce(phone, user_id) FROM contacts"
                         " WHERE id = %s", (cid,))[0][0]
        sender, receiver = (customer, BUSINESS) if direction == "inbound" \
            else (BUSINESS, customer)
        if status is None:
            status = "received" if direction == "inbound" else "read"
        return query(
            "INSERT INTO messages (direction, sender, receiver, content,"
            " status, contact_id, type, reply_to, reactions)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
            " RETURNING id",
            (direction, sender, receiver, content, status, cid, type_,
             reply_to, None if reactions is None else
             json.dumps(reactions)))[0][0]
    return make


@pytest.fixture
def admin_id(env, query):
    return query("SELECT id FROM admin_users WHERE username = %s",
                 (env["WADESK_ADMIN_USER"],))[0][0]


@pytest.fixture
def other_user(query):
    """Another admin user (no password that could log in)."""
    name = unique_token("agent<")
    uid = query("INSERT INTO admin_users (username, password_hash)"
                " VALUES (%s, 'x') RETURNING id", (name,))[0][0]
    yield uid, name
    query("DELETE FROM admin_users WHERE id = %s", (uid,))


def _links(text):
    return [int(x) for x in re.findall(
        r'<li class="conv[^"]*"><a href="/admin/conversations/(\d+)"', text)]


def _item(text, cid):
    link = 'href="/admin/conversations/%d"' % cid
    item = text[text.index(link):]
    return item[:item.index("</li>")]


def _state(query, cid):
    return query("SELECT state, assignee_id, wadesk_unread(id, read_upto)"
                 " FROM contacts"
                 " WHERE id = %s", (cid,))[0]


# ------------------------------------------------------------ the list

def test_list_filters_default_to_open(admin, contact, message, admin_id,
                                      other_user):
    t = unique_token()
    unassigned = contact(phone=unique_phone(), name="open " + t)
    resolved = contact(phone=unique_phone(), name="resolved " + t,
                       state="resolved")
    mine = contact(user_id=_bsuid(), name="mine " + t, assignee=admin_id)
    theirs = contact(phone=unique_phone(), name="theirs " + t,
                     assignee=other_user[0])
    done = contact(phone=unique_phone(), name="done " + t,
                   assignee=admin_id, state="resolved")
    every = {unassigned, resolved, mine, theirs, done}
    for cid in every:
        message(cid, "inbound", "hello from %d" % cid)
    want = {
        None: {unassigned, mine, theirs},
        "open": {unassigned, mine, theirs},
        "mine": {mine},
        "unassigned": {unassigned},
        "resolved": {resolved, done},
        "all": every,
    }
    for f, ids in want.items():
        r = admin.get("/admin/conversations/" +
                      ("?filter=" + f if f else ""))
        assert_html(r, 200)
        shown = set(_links(r.text)) & every
        assert shown == ids, (f, shown, ids)
        current = re.search(r'class="chip chip-(\w+)" aria-current="true"',
                            r.text).group(1)
        assert current == (f or "open")
    r = admin.get("/admin/conversations/?filter=all")
    item = _item(r.text, theirs)
    assert escaped(other_user[1]) in item
    assert "hello from %d" % theirs in item
    assert 'badge-resolved' in _item(r.text, resolved)
    assert "unassigned" in _item(r.text, unassigned)
    assert_html(admin.get("/admin/conversations/?filter=nope"), 400)
    assert_html(admin.get("/admin/conversations/?before_id=x"), 400)


def test_list_pages_by_contact(admin, query):
    """Keyset pages: 50 a page, the next after the last one shown."""
    t = unique_token("pg")
    ids = [r[0] for r in query(
        "INSERT INTO contacts (user_id, state, last_inbound_at)"
        " SELECT 'ZZ.' || %s || g, 'resolved',"
        " now() + interval '30 years' + g * interval '1 second'"
        " FROM generate_series(1, 55) g RETURNING id", (t,))]
    try:
        r = admin.get("/admin/conversations/?filter=resolved")
        first = _links(r.text)
        assert first == sorted(ids, reverse=True)[:50]
        nxt = re.search(r'rel="next" href="([^"]+)"', r.text).group(1)
        r = admin.get(nxt.replace("&amp;", "&"))
        assert_html(r, 200)
        second = _links(r.text)
        assert second[:5] == sorted(ids, reverse=True)[50:]
        assert not set(first) & set(second)
        assert "Latest" in r.text
    finally:
        query("DELETE FROM contacts WHERE id = ANY(%s)", (ids,))


def test_list_pages_past_contacts_that_never_wrote(admin, query, admin_id):
    """Contacts without a customer message come last, by id, and the
    pages cross from one kind to the other without a gap or a repeat."""
    t = unique_token("nw")
    wrote = [r[0] for r in query(
        "INSERT INTO contacts (user_id, assignee_id, last_inbound_at)"
        " SELECT 'ZZ.' || %s || g, %s, now() - g * interval '1 second'"
        " FROM generate_series(1, 30) g RETURNING id", (t, admin_id))]
    never = [r[0] for r in query(
        "INSERT INTO contacts (user_id, assignee_id)"
        " SELECT 'ZZ.' || %s || 'n' || g, %s"
        " FROM generate_series(1, 60) g RETURNING id", (t, admin_id))]
    try:
        seen, path = [], "/admin/conversations/?filter=mine"
        for _ in range(20):
            r = admin.get(path)
            assert_html(r, 200)
            seen += _links(r.text)
            nxt = re.search(r'rel="next" href="([^"]+)"', r.text)
            if not nxt:
                break
            path = nxt.group(1).replace("&amp;", "&")
        assert len(seen) == len(set(seen)), "a contact shown twice"
        mine = [i for i in seen if i in set(wrote) | set(never)]
        assert mine == wrote + sorted(never)
    finally:
        query("DELETE FROM contacts WHERE id = ANY(%s)", (wrote + never,))


def test_dashboard_counts_the_conversations_waiting(admin, query, admin_id):
    def cards():
        text = admin.get("/admin/").text
        got = {}
        for f in ("open", "unassigned", "mine"):
            m = re.search(r'class="card card-conv-%s" href="/admin/'
                          r'conversations/\?filter=%s"><span class="card-'
                          r'label">[^<]+</span><strong><span>([\d,]+)'
                          r'</span>(\+?)</strong>' % (f, f), text)
            assert m, f
            got[f] = int(m.group(1).replace(",", ""))
        return got

    def counted():
        return dict(zip(("open", "unassigned", "mine"), query(
            "SELECT least(count(*) FILTER (WHERE state = 'open'), 1000),"
            " least(count(*) FILTER (WHERE state = 'open' AND assignee_id"
            " IS NULL), 1000), least(count(*) FILTER (WHERE state = 'open'"
            " AND assignee_id = %s), 1000) FROM contacts", (admin_id,))[0]))

    assert cards() == counted()


# ------------------------------------------------------------ BSUID only

def test_a_bsuid_only_customer_has_a_conversation(admin, contact, message,
                                                  query):
    bsuid = _bsuid()
    name = "Kai <b>&\"co\""
    username = "kai.<i>" + unique_token()
    cid = contact(user_id=bsuid, parent="US.ENT.5519", username=username,
                  name=name)
    message(cid, "inbound", "Hi from a username")
    r = admin.get("/admin/conversations/?filter=all")
    item = _item(r.text, cid)
    assert escaped(name) in item and escaped(username) in item
    assert "<b>" not in item and "<i>" not in item
    page = admin.get("/admin/conversations/%d" % cid)
    assert_html(page, 200)
    text = page.text
    for value in (name, username, bsuid, "US.ENT.5519",
                  "Hi from a username"):
        assert escaped(value) in text, value
    assert "<b>&" not in text
    # The reply box writes to the contact, having no phone.
    box = text[text.index('<form class="reply"'):]
    box = box[:box.index("</form>")]
    assert 'name="contact_id" value="%d"' % cid in box
    assert 'name="receiver"' not in box
    assert 'name="sender" value="%s"' % BUSINESS in box
    # Its reply is an outbound message to the BSUID, and comes back here.
    content = "Reply to a BSUID " + unique_token()
    r = admin.post("/admin/messages/new", data={
        "csrf": csrf_of(text), "back": "conversation",
        "contact_id": str(cid), "sender": BUSINESS, "content": content})
    assert r.status_code == 303, r.text[:300]
    assert r.headers["Location"] == "/admin/conversations/%d?sent=1" % cid
    assert query("SELECT direction, sender, receiver, contact_id, status"
                 " FROM messages WHERE content = %s", (content,))[0][:4] == \
        ("outbound", BUSINESS, bsuid, cid)
    page = admin.get(r.headers["Location"])
    assert "Reply queued for delivery" in page.text
    assert escaped(content) in page.text


def test_a_reply_to_an_unknown_contact_is_refused(admin, count_rows):
    before = count_rows("messages")
    r = admin.post("/admin/messages/new", data={
        "csrf": admin.csrf(), "back": "conversation",
        "contact_id": "999999999999", "sender": BUSINESS,
        "content": "to nobody"})
    assert_html(r, 422)
    assert "There is no such contact." in r.text
    assert count_rows("messages") == before


def test_old_phone_urls_lead_to_the_contact(admin, contact):
    phone = unique_phone()
    cid = contact(phone=phone)
    r = admin.get("/admin/conversations/" + phone.lstrip("+"))
    assert r.status_code == 303
    assert r.headers["Location"] == "/admin/conversations/%d" % cid
    assert_html(admin.get("/admin/conversations/%d" % cid), 200)


# ------------------------------------------------------------ state

def test_resolve_reopen_and_assign(admin, contact, query, admin_id,
                                   other_user):
    cid = contact(phone=unique_phone(), name="Ana")
    base = "/admin/conversations/%d" % cid
    page = admin.get(base)
    assert 'id="resolve"' in page.text and 'id="assign-me"' in page.text
    token = csrf_of(page.text)
    before = _state(query, cid)
    # Without the token (or with a wrong one): 403 and nothing changes.
    for data in ({"state": "resolved"}, {"state": "resolved",
                                         "csrf": "0" * 64}):
        assert_html(admin.post(base + "/state", data=data), 403)
    for data in ({"assignee": str(admin_id)},
                 {"assignee": str(admin_id), "csrf": ""}):
        assert_html(admin.post(base + "/assign", data=data), 403)
    assert _state(query, cid) == before

    r = admin.post(base + "/state", data={"csrf": token,
                                          "state": "resolved"})
    assert r.status_code == 303
    assert r.headers["Location"] == base + "?done=resolved"
    assert _state(query, cid)[0] == "resolved"
    page = admin.get(r.headers["Location"])
    assert "Conversation resolved" in page.text
    assert 'id="reopen"' in page.text and 'id="resolve"' not in page.text
    r = admin.post(base + "/state", data={"csrf": token, "state": "open"})
    assert r.headers["Location"] == base + "?done=open"
    assert _state(query, cid)[0] == "open"

    r = admin.post(base + "/assign", data={"csrf": token,
                                           "assignee": str(admin_id)})
    assert r.status_code == 303
    assert r.headers["Location"] == base + "?done=assigned"
    assert _state(query, cid)[1] == admin_id
    page = admin.get(base)
    assert 'id="assign-me"' not in page.text
    assert '<option value="%d" selected>' % admin_id in page.text
    r = admin.get("/admin/conversations/?filter=mine")
    assert cid in _links(r.text)
    r = admin.post(base + "/assign", data={"csrf": token,
                                           "assignee": str(other_user[0])})
    assert r.status_code == 303
    assert _state(query, cid)[1] == other_user[0]
    assert escaped(other_user[1]) in admin.get(base).text
    r = admin.post(base + "/assign", data={"csrf": token, "assignee": ""})
    assert r.status_code == 303
    assert _state(query, cid)[1] is None

    # Wrong values change nothing.
    before = _state(query, cid)
    assert_html(admin.post(base + "/state", data={"csrf": token,
                                                  "state": "gone"}), 422)
    assert_html(admin.post(base + "/assign", data={
        "csrf": token, "assignee": "2147483000"}), 422)
    assert_html(admin.post(base + "/assign", data={
        "csrf": token, "assignee": "x"}), 422)
    assert _state(query, cid) == before
    assert_html(admin.post("/admin/conversations/999999999999/state",
                           data={"csrf": token, "state": "open"}), 404)
    assert_html(admin.post("/admin/conversations/999999999999/assign",
                           data={"csrf": token, "assignee": ""}), 404)


def test_opening_a_thread_clears_unread(admin, contact, message, query):
    cid = contact(phone=unique_phone())
    for text in ("hello?", "anyone?", "are you there?"):
        message(cid, "inbound", text)
    r = admin.get("/admin/conversations/?filter=all")
    item = _item(r.text, cid)
    assert 'class="unread-count"' in item and ">3<" in item
    assert_html(admin.get("/admin/conversations/%d" % cid), 200)
    assert _state(query, cid)[2] == 0
    r = admin.get("/admin/conversations/?filter=all")
    assert "unread-count" not in _item(r.text, cid)


# ------------------------------------------------------------ the thread

def test_quotes_reactions_types_and_played(admin, contact, message, query):
    cid = contact(phone=unique_phone())
    try:
        _quotes_reactions_types_and_played(admin, cid, message)
    finally:
        # Other suites list every message and check each against
        # app/openapi.yaml, whose status list has no played yet.
        query("DELETE FROM messages WHERE contact_id = %s", (cid,))


def _quotes_reactions_types_and_played(admin, cid, message):
    question = "Where is <my> order? " + unique_token()
    q = message(cid, "inbound", question, reactions=[
        {"emoji": "\U0001F44D", "direction": "outbound",
         "timestamp": "2026-01-01T10:00:00Z"},
        {"emoji": "<b>x</b>", "direction": "inbound",
         "timestamp": "2026-01-01T10:01:00Z"}])
    a = message(cid, "outbound", "[audio] voice note", status="played",
                type_="audio", reply_to=q)
    img = message(cid, "inbound", "[image] Receipt", type_="image",
                  reactions=[])
    page = admin.get("/admin/conversations/%d" % cid)
    assert_html(page, 200)
    text = page.text
    bubbles = re.findall(r'<li class="bubble (?:in|out)" id="m(\d+)">',
                         text)
    assert [int(b) for b in bubbles] == [q, a, img], "oldest first"
    answer = text[text.index('id="m%d"' % a):]
    answer = answer[:answer.index('id="m%d"' % img)]
    assert '<blockquote class="quote">' in answer
    assert '<a href="/admin/messages/%d">' % q in answer
    assert escaped(question) in answer and "<my>" not in answer
    assert 'class="quote-who">Customer<' in answer
    assert 'class="ticks ticks-played"' in answer
    assert 'aria-label="played"' in answer
    assert 'class="msg-type">audio<' in answer
    asked = text[text.index('id="m%d"' % q):text.index('id="m%d"' % a)]
    assert '<ul class="reactions" aria-label="Reactions">' in asked
    assert 'class="reaction reaction-outbound"' in asked
    assert "\U0001F44D" in asked
    assert escaped("<b>x</b>") in asked and "<b>x</b>" not in asked
    # An empty list of reactions shows none.
    last = text[text.index('id="m%d"' % img):]
    assert 'class="reactions"' not in last[:last.index("</li>")]
    assert 'class="msg-type">image<' in last
    # The message list shows the played status as a badge.
    r = admin.get("/admin/messages/%d" % a)
    assert "badge badge-played" in r.text
    assert 'href="/admin/conversations/%d"' % cid in r.text
