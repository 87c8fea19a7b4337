"""Verification codes: anyone holding a printed notice can check at `/verify/{code}` that the office issued it.

Every issued document gets a code of `LENGTH` characters drawn by `secrets` from an alphabet without the
characters people misread (0/O, 1/I/L): 31^16 ≈ 2^79 codes, so one cannot be guessed, and a collision (which
the unique index would refuse, failing the step) is not to be expected in the life of the system. The answer
names only what the paper itself shows on its face — case number, title, issuing office and date — never the
applicant or the body, so a found or guessed code tells a stranger nothing the paper would not.
The lookup itself is engine/case/documents.py `verified`.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 16
GROUP = 4  # printed as ABCD-EFGH-JKMN-PQRS: easier to read aloud and type
_ALLOWED = frozenset(ALPHABET)
#: what a malformed code is looked up as (it matches nothing), so that a miss costs the same index probe as a hit
NEVER = "0" * LENGTH


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalise(raw: str) -> str | None:
    """The stored form of what someone typed or scanned (any case, dashes or spaces anywhere); None when it
    cannot be a code. Bounded first, so a megabyte of input costs nothing."""
    if len(raw) > 4 * LENGTH:
        return None
    code = raw.replace("-", "").replace(" ", "").upper()
    return code if len(code) == LENGTH and set(code) <= _ALLOWED else None


def verify_url(public_url: str, code: str) -> str:
    return f"{public_url}/verify/{display(code)}"
