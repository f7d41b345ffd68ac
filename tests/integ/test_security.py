"""API keys, webhook signatures, and content that looks like code."""

import base64
import os
import re
import stat
import subprocess

import psycopg2
import pytest
import requests

from integ_support import (BINARY, ROOT, assert_error, json_bytes,
                           run_cli, sign, unique_phone, unique_token)


@pytest.fixture(scope="module")
def revoked_key(make_api_key, env):
    """A key that worked and then was revoked with `wadesk apikey revoke`."""
    key, key_id = make_api_key("integ-revoked")
    url = env["WADESK_URL"].rstrip("/")
    ok = requests.get(url + "/api/messages/?limit=1", timeout=10,
                      headers={"Authorization": "Bearer " + key})
    assert ok.status_code == 200, "a fresh key must work: %s" % ok.text
    p = run_cli(env, "apikey", "revoke", str(key_id))
    assert p.returncode == 0, p.stderr
    return key


WRONG_KEY = "wdk_" + "0" * 64

AUTH_VARIANTS = [
    ("none", None),
    ("empty", ""),
    ("bearer-empty", "Bearer "),
    ("bearer-only", "Bearer"),
    ("wrong-key", "Bearer " + WRONG_KEY),
    ("garbage", "Bearer not-a-key"),
    ("basic", "Basic " + base64.b64encode(b"admin:admin").decode()),
    ("token-scheme", "Token {key}"),
    ("key-without-scheme", "{key}"),
    ("key-plus-char", "Bearer {key}x"),
    ("key-minus-char", "Bearer {key_short}"),
    ("key-uppercased", "Bearer {key_upper}"),
    ("revoked", "Bearer {revoked}"),
]


def _auth_value(template, env, revoked):
    if template is None:
        return None
    key = env["WADESK_API_KEY"]
    return template.format(key=key, key_short=key[:-1],
                           key_upper=key.upper(), revoked=revoked)


def _routes(message_id, content):
    body = json_bytes({"sender": unique_phone(), "receiver": unique_phone(),
                       "content": content})
    return [
        ("POST", "/api/send-message/", body),
        ("POST", "/api/send-message", body),
        ("GET", "/api/messages/", None),
        ("GET", "/api/messages", None),
        ("GET", "/api/messages/?status=queued&limit=5", None),
        ("GET", "/api/messages/%d/" % message_id, None),
        ("GET", "/api/messages/%d" % message_id, None),
        ("HEAD", "/api/messages/", None),
        ("HEAD", "/api/messages/%d/" % message_id, None),
    ]


@pytest.fixture(scope="module")
def existing_id(env):
    key = env["WADESK_API_KEY"]
    r = requests.post(env["WADESK_URL"].rstrip("/") + "/api/send-message/",
                      timeout=10,
                      headers={"Authorization": "Bearer " + key,
                               "Content-Type": "application/json"},
                      data=json_bytes({"sender": unique_phone(),
                                       "receiver": unique_phone(),
                                       "content": "auth target"}))
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("name,template", AUTH_VARIANTS,
                         ids=[n for n, _ in AUTH_VARIANTS])
def test_every_api_route_needs_a_valid_key(anon, env, revoked_key,
                                           existing_id, count_rows, name,
                                           template):
    content = unique_token("unauth-")
    value = _auth_value(template, env, revoked_key)
    for method, path, body in _routes(existing_id, content):
        headers = {"Content-Type": "application/json"}
        if value is not None:
            headers["Authorization"] = value
        r = anon.request(method, path, data=body, headers=headers)
        where = "%s %s with %s" % (method, path, name)
        assert r.status_code == 401, "%s: %d %s" % (where, r.status_code,
                                                    r.text[:200])
        assert "bearer" in r.headers.get("WWW-Authenticate", "").lower(), where
        if method != "HEAD":
            assert_error(r, 401, "unauthorized")
            assert env["WADESK_API_KEY"] not in r.text
    assert count_rows("messages", "content = %s", (content,)) == 0


def test_key_in_query_string_or_other_header_is_not_accepted(anon, env):
    key = env["WADESK_API_KEY"]
    r = anon.get("/api/messages/", params={"api_key": key})
    assert_error(r, 401, "unauthorized")
    r = anon.get("/api/messages/", headers={"X-API-Key": key})
    assert_error(r, 401, "unauthorized")


def test_auth_scheme_is_case_insensitive(anon, env):
    """RFC 9110: the scheme name is case-insensitive."""
    r = anon.get("/api/messages/?limit=1",
                 headers={"Authorization": "bearer " + env["WADESK_API_KEY"]})
    assert r.status_code == 200, r.text


