"""Incidents: a failing script leaves the case in its error state naming the element; once the cause is
fixed an administrator retries it (runtime, API, CLI); transient outages in jobs retry with backoff."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from engine.background import jobs
from engine.background.timers import claim_due
from engine.base import clock, workdays
from engine.base.errors import Conflict, Forbidden
from engine.base.settings import Settings
from engine.base.workdays import YearTable
from engine.cli.main import main
from engine.runtime.runtime import Runtime
from engine.store.calendars import load_year
from tests.support.deadlines import deploy_failing
from tests.support.http import PASSWORD
from tests.support.steps import begin
from tests.support.timers import timed

YEAR_2099 = "year: 2099\nholidays: [2099-03-03]\nworkdays: []\n"


@pytest.fixture
def failed(runtime: Runtime) -> int:
    deploy_failing(runtime)
    view = begin(runtime, "t_incident", {"accepted_at": "2099-03-02T09:00:00+08:00"})
    assert (view.status, view.error_element) == ("error", "deadline") and "2099" in view.error
    return view.id


def _fix(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        load_year(session, YearTable.from_yaml(YEAR_2099), "admin")
    workdays.refresh()


def test_the_case_detail_names_the_error_and_the_element(runtime: Runtime, failed: int) -> None:
    detail = runtime.instance(failed, runtime.actor("admin"), detail=True)
    assert detail.status == "error" and detail.error_element == "deadline" and "2099" in detail.error
    assert [e["element_id"] for e in detail.events if e["kind"] == "error"] == ["deadline"]


def test_retry_reruns_the_failed_task_once_the_cause_is_fixed(runtime: Runtime, failed: int) -> None:
    admin = runtime.actor("admin")
    again = runtime.retry(failed, admin)  # cause not fixed yet: the same error, recorded again
    assert (again.status, again.error_element) == ("error", "deadline")
    _fix(runtime)
    done = runtime.retry(failed, admin)
    assert (done.status, done.error, done.error_element) == ("running", None, None)
    [task] = [t for t in runtime.tasks(runtime.actor("window")) if t.instance_id == failed]
    assert task.element_id == "review"
    kinds = [e["kind"] for e in runtime.instance(failed, admin, detail=True).events]
    assert kinds.count("retried") == 2 and kinds.count("error") == 2
    with pytest.raises(Conflict):  # no longer in error
        runtime.retry(failed, admin)


def test_only_administrators_retry(runtime: Runtime, failed: int) -> None:
    with pytest.raises(Forbidden):
        runtime.retry(failed, runtime.actor("window"))


def test_retry_over_the_api(client: FlaskClient, runtime: Runtime, failed: int) -> None:
    def call(username: str) -> tuple[int, dict]:
        token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).json["token"]
        reply = client.post(f"/api/v1/instances/{failed}/retry", headers={"Authorization": f"Bearer {token}"})
        return reply.status_code, reply.json

    assert call("window")[0] in (403, 404)
    _fix(runtime)
    status, body = call("admin")
    assert (status, body["status"]) == (200, "running")
    assert call("admin")[0] == 409  # not in error any more


def test_retry_from_the_cli(runtime: Runtime, failed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    case = runtime.instance(failed, runtime.actor("admin")).case_number
    _fix(runtime)
    result = CliRunner().invoke(main, ["retry", case, "--as", "admin", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "running"
    refused = CliRunner().invoke(main, ["retry", case, "--as", "admin", "--json"])
    assert refused.exit_code == 1 and json.loads(refused.stdout)["error"] == "conflict"


def test_jobs_retry_transient_outages_with_backoff_and_not_workflow_failures() -> None:
    """A database that is unreachable is waited out; a failing script is the case's error state at once."""
    for job in (jobs.advance, jobs.fire_timer, jobs.sweep):
        assert jobs.DatabaseUnreachable in job.autoretry_for and job.retry_backoff
        assert not any(issubclass(cls, Exception) and cls is Exception for cls in job.autoretry_for)


def test_a_failing_script_in_a_job_goes_to_the_error_state_without_a_retry(runtime: Runtime) -> None:
    deploy_failing(runtime)
    deferred = Runtime(runtime.db, runtime.settings, dispatch=lambda _case, _version: None)
    view = deferred.start("t_incident", {"accepted_at": "2099-03-02T09:00:00+08:00"}, runtime.actor("haiyun"))
    assert view.status == "running"  # the script waits for a worker
    assert jobs.step(runtime, view.id) is True  # the job itself succeeds: nothing to retry
    assert runtime.instance(view.id, runtime.actor("admin")).status == "error"


def test_a_lost_fire_job_is_claimed_again_when_the_configured_lease_runs_out(runtime: Runtime) -> None:
    assert Settings.from_env({"TONGBAN_TIMER_LEASE": "30"}).timer_lease == timedelta(seconds=30)
    short = Runtime(runtime.db, replace(runtime.settings, timer_lease=timedelta(seconds=30)))
    short.context.clock = runtime.context.clock  # the test travels one clock for both runtimes
    [instance] = timed(short)
    clock.travel(timedelta(hours=1, seconds=1))
    assert claim_due(short) == [instance]  # ...and its job is lost with a worker
    clock.travel(timedelta(seconds=29))
    assert claim_due(short) == []
    clock.travel(timedelta(seconds=2))
    assert claim_due(short) == [instance]
    assert claim_due(short, lease=timedelta(0)) == []  # an explicit lease, still inside the last one
