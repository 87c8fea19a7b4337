"""compose.yaml and the Dockerfile, run natively: no image can be built here (no container daemon), so each
service's own command runs as a process with the environment the container would have — the Dockerfile's ENV,
then the service's `environment` — the compose host names mapped to the local PostgreSQL (a fresh database) and
the test broker, container paths mapped to a temporary folder and the repository.  One case goes end to end
through the web service (start → the applicant's task → the clerk's task → completed), the worker doing the
automatic steps, the beat sweeping; then the probes, both metrics endpoints and the log lines are checked."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from tests.integration.cluster import BIN, free_port, purge, spawn, stop
from tests.integration.conftest import BROKER_URL, CONFIGURED, DATABASE_URL
from tests.integration.load import Api, await_ready, one_case
from tests.support.repo import REPO

# the end-to-end run needs the services; the checks of the files themselves run in every pass
needs_services = pytest.mark.skipif(not CONFIGURED,
                                    reason="needs TONGBAN_TEST_BROKER_URL and TONGBAN_TEST_DATABASE_URL")
on_redis = pytest.mark.skipif(bool(BROKER_URL) and not BROKER_URL.startswith("redis://"),
                              reason="compose.yaml's broker is Redis: this runs in the Redis pass of tests/integration")

COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()
PASSWORD = "correct horse 电池 staple"
SERVICES = ("migrate", "web", "worker", "beat")


def dockerfile_instruction(name: str) -> list[str]:
    """The arguments of the last `name` instruction of the final stage (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line[len(name):].strip() for line in text.splitlines() if line.startswith(name + " ")]
    return lines


