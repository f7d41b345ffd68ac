"""Media both ways (DESIGN.md "Media"): inbound files fetched by the
dispatcher and served byte for byte with safe headers, uploads, sends with
media.

The first half runs against the stack as it is (the simulated provider,
which produces a small real file for any media id).  The second half swaps
the stack's dispatcher for a cloudapi one pointed at the fake Cloud API
(fake_cloudapi.py), which holds media, serves their metadata and bytes and
takes uploads, to check what WhatsApp's side sees and every way a fetch can
fail.
"""

import hashlib
import os
import secrets
import time

import pytest
import requests

from fake_cloudapi import (PHONE_NUMBER_ID, TOKEN, VERSION, FakeCloudAPI,
                           WebhookPoster, read_pid, server_error, stop_pid)
from admin_support import assert_html, escaped
from integ_support import (assert_error, run_cli, unique_phone, unique_token,
                           wait_until)
from test_dispatch_cloudapi import Cloud, _restart_stack_dispatcher

PNG_SIG = b"\x89PNG\r\n\x1a\n"
SANDBOX = "sandbox; default-src 'none'"
MAX_ATTEMPTS = 3
MEDIA_MAX = 64 * 1024


# ------------------------------------------------------------------ helpers

def _payload(frm, item, display="15550001111"):
    return {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": display,
                         "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Media Tester"},
                          "wa_id": frm}],
            "messages": [item]}}]}]}


def _media_item(frm, kind, media_id, **extra):
    obj = {"id": media_id}
    obj.update(extra)
    return {"from": frm, "id": "wamid." + unique_token("m"),
            "timestamp": str(int(time.time())), "type": kind, kind: obj}


def _inbound(webhook, query, kind, media_id=None, **extra):
    """Posts one media item; returns (message id, media id)."""
    frm = unique_phone().lstrip("+")
    item = _media_item(frm, kind, media_id or unique_token("MID"), **extra)
    r = webhook(_payload(frm, item))
    assert r.status_code == 200, r.text
    rows = query("SELECT m.id, m.media_id FROM messages m"
                 " WHERE m.provider_message_id = %s", (item["id"],))
    assert len(rows) == 1 and rows[0][1] is not None, rows
    return rows[0]


def _media_row(query, media_id):
    return query("SELECT status, error, attempts, size, sha256, mime_type"
                 " FROM media WHERE id = %s", (media_id,))[0]


def _wait_media(query, media_id, statuses=("stored", "failed"), timeout=10):
    row = wait_until(lambda: (lambda r: r if r[0] in statuses else None)(
        _media_row(query, media_id)), timeout)
    assert row, "media %d is %s" % (media_id, _media_row(query, media_id))
    return row


def _upload(api, data, ctype, filename=None):
    params = {"filename": filename} if filename is not None else None
    return api.post("/api/media/", data=data, params=params,
                    headers={"Content-Type": ctype})


def _assert_safe_headers(r):
    assert r.headers["Content-Security-Policy"] == SANDBOX
    assert r.headers["X-Content-Type-Options"] == "nosniff"


# ------------------------------------------------- the simulated provider

def test_inbound_image_is_fetched_and_served_exactly(webhook, query, api):
    mid, media_id = _inbound(webhook, query, "image",
                             mime_type="image/jpeg", caption="broken box")
    row = _wait_media(query, media_id)
    assert row[0] == "stored", row
    m = api.get("/api/messages/%d/" % mid).json()
    assert m["type"] == "image"
    assert m["content"] == "[image] broken box"
    media = m["media"]
    assert media == {"id": media_id, "status": "stored",
                     "mime_type": "image/png", "size": row[3],
                     "sha256": row[4], "filename": None,
                     "url": "/api/media/%d" % media_id}
    r = api.get(media["url"])
    assert r.status_code == 200
    assert r.content.startswith(PNG_SIG)
    assert len(r.content) == media["size"]
    assert hashlib.sha256(r.content).hexdigest() == media["sha256"]
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"].startswith("inline;")
    assert r.headers["ETag"] == '"%s"' % media["sha256"]
    _assert_safe_headers(r)
    # The list shows the same object.
    lst = api.get("/api/messages/", params={"contact": m["sender"]}).json()
    assert lst["data"][0]["media"] == media


