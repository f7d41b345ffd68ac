"""A fake WhatsApp Cloud API for the dispatcher's tests, and helpers that post
signed status webhooks back to wadesk through nginx.

Wire formats as in WHATSAPP.md:

    POST /{version}/{phone_number_id}/messages
    Authorization: Bearer <token>
    Content-Type: application/json
    {"messaging_product": "whatsapp", "recipient_type": "individual",
     "to": "34600111222", "type": "text",
     "text": {"preview_url": false, "body": "..."}}

A customer known only by a business-scoped user id (BSUID) is addressed
with "recipient": "US.13491208655302741918" instead of "to" (when both are
there, "to" wins, as at WhatsApp).

    200 {"messaging_product": "whatsapp",
         "contacts": [{"input": "34600111222", "wa_id": "34600111222"}],
         "messages": [{"id": "wamid.<unique>"}]}
    4xx/5xx {"error": {"message": "(#131047) ...", "type": "OAuthException",
             "code": 131047, "error_data": {...}, "fbtrace_id": "..."}}

Graph API versions: the fake answers every version from SUPPORTED_FROM
(v22.0) to LATEST (v27.0), as WhatsApp will once v21.0 ends on 2027-01-21;
an older one gets Graph's answer for a retired version (HTTP 400, an
OAuthException with code 2635), whatever the rest of the request, and a
version newer than LATEST one with code 100, like any bad path.  Which
version each request used is in its record (`version`).

Usage:

    fake = FakeCloudAPI().start()
    fake.script("34600111222", server_error(), too_many(1))   # then 200
    fake.script("34600111333", then=server_error())            # always 500
    fake.script_many(numbers, then=Flaky(0.3, seed=7))         # 30% 500s
    ...
    fake.requests_for("34600111222")   # what the dispatcher sent, in order
    fake.script("US.13491208655302741918", wa_error(131062))   # a BSUID
    fake.stop()

Media (WHATSAPP.md "Media"):

    fake.add_media("MID1", b"...", "image/png")   # what WhatsApp holds
    GET /{version}/MID1 -> {"url", "mime_type", "sha256", "file_size", "id",
                            "messaging_product"}   (404 Graph error: unknown)
    GET <url> (Bearer)  -> the bytes               (401 without the token)
    POST /{version}/{phone_number_id}/media (multipart: messaging_product,
         type, file) -> {"id": "fakeup.<n>"}; fake.uploads records each.

add_media() can state a wrong sha256 or file_size, leave file_size out, or
make the url redirect elsewhere, to exercise the dispatcher's checks.

Every request is recorded (thread-safe) with what the fake answered and any
problem found in it (wrong path, token, content type or body shape); a
request with a problem is answered 400 with WhatsApp's code 100, so the
dispatcher cannot mistake it for a success.  Recipients without a script are
answered 200 (another test session's messages may reach this fake while it
stands in for the provider).
"""

import hashlib
import hmac
import itertools
import json
import os
import random
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

TOKEN = "test-token"
# The version the tests' dispatchers are given (wadesk's default, too).
VERSION = "v27.0"
# The versions the fake serves (older ones are retired, newer do not exist).
SUPPORTED_FROM = (22, 0)
LATEST = (27, 0)
PHONE_NUMBER_ID = "110000000000001"
DISPLAY_NUMBER = "15550001111"
WABA_ID = "102290129340398"

