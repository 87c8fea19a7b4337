"""一业一证 (DOMAIN.md B): the rules a scenario's end state cannot show on its own — the permits table on both
sides of each threshold (including input the form refuses), the named time limits, which timers fired and
which reviews a missed 容缺 supply cancelled."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser
from sqlalchemy import select

from engine.base.vocabulary import EventKind, HumanTaskState
from engine.bpmn.scripting import script_engine
from engine.design.scenarios import Runner, load
from engine.store.models import Event, HumanTask, Instance
from tests.support.repo import REPO, repo_files

FOLDER = REPO / "processes" / "yyyz"


def decide(table: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a decision table of the process gives for `data`, as the business rule task would merge it."""
    parser = BpmnDmnParser()
    parser.add_dmn_file(str(FOLDER / table))
    engine = parser.get_engine(next(iter(parser.dmn_parsers)), etree.Element("task"))
    task = SimpleNamespace(data=data, workflow=SimpleNamespace(script_engine=script_engine()))
    return engine.result(task)


def permits(industry: str, area: float, food: list[str] | None = None, tobacco: bool = False,
            signboard: bool = False) -> list[str]:
    return decide("permits.dmn", {"industry": industry, "floor_area": area, "food_activities": food or [],
                                  "sells_tobacco": tobacco, "has_signboard": signboard}).get("permits", [])


def test_catering_needs_the_food_permit_even_with_no_food_activity() -> None:
    # the form refuses a restaurant without food activities; the table does not rely on it
    assert permits("restaurant", 50) == ["food"]
    assert permits("restaurant", 50, ["hot_food"]) == ["food"]  # one rule per case, never a duplicate
    assert permits("supermarket", 50) == []
    assert permits("supermarket", 50, ["prepackaged"]) == ["food"]


@pytest.mark.parametrize(("industry", "area", "expected"), [
    ("hotel", 99.99, []), ("hotel", 100, ["hygiene"]),  # 公共场所卫生: exempt below 100 m²
    ("beauty_salon", 100, ["hygiene"]), ("supermarket", 100, []),
    ("entertainment", 299.99, ["hygiene"]), ("entertainment", 300, ["hygiene", "fire"]),  # 消防: from 300 m²
    ("supermarket", 299.99, []), ("supermarket", 300, ["fire"]), ("beauty_salon", 5000, ["hygiene"]),
])
def test_area_thresholds_one_step_either_side(industry: str, area: float, expected: list[str]) -> None:
    assert permits(industry, area) == expected


def test_tobacco_and_signboard_follow_the_applicants_answers() -> None:
    assert permits("supermarket", 50, tobacco=True, signboard=True) == ["tobacco", "signboard"]


def test_the_statutory_limits_are_named_values_of_the_time_limits_table() -> None:
    limits = decide("time_limits.dmn", {"industry": "restaurant"})
    assert limits == {"precheck_days": 1, "deemed_acceptance_days": 5, "correction_days": 30, "inspection_days": 2,
                      "review_days": 4, "permit_statutory_days": 20, "joint_statutory_days": 45,
                      "delivery_statutory_days": 10, "verify_days": 20}


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    runner = Runner(repo_files(), tmp_path_factory.mktemp("yyyz"))
    yield runner
    runner.close()


def played(runner: Runner, scenario: str) -> list[tuple[str, str | None]]:
    """Play one of the process's scenarios; the (kind, element) of every event its case recorded, and
    ("task_<state>", element) for each of its user tasks."""
    result = runner.run(load(FOLDER / "scenarios" / scenario, scenario))
    assert result.passed, result.message
    with runner.db.reading() as conn:
        case = conn.execute(select(Instance.id).order_by(Instance.id.desc()).limit(1)).scalar_one()
        events = [(r.kind, r.element_id) for r in conn.execute(
            select(Event.kind, Event.element_id).where(Event.instance_id == case).order_by(Event.id))]
        tasks = [(f"task_{r.state}", r.element_id) for r in conn.execute(
            select(HumanTask.state, HumanTask.element_id).where(HumanTask.instance_id == case))]
    return events + tasks


def test_reviews_past_their_limits_are_marked_at_each_statutory_step(runner: Runner) -> None:
    fired = {e for k, e in played(runner, "18_statutory_limits_marked.yaml") if k == EventKind.TIMER_FIRED}
    assert {f"b_{p}_statutory" for p in ("food", "hygiene", "fire", "tobacco", "signboard")} <= fired
    assert {"b_promise_late", "b_statutory_late"} <= fired


def test_a_timely_case_fires_no_deadline(runner: Runner) -> None:
    fired = {e for k, e in played(runner, "01_restaurant_all_approved.yaml") if k == EventKind.TIMER_FIRED}
    assert fired == set()


def test_a_missed_supply_cancels_the_open_review_and_lapses(runner: Runner) -> None:
    events = played(runner, "05_tolerance_missed_lapsed.yaml")
    assert (EventKind.TIMER_FIRED, "b_supply_late") in events
    assert (f"task_{HumanTaskState.CANCELLED}", "review_food") in events  # the open review ends with the case
    assert (f"task_{HumanTaskState.COMPLETED}", "joint_inspection") in events  # review went on during the supply
    assert (EventKind.TASK_COMPLETED, "review_food") not in events


def test_delivery_past_ten_working_days_is_marked(runner: Runner) -> None:
    fired = {e for k, e in played(runner, "03_tobacco_refused_single_permits.yaml") if k == EventKind.TIMER_FIRED}
    assert "b_single_late" in fired