def test_etag_answers_304_and_head_has_no_body(webhook, query, api):
    _, media_id = _inbound(webhook, query, "image")
    _wait_media(query, media_id)
    r = api.get("/api/media/%d" % media_id)
    etag = r.headers["ETag"]
    r2 = api.get("/api/media/%d" % media_id,
                 headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    assert r2.headers["ETag"] == etag
    r3 = api.get("/api/media/%d" % media_id,
                 headers={"If-None-Match": 'W/"x", ' + etag})
    assert r3.status_code == 304
    r4 = api.get("/api/media/%d" % media_id,
                 headers={"If-None-Match": '"other"'})
    assert r4.status_code == 200 and r4.content == r.content
    h = api.head("/api/media/%d" % media_id)
    assert h.status_code == 200
    assert int(h.headers["Content-Length"]) == len(r.content)


def test_voice_note_and_document_are_downloads(webhook, query, api):
    _, audio = _inbound(webhook, query, "audio",
                        mime_type="audio/ogg; codecs=opus", voice=True)
    _, doc = _inbound(webhook, query, "document", mime_type="text/plain",
                      filename="notes.txt")
    _wait_media(query, audio)
    _wait_media(query, doc)
    r = api.get("/api/media/%d" % audio)
    assert r.headers["Content-Type"] == "audio/ogg"
    assert r.content.startswith(b"OggS")
    assert b"OpusHead" in r.content[:64]
    assert r.headers["Content-Disposition"].startswith("attachment;")
    _assert_safe_headers(r)
    r = api.get("/api/media/%d" % doc)
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-Disposition"] == \
        'attachment; filename="notes.txt"'


def test_unknown_media_and_credentials(api, anon, query, webhook):
    assert_error(api.get("/api/media/999999999999"), 404, "not_found")
    assert_error(anon.get("/api/media/1"), 401, "unauthorized")
    assert_error(anon.post("/api/media/", data=b"x",
                           headers={"Content-Type": "image/png"}),
                 401, "unauthorized")
    # The admin's route wants a session.
    r = anon.get("/admin/media/1", allow_redirects=False)
    assert r.status_code == 303


def test_pending_media_is_not_served(api, query, webhook):
    # Written straight into the table: no dispatcher will fetch it.
    rows = query("INSERT INTO media (direction, status) VALUES"
                 " ('inbound', 'failed') RETURNING id")
    assert_error(api.get("/api/media/%d" % rows[0][0]), 404, "not_found")


def test_upload_answers_201_and_serves_the_same_bytes(api):
    data = secrets.token_bytes(700 * 1024)  # several chunks
    r = _upload(api, data, "application/pdf", filename="Invoice 7 é.pdf")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "mime_type", "size", "sha256", "filename"}
    assert body["mime_type"] == "application/pdf"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["filename"] == "Invoice 7 é.pdf"
    g = api.get("/api/media/%d" % body["id"])
    assert g.status_code == 200 and g.content == data
    assert g.headers["Content-Type"] == "application/pdf"
    cd = g.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="Invoice_7__.pdf"'), cd
    assert "filename*=UTF-8''Invoice%207%20%C3%A9.pdf" in cd
    _assert_safe_headers(g)


def test_upload_refusals(api):
    for ctype in ("image/svg+xml", "text/html", "application/x-sh",
                  "nonsense"):
        assert_error(_upload(api, b"<svg onload=alert(1)/>", ctype), 415,
                     "unsupported_media_type")
    assert_error(api.post("/api/media/", data=b"abc"), 415,
                 "unsupported_media_type")
    assert_error(_upload(api, b"", "image/png"), 422, "validation_failed")
    assert_error(_upload(api, b"x", "image/png", filename="a\x01b"), 400,
                 "invalid_parameter")


def test_upload_over_16_mib_is_413_through_nginx(api):
    r = _upload(api, b"\0" * (16 * 1024 * 1024 + 1), "image/png")
    assert_error(r, 413, "payload_too_large")


def test_html_in_an_allowed_type_never_runs(api):
    """A text/plain upload holding HTML, or a "PNG" holding SVG, is served
    with its declared type, nosniff and the sandbox CSP: never as a
    document of this origin."""
    html = b"<html><script>alert(document.cookie)</script></html>"
    r = _upload(api, html, "text/plain", filename="x.html")
    assert r.status_code == 201
    g = api.get("/api/media/%d" % r.json()["id"])
    assert g.headers["Content-Type"] == "text/plain"
    assert g.headers["Content-Disposition"].startswith("attachment;")
    _assert_safe_headers(g)
    svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"
    r = _upload(api, svg, "image/png")
    g = api.get("/api/media/%d" % r.json()["id"])
    assert g.headers["Content-Type"] == "image/png"
    _assert_safe_headers(g)


