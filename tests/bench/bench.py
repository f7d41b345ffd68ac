#!/usr/bin/python3
"""make bench: the stack against the machine's own limits, in one run.

Starts a private stack (var/bench, its own ports, a fresh database), then
measures, each for BENCH_SECONDS (default 10) with wrk:
  1. the limits: pgbench -M prepared running exactly the send route's SQL
     (T_db) and GET /healthz through nginx and the pool (T_fcgi); the
     composed limit of a write L = 1 / (1/T_db + 1/T_fcgi);
  2. the routes: send-message, both webhook shapes, the list and one message;
  3. scale: 1,000,000 messages loaded by SQL, then list / status / contact /
     search through the API, p50 and p95 over 200 requests each;
  4. the dispatcher draining 50,000 queued messages with the simulator;
  5. memory: each worker's RSS after warm-up and after BENCH_MEM_REQUESTS;
  6. events: sends with no event endpoint, then with one endpoint receiving
     every type (the events the triggers write), then a dispatcher
     delivering that backlog to a local receiver (events per second);
  7. media served and fetched;
  8. the lifecycle (BENCH_LIFECYCLE_SECONDS, default 30): sends while a
     cloudapi dispatcher delivers them to a fake Cloud API
     (fake_lifecycle.py) that posts signed sent/delivered/read status
     webhooks back through nginx; completions (messages read) per second
     against the composed limit of the same statements in pgbench, the
     backlog, sends alone for comparison, CPU per process.
Prints one table and writes it as Markdown to var/bench/results.md.  Any
non-2xx answer in a run is printed loudly.  Durability stays on.
"""

import ast
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import psycopg2
import psycopg2.extras
import requests

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests" / "integ"))
from admin_support import Admin  # noqa: E402  (the tests' admin client)
VAR = ROOT / "var" / "bench"
BIN = ROOT / "build" / "wadesk"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
THREADS = 2
MEM_REQUESTS = int(os.environ.get("BENCH_MEM_REQUESTS", "1000000"))
SCALE_ROWS = int(os.environ.get("BENCH_SCALE_ROWS", "1000000"))
DRAIN = int(os.environ.get("BENCH_DRAIN", "50000"))
PORTS = {"WADESK_HTTP_PORT": os.environ.get("BENCH_HTTP_PORT", "28080"),
         "WADESK_PG_PORT": os.environ.get("BENCH_PG_PORT", "54349")}

rows = []          # the result table
loud = []          # every run with errors


def sh(*args, env=None, check=True, **kw):
    e = dict(os.environ)
    e.update(PORTS)
    if env:
        e.update(env)
    return subprocess.run(args, env=e, check=check, cwd=str(ROOT), **kw)


def load_env():
    out = {}
    for line in (VAR / "dev.env").read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            # stack.sh quotes the database URL for the shell.
            out[k] = v[1:-1] if v[:1] == v[-1:] == "'" and len(v) > 1 else v
    return out


def pgbin(name):
    cands = sorted(Path("/usr/lib/postgresql").glob("*/bin/" + name))
    return str(cands[-1]) if cands else name


