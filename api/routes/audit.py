"""GET /audit — the audit log of logins and account changes, for administrators (filters, keyset pages)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine.people import audit

from ..openapi import BAD_CURSOR, Blueprint
from ..schemas import Instant, Limit, Text
from ..security import REQUIRED, actor, runtime

blp = Blueprint("audit", __name__, description="审计日志 (audit log: administrators)")


class AuditQuery(Schema):
    since = Instant(metadata={"description": "from this instant, inclusive"})
    until = Instant(metadata={"description": "before this instant"})
    action = Text(validate=validate.OneOf(audit.ACTIONS))
    user = Text(validate=validate.Length(1, 64), metadata={"description": "entries by or about this username"})
    cursor = Text(validate=validate.Length(1, 500))
    limit = Limit


class AuditEntrySchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    action = Text(required=True, metadata={"enum": list(audit.ACTIONS)})
    actor = Text(allow_none=True, metadata={"description": "username of who acted; system; null: anonymous"})
    subject = Text(allow_none=True, metadata={"description": "the account (or attempted username) acted on"})
    ip = Text(allow_none=True)
    detail = fields.Dict(required=True)


class AuditPage(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next_cursor = Text(allow_none=True)


@blp.route("/audit", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listAuditEntries", summary="the audit log, newest first (administrators)")
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditPage)
@blp.alt_response(400, description=BAD_CURSOR)
@blp.alt_response(403, description="仅管理员可查看 (administrators only)")
def entries(query: dict[str, Any]) -> dict[str, Any]:
    where = audit.AuditFilter(query.get("since"), query.get("until"), query.get("action"), query.get("user"))
    items, cursor = audit.entries(runtime().db, actor(), where, query["limit"], query.get("cursor"))
    return {"items": items, "next_cursor": cursor}
