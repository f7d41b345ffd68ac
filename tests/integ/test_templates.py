"""Templates, quoted replies, reactions and reply buttons through the API.

The simulated provider's catalog is loaded with `wadesk templates sync`
(order_update, delivery_window, hello_world, appointment_reminder, the
Spanish order_update, and spring_sale / account_alert, which are not
approved).  The stack runs without the window policy (the simulator's
default), so free-form sends are accepted here; test_window.py covers the
policy.
"""

import pytest

from integ_support import (assert_error, sync_templates, unique_phone,
                           unique_token)

SENDER = "+15550001111"


@pytest.fixture(scope="module", autouse=True)
def catalog(env):
    sync_templates(env)
    yield
    # A test changes a template's status by webhook: the catalog again.
    sync_templates(env)


def _templates(api):
    r = api.get("/api/templates/")
    assert r.status_code == 200, r.text
    return {(t["name"], t["language"]): t for t in r.json()["data"]}


def _ok(r):
    assert r.status_code == 201, r.text
    return r.json()


def _inbound(webhook, api, phone, text=None):
    """A customer message (simple webhook shape) -> its stored message."""
    text = text or "question " + unique_token()
    r = webhook({"sender": phone, "content": text})
    assert r.status_code == 200, r.text
    r = api.get("/api/messages/", params={"contact": phone, "limit": 1})
    m = r.json()["data"][0]
    assert m["content"] == text
    return m


def _count(query):
    return query("SELECT count(*) FROM messages")[0][0]


# ------------------------------------------------------------ the list

def test_list_shows_the_catalog(api):
    t = _templates(api)
    o = t[("order_update", "en")]
    assert o == {"name": "order_update", "language": "en",
                 "category": "UTILITY", "status": "APPROVED",
                 "body": "Hi {{1}}, your order {{2}} is {{3}}.",
                 "parameters": 3, "parameter_format": "POSITIONAL",
                 "parameter_names": ["1", "2", "3"], "header": None}
    d = t[("delivery_window", "en")]
    assert d["parameter_format"] == "NAMED"
    assert d["parameter_names"] == ["first_name", "from", "to"]
    assert t[("appointment_reminder", "en")]["header"] == "Your appointment"
    assert t[("hello_world", "en_US")]["parameters"] == 0
    assert t[("order_update", "es")]["body"].startswith("Hola {{1}}")
    assert t[("spring_sale", "en")]["status"] == "PAUSED"
    assert t[("account_alert", "en")]["status"] == "PENDING"


def test_list_needs_a_key(anon):
    assert_error(anon.get("/api/templates/"), 401, "unauthorized")


def test_sync_drops_what_the_catalog_no_longer_has(env, api, query):
    query("INSERT INTO templates (name, language, status, body)"
          " VALUES ('gone_' || %s, 'en', 'APPROVED', 'bye')",
          (unique_token(),))
    p = sync_templates(env)
    assert p.stdout.strip() == "7 templates"
    assert query("SELECT count(*) FROM templates"
                 " WHERE name LIKE 'gone\\_%%'")[0][0] == 0
    assert len(_templates(api)) == 7


# ------------------------------------------------------------ sending one

def test_positional_template_renders_its_body(send, api):
    m = _ok(send({"sender": SENDER, "receiver": unique_phone(),
                  "template": {"name": "order_update", "language": "en",
                               "parameters": ["Ana", "A-1042",
                                              "ready for pickup"]}}))
    assert m["content"] == "Hi Ana, your order A-1042 is ready for pickup."
    assert m["type"] == "template"
    assert m["template"] == {"name": "order_update", "language": "en",
                             "parameters": ["Ana", "A-1042",
                                            "ready for pickup"],
                             "parameter_format": "POSITIONAL"}
    got = api.get("/api/messages/%d/" % m["id"]).json()
    assert got["template"] == m["template"] and got["type"] == "template"


def test_named_template_renders_by_name(send):
    m = _ok(send({"sender": SENDER, "receiver": unique_phone(),
                  "template": {"name": "delivery_window", "language": "en",
                               "parameters": {"to": "11:00",
                                              "first_name": "Kai",
                                              "from": "9:00"}}}))
    assert m["content"] == \
        "Hello Kai, your parcel arrives between 9:00 and 11:00."
    assert m["template"]["parameter_format"] == "NAMED"


def test_template_without_parameters(send):
    m = _ok(send({"sender": SENDER, "receiver": unique_phone(),
                  "template": {"name": "hello_world",
                               "language": "en_US"}}))
    assert m["content"].startswith("Welcome and congratulations!!")
    assert m["template"]["parameters"] == []


