"""POST /auth/token — log in; DELETE /auth/token — revoke the token in use."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from engine.people.auth import login, revoke

from ..schemas import TokenRequest, TokenResponse
from ..security import REQUIRED, bearer_token, runtime

blp = Blueprint("auth", __name__, description="登录与令牌 (log-in and tokens)")


@blp.route("/auth/token", methods=["POST"])
@blp.arguments(TokenRequest)
@blp.response(201, TokenResponse)
@blp.alt_response(401, description="wrong username or password")
@blp.alt_response(429, description="too many failed attempts")
def create_token(body: dict[str, Any]) -> dict[str, Any]:
    token, expires = login(runtime().db, body["username"], body["password"])
    return {"token": token, "expires_at": expires}


@blp.route("/auth/token", methods=["DELETE"])
@blp.doc(security=REQUIRED)
@blp.response(204)
def revoke_token() -> None:
    revoke(runtime().db, bearer_token())
