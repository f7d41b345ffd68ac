"""The 24-hour customer service window, with the simulator playing WhatsApp
(WADESK_SIM_WINDOW=1).

The module fixture stops the stack's worker pool and dispatcher and starts
them again with WADESK_SIM_WINDOW=1 (nginx/stack.sh start starts only what
is not running); on teardown it does the same without it.  Customers write
through the Cloud API webhook shape with the time WhatsApp gives, so a
message "25 hours ago" is one whose timestamp says so.
"""

import time

import pytest

from fake_cloudapi import read_pid, stop_pid
from integ_support import (assert_error, restart_stack, stack_diagnosis,
                           sync_templates, unique_phone, unique_token,
                           wait_until)

SENDER = "+15550001111"


@pytest.fixture(scope="module", autouse=True)
def sim_window(env, var_dir, base_url):
    sync_templates(env)
    restart_stack(env, base_url, WADESK_SIM_WINDOW="1")
    try:
        yield
    finally:
        restart_stack(env, base_url, WADESK_SIM_WINDOW=None)


def _customer_wrote(webhook, phone, seconds_ago):
    """A text from phone, WhatsApp's timestamp seconds_ago in the past."""
    r = webhook({"object": "whatsapp_business_account", "entry": [{
        "id": "0", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": SENDER[1:],
                         "phone_number_id": "1"},
            "contacts": [{"wa_id": phone[1:], "profile": {"name": "Ana"}}],
            "messages": [{"from": phone[1:], "id": "wamid." + unique_token(),
                          "timestamp": str(int(time.time()) - seconds_ago),
                          "type": "text",
                          "text": {"body": "hello " + unique_token()}}]}}]}]})
    assert r.status_code == 200, r.text


def _count(query):
    return query("SELECT count(*) FROM messages")[0][0]


def _wait_final(api, mid, env):
    def final():
        m = api.get("/api/messages/%d/" % mid).json()
        return m if m["status"] in ("sent", "delivered", "read",
                                    "failed") else None
    # A dispatcher just restarted first syncs the templates: on a busy
    # machine that can take a few seconds.
    m = wait_until(final, 20)
    assert m, stack_diagnosis(env, mid)
    return m


def test_never_written_customer_gets_only_templates(send, query):
    before = _count(query)
    r = send({"sender": SENDER, "receiver": unique_phone(),
              "content": "Hi, can we help?"})
    assert_error(r, 422, "outside_service_window")
    assert "never written" in r.json()["error"]["message"]
    assert _count(query) == before


def test_closed_window_refuses_free_form_and_says_when(env, webhook, send,
                                                       api, query):
    phone = unique_phone()
    _customer_wrote(webhook, phone, 25 * 3600)
    before = _count(query)
    for body in ({"content": "Sorry for the wait"},
                 {"content": "Pick", "buttons": [{"id": "a",
                                                  "title": "A"}]}):
        body.update(sender=SENDER, receiver=phone)
        r = send(body)
        assert_error(r, 422, "outside_service_window")
        closed = api.get("/api/contacts/", params={"q": phone}).json()[
            "data"][0]["window_expires_at"]
        assert closed in r.json()["error"]["message"]
    assert _count(query) == before
    # A template still goes, and the simulator sends it.
    m = send({"sender": SENDER, "receiver": phone,
              "template": {"name": "order_update", "language": "en",
                           "parameters": ["Ana", "A-7", "on its way"]}})
    assert m.status_code == 201, m.text
    assert _wait_final(api, m.json()["id"], env)["status"] in (
        "sent", "delivered", "read")


def test_open_window_takes_free_form(env, webhook, send, api):
    phone = unique_phone()
    _customer_wrote(webhook, phone, 23 * 3600)
    r = send({"sender": SENDER, "receiver": phone, "content": "Here we go"})
    assert r.status_code == 201, r.text
    assert _wait_final(api, r.json()["id"], env)["status"] in (
        "sent", "delivered", "read")
    c = api.get("/api/contacts/", params={"q": phone, "window": "open"})
    assert [x["phone"] for x in c.json()["data"]] == [phone]


def test_window_closing_before_delivery_fails_with_131047(env, var_dir,
                                                         base_url, webhook,
                                                         send, api, query):
    """Accepted while open, delivered after it closed: WhatsApp's 131047."""
    phone = unique_phone()
    _customer_wrote(webhook, phone, 60)
    stop_pid(read_pid(var_dir / "pids" / "dispatch.pid"))
    try:
        r = send({"sender": SENDER, "receiver": phone,
                  "content": "Just made it"})
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        # The customer's message now lies two days back.
        query("UPDATE messages SET created_at = now() - interval '2 days'"
              " WHERE contact_id = %s AND direction = 'inbound'",
              (r.json()["contact_id"],))
        query("UPDATE contacts SET last_inbound_at = now() -"
              " interval '2 days' WHERE id = %s", (r.json()["contact_id"],))
    finally:
        restart_stack(env, base_url, WADESK_SIM_WINDOW="1")
    m = _wait_final(api, mid, env)
    assert m["status"] == "failed", m
    assert m["error"]["code"] == "131047"
    assert [e["status"] for e in m["events"]] == ["queued", "failed"]


def test_admin_offers_only_templates_once_the_window_closed(admin, webhook,
                                                            query):
    closed, open_ = unique_phone(), unique_phone()
    _customer_wrote(webhook, closed, 25 * 3600)
    _customer_wrote(webhook, open_, 60)
    cid = query("SELECT id FROM contacts WHERE phone = %s", (closed,))[0][0]
    page = admin.get("/admin/conversations/%d" % cid)
    assert page.status_code == 200
    assert 'id="reply-content"' not in page.text, "no free-form box"
    assert 'id="template-choose"' in page.text
    assert "Write a free-form reply instead" not in page.text
    assert "Not enforced" not in page.text
    cid = query("SELECT id FROM contacts WHERE phone = %s", (open_,))[0][0]
    page = admin.get("/admin/conversations/%d" % cid)
    assert 'id="reply-content"' in page.text
    assert 'id="template-choose"' not in page.text
