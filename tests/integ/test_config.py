"""Settings that would leave a deployment open stop the program at start.

Each case runs build/wadesk with a hand-made environment.  `serve` is given
a socket in a folder that does not exist, so that a run which gets past the
settings stops at once on the socket instead of serving.
"""

import os
import subprocess

import pytest

from integ_support import BINARY

GOOD_SECRET = "0123456789abcdef" * 4          # 64 bytes
NO_SOCKET = "/nonexistent-wadesk-dir/wadesk.sock"
DB_URL = "postgresql://wadesk:s3cr3t-for-tests@127.0.0.1:1/wadesk"


def run(cmd, **settings):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("WADESK_")}
    env.update({"WADESK_DATABASE_URL": DB_URL, "WADESK_SOCKET": NO_SOCKET,
                "WADESK_WORKERS": "1"})
    env.update(settings)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([str(BINARY)] + cmd.split(), env=env,
                          capture_output=True, text=True, timeout=30)


def stopped_at_the_socket(p):
    """Got past the settings: failed to open the socket (libfcgi says
    "bind/listen" and exits by itself)."""
    return p.returncode != 0 and ("bind/listen" in p.stderr or
                                  "FastCGI socket" in p.stderr)


@pytest.mark.parametrize("secret", [
    "change-me-app-secret", "CHANGE-ME", "changeme-please-0123456789abcdef"])
def test_placeholder_app_secret_is_refused(secret):
    p = run("serve", WADESK_APP_SECRET=secret)
    assert p.returncode == 1, p.stderr
    assert "WADESK_APP_SECRET" in p.stderr and "placeholder" in p.stderr
    assert secret not in p.stderr


def test_short_app_secret_is_refused():
    p = run("serve", WADESK_APP_SECRET="x" * 31)
    assert p.returncode == 1, p.stderr
    assert "WADESK_APP_SECRET must be at least 32 bytes" in p.stderr


def test_placeholder_verify_token_is_refused():
    p = run("serve", WADESK_APP_SECRET=GOOD_SECRET,
            WADESK_VERIFY_TOKEN="change-me-verify-token")
    assert p.returncode == 1, p.stderr
    assert "WADESK_VERIFY_TOKEN" in p.stderr and "placeholder" in p.stderr


@pytest.mark.parametrize("url", [
    "postgresql://wadesk:wadesk-dev-password@127.0.0.1:1/wadesk",
    "postgresql://127.0.0.1:1/wadesk?user=wadesk&password=wadesk-dev-password",
    "host=127.0.0.1 port=1 user=wadesk password=wadesk-dev-password",
])
def test_placeholder_database_password_is_refused(url):
    # Any command: migrate, the CLI and the dispatcher use the URL too.
    p = run("migrate", WADESK_DATABASE_URL=url)
    assert p.returncode == 1, p.stderr
    assert "WADESK_DATABASE_URL" in p.stderr and "placeholder" in p.stderr
    assert "wadesk-dev-password" not in p.stderr


def test_a_real_secret_passes_the_checks():
    p = run("serve", WADESK_APP_SECRET=GOOD_SECRET,
            WADESK_VERIFY_TOKEN="a-random-token-4711")
    assert stopped_at_the_socket(p), p.stderr


def test_the_local_stack_may_use_a_short_secret():
    p = run("serve", WADESK_APP_SECRET="short", WADESK_DEV="1",
            WADESK_DATABASE_URL="postgresql://wadesk:wadesk-dev-password"
                                "@127.0.0.1:1/wadesk")
    assert stopped_at_the_socket(p), p.stderr


def test_the_local_stack_says_it_is_the_local_stack(env):
    """nginx/stack.sh marks its processes as the local stack, and the
    secrets it generates would pass the checks anyway."""
    env_file = open(env["_ENV_FILE"], encoding="utf-8").read()
    assert "WADESK_DEV=1" in env_file.splitlines()
    assert len(env["WADESK_APP_SECRET"]) >= 32


@pytest.mark.parametrize("value,ok", [
    ("auto", True), ("0", True), ("1", True), ("yes", False),
    ("", True)])
def test_cookie_secure_setting(value, ok):
    p = run("serve", WADESK_APP_SECRET=GOOD_SECRET,
            WADESK_COOKIE_SECURE=value)
    if ok:
        assert stopped_at_the_socket(p), p.stderr
    else:
        assert p.returncode == 1
        assert "WADESK_COOKIE_SECURE must be 0, 1 or auto" in p.stderr


@pytest.mark.parametrize("version", [
    "21.0", "V27.0", "v27", "v27.0/", "v27.0?x=1", "v027.0", "latest"])
def test_cloudapi_version_of_another_form_is_refused(version):
    p = run("dispatch", WADESK_PROVIDER="cloudapi",
            WADESK_CLOUDAPI_TOKEN="t", WADESK_PHONE_NUMBER_ID="1",
            WADESK_CLOUDAPI_VERSION=version)
    assert p.returncode == 1, p.stderr
    assert "WADESK_CLOUDAPI_VERSION must be a Graph API version such as " \
        "v27.0" in p.stderr
