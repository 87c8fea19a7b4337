"""Case pages shared by every role: the list ("my cases" for enterprises) and one case in detail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from engine.base.vocabulary import Outcome
from engine.case.carboncopy import copies, mark_read
from engine.case.casesummary import open_steps
from engine.runtime.caseview import case_page
from engine.runtime.inbox import InstanceFilter, list_instances
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
    view, fields = case_page(runtime(), instance_id, actor())  # one read of the case, one deserialization
    db, tz = runtime().db, runtime().settings.timezone
    mark_read(db, instance_id, actor(), quiet=True)  # 已阅: a copy is read when its case is opened
    return render_template("cases/detail.html", case=view, fields=fields, copies=copies(db, instance_id, actor()),
                           urgeable=urgeable(db, instance_id, actor(), tz), title=view.case_number)
