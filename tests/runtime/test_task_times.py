"""A user task's dueDate/warnAt and data-driven candidateOrg: stored when the task becomes ready, shown in
the task views and inbox filters; an expression that cannot be worked out puts the case in its error state."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient

from engine.base import clock, workdays
from engine.base.workdays import YearTable
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from engine.store.calendars import load_year
from engine.store.models import HumanTask
from tests.support.deadlines import MONDAY, REVIEW_FORMS, SHANGHAI, deploy_review, review_process
from tests.support.http import PASSWORD
from tests.support.steps import begin
from tests.support.workspaces import workspace


def _row(runtime: Runtime, instance_id: int) -> HumanTask:
    with runtime.db.read() as session:
        return session.query(HumanTask).filter_by(instance_id=instance_id, state="ready").one()


@pytest.fixture
def timed(runtime: Runtime) -> int:
    """A review due 3 working days after acceptance, with its warning a day earlier (Mon 2026-03-02)."""
    deploy_review(runtime, "t_times", dueDate="workdays_after(accepted_at, 3)", warnAt="workdays_after(accepted_at, 2)")
    clock.travel(MONDAY - clock.now())
    return begin(runtime, "t_times", {"accepted_at": MONDAY.isoformat()}).id


def test_due_and_warning_times_are_stored_and_shown(runtime: Runtime, timed: int) -> None:
    row = _row(runtime, timed)
    assert row.due_at == datetime(2026, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)
    assert row.warn_at == datetime(2026, 3, 4, 23, 59, 59, tzinfo=SHANGHAI)
    [task] = [t for t in runtime.tasks(runtime.actor("window")) if t.instance_id == timed]
    assert task.to_dict()["due_at"] == "2026-03-05T15:59:59+00:00"
    assert task.to_dict()["warn_at"] == "2026-03-04T15:59:59+00:00"


def test_the_api_inbox_filters_overdue_and_due_before_on_real_deadlines(
        client: FlaskClient, runtime: Runtime, timed: int) -> None:
    def ids(**query: str) -> list[int]:
        token = client.post("/api/v1/auth/token", json={"username": "window", "password": PASSWORD}).json["token"]
        reply = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}, query_string=query)
        assert reply.status_code == 200, reply.json
        return [t["instance_id"] for t in reply.json["items"] if t["instance_id"] == timed]

    assert ids(due_before="2026-03-06T00:00:00+08:00") == [timed]
    assert ids(due_before="2026-03-05T12:00:00+08:00") == []
    assert ids(overdue="true") == []
    clock.travel(datetime(2026, 3, 6, 0, 0, 1, tzinfo=SHANGHAI) - clock.now())
    assert ids(overdue="true") == [timed]


def test_candidate_org_from_the_data_goes_to_that_office(runtime: Runtime) -> None:
    deploy_review(runtime, "t_org", lane="街道", candidateOrg="unit")
    view = begin(runtime, "t_org", {"unit": "street_bdq"})
    assert view.status == "running"
    assert [t.instance_id for t in runtime.tasks(runtime.actor("street"))] == [view.id]


@pytest.mark.parametrize(("props", "data", "words"), [
    ({"candidateOrg": "unit"}, {"unit": "nowhere"}, "nowhere"),           # names an unknown org
    ({"candidateOrg": "unit"}, {}, "candidateOrg"),                       # the field is not there
    ({"candidateOrg": "'street_bdq'", "dueDate": "workdays_after(accepted_at, 3)"},
     {"accepted_at": "soon"}, "dueDate"),                                 # not a date
])
def test_an_organisation_or_deadline_that_cannot_be_worked_out_is_the_cases_error(
        runtime: Runtime, props: dict[str, str], data: dict[str, str], words: str) -> None:
    deploy_review(runtime, "t_bad", lane="街道", **props)
    view = begin(runtime, "t_bad", data)
    assert (view.status, view.error_element) == ("error", "review")
    assert words in view.error
    assert runtime.tasks(runtime.actor("street")) == [] and runtime.tasks(runtime.actor("admin")) == []
    events = runtime.instance(view.id, runtime.actor("admin"), detail=True).events
    assert [e["element_id"] for e in events if e["kind"] == "error"] == ["review"]


def test_a_case_waiting_for_an_unloaded_year_resumes_once_it_is_loaded(runtime: Runtime) -> None:
    deploy_review(runtime, "t_year", dueDate="workdays_after(accepted_at, 3)")
    view = begin(runtime, "t_year", {"accepted_at": "2099-03-02T09:00:00+08:00"})
    assert (view.status, view.error_element) == ("error", "review") and "2099" in view.error
    with runtime.db.write() as session:
        load_year(session, YearTable.from_yaml("year: 2099\nholidays: [2099-03-03]\nworkdays: []\n"), "admin")
    workdays.refresh()
    admin = runtime.actor("admin")
    runtime.suspend(view.id, admin)
    resumed = runtime.resume(view.id, admin)
    assert resumed.status == "running"
    assert _row(runtime, view.id).due_at == datetime(2099, 3, 6, 23, 59, 59, tzinfo=SHANGHAI)


def test_candidate_org_and_warn_at_expressions_are_compiled_at_validate() -> None:
    files = workspace({"b.bpmn": review_process("t_lint", "街道", candidateOrg="unit +", warnAt="__import__('os')")},
                      REVIEW_FORMS, key="t_lint")
    assert sorted(p.message.split(" ")[1] for p in validate(files) if p.element_id == "review") \
        == ["candidateOrg", "warnAt"]


def test_a_past_deadline_is_overdue_at_once(runtime: Runtime, timed: int) -> None:
    clock.travel(timedelta(days=30))
    [task] = [t for t in runtime.tasks(runtime.actor("window")) if t.instance_id == timed]
    assert task.due_at is not None and task.due_at < clock.now()
