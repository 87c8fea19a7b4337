"""Public, read-only API (no login): document verification and the building funds' quarterly disclosure.

GET /verify/{code} answers only with what the document shows on its face; GET /disclosure/... carries no
personal data (engine/case/disclosure.py). A verification code has some 79 bits, so guessing is hopeless;
each client address is still limited (TONGBAN_RATELIMIT_PUBLIC_PER_IP, api/limits.py) to keep floods away
from the database and the PDF renderer.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from engine.case import disclosure, documents

from ..openapi import Blueprint
from ..schemas import Names, Text
from ..security import runtime

blp = Blueprint("public", __name__, description="公开查询 (public: document verification, fund disclosure)")
PUBLIC: list[dict[str, list[str]]] = []  # OpenAPI: no authentication
LIMITED = "too many requests from this address (Retry-After says when to try again)"


class DocumentStanding(Schema):
    status = Text(required=True, metadata={"description": "valid | superseded (a later issue replaced it) | revoked "
                                                          "(the case's licence or registration was revoked after it)"})
    since = fields.Date(allow_none=True, metadata={"description": "the district's date it was superseded or revoked"})
    zh = Text(required=True, metadata={"description": "说明 (the standing, in Chinese)"})
    en = Text(required=True, metadata={"description": "the standing, in English"})


class VerifiedDocument(Schema):
    case_number = Text(required=True, metadata={"description": "办件编号 (case number)"})
    title = Text(required=True, metadata={"description": "文书名称 (document title)"})
    office = Text(required=True, metadata={"description": "出具机关 (issuing office)"})
    issued_on = fields.Date(required=True, metadata={"description": "签发日期 (the date issued, in the district)"})
    issue_date = Text(required=True, metadata={"description": "文书所载日期 (the date printed, e.g. 2026年11月22日)"})
    standing = fields.Nested(DocumentStanding, required=True,
                             metadata={"description": "现行有效、已被取代或已撤销 (whether it is still in force)"})


def verify_document(code: str) -> documents.Verified:
    """The document of a code, or NotFound (the same answer for an unknown and a malformed code)."""
    return documents.verify(runtime().db, code, runtime().settings.timezone)


@blp.route("/verify/<string:code>", methods=["GET"])
@blp.doc(security=PUBLIC, operationId="verifyDocument", summary="verify a document by the code printed on it (public)")
@blp.response(200, VerifiedDocument)
@blp.alt_response(404, description="no document has this code (unknown or malformed)")
@blp.alt_response(429, description=LIMITED)
def verify(code: str) -> Any:
    return verify_document(code)


class Amounts(Schema):
    opening = Text(required=True, metadata={"description": "期初余额, decimal string"})
    income = Text(required=True)
    spending = Text(required=True)
    closing = Text(required=True)


class DonorLine(Schema):
    name = Text(allow_none=True, metadata={"description": "a named enterprise donor; null: the others together"})
    amount = Text(required=True)
    contributions = fields.Integer(required=True)


class ProjectLine(Schema):
    case_number = Text(required=True)
    name = Text(required=True)
    category = Text(allow_none=True)
    category_name = Text(allow_none=True)
    amount = Text(required=True)
    payments = fields.Integer(required=True)


class SourceLine(Amounts):
    source = Text(required=True)
    name = fields.Nested(Names, required=True)
    cash = fields.Boolean(required=True)
    ring_fenced = fields.Boolean(required=True)
    donors = fields.List(fields.Nested(DonorLine), required=True)
    projects = fields.List(fields.Nested(ProjectLine), required=True)


class Totals(Schema):
    cash = fields.Nested(Amounts, required=True)
    in_kind = fields.Nested(Amounts, required=True)


class FundDisclosure(Schema):
    fund_code = Text(required=True)
    quarter = Text(required=True, metadata={"example": "2026Q3"})
    name = fields.Nested(Names, required=True)
    period_start = fields.DateTime(required=True)
    period_end = fields.DateTime(required=True, metadata={"description": "exclusive"})
    closed = fields.Boolean(required=True, metadata={"description": "the quarter is over: figures are final"})
    as_of = fields.DateTime(required=True)
    sources = fields.List(fields.Nested(SourceLine), required=True)
    totals = fields.Nested(Totals, required=True)


class QuarterLine(Schema):
    quarter = Text(required=True, metadata={"example": "2026Q3"})
    name = fields.Nested(Names, required=True)


class FundQuarters(Schema):
    fund_code = Text(required=True)
    quarters = fields.List(fields.Nested(QuarterLine), required=True)


@blp.route("/disclosure/<string:fund>", methods=["GET"])
@blp.doc(security=PUBLIC, operationId="listDisclosedQuarters",
         summary="the quarters a building fund has disclosed (public)")
@blp.response(200, FundQuarters)
@blp.alt_response(404, description="no such fund")
@blp.alt_response(429, description=LIMITED)
def fund_quarters(fund: str) -> Any:
    found = disclosure.quarters(runtime(), fund)
    return {"fund_code": fund, "quarters": [{"quarter": str(q), "name": {"zh": q.zh, "en": q.en}}
                                            for q in reversed(found)]}


@blp.route("/disclosure/<string:fund>/<string:quarter>", methods=["GET"])
@blp.doc(security=PUBLIC, operationId="getFundDisclosure",
         summary="a building fund's quarterly disclosure, e.g. 2026Q3 (public)")
@blp.response(200, FundDisclosure)
@blp.alt_response(404, description="no such fund, or no disclosure for that quarter (or not a quarter)")
@blp.alt_response(429, description=LIMITED)
def fund_disclosure(fund: str, quarter: str) -> Any:
    return disclosure.as_dict(disclosure.disclosure(runtime(), fund, quarter))
