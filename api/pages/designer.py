"""The designer's pages: processes with their versions, and the bpmn-js modeler for one diagram."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from engine.design import designer

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
    source = next((s for s in designer.process_sources(runtime().settings, actor()) if path in s.diagrams), None)
    return render_template("designer/edit.html", path=path, forms=source.forms if source else {},
                           title=path.rsplit("/", 1)[-1])
