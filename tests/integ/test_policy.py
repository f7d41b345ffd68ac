"""The route table's policy seen from outside: every API route wants a key,
every admin page a session, every admin form its CSRF token; forms report
every wrong field at once; searches are bounded; logins are throttled as one
atomic step and password hashes are capped per host."""

import threading
import time
from urllib.parse import quote

import psycopg2
import pytest

from admin_support import Admin, assert_html, csrf_of, fcgi
from integ_support import assert_error, unique_phone, unique_token, user_add

# (method, path): every API route but the public ones (the OpenAPI document
# and WhatsApp's subscription check) and the signed webhook.
API_ROUTES = [
    ("POST", "/api/send-message/"),
    ("GET", "/api/messages/"),
    ("GET", "/api/messages/1/"),
]
ADMIN_PAGES = [
    "/admin/", "/admin/messages/", "/admin/messages/new",
    "/admin/messages/1", "/admin/conversations/",
    "/admin/conversations/15550001111", "/admin/conversations/1",
    "/admin/conversations/?filter=mine",
]
ADMIN_FORMS = [
    "/admin/messages/new", "/admin/messages/1/retry", "/admin/logout",
    "/admin/conversations/1/state", "/admin/conversations/1/assign",
]




@pytest.mark.parametrize("method,path", API_ROUTES)
@pytest.mark.parametrize("auth", [None, "Bearer wdk_" + "0" * 64,
                                  "Bearer nonsense", "Basic abc"])
def test_api_routes_want_a_key(anon, count_rows, method, path, auth):
    before = count_rows("messages")
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    r = anon.request(method, path, headers=headers, data=b'{"receiver": '
                     b'"+15550001111", "content": "x"}' if method == "POST"
                     else None)
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert count_rows("messages") == before


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_want_a_session(base_url, path):
    guest = Admin(base_url)
    r = guest.get(path)
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/admin/login")
    # A forged or expired session cookie is no session either.
    guest.cookies.set("wadesk_session", "a" * 64)
    assert guest.get(path).status_code == 303
    guest.close()


@pytest.mark.parametrize("path", ADMIN_FORMS)
def test_admin_forms_want_their_csrf_token(admin, count_rows, path):
    before = count_rows("messages")
    sessions = count_rows("admin_sessions")
    for data in ({}, {"csrf": "0" * 64}, {"csrf": ""}):
        data.update(receiver="+15550001111", content="hi")
        r = admin.post(path, data=data)
        assert_html(r, 403)
    assert count_rows("messages") == before
    assert count_rows("admin_sessions") == sessions
    # Still logged in: the refused logout did nothing.
    assert admin.get("/admin/").status_code == 200


def test_admin_forms_without_a_session_go_to_login(base_url, count_rows):
    guest = Admin(base_url)
    before = count_rows("messages")
    r = guest.post("/admin/messages/new", data={
        "csrf": "0" * 64, "receiver": "+15550001111", "content": "hi"})
    assert r.status_code == 303
    assert r.headers["Location"].startswith("/admin/login")
    assert count_rows("messages") == before
    guest.close()


def test_send_form_reports_every_wrong_field(admin, count_rows):
    before = count_rows("messages")
    token = admin.csrf("/admin/messages/new")
    r = admin.post("/admin/messages/new", data={
        "csrf": token, "sender": "not a number", "receiver": "12",
        "content": ""})
    assert_html(r, 422)
    for field in ("sender", "receiver", "content"):
        assert 'id="%s-error"' % field in r.text, field
    assert "sender must be a phone number" in r.text
    assert "receiver must be a phone number" in r.text
    assert "content must not be empty" in r.text
    # What was typed stays in the form.
    assert 'value="not a number"' in r.text
    assert count_rows("messages") == before


