"""Case pages shared by every role: the list ("my cases" for enterprises) and one case in detail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from engine.base.errors import TongbanError
from engine.base.vocabulary import Outcome
from engine.case.carboncopy import copies, mark_read
from engine.case.casesummary import open_steps
from engine.people.access import may_administer
from engine.runtime.caseview import case_page
from engine.runtime.inbox import InstanceFilter, list_instances
from engine.runtime.runtime import ADMIN_STEPS, admin_steps
from engine.runtime.urging import urgeable

from ..security import actor, runtime
from .auth import login_required

bp = Blueprint("case_pages", __name__)


@bp.route("/cases")
@login_required
def cases() -> Any:
    outcome = request.args.get("outcome")
    flt = InstanceFilter(status=request.args.get("status") or None, process=request.args.get("process") or None,
                         case_number=request.args.get("case_number") or None,
                         outcome=outcome if outcome in Outcome.__members__.values() else None)
    items, cursor = list_instances(runtime().db, actor(), flt, request.args.get("cursor"), 20)
    steps = open_steps(runtime().db, (c.id for c in items))
    return render_template("cases/list.html", cases=items, steps=steps, next_cursor=cursor, title=_("我的办件"))


@bp.route("/cases/<id:instance_id>")
@login_required
def case(instance_id: int) -> Any:
    page = case_page(runtime(), instance_id, actor())  # one read of the case, one deserialization
    db, tz = runtime().db, runtime().settings.timezone
    mark_read(db, instance_id, actor(), quiet=True)  # 已阅: a copy is read when its case is opened
    return render_template("cases/detail.html", case=page.view, fields=page.fields, files=page.files,
                           stages=page.stages, countdown=page.countdown, steps=admin_steps(actor(), page.view.status),
                           copies=copies(db, instance_id, actor()), urgeable=urgeable(db, instance_id, actor(), tz),
                           title=page.view.case_number)


#: what the page says after an administrator's step
DONE = {"suspend": lazy_gettext("办件已挂起"), "resume": lazy_gettext("办件已恢复办理"),
        "retry": lazy_gettext("已重新执行出错的环节"), "terminate": lazy_gettext("办件已终止")}


@bp.route("/cases/<id:instance_id>/admin/<step>", methods=["POST"])
@login_required
def admin_step(instance_id: int, step: str) -> Any:
    """An administrator suspends, resumes, retries or terminates a case (a form post: CSRF-checked, works without
    scripts). Terminating asks for a reason and a ticked confirmation; the runtime checks the rest."""
    if step not in ADMIN_STEPS or not may_administer(actor()):
        abort(404 if step not in ADMIN_STEPS else 403)
    try:
        if step == "terminate":
            if request.form.get("confirm") != "yes":
                flash(_("请勾选确认后再终止办件"), "alert")
                return redirect(url_for(".case", instance_id=instance_id, _anchor="admin-steps"))
            runtime().terminate(instance_id, actor(), request.form.get("reason", ""))
        else:
            getattr(runtime(), step)(instance_id, actor())
    except TongbanError as error:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in error.fields.items())
        flash(f"{error.message} {detail}".strip(), "alert")
    else:
        flash(str(DONE[step]), "ok")
    return redirect(url_for(".case", instance_id=instance_id))
