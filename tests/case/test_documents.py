"""Documents: issued with the step that completes their element, frozen as text, PDF with an embedded CJK font."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from engine.base.errors import FormInvalid, NotFound
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD
from tests.support.repo import repo_files
from tests.support.shipped import ANSWER, QUESTION, answered


def test_the_answer_notice_is_issued_with_the_case_number_office_and_date(runtime: Runtime) -> None:
    instance, case_number = answered(runtime)
    detail = runtime.instance(instance, runtime.actor("haiyun"), detail=True)
    assert [(d["name"], d["seq"]) for d in detail.documents] == [("qysq_answer", 1)]
    doc = runtime.document(instance, "qysq_answer", runtime.actor("haiyun"))
    assert doc.title == "诉求答复告知书" and case_number in doc.text and "市南区企业服务中心" in doc.text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", doc.text) and ANSWER["answer"] in doc.text
    pdf = doc.pdf()
    assert pdf.startswith(b"%PDF") and b"/FontFile3" in pdf and b"NotoSerifCJKSC" in pdf  # embedded subset


def test_a_refused_step_issues_nothing(runtime: Runtime) -> None:
    view = runtime.start("qysq_request", QUESTION, runtime.actor("haiyun"))
    [intake] = runtime.instance(view.id, runtime.actor("admin")).open_tasks
    with pytest.raises(FormInvalid):
        runtime.complete(intake.id, {"kind": "question"}, runtime.actor("street"))  # no answer: refused
    assert runtime.instance(view.id, runtime.actor("admin"), detail=True).documents == []


def test_advancing_again_issues_nothing_twice(runtime: Runtime) -> None:
    instance, _ = answered(runtime)
    runtime.advance(instance)
    assert len(runtime.instance(instance, runtime.actor("admin"), detail=True).documents) == 1


def test_unknown_document_and_other_enterprises_get_404(client: FlaskClient, runtime: Runtime) -> None:
    instance, case_number = answered(runtime)

    def get(user: str, name: str = "qysq_answer") -> tuple[int, bytes, dict[str, str]]:
        token = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD}).json["token"]
        reply = client.get(f"/api/v1/instances/{instance}/documents/{name}",
                           headers={"Authorization": f"Bearer {token}"})
        return reply.status_code, reply.data, dict(reply.headers)

    status, body, headers = get("haiyun")
    assert status == 200 and body.startswith(b"%PDF") and headers["Content-Type"] == "application/pdf"
    assert f"{case_number}-qysq_answer.pdf" in headers["Content-Disposition"]
    assert "filename*=UTF-8''" in headers["Content-Disposition"]
    assert get("haiyun", "no_such_document")[0] == 404
    for outsider in ("fushan", "window", "zhujian"):
        assert get(outsider)[0] == 404
    assert get("admin")[0] == 200
    with pytest.raises(NotFound):
        runtime.document(instance, "qysq_answer", runtime.actor("fushan"))


def test_a_document_property_naming_no_template_is_refused_at_validate() -> None:
    files = repo_files()
    path = "processes/qysq/qysq.bpmn"
    files[path] = files[path].replace(b'value="qysq_answer"', b'value="qysq_answr"')
    problems = validate(files)
    assert [(p.file, p.element_id) for p in problems if "qysq_answr" in p.message] == [(path, "end_answered")]
