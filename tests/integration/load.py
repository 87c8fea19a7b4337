"""Full cases over real HTTP, the way the applicant's and the clerk's clients drive them in scale-out mode — for
tests/integration/test_compose.py (one case), test_scale.py and bench/scale.py (many clients at once).

A case of `sample_approval` is: the applicant starts it, waits for its 填写申请 task (a worker runs the start's
automatic steps), completes it; the window clerk waits for 审批, completes it; the applicant waits for the case
to be `completed` (a worker runs the steps after the clerk's).  Waiting is polling, as a page would: for a task,
the inbox searched for the case number (`GET /api/v1/tasks?q=`); for the end, the list of cases with that number
(`GET /api/v1/instances?case_number=`) — both index lookups, where the case in detail would load its workflow.
Every request is timed by its kind (`KINDS`); a request answered with anything but success raises."""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from engine.base.clock import now
from engine.people.auth import issue_token
from engine.store.db import Database
from engine.store.models import Event, HumanTask, Instance, Timer, User
from tests.support.shipped import SUBMIT

START = {"title": "办公用房改造", "amount": 50000}  # above the threshold: the clerk approves
APPROVE = {"decision": "approved", "comment": "同意"}
KINDS = ("start", "complete", "inbox", "case", "start timer case")
POLL_INTERVAL = 0.01  # seconds between two polls of a waiting client
TIMED = "timed"  # the process of tests/support/timers.py; bench/scale.py and test_scale.py deploy it


class Refused(AssertionError):
    """A request the server did not answer with success (what it said is the message)."""


def tokens(db: Database, *usernames: str) -> dict[str, str]:
    """A bearer token for each user, issued in the database as a log-in would (no password hashing per run)."""
    out = {}
    with db.write() as session:
        for username in usernames:
            user_id = session.scalar(select(User.id).where(User.username == username))
            out[username] = issue_token(session, user_id, now())[0]
    return out


@dataclass
class Timings:
    """Each request's latency in seconds, by kind; one per client thread, merged at the end."""

    by_kind: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def merge(self, other: Timings) -> None:
        for kind, values in other.by_kind.items():
            self.by_kind[kind].extend(values)


class Api:
    """One person's HTTP client (keep-alive, its bearer token), timing every request into `timings`."""

    def __init__(self, base_url: str, token: str, timings: Timings | None = None, timeout: float = 30) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}"})
        self.timings = timings or Timings()

    def call(self, kind: str, method: str, path: str, body: dict[str, Any] | None = None,
             params: dict[str, str] | None = None) -> dict[str, Any]:
        began = time.perf_counter()
        reply = self.http.request(method, path, json=body, params=params)
        self.timings.by_kind[kind].append(time.perf_counter() - began)
        if not reply.is_success:
            raise Refused(f"{method} {path}: {reply.status_code} {reply.text[:500]}")
        return reply.json()

    def start(self, process: str, data: dict[str, Any], kind: str = "start") -> dict[str, Any]:
        return self.call(kind, "POST", f"/api/v1/processes/{process}/instances", {"data": data})

    def status(self, case_number: str) -> str | None:
        found = self.call("case", "GET", "/api/v1/instances", None, {"case_number": case_number})["items"]
        return found[0]["status"] if found else None

    def complete(self, task: str, data: dict[str, Any]) -> None:
        self.call("complete", "POST", f"/api/v1/tasks/{task}/complete", {"data": data})

    def inbox(self, case_number: str) -> list[dict[str, Any]]:
        return self.call("inbox", "GET", "/api/v1/tasks", None, {"q": case_number})["items"]

    def await_task(self, case: dict[str, Any], element_id: str, timeout: float) -> str:
        """The id of the case's task `element_id`, once it is in the caller's inbox."""
        return _await(lambda: next((t["id"] for t in self.inbox(case["case_number"])
                                    if t["instance_id"] == case["id"] and t["element_id"] == element_id), None),
                      timeout, f"{element_id} of {case['case_number']}")

    def await_status(self, case: dict[str, Any], status: str, timeout: float) -> None:
        _await(lambda: self.status(case["case_number"]) == status, timeout, f"{case['case_number']} {status}")

    def close(self) -> None:
        self.http.close()


