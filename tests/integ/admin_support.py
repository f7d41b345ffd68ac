"""Helpers for the admin-page tests (integration and browser): an HTTP client
that logs in through the real form, and small HTML probes."""

import html
import re
import time

import requests

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
       "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
       "base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
TIMEOUT = 15
_CSRF_RE = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(page):
    """The CSRF token of the first form on a page (text), or None."""
    m = _CSRF_RE.search(page)
    return m.group(1) if m else None


def assert_security_headers(resp):
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, (
            "%s: %r on %s" % (name, resp.headers.get(name), resp.url))


def assert_html(resp, status):
    assert resp.status_code == status, (
        "expected %d, got %d: %s" % (status, resp.status_code,
                                     resp.text[:300]))
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("text/html"), (ctype, resp.text[:200])
    assert_security_headers(resp)


def escaped(s):
    """s as the pages write it (& < > " ' escaped)."""
    return html.escape(s, quote=True).replace("&#x27;", "&#39;")


class Admin(requests.Session):
    """A browser-like client of the admin pages (no automatic redirects)."""

    def __init__(self, base_url):
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, **kw):
        if url.startswith("/"):
            url = self.base_url + url
        kw.setdefault("timeout", TIMEOUT)
        kw["allow_redirects"] = False
        return super().request(method, url, **kw)

    def post_login(self, data, **kw):
        """POST /admin/login, waiting out nginx's per-address rate limit
        (its 429 page, not the app's per-user one) a few times."""
        for _ in range(30):
            r = self.post("/admin/login", data=data, **kw)
            if r.status_code == 429 and "Too many login attempts" in r.text:
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            return r
        return r

    def login_post(self, user, password, next_=None, token=None):
        """GETs the form (for its token cookie), then POSTs it."""
        form = self.get("/admin/login")
        data = {"csrf": token if token is not None else csrf_of(form.text),
                "username": user, "password": password}
        if next_ is not None:
            data["next"] = next_
        return self.post_login(data)

    def login(self, user, password, next_=None):
        r = self.login_post(user, password, next_)
        assert r.status_code == 303, (r.status_code, r.text[:300])
        assert "wadesk_session" in self.cookies
        return r

    def csrf(self, path="/admin/"):
        r = self.get(path)
        assert r.status_code == 200, r.text[:300]
        return csrf_of(r.text)


def fcgi(sock_path, params, body=b""):
    """One request straight to the FastCGI socket (no nginx): returns
    (status, [(header, value)], body).  For what only nginx can set, such as
    REQUEST_SCHEME=https."""
    import socket
    import struct

    def record(rtype, content):
        return struct.pack("!BBHHBx", 1, rtype, 1, len(content), 0) + content

    def length(n):
        return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)

    pairs = b"".join(length(len(k)) + length(len(v)) + k + v for k, v in (
        (k.encode(), v.encode()) for k, v in params.items()))
    out = record(1, struct.pack("!HB5x", 1, 0))         # BEGIN_REQUEST
    out += record(4, pairs) + record(4, b"")            # PARAMS
    for i in range(0, len(body), 65535):                # STDIN
        out += record(5, body[i:i + 65535])
    out += record(5, b"")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(sock_path)
    s.sendall(out)
    buf, stdout = b"", b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        done = False
        while len(buf) >= 8:
            _, rtype, _, clen, plen = struct.unpack("!BBHHB", buf[:7])
            if len(buf) < 8 + clen + plen:
                break
            if rtype == 6:                              # STDOUT
                stdout += buf[8:8 + clen]
            elif rtype == 3:                            # END_REQUEST
                done = True
            buf = buf[8 + clen + plen:]
        if done:
            break
    s.close()
    head, _, rest = stdout.partition(b"\r\n\r\n")
    headers = [tuple(x.split(": ", 1)) for x in
               head.decode().split("\r\n") if ": " in x]
    status = int(dict(headers).get("Status", "200").split()[0])
    return status, headers, rest
