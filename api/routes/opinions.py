"""审批流水 and 常用意见: a case's opinion trail, and the caller's own saved opinion phrases."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine.people.phrases import MAX_PHRASE_LENGTH, MAX_PHRASES, add_phrase, delete_phrase, list_phrases

from ..openapi import Blueprint
from ..schemas import OpinionSchema, Text
from ..security import REQUIRED, actor, runtime

blp = Blueprint("opinions", __name__, description="审批意见 (opinions and saved phrases)")


class PhraseSchema(Schema):
    id = fields.Integer(required=True)
    text = Text(required=True)
    created_at = fields.DateTime(required=True)


class PhraseRequest(Schema):
    text = Text(required=True, validate=validate.Length(1, MAX_PHRASE_LENGTH))


@blp.route("/instances/<id:instance_id>/opinions", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listInstanceOpinions",
         summary="a case's opinion trail (审批流水), oldest first; the enterprise reads its public opinions only")
@blp.response(200, OpinionSchema(many=True))
def trail(instance_id: int) -> Any:
    return runtime().opinion_trail(instance_id, actor())


@blp.route("/phrases", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listPhrases", summary="the caller's saved opinion phrases (常用意见)")
@blp.response(200, PhraseSchema(many=True))
def phrases() -> Any:
    return list_phrases(runtime().db, actor())


@blp.route("/phrases", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="addPhrase",
         summary=f"save an opinion phrase (at most {MAX_PHRASES}, {MAX_PHRASE_LENGTH} characters each)")
@blp.arguments(PhraseRequest)
@blp.response(201, PhraseSchema)
@blp.alt_response(409, description="已保存过相同的常用意见 (the caller already keeps this phrase)")
def add(body: dict[str, Any]) -> Any:
    return add_phrase(runtime().db, body["text"], actor())


@blp.route("/phrases/<id:phrase_id>", methods=["DELETE"])
@blp.doc(security=REQUIRED, operationId="deletePhrase", summary="delete one of the caller's saved phrases")
@blp.response(204)
def remove(phrase_id: int) -> None:
    delete_phrase(runtime().db, phrase_id, actor())
