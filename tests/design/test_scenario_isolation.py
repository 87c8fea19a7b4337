"""A scenario run changes nothing for anyone else: clock and calendar belong to a runtime (issue 11).

The scenarios travel their clock by months and count with a calendar read from a throw-away database.
While they run — through the designer's HTTP endpoint and in-process as `tongban test` runs them —
another thread works the server's runtime as a request would, and must see real time and the server's
own calendar, before, during and after.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from api import create_app
from engine.base import clock
from engine.base.workdays import YearTable
from engine.bpmn.scripting import RestrictedEnvironment
from engine.design.scenarios import discover, run_all
from engine.runtime.runtime import Runtime
from engine.store.calendars import load_year
from tests.support.http import bearer
from tests.support.repo import REPO, repo_files
from tests.support.shipped import SUBMIT

#: a year the package does not know: only the server's own database can answer for it
YEAR_2099 = "year: 2099\nholidays: [2099-03-03]\nworkdays: []\n"
#: Monday 2 March 2099 + 1 working day, skipping the holiday on Tuesday the 3rd
DUE = "2099-03-04T23:59:59+08:00"


class Observer(threading.Thread):
    """Works the server's runtime in a loop, as requests would, recording what it saw."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(daemon=True)
        self.runtime = runtime
        self.stop = threading.Event()
        self.offsets: list[timedelta] = []
        self.dues: list[object] = []
        self.steps = 0

    def look(self) -> None:
        with self.runtime.context.entered():  # what every request of the server does (api/__init__.py)
            self.offsets.append(abs(clock.now() - datetime.now(UTC)))
            try:
                self.dues.append(RestrictedEnvironment().evaluate("workdays_after('2099-03-02T09:00:00+08:00', 1)",
                                                                  {}))
            except Exception as exc:  # recorded, so the assertion shows what went wrong
                self.dues.append(exc)

    def run(self) -> None:
        haiyun = self.runtime.actor("haiyun")
        while not self.stop.is_set():
            self.look()
            view = self.runtime.start("sample_approval", {"title": "并行办件", "amount": 50000}, haiyun)
            self.runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
            self.steps += 1


def observed(runtime: Runtime, run: Callable[[], object]) -> Observer:
    """Run `run` while an observer works the server's runtime; then look once more, after the cache expired."""
    with runtime.db.write() as session:
        load_year(session, YearTable.from_yaml(YEAR_2099), "admin")
    observer = Observer(runtime)
    observer.look()
    observer.start()
    try:
        run()
    finally:
        observer.stop.set()
        observer.join(60)
    runtime.context.calendar.refresh()  # as if the 60 s cache ran out: the calendar is read from the database again
    observer.look()
    return observer


def assert_untouched(observer: Observer) -> None:
    assert observer.steps > 0, "the observer never got to work while the scenarios ran"
    assert max(observer.offsets) < timedelta(seconds=5), f"the server's clock moved by {max(observer.offsets)}"
    assert set(observer.dues) == {DUE}, observer.dues
    stamps = [e["at"] for e in observer.runtime.instance(1, observer.runtime.actor("admin"), detail=True).events]
    assert stamps and all(abs(datetime.fromisoformat(a) - datetime.now(UTC)) < timedelta(minutes=5) for a in stamps)


@pytest.mark.parametrize("folder", ["lyjj_c"])
def test_scenarios_run_in_process_leave_the_servers_clock_and_calendar_alone(runtime: Runtime, folder: str) -> None:
    root = REPO / "processes"
    report = {}

    def scenarios() -> None:
        report["it"] = run_all(repo_files(), discover(root / folder), root)

    assert_untouched(observed(runtime, scenarios))
    assert report["it"].results and report["it"].passed


def test_scenarios_run_from_the_designer_leave_the_servers_clock_and_calendar_alone(
        runtime: Runtime, client: FlaskClient) -> None:
    settings = dataclasses.replace(runtime.settings, processes_dir=REPO / "processes", forms_dir=REPO / "forms")
    server = Runtime(runtime.db, settings)  # the designer reads the repository's processes/
    client = create_app(settings, server).test_client()
    answers = []

    def designer() -> None:
        answers.append(client.post("/api/v1/designer/scenarios?folder=processes/lyjj_c/",
                                   headers=bearer(client, "designer")))

    assert_untouched(observed(server, designer))
    [answer] = answers
    assert answer.status_code == 200 and answer.json["results"]
    assert all(r["passed"] for r in answer.json["results"]), answer.json["results"]


def test_each_runtime_travels_its_own_clock(runtime: Runtime) -> None:
    other = Runtime(runtime.db, runtime.settings)
    with other.context.entered():
        clock.travel(timedelta(days=274))
        assert clock.now() - datetime.now(UTC) > timedelta(days=273)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)  # the test's runtime did not move
    seen = []
    thread = threading.Thread(target=lambda: seen.append(clock.now()))  # a thread that entered nothing
    thread.start()
    thread.join()
    assert abs(seen[0] - datetime.now(UTC)) < timedelta(seconds=5)


def test_the_real_clock_cannot_travel() -> None:
    with clock.using(clock.REAL), pytest.raises(RuntimeError, match="cannot travel"):
        clock.travel(timedelta(days=1))
