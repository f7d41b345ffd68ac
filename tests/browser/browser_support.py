"""Helpers shared by the browser suites."""

import psycopg2
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def wait(browser, cond, timeout=10):
    return WebDriverWait(browser, timeout).until(cond)


def submit_login(browser, env):
    """Fills the login form on the current page with the stack's admin
    user and submits it."""
    browser.find_element(By.ID, "username").send_keys(
        env["WADESK_ADMIN_USER"])
    browser.find_element(By.ID, "password").send_keys(
        env["WADESK_ADMIN_PASSWORD"])
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def send_reply(browser, text):
    """Types text into an open conversation's reply box, sends it, waits
    for the thread to come back, and returns the last bubble."""
    browser.find_element(By.ID, "reply-content").send_keys(text)
    browser.find_element(By.CSS_SELECTOR,
                         "form.reply button[type=submit]").click()
    wait(browser, EC.url_contains("sent=1"))
    return browser.find_elements(By.CSS_SELECTOR, "ol.thread .bubble")[-1]


def sql(env, query, params=()):
    """Runs one statement on the stack's database; its rows, if any."""
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def check_console(browser):
    """No CSP violation and no script error since the last check."""
    bad = [e for e in browser.get_log("browser")
           if "Content Security Policy" in e["message"] or
           "Refused to" in e["message"] or "Uncaught" in e["message"]]
    assert bad == [], bad
