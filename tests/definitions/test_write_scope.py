"""Write scope (issue 10): a start or a task completion sets only the fields its form lets a person write.

Each test replays, through the HTTP API, one of the mass-assignment exploits seen on main — a participant
sending fields its form does not declare (or marks `readOnly`) to rewrite what the process computes or
what an earlier step decided — and expects 422 naming every such path, nothing changed (the task still
ready, the case data as it was), and the same submission without those fields accepted.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine.background import timers
from engine.base import clock
from engine.base.paging import MAX_LIMIT
from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from tests.support.builder import bpmn, form_props
from tests.support.http import PASSWORD
from tests.support.shipped import SUBMIT
from tests.support.uploads import PDF
from tests.support.workspaces import workspace

#: A Monday with a known working-day table: the processes' deadlines count working days from it.
MONDAY = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


@pytest.fixture(autouse=True)
def _monday(runtime: Runtime) -> None:
    clock.travel(MONDAY - clock.now())


class Http:
    """The API as the demo users (every password is PASSWORD); cases are observed as the administrator.

    A case is observed through the case list (status), the inbox (its ready tasks) and each ready task's
    detail (its data: what a completion merges into), not `GET /instances/{id}`: that answers 500 on main
    for every case with an issued document (issue 10, point 4), which is not what these tests are about.
    """

    def __init__(self, client: FlaskClient, runtime: Runtime) -> None:
        self.client, self.runtime = client, runtime
        self.tokens: dict[str, str] = {}

    def __call__(self, username: str, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        if username not in self.tokens:
            reply = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert reply.status_code == 201, reply.json
            self.tokens[username] = reply.json["token"]
        reply = self.client.open(path, method=method, headers={"Authorization": f"Bearer {self.tokens[username]}"},
                                 **kwargs)
        return reply.status_code, reply.json

    def get(self, path: str) -> Any:
        status, body = self("admin", "GET", path)
        assert status == 200, (path, body)
        return body

    def start(self, username: str, key: str, data: dict[str, Any]) -> tuple[int, Any]:
        return self(username, "POST", f"/api/v1/processes/{key}/instances", json={"data": data})

    def upload(self, username: str, case_id: int | None = None, element: str | None = None) -> str:
        """A file's id, as the pages upload it: a draft before a start, else a file of the case's step."""
        form: dict[str, Any] = {"file": (io.BytesIO(PDF), "同意书.pdf")}
        if case_id is None:
            path = "/api/v1/uploads"
        else:
            path = f"/api/v1/instances/{case_id}/attachments"
            form["task_id"] = next(t for t, e in self.open_tasks(case_id).items() if e == element)
        status, body = self(username, "POST", path, data=form)
        assert status == 201, body
        return str(body["id"])

    def started(self, username: str, key: str, data: dict[str, Any]) -> int:
        status, body = self.start(username, key, data)
        assert status == 201, body
        return body["id"]

    def cases(self) -> dict[int, str]:
        """Every case's status."""
        return {c["id"]: c["status"] for c in self.get(f"/api/v1/instances?limit={MAX_LIMIT}")["items"]}

    def open_tasks(self, case_id: int) -> dict[str, str]:
        """The case's ready tasks: task id → element id."""
        return {t["id"]: t["element_id"] for t in self.get(f"/api/v1/tasks?scope=all&limit={MAX_LIMIT}")["items"]
                if t["instance_id"] == case_id}

    def ready(self, case_id: int) -> list[str]:
        return sorted(self.open_tasks(case_id).values())

    def data(self, case_id: int) -> dict[str, Any]:
        """The case's current data: what its ready tasks hold."""
        data: dict[str, Any] = {}
        for task_id in self.open_tasks(case_id):
            detail = self.get(f"/api/v1/tasks/{task_id}")
            assert detail["state"] == "ready"
            data.update(detail["data"])
        return data

    def task(self, case_id: int, element: str) -> str:
        ids = [t for t, e in self.open_tasks(case_id).items() if e == element]
        assert ids, f"{element} is not ready: {self.ready(case_id)}"
        return ids[0]

    def complete(self, username: str, case_id: int, element: str, data: dict[str, Any]) -> tuple[int, Any]:
        return self(username, "POST", f"/api/v1/tasks/{self.task(case_id, element)}/complete", json={"data": data})

    def done(self, username: str, case_id: int, element: str, data: dict[str, Any]) -> None:
        status, body = self.complete(username, case_id, element, data)
        assert status == 200, (element, body)
        assert body["status"] != "error", (element, body)

    def travel(self, delta: timedelta, case_id: int) -> None:
        """Let time pass and fire what came due, as the server's timer thread would; tokens expire meanwhile."""
        clock.travel(delta)
        while timers.sweep(self.runtime):
            pass
        self.runtime.advance(case_id)
        self.tokens.clear()

    def refused(self, username: str, case_id: int, element: str, data: dict[str, Any], *paths: str,
                exact: bool = True) -> None:
        """The step is refused with 422 naming `paths` (only those, unless not `exact`) and changes nothing."""
        before = self.cases()[case_id], self.open_tasks(case_id), self.data(case_id)
        task_id = self.task(case_id, element)
        status, body = self(username, "POST", f"/api/v1/tasks/{task_id}/complete", json={"data": data})
        assert status == 422, (f"{element} accepted {sorted(data)}", body)
        assert set(body) >= {"error", "message", "fields"} and body["error"] == "validation_failed", body
        named = set(body["fields"])
        assert (named == set(paths)) if exact else (named >= set(paths)), body["fields"]
        after = self.cases()[case_id], self.open_tasks(case_id), self.data(case_id)
        assert after == before and before[0] == "running"  # the task still ready, the data as it was