def image_env() -> dict[str, str]:
    """The final stage's ENV (KEY=VALUE pairs)."""
    final = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    text = re.sub(r"\\\n\s*", " ", final)
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(pair.split("=", 1) for pair in shlex.split(line[4:]))
    return env


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` (the forms compose.yaml uses)."""
    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        got = variables.get(name, "")
        if op == ":?" and not got:
            raise AssertionError(f"compose needs {name}: {arg}")
        return got or (arg if op == ":-" else "")

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


class Natively:
    """Each compose service as a local process, with its container's environment mapped to this machine."""

    def __init__(self, tmp: Path, database_url: str, broker_url: str) -> None:
        self.tmp, self.database_url, self.broker_url = tmp, database_url, broker_url
        self.variables = {"TONGBAN_SECRET_KEY": secrets.token_hex(32), "POSTGRES_PASSWORD": "unused-here",
                          "TONGBAN_METRICS_TOKEN": secrets.token_urlsafe(24)}
        self.ports = {"0.0.0.0:8000": f"127.0.0.1:{free_port()}", "0.0.0.0:9101": f"127.0.0.1:{free_port()}"}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def web(self) -> str:
        return "http://" + self.ports["0.0.0.0:8000"]

    @property
    def worker_metrics(self) -> str:
        return "http://" + self.ports["0.0.0.0:9101"] + "/metrics"

    def _path(self, value: str, service: str) -> str:
        """Container paths: the image's /app is the repository; the volume and /tmp are folders of this test."""
        for inside, outside in (("/app/", f"{REPO}/"), ("/var/lib/tongban", str(self.tmp / "instance")),
                                ("/tmp/", f"{self.tmp / service / 'tmp'}/")):
            if value.startswith(inside):
                return outside + value[len(inside):]
        return value

    def _url(self, name: str, value: str) -> str:
        """Compose's host names (the services `postgres`, `redis`) to what this test runs against."""
        if name == "TONGBAN_DATABASE_URL":
            url = make_url(value)
            assert url.host == "postgres" and url.port == 5432 and "postgres" in COMPOSE["services"]
            return make_url(self.database_url).set(query=url.query).render_as_string(hide_password=False)
        if name == "TONGBAN_BROKER_URL":
            assert value.startswith("redis://redis:6379/") and "redis" in COMPOSE["services"]
            return self.broker_url
        return value

    def environment(self, service: str) -> dict[str, str]:
        declared = COMPOSE["services"][service]["environment"]
        env = {**image_env(), **{k: interpolate(str(v), self.variables) for k, v in declared.items()}}
        env = {k: self.ports.get(v, self._path(self._url(k, v), service)) for k, v in env.items()}
        (self.tmp / service / "tmp").mkdir(parents=True, exist_ok=True)
        (self.tmp / "instance").mkdir(exist_ok=True)
        return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(self.tmp), "LANG": "C.UTF-8",
                **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}), **env}

    def command(self, service: str) -> list[str]:
        return [self.ports.get(arg, arg) for arg in COMPOSE["services"][service]["command"]]

    def run(self, service: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{service}.log").open("wb") as log:
            proc = spawn(self.command(service), self.environment(service), self.tmp / "instance", log)
        self.procs[service] = proc
        return proc

    def tongban(self, *argv: str) -> str:
        """An operator's command, in the web service's environment (what `docker compose exec web …` runs)."""
        done = subprocess.run([str(BIN / "tongban"), *argv], env=self.environment("web"), cwd=self.tmp / "instance",
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def log(self, service: str) -> str:
        return (self.tmp / f"{service}.log").read_text(errors="replace")

    def close(self) -> None:
        stop(self.procs.values(), grace=30)
        for name in self.procs:
            print(f"--- {name} (last 3000 characters) ---\n{self.log(name)[-3000:]}")


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database on the test PostgreSQL server: the migrate service creates the schema itself."""
    assert DATABASE_URL
    server = make_url(DATABASE_URL)
    name = f"tongban_compose_{os.getpid()}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def samples(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_the_dockerfile_runs_what_compose_runs_for_the_web_service() -> None:
    [cmd] = dockerfile_instruction("CMD")
    assert json.loads(cmd) == COMPOSE["services"]["web"]["command"]
    assert not dockerfile_instruction("ENTRYPOINT")
    assert dockerfile_instruction("USER") == ["tongban"]  # not root
    assert DOCKERFILE.startswith("#") and "FROM python:3.11-slim" in DOCKERFILE
    assert "[dev]" not in DOCKERFILE and "/healthz" in "".join(dockerfile_instruction("HEALTHCHECK"))
    assert set(COMPOSE["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", "instance", "tests"} <= ignored  # the instance folder holds the database and the key


@needs_services
@on_redis
def test_compose_services_run_one_case_end_to_end(fresh_database: str, tmp_path: Path) -> None:
    assert BROKER_URL
    purge(BROKER_URL)
    here = Natively(tmp_path, fresh_database, BROKER_URL)
    try:
        migrate = here.run("migrate")
        assert migrate.wait(180) == 0, here.log("migrate")
        # what an operator does once after the first start (TONGBAN_ENV=production: no demo users)
        here.tongban("orgs", "sync")
        here.tongban("orgs", "add", "ent_haiyun", "青岛海韵科技有限公司", "--kind", "enterprise",
                     "--credit-code", "91370202MA3C4XY01E")
        here.tongban("users", "add", "haiyun", "--org", "ent_haiyun", "--role", "applicant", "--password", PASSWORD)
        here.tongban("users", "add", "window", "--org", "xzsp", "--role", "window_clerk", "--password", PASSWORD)
        for service in ("web", "worker", "beat"):
            here.run(service)
        http = httpx.Client(base_url=here.web, timeout=10)
        assert await_ready(here.web), here.log("web")
        checks = http.get("/readyz").json()["checks"]
        assert set(checks) == {"database", "migrations", "broker"} and all(c["ok"] for c in checks.values())
        [probe] = dockerfile_instruction("HEALTHCHECK")
        healthcheck = [here.ports.get(a, a) for a in json.loads(probe.split("CMD", 1)[1])]
        healthcheck = [a.replace("127.0.0.1:8000", here.ports["0.0.0.0:8000"]) for a in healthcheck]
        assert subprocess.run(healthcheck, env=here.environment("web"), timeout=10).returncode == 0

        def api(username: str) -> Api:
            reply = http.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert reply.status_code == 201, reply.text
            return Api(here.web, reply.json()["token"])

        # start → the applicant's task → the clerk's task → completed, the worker doing the automatic steps
        applicant = api("haiyun")
        try:
            case = one_case(applicant, api("window"))
        except (AssertionError, TimeoutError) as failed:
            raise AssertionError(f"{failed}\n{here.log('worker')[-3000:]}") from failed
        seen = applicant.call("case", "GET", f"/api/v1/instances/{case}")
        assert seen["status"] == "completed" and seen["outcome"] == "approved"

        # /metrics: refused without the token; with it, every gunicorn worker's steps added up, whichever answers
        assert http.get("/metrics").status_code == 404
        scraper = {"Authorization": f"Bearer {here.variables['TONGBAN_METRICS_TOKEN']}"}
        for _ in range(6):
            text = http.get("/metrics", headers=scraper).text
            assert samples(text, "tongban_steps_total", kind="start", outcome="ok") == 1
            assert samples(text, "tongban_steps_total", kind="complete", outcome="ok") == 2
            assert samples(text, "tongban_http_request_duration_seconds_count",
                           endpoint="/api/v1/tasks/<task:task_id>/complete", method="POST", status="200") == 2
            assert samples(text, "tongban_database_up") == 1
            assert samples(text, "tongban_cases_in_error") == 0
        assert seen["case_number"] not in text and "haiyun" not in text  # nothing about whose case
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text)  # no task id: routes are labelled by their rule
        worker = httpx.get(here.worker_metrics, timeout=10).text
        assert samples(worker, "tongban_steps_total", kind="advance", outcome="ok") >= 3

        # logs: JSON lines; a job's lines carry its id; the sweeps (every second) write nothing at INFO
        web, worker_log, beat = (json_lines(here.log(s)) for s in ("web", "worker", "beat"))
        assert web and {"time", "level", "logger", "message"} <= set(web[0])
        access = [r for r in web if r["logger"] == "gunicorn.access" and "/complete" in r["message"]]
        assert len(access) == 2 and all(re.search(r"request_id=[0-9a-f]{32}", r["message"]) for r in access)
        assert any(r.get("task_id") and "tongban.advance" in r["message"] for r in worker_log)
        assert not [r for r in worker_log + beat if r["level"] == "INFO" and "sweep" in r["message"]]
        assert not [r for r in web + worker_log + beat if r["level"] in ("ERROR", "CRITICAL")]
    finally:
        here.close()