def test_send_with_media(api, send, query):
    up = _upload(api, PNG_SIG + secrets.token_bytes(100), "image/png",
                 filename="photo.png").json()
    to = unique_phone()
    r = send({"sender": unique_phone(), "receiver": to,
              "content": "your photo", "media": {"id": up["id"]}})
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["type"] == "image" and m["content"] == "your photo"
    assert m["media"]["id"] == up["id"]
    assert m["media"]["url"] == "/api/media/%d" % up["id"]
    done = wait_until(lambda: api.get("/api/messages/%d/" % m["id"]).json()
                      ["status"] in ("sent", "delivered", "read"), 10)
    assert done
    assert query("SELECT wa_media_id LIKE 'sim.media.%%' FROM media"
                 " WHERE id = %s", (up["id"],))[0][0]
    # Without a caption; a document keeps its type.
    doc = _upload(api, b"%PDF-1.4\n", "application/pdf").json()
    r = send({"sender": unique_phone(), "receiver": to,
              "media": {"id": doc["id"]}})
    assert r.status_code == 201, r.text
    assert r.json()["type"] == "document" and r.json()["content"] == ""


def test_send_with_media_refusals(api, send, query, webhook):
    to = unique_phone()
    audio = _upload(api, b"OggS", "audio/ogg").json()
    assert_error(send({"sender": unique_phone(), "receiver": to,
                       "content": "hi", "media": {"id": audio["id"]}}),
                 422, "validation_failed", "content")
    _, inbound = _inbound(webhook, query, "image")
    for media in ({"id": 999999999999}, {"id": inbound}, {"id": "x"},
                  "abc", {"id": None}):
        assert_error(send({"sender": unique_phone(), "receiver": to,
                           "content": "hi", "media": media}),
                     422, "validation_failed", "media.id")
    # A message without media is untouched by all this.
    r = send({"sender": unique_phone(), "receiver": to, "content": "hi"})
    assert r.status_code == 201 and r.json()["media"] is None


def test_media_purge(env, api, query):
    up = _upload(api, b"old file", "text/plain").json()
    query("UPDATE media SET created_at = now() - interval '40 days'"
          " WHERE id = %s", (up["id"],))
    p = run_cli(env, "media", "purge", "--older-than", "30")
    assert p.returncode == 0, p.stderr
    assert "removed" in p.stdout
    row = _media_row(query, up["id"])
    assert row[0] == "failed" and "retention" in row[1]
    assert query("SELECT count(*) FROM media_chunks WHERE media_id = %s",
                 (up["id"],))[0][0] == 0
    assert_error(api.get("/api/media/%d" % up["id"]), 404, "not_found")
    bad = run_cli(env, "media", "purge", "--older-than", "x")
    assert bad.returncode != 0


def _contact_of(query, mid):
    return query("SELECT contact_id FROM messages WHERE id = %s",
                 (mid,))[0][0]


def test_admin_thread_and_message_page_show_media(webhook, query, admin,
                                                  api):
    mid, image = _inbound(webhook, query, "image", caption="the box")
    _wait_media(query, image)
    cid = _contact_of(query, mid)
    frm = query("SELECT sender FROM messages WHERE id = %s", (mid,))[0][0]
    for kind in ("audio", "document"):
        item = _media_item(frm.lstrip("+"), kind, unique_token("MID"),
                           filename="<b>x</b>.pdf")
        assert webhook(_payload(frm.lstrip("+"), item)).status_code == 200
    # One that never arrives: failed, with its reason.
    item = _media_item(frm.lstrip("+"), "video", unique_token("MID"))
    webhook(_payload(frm.lstrip("+"), item))
    vid = query("SELECT media_id FROM messages WHERE provider_message_id"
                " = %s", (item["id"],))[0][0]
    _wait_media(query, vid)
    query("UPDATE media SET status = 'failed', error = 'gave up <now>'"
          " WHERE id = %s", (vid,))
    wait_until(lambda: query("SELECT count(*) FROM media m JOIN messages g"
                             " ON g.media_id = m.id WHERE g.contact_id = %s"
                             " AND m.status = 'pending'", (cid,))[0][0]
               == 0, 10)
    r = admin.get("/admin/conversations/%d" % cid)
    assert_html(r, 200)
    src = '/admin/media/%d' % image
    assert '<img src="%s" class="media-thumb"' % src in r.text
    assert '<a href="%s" class="media-link">' % src in r.text
    assert "<audio controls" in r.text
    assert escaped("<b>x</b>.pdf") in r.text and "<b>x</b>" not in r.text
    assert "could not be fetched: gave up &lt;now&gt;" in r.text
    assert 'enctype="multipart/form-data"' in r.text
    assert 'type="file"' in r.text
    g = admin.get(src)
    assert g.status_code == 200 and g.content.startswith(PNG_SIG)
    assert g.headers["Content-Security-Policy"] == SANDBOX
    page = admin.get("/admin/messages/%d" % mid)
    assert_html(page, 200)
    assert '<img src="%s"' % src in page.text
    assert_html(admin.get("/admin/media/999999999999"), 404)