_DIGITS = re.compile(r"^[1-9][0-9]{6,14}$")
_BSUID = re.compile(r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")
_PATH = re.compile(r"^/(v([0-9]+)\.([0-9]+))/([^/]+)/messages$")
_MEDIA_META = re.compile(r"^/(v[0-9]+\.[0-9]+)/([A-Za-z0-9._-]+)$")
_MEDIA_UPLOAD = re.compile(r"^/(v[0-9]+\.[0-9]+)/([^/]+)/media$")
_MEDIA_BYTES = re.compile(r"^/media-bytes/([A-Za-z0-9._-]+)$")
_TEMPLATES = re.compile(r"^/(v[0-9]+\.[0-9]+)/([0-9]+)/message_templates$")
# The templates the fake's WhatsApp Business Account lists, as WhatsApp
# lists them (served TEMPLATES_PAGE at a time, with cursors).
TEMPLATES_PAGE = 3


def _tpl(tid, name, lang, status, body, category="UTILITY", fmt=None,
         header=None):
    comps = []
    if header is not None:
        comps.append({"type": "HEADER", "format": "TEXT", "text": header})
    comps.append({"type": "BODY", "text": body})
    t = {"id": tid, "name": name, "language": lang, "status": status,
         "category": category, "components": comps}
    if fmt is not None:
        t["parameter_format"] = fmt
    return t


DEFAULT_TEMPLATES = [
    _tpl("800000000000001", "hello_world", "en_US", "APPROVED",
         "Welcome and congratulations!! This message demonstrates your "
         "ability to send a WhatsApp message notification from the Cloud "
         "API, hosted by Meta. Thank you for taking the time to test with "
         "us.", header="Hello World"),
    _tpl("800000000000002", "order_update", "en", "APPROVED",
         "Hi {{1}}, your order {{2}} is {{3}}.", fmt="POSITIONAL"),
    _tpl("800000000000003", "appointment_reminder", "en", "APPROVED",
         "Hi {{1}}, this is a reminder of your appointment on {{2}}. "
         "Reply to this message to change it.", fmt="POSITIONAL",
         header="Your appointment"),
    _tpl("800000000000004", "delivery_window", "en", "APPROVED",
         "Hello {{first_name}}, your parcel arrives between {{from}} and "
         "{{to}}.", fmt="NAMED"),
    _tpl("800000000000005", "order_update", "es", "APPROVED",
         "Hola {{1}}, tu pedido {{2}} está {{3}}.", fmt="POSITIONAL"),
    _tpl("800000000000006", "spring_sale", "en", "PAUSED",
         "Our spring sale starts today.", category="MARKETING"),
    _tpl("800000000000007", "account_alert", "en", "PENDING",
         "There is news about your account."),
    _tpl("800000000000008", "cloud_survey", "de", "APPROVED",
         "Hallo {{1}}, wie zufrieden waren Sie mit {{2}}?",
         category="MARKETING", fmt="POSITIONAL", header="Kurze Umfrage"),
]
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")


# -------------------------------------------------------------------- answers

class Answer:
    """A fixed HTTP answer."""

    def __init__(self, status, body, headers=None, name=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.name = name or "http_%d" % status

    def respond(self, fake, rec):
        return self.status, self.body, self.headers


class Ok:
    """200 with a message id: the given one, or a fresh unique one."""

    name = "ok"

    def __init__(self, wamid=None):
        self.wamid = wamid

    def respond(self, fake, rec):
        wamid = self.wamid or fake.new_wamid()
        if rec.to is not None:
            contact = {"input": rec.to, "wa_id": rec.to}
        else:
            contact = {"input": rec.recipient, "user_id": rec.recipient}
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": wamid}],
        }, {}


class Hang:
    """Sleeps longer than the client's timeout, then answers (too late)."""

    name = "hang"

    def __init__(self, seconds=2.5, then=None):
        self.seconds = seconds
        self.then = then or Ok()

    def respond(self, fake, rec):
        rec.late = True     # the client has given up: never a success
        fake._stopping.wait(self.seconds)
        return self.then.respond(fake, rec)


class Gate:
    """Holds the answer until the test opens the gate (or timeout passes),
    then answers like `then`.  Keep timeout below the client's timeout."""

    name = "gate"

    def __init__(self, then=None, timeout=0.8):
        self.then = then or Ok()
        self.timeout = timeout
        self.arrived = threading.Event()
        self.opened = threading.Event()

    def open(self):
        self.opened.set()

    def respond(self, fake, rec):
        self.arrived.set()
        self.opened.wait(self.timeout)
        return self.then.respond(fake, rec)


class Flaky:
    """500 with probability rate, else 200 (a rule: never consumed)."""

    name = "flaky"

    def __init__(self, rate, seed=None, ok=None):
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.ok = ok or Ok()

    def respond(self, fake, rec):
        with self.lock:
            fail = self.rng.random() < self.rate
        return (server_error() if fail else self.ok).respond(fake, rec)


def wa_error_body(code, message=None, details=None):
    if message is None:
        message = "(#%d) %s" % (code, {
            100: "Invalid parameter",
            130429: "Rate limit hit",
            131000: "Something went wrong",
            131026: "Message undeliverable",
            131047: "Re-engagement message",
            131056: "(Business Account, Consumer Account) pair rate "
                    "limit hit",
            131062: "This message cannot be sent to a business-scoped "
                    "user ID",
        }.get(code, "Error"))
    return {"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp",
                       "details": details or message},
        "fbtrace_id": "A" + secrets.token_hex(10),
    }}