@pytest.mark.parametrize("template,status,code,field", [
    ({"name": "no_such_template", "language": "en"}, 422,
     "unknown_template", "template.name"),
    ({"name": "order_update", "language": "fr"}, 422, "unknown_template",
     "template.name"),
    ({"name": "spring_sale", "language": "en"}, 422,
     "template_not_approved", "template.name"),
    ({"name": "account_alert", "language": "en"}, 422,
     "template_not_approved", "template.name"),
    ({"name": "order_update", "language": "en",
      "parameters": ["Ana", "A-1"]}, 422, "validation_failed",
     "template.parameters"),
    ({"name": "order_update", "language": "en"}, 422, "validation_failed",
     "template.parameters"),
    ({"name": "order_update", "language": "en",
      "parameters": ["Ana", "A-1", 3]}, 422, "validation_failed",
     "template.parameters"),
    ({"name": "order_update", "language": "en",
      "parameters": ["Ana", "A-1", ""]}, 422, "validation_failed",
     "template.parameters"),
    ({"name": "order_update", "language": "en",
      "parameters": ["Ana", "A-1", "x" * 1025]}, 422, "validation_failed",
     "template.parameters"),
    ({"name": "order_update", "language": "en",
      "parameters": "Ana"}, 422, "validation_failed", "template.parameters"),
    ({"name": "delivery_window", "language": "en",
      "parameters": {"first_name": "Kai", "from": "9", "until": "11"}},
     422, "validation_failed", "template.parameters"),
    ({"language": "en"}, 422, "validation_failed", "template.name"),
    ({"name": "order_update"}, 422, "validation_failed",
     "template.language"),
    ("order_update", 422, "validation_failed", "template"),
], ids=["unknown-name", "unknown-language", "paused", "pending",
        "too-few", "none", "not-a-string", "empty", "too-long",
        "not-a-list", "wrong-name", "no-name", "no-language", "a-string"])
def test_template_errors_store_nothing(send, query, template, status, code,
                                       field):
    before = _count(query)
    r = send({"sender": SENDER, "receiver": unique_phone(),
              "template": template})
    assert_error(r, status, code, field)
    assert _count(query) == before


def test_template_takes_no_content(send, query):
    before = _count(query)
    assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                       "content": "hi",
                       "template": {"name": "hello_world",
                                    "language": "en_US"}}),
                 422, "validation_failed", "content")
    assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                       "content": "hi",
                       "buttons": [{"id": "a", "title": "A"}],
                       "template": {"name": "hello_world",
                                    "language": "en_US"}}),
                 422, "validation_failed")
    assert _count(query) == before


def test_status_webhook_pauses_and_approves(webhook, send, api):
    def status(event, **ident):
        value = {"event": event, "reason": "NONE"}
        value.update(ident)
        r = webhook({"object": "whatsapp_business_account", "entry": [{
            "id": "0", "time": 1767225600, "changes": [{
                "field": "message_template_status_update",
                "value": value}]}]})
        assert r.status_code == 200, r.text

    # By WhatsApp's template id (a number in its payloads).
    status("APPROVED", message_template_id=900000000000006,
           message_template_name="spring_sale",
           message_template_language="en")
    assert _templates(api)[("spring_sale", "en")]["status"] == "APPROVED"
    _ok(send({"sender": SENDER, "receiver": unique_phone(),
              "template": {"name": "spring_sale", "language": "en"}}))
    # By name and language.
    status("PAUSED", message_template_name="order_update",
           message_template_language="en")
    assert _templates(api)[("order_update", "en")]["status"] == "PAUSED"
    assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                       "template": {"name": "order_update",
                                    "language": "en",
                                    "parameters": ["a", "b", "c"]}}),
                 422, "template_not_approved")
    status("REINSTATED", message_template_name="order_update",
           message_template_language="en")
    assert _templates(api)[("order_update", "en")]["status"] == "APPROVED"
    # One for a template nobody knows changes nothing and is no error.
    status("REJECTED", message_template_name="never_heard_of",
           message_template_language="en")


# ------------------------------------------------------------ quoting

def test_reply_to_quotes_a_message_of_the_conversation(webhook, send, api):
    phone = unique_phone()
    q = _inbound(webhook, api, phone)
    m = _ok(send({"sender": SENDER, "receiver": phone,
                  "content": "Yes, it ships today.", "reply_to": q["id"]}))
    assert m["reply_to"] == q["id"] and m["type"] == "text"
    m = _ok(send({"sender": SENDER, "contact_id": q["contact_id"],
                  "content": "And tracking follows.",
                  "reply_to": str(q["id"])}))
    assert m["reply_to"] == q["id"]


