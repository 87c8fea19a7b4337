"""POST /auth/token — log in; DELETE /auth/token — revoke the token in use."""

from __future__ import annotations

from typing import Any

from engine.people.auth import login, revoke

from ..openapi import Blueprint
from ..schemas import TokenRequest, TokenResponse
from ..security import REQUIRED, bearer_token, client_ip, runtime

blp = Blueprint("auth", __name__, description="登录与令牌 (log-in and tokens)")


@blp.route("/auth/token", methods=["POST"])
@blp.doc(operationId="createToken", summary="log in: a bearer token for a username and password")
@blp.arguments(TokenRequest)
@blp.response(201, TokenResponse)
@blp.alt_response(401, description="用户名或密码错误 (wrong username or password)")
@blp.alt_response(429, description="尝试过于频繁 (too many attempts from this address, or failures for this account "
                                   "from it; Retry-After says when to try again)")
def create_token(body: dict[str, Any]) -> dict[str, Any]:
    token, expires = login(runtime().db, body["username"], body["password"], ip=client_ip())
    return {"token": token, "expires_at": expires}


@blp.route("/auth/token", methods=["DELETE"])
@blp.doc(security=REQUIRED, operationId="revokeToken", summary="log out: revoke the bearer token in use")
@blp.response(204)
def revoke_token() -> None:
    revoke(runtime().db, bearer_token(), client_ip())
