"""A customer whose 24-hour window closed, in Chromium, with the simulator
playing WhatsApp's window (WADESK_SIM_WINDOW=1 on the workers for this
module): no free-form box, the template chooser in its place, and the
template sent from it reaches the thread."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select

from browser_support import check_console, sql, submit_login, wait
from integ_support import (restart_stack, sync_templates, unique_phone,
                           unique_token)

PHONE = unique_phone()
TOKEN = unique_token("wb")


@pytest.fixture(scope="module")
def closed(env, base_url):
    sync_templates(env)
    cid = sql(env, "SELECT wadesk_contact(%s, NULL, NULL, NULL, 'Ana')",
               (PHONE,))[0][0]
    sql(env, (
        "INSERT INTO messages (direction, sender, receiver, content, status,"
        " contact_id, created_at) VALUES ('inbound', %s, '+15550001111', %s,"
        " 'received', %s, now() - interval '30 hours')"),
        (PHONE, "Hello? " + TOKEN, cid))
    sql(env, "SELECT wadesk_contact_seen(%s, now() - interval '30 hours')",
         (cid,))
    restart_stack(env, base_url, ("serve",), WADESK_SIM_WINDOW="1")
    try:
        yield cid
    finally:
        restart_stack(env, base_url, ("serve",), WADESK_SIM_WINDOW=None)


def test_closed_window_offers_the_template_chooser(browser, env, base_url,
                                                   closed):
    browser.get(base_url + "/admin/conversations/%d" % closed)
    if "/admin/login" in browser.current_url:
        submit_login(browser, env)
        wait(browser, EC.url_contains("/admin/conversations/%d" % closed))
    assert "The 24-hour window closed at" in browser.find_element(
        By.ID, "window").text
    assert browser.find_elements(By.ID, "reply-content") == []
    Select(browser.find_element(By.ID, "template-choose")) \
        .select_by_value("appointment_reminder/en")
    browser.find_element(By.CSS_SELECTOR,
                         "form.compose-choose button[type=submit]").click()
    wait(browser, EC.presence_of_element_located((By.ID, "tp-2")))
    browser.find_element(By.ID, "tp-1").send_keys("Ana")
    browser.find_element(By.ID, "tp-2").send_keys("Monday " + TOKEN)
    browser.find_element(By.CSS_SELECTOR,
                         "form.compose-choose button[type=submit]").click()
    preview = wait(browser, EC.presence_of_element_located(
        (By.CSS_SELECTOR, ".preview-text"))).text
    assert preview.startswith("Hi Ana, this is a reminder of your "
                              "appointment on Monday " + TOKEN)
    browser.find_element(By.CSS_SELECTOR,
                         "form.compose-send button[type=submit]").click()
    wait(browser, EC.url_contains("sent=1"))
    last = browser.find_elements(By.CSS_SELECTOR, "ol.thread .bubble")[-1]
    assert last.find_element(By.CSS_SELECTOR, ".bubble-text").text == \
        preview
    check_console(browser)
