"""A fake receiver of wadesk's events (outbound webhooks) for the tests: a
small threaded HTTP server on 127.0.0.1 that records every request (path,
headers, raw body, arrival time) and answers what a test scripted: a status,
optionally after a delay (a slow or hanging endpoint).

    rx = FakeReceiver().start()
    rx.script((500, 0), (200, 0))   # the first two answers, then default
    rx.default = (200, 0)
    rx.url                          # http://127.0.0.1:PORT/hook
    rx.wait(lambda reqs: len(reqs) >= 2, timeout=10)
    rx.stop()
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Received:
    def __init__(self, path, headers, body, status):
        self.path = path
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.at = time.monotonic()
        self.status = status

    def json(self):
        return json.loads(self.body)

    @property
    def webhook_id(self):
        return self.headers.get("webhook-id")


class FakeReceiver:
    def __init__(self, path="/hook"):
        self.path = path
        self.default = (200, 0.0)
        self.location = None    # a Location header for 3xx answers
        self._script = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.requests = []
        self.arrived = 0        # requests read, answered or not yet
        self._server = None
        self._thread = None

    def script(self, *answers):
        with self._lock:
            self._script.extend(answers)

    def _next(self):
        with self._lock:
            return self._script.pop(0) if self._script else self.default

    def _record(self, r):
        with self._cond:
            self.requests.append(r)
            self._cond.notify_all()

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, the
            # body waits for the client's delayed ACK (40 ms).
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with fake._cond:
                    fake.arrived += 1
                    fake._cond.notify_all()
                status, delay = fake._next()
                if delay:
                    time.sleep(delay)
                fake._record(Received(self.path, dict(self.headers), body,
                                      status))
                out = b"{}"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(out)))
                    if fake.location and 300 <= status < 400:
                        self.send_header("Location", fake.location)
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d%s" % (self._server.server_address[1],
                                          self.path)

    def snapshot(self):
        with self._lock:
            return list(self.requests)

    def wait(self, predicate, timeout=10.0):
        """Waits until predicate(requests) is true; returns the requests
        (the last snapshot when the time ran out)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                reqs = list(self.requests)
                if predicate(reqs):
                    return reqs
                left = deadline - time.monotonic()
                if left <= 0:
                    return reqs
                self._cond.wait(min(left, 0.1))

    def wait_arrived(self, n, timeout=10.0):
        """Waits until n requests have arrived (a slow answer may still be
        on its way); True when they did."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.arrived < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
