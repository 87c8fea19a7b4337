"""Files uploaded with a start form before the case exists: bound to the case on start, or the start fails."""

from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.base.errors import FormInvalid
from engine.runtime.runtime import Runtime
from engine.store.models import Attachment
from tests.support.builder import end, flows, render, start, user
from tests.support.http import bearer
from tests.support.steps import put
from tests.support.storage import on_each_backend as settings  # noqa: F401 - every test runs on both backends
from tests.support.uploads import PNG

APPLY = {"type": "object", "required": ["title", "consent_sheet"],
         "properties": {"title": {"type": "string"}, "consent_sheet": {"type": "array", "items": {"type": "string"}}}}


def deploy_files(runtime: Runtime, review: dict[str, object], review_ui: dict[str, object] | None = None) -> str:
    nodes = [start(form="apply.json"), user("review", "审查", "review.json"), end()]
    edges = flows(("start", "review"), ("review", "end"))
    bpmn = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            '<bpmn:process id="t_files" isExecutable="true"><bpmn:laneSet id="ls">'
            '<bpmn:lane id="l1" name="申请人"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>'
            '<bpmn:lane id="l2" name="窗口人员"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>'
            f'</bpmn:laneSet>{render(nodes, edges)}</bpmn:process></bpmn:definitions>')
    forms = {"apply.json": APPLY, "apply.ui.json": {"consent_sheet": {"ui:widget": "files"}}, "review.json": review}
    if review_ui:
        forms["review.ui.json"] = review_ui
    put(runtime, "t_files", {"f.bpmn": bpmn}, forms)
    return "t_files"


@pytest.fixture
def files_process(runtime: Runtime) -> str:
    return deploy_files(runtime, {"type": "object"})


def draft(client: FlaskClient, headers: dict[str, str]) -> int:
    reply = client.post("/api/v1/uploads", data={"file": (io.BytesIO(PNG), "同意书.png")}, headers=headers)
    assert reply.status_code == 201 and reply.json["instance_id"] is None
    return reply.json["id"]


def test_drafts_become_the_cases_files_on_start(client: FlaskClient, runtime: Runtime, files_process: str) -> None:
    haiyun = bearer(client, "haiyun")
    ids = [draft(client, haiyun), draft(client, haiyun)]
    started = client.post(f"/api/v1/processes/{files_process}/instances", headers=haiyun,
                          json={"data": {"title": "带同意书", "consent_sheet": [str(i) for i in ids]}})
    assert started.status_code == 201, started.json
    case = started.json["id"]
    listed = client.get(f"/api/v1/instances/{case}/attachments", headers=bearer(client, "window"))
    assert sorted(a["id"] for a in listed.json) == sorted(ids)
    again = client.post(f"/api/v1/processes/{files_process}/instances", headers=haiyun,
                        json={"data": {"title": "再用一次", "consent_sheet": [str(ids[0])]}})
    assert again.status_code == 422 and "/consent_sheet" in again.json["fields"]


def test_someone_elses_draft_fails_the_start_and_nothing_is_written(client: FlaskClient, runtime: Runtime,
                                                                    files_process: str) -> None:
    theirs = draft(client, bearer(client, "fushan"))
    reply = client.post(f"/api/v1/processes/{files_process}/instances", headers=bearer(client, "haiyun"),
                        json={"data": {"title": "别人的文件", "consent_sheet": [str(theirs)]}})
    assert reply.status_code == 422 and list(reply.json["fields"]) == ["/consent_sheet"]
    assert runtime.instances(runtime.actor("admin")) == []
    with runtime.db.read() as session:
        assert session.scalar(select(Attachment.instance_id).where(Attachment.id == theirs)) is None


def test_the_runtime_refuses_unknown_ids_per_field(runtime: Runtime, files_process: str) -> None:
    with pytest.raises(FormInvalid) as err:
        runtime.start(files_process, {"title": "x", "consent_sheet": ["999999"]}, runtime.actor("haiyun"))
    assert list(err.value.fields) == ["/consent_sheet"]
    assert json.dumps(err.value.fields, ensure_ascii=False).count("附件") == 1


