"""The hostile-request corpus of test_hostile.py (issue 6, item 3).

Data, built by a function because bodies carry the run's markers and the
webhook cases carry signatures made with the stack's secret:

    build_cases(ctx) -> [Case, ...]

ctx has: key (the API key), secret (WADESK_APP_SECRET), verify_token, tag
(a unique marker of this run), sender / receiver (two phone numbers unique to
this run, with '+'), wa_from (a third one, digits only, for the Cloud API
shape).  Every body that could create a row carries one of them, so the test
can count "rows this corpus could have created" even while other sessions
write to the same database.

Every case is a complete HTTP/1.1 request as bytes, sent as is over a raw
socket (no client library normalises paths, headers or bodies), with
`Connection: close`.  Every case must be answered with a 4xx: `expect` narrows
the statuses, `code` names the JSON error code when it is certain.
`nginx_html` marks the requests that are not valid HTTP at all (a malformed
request line, header or chunked framing) or that nginx must refuse while it
reads the request line, before any configuration applies (error_page cannot
redirect those: it turns them into 500s): only for those may nginx answer
with its own HTML page instead of a JSON error.  `xfail` names the few cases
nginx answers with a 5xx before the app or the configuration can act; they
are expected to fail (strictly: they fail the run once nginx changes).
"""

import hashlib
import hmac
import json

HTTP = "HTTP/1.1"


class Case:
    __slots__ = ("name", "raw", "expect", "code", "nginx_html", "why",
                 "xfail")

    def __init__(self, name, raw, expect=None, code=None, nginx_html=False,
                 why="", xfail=None):
        self.name = name
        self.xfail = xfail
        self.raw = raw
        self.expect = tuple(expect) if expect else None
        self.code = code
        self.nginx_html = nginx_html
        self.why = why

    def __repr__(self):
        return "Case(%s)" % self.name


def _b(s):
    return s if isinstance(s, bytes) else s.encode("utf-8")


def request(method, target, body=None, headers=(), *, key=None,
            ctype="application/json", length="auto", version=HTTP,
            host="localhost", extra=b""):
    """One HTTP request as bytes.  headers: (name, value) pairs sent in
    order (values str or bytes, nothing escaped); key: an API key for
    `Authorization: Bearer`; ctype None leaves Content-Type out; length
    "auto" sends Content-Length when there is a body, None leaves it out,
    anything else is sent verbatim; extra: raw bytes appended to the head."""
    lines = [_b("%s %s %s" % (method, target, version)) if isinstance(
        target, str) else _b(method) + b" " + target + b" " + _b(version)]
    if host is not None:
        lines.append(b"Host: " + _b(host))
    if key is not None:
        lines.append(b"Authorization: Bearer " + _b(key))
    if ctype is not None:
        lines.append(b"Content-Type: " + _b(ctype))
    if length == "auto":
        if body is not None:
            lines.append(b"Content-Length: %d" % len(body))
    elif length is not None:
        lines.append(b"Content-Length: " + _b(str(length)))
    for name, value in headers:
        lines.append(_b(name) + b": " + _b(value))
    lines.append(b"Connection: close")
    head = b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n"
    return head + (body or b"")


def chunked(body, size=7):
    """body in chunks of `size` bytes, chunked-encoded."""
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def hmac_hex(secret, body, algo=hashlib.sha256):
    return hmac.new(_b(secret), body, algo).hexdigest()


# Invalid UTF-8 sequences: overlong forms, surrogates, beyond U+10FFFF,
# obsolete 5- and 6-byte forms, bytes that never occur, lone continuation
# bytes and sequences cut short.
BAD_UTF8 = [
    ("overlong-nul-c0-80", b"\xc0\x80"),
    ("overlong-c1-bf", b"\xc1\xbf"),
    ("overlong-slash-c0-af", b"\xc0\xaf"),
    ("overlong-3byte-e0-80-80", b"\xe0\x80\x80"),
    ("overlong-3byte-e0-9f-bf", b"\xe0\x9f\xbf"),
    ("overlong-4byte-f0-80-80-80", b"\xf0\x80\x80\x80"),
    ("overlong-4byte-f0-8f-bf-bf", b"\xf0\x8f\xbf\xbf"),
    ("surrogate-ed-a0-80", b"\xed\xa0\x80"),
    ("surrogate-ed-bf-bf", b"\xed\xbf\xbf"),
    ("surrogate-pair-cesu8", b"\xed\xa0\xbd\xed\xb8\x80"),
    ("beyond-10ffff-f4-90", b"\xf4\x90\x80\x80"),
    ("f5-lead", b"\xf5\x80\x80\x80"),
    ("5byte-f8", b"\xf8\x88\x80\x80\x80"),
    ("6byte-fc", b"\xfc\x84\x80\x80\x80\x80"),
    ("byte-fe", b"\xfe"),
    ("byte-ff", b"\xff"),
    ("lone-continuation-80", b"\x80"),
    ("lone-continuation-bf", b"\xbf"),
    ("continuations-80-bf", b"\x80\xbf\x80"),
    ("cut-2byte-c3", b"\xc3"),
    ("cut-3byte-e2-82", b"\xe2\x82"),
    ("cut-4byte-f0-9f-98", b"\xf0\x9f\x98"),
    ("bad-continuation-c3-41", b"\xc3\x41"),
    ("bad-continuation-e2-28-a1", b"\xe2\x28\xa1"),
    ("latin1-cafe", b"caf\xe9"),
]