def test_admin_sends_a_file_with_multipart(admin, api, query):
    to = unique_phone()
    token = admin.csrf("/admin/messages/new")
    data = PNG_SIG + secrets.token_bytes(512)
    r = admin.post("/admin/messages/new", data={
        "csrf": token, "sender": unique_phone(), "receiver": to,
        "content": "see the photo"},
        files={"file": ("photo <1>.png", data, "image/png")})
    assert r.status_code == 303, r.text[:500]
    mid = int(r.headers["Location"].split("/")[-1].split("?")[0])
    m = api.get("/api/messages/%d/" % mid).json()
    assert m["type"] == "image" and m["content"] == "see the photo"
    assert m["media"]["filename"] == "photo <1>.png"
    assert api.get(m["media"]["url"]).content == data
    # A file alone, no text.
    r = admin.post("/admin/messages/new", data={
        "csrf": token, "sender": unique_phone(), "receiver": to},
        files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 303, r.text[:500]
    # No token in the multipart body: 403, nothing stored.
    n = query("SELECT count(*) FROM media")[0][0]
    r = admin.post("/admin/messages/new", data={
        "sender": unique_phone(), "receiver": to, "content": "x"},
        files={"file": ("a.png", data, "image/png")})
    assert_html(r, 403)
    assert query("SELECT count(*) FROM media")[0][0] == n
    # A type WhatsApp does not take: the form again, with the reason.
    r = admin.post("/admin/messages/new", data={
        "csrf": token, "sender": unique_phone(), "receiver": to,
        "content": "x"},
        files={"file": ("a.svg", b"<svg/>", "image/svg+xml")})
    assert_html(r, 422)
    assert "does not take this kind of file" in r.text
    # Wrong fields keep an accepted file for the next try.
    r = admin.post("/admin/messages/new", data={
        "csrf": token, "sender": unique_phone(), "receiver": "nope",
        "content": "x"},
        files={"file": ("a.png", data, "image/png")})
    assert_html(r, 422)
    assert 'name="media" value="' in r.text
    # A broken multipart body: 400.
    r = admin.post("/admin/messages/new", data=b"--x\r\nfoo",
                   headers={"Content-Type":
                            "multipart/form-data; boundary=x"})
    assert_html(r, 400)


def _workers(var_dir):
    master = int((var_dir / "pids" / "serve.pid").read_text().strip())
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(d))
    return pids


