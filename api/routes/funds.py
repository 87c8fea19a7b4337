"""GET /funds/{code}/balances — a building fund's balance per money source (its secretariat and committee)."""

from __future__ import annotations

from typing import Any

from engine.case import ledger

from ..openapi import Blueprint
from ..schemas import FundBalances
from ..security import REQUIRED, actor, runtime

blp = Blueprint("funds", __name__, description="楼宇发展基金 (building development funds)")


@blp.route("/funds/<string:code>/balances", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getFundBalances")
@blp.response(200, FundBalances)
@blp.alt_response(404, description="基金不存在，或无权查看 (no such fund, or not the caller's to see)")
def fund_balances(code: str) -> dict[str, Any]:
    return {"fund_code": code, "balances": ledger.fund_balances(runtime().db, actor(), code)}
