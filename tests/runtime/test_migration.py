"""版本迁移 (engine/runtime/migration.py): running cases move from version n to a later one — checked first, each
in one step, recorded — and what must be refused is refused with nothing moved."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.base import clock
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.runtime.migration import MigrationRefused
from engine.runtime.runtime import Runtime
from engine.store.models import CaseFact, Event, HumanTask, Instance, Timer
from tests.support.migration import KEY, deploy
from tests.support.steps import begin, do, inbox


def admin(runtime: Runtime) -> Any:
    return runtime.actor("admin")


def version_of(runtime: Runtime, instance_id: int) -> int:
    with runtime.db.read() as session:
        inst = session.get(Instance, instance_id)
        return session.execute(select(Instance.version_id).where(Instance.id == inst.id)).scalar_one()


def events(runtime: Runtime, instance_id: int, kind: str) -> list[Event]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Event).where(Event.instance_id == instance_id, Event.kind == kind)))


def test_a_case_waiting_at_a_user_task_moves_and_continues_on_the_new_version(runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, KEY, {"unit": "A", "area": 50})
    [task] = inbox(runtime, "window", case.id)
    deploy(runtime, check=True)  # version 2 adds a 核查 after 受理

    report = runtime.migrate(KEY, 1, None, None, None, admin(runtime))
    assert [c.outcome for c in report.cases] == ["moved"] and report.to_version == 2
    assert [m.to_dict() for m in report.cases[0].moves] == [
        {"element": "accept", "to": "accept", "kind": "UserTask", "state": "ready"}]
    assert runtime.instance(case.id, admin(runtime)).version == 2
    [again] = inbox(runtime, "window", case.id)
    assert again.id == task.id  # the same task row: its id, due time and SLA clock are kept
    [migrated] = events(runtime, case.id, "migrated")
    assert migrated.detail["from"] == 1 and migrated.detail["to"] == 2 and migrated.user_id is not None

    # from the live cache, and from a runtime that deserializes the stored state: both go on to 核查
    view = do(runtime, "window", case.id, "accept", {"ok": True})
    assert [t.element_id for t in view.open_tasks] == ["check"]
    fresh = Runtime(runtime.db, runtime.settings)
    assert [t.element_id for t in fresh.instance(case.id, admin(runtime)).open_tasks] == ["check"]


def test_a_waiting_timer_keeps_its_due_time_and_fires_on_the_new_version(runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, KEY, {"unit": "A"})
    do(runtime, "window", case.id, "accept", {"ok": True})
    with runtime.db.read() as session:
        [row] = session.scalars(select(Timer).where(Timer.instance_id == case.id))
        due = row.due_at
    deploy(runtime, check=True, report=("unit",))
    [moved] = runtime.migrate(KEY, 1, 2, {}, [case.case_number], admin(runtime)).cases
    assert [m.element for m in moved.moves] == ["wait"] and moved.moves[0].kind.endswith("TimerEventDefinition")
    with runtime.db.read() as session:
        [row] = session.scalars(select(Timer).where(Timer.instance_id == case.id))
        assert (row.due_at, row.state) == (due, "waiting")
        facts = {f.name for f in session.scalars(select(CaseFact).where(CaseFact.instance_id == case.id))}
    assert facts == {"unit"}  # version 2 no longer reports `area`
    clock.travel(timedelta(days=11))
    assert runtime.advance(case.id).status == "completed"


def test_a_case_waiting_at_an_element_the_new_version_lacks_is_refused_unless_mapped(runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, KEY, {"unit": "A"})
    other = begin(runtime, KEY, {"unit": "B"})
    deploy(runtime, accept="intake", lane="区住建")  # renamed, and now the housing bureau's

    dry = runtime.migrate(KEY, 1, 2, None, None, admin(runtime), dry_run=True)
    assert [c.outcome for c in dry.cases] == ["refused", "refused"]
    assert "accept" in dry.cases[0].problems[0] and "map it" in dry.cases[0].problems[0]
    with pytest.raises(MigrationRefused) as refused:
        runtime.migrate(KEY, 1, 2, None, None, admin(runtime))
    assert set(refused.value.fields) == {f"/cases/{case.case_number}", f"/cases/{other.case_number}"}
    assert runtime.instance(case.id, admin(runtime)).version == 1 and not events(runtime, case.id, "migrated")

    would = runtime.migrate(KEY, 1, 2, {"accept": "intake"}, [case.case_number], admin(runtime), dry_run=True)
    assert [(c.outcome, [m.to for m in c.moves]) for c in would.cases] == [("would_move", ["intake"])]
    assert runtime.instance(case.id, admin(runtime)).version == 1  # a dry run writes nothing

    runtime.migrate(KEY, 1, 2, {"accept": "intake"}, [case.case_number], admin(runtime))
    assert inbox(runtime, "window", case.id) == []
    [task] = inbox(runtime, "zhujian", case.id)
    assert (task.element_id, task.role) == ("intake", "reviewer_zhujian")
    runtime.complete(task.id, {"ok": True}, runtime.actor("zhujian"))
    assert runtime.instance(other.id, admin(runtime)).version == 1  # not selected: left where it was


def test_the_mapping_and_the_versions_are_checked_before_anything(runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, KEY, {"unit": "A"})
    deploy(runtime, check=True)
    me = admin(runtime)
    wrong = [({"accept": "wait"}, "/mapping/accept", "same kind"), ({"nope": "accept"}, "/mapping/nope", "no element"),
             ({"accept": "nope"}, "/mapping/accept", "no element"), ({"accept": 3}, "/mapping/accept", "element id"),
             (["accept"], "/mapping", "object")]
    for mapping, path, said in wrong:
        with pytest.raises(FormInvalid) as bad:
            runtime.migrate(KEY, 1, 2, mapping, None, me)
        assert path in bad.value.fields and said in " ".join(bad.value.fields[path]), (mapping, bad.value.fields)
    with pytest.raises(FormInvalid, match="later version"):
        runtime.migrate(KEY, 2, 1, None, None, me)
    with pytest.raises(FormInvalid, match="later version"):
        runtime.migrate(KEY, 2, 2, None, None, me)
    for old in (0, -1, True, "1", None, 2**31, 10**30):
        with pytest.raises(FormInvalid):
            runtime.migrate(KEY, old, 2, None, None, me)
    with pytest.raises(NotFound):
        runtime.migrate(KEY, 1, 7, None, None, me)
    with pytest.raises(NotFound):
        runtime.migrate("t_none", 1, 2, None, None, me)
    with pytest.raises(FormInvalid):
        runtime.migrate(KEY, 1, 2, None, "all", me)
    for who in ("window", "designer", "haiyun"):
        with pytest.raises(Forbidden):
            runtime.migrate(KEY, 1, 2, None, None, runtime.actor(who))
    assert runtime.instance(case.id, me).version == 1


def test_cases_not_running_on_version_n_or_of_another_process_are_refused(runtime: Runtime) -> None:
    deploy(runtime)
    done = begin(runtime, KEY, {"unit": "A"})
    runtime.terminate(done.id, admin(runtime))
    deploy(runtime, check=True)
    newer = begin(runtime, KEY, {"unit": "B"})  # started on version 2
    report = runtime.migrate(KEY, 1, 2, None, [done.case_number, newer.case_number, "370202XXX20260101000001"],
                             admin(runtime), dry_run=True)
    problems = {c.case_number: c.problems[0] for c in report.cases}
    assert "terminated" in problems[done.case_number]
    assert "not on version 1" in problems[newer.case_number]
    assert "no such case" in problems["370202XXX20260101000001"]


def test_kind_place_and_forms_are_checked_per_case(runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, KEY, {"unit": "A"})
    deploy(runtime, boundary=True)  # 受理 gained a boundary timer: a case waiting there would never get it
    [refused] = runtime.migrate(KEY, 1, 2, None, None, admin(runtime), dry_run=True).cases
    assert "boundary event" in refused.problems[0]
    deploy(runtime, start_form="need_area.json")  # version 3 requires `area`, which the case never had
    [refused] = runtime.migrate(KEY, 1, 3, None, None, admin(runtime), dry_run=True).cases
    assert "area" in refused.problems[0] and "start form" in refused.problems[0]
    deploy(runtime, accept_form="shows_permit.json")  # version 4's 受理 shows a `permit` the case has not got
    [refused] = runtime.migrate(KEY, 1, 4, None, None, admin(runtime), dry_run=True).cases
    assert "permit" in refused.problems[0]
    with pytest.raises(Conflict):
        runtime.migrate(KEY, 1, 4, None, None, admin(runtime))
    assert runtime.instance(case.id, admin(runtime)).version == 1


def test_a_case_stepped_since_the_check_is_checked_again(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between the check and the move somebody completes 受理: the move sees the version counter moved and
    moves what the case now is (waiting at the timer)."""
    from engine.runtime import migration

    deploy(runtime)
    case = begin(runtime, KEY, {"unit": "A"})
    deploy(runtime, check=True)
    checked = migration._checked

    def racing(row: Any, *args: Any) -> Any:
        result = checked(row, *args)
        do(runtime, "window", case.id, "accept", {"ok": True})
        return result

    monkeypatch.setattr(migration, "_checked", racing)
    [moved] = runtime.migrate(KEY, 1, 2, None, None, admin(runtime)).cases
    assert moved.outcome == "moved" and [m.element for m in moved.moves] == ["wait"]
    with runtime.db.read() as session:
        assert session.scalars(select(HumanTask.state).where(HumanTask.instance_id == case.id)).all() == ["completed"]


