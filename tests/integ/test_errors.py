"""Every client error of the contract's table, always as JSON, and never a
stored message after a 4xx."""

import pytest

from integ_support import assert_error, json_bytes, unique_phone, unique_token


@pytest.fixture
def no_new_messages(count_rows):
    """Call the returned function after a rejected request: the messages
    table must have as many rows as when the test began."""
    before = count_rows("messages")

    def check():
        assert count_rows("messages") == before, \
            "a rejected request stored a message"
    return check


def _valid(**override):
    body = {"sender": unique_phone(), "receiver": unique_phone(),
            "content": unique_token("err-")}
    body.update(override)
    return body


# ------------------------------------------------------------------ 400 JSON

@pytest.mark.parametrize("body", [
    b'{"sender": "+15551234567", "receiver": "+15557654321", "content": ',
    b'{"sender": "+15551234567",}',
    b"{'sender': '+15551234567'}",
    b'{"a": 1} {"b": 2}',
    b'{"a": 1} trailing',
    b"",
    b"   ",
    b"null",
    b"[]",
    b'[{"sender": "+15551234567", "receiver": "+15557654321", '
    b'"content": "x"}]',
    b'"a string"',
    b"42",
    b"true",
    b"{" * 2000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
], ids=["truncated", "trailing-comma", "single-quotes", "two-objects",
        "trailing-garbage", "empty", "blank", "null", "empty-array",
        "array-of-object", "string", "number", "true", "unclosed-braces",
        "deep-nesting"])
def test_body_that_is_not_one_json_object_is_400(send, no_new_messages, body):
    assert_error(send(body), 400, "invalid_json")
    no_new_messages()


@pytest.mark.parametrize("bad", [
    b"\xff",
    b"\xc0\xaf",                # overlong "/"
    b"\xed\xa0\x80",            # a UTF-16 surrogate encoded as UTF-8
    b"\xf4\x90\x80\x80",        # beyond U+10FFFF
    b"\xe2\x82",                # truncated sequence
    b"ok \x80 continuation",    # stray continuation byte
], ids=["ff", "overlong", "surrogate", "too-high", "truncated", "stray"])
def test_invalid_utf8_in_content_is_400(send, no_new_messages, bad):
    """JSON bodies are UTF-8 (the contract, and RFC 8259): bytes that are
    not UTF-8 make the body no JSON text at all, wherever they are, so it
    is not one JSON object: 400 invalid_json, as outside strings below."""
    body = (b'{"sender":"+15551234567","receiver":"+15557654321",'
            b'"content":"' + bad + b'"}')
    assert_error(send(body), 400, "invalid_json")
    no_new_messages()


def test_invalid_utf8_outside_strings_is_400(send, no_new_messages):
    body = b'{"sender":"+15551234567",\xff"receiver":"+15557654321"}'
    assert_error(send(body), 400, "invalid_json")
    no_new_messages()


def test_escaped_lone_surrogate_in_content_is_400(send, query):
    """"\\ud800" escapes a lone surrogate, which is no character and has
    no UTF-8 form: the body is refused as JSON (400 invalid_json, as
    app/openapi.yaml documents), not stored with different text."""
    receiver = unique_phone()
    body = ('{"sender":"+15551234567","receiver":"%s",'
            '"content":"lone \\ud800 surrogate"}' % receiver).encode()
    r = send(body)
    stored = query("SELECT content FROM messages WHERE receiver = %s",
                   (receiver,))
    assert stored == [], "stored %r" % stored
    assert_error(r, 400, "invalid_json")


@pytest.mark.parametrize("body,status,code,field", [
    # Well-formed JSON whose content is a number, not a string.
    (b'{"sender":"+15551234567","receiver":"+15557654321","content":1e400}',
     422, "validation_failed", "content"),
    (b'{"sender":"+15551234567","receiver":"+15557654321",'
     b'"content":99999999999999999999999999}',
     422, "validation_failed", "content"),
    # Whichever duplicate a parser keeps (the first or the last), sender
    # is invalid; the valid one in the middle must not win.
    (b'{"sender":"+1","receiver":"+15557654321","content":"x",'
     b'"sender":"+15551234567","sender":"12"}',
     422, "validation_failed", "sender"),
    # A long unknown key is ignored; the receiver is still missing.
    (b'{"sender":"+15551234567","content":"x","' + b"k" * 60000 + b'":1}',
     422, "validation_failed", "receiver"),
    # Bytes after or before the object: not one JSON object.
    (b'{"sender":"+15551234567","receiver":"+15557654321","content":"x"}'
     b'\x00', 400, "invalid_json", None),
    (b'\x00{}', 400, "invalid_json", None),
], ids=["huge-float", "huge-int", "duplicate-keys", "long-key",
        "trailing-nul", "leading-nul"])
