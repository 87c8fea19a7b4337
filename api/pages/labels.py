"""What the pages call the engine's words (engine/base/vocabulary.py, engine/runtime/inbox.py): one label each.

The templates get these from the page context (`install` in api/pages/__init__.py) and never spell a status,
an event kind or an inbox scope themselves.  The labels are lazy: each renders in the request's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_babel.speaklater import LazyString

from engine.base.vocabulary import EventKind, InstanceStatus, OrgKind, Outcome, SignerKind, SignerState
from engine.case.attachments import PREVIEWABLE
from engine.people.audit import AuditAction
from engine.runtime.inbox import Scope
from engine.runtime.worklists import WorkList

#: a case's status badge
STATUS_LABELS: dict[InstanceStatus, LazyString] = {
    InstanceStatus.RUNNING: _("办理中"),
    InstanceStatus.SUSPENDED: _("已挂起"),
    InstanceStatus.COMPLETED: _("已办结"),
    InstanceStatus.TERMINATED: _("已终止"),
    InstanceStatus.ERROR: _("异常"),
}

#: what a case came to (its outcome), beside its status
OUTCOME_LABELS: dict[Outcome, LazyString] = {
    Outcome.APPROVED: _("准予（通过）"),
    Outcome.REFUSED: _("不予许可（不通过）"),
    Outcome.NOT_ACCEPTED: _("不予受理"),
    Outcome.WITHDRAWN: _("申请人撤回"),
    Outcome.LAPSED: _("逾期失效"),
    Outcome.REVOKED: _("已撤销"),
    Outcome.CLOSED: _("诉求已办结"),
    Outcome.TERMINATED: _("管理员终止"),
}

#: the statuses the case list filters by
STATUS_FILTERS = (InstanceStatus.RUNNING, InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)

#: one entry of a case's history
EVENT_LABELS: dict[EventKind, LazyString] = {
    EventKind.STARTED: _("提交申请"),
    EventKind.TASK_READY: _("待办生成"),
    EventKind.TASK_COMPLETED: _("办理完成"),
    EventKind.TASK_CANCELLED: _("环节取消"),
    EventKind.TASK_CLAIMED: _("认领"),
    EventKind.TASK_UNCLAIMED: _("退回认领"),
    EventKind.TASK_DELEGATED: _("转办"),
    EventKind.CARBON_COPIED: _("抄送"),
    EventKind.TASK_URGED: _("催办"),
    EventKind.TIMER_FIRED: _("时限到达"),
    EventKind.TIMER_CANCELLED: _("时限取消"),
    EventKind.DATA_CHANGED: _("流程计算"),
    EventKind.ERROR: _("出错"),
    EventKind.ENDED: _("办结"),
    EventKind.SUSPENDED: _("挂起"),
    EventKind.RESUMED: _("恢复"),
    EventKind.TERMINATED: _("终止"),
    EventKind.RETRIED: _("重新执行"),
    EventKind.MESSAGE_RECEIVED: _("收到消息"),
    EventKind.MESSAGE_THROWN: _("发出消息"),
    EventKind.SERVICE_CALLED: _("调用外部服务"),
    EventKind.SERVICE_RETRY_SCHEDULED: _("外部服务暂不可用，稍后重试"),
    EventKind.COMMENTED: _("发表意见"),
    EventKind.ATTACHED: _("上传附件"),
    EventKind.OUTCOME_SET: _("确定办理结果"),
    EventKind.WITHDRAWN: _("申请人撤回"),
    EventKind.WITHDRAWAL_REQUESTED: _("申请撤回"),
    EventKind.WITHDRAWAL_REFUSED: _("撤回申请未获同意"),
    EventKind.RETURNED: _("退回"),
    EventKind.SIGNERS_ADDED: _("加签"),
    EventKind.SIGNER_REMOVED: _("减签"),
    EventKind.SIGNER_APPROVED: _("主管批准加签"),
    EventKind.SIGNER_REJECTED: _("主管未批准加签"),
    EventKind.SIGNED: _("加签人签署意见"),
    EventKind.SUBMISSION_HELD: _("已提交，待后加签人签署"),
    EventKind.TASK_ENTRUSTED: _("委派"),
    EventKind.ENTRUST_RETURNED: _("委派交回"),
    EventKind.MIGRATED: _("迁移到新版本"),
}

#: a co-signer's or delegate's state and how it was added (the task page's 加签 table)
SIGNER_LABELS: dict[str, LazyString] = {
    SignerState.PROPOSED: _("待主管批准"),
    SignerState.WAITING: _("待轮到"),
    SignerState.PENDING: _("待签署"),
    SignerState.AGREED: _("同意"),
    SignerState.DISAGREED: _("不同意"),
    SignerState.RETURNED: _("已交回"),
    SignerState.REMOVED: _("已减签"),
    SignerState.REJECTED: _("未获批准"),
    SignerState.CANCELLED: _("任务已取消"),
    SignerKind.BEFORE: _("会签（前加签）"),
    SignerKind.AFTER: _("后加签"),
    SignerKind.DELEGATE: _("委派"),
}

#: the inbox's tabs, in order
SCOPE_LABELS: dict[Scope, LazyString] = {
    Scope.ASSIGNED: _("我的"),
    Scope.CANDIDATE: _("可认领"),
    Scope.ALL: _("本部门全部"),
}

#: the inbox page's tabs beside the inbox (engine/runtime/worklists.py)
WORKLIST_LABELS: dict[WorkList, LazyString] = {
    WorkList.DONE: _("已办"),
    WorkList.STARTED: _("我发起的"),
    WorkList.COPIED: _("抄送我的"),
}

#: one entry of the audit log
AUDIT_LABELS: dict[AuditAction, LazyString] = {
    AuditAction.LOGIN_SUCCEEDED: _("登录成功"),
    AuditAction.LOGIN_FAILED: _("登录失败"),
    AuditAction.LOGOUT: _("退出登录"),
    AuditAction.USER_CREATED: _("新增用户"),
    AuditAction.USER_DISABLED: _("停用用户"),
    AuditAction.USER_ENABLED: _("启用用户"),
    AuditAction.ROLES_CHANGED: _("变更角色"),
    AuditAction.ORGANISATION_CHANGED: _("变更组织"),
    AuditAction.PASSWORD_CHANGED: _("设置口令"),
    AuditAction.PASSWORD_RESET: _("重置口令"),
    AuditAction.TOKEN_REVOKED: _("吊销令牌"),
    AuditAction.EMAIL_CHANGED: _("变更通知邮箱"),
    AuditAction.ORGANISATION_CREATED: _("新增组织"),
    AuditAction.ORGANISATIONS_SYNCED: _("同步组织目录"),
    AuditAction.CALENDAR_LOADED: _("载入工作日历"),
}


#: an organisation's kind (the administrators' pages)
ORG_KIND_LABELS: dict[OrgKind, LazyString] = {
    OrgKind.ENTERPRISE: _("企业"),
    OrgKind.DEPARTMENT: _("职能部门"),
    OrgKind.OFFICE: _("办事机构"),
}


#: the case page's progress bar (engine/runtime/caseview.py STAGES) and the state of each stage
STAGE_LABELS: dict[str, LazyString] = {
    "apply": _("申请"), "accept": _("受理"), "review": _("审查"), "decide": _("决定"), "deliver": _("送达"),
}
STAGE_STATE_LABELS: dict[str, LazyString] = {
    "done": _("已完成"), "current": _("进行中"), "todo": _("未开始"), "stopped": _("未通过，办理终止"),
}

#: outcomes the case page states with the validity that runs after them, or with the reasons the decider gave
VALIDITY_OUTCOMES = frozenset({Outcome.APPROVED})
REASONED_OUTCOMES = frozenset({Outcome.REFUSED, Outcome.NOT_ACCEPTED, Outcome.REVOKED})

#: the engine's own bookkeeping, left out of the 办理过程 people read (the data changes have their own table)
QUIET_EVENTS = frozenset({EventKind.DATA_CHANGED, EventKind.TIMER_CANCELLED})

#: what the process did of itself in a person's step: the history names nobody beside it
AUTOMATIC_EVENTS = frozenset({EventKind.TASK_READY, EventKind.TASK_CANCELLED, EventKind.TIMER_FIRED,
                              EventKind.OUTCOME_SET, EventKind.ENDED, EventKind.MESSAGE_THROWN,
                              EventKind.SERVICE_CALLED, EventKind.SERVICE_RETRY_SCHEDULED, EventKind.ERROR})

#: history entries whose reason and actor the history line names (撤回 and its request; a 退回 names them by its target)
REASONED_EVENTS = frozenset({EventKind.WITHDRAWN, EventKind.WITHDRAWAL_REQUESTED, EventKind.WITHDRAWAL_REFUSED,
                             EventKind.TERMINATED})


def page_labels() -> dict[str, object]:
    """What the templates need to name and compare the engine's words (merged into every page's context)."""
    return {"status_labels": STATUS_LABELS, "status_filters": STATUS_FILTERS, "event_labels": EVENT_LABELS,
            "outcome_labels": OUTCOME_LABELS, "audit_labels": AUDIT_LABELS,
            "org_kind_labels": ORG_KIND_LABELS,
            "signer_labels": SIGNER_LABELS, "Status": InstanceStatus, "WorkList": WorkList,
            "reasoned_events": REASONED_EVENTS, "quiet_events": QUIET_EVENTS, "automatic_events": AUTOMATIC_EVENTS,
            "stage_labels": STAGE_LABELS, "stage_state_labels": STAGE_STATE_LABELS, "previewable": PREVIEWABLE,
            "validity_outcomes": VALIDITY_OUTCOMES, "reasoned_outcomes": REASONED_OUTCOMES}
