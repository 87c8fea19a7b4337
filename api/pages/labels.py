"""What the pages call the engine's words (engine/base/vocabulary.py, engine/runtime/inbox.py): one label each.

The templates get these from the page context (`install` in api/pages/__init__.py) and never spell a status,
an event kind or an inbox scope themselves.  The labels are lazy: each renders in the request's language.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_babel.speaklater import LazyString

from engine.base.vocabulary import EventKind, InstanceStatus
from engine.runtime.inbox import Scope

#: a case's status badge
STATUS_LABELS: dict[InstanceStatus, LazyString] = {
    InstanceStatus.RUNNING: _("办理中"),
    InstanceStatus.SUSPENDED: _("已挂起"),
    InstanceStatus.COMPLETED: _("已办结"),
    InstanceStatus.TERMINATED: _("已终止"),
    InstanceStatus.ERROR: _("异常"),
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
}

#: the inbox's tabs, in order
SCOPE_LABELS: dict[Scope, LazyString] = {
    Scope.ASSIGNED: _("我的"),
    Scope.CANDIDATE: _("可认领"),
    Scope.ALL: _("本部门全部"),
}


def page_labels() -> dict[str, object]:
    """What the templates need to name and compare the engine's words (merged into every page's context)."""
    return {"status_labels": STATUS_LABELS, "status_filters": STATUS_FILTERS, "event_labels": EVENT_LABELS,
            "Status": InstanceStatus}
