"""The retention job: what nothing will ever use again is deleted, and nothing else.

- bearer tokens past their expiry, or revoked (only their hashes are stored; neither can log anyone in again);
- uploads for a start form that no case was started with within `TONGBAN_RETENTION_DRAFTS` (a day);
- stored bytes no attachment row names, once older than `TONGBAN_RETENTION_ORPHAN_GRACE` (an hour): what a
  crash between an upload's bytes and its row, a refused start's draft or a deleted draft leaves behind;
- spool files of uploads that died mid-way, after the same grace.

Bytes are written before their row, so an upload in flight is bytes with no row for a moment: the grace keeps
them, and an identical upload refreshes their time (`engine.store.storage`). A candidate is looked at again
just before it is deleted, and an upload whose bytes went anyway puts them back (`BlobStore.storing`).
A case's files, issued documents and history (events, field changes) are never touched: only the rows and
bytes above are.

Runs hourly from the embedded web processes' threads (engine/background/embedded.py) or the beat's
`tongban.retention` job, and as `tongban retention
[--dry-run]`; running twice at once is harmless (deleting what is gone is no error).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, or_, select

from engine.base.clock import now
from engine.runtime.context import in_context
from engine.runtime.runtime import Runtime
from engine.store.blobs import BlobStore
from engine.store.db import Database
from engine.store.models import ApiToken, Attachment

log = logging.getLogger(__name__)

EVERY = 3600.0  # seconds: the embedded thread's and the beat's interval
_BATCH = 500  # hashes per lookup of the attachments that name them


@dataclass
class Removed:
    """What one run deleted (or, dry, would delete): counts and names, for the log and the command's output."""

    dry_run: bool
    tokens: int = 0
    drafts: list[int] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    spool: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def __bool__(self) -> bool:
        return bool(self.tokens or self.drafts or self.blobs or self.spool)


@in_context
def run(runtime: Runtime, dry_run: bool = False) -> Removed:
    """One pass, in this order: tokens, drafts, then the bytes the removed drafts named become orphans too."""
    at = now()
    policy = runtime.settings.retention
    removed = Removed(dry_run)
    removed.tokens = _tokens(runtime.db, at, dry_run)
    removed.drafts = _drafts(runtime.db, at - policy.drafts, dry_run)
    cutoff = at - policy.orphan_grace
    removed.blobs = _orphans(runtime.db, runtime.blobs, cutoff, removed.drafts if dry_run else [], dry_run)
    removed.spool = _spool(runtime.blobs.storage.spool_dir, cutoff, dry_run)
    if removed:
        log.info("retention%s: %d tokens, %d unbound drafts %s, %d orphan blobs, %d spool files",
                 " (dry run)" if dry_run else "", removed.tokens, len(removed.drafts), removed.drafts,
                 len(removed.blobs), len(removed.spool))
        for sha256 in removed.blobs:
            log.debug("retention: orphan blob %s", sha256)
    else:
        log.debug("retention: nothing to remove")
    return removed


def _tokens(db: Database, at: datetime, dry_run: bool) -> int:
    dead = or_(ApiToken.expires_at < at, ApiToken.revoked_at.is_not(None))
    with db.write() as session:
        if dry_run:
            return len(session.scalars(select(ApiToken.id).where(dead)).all())
        return session.execute(delete(ApiToken).where(dead)).rowcount


def _drafts(db: Database, cutoff: datetime, dry_run: bool) -> list[int]:
    """Unbound drafts uploaded before `cutoff`. A start binding one at the same moment either wins (the row is
    then no draft and stays) or finds it gone and asks for the upload again, per field."""
    stale = (Attachment.instance_id.is_(None), Attachment.created_at < cutoff)
    with db.write() as session:
        if dry_run:
            return list(session.scalars(select(Attachment.id).where(*stale).order_by(Attachment.id)))
        return sorted(session.scalars(delete(Attachment).where(*stale).returning(Attachment.id)))


def _orphans(db: Database, blobs: BlobStore, cutoff: datetime, ignoring: list[int], dry_run: bool) -> list[str]:
    """Blobs older than `cutoff` that no attachment row names (`ignoring` the drafts a dry run leaves in place)."""
    old = {sha256: found for sha256, found in blobs.stored() if found.modified < cutoff}
    named = _named(db, old, ignoring)
    removed = []
    for sha256 in sorted(old.keys() - named):
        again = blobs.stat(sha256)  # an identical upload since the listing made it new: it is about to be named
        if again is None or again.modified >= cutoff:
            continue
        if not dry_run:
            blobs.delete(sha256)
        removed.append(sha256)
    return removed


def _named(db: Database, hashes: Iterable[str], ignoring: list[int]) -> set[str]:
    wanted = sorted(hashes)
    named: set[str] = set()
    with db.read() as session:
        for start in range(0, len(wanted), _BATCH):
            query = select(Attachment.sha256).where(Attachment.sha256.in_(wanted[start:start + _BATCH]))
            if ignoring:
                query = query.where(Attachment.id.not_in(ignoring))
            named.update(session.scalars(query))
    return named


def _spool(spool_dir: Path, cutoff: datetime, dry_run: bool) -> list[str]:
    """Spool files of uploads that never finished (the process died mid-upload)."""
    if not spool_dir.is_dir():
        return []
    removed = []
    for path in sorted(spool_dir.iterdir()):
        try:
            stale = path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff
        except FileNotFoundError:
            continue  # its upload just finished
        if stale:
            if not dry_run:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed
