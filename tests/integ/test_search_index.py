"""The search index kept off the write path (sql/019): the dispatcher fills
message_search within about a second, a search finds a message before that,
and a message whose transaction commits late is never left out."""

import time

import psycopg2

from integ_support import unique_phone, unique_token


def _ids(api, q):
    r = api.get("/api/messages/", params={"q": q})
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["data"]]


def _in_table(query, mid, timeout=5.0):
    """Whether message mid gets into message_search within timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if query("SELECT EXISTS (SELECT 1 FROM message_search WHERE id = %s)",
                 (mid,))[0][0]:
            return True
        time.sleep(0.05)
    return False


def _indexed(query, mid, timeout=5.0):
    """Seconds until message mid is in message_search and below upto."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if query("SELECT EXISTS (SELECT 1 FROM message_search WHERE id = %s)"
                 " AND (SELECT upto FROM search_progress) >= %s",
                 (mid, mid))[0][0]:
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def test_a_sent_message_is_found_at_once_and_indexed_within_a_second(
        api, send, query):
    tok = unique_token("findme")
    r = send({"sender": "+15550001111", "receiver": unique_phone(),
              "content": "Parcel %s left the depot" % tok.upper()})
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    # Found at once, indexed or not (the newest messages are read directly).
    assert _ids(api, tok) == [mid]
    took = _indexed(query, mid)
    assert took is not None, "not indexed within 5 s"
    assert took < 1.5, "indexed after %.2f s" % took
    doc = query("SELECT doc FROM message_search WHERE id = %s", (mid,))[0][0]
    assert tok in doc and tok.upper() not in doc
    # And found through the index the same way.
    assert _ids(api, tok) == [mid]
    assert _ids(api, tok.upper()) == [mid]


def test_an_inbound_message_is_indexed_too(api, webhook, query):
    tok = unique_token("inb")
    r = webhook({"sender": unique_phone(), "content": "Where is " + tok})
    assert r.status_code == 200, r.text
    mid = query("SELECT id FROM messages WHERE content = %s",
                ("Where is " + tok,))[0][0]
    assert _ids(api, tok) == [mid]
    assert _indexed(query, mid) is not None
    assert _ids(api, tok) == [mid]


def test_a_message_committed_late_is_not_left_out(api, send, env, query):
    """A message whose id is below others' but commits after them (a long
    transaction) is indexed once it commits: progress never passes it."""
    tok = unique_token("late")
    slow = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    try:
        with slow.cursor() as cur:
            cur.execute("INSERT INTO messages (direction, sender, receiver,"
                        " content, status) VALUES ('inbound', %s, 'Me', %s,"
                        " 'received') RETURNING id",
                        (unique_phone(), "late " + tok))
            late = cur.fetchone()[0]
        # Newer messages commit and get indexed meanwhile.
        newer = []
        for i in range(3):
            r = send({"sender": "+15550001111", "receiver": unique_phone(),
                      "content": "after %s %d" % (tok, i)})
            assert r.status_code == 201, r.text
            newer.append(r.json()["id"])
        for mid in newer:
            assert _in_table(query, mid)
        time.sleep(1.2)
        upto = query("SELECT upto FROM search_progress")[0][0]
        assert upto < late, "progress passed a message still in flight"
        slow.commit()
    finally:
        slow.close()
    assert _ids(api, "late " + tok) == [late]
    assert _indexed(query, late) is not None, "the late message never got in"
    assert query("SELECT upto FROM search_progress")[0][0] >= max(newer)
    assert _ids(api, "late " + tok) == [late]


def test_a_deleted_message_leaves_the_search(api, query):
    tok = unique_token("gone")
    mid = query("INSERT INTO messages (direction, sender, receiver, content,"
                " status) VALUES ('inbound', %s, 'Me', %s, 'received')"
                " RETURNING id", (unique_phone(), "gone " + tok))[0][0]
    assert _indexed(query, mid) is not None
    query("DELETE FROM messages WHERE id = %s", (mid,))
    assert query("SELECT count(*) FROM message_search WHERE id = %s",
                 (mid,))[0][0] == 0
    assert _ids(api, tok) == []