@pytest.fixture
def http(client: FlaskClient, runtime: Runtime) -> Http:
    return Http(client, runtime)


# -- the sample process -----------------------------------------------------------------------------

def test_sample_applicant_cannot_raise_the_threshold_past_the_clerk(http: Http) -> None:
    case = http.started("haiyun", "sample_approval", {"title": "办公用房改造", "amount": 50_000})
    http.refused("haiyun", case, "submit", {**SUBMIT, "threshold": 1e9}, "/threshold")
    assert http.data(case)["threshold"] == 10_000
    http.done("haiyun", case, "submit", SUBMIT)
    assert http.cases()[case] == "running" and http.ready(case) == ["approve"]  # the clerk still decides
    assert "decision" not in http.data(case)


def test_sample_applicant_cannot_set_the_threshold_when_starting(http: Http) -> None:
    status, body = http.start("haiyun", "sample_approval",
                              {"title": "办公用房改造", "amount": 50_000, "threshold": 1e9})
    assert status == 422, f"started with the applicant's own threshold: {body}"
    assert body["error"] == "validation_failed" and set(body["fields"]) == {"/threshold"}
    assert http.cases() == {}  # no case was started
    case = http.started("haiyun", "sample_approval", {"title": "办公用房改造", "amount": 50_000})
    assert http.data(case)["threshold"] == 10_000  # the process's own value (the form shows it read-only)


# -- 住转商 --------------------------------------------------------------------------------------------

ZZS_APPLY = {
    "applicant_type": "enterprise", "applicant_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E",
    "agent_name": "张明", "agent_id": "370202198506120012", "mobile": "13805320001",
    "address": {"district": "市南区", "street_office": "street_bdq", "community": "团岛社区", "road": "团岛二路",
                "number": "16号", "building": "2号楼1单元", "room": "502室"},
    "property_cert_no": "鲁(2021)青岛市市南区不动产权第0031276号", "certified_use": "住宅", "tenure": "own",
    "industry_code": "6513", "business_scope": "应用软件开发；信息技术咨询服务", "structure_change": False,
    "crowded_place": False, "other_owners": 23, "consenting_owners": 23, "consent_sheet": "",
    "commitment": True,
}


def zzs_apply(http: Http) -> dict[str, Any]:
    """The application with its consent sheet uploaded (a file is bound to the one case it starts)."""
    return {**ZZS_APPLY, "consent_sheet": http.upload("haiyun")}


def _zzs_at_correction(http: Http) -> int:
    case = http.started("haiyun", "zzs_prereg", zzs_apply(http))
    http.done("window", case, "precheck", {"precheck_result": "correction", "precheck_opinion": "材料不全",
                                           "correction_items": ["业主同意书缺签名页"]})
    assert http.ready(case) == ["resubmit"]
    return case


