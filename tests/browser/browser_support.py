"""Helpers shared by the browser suites."""

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
