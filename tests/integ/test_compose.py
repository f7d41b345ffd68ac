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


def compose_config(*args, **env):
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("the docker-compose command is not installed")
    child = {k: v for k, v in os.environ.items()
             if not k.startswith("WADESK_")}
    child.update(env)
    # An empty --env-file: a developer's own .env must not fill the gaps.
    with tempfile.NamedTemporaryFile(suffix=".env") as empty:
        return subprocess.run([exe, "-f", str(COMPOSE), "--env-file",
                               empty.name] + list(args) + ["config"],
                              cwd=str(ROOT), env=child, capture_output=True,
                              text=True, timeout=60)


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
    # libfcgi accepts only nginx's address on it (and the scale profile's
    # second nginx): every address listed is an nginx container's.
    nginx_addr = nginx["networks"][net]["ipv4_address"]
    allowed = env["FCGI_WEB_SERVER_ADDRS"].split(",")
    assert nginx_addr in allowed
    nginx_addrs = {c["networks"][net]["ipv4_address"]
                   for c in compose["services"].values()
                   if str(c.get("image", "")).startswith("nginx")
                   and net in c.get("networks", {})}
    assert set(allowed) <= nginx_addrs, (allowed, nginx_addrs)
    assert "%s:%s" % (host, port) in " ".join(nginx["command"])


def test_database_is_on_an_internal_network_only(compose):
    pg = compose["services"]["postgres"]
    assert "ports" not in pg
    nets = compose["networks"]
    assert pg["networks"] and all(nets[n].get("internal") is True
                                  for n in pg["networks"])


# ------------------------------------------------------- the scale profile

SCALE = ("postgres-standby", "app-2", "nginx-scale")


def test_the_scale_profile_is_valid_and_adds_its_services():
    secrets = dict(WADESK_APP_SECRET="a" * 64, WADESK_VERIFY_TOKEN="b" * 32,
                   WADESK_PG_PASSWORD="c" * 48)
    plain = compose_config(**secrets)
    scale = compose_config("--profile", "scale", **secrets)
    assert plain.returncode == 0, plain.stderr
    assert scale.returncode == 0, scale.stderr
    services = yaml.safe_load(scale.stdout)["services"]
    assert set(SCALE) <= set(services), sorted(services)
    # Without the profile, `docker compose up` starts what it always did
    # (docker-compose 1.x's config lists every service, with its profiles).
    for name, svc in yaml.safe_load(plain.stdout)["services"].items():
        assert (name in SCALE) == ("scale" in svc.get("profiles", [])), name


def test_the_scale_profile_services_belong_to_it_only(compose):
    for name in SCALE:
        assert compose["services"][name].get("profiles") == ["scale"], name
    for name in ("postgres", "app", "nginx"):
        assert "profiles" not in compose["services"][name], name


def test_the_standby_streams_from_the_primary(compose):
    primary = compose["services"]["postgres"]
    standby = compose["services"]["postgres-standby"]
    pcmd = " ".join(primary["command"])
    # The primary lets the wadesk role replicate (a pg_hba line) and keeps
    # WAL for a standby.
    assert "host replication wadesk all scram-sha-256" in pcmd
    assert "hba_file=" in pcmd and "wal_level=replica" in pcmd
    assert "max_wal_senders=" in pcmd
    scmd = " ".join(standby["command"])
    # A base backup of the primary with its WAL streamed, written as a
    # standby (-R: standby.signal + primary_conninfo), with a slot.
    m = re.search(r"pg_basebackup (.*?)(\|\||;)", scmd)
    assert m, scmd
    args = m.group(1).split()
    assert args[args.index("-h") + 1] == "postgres"
    assert args[args.index("-U") + 1] == "wadesk"
    assert "-R" in args and "stream" in args and "-S" in args
    assert "hot_standby=on" in scmd
    # Its own volume, only the internal database network, no ports, and
    # the password from the environment (required, no default).
    vols = [v.split(":")[0] for v in standby["volumes"]]
    assert vols == ["pgdata-standby"] and "pgdata-standby" in \
        compose["volumes"]
    assert standby["networks"] == ["backend"] and "ports" not in standby
    assert standby["environment"]["PGPASSWORD"].startswith(
        "${WADESK_PG_PASSWORD:?")
    assert standby["depends_on"]["postgres"]["condition"] == \
        "service_healthy"


def test_two_app_containers_behind_one_upstream(compose):
    services = compose["services"]
    apps = [services["app"], services["app-2"]]
    socks = [a["environment"]["WADESK_SOCKET"] for a in apps]
    assert len(set(socks)) == 2, socks
    # The second host runs like the first: same database and secrets.
    for k in ("WADESK_DATABASE_URL", "WADESK_APP_SECRET",
              "WADESK_VERIFY_TOKEN", "FCGI_WEB_SERVER_ADDRS"):
        assert apps[0]["environment"][k] == apps[1]["environment"][k], k
    for a, sock in zip(apps, socks):
        host = sock.rpartition(":")[0]
        assert a["networks"]["fastcgi"]["ipv4_address"] == host
        assert "ports" not in a
    # nginx-scale's upstream: both, each with max_fails/fail_timeout.
    cmd = " ".join(services["nginx-scale"]["command"])
    m = re.search(r"@UPSTREAM@#([^#]*)#", cmd)
    assert m, cmd
    servers = re.findall(r"server (\S+) max_fails=\d+ fail_timeout=\d+s;",
                         m.group(1))
    assert servers == socks, (servers, socks)
    nginx_addr = services["nginx-scale"]["networks"]["fastcgi"][
        "ipv4_address"]
    assert nginx_addr in apps[0]["environment"][
        "FCGI_WEB_SERVER_ADDRS"].split(",")
    # The plain nginx keeps its one upstream.
    plain = re.search(r"@UPSTREAM@#([^#]*)#",
                      " ".join(services["nginx"]["command"])).group(1)
    assert re.findall(r"server (\S+) ", plain) == [socks[0]]


def test_nginx_template_fails_over_only_on_connection_errors():
    conf = (ROOT / "nginx" / "nginx.conf.in").read_text(encoding="utf-8")
    m = re.search(r"upstream wadesk_app \{\s*@UPSTREAM@\s*\}", conf)
    assert m, "the upstream block must be filled whole from @UPSTREAM@"
    nu = re.findall(r"^\s*fastcgi_next_upstream\s+([^;]*);", conf, re.M)
    assert nu == ["error timeout"], nu
    assert "non_idempotent" not in conf
    assert re.search(r"^\s*fastcgi_next_upstream_tries\s+\d+;", conf, re.M)
