"""Fixtures for the black-box integration tests of a running wadesk stack.

The stack's settings come from the dev.env file named by WADESK_ENV_FILE
(default: var/test/dev.env under the repository root), as written by
`nginx/stack.sh start var/test`.
"""

import os
from pathlib import Path

import psycopg2
import pytest
import requests

from admin_support import Admin
from integ_support import (BINARY, CREATED_SECRETS, DEFAULT_ENV_FILE,
                           json_bytes, key_hash, read_env_file, run_cli, sign)

REQUIRED = ("WADESK_URL", "WADESK_DATABASE_URL", "WADESK_API_KEY",
            "WADESK_APP_SECRET", "WADESK_VERIFY_TOKEN")
TIMEOUT = 15


@pytest.fixture(scope="session")
def env():
    given = os.environ.get("WADESK_ENV_FILE")
    path = Path(given).resolve() if given else DEFAULT_ENV_FILE
    if not path.is_file():
        pytest.exit("integration tests: %s does not exist; start the stack "
                    "first (sh nginx/stack.sh start var/test)" % path,
                    returncode=2)
    values = read_env_file(path)
    missing = [k for k in REQUIRED if not values.get(k)]
    if missing:
        pytest.exit("integration tests: %s lacks %s" % (path,
                    ", ".join(missing)), returncode=2)
    values.setdefault("WADESK_VAR", str(path.parent))
    values["_ENV_FILE"] = str(path)
    return values


@pytest.fixture(scope="session")
def base_url(env):
    return env["WADESK_URL"].rstrip("/")


@pytest.fixture(scope="session")
def var_dir(env):
    return Path(env["WADESK_VAR"])


@pytest.fixture(scope="session")
def log_dir(var_dir):
    return var_dir / "log"


class _Session(requests.Session):
    """A requests session with the stack's base URL and a default timeout."""

    def __init__(self, base_url, headers=None):
        super().__init__()
        self.base_url = base_url
        if headers:
            self.headers.update(headers)

    def request(self, method, url, **kw):
        if url.startswith("/"):
            url = self.base_url + url
        kw.setdefault("timeout", TIMEOUT)
        return super().request(method, url, **kw)


@pytest.fixture(scope="session")
def api(env, base_url):
    """Authenticated with the stack's API key."""
    s = _Session(base_url,
                 {"Authorization": "Bearer " + env["WADESK_API_KEY"]})
    yield s
    s.close()


@pytest.fixture
def admin(env, base_url):
    """A logged-in admin client of the pages (its own session)."""
    a = Admin(base_url)
    a.login(env["WADESK_ADMIN_USER"], env["WADESK_ADMIN_PASSWORD"])
    yield a
    a.close()


@pytest.fixture(scope="session")
def anon(base_url):
    """No credentials."""
    s = _Session(base_url)
    yield s
    s.close()


@pytest.fixture
def db(env):
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def query(db):
    """query(sql, params) -> list of row tuples."""
    def run(sql, params=()):
        with db.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    return run


@pytest.fixture
def count_rows(query):
    """count_rows(table, where="TRUE", params=()) -> int."""
    def count(table, where="TRUE", params=()):
        return query("SELECT count(*) FROM %s WHERE %s" % (table, where),
                     params)[0][0]
    return count


@pytest.fixture(scope="session")
def sign_body(env):
    """sign_body(bytes) -> the X-Hub-Signature-256 header value."""
    return lambda body: sign(env["WADESK_APP_SECRET"], body)


@pytest.fixture(scope="session")
def send(api):
    """send(payload, session=api, headers=None) -> POST /api/send-message/.
    payload: a dict (sent as JSON), raw bytes or an iterator of bytes
    (sent chunked)."""
    def post(payload, session=None, headers=None):
        # dict: sent as JSON; bytes or an iterator of bytes: sent as is.
        body = json_bytes(payload) if isinstance(payload, dict) else payload
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return (session or api).post("/api/send-message/", data=body,
                                     headers=h)
    return post


@pytest.fixture(scope="session")
def webhook(anon, sign_body):
    """webhook(payload, signed=True, headers=None) -> POST /api/webhook/."""
    def post(payload, signed=True, headers=None):
        body = payload if isinstance(payload, (bytes, bytearray)) \
            else json_bytes(payload)
        h = {"Content-Type": "application/json"}
        if signed:
            h["X-Hub-Signature-256"] = sign_body(body)
        h.update(headers or {})
        return anon.post("/api/webhook/", data=body, headers=h)
    return post


@pytest.fixture(scope="session")
def make_api_key(env):
    """make_api_key(name) -> (key, id): a new key from `wadesk apikey create`.
    Keys still active at the end of the session are revoked."""
    if not BINARY.is_file():
        pytest.fail("%s is missing: run make" % BINARY)
    created = []

    def create(name):
        p = run_cli(env, "apikey", "create", name)
        assert p.returncode == 0, p.stderr
        key = p.stdout.strip()
        assert key, "apikey create printed no key"
        CREATED_SECRETS.append(key)
        conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id FROM api_keys WHERE key_hash = %s",
                            (key_hash(key),))
                row = cur.fetchone()
        finally:
            conn.close()
        assert row is not None, "the new key is not in api_keys"
        created.append(row[0])
        return key, row[0]

    yield create
    for key_id in created:
        run_cli(env, "apikey", "revoke", str(key_id))