def test_a_new_key_works_and_stops_working_when_revoked(make_api_key, anon,
                                                        env, count_rows):
    key, key_id = make_api_key("integ-lifecycle")
    headers = {"Authorization": "Bearer " + key,
               "Content-Type": "application/json"}
    content = unique_token("lifecycle-")
    body = json_bytes({"sender": unique_phone(), "receiver": unique_phone(),
                       "content": content})
    r = anon.post("/api/send-message/", data=body, headers=headers)
    assert r.status_code == 201, r.text
    p = run_cli(env, "apikey", "revoke", str(key_id))
    assert p.returncode == 0, p.stderr
    r = anon.post("/api/send-message/", data=body, headers=headers)
    assert_error(r, 401, "unauthorized")
    assert count_rows("messages", "content = %s", (content,)) == 1
    # The other keys are unaffected.
    r = anon.get("/api/messages/?limit=1", headers={
        "Authorization": "Bearer " + env["WADESK_API_KEY"]})
    assert r.status_code == 200


@pytest.mark.parametrize("auth", [None, "Bearer " + WRONG_KEY, "revoked"])
def test_unauthenticated_requests_are_401_before_validation(anon, auth,
                                                            revoked_key):
    # Even an invalid body gets 401, not a hint about validation, whether
    # the key is missing, unknown or revoked.
    ok = json_bytes({"sender": unique_phone(), "receiver": unique_phone(),
                     "content": "x"})
    cases = [
        (b"{not json", {}),
        (json_bytes({"sender": "12", "receiver": "x", "content": ""}), {}),
        (json_bytes({"sender": 1}), {}),
        (ok, {"Content-Type": "text/plain"}),
        (ok, {"Idempotency-Key": "k" * 300}),
        (ok, {"Idempotency-Key": unique_token("idem-")}),
    ]
    for body, extra in cases:
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            headers["Authorization"] = ("Bearer " + revoked_key
                                        if auth == "revoked" else auth)
        headers.update(extra)
        r = anon.post("/api/send-message/", data=body, headers=headers)
        assert_error(r, 401, "unauthorized")


# ------------------------------------------------------- webhook signatures

def _bad_signatures(secret, body):
    good = sign(secret, body)
    return [
        ("missing", None),
        ("empty", ""),
        ("wrong-secret", sign(secret + "x", body)),
        ("other-body", sign(secret, body + b" ")),
        ("sha1", "sha1=" + good[7:47]),
        ("no-prefix", good[7:]),
        ("truncated", good[:-1]),
        ("too-long", good + "0"),
        ("non-hex", good[:-1] + "g"),
        ("flipped-digit", good[:-1] + ("0" if good[-1] != "0" else "1")),
        ("zeros", "sha256=" + "0" * 64),
        ("space-after-equals", "sha256= " + good[7:]),
    ]


BAD_SIG_IDS = [n for n, _ in _bad_signatures("s", b"b")]


@pytest.mark.parametrize("which", BAD_SIG_IDS)
def test_webhook_with_a_bad_signature_is_401_and_stores_nothing(
        anon, env, count_rows, which):
    sender = unique_phone()
    body = json_bytes({"sender": sender, "content": "forged " + which,
                       "id": "wamid." + unique_token()})
    sig = dict(_bad_signatures(env["WADESK_APP_SECRET"], body))[which]
    headers = {"Content-Type": "application/json"}
    if sig is not None:
        headers["X-Hub-Signature-256"] = sig
    r = anon.post("/api/webhook/", data=body, headers=headers)
    assert_error(r, 401, "unauthorized")
    assert env["WADESK_APP_SECRET"] not in r.text
    assert count_rows("messages", "sender = %s", (sender,)) == 0


def test_webhook_signature_covers_the_raw_bytes(anon, env, count_rows):
    """Re-serialising the JSON (same meaning, other bytes) breaks it."""
    sender = unique_phone()
    signed = b'{"sender": "%s", "content": "raw"}' % sender.encode()
    sent = b'{"sender":"%s","content":"raw"}' % sender.encode()
    r = anon.post("/api/webhook/", data=sent, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(env["WADESK_APP_SECRET"], signed)})
    assert_error(r, 401, "unauthorized")
    assert count_rows("messages", "sender = %s", (sender,)) == 0


def test_api_key_does_not_replace_the_webhook_signature(api, count_rows):
    sender = unique_phone()
    r = api.post("/api/webhook/", data=json_bytes(
        {"sender": sender, "content": "api key instead of signature"}),
        headers={"Content-Type": "application/json"})
    assert_error(r, 401, "unauthorized")
    assert count_rows("messages", "sender = %s", (sender,)) == 0


# ------------------------------------------------ code-looking content

TRICKY = [
    "'; DROP TABLE messages; --",
    "Robert'); DELETE FROM messages WHERE ('1'='1",
    "' OR 1=1 -- \" OR \"\"=\" /* */ UNION SELECT key_hash FROM api_keys",
    "$1 $2 ::text E'\\\\x00' $$dollar$$ \\N",
    "<script>alert(document.cookie)</script>",
    "<img src=x onerror=\"alert('x')\">&amp;&lt;&#x3C;</textarea>",
    "{{7*7}} ${7*7} <%= 7*7 %> %s %n %x %%",
    "100%_off \\ back\\slash \"quoted\" /slash/ 'single'",
    "line1\nline2\r\nline3\ttab\u2028sep\u0085nel",
    "zero\u200bwidth \ufeffbom \U0001F469\u200d\U0001F4BB e\u0301 \u202eRTL",
]


