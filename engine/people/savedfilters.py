"""Saved inbox filters: a user names the filter it keeps using ("超期的消防审查") and finds it above the inbox.

A filter is the inbox's query string, reduced to the parameters the inbox reads (FILTER_KEYS), so a saved link
never carries a cursor or anything else. Filters are the user's own: every read, replace and delete is scoped by
the caller's id (engine/people/access.py `filters_of`), so another user's filter is "not found", administrators
included. Saving under a name the user already has replaces that filter's query; at most MAX_FILTERS per user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import delete, select

from engine.base.clock import now
from engine.base.errors import FormInvalid, NotFound
from engine.definitions.forms import visible_length
from engine.people.access import Actor, filters_of
from engine.store.db import Database
from engine.store.models import SavedFilter, User

MAX_FILTERS = 20
MAX_NAME = 40
#: the inbox's own parameters (api/pages/inbox.py), in the order a saved query string lists them
FILTER_KEYS = ("scope", "process", "q", "overdue", "sort")
MAX_VALUE = 100


@dataclass(frozen=True)
class FilterView:
    id: int
    name: str
    query: str  # the inbox's query string, without "?"


def filter_query(params: Mapping[str, str]) -> str:
    """The inbox parameters of `params` as a query string: FILTER_KEYS only, non-empty, each cut to MAX_VALUE."""
    kept = [(k, str(params[k]).strip()[:MAX_VALUE]) for k in FILTER_KEYS if str(params.get(k) or "").strip()]
    return urlencode(kept)


def list_filters(db: Database, actor: Actor) -> list[FilterView]:
    """The caller's filters, by name."""
    with db.read() as session:
        rows = session.scalars(select(SavedFilter).where(filters_of(actor)).order_by(SavedFilter.name)).all()
    return [FilterView(f.id, f.name, f.query) for f in rows]


def save_filter(db: Database, actor: Actor, name: str, params: Mapping[str, str]) -> FilterView:
    """Keep `params` under `name` (replacing the caller's filter of that name): FormInvalid at /name when the name
    is blank or too long or the caller already keeps MAX_FILTERS, at /query when nothing is filtered."""
    name = (name or "").strip()
    if visible_length(name) == 0 or len(name) > MAX_NAME:
        raise FormInvalid(f"筛选名称须为 1 到 {MAX_NAME} 个字 (a filter's name has 1 to {MAX_NAME} characters)",
                          {"/name": [f"length must be 1..{MAX_NAME}"]})
    query = filter_query(params)
    if not query:
        raise FormInvalid("没有可保存的筛选条件 (nothing is filtered: there is nothing to save)",
                          {"/query": ["no filter set"]})
    with db.write() as session:
        session.execute(select(User.id).where(User.id == actor.id).with_for_update())  # the cap's lock
        kept = {f.name: f for f in session.scalars(select(SavedFilter).where(filters_of(actor)))}
        if (found := kept.get(name)) is not None:
            found.query = query
            return FilterView(found.id, found.name, found.query)
        if len(kept) >= MAX_FILTERS:
            raise FormInvalid(f"最多保存 {MAX_FILTERS} 个筛选，请先删除不用的 (at most {MAX_FILTERS} saved filters: "
                              "delete one first)", {"/name": [f"at most {MAX_FILTERS} filters"]})
        saved = SavedFilter(user_id=actor.id, name=name, query=query, created_at=now())
        session.add(saved)
        session.flush()
        return FilterView(saved.id, saved.name, saved.query)


def delete_filter(db: Database, actor: Actor, filter_id: int) -> None:
    """Delete one of the caller's filters; anyone else's (or none) is not found."""
    with db.write() as session:
        gone = session.execute(delete(SavedFilter).where(SavedFilter.id == filter_id, filters_of(actor)))
        if gone.rowcount != 1:
            raise NotFound(f"筛选不存在 (no saved filter {filter_id})")
