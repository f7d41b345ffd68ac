"""The logs: each request is one JSON line in the app's log (and one in
nginx's access log) with its request id, and no secret reaches any log
file.

The test makes every request it checks itself, so it does not depend on
the other modules having run first: requests that carry each secret a
client can send, where they would most likely be logged (the
Authorization header, the query string, a login form), succeeding and
failing; an API key made for it with `wadesk apikey create`, used, revoked
and used again. Then it waits until its requests are in the logs and
searches every log file for every secret (those of dev.env, its own key,
and the keys other tests of the same run created, if any ran first).
"""

import json

import requests

from admin_support import Admin, csrf_of
from integ_support import (CREATED_SECRETS, json_bytes, run_cli, sign,
                           unique_token, wait_until)

TIMEOUT = 10
LOG_FIELDS = ("ts", "level", "request_id", "method", "route", "status",
              "duration_ms")


def _log_files(log_dir):
    return sorted(p for p in log_dir.rglob("*") if p.is_file())


def _json_lines(path):
    out = []
    for raw in path.read_bytes().splitlines():
        try:
            out.append(json.loads(raw))
        except ValueError:
            continue
    return out


def _secret_requests(env, base_url, key, key_id):
    """Makes the requests; returns [(request id, method, status)]."""
    made = []

    def note(r):
        made.append((r.headers["X-Request-Id"], r.request.method,
                     r.status_code))
        return r

    token = env["WADESK_VERIFY_TOKEN"]
    verify = base_url + "/api/webhook/"
    r = note(requests.get(verify, timeout=TIMEOUT, params={
        "hub.mode": "subscribe", "hub.verify_token": token,
        "hub.challenge": "12345"}))
    assert r.status_code == 200, r.text
    r = note(requests.get(verify, timeout=TIMEOUT, params={
        "hub.mode": "subscribe", "hub.verify_token": token,
        "hub.challenge": ""}))
    assert r.status_code == 400, r.text

    for k in (env["WADESK_API_KEY"], key):
        auth = {"Authorization": "Bearer " + k}
        r = note(requests.get(base_url + "/api/messages/?limit=1",
                              headers=auth, timeout=TIMEOUT))
        assert r.status_code == 200, r.text
        r = note(requests.post(base_url + "/api/send-message/", data=b"{",
                               timeout=TIMEOUT, headers=dict(
                                   auth, **{"Content-Type":
                                            "application/json"})))
        assert r.status_code == 400, r.text
    p = run_cli(env, "apikey", "revoke", str(key_id))
    assert p.returncode == 0, p.stderr
    r = note(requests.get(base_url + "/api/messages/?limit=1", timeout=TIMEOUT,
                          headers={"Authorization": "Bearer " + key}))
    assert r.status_code == 401, r.text

    body = json_bytes({"sender": "+15551234567", "content": "log check"})
    r = note(requests.post(base_url + "/api/webhook/", data=body,
                           timeout=TIMEOUT, headers={
                               "Content-Type": "application/json",
                               "X-Hub-Signature-256": sign(
                                   env["WADESK_APP_SECRET"], body + b"x")}))
    assert r.status_code == 401, r.text

    # The admin password in the login form: for an unknown user (refused),
    # then for the admin (logged in).
    admin = Admin(base_url)
    form = admin.get("/admin/login")
    r = note(admin.post_login({"csrf": csrf_of(form.text),
                               "username": unique_token("no-such-user-"),
                               "password": env["WADESK_ADMIN_PASSWORD"]}))
    assert r.status_code == 401, r.text[:300]
    form = admin.get("/admin/login")
    r = note(admin.post_login({"csrf": csrf_of(form.text),
                               "username": env["WADESK_ADMIN_USER"],
                               "password": env["WADESK_ADMIN_PASSWORD"]}))
    assert r.status_code == 303, r.text[:300]
    return made


def test_requests_are_logged_and_no_secret_reaches_a_log(env, base_url,
                                                          log_dir,
                                                          make_api_key):
    key, key_id = make_api_key("log-test")
    made = _secret_requests(env, base_url, key, key_id)

    files = {p.name: p for p in _log_files(log_dir)}
    assert "wadesk.log" in files, "no wadesk.log in %s" % log_dir
    ids = [i for i, _, _ in made]

    # nginx buffers its access log (flushed every second).
    def logged():
        ok = all(i.encode() in files["wadesk.log"].read_bytes() for i in ids)
        if "nginx-access.log" in files:
            acc = files["nginx-access.log"].read_bytes()
            ok = ok and all(i.encode() in acc for i in ids)
        return ok
    assert wait_until(logged, timeout=5, interval=0.2), \
        "the test's requests never reached the logs"

    app = _json_lines(files["wadesk.log"])
    for request_id, method, status in made:
        lines = [ln for ln in app if ln.get("request_id") == request_id and
                 "status" in ln]
        assert len(lines) == 1, "%s %s: %d request lines in wadesk.log" % (
            method, request_id, len(lines))
        line = lines[0]
        missing = [f for f in LOG_FIELDS if f not in line]
        assert not missing, "wadesk.log line lacks %s: %r" % (missing, line)
        assert (line["method"], line["status"]) == (method, status), line
        assert isinstance(line["duration_ms"], (int, float)), line
    if "nginx-access.log" in files:
        access = _json_lines(files["nginx-access.log"])
        for request_id, method, status in made:
            lines = [ln for ln in access
                     if ln.get("request_id") == request_id]
            assert [(ln.get("method"), ln.get("status")) for ln in lines] \
                == [(method, status)], (request_id, lines)

    secrets = {
        "WADESK_API_KEY": env["WADESK_API_KEY"],
        "WADESK_APP_SECRET": env["WADESK_APP_SECRET"],
        "WADESK_VERIFY_TOKEN": env["WADESK_VERIFY_TOKEN"],
        "WADESK_ADMIN_PASSWORD": env.get("WADESK_ADMIN_PASSWORD", ""),
        "the API key made for this test": key,
    }
    for i, extra in enumerate(CREATED_SECRETS):
        if extra != key:
            secrets["API key created by another test #%d" % (i + 1)] = extra
    leaks = []
    for path in _log_files(log_dir):
        data = path.read_bytes()
        for name, value in secrets.items():
            if value and value.encode() in data:
                leaks.append("%s in %s" % (name, path.relative_to(log_dir)))
    assert leaks == [], "secrets in the logs: %s" % ", ".join(leaks)
