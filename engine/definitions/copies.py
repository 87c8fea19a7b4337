"""The `cc` extension property (抄送): whom an element copies its case to when it completes.

Its value lists recipients separated by commas or spaces: a role code (`dispatcher`) copies to every active
holder of that role who may read the case (staff, or the case's own enterprise), `user:<username>` to one
person. A user task copies when it is completed, any other element (an end event, say) when it is reached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CC_PROPERTY = "cc"
USER_PREFIX = "user:"
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


@dataclass(frozen=True)
class Recipients:
    """Whom a `cc` property (or an approver's ad hoc copy) names: role codes and usernames."""

    roles: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.roles or self.users)


def parse(value: str) -> tuple[Recipients, list[str]]:
    """The recipients a `cc` value names, and the entries that are neither a role code nor `user:<name>`."""
    roles: list[str] = []
    users: list[str] = []
    bad: list[str] = []
    for entry in re.split(r"[,\s]+", value.strip()):
        if not entry:
            continue
        name = entry.removeprefix(USER_PREFIX)
        if not _NAME.fullmatch(name):
            bad.append(entry)
        elif entry.startswith(USER_PREFIX):
            users.append(name) if name not in users else None
        elif name not in roles:
            roles.append(name)
    return Recipients(tuple(roles), tuple(users)), bad