def test_zzs_applicant_cannot_pass_the_consent_check_or_extend_the_validity_at_correction(http: Http) -> None:
    case = _zzs_at_correction(http)
    forged = {"owners_on_register": 23, "signatures_verified": 23, "result": "pass", "opinion": "全体业主同意属实"}
    sheet = http.upload("haiyun", case, "resubmit")
    http.refused("haiyun", case, "resubmit", {**ZZS_APPLY, "consent_sheet": sheet, "consent_check": forged,
                                              "validity_days": 3650},
                 "/consent_check", "/validity_days")
    data = http.data(case)
    assert data["validity_days"] == 60 and "consent_check" not in data
    # the application fields themselves are the applicant's to correct at 补正
    http.done("haiyun", case, "resubmit", {**ZZS_APPLY, "consent_sheet": sheet})
    assert http.ready(case) == ["precheck"]
    data = http.data(case)
    assert data["consent_sheet"] == sheet and data["validity_days"] == 60


def test_a_start_refuses_a_nested_field_the_form_does_not_declare(http: Http) -> None:
    cases = http.cases()
    status, body = http.start("haiyun", "zzs_prereg",
                              {**zzs_apply(http), "address": {**ZZS_APPLY["address"], "extra": "顶层加建"}})
    assert status == 422, f"started with an undeclared address field: {body}"
    assert body["error"] == "validation_failed" and set(body["fields"]) == {"/address/extra"}
    assert http.cases() == cases  # no case was started
    assert http.started("haiyun", "zzs_prereg", zzs_apply(http))


# -- 一业一证 ------------------------------------------------------------------------------------------

YYYZ_APPLY = {
    "applicant_name": "青岛海韵餐饮管理有限公司", "credit_code": "91370202MA3EK7PQ30", "legal_rep": "刘海韵",
    "agent_name": "张明", "agent_id": "370202198506120012", "mobile": "13805320001", "street": "street_bdq",
    "address": "团岛二路16号一层", "shop_name": "海韵渔家私房菜", "industry": "restaurant", "floor_area": 90,
    "food_activities": ["hot_food", "cold_food"], "seats": 24,
    "food_safety_officer": {"name": "王丽", "mobile": "13905321234"},
    "sells_tobacco": False, "fire_route": "commitment", "has_signboard": False, "commitment": True,
    "missing_items": [{"item": "从业人员健康证明（2人）", "promised_date": "2026-03-05"}],
}


def test_yyyz_applicant_cannot_choose_the_permits_when_supplying_materials(http: Http) -> None:
    case = http.started("haiyun", "yyyz_bundle", YYYZ_APPLY)
    http.done("window", case, "precheck", {
        "precheck_result": "tolerance", "credit_good": True, "precheck_opinion": "容缺受理",
        "tolerance_items": [{"item": "从业人员健康证明（2人）", "kind": "secondary", "promised_date": "2026-03-05"}]})
    supplied = {"supplied_items": ["从业人员健康证明（2人）"],
                "supplied_files": [http.upload("haiyun", case, "supply")]}
    http.refused("haiyun", case, "supply", {**supplied, "permits": ["signboard"]}, "/permits")
    assert http.data(case)["permits"] == ["food"]
    http.done("haiyun", case, "supply", supplied)
    http.done("window", case, "joint_inspection", {"inspection_date": "2026-03-03", "inspectors": ["市场监管 孙伟"],
                                                    "inspection_findings": "经营场所布局与申报材料一致。"})
    assert http.ready(case) == ["review_food"]  # the food review still happens


# -- 楼宇发展基金 ----------------------------------------------------------------------------------------

FUND = "BDQ-WS1"


def _contribution(http: Http, source: str, amount: int) -> int:
    """A contribution up to the receipt step (cash: after the agreement; 财政/党费: the ring-fenced receipt)."""
    pledge = {"fund_code": FUND, "street": "street_bdq", "donor_name": "楼宇出资方", "source": source,
              "amount": amount, "designated_category": "none", "voluntary": True}
    case = http.started("haiyun", "lyjj_contribution", pledge)
    http.done("secretariat", case, "compliance", {"voluntary_confirmed": True, "conflict_of_interest": False,
                                                  "compliant": True, "compliance_opinion": "自愿出资，无利益冲突"})
    if source in ("pledge", "enterprise"):
        http.done("secretariat", case, "agreement_cash", {"agreement_no": f"XY-{source}", "signed_on": "2026-03-03"})
    return case


