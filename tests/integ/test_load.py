"""Load without loss (issue 6, item 6).

test_load_20000_sends_64_connections_none_lost_all_read: 20,000
POST /api/send-message/ through nginx over 64 concurrent connections (wrk
with a Lua script that gives every request a unique content and records
every answer; a Python client when wrk is not installed) while the stack's
simulated dispatcher drains them.  Then: no 5xx (every answer a 201), every
201's id exists exactly once and no row of the run exists without a 201, and
within a deadline every message reaches its final status (`read`, with
WADESK_SIM_DELIVER_MS=300 / WADESK_SIM_READ_MS=600) with exactly one `sent`
event and no outbox row left.

Other sessions may write to the same database: the run's rows are found by
a unique tag in their content.
"""

import concurrent.futures
import os
import secrets
import shutil
import signal
import subprocess
import time

import psycopg2
import requests

from integ_support import unique_phone

TOTAL = int(os.environ.get("WADESK_LOAD_TOTAL", "20000"))
CONNECTIONS = 64
WRK_THREADS = 4
SEND_DEADLINE = 40          # seconds for all the sends
FINAL_DEADLINE = 15         # seconds after the last send for every `read`

WRK_SCRIPT = r'''
-- One unique POST per request; every answer's status and id to a file of
-- the thread's own; the thread stops once its quota is answered.
local count = 0
function setup(thread)
	thread:set("tid", count)
	count = count + 1
end

function init(args)
	quota = tonumber(os.getenv("LOAD_QUOTA"))
	tag = os.getenv("LOAD_TAG")
	sender = os.getenv("LOAD_SENDER")
	headers = {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. os.getenv("LOAD_KEY"),
	}
	filler = wrk.format("GET", "/healthz")
	issued = 0
	answered = 0
	-- wrk calls request() once on thread 0 to check it before the run:
	-- that call must not use up a message.
	verify_call = (tid == 0)
	out = io.open(os.getenv("LOAD_DIR") .. "/thread-" .. tid .. ".txt", "w")
end

function request()
	if verify_call then
		verify_call = false
		return filler
	end
	if issued >= quota then
		return filler   -- until the last answers are in; not counted
	end
	issued = issued + 1
	local body = string.format(
	    '{"sender":"%s","receiver":"+4917%d%07d","content":"%s t%d n%d"}',
	    sender, tid, issued, tag, tid, issued)
	return wrk.format("POST", "/api/send-message/", headers, body)
end

function response(status, headers, body)
	if status == 200 then
		return          -- a filler /healthz
	end
	answered = answered + 1
	out:write(status, " ", body:match('"id":(%d+)') or "-", "\n")
	if answered >= quota then
		out:write("DONE\n")
		out:close()
		wrk.thread:stop()
	end
end
'''


def _send_with_wrk(env, tag, sender, workdir):
    script = workdir / "load.lua"
    script.write_text(WRK_SCRIPT)
    quota = TOTAL // WRK_THREADS
    assert quota * WRK_THREADS == TOTAL
    child_env = dict(os.environ, LOAD_QUOTA=str(quota), LOAD_TAG=tag,
                     LOAD_SENDER=sender, LOAD_KEY=env["WADESK_API_KEY"],
                     LOAD_DIR=str(workdir))
    files = [workdir / ("thread-%d.txt" % i) for i in range(WRK_THREADS)]
    proc = subprocess.Popen(
        ["wrk", "-t%d" % WRK_THREADS, "-c%d" % CONNECTIONS,
         "-d%ds" % (SEND_DEADLINE + 5), "--timeout", "30s", "-s", str(script),
         env["WADESK_URL"].rstrip("/") + "/"],
        env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    deadline = time.monotonic() + SEND_DEADLINE
    try:
        while time.monotonic() < deadline:
            if all(f.is_file() and f.read_bytes().endswith(b"DONE\n")
                   for f in files):
                break
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)     # wrk sleeps -d otherwise
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    answers = []
    unfinished = []
    for f in files:
        lines = f.read_text().splitlines() if f.is_file() else []
        if not lines or lines[-1] != "DONE":
            unfinished.append(f.name)
        for line in lines:
            if line == "DONE":
                continue
            status, mid = line.split(" ")
            answers.append((int(status), None if mid == "-" else int(mid)))
    return answers, unfinished, out