def _hwm_kib(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def test_a_50_mib_file_is_streamed_not_held(api, query, var_dir):
    """Served chunk by chunk: no worker's peak RSS grows by anything like
    the file's size."""
    chunk = 256 * 1024
    n = 200
    sha = hashlib.sha256()
    for g in range(n):
        sha.update(bytes([65 + g % 26]) * chunk)
    media_id = query(
        "WITH d AS (INSERT INTO media (direction, mime_type, size, sha256,"
        " status) VALUES ('outbound', 'video/mp4', %s, %s, 'stored')"
        " RETURNING id) INSERT INTO media_chunks (media_id, seq, data)"
        " SELECT d.id, g, convert_to(repeat(chr(65 + g %% 26), %s),"
        " 'UTF8') FROM d, generate_series(0, %s) g RETURNING media_id",
        (n * chunk, sha.hexdigest(), chunk, n - 1))[0][0]
    workers = _workers(var_dir)
    assert workers
    before = {p: _hwm_kib(p) for p in workers}
    got = hashlib.sha256()
    size = 0
    with api.get("/api/media/%d" % media_id, stream=True, timeout=60) as r:
        assert r.status_code == 200
        assert int(r.headers["Content-Length"]) == n * chunk
        for part in r.iter_content(1 << 20):
            got.update(part)
            size += len(part)
    assert size == n * chunk and got.hexdigest() == sha.hexdigest()
    grew = max(_hwm_kib(p) - before[p] for p in workers if p in before)
    # ASan keeps freed memory in quarantine: only a plain build's RSS
    # says what the code holds.
    if "build-san" not in os.environ.get("WADESK_BIN", ""):
        assert grew < 16 * 1024, "a worker's peak RSS grew by %d KiB" % grew
    query("DELETE FROM media WHERE id = %s", (media_id,))


# --------------------------------------------- the Cloud API (the fake)

@pytest.fixture(scope="module")
def cloud(env, var_dir, base_url):
    pid_file = var_dir / "pids" / "dispatch.pid"
    log_dir = var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    fake = FakeCloudAPI(token=TOKEN, phone_number_id=PHONE_NUMBER_ID)
    poster = WebhookPoster(base_url, env["WADESK_APP_SECRET"])
    c = Cloud(env, fake, log_dir / "dispatch-media.log", poster)
    try:
        fake.start()
        stop_pid(read_pid(pid_file))
        c.start(WADESK_MEDIA_MAX_BYTES=str(MEDIA_MAX),
                WADESK_MAX_ATTEMPTS=str(MAX_ATTEMPTS))
        yield c
    finally:
        try:
            c.close()
        finally:
            fake.stop()
            poster.close()
            _restart_stack_dispatcher(env, var_dir)


def _cloud_inbound(cloud, query, kind, media_id, **extra):
    frm = unique_phone().lstrip("+")
    item = _media_item(frm, kind, media_id, **extra)
    r = cloud.post.post(_payload(frm, item))
    assert r.status_code == 200, r.text
    rows = query("SELECT id, media_id FROM messages"
                 " WHERE provider_message_id = %s", (item["id"],))
    return rows[0]


def test_cloud_inbound_image_document_and_voice(cloud, query, api):
    png = PNG_SIG + secrets.token_bytes(3000)
    ogg = b"OggS" + secrets.token_bytes(5000)
    pdf = b"%PDF-1.7\n" + secrets.token_bytes(9000)
    for kind, data, mime in (("image", png, "image/png"),
                             ("audio", ogg, "audio/ogg"),
                             ("document", pdf, "application/pdf")):
        wa_id = unique_token("W")
        cloud.fake.add_media(wa_id, data, mime)
        mid, media_id = _cloud_inbound(cloud, query, kind, wa_id,
                                       mime_type=mime)
        row = _wait_media(query, media_id)
        assert row[0] == "stored", (row, cloud.log_tail())
        g = api.get("/api/media/%d" % media_id)
        assert g.content == data and g.headers["Content-Type"] == mime
        reqs = [r for (what, i, r) in cloud.fake.media_requests
                if i == wa_id]
        assert [r.path.split("/")[1] for r in reqs] == [VERSION,
                                                        "media-bytes"]
        assert all(r.headers["authorization"] == "Bearer " + TOKEN
                   for r in reqs)
        assert api.get("/api/messages/%d/" % mid).json()["media"][
            "status"] == "stored"


def test_cloud_svg_document_is_served_as_an_attachment(cloud, query, api):
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)" \
          b"</script></svg>"
    wa_id = unique_token("W")
    cloud.fake.add_media(wa_id, svg, "image/svg+xml")
    _, media_id = _cloud_inbound(cloud, query, "document", wa_id,
                                 mime_type="image/svg+xml",
                                 filename="drawing.svg")
    assert _wait_media(query, media_id)[0] == "stored"
    g = api.get("/api/media/%d" % media_id)
    assert g.content == svg
    assert g.headers["Content-Type"] == "application/octet-stream"
    assert g.headers["Content-Disposition"] == \
        'attachment; filename="drawing.svg"'
    _assert_safe_headers(g)


def test_cloud_sha256_mismatch_fails_with_reason(cloud, query, api):
    wa_id = unique_token("W")
    cloud.fake.add_media(wa_id, b"real bytes", "image/jpeg",
                         sha256="0" * 64)
    mid, media_id = _cloud_inbound(cloud, query, "image", wa_id)
    row = _wait_media(query, media_id)
    assert row[0] == "failed" and "sha256 mismatch" in row[1], row
    assert row[2] == 1, "a mismatch is not retried"
    m = api.get("/api/messages/%d/" % mid).json()
    assert m["status"] == "received" and m["media"]["status"] == "failed"
    assert "error" not in m["media"]
    assert_error(api.get("/api/media/%d" % media_id), 404, "not_found")