def test_reply_to_must_be_of_the_same_customer(webhook, send, api, query):
    other = _inbound(webhook, api, unique_phone())
    before = _count(query)
    assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                       "content": "hi", "reply_to": other["id"]}),
                 422, "validation_failed", "reply_to")
    assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                       "content": "hi", "reply_to": 999999999999}),
                 422, "validation_failed", "reply_to")
    for bad in ("abc", 0, -1, 1.5, [1], True):
        assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                           "content": "hi", "reply_to": bad}),
                     422, "validation_failed", "reply_to")
    assert _count(query) == before


# ------------------------------------------------------------ reactions

def test_reaction_attaches_to_the_message_and_can_be_removed(webhook, send,
                                                             api):
    phone = unique_phone()
    q = _inbound(webhook, api, phone)
    r = _ok(send({"sender": SENDER, "receiver": phone,
                  "reaction": {"message_id": q["id"], "emoji": "👍"}}))
    assert r["type"] == "reaction" and r["content"] == "[reaction] 👍"
    got = api.get("/api/messages/%d/" % q["id"]).json()
    assert [(x["emoji"], x["direction"]) for x in got["reactions"]] == \
        [("👍", "outbound")]
    # Another emoji replaces ours; "" takes it away.
    _ok(send({"sender": SENDER, "receiver": phone,
              "reaction": {"message_id": q["id"], "emoji": "❤️"}}))
    got = api.get("/api/messages/%d/" % q["id"]).json()
    assert [x["emoji"] for x in got["reactions"]] == ["❤️"]
    r = _ok(send({"sender": SENDER, "receiver": phone,
                  "reaction": {"message_id": q["id"], "emoji": ""}}))
    assert r["content"] == "[reaction removed]"
    assert api.get("/api/messages/%d/" % q["id"]).json()["reactions"] == []


@pytest.mark.parametrize("reaction,field", [
    ({"emoji": "👍"}, "reaction.message_id"),
    ({"message_id": "x", "emoji": "👍"}, "reaction.message_id"),
    ({"message_id": 999999999999, "emoji": "👍"}, "reaction.message_id"),
    ({"message_id": None, "emoji": "👍"}, "reaction.message_id"),
    ("👍", "reaction"),
])
def test_reaction_errors(send, query, reaction, field):
    before = _count(query)
    assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                       "reaction": reaction}),
                 422, "validation_failed", field)
    assert _count(query) == before


def test_reaction_emoji_must_be_short_text(webhook, send, api):
    phone = unique_phone()
    q = _inbound(webhook, api, phone)
    for bad in ("x" * 17, 5, "a\nb"):
        assert_error(send({"sender": SENDER, "receiver": phone,
                           "reaction": {"message_id": q["id"],
                                        "emoji": bad}}),
                     422, "validation_failed", "reaction.emoji")
    assert_error(send({"sender": SENDER, "receiver": phone,
                       "content": "also text",
                       "reaction": {"message_id": q["id"], "emoji": "👍"}}),
                 422, "validation_failed", "content")


# ------------------------------------------------------------ buttons

def test_buttons_make_an_interactive_message(send):
    m = _ok(send({"sender": SENDER, "receiver": unique_phone(),
                  "content": "Did this solve it?",
                  "buttons": [{"id": "yes", "title": "Yes, thanks"},
                              {"id": "no", "title": "Not yet"}]}))
    assert m["type"] == "interactive" and m["content"] == \
        "Did this solve it?"


@pytest.mark.parametrize("buttons", [
    [],
    [{"id": str(i), "title": "B%d" % i} for i in range(4)],
    [{"id": "a", "title": "x" * 21}],
    [{"id": "a", "title": ""}],
    [{"id": "", "title": "A"}],
    [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}],
    [{"title": "A"}],
    ["yes"],
    "yes",
], ids=["none", "four", "long-title", "empty-title", "empty-id",
        "same-id", "no-id", "not-objects", "not-a-list"])
def test_button_errors(send, query, buttons):
    before = _count(query)
    assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                       "content": "pick", "buttons": buttons}),
                 422, "validation_failed", "buttons")
    assert _count(query) == before


def test_buttons_need_content(send):
    assert_error(send({"sender": SENDER, "receiver": unique_phone(),
                       "buttons": [{"id": "a", "title": "A"}]}),
                 422, "validation_failed", "content")
