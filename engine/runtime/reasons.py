"""The reason an operator gives for withdrawing or returning a case, adding a signer, entrusting or urging a task:
required, trimmed, bounded.

撤回, 退回, 加签, 委派 and 催办 are recorded in the case history with who, when and why; a blank or oversized
reason is refused (422, naming the field) before anything is read, so every caller — API, CLI, pages — gets the
same answer.
"""

from __future__ import annotations

from typing import Any

from engine.base import jsonvalues
from engine.base.errors import FormInvalid

MAX_REASON = 500


def checked_reason(reason: Any, field: str = "/reason") -> str:
    """The reason, trimmed; FormInvalid naming `field` when it is not 1..500 characters of text PostgreSQL stores."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON or "\x00" in text or jsonvalues.problems({"r": text}):  # PG holds no NUL
        raise FormInvalid(f"请填写理由（1 到 {MAX_REASON} 个字符）"
                          f"(a reason of 1 to {MAX_REASON} characters is required)",
                          {field: [f"required, 1..{MAX_REASON} characters"]})
    return text
