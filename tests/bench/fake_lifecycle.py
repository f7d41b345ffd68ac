#!/usr/bin/python3
"""A fast fake WhatsApp Cloud API for the lifecycle benchmark.

It answers every send (POST /{version}/{phone number id}/messages with the
Bearer token) with a new wamid, as WhatsApp does, and then reports what
happens to that message the way WhatsApp does: signed status webhooks
(`sent`, `delivered`, `read`, WHATSAPP.md "Status webhook") posted back to
wadesk's POST /api/webhook/ through nginx, each a STATUS_DELAYS after the
answer, several statuses to one POST (WhatsApp batches them too).

tests/integ/fake_cloudapi.py checks every request in detail from a thread
per connection; this one is a single asyncio loop that only answers and
reports, so that one core of Python stays well ahead of the dispatcher.

Settings (environment):
  FAKE_PORT            port to listen on (127.0.0.1)
  FAKE_WEBHOOK         where statuses go (http://host:port/api/webhook/)
  WADESK_APP_SECRET    signs them (X-Hub-Signature-256)
  FAKE_TOKEN           the Bearer token expected (default test-token)
  FAKE_DELAYS          seconds after the answer of sent,delivered,read
                       (default 0.2,0.5,1.0)
  FAKE_BATCH           statuses per webhook POST at most (default 10)
  FAKE_CONNS           webhook POSTs in flight at most (default 32)
  FAKE_PHONE_NUMBER_ID, FAKE_DISPLAY   the business number in metadata

GET /_stats on the same port answers the counters as JSON.  Prints
"ready" on stdout once listening.
"""

import asyncio
import collections
import hashlib
import hmac
import json
import os
import re
import sys
import time
import urllib.parse

STATUSES = ("sent", "delivered", "read")
_SEND = re.compile(r"^/v[0-9]+\.[0-9]+/[0-9]+/messages$")
PRICING = {"billable": True, "pricing_model": "PMP",
           "type": "free_customer_service", "category": "service"}