@pytest.mark.parametrize("value", ["²", "99999999999999999999999999", "floor_plan.pdf", "0"])
def test_a_file_field_holding_anything_but_an_upload_id_is_refused_per_field(
        client: FlaskClient, files_process: str, value: object) -> None:
    reply = client.post(f"/api/v1/processes/{files_process}/instances", headers=bearer(client, "haiyun"),
                        json={"data": {"title": "附件", "consent_sheet": [value]}})
    assert reply.status_code == 422 and set(reply.json["fields"]) == {"/consent_sheet"}, reply.json


def test_files_go_with_a_running_case_and_a_step_the_uploader_is_working_on(
        client: FlaskClient, runtime: Runtime, files_process: str) -> None:
    haiyun = bearer(client, "haiyun")
    case = client.post(f"/api/v1/processes/{files_process}/instances", headers=haiyun,
                       json={"data": {"title": "附件", "consent_sheet": [str(draft(client, haiyun))]}}).json
    review = runtime.instance(case["id"], runtime.actor("admin")).open_tasks[0]
    upload = {"file": (io.BytesIO(PNG), "a.png"), "task_id": review.id}
    stolen = client.post(f"/api/v1/instances/{case['id']}/attachments", data=upload, headers=haiyun)
    assert stolen.status_code == 403 and "task_id" in stolen.json["fields"]  # the clerk's step, not the applicant's
    runtime.complete(review.id, {}, runtime.actor("window"))
    late = client.post(f"/api/v1/instances/{case['id']}/attachments", headers=haiyun,
                       data={"file": (io.BytesIO(PNG), "b.png")})
    assert late.status_code == 409  # the case has ended


def test_a_task_file_field_may_name_only_files_of_its_own_case(client: FlaskClient, runtime: Runtime) -> None:
    deploy_files(runtime, {"type": "object", "properties": {"more": {"type": "array", "items": {"type": "string"}}}},
                 {"more": {"ui:widget": "files"}})
    haiyun = bearer(client, "haiyun")
    cases = [client.post("/api/v1/processes/t_files/instances", headers=haiyun,
                         json={"data": {"title": "附件", "consent_sheet": [str(draft(client, haiyun))]}}).json
             for _ in range(2)]
    other_file = client.get(f"/api/v1/instances/{cases[1]['id']}/attachments", headers=haiyun).json[0]["id"]
    review = runtime.instance(cases[0]["id"], runtime.actor("admin")).open_tasks[0]
    with pytest.raises(FormInvalid) as refused:
        runtime.complete(review.id, {"more": [str(other_file)]}, runtime.actor("window"))
    assert set(refused.value.fields) == {"/more"}
    own = client.get(f"/api/v1/instances/{cases[0]['id']}/attachments", headers=haiyun).json[0]["id"]
    assert runtime.complete(review.id, {"more": [str(own)]}, runtime.actor("window")).status == "completed"


@pytest.mark.parametrize("typed", ["floor_plan.pdf", ["floor_plan.pdf"], ["1", "平面图"], "²"])
def test_a_task_file_field_refuses_typed_text_and_writes_nothing(client: FlaskClient, runtime: Runtime,
                                                               typed: object) -> None:
    """A resubmission's file field holds upload ids only: a typed file name is refused per field, even next
    to a real id, and the step stays open with the case data unchanged."""
    deploy_files(runtime, {"type": "object", "properties": {"more": {"type": "array", "items": {"type": "string"}}}},
                 {"more": {"ui:widget": "files"}})
    haiyun = bearer(client, "haiyun")
    case = client.post("/api/v1/processes/t_files/instances", headers=haiyun,
                       json={"data": {"title": "附件", "consent_sheet": [str(draft(client, haiyun))]}}).json
    review = runtime.instance(case["id"], runtime.actor("admin")).open_tasks[0]
    reply = client.post(f"/api/v1/tasks/{review.id}/complete", headers=bearer(client, "window"),
                        json={"data": {"more": typed}})
    assert reply.status_code == 422 and set(reply.json["fields"]) == {"/more"}, reply.json
    after = runtime.instance(case["id"], runtime.actor("admin"), detail=True)
    assert [t.id for t in after.open_tasks] == [review.id] and "more" not in (after.data or {})