def test_odd_bodies_get_the_contracts_4xx(send, no_new_messages, body,
                                          status, code, field):
    assert_error(send(body), status, code, field)
    no_new_messages()


# ------------------------------------------------------------------- 422

@pytest.mark.parametrize("override,field", [
    ({"content": 42}, "content"),
    ({"content": True}, "content"),
    ({"content": {"text": "hi"}}, "content"),
    ({"content": ["hi"]}, "content"),
    ({"content": 4.5}, "content"),
    ({"content": None}, "content"),
    ({"sender": 15551234567}, "sender"),
    ({"sender": ["+15551234567"]}, "sender"),
    ({"receiver": 15557654321}, "receiver"),
    ({"receiver": {"phone": "+15557654321"}}, "receiver"),
    ({"receiver": False}, "receiver"),
])
def test_wrong_types_are_422(send, no_new_messages, override, field):
    assert_error(send(_valid(**override)), 422, "validation_failed", field)
    no_new_messages()


@pytest.mark.parametrize("missing", ["receiver", "content"])
def test_missing_fields_are_422(send, no_new_messages, missing):
    body = _valid()
    del body[missing]
    assert_error(send(body), 422, "validation_failed", missing)
    no_new_messages()


def test_missing_sender_is_the_business_number_or_422(env, send,
                                                      no_new_messages):
    # The local stack sets WADESK_BUSINESS_NUMBER (the one-number shortcut),
    # so a send without a sender goes from it; without one the sender is
    # required (also covered by the unit tests of model_message_validate).
    body = _valid()
    del body["sender"]
    business = env.get("WADESK_BUSINESS_NUMBER")
    if not business:
        assert_error(send(body), 422, "validation_failed", "sender")
        no_new_messages()
        return
    r = send(body)
    assert r.status_code == 201, r.text[:300]
    assert r.json()["sender"] == business
    assert r.json()["number_id"] is not None


def test_empty_object_is_422(send, no_new_messages):
    err = assert_error(send(b"{}"), 422, "validation_failed")
    assert err.get("field") in ("sender", "receiver", "content")
    no_new_messages()


@pytest.mark.parametrize("field", ["sender", "receiver", "content"])
def test_empty_strings_are_422(send, no_new_messages, field):
    assert_error(send(_valid(**{field: ""})), 422, "validation_failed", field)
    no_new_messages()


def test_content_of_4096_emoji_is_accepted(send, query):
    """The limit counts Unicode code points (16 KiB of UTF-8 here)."""
    content = "\U0001F600" * 4095 + "\u00e9"
    r = send(_valid(content=content))
    assert r.status_code == 201, r.text[:300]
    assert r.json()["content"] == content
    rows = query("SELECT char_length(content), octet_length(content) "
                 "FROM messages WHERE id = %s", (r.json()["id"],))
    assert rows == [(4096, 4095 * 4 + 2)]


def test_content_of_4096_ascii_characters_is_accepted(send):
    r = send(_valid(content="a" * 4096))
    assert r.status_code == 201, r.text[:300]
    assert len(r.json()["content"]) == 4096


@pytest.mark.parametrize("content", ["a" * 4097, "\U0001F600" * 4097,
                                     "\u00e9" * 4097],
                         ids=["ascii", "emoji", "latin"])
def test_content_of_4097_characters_is_422(send, no_new_messages, content):
    assert_error(send(_valid(content=content)), 422, "validation_failed",
                 "content")
    no_new_messages()


@pytest.mark.parametrize("field,value", [
    ("content", "a\u0000b"),
    ("content", "\u0000"),
    ("sender", "+1555\u00001234567"),
    ("receiver", "+15557654321\u0000"),
])
def test_nul_characters_are_422(send, no_new_messages, field, value):
    assert_error(send(_valid(**{field: value})), 422, "validation_failed",
                 field)
    no_new_messages()


INVALID_PHONES = [
    ("123456", "6 digits"),
    ("+123456", "6 digits with plus"),
    ("1234567890123456", "16 digits"),
    ("+0123456789", "leading zero"),
    ("0015551234567", "international prefix"),
    ("++15551234567", "two pluses"),
    ("+", "plus only"),
    ("+1 555 123 4567", "spaces"),
    ("+1-555-123-4567", "dashes"),
    ("(555) 1234567", "parentheses"),
    ("15551234567x", "trailing letter"),
    ("abcdefghij", "letters"),
    (" +15551234567", "leading space"),
    ("+15551234567 ", "trailing space"),
    ("15551234567\n", "newline"),
    ("1555123456７", "fullwidth digit"),
    ("١٥٥٥١٢٣٤٥٦٧", "arabic-indic digits"),
    ("+1555123.4567", "dot"),
    ("1" * 100, "100 digits"),
]


