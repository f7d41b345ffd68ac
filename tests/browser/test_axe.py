"""Every admin page against axe-core's WCAG 2.1 A and AA rules, in Chromium.

axe-core is the version pinned in tests/lint/package.json, installed into
tests/lint/node_modules at test time (tests/lint/npm_tools.py); without it
(no node/npm, or the npm registry unreachable) these tests skip and say
why. The pages' CSP allows no inline script, but WebDriver's
execute_script is not subject to it: axe is injected that way.

The pages are checked with data that shows every style they have: the
message list and the thread hold an outbound message in each status
(queued, sent, delivered, read, failed with its error) and an inbound one
from a named contact; the send form is shown with its errors; the message
page is the failed one, with its history.
"""

import json
import sys
import time
from pathlib import Path

import psycopg2
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from browser_support import submit_login, wait
from integ_support import json_bytes, sign, unique_phone, unique_token

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lint"))
import npm_tools  # noqa: E402

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TOKEN = unique_token("axe")
CUSTOMER = unique_phone()
BSUID = "US.%d" % int(TOKEN[3:], 16)
OUTBOUND_STATUSES = ("queued", "sent", "delivered", "read", "failed")


@pytest.fixture(scope="module")
def axe_js():
    ok, why = npm_tools.ensure()
    if not ok:
        pytest.skip("axe-core is not available: %s" % why)
    return npm_tools.axe_source()


def _api(env):
    return {"Authorization": "Bearer " + env["WADESK_API_KEY"],
            "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def seeded(env, base_url, axe_js):
    """An inbound message from a named contact, then one outbound message
    per status, all in one conversation. Returns {status: message id}."""
    wa = CUSTOMER.lstrip("+")
    body = json_bytes({"object": "whatsapp_business_account", "entry": [{
        "id": "WABA_ID", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111",
                         "phone_number_id": "110000000000001"},
            "contacts": [{"profile": {"name": "Ana Axe"}, "wa_id": wa}],
            "messages": [{"from": wa, "id": "wamid." + TOKEN,
                          "timestamp": str(int(time.time()) - 60),
                          "type": "text",
                          "text": {"body": TOKEN + " where is my order?"}}],
        }}]}]})
    r = requests.post(base_url + "/api/webhook/", data=body, timeout=10,
                      headers={"Content-Type": "application/json",
                               "X-Hub-Signature-256": sign(
                                   env["WADESK_APP_SECRET"], body)})
    assert r.status_code == 200, r.text
    ids = {}
    for status in OUTBOUND_STATUSES:
        r = requests.post(base_url + "/api/send-message/", headers=_api(env),
                          timeout=10, data=json_bytes({
                              "sender": "+15550001111", "receiver": CUSTOMER,
                              "content": "%s will be %s" % (TOKEN, status)}))
        assert r.status_code == 201, r.text
        ids[status] = r.json()["id"]
    # Let the simulated provider take each one to its end (read), so that
    # nothing moves them on once they are set to the status they stand for.
    deadline = time.monotonic() + 30
    for msg_id in ids.values():
        while True:
            r = requests.get(base_url + "/api/messages/%d/" % msg_id,
                             headers=_api(env), timeout=10)
            if r.json().get("status") == "read":
                break
            if time.monotonic() > deadline:
                pytest.fail("message %d never reached read: %s" % (
                    msg_id, r.text[:300]))
            time.sleep(0.2)
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # Not sim.* ids: the simulator would move sent and delivered on.
            for status in ("queued", "sent", "delivered"):
                cur.execute(
                    "UPDATE messages SET status = %s, provider_message_id = "
                    "CASE WHEN %s = 'queued' THEN NULL ELSE %s END "
                    "WHERE id = %s",
                    (status, status, "wamid.%s.%s" % (TOKEN, status),
                     ids[status]))
            cur.execute(
                "UPDATE messages SET status = 'failed', error_code = "
                "'131047', error_message = 'Re-engagement message: more "
                "than 24 hours since the customer last wrote' WHERE id = %s",
                (ids["failed"],))
            cur.execute(
                "INSERT INTO message_events (message_id, status, detail) "
                "VALUES (%s, 'failed', %s)",
                (ids["failed"], json.dumps({"errors": [{
                    "code": 131047, "title": "Re-engagement message"}]})))
            # A customer known only by a BSUID, resolved and assigned,
            # with a quoted reply, reactions, a type and the played status.
            cur.execute(
                "SELECT wadesk_contact(NULL, %s, 'US.ENT.77', %s, %s)",
                (BSUID, "kai." + TOKEN, "Kai Axe"))
            cid = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO messages (direction, sender, receiver, content,"
                " status, contact_id, reactions) VALUES ('inbound', %s,"
                " '+15550001111', %s, 'received', %s, %s) RETURNING id",
                (BSUID, TOKEN + " can I change my booking?", cid,
                 json.dumps([{"emoji": "\U0001F44D",
                              "direction": "outbound",
                              "timestamp": "2026-01-01T10:00:00Z"}])))
            asked = cur.fetchone()[0]
            cur.execute(
                "INSERT INTO messages (direction, sender, receiver, content,"
                " status, contact_id, type, reply_to) VALUES ('outbound',"
                " '+15550001111', %s, '[audio] voice note', 'played', %s,"
                " 'audio', %s)", (BSUID, cid, asked))
            cur.execute(
                "UPDATE contacts SET state = 'resolved', last_inbound_at ="
                " now(), assignee_id = (SELECT id FROM admin_users"
                " WHERE username = %s) WHERE id = %s",
                (env["WADESK_ADMIN_USER"], cid))
            ids["bsuid_contact"] = cid
    finally:
        conn.close()
    return ids


