"""The work lists beside the inbox: 已办, 我发起的, 抄送我的, and the numbers on the inbox page's tabs."""

from __future__ import annotations

from typing import Any

from engine.runtime.worklists import ListFilter, WorkList, counts, work_list

from ..openapi import BAD_CURSOR, Blueprint
from ..schemas import WorkListCounts, WorkListPage, WorkListQuery
from ..security import REQUIRED, actor, runtime

blp = Blueprint("worklists", __name__, description="已办、我发起的、抄送我的 (work lists)")


def _page(which: WorkList, query: dict[str, Any]) -> dict[str, Any]:
    flt = ListFilter(process=query.get("process"), status=query.get("status"), since=query.get("since"),
                     until=query.get("until"), q=query.get("q"), unread=query["unread"])
    items, cursor = work_list(runtime().db, actor(), which, flt, query.get("cursor"), query["limit"])
    return {"items": [i.to_dict() for i in items], "next_cursor": cursor}


@blp.route("/worklists/done", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listDoneTasks",
         summary="已办: tasks the caller completed, most recent first, with where each case stands now")
@blp.arguments(WorkListQuery, location="query")
@blp.response(200, WorkListPage)
@blp.alt_response(400, description=BAD_CURSOR)
def done(query: dict[str, Any]) -> dict[str, Any]:
    return _page(WorkList.DONE, query)


@blp.route("/worklists/started", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listStartedCases", summary="我发起的: cases the caller started, newest first")
@blp.arguments(WorkListQuery, location="query")
@blp.response(200, WorkListPage)
@blp.alt_response(400, description=BAD_CURSOR)
def started(query: dict[str, Any]) -> dict[str, Any]:
    return _page(WorkList.STARTED, query)


@blp.route("/worklists/copied", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listCopiedCases",
         summary="抄送我的: cases copied to the caller, newest copy first, with their read status")
@blp.arguments(WorkListQuery, location="query")
@blp.response(200, WorkListPage)
@blp.alt_response(400, description=BAD_CURSOR)
def copied(query: dict[str, Any]) -> dict[str, Any]:
    return _page(WorkList.COPIED, query)


@blp.route("/worklists/counts", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getWorkListCounts",
         summary="the number of rows in each list (at most 1000 each): inbox, done, started, copied, unread copies")
@blp.response(200, WorkListCounts)
def tab_counts() -> dict[str, int]:
    return counts(runtime().db, actor())
