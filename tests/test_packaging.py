"""The package as an operator installs it (issue 13, point 3): a wheel built from the repository, installed with
its dependencies into a fresh virtual environment (no site packages, no PYTHONPATH, no clone to lean on), runs
`tongban --version`, `db upgrade`, `demo` and `serve` in an empty folder.

About a minute (pip installs from its cache), so it runs once in CI: the PostgreSQL stage deselects it with
`-m "not packaging"` (it uses a SQLite file of its own either way).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.support.repo import REPO

NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "instance", "*.egg-info", "__pycache__",
                                     "tests", "bench", "node_modules")


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}: {done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout + done.stderr


@pytest.mark.packaging
def test_the_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TONGBAN_", "PYTHON", "VIRTUAL_ENV"))}
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=NOT_SHIPPED)  # a build must not write into the repository
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
        tmp_path, env)
    [wheel] = (tmp_path / "dist").glob("tongban-*.whl")

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(wheel)], tmp_path, env)
    assert "site-packages" in run([str(venv / "bin" / "python"), "-c", "import engine; print(engine.__file__)"],
                                  tmp_path, env)

    empty = tmp_path / "district"
    empty.mkdir()
    env = {**env, "TONGBAN_PROCESSES": str(REPO / "processes")}  # forms are found beside it
    tongban = str(venv / "bin" / "tongban")
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert run([tongban, "--version"], empty, env).strip() == f"tongban {version}"
    assert "schema up to date" in run([tongban, "db", "upgrade"], empty, env)
    assert "demo users" in run([tongban, "demo"], empty, env)
    assert "sample_approval" in run([tongban, "processes"], empty, env)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([tongban, "serve", "--port", str(port)], cwd=empty, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:  # the login page: templates, translations and static files came with the wheel
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login?lang=en", timeout=10) as page:
                    body, server_header = page.read().decode(), page.headers["Server"]
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "tongban serve did not answer"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/docs", timeout=10) as docs:
            assert docs.status == 200
    finally:
        server.terminate()
        server.wait(30)
    assert server_header == "waitress" and "Log in" in body
    assert server.returncode == 0


def test_the_dockerfile_copies_only_what_exists() -> None:
    """The image builds the same wheel: a COPY of a folder that moved (migrations/ did) fails `docker build`,
    which these machines cannot run, so the sources are checked here."""
    sources = [part for line in (REPO / "Dockerfile").read_text().splitlines()
               if (m := re.match(r"COPY\s+(?!--from)(.+)\s+\S+$", line)) for part in m.group(1).split()]
    assert sources and [s for s in sources if not (REPO / s).exists()] == []
