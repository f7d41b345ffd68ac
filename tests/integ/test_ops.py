"""Health, readiness, request ids and the request log."""

import json
import re

import pytest

from integ_support import assert_error, unique_phone, wait_until

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def test_healthz(anon):
    r = anon.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert anon.head("/healthz").status_code == 200
    assert anon.get("/healthz/").status_code == 200


def test_readyz(anon):
    r = anon.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert anon.head("/readyz").status_code == 200


def _log_entries(path, request_id):
    if not path.is_file():
        return []
    out = []
    with open(path, "rb") as f:
        for line in f:
            if request_id.encode() not in line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


@pytest.mark.parametrize("case", ["healthz", "list", "send", "unauthorized",
                                  "not-found", "method", "validation"])
def test_request_id_is_returned_and_logged(anon, api, send, log_dir, case):
    calls = {
        "healthz": lambda: anon.get("/healthz"),
        "list": lambda: api.get("/api/messages/?limit=1"),
        "send": lambda: send({"sender": unique_phone(),
                              "receiver": unique_phone(),
                              "content": "request id"}),
        "unauthorized": lambda: anon.get("/api/messages/"),
        "not-found": lambda: api.get("/api/nothing-here"),
        "method": lambda: api.delete("/api/messages/"),
        "validation": lambda: send({"sender": "1", "receiver": "2",
                                    "content": "x"}),
    }
    r = calls[case]()
    rid = r.headers.get("X-Request-Id")
    assert rid and REQUEST_ID.match(rid), rid
    log = log_dir / "wadesk.log"
    entries = wait_until(lambda: [e for e in _log_entries(log, rid)
                                  if e.get("msg") == "request"], timeout=2)
    assert entries, "request %s is not in %s" % (rid, log.name)
    assert len(entries) == 1
    assert entries[0].get("request_id") == rid
    assert entries[0].get("status") == r.status_code
    assert entries[0].get("method") == r.request.method


def test_request_ids_are_unique(anon):
    ids = {anon.get("/healthz").headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20


def test_nginx_errors_carry_a_request_id_too(send, log_dir):
    r = send(b"{" + b" " * 70000 + b"}")
    assert_error(r, 413, "payload_too_large")
    rid = r.headers.get("X-Request-Id")
    assert rid and REQUEST_ID.match(rid)
    # nginx flushes its access log every second.
    found = wait_until(lambda: _log_entries(log_dir / "nginx-access.log",
                                            rid), timeout=3, interval=0.2)
    assert found and found[0].get("status") == 413
