"""Operations: a password reset with `wadesk user add` ends the user's
sessions; /metrics counts cost the same at any table size."""

import re

import pytest
import requests

from admin_support import Admin
from integ_support import unique_phone, unique_token, user_add



def test_password_reset_ends_the_users_sessions(env, base_url):
    user = "reset-" + unique_token()
    p = user_add(env, user, "first password 1")
    assert p.returncode == 0, p.stderr
    victim, other = Admin(base_url), Admin(base_url)
    try:
        victim.login(user, "first password 1")
        assert victim.get("/admin/").status_code == 200
        # Someone else's session is not touched.
        other.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"])

        p = user_add(env, user, "second password 2")
        assert p.returncode == 0, p.stderr
        assert "1 session(s) ended" in p.stderr

        r = victim.get("/admin/")
        assert r.status_code in (302, 303), r.status_code
        assert "/admin/login" in r.headers["Location"]
        assert other.get("/admin/").status_code == 200
        # The new password works, the old one does not.
        victim.cookies.clear()
        assert victim.login_post(user, "first password 1").status_code != 303
        victim.login(user, "second password 2")
        assert victim.get("/admin/").status_code == 200
    finally:
        victim.close()
        other.close()


def metrics(base_url):
    r = requests.get(base_url + "/metrics", timeout=15)
    assert r.status_code == 200, r.text
    return r.text


def sample(text, name, **labels):
    sel = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    m = re.search(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(sel)),
                  text, re.M)
    return None if m is None else float(m.group(1))


@pytest.fixture
def many_failed(query):
    """1,001 extra failed messages (more than /metrics counts one by one),
    deleted afterwards."""
    receiver = unique_phone()
    query("INSERT INTO messages (direction, sender, receiver, content,"
          " status) SELECT 'outbound', '+15550001111', %s, 'metrics', "
          "'failed' FROM generate_series(1, 1001)", (receiver,))
    yield
    query("DELETE FROM messages WHERE receiver = %s", (receiver,))


def test_metrics_counts_are_capped_and_say_when_estimated(base_url,
                                                          many_failed):
    text = metrics(base_url)
    assert re.search(r"^wadesk_database_up 1$", text, re.M)
    # Past the cap: PostgreSQL's estimate (at least the cap), flagged.
    assert sample(text, "wadesk_messages_estimated",
                  direction="outbound", status="failed") == 1
    assert sample(text, "wadesk_messages", direction="outbound",
                  status="failed") >= 1000
    # Every status has a sample, estimated or not.
    for st in ("queued", "sent", "delivered", "read", "failed"):
        assert sample(text, "wadesk_messages", direction="outbound",
                      status=st) is not None
    assert sample(text, "wadesk_messages", direction="inbound",
                  status="received") is not None
    assert re.search(r"^wadesk_outbox_queued \d+$", text, re.M)