def _receipt(amount: int) -> dict[str, Any]:
    return {"received_amount": amount, "received_on": "2026-03-04", "bank_ref": f"REF-{amount}"}


def _fund(http: Http, source: str, amount: int) -> None:
    case = _contribution(http, source, amount)
    element = "confirm_receipt" if source in ("pledge", "enterprise") else "ringfenced_receipt"
    http.done("streetfinance", case, element, _receipt(amount))


def _balances(http: Http) -> dict[str, str]:
    status, body = http("secretariat", "GET", f"/api/v1/funds/{FUND}/balances")
    assert status in (200, 404), body
    return {} if status == 404 else {b["source"]: b["balance"] for b in body["balances"]}


def test_lyjj_finance_cannot_move_a_contribution_out_of_its_ring_fenced_source(http: Http) -> None:
    case = _contribution(http, "party_fee", 30_000)
    assert http.ready(case) == ["ringfenced_receipt"]
    before = _balances(http)
    http.refused("streetfinance", case, "ringfenced_receipt", {**_receipt(30_000), "source": "pledge"}, "/source")
    assert _balances(http) == before and http.data(case)["source"] == "party_fee"
    http.done("streetfinance", case, "ringfenced_receipt", _receipt(30_000))
    balances = _balances(http)
    assert balances["party_fee"] == "30000.00" and balances["pledge"] == "0.00"


def _proposal(category: str, budget: int) -> dict[str, Any]:
    return {"fund_code": FUND, "street": "street_bdq", "applicant_name": "青岛海韵科技有限公司",
            "conflict_of_interest": False, "declaration": True,
            "project_name": "3 号楼公共空间改造", "category": category, "common_parts": False,
            "alteration": False, "budget": budget,
            "funding": {"pledge": budget, "enterprise": 0, "in_kind": 0, "fiscal": 0, "party_fee": 0},
            "quote": f"三家比价，最低 {budget} 元", "plan": "按方案实施"}


TECH_REVIEW = {"technical_ok": True, "cost_ok": True, "reviewed_cost": 148_000, "experts": ["张工", "李工", "王工"],
               "review_opinion": "方案可行"}
COMMITTEE_VOTE = {"members_total": 9, "members_present": 7, "votes_for": 5, "votes_against": 1, "votes_abstain": 1,
                  "committee_minutes": "WY-2026-03"}


def _project_at_tech_review(http: Http, category: str = "public_space", budget: int = 150_000) -> int:
    case = http.started("haiyun", "lyjj_project", _proposal(category, budget))
    http.done("secretariat", case, "formal_check", {"formal_ok": True, "formal_opinion": "材料齐全"})
    assert http.ready(case) == ["tech_review"]
    return case


def test_lyjj_tech_review_cannot_rewrite_the_budget(http: Http) -> None:
    """A lower budget would need fewer experts and skip the building party committee (approval level)."""
    case = _project_at_tech_review(http)
    http.refused("secretariat", case, "tech_review", {**TECH_REVIEW, "budget": 40_000}, "/budget")
    assert http.data(case)["budget"] == 150_000
    # the budget is shown (readOnly) and required: its stored value stands in for it
    http.done("secretariat", case, "tech_review", TECH_REVIEW)
    http.done("committee", case, "committee_vote", COMMITTEE_VOTE)
    assert http.data(case)["approval_level"] == "party_committee" and http.ready(case) == ["party_review"]


def test_lyjj_committee_cannot_rewrite_the_budget_or_category_with_its_vote(http: Http) -> None:
    case = _project_at_tech_review(http)
    http.done("secretariat", case, "tech_review", TECH_REVIEW)
    http.refused("committee", case, "committee_vote",
                 {**COMMITTEE_VOTE, "budget": 40_000, "category": "party_building"}, "/budget", "/category")
    data = http.data(case)
    assert (data["budget"], data["category"]) == (150_000, "public_space")
    http.done("committee", case, "committee_vote", COMMITTEE_VOTE)
    assert http.data(case)["approval_level"] == "party_committee"


