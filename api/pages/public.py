"""Public pages (no login): verifying a printed document, and the building funds' quarterly disclosure.

Read-only GETs over the same engine calls as the public API (api/routes/public.py); they set no session state
but the language. A verification page is not to be indexed: a code is as good as the paper it is printed on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.base.errors import NotFound
from engine.case import disclosure, disclosure_pdf

from ..routes.public import verify_document
from ..security import runtime

bp = Blueprint("public_pages", __name__)


@bp.app_template_filter("yuan")
def _yuan(amount: Any) -> str:
    return disclosure.yuan(amount)


def _not_indexed(response: Response) -> Response:
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/favicon.ico")
def favicon() -> Any:
    """Browsers and bookmarks ask for /favicon.ico whatever the page links; a 404 on every page is noise."""
    return redirect(url_for("static", filename="favicon.ico"), 301)


@bp.route("/verify")
def verify_form() -> Any:
    """A box to type the code into (the QR code leads straight to the answer)."""
    if code := request.args.get("code", "").strip():
        return redirect(url_for("public_pages.verify", code=code[:64]))
    return _not_indexed(Response(render_template("public/verify.html", found=None, code="", title=_("文书核验"))))


@bp.route("/verify/<string:code>")
def verify(code: str) -> Any:
    try:
        found = verify_document(code)
    except NotFound:
        page = render_template("public/verify.html", found=None, code=code[:64], title=_("文书核验"))
        return _not_indexed(Response(page, status=404))
    return _not_indexed(Response(render_template("public/verify.html", found=found, code=code, title=_("文书核验"))))


@bp.route("/disclosure/<string:fund>")
def quarters(fund: str) -> Any:
    found = disclosure.quarters(runtime(), fund)
    return render_template("public/quarters.html", fund=fund, quarters=list(reversed(found)),
                           title=_("楼宇发展基金收支公示"))


@bp.route("/disclosure/<string:fund>/<string:quarter>")
def report(fund: str, quarter: str) -> Any:
    if quarter.endswith(".pdf"):
        return _pdf(fund, quarter.removesuffix(".pdf"))
    found = disclosure.disclosure(runtime(), fund, quarter)
    return render_template("public/disclosure.html", d=found, title=_("楼宇发展基金收支公示"))


def _pdf(fund: str, quarter: str) -> Response:
    found = disclosure.disclosure(runtime(), fund, quarter)
    response = Response(disclosure_pdf.render(found, runtime().settings.timezone), mimetype="application/pdf")
    name = f"{found.fund_code}-{found.quarter}-收支公示.pdf"
    response.headers["Content-Disposition"] = (f'inline; filename="{found.fund_code}-{found.quarter}.pdf"; '
                                               f"filename*=UTF-8''{quote(name)}")
    return response
