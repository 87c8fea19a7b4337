"""The caller's own notifications (SLA warnings, 督办, reports to 督查室, incidents): list and mark read."""

from __future__ import annotations

from typing import Any

from engine.case.notifications import list_notifications, mark_read

from ..openapi import BAD_CURSOR, Blueprint
from ..schemas import NotificationPage, NotificationQuery, NotificationSchema
from ..security import REQUIRED, actor, runtime

blp = Blueprint("notifications", __name__, description="通知 (notifications)")


@blp.route("/notifications", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listNotifications",
         summary="the caller's notifications, newest first (?unread=true for unread only)")
@blp.arguments(NotificationQuery, location="query")
@blp.response(200, NotificationPage)
@blp.alt_response(400, description=BAD_CURSOR)
def inbox(query: dict[str, Any]) -> dict[str, Any]:
    items, cursor = list_notifications(runtime().db, actor(), query["unread"], query.get("cursor"), query["limit"])
    return {"items": items, "next_cursor": cursor}


@blp.route("/notifications/<id:notification_id>/read", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="markNotificationRead", summary="mark one of the caller's notifications read")
@blp.alt_response(404, description="通知不存在，或不是调用者的 (no such notification for the caller)")
@blp.response(200, NotificationSchema)
def read(notification_id: int) -> dict[str, Any]:
    return mark_read(runtime().db, notification_id, actor())