def _project_at_advance(http: Http, category: str, budget: int) -> int:
    """A small project (committee level) funded from pledges, up to its advance payment."""
    _fund(http, "pledge", 100_000)
    _fund(http, "party_fee", 50_000)
    case = _project_at_tech_review(http, category, budget)
    http.done("secretariat", case, "tech_review", {**TECH_REVIEW, "reviewed_cost": budget})
    http.done("committee", case, "committee_vote", COMMITTEE_VOTE)
    assert http.ready(case) == []  # the committee decides: the 5-working-day public notice runs
    http.travel(timedelta(days=8), case)
    assert http.data(case)["approval_level"] == "committee"
    http.done("secretariat", case, "notice_review", {"objection_received": False, "objection_substantiated": False})
    http.done("secretariat", case, "contract", {"contractor": "青岛升达电梯工程有限公司", "contract_no": "HT-2026-021",
                                                "contract_amount": budget, "contractor_no_conflict": True})
    http.done("secretariat", case, "consent_request", {"consent_needed": False})  # no donor's money is needed
    assert http.ready(case) == ["pay_advance"]
    return case


def test_lyjj_finance_cannot_rewrite_the_contract_amount_or_category_when_paying(http: Http) -> None:
    """A larger contract amount would lift the 30 % advance limit; party building would open the party fees."""
    case = _project_at_advance(http, "public_space", 40_000)  # a lift would first go to the owners' vote
    before = _balances(http)
    http.refused("streetfinance", case, "pay_advance",
                 {"contract_amount": 1_000_000, "payment_source": "pledge", "payment_amount": 40_000},
                 "/contract_amount", exact=False)
    http.refused("streetfinance", case, "pay_advance",
                 {"payment_source": "party_fee", "payment_amount": 12_000, "category": "party_building"}, "/category")
    assert _balances(http) == before
    data = http.data(case)
    assert (data["contract_amount"], data["category"]) == (40_000, "public_space")
    http.done("streetfinance", case, "pay_advance", {"payment_source": "pledge", "payment_amount": 12_000})
    assert _balances(http)["pledge"] == "88000.00"
    # the acceptance shows the category read-only: a lift cannot pass as public space without its inspection
    http.done("streetfinance", case, "pay_milestone", {"milestone": "井道完成", "payment_source": "pledge",
                                                       "payment_amount": 20_000, "more_milestones": False})
    passed = {"acceptance_conclusion": "pass", "special_equipment_inspected": True, "acceptance_opinion": "特检合格"}
    http.refused("secretariat", case, "acceptance", {**passed, "category": "public_space",
                                                      "special_equipment_inspected": False}, "/category", exact=False)
    http.done("secretariat", case, "acceptance", passed)
    assert http.ready(case) == ["pay_balance"]


# -- "135" 政企连心桥 ------------------------------------------------------------------------------------

QYSQ_REQUEST = {"enterprise_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E", "contact": "王海燕",
                "mobile": "13805320001", "building": "bld_huarun", "category": "city_management",
                "description": "楼宇北侧人行道共享单车长期乱停放，影响员工通行，请协调清理。"}
HANDLED = {"handle_outcome": "done", "result_status": "resolved",
           "result_report": "已协调运营企业清理车辆并划定停放区。"}


def _qysq_at_sign(http: Http) -> int:
    case = http.started("haiyun", "qysq_request", QYSQ_REQUEST)
    http.done("street", case, "intake", {"kind": "request", "items": [{"title": "清理北侧人行道乱停放单车"}]})
    http.done("dispatcher", case, "dispatch", {"complexity": "ordinary", "lead_unit": "chengguan"})
    assert http.ready(case) == ["sign"]
    return case


