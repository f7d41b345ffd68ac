"""Answering beyond text in Chromium, as an agent does it: a template
chosen, filled and previewed in a conversation, and what is sent is what
the preview showed; a reaction from the buttons under the customer's
message; a quoted reply; the page at phone width; no CSP violation, no
script error."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select

from browser_support import (check_console, send_reply, sql, submit_login,
                             wait)
from integ_support import sync_templates, unique_phone, unique_token

TOKEN = unique_token("cp")
PHONE = unique_phone()
QUESTION = "Is my order ready? " + TOKEN


@pytest.fixture(scope="module")
def seeded(env):
    """A customer who wrote a minute ago; the sample templates."""
    sync_templates(env)
    cid = sql(env, "SELECT wadesk_contact(%s, NULL, NULL, NULL, 'Ana')",
               (PHONE,))[0][0]
    mid = sql(env, (
        "INSERT INTO messages (direction, sender, receiver, content, status,"
        " contact_id, created_at) VALUES ('inbound', %s, '+15550001111', %s,"
        " 'received', %s, now() - interval '1 minute') RETURNING id"),
        (PHONE, QUESTION, cid))[0][0]
    sql(env, "SELECT wadesk_contact_seen(%s, now() - interval '1 minute')",
         (cid,))
    return {"contact": cid, "question": mid}


def _open(browser, base_url, env, cid):
    browser.get(base_url + "/admin/conversations/%d" % cid)
    if "/admin/login" in browser.current_url:
        submit_login(browser, env)
        wait(browser, EC.url_contains("/admin/conversations/%d" % cid))


def test_01_template_preview_is_what_is_sent(browser, env, base_url,
                                             seeded):
    _open(browser, base_url, env, seeded["contact"])
    assert "Free-form replies until" in browser.find_element(
        By.ID, "window").text
    browser.find_element(By.LINK_TEXT, "Send a template instead").click()
    wait(browser, EC.presence_of_element_located((By.ID,
                                                  "template-choose")))
    Select(browser.find_element(By.ID, "template-choose")) \
        .select_by_value("order_update/en")
    browser.find_element(By.CSS_SELECTOR,
                         "form.compose-choose button[type=submit]").click()
    wait(browser, EC.presence_of_element_located((By.ID, "tp-1")))
    labels = [e.text for e in browser.find_elements(
        By.CSS_SELECTOR, "form.compose-choose label[for^=tp-]")]
    assert labels == ["{{1}}", "{{2}}", "{{3}}"]
    for n, v in (("1", "Ana"), ("2", "A-" + TOKEN), ("3", "ready")):
        browser.find_element(By.ID, "tp-" + n).send_keys(v)
    browser.find_element(By.CSS_SELECTOR,
                         "form.compose-choose button[type=submit]").click()
    preview = wait(browser, EC.presence_of_element_located(
        (By.CSS_SELECTOR, ".compose-preview .preview-text"))).text
    assert preview == "Hi Ana, your order A-%s is ready." % TOKEN
    browser.find_element(By.CSS_SELECTOR,
                         "form.compose-send button[type=submit]").click()
    wait(browser, EC.url_contains("sent=1"))
    last = browser.find_elements(By.CSS_SELECTOR, "ol.thread .bubble")[-1]
    assert last.find_element(By.CSS_SELECTOR, ".bubble-text").text == \
        preview
    assert last.find_element(By.CSS_SELECTOR, ".msg-type").text.lower() == \
        "template"
    check_console(browser)


def test_02_reaction_button(browser, env, base_url, seeded):
    _open(browser, base_url, env, seeded["contact"])
    form = browser.find_element(By.ID, "react-%d" % seeded["question"])
    form.find_element(By.CSS_SELECTOR,
                      'button[aria-label="React with \u2764\ufe0f"]').click()
    wait(browser, EC.url_contains("done=reacted"))
    bubble = browser.find_element(By.ID, "m%d" % seeded["question"])
    assert "\u2764" in bubble.find_element(By.CSS_SELECTOR,
                                           ".reactions").text
    row = sql(env, "SELECT reactions FROM messages WHERE id = %s",
               (seeded["question"],))[0][0]
    assert [(r["emoji"], r["direction"]) for r in row] == \
        [("\u2764\ufe0f", "outbound")]
    check_console(browser)


def test_03_quote_in_the_reply(browser, env, base_url, seeded):
    _open(browser, base_url, env, seeded["contact"])
    bubble = browser.find_element(By.ID, "m%d" % seeded["question"])
    bubble.find_element(By.CSS_SELECTOR, "a.quote-link").click()
    wait(browser, EC.presence_of_element_located(
        (By.CSS_SELECTOR, "blockquote.reply-quote")))
    assert QUESTION in browser.find_element(
        By.CSS_SELECTOR, "blockquote.reply-quote").text
    last = send_reply(browser, "Yes, it is. " + TOKEN)
    assert QUESTION in last.find_element(By.CSS_SELECTOR,
                                         "blockquote.quote").text
    check_console(browser)


def test_04_phone_width_fits(browser, env, base_url, seeded):
    browser.set_window_size(390, 844)
    try:
        _open(browser, base_url, env, seeded["contact"])
        browser.get(base_url + "/admin/conversations/%d?template="
                    "order_update/en&p.1=Ana&p.2=A-1&p.3=ready"
                    % seeded["contact"])
        wide = browser.execute_script(
            "return document.documentElement.scrollWidth >"
            " document.documentElement.clientWidth")
        assert wide is False, "the page scrolls sideways at phone width"
        assert browser.find_element(
            By.CSS_SELECTOR, "form.compose-send button").is_displayed()
        check_console(browser)
    finally:
        browser.set_window_size(1280, 900)
