"""Media in Chromium: a customer's photo shows in the conversation (the
image really decodes: naturalWidth > 0), a document is a download link, a
file sent from the reply box comes back as an image in the thread; no CSP
violation, no script error."""

import hashlib
import hmac
import json
import os
import tempfile
import time

import psycopg2
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from browser_support import submit_login, wait
from integ_support import unique_phone, unique_token


def check_console(browser):
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


def _post_media(env, base_url, frm, kind, obj):
    mid = "wamid." + unique_token("b")
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111",
                         "phone_number_id": "110000000000001"},
            "contacts": [{"profile": {"name": "Photo Sender"},
                          "wa_id": frm}],
            "messages": [{"from": frm, "id": mid,
                          "timestamp": str(int(time.time())),
                          "type": kind, kind: obj}]}}]}]}).encode()
    sig = "sha256=" + hmac.new(env["WADESK_APP_SECRET"].encode(), body,
                               hashlib.sha256).hexdigest()
    r = requests.post(base_url + "/api/webhook/", data=body, timeout=10,
                      headers={"Content-Type": "application/json",
                               "X-Hub-Signature-256": sig})
    assert r.status_code == 200, r.text
    return _sql(env, "SELECT contact_id, media_id FROM messages"
                " WHERE provider_message_id = %s", (mid,))[0]


@pytest.fixture(scope="module")
def seeded(env, base_url):
    frm = unique_phone().lstrip("+")
    cid, image = _post_media(env, base_url, frm, "image",
                             {"id": unique_token("I"), "caption": "broken"})
    _, doc = _post_media(env, base_url, frm, "document",
                         {"id": unique_token("D"), "filename": "terms.pdf",
                          "mime_type": "application/pdf"})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        states = _sql(env, "SELECT status FROM media WHERE id IN (%s, %s)",
                      (image, doc))
        if all(s[0] == "stored" for s in states):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the media were not fetched: %s" % states)
    return {"contact": cid, "image": image, "doc": doc}


def _natural_width(browser, img):
    return browser.execute_script(
        "return arguments[0].complete ? arguments[0].naturalWidth : -1", img)


def test_01_photo_shows_and_document_downloads(browser, env, base_url,
                                               seeded):
    browser.get(base_url + "/admin/login")
    submit_login(browser, env)
    wait(browser, EC.url_to_be(base_url + "/admin/"))
    browser.get(base_url + "/admin/conversations/%d" % seeded["contact"])
    img = wait(browser, EC.presence_of_element_located(
        (By.CSS_SELECTOR, 'img[src="/admin/media/%d"]' % seeded["image"])))
    browser.execute_script("arguments[0].scrollIntoView()", img)
    wait(browser, lambda b: _natural_width(b, img) > 0)
    assert _natural_width(browser, img) == 64
    link = browser.find_element(
        By.CSS_SELECTOR, 'a.media-doc[href="/admin/media/%d"]'
        % seeded["doc"])
    assert link.text == "terms.pdf"
    assert link.get_attribute("download") is not None
    # What the link fetches, with the browser's session.
    s = requests.Session()
    for c in browser.get_cookies():
        s.cookies.set(c["name"], c["value"])
    r = s.get(base_url + link.get_attribute("pathname"), timeout=10)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert r.headers["Content-Disposition"] == \
        'attachment; filename="terms.pdf"'
    check_console(browser)


def test_02_send_a_file_from_the_reply_box(browser, env, base_url, seeded):
    png = requests.get(base_url + "/api/media/%d" % seeded["image"],
                       headers={"Authorization": "Bearer " +
                                env["WADESK_API_KEY"]}, timeout=10).content
    fd, path = tempfile.mkstemp(prefix="wadesk-", suffix=".png")
    with os.fdopen(fd, "wb") as f:
        f.write(png)
    try:
        before = len(browser.find_elements(By.CSS_SELECTOR,
                                           "ol.thread .bubble"))
        browser.find_element(By.ID, "reply-file").send_keys(path)
        browser.find_element(By.ID, "reply-content").send_keys(
            "here is the label")
        browser.find_element(By.CSS_SELECTOR,
                             "form.reply button[type=submit]").click()
        wait(browser, EC.url_contains("sent=1"))
    finally:
        os.unlink(path)
    bubbles = browser.find_elements(By.CSS_SELECTOR, "ol.thread .bubble")
    assert len(bubbles) == before + 1
    out = [b for b in bubbles if "here is the label" in b.text]
    assert out and "out" in out[0].get_attribute("class")
    img = out[0].find_element(By.CSS_SELECTOR, "img.media-thumb")
    browser.execute_script("arguments[0].scrollIntoView()", img)
    wait(browser, lambda b: _natural_width(b, img) > 0)
    row = _sql(env, "SELECT m.type, d.mime_type, d.size, d.filename"
               " FROM messages m JOIN media d ON d.id = m.media_id"
               " WHERE m.contact_id = %s AND m.direction = 'outbound'"
               " ORDER BY m.id DESC LIMIT 1", (seeded["contact"],))[0]
    assert row[0] == "image" and row[1] == "image/png"
    assert row[2] == len(png) and row[3].endswith(".png")
    check_console(browser)
