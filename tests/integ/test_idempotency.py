"""Idempotency-Key on POST /api/send-message/ (the IETF draft's semantics)."""

import threading

import pytest
import requests

from integ_support import (assert_error, json_bytes, unique_phone,
                           unique_token)


def _body(content=None):
    return json_bytes({"sender": unique_phone(), "receiver": unique_phone(),
                       "content": content or unique_token("idem-")})


def _key():
    return "integ-" + unique_token()


def test_replay_returns_the_first_response_and_creates_nothing(send,
                                                               count_rows):
    body, key = _body(), _key()
    first = send(body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    again = send(body, headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.content == first.content
    mid = first.json()["id"]
    content = first.json()["content"]
    assert count_rows("messages", "content = %s", (content,)) == 1
    # One outbox row at most (a dispatcher may have taken it already) and no
    # "queued" event beyond the message itself: the replay wrote nothing.
    assert count_rows("outbox", "message_id = %s", (mid,)) <= 1
    assert count_rows("message_events",
                      "message_id = %s AND status = 'queued'", (mid,)) == 0


def test_replay_many_times(send, count_rows):
    body, key = _body(), _key()
    ids = set()
    for _ in range(5):
        r = send(body, headers={"Idempotency-Key": key})
        assert r.status_code == 201, r.text
        ids.add(r.json()["id"])
    assert len(ids) == 1
    assert count_rows("messages", "id = %s", (ids.pop(),)) == 1


def test_same_key_with_a_different_body_is_422(send, count_rows):
    key = _key()
    first = send(_body(), headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    other = unique_token("other-")
    r = send(_body(other), headers={"Idempotency-Key": key})
    assert_error(r, 422, "idempotency_key_reused")
    assert count_rows("messages", "content = %s", (other,)) == 0
    # The first response is still the one replayed for the first body.


def test_different_keys_create_different_messages(send):
    body = _body()
    a = send(body, headers={"Idempotency-Key": _key()})
    b = send(body, headers={"Idempotency-Key": _key()})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_without_a_key_every_request_creates_a_message(send, count_rows):
    content = unique_token("nokey-")
    body = _body(content)
    assert send(body).status_code == 201
    assert send(body).status_code == 201
    assert count_rows("messages", "content = %s", (content,)) == 2


def test_keys_are_scoped_to_the_api_key(send, anon, make_api_key,
                                        count_rows):
    other_key, _ = make_api_key("integ-idem-scope")
    other = requests.Session()
    other.headers["Authorization"] = "Bearer " + other_key
    content = unique_token("scoped-")
    body, key = _body(content), _key()
    a = send(body, headers={"Idempotency-Key": key})
    b = other.post(anon.base_url + "/api/send-message/", data=body,
                   timeout=10, headers={"Idempotency-Key": key,
                                        "Content-Type": "application/json"})
    assert a.status_code == 201, a.text
    assert b.status_code == 201, b.text
    assert a.json()["id"] != b.json()["id"]
    assert count_rows("messages", "content = %s", (content,)) == 2
    # A different body under the other API key is no reuse of this one's key.
    c = other.post(anon.base_url + "/api/send-message/", data=_body(),
                   timeout=10, headers={"Idempotency-Key": _key() + "x",
                                        "Content-Type": "application/json"})
    assert c.status_code == 201, c.text
    other.close()


def test_a_rejected_request_does_not_use_up_the_key(send):
    key = _key()
    bad = json_bytes({"sender": unique_phone(), "receiver": "12",
                      "content": "x"})
    assert_error(send(bad, headers={"Idempotency-Key": key}), 422,
                 "validation_failed", "receiver")
    good = send(_body(), headers={"Idempotency-Key": key})
    assert good.status_code == 201, good.text


@pytest.mark.parametrize("key", [
    "",
    "k" * 256,
    "caf\u00e9",
    "tab\there",
    "bell\x07",
    "del\x7f",
], ids=["empty", "256-chars", "non-ascii", "tab", "control", "del"])
def test_malformed_key_is_400(send, count_rows, key):
    content = unique_token("badkey-")
    r = send(_body(content),
             headers={"Idempotency-Key": key.encode("latin-1")})
    assert_error(r, 400, "invalid_idempotency_key")
    assert count_rows("messages", "content = %s", (content,)) == 0


@pytest.fixture(scope="module")
def fresh_api(make_api_key, anon):
    """A new API key: Idempotency-Keys are scoped to it, so fixed key strings
    are new under it even when the suite ran before."""
    key, _ = make_api_key("integ-idem-keys")
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + key
    s.headers["Content-Type"] = "application/json"
    yield lambda body, idem: s.post(anon.base_url + "/api/send-message/",
                                    data=body, timeout=10,
                                    headers={"Idempotency-Key": idem})
    s.close()


@pytest.mark.parametrize("key", ["k" * 255, "a", "~!@#$%^&*()_+{}|:\"<>? ok",
                                 "550e8400-e29b-41d4-a716-446655440000"],
                         ids=["255-chars", "one-char", "punctuation", "uuid"])
def test_well_formed_keys_are_accepted(fresh_api, key):
    body = _body()
    first = fresh_api(body, key)
    assert first.status_code == 201, first.text
    again = fresh_api(body, key)
    assert again.status_code == 201 and again.json() == first.json()


def test_concurrent_identical_requests_create_one_message(env, base_url,
                                                          count_rows):
    n = 20
    content = unique_token("race-")
    body, key = _body(content), _key()
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        with requests.Session() as s:
            s.headers["Authorization"] = "Bearer " + env["WADESK_API_KEY"]
            # Open the connection first so the requests start together.
            s.get(base_url + "/healthz", timeout=10)
            barrier.wait(timeout=10)
            try:
                r = s.post(base_url + "/api/send-message/", data=body,
                           timeout=15,
                           headers={"Content-Type": "application/json",
                                    "Idempotency-Key": key})
                results[i] = (r.status_code, r.text)
            except requests.RequestException as e:
                results[i] = (None, repr(e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = [r[0] for r in results]
    assert set(statuses) <= {201, 409}, results
    created = {text for status, text in results if status == 201}
    assert len(created) == 1, "201 bodies differ: %s" % created
    for status, text in results:
        if status == 409:
            assert '"idempotency_in_flight"' in text
    assert count_rows("messages", "content = %s", (content,)) == 1
    # After the race, the key replays the one response.
    with requests.Session() as s:
        r = s.post(base_url + "/api/send-message/", data=body, timeout=10,
                   headers={"Content-Type": "application/json",
                            "Idempotency-Key": key,
                            "Authorization": "Bearer " +
                            env["WADESK_API_KEY"]})
    assert r.status_code == 201 and r.text in created