def wrk_start(script, path, conns, env=None, seconds=SECONDS):
    """wrk in the background (its Popen); wrk_finish reads its result."""
    e = dict(os.environ)
    e.update(PORTS)
    e.update({"BENCH_DIR": str(HERE), "BENCH_THREADS": str(THREADS)})
    e.update(env or {})
    url = ENV["WADESK_URL"] + path
    return subprocess.Popen(
        ["wrk", "-t%d" % THREADS, "-c%d" % conns, "-d%ds" % seconds,
         "--latency", "-s", str(HERE / script), url], env=e, cwd=str(ROOT),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wrk_finish(p, path, conns, label=None):
    out, err = p.communicate()
    if p.returncode != 0:
        sys.exit("bench: wrk failed:\n" + out[-1500:] + err[-1500:])
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    r = json.loads(line)
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    errs = (r["status_errors"] + r["connect"] + r["read"] + r["write"]
            + r["timeout"])
    r["errors"] = errs
    if errs:
        loud.append("%s c=%d: %d errors (status %d, connect %d, read %d, "
                    "write %d, timeout %d)" % (label or path, conns, errs,
                    r["status_errors"], r["connect"], r["read"],
                    r["write"], r["timeout"]))
    return r


def wrk(script, path, conns, env=None, seconds=SECONDS, label=None):
    return wrk_finish(wrk_start(script, path, conns, env, seconds), path,
                      conns, label)


def row(name, conns, rps, p50_ms, p99_ms, errors, limit, note=""):
    rows.append({"route": name, "conns": conns, "rps": rps, "p50": p50_ms,
                 "p99": p99_ms, "errors": errors,
                 "ratio": (rps / limit) if (limit and rps) else None,
                 "note": note})


def count(cur, table, where="true"):
    cur.execute("SELECT count(*) FROM %s WHERE %s" % (table, where))
    return cur.fetchone()[0]


TS_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


def pgbench(script_text, clients, defines, per_script=None):
    """TPS and mean latency of script_text, or of a weighted mix when it is
    a list of (text, weight): then per_script (a list) receives each
    script's own TPS, in order."""
    scripts = script_text if isinstance(script_text, list) else \
        [(script_text, None)]
    args = [pgbin("pgbench"), "-n", "-M", "prepared", "-c", str(clients),
            "-j", str(THREADS), "-T", str(SECONDS)]
    for i, (text, weight) in enumerate(scripts):
        f = VAR / ("pgbench%s.sql" % (i or ""))
        f.write_text(text)
        args += ["-f", str(f) + ("" if weight is None else "@%d" % weight)]
    args += ["-h", "127.0.0.1", "-p", PORTS["WADESK_PG_PORT"], "-U", "wadesk"]
    for k, v in dict(defines, tsfmt=TS_FORMAT).items():
        args += ["-D", "%s=%s" % (k, v)]
    args.append("wadesk")
    # TCP logins need the password (the one in WADESK_DATABASE_URL).
    pw = urllib.parse.urlsplit(ENV["WADESK_DATABASE_URL"]).password or ""
    p = sh(*args, capture_output=True, text=True, check=False,
           env={"PGPASSWORD": urllib.parse.unquote(pw)})
    m = re.search(r"tps = ([0-9.]+) \(without initial", p.stdout)
    if m is None:
        sys.exit("bench: pgbench failed:\n" + p.stdout[-1500:] +
                 p.stderr[-1500:])
    lat = re.search(r"latency average = ([0-9.]+) ms", p.stdout)
    if per_script is not None:
        per_script.extend(float(x) for x in re.findall(
            r"SQL script \d+:.*\n - weight: .*\n - \d+ transactions "
            r"\(.*tps = ([0-9.]+)\)", p.stdout))
    return float(m.group(1)), float(lat.group(1)) if lat else None


# The inbound statement's parameters a plain text message leaves NULL: $4
# WhatsApp's id, $5 its time, $6 the profile name, $8-$10 the BSUID, its
# parent and the username, $11 the type, $12 the raw item, $13 the id it
# replies to, $14 the business number (looked up by the receiver).
INBOUND_NULLS = {"$%d" % n: "NULL"
                 for n in (4, 5, 6, 8, 9, 10, 11, 12, 13, 14)}


def sql_of(name, mapping):
    text = subprocess.run([str(BIN), "sql", name], capture_output=True,
                          text=True, check=True).stdout.strip()
    for k in sorted(mapping, key=len, reverse=True):
        text = text.replace(k, mapping[k])
    # pgbench reads ":MI" in the timestamp format as a variable: pass the
    # format as one (the same work for the server).
    text = text.replace("'%s'" % TS_FORMAT, ":tsfmt")
    return text + ";\n"


def worker_pids():
    master = int((VAR / "pids" / "serve.pid").read_text())
    return master, sorted(children(master))


def rss_kib(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def signed_bodies(path, n, secret):
    """n Cloud API payloads, 3 messages each with unique ids."""
    key = secret.encode()
    with open(path, "w") as f:
        for i in range(n):
            msgs = [{"from": "3460%07d" % ((i * 3 + k) % CUSTOMERS),
                     "id": "wamid.bench.%d.%d" % (i, k),
                     "timestamp": str(1767225600 + i), "type": "text",
                     "text": {"body": "bench message %d/%d" % (i, k)}}
                    for k in range(3)]
            body = json.dumps({"object": "whatsapp_business_account",
                               "entry": [{"id": "WABA", "changes": [{
                                   "field": "messages", "value": {
                                       "messaging_product": "whatsapp",
                                       "metadata": {
                                           "display_phone_number":
                                               "15550001111",
                                           "phone_number_id": "1"},
                                       "contacts": [{"profile": {
                                           "name": "Bench"},
                                           "wa_id": msgs[0]["from"]}],
                                       "messages": msgs}}]}]},
                              separators=(",", ":"))
            sig = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
            f.write(sig + "\t" + body + "\n")


# Inbound messages come from this many customers, as real traffic does: one
# customer writing hundreds of messages a second would measure that one
# contact's row instead.
CUSTOMERS = 10000


def signed_simple_bodies(path, n, secret):
    """n simple webhook bodies from CUSTOMERS customers in turn."""
    key = secret.encode()
    with open(path, "w") as f:
        for i in range(n):
            body = json.dumps({"sender": "+3460%07d" % (i % CUSTOMERS),
                               "content": "a customer writes %d" % i},
                              separators=(",", ":"))
            sig = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
            f.write(sig + "\t" + body + "\n")


CLOUD_DRAIN = int(os.environ.get("BENCH_CLOUD_DRAIN", "20000"))
CLOUD_CONCURRENCY = os.environ.get("BENCH_CLOUD_CONCURRENCY", "32")
FAKE = """
import sys, time
sys.path.insert(0, sys.argv[1])
from fake_cloudapi import FakeCloudAPI
f = FakeCloudAPI().start()
print(f.port, flush=True)
time.sleep(1e9)
"""


# The fake Cloud API holding n media ids BM0.. of size bytes each.
FAKE_MEDIA = """
import sys, time
sys.path.insert(0, sys.argv[1])
from fake_cloudapi import FakeCloudAPI
f = FakeCloudAPI().start()
data = bytes(range(256)) * (int(sys.argv[3]) // 256)
for i in range(int(sys.argv[2])):
    f.add_media("BM%d" % i, data, "image/jpeg")
print(f.port, flush=True)
time.sleep(1e9)
"""
MEDIA_FETCHES = int(os.environ.get("BENCH_MEDIA_FETCHES", "500"))
MEDIA_FETCH_SIZE = 256 * 1024


def queue(cur, n, tag):
    cur.execute("""
        WITH m AS (INSERT INTO messages (direction, sender, receiver,
                content, status)
            SELECT 'outbound', '+15550001111', '+3461' || lpad(g::text, 7,
                '0'), %s || g, 'queued'
            FROM generate_series(1, %s) g RETURNING id)
        INSERT INTO outbox (message_id) SELECT id FROM m""", (tag, n))


def drain_cloud(cur, n, dispatchers):
    """n queued messages through the fake Cloud API (its own process, so
    it does not share this one's interpreter lock).  Returns the rate, the
    seconds and the fake's CPU share (1.0 = one core: near it, the fake
    and not the dispatcher is what bounds the rate)."""
    def cpu(pid):
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")

    fake = subprocess.Popen([sys.executable, "-c", FAKE,
                             str(ROOT / "tests" / "integ")],
                            stdout=subprocess.PIPE, text=True)
    procs = []
    try:
        port = int(fake.stdout.readline())
        queue(cur, n, "cloud drain ")
        env = dict(os.environ, **{k: v for k, v in ENV.items()})
        env.update(WADESK_PROVIDER="cloudapi",
                   WADESK_CLOUDAPI_BASE_URL="http://127.0.0.1:%d" % port,
                   WADESK_CLOUDAPI_VERSION="v27.0",
                   WADESK_PHONE_NUMBER_ID="110000000000001",
                   WADESK_CLOUDAPI_TOKEN="test-token",
                   WADESK_DISPATCH_CONCURRENCY=CLOUD_CONCURRENCY,
                   WADESK_DISPATCH_BATCH=CLOUD_CONCURRENCY)
        start = time.time()
        fake_cpu = cpu(fake.pid)
        for _ in range(dispatchers):
            procs.append(subprocess.Popen([str(BIN), "dispatch"], env=env,
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        while count(cur, "outbox") > 0 and time.time() - start < 600:
            time.sleep(0.2)
        took = time.time() - start
        fake_cpu = (cpu(fake.pid) - fake_cpu) / took
        failed = count(cur, "messages",
                       "status = 'failed' AND content LIKE 'cloud drain %%'")
        if failed:
            loud.append("fake Cloud API drain: %d messages failed" % failed)
        cur.execute("DELETE FROM messages WHERE content LIKE "
                    "'cloud drain %%'")
        return n / took, took, fake_cpu
    finally:
        stop_all(procs, fake)


def stop_all(procs, fake):
    """A run's dispatchers stopped (SIGTERM: each finishes its batch), then
    its fake WhatsApp."""
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=30)
    fake.kill()
    fake.wait()


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def timed_gets(session, path, n=200):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = session.get(ENV["WADESK_URL"] + path, timeout=30,
                        allow_redirects=False)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            loud.append("%s: HTTP %d" % (path, r.status_code))
    return pct(out, 0.5), pct(out, 0.95)


def admin_session():
    """A logged-in session of the admin pages, as the tests log in."""
    s = Admin(ENV["WADESK_URL"])
    s.login(ENV["WADESK_ADMIN_USER"], ENV["WADESK_ADMIN_PASSWORD"])
    return s


def machine():
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    pgv = subprocess.run([pgbin("postgres"), "--version"],
                         capture_output=True, text=True).stdout.strip()
    ngv = subprocess.run(["/usr/sbin/nginx", "-v"], capture_output=True,
                         text=True).stderr.strip()
    return "%s, %d cores, %.0f GiB; %s; %s" % (cpu, os.cpu_count(),
                                             int(mem) / 1048576, pgv, ngv)


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table():
    head = ("| route | conns | req/s | p50 ms | p99 ms | errors | "
            "ratio to limit | note |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
    body = "".join(
        "| %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
            r["route"], r["conns"] or "-", fmt(r["rps"], ",.0f"),
            fmt(r["p50"], ".2f"), fmt(r["p99"], ".2f"),
            "-" if r["errors"] is None else r["errors"],
            fmt(r["ratio"], ".2f"), r["note"]) for r in rows)
    return head + body


def main():
    global ENV
    os.environ.update(PORTS)
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is missing (make bench installs it)")
    sh("sh", "nginx/stack.sh", "reset", str(VAR), capture_output=True)
    sh("sh", "nginx/stack.sh", "start", str(VAR))
    try:
        ENV = load_env()
        run()
    finally:
        sh("sh", "nginx/stack.sh", "stop", str(VAR), check=False)


def want(section):
    """BENCH_ONLY=limits,routes,scale,dispatch,memory,events,media,
    lifecycle runs a subset."""
    only = os.environ.get("BENCH_ONLY")
    return not only or section in only.split(",")


def run():
    db = psycopg2.connect(ENV["WADESK_DATABASE_URL"])
    db.autocommit = True
    cur = db.cursor()
    # The HTTP runs measure the service alone: the dispatcher is stopped
    # (it is measured on its own below).
    dpid = int((VAR / "pids" / "dispatch.pid").read_text())
    os.kill(dpid, 15)
    key = ENV["WADESK_API_KEY"]
    auth = "Authorization: Bearer " + key
    key_hash = hashlib.sha256(key.encode()).hexdigest()

    t_db = t_fcgi = limit = None
    mid = 1
    if want("limits") or want("routes"):
        t_db, t_fcgi, limit = limits(cur, key_hash)
    if want("routes"):
        mid = routes(cur, auth, t_fcgi, limit)
    master, workers = worker_pids()
    warm = {p: rss_kib(p) for p in workers}
    if want("scale"):
        scale(cur, key, mid)
    if want("dispatch"):
        dispatch_runs(cur)
    if want("memory"):
        memory(master, workers, warm)
    if want("events"):
        events_runs(cur, auth)
    if want("media"):
        media(cur, auth)
    if want("lifecycle"):
        lifecycle(cur, auth, key_hash, t_fcgi)
    report()


def events_runs(cur, auth):
    # 6. events to other systems
    import base64
    import secrets
    from fake_receiver import FakeReceiver
    rx = FakeReceiver().start()
    body = VAR / "send-events.json"
    body.write_text(json.dumps({"sender": "+15550001111",
                                "receiver": "+34600111333",
                                "content": "Hello, with events"}))
    hdr = {"BENCH_BODY_FILE": str(body),
           "BENCH_HEADERS": auth + "\nContent-Type: application/json"}
    cur.execute("UPDATE endpoints SET enabled = false WHERE enabled")
    r = wrk("post.lua", "/api/send-message/", 64, env=hdr,
            label="send-message")
    row("POST /api/send-message/ (no event endpoint)", 64, r["rps"],
        r["p50_us"] / 1000, r["p99_us"] / 1000, r["errors"], None,
        "the triggers find no enabled endpoint")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    cur.execute("INSERT INTO endpoints (url, types, secret) VALUES (%s,"
                " ARRAY['message.received', 'message.created',"
                " 'message.updated', 'contact.updated'], %s) RETURNING id",
                (rx.url, secret))
    eid = cur.fetchone()[0]
    before = count(cur, "events")
    r = wrk("post.lua", "/api/send-message/", 64, env=hdr,
            label="send-message")
    row("POST /api/send-message/ (1 event endpoint)", 64, r["rps"],
        r["p50_us"] / 1000, r["p99_us"] / 1000, r["errors"], None,
        "%d events written for %d requests" % (
            count(cur, "events") - before, r["requests"]))
    dispatch = subprocess.Popen([str(BIN), "dispatch"], env=dict(
        os.environ, **{k: v for k, v in ENV.items()}))
    try:
        time.sleep(2)       # connecting, the first claims
        cur.execute("SELECT count(*) FROM deliveries WHERE endpoint_id = %s"
                    " AND state = 'delivered'", (eid,))
        first = cur.fetchone()[0]
        t0 = time.monotonic()
        time.sleep(SECONDS)
        cur.execute("SELECT count(*) FROM deliveries WHERE endpoint_id = %s"
                    " AND state = 'delivered'", (eid,))
        done = cur.fetchone()[0] - first
        took = time.monotonic() - t0
    finally:
        dispatch.terminate()
        dispatch.wait(30)
        cur.execute("UPDATE endpoints SET enabled = false WHERE id = %s",
                    (eid,))
        rx.stop()
    row("events delivered to a local receiver", 1, done / took, None, None,
        None, None, "one endpoint: one signed POST in flight at a time "
        "(its order kept)")


def limits(cur, key_hash):
    # 1. the limits
    # $4 contact id (none), $5 the receiver as a phone, $6 as a BSUID.
    send_sql = sql_of("send-keyed", {"$1": ":s", "$2": ":r", "$3": ":c",
                                     "$4": "NULL", "$5": ":r", "$6": "NULL",
                                     "$7": ":h"})
    t_db, _ = pgbench(send_sql, 64, {"h": key_hash, "s": "+15550001111",
                                     "r": "+34600111222", "c": "pgbench"})
    row("pgbench: the send route's SQL (T_db)", 64, t_db, None, None, None,
        None, "its one statement (key check + writes), -M prepared")
    fc = wrk("get.lua", "/healthz", 64, label="/healthz")
    t_fcgi = fc["rps"]
    limit = 1 / (1 / t_db + 1 / t_fcgi)
    row("GET /healthz (T_fcgi)", 64, t_fcgi, fc["p50_us"] / 1000,
        fc["p99_us"] / 1000, fc["errors"], None, "nginx + pool, no database")
    row("composed write limit L", None, limit, None, None, None, None,
        "1 / (1/T_db + 1/T_fcgi)")
    for c in (8, 256):
        r = wrk("get.lua", "/healthz", c, label="/healthz")
        row("GET /healthz", c, r["rps"], r["p50_us"] / 1000,
            r["p99_us"] / 1000, r["errors"], t_fcgi)
    return t_db, t_fcgi, limit


def routes(cur, auth, t_fcgi, limit):
    # 2. the routes
    body = VAR / "send.json"
    body.write_text(json.dumps({"sender": "+15550001111",
                                "receiver": "+34600111222",
                                "content": "Hello from the benchmark"}))
    hdr = {"BENCH_BODY_FILE": str(body),
           "BENCH_HEADERS": auth + "\nContent-Type: application/json"}
    for c in (8, 64, 256):
        before = count(cur, "messages")
        r = wrk("post.lua", "/api/send-message/", c, env=hdr,
                label="send-message")
        made = count(cur, "messages") - before
        row("POST /api/send-message/", c, r["rps"], r["p50_us"] / 1000,
            r["p99_us"] / 1000, r["errors"], limit,
            "%d rows for %d requests" % (made, r["requests"]))

    simple = VAR / "simple-bodies.tsv"
    signed_simple_bodies(simple, int(max(20000, t_fcgi * SECONDS * 0.6)),
                         ENV["WADESK_APP_SECRET"])
    before = count(cur, "messages")
    r = wrk("bodies.lua", "/api/webhook/", 64, label="webhook simple",
            env={"BENCH_BODIES": str(simple)})
    made = count(cur, "messages") - before
    # The sender: one of CUSTOMERS customers at random.
    customer = "('+3460' || lpad(CAST(:k AS text), 7, '0'))"
    inbound_sql = "\\set k random(0, %d)\n" % (CUSTOMERS - 1) + sql_of(
        "inbound", dict(INBOUND_NULLS, **{
            "$1": customer, "$2": ":r", "$3": ":c", "$7": customer}))
    t_in, _ = pgbench(inbound_sql, 64, {"r": "Me", "c": "pgbench"})
    l_in = 1 / (1 / t_in + 1 / t_fcgi)
    row("pgbench: the simple webhook's SQL", 64, t_in, None, None, None,
        None, "limit %.0f req/s with T_fcgi" % l_in)
    row("POST /api/webhook/ (simple)", 64, r["rps"], r["p50_us"] / 1000,
        r["p99_us"] / 1000, r["errors"], l_in,
        "%d rows for %d requests" % (made, r["requests"]))

    n_bodies = int(max(20000, t_fcgi * SECONDS * 0.6))
    bodies = VAR / "cloud-bodies.tsv"
    signed_bodies(bodies, n_bodies, ENV["WADESK_APP_SECRET"])
    cloud_sql = "BEGIN;\n" + "".join(
        "\\set n%d random(1, 1000000000000)\n"
        "\\set k%d random(0, %d)\n" % (k, k, CUSTOMERS - 1)
        for k in range(3)) + \
        "".join(sql_of("inbound", dict(INBOUND_NULLS, **{
            "$1": customer.replace(":k", ":k%d" % k), "$2": ":r",
            "$3": ":c", "$4": ":n%d" % k, "$5": ":t", "$6": ":name",
            "$7": customer.replace(":k", ":k%d" % k)})) for k in range(3)) + \
        "COMMIT;\n"
    t_cloud, _ = pgbench(cloud_sql, 64, {"r": "+15550001111", "c": "x",
                                         "t": "1767225600", "name": "B"})
    l_cloud = 1 / (1 / t_cloud + 1 / t_fcgi)
    row("pgbench: the Cloud batch's SQL (3 messages)", 64, t_cloud, None,
        None, None, None, "limit %.0f req/s with T_fcgi" % l_cloud)
    before = count(cur, "messages")
    r = wrk("bodies.lua", "/api/webhook/", 64, label="webhook cloud",
            env={"BENCH_BODIES": str(bodies)})
    made = count(cur, "messages") - before
    row("POST /api/webhook/ (Cloud, 3 msgs)", 64, r["rps"],
        r["p50_us"] / 1000, r["p99_us"] / 1000, r["errors"], l_cloud,
        "%d rows for %d requests (%d unique bodies)" % (made, r["requests"],
                                                        n_bodies))

    hdr_get = {"BENCH_HEADERS": auth}
    r = wrk("get.lua", "/api/messages/?limit=50", 64, env=hdr_get,
            label="list")
    row("GET /api/messages/?limit=50", 64, r["rps"], r["p50_us"] / 1000,
        r["p99_us"] / 1000, r["errors"], t_fcgi)
    cur.execute("SELECT max(id) FROM messages")
    mid = cur.fetchone()[0]
    r = wrk("get.lua", "/api/messages/%d/" % mid, 64, env=hdr_get,
            label="one message")
    row("GET /api/messages/{id}/", 64, r["rps"], r["p50_us"] / 1000,
        r["p99_us"] / 1000, r["errors"], t_fcgi)
    return mid


def media(cur, auth):
    """A 1 MiB image served at 64 connections (streamed from the database
    256 KiB at a time), the workers' RSS afterwards, and one cloudapi
    dispatcher fetching MEDIA_FETCHES files of 256 KiB from the fake."""
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(1024 * 1024 - 8)
    r = requests.post(ENV["WADESK_URL"] + "/api/media/", data=data,
                      headers={"Authorization": auth.split(": ", 1)[1],
                               "Content-Type": "image/png"}, timeout=60)
    r.raise_for_status()
    path = "/api/media/%d" % r.json()["id"]
    r = wrk("get.lua", path, 64, env={"BENCH_HEADERS": auth},
            label="media 1 MiB")
    row("GET /api/media/{id} (1 MiB)", 64, r["rps"], r["p50_us"] / 1000,
        r["p99_us"] / 1000, r["errors"], None,
        "%.0f MiB/s" % (r["rps"]))
    _, workers = worker_pids()
    worst = max(rss_kib(p) for p in workers) / 1024
    row("worker RSS after media", None, None, None, None, None, None,
        "largest %.1f MiB" % worst)
    fake = subprocess.Popen([sys.executable, "-c", FAKE_MEDIA,
                             str(ROOT / "tests" / "integ"),
                             str(MEDIA_FETCHES), str(MEDIA_FETCH_SIZE)],
                            stdout=subprocess.PIPE, text=True)
    proc = None
    try:
        port = int(fake.stdout.readline())
        cur.execute("INSERT INTO media (direction, wa_media_id)"
                    " SELECT 'inbound', 'BM' || g"
                    " FROM generate_series(0, %s) g", (MEDIA_FETCHES - 1,))
        env = dict(os.environ, **{k: v for k, v in ENV.items()})
        env.update(WADESK_PROVIDER="cloudapi",
                   WADESK_CLOUDAPI_BASE_URL="http://127.0.0.1:%d" % port,
                   WADESK_CLOUDAPI_VERSION="v27.0",
                   WADESK_PHONE_NUMBER_ID="110000000000001",
                   WADESK_CLOUDAPI_TOKEN="test-token")
        start = time.time()
        proc = subprocess.Popen([str(BIN), "dispatch"], env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        where = "wa_media_id LIKE 'BM%%' AND status = 'pending'"
        while count(cur, "media", where) > 0 and time.time() - start < 600:
            time.sleep(0.1)
        took = time.time() - start
        stored = count(cur, "media", "wa_media_id LIKE 'BM%%' AND "
                       "status = 'stored'")
        if stored != MEDIA_FETCHES:
            loud.append("media fetch: %d of %d stored" % (stored,
                                                          MEDIA_FETCHES))
        row("dispatcher: fetch %d files of 256 KiB (fake Cloud API)"
            % MEDIA_FETCHES, None, stored / took, None, None, None, None,
            "%.1f s, %.0f MiB/s, 1 dispatcher" % (
                took, stored * MEDIA_FETCH_SIZE / took / 1048576))
        cur.execute("DELETE FROM media WHERE wa_media_id LIKE 'BM%%'")
    finally:
        stop_all([proc] if proc is not None else [], fake)


def scale(cur, key, mid):
    # 3. scale
    cur.execute("SELECT count(*) FROM messages")
    have = cur.fetchone()[0]
    t0 = time.time()
    if have < SCALE_ROWS:
        cur.execute("""
            INSERT INTO messages (direction, sender, receiver, content,
                status, created_at)
            SELECT CASE WHEN g %% 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                '+3460' || lpad((g %% 50000)::text, 7, '0'), '+15550001111',
                'message ' || g || ' about order ' || (g %% 9973) ||
                CASE WHEN g %% 1000 = 0 THEN ' refund please' ELSE '' END,
                (ARRAY['queued','sent','delivered','read','failed',
                       'received'])[1 + g %% 6],
                now() - (g || ' seconds')::interval
            FROM generate_series(1, %s) g""", (SCALE_ROWS - have,))
        # What one does after a bulk load (autovacuum would, a little later).
        cur.execute("VACUUM ANALYZE messages")
    load_s = time.time() - t0
    index_s, indexed = search_catch_up(cur)
    if indexed:
        cur.execute("VACUUM ANALYZE message_search")
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + key
    for name, path in (
            ("list", "/api/messages/?limit=50"),
            ("status filter", "/api/messages/?status=failed&limit=50"),
            ("contact filter", "/api/messages/?contact=%2B34600012345"),
            ("search q=refund", "/api/messages/?q=refund&limit=50"),
            ("search q=order 42", "/api/messages/?q=order%2042&limit=50"),
            ("page 2 (before_id)", "/api/messages/?limit=50&before_id=%d"
             % (mid // 2 + SCALE_ROWS // 2))):
        p50, p95 = timed_gets(s, path)
        row("1M rows: " + name, 1, None, p50, None, None, None,
            "p95 %.2f ms over 200 requests" % p95)
    admin = admin_session()
    # Conversations are addressed by contact id.
    cur.execute("SELECT id FROM contacts WHERE phone = '+34600012345'")
    contact = cur.fetchone()
    for name, path in (
            ("list", "/admin/messages"),
            ("status filter", "/admin/messages?status=failed"),
            ("conversation list", "/admin/conversations/?filter=all"),
            ("contact (conversation)", "/admin/conversations/%d"
             % (contact[0] if contact else 1)),
            ("search q=refund", "/admin/messages?q=refund"),
            ("search q=order 42", "/admin/messages?q=order%2042")):
        p50, p95 = timed_gets(admin, path)
        row("1M rows, admin page: " + name, 1, None, p50, None, None, None,
            "p95 %.2f ms over 200 requests" % p95)
    row("1M rows loaded by SQL", None, None, None, None, None, None,
        "%.1f s" % load_s)
    if indexed:
        row("search index: the load indexed by a dispatcher", None,
            indexed / index_s, None, None, None, None,
            "%d messages in %.1f s" % (indexed, index_s))


def search_catch_up(cur):
    """The dispatcher (stopped for the HTTP runs) fills the search index
    (message_search, sql/019) with what was loaded; back the seconds it
    took and the messages it indexed."""
    cur.execute("SELECT upto FROM search_progress")
    before = cur.fetchone()[0]
    cur.execute("SELECT coalesce(max(id), 0) FROM messages")
    top = cur.fetchone()[0]
    if before >= top:
        return 0.0, 0
    start = time.time()
    dispatch = subprocess.Popen([str(BIN), "dispatch"], env=dict(
        os.environ, **{k: v for k, v in ENV.items()}),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.time() - start < 1800:
            cur.execute("SELECT upto FROM search_progress")
            if cur.fetchone()[0] >= top:
                break
            time.sleep(0.5)
        else:
            loud.append("search index: not caught up in 30 minutes")
    finally:
        dispatch.terminate()
        dispatch.wait(timeout=30)
    took = time.time() - start
    cur.execute("SELECT count(*) FROM message_search WHERE id > %s",
                (before,))
    return took, cur.fetchone()[0]


def dispatch_runs(cur):
    # 4. the dispatcher.  The route runs above queued their sends with the
    # dispatcher stopped: drop that backlog so that exactly DRAIN are timed.
    cur.execute("DELETE FROM outbox")
    cur.execute("""
        WITH m AS (INSERT INTO messages (direction, sender, receiver,
                content, status)
            SELECT 'outbound', '+15550001111', '+3460' || lpad(g::text, 7,
                '0'), 'drain ' || g, 'queued'
            FROM generate_series(1, %s) g RETURNING id)
        INSERT INTO outbox (message_id) SELECT id FROM m""", (DRAIN,))
    start = time.time()
    dispatch = subprocess.Popen([str(BIN), "dispatch"], env=dict(
        os.environ, **{k: v for k, v in ENV.items()},
        WADESK_DISPATCH_BATCH=os.environ.get("BENCH_DISPATCH_BATCH", "64")),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while count(cur, "outbox") > 0 and time.time() - start < 600:
            time.sleep(0.2)
        took = time.time() - start
    finally:
        dispatch.terminate()
        dispatch.wait(timeout=30)
    row("dispatcher: drain %d (simulator)" % DRAIN, None, DRAIN / took,
        None, None, None, None, "%.1f s, 1 dispatcher, batch %s" % (
            took, os.environ.get("BENCH_DISPATCH_BATCH", "64")))
    for n in (1, 2):
        rate, took, fake_cpu = drain_cloud(cur, CLOUD_DRAIN, n)
        row("dispatcher: drain %d (fake Cloud API)" % CLOUD_DRAIN, None,
            rate, None, None, None, None,
            "%.1f s, %d dispatcher(s), concurrency %s, fake at %.0f%% "
            "of a core" % (took, n, CLOUD_CONCURRENCY, 100 * fake_cpu))


def memory(master, workers, warm):
    # 5. memory after many requests
    done = 0
    t0 = time.time()
    while done < MEM_REQUESTS and time.time() - t0 < 300:
        r = wrk("get.lua", "/healthz", 64, seconds=10, label="mem")
        done += r["requests"]
    after = {p: rss_kib(p) for p in workers if Path("/proc/%d" % p).exists()}
    for p in workers:
        if p in after:
            growth = 100.0 * (after[p] - warm[p]) / max(warm[p], 1)
            row("worker %d RSS" % p, None, None, None, None, None, None,
                "%.1f MiB after warm-up, %.1f MiB after %d more requests "
                "(%+.1f %%)" % (warm[p] / 1024, after[p] / 1024, done,
                                growth))
    row("master RSS", None, None, None, None, None, None,
        "%.1f MiB" % (rss_kib(master) / 1024))


# 8. The whole lifecycle of a message, in steady state: sends through the
# API while a cloudapi dispatcher delivers them to a fake Cloud API, which
# answers each with a wamid and then posts signed sent, delivered and read
# status webhooks back through nginx, as WhatsApp does.
LIFE_SECONDS = int(os.environ.get("BENCH_LIFECYCLE_SECONDS", "30"))
FAKE_PORT = os.environ.get("BENCH_FAKE_PORT", "29180")
# Statuses per webhook POST at most (WhatsApp batches them too), and when
# each follows the Cloud API's answer: sent, delivered, read (seconds).
STATUS_BATCH = int(os.environ.get("BENCH_STATUS_BATCH", "10"))
STATUS_DELAYS = os.environ.get("BENCH_STATUS_DELAYS", "0.2,0.5,1.0")
LIFE_DISPATCHERS = int(os.environ.get("BENCH_LIFECYCLE_DISPATCHERS", "1"))
LIFE_LEASE_S = 60
# Customers the sends go to (each with an open 24-hour window).
LIFE_CUSTOMER = "('+3462' || lpad(CAST(:k AS text), 7, '0'))"
PRICING = ('{"pricing":{"billable":true,"pricing_model":"PMP",'
           '"type":"free_customer_service","category":"service"}}')


def stmt_texts():
    """Every statement of app/stmts.c by enum name, as the compiler sees
    it (the preprocessor joins the literals and expands the macros).
    `wadesk sql` names only the request statements; the dispatcher's are
    read from the same source the binary was built from."""
    out = subprocess.run(["cc", "-E", "-P", "-Iapp", "-Ilib",
                          "app/stmts.c"], cwd=str(ROOT), check=True,
                         capture_output=True, text=True).stdout
    body = out[out.index("stmts_sql["):]
    lit = r'"(?:[^"\\\n]|\\.)*"'
    found = {}
    for m in re.finditer(r"\[\s*(STMT_\w+)\s*\]\s*=\s*((?:%s\s*)+)" % lit,
                         body):
        if m.group(1) not in found:
            found[m.group(1)] = "".join(
                ast.literal_eval(x) for x in re.findall(lit, m.group(2)))
    return found


def bind(text, params):
    """Statement text with $n replaced by params[n] (pgbench text)."""
    text = re.sub(r"\$(\d+)\b", lambda m: params[int(m.group(1))], text)
    return text.replace("'%s'" % TS_FORMAT, ":tsfmt") + ";\n"


def life_mix(cur, key_hash, batch, clients):
    """Messages per second through the database alone, for the same
    statements per message as the lifecycle: one pgbench with three
    scripts weighted per message (1 send, 1/batch dispatcher batch,
    3/STATUS_BATCH status webhooks).  Returns (messages/s, the cores
    PostgreSQL used meanwhile, a note)."""
    st = stmt_texts()
    # The send route as the workers run it with the window policy (the
    # cloudapi provider): the key, the sender, the window, the send.
    send = "\\set k random(0, %d)\n" % (CUSTOMERS - 1) + \
        bind(st["STMT_APIKEY_AUTH"], {1: ":h"}) + \
        bind(st["STMT_NUMBER_BY_DISPLAY"], {1: ":s"}) + \
        bind(st["STMT_CONTACT_WINDOW"], {1: "NULL", 2: LIFE_CUSTOMER,
                                         3: "NULL"}) + \
        bind(st["STMT_MSG_SEND"], {1: ":s", 2: LIFE_CUSTOMER, 3: ":c",
                                   4: "NULL", 5: LIFE_CUSTOMER, 6: "NULL",
                                   7: "NULL", 8: "NULL", 9: "NULL",
                                   10: "NULL"})
    # The claim and the record of one batch (the dispatcher commits the
    # claim first and records after its HTTP calls: one commit more per
    # batch than here).  The rows this transaction claimed are those whose
    # lease ends at now() + lease (now() is the transaction's start).
    mine = ("ARRAY(SELECT %s FROM outbox WHERE run_at = now() + "
            "make_interval(secs => %d) ORDER BY message_id)")
    dispatch = "BEGIN;\n" + \
        bind(st["STMT_OUTBOX_CLAIM"], {1: str(batch), 2: str(LIFE_LEASE_S),
                                       3: "false"}) + \
        bind(st["STMT_OUTBOX_SENT"], {
            1: "(%s)" % (mine % ("message_id", LIFE_LEASE_S)),
            2: "(%s)" % (mine % ("'wamid.pg.' || message_id",
                                 LIFE_LEASE_S))}) + "COMMIT;\n"
    # One status webhook: STATUS_BATCH statuses of messages sent a little
    # earlier (from 1,000-3,000 ids back: past the outbox, sent by the script
    # above), sent, delivered and read in turn.
    # The ids ascend within a webhook, so that two never deadlock (the
    # fake sorts its statuses the same way).
    status = "SELECT max(id) AS top FROM messages \\gset\n" + \
        "\\set g0 random(:top - 3000, :top - 1000)\n" + "".join(
            "\\set g%d :g%d + random(1, 20)\n" % (i, i - 1)
            for i in range(1, STATUS_BATCH)) + "BEGIN;\n" + "".join(
        bind(st["STMT_STATUS_APPLY"], {
            1: "('wamid.pg.' || :g%d)" % i,
            2: "'%s'" % ("sent", "delivered", "read")[i % 3],
            3: ":pricing" if i % 3 < 2 else "NULL", 4: ":ts",
            5: "NULL", 6: "NULL"}) for i in range(STATUS_BATCH)) + \
        "COMMIT;\n"
    # What the status script reports on at first: sent messages with the
    # ids the dispatch script gives.
    cur.execute("SELECT coalesce(max(id), 0) FROM messages")
    base = cur.fetchone()[0]
    cur.execute("""
        INSERT INTO messages (direction, sender, receiver, content, status)
        SELECT 'outbound', '+15550001111', '+3462' || lpad(g::text, 7, '0'),
            'lifecycle pool ' || g, 'sent'
        FROM generate_series(0, 4999) g""")
    cur.execute("UPDATE messages SET provider_message_id = 'wamid.pg.' || id"
                " WHERE id > %s", (base,))
    cur.execute("DELETE FROM outbox")
    # What one does after a bulk load (else the first generic plans are
    # made for nearly empty tables).
    cur.execute("ANALYZE")
    # Per message 1 send, 1/batch claims, 3/STATUS_BATCH webhooks; the
    # dispatcher's share a quarter more, so that the outbox stays short
    # (a real dispatcher also claims what there is).
    w_send = batch * STATUS_BATCH
    w_disp = STATUS_BATCH * 5 // 4
    w_status = 3 * batch
    per = []
    groups = cpu_groups({})
    c0, t0 = cpu_take(groups), time.monotonic()
    tps, _ = pgbench([(send, w_send), (dispatch, w_disp),
                      (status, w_status)], clients,
                     {"h": key_hash, "s": "+15550001111", "c": "pgbench",
                      "pricing": PRICING, "ts": "1767225600"}, per)
    took = time.monotonic() - t0
    # pgbench's backends: ended and reaped (or about to be) by now.
    time.sleep(0.5)
    pg_cores = (cpu_take(cpu_groups({})).get("postgres", 0) -
                c0.get("postgres", 0)) / took
    left = count(cur, "outbox")
    cur.execute("SELECT count(*) FROM pending_statuses")
    parked = cur.fetchone()[0]
    cur.execute("DELETE FROM outbox")
    cur.execute("DELETE FROM pending_statuses")
    msgs = per[0] if per else tps * w_send / (w_send + w_disp + w_status)
    return msgs, pg_cores, (
        "weights send %d : dispatch batch of %d %d : webhook of %d "
        "statuses %d; %d left in the outbox, %d statuses parked; postgres "
        "at %.0f %% of a core" % (w_send, batch, w_disp, STATUS_BATCH,
                                  w_status, left, parked, 100 * pg_cores))


def seed_customers(cur):
    """CUSTOMERS customers who wrote a moment ago (their window open), by
    the inbound statement of the binary."""
    text = subprocess.run([str(BIN), "sql", "inbound"], capture_output=True,
                          text=True, check=True).stdout.strip()
    cur.execute("PREPARE bench_inbound AS " + text)
    args = [("+3462%07d" % k, "+15550001111", "hello %d" % k,
             "+3462%07d" % k) for k in range(CUSTOMERS)]
    cur.execute("BEGIN")
    psycopg2.extras.execute_batch(
        cur, "EXECUTE bench_inbound (%s, %s, %s, NULL, NULL, NULL, %s,"
        " NULL, NULL, NULL, NULL, NULL, NULL, NULL)", args, page_size=500)
    cur.execute("COMMIT")
    cur.execute("DEALLOCATE bench_inbound")


def cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    """The PIDs whose parent is pid (from /proc/*/stat)."""
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(p.name))
    return out


def cpu_groups(extra):
    """{name: [pids]} of the stack's processes plus extra."""
    g = dict(extra)
    for name, pidfile in (("nginx", VAR / "pids" / "nginx.pid"),
                          ("workers", VAR / "pids" / "serve.pid"),
                          ("postgres", VAR / "pg" / "postmaster.pid")):
        try:
            top = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        g[name] = [top] + children(top)
    return g


def cpu_take(groups):
    """CPU seconds of each group, with what its first process (the
    parent) reaped: PostgreSQL's backends that ended meanwhile."""
    out = {}
    for k, v in groups.items():
        out[k] = sum(cpu_s(p) for p in v)
        try:
            with open("/proc/%d/stat" % v[0]) as f:
                x = f.read().rsplit(")", 1)[1].split()
            out[k] += (int(x[13]) + int(x[14])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            pass
    return out


def fake_stats():
    return requests.get("http://127.0.0.1:%s/_stats" % FAKE_PORT,
                        timeout=5).json()


def life_counts(cur, base):
    cur.execute("SELECT count(*) FILTER (WHERE status = 'queued'),"
                " count(*) FILTER (WHERE status IN ('sent', 'delivered')),"
                " count(*) FILTER (WHERE status = 'read'),"
                " count(*) FILTER (WHERE status = 'failed')"
                " FROM messages WHERE id > %s AND direction = 'outbound'",
                (base,))
    return cur.fetchone()


def slope(points):
    """Least-squares slope of [(t, y)]."""
    n = len(points)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    d = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (y - my) for t, y in points) / d if d else 0.0


def life_run(cur, conns, seconds, hdr, procs):
    """Sends at conns connections for seconds with the dispatcher and the
    fake at work; samples the backlog every 2 s; then waits for it to
    drain."""
    cur.execute("SELECT coalesce(max(id), 0) FROM messages")
    base = cur.fetchone()[0]
    f0 = fake_stats()
    groups = cpu_groups(procs)
    c0 = cpu_take(groups)
    p = wrk_start("bodies.lua", "/api/send-message/", conns, env=hdr,
                  seconds=seconds)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    samples = []
    while p.poll() is None:
        time.sleep(2)
        if p.poll() is None:
            samples.append((time.monotonic() - t0,) + life_counts(cur, base))
    t1 = time.monotonic()
    c1 = cpu_take(cpu_groups(procs))
    # wrk: the only child reaped meanwhile (by poll()).
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c1["wrk"] = ru1.ru_utime + ru1.ru_stime - ru.ru_utime - ru.ru_stime
    c0["wrk"] = 0.0
    r = wrk_finish(p, "/api/send-message/", conns, label="lifecycle send")
    end = life_counts(cur, base)
    f1 = fake_stats()
    took = t1 - t0
    cpu = {k: 100 * (c1[k] - c0.get(k, 0)) / took for k in c1}
    # Completions: reads per second in steady state (from the first sample
    # at 5 s on: the first second only fills the pipeline) and in all.
    steady = [s for s in samples if s[0] >= 5] or samples
    if len(steady) >= 2:
        done = (end[2] - steady[0][3]) / (took - steady[0][0])
    else:
        done = end[2] / took
    backlog = [(s[0], s[1] + s[2]) for s in steady]
    growth = slope(backlog)
    # Until everything sent during the run is read.
    d0 = time.monotonic()
    left = end
    while (left[0] or left[1]) and time.monotonic() - d0 < 60:
        time.sleep(0.5)
        left = life_counts(cur, base)
    drain = time.monotonic() - d0
    failed = left[3]
    if failed:
        loud.append("lifecycle c=%d: %d messages failed" % (conns, failed))
    if f1["posts_failed"] - f0["posts_failed"]:
        loud.append("lifecycle c=%d: %d status webhooks not answered 200 "
                    "(last: %s)" % (conns, f1["posts_failed"] -
                                    f0["posts_failed"], f1["last_failure"]))
    if f1["bad_requests"] - f0["bad_requests"]:
        loud.append("lifecycle c=%d: the fake refused %d requests" % (
            conns, f1["bad_requests"] - f0["bad_requests"]))
    return {"r": r, "took": took, "done": done, "read": end[2],
            "queued": end[0], "unread": end[1], "growth": growth,
            "samples": samples, "drain": drain, "left": left, "cpu": cpu,
            "fake": {k: (f1[k] - f0[k]) if isinstance(f1[k], int) else f1[k]
                     for k in ("sends", "posts", "lag_max_ms")},
            "statuses": sum(f1["statuses_ok"].values()) -
            sum(f0["statuses_ok"].values())}


def mark(ok):
    return "met" if ok else "MISSED"


def lifecycle(cur, auth, key_hash, t_fcgi):
    global ENV
    from fake_cloudapi import read_pid, stop_pid
    batch = int(CLOUD_CONCURRENCY)
    cloud = {"WADESK_PROVIDER": "cloudapi",
             "WADESK_CLOUDAPI_BASE_URL": "http://127.0.0.1:%s" % FAKE_PORT,
             "WADESK_CLOUDAPI_VERSION": "v27.0",
             "WADESK_PHONE_NUMBER_ID": "110000000000001",
             "WADESK_CLOUDAPI_TOKEN": "test-token",
             # The fake is no WhatsApp: no pace per number (80/s by
             # default, 1,000/s at most at WhatsApp) bounds the run.
             "WADESK_NUMBER_MPS": "100000",
             "WADESK_DISPATCH_CONCURRENCY": CLOUD_CONCURRENCY,
             "WADESK_DISPATCH_BATCH": CLOUD_CONCURRENCY}
    fake = subprocess.Popen(
        [sys.executable, str(HERE / "fake_lifecycle.py")],
        env=dict(os.environ, FAKE_PORT=FAKE_PORT,
                 FAKE_WEBHOOK=ENV["WADESK_URL"] + "/api/webhook/",
                 WADESK_APP_SECRET=ENV["WADESK_APP_SECRET"],
                 FAKE_BATCH=str(STATUS_BATCH), FAKE_DELAYS=STATUS_DELAYS,
                 FAKE_DISPLAY="15550001111"),
        stdout=subprocess.PIPE, text=True)
    dispatchers = []
    try:
        if fake.stdout.readline().strip() != "ready":
            sys.exit("bench: the lifecycle's fake Cloud API did not start")
        # The workers as with WhatsApp: the sender must be a business
        # number and the customer's window open (two lookups per send).
        # This section runs last: the stack keeps these settings.
        stop_pid(read_pid(VAR / "pids" / "serve.pid"))
        if PGSS:
            pgss_enable()
        sh("sh", "nginx/stack.sh", "start", str(VAR), env=cloud,
           capture_output=True)
        stop_pid(read_pid(VAR / "pids" / "dispatch.pid"))
        ENV = load_env()
        # Its own connection (PostgreSQL may have restarted).
        db = psycopg2.connect(ENV["WADESK_DATABASE_URL"])
        db.autocommit = True
        cur = db.cursor()
        seed_customers(cur)
        bodies = VAR / "life-bodies.txt"
        with open(bodies, "w") as f:
            for k in range(CUSTOMERS):
                f.write(json.dumps({
                    "sender": "+15550001111",
                    "receiver": "+3462%07d" % ((k * 7919) % CUSTOMERS),
                    "content": "Your order %d is on its way" % k},
                    separators=(",", ":")) + "\n")
        hdr = {"BENCH_BODIES": str(bodies),
               "BENCH_HEADERS": auth + "\nContent-Type: application/json"}

        if t_fcgi is None:
            t_fcgi = wrk("get.lua", "/healthz", 64, label="/healthz")["rps"]
        # T_mix before and after the HTTP runs (this machine's load
        # drifts): L_life takes their mean.  pgbench runs as many clients
        # as the stack has connections doing this work (its workers and
        # dispatchers): at 64 clients this mix waits on the rows it locks
        # and ran at less than half that rate.
        clients = len(worker_pids()[1]) + LIFE_DISPATCHERS
        mixes = [life_mix(cur, key_hash, batch, clients)]
        row("pgbench: the lifecycle's SQL per message (T_mix), before",
            clients,
            mixes[0][0], None, None, None, None, mixes[0][2])
        http = 1 + 3.0 / STATUS_BATCH

        alone = {}
        for c in (8, 64):
            r = wrk("bodies.lua", "/api/send-message/", c, env=hdr,
                    seconds=SECONDS if c == 8 else LIFE_SECONDS // 2,
                    label="send alone")
            alone[c] = r
            row("POST /api/send-message/ alone (cloudapi workers)", c,
                r["rps"], r["p50_us"] / 1000, r["p99_us"] / 1000,
                r["errors"], None, "no dispatcher; %d customers" % CUSTOMERS)
            # Those stay queued: the runs below count their own.
            cur.execute("DELETE FROM outbox")

        env = dict(os.environ, **ENV)
        env.update(cloud)
        for _ in range(LIFE_DISPATCHERS):
            dispatchers.append(subprocess.Popen(
                [str(BIN), "dispatch"], env=env, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        time.sleep(1)
        procs = {"dispatcher": [d.pid for d in dispatchers],
                 "fake": [fake.pid]}
        runs = []
        for c, secs in ((8, SECONDS), (64, LIFE_SECONDS)):
            runs.append((c, life_run(cur, c, secs, hdr, procs)))
            if c == 8 and PGSS:
                pgss_reset()
        if PGSS:
            pgss_report()
        for d in dispatchers:
            d.terminate()
        for d in dispatchers:
            d.wait(timeout=30)
        dispatchers = []
        mixes.append(life_mix(cur, key_hash, batch, clients))
        row("pgbench: the lifecycle's SQL per message (T_mix), after",
            clients,
            mixes[1][0], None, None, None, None, mixes[1][2])
        t_mix = (mixes[0][0] + mixes[1][0]) / 2
        pg_cores = (mixes[0][1] + mixes[1][1]) / 2
        limit = 1 / (1 / t_mix + http / t_fcgi)
        row("lifecycle limit L_life", None, limit, None, None, None, None,
            "1 / (1/T_mix + %.1f/T_fcgi), T_mix the mean above: per message"
            " 1 send and %.1f status POST; T_fcgi %.0f" % (
                http, 3.0 / STATUS_BATCH, t_fcgi))
        for c, x in runs:
            r = x["r"]
            p50, p99 = r["p50_us"] / 1000, r["p99_us"] / 1000
            lat_ok = p99 <= (5.0 if c == 8 else 3 * p50)
            row("lifecycle: POST /api/send-message/", c, r["rps"], p50, p99,
                r["errors"], alone[c]["rps"],
                "ratio to sends alone (target >= 0.7: %s); p99 %s: %s" % (
                    mark(r["rps"] >= 0.7 * alone[c]["rps"]),
                    "<= 5 ms" if c == 8 else "<= 3 x p50",
                    mark(lat_ok)))
            # Growing: by more than a second of sends over the run (a
            # 10 s run has few samples; its slope alone is noise).
            flat = x["growth"] * x["took"] <= r["rps"]
            # Per core-second of PostgreSQL: the lifecycle against the
            # pgbench mix, whatever share of the machine each one got.
            norm = (x["done"] / max(x["cpu"].get("postgres", 0) / 100,
                                    1e-6)) / (t_mix / max(pg_cores, 1e-6))
            row("lifecycle: read (completions)", c, x["done"], None, None,
                None, limit, "%d read in %.0f s; target >= 0.8 L_life: %s; "
                "per core-second of PostgreSQL %.2f of pgbench's" % (
                    x["read"], x["took"], mark(x["done"] >= 0.8 * limit),
                    norm))
            row("lifecycle: backlog at the end", c, None, None, None, None,
                None, "queued %d, sent not read %d; %+.0f msg/s over the run"
                " (%s); all read %.1f s after the sends stopped%s" % (
                    x["queued"], x["unread"], x["growth"],
                    "too short to judge" if x["took"] < 20 else
                    "flat" if flat else "GROWING", x["drain"],
                    "" if not (x["left"][0] or x["left"][1]) else
                    " (NOT: %d queued, %d unread after 60 s)" % (
                        x["left"][0], x["left"][1])))
            row("lifecycle: CPU, %% of one core (%d cores)"
                % os.cpu_count(), c, None, None,
                None, None, None, "all these %.0f: " % sum(
                    x["cpu"].values()) + ", ".join(
                    "%s %.0f" % (k, v) for k, v in sorted(
                        x["cpu"].items(), key=lambda kv: -kv[1])) +
                "; fake: %d sends answered, %d statuses in %d POSTs, "
                "posting lag up to %.0f ms" % (
                    x["fake"]["sends"], x["statuses"], x["fake"]["posts"],
                    x["fake"]["lag_max_ms"]))
            backlog_trace.append("c=%d: " % c + ", ".join(
                "%.0fs q%d u%d r%d" % s[:4] for s in x["samples"]))
    finally:
        stop_all(dispatchers, fake)


# BENCH_PGSS=1: pg_stat_statements during the 64-connection lifecycle run
# (PostgreSQL restarts once to load it).
PGSS = os.environ.get("BENCH_PGSS") == "1"
backlog_trace = []
notes = []


def psql_admin(sql):
    pgdata = os.path.realpath(str(VAR / "pg"))
    cmd = ["psql", "-X", "-h", pgdata, "-p", PORTS["WADESK_PG_PORT"], "-U",
           "postgres", "-d", "wadesk", "-v", "ON_ERROR_STOP=1", "-tAF",
           " | ", "-c", sql]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, check=True,
                          cwd="/").stdout


def pgss_enable():
    psql_admin("ALTER SYSTEM SET shared_preload_libraries = "
               "'pg_stat_statements'")
    sh("sh", "nginx/stack.sh", "pg", str(VAR), "restart",
       capture_output=True)
    psql_admin("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


def pgss_reset():
    psql_admin("SELECT pg_stat_statements_reset()")


def pgss_report():
    out = psql_admin(
        "SELECT calls, round(total_exec_time::numeric), "
        "round(mean_exec_time::numeric, 3), round(100 * total_exec_time /"
        " sum(total_exec_time) OVER ()), left(regexp_replace(query, "
        "'\\s+', ' ', 'g'), 90) FROM pg_stat_statements "
        "ORDER BY total_exec_time DESC LIMIT 10")
    notes.append("pg_stat_statements, lifecycle at 64 connections (calls |"
                 " total ms | mean ms | %% of time | statement):\n\n" +
                 "".join("    " + l + "\n" for l in out.splitlines()))
    psql_admin("ALTER SYSTEM RESET shared_preload_libraries")


def report():
    text = ("# wadesk benchmark\n\n%s, %s s per run, wrk %d threads; "
            "synchronous_commit and fsync on.\n\n" % (
                machine(), SECONDS, THREADS) + table())
    if backlog_trace:
        text += ("\nLifecycle backlog every 2 s (q queued, u sent not read,"
                 " r read):\n\n" + "".join("- %s\n" % l
                                           for l in backlog_trace))
    for n in notes:
        text += "\n" + n
    if loud:
        text += "\n**Errors:**\n\n" + "".join("- %s\n" % l for l in loud)
    (VAR / "results.md").write_text(text)
    print(text)
    if loud:
        print("\n!!! NON-2xx ANSWERS OR SOCKET ERRORS IN SOME RUNS !!!")
        for l in loud:
            print("!!! " + l)


if __name__ == "__main__":
    main()