def _await(found: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (got := found()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(POLL_INTERVAL)
    return got


def one_case(applicant: Api, clerk: Api, timeout: float = 60) -> int:
    """A `sample_approval` case from its start to `completed`; returns its id."""
    case = applicant.start("sample_approval", START)
    applicant.complete(applicant.await_task(case, "submit", timeout), SUBMIT)
    clerk.complete(clerk.await_task(case, "approve", timeout), APPROVE)
    applicant.await_status(case, "completed", timeout)
    return case["id"]


@dataclass
class Load:
    """What `drive` did: the cases each client took to `completed`, the wall time, every request's latency."""

    cases: list[int]
    seconds: float
    timings: Timings
    timer_cases: list[int]
    failures: list[str]

    @property
    def per_second(self) -> float:
        return len(self.cases) / self.seconds


def drive(base_url: str, applicant_token: str, clerk_token: str, clients: int, seconds: float,
          timer_every: float | None = None, timeout: float = 60) -> Load:
    """`clients` threads, each driving one case after another to `completed` for `seconds` (the case in hand is
    finished after that); meanwhile, with `timer_every`, another thread starts a `timed` case every so often."""
    stop_at = time.monotonic() + seconds
    cases: list[int] = []
    timer_cases: list[int] = []
    failures: list[str] = []
    per_thread: list[Timings] = []
    lock = threading.Lock()

    def client() -> None:
        timings = Timings()
        applicant, clerk = Api(base_url, applicant_token, timings), Api(base_url, clerk_token, timings)
        try:
            while time.monotonic() < stop_at:
                case = one_case(applicant, clerk, timeout)
                with lock:
                    cases.append(case)
        except (AssertionError, TimeoutError, httpx.HTTPError) as failed:
            with lock:
                failures.append(f"{type(failed).__name__}: {failed}")
        finally:
            applicant.close()
            clerk.close()
            with lock:
                per_thread.append(timings)

    def timers() -> None:
        timings = Timings()
        applicant = Api(base_url, applicant_token, timings)
        try:
            while time.monotonic() < stop_at:
                timer_cases.append(applicant.start(TIMED, {}, kind="start timer case")["id"])
                time.sleep(timer_every or 0)
        except (AssertionError, httpx.HTTPError) as failed:
            with lock:
                failures.append(f"timer case: {type(failed).__name__}: {failed}")
        finally:
            applicant.close()
            with lock:
                per_thread.append(timings)

    threads = [threading.Thread(target=client, name=f"client-{i}", daemon=True) for i in range(clients)]
    if timer_every:
        threads.append(threading.Thread(target=timers, name="timer-cases", daemon=True))
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    merged = Timings()
    for timings in per_thread:
        merged.merge(timings)
    return Load(cases, elapsed, merged, timer_cases, failures)


def quantiles(values: list[float]) -> tuple[float, float]:
    """(p50, p95) of `values`, nearest rank; NaN for none."""
    if not values:
        return float("nan"), float("nan")
    ordered = sorted(values)
    return statistics.median(ordered), ordered[math.ceil(0.95 * len(ordered)) - 1]


def _within(column: Any, cases: list[int]) -> Any:
    """The ids from the first of `cases` to the last: one run's cases, as runs take turns on a database (a range,
    not a list of thousands of parameters)."""
    return column.between(min(cases, default=0), max(cases, default=-1))


def finishing(db: Database, cases: list[int]) -> list[float]:
    """Per completed case, seconds from its last task's completion to its end (the workers' automatic steps)."""
    last = (select(HumanTask.instance_id, func.max(HumanTask.completed_at).label("at"))
            .where(_within(HumanTask.instance_id, cases)).group_by(HumanTask.instance_id).subquery())
    with db.read() as s:
        rows = s.execute(select(Instance.ended_at, last.c.at).join(last, last.c.instance_id == Instance.id)
                         .where(Instance.status == "completed")).all()
    return [(ended - done).total_seconds() for ended, done in rows]


def timer_lags(db: Database, cases: list[int]) -> list[float]:
    """Per fired timer of `cases`, seconds from its due time to its `timer_fired` event (how late it fired)."""
    with db.read() as s:
        rows: list[tuple[datetime, datetime]] = s.execute(
            select(Event.at, Timer.due_at)
            .join(Timer, (Timer.instance_id == Event.instance_id) & (Timer.task_id == Event.task_id))
            .where(Event.kind == "timer_fired", _within(Event.instance_id, cases))).all()
    return [(at - due).total_seconds() for at, due in rows]


def completed(db: Database, process: str, cases: list[int]) -> int:
    """How many of `process`'s cases among `cases` (a run's) are completed."""
    with db.read() as s:
        return s.scalar(select(func.count(Instance.id)).where(
            _within(Instance.id, cases), Instance.process_key == process, Instance.status == "completed"))


def await_ready(base_url: str, timeout: float = 60) -> bool:
    """Whether `/readyz` answered 200 within `timeout` seconds (database, migrations and broker checked)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    return False
