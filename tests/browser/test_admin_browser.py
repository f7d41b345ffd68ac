"""The admin pages in Chromium: log in, the dashboard chart, filtering and
searching the list, the send form (invalid, then valid), a conversation
reply, a forged form refused, log out; no CSP violation, no script run."""

import re
import time

import pytest
import requests
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select

from browser_support import send_reply, submit_login, wait
from integ_support import sign, json_bytes, unique_phone, unique_token

# Typed into the form: ChromeDriver before 151 refuses characters outside
# the BMP in send_keys, so the typed text keeps to the BMP (the integration
# tests cover emoji).
XSS = "<script>alert('pwned')</script> & \"q\" \u2713 \u00e9"
TOKEN = unique_token("br")
CUSTOMER = unique_phone()



def check_console(browser):
    """No CSP violation and no script error since the last check."""
    bad = [e for e in browser.get_log("browser")
           if "Content Security Policy" in e["message"] or
           "Refused to" in e["message"] or
           "Uncaught" in e["message"]]
    assert bad == [], bad


def no_alert(browser):
    try:
        alert = browser.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    pytest.fail("a script ran: alert(%r)" % text)


def shot(browser, shots, name):
    browser.save_screenshot(str(shots / ("%s.png" % name)))


def count_messages(db):
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM messages")
        return cur.fetchone()[0]


@pytest.fixture(scope="module", autouse=True)
def seed(env, base_url):
    """Messages to find: outbound ones carrying TOKEN (one with a script
    in it) and an inbound one from CUSTOMER."""
    h = {"Authorization": "Bearer " + env["WADESK_API_KEY"],
         "Content-Type": "application/json"}
    for content in ("%s plain" % TOKEN, "%s %s" % (TOKEN, XSS),
                    "%s third" % TOKEN):
        r = requests.post(base_url + "/api/send-message/", headers=h,
                          timeout=10, data=json_bytes({
                              "sender": "+15550001111",
                              "receiver": CUSTOMER, "content": content}))
        assert r.status_code == 201, r.text
    body = json_bytes({"sender": CUSTOMER, "content": TOKEN + " help me"})
    r = requests.post(base_url + "/api/webhook/", data=body, timeout=10,
                      headers={"Content-Type": "application/json",
                               "X-Hub-Signature-256": sign(
                                   env["WADESK_APP_SECRET"], body)})
    assert r.status_code == 200, r.text


def test_01_without_login_the_browser_lands_on_the_login(browser, base_url,
                                                         shots):
    browser.get(base_url + "/admin/messages/")
    assert "/admin/login?next=" in browser.current_url
    assert browser.find_element(By.ID, "password").get_attribute("type") \
        == "password"
    shot(browser, shots, "01-login")
    check_console(browser)


def test_02_login_returns_to_the_page_asked_for(browser, env, base_url):
    submit_login(browser, env)
    wait(browser, EC.url_to_be(base_url + "/admin/messages/"))
    cookie = browser.get_cookie("wadesk_session")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    check_console(browser)


def test_03_dashboard_shows_the_svg_chart(browser, base_url, shots):
    browser.get(base_url + "/admin/")
    chart = browser.find_element(By.CSS_SELECTOR, "svg.chart")
    assert chart.is_displayed()
    assert chart.size["width"] > 300 and chart.size["height"] > 100
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
    assert len(bars) == 48
    labels = [t.text for t in browser.find_elements(
        By.CSS_SELECTOR, "svg.chart text.x-label")]
    assert len(labels) >= 8 and all(re.fullmatch(r"\d\d:00", x)
                                    for x in labels), labels
    # The stylesheet applied (served by nginx, allowed by the CSP).
    fill = browser.execute_script(
        "return getComputedStyle(document.querySelector("
        "'svg.chart rect.bar-out')).fill")
    assert fill not in ("", "rgb(0, 0, 0)"), fill
    assert "Inbound" in browser.find_element(By.CSS_SELECTOR,
                                             ".cards").text
    shot(browser, shots, "02-dashboard")
    check_console(browser)


