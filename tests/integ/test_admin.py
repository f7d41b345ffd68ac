"""The admin pages: login, sessions, CSRF, security headers, escaping, the
message list, the send form, retry, conversations and login throttling."""

import os
import re
import subprocess
import time
from urllib.parse import quote, unquote, urlsplit

import pytest

from admin_support import (CSP, Admin, assert_html, assert_security_headers,
                           csrf_of, escaped, fcgi)
from integ_support import (STACK_SH, json_bytes, unique_phone,
                           unique_token, user_add, wait_until)

XSS = "<script>alert(\"x\")</script> & 'quoted' \U0001F600 <img src=x onerror=alert(1)>"




@pytest.fixture
def guest(base_url):
    a = Admin(base_url)
    yield a
    a.close()



def _digits(phone):
    return phone.lstrip("+")


def _contact(query, phone):
    """The id of the contact with this phone (conversation URLs use it)."""
    return query("SELECT id FROM contacts WHERE phone = %s", (phone,))[0][0]


# ------------------------------------------------------------ login

@pytest.mark.parametrize("path,next_", [
    ("/admin/", None),
    ("/admin", None),
    ("/admin/messages/", "/admin/messages/"),
    ("/admin/messages/?status=failed&q=a%20b", "/admin/messages/?status=failed&q=a%20b"),
    ("/admin/messages/1", "/admin/messages/1"),
    ("/admin/messages/new", "/admin/messages/new"),
    ("/admin/conversations/", "/admin/conversations/"),
    ("/admin/conversations/15551234567", "/admin/conversations/15551234567"),
])
def test_pages_without_session_redirect_to_login(guest, path, next_):
    r = guest.get(path)
    assert r.status_code == 303, r.text[:200]
    assert_security_headers(r)
    loc = r.headers["Location"]
    if next_ is None:
        assert loc == "/admin/login"
    else:
        assert loc.startswith("/admin/login?next=")
        assert unquote(loc.split("=", 1)[1]) == next_


def test_posts_without_session_change_nothing(guest, count_rows):
    before = count_rows("messages")
    r = guest.post("/admin/messages/new", data={
        "receiver": unique_phone(), "sender": unique_phone(),
        "content": "no session"})
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/admin/login")
    assert count_rows("messages") == before


def test_login_form_and_login_lands_on_next(env, guest):
    r = guest.get("/admin/login?next=/admin/messages/%3Fstatus%3Dfailed")
    assert_html(r, 200)
    assert 'name="password"' in r.text and 'type="password"' in r.text
    assert 'value="/admin/messages/?status=failed"' in r.text
    r = guest.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"],
                    next_="/admin/messages/?status=failed")
    assert r.headers["Location"] == "/admin/messages/?status=failed"
    r = guest.get("/admin/messages/?status=failed")
    assert_html(r, 200)
    assert escaped(env["WADESK_ADMIN_USER"]) in r.text


@pytest.mark.parametrize("good_next", [
    "/admin/messages/?q=http://x.example/a/../b",
    "/admin/messages/?q=%2e%2e%5c",
    "/admin/messages/..x/",
    "/admin/conversations/15551234567",
])
def test_login_keeps_a_local_next(env, guest, good_next):
    r = guest.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"],
                    next_=good_next)
    assert r.headers["Location"] == good_next


@pytest.mark.parametrize("bad_next", [
    "https://evil.example/admin/",
    "//evil.example/admin/",
    "/\\evil.example/",
    "/admin/\\..\\..\\api/",
    "/admin/../api/messages/",
    "/api/messages/",
    "javascript:alert(1)",
    "/admin//evil.example",
    "/admin/x\r\nSet-Cookie: a=b",
    "/admin/%2e%2e/api/messages/",
    "/admin/%2E%2e%2fapi/",
    "/admin/%5c%5cevil.example/",
    "/admin/./messages/",
    "/admin/messages/..",
    "/admin/messages/.",
    "/admin/messages/..?x=1",
])
def test_login_ignores_a_foreign_next(env, guest, bad_next):
    r = guest.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"],
                    next_=bad_next)
    assert r.headers["Location"] == "/admin/"


