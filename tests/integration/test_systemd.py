"""deploy/systemd: the three units run what compose.yaml runs, with the hardening an operator expects, and
`systemd-analyze verify` (where the machine has it) accepts them."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.repo import REPO

UNITS = REPO / "deploy" / "systemd"
NAMES = ("tongban-web", "tongban-worker", "tongban-beat")
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
BIN = "/opt/tongban/venv/bin/"
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
             "PrivateDevices": "yes", "RestrictSUIDSGID": "yes", "CapabilityBoundingSet": ""}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  (keys are case-sensitive)
    parser.read_string((UNITS / f"{name}.service").read_text())
    return parser


@pytest.mark.parametrize("name", NAMES)
def test_each_unit_is_hardened_and_reads_the_environment_file(name: str) -> None:
    service = unit(name)["Service"]
    assert service["EnvironmentFile"] == "/etc/tongban/tongban.env"
    assert service["User"] == "tongban" and service["Restart"] == "always"
    assert {k: service.get(k) for k in HARDENING} == HARDENING
    assert service["ReadWritePaths"] == "/var/lib/tongban"  # the one place it writes (the instance folder)


@pytest.mark.parametrize(("name", "compose"), [("tongban-web", "web"), ("tongban-worker", "worker"),
                                               ("tongban-beat", "beat")])
def test_each_unit_runs_what_compose_runs(name: str, compose: str) -> None:
    argv = shlex.split(unit(name)["Service"]["ExecStart"])
    assert argv[0].startswith(BIN)
    expected = COMPOSE[compose]["command"]
    # the web unit binds to loopback (a reverse proxy in front); the container binds to all its interfaces
    assert [a.replace("127.0.0.1:8000", "0.0.0.0:8000") for a in [Path(argv[0]).name, *argv[1:]]] == expected


def test_the_environment_file_names_every_setting_a_process_needs() -> None:
    lines = (UNITS / "tongban.env").read_text().splitlines()
    keys = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert {"TONGBAN_ENV", "TONGBAN_SECRET_KEY", "TONGBAN_DATABASE_URL", "TONGBAN_BROKER_URL",
            "TONGBAN_INSTANCE", "TONGBAN_TRUSTED_PROXIES"} <= keys
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    # behind the unit's nginx: the client's address is read through the proxy, and loopback is no credential
    assert values["TONGBAN_TRUSTED_PROXIES"] == "1" and "127.0.0.1" not in values.get("TONGBAN_METRICS_ALLOW", "")


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # the units were parsed above; this machine has no systemd to ask
        pytest.skip("systemd-analyze is not installed")
    venv_bin = f"{Path(sys.executable).parent}/"
    for name in NAMES:  # verify checks that the programs exist: point them at this venv's
        (tmp_path / f"{name}.service").write_text((UNITS / f"{name}.service").read_text().replace(BIN, venv_bin))
    done = subprocess.run([analyze, "verify", *(str(tmp_path / f"{n}.service") for n in NAMES)],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if any(n in line for n in NAMES)]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr
