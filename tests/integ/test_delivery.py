"""Delivery through the stack's own dispatcher and the simulated provider:
queued -> sent -> delivered -> read, once each, with the outbox emptied.

The test stack runs with WADESK_SIM_DELIVER_MS=300 and WADESK_SIM_READ_MS=600
(tests/run-all.sh), so a whole life cycle takes well under two seconds.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests

from fake_cloudapi import cpu_seconds, pid_alive, read_pid, tcp_peer_ports
from integ_support import RFC3339_UTC, json_bytes, unique_phone, unique_token

LIFECYCLE = ["queued", "sent", "delivered", "read"]
RANK = {s: i for i, s in enumerate(LIFECYCLE)}


def _ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _get(api, mid):
    r = api.get("/api/messages/%d/" % mid)
    assert r.status_code == 200, r.text
    return r.json()


def _send(send, receiver=None, content=None):
    r = send({"sender": unique_phone(), "receiver": receiver or unique_phone(),
              "content": content or "Delivery " + unique_token()})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def dispatcher(var_dir):
    """The stack's dispatcher must be running for these tests."""
    pid = read_pid(var_dir / "pids" / "dispatch.pid")
    if not pid_alive(pid):
        pytest.fail("the stack's dispatcher is not running (no live PID in "
                    "%s); start it: sh nginx/stack.sh start %s"
                    % (var_dir / "pids" / "dispatch.pid", var_dir))
    return pid


def test_message_goes_queued_sent_delivered_read(api, send, query,
                                                  dispatcher):
    msg = _send(send)
    mid = msg["id"]
    assert msg["status"] == "queued"
    seen = ["queued"]
    outbox_gone_when_sent = None
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        m = _get(api, mid)
        if m["status"] != seen[-1]:
            seen.append(m["status"])
        if m["status"] != "queued" and outbox_gone_when_sent is None:
            outbox_gone_when_sent = query(
                "SELECT count(*) FROM outbox WHERE message_id = %s",
                (mid,))[0][0] == 0
        if m["status"] == "read":
            break
        time.sleep(0.03)
    assert seen[-1] == "read", "statuses seen within 6 s: %s" % seen
    # What we saw by polling only ever moved forward along the life cycle.
    assert all(s in RANK for s in seen), seen
    assert [RANK[s] for s in seen] == sorted(RANK[s] for s in seen), seen
    assert outbox_gone_when_sent, "the outbox row outlived the send"

    m = _get(api, mid)
    assert m["status"] == "read"
    assert m["error"] is None
    assert m["direction"] == "outbound"
    assert isinstance(m["provider_message_id"], str)
    assert m["provider_message_id"].startswith("sim."), m
    assert len(m["provider_message_id"]) > len("sim.")
    events = m["events"]
    assert [e["status"] for e in events] == LIFECYCLE, events
    for e in events:
        assert RFC3339_UTC.match(e["timestamp"]), e
    stamps = [_ts(e["timestamp"]) for e in events]
    assert stamps == sorted(stamps), events
    assert stamps[0] >= _ts(msg["timestamp"]).replace(microsecond=0)
    assert query("SELECT count(*) FROM outbox WHERE message_id = %s",
                 (mid,))[0][0] == 0