@pytest.mark.parametrize("content", TRICKY,
                         ids=["sql-drop", "sql-delete", "sql-union",
                              "pg-syntax", "script", "html-attr", "templates",
                              "like-and-quotes", "line-breaks", "unicode"])
def test_code_looking_content_is_stored_and_returned_unchanged(
        send, api, query, content):
    receiver = unique_phone()
    r = send({"sender": unique_phone(), "receiver": receiver,
              "content": content})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    msg = r.json()
    assert msg["content"] == content
    # Byte for byte in the database.
    assert query("SELECT convert_to(content, 'UTF8') FROM messages "
                 "WHERE id = %s", (msg["id"],))[0][0].tobytes() == \
        content.encode("utf-8")
    got = api.get("/api/messages/%d/" % msg["id"])
    assert got.json()["content"] == content
    listed = api.get("/api/messages/", params={"contact": receiver}).json()
    assert [m["content"] for m in listed["data"]] == [content]
    # And the table is still there, with this row in it.
    assert query("SELECT count(*) FROM messages WHERE id = %s",
                 (msg["id"],))[0][0] == 1


@pytest.mark.parametrize("content", TRICKY[:2] + TRICKY[4:6],
                         ids=["sql-drop", "sql-delete", "script", "html-attr"])
def test_code_looking_content_through_the_webhook(webhook, query, content):
    sender = unique_phone()
    r = webhook({"sender": sender, "content": content})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["content"] == content
    assert query("SELECT content FROM messages WHERE sender = %s",
                 (sender,)) == [(content,)]


@pytest.mark.parametrize("q", [
    "' OR '1'='1", "%' OR 1=1 --", "\\", "%", "_", "'; SELECT pg_sleep(5); --",
])
def test_injection_in_the_search_parameter_matches_nothing_extra(api, q):
    r = api.get("/api/messages/", params={"q": q + unique_token()})
    assert r.status_code == 200, r.text
    assert r.json() == {"data": [], "next": None}
    assert r.elapsed.total_seconds() < 4


def test_injection_in_other_parameters_is_400(api):
    for params, field in [({"contact": "1 OR 1=1"}, "contact"),
                          ({"status": "queued' OR '1'='1"}, "status"),
                          ({"before_id": "1;DROP TABLE messages"},
                           "before_id"),
                          ({"limit": "1 UNION SELECT 1"}, "limit")]:
        assert_error(api.get("/api/messages/", params=params), 400,
                     "invalid_parameter", field)


# ------------------------------------------------- the local stack's doors

def test_fastcgi_socket_is_not_open_to_every_local_user(env):
    """Anyone who can connect to the FastCGI socket can forge REMOTE_ADDR,
    HTTPS and every other parameter nginx sets: only its owner and nginx's
    group may."""
    sock = env.get("WADESK_SOCKET", "")
    if not sock.startswith("/"):
        pytest.skip("the stack's FastCGI socket is not a unix socket")
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert st.st_mode & 0o007 == 0, oct(st.st_mode)
    # The folder it is in is closed to others, too.
    assert os.stat(os.path.dirname(sock)).st_mode & 0o007 == 0


@pytest.mark.parametrize("user", ["postgres", "wadesk"])
def test_database_over_tcp_needs_the_password(env, user):
    with pytest.raises(psycopg2.OperationalError) as e:
        psycopg2.connect(host="127.0.0.1", port=env["WADESK_PG_PORT"],
                         user=user, dbname="postgres", connect_timeout=5)
    assert "password" in str(e.value)
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=env["WADESK_PG_PORT"],
                         user=user, password="wrong-" + unique_token(),
                         dbname="postgres", connect_timeout=5)
    # The URL the stack wrote (with its generated password) works.
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    conn.close()


def test_binary_has_full_relro():
    """Linked with -z relro -z now: the GOT is read-only once running."""
    dyn = subprocess.run(["readelf", "-dW", str(BINARY)],
                         capture_output=True, text=True, check=True).stdout
    seg = subprocess.run(["readelf", "-lW", str(BINARY)],
                         capture_output=True, text=True, check=True).stdout
    assert "GNU_RELRO" in seg
    assert "BIND_NOW" in dyn or "Flags: NOW" in dyn, dyn


def test_nginx_never_passes_a_proxy_header_on():
    """httpoxy: a client's "Proxy:" header would become HTTP_PROXY, which
    HTTP client libraries take as their proxy.  nginx sets it empty."""
    params = (ROOT / "nginx" / "fastcgi_params").read_text()
    assert re.search(r'^fastcgi_param\s+HTTP_PROXY\s+""\s*;', params, re.M)
