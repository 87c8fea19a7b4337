"""抄送: copies made by the process (`cc`) and by an approver; what a copy lets its recipient see, and what not."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.vocabulary import EventKind, NoticeKind
from engine.case.carboncopy import carbon_copy, choices, copies, mark_read
from engine.case.notifications import list_notifications
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.copies import Recipients, parse
from engine.definitions.registry import deploy, validate
from engine.people import assignment
from engine.people.accounts import add_user, disable_user
from engine.runtime.inbox import InstanceFilter, TaskFilter, list_instances, list_tasks
from engine.runtime.runtime import Runtime
from engine.store.models import Event
from tests.support.builder import Node, bpmn, end, flows, props, render, start, user
from tests.support.repo import ROLES
from tests.support.shipped import at_approval
from tests.support.workspaces import OPEN, workspace


def _events(runtime: Runtime, case: int) -> list[Event]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Event).where(Event.instance_id == case,
                                                        Event.kind == EventKind.CARBON_COPIED).order_by(Event.id)))


def test_the_approvers_copy_reaches_staff_who_see_the_case_but_never_its_task(runtime: Runtime) -> None:
    case, task = at_approval(runtime)
    window, zhujian = runtime.actor("window"), runtime.actor("zhujian")
    with pytest.raises(NotFound):
        runtime.instance(case, zhujian)
    assert carbon_copy(runtime.db, case, Recipients(users=("zhujian",)), "请住建局知悉", window) == ["zhujian"]

    assert runtime.instance(case, zhujian, detail=True).open_tasks == []  # the case, and no task in it
    with pytest.raises(NotFound):
        runtime.task_detail(task, zhujian)
    with pytest.raises(NotFound):
        assignment.claim(runtime.db, task, zhujian)
    with pytest.raises(NotFound):
        runtime.complete(task, {"decision": "approved", "comment": "同意"}, zhujian)
    assert list_tasks(runtime.db, zhujian, TaskFilter())[0] == []
    assert [c.id for c in list_instances(runtime.db, zhujian, InstanceFilter())[0]] == [case]

    [event] = _events(runtime, case)
    assert (event.user_id, event.detail) == (window.id, {"roles": [], "users": ["zhujian"], "reason": "请住建局知悉"})
    [notice] = list_notifications(runtime.db, zhujian)[0]
    assert (notice["kind"], notice["instance_id"]) == (NoticeKind.CARBON_COPY, case)
    assert "请住建局知悉" in notice["text"]["zh"]
    [row] = copies(runtime.db, case, window)
    assert (row["user"], row["by"], row["reason"], row["read_at"]) == ("zhujian", "window", "请住建局知悉", None)


def test_a_copy_masks_personal_data_as_for_any_reviewing_department(runtime: Runtime) -> None:
    apply = {"type": "object", "properties": {"agent_id": {"type": "string", "title": "经办人身份证号",
                                                            "x-input": True, "x-personal": True}}}
    body = render([start(form="apply.json"), user("review", "审阅", "open.json"), end(outcome="approved")],
                  flows(("start", "review"), ("review", "end")))
    deploy(runtime.db, workspace({"t.bpmn": bpmn("t_cc", body, {"窗口人员": ["review"], "申请人": ["start"]})},
                                 {"open.json": OPEN, "apply.json": apply}, key="t_cc"), by="tests")
    view = runtime.start("t_cc", {"agent_id": "370202199001010012"}, runtime.actor("haiyun"))
    carbon_copy(runtime.db, view.id, Recipients(users=("zhujian",)), None, runtime.actor("window"))
    assert (runtime.instance(view.id, runtime.actor("zhujian"), detail=True).data or {})["agent_id"] == \
        "3702**********0012"


def test_read_status_is_per_recipient_and_kept_from_the_first_read(runtime: Runtime) -> None:
    case, _ = at_approval(runtime)
    carbon_copy(runtime.db, case, Recipients(users=("zhujian", "xiaofang")), None, runtime.actor("window"))
    first = mark_read(runtime.db, case, runtime.actor("zhujian"))
    assert first is not None and mark_read(runtime.db, case, runtime.actor("zhujian")) == first
    status = {r["user"]: r["read_at"] for r in copies(runtime.db, case, runtime.actor("window"))}
    assert status == {"zhujian": first, "xiaofang": None}
    with pytest.raises(NotFound):  # not copied to the window clerk: nothing to mark
        mark_read(runtime.db, case, runtime.actor("window"))
    assert mark_read(runtime.db, case, runtime.actor("window"), quiet=True) is None
    carbon_copy(runtime.db, case, Recipients(users=("zhujian",)), "再看一下", runtime.actor("window"))
    status = {r["user"]: r["read_at"] for r in copies(runtime.db, case, runtime.actor("window"))}
    assert status == {"zhujian": None, "xiaofang": None}  # copied again: unread again


def test_copies_to_another_enterprise_unknown_users_and_empty_roles_are_refused_whole(runtime: Runtime) -> None:
    case, _ = at_approval(runtime)
    window = runtime.actor("window")
    with pytest.raises(FormInvalid) as refused:
        carbon_copy(runtime.db, case, Recipients(users=("zhujian", "fushan", "nobody")), None, window)
    assert set(refused.value.fields) == {"/users/1", "/users/2"}
    assert refused.value.fields["/users/1"] == refused.value.fields["/users/2"]  # no hint which one exists
    with pytest.raises(FormInvalid) as refused:
        carbon_copy(runtime.db, case, Recipients(roles=("no_such_role",)), None, window)
    assert set(refused.value.fields) == {"/roles/0"}
    assert copies(runtime.db, case, window) == [] and _events(runtime, case) == []
    with pytest.raises(FormInvalid):
        carbon_copy(runtime.db, case, Recipients(), None, window)
    with pytest.raises(FormInvalid):
        carbon_copy(runtime.db, case, Recipients(users=("zhujian",)), "长" * 501, window)


def test_a_role_copy_goes_to_its_holders_the_case_may_reach_and_the_own_enterprise(runtime: Runtime) -> None:
    case, _ = at_approval(runtime)
    with runtime.db.write() as session:
        catalogue = RoleCatalogue.from_yaml(ROLES)
        add_user(session, catalogue, "haiyun2", "ent_haiyun", ["applicant"])
    copied = carbon_copy(runtime.db, case, Recipients(roles=("applicant", "inspection_office")), None,
                         runtime.actor("window"))
    assert copied == ["haiyun", "haiyun2", "inspector"]  # not fushan: the applicant role of another enterprise
    with pytest.raises(NotFound):
        runtime.instance(case, runtime.actor("fushan"))
    assert {r["user"]: r["role"] for r in copies(runtime.db, case, runtime.actor("window"))}["inspector"] == \
        "inspection_office"


def test_only_who_may_do_an_open_task_copies_and_only_while_the_case_runs(runtime: Runtime) -> None:
    case, task = at_approval(runtime)
    wanted = Recipients(users=("zhujian",))
    with pytest.raises(Forbidden):  # the applicant sees its case but is not its approver
        carbon_copy(runtime.db, case, wanted, None, runtime.actor("haiyun"))
    with pytest.raises(NotFound):  # another enterprise does not see it at all
        carbon_copy(runtime.db, case, wanted, None, runtime.actor("fushan"))
    carbon_copy(runtime.db, case, Recipients(users=("xiaofang",)), None, runtime.actor("window"))
    with pytest.raises(Forbidden):  # a copy is not a licence to copy on
        carbon_copy(runtime.db, case, wanted, None, runtime.actor("xiaofang"))
    runtime.complete(task, {"decision": "approved", "comment": "同意"}, runtime.actor("window"))
    with pytest.raises(Conflict):
        carbon_copy(runtime.db, case, wanted, None, runtime.actor("window"))


def test_the_applicant_holding_its_own_step_copies_nobody(runtime: Runtime) -> None:
    """The applicant may do the 填写申请 step (and a 补正 sent back to it), but it is not an approver: a copy from it
    would push notices to any staff member it names and open its case to them."""
    view = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, runtime.actor("haiyun"))
    with pytest.raises(Forbidden):
        carbon_copy(runtime.db, view.id, Recipients(users=("zhujian",)), "请关注", runtime.actor("haiyun"))
    assert _events(runtime, view.id) == []
    assert list_notifications(runtime.db, runtime.actor("zhujian"))[0] == []


def _cc_process(runtime: Runtime, task_cc: str, end_cc: str | None = None) -> int:
    """A case of a process whose window-clerk task (and end event) carry `cc`, waiting at that task."""
    closing = Node("endEvent", "end", ext=props(outcome="approved", **({"cc": end_cc} if end_cc else {})))
    body = render([start(), user("review", "审阅", "open.json", cc=task_cc), closing],
                  flows(("start", "review"), ("review", "end")))
    deploy(runtime.db, workspace({"t.bpmn": bpmn("t_cc", body, {"窗口人员": ["review"], "申请人": ["start"]})},
                                 {"open.json": OPEN}, key="t_cc"), by="tests")
    return runtime.start("t_cc", {}, runtime.actor("haiyun")).id


def test_the_process_cc_copies_when_its_element_completes_once(runtime: Runtime) -> None:
    case = _cc_process(runtime, "dispatcher", end_cc="user:zhujian")
    assert copies(runtime.db, case, runtime.actor("admin")) == []  # `review` copies when it is done, not before
    [task] = runtime.instance(case, runtime.actor("admin")).open_tasks
    runtime.complete(task.id, {}, runtime.actor("window"))
    rows = {r["user"]: r for r in copies(runtime.db, case, runtime.actor("admin"))}
    assert (rows["dispatcher"]["role"], rows["dispatcher"]["by"], rows["dispatcher"]["element_id"]) == (
        "dispatcher", None, "review")
    assert (rows["zhujian"]["role"], rows["zhujian"]["element_id"]) == (None, "end")  # the end event, when reached
    assert [(e.element_id, e.user_id) for e in _events(runtime, case)] == [("review", None), ("end", None)]
    assert _events(runtime, case)[0].task_id == task.id
    runtime.advance(case)  # nothing new: the copies are not made twice
    assert len(_events(runtime, case)) == 2
    assert runtime.instance(case, runtime.actor("dispatcher")).status == "completed"


def test_a_cc_naming_nobody_leaves_the_step_alone_and_says_so(runtime: Runtime) -> None:
    case = _cc_process(runtime, "user:gone_user")
    [task] = runtime.instance(case, runtime.actor("admin")).open_tasks
    assert runtime.complete(task.id, {}, runtime.actor("window")).status == "completed"
    [event] = _events(runtime, case)
    assert event.detail == {"roles": [], "users": [], "unresolved": ["user:gone_user"], "copied": 0}


def test_the_cc_property_is_read_and_linted() -> None:
    assert parse("dispatcher, user:zhang.san inspection_office") == (
        Recipients(("dispatcher", "inspection_office"), ("zhang.san",)), [])
    assert parse("dispatcher, user:, 主任")[1] == ["user:", "主任"]
    body = render([start(), user("a", "审阅", "open.json", cc="dispatchr, user:x y!"), end(outcome="approved")],
                  flows(("start", "a"), ("a", "end")))
    problems = validate(workspace({"t.bpmn": bpmn("t_cc", body, {"窗口人员": ["a"], "申请人": ["start"]})},
                                  {"open.json": OPEN}, key="t_cc"))
    [problem] = [p for p in problems if "cc" in p.message]
    assert problem.severity == "error" and problem.element_id == "a"
    assert "dispatchr" in problem.message and "y!" in problem.message


def test_the_picker_offers_whom_the_approver_may_copy_to_and_nobody_else_gets_one(runtime: Runtime) -> None:
    """The 抄送 form's choices: the people the case may reach (staff, its own enterprise — never another one, never
    the approver itself, nobody disabled) and their roles; None — no form — for whoever would be refused."""
    case, task = at_approval(runtime)
    with runtime.db.write() as session:
        add_user(session, RoleCatalogue.from_yaml(ROLES), "gone", "zhujian", ["reviewer_zhujian"])
        disable_user(session, "gone")
    picker = choices(runtime.db, case, runtime.actor("window"))
    assert picker is not None
    usernames = [u for u, _ in picker.users]
    assert {"zhujian", "haiyun", "dispatcher"} <= set(usernames) and usernames == sorted(usernames)
    assert not {"fushan", "window", "gone"} & set(usernames)  # another enterprise; oneself; disabled
    assert {"reviewer_zhujian", "applicant"} <= set(picker.roles)
    for refused in ("haiyun", "zhujian", "fushan", "admin"):  # no open task of theirs; not seen; not to do
        assert choices(runtime.db, case, runtime.actor(refused)) is None
    runtime.complete(task, {"decision": "approved", "comment": "同意"}, runtime.actor("window"))
    assert choices(runtime.db, case, runtime.actor("window")) is None  # a case no longer running