def build_cases(ctx):
    cases = []
    names = set()
    tag, key = ctx.tag, ctx.key
    S, R = ctx.sender, ctx.receiver

    def add(name, raw, **kw):
        assert name not in names, name
        names.add(name)
        cases.append(Case(name, raw, **kw))

    def mark(name):
        # Per-case marker: a case that wrongly stores a row is named by it.
        return "%s %s" % (tag, name)

    def send(body, headers=(), **kw):
        kw.setdefault("key", key)
        return request("POST", "/api/send-message/", body, headers, **kw)

    def good(name, **over):
        d = {"sender": S, "receiver": R, "content": mark(name)}
        for k, v in over.items():
            if v is _DROP:
                d.pop(k, None)
            else:
                d[k] = v
        return d

    def hook(body, sig="valid", headers=(), **kw):
        h = []
        if sig == "valid":
            h.append(("X-Hub-Signature-256",
                      "sha256=" + hmac_hex(ctx.secret, body)))
        elif sig is not None:
            h.append(("X-Hub-Signature-256", sig))
        h.extend(headers)
        return request("POST", "/api/webhook/", body, h, **kw)

    # ------------------------------------------------ send: JSON syntax
    full = jdump(good("send/json/truncated"))
    cuts = [("1", 1), ("2", 2), ("9", 9), ("10", 10), ("11", 11),
            ("12", 12), ("20", 20), ("25", 25), ("30", 30),
            ("half", len(full) // 2), ("end-minus-12", len(full) - 12),
            ("end-minus-3", len(full) - 3), ("end-minus-2", len(full) - 2),
            ("end-minus-1", len(full) - 1)]
    for label, n in cuts:
        add("send/json/truncated-at-" + label, send(full[:n]),
            expect=[400], code="invalid_json")
    t = b'{"sender":"%s","receiver":"%s","content":"%s \\u00' % (
        _b(S), _b(R), _b(mark("t-esc")))
    add("send/json/truncated-in-escape", send(t), expect=[400],
        code="invalid_json")
    t = jdump(good("t-utf8", content=mark("t-utf8") + " é"))
    add("send/json/truncated-in-utf8-char", send(t[:t.index(b"\xc3") + 1]),
        expect=[400], code="invalid_json")
    add("send/json/truncated-in-number", send(b'{"content":12'),
        expect=[400], code="invalid_json")
    add("send/json/truncated-in-literal", send(b'{"content":tru'),
        expect=[400], code="invalid_json")

    v = jdump(good("send/json/wrapped"))
    not_object = [
        ("empty", b""), ("blank", b"   "), ("newlines-tabs", b"\n\t\r\n"),
        ("null", b"null"), ("true", b"true"), ("false", b"false"),
        ("zero", b"0"), ("negative", b"-1"), ("huge-number", b"1e400"),
        ("string", b'"' + _b(mark("str")) + b'"'), ("empty-array", b"[]"),
        ("array-of-valid-object", b"[" + v + b"]"),
        ("two-objects", b"{}{}"), ("valid-object-twice", v + v),
        ("valid-object-then-garbage", v + b"x"),
        ("valid-object-then-comma", v + b","),
        ("valid-object-then-nul", v + b"\x00"),
        ("open-brace", b"{"), ("close-brace", b"}"),
        ("key-without-value", b'{"a"}'), ("colon-without-value", b'{"a":}'),
        ("value-without-key", b'{:1}'), ("missing-colon", b'{"a" 1}'),
        ("double-comma", b'{"a":1,,"b":2}'), ("lone-comma", b'{,}'),
        ("missing-comma", b'{"a":1 "b":2}'), ("extra-close", b'{"a":1}}'),
        ("array-close-mismatch", b'{"a":[1}'),
        ("non-string-key", b'{1:"x"}'),
    ]
    for name, body in not_object:
        add("send/json/" + name, send(body), expect=[400],
            code="invalid_json")

    # ----------------------------------------------- send: deep nesting
    def nest(depth, o="[", c="]", inner=b"1"):
        return _b(o) * depth + inner + _b(c) * depth

    add("send/deep/33-arrays-in-content",
        send(b'{"receiver":"%s","content":' % _b(R) + nest(32) + b"}"),
        expect=[400], code="invalid_json")
    add("send/deep/33-objects",
        send(nest(33, '{"a":', "}")), expect=[400], code="invalid_json")
    add("send/deep/33-levels-in-ignored-field",
        send(jdump(good("deep-ignored"))[:-1] + b',"x":' + nest(32) + b"}"),
        expect=[400], code="invalid_json",
        why="the depth limit holds for fields the app ignores too")
    add("send/deep/31-arrays-as-content-is-422",
        send(b'{"sender":"%s","receiver":"%s","content":' % (_b(S), _b(R))
             + nest(31, inner=b'"' + _b(mark("d31")) + b'"') + b"}"),
        expect=[422], code="validation_failed")
    add("send/deep/10000-arrays", send(nest(10000)), expect=[400],
        code="invalid_json")
    add("send/deep/10000-objects", send(nest(10000, '{"a":', "}")),
        expect=[400], code="invalid_json")
    add("send/deep/10000-unclosed-arrays", send(b"[" * 10000),
        expect=[400], code="invalid_json")
    add("send/deep/60000-unclosed-braces", send(b'{"a":' * 12000),
        expect=[400], code="invalid_json")
    add("send/deep/10000-mixed", send(b'{"a":' + b'[{"b":' * 5000 + b"1"
                                      + b"}]" * 5000 + b"}"),
        expect=[400], code="invalid_json")
    add("send/deep/10000-arrays-in-content",
        send(b'{"content":' + nest(10000) + b"}"), expect=[400],
        code="invalid_json")

    # ----------------------------------------------- send: huge numbers
    huge = [("1e400", b"1e400"), ("-1e400", b"-1e400"),
            ("1e-400", b"1e-400"),
            ("99999999999999999999999", b"99999999999999999999999"),
            ("-99999999999999999999999", b"-99999999999999999999999"),
            ("2pow63", b"9223372036854775808"),
            ("10000-digits", b"9" * 10000),
            ("long-fraction", b"0." + b"1" * 5000),
            ("1.8e308", b"1.8e308"), ("minus-zero", b"-0")]
    for name, num in huge:
        add("send/huge/content-" + name,
            send(b'{"sender":"%s","receiver":"%s","content":' % (
                _b(S), _b(R)) + num + b"}"),
            expect=[422], code="validation_failed")
    add("send/huge/receiver-as-number",
        send(b'{"sender":"%s","receiver":4915112345678,"content":"%s"}' % (
            _b(S), _b(mark("recv-num")))),
        expect=[422], code="validation_failed")
    add("send/huge/sender-1e400",
        send(b'{"sender":1e400,"receiver":"%s","content":"%s"}' % (
            _b(R), _b(mark("snd-1e400")))),
        expect=[422], code="validation_failed")
    add("send/huge/ignored-field-1e400-bad-receiver",
        send(jdump(good("ign-1e400", receiver="12"))[:-1] +
             b',"x":1e400}'), expect=[422], code="validation_failed")

    # ----------------------------------------------- send: duplicate keys
    add("send/dupkeys/content-then-number",
        send(b'{"sender":"%s","receiver":"%s","content":"%s","content":5}' % (
            _b(S), _b(R), _b(mark("dup1")))), expect=[422])
    add("send/dupkeys/receiver-valid-then-invalid",
        send(b'{"sender":"%s","receiver":"%s","receiver":"12",'
             b'"content":"%s"}' % (_b(S), _b(R), _b(mark("dup2")))),
        expect=[422])
    add("send/dupkeys/content-valid-then-nul-escape",
        send(b'{"sender":"%s","receiver":"%s","content":"%s",'
             b'"content":"a\\u0000b"}' % (_b(S), _b(R), _b(mark("dup3")))),
        expect=[422])
    add("send/dupkeys/1000-contents-last-empty",
        send(b'{"sender":"%s","receiver":"%s",' % (_b(S), _b(R)) +
             b''.join(b'"content":"%s %d",' % (_b(mark("dup4")), i)
                      for i in range(1000)) + b'"content":""}'),
        expect=[422])
    add("send/dupkeys/sender-twice-both-invalid",
        send(b'{"sender":"x","sender":[],"receiver":"%s","content":"%s"}' % (
            _b(R), _b(mark("dup5")))), expect=[422])

    # ----------------------------------------------- send: overlong strings
    base = mark("long") + " "
    add("send/long/content-4097-ascii",
        send(jdump(good("l1", content=(base + "x" * 4097)[:4097]))),
        expect=[422], code="validation_failed")
    add("send/long/content-4097-emoji",
        send(jdump(good("l2", content=base + "😀" * (4097 - len(base))))),
        expect=[422], code="validation_failed")
    add("send/long/content-4097-cjk",
        send(jdump(good("l3", content=base + "語" * (4097 - len(base))))),
        expect=[422], code="validation_failed")
    add("send/long/content-4096-plus-combining",
        send(jdump(good("l4", content=base + "e" * (4096 - len(base))
                        + "\u0301"))),
        expect=[422], code="validation_failed")
    add("send/long/content-4097-escaped",
        send(b'{"sender":"%s","receiver":"%s","content":"%s%s"}' % (
            _b(S), _b(R), _b(base), b"\\u00e9" * (4097 - len(base)))),
        expect=[422], code="validation_failed")
    add("send/long/content-60000-ascii",
        send(jdump(good("l5", content=base + "y" * 60000))),
        expect=[422], code="validation_failed")
    add("send/long/sender-100k",
        send(jdump(good("l6", sender="1" * 100000))), expect=[413],
        code="payload_too_large")
    add("send/long/sender-60000-digits",
        send(jdump(good("l7", sender="4" * 60000))), expect=[422],
        code="validation_failed")
    add("send/long/receiver-60000-plus",
        send(jdump(good("l8", receiver="+" * 60000))), expect=[422],
        code="validation_failed")
    add("send/long/key-60000-no-content",
        send(jdump({"sender": S, "receiver": R, "k" * 60000: 1})),
        expect=[422], code="validation_failed")

    # ----------------------------------------------- send: invalid UTF-8
    for name, bad in BAD_UTF8:
        add("send/utf8/content-" + name,
            send(b'{"sender":"%s","receiver":"%s","content":"%s %s"}' % (
                _b(S), _b(R), _b(mark(name)), bad)), expect=[400, 422])
    add("send/utf8/sender-invalid",
        send(b'{"sender":"+49\xc0\x80","receiver":"%s","content":"%s"}' % (
            _b(R), _b(mark("u-snd")))), expect=[400, 422])
    add("send/utf8/receiver-invalid",
        send(b'{"sender":"%s","receiver":"\xff%s","content":"%s"}' % (
            _b(S), _b(R), _b(mark("u-rcv")))), expect=[400, 422])
    add("send/utf8/key-invalid",
        send(b'{"sender":"%s","receiver":"%s","con\xfetent":"%s"}' % (
            _b(S), _b(R), _b(mark("u-key")))), expect=[400, 422])
    add("send/utf8/ignored-field-invalid",
        send(jdump(good("u-ign"))[:-1] + b',"x":"\xed\xa0\x80"}'),
        expect=[400], code="invalid_json",
        why="the whole body must be UTF-8, ignored fields included")
    add("send/utf8/outside-strings",
        send(jdump(good("u-out"))[:-1] + b"\xff}"), expect=[400],
        code="invalid_json")
    add("send/utf8/bom-first",
        send(b"\xef\xbb\xbf" + jdump(good("u-bom"))), expect=[400],
        code="invalid_json")
    add("send/utf8/utf16le-body",
        send(json.dumps(good("u-16")).encode("utf-16-le")), expect=[400],
        code="invalid_json")
    add("send/utf8/utf16-with-bom",
        send(json.dumps(good("u-16b")).encode("utf-16")), expect=[400],
        code="invalid_json")
    add("send/utf8/utf32-body",
        send(json.dumps(good("u-32")).encode("utf-32")), expect=[400],
        code="invalid_json")

    # ------------------------------------- send: NUL and control characters
    raw_in = [("nul", b"\x00"), ("soh", b"\x01"), ("backspace", b"\x08"),
              ("tab", b"\t"), ("newline", b"\n"), ("cr", b"\r"),
              ("esc", b"\x1b"), ("unit-sep", b"\x1f")]
    for name, c in raw_in:
        add("send/ctrl/raw-%s-in-content" % name,
            send(b'{"sender":"%s","receiver":"%s","content":"%s%sx"}' % (
                _b(S), _b(R), _b(mark(name)), c)), expect=[400],
            code="invalid_json")
    add("send/ctrl/raw-nul-in-key",
        send(b'{"sender":"%s","receiver":"%s","con\x00tent":"%s"}' % (
            _b(S), _b(R), _b(mark("nul-key")))), expect=[400],
        code="invalid_json")
    add("send/ctrl/raw-nul-before-object",
        send(b"\x00" + jdump(good("nul-before"))), expect=[400],
        code="invalid_json")
    add("send/ctrl/raw-nul-between-tokens",
        send(jdump(good("nul-tok")).replace(b",", b",\x00", 1)),
        expect=[400], code="invalid_json")
    for name, c in [("vtab", b"\x0b"), ("formfeed", b"\x0c"),
                    ("nbsp", b"\xc2\xa0"), ("line-sep", b"\xe2\x80\xa8"),
                    ("del", b"\x7f")]:
        add("send/ctrl/%s-as-whitespace" % name,
            send(jdump(good("ws-" + name)).replace(b",", b"," + c, 1)),
            expect=[400], code="invalid_json")
    for field in ("sender", "receiver", "content"):
        add("send/ctrl/escaped-nul-in-" + field,
            send(jdump(good("enul-" + field, **{field: (
                S if field == "sender" else R if field == "receiver" else
                mark("enul")) + "\u0000"}))), expect=[422],
            code="validation_failed")
    add("send/ctrl/content-only-escaped-nul",
        send(jdump(good("enul-only", content="\u0000"))), expect=[422],
        code="validation_failed")
    add("send/ctrl/escaped-nul-in-key-no-content",
        send(b'{"sender":"%s","receiver":"%s","content\\u0000":"%s"}' % (
            _b(S), _b(R), _b(mark("enul-key")))), expect=[400],
        code="invalid_json",
        why="json-c would cut the key at the NUL and read it as "
            '"content": a NUL in a key is refused outright')

    # ----------------------------------------------- send: lone surrogates
    sur = [("d800", b"\\ud800"), ("dbff", b"\\udbff"), ("dc00", b"\\udc00"),
           ("dfff", b"\\udfff"), ("d800-then-letter", b"\\ud800\\u0041"),
           ("d800-then-x", b"\\ud800x"),
           ("reversed-pair", b"\\udc00\\ud800"),
           ("two-highs", b"\\ud800\\ud800"),
           ("high-at-end", b"\\ud83d")]
    for name, s in sur:
        add("send/surrogate/content-" + name,
            send(b'{"sender":"%s","receiver":"%s","content":"%s %s"}' % (
                _b(S), _b(R), _b(mark(name)), s)), expect=[400, 422])
    add("send/surrogate/in-sender",
        send(b'{"sender":"+4915\\ud800","receiver":"%s","content":"%s"}' % (
            _b(R), _b(mark("sur-snd")))), expect=[400, 422])
    add("send/surrogate/in-ignored-key",
        send(jdump(good("sur-key"))[:-1] + b',"\\udfffx":1}'),
        expect=[400], code="invalid_json")

    # ------------------------------------------ send: not quite JSON
    def with_content(raw_value):
        return send(b'{"sender":"%s","receiver":"%s","content":' % (
            _b(S), _b(R)) + raw_value + b"}")

    lax = [("nan", b"NaN"), ("infinity", b"Infinity"),
           ("minus-infinity", b"-Infinity"), ("plus-one", b"+1"),
           ("leading-zero", b"01"), ("trailing-dot", b"1."),
           ("leading-dot", b".5"), ("hex", b"0x10"), ("bare-e", b"1e"),
           ("bare-e-plus", b"1e+"), ("lone-minus", b"-"),
           ("python-true", b"True"), ("python-none", b"None"),
           ("undefined", b"undefined"),
           ("single-quoted", b"'" + _b(mark("sq")) + b"'"),
           ("escape-x41", b'"\\x41 ' + _b(mark("x41")) + b'"'),
           ("escape-U0041", b'"\\U0041"'), ("escape-short-u", b'"\\u12"'),
           ("escape-bad-hex", b'"\\u12G4"'),
           ("escape-single-quote", b'"\\\'"'), ("escape-a", b'"\\a"'),
           ("backslash-at-end", b'"abc\\'), ("unterminated", b'"abc'),
           ("concatenated-strings", b'"a" "b"'),
           ("plus-concat", b'"a" + "b"')]
    for name, val in lax:
        add("send/lax/content-" + name, with_content(val), expect=[400],
            code="invalid_json")
    vj = jdump(good("lax-obj"))
    lax_obj = [
        ("single-quoted-keys", vj.replace(b'"', b"'")),
        ("unquoted-keys", vj.replace(b'"sender"', b"sender")),
        ("line-comment", b"// hi\n" + vj),
        ("block-comment", vj[:1] + b"/* c */" + vj[1:]),
        ("hash-comment", b"# hi\n" + vj),
        ("trailing-comma-object", vj[:-1] + b",}"),
        ("trailing-comma-array", vj[:-1] + b',"x":[1,2,]}'),
        ("leading-comma", b"{," + vj[1:]),
        ("json5-hex-field", vj[:-1] + b',"x":0xFF}'),
        ("nan-field", vj[:-1] + b',"x":NaN}'),
        ("equals-instead-of-colon", vj.replace(b":", b"=", 1)),
    ]
    for name, body in lax_obj:
        add("send/lax/" + name, send(body), expect=[400],
            code="invalid_json")

    # ------------------------------------------------ send: wrong types
    types = [("zero", 0), ("number", 4915112345678), ("float", 1.5),
             ("true", True), ("false", False), ("empty-array", []),
             ("array-of-phone", [R]), ("empty-object", {}),
             ("object", {"number": R})]
    for field in ("sender", "receiver", "content"):
        for tname, tv in types:
            add("send/types/%s-%s" % (field, tname),
                send(jdump(good("ty-%s-%s" % (field, tname), **{field: tv}))),
                expect=[422], code="validation_failed")
    add("send/types/receiver-null",
        send(jdump(good("ty-rnull", receiver=None))), expect=[422],
        code="validation_failed")
    add("send/types/content-null",
        send(jdump(good("ty-cnull", content=None))), expect=[422],
        code="validation_failed")
    add("send/types/empty-object", send(b"{}"), expect=[422],
        code="validation_failed")
    add("send/types/no-receiver",
        send(jdump(good("ty-norecv", receiver=_DROP))), expect=[422],
        code="validation_failed")
    add("send/types/no-content", send(jdump(good("x", content=_DROP))),
        expect=[422], code="validation_failed")
    for field in ("sender", "receiver", "content"):
        add("send/types/%s-empty-string" % field,
            send(jdump(good("ty-e-" + field, **{field: ""}))), expect=[422],
            code="validation_failed")
    phones = [("plus-only", "+"), ("double-plus", "++" + R[1:]),
              ("leading-space", " " + R), ("trailing-newline", R + "\n"),
              ("inner-spaces", R[:3] + " " + R[3:]),
              ("leading-zero", "+0" + R[2:]), ("16-digits", "+" + "4" * 16),
              ("6-digits", "+491512"), ("letter", R[:-1] + "x"),
              ("arabic-indic-digits", "+٤٩١٥١٢٣٤٥٦٧٨"),
              ("fullwidth-digits", "+４９１５１２３４５６７８"),
              ("hex", "0x1F2E3D4C5B"), ("negative", "-" + R[1:]),
              ("sql", R + "'; DROP TABLE messages;--")]
    for name, p in phones:
        add("send/phone/receiver-" + name,
            send(jdump(good("ph-" + name, receiver=p))), expect=[422],
            code="validation_failed")
    add("send/phone/sender-dash-separated",
        send(jdump(good("ph-s", sender="+49-151-2345678"))), expect=[422],
        code="validation_failed")

    # ----------------------------------------------- Idempotency-Key
    def idem(name, value, body=None, **kw):
        add("send/idem/" + name,
            send(body or jdump(good("idem-" + name)),
                 headers=[("Idempotency-Key", value)]), **kw)

    idem("256-chars", tag + "k" * (256 - len(tag)), expect=[400],
         code="invalid_idempotency_key")
    idem("10000-chars", tag + "k" * 10000, expect=[400],
         code="invalid_idempotency_key")
    idem("empty", "", expect=[400], code="invalid_idempotency_key")
    idem("utf8", tag + "-ключ", expect=[400],
         code="invalid_idempotency_key")
    idem("tab-inside", tag + "\tk", expect=[400],
         code="invalid_idempotency_key")
    idem("del-inside", tag + "\x7fk", expect=[400],
         code="invalid_idempotency_key")
    idem("latin1-byte", _b(tag) + b"\xe9", expect=[400],
         code="invalid_idempotency_key")
    idem("raw-cr-inside", _b(tag) + b"\rX", nginx_html=True,
         why="a bare CR in a header value is not valid HTTP")
    idem("raw-lf-injection", _b(tag) + b"lf\nX-Injected: 1",
         body=jdump(good("idem-lf", receiver="12")), expect=[400, 422],
         why="the LF ends the header; 'X-Injected: 1' is a header of its own"
             " and the key is then valid, so the (invalid) body decides")
    idem("crlf-injection-then-body",
         _b(tag) + b"\r\nContent-Length: 0\r\n\r\nGET /healthz HTTP/1.1",
         nginx_html=True, why="two Content-Length headers")
    idem("raw-nul-inside", _b(tag) + b"\x00x", nginx_html=True,
         why="NUL in a header is not valid HTTP")
    add("send/idem/obs-fold",
        send(jdump(good("idem-fold")), extra=b"Idempotency-Key: " +
             _b(tag) + b"fold\r\n continued\r\n"),
        nginx_html=True, why="obsolete line folding")
    add("send/idem/valid-key-invalid-body",
        send(jdump(good("idem-vb", receiver="1")),
             headers=[("Idempotency-Key", tag + "-vb")]), expect=[422],
        code="validation_failed")
    add("send/idem/valid-key-broken-json",
        send(b'{"content":', headers=[("Idempotency-Key", tag + "-bj")]),
        expect=[400], code="invalid_json")

    # ------------------------------------- header injection elsewhere
    vb = jdump(good("hdr"))
    add("hdr/authorization-crlf-injection",
        request("POST", "/api/send-message/",
                jdump(good("hdr-ai", receiver="1")),
                [("Authorization", b"Bearer " + _b(key) +
                  b"\r\nX-Injected: 1")], key=None),
        expect=[422], code="validation_failed",
        why="the CRLF only ends the header: the key is valid, X-Injected "
            "is a header of its own and the invalid body decides")
    add("hdr/authorization-bare-cr",
        request("POST", "/api/send-message/", vb,
                [("Authorization", b"Bearer \r" + _b(key))], key=None),
        nginx_html=True, why="a bare CR in a header value")
    add("hdr/authorization-nul",
        request("POST", "/api/send-message/", vb,
                [("Authorization", b"Bearer " + _b(key[:5]) + b"\x00" +
                  _b(key[5:]))], key=None),
        nginx_html=True, why="NUL in a header")
    add("hdr/content-type-bare-cr",
        send(vb, ctype=b"application/json\rX: y"), nginx_html=True,
        why="a bare CR in a header value")
    add("hdr/host-crlf-smuggle",
        send(jdump(good("hdr-host", receiver="1")),
             host=b"localhost\r\nX-Forwarded-For: 1.2.3.4"),
        expect=[422], code="validation_failed")
    add("hdr/name-with-space",
        send(jdump(good("hdr-sp", receiver="1")),
             extra=b"Content Type: text/plain\r\n"),
        expect=[400, 422], nginx_html=True,
        why="a space in a header name is not valid HTTP")
    add("hdr/line-without-colon",
        send(jdump(good("hdr-nc", receiver="1")),
             extra=b"ThisIsNotAHeader\r\n"), nginx_html=True,
        why="a header line without a colon")
    add("hdr/name-non-ascii",
        send(jdump(good("hdr-na", receiver="1")),
             extra="Idempotency-Kéy: x\r\n".encode()),
        expect=[400, 422], nginx_html=True,
        why="a non-token byte in a header name")
    add("hdr/leading-space-header",
        send(jdump(good("hdr-ls", receiver="1")),
             extra=b" X-Leading: 1\r\n"), nginx_html=True,
        why="a header line beginning with a space")
    add("hdr/space-before-colon-transfer-encoding",
        request("POST", "/api/send-message/", chunked(b'{"a":1}'),
                key=key, length=None,
                extra=b"Transfer-Encoding : chunked\r\n"),
        expect=[400, 411], nginx_html=True,
        why="'Transfer-Encoding :' is not a valid header name")
    add("hdr/request-smuggling-body",
        send(b"0\r\n\r\nPOST /api/send-message/ HTTP/1.1\r\nHost: x\r\n\r\n"
             + vb), expect=[400], code="invalid_json")
    add("hdr/duplicate-host",
        send(jdump(good("hdr-dh", receiver="1")),
             extra=b"Host: other\r\n"), nginx_html=True,
        why="two Host headers")
    add("hdr/x-request-id-injection",
        send(jdump(good("hdr-rid", receiver="1")),
             headers=[("X-Request-Id", "abc\"}\n")]), expect=[400, 422],
        why="the LF plus the next CRLF end the head early: the rest of the "
            "head becomes the body")

    # -------------------------------------------- query strings (list)
    def lst(qs, key_=key):
        return request("GET", "/api/messages/?" + qs if isinstance(qs, str)
                       else b"/api/messages/?" + qs, key=key_, ctype=None)

    bad_q = [
        ("limit-minus-1", "limit=-1"), ("limit-0", "limit=0"),
        ("limit-201", "limit=201"), ("limit-1e3", "limit=1e3"),
        ("limit-abc", "limit=abc"), ("limit-1.5", "limit=1.5"),
        ("limit-plus-10", "limit=%2B10"), ("limit-space-10", "limit=+10"),
        ("limit-hex", "limit=0x10"), ("limit-pct00", "limit=%00"),
        ("limit-1-pct00", "limit=1%00"), ("limit-overflow",
                                          "limit=" + "9" * 5000),
        ("limit-fullwidth", "limit=%EF%BC%91%EF%BC%90"),
        ("pct-zz", "%zz=1"), ("pct-zz-value", "status=%zz"),
        ("pct-alone", "q=%"), ("pct-short", "q=%4"),
        ("status-bogus", "status=bogus"), ("status-upper", "status=QUEUED"),
        ("status-nul", "status=queued%00"), ("status-sql",
                                             "status=queued'%20OR%201=1--"),
        ("direction-in", "direction=in"),
        ("direction-both", "direction=inbound,outbound"),
        ("contact-letters", "contact=abc"), ("contact-short",
                                             "contact=%2B49"),
        ("contact-arabic-digits", "contact=%D9%A4%D9%A9%D9%A1%D9%A5%D9%A1"
         "%D9%A2%D9%A3%D9%A4%D9%A5%D9%A6%D9%A7"),
        ("contact-fullwidth", "contact=%EF%BC%94%EF%BC%99%EF%BC%91%EF%BC%95"
         "%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94"),
        ("contact-5000-digits", "contact=" + "4" * 5000),
        ("contact-invalid-utf8", "contact=%C0%80"),
        ("q-201-chars", "q=" + "a" * 201), ("q-10000-chars",
                                            "q=" + "b" * 10000),
        ("q-overlong-utf8", "q=%C0%AF"), ("q-lone-ff", "q=%FF"),
        ("q-surrogate-utf8", "q=%ED%A0%80"), ("q-nul", "q=a%00b"),
        ("before-id-0", "before_id=0"), ("before-id-minus-1",
                                         "before_id=-1"),
        ("before-id-20-digits", "before_id=99999999999999999999"),
        ("before-id-1e3", "before_id=1e3"), ("before-id-1.5",
                                             "before_id=1.5"),
        ("before-id-hex", "before_id=0x10"),
        ("repeated-limit-bad-first", "limit=abc&limit=10"),
        ("repeated-before-id-bad-first", "before_id=0&before_id=5"),
        ("repeated-status-bad-first", "status=bogus&status=queued"),
        ("limit-key-encoded", "%6Cimit=abc"),
    ]
    for name, qs in bad_q:
        add("list/query/" + name, lst(qs), expect=[400])
    add("list/query/raw-utf8-contact",
        lst("contact=+٤٩١٥١٢٣٤٥٦٧".encode()), expect=[400])
    add("list/query/raw-latin1-q", lst(b"q=caf\xe9"), expect=[400])
    add("list/query/no-key", lst("limit=1", key_=None), expect=[401],
        code="unauthorized")
    add("list/query/long-query-string-8k",
        lst("limit=abc&" + "&".join("p%d=v" % i for i in range(1400))),
        expect=[400])
    add("get/query/pct-zz-unknown-id",
        request("GET", "/api/messages/999999999999999999/?%zz", key=key,
                ctype=None), expect=[404])

    # -------------------------------------------- webhook verification
    vt = ctx.verify_token

    def verify(qs):
        return request("GET", "/api/webhook/?" + qs, ctype=None)

    ver = [
        ("wrong-token", "hub.mode=subscribe&hub.verify_token=x"
         "&hub.challenge=1", [403]),
        ("no-token", "hub.mode=subscribe&hub.challenge=1", [403]),
        ("empty-token", "hub.mode=subscribe&hub.verify_token="
         "&hub.challenge=1", [403]),
        ("token-prefix", "hub.mode=subscribe&hub.verify_token=%s"
         "&hub.challenge=1" % vt[:-1], [403]),
        ("token-plus-nul", "hub.mode=subscribe&hub.verify_token=%s%%00"
         "&hub.challenge=1" % vt, [400, 403]),
        ("mode-unsubscribe", "hub.mode=unsubscribe&hub.verify_token=%s"
         "&hub.challenge=1" % vt, [403]),
        ("no-mode", "hub.verify_token=%s&hub.challenge=1" % vt, [403]),
        ("no-challenge", "hub.mode=subscribe&hub.verify_token=%s" % vt,
         [400]),
        ("challenge-257", "hub.mode=subscribe&hub.verify_token=%s"
         "&hub.challenge=%s" % (vt, "c" * 257), [400]),
        ("challenge-pct-zz", "hub.mode=subscribe&hub.verify_token=%s"
         "&hub.challenge=%%zz" % vt, [400]),
        ("challenge-nul", "hub.mode=subscribe&hub.verify_token=%s"
         "&hub.challenge=a%%00b" % vt, [400]),
        ("token-repeated-wrong-first", "hub.mode=subscribe&hub.verify_token="
         "x&hub.verify_token=%s&hub.challenge=1" % vt, [403]),
    ]
    for name, qs, exp in ver:
        add("verify/" + name, verify(qs), expect=exp)

    # ------------------------------------------------ paths
    def path(name, target, expect, key_=None, method="GET", **kw):
        add("path/" + name, request(method, target, key=key_, ctype=None),
            expect=expect, **kw)

    path("dotdot-to-messages", "/api/../api/messages/", [401])
    path("double-slashes", "//api//messages", [401])
    path("triple-slashes", "///api///messages///", [401, 404])
    path("pct-2e-2e", "/api/messages/%2e%2e/", [404])
    path("pct-2e-2e-upper", "/api/messages/%2E%2E/send-message/", [405])
    path("pct-2f-slash", "/api%2fmessages/", [401, 404])
    path("dot-segment", "/api/./messages/", [401])
    path("above-root", "/../../etc/passwd", [400], nginx_html=True,
         why="nginx refuses a path that climbs above the root")
    path("pct-above-root", "/%2e%2e/%2e%2e/etc/passwd", [400],
         nginx_html=True, why="the same, percent-encoded")
    path("backslashes", "/api\\..\\..\\messages\\", [404])
    path("pct-00", "/api/messages/%00/", [400], nginx_html=True,
         why="nginx refuses a NUL byte in the path")
    path("pct-ff", "/api/messages/%ff/", [404], key_=key)
    path("overlong-dot", "/api/messages/%c0%ae%c0%ae/", [404], key_=key)
    path("uppercase", "/API/MESSAGES/", [404])
    path("semicolon-param", "/api/messages;jsessionid=1/", [404])
    path("raw-utf8", "/api/messages/é/".encode(), [404], key_=key)
    path("fragment", "/api/messages/#frag", [401])
    path("absolute-form", "http://evil.example/api/messages/", [401])
    path("absolute-form-https", "https://evil.example:1/api/messages/1/",
         [401])
    for name, seg in [("zero", "0"), ("leading-zeros", "00001"),
                      ("fraction", "1.5"), ("negative", "-1"),
                      ("exponent", "1e3"), ("hex", "0x1"), ("space", "%201"),
                      ("plus", "+1"), ("19-digits", "9" * 19),
                      ("20-digits", "99999999999999999999"),
                      ("2pow63", "9223372036854775808"),
                      ("unicode-digit", "%D9%A1"), ("trailing-junk", "1x"),
                      ("two-ids", "1/2"),
                      ("18-digits-unknown", "999999999999999999")]:
        path("message-id-" + name, "/api/messages/%s/" % seg, [404],
             key_=key)
    # These normalise to the list: without a key, so that it is a 401.
    path("message-id-empty-twice", "/api/messages///", [401])
    path("message-id-dotdot-after-id", "/api/messages/1/../", [401])
    path("long-path-8000", "/api/" + "a" * 8000, [404])
    path("long-path-many-segments", "/api" + "/x" * 3000, [404])
    path("send-message-pct-2f", "/api/send-message%2F", [401],
         method="POST")
    path("healthz-dotdot-readyz", "/healthz/../readyz", [405],
         method="POST")
    path("admin-static-traversal", "/admin/static/../../dev.env", [404])
    path("admin-static-pct-traversal",
         "/admin/static/%2e%2e/%2e%2e/dev.env", [404])
    path("openapi-traversal", "/api/openapi.yaml/../../../etc/passwd",
         [400], nginx_html=True, why="climbs above the root")

    # ------------------------------------------------ methods
    routes = ["/api/send-message/", "/api/messages/", "/api/messages/1/",
              "/api/webhook/", "/healthz", "/readyz", "/api/openapi.yaml",
              "/metrics"]
    for r in routes:
        for m in ("PUT", "DELETE", "PATCH", "OPTIONS"):
            body = jdump(good("m-%s-%s" % (m, r))) if m in (
                "PUT", "PATCH") else None
            add("method/%s%s" % (m, r.rstrip("/")),
                request(m, r, body, key=key), expect=[405],
                code="method_not_allowed")
    for r in ("/api/messages/", "/api/messages/1/", "/healthz", "/readyz",
              "/api/openapi.yaml", "/metrics"):
        add("method/POST" + r.rstrip("/"),
            request("POST", r, jdump(good("m-post-" + r)), key=key),
            expect=[405], code="method_not_allowed")
    add("method/GET/api/send-message",
        request("GET", "/api/send-message/", key=key, ctype=None),
        expect=[405], code="method_not_allowed")
    add("method/HEAD/api/send-message",
        request("HEAD", "/api/send-message/", key=key, ctype=None),
        expect=[405])
    add("method/FOO/api/send-message",
        request("FOO", "/api/send-message/", jdump(good("m-foo")), key=key),
        expect=[405], code="method_not_allowed")
    add("method/PROPFIND/api/messages",
        request("PROPFIND", "/api/messages/", key=key, ctype=None),
        expect=[405], code="method_not_allowed")
    add("method/TRACE/api/messages",
        request("TRACE", "/api/messages/", key=key, ctype=None),
        expect=[405], code="method_not_allowed",
        why="TRACE is valid HTTP; the contract wants a JSON 405")
    add("method/lowercase-post",
        request("post", "/api/send-message/", jdump(good("m-lc")), key=key),
        nginx_html=True, why="methods are upper-case tokens for nginx")
    add("method/connect",
        request("CONNECT", "127.0.0.1:5432", key=key, ctype=None),
        nginx_html=True, why="CONNECT to a port is not served by nginx")
    add("http/version-9.9",
        b"GET /healthz HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
        nginx_html=True, xfail="nginx answers 505 (HTML) while it reads the "
        "request line; error_page cannot change it (it gives 500)")
    add("http/version-2-preface",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", nginx_html=True,
        why="an HTTP/2 preface on an HTTP/1.1 port")
    add("http/version-1.0-no-host",
        b"GET /api/messages/ HTTP/1.0\r\n\r\n", expect=[401],
        code="unauthorized")
    add("http/garbage-request-line", b"\x16\x03\x01\x02\x00\x01\x00\x01"
        b"\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n", nginx_html=True,
        why="a TLS ClientHello on the plain-HTTP port")
    add("http/options-star",
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        nginx_html=True, why="nginx refuses the asterisk form")
    add("method/double-space",
        b"GET  /api/messages/ HTTP/1.1\r\nHost: x\r\nConnection: close"
        b"\r\n\r\n", expect=[400, 401], nginx_html=True,
        why="two spaces in the request line")

    # ------------------------------------------------ Content-Type
    vb = jdump(good("ct"))
    for name, ct in [("missing", None), ("empty", ""),
                     ("text-plain", "text/plain"), ("text-json", "text/json"),
                     ("jsonp", "application/jsonp"),
                     ("json-seq", "application/json-seq"),
                     ("ld-json", "application/ld+json"),
                     ("json5", "application/json5"), ("bare-json", "json"),
                     ("star", "*/*"), ("javascript", "application/javascript"),
                     ("octet-stream", "application/octet-stream")]:
        add("ctype/" + name, send(jdump(good("ct-" + name)), ctype=ct),
            expect=[415], code="unsupported_media_type")
    form = ("sender=%s&receiver=%s&content=%s" % (
        S.replace("+", "%2B"), R.replace("+", "%2B"), tag)).encode()
    add("ctype/form-urlencoded",
        send(form, ctype="application/x-www-form-urlencoded"),
        expect=[415], code="unsupported_media_type")
    mp = (b"--b0undary\r\nContent-Disposition: form-data; name=\"json\"\r\n"
          b"Content-Type: application/json\r\n\r\n" + vb +
          b"\r\n--b0undary--\r\n")
    add("ctype/multipart", send(mp, ctype="multipart/form-data; "
                                "boundary=b0undary"),
        expect=[415], code="unsupported_media_type")
    add("ctype/multipart-body-json-type", send(mp), expect=[400],
        code="invalid_json")
    add("ctype/multipart-mixed",
        send(mp, ctype="multipart/mixed; boundary=b0undary"),
        expect=[415], code="unsupported_media_type")
    add("ctype/webhook-text-plain-signed",
        hook(jdump({"sender": S, "content": mark("ct-wh")}),
             ctype="text/plain"), expect=[415],
        code="unsupported_media_type")

    # ------------------------------------------------ chunked bodies
    add("chunked/truncated-json", send(chunked(b'{"content":"x'),
                                       length=None,
                                       headers=[("Transfer-Encoding",
                                                 "chunked")]),
        expect=[400], code="invalid_json")
    add("chunked/invalid-utf8",
        send(chunked(b'{"sender":"%s","receiver":"%s","content":"%s\xc0\x80"}'
                     % (_b(S), _b(R), _b(mark("ch-u")))), length=None,
             headers=[("Transfer-Encoding", "chunked")]), expect=[400, 422])
    add("chunked/deep-nesting",
        send(chunked(b"[" * 5000 + b"]" * 5000, 997), length=None,
             headers=[("Transfer-Encoding", "chunked")]), expect=[400],
        code="invalid_json")
    add("chunked/wrong-types",
        send(chunked(jdump(good("ch-t", content=[1]))), length=None,
             headers=[("Transfer-Encoding", "chunked")]), expect=[422],
        code="validation_failed")
    add("chunked/with-extensions",
        send(b"5;ext=1\r\n{\"a\":\r\n3;x\r\n[1]\r\n1\r\n}\r\n0\r\n\r\n",
             length=None, headers=[("Transfer-Encoding", "chunked")]),
        expect=[422], code="validation_failed")
    add("chunked/with-trailer",
        send(chunked(jdump(good("ch-tr", receiver="1")))[:-2] +
             b"X-Trailer: 1\r\n\r\n", length=None,
             headers=[("Transfer-Encoding", "chunked")]), expect=[422],
        code="validation_failed")
    add("chunked/70000-bytes",
        send(chunked(jdump(good("ch-big", content="z" * 70000)), 8192),
             length=None, headers=[("Transfer-Encoding", "chunked")]),
        expect=[413], code="payload_too_large")
    add("chunked/bad-size",
        send(b"zz\r\n{}\r\n0\r\n\r\n", length=None,
             headers=[("Transfer-Encoding", "chunked")]), nginx_html=True,
        why="a chunk size that is not hex")
    add("chunked/size-overflow",
        send(b"ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n", length=None,
             headers=[("Transfer-Encoding", "chunked")]),
        expect=[400, 413], nginx_html=True, why="a chunk size beyond 2^64")
    add("chunked/size-lies",
        send(b"2\r\n{\"a\":1}\r\n0\r\n\r\n", length=None,
             headers=[("Transfer-Encoding", "chunked")]), nginx_html=True,
        why="chunk data longer than its size")
    add("chunked/and-content-length",
        send(chunked(jdump(good("ch-cl"))), length=5,
             headers=[("Transfer-Encoding", "chunked")]), nginx_html=True,
        why="Content-Length with Transfer-Encoding (request smuggling)")
    add("chunked/te-gzip-chunked",
        send(chunked(jdump(good("ch-gz"))), length=None,
             headers=[("Transfer-Encoding", "gzip, chunked")]),
        expect=[400, 411, 415], why="a transfer coding nginx does not know: "
        "valid HTTP, so it must not be a 5xx (nginx: 501 HTML)")
    add("chunked/te-identity",
        send(jdump(good("ch-id", receiver="1")), length=None,
             headers=[("Transfer-Encoding", "identity")]),
        expect=[400, 411, 422],
        why="'identity' is no longer a transfer coding (RFC 9112): a client "
            "error, not a 5xx (nginx: 501 HTML)")

    # ------------------------------------------- Content-Length mismatches
    vb = jdump(good("cl"))
    add("length/shorter-than-body", send(vb, length=3), expect=[400],
        code="invalid_json")
    add("length/zero-with-body", send(vb, length=0), expect=[400],
        code="invalid_json")
    add("length/one-with-body", send(vb, length=1), expect=[400],
        code="invalid_json")
    add("length/plus-sign", send(vb, length="+%d" % len(vb)),
        nginx_html=True, why="Content-Length must be digits")
    add("length/hex", send(vb, length="0x%x" % len(vb)), nginx_html=True,
        why="Content-Length must be digits")
    add("length/negative", send(vb, length="-1"), nginx_html=True,
        why="Content-Length must be digits")
    add("length/20-digits", send(vb, length="9" * 20), nginx_html=True,
        expect=[400, 413], why="Content-Length beyond 2^63")
    add("length/duplicate-different", send(vb, extra=b"Content-Length: 5\r\n"),
        nginx_html=True, why="two Content-Length headers")
    add("length/duplicate-same",
        send(vb, extra=b"Content-Length: %d\r\n" % len(vb)),
        nginx_html=True, why="two Content-Length headers")
    add("length/70000-small-body", send(b"{}", length=70000), expect=[413],
        code="payload_too_large")
    add("length/list-value", send(vb, length="%d, %d" % (len(vb), len(vb))),
        nginx_html=True, why="Content-Length must be digits")

    # ------------------------------------------------ oversized
    add("size/body-65k-json",
        send(jdump(good("sz1", content=mark("sz1") + "a" * 65 * 1024))),
        expect=[413], code="payload_too_large")
    add("size/body-1mib", send(b'{"content":"' + b"b" * (1 << 20) + b'"}'),
        expect=[413], code="payload_too_large")
    add("size/body-1mib-webhook-signed",
        hook(b'{"content":"' + b"c" * (1 << 20) + b'"}'), expect=[413],
        code="payload_too_large")
    add("size/body-64k-plus-1",
        send(b'{"content":"' + b"d" * (65536 - 13) + b'"}'), expect=[413],
        code="payload_too_large")
    add("size/header-17k",
        request("GET", "/api/messages/", key=key, ctype=None,
                headers=[("X-Big", "h" * 17000)]), expect=[400])
    add("size/80-headers-of-1k",
        request("GET", "/api/messages/", key=key, ctype=None,
                headers=[("X-H%d" % i, "v" * 1000) for i in range(80)]),
        expect=[400])
    add("size/cookie-20k",
        request("GET", "/api/messages/", key=key, ctype=None,
                headers=[("Cookie", "a=" + "c" * 20000)]), expect=[400])
    add("size/authorization-5000",
        request("GET", "/api/messages/", key="k" * 5000, ctype=None),
        expect=[401], code="unauthorized")
    add("size/authorization-15k",
        request("GET", "/api/messages/", key="k" * 15000, ctype=None),
        expect=[400, 401])
    add("size/uri-20k",
        request("GET", "/api/messages/?q=" + "u" * 20000, key=key,
                ctype=None), expect=[414], nginx_html=True,
        why="a request line over large_client_header_buffers: nginx refuses "
            "it while reading the request line (error_page 414 gives 500)")
    add("size/signature-10k",
        hook(jdump({"sender": S, "content": mark("sig10k")}),
             sig="sha256=" + "a" * 10000), expect=[401],
        code="unauthorized")

    # ------------------------------------------------ auth
    vb = jdump(good("auth"))
    for name, h in [("missing", None), ("empty", ""), ("bearer-only",
                                                        "Bearer"),
                    ("bearer-space", "Bearer "),
                    ("basic", "Basic " + key),
                    ("key-plus-char", "Bearer " + key + "x"),
                    ("key-minus-char", "Bearer " + key[:-1]),
                    ("key-case-flipped", "Bearer " + key.swapcase()),
                    ("key-twice", "Bearer " + key + " " + key),
                    ("token-scheme", "Token " + key),
                    ("sql", "Bearer ' OR '1'='1")]:
        hs = [] if h is None else [("Authorization", h)]
        add("auth/" + name, request("POST", "/api/send-message/", vb, hs),
            expect=[401], code="unauthorized")

    # ------------------------------------------------ webhook signatures
    wb = jdump({"sender": S, "content": mark("wh-sig")})
    right = hmac_hex(ctx.secret, wb)
    other = jdump({"sender": S, "content": mark("wh-other")})
    sigs = [
        ("missing", None), ("empty", ""), ("prefix-only", "sha256="),
        ("no-prefix", right), ("prefix-no-equals", "sha256" + right),
        ("upper-prefix", "SHA256=" + right),
        ("mixed-prefix", "Sha256=" + right),
        ("sha1-prefix-sha1-mac", "sha1=" + hmac_hex(ctx.secret, wb,
                                                    hashlib.sha1)),
        ("sha1-prefix-sha256-mac", "sha1=" + right),
        ("other-body", "sha256=" + hmac_hex(ctx.secret, other)),
        ("truncated-63", "sha256=" + right[:63]),
        ("truncated-32", "sha256=" + right[:32]),
        ("extra-hex", "sha256=" + right + "0"),
        ("non-hex", "sha256=" + right[:-1] + "g"),
        ("space-after-equals", "sha256= " + right),
        ("two-signatures", "sha256=" + right + ",sha256=" + right),
        ("empty-secret", "sha256=" + hmac_hex("", wb)),
        ("secret-plus-x", "sha256=" + hmac_hex(ctx.secret + "x", wb)),
        ("body-with-newline", "sha256=" + hmac_hex(ctx.secret,
                                                   wb + b"\n")),
        ("sha512", "sha512=" + hmac_hex(ctx.secret, wb, hashlib.sha512)),
        ("zeros", "sha256=" + "0" * 64),
        ("plain-sha256-of-body", "sha256=" + hashlib.sha256(wb).hexdigest()),
    ]
    for name, sig in sigs:
        add("webhook/sig/" + name, hook(wb, sig=sig), expect=[401],
            code="unauthorized")
    add("webhook/sig/duplicate-header-wrong-first",
        hook(wb, sig="sha256=" + "0" * 64,
             headers=[("X-Hub-Signature-256", "sha256=" + right)]),
        expect=[401], code="unauthorized")
    eo = b'{"sender":"%s"}' % _b(S)
    add("webhook/sig/duplicate-header-right-first",
        hook(eo, sig="sha256=" + hmac_hex(ctx.secret, eo),
             headers=[("X-Hub-Signature-256", "sha256=" + "0" * 64)]),
        expect=[401, 422],
        why="only the first header counts (libfcgi's FCGX_GetParam): the "
            "signature is right, so the body (no content) decides")
    add("webhook/sig/legacy-header-only",
        hook(wb, sig=None, headers=[("X-Hub-Signature", "sha1=" + hmac_hex(
            ctx.secret, wb, hashlib.sha1))]), expect=[401],
        code="unauthorized")
    add("webhook/sig/right-signature-modified-body",
        hook(wb.replace(b"wh-sig", b"wh-SIG"), sig="sha256=" + right),
        expect=[401], code="unauthorized")
    add("webhook/sig/lf-in-signature",
        hook(wb, sig=b"sha256=" + _b(right[:10]) + b"\n" + _b(right[10:])),
        expect=[400, 401], why="the LF ends the header early")
    add("webhook/sig/nul-in-signature",
        hook(wb, sig=b"sha256=" + _b(right[:10]) + b"\x00" + _b(right[10:])),
        nginx_html=True, why="NUL in a header")

    # --------------------------------- webhook: signed hostile bodies
    def simple(name, **over):
        d = {"sender": S, "content": mark(name)}
        for k, v in over.items():
            if v is _DROP:
                d.pop(k, None)
            else:
                d[k] = v
        return jdump(d)

    def cloud_item(fields, name):
        """A Cloud API body with one messages[] item: the raw JSON members
        `fields` plus an id carrying the run's marker."""
        return (b'{"object":"whatsapp_business_account","entry":[{"changes":'
                b'[{"field":"messages","value":{"messages":[{"id":"%s-%s",'
                % (_b(tag), _b(name)) + fields + b'}]}}]}]}')

    hostile_hook = [
        ("truncated", simple("wt")[:-5], [400]),
        ("empty", b"", [400]),
        ("not-object-array", b"[" + simple("wa") + b"]", [400]),
        ("not-object-string", b'"x"', [400]),
        ("deep-33", b'{"sender":' + b"[" * 33 + b"]" * 33 + b"}", [400]),
        ("deep-10000", b"[" * 10000 + b"]" * 10000, [400]),
        ("deep-10000-objects", b'{"a":' * 10000 + b"1" + b"}" * 10000,
         [400]),
        ("invalid-utf8-content", simple("wu")[:-2] + b'\xc0\x80"}', [400]),
        ("overlong-e0", simple("wu3")[:-2] + b'\xe0\x80\x80"}', [400]),
        ("lone-continuation", simple("wlc")[:-2] + b'\x80"}', [400]),
        ("raw-nul", simple("wn")[:-2] + b'\x00"}', [400]),
        ("raw-control", simple("wc")[:-2] + b'\x01"}', [400]),
        ("escaped-nul", simple("wen")[:-2] + b'\\u0000"}', [422]),
        ("lone-surrogate", simple("ws")[:-2] + b'\\ud800"}', [400]),
        ("nan", b'{"sender":NaN,"content":"x"}', [400]),
        ("comment", b"/*x*/" + simple("wcm"), [400]),
        ("trailing-comma", simple("wtc")[:-1] + b",}", [400]),
        ("single-quotes", simple("wsq").replace(b'"', b"'"), [400]),
        ("bom", b"\xef\xbb\xbf" + simple("wbom"), [400]),
        ("huge-number-sender", b'{"sender":1e400,"content":"%s"}' % _b(
            mark("whn")), [422]),
        ("sender-number", b'{"sender":4915112345678,"content":"%s"}' % _b(
            mark("wsn")), [422]),
        ("sender-array", simple("wsa", sender=[S]), [422]),
        ("sender-object", simple("wso", sender={"a": S}), [422]),
        ("sender-true", simple("wst", sender=True), [422]),
        ("sender-null", simple("wsnl", sender=None), [422]),
        ("sender-missing", simple("wsm", sender=_DROP), [422]),
        ("sender-invalid", simple("wsi", sender="+0123"), [422]),
        ("sender-letters", simple("wsl", sender="hello"), [422]),
        ("content-number", simple("wcn", content=5), [422]),
        ("content-array", simple("wca", content=["x"]), [422]),
        ("content-object", simple("wco", content={}), [422]),
        ("content-false", simple("wcf", content=False), [422]),
        ("content-null", simple("wcnl", content=None), [422]),
        ("content-missing", simple("wcm2", content=_DROP), [422]),
        ("content-empty", simple("wce", content=""), [422]),
        ("content-4097", simple("wc4", content=(mark("wc4") + " " +
                                               "q" * 4097)[:4097]), [422]),
        ("id-true", simple("wit", id=True), [422]),
        ("id-float", simple("wif", id=1.5), [422]),
        ("id-array", simple("wia", id=["a"]), [422]),
        ("id-object", simple("wio", id={}), [422]),
        ("id-empty", simple("wie", id=""), [422]),
        ("id-257-chars", simple("wi257", id=tag + "i" * 300), [422]),
        ("id-1e400", simple("wi1")[:-1] + b',"id":1e400}', [422]),
        ("id-2pow63", simple("wi2")[:-1] + b',"id":9223372036854775808}',
         [422]),
        ("id-invalid-utf8", simple("wiu")[:-1] + b',"id":"\xff"}', [400]),
        ("unknown-shape", jdump({"foo": tag}), [422]),
        ("empty-object", b"{}", [422]),
        ("cloud-object-number", jdump({"object": 1, "entry": []}), [422]),
        ("cloud-object-array", jdump({"object": [], "entry": []}), [422]),
        ("cloud-object-null", jdump({"object": None, "entry": []}), [422]),
        ("cloud-object-other", jdump({"object": "page", "entry": []}),
         [422]),
        ("cloud-object-missing", jdump({"entry": []}), [422]),
        ("cloud-entry-string", jdump({"object": "whatsapp_business_account",
                                      "entry": "x"}), [422]),
        ("cloud-entry-object", jdump({"object": "whatsapp_business_account",
                                      "entry": {}}), [422]),
        ("cloud-entry-null", jdump({"object": "whatsapp_business_account",
                                    "entry": None}), [422]),
        ("cloud-entry-missing", jdump({"object":
                                       "whatsapp_business_account"}), [422]),
        ("cloud-deep-entry", b'{"object":"whatsapp_business_account",'
         b'"entry":' + b"[" * 40 + b"]" * 40 + b"}", [400]),
        ("cloud-invalid-utf8", b'{"object":"whatsapp_business_account",'
         b'"entry":[{"changes":[{"field":"messages","value":{"messages":'
         b'[{"from":"%s","id":"%s-u","type":"text","text":{"body":"\xc0\x80'
         b'"}}]}}]}]}' % (_b(ctx.wa_from), _b(tag)), [400]),
        ("cloud-lone-surrogate", b'{"object":"whatsapp_business_account",'
         b'"entry":[{"changes":[{"field":"messages","value":{"messages":'
         b'[{"from":"%s","id":"%s-s","type":"text","text":{"body":"\\udc00'
         b'"}}]}}]}]}' % (_b(ctx.wa_from), _b(tag)), [400]),
        # The 2026 fields (BSUID senders, contacts' user ids and usernames,
        # replies, reactions, system items, referrals, errors) are parsed as
        # strictly as the rest: bytes that are not UTF-8, lone surrogates,
        # a NUL in a key and too deep nesting are refused before any of it.
        ("cloud-bsuid-invalid-utf8", cloud_item(
            b'"from_user_id":"US.1\xff2","type":"text",'
            b'"text":{"body":"x"}', "bu"), [400]),
        ("cloud-username-overlong-utf8", b'{"object":"whatsapp_business_'
         b'account","entry":[{"changes":[{"field":"messages","value":{'
         b'"contacts":[{"profile":{"username":"\xe0\x80\x80"},'
         b'"user_id":"US.1"}],"messages":[{"from_user_id":"US.1",'
         b'"id":"%s-un","type":"text","text":{"body":"x"}}]}}]}]}' % _b(tag),
         [400]),
        ("cloud-reaction-lone-surrogate", cloud_item(
            b'"from":"%s","type":"reaction","reaction":{"message_id":'
            b'"wamid.X","emoji":"\\ud83d"}' % _b(ctx.wa_from), "rs"),
         [400]),
        ("cloud-context-nul-in-key", cloud_item(
            b'"from":"%s","type":"text","text":{"body":"x"},'
            b'"context":{"id\\u0000":"wamid.X"}' % _b(ctx.wa_from), "cn"),
         [400]),
        ("cloud-system-invalid-utf8", cloud_item(
            b'"from":"%s","type":"system","system":{"type":'
            b'"user_changed_number","body":"\xc3","wa_id":"%s"}' % (
                _b(ctx.wa_from), _b(ctx.wa_from)), "sy"), [400]),
        ("cloud-deep-referral", cloud_item(
            b'"from":"%s","type":"text","text":{"body":"x"},"referral":'
            % _b(ctx.wa_from) + b'{"a":' * 40 + b'1' + b'}' * 40, "dr"),
         [400]),
        ("cloud-errors-invalid-utf8", b'{"object":"whatsapp_business_'
         b'account","entry":[{"changes":[{"field":"messages","value":{'
         b'"errors":[{"code":131000,"title":"\xed\xa0\x80"}],'
         b'"messages":[{"from":"%s","id":"%s-ev","type":"text",'
         b'"text":{"body":"x"}}]}}]}]}' % (_b(ctx.wa_from), _b(tag)), [400]),
    ]
    for name, body, exp in hostile_hook:
        add("webhook/signed/" + name, hook(body), expect=exp)
    add("webhook/signed/chunked-invalid-utf8",
        request("POST", "/api/webhook/", chunked(simple("wch")[:-2] +
                                                 b'\xff"}'),
                [("X-Hub-Signature-256", "sha256=" + hmac_hex(
                    ctx.secret, simple("wch")[:-2] + b'\xff"}')),
                 ("Transfer-Encoding", "chunked")], length=None),
        expect=[400], code="invalid_json")
    add("webhook/signed/escaped-nul-in-key-aliases-sender",
        hook(b'{"sender\\u0000":"%s","content":"%s"}' % (
            _b(S), _b(mark("wh-nulkey")))), expect=[400],
        code="invalid_json",
        why='"sender\\u0000" would alias "sender" in json-c: a NUL in a '
            'key is refused outright')
    add("webhook/signed/content-length-short",
        hook(simple("wcls"), length=10), expect=[400, 401])
    add("webhook/signed/missing-content-type",
        hook(simple("wmct"), ctype=None), expect=[415],
        code="unsupported_media_type")
    return cases


class _Drop:
    def __repr__(self):
        return "DROP"


_DROP = _Drop()


class PlaceholderCtx:
    """Enough to enumerate the case names at collection time."""
    key = "K" * 43
    secret = "s"
    verify_token = "v" * 24
    tag = "hxTAG"
    sender = "+4915100000001"
    receiver = "+4915100000002"
    wa_from = "4915100000003"