def test_session_cookie_flags(env, guest):
    r = guest.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"])
    cookies = [v for k, v in r.raw.headers.items() if k.lower() ==
               "set-cookie"]
    session = [c for c in cookies if c.startswith("wadesk_session=")]
    assert len(session) == 1, cookies
    c = session[0]
    token = c.split(";", 1)[0].split("=", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{64}", token), c
    attrs = [a.strip() for a in c.split(";")[1:]]
    assert "HttpOnly" in attrs
    assert "SameSite=Lax" in attrs
    assert "Path=/admin" in attrs
    assert "Secure" not in attrs        # the test stack speaks plain HTTP
    assert any(a.startswith("Max-Age=") and int(a[8:]) > 0 for a in attrs)


def test_session_token_is_stored_hashed(env, guest, query):
    import hashlib
    guest.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"])
    token = guest.cookies["wadesk_session"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert query("SELECT count(*) FROM admin_sessions WHERE token_hash = %s",
                 (digest,))[0][0] == 1
    assert query("SELECT count(*) FROM admin_sessions WHERE token_hash = %s",
                 (token,))[0][0] == 0


@pytest.mark.parametrize("scheme", [{"REQUEST_SCHEME": "https"},
                                    {"HTTPS": "on"}])
def test_secure_cookie_when_nginx_says_https(env, scheme):
    """nginx passes $scheme as REQUEST_SCHEME (and $https as HTTPS): over
    HTTPS both cookies carry Secure.  Spoken straight to the FastCGI
    socket, since the test stack has no TLS."""
    sock = env.get("WADESK_SOCKET", "")
    if not sock.startswith("/"):
        pytest.skip("the stack's FastCGI socket is not a unix socket")
    base = {"REQUEST_METHOD": "GET", "DOCUMENT_URI": "/admin/login",
            "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_ID": "fcgi-" + unique_token()}
    base.update(scheme)
    status, headers, body = fcgi(sock, base)
    assert status == 200
    cookies = [v for k, v in headers if k == "Set-Cookie"]
    assert cookies and all("; Secure" in c for c in cookies), cookies
    login = cookies[0].split(";", 1)[0]
    form = ("csrf=%s&username=%s&password=%s" % (
        csrf_of(body.decode()), quote(env["WADESK_ADMIN_USER"]),
        quote(env["WADESK_ADMIN_PASSWORD"]))).encode()
    post = dict(base, REQUEST_METHOD="POST", HTTP_COOKIE=login,
                CONTENT_TYPE="application/x-www-form-urlencoded",
                CONTENT_LENGTH=str(len(form)))
    status, headers, _ = fcgi(sock, post, form)
    assert status == 303, headers
    # Over HTTPS: Secure, and the __Host- prefix (Path=/, no Domain), so
    # no other host and no plain-HTTP page can plant or overwrite it.
    session = [v for k, v in headers if k == "Set-Cookie" and
               v.startswith("__Host-wadesk_session=")]
    assert len(session) == 1 and "; Secure" in session[0], headers
    assert "; Path=/;" in session[0] and "Domain" not in session[0]
    assert "HttpOnly" in session[0] and "SameSite=Lax" in session[0]
    # The session works under that name over HTTPS, not under the old one.
    cookie = session[0].split(";", 1)[0]
    page = dict(base, HTTP_COOKIE=cookie, DOCUMENT_URI="/admin/")
    status, _, _ = fcgi(sock, page)
    assert status == 200
    page = dict(base, HTTP_COOKIE=cookie.replace("__Host-", ""),
                DOCUMENT_URI="/admin/")
    status, _, _ = fcgi(sock, page)
    assert status == 303


def test_forwarded_proto_header_does_not_make_cookies_secure(env, guest):
    """Only nginx's own $scheme counts, not a client's header."""
    form = guest.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    r = guest.post_login({"csrf": csrf_of(form.text),
                          "username": env["WADESK_ADMIN_USER"],
                          "password": env["WADESK_ADMIN_PASSWORD"]},
                         headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 303
    assert "Secure" not in r.headers.get("Set-Cookie", "")


def test_wrong_password_is_401_logged_without_the_password(
        env, guest, query, log_dir):
    user = "nobody-" + unique_token()
    secret = "pw-" + unique_token()
    r = guest.login_post(user + "<b>", secret)
    assert_html(r, 401)
    assert "Wrong username or password" in r.text
    assert escaped(user + "<b>") in r.text       # kept, escaped
    assert user + "<b>" not in r.text
    assert secret not in r.text
    assert "wadesk_session" not in guest.cookies
    assert query("SELECT count(*) FROM admin_login_failures "
                 "WHERE username = %s", (user + "<b>",))[0][0] == 1
    log = log_dir / "wadesk.log"
    assert wait_until(lambda: user.encode() in log.read_bytes(), 3)
    data = log.read_bytes()
    assert secret.encode() not in data
    lines = [ln for ln in data.splitlines() if user.encode() in ln]
    assert any(b"admin login failed" in ln for ln in lines), lines


def test_wrong_password_for_the_real_user(env, guest):
    r = guest.login_post(env["WADESK_ADMIN_USER"], "not-the-password")
    assert_html(r, 401)


def test_empty_login_fields_are_422(guest):
    r = guest.login_post("", "")
    assert_html(r, 422)


def test_login_without_the_form_token_is_403(env, guest):
    guest.get("/admin/login")
    r = guest.post_login({"username": env["WADESK_ADMIN_USER"],
                          "password": env["WADESK_ADMIN_PASSWORD"]})
    assert_html(r, 403)
    assert "wadesk_session" not in guest.cookies
    r = guest.login_post(env["WADESK_ADMIN_USER"],
                         env["WADESK_ADMIN_PASSWORD"], token="0" * 64)
    assert_html(r, 403)
    assert "wadesk_session" not in guest.cookies


def test_login_issues_a_new_session_every_time(env, base_url, query):
    """No session fixation: a planted or an old cookie is never kept."""
    import hashlib
    a = Admin(base_url)
    host = urlsplit(base_url).hostname
    planted = "ab" * 32
    a.cookies.set("wadesk_session", planted, domain=host, path="/admin")
    a.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"])
    first = a.cookies.get("wadesk_session", path="/admin")
    assert first != planted
    # Logged in, the login page redirects: take a form from a fresh client
    # and post it with the logged-in one (as a second tab would).
    tmp = Admin(base_url)
    tok = csrf_of(tmp.get("/admin/login").text)
    a.cookies.set("wadesk_login", tmp.cookies["wadesk_login"], domain=host,
                  path="/admin/login")
    tmp.close()
    r = a.post_login({"csrf": tok, "username": env["WADESK_ADMIN_USER"],
                      "password": env["WADESK_ADMIN_PASSWORD"]})
    assert r.status_code == 303, r.text[:300]
    second = a.cookies.get("wadesk_session", path="/admin")
    assert second != first
    h = hashlib.sha256(first.encode()).hexdigest()
    assert query("SELECT count(*) FROM admin_sessions WHERE token_hash = %s",
                 (h,))[0][0] == 0, "the old session must be deleted"
    old = Admin(base_url)
    old.cookies.set("wadesk_session", first, domain=host, path="/admin")
    assert old.get("/admin/").status_code == 303
    assert a.get("/admin/").status_code == 200
    a.close()
    old.close()


def test_expired_session_is_rejected(admin, query):
    import hashlib
    h = hashlib.sha256(admin.cookies["wadesk_session"].encode()).hexdigest()
    assert admin.get("/admin/").status_code == 200
    query("UPDATE admin_sessions SET expires_at = now() - interval '1 second'"
          " WHERE token_hash = %s", (h,))
    r = admin.get("/admin/messages/")
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/admin/login")


def test_garbage_cookies_are_no_session(guest):
    for value in ["x", "0" * 64, "g" * 64, "'; DROP TABLE admin_sessions;--",
                  "A" * 4000]:
        guest.cookies.clear()
        guest.cookies.set("wadesk_session", value, path="/admin")
        r = guest.get("/admin/")
        assert r.status_code == 303, value


def test_logout_needs_csrf_then_ends_the_session(admin, query):
    import hashlib
    h = hashlib.sha256(admin.cookies["wadesk_session"].encode()).hexdigest()
    r = admin.post("/admin/logout", data={})
    assert_html(r, 403)
    r = admin.post("/admin/logout", data={"csrf": "f" * 64})
    assert_html(r, 403)
    assert admin.get("/admin/").status_code == 200, "still logged in"
    r = admin.post("/admin/logout", data={"csrf": admin.csrf()})
    assert r.status_code == 303
    assert r.headers["Location"] == "/admin/login?out=1"
    assert query("SELECT count(*) FROM admin_sessions WHERE token_hash = %s",
                 (h,))[0][0] == 0
    assert admin.get("/admin/").status_code == 303
    r = admin.get("/admin/login?out=1")
    assert "logged out" in r.text


def test_logged_in_user_visiting_login_goes_to_next(admin):
    r = admin.get("/admin/login?next=/admin/conversations/")
    assert r.status_code == 303
    assert r.headers["Location"] == "/admin/conversations/"


# ------------------------------------------------------------ headers, errors

@pytest.mark.parametrize("path,status", [
    ("/admin/", 200),
    ("/admin/messages/", 200),
    ("/admin/messages/new", 200),
    ("/admin/conversations/", 200),
    ("/admin/nope", 404),
    ("/admin/messages/999999999999", 404),
    ("/admin/messages/?status=bogus", 400),
    ("/admin/messages/?before_id=abc", 400),
    ("/admin/messages/?q=%FF", 400),
    ("/admin/conversations/?before_id=-1", 400),
])
def test_pages_are_html_with_the_security_headers(admin, path, status):
    r = admin.get(path)
    assert_html(r, status)
    assert r.text.lstrip().startswith("<!DOCTYPE html>")
    assert "<script" not in r.text
    assert " style=" not in r.text


def test_login_page_and_errors_carry_the_headers(guest):
    assert_html(guest.get("/admin/login"), 200)
    assert_html(guest.get("/admin/nope"), 404)
    r = guest.get("/admin/static/admin.css")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/css")
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("Content-Security-Policy") == CSP
    r = guest.get("/admin/static/nope.css")
    assert_html(r, 404)


def test_wrong_method_is_405_html_with_allow(admin):
    r = admin.request("PUT", "/admin/messages/")
    assert_html(r, 405)
    assert "GET" in r.headers["Allow"]
    r = admin.request("DELETE", "/admin/messages/new")
    assert_html(r, 405)
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {
        "GET", "POST"}


def test_form_posts_must_be_urlencoded(admin, count_rows):
    before = count_rows("messages")
    r = admin.post("/admin/messages/new", data=json_bytes({
        "csrf": admin.csrf(), "receiver": unique_phone(),
        "sender": unique_phone(), "content": "json"}),
        headers={"Content-Type": "application/json"})
    assert_html(r, 415)
    r = admin.post("/admin/messages/new", data="csrf=%ZZ&content=x",
                   headers={"Content-Type":
                            "application/x-www-form-urlencoded"})
    assert_html(r, 400)
    assert count_rows("messages") == before


def test_oversized_form_is_an_html_413(admin, count_rows):
    before = count_rows("messages")
    r = admin.post("/admin/messages/new", data={
        "csrf": admin.csrf(), "sender": "+15550001111",
        "receiver": "+15551234567", "content": "x" * 70000})
    assert r.status_code == 413
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers.get("Content-Security-Policy") == CSP
    assert count_rows("messages") == before


# ------------------------------------------------------------ CSRF

def test_send_without_or_with_wrong_csrf_is_403(admin, count_rows):
    before = count_rows("messages")
    form = {"sender": unique_phone(), "receiver": unique_phone(),
            "content": "forged " + unique_token()}
    r = admin.post("/admin/messages/new", data=form)
    assert_html(r, 403)
    r = admin.post("/admin/messages/new", data=dict(form, csrf=""))
    assert_html(r, 403)
    r = admin.post("/admin/messages/new", data=dict(form, csrf="0" * 64))
    assert_html(r, 403)
    good = admin.csrf()
    r = admin.post("/admin/messages/new", data=dict(form, csrf=good[:-1]))
    assert_html(r, 403)
    assert count_rows("messages") == before


def test_csrf_token_of_another_session_is_refused(env, base_url, admin,
                                                  count_rows):
    other = Admin(base_url)
    other.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"])
    foreign = other.csrf()
    other.close()
    before = count_rows("messages")
    r = admin.post("/admin/messages/new", data={
        "csrf": foreign, "sender": unique_phone(),
        "receiver": unique_phone(), "content": "cross-session"})
    assert_html(r, 403)
    assert count_rows("messages") == before


# ------------------------------------------------------------ send form

def test_send_form_defaults_and_prefill(admin):
    r = admin.get("/admin/messages/new?to=%2B15551230000")
    assert_html(r, 200)
    for name in ("sender", "receiver", "content", "csrf"):
        assert 'name="%s"' % name in r.text
    assert 'value="+15551230000"' in r.text


def test_send_form_invalid_shows_errors_next_to_fields(admin, count_rows):
    before = count_rows("messages")
    bad_receiver = "12<b>\"x\""
    r = admin.post("/admin/messages/new", data={
        "csrf": admin.csrf(), "sender": "+15550001111",
        "receiver": bad_receiver, "content": ""})
    assert_html(r, 422)
    assert 'id="receiver-error"' in r.text
    assert 'id="content-error"' in r.text
    assert "receiver must be a phone number" in r.text
    assert "content must not be empty" in r.text
    assert 'value="%s"' % escaped(bad_receiver) in r.text
    assert bad_receiver not in r.text
    assert 'value="+15550001111"' in r.text
    assert count_rows("messages") == before


def test_send_form_error_echo_is_escaped(admin, count_rows):
    before = count_rows("messages")
    r = admin.post("/admin/messages/new", data={
        "csrf": admin.csrf(), "sender": XSS, "receiver": "+15551234567",
        "content": XSS})
    assert_html(r, 422)
    assert 'id="sender-error"' in r.text
    assert escaped(XSS) in r.text
    assert "<script>alert" not in r.text
    assert "<img src=x" not in r.text
    assert count_rows("messages") == before


def test_send_form_too_long_content(admin, count_rows):
    before = count_rows("messages")
    r = admin.post("/admin/messages/new", data={
        "csrf": admin.csrf(), "sender": "+15550001111",
        "receiver": "+15551234567", "content": "x" * 4097})
    assert_html(r, 422)
    assert "at most 4096" in r.text
    assert count_rows("messages") == before


def test_send_form_success_lands_on_the_message(admin, query):
    receiver = unique_phone()
    content = "line one\r\nline two " + unique_token()
    r = admin.post("/admin/messages/new", data={
        "csrf": admin.csrf(), "sender": "15550001111",
        "receiver": _digits(receiver), "content": content})
    assert r.status_code == 303, r.text[:500]
    loc = r.headers["Location"]
    m = re.fullmatch(r"/admin/messages/(\d+)\?sent=1", loc)
    assert m, loc
    mid = int(m.group(1))
    rows = query("SELECT direction, sender, receiver, content FROM messages "
                 "WHERE id = %s", (mid,))
    assert rows == [("outbound", "+15550001111", receiver,
                     content.replace("\r\n", "\n"))]
    outbox = query("SELECT count(*) FROM outbox WHERE message_id = %s",
                   (mid,))[0][0]
    events = query("SELECT status FROM message_events WHERE message_id = %s "
                   "ORDER BY id", (mid,))
    # Queued (with its outbox row) or already sent on.
    assert (outbox == 1 and events == []) or events[:1] == [("sent",)]
    page = admin.get(loc)
    assert_html(page, 200)
    assert "Message queued for delivery" in page.text


def test_sql_injection_strings_are_stored_verbatim(admin, query):
    receiver = unique_phone()
    for content in ["'; DROP TABLE messages; --",
                    "1' OR '1'='1", "%_\\ $1 ::text", "Robert'); --"]:
        r = admin.post("/admin/messages/new", data={
            "csrf": admin.csrf(), "sender": "+15550001111",
            "receiver": receiver, "content": content})
        assert r.status_code == 303, r.text[:300]
        mid = int(re.search(r"/admin/messages/(\d+)",
                            r.headers["Location"]).group(1))
        assert query("SELECT content FROM messages WHERE id = %s",
                     (mid,)) == [(content,)]
        page = admin.get("/admin/messages/%d" % mid)
        assert escaped(content) in page.text
    # Search with LIKE wildcards matches them literally.
    r = admin.get("/admin/messages/?q=" + quote("%_\\ $1"))
    assert_html(r, 200)
    assert r.text.count('class="content"') >= 1
    assert escaped("%_\\ $1 ::text") in r.text
    r = admin.get("/admin/messages/?q=" + quote("' OR '1'='1"))
    assert_html(r, 200)


def test_reply_from_a_conversation_returns_to_it(admin, query):
    customer = unique_phone()
    r = admin.post("/admin/messages/new", data={
        "csrf": admin.csrf(), "sender": "+15550001111",
        "receiver": customer, "content": "reply " + unique_token(),
        "back": "conversation"})
    assert r.status_code == 303
    assert r.headers["Location"] == \
        "/admin/conversations/%d?sent=1" % _contact(query, customer)
    page = admin.get(r.headers["Location"])
    assert_html(page, 200)
    assert "Reply queued for delivery" in page.text


# ------------------------------------------------------------ escaping

def test_xss_payloads_are_rendered_as_text_everywhere(admin, send, webhook,
                                                      query):
    customer = unique_phone()
    token = unique_token("xss")
    payload = XSS + " " + token
    r = send({"sender": "+15550001111", "receiver": customer,
              "content": payload})
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    r = webhook({"sender": customer, "content": payload + " inbound"})
    assert r.status_code == 200, r.text
    pages = [
        "/admin/messages/?q=" + token,
        "/admin/messages/%d" % mid,
        "/admin/conversations/%d" % _contact(query, customer),
        "/admin/conversations/",
    ]
    for path in pages:
        page = admin.get(path)
        assert_html(page, 200)
        assert "<script>alert" not in page.text, path
        assert "<img src=x" not in page.text, path
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; " \
            "&#39;quoted&#39; \U0001F600" in page.text, path


def test_cloud_contact_names_are_escaped(admin, webhook, query):
    customer = unique_phone()
    name = "<svg onload=alert(1)> Ana & \"Co\""
    body = {"object": "whatsapp_business_account", "entry": [{
        "id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111",
                         "phone_number_id": "1"},
            "contacts": [{"profile": {"name": name},
                          "wa_id": _digits(customer)}],
            "messages": [{"from": _digits(customer),
                          "id": "wamid." + unique_token(),
                          "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": "hi"}}]}}]}]}
    assert webhook(body).status_code == 200
    for path in ("/admin/conversations/",
                 "/admin/conversations/%d" % _contact(query, customer)):
        page = admin.get(path)
        assert "<svg onload" not in page.text
        assert escaped(name) in page.text