def test_send_form_reports_only_the_wrong_field(admin, count_rows):
    before = count_rows("messages")
    token = admin.csrf("/admin/messages/new")
    r = admin.post("/admin/messages/new", data={
        "csrf": token, "sender": "+15550001111", "receiver": "x",
        "content": "fine"})
    assert_html(r, 422)
    assert 'id="receiver-error"' in r.text
    assert 'id="sender-error"' not in r.text
    assert 'id="content-error"' not in r.text
    assert count_rows("messages") == before


# ------------------------------------------------------------ searches

@pytest.mark.parametrize("q", ["a", "ab", "\u00e9\u00e9"])
def test_short_searches_are_refused(api, admin, q):
    r = api.get("/api/messages/", params={"q": q})
    assert_error(r, 400, "invalid_parameter", "q")
    assert "3-200" in r.json()["error"]["message"]
    r = admin.get("/admin/messages/", params={"q": q})
    assert_html(r, 400)
    assert "3 to 200 characters" in r.text


def test_three_characters_search(api, send):
    tok = unique_token()[:3]
    r = send({"sender": "+15550001111", "receiver": unique_phone(),
              "content": "find " + tok})
    assert r.status_code == 201
    ids = [m["id"] for m in api.get("/api/messages/", params={
        "q": tok}).json()["data"]]
    assert r.json()["id"] in ids


@pytest.fixture
def locked_messages(env):
    """Holds an exclusive lock on messages, so every read of it waits."""
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    cur = conn.cursor()
    cur.execute("BEGIN")
    cur.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
    yield
    conn.rollback()
    conn.close()


def test_a_slow_search_ends_in_503_not_500(api, admin, locked_messages):
    """A search that outlives its timeout is the server's trouble: 503 with
    Retry-After (the client may retry), never 500, and sooner than the
    general statement timeout."""
    t0 = time.monotonic()
    r = api.get("/api/messages/", params={"q": "refund"}, timeout=30)
    took = time.monotonic() - t0
    assert_error(r, 503, "database_unavailable")
    assert r.headers["Retry-After"] == "1"
    assert took < 5, took
    r = admin.get("/admin/messages/", params={"q": "refund"}, timeout=30)
    assert_html(r, 503)
    assert r.headers["Retry-After"] == "1"


def test_a_list_that_times_out_is_503(api, locked_messages):
    r = api.get("/api/messages/", timeout=30)
    assert_error(r, 503, "database_unavailable")
    assert r.headers["Retry-After"] == "1"


# ------------------------------------------------------------ logins

def _new_user(env):
    user = "policy-" + unique_token()
    password = "pw-" + unique_token()
    p = user_add(env, user, password)
    assert p.returncode == 0, p.stderr
    return user, password




def _guess(base_url, user, password, results, barrier):
    """One login attempt, retried past nginx's per-address limit and the
    app's hash cap (both 429 with Retry-After); records the final status."""
    a = Admin(base_url)
    token = csrf_of(a.get("/admin/login").text)
    barrier.wait()
    for _ in range(60):
        r = a.post("/admin/login", data={"csrf": token, "username": user,
                                         "password": password})
        if r.status_code == 429 and ("Too many login attempts" in r.text or
                                     "being checked" in r.text):
            time.sleep(float(r.headers.get("Retry-After", "1")))
            continue
        results.append(r.status_code)
        break
    a.close()


