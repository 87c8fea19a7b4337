"""A process's own stages (process.yaml `stages:`, issue 16 point 2): where a case stands on them, the working-day
countdown, and the manifest's checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.base.workdays import WorkingDayCalendar
from engine.definitions.registry import validate
from engine.definitions.stages import parse_stages
from engine.definitions.workspace import Manifest, ManifestError
from engine.runtime.caseview import countdown, declared_stages
from engine.runtime.views import InstanceView
from tests.support.repo import repo_files

QYSQ = parse_stages([
    {"key": "accept", "name": {"zh": "受理", "en": "Accepted"}, "elements": ["start", "intake", "dispatch"]},
    {"key": "handle", "name": {"zh": "办理", "en": "Handling"}, "elements": ["sign", "handle"]},
    {"key": "feedback", "name": {"zh": "反馈", "en": "Feedback"}, "elements": ["rate"]}])


def _view(completed: list[str], active: list[str], status: str = "running", outcome: str | None = None,
          due: datetime | None = None) -> InstanceView:
    return InstanceView(1, "X", "qysq_request", 1, status, diagram={"completed": completed, "active": active},
                        outcome=outcome, due_at=due)


def _states(view: InstanceView) -> list[str]:
    return [s.state for s in declared_stages(view, QYSQ)]


@pytest.mark.parametrize(("completed", "active", "status", "outcome", "expected"), [
    ([], ["intake"], "running", None, ["current", "todo", "todo"]),
    (["start", "intake", "dispatch"], ["sign"], "running", None, ["done", "current", "todo"]),
    (["start", "intake", "dispatch"], ["b_timer"], "running", None, ["done", "current", "todo"]),  # between stages
    (["start", "intake", "dispatch", "sign", "handle"], ["rate"], "running", None, ["done", "done", "current"]),
    (["start", "intake", "dispatch", "sign", "handle", "rate"], ["validity"], "running", "approved",
     ["done", "done", "done"]),  # past the last stage's elements: through
    (["start", "intake"], [], "completed", "closed", ["done", "done", "done"]),  # an enquiry answered at intake
    (["start", "intake", "dispatch"], [], "completed", "withdrawn", ["stopped", "todo", "todo"]),  # where it stood,
    (["start", "intake", "dispatch", "sign"], [], "terminated", "terminated", ["done", "stopped", "todo"]),
])
def test_where_a_case_stands(completed: list[str], active: list[str], status: str, outcome: str | None,
                             expected: list[str]) -> None:
    assert _states(_view(completed, active, status, outcome)) == expected


def test_stage_names_in_both_languages() -> None:
    [first, *_] = declared_stages(_view([], ["intake"]), QYSQ)
    assert (first.key, first.name) == ("accept", ("受理", "Accepted"))


def test_countdown_in_working_days() -> None:
    calendar = WorkingDayCalendar()
    thursday_night = datetime(2026, 3, 5, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Qingdao
    monday = datetime(2026, 3, 2, 1, tzinfo=UTC)
    left = countdown(_view([], ["handle"], due=thursday_night), calendar, monday)
    assert left is not None and (left.days, left.overdue) == (3, False)
    late = countdown(_view([], ["handle"], due=thursday_night), calendar, datetime(2026, 3, 10, 1, tzinfo=UTC))
    assert late is not None and (late.days, late.overdue) == (3, True)  # Friday, Monday, Tuesday
    assert countdown(_view([], ["rate"], outcome="approved", due=thursday_night), calendar, monday) is None
    assert countdown(_view([], ["handle"]), calendar, monday) is None


@pytest.mark.parametrize(("stages", "message"), [
    ("stages: {a: 1}", "2 至"),
    ("stages: [{key: a, name: {zh: 甲, en: A}, elements: [x]}]", "2 至"),
    ("stages: [{key: 1a, name: {zh: 甲, en: A}, elements: [x]}, {key: b, name: {zh: 乙, en: B}, elements: [y]}]",
     "stage 1"),
    ("stages: [{key: a, name: {zh: 甲}, elements: [x]}, {key: b, name: {zh: 乙, en: B}, elements: [y]}]", "zh and en"),
    ("stages: [{key: a, name: {zh: 甲, en: A}, elements: []}, {key: b, name: {zh: 乙, en: B}, elements: [y]}]",
     "non-empty"),
    ("stages: [{key: a, name: {zh: 甲, en: A}, elements: [x]}, {key: a, name: {zh: 乙, en: B}, elements: [y]}]",
     "listed twice"),
])
def test_a_bad_stages_section_is_refused(stages: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        Manifest.from_yaml("processes/x/process.yaml", f"key: x\ncode: X\nname: x\n{stages}\n".encode())


def test_a_stage_naming_an_element_the_diagram_lacks_is_an_error() -> None:
    files = repo_files()
    path = "processes/qysq/process.yaml"
    files[path] = files[path].replace(b"elements: [start, intake, dispatch]", b"elements: [start, intak, dispatch]")
    problems = [p for p in validate(files) if p.severity == "error"]
    assert [(p.file, p.element_id) for p in problems] == [(path, "intak")]
    assert not [p for p in validate(repo_files()) if p.severity == "error"]  # the shipped stages fit their diagrams
