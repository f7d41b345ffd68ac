"""A conversation with a customer known only by a business-scoped user id
(BSUID), in Chromium: found in the list, its identity, a quoted reply and
reactions shown; resolved, reopened and assigned by clicking; a reply from
the box goes to the BSUID and comes back to the thread; no CSP violation,
no script error."""

import json

import psycopg2
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select

from browser_support import send_reply, submit_login, wait
from integ_support import unique_token

TOKEN = unique_token("cv")
BSUID = "US.%d" % int(TOKEN[2:], 16)
NAME = "Kai <b>" + TOKEN


def check_console(browser):
    """No CSP violation and no script error since the last check."""
    bad = [e for e in browser.get_log("browser")
           if "Content Security Policy" in e["message"] or
           "Refused to" in e["message"] or
           "Uncaught" in e["message"]]
    assert bad == [], bad


def _sql(env, sql, params=()):
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture(scope="module")
def seeded(env):
    """The BSUID contact with a question (with reactions) and a played
    voice note that quotes it; another admin user to assign to."""
    cid = _sql(env, "SELECT wadesk_contact(NULL, %s, NULL, %s, %s)",
               (BSUID, "kai." + TOKEN, NAME))[0][0]
    asked = _sql(env, (
        "INSERT INTO messages (direction, sender, receiver, content, status,"
        " contact_id, reactions) VALUES ('inbound', %s, '+15550001111', %s,"
        " 'received', %s, %s) RETURNING id"),
        (BSUID, "Can I move my booking? " + TOKEN, cid, json.dumps([
            {"emoji": "\u2764", "direction": "outbound",
             "timestamp": "2026-01-01T10:00:00Z"}])))[0][0]
    _sql(env, (
        "INSERT INTO messages (direction, sender, receiver, content, status,"
        " contact_id, type, reply_to) VALUES ('outbound', '+15550001111',"
        " %s, '[audio] voice note', 'played', %s, 'audio', %s)"),
        (BSUID, cid, asked))
    _sql(env, "SELECT wadesk_contact_seen(%s, now())", (cid,))
    other = "agent." + TOKEN
    uid = _sql(env, "INSERT INTO admin_users (username, password_hash)"
               " VALUES (%s, 'x') RETURNING id", (other,))[0][0]
    yield {"contact": cid, "other": other, "other_id": uid}
    _sql(env, "UPDATE contacts SET assignee_id = NULL WHERE id = %s", (cid,))
    _sql(env, "DELETE FROM admin_users WHERE id = %s", (uid,))


def _state(env, cid):
    return _sql(env, "SELECT state, assignee_id, wadesk_unread(id, read_upto)"
                " FROM contacts"
                " WHERE id = %s", (cid,))[0]


def test_01_find_and_open_the_bsuid_conversation(browser, env, base_url,
                                                 seeded):
    browser.get(base_url + "/admin/login")
    submit_login(browser, env)
    wait(browser, EC.url_to_be(base_url + "/admin/"))
    browser.find_element(By.LINK_TEXT, "Conversations").click()
    wait(browser, EC.url_contains("/admin/conversations/"))
    row = browser.find_element(
        By.CSS_SELECTOR, 'a[href="/admin/conversations/%d"]'
        % seeded["contact"])
    assert NAME in row.text and "kai." + TOKEN in row.text
    assert row.find_element(By.CSS_SELECTOR, ".unread-count").text == "1"
    row.click()
    wait(browser, EC.url_matches(r"/admin/conversations/%d$"
                                 % seeded["contact"]))
    assert browser.find_element(By.TAG_NAME, "h1").text == NAME
    ident = browser.find_element(By.CSS_SELECTOR, "dl.identity").text
    assert BSUID in ident and "kai." + TOKEN in ident
    assert _state(env, seeded["contact"])[2] == 0, "opening reads it"
    check_console(browser)


def test_02_quote_reactions_and_played(browser, seeded):
    bubbles = browser.find_elements(By.CSS_SELECTOR, "ol.thread .bubble")
    assert len(bubbles) == 2
    asked, answer = bubbles
    assert "in" in asked.get_attribute("class").split()
    reactions = asked.find_elements(By.CSS_SELECTOR, "ul.reactions li")
    assert [r.text for r in reactions] == ["\u2764"]
    quote = answer.find_element(By.CSS_SELECTOR, "blockquote.quote")
    assert "Customer" in quote.text and "Can I move my booking?" in \
        quote.text
    ticks = answer.find_element(By.CSS_SELECTOR, ".ticks")
    assert ticks.get_attribute("aria-label") == "played"
    assert answer.find_element(By.CSS_SELECTOR, ".msg-type").text.lower() \
        == "audio"
    check_console(browser)


def test_03_resolve_reopen_and_assign_by_clicking(browser, env, seeded):
    cid = seeded["contact"]
    browser.find_element(By.ID, "resolve").click()
    wait(browser, EC.url_contains("done=resolved"))
    assert "resolved" in browser.find_element(By.ID, "conv-state").text
    assert _state(env, cid)[0] == "resolved"
    browser.find_element(By.ID, "reopen").click()
    wait(browser, EC.url_contains("done=open"))
    assert _state(env, cid)[0] == "open"

    browser.find_element(By.ID, "assign-me").click()
    wait(browser, EC.url_contains("done=assigned"))
    assert browser.find_element(By.ID, "conv-assignee").text == \
        env["WADESK_ADMIN_USER"]
    assert not browser.find_elements(By.ID, "assign-me")
    Select(browser.find_element(By.ID, "assignee")).select_by_visible_text(
        seeded["other"])
    browser.find_element(By.ID, "assign").click()
    wait(browser, EC.text_to_be_present_in_element(
        (By.ID, "conv-assignee"), seeded["other"]))
    assert _state(env, cid)[1] == seeded["other_id"]
    Select(browser.find_element(By.ID, "assignee")).select_by_visible_text(
        "Nobody")
    browser.find_element(By.ID, "assign").click()
    wait(browser, EC.text_to_be_present_in_element(
        (By.ID, "conv-assignee"), "nobody"))
    assert _state(env, cid)[1] is None
    check_console(browser)


def test_04_reply_goes_to_the_bsuid(browser, env, base_url, seeded):
    cid = seeded["contact"]
    thread = base_url + "/admin/conversations/%d" % cid
    reply = "Yes, done " + TOKEN + " <i>ok</i>"
    last = send_reply(browser, reply)
    assert browser.current_url == thread + "?sent=1"
    assert reply in last.text
    assert _sql(env, "SELECT direction, receiver, contact_id FROM messages"
                " WHERE content = %s", (reply,)) == \
        [("outbound", BSUID, cid)]
    check_console(browser)
