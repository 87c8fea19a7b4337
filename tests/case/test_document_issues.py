"""Documents issued by a test process (not a shipped one): a loop issues a second 补正告知书 with its own
sequence number, the earlier issue stays addressable by `?seq=`, and a step refused after the document was
rendered (an overdraft in the same completion) leaves no document behind."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from engine.base.errors import FormInvalid, NotFound
from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from tests.support.builder import bpmn, end, flows, gateway, render, start, user
from tests.support.http import PASSWORD
from tests.support.steps import begin, do, put
from tests.support.workspaces import workspace

TEMPLATES = """\
loop_correction:
  title: 补正告知书
  office: 市南区行政审批服务局
  body: |
    {{ applicant_name }}：
    你单位提交的申请材料不齐全，请补正：{{ missing }}。
loop_refusal:
  title: 不予备案决定书
  office: 市南区行政审批服务局
  body: |
    {{ applicant_name }}：
    经审查，决定不予备案。如不服本决定，可依法申请行政复议或者提起行政诉讼。
"""
APPLY = {"type": "object", "properties": {"applicant_name": {"type": "string"}}, "required": ["applicant_name"]}
CHECK = {"type": "object", "properties": {"missing": {"type": "string"}, "again": {"type": "boolean"}},
         "required": ["missing", "again"]}
REFUSE = {"type": "object", "properties": {"fund_code": {"type": "string"}, "amount": {"type": "number"}},
          "required": ["fund_code", "amount"]}


_BODY = render([start(form="apply.json"), user("check", "预审", "check.json", document="loop_correction"),
                gateway("exclusive", "more", default="refuse"),
                user("refuse", "不予备案", "refuse.json", document="loop_refusal", ledger="debit",
                     ledgerSource="'pledge'", ledgerAmount="amount"), end()],
               flows(("start", "check"), ("check", "more"), ("more", "check", "again"), ("more", "refuse"),
                     ("refuse", "end")))
_LANES = {"申请人": ["start"], "窗口人员": ["check", "refuse"]}


@pytest.fixture
def looping(runtime: Runtime) -> Runtime:
    put(runtime, "doc_loop", {"doc_loop.bpmn": bpmn("doc_loop", _BODY, _LANES)},
        {"apply.json": APPLY, "check.json": CHECK, "refuse.json": REFUSE},
        extra={"processes/t/documents.yaml": TEMPLATES.encode()})
    return runtime


def test_a_loop_issues_the_notice_again_with_the_next_sequence_number(looping: Runtime) -> None:
    case = begin(looping, "doc_loop", {"applicant_name": "青岛海韵科技有限公司"})
    do(looping, "window", case.id, "check", {"missing": "业主同意书", "again": True})
    do(looping, "window", case.id, "check", {"missing": "房产证复印件", "again": False})
    listed = looping.instance(case.id, looping.actor("haiyun"), detail=True).documents
    assert [(d["name"], d["seq"], d["title"]) for d in listed] == [("loop_correction", 1, "补正告知书"),
                                                                   ("loop_correction", 2, "补正告知书")]
    latest = looping.document(case.id, "loop_correction", looping.actor("haiyun"))
    first = looping.document(case.id, "loop_correction", looping.actor("haiyun"), seq=1)
    assert "房产证复印件" in latest.text and "业主同意书" in first.text and "业主同意书" not in latest.text
    assert all(case.case_number in d.text and "市南区行政审批服务局" in d.text for d in (first, latest))
    with pytest.raises(NotFound):
        looping.document(case.id, "loop_correction", looping.actor("haiyun"), seq=3)


def test_a_completion_refused_after_rendering_leaves_no_document(looping: Runtime) -> None:
    case = begin(looping, "doc_loop", {"applicant_name": "青岛海韵科技有限公司"})
    do(looping, "window", case.id, "check", {"missing": "无", "again": False})
    with pytest.raises(FormInvalid):  # the debit overdraws the empty fund: the whole step is refused
        do(looping, "window", case.id, "refuse", {"fund_code": "BDQ-01", "amount": 100})
    names = [d["name"] for d in looping.instance(case.id, looping.actor("admin"), detail=True).documents]
    assert names == ["loop_correction"]
    with pytest.raises(NotFound):
        looping.document(case.id, "loop_refusal", looping.actor("admin"))


def test_the_api_serves_an_earlier_issue_by_seq_and_refuses_outsiders(client: FlaskClient, looping: Runtime) -> None:
    case = begin(looping, "doc_loop", {"applicant_name": "青岛海韵科技有限公司"})
    do(looping, "window", case.id, "check", {"missing": "业主同意书", "again": True})
    do(looping, "window", case.id, "check", {"missing": "房产证复印件", "again": True})

    def get(user: str, query: str = "") -> tuple[int, bytes]:
        token = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD}).json["token"]
        reply = client.get(f"/api/v1/instances/{case.id}/documents/loop_correction{query}",
                           headers={"Authorization": f"Bearer {token}"})
        return reply.status_code, reply.data

    status, first = get("haiyun", "?seq=1")
    assert status == 200 and first.startswith(b"%PDF") and (b"/FontFile2" in first or b"/FontFile3" in first)
    assert get("haiyun", "?seq=2")[0] == 200 and get("haiyun", "?seq=3")[0] == 404
    for outsider in ("fushan", "zhujian"):
        assert get(outsider, "?seq=1")[0] == 404 and get(outsider)[0] == 404


def test_a_changed_template_is_a_new_version_and_leaves_issued_text_alone(looping: Runtime) -> None:
    case = begin(looping, "doc_loop", {"applicant_name": "青岛海韵科技有限公司"})
    do(looping, "window", case.id, "check", {"missing": "业主同意书", "again": True})
    files = workspace({"doc_loop.bpmn": bpmn("doc_loop", _BODY, _LANES)},
                      {"apply.json": APPLY, "check.json": CHECK, "refuse.json": REFUSE}, key="doc_loop",
                      extra={"processes/t/documents.yaml": TEMPLATES.replace("请补正", "请于五日内补正").encode()})
    assert [d.version for d in deploy(looping.db, files, by="tests") if d.key == "doc_loop"] == [2]
    assert "请补正" in looping.document(case.id, "loop_correction", looping.actor("haiyun")).text
    do(looping, "window", case.id, "check", {"missing": "房产证复印件", "again": False})  # the case stays on v1
    assert "请补正：房产证" in looping.document(case.id, "loop_correction", looping.actor("haiyun")).text


def test_a_template_that_fails_on_the_data_refuses_the_step_and_names_the_document(runtime: Runtime) -> None:
    broken = TEMPLATES.replace("{{ missing }}", "{{ submitted_at[:10] }}")  # a field this case never had
    put(runtime, "doc_loop", {"doc_loop.bpmn": bpmn("doc_loop", _BODY, _LANES)},
        {"apply.json": APPLY, "check.json": CHECK, "refuse.json": REFUSE},
        extra={"processes/t/documents.yaml": broken.encode()})
    case = begin(runtime, "doc_loop", {"applicant_name": "青岛海韵科技有限公司"})
    with pytest.raises(FormInvalid, match="loop_correction"):
        do(runtime, "window", case.id, "check", {"missing": "业主同意书", "again": False})
    view = runtime.instance(case.id, runtime.actor("admin"), detail=True)
    assert view.documents == [] and [t.element_id for t in view.open_tasks] == ["check"]
