"""Report facts: the current values of the data keys a process declares in `report:`, one row per key.

A key may name a nested value (`{street: address.street_office}`): the fact takes the entry's name.

The runtime calls `record` inside every step's transaction, so the rows never disagree with
the stored workflow; reports then GROUP BY them in SQL.  Processes that declare nothing pay
nothing: `record` returns before touching the workflow.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from engine.bpmn.stepping import data_holders
from engine.case.output import StepOutput
from engine.definitions.workspace import ReportKey
from engine.store.models import CaseFact

MAX_VALUE = 200  # case_facts.value


def _upsert(insert: Any) -> Any:
    statement = insert(CaseFact)
    return statement.on_conflict_do_update(
        index_elements=[CaseFact.instance_id, CaseFact.name],
        set_={c: statement.excluded[c] for c in ("value", "moment", "raw")})


_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}


def current_values(workflow: BpmnWorkflow, keys: tuple[ReportKey, ...]) -> dict[str, Any]:
    """The keys' values as the case page shows them (later holders win, workflow data last); absent ones left out."""
    values: dict[str, Any] = {}
    for holder in (*data_holders(workflow), workflow):
        for key in keys:
            found, value = _lookup(holder.data, key.path)
            if found:
                values[key.name] = value
    return values


def _lookup(data: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    """(True, the value at `path`) or (False, None) when a step of it is missing or not an object."""
    for step in path:
        if not (isinstance(data, dict) and step in data):
            return False, None
        data = data[step]
    return True, data


def typed(value: Any) -> dict[str, Any]:
    """The columns for one value: text to group by, an instant when it is an ISO datetime, the JSON itself."""
    raw = json.loads(json.dumps(value, default=str))
    if isinstance(raw, bool):
        text: str | None = "true" if raw else "false"
    elif isinstance(raw, int | float):
        text = json.dumps(raw)
    elif isinstance(raw, str):
        text = raw[:MAX_VALUE]
    else:
        text = None  # lists, objects and null are kept in `raw` only
    return {"value": text, "moment": _instant(raw), "raw": raw}


def _instant(value: Any) -> datetime | None:
    if not (isinstance(value, str) and len(value) > 10 and value[:4].isdigit() and value[10] in "T "):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None  # a naive time names no instant


def record(conn: Connection, out: StepOutput) -> None:
    """Upsert the declared keys' current values for the step's case (a side product, in the step's transaction)."""
    keys = out.compiled.manifest.report
    if not keys:
        return
    rows = [{"instance_id": out.instance_id, "name": n, **typed(v)}
            for n, v in current_values(out.workflow, keys).items()]
    if rows:
        conn.execute(_UPSERT[conn.dialect.name], rows)
