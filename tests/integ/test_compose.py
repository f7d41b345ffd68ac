"""docker-compose.yml: a valid Compose file with no default secrets and the
FastCGI port closed to everything but nginx.

The file is read with python3-yaml (always installed by tests/deps.sh);
Debian's `docker-compose config` (the docker-compose package, which needs
no Docker engine) also validates it and checks that it refuses to start
without the secrets.
"""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from integ_support import ROOT

yaml = pytest.importorskip("yaml")

COMPOSE = ROOT / "docker-compose.yml"
SECRETS = ("WADESK_APP_SECRET", "WADESK_VERIFY_TOKEN", "WADESK_PG_PASSWORD")
PLACEHOLDERS = ("change-me", "changeme", "wadesk-dev-password")


@pytest.fixture(scope="module")
def text():
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(text):
    return yaml.safe_load(text)


def compose_config(**env):
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("the docker-compose command is not installed")
    child = {k: v for k, v in os.environ.items()
             if not k.startswith("WADESK_")}
    child.update(env)
    # An empty --env-file: a developer's own .env must not fill the gaps.
    with tempfile.NamedTemporaryFile(suffix=".env") as empty:
        return subprocess.run([exe, "-f", str(COMPOSE), "--env-file",
                               empty.name, "config"], cwd=str(ROOT),
                              env=child, capture_output=True, text=True,
                              timeout=60)


def test_compose_file_is_valid_with_the_secrets_set():
    p = compose_config(WADESK_APP_SECRET="a" * 64, WADESK_VERIFY_TOKEN="b" * 32,
                       WADESK_PG_PASSWORD="c" * 48)
    assert p.returncode == 0, p.stderr or p.stdout
    assert "a" * 64 in p.stdout and "c" * 48 in p.stdout


@pytest.mark.parametrize("missing", SECRETS)
def test_compose_refuses_to_start_without_a_secret(missing):
    env = {k: "x" * 40 for k in SECRETS if k != missing}
    p = compose_config(**env)
    assert p.returncode != 0, p.stdout
    assert missing in p.stderr, p.stderr


@pytest.mark.parametrize("name", SECRETS)
def test_every_secret_is_required_without_default(text, name):
    uses = re.findall(r"\$\{%s([^}]*)\}" % name, text)
    assert uses, "%s is not used" % name
    for u in uses:
        assert u.startswith(":?"), "${%s%s} has a default" % (name, u)


def test_no_placeholder_secret_anywhere(text):
    low = text.lower()
    for p in PLACEHOLDERS:
        assert p not in low, p


def test_fastcgi_is_not_published_and_only_nginx_may_connect(compose):
    app = compose["services"]["app"]
    nginx = compose["services"]["nginx"]
    assert "ports" not in app
    env = app["environment"]
    host, _, port = env["WADESK_SOCKET"].rpartition(":")
    # Not every interface (":9000", "0.0.0.0:9000"), but the app's own
    # address on the internal network.
    assert host not in ("", "0.0.0.0", "*", "::")
    nets = compose["networks"]
    fcgi_nets = [n for n, c in app["networks"].items()
                 if c and c.get("ipv4_address") == host]
    assert fcgi_nets, "the app does not listen on one of its networks"
    net = fcgi_nets[0]
    assert nets[net].get("internal") is True
    # libfcgi accepts only nginx's address on it.
    nginx_addr = nginx["networks"][net]["ipv4_address"]
    assert env["FCGI_WEB_SERVER_ADDRS"] == nginx_addr
    assert "%s:%s" % (host, port) in " ".join(nginx["command"])


def test_database_is_on_an_internal_network_only(compose):
    pg = compose["services"]["postgres"]
    assert "ports" not in pg
    nets = compose["networks"]
    assert pg["networks"] and all(nets[n].get("internal") is True
                                  for n in pg["networks"])