def _send_with_python(env, tag, sender):
    url = env["WADESK_URL"].rstrip("/") + "/api/send-message/"
    hdrs = {"Authorization": "Bearer " + env["WADESK_API_KEY"],
            "Content-Type": "application/json"}
    per = TOTAL // CONNECTIONS + 1

    def worker(t):
        out = []
        with requests.Session() as s:
            for n in range(t * per, min(TOTAL, (t + 1) * per)):
                body = ('{"sender":"%s","receiver":"+4917%08d","content":'
                        '"%s n%d"}' % (sender, n, tag, n))
                try:
                    r = s.post(url, data=body, headers=hdrs, timeout=30)
                    mid = r.json().get("id") if r.status_code == 201 else None
                    out.append((r.status_code, mid))
                except requests.RequestException:
                    out.append((0, None))
        return out

    with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as pool:
        answers = [a for part in pool.map(worker, range(CONNECTIONS))
                   for a in part]
    return answers, [], "python client"


def test_load_20000_sends_64_connections_none_lost_all_read(env, tmp_path):
    tag = "ld" + secrets.token_hex(5)
    sender = unique_phone()
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT coalesce(max(id), 0) FROM messages")
    base = cur.fetchone()[0]

    t0 = time.monotonic()
    if shutil.which("wrk"):
        answers, unfinished, out = _send_with_wrk(env, tag, sender, tmp_path)
        client = "wrk -t%d -c%d" % (WRK_THREADS, CONNECTIONS)
    else:
        answers, unfinished, out = _send_with_python(env, tag, sender)
        client = "python, %d threads" % CONNECTIONS
    send_s = time.monotonic() - t0

    statuses = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    ids = [mid for status, mid in answers if status == 201]
    print("\nload: %d answers in %.2f s (%.0f/s, %s): %s" % (
        len(answers), send_s, len(answers) / max(send_s, 1e-9), client,
        statuses))

    # Rows of the run, read at once (the dispatcher keeps working).
    cur.execute("SELECT id, content FROM messages WHERE id > %s AND "
                "strpos(content, %s) > 0", (base, tag))
    rows = cur.fetchall()
    row_ids = [r[0] for r in rows]

    assert not unfinished, "wrk threads did not get all their answers " \
        "within %d s: %s\n%s" % (SEND_DEADLINE, unfinished, out)
    assert not [s for s in statuses if s >= 500], "5xx answers: %s" % statuses
    assert len(answers) == TOTAL, "%d answers for %d requests: %s" % (
        len(answers), TOTAL, statuses)
    assert statuses == {201: TOTAL}, "not every send was a 201: %s" % statuses
    assert None not in ids, "a 201 without an id"
    assert len(set(ids)) == len(ids), "the same id answered twice"
    assert len(row_ids) == len(set(row_ids))
    assert len(set(r[1] for r in rows)) == len(rows), "a content stored twice"
    missing = set(ids) - set(row_ids)
    assert not missing, "%d acknowledged ids not in messages, e.g. %s" % (
        len(missing), sorted(missing)[:10])
    extra = set(row_ids) - set(ids)
    assert not extra, "%d rows of the run without a 201, e.g. %s" % (
        len(extra), sorted(extra)[:10])

    # Every message drained to its final status.
    t1 = time.monotonic()
    deadline = t1 + FINAL_DEADLINE
    while True:
        cur.execute("SELECT status, count(*) FROM messages WHERE id = ANY(%s)"
                    " GROUP BY status", (ids,))
        by_status = dict(cur.fetchall())
        if by_status.get("read", 0) == len(ids) or \
                time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    drain_s = time.monotonic() - t1
    print("load: all %d read %.2f s after the last answer (%.2f s in all)"
          % (by_status.get("read", 0), drain_s, time.monotonic() - t0))
    assert by_status == {"read": len(ids)}, (
        "not every message reached `read` within %d s of the last send: %s"
        % (FINAL_DEADLINE, by_status))

    cur.execute("""
        SELECT m.id, count(e.id) FILTER (WHERE e.status = 'sent')
        FROM messages m LEFT JOIN message_events e ON e.message_id = m.id
        WHERE m.id = ANY(%s) GROUP BY m.id
        HAVING count(e.id) FILTER (WHERE e.status = 'sent') <> 1""", (ids,))
    wrong = cur.fetchall()
    assert not wrong, "%d messages without exactly one 'sent' event, e.g. %s"\
        % (len(wrong), wrong[:10])
    cur.execute("SELECT count(*) FROM outbox WHERE message_id = ANY(%s)",
                (ids,))
    assert cur.fetchone()[0] == 0, "outbox rows left for delivered messages"
    conn.close()
