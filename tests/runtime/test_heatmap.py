"""The supervision heat map (issue 16 point 7): times per task (median, p90), SLA breaches, flow shares, the period
and street filters, and who may ask — on the database the suite runs on (SQLite, or PostgreSQL's percentile_cont)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.background.timers import sweep
from engine.base import clock
from engine.base.errors import Forbidden, NotFound
from engine.runtime.heatmap import heat_map, percentile, versions
from engine.runtime.runtime import Runtime
from engine.runtime.supervision import Period
from engine.store.models import Instance
from tests.support.heatmap import heat_cases, qysq_version
from tests.support.timers import timed
from tests.support.zzs import _accepted

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
HOUR = 3600.0


def test_times_and_breaches_per_task(runtime: Runtime) -> None:
    heat_cases(runtime)
    board = heat_map(runtime.db, runtime.actor("dispatcher"), qysq_version(runtime), MARCH, None,
                     runtime.settings.timezone)
    assert board.cases == 7 and board.version.process_key == "qysq_request" and not board.truncated
    tasks = {e.element_id: e for e in board.elements}
    handle = tasks["handle"]
    assert (handle.closed, handle.open, handle.breaches, handle.open_breaches) == (5, 1, 2, 1)
    assert handle.median == pytest.approx(3 * HOUR)  # 1, 2, 3, 4, 10 hours
    assert handle.p90 == pytest.approx(7.6 * HOUR)  # percentile_cont: 4 + 0.6 × (10 − 4)
    assert handle.name == "办理"
    intake = tasks["intake"]
    assert (intake.closed, intake.open, intake.breaches, intake.median, intake.p90) == (7, 0, 0, 1800, 1800)
    assert board.elements[0].element_id == "handle"  # the slowest first


def test_flow_shares(runtime: Runtime) -> None:
    heat_cases(runtime)
    board = heat_map(runtime.db, runtime.actor("inspector"), qysq_version(runtime), MARCH, None,
                     runtime.settings.timezone)
    flows = {f.flow_id: f for f in board.flows}
    assert (flows["f_start"].cases, flows["f_start"].share) == (7, 1.0)
    assert flows["f_intake"].cases == 7  # into the gateway: the intake before it leads only there
    assert (flows["f_kind_request"].cases, flows["f_kind_question"].cases) == (6, 1)
    assert flows["f_kind_question"].share == pytest.approx(1 / 7)
    assert flows["f_kind_question"].name == "政策咨询"
    assert flows["f_sign_ok"].cases == 6  # sign, then handle
    # handle is also entered from the 视为签收 timer's way, and the way back to dispatch is a loop: nothing tells
    assert flows["f_sign_return"].cases is None
    assert flows["f_returned"].cases is None
    assert (flows["f_handle_done"].cases, flows["f_handle_done"].share) == (0, 0.0)  # no quality check made ready
    assert flows["f_returned"].share is None


def test_period_and_street(runtime: Runtime) -> None:
    heat_cases(runtime)
    version, tz = qysq_version(runtime), runtime.settings.timezone
    bdq = heat_map(runtime.db, runtime.actor("admin"), version, MARCH, "street_bdq", tz)
    assert bdq.cases == 3
    handle = next(e for e in bdq.elements if e.element_id == "handle")
    assert (handle.closed, handle.median, handle.p90, handle.breaches) == (3, 2 * HOUR, pytest.approx(2.8 * HOUR), 1)
    assert bdq.streets == [("street_bdq", "八大峡街道"), ("street_ynl", "云南路街道")]
    early = heat_map(runtime.db, runtime.actor("admin"), version, Period(date(2026, 3, 2), date(2026, 3, 3)), None, tz)
    assert early.cases == 2
    assert next(e for e in early.elements if e.element_id == "handle").median == pytest.approx(1.5 * HOUR)
    nobody = heat_map(runtime.db, runtime.actor("admin"), version, MARCH, "street_zhl", tz)
    assert (nobody.cases, nobody.elements) == (0, [])
    assert all(f.share is None for f in nobody.flows)


def test_only_supervisors_and_known_versions(runtime: Runtime) -> None:
    heat_cases(runtime)
    version, tz = qysq_version(runtime), runtime.settings.timezone
    for user in ("haiyun", "window"):
        with pytest.raises(Forbidden):
            heat_map(runtime.db, runtime.actor(user), version, MARCH, None, tz)
        with pytest.raises(Forbidden):
            versions(runtime.db, runtime.actor(user))
    with pytest.raises(NotFound):
        heat_map(runtime.db, runtime.actor("admin"), 999_999, MARCH, None, tz)
    listed = {v.id: v for v in versions(runtime.db, runtime.actor("dispatcher"))}
    assert listed[version].cases == 7 and listed[version].name_zh.endswith("企业诉求")


def test_percentile_is_percentile_cont() -> None:
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 10.0], 0.9) == pytest.approx(7.6)


def test_waits_at_intermediate_timers_are_timed_from_arming_to_firing(runtime: Runtime) -> None:
    """Real cases: two wait the hour out (one fires an hour later, at the next sweep), one still waits."""
    begun = clock.now()
    first, second = timed(runtime, count=2)
    clock.travel(timedelta(minutes=30))
    [third] = timed(runtime)
    clock.travel(timedelta(minutes=31))  # the first two are due; the third waits 29 minutes more
    assert sweep(runtime) == 2
    version = next(v.id for v in versions(runtime.db, runtime.actor("admin")) if v.process_key == "timed")
    day = Period(begun.date() - timedelta(days=1), begun.date() + timedelta(days=1))
    board = heat_map(runtime.db, runtime.actor("dispatcher"), version, day, None, runtime.settings.timezone)
    [wait] = board.elements
    assert (wait.element_id, wait.kind, wait.closed, wait.open, wait.breaches) == ("wait", "timer", 2, 1, 0)
    assert wait.median == pytest.approx(61 * 60, abs=1) and wait.p90 == pytest.approx(61 * 60, abs=1)
    with runtime.db.read() as session:
        status = dict(session.execute(select(Instance.id, Instance.status)).all())
    assert [status[i] for i in (first, second, third)] == ["completed", "completed", "running"]


def test_a_street_inside_the_address_is_filterable(runtime: Runtime) -> None:
    """ZZS keeps its street in `address.street_office`; its process.yaml reports it as `street`."""
    _accepted(runtime)
    version = next(v.id for v in versions(runtime.db, runtime.actor("admin")) if v.process_key == "zzs_prereg")
    day = clock.now().date()
    period, tz = Period(day, day), runtime.settings.timezone
    mine = heat_map(runtime.db, runtime.actor("dispatcher"), version, period, "street_xgzl", tz)
    assert mine.cases == 1 and mine.streets == [("street_xgzl", "香港中路街道")]
    assert {e.element_id for e in mine.elements} >= {"precheck"}
    assert heat_map(runtime.db, runtime.actor("dispatcher"), version, period, "street_bdq", tz).cases == 0