def test_04_filter_and_search_the_list(browser, base_url, shots):
    browser.find_element(By.LINK_TEXT, "Messages").click()
    wait(browser, EC.url_contains("/admin/messages/"))
    box = browser.find_element(By.ID, "filter-q")
    box.clear()
    box.send_keys(TOKEN)
    Select(browser.find_element(By.ID, "filter-direction")) \
        .select_by_value("outbound")
    browser.find_element(By.CSS_SELECTOR,
                         "form.filters button[type=submit]").click()
    wait(browser, EC.url_contains("q=" + TOKEN))
    assert "direction=outbound" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "table.messages tbody tr")
    assert len(rows) == 3
    assert all(TOKEN in r.text for r in rows)
    assert all("outbound" in r.text for r in rows)
    # The script in a message is text, and did not run.
    assert any("<script>alert('pwned')</script>" in r.text for r in rows)
    no_alert(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "td.content script") == []
    assert browser.find_element(By.ID, "filter-q").get_attribute("value") \
        == TOKEN
    shot(browser, shots, "03-messages-filtered")
    # The inbound one with the other direction; a status chip.
    Select(browser.find_element(By.ID, "filter-direction")) \
        .select_by_value("inbound")
    browser.find_element(By.CSS_SELECTOR,
                         "form.filters button[type=submit]").click()
    wait(browser, EC.url_contains("direction=inbound"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.messages tbody tr")
    assert len(rows) == 1 and "help me" in rows[0].text
    browser.find_element(By.CSS_SELECTOR, "a.chip-received").click()
    wait(browser, EC.url_contains("status=received"))
    assert all("received" in r.text for r in browser.find_elements(
        By.CSS_SELECTOR, "table.messages tbody tr"))
    check_console(browser)


def test_05_send_message_invalid_then_valid(browser, base_url, shots, db):
    browser.get(base_url + "/admin/messages/")
    browser.find_element(By.ID, "send-message").click()
    wait(browser, EC.url_to_be(base_url + "/admin/messages/new"))
    before = count_messages(db)
    # The sender: a choice of the business numbers (the stack has one),
    # else a text field.
    sender = browser.find_element(By.ID, "field-sender")
    if sender.tag_name == "select":
        Select(sender).select_by_value("+15550001111")
    else:
        sender.clear()
        sender.send_keys("+15550001111")
    browser.find_element(By.ID, "field-receiver").send_keys("12<ab>")
    browser.find_element(By.CSS_SELECTOR,
                         "form.send-form button[type=submit]").click()
    wait(browser, EC.presence_of_element_located((By.ID, "receiver-error")))
    assert "phone number" in browser.find_element(By.ID,
                                                  "receiver-error").text
    assert "content" in browser.find_element(By.ID, "content-error").text
    assert browser.find_element(By.ID, "field-receiver") \
        .get_attribute("value") == "12<ab>"
    assert browser.find_element(By.ID, "field-sender") \
        .get_attribute("value") == "+15550001111"
    assert count_messages(db) == before
    shot(browser, shots, "04-send-invalid")
    check_console(browser)

    receiver = browser.find_element(By.ID, "field-receiver")
    receiver.clear()
    receiver.send_keys(CUSTOMER)
    content = "From the browser " + TOKEN + " " + XSS
    browser.find_element(By.ID, "field-content").send_keys(content)
    browser.find_element(By.CSS_SELECTOR,
                         "form.send-form button[type=submit]").click()
    wait(browser, EC.url_matches(r"/admin/messages/\d+\?sent=1$"))
    assert "Message queued for delivery" in browser.find_element(
        By.CSS_SELECTOR, ".notice").text
    assert browser.find_element(By.CSS_SELECTOR,
                                ".message-content").text == content
    no_alert(browser)
    assert count_messages(db) == before + 1
    shot(browser, shots, "05-message-page")
    check_console(browser)


def test_06_open_the_conversation_and_reply(browser, base_url, shots):
    browser.find_element(By.LINK_TEXT, "Open conversation").click()
    # Conversations are addressed by contact id.
    wait(browser, EC.url_matches(r"/admin/conversations/\d+$"))
    thread = browser.current_url
    bubbles = browser.find_elements(By.CSS_SELECTOR, "ol.thread .bubble")
    assert len(bubbles) >= 5
    # The message just sent is the newest bubble, on our side, as text.
    assert "From the browser " + TOKEN in bubbles[-1].text
    assert "<script>alert('pwned')</script>" in bubbles[-1].text
    assert any("help me" in b.text for b in bubbles)
    inbound = [b for b in bubbles if "in" in b.get_attribute("class").split()]
    outbound = [b for b in bubbles
                if "out" in b.get_attribute("class").split()]
    assert inbound and outbound
    # Inbound on the left, outbound on the right.
    assert inbound[0].location["x"] < outbound[0].location["x"]
    reply = "Thanks, " + TOKEN + " & done"
    last = send_reply(browser, reply)
    assert browser.current_url == thread + "?sent=1"
    assert reply in last.text
    assert "out" in last.get_attribute("class").split()
    assert last.find_elements(By.CSS_SELECTOR, ".ticks")
    shot(browser, shots, "06-conversation")
    browser.get(base_url + "/admin/conversations/?filter=all")
    assert CUSTOMER in browser.find_element(By.CSS_SELECTOR,
                                            "ul.conversations").text
    shot(browser, shots, "07-conversations")
    check_console(browser)


def test_07_a_forged_form_without_csrf_is_refused(browser, base_url, db,
                                                  tmp_path):
    """A page elsewhere with a form that posts to the send form (no token):
    nothing is stored, whatever the browser sends along."""
    forged = tmp_path / "forged.html"
    forged.write_text(
        '<!DOCTYPE html><form method="post" action="%s/admin/messages/new">'
        '<input name="sender" value="+15550001111">'
        '<input name="receiver" value="%s">'
        '<input name="content" value="forged %s">'
        '<button id="go" type="submit">go</button></form>'
        % (base_url, CUSTOMER, TOKEN), encoding="utf-8")
    before = count_messages(db)
    browser.get(forged.as_uri())
    browser.find_element(By.ID, "go").click()
    wait(browser, EC.url_contains(base_url))
    time.sleep(0.3)
    assert count_messages(db) == before
    # SameSite=Lax keeps the session cookie off a cross-site POST (the
    # app then sends the browser to the login, which, logged in, goes on
    # to the dashboard); without that, the missing token is a 403.
    assert not re.search(r"/admin/messages/\d+", browser.current_url)
    assert "queued for delivery" not in browser.find_element(
        By.TAG_NAME, "body").text
    browser.get_log("browser")     # the file page's own noise


def test_08_log_out(browser, base_url, shots):
    browser.get(base_url + "/admin/")
    browser.find_element(By.CSS_SELECTOR,
                         "form.logout button[type=submit]").click()
    wait(browser, EC.url_contains("/admin/login?out=1"))
    assert "logged out" in browser.find_element(By.CSS_SELECTOR,
                                                ".notice").text
    assert browser.get_cookie("wadesk_session") is None
    shot(browser, shots, "08-logged-out")
    browser.get(base_url + "/admin/")
    assert "/admin/login" in browser.current_url
    check_console(browser)


def test_09_phone_width(browser, env, base_url, shots):
    """The pages fit a phone: no horizontal scrolling of the page."""
    browser.set_window_size(390, 844)
    browser.get(base_url + "/admin/login")
    submit_login(browser, env)
    wait(browser, EC.url_to_be(base_url + "/admin/"))
    for path, name in (("/admin/", "09-phone-dashboard"),
                       ("/admin/messages/", "10-phone-messages"),
                       # The old phone-digit URL leads to the thread.
                       ("/admin/conversations/" + CUSTOMER.lstrip("+"),
                        "11-phone-conversation")):
        browser.get(base_url + path)
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth > "
            "document.documentElement.clientWidth + 1")
        assert not wide, path
        shot(browser, shots, name)
    check_console(browser)
