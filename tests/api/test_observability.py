"""The operator's endpoints: /healthz, /readyz, /metrics (who may scrape, what it counts), request ids."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from datetime import timedelta
from ipaddress import ip_network

import pytest
from alembic.script import ScriptDirectory
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, text, update

from api import create_app
from engine.background import readiness, timers
from engine.background.gauges import StateCollector
from engine.base import clock
from engine.base.clock import now
from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from engine.store.db import Database, alembic_config
from engine.store.models import HumanTask, Instance, Timer
from tests.support.builder import Node, bpmn, end, flows, render, script, start, timer
from tests.support.http import bearer
from tests.support.shipped import SUBMIT
from tests.support.timers import timed
from tests.support.workspaces import workspace

TOKEN = "scrape-7d1f0c9a"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
APPLY = {"data": {"title": "办公用房改造", "amount": 50000}}


def app_with(runtime: Runtime, **changes: object) -> FlaskClient:
    """The app over the test's runtime (its clock travels with the test's), with other settings for the web."""
    return create_app(dataclasses.replace(runtime.settings, **changes), runtime).test_client()


def figures(client: FlaskClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    reply = client.get("/metrics", headers=SCRAPER)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(reply.get_data(as_text=True)) for s in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


# -- probes ------------------------------------------------------------------------------------------------------

def test_healthz_answers_without_the_database_and_readyz_says_it_is_unreachable(runtime: Runtime) -> None:
    secret_url = "postgresql+psycopg://tongban:hunter2@127.0.0.1:1/tongban?connect_timeout=1"
    settings = dataclasses.replace(runtime.settings, database_url=secret_url)
    client = create_app(settings, Runtime(Database(secret_url), settings)).test_client()
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["status"] == "not_ready"
    assert ready.json["checks"]["database"] == {"ok": False, "detail": "无法连接 (unreachable: OperationalError)"}
    assert ready.json["checks"]["migrations"]["ok"] is False
    body = ready.get_data(as_text=True)
    assert "hunter2" not in body and "127.0.0.1" not in body and "tongban:" not in body  # no secrets, no hosts
    assert ready.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_on_a_current_schema_and_not_on_an_older_one(client: FlaskClient, runtime: Runtime) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"
    assert set(ready.json["checks"]) == {"database", "migrations"}  # no broker in embedded mode
    with runtime.db.engine.begin() as conn:
        [head] = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        previous = ScriptDirectory.from_config(alembic_config(runtime.db)).get_revision(head).down_revision
        conn.execute(text("UPDATE alembic_version SET version_num = :previous"), {"previous": previous})
    try:
        behind = client.get("/readyz")
        assert behind.status_code == 503
        assert behind.json["checks"]["database"]["ok"] is True
        migrations = behind.json["checks"]["migrations"]
        assert migrations["ok"] is False and f"database at {previous}" in migrations["detail"]
        assert f"needs {head}" in migrations["detail"] and "tongban db upgrade" in migrations["detail"]
    finally:
        with runtime.db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})


def test_readyz_checks_the_broker_in_scale_out_mode(runtime: Runtime) -> None:
    """(Over HTTP, on PostgreSQL with a reachable broker, in tests/integration/test_compose.py: the web app refuses
    SQLite with a broker.)"""
    settings = dataclasses.replace(runtime.settings, broker_url="redis://:s3cret@127.0.0.1:1/0")
    found = {c.name: c for c in readiness.checks(Runtime(runtime.db, settings))}
    assert found["broker"] == readiness.Check("broker", False, "无法连接 (unreachable: OperationalError)")
    assert found["database"].ok and found["migrations"].ok
    assert "s3cret" not in repr(found)


def test_the_probes_are_outside_the_versioned_api_and_its_document(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert not [p for p in paths if p.rstrip("/").split("/")[-1] in ("healthz", "readyz", "metrics")]
    assert client.post("/healthz").status_code == 405  # read-only


# -- who may scrape ----------------------------------------------------------------------------------------------

def test_metrics_are_not_served_unless_a_token_or_a_network_is_set(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=SCRAPER).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404


@pytest.mark.parametrize("header", [None, "", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"bearer{TOKEN}",
                                    TOKEN, f"Basic {TOKEN}", f"Bearer  {TOKEN}"])
def test_a_wrong_token_is_refused_as_if_there_were_nothing(runtime: Runtime, header: str | None) -> None:
    client = app_with(runtime, metrics_token=TOKEN)
    reply = client.get("/metrics", headers={"Authorization": header} if header is not None else {})
    assert reply.status_code == 404 and "tongban_" not in reply.get_data(as_text=True)


def test_the_token_lets_a_scraper_in(runtime: Runtime) -> None:
    reply = app_with(runtime, metrics_token=TOKEN).get("/metrics", headers=SCRAPER)
    assert reply.status_code == 200 and reply.mimetype == "text/plain"
    assert "tongban_steps_total" in reply.get_data(as_text=True)


@pytest.mark.parametrize(("address", "allowed"), [("10.0.0.0", True), ("10.255.255.255", True), ("10.1.2.3", True),
                                                  ("11.0.0.0", False), ("9.255.255.255", False),
                                                  ("127.0.0.1", False), ("::1", False)])
def test_the_allowed_networks_and_one_address_off_them(runtime: Runtime, address: str, allowed: bool) -> None:
    client = app_with(runtime, metrics_allow=(ip_network("10.0.0.0/8"),))
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == (200 if allowed else 404)


def test_with_both_set_a_scraper_needs_both(runtime: Runtime) -> None:
    client = app_with(runtime, metrics_token=TOKEN, metrics_allow=(ip_network("10.0.0.0/8"),))
    inside, outside = {"REMOTE_ADDR": "10.0.0.7"}, {"REMOTE_ADDR": "192.168.0.7"}
    assert client.get("/metrics", headers=SCRAPER, environ_base=outside).status_code == 404
    assert client.get("/metrics", environ_base=inside).status_code == 404
    assert client.get("/metrics", headers=SCRAPER, environ_base=inside).status_code == 200


# -- what is counted ---------------------------------------------------------------------------------------------

def test_steps_are_counted_by_kind_and_outcome_and_http_by_route(runtime: Runtime, client: FlaskClient) -> None:
    client = app_with(runtime, metrics_token=TOKEN)  # (the `client` fixture gave every user the password)
    haiyun = bearer(client, "haiyun")
    before = figures(client)
    started = client.post("/api/v1/processes/sample_approval/instances", headers=haiyun, json=APPLY)
    assert started.status_code == 201
    [task] = started.json["open_tasks"]
    path = f"/api/v1/tasks/{task['id']}/complete"
    assert client.post(path, headers=haiyun, json={"data": {"mobile": "no"}}).status_code == 422
    assert client.post(path, headers=haiyun, json={"data": SUBMIT}).status_code == 200
    assert client.post(path, headers=haiyun, json={"data": SUBMIT}).status_code == 409
    assert client.get("/no/such/page/42").status_code == 404
    after = figures(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("tongban_steps_total", kind="start", outcome="ok") == 1
    assert grew("tongban_steps_total", kind="complete", outcome="invalid") == 1
    assert grew("tongban_steps_total", kind="complete", outcome="ok") == 1
    assert grew("tongban_steps_total", kind="complete", outcome="conflict") == 1
    assert grew("tongban_step_duration_seconds_count", kind="complete") == 3
    rule = "/api/v1/tasks/<task:task_id>/complete"
    for status in ("422", "200", "409"):
        assert grew("tongban_http_request_duration_seconds_count", endpoint=rule, method="POST", status=status) == 1
    assert grew("tongban_http_request_duration_seconds_count", endpoint="<unmatched>", method="GET",
                status="404") == 1
    scraped = client.get("/metrics", headers=SCRAPER).get_data(as_text=True)
    assert task["id"] not in scraped and started.json["case_number"] not in scraped and "haiyun" not in scraped
    assert "/no/such/page" not in scraped  # an unmatched path is one series, however many are tried


def test_a_method_of_the_callers_choosing_adds_no_series(runtime: Runtime) -> None:
    client = app_with(runtime, metrics_token=TOKEN)
    count = "tongban_http_request_duration_seconds_count"
    before = value(figures(client), count, endpoint="<unmatched>", method="other", status="405")
    for n in range(5):
        assert client.open("/api/v1/processes", method=f"M{n}" + "X" * 300).status_code == 405
    found = figures(client)
    methods = {dict(labels).get("method") for (name, labels) in found if name.startswith("tongban_http_request")}
    assert methods - {None} <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert value(found, count, endpoint="<unmatched>", method="other", status="405") == before + 5


def test_a_step_that_fails_its_case_counts_as_an_error_and_once(runtime: Runtime) -> None:
    client = app_with(runtime, metrics_token=TOKEN)
    failing = render([start(), Node("intermediateCatchEvent", "wait", body=timer("PT1H")), script("boom", "x = 1 / 0"),
                      end(outcome="approved")], flows(("start", "wait"), ("wait", "boom"), ("boom", "end")))
    deploy(runtime.db, workspace({"f.bpmn": bpmn("failing", failing, {"申请人": ["start", "wait", "boom", "end"]})},
                                 key="failing"))
    case = runtime.start("failing", {}, runtime.actor("haiyun")).id
    before = figures(client)
    clock.travel(timedelta(hours=1, seconds=1))
    assert timers.sweep(runtime) == 1
    assert runtime.instance(case, runtime.actor("admin")).status == "error"
    runtime.advance(case)  # a redelivered job finds the case in error: nothing runs, and it is no second incident
    after = figures(client)

    def grew(**labels: str) -> float:
        return value(after, "tongban_steps_total", **labels) - value(before, "tongban_steps_total", **labels)

    assert grew(kind="timer", outcome="error") == 1 and grew(kind="timer", outcome="ok") == 0
    assert grew(kind="advance", outcome="ok") == 1 and grew(kind="advance", outcome="error") == 0
    assert value(after, "tongban_cases_in_error", process="failing") == 1


def test_a_late_timer_is_measured_and_counted_as_a_timer_step(runtime: Runtime) -> None:
    client = app_with(runtime, metrics_token=TOKEN)
    [case] = timed(runtime)
    clock.travel(timedelta(hours=1, seconds=90))
    due = figures(client)
    assert value(due, "tongban_backlog", queue="timers") == 1
    assert 90 <= value(due, "tongban_backlog_oldest_seconds", queue="timers") < 120
    assert timers.sweep(runtime) == 1
    after = figures(client)
    assert value(after, "tongban_backlog", queue="timers") == 0
    assert value(after, "tongban_timer_lag_seconds_count") - value(due, "tongban_timer_lag_seconds_count") == 1
    lag = value(after, "tongban_timer_lag_seconds_sum") - value(due, "tongban_timer_lag_seconds_sum")
    assert 90 <= lag < 120
    assert value(after, "tongban_steps_total", kind="timer", outcome="ok") - \
        value(due, "tongban_steps_total", kind="timer", outcome="ok") == 1
    assert runtime.instance(case, runtime.actor("admin")).status == "completed"


def test_scrape_time_counts_of_errors_overdue_tasks_and_due_rows(runtime: Runtime) -> None:
    haiyun = runtime.actor("haiyun")
    cases = [runtime.start("sample_approval", APPLY["data"], haiyun).id for _ in range(3)]
    at = now()
    with runtime.db.engine.begin() as conn:
        conn.execute(update(Instance).where(Instance.id == cases[0]).values(status="error"))
        for case, due in ((cases[1], at - timedelta(seconds=1)), (cases[2], at + timedelta(seconds=60))):
            conn.execute(update(HumanTask).where(HumanTask.instance_id == case).values(due_at=due))
        conn.execute(insert(Timer).values(instance_id=cases[0], task_id="t-of-a-case-in-error", element_id="w",
                                          kind="timer", due_at=at - timedelta(hours=1), state="waiting"))
        conn.execute(insert(Timer).values(instance_id=cases[1], task_id="a-due-service-attempt", element_id="s",
                                          kind="service", due_at=at - timedelta(seconds=30), state="waiting"))
        conn.execute(insert(Timer).values(instance_id=cases[2], task_id="not-due-yet", element_id="w",
                                          kind="timer", due_at=at + timedelta(seconds=1), state="waiting"))
    found = {(s.name, frozenset(s.labels.items())): s.value
             for family in StateCollector(runtime).collect() for s in family.samples}
    assert value(found, "tongban_database_up") == 1
    assert value(found, "tongban_cases_in_error", process="sample_approval") == 1
    assert value(found, "tongban_tasks_overdue", process="sample_approval") == 1  # not the one due in a minute
    assert value(found, "tongban_backlog", queue="timers") == 0  # a failed case's timer waits for it on purpose
    assert value(found, "tongban_backlog", queue="services") == 1
    assert 30 <= value(found, "tongban_backlog_oldest_seconds", queue="services") < 60


def test_a_database_that_cannot_be_counted_is_a_gauge_not_a_failed_scrape(runtime: Runtime) -> None:
    broken = Runtime(Database("postgresql+psycopg://x@127.0.0.1:1/x?connect_timeout=1"), runtime.settings)
    found = {s.name: s.value for family in StateCollector(broken).collect() for s in family.samples}
    assert found == {"tongban_database_up": 0}


# -- request ids -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sent", ["4f9c2e1a-7b1d-4c55-9a0e-2b6f9d1c3e77", "req-20261201.a:b/c+d=e", "abcdefgh"])
def test_a_sane_request_id_is_kept_and_echoed(client: FlaskClient, sent: str) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent


@pytest.mark.parametrize("sent", ["", "short", "a" * 129, "two words here", 'quote"inside', "tab\tinside1",
                                  "中文的请求编号标识", "x" * 7])
def test_anything_else_is_replaced_by_a_fresh_id(client: FlaskClient, sent: str) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", echoed) and echoed != sent


def test_a_line_logged_in_a_request_carries_its_id(client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    app = client.application

    @app.get("/tests/log-something")
    def log_something() -> str:
        logging.getLogger("tests.observability").warning("受理了 (accepted)")
        return "ok"

    capsys.readouterr()
    reply = client.get("/tests/log-something", headers={"X-Request-ID": "trace-0123456789"})
    assert reply.headers["X-Request-ID"] == "trace-0123456789"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    [line] = [r for r in lines if r["logger"] == "tests.observability"]
    assert line["request_id"] == "trace-0123456789" and line["message"] == "受理了 (accepted)"
    assert line["level"] == "WARNING" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    logging.getLogger("tests.observability").warning("after")
    [after] = [json.loads(x) for x in capsys.readouterr().err.splitlines() if '"after"' in x]
    assert "request_id" not in after  # the id ends with its request
