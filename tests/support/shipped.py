"""Data for the shipped processes (processes/): the sample approval's submit step, a 135 request answered."""

from __future__ import annotations

import io
from collections.abc import Callable

from sqlalchemy import select

from engine.case.attachments import add_attachment
from engine.runtime.runtime import Runtime
from engine.store.models import Document

# sample_approval: what the applicant sends at `submit`
SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "z@example.cn", "commitment": True}

# qysq_request (135 政企连心桥): a request about the street outside, and how a step of it is done
REQUEST = {"enterprise_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E", "contact": "王海燕",
           "mobile": "13805320001", "building": "bld_huarun", "category": "city_management",
           "description": "楼宇北侧人行道共享单车长期乱停放，请协调清理。"}


def complete_step(runtime: Runtime, instance: int, element: str, user: str, data: dict[str, object]) -> None:
    """Complete the case's open task of `element` as `user`."""
    [task] = [t for t in runtime.instance(instance, runtime.actor("admin")).open_tasks if t.element_id == element]
    runtime.complete(task.id, data, runtime.actor(user))


# qysq_request: a policy question, and the answer the street gives at intake
QUESTION = {"enterprise_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E", "contact": "王海燕",
            "mobile": "13805320001", "building": "bld_huarun", "category": "policy",
            "description": "想了解高新技术企业认定的申报时间和材料。"}
ANSWER = {"kind": "question", "answer": "申报将于5月启动，材料清单见区科技局网站。"}


def answered(runtime: Runtime, before_the_end: Callable[[int], object] = lambda case: None) -> tuple[int, str]:
    """A 135 request answered at intake: completed, with its notice issued (`before_the_end` runs while open)."""
    view = runtime.start("qysq_request", QUESTION, runtime.actor("haiyun"))
    before_the_end(view.id)
    [intake] = [t for t in runtime.instance(view.id, runtime.actor("admin")).open_tasks if t.element_id == "intake"]
    done = runtime.complete(intake.id, ANSWER, runtime.actor("street"))
    assert done.status == "completed"
    return view.id, view.case_number


def answered_with_a_file(runtime: Runtime, content: bytes) -> tuple[int, int, str]:
    """`answered`, with the applicant's file attached while it was open: (case id, file id, the notice's code)."""
    files: list[int] = []

    def attach(case: int) -> None:
        files.append(add_attachment(runtime.db, runtime.blobs, case, io.BytesIO(content), "同意书.pdf", None,
                                    runtime.actor("haiyun")).id)

    case, _ = answered(runtime, attach)
    with runtime.db.read() as session:
        code = session.scalar(select(Document.verification_code).where(Document.instance_id == case))
    return case, files[0], code


def at_approval(runtime: Runtime) -> tuple[int, str]:
    """A sample case above the threshold, submitted and waiting for the window clerk: (case id, approval task id)."""
    view = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, runtime.actor("haiyun"))
    runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    [task] = runtime.instance(view.id, runtime.actor("admin")).open_tasks
    return view.id, task.id