def _log_in(browser, env, base_url):
    if browser.get_cookie("wadesk_session"):
        return
    browser.get(base_url + "/admin/login")
    submit_login(browser, env)
    wait(browser, EC.url_to_be(base_url + "/admin/"))


def _page_login(browser, env, base_url, ids):
    browser.delete_all_cookies()
    browser.get(base_url + "/admin/login")


def _page_logged_out(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/")
    browser.find_element(By.CSS_SELECTOR,
                         "form.logout button[type=submit]").click()
    wait(browser, EC.url_contains("/admin/login?out=1"))
    browser.find_element(By.CSS_SELECTOR, ".notice")


def _page_dashboard(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/")
    browser.find_element(By.CSS_SELECTOR, "svg.chart")


def _page_messages(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/messages/")
    text = browser.find_element(By.CSS_SELECTOR, "table.messages").text
    for status in OUTBOUND_STATUSES + ("received",):
        assert status in text, "the list shows no %s message" % status


def _page_messages_filtered(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/messages/?status=failed&q=" + TOKEN)
    browser.find_element(By.CSS_SELECTOR, "table.messages")


def _page_message(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/messages/%d" % ids["failed"])
    browser.find_element(By.CSS_SELECTOR, "ol.timeline")


def _page_send_form_errors(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/messages/new")
    browser.find_element(By.ID, "field-receiver").send_keys("12<ab>")
    browser.find_element(By.CSS_SELECTOR,
                         "form.send-form button[type=submit]").click()
    wait(browser, EC.presence_of_element_located((By.ID, "receiver-error")))


def _page_conversations(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/conversations/")
    assert CUSTOMER in browser.find_element(By.CSS_SELECTOR,
                                            "ul.conversations").text


def _page_conversations_resolved(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/conversations/?filter=resolved")
    assert "Kai Axe" in browser.find_element(By.CSS_SELECTOR,
                                             "ul.conversations").text


def _page_conversations_empty(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/conversations/?filter=mine"
                "&before_id=999999999999")
    browser.find_element(By.CSS_SELECTOR, "p.empty")


def _page_thread(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    # The old phone-digit URL leads to the contact's thread.
    browser.get(base_url + "/admin/conversations/" + CUSTOMER.lstrip("+"))
    bubbles = browser.find_elements(By.CSS_SELECTOR, "ol.thread .bubble")
    assert len(bubbles) >= 6, len(bubbles)


def _page_thread_template(browser, env, base_url, ids):
    """The template chooser with a template chosen, filled and previewed,
    and the quote of a message in the reply box's place."""
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/conversations/%d?template=order_update/"
                "en&p.1=Ana&p.2=A-1&p.3=ready" % ids["bsuid_contact"])
    browser.find_element(By.CSS_SELECTOR, ".compose-preview")
    browser.find_element(By.CSS_SELECTOR, "form.compose-send")


def _page_send_template(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/messages/new?to=%2B34600111222&"
                "template=delivery_window/en")
    browser.find_element(By.ID, "tp-first_name")


def _page_thread_bsuid(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/conversations/%d?done=resolved"
                % ids["bsuid_contact"])
    browser.find_element(By.CSS_SELECTOR, "blockquote.quote")
    browser.find_element(By.CSS_SELECTOR, "ul.reactions")
    browser.find_element(By.CSS_SELECTOR, ".ticks-played")
    browser.find_element(By.ID, "reopen")


def _page_endpoints(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/endpoints/")
    browser.find_element(By.ID, "field-url")


def _page_not_found(browser, env, base_url, ids):
    _log_in(browser, env, base_url)
    browser.get(base_url + "/admin/no-such-page")
    browser.find_element(By.CSS_SELECTOR, ".error-page")


# In this order: the login page before logging in, the logged-out notice
# last.
PAGES = [
    ("login", _page_login),
    ("dashboard", _page_dashboard),
    ("message-list", _page_messages),
    ("message-list-filtered", _page_messages_filtered),
    ("message-detail", _page_message),
    ("send-form-with-errors", _page_send_form_errors),
    ("conversations", _page_conversations),
    ("conversations-resolved", _page_conversations_resolved),
    ("conversations-empty", _page_conversations_empty),
    ("conversation-thread", _page_thread),
    ("conversation-bsuid-resolved", _page_thread_bsuid),
    ("conversation-template", _page_thread_template),
    ("send-form-template", _page_send_template),
    ("endpoints", _page_endpoints),
    ("error-page", _page_not_found),
    ("logged-out", _page_logged_out),
]


def run_axe(browser, axe_js):
    """axe.run on the current page; returns its violations."""
    if not browser.execute_script("return typeof window.axe === 'object'"):
        browser.execute_script(axe_js)
    browser.set_script_timeout(60)
    out = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "window.axe.run(document, {runOnly: {type: 'tag', values: %s},"
        " resultTypes: ['violations']})"
        ".then(function (r) { done(JSON.stringify(r.violations)); },"
        " function (e) { done('axe failed: ' + e); });" % json.dumps(TAGS))
    if not out.startswith("["):
        pytest.fail(out)
    return json.loads(out)


def describe(url, violations):
    """The violations, one rule a paragraph, one offending element a line,
    with axe's own summary of what is wrong (the colours and the ratio for
    color-contrast)."""
    lines = ["%s: %d axe violation(s)" % (url, len(violations))]
    for v in violations:
        lines.append("- %s (%s): %s [%s]" % (v["id"], v.get("impact"),
                                             v["help"], v["helpUrl"]))
        for node in v["nodes"]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append("    %s  %s" % (" ".join(
                str(t) for t in node["target"]), summary))
            lines.append("      %s" % node.get("html", "")[:200])
    return "\n".join(lines)


@pytest.mark.parametrize("name,visit", PAGES, ids=[p[0] for p in PAGES])
def test_admin_page_has_no_axe_violations(browser, env, base_url, shots,
                                          axe_js, seeded, name, visit):
    visit(browser, env, base_url, seeded)
    violations = run_axe(browser, axe_js)
    if violations:
        browser.save_screenshot(str(shots / ("axe-%s.png" % name)))
    assert violations == [], describe(browser.current_url, violations)