def wa_error(code, message=None, http=400, retry_after=None):
    """A WhatsApp error answer: HTTP `http` with {"error": {"code": code}}."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Answer(http, wa_error_body(code, message), headers,
                  name="wa_%d_%d" % (http, code))


def retired_version(latest=LATEST):
    """Graph's answer for a version it no longer serves."""
    return Answer(400, {"error": {
        "message": "(#2635) You are calling a deprecated version of the "
                   "Graph API. Please update to the latest version: "
                   "v%d.%d." % latest,
        "type": "OAuthException", "code": 2635,
        "fbtrace_id": "A" + secrets.token_hex(10)}},
        name="retired_version")


def too_many(retry_after=None):
    """HTTP 429 (throughput limit), with Retry-After when given."""
    return wa_error(130429, "(#130429) Rate limit hit", http=429,
                    retry_after=retry_after)


def server_error(status=500):
    """HTTP 5xx with Graph's generic transient error body."""
    return Answer(status, {"error": {
        "message": "An unexpected error has occurred. Please retry your "
                   "request later.",
        "type": "OAuthException", "code": 2, "is_transient": True,
        "fbtrace_id": "A" + secrets.token_hex(10)}},
        name="http_%d" % status)


# ------------------------------------------------------------------ recording

class Request:
    """One request the fake received, and what it answered."""

    def __init__(self, method, path, headers, raw):
        self.t = time.monotonic()
        self.method = method
        self.path = path
        self.headers = headers          # lower-case names
        self.raw = raw
        self.json = None
        self.version = None             # "v27.0", from the path
        self.phone_number_id = None     # the business number, from the path
        self.retired = False            # a version older than SUPPORTED_FROM
        self.to = None                  # "to", digits without '+'
        self.recipient = None           # "recipient" (a BSUID)
        self.problems = []
        self.answer = None              # the action's name
        self.status = None              # the HTTP status answered
        self.wamid = None               # set on a 200 with a message id
        self.late = False               # answered after the client's timeout
        self.t_answer = None

    @property
    def body_text(self):
        try:
            return self.json["text"]["body"]
        except (TypeError, KeyError):
            return None

    @property
    def key(self):
        """Whom it was for, as WhatsApp reads it: "to" when there, else
        "recipient"."""
        return self.to if self.to is not None else self.recipient

    @property
    def succeeded(self):
        return self.status == 200 and self.wamid is not None and \
            not self.late

    def __repr__(self):
        return "<%s %s to=%s -> %s %s%s>" % (
            self.method, self.path, self.key, self.status, self.answer,
            " problems=%s" % self.problems if self.problems else "")


def _check_text(text, p):
    if not isinstance(text, dict) or not isinstance(text.get("body"), str) \
            or not text["body"]:
        p.append("text.body missing or not a non-empty string")
    elif len(text["body"]) > 4096:
        p.append("text.body longer than 4096 characters")


def _check_template(t, p):
    """WhatsApp's template send: name, language.code, body parameters."""
    if not isinstance(t, dict) or not isinstance(t.get("name"), str):
        p.append("template.name missing")
        return
    lang = t.get("language")
    if not isinstance(lang, dict) or not isinstance(lang.get("code"), str):
        p.append("template.language.code missing")
    for c in t.get("components", []):
        if not isinstance(c, dict) or c.get("type") not in (
                "header", "body", "button"):
            p.append("template component %r" % (c,))
            continue
        for par in c.get("parameters", []):
            if not isinstance(par, dict) or par.get("type") != "text" or \
                    not isinstance(par.get("text"), str):
                p.append("template parameter %r" % (par,))