# ------------------------------------------------------------ the list

def test_list_filters_search_and_keyset_pagination(admin, send, webhook):
    token = unique_token("page")
    customer = unique_phone()
    ids = []
    for i in range(53):
        r = send({"sender": "+15550001111", "receiver": customer,
                  "content": "%s #%02d" % (token, i)})
        assert r.status_code == 201
        ids.append(r.json()["id"])
    assert webhook({"sender": customer,
                    "content": token + " inbound"}).status_code == 200

    def shown(text):
        return [int(x) for x in re.findall(
            r'<td class="num"><a href="/admin/messages/(\d+)">', text)]

    r = admin.get("/admin/messages/?q=" + token)
    assert_html(r, 200)
    first = shown(r.text)
    assert len(first) == 50
    assert first == sorted(first, reverse=True), "newest first"
    older = re.search(r'rel="next" href="([^"]+)"', r.text)
    assert older and "rel=\"prev\"" not in r.text
    r2 = admin.get(older.group(1).replace("&amp;", "&"))
    second = shown(r2.text)
    assert len(second) == 4 and not set(first) & set(second)
    assert set(first) | set(second) >= set(ids)
    newer = re.search(r'rel="prev" href="([^"]+)"', r2.text)
    assert newer and 'rel="next"' not in r2.text
    r3 = admin.get(newer.group(1).replace("&amp;", "&"))
    assert shown(r3.text) == first

    r = admin.get("/admin/messages/?direction=inbound&q=" + token)
    rows = shown(r.text)
    assert len(rows) == 1 and rows[0] not in ids
    r = admin.get("/admin/messages/?direction=outbound&q=" + token)
    assert len(shown(r.text)) == 50
    r = admin.get("/admin/messages/?status=received&q=" + token)
    assert shown(r.text) == rows
    # The search matches sender and receiver too.
    r = admin.get("/admin/messages/?q=" + quote(customer[4:]))
    assert len(shown(r.text)) == 50
    assert 'value="%s"' % customer[4:] in r.text
    # Counts per status and the Send Message button.
    assert re.search(r'chip chip-received">received <span class="count">'
                     r'<span[^>]*>~?[\d,]+</span>', r.text)
    assert 'href="/admin/messages/new"' in r.text
    assert "Send Message" in r.text


