"""Every change on record (issue 10, point 3): each step's field changes — path, old → new, who, when — in
GET /instances/{id}, on the case page and in `tongban show`; ID numbers masked for departments."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.base.errors import FormInvalid
from engine.cli.main import main
from engine.definitions.registry import deploy
from engine.definitions.writescope import READ_ONLY
from engine.runtime.runtime import Runtime
from engine.store.models import Event
from tests.support.builder import bpmn, form_props
from tests.support.http import PASSWORD, log_in
from tests.support.workspaces import workspace

APPLY = {"type": "object", "required": ["amount"], "properties": {
    "amount": {"type": "number", "title": "金额", "x-input": True},
    "agent_id": {"type": "string", "title": "身份证号", "x-personal": True},
    "address": {"type": "object", "title": "地址", "properties": {"room": {"type": "string", "title": "房间"}}},
}}
REVIEW = {"type": "object", "properties": {
    "amount": {"type": "number", "title": "金额", "x-input": True},
    "address": {"type": "object", "properties": {"room": {"type": "string"}}},
    "agent_id": {"type": "string", "readOnly": True},
}}
BODY = (
    f'<bpmn:startEvent id="start">{form_props("apply.json")}<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
    f'<bpmn:userTask id="review" name="复核">{form_props("review.json")}<bpmn:incoming>f1</bpmn:incoming>'
    "<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>"
    '<bpmn:scriptTask id="calc" name="计算费用"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
    "<bpmn:script>fee = amount * 2\ndel note</bpmn:script></bpmn:scriptTask>"
    '<bpmn:userTask id="close" name="办结">'
    f'{form_props("review.json")}<bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>'
    '<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>'
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />'
    '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="calc" />'
    '<bpmn:sequenceFlow id="f3" sourceRef="calc" targetRef="close" />'
    '<bpmn:sequenceFlow id="f4" sourceRef="close" targetRef="end" />'
)
LANES = {"申请人": ["start"], "窗口人员": ["review", "calc", "close"]}
AGENT_ID = "370202198506120012"


def deploy_history(runtime: Runtime) -> None:
    review = {**REVIEW, "properties": {**REVIEW["properties"], "note": {"type": "string"}}}
    deploy(runtime.db, workspace({"h.bpmn": bpmn("t_hist", BODY, LANES)}, {"apply.json": APPLY, "review.json": review},
                                 key="t_hist", code="HST"), by="tests")


def run_case(runtime: Runtime) -> int:
    deploy_history(runtime)
    view = runtime.start("t_hist", {"amount": 10, "agent_id": AGENT_ID, "address": {"room": "101"}},
                         runtime.actor("haiyun"))
    review = runtime.instance(view.id, runtime.actor("admin")).open_tasks[0]
    runtime.complete(review.id, {"amount": 12, "address": {"room": "202"}, "note": "核对"}, runtime.actor("window"))
    return view.id


def changes(history: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(c["path"], c.get("old", "∅"), c.get("new", "∅"), c["user"], c["element_id"]) for c in history]


def test_each_step_records_old_and_new_values_with_who_made_the_change(runtime: Runtime) -> None:
    case = run_case(runtime)
    view = runtime.instance(case, runtime.actor("admin"), detail=True)
    assert changes(view.history) == [
        ("/amount", "∅", 10, "haiyun", "start"), ("/agent_id", "∅", AGENT_ID, "haiyun", "start"),
        ("/address", "∅", {"room": "101"}, "haiyun", "start"),
        ("/amount", 10, 12, "window", "review"), ("/address/room", "101", "202", "window", "review"),
        ("/note", "∅", "核对", "window", "review"),
        ("/fee", "∅", 24, None, "calc"), ("/note", "核对", "∅", None, "calc"),  # the script, by its element
    ]
    fee = next(c for c in view.history if c["path"] == "/fee")
    assert fee["element"] == "计算费用" and fee["field"] == "fee"
    assert next(c for c in view.history if c["path"] == "/address/room")["field"] == "地址/room"


def test_a_refused_step_records_nothing_and_the_log_only_grows(runtime: Runtime) -> None:
    case = run_case(runtime)
    with runtime.db.read() as s:
        before = s.scalar(select(func.count()).select_from(Event).where(Event.instance_id == case))
        first = s.scalars(select(Event.detail).where(Event.instance_id == case).order_by(Event.id)).first()
    task = runtime.instance(case, runtime.actor("admin")).open_tasks[0]
    with pytest.raises(FormInvalid) as refused:
        runtime.complete(task.id, {"agent_id": "x"}, runtime.actor("window"))
    assert refused.value.fields == {"/agent_id": [READ_ONLY]}
    runtime.complete(task.id, {"amount": 13}, runtime.actor("window"))
    with runtime.db.read() as s:
        after = s.scalars(select(Event).where(Event.instance_id == case).order_by(Event.id)).all()
    assert len(after) > before and after[0].detail == first  # earlier rows untouched
    assert [c for e in after for c in (e.detail or {}).get("changes", []) if c["path"] == "/agent_id"] == [
        {"path": "/agent_id", "new": AGENT_ID}]


def login(client: FlaskClient, username: str) -> dict[str, str]:
    reply = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {reply.json['token']}"}


def test_the_api_shows_the_history_and_masks_id_numbers_for_departments(client: FlaskClient,
                                                                          runtime: Runtime) -> None:
    case = run_case(runtime)
    own = client.get(f"/api/v1/instances/{case}", headers=login(client, "haiyun")).json
    assert own["data"]["agent_id"] == AGENT_ID
    assert [c["new"] for c in own["history"] if c["path"] == "/agent_id"] == [AGENT_ID]
    assert all("changes" not in (e["detail"] or {}) for e in own["events"])  # told once, by the history
    # a clerk of a department the case's tasks never leave for would not see it at all; give one a task
    window = client.get(f"/api/v1/instances/{case}", headers=login(client, "window")).json
    assert window["data"]["agent_id"] == AGENT_ID  # window clerks check identity


def test_a_department_reviewer_sees_the_id_number_masked_everywhere(runtime: Runtime) -> None:
    deploy(runtime.db, workspace({"h.bpmn": bpmn("t_hist", BODY, {"申请人": ["start"],
                                                                  "区住建": ["review", "calc", "close"]})},
                                 {"apply.json": APPLY, "review.json": REVIEW}, key="t_hist", code="HST"), by="tests")
    view = runtime.start("t_hist", {"amount": 10, "agent_id": AGENT_ID}, runtime.actor("haiyun"))
    reviewer = runtime.actor("zhujian")
    seen = runtime.instance(view.id, reviewer, detail=True)
    assert seen.data["agent_id"] == "3702**********0012"
    assert [c["new"] for c in seen.history if c["path"] == "/agent_id"] == ["3702**********0012"]
    review = runtime.instance(view.id, runtime.actor("admin")).open_tasks[0]
    assert runtime.task_detail(review.id, reviewer)["data"]["agent_id"] == AGENT_ID  # its own form shows it


def test_the_case_page_lists_the_changes(client: FlaskClient, runtime: Runtime) -> None:
    case = run_case(runtime)
    log_in(client, "haiyun")
    page = client.get(f"/cases/{case}").get_data(as_text=True)
    assert "数据变更" in page and "计算费用" in page and "核对" in page


def test_tongban_show_prints_the_changes(runtime: Runtime, monkeypatch: Any) -> None:
    case = run_case(runtime)
    monkeypatch.setenv("TONGBAN_DATABASE_URL", str(runtime.db.engine.url))
    result = CliRunner().invoke(main, ["show", str(case)])
    assert result.exit_code == 0, result.output
    assert "金额 (/amount): 10 → 12  [window · 复核]" in result.output
    assert "fee (/fee): — → 24  [流程 process · 计算费用]" in result.output
    shown = json.loads(CliRunner().invoke(main, ["show", str(case), "--json"]).output)
    assert {"path": "/note", "old": "核对"}.items() <= next(
        c for c in shown["history"] if c["path"] == "/note" and "new" not in c).items()
