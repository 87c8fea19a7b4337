"""Message correlation between cases (engine/runtime/correlation.py): a message by name and key reaches exactly the
cases waiting for it with that key; no case waiting, a message start event starts one; the rest is refused."""

from __future__ import annotations

import pytest

from engine.base.errors import Conflict, Forbidden, FormInvalid
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from tests.support.correlation import FORMS, _waiter, deploy, waits
from tests.support.steps import begin
from tests.support.workspaces import workspace


def test_a_message_reaches_only_the_cases_waiting_with_its_key(runtime: Runtime) -> None:
    deploy(runtime)
    first = begin(runtime, "t_corr", {"credit_code": "91370202MA3C4XY01E"})
    second = begin(runtime, "t_corr", {"credit_code": "91370212MA3C4XY02F"})
    assert waits(runtime) == {(first.id, "permit_issued", "91370202MA3C4XY01E"),
                              (second.id, "permit_issued", "91370212MA3C4XY02F")}
    admin = runtime.actor("admin")
    result = runtime.correlate("permit_issued", "91370202MA3C4XY01E", {"permit_no": "P-1"}, admin)
    assert [v.case_number for v in result.delivered] == [first.case_number] and result.started == []
    assert runtime.instance(first.id, admin).status == "completed"
    assert runtime.instance(second.id, admin).status == "running"
    assert waits(runtime) == {(second.id, "permit_issued", "91370212MA3C4XY02F")}  # the caught one's row went
    with pytest.raises(Conflict) as nobody:  # delivered once: nobody waits with that key any more
        runtime.correlate("permit_issued", "91370202MA3C4XY01E", {}, admin)
    assert "/key" in nobody.value.fields
    runtime.terminate(second.id, admin)
    assert waits(runtime) == set()  # a case that stops waiting leaves no row behind


def test_a_message_start_event_starts_a_case_with_the_payload_checked_by_its_form(runtime: Runtime) -> None:
    deploy(runtime)
    admin = runtime.actor("admin")
    result = runtime.correlate("complaint_filed", None, {"credit_code": "91370202MA3C4XY01E", "text": "噪音"}, admin)
    [case] = result.started
    assert case.process_key == "t_corr_start" and [t.element_id for t in case.open_tasks] == ["review"]
    shown = runtime.instance(case.id, admin, detail=True)
    assert shown.data["text"] == "噪音"
    assert [e["kind"] for e in shown.events][:2] == ["started", "message_received"]
    with pytest.raises(FormInvalid) as bad:  # the start form requires the credit code
        runtime.correlate("complaint_filed", None, {"text": "噪音"}, admin)
    assert "/credit_code" in bad.value.fields
    with pytest.raises(FormInvalid):  # a field the start form does not declare
        runtime.correlate("complaint_filed", None, {"credit_code": "x", "status": "approved"}, admin)


def test_who_may_send_and_what_a_message_must_be(runtime: Runtime) -> None:
    deploy(runtime)
    begin(runtime, "t_corr", {"credit_code": "A"})
    for who in ("haiyun", "window", "designer"):
        with pytest.raises(Forbidden):
            runtime.correlate("permit_issued", "A", {}, runtime.actor(who))
    admin = runtime.actor("admin")
    for message, key, path in (("", "A", "/message"), (None, "A", "/message"), ("x" * 201, "A", "/message"),
                               (3, "A", "/message"), ("permit_issued", "", "/key"), ("permit_issued", 7, "/key"),
                               ("permit_issued", "A\x00", "/key")):
        with pytest.raises(FormInvalid) as bad:
            runtime.correlate(message, key, {}, admin)
        assert path in bad.value.fields
    with pytest.raises(FormInvalid):
        runtime.correlate("permit_issued", "A", {"n": float("nan")}, admin)
    with pytest.raises(Conflict):
        runtime.correlate("nobody_listens", "A", {}, admin)
    assert len(waits(runtime)) == 1


def test_a_key_that_cannot_be_worked_out_is_the_cases_error_naming_the_element(runtime: Runtime) -> None:
    deploy(runtime, key_expression="no_such_field + 1")
    case = begin(runtime, "t_corr", {"credit_code": "A"})
    assert (case.status, case.error_element) == ("error", "permit")
    assert "correlationKey" in (case.error or "")


def test_a_case_waiting_for_a_message_keeps_its_key_when_migrated(runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, "t_corr", {"credit_code": "K1"})
    deploy(runtime, key_expression="credit_code.lower()")  # version 2 keys new waits differently
    admin = runtime.actor("admin")
    [moved] = runtime.migrate("t_corr", 1, 2, None, None, admin).cases
    assert moved.outcome == "moved" and [m.element for m in moved.moves] == ["permit"]
    assert waits(runtime) == {(case.id, "permit_issued", "K1")}
    [done] = runtime.correlate("permit_issued", "K1", {}, admin).delivered
    assert (done.status, done.version) == ("completed", 2)


def test_a_key_expression_is_checked_at_validate() -> None:
    problems = validate(workspace({"t_corr.bpmn": _waiter("__import__('os')")}, FORMS, key="t_corr"))
    assert [(p.element_id, "correlationKey" in p.message) for p in problems if p.severity == "error"] == [
        ("permit", True)]


def test_a_suspended_waiting_case_is_skipped_and_told(runtime: Runtime) -> None:
    deploy(runtime)
    admin = runtime.actor("admin")
    held = begin(runtime, "t_corr", {"credit_code": "K1"})
    runtime.suspend(held.id, admin)
    with pytest.raises(Conflict) as none_took:
        runtime.correlate("permit_issued", "K1", {}, admin)
    assert list(none_took.value.fields) == [f"/cases/{held.id}"]
    other = begin(runtime, "t_corr", {"credit_code": "K1"})
    result = runtime.correlate("permit_issued", "K1", {}, admin)
    assert [v.id for v in result.delivered] == [other.id] and list(result.skipped) == [str(held.id)]
    runtime.resume(held.id, admin)
    assert [v.id for v in runtime.correlate("permit_issued", "K1", {}, admin).delivered] == [held.id]
