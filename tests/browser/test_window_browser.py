"""A customer whose 24-hour window closed, in Chromium, with the simulator
playing WhatsApp's window (WADESK_SIM_WINDOW=1 on the workers for this
module): no free-form box, the template chooser in its place, and the
template sent from it reaches the thread."""

import subprocess
from pathlib import Path

import psycopg2
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select

from browser_support import submit_login, wait
from fake_cloudapi import read_pid, stop_pid
from integ_support import (ROOT, STACK_SH, stack_env, sync_templates,
                           unique_phone, unique_token, wait_until)

PHONE = unique_phone()
TOKEN = unique_token("wb")


def _sql(env, sql, params=()):
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _restart(env, base_url, **extra):
    var = env["WADESK_VAR"]
    stop_pid(read_pid(Path(var) / "pids" / "serve.pid"))
    child = stack_env(env)
    child.pop("WADESK_SIM_WINDOW", None)
    child.update(extra)
    p = subprocess.run(["sh", str(STACK_SH), "start", var], env=child,
                       cwd=str(ROOT), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]

    def ready():
        try:
            return requests.get(base_url + "/readyz",
                                timeout=2).status_code == 200
        except requests.RequestException:
            return False
    assert wait_until(ready, 20), "the stack did not come back"


@pytest.fixture(scope="module")
def closed(env, base_url):
    sync_templates(env)
    cid = _sql(env, "SELECT wadesk_contact(%s, NULL, NULL, NULL, 'Ana')",
               (PHONE,))[0][0]
    _sql(env, (
        "INSERT INTO messages (direction, sender, receiver, content, status,"
        " contact_id, created_at) VALUES ('inbound', %s, '+15550001111', %s,"
        " 'received', %s, now() - interval '30 hours')"),
        (PHONE, "Hello? " + TOKEN, cid))
    _sql(env, "SELECT wadesk_contact_seen(%s, now() - interval '30 hours')",
         (cid,))
    _restart(env, base_url, WADESK_SIM_WINDOW="1")
    try:
        yield cid
    finally:
        _restart(env, base_url)


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
    bad = [e for e in browser.get_log("browser")
           if "Content Security Policy" in e["message"] or
           "Refused to" in e["message"] or "Uncaught" in e["message"]]
    assert bad == [], bad