def test_qysq_handling_unit_cannot_move_its_deadline_at_sign_for(http: Http) -> None:
    case = _qysq_at_sign(http)
    due = http.data(case)["due_at"]
    assert due == "2026-03-05T23:59:59+08:00"
    http.refused("handler", case, "sign", {"sign_action": "sign", "due_at": "2026-12-31T23:59:59+08:00"}, "/due_at")
    http.done("handler", case, "sign", {"sign_action": "sign"})
    assert http.ready(case) == ["handle"] and http.data(case)["due_at"] == due
    status, inbox = http("handler", "GET", "/api/v1/tasks?due_before=2026-03-06T00:00:00%2B08:00")
    assert status == 200 and [t["element_id"] for t in inbox["items"] if t["instance_id"] == case] == ["handle"]


def test_qysq_applicant_cannot_reset_the_reopened_counter_with_the_rating(http: Http) -> None:
    case = _qysq_at_sign(http)
    http.done("handler", case, "sign", {"sign_action": "sign"})
    http.done("handler", case, "handle", HANDLED)
    http.done("dispatcher", case, "quality", {"quality_result": "pass", "quality_note": "办理结果符合要求"})
    http.done("haiyun", case, "rate", {"rating": "不满意"})
    http.done("street", case, "follow_up", {"caused_by_handler": True, "call_note": "属承办原因，重新交办一次。"})
    assert http.data(case)["reopened"] is True
    http.done("handler", case, "handle", HANDLED)
    http.done("dispatcher", case, "quality", {"quality_result": "pass", "quality_note": "办理结果符合要求"})
    http.refused("haiyun", case, "rate", {"rating": "非常不满意", "reopened": False}, "/reopened")
    assert http.data(case)["reopened"] is True
    http.done("haiyun", case, "rate", {"rating": "非常不满意"})
    http.done("street", case, "follow_up", {"caused_by_handler": True, "call_note": "已重新办理过一次，不再重办。"})
    assert http.cases()[case] == "completed"  # reopened once, never twice


def test_a_start_refuses_a_field_the_form_does_not_declare(http: Http) -> None:
    cases = http.cases()
    status, body = http.start("haiyun", "qysq_request", {**QYSQ_REQUEST, "lead_unit": "xzsp", "complexity": "complex"})
    assert status == 422, f"started with a dispatcher's fields: {body}"
    assert body["error"] == "validation_failed" and set(body["fields"]) == {"/lead_unit", "/complexity"}
    assert http.cases() == cases  # no case was started
    case = http.started("haiyun", "qysq_request", QYSQ_REQUEST)
    assert "lead_unit" not in http.data(case) and http.ready(case) == ["intake"]


# -- declared in a branch ------------------------------------------------------------------------------

BRANCHED = {
    "type": "object", "required": ["kind", "title"],
    "properties": {"kind": {"enum": ["person", "company"]}, "title": {"type": "string", "minLength": 2},
                   "address": {"type": "object", "properties": {"road": {"type": "string"}}}},
    "if": {"properties": {"kind": {"const": "company"}}, "required": ["kind"]},
    "then": {"required": ["credit_code"], "properties": {"credit_code": {"type": "string", "minLength": 18}}},
}


@pytest.fixture
def branched(runtime: Runtime) -> str:
    body = (f'<bpmn:startEvent id="start">{form_props("ws_branched.json")}</bpmn:startEvent>'
            f'<bpmn:userTask id="review" name="审查">{form_props("ws_review.json")}</bpmn:userTask>'
            '<bpmn:endEvent id="end" />'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />'
            '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />')
    xml = bpmn("t_write_scope", body, lanes={"申请人": ["start"], "窗口人员": ["review", "end"]})
    review = {"type": "object", "required": ["decision"], "properties": {"decision": {"enum": ["ok", "no"]}}}
    deploy(runtime.db, workspace({"ws.bpmn": xml}, {"ws_branched.json": BRANCHED, "ws_review.json": review},
                                 key="t_write_scope", code="TWS"), by="tests")
    return "t_write_scope"


def test_a_field_declared_only_in_a_then_branch_is_writable(http: Http, branched: str) -> None:
    """Refusing what a form does not declare must not refuse what it declares in a branch (nor nested)."""
    case = http.started("haiyun", branched, {"kind": "company", "title": "分支声明",
                                             "credit_code": "91370202MA3C4XY01K", "address": {"road": "香港中路"}})
    data = http.data(case)
    assert (data["credit_code"], data["address"]) == ("91370202MA3C4XY01K", {"road": "香港中路"})
    assert http.ready(case) == ["review"]