def _check_interactive(i, p):
    """Reply buttons: 1-3, titles of at most 20 characters."""
    if not isinstance(i, dict) or i.get("type") != "button":
        p.append("interactive.type %r" % (i,))
        return
    if not isinstance(i.get("body"), dict) or not i["body"].get("text"):
        p.append("interactive.body.text missing")
    buttons = (i.get("action") or {}).get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        p.append("interactive.action.buttons %r" % (buttons,))
        return
    for b in buttons:
        reply = b.get("reply") if isinstance(b, dict) else None
        if b.get("type") != "reply" or not isinstance(reply, dict) or \
                not reply.get("id") or not reply.get("title") or \
                len(reply["title"]) > 20:
            p.append("button %r" % (b,))


def _check_reaction(r, p):
    if not isinstance(r, dict) or not isinstance(r.get("message_id"), str) \
            or not r["message_id"].startswith("wamid."):
        p.append("reaction.message_id %r" % (r,))
    elif not isinstance(r.get("emoji"), str):
        p.append("reaction.emoji %r" % (r,))


_TYPE_CHECKS = {"text": _check_text, "template": _check_template,
                "interactive": _check_interactive,
                "reaction": _check_reaction}
class Upload:
    """One media upload: its multipart parts {name: (filename, type,
    bytes)} and the id it got."""

    def __init__(self, rec):
        self.rec = rec
        self.parts = {}
        self.problems = []
        self.id = None


def parse_multipart(ctype, raw):
    """A multipart/form-data body as {name: (filename, type, bytes)}."""
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.lower().startswith("multipart/form-data") or m is None:
        raise ValueError("Content-Type %r" % ctype)
    delim = b"--" + m.group(1).encode("ascii")
    if not raw.startswith(delim) or delim + b"--" not in raw:
        raise ValueError("no opening or closing delimiter")
    parts = {}
    for chunk in raw.split(b"\r\n" + delim)[:-1]:
        if chunk.startswith(delim):
            chunk = chunk[len(delim):]
        head, sep, data = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part without headers")
        name = filename = ptype = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-disposition":
                n = re.search(r'\bname="([^"]*)"', v)
                f = re.search(r'\bfilename="([^"]*)"', v)
                name = n.group(1) if n else None
                filename = f.group(1) if f else None
            elif k.strip().lower() == "content-type":
                ptype = v.strip()
        if name is None:
            raise ValueError("a part without a name")
        parts[name] = (filename, ptype, data)
    return parts