def _waiting_timers(runtime: Runtime, case: int) -> set[tuple[str, str, datetime]]:
    with runtime.db.read() as session:
        return {(t.task_id, t.element_id, t.due_at) for t in session.scalars(
            select(Timer).where(Timer.instance_id == case, Timer.state == "waiting"))}


def _zzs_renamed(runtime: Runtime, name: str) -> int:
    """A new version of the shipped 住转商 whose decision task is called `name`: its number."""
    from engine.definitions.registry import deploy as deploy_files
    from tests.support.repo import repo_files

    files = repo_files()
    bpmn = files["processes/zzs/zzs.bpmn"].decode()
    files["processes/zzs/zzs.bpmn"] = bpmn.replace('name="备案决定"', f'name="{name}"').encode()
    [new] = [d for d in deploy_files(runtime.db, files, by="tests") if d.key == "zzs_prereg"]
    return new.version


def test_a_shipped_zzs_case_moves_twice_and_ends_as_a_case_of_the_new_version(runtime: Runtime) -> None:
    """住转商 waiting at the window's pre-check (with its 5-working-day boundary timer) moves to version 2, and in
    the street's two parallel checks to version 3; the timer rows and due times are untouched, and the case goes
    on exactly as a case started on version 3."""
    from io import BytesIO

    from engine.case.attachments import add_draft
    from tests.support.uploads import PDF
    from tests.support.zzs import APPLICATION, CONSENT, SITE, _complete, _filed_on

    clock.travel(datetime.fromisoformat("2026-03-02T09:00:00+08:00") - clock.now())
    applicant = runtime.actor("haiyun")
    sheet = add_draft(runtime.db, runtime.blobs, BytesIO(PDF), "业主同意书.pdf", "application/pdf", applicant)
    case = runtime.start("zzs_prereg", {**APPLICATION, "consent_sheet": str(sheet.id)}, applicant).id
    timers = _waiting_timers(runtime, case)
    assert {element for _, element, _ in timers} == {"b_deemed"}
    _zzs_renamed(runtime, "备案决定（二版）")
    [moved] = runtime.migrate("zzs_prereg", 1, None, None, None, admin(runtime)).cases
    assert moved.outcome == "moved", moved.problems
    assert {m.element for m in moved.moves} >= {"precheck", "b_deemed"}
    assert _waiting_timers(runtime, case) == timers
    _complete(runtime, case, "precheck", "window", {"precheck_result": "accept", "precheck_opinion": "予以受理",
                                                    "structure_change_confirmed": False,
                                                    "crowded_place_confirmed": False})
    assert _waiting_timers(runtime, case) == set()  # the boundary timer went with its task, as in any case

    three = _zzs_renamed(runtime, "备案决定（三版）")
    [moved] = runtime.migrate("zzs_prereg", 2, three, None, None, admin(runtime)).cases
    assert {"site_check", "consent_check"} <= {m.element for m in moved.moves}, moved.problems
    fresh = Runtime(runtime.db, runtime.settings)  # from the stored state, not the live cache
    _complete(fresh, case, "site_check", "street_xgzl", SITE)
    _complete(fresh, case, "consent_check", "street_xgzl", CONSENT)
    [decide] = fresh.instance(case, admin(runtime)).open_tasks
    assert decide.name == "备案决定（三版）"
    done = fresh.complete(decide.id, {"decision": "approve", "decision_opinion": "同意备案"}, fresh.actor("window"))
    assert (done.outcome, done.version) == ("approved", three)
    native, _ = _filed_on(runtime, "2026-03-02")  # a case of version 3, the same way
    shown = [fresh.instance(ref, admin(runtime), detail=True) for ref in (case, native)]
    assert shown[0].status == shown[1].status and shown[0].diagram == shown[1].diagram
    assert sorted(t.element_id for t in shown[0].open_tasks) == sorted(t.element_id for t in shown[1].open_tasks)
    assert {e for _, e, _ in _waiting_timers(runtime, case)} == {e for _, e, _ in _waiting_timers(runtime, shown[1].id)}
