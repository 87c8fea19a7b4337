"""The distinct names of ready tasks, per inbox branch: what a task-name search is resolved against.

A name search (`q=审查`) cannot use an index as `name LIKE '%审查%'`: two CJK characters are too
short for trigrams, and the planner, guessing the fraction of matches from the whole table, reads a
clerk's entire queue when the word is common elsewhere but absent from it.  Task names, though, are
few (one per user task of each process), so the search first lists the names each branch actually
holds — a loose index scan, one index probe per distinct name — keeps those containing the words,
and then asks for `name IN (…)`: an index range per name, or nothing at all for a branch without one.
"""

from __future__ import annotations

from sqlalchemy import Connection, Select, literal, select, true, union_all
from sqlalchemy.sql.elements import ColumnElement

from engine.base.vocabulary import HumanTaskState
from engine.people.access import Branch
from engine.store.models import HumanTask

#: Every ready task: the probe for branches no (role, organisation, name) index can answer.
ALL_READY = Branch(true())


def _probe_for(branch: Branch) -> Branch:
    """The branch itself when ix_tasks_inbox_name leads with its columns, else the whole ready set."""
    return branch if branch.fixed[:1] and branch.fixed[0] is HumanTask.role else ALL_READY


def _names(branch: Branch, number: int) -> Select[tuple[int, str]]:
    """The names in one branch as a recursive CTE: each step fetches the next name after the last one."""

    def after(last: ColumnElement[str] | None) -> ColumnElement[str]:
        query = select(HumanTask.name).where(branch.where, HumanTask.state == HumanTaskState.READY)
        if last is not None:
            query = query.where(HumanTask.name > last)
        # the fixed columns lead the ORDER BY for the same reason as in the inbox (`org_id IS NULL`)
        return query.order_by(*branch.fixed, HumanTask.name).limit(1).scalar_subquery()

    names = select(after(None).label("name")).cte(f"names_{number}", recursive=True)
    names = names.union_all(select(after(names.c.name)).where(names.c.name.is_not(None)))
    return select(literal(number).label("branch"), names.c.name).where(names.c.name.is_not(None))


def matching_names(conn: Connection, branches: list[Branch], words: str) -> list[list[str]]:
    """Per branch, the names of its ready tasks that contain `words` (plain text, case as typed)."""
    probes: list[Branch] = []
    for probe in map(_probe_for, branches):  # by identity: ALL_READY is probed once, however often needed
        if not any(probe is p for p in probes):
            probes.append(probe)
    found: list[list[str]] = [[] for _ in probes]
    for number, name in conn.execute(union_all(*(_names(p, n) for n, p in enumerate(probes)))):
        if words in name:
            found[number].append(name)
    return [next(found[n] for n, p in enumerate(probes) if p is _probe_for(b)) for b in branches]