def test_parallel_guesses_stop_at_the_limit(env, base_url, query):
    """Parallel wrong passwords: the throttle counts each attempt before it
    checks the password, so no more than the limit are ever checked."""
    user, _ = _new_user(env)
    time.sleep(6)       # nginx's per-address bucket drains
    results, n = [], 10
    barrier = threading.Barrier(n)
    threads = [threading.Thread(target=_guess, args=(
        base_url, user, "wrong-" + unique_token(), results, barrier))
        for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == n, results
    # At most the limit were checked (attempts in flight count for each
    # other, so under contention a few more may be refused than needed).
    checked = results.count(401)
    assert 1 <= checked <= 5, results
    assert results.count(429) == n - checked, results
    assert query("SELECT count(*) FROM admin_login_failures "
                 "WHERE username = %s", (user,))[0][0] == checked


def test_password_hashes_are_capped_per_host(env, base_url, api, log_dir):
    """Many logins at once: beyond one hash per CPU they are refused with
    429 and Retry-After instead of starving the API of CPU and memory."""
    time.sleep(6)
    statuses, answers = [], []
    n = 8
    barrier = threading.Barrier(n + 1)

    def attempt():
        a = Admin(base_url)
        token = csrf_of(a.get("/admin/login").text)
        barrier.wait()
        r = a.post("/admin/login", data={
            "csrf": token, "username": "nobody-" + unique_token(),
            "password": "x"})
        statuses.append(r.status_code)
        answers.append(r)
        a.close()

    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    assert api.get("/api/messages/?limit=1").status_code == 200
    for t in threads:
        t.join(60)
    app_busy = [r for r in answers if r.status_code == 429 and
                "being checked" in r.text]
    assert app_busy, statuses
    for r in app_busy:
        assert r.headers["Retry-After"] == "1"
    assert all(s in (401, 429) for s in statuses), statuses
    assert 401 in statuses, statuses


def _fcgi_login(sock, remote, user, password):
    token = "ab" * 32
    form = ("csrf=%s&username=%s&password=%s" % (
        token, quote(user), quote(password))).encode()
    params = {"REQUEST_METHOD": "POST", "DOCUMENT_URI": "/admin/login",
              "QUERY_STRING": "", "REMOTE_ADDR": remote,
              "REQUEST_ID": "fcgi-" + unique_token(),
              "HTTP_COOKIE": "wadesk_login=" + token,
              "CONTENT_TYPE": "application/x-www-form-urlencoded",
              "CONTENT_LENGTH": str(len(form))}
    status, _, _ = fcgi(sock, params, form)
    return status


def test_failures_count_per_user_and_address(env, query):
    """The lockout is keyed on user and address (an IPv6 address by its
    /64): one address guessing does not lock the user out everywhere."""
    sock = env.get("WADESK_SOCKET", "")
    if not sock.startswith("/"):
        pytest.skip("the stack's FastCGI socket is not a unix socket")
    user, password = _new_user(env)
    for i in range(5):
        assert _fcgi_login(sock, "2001:db8:1:2::%x" % (i + 1), user,
                           "wrong") == 401
    # The same /64: refused, whatever the password.
    assert _fcgi_login(sock, "2001:db8:1:2::99", user, password) == 429
    # Another /64 and another IPv4 address: still allowed.
    assert _fcgi_login(sock, "2001:db8:1:3::1", user, password) == 303
    assert _fcgi_login(sock, "192.0.2.7", user, "wrong") == 401
    rows = query("SELECT DISTINCT remote FROM admin_login_failures "
                 "WHERE username = %s", (user,))
    assert sorted(r[0] for r in rows) == ["192.0.2.7", "2001:db8:1:2::/64"]


def test_nginx_limits_login_posts_from_all_addresses_together(base_url):
    """Each address stays under its own limit, yet together they pass the
    limit for all login POSTs (each costs a 64 MiB hash): nginx's 429."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(base_url)
    time.sleep(6)
    codes = []
    for i in range(30):
        for _ in range(3):
            c = http.client.HTTPConnection(
                u.hostname, u.port, timeout=15,
                source_address=("127.0.0.%d" % (10 + i), 0))
            c.request("POST", "/admin/login", body="username=x&password=y",
                      headers={"Content-Type":
                               "application/x-www-form-urlencoded"})
            r = c.getresponse()
            body = r.read().decode("utf-8", "replace")
            codes.append((r.status, "Too many login attempts" in body))
            c.close()
    limited = [c for c in codes if c == (429, True)]
    assert limited, codes
    # Every address sent 3, well under its own burst: only the limit for
    # all of them together can have answered those.
    time.sleep(6)
