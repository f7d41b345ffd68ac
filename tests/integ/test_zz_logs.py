"""No secret reaches a log file (this module sorts last so that it sees the
logs of the whole suite)."""

import requests

from integ_support import CREATED_SECRETS, json_bytes, sign, wait_until


def _log_files(log_dir):
    return sorted(p for p in log_dir.rglob("*") if p.is_file())


def test_no_secret_appears_in_any_log_file(env, base_url, log_dir):
    key = env["WADESK_API_KEY"]
    token = env["WADESK_VERIFY_TOKEN"]
    # Requests that carry every secret a client can send, in the places
    # where they would most likely be logged (headers, the query string),
    # including failing requests.
    auth = {"Authorization": "Bearer " + key}
    ids = []
    r = requests.get(base_url + "/api/webhook/", timeout=10, params={
        "hub.mode": "subscribe", "hub.verify_token": token,
        "hub.challenge": "12345"})
    assert r.status_code == 200
    ids.append(r.headers["X-Request-Id"])
    r = requests.get(base_url + "/api/webhook/", timeout=10, params={
        "hub.mode": "subscribe", "hub.verify_token": token,
        "hub.challenge": ""})
    ids.append(r.headers["X-Request-Id"])
    r = requests.get(base_url + "/api/messages/?limit=1", headers=auth,
                     timeout=10)
    assert r.status_code == 200
    ids.append(r.headers["X-Request-Id"])
    r = requests.post(base_url + "/api/send-message/", data=b"{", timeout=10,
                      headers=dict(auth, **{"Content-Type":
                                            "application/json"}))
    ids.append(r.headers["X-Request-Id"])
    body = json_bytes({"sender": "+15551234567", "content": "log check"})
    r = requests.post(base_url + "/api/webhook/", data=body, timeout=10,
                      headers={"Content-Type": "application/json",
                               "X-Hub-Signature-256": sign(
                                   env["WADESK_APP_SECRET"], body + b"x")})
    assert r.status_code == 401
    ids.append(r.headers["X-Request-Id"])
    # Wait until both the app log and nginx's buffered access log (flushed
    # every second) have these requests, so the check below sees them.
    files = {p.name: p for p in _log_files(log_dir)}
    assert "wadesk.log" in files, "no wadesk.log in the log directory"

    def logged():
        app = files["wadesk.log"].read_bytes()
        ok = all(i.encode() in app for i in ids)
        if "nginx-access.log" in files:
            acc = files["nginx-access.log"].read_bytes()
            ok = ok and all(i.encode() in acc for i in ids)
        return ok
    assert wait_until(logged, timeout=4, interval=0.2), \
        "the test's requests never reached the logs"

    secrets = {
        "WADESK_API_KEY": key,
        "WADESK_APP_SECRET": env["WADESK_APP_SECRET"],
        "WADESK_VERIFY_TOKEN": token,
        "WADESK_ADMIN_PASSWORD": env.get("WADESK_ADMIN_PASSWORD", ""),
    }
    for i, extra in enumerate(CREATED_SECRETS):
        secrets["API key created by the tests #%d" % (i + 1)] = extra
    leaks = []
    for path in _log_files(log_dir):
        data = path.read_bytes()
        for name, value in secrets.items():
            if value and value.encode() in data:
                leaks.append("%s in %s" % (name, path.relative_to(log_dir)))
    assert leaks == [], "secrets in the logs: %s" % ", ".join(leaks)