def test_message_page_shows_fields_and_history(admin, send, query):
    r = send({"sender": "+15550001111", "receiver": unique_phone(),
              "content": "history " + unique_token()})
    mid = r.json()["id"]
    wait_until(lambda: query("SELECT status FROM messages WHERE id = %s",
                             (mid,))[0][0] == "read", 10)
    page = admin.get("/admin/messages/%d" % mid)
    assert_html(page, 200)
    text = page.text
    for status in ("queued", "sent", "delivered", "read"):
        assert "badge badge-%s" % status in text
    pid = query("SELECT provider_message_id FROM messages WHERE id = %s",
                (mid,))[0][0]
    assert pid and escaped(pid) in text
    assert 'class="timeline"' in text
    assert 'id="retry"' not in text, "only failed messages can be retried"


# ------------------------------------------------------------ retry

def _failed_message(query):
    return query(
        "WITH m AS (INSERT INTO messages (direction, sender, receiver,"
        " content, status, error_code, error_message, provider_message_id)"
        " VALUES ('outbound', '+15550001111', %s, %s, 'failed', '131026',"
        " 'Message undeliverable <b>', %s) RETURNING id),"
        " e AS (INSERT INTO message_events (message_id, status)"
        " SELECT id, 'failed' FROM m) SELECT id FROM m",
        (unique_phone(), "retry me " + unique_token(),
         "wamid.old." + unique_token()))[0][0]