class FakeCloudAPI:
    def __init__(self, token=TOKEN, phone_number_id=PHONE_NUMBER_ID,
                 host="127.0.0.1"):
        self.token = token
        self.phone_number_id = phone_number_id
        # Every business number it serves (add_number for more).
        self.phone_number_ids = {phone_number_id}
        self.host = host
        self._lock = threading.Lock()
        self._requests = []
        self._scripts = {}          # to -> list of actions (consumed)
        self._then = {}             # to -> action once the script is done
        self._default = Ok()
        self._seq = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self._media = {}            # media id -> dict (add_media)
        self.media_requests = []    # metadata and byte GETs, in order
        self.uploads = []           # Upload records, in order
        self.templates = list(DEFAULT_TEMPLATES)
        self.template_requests = []  # (path, authorization), in order
        self.read_receipts = []     # (body, well formed), in order

    # -- life cycle

    def add_number(self, phone_number_id):
        """Serves one more business number (its messages path)."""
        with self._lock:
            self.phone_number_ids.add(phone_number_id)

    def start(self):
        fake = self

        class Handler(_Handler):
            pass
        Handler.fake = fake
        self._server = _Server((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fake-cloudapi", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    # -- scripting

    def new_wamid(self):
        """A fresh, unique message id, in WhatsApp's wamid. form."""
        return "wamid.FAKE%s%06d" % (self._prefix, next(self._seq))

    def script(self, to, *actions, then=None):
        """Answers for recipient `to` (digits, no '+'; a '+' is dropped;
        or a BSUID):
        `actions` one per call, in order; afterwards `then` for every call
        (default: 200)."""
        to = to.lstrip("+")
        with self._lock:
            self._scripts[to] = list(actions)
            if then is not None:
                self._then[to] = then
            else:
                self._then.pop(to, None)

    def script_many(self, tos, *actions, then=None):
        for to in tos:
            self.script(to, *actions, then=then)

    def _action_for(self, to):
        with self._lock:
            script = self._scripts.get(to)
            if script:
                return script.pop(0)
            return self._then.get(to, self._default)

    # -- media

    def add_media(self, media_id, data, mime, sha256=None, file_size=None,
                  state_size=True, redirect=None, status=200):
        """Makes WhatsApp hold media_id: data of type mime.  sha256 and
        file_size override what the metadata states (state_size=False
        leaves file_size out); redirect makes the url answer 302 to that
        location; status other than 200 answers the metadata with a Graph
        error."""
        with self._lock:
            self._media[media_id] = {
                "data": data, "mime": mime,
                "sha256": sha256 or hashlib.sha256(data).hexdigest(),
                "file_size": file_size if file_size is not None
                else len(data),
                "state_size": state_size, "redirect": redirect,
                "status": status, "served": 0}

    def media_served(self, media_id):
        """How many bytes of media_id's url were written to clients."""
        with self._lock:
            m = self._media.get(media_id)
            return m["served"] if m else 0

    def _media_meta(self, rec, media_id):
        with self._lock:
            m = self._media.get(media_id)
        if rec.headers.get("authorization") != "Bearer " + self.token:
            return 401, wa_error_body(190, "Invalid OAuth access token"), {}
        if m is None:
            return 404, wa_error_body(100, "(#100) Unsupported get "
                                      "request. Object with ID '%s' does "
                                      "not exist" % media_id), {}
        if m["status"] != 200:
            return m["status"], wa_error_body(131000), {}
        body = {"messaging_product": "whatsapp",
                "url": "%s/media-bytes/%s" % (self.base_url, media_id),
                "mime_type": m["mime"], "sha256": m["sha256"],
                "id": media_id}
        if m["state_size"]:
            body["file_size"] = m["file_size"]
        return 200, body, {}

    def _media_bytes(self, rec, media_id):
        with self._lock:
            m = self._media.get(media_id)
        if rec.headers.get("authorization") != "Bearer " + self.token:
            return 401, wa_error_body(190, "Invalid OAuth access token"), {}
        if m is None:
            return 404, wa_error_body(100), {}
        if m["redirect"]:
            return 302, b"", {"Location": m["redirect"]}
        return 200, m["data"], {"Content-Type": m["mime"]}

    def _media_upload(self, rec):
        up = Upload(rec)
        if rec.headers.get("authorization") != "Bearer " + self.token:
            up.problems.append("Authorization %r"
                               % rec.headers.get("authorization"))
        ctype = rec.headers.get("content-type", "")
        try:
            up.parts = parse_multipart(ctype, rec.raw)
        except ValueError as e:
            up.problems.append("multipart: %s" % e)
        fields = {name: value for name, (filename, ptype, value)
                  in up.parts.items()}
        if fields.get("messaging_product") != b"whatsapp":
            up.problems.append("messaging_product %r"
                               % fields.get("messaging_product"))
        if "file" not in up.parts or up.parts["file"][0] is None:
            up.problems.append("no file part")
        if "type" not in fields:
            up.problems.append("no type part")
        with self._lock:
            self.uploads.append(up)
        if up.problems:
            return 400, wa_error_body(100, "(#100) Invalid parameter: %s"
                                      % "; ".join(up.problems)), {}
        up.id = "fakeup.%s%06d" % (self._prefix, next(self._seq))
        return 200, {"id": up.id}, {}

    def _handle_media(self, method, path, headers, raw):
        """The media routes; None when path is not one of them."""
        bare = path.split("?", 1)[0]
        rec = Request(method, path, headers, raw)
        if method == "GET" and _MEDIA_BYTES.match(bare):
            media_id = _MEDIA_BYTES.match(bare).group(1)
            with self._lock:
                self.media_requests.append(("bytes", media_id, rec))
            return self._media_bytes(rec, media_id)
        if method == "GET" and _MEDIA_META.match(bare):
            media_id = _MEDIA_META.match(bare).group(2)
            with self._lock:
                self.media_requests.append(("meta", media_id, rec))
            return self._media_meta(rec, media_id)
        if method == "POST" and _MEDIA_UPLOAD.match(bare):
            return self._media_upload(rec)
        if method == "GET" and _TEMPLATES.match(bare):
            return self._templates(path, headers)
        return None

    def _handle_read(self, method, path, headers, raw):
        """A read receipt ({"messaging_product", "status": "read",
        "message_id"} to the messages path): recorded, {"success": true};
        None for anything else."""
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        if method != "POST" or not isinstance(body, dict) or \
                body.get("status") != "read":
            return None
        m = _PATH.match(path.split("?", 1)[0])
        ok = (m is not None and m.group(4) in self.phone_number_ids and
              headers.get("authorization") == "Bearer " + self.token and
              body.get("messaging_product") == "whatsapp" and
              isinstance(body.get("message_id"), str) and
              body["message_id"].startswith("wamid.") and
              set(body) <= {"messaging_product", "status", "message_id",
                            "typing_indicator"})
        with self._lock:
            self.read_receipts.append((body, ok))
        if not ok:
            return 400, wa_error_body(100, "(#100) Invalid parameter"), {}
        return 200, {"success": True}, {}

    def _templates(self, path, headers):
        """GET /{version}/{WABA id}/message_templates: a page of
        TEMPLATES_PAGE after the cursor `after` (its index), with
        paging.cursors and, when more follow, paging.next."""
        with self._lock:
            self.template_requests.append(
                (path, headers.get("authorization")))
            templates = list(self.templates)
        if headers.get("authorization") != "Bearer " + self.token:
            return 401, wa_error_body(190, "(#190) Invalid OAuth access "
                                      "token"), {}
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        after = query.get("after", ["0"])[0]
        start = int(after) if after.isdigit() else 0
        page = templates[start:start + TEMPLATES_PAGE]
        body = {"data": page, "paging": {"cursors": {
            "before": str(start), "after": str(start + len(page))}}}
        if start + len(page) < len(templates):
            body["paging"]["next"] = "https://graph.example.invalid/next"
        return 200, body, {}

    # -- what was received

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def requests_for(self, to):
        """The requests for `to`: a phone number (with or without '+') or
        a BSUID."""
        to = to.lstrip("+")
        return [r for r in self.requests if r.key == to]

    def successes_for(self, to):
        return [r for r in self.requests_for(to) if r.succeeded]

    def wait_requests(self, to, n, timeout):
        """Waits until `to` got at least n requests; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.requests_for(to)
            if len(got) >= n or time.monotonic() >= deadline:
                return got
            time.sleep(0.02)

    # -- the handler's side

    def _record(self, rec):
        with self._lock:
            self._requests.append(rec)

    def _check(self, rec):
        p = rec.problems
        if rec.method != "POST":
            p.append("method %s, not POST" % rec.method)
        m = _PATH.match(rec.path.split("?", 1)[0])
        if m is None:
            p.append("path %r, expected /vNN.N/%s/messages"
                     % (rec.path, self.phone_number_id))
        else:
            rec.version = m.group(1)
            v = (int(m.group(2)), int(m.group(3)))
            rec.retired = v < SUPPORTED_FROM
            if v > LATEST:
                p.append("Graph API version %s does not exist" % m.group(1))
            rec.phone_number_id = m.group(4)
            if m.group(4) not in self.phone_number_ids:
                p.append("phone number id %r, expected one of %r"
                         % (m.group(4), sorted(self.phone_number_ids)))
        auth = rec.headers.get("authorization")
        if auth != "Bearer " + self.token:
            p.append("Authorization %r" % auth)
        ctype = rec.headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            p.append("Content-Type %r" % ctype)
        try:
            body = json.loads(rec.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            p.append("body is not JSON: %s" % e)
            return
        rec.json = body
        if not isinstance(body, dict):
            p.append("body is not a JSON object")
            return
        to = body.get("to")
        recipient = body.get("recipient")
        if isinstance(to, str):
            rec.to = to.lstrip("+")
        if isinstance(recipient, str):
            rec.recipient = recipient
        if body.get("messaging_product") != "whatsapp":
            p.append("messaging_product %r" % body.get("messaging_product"))
        if "to" in body or "recipient" not in body:
            if not isinstance(to, str) or not _DIGITS.match(to):
                p.append("to %r is not 7-15 digits without '+'" % (to,))
        elif not isinstance(recipient, str) or not _BSUID.match(recipient):
            p.append("recipient %r is not a BSUID" % (recipient,))
        if body.get("recipient_type", "individual") != "individual":
            p.append("recipient_type %r" % body.get("recipient_type"))
        ctx = body.get("context")
        if ctx is not None and (not isinstance(ctx, dict) or not isinstance(
                ctx.get("message_id"), str) or not ctx["message_id"]):
            p.append("context %r is not {\"message_id\": id}" % (ctx,))
        kind = body.get("type")
        if kind in MEDIA_KINDS:
            obj = body.get(kind)
            if not isinstance(obj, dict) or not isinstance(obj.get("id"),
                                                           str):
                p.append("%s.id missing" % kind)
            return
        check = _TYPE_CHECKS.get(kind)
        if check is None:
            p.append("type %r" % kind)
        else:
            check(body.get(kind), p)

    def _handle(self, method, path, headers, raw):
        media = self._handle_media(method, path, headers, raw)
        if media is not None:
            return media
        receipt = self._handle_read(method, path, headers, raw)
        if receipt is not None:
            return receipt
        rec = Request(method, path, headers, raw)
        self._check(rec)
        if rec.retired:
            action = retired_version()
        elif rec.problems:
            action = wa_error(100, "(#100) Invalid parameter: %s"
                              % "; ".join(rec.problems))
        else:
            action = self._action_for(rec.key)
        rec.answer = getattr(action, "name", type(action).__name__)
        self._record(rec)
        status, body, hdrs = action.respond(self, rec)
        if status == 200 and isinstance(body, dict):
            try:
                rec.wamid = body["messages"][0]["id"]
            except (KeyError, IndexError, TypeError):
                pass
        rec.status = status
        rec.t_answer = time.monotonic()
        return status, body, hdrs


class _Server(ThreadingHTTPServer):
    # The dispatcher opens up to WADESK_DISPATCH_CONCURRENCY connections at
    # once; the default backlog (5) would drop SYNs and time connects out.
    request_queue_size = 256
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        # A client that goes away (a dispatcher killed or timing out) is
        # expected here; anything else is printed as usual.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive (every answer carries its Content-Length), and each answer
    # leaves in one segment without waiting: with Nagle on and the status
    # line and the body written separately, the body waited for the
    # client's delayed ACK, 40 ms per call, which capped a dispatcher at
    # concurrency / 40 ms (about 600 calls/s at 32).
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024        # headers and body go out in one write
    fake = None

    def log_message(self, fmt, *args):     # quiet
        pass

    def _serve(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, hdrs = self.fake._handle(self.command, self.path,
                                               headers, raw)
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
            hdrs = dict(hdrs)
            ctype = hdrs.pop("Content-Type", "application/octet-stream")
        else:
            data = json.dumps(body).encode("utf-8")
            ctype = "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            m = _MEDIA_BYTES.match(self.path.split("?", 1)[0])
            if m and status == 200:
                with self.fake._lock:
                    self.fake._media[m.group(1)]["served"] += len(data)
        except OSError:
            # The client gave up (a hang longer than its timeout).
            self.close_connection = True

    do_POST = _serve
    do_GET = _serve
    do_PUT = _serve


# ------------------------------------------------- status webhooks to wadesk

def unix_now():
    return int(time.time())


def status_item(wamid, status, recipient="34600111222", ts=None,
                errors=None, billable=True):
    """One value.statuses[] item as WhatsApp sends it."""
    item = {"id": wamid, "status": status,
            "timestamp": str(ts if ts is not None else unix_now()),
            "recipient_id": recipient.lstrip("+")}
    if status == "failed":
        item["errors"] = errors if errors is not None else [failed_error()]
    else:
        if errors is not None:
            item["errors"] = errors
        if billable and status in ("sent", "delivered"):
            item["conversation"] = {
                "id": "CONVERSATION_" + secrets.token_hex(6),
                "origin": {"type": "service"}}
            item["pricing"] = {"billable": True, "pricing_model": "CBP",
                               "category": "service"}
    return item


def failed_error(code=131047, title="Re-engagement message",
                 details="Message failed to send because more than 24 "
                         "hours have passed since the customer last "
                         "replied to this number."):
    return {"code": code, "title": title, "message": title,
            "error_data": {"details": details},
            "href": "https://developers.facebook.com/docs/whatsapp/"
                    "cloud-api/support/error-codes/"}


def status_payload(statuses, display=DISPLAY_NUMBER,
                   phone_number_id=PHONE_NUMBER_ID):
    """A whole status webhook carrying the given value.statuses[] items."""
    return {"object": "whatsapp_business_account", "entry": [{
        "id": WABA_ID, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": display,
                         "phone_number_id": phone_number_id},
            "statuses": list(statuses)}}]}]}


def sign(secret, body):
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def encode(payload):
    """The bytes WhatsApp would send: compact JSON, non-ASCII as \\uXXXX."""
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload)
    return json.dumps(payload, separators=(",", ":"),
                      ensure_ascii=True).encode("ascii")


class WebhookPoster:
    """Posts signed webhooks to wadesk's /api/webhook/ (through nginx)."""

    def __init__(self, base_url, app_secret, timeout=10):
        self.url = base_url.rstrip("/") + "/api/webhook/"
        self.secret = app_secret
        self.timeout = timeout
        self.session = requests.Session()

    def post(self, payload, signature=None, headers=None):
        body = encode(payload)
        h = {"Content-Type": "application/json",
             "User-Agent": "facebookexternalua",
             "X-Hub-Signature-256": signature if signature is not None
             else sign(self.secret, body)}
        h.update(headers or {})
        return self.session.post(self.url, data=body, headers=h,
                                 timeout=self.timeout)

    def statuses(self, *items):
        """All items in one webhook; asserts a 200."""
        r = self.post(status_payload(items))
        assert r.status_code == 200, "status webhook: %d %s" % (
            r.status_code, r.text[:300])
        return r

    def each(self, *items):
        """One webhook per item, in the given order (duplicates allowed)."""
        return [self.statuses(item) for item in items]

    def close(self):
        self.session.close()


# ------------------------------------------- processes (for the dispatcher)

def read_pid(path):
    try:
        return int(open(path).read().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not alive for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_pid(pid, timeout=10.0):
    """SIGTERM pid and wait for it to exit (SIGKILL after timeout, then
    wait until it is gone: a process still exiting would look running to
    the next `nginx/stack.sh start`, which would then not start another)."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if not pid_alive(pid):
        return
    # Slow to stop is a defect of its own: say so in the test's output.
    sys.stderr.write("stop_pid: %d still running %.0f s after SIGTERM; "
                     "SIGKILL\n" % (pid, timeout))
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid), "%d survived SIGKILL for 10 s" % pid


def cpu_seconds(pid):
    """User + system CPU time of a process, in seconds (from /proc)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime and stime are fields 14 and 15.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def tcp_peer_ports(pid, remote_port):
    """Local ports of pid's TCP connections to remote_port (IPv4/IPv6)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return []
    ports = []
    for table in ("tcp", "tcp6"):
        try:
            lines = open("/proc/%d/net/%s" % (pid, table)).read() \
                .splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) < 10 or f[9] not in inodes:
                continue
            if int(f[2].rsplit(":", 1)[1], 16) == remote_port:
                ports.append(int(f[1].rsplit(":", 1)[1], 16))
    return ports


def dispatch_env(env, fake, **settings):
    """The environment of a `wadesk dispatch` of a test, pointed at fake:
    the stack's settings (env), the Cloud API provider, then settings (a
    value of None unsets the variable: the dispatcher's default applies)."""
    child = dict(os.environ)
    child.update({k: v for k, v in env.items() if k.startswith("WADESK_")})
    child.update({
        "WADESK_PROVIDER": "cloudapi",
        "WADESK_CLOUDAPI_BASE_URL": fake.base_url,
        "WADESK_CLOUDAPI_VERSION": VERSION,
        "WADESK_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WADESK_CLOUDAPI_TOKEN": TOKEN,
    })
    for k, v in settings.items():
        if v is None:
            child.pop(k, None)
        else:
            child[k] = str(v)
    return child
