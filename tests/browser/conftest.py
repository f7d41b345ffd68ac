"""Fixtures for the browser tests: Debian's headless Chromium driven by
selenium against the running stack named by WADESK_ENV_FILE (default
var/test/dev.env), as the integration tests use it."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integ"))

from integ_support import DEFAULT_ENV_FILE, read_env_file  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def env():
    given = os.environ.get("WADESK_ENV_FILE")
    path = Path(given).resolve() if given else DEFAULT_ENV_FILE
    if not path.is_file():
        pytest.exit("browser tests: %s does not exist; start the stack "
                    "first" % path, returncode=2)
    values = read_env_file(path)
    values.setdefault("WADESK_VAR", str(path.parent))
    return values


@pytest.fixture(scope="session")
def base_url(env):
    return env["WADESK_URL"].rstrip("/")


@pytest.fixture(scope="session")
def shots(env):
    """Where screenshots go: the test run's var directory, never git."""
    d = Path(env["WADESK_VAR"]) / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def db(env):
    conn = psycopg2.connect(env["WADESK_DATABASE_URL"], connect_timeout=5)
    conn.autocommit = True
    yield conn
    conn.close()


def _driver(width=1280, height=900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="wadesk-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile,
                "--window-size=%d,%d" % (width, height)):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(30)
    drv.implicitly_wait(0)
    return drv, profile


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are not installed "
                    "(make deps)")
    drv, profile = _driver()
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)