def test_cloud_oversize_fails_without_reading_it(cloud, query):
    big = secrets.token_bytes(MEDIA_MAX + 1)
    stated = unique_token("W")
    cloud.fake.add_media(stated, big, "video/mp4")
    _, media_id = _cloud_inbound(cloud, query, "video", stated)
    row = _wait_media(query, media_id)
    assert row[0] == "failed" and "WADESK_MEDIA_MAX_BYTES" in row[1], row
    assert cloud.fake.media_served(stated) == 0
    # Not stated: cut off once past the limit.
    unstated = unique_token("W")
    cloud.fake.add_media(unstated, big * 4, "video/mp4", state_size=False)
    _, media_id = _cloud_inbound(cloud, query, "video", unstated)
    row = _wait_media(query, media_id)
    assert row[0] == "failed" and "WADESK_MEDIA_MAX_BYTES" in row[1], row
    assert query("SELECT count(*) FROM media_chunks WHERE media_id = %s",
                 (media_id,))[0][0] == 0


def test_cloud_unknown_id_fails_after_retries(cloud, query):
    _, media_id = _cloud_inbound(cloud, query, "image", unique_token("NO"))
    row = _wait_media(query, media_id, timeout=20)
    assert row[0] == "failed", row
    assert row[2] == MAX_ATTEMPTS and "gave up" in row[1], row


def test_cloud_redirect_to_another_host_is_refused(cloud, query):
    wa_id = unique_token("W")
    port = cloud.fake.port
    cloud.fake.add_media(wa_id, b"x" * 10, "image/png",
                         redirect="http://localhost:%d/media-bytes/%s"
                         % (port, wa_id))
    _, media_id = _cloud_inbound(cloud, query, "image", wa_id)
    row = _wait_media(query, media_id, timeout=20)
    assert row[0] == "failed" and "another host" in row[1], row


def test_cloud_send_uploads_once_and_retries_reuse_the_id(cloud, api, send,
                                                          query):
    data = PNG_SIG + secrets.token_bytes(2048)
    up = _upload(api, data, "image/png", filename="receipt.png").json()
    to = unique_phone()
    cloud.fake.script(to, server_error())       # the first send fails
    r = send({"sender": unique_phone(), "receiver": to,
              "content": "your receipt", "media": {"id": up["id"]}})
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    got = cloud.fake.wait_requests(to, 2, 15)
    assert len(got) == 2, (got, cloud.log_tail())
    uploads = [u for u in cloud.fake.uploads
               if u.parts.get("file", (None, None, b""))[2] == data]
    assert len(uploads) == 1, uploads
    u = uploads[0]
    assert not u.problems, u.problems
    assert u.rec.path == "/%s/%s/media" % (VERSION, PHONE_NUMBER_ID)
    assert u.parts["messaging_product"][2] == b"whatsapp"
    assert u.parts["type"][2] == b"image/png"
    assert u.parts["file"][0] == "receipt.png"
    assert u.parts["file"][1] == "image/png"
    for rec in got:
        assert not rec.problems, rec.problems
        assert rec.json["type"] == "image"
        assert rec.json["image"] == {"id": u.id, "caption": "your receipt"}
    m = wait_until(lambda: (lambda m: m if m["status"] == "sent" else None)(
        api.get("/api/messages/%d/" % mid).json()), 10)
    assert m, cloud.log_tail()
    assert query("SELECT wa_media_id FROM media WHERE id = %s",
                 (up["id"],))[0][0] == u.id


def test_cloud_document_send_carries_its_filename(cloud, api, send):
    up = _upload(api, b"%PDF-1.4 invoice", "application/pdf",
                 filename="invoice-42.pdf").json()
    to = unique_phone()
    r = send({"sender": unique_phone(), "receiver": to,
              "media": {"id": up["id"]}})
    assert r.status_code == 201, r.text
    got = cloud.fake.wait_requests(to, 1, 10)
    assert got and got[0].json["type"] == "document", cloud.log_tail()
    doc = got[0].json["document"]
    assert doc["filename"] == "invoice-42.pdf" and "caption" not in doc
