"""常用意见: the few opinion phrases each user keeps ("材料齐全，同意受理"), offered on the task page.

A user's phrases are theirs alone: every read and delete is scoped by the caller's id (engine/people/access.py
`phrases_of`), so another user's phrase is "not found", administrators included. At most MAX_PHRASES phrases of
at most MAX_PHRASE_LENGTH characters each; the cap holds under concurrent adds because an add first locks the
user's own row (PostgreSQL; SQLite writers are serialized anyway).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from engine.base.clock import now
from engine.base.errors import Conflict, FormInvalid, NotFound
from engine.definitions.forms import visible_length
from engine.people.access import Actor, phrases_of
from engine.store.db import Database
from engine.store.models import SavedPhrase, User

MAX_PHRASES = 10
MAX_PHRASE_LENGTH = 200


@dataclass(frozen=True)
class PhraseView:
    id: int
    text: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat()}


def list_phrases(db: Database, actor: Actor) -> list[PhraseView]:
    """The caller's phrases, oldest first (the order they were saved in)."""
    with db.read() as session:
        rows = session.scalars(select(SavedPhrase).where(phrases_of(actor)).order_by(SavedPhrase.id)).all()
    return [PhraseView(p.id, p.text, p.created_at) for p in rows]


def add_phrase(db: Database, text: str, actor: Actor) -> PhraseView:
    """Save a phrase: FormInvalid at /text when blank or too long, or when the caller already keeps MAX_PHRASES;
    Conflict when the caller already keeps the same text."""
    text = (text or "").strip()
    if visible_length(text) == 0 or len(text) > MAX_PHRASE_LENGTH:
        raise FormInvalid(f"常用意见须为 1 到 {MAX_PHRASE_LENGTH} 个字 (a saved phrase has 1 to {MAX_PHRASE_LENGTH} "
                          "characters)", {"/text": [f"length must be 1..{MAX_PHRASE_LENGTH}"]})
    try:
        with db.write() as session:
            session.execute(select(User.id).where(User.id == actor.id).with_for_update())  # the cap's lock
            kept = session.scalars(select(SavedPhrase.text).where(phrases_of(actor))).all()
            if text in kept:
                raise _duplicate()
            if len(kept) >= MAX_PHRASES:
                raise FormInvalid(f"常用意见最多保存 {MAX_PHRASES} 条，请先删除不用的 (at most {MAX_PHRASES} saved "
                                  "phrases: delete one first)", {"/text": [f"at most {MAX_PHRASES} phrases"]})
            phrase = SavedPhrase(user_id=actor.id, text=text, created_at=now())
            session.add(phrase)
            session.flush()
            return PhraseView(phrase.id, phrase.text, phrase.created_at)
    except IntegrityError:  # the same text saved by a concurrent request of the same user
        raise _duplicate() from None


def _duplicate() -> Conflict:
    return Conflict("已保存过相同的常用意见 (this phrase is already saved)", {"/text": ["already saved"]})


def delete_phrase(db: Database, phrase_id: int, actor: Actor) -> None:
    """Delete one of the caller's phrases; anyone else's (or none) is not found."""
    with db.write() as session:
        gone = session.execute(delete(SavedPhrase).where(SavedPhrase.id == phrase_id, phrases_of(actor)))
        if gone.rowcount != 1:
            raise NotFound(f"常用意见不存在 (no saved phrase {phrase_id})")