def test_retry_requeues_a_failed_message(admin, query):
    mid = _failed_message(query)
    page = admin.get("/admin/messages/%d" % mid)
    assert_html(page, 200)
    assert 'id="retry"' in page.text
    assert "131026" in page.text
    assert escaped("Message undeliverable <b>") in page.text
    # And what it means, in words.
    assert "the number may not use WhatsApp" in page.text
    r = admin.post("/admin/messages/%d/retry" % mid, data={})
    assert_html(r, 403)
    assert query("SELECT status FROM messages WHERE id = %s",
                 (mid,))[0][0] == "failed"
    r = admin.post("/admin/messages/%d/retry" % mid,
                   data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303, r.text[:300]
    assert r.headers["Location"] == "/admin/messages/%d?retried=1" % mid
    status, code, msg = query("SELECT status, error_code, error_message "
                              "FROM messages WHERE id = %s", (mid,))[0]
    assert status != "failed" and code is None and msg is None
    ev = query("SELECT status, detail->>'retry' FROM message_events "
               "WHERE message_id = %s ORDER BY id", (mid,))
    assert ("queued", "admin") in ev
    # The dispatcher takes it from the outbox and sends it again.
    assert wait_until(lambda: query(
        "SELECT status FROM messages WHERE id = %s", (mid,))[0][0]
        in ("sent", "delivered", "read"), 10)
    page = admin.get(r.headers["Location"])
    assert "Message requeued for delivery" in page.text
    # Not failed any more: a second retry is refused and changes nothing.
    r = admin.post("/admin/messages/%d/retry" % mid,
                   data={"csrf": csrf_of(page.text)})
    assert_html(r, 409)
    r = admin.post("/admin/messages/999999999999/retry",
                   data={"csrf": csrf_of(page.text)})
    assert_html(r, 404)


def test_inbound_messages_cannot_be_retried(admin, webhook, query):
    customer = unique_phone()
    assert webhook({"sender": customer, "content": "in"}).status_code == 200
    mid = query("SELECT id FROM messages WHERE sender = %s", (customer,))[0][0]
    r = admin.post("/admin/messages/%d/retry" % mid,
                   data={"csrf": admin.csrf()})
    assert_html(r, 409)
    assert query("SELECT status FROM messages WHERE id = %s",
                 (mid,))[0][0] == "received"


# ------------------------------------------------------------ conversations

def test_conversations_list_and_unread(admin, webhook, send, query):
    customer = unique_phone()
    for text in ("first", "second"):
        assert webhook({"sender": customer,
                        "content": text}).status_code == 200
    r = admin.get("/admin/conversations/")
    assert_html(r, 200)
    cid = _contact(query, customer)
    link = 'href="/admin/conversations/%d"' % cid
    assert link in r.text
    item = r.text[r.text.index(link):]
    item = item[:item.index("</li>")]
    assert 'class="unread-count"' in item and ">2<" in item
    assert "second" in item
    # A reply is the last message; opening the thread reads them.
    assert send({"sender": "+15550001111", "receiver": customer,
                 "content": "answer"}).status_code == 201
    assert_html(admin.get("/admin/conversations/%d" % cid), 200)
    r = admin.get("/admin/conversations/")
    item = r.text[r.text.index(link):]
    item = item[:item.index("</li>")]
    assert "unread-count" not in item
    assert "You: " in item and "answer" in item


def test_conversation_thread_has_bubbles_ticks_and_reply_box(
        admin, webhook, send, query):
    customer = unique_phone()
    assert webhook({"sender": customer, "content": "hello?"}).status_code \
        == 200
    r = send({"sender": "+15550001111", "receiver": customer,
              "content": "hi there"})
    mid = r.json()["id"]
    wait_until(lambda: query("SELECT status FROM messages WHERE id = %s",
                             (mid,))[0][0] == "read", 10)
    page = admin.get("/admin/conversations/%d" % _contact(query, customer))
    assert_html(page, 200)
    text = page.text
    assert text.index("hello?") < text.index("hi there"), "oldest first"
    assert 'class="bubble in"' in text and 'class="bubble out"' in text
    assert 'class="ticks ticks-read"' in text
    assert '<form class="reply" id="reply" method="post"' \
        ' action="/admin/messages/new"' \
        ' enctype="multipart/form-data">' in text
    assert 'name="receiver" value="%s"' % customer in text
    assert 'name="back" value="conversation"' in text
    # The old URL (the phone's digits) leads to the contact's; an unknown
    # number or contact id is 404.
    r = admin.get("/admin/conversations/" + _digits(customer))
    assert r.status_code == 303
    assert r.headers["Location"] == \
        "/admin/conversations/%d" % _contact(query, customer)
    assert_html(admin.get("/admin/conversations/" +
                          _digits(unique_phone())), 404)
    assert_html(admin.get("/admin/conversations/999999999999"), 404)


# ------------------------------------------------------------ dashboard

def test_dashboard_has_totals_and_an_svg_chart(admin, send):
    assert send({"sender": "+15550001111", "receiver": unique_phone(),
                 "content": "chart"}).status_code == 201
    r = admin.get("/admin/")
    assert_html(r, 200)
    text = r.text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in text
    assert 'class="chart"' in text
    assert text.count('class="bar bar-in"') == 24
    assert text.count('class="bar bar-out"') == 24
    assert 'class="line-failed"' in text
    assert ">00:00<" in text or ">03:00<" in text or ">21:00<" in text
    assert "hour (UTC)" in text
    for label in ("Inbound", "Outbound", "failed", "read"):
        assert label in text
    assert 'href="/admin/messages/new"' in text


# ------------------------------------------------------------ database down

def _stack_pg(env, action):
    child = dict(os.environ)
    child["WADESK_PG_PORT"] = env["WADESK_PG_PORT"]
    child["WADESK_HTTP_PORT"] = env["WADESK_HTTP_PORT"]
    return subprocess.run(["sh", str(STACK_SH), "pg", env["WADESK_VAR"],
                           action], env=child, capture_output=True,
                          text=True, timeout=120)


def test_database_outage_gives_an_html_503_then_recovers(env, admin, guest):
    if not env.get("WADESK_PG_PORT") or not env.get("WADESK_VAR"):
        pytest.skip("dev.env lacks WADESK_PG_PORT/WADESK_VAR")
    csrf = admin.csrf()
    p = _stack_pg(env, "stop")
    try:
        assert p.returncode == 0, p.stderr
        for _ in range(3):          # every worker meets the outage
            for r in (admin.get("/admin/"), admin.get("/admin/messages/"),
                      admin.post("/admin/messages/new", data={
                          "csrf": csrf, "receiver": "+15551234567",
                          "content": "x"}),
                      guest.login_post("admin", "whatever")):
                assert_html(r, 503)
                assert r.headers["Retry-After"].isdigit()
                assert "Database unavailable" in r.text
        # Without a session cookie nothing needs the database.
        assert guest.get("/admin/messages/").status_code == 303
        assert_html(guest.get("/admin/login"), 200)
    finally:
        p = _stack_pg(env, "start")
        assert p.returncode == 0, p.stderr
    assert wait_until(lambda: admin.get("/admin/").status_code == 200
                      and admin.get("/admin/").status_code == 200
                      and admin.get("/admin/").status_code == 200, 15,
                      interval=0.2)


# ------------------------------------------------------------ throttling

def test_per_user_back_off_after_failed_logins(env, base_url, query):
    user = "throttle-" + unique_token()
    password = "pw-" + unique_token()
    p = user_add(env, user, password)
    assert p.returncode == 0, p.stderr
    a = Admin(base_url)
    for _ in range(5):
        r = a.login_post(user, "wrong-" + unique_token())
        assert_html(r, 401)
    r = a.login_post(user, password)
    assert_html(r, 429)
    assert int(r.headers["Retry-After"]) >= 1
    assert "Too many failed attempts" in r.text
    assert "wadesk_session" not in a.cookies
    # Another user is not affected.
    b = Admin(base_url)
    b.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"])
    # Once the failures are old enough, the right password works again.
    query("UPDATE admin_login_failures SET created_at = now() - "
          "interval '10 minutes' WHERE username = %s", (user,))
    a.login(user, password)
    assert query("SELECT count(*) FROM admin_login_failures "
                 "WHERE username = %s", (user,))[0][0] == 0
    a.close()
    b.close()


def test_zz_nginx_limits_login_attempts_per_address(guest):
    codes = []
    last = None
    for i in range(30):
        # The same limit with and without the trailing slash.
        r = guest.post("/admin/login" + "/" * (i % 2), data={
            "username": "x", "password": "y"})
        codes.append(r.status_code)
        if r.status_code == 429:
            last = r
    assert 429 in codes, codes
    assert last.headers["Content-Type"].startswith("text/html")
    assert int(last.headers["Retry-After"]) >= 1
    assert_security_headers_nginx(last)
    assert "Too many login attempts" in last.text
    # GETs of the form are not limited.
    assert guest.get("/admin/login").status_code == 200
    time.sleep(6)       # let the bucket drain for the suites that follow


def assert_security_headers_nginx(resp):
    for name in ("Content-Security-Policy", "X-Frame-Options",
                 "Referrer-Policy"):
        assert resp.headers.get(name), name
    assert resp.headers["Content-Security-Policy"] == CSP
