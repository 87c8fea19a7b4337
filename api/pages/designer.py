"""The designer's pages: processes with their versions, the bpmn-js modeler with tongban's properties panel for
one diagram, and the dmn-js table editor for one decision file."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from engine.design import designer
from engine.design.palette import palette

from ..security import actor, runtime
from .auth import login_required

bp = Blueprint("designer_pages", __name__)


@bp.route("/designer")
@login_required
def processes() -> Any:
    sources = designer.process_sources(runtime().settings, actor())
    versions = designer.deployed_versions(runtime().db, actor())
    return render_template("designer/list.html", sources=sources, versions=versions, title=_("流程设计"))


@bp.route("/designer/edit")
@login_required
def edit() -> Any:
    path = request.args.get("path", "")
    designer.read_source(runtime().settings, path, actor())  # 404 for anything not editable
    if path.endswith(".dmn"):
        return render_template("designer/dmn.html", path=path, title=path.rsplit("/", 1)[-1])
    source = next((s for s in designer.process_sources(runtime().settings, actor()) if path in s.diagrams), None)
    return render_template("designer/edit.html", path=path, forms=source.forms if source else {},
                           palette=asdict(palette(runtime().settings, path, actor())), labels=panel_labels(),
                           title=path.rsplit("/", 1)[-1])


def panel_labels() -> dict[str, Any]:
    """The properties panel's words in the page's language (the panel's script has none of its own)."""
    return {
        "none": _("（无）"),
        "group_task": _("办理（tongban）"), "group_outcome": _("文书与办结结果"), "group_condition": _("条件"),
        "group_timer": _("定时器"), "group_decision": _("决策表"), "group_service": _("服务任务"),
        "group_ledger": _("基金台账"),
        "formJsonSchemaFilename": _("表单"), "formUiSchemaFilename": _("表单界面"),
        "dueDate": _("办理期限"), "due_help": _("表达式，得出 ISO 日期时间，如 workdays_after(received_at, 5)"),
        "warnAt": _("预警时间"), "warn_help": _("表达式，得出 ISO 日期时间；到期前提醒承办人"),
        "candidateOrg": _("承办单位"),
        "org_help": _("表达式：组织代码（加引号）或办件数据项，如 'street_bdq' 或 street"),
        "candidateEnterprise": _("承办企业"),
        "enterprise_help": _("表达式：另一办件的编号，任务交给提交该办件的企业"),
        "document": _("文书"), "document_help": _("完成时出具的文书模板，多个用逗号分隔；本目录的模板："),
        "outcome": _("办结结果"),
        "outcomes": {"approved": _("准予"), "refused": _("不予"), "not_accepted": _("不予受理"),
                     "withdrawn": _("申请人撤回"), "lapsed": _("逾期失效"), "revoked": _("撤销"), "closed": _("办结")},
        "condition": _("条件表达式"),
        "condition_help": _("对办件数据求值为真时走这条连线，如 precheck_result == 'accept'"),
        "timer_kind": _("类型"), "timeDate": _("到某一时间"), "timeDuration": _("等待时长"),
        "timeCycle": _("循环"), "timer_value": _("表达式"),
        "timer_help": _("带引号的 ISO 8601 值（如 \"P5D\"）或表达式（如 workdays_after(accepted_at, 5)）"),
        "decision": _("决策表"), "operator": _("服务"), "param_help": _("表达式（字符串加引号）"),
        "ledger": _("记账类型"), "credit": _("收入"), "debit": _("支出"),
        "ledgerSource": _("来源"), "ledgerAmount": _("金额"), "ledgerFund": _("基金"),
        "ledgerCategory": _("类别"), "ledgerConsent": _("同意情况"), "ledgerCap": _("金额上限"),
        "ledgerSourceCap": _("来源上限"), "ledgerDonation": _("捐赠办件"),
    }
