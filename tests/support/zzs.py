"""住转商 (ZZS) cases for tests: a filled application, the street's checks, completing a step as a user, a case filed,
accepted or approved, and the notices a user got."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from sqlalchemy import select

from engine.base import clock
from engine.case.attachments import add_draft
from engine.runtime.runtime import Runtime
from engine.store.models import Notification, User
from tests.support.uploads import PDF

APPLICATION = {
    "applicant_type": "enterprise", "applicant_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E",
    "agent_name": "张明", "agent_id": "370202198506120012", "mobile": "13805320001",
    "address": {"district": "市南区", "street_office": "street_xgzl", "community": "南京路社区", "road": "香港中路",
                "number": "76号", "building": "3号楼2单元", "room": "1502室"},
    "property_cert_no": "鲁(2021)青岛市市南区不动产权第0031276号", "certified_use": "住宅", "tenure": "own",
    "industry_code": "6513", "business_scope": "应用软件开发；信息技术咨询服务", "structure_change": False,
    "crowded_place": False, "other_owners": 23, "consenting_owners": 23, "commitment": True,
}


SITE = {"site_check": {"result": "pass", "structure_change_found": False, "crowded_place_found": False,
                       "opinion": "现场为办公用途，与申报一致"}}


CONSENT = {"consent_check": {"owners_on_register": 23, "signatures_verified": 23, "result": "pass",
                             "opinion": "逐户核对名册，签名属实"}}


def _complete(runtime: Runtime, case: int, element: str, username: str, data: dict[str, Any]) -> None:
    [task] = [t for t in runtime.instance(case, runtime.actor("admin")).open_tasks if t.element_id == element]
    runtime.complete(task.id, data, runtime.actor(username))


ACCEPT = {"precheck_result": "accept", "structure_change_confirmed": False, "crowded_place_confirmed": False,
          "precheck_opinion": "材料齐全，予以受理"}


def _filed(runtime: Runtime) -> int:
    clock.travel(datetime.fromisoformat("2026-03-02T09:00:00+08:00") - clock.now())
    applicant = runtime.actor("haiyun")
    sheet = add_draft(runtime.db, runtime.blobs, BytesIO(PDF), "业主同意书.pdf", "application/pdf", applicant)
    return runtime.start("zzs_prereg", {**APPLICATION, "consent_sheet": str(sheet.id)}, applicant).id


def _accepted(runtime: Runtime) -> int:
    case = _filed(runtime)
    _complete(runtime, case, "precheck", "window", ACCEPT)
    return case


def _notified(runtime: Runtime, username: str, kind: str) -> list[str]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Notification.text_zh).join(User, User.id == Notification.user_id)
                                    .where(User.username == username, Notification.kind == kind)))


SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "zhang@example.cn", "commitment": True}


def _filed_on(runtime: Runtime, day: str) -> tuple[str, str]:
    """A case started at 09:00 on `day` and approved the same day: (case number, its receipt's text)."""
    clock.travel(datetime.fromisoformat(f"{day}T09:00:00+08:00") - clock.now())
    applicant = runtime.actor("haiyun")
    sheet = add_draft(runtime.db, runtime.blobs, BytesIO(PDF), "业主同意书.pdf", "application/pdf", applicant)
    case = runtime.start("zzs_prereg", {**APPLICATION, "consent_sheet": str(sheet.id)}, applicant)
    _complete(runtime, case.id, "precheck", "window", {"precheck_result": "accept", "precheck_opinion": "予以受理",
                                                       "structure_change_confirmed": False,
                                                       "crowded_place_confirmed": False})
    _complete(runtime, case.id, "site_check", "street_xgzl", SITE)
    _complete(runtime, case.id, "consent_check", "street_xgzl", CONSENT)
    _complete(runtime, case.id, "decide", "window", {"decision": "approve", "decision_opinion": "同意备案"})
    return case.case_number, runtime.document(case.id, "zzs_receipt", runtime.actor("admin")).text