class Fake:
    def __init__(self):
        self.port = int(os.environ["FAKE_PORT"])
        u = urllib.parse.urlsplit(os.environ["FAKE_WEBHOOK"])
        self.wh_host, self.wh_port = u.hostname, u.port or 80
        self.wh_path = u.path or "/"
        self.secret = os.environ["WADESK_APP_SECRET"].encode()
        self.token = os.environ.get("FAKE_TOKEN", "test-token")
        self.delays = [float(x) for x in os.environ.get(
            "FAKE_DELAYS", "0.2,0.5,1.0").split(",")]
        self.batch = int(os.environ.get("FAKE_BATCH", "10"))
        self.conns = int(os.environ.get("FAKE_CONNS", "32"))
        self.pnid = os.environ.get("FAKE_PHONE_NUMBER_ID", "110000000000001")
        self.display = os.environ.get("FAKE_DISPLAY", "15550001111")
        self.seq = 0
        # One queue per status: each has one delay, so each stays in
        # order of due time.
        self.due = [collections.deque() for _ in STATUSES]
        self.wake = None
        self.stats = {"sends": 0, "bad_requests": 0, "receipts": 0,
                      "posts": 0, "posts_failed": 0, "post_errors": 0,
                      "statuses_posted": {s: 0 for s in STATUSES},
                      "statuses_ok": {s: 0 for s in STATUSES},
                      "lag_max_ms": 0.0, "lag_last_ms": 0.0,
                      "queued_statuses": 0, "last_failure": None}

    # ------------------------------------------------------------ the API
    def answer(self, method, path, headers, body):
        if method == "GET" and path == "/_stats":
            s = dict(self.stats)
            s["queued_statuses"] = sum(len(q) for q in self.due)
            return 200, s
        if method != "POST" or not _SEND.match(path.split("?", 1)[0]) or \
                headers.get("authorization") != "Bearer " + self.token:
            self.stats["bad_requests"] += 1
            return 400, {"error": {"message": "(#100) Invalid parameter",
                                   "type": "OAuthException", "code": 100}}
        try:
            req = json.loads(body)
        except ValueError:
            req = None
        if not isinstance(req, dict) or \
                req.get("messaging_product") != "whatsapp":
            self.stats["bad_requests"] += 1
            return 400, {"error": {"message": "(#100) Invalid parameter",
                                   "type": "OAuthException", "code": 100}}
        if req.get("status") == "read":         # a read receipt
            self.stats["receipts"] += 1
            return 200, {"success": True}
        to = req.get("to") or req.get("recipient") or ""
        self.seq += 1
        wamid = "wamid.LC%d" % self.seq
        now = time.monotonic()
        for q, d in zip(self.due, self.delays):
            q.append((now + d, self.seq, wamid, to))
        self.stats["sends"] += 1
        if self.wake is not None and not self.wake.is_set():
            self.wake.set()
        contact = {"input": to, "wa_id": to.lstrip("+")}
        return 200, {"messaging_product": "whatsapp", "contacts": [contact],
                     "messages": [{"id": wamid}]}

    async def serve_conn(self, reader, writer):
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {}
                for line in lines[1:]:
                    k, sep, v = line.partition(":")
                    if sep:
                        headers[k.strip().lower()] = v.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                n = int(headers.get("content-length") or 0)
                body = await reader.readexactly(n) if n else b""
                status, obj = self.answer(method, path, headers, body)
                data = json.dumps(obj, separators=(",", ":")).encode()
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: "
                             b"application/json\r\nContent-Length: %d\r\n"
                             b"\r\n" % (status, b"OK" if status == 200
                                        else b"Bad Request", len(data))
                             + data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    # -------------------------------------------------- statuses to wadesk
    def take_due(self):
        now = time.monotonic()
        out = []
        # The oldest first, whatever its status.
        while len(out) < self.batch:
            heads = [(q[0][0], k) for k, q in enumerate(self.due)
                     if q and q[0][0] <= now]
            if not heads:
                break
            k = min(heads)[1]
            due, seq, wamid, to = self.due[k].popleft()
            out.append((seq, k, wamid, to, due))
        return out, now

    def payload(self, items):
        ts = str(int(time.time()))
        sts = []
        # In order of message (then status): every POST locks the messages
        # it touches in the same order, so two POSTs never deadlock.
        for seq, k, wamid, to, _ in sorted(items):
            st = {"id": wamid, "status": STATUSES[k], "timestamp": ts,
                  "recipient_id": to.lstrip("+")}
            if k < 2:
                st["pricing"] = PRICING
            sts.append(st)
        return {"object": "whatsapp_business_account", "entry": [{
            "id": "102290129340398", "changes": [{
                "field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": self.display,
                                 "phone_number_id": self.pnid},
                    "statuses": sts}}]}]}

    async def post_one(self, conn, body):
        """One POST on conn (reader, writer); returns the HTTP status."""
        reader, writer = conn
        sig = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        writer.write(("POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
                      "Content-Type: application/json\r\n"
                      "User-Agent: facebookexternalua\r\n"
                      "X-Hub-Signature-256: sha256=%s\r\n"
                      "Content-Length: %d\r\n\r\n" % (
                          self.wh_path, self.wh_host, self.wh_port, sig,
                          len(body))).encode() + body)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            k, sep, v = line.partition(":")
            if sep:
                headers[k.strip().lower()] = v.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0],
                           16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            raise ConnectionResetError("closed by the server")
        return status

    async def poster(self):
        conn = None
        while True:
            items, now = self.take_due()
            if not items:
                self.wake.clear()
                nxt = min((q[0][0] for q in self.due if q), default=None)
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=(
                        max(0.001, nxt - now) if nxt else 1.0))
                except asyncio.TimeoutError:
                    pass
                continue
            lag = (now - min(i[4] for i in items)) * 1000
            self.stats["lag_last_ms"] = lag
            self.stats["lag_max_ms"] = max(self.stats["lag_max_ms"], lag)
            body = json.dumps(self.payload(items), separators=(",", ":"),
                              ensure_ascii=True).encode()
            for k in (i[1] for i in items):
                self.stats["statuses_posted"][STATUSES[k]] += 1
            self.stats["posts"] += 1
            try:
                if conn is None:
                    conn = await asyncio.open_connection(self.wh_host,
                                                         self.wh_port)
                status = await self.post_one(conn, body)
            except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                self.stats["post_errors"] += 1
                self.stats["last_failure"] = repr(e)[:200]
                if conn is not None:
                    conn[1].close()
                conn = None
                status = None
            if status == 200:
                for k in (i[1] for i in items):
                    self.stats["statuses_ok"][STATUSES[k]] += 1
            else:
                # WhatsApp retries what it did not get a 2xx for; counted
                # here and put back to be posted again.
                self.stats["posts_failed"] += 1
                if status is not None:
                    self.stats["last_failure"] = "HTTP %d" % status
                for seq, k, wamid, to, due in items:
                    self.due[k].appendleft((due, seq, wamid, to))
                await asyncio.sleep(0.05)

    async def main(self):
        self.wake = asyncio.Event()
        server = await asyncio.start_server(self.serve_conn, "127.0.0.1",
                                            self.port, backlog=512)
        for _ in range(self.conns):
            asyncio.ensure_future(self.poster())
        print("ready", flush=True)
        async with server:
            await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(Fake().main())
    except KeyboardInterrupt:
        sys.exit(0)
