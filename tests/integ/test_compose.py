"""docker-compose.yml is a valid Compose file."""

import shutil
import subprocess

import pytest

from integ_support import ROOT


def test_compose_file_is_valid():
    compose = ROOT / "docker-compose.yml"
    if not compose.is_file():
        pytest.skip("docker-compose.yml does not exist yet")
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("the docker-compose command is not installed")
    p = subprocess.run([exe, "-f", "docker-compose.yml", "config", "-q"],
                       cwd=str(ROOT), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr or p.stdout
