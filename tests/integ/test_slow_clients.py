"""Clients that read their answer very slowly must not take the worker pool.

nginx takes the whole answer from the worker (in memory or in a temporary
file) and feeds the slow client itself, so the worker is free at once.
"""

import os
import socket
import threading
import time

import pytest

from integ_support import unique_phone

# 4,096 characters, nearly all U+0001, which JSON writes as \u0001: about
# 24 KB per message, 5 MB for a page of 200 (more than the kernel's socket
# buffers and nginx's in-memory buffers hold together).
CONTENT = "slow reader " + "\x01" * 4084
PAGE = 200


def pool_size(var_dir):
    """The number of workers of the stack's pool (children of the master)."""
    try:
        master = (var_dir / "pids" / "serve.pid").read_text().strip()
        kids = open("/proc/%s/task/%s/children" % (master, master)).read()
        n = len(kids.split())
        if n > 0:
            return n
    except OSError:
        pass
    return 4 * (os.cpu_count() or 1)


class SlowReader(threading.Thread):
    """Sends one GET and then reads one byte every two seconds, with a
    small receive buffer so that the kernel does not read ahead for it."""

    def __init__(self, host, port, request):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(30)
        self.sock.connect((host, port))
        self.sock.sendall(request)
        self.stop = threading.Event()
        self.got = b""

    def run(self):
        try:
            while not self.stop.is_set():
                b = self.sock.recv(1)
                if not b:
                    break
                self.got += b
                self.stop.wait(2)
        except OSError:
            pass

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.fixture(scope="module")
def big_page(api):
    """200 long messages to one customer: a list of them is about 5 MB."""
    receiver = unique_phone()
    for _ in range(PAGE):
        r = api.post("/api/send-message/", json={
            "sender": unique_phone(), "receiver": receiver,
            "content": CONTENT})
        assert r.status_code == 201, r.text
    path = "/api/messages/?limit=%d&contact=%s" % (PAGE,
                                                    receiver.lstrip("+"))
    r = api.get(path)
    assert r.status_code == 200 and len(r.json()["data"]) == PAGE
    assert len(r.content) > 4500 * 1024
    return path


def test_slow_readers_do_not_take_the_workers(env, api, big_page, var_dir):
    host, port = "127.0.0.1", int(env["WADESK_HTTP_PORT"])
    request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
               "Authorization: Bearer %s\r\n\r\n" % (
                   big_page, host, port, env["WADESK_API_KEY"])).encode()
    readers = [SlowReader(host, port, request)
               for _ in range(2 * pool_size(var_dir))]
    try:
        for r in readers:
            r.start()
        # Let every slow request reach a worker and its answer start.
        time.sleep(2)
        for _ in range(3):
            r = api.get("/api/messages/?limit=1", timeout=5)
            assert r.status_code == 200, r.text
            assert len(r.json()["data"]) == 1
        # The slow readers are still being served, a byte at a time.
        assert all(r.is_alive() for r in readers)
        assert all(r.got.startswith(b"HTTP/1.1 200") for r in readers
                   if len(r.got) >= 12)
    finally:
        for r in readers:
            r.close()