@pytest.mark.parametrize("field", ["sender", "receiver"])
@pytest.mark.parametrize("phone,why", INVALID_PHONES,
                         ids=[w for _, w in INVALID_PHONES])
def test_invalid_phone_numbers_are_422(send, no_new_messages, field, phone,
                                       why):
    assert_error(send(_valid(**{field: phone})), 422, "validation_failed",
                 field)
    no_new_messages()


# ------------------------------------------------------------------- 413

def _padded(size):
    """A valid send-message body of exactly size bytes (trailing blanks)."""
    body = json_bytes(_valid())
    assert len(body) <= size
    return body + b" " * (size - len(body))


def test_body_of_exactly_64_kib_is_accepted(send):
    r = send(_padded(65536))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("size", [65537, 200 * 1024])
def test_body_over_64_kib_is_413(send, no_new_messages, size):
    r = send(_padded(size))
    assert_error(r, 413, "payload_too_large")
    assert r.headers.get("X-Request-Id")
    no_new_messages()


def test_chunked_body_over_64_kib_is_413(send, no_new_messages):
    body = _padded(70 * 1024)

    def chunks():
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]
    assert_error(send(chunks()), 413, "payload_too_large")
    no_new_messages()


def test_content_too_large_is_413_on_the_webhook_too(webhook, count_rows):
    sender = unique_phone()
    body = json_bytes({"sender": sender, "content": "x" * 70000})
    assert_error(webhook(body), 413, "payload_too_large")
    assert count_rows("messages", "sender = %s", (sender,)) == 0


# ------------------------------------------------------------------- 415

@pytest.mark.parametrize("ctype", [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/jsonx",
    "application/json-patch+json",
    "text/json",
    "application/xml",
])
def test_wrong_content_type_is_415(api, no_new_messages, ctype):
    headers = {} if ctype is None else {"Content-Type": ctype}
    r = api.post("/api/send-message/", data=json_bytes(_valid()),
                 headers=headers)
    assert_error(r, 415, "unsupported_media_type")
    no_new_messages()


# ------------------------------------------------------------------- 405

ROUTES_ALLOW = [
    ("/api/send-message/", {"POST"}),
    ("/api/send-message", {"POST"}),
    ("/api/messages/", {"GET", "HEAD"}),
    ("/api/messages", {"GET", "HEAD"}),
    ("/api/messages/1/", {"GET", "HEAD"}),
    ("/api/messages/1", {"GET", "HEAD"}),
    ("/api/webhook/", {"GET", "HEAD", "POST"}),
    ("/api/webhook", {"GET", "HEAD", "POST"}),
    ("/healthz", {"GET", "HEAD"}),
    ("/readyz", {"GET", "HEAD"}),
]
WRONG_METHODS = [(path, method, allow)
                 for path, allow in ROUTES_ALLOW
                 for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
                 if method not in allow]


@pytest.mark.parametrize("path,method,allow", WRONG_METHODS,
                         ids=["%s %s" % (m, p) for p, m, _ in WRONG_METHODS])
def test_wrong_method_is_405_with_allow(api, no_new_messages, path, method,
                                        allow):
    kw = {}
    if method in ("POST", "PUT", "PATCH"):
        kw = {"data": json_bytes(_valid()),
              "headers": {"Content-Type": "application/json"}}
    r = api.request(method, path, **kw)
    assert_error(r, 405, "method_not_allowed")
    assert "Allow" in r.headers
    got = {m.strip() for m in r.headers["Allow"].split(",")}
    assert got == allow
    no_new_messages()


# ------------------------------------------------------------------- 404

@pytest.mark.parametrize("path", [
    "/nope",
    "/api",
    "/api/",
    "/api/message/",
    "/api/messages/abc/",
    "/api/messages/1/events",
    "/api/send-message/extra",
    "/api/send-messages",
    "/healthz/extra",
    "/index.php",
    "/API/MESSAGES/",
])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_route_is_404_json(api, no_new_messages, path, method):
    kw = {}
    if method == "POST":
        kw = {"data": json_bytes(_valid()),
              "headers": {"Content-Type": "application/json"}}
    r = api.request(method, path, **kw)
    assert_error(r, 404, "not_found")
    no_new_messages()


def test_unknown_route_head_is_404(api):
    r = api.head("/no/such/route")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