def test_sent_message_shows_its_provider_id_before_it_is_read(api, send,
                                                              dispatcher):
    msg = _send(send)
    deadline = time.monotonic() + 5
    m = msg
    while m["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.02)
        m = _get(api, msg["id"])
    assert m["status"] in ("sent", "delivered", "read"), m
    assert m["provider_message_id"] and \
        m["provider_message_id"].startswith("sim.")
    assert [e["status"] for e in m["events"]][:2] == ["queued", "sent"]


def test_provider_ids_are_unique(api, send, dispatcher, query):
    ids = [_send(send)["id"] for _ in range(5)]
    deadline = time.monotonic() + 6
    rows = []
    while time.monotonic() < deadline:
        rows = query("SELECT id, provider_message_id FROM messages "
                     "WHERE id = ANY(%s) AND provider_message_id IS NOT NULL",
                     (ids,))
        if len(rows) == len(ids):
            break
        time.sleep(0.05)
    assert len(rows) == len(ids), rows
    pids = [r[1] for r in rows]
    assert len(set(pids)) == len(pids), pids
    assert all(p.startswith("sim.") for p in pids), pids


def test_many_concurrent_sends_each_reach_read_exactly_once(env, base_url,
                                                            query,
                                                            dispatcher):
    n = 200
    local = threading.local()
    headers = {"Authorization": "Bearer " + env["WADESK_API_KEY"],
               "Content-Type": "application/json"}
    tag = unique_token("bulk-")

    def one(i):
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        body = json_bytes({"sender": unique_phone(),
                           "receiver": unique_phone(),
                           "content": "%s #%d" % (tag, i)})
        r = s.post(base_url + "/api/send-message/", data=body,
                   headers=headers, timeout=20)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(one, range(n)))
    assert len(set(ids)) == n

    deadline = time.monotonic() + 25
    counts = {}
    while time.monotonic() < deadline:
        counts = dict(query("SELECT status, count(*) FROM messages "
                            "WHERE id = ANY(%s) GROUP BY status", (ids,)))
        if counts.get("read") == n:
            break
        time.sleep(0.2)
    assert counts.get("read") == n, "after 25 s: %s" % counts

    # Every message went through each status exactly once, in order (the
    # table holds what followed "queued", which is the message row itself).
    rows = query("SELECT message_id, array_agg(status ORDER BY id) "
                 "FROM message_events WHERE message_id = ANY(%s) "
                 "GROUP BY message_id", (ids,))
    assert len(rows) == n
    wrong = {mid: seq for mid, seq in rows if list(seq) != LIFECYCLE[1:]}
    assert not wrong, "event sequences that are not %s: %s" % (
        LIFECYCLE, dict(list(wrong.items())[:5]))
    assert query("SELECT count(*) FROM outbox WHERE message_id = ANY(%s)",
                 (ids,))[0][0] == 0
    pids = query("SELECT provider_message_id FROM messages "
                 "WHERE id = ANY(%s)", (ids,))
    assert len({p[0] for p in pids}) == n
    assert all(p[0].startswith("sim.") for p in pids)


def _backend_pid(query, pid, pg_port):
    ports = tcp_peer_ports(pid, pg_port)
    if not ports:
        return None
    rows = query("SELECT pid FROM pg_stat_activity WHERE client_port = "
                 "ANY(%s)", (ports,))
    return rows[0][0] if rows else None


def test_idle_dispatcher_does_not_spin(env, query, dispatcher):
    """With nothing to send, the dispatcher sleeps between sweeps (the
    simulated provider's tick is 100 ms): it and its PostgreSQL backend
    use little CPU.  A busy loop shows up as most of a core."""
    pg_port = int(env.get("WADESK_PG_PORT") or
                  env["WADESK_DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    backend = _backend_pid(query, dispatcher, pg_port)
    if backend is None:
        pytest.skip("cannot find the dispatcher's PostgreSQL backend")
    window = 1.5
    for attempt in range(4):
        # Idle: nothing due and nothing moving (other sessions may be
        # sending; then try again).
        busy = query("SELECT (SELECT count(*) FROM outbox) + (SELECT count(*)"
                     " FROM messages WHERE status IN ('sent', 'delivered')"
                     " AND provider_message_id LIKE 'sim.%%')")[0][0]
        if busy:
            time.sleep(1.0)
            continue
        t0 = time.monotonic()
        c0 = cpu_seconds(dispatcher) + cpu_seconds(backend)
        time.sleep(window)
        c1 = cpu_seconds(dispatcher) + cpu_seconds(backend)
        elapsed = time.monotonic() - t0
        created = query("SELECT count(*) FROM messages WHERE "
                        "created_at > now() - %s * interval '1 second'",
                        (elapsed + 0.5,))[0][0]
        if created:
            time.sleep(1.0)
            continue
        share = (c1 - c0) / elapsed
        assert share < 0.25, (
            "the idle dispatcher (pid %d) and its backend (pid %d) used "
            "%.0f%% of a CPU over %.1f s with an empty outbox: a busy loop"
            % (dispatcher, backend, share * 100, elapsed))
        return
    pytest.skip("the stack never went idle (other sessions are sending)")
