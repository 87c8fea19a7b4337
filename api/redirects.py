"""Where a log-in may send the browser next: only a path on this site, whatever the `next` parameter holds.

Every log-in path (the password form, single sign-on) calls `safe_next`. Browsers forgive a great deal in a
Location: they drop tabs and newlines (`/\\t/evil.example` is `//evil.example`), read `\\` as `/`, take `//host`
as another site, and a second decoding may turn `%2F%2F` into `//`. So a target is kept only when it is a
plain absolute path — one `/`, then no `/` or `\\` — with no control, format or space characters and no
backslash anywhere, and when it still is one once percent-decoded; anything else goes home.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

MAX_NEXT = 2048


def _plain_path(target: str) -> bool:
    if not target.startswith("/") or target[1:2] in ("/", "\\") or "\\" in target:
        return False
    if any(unicodedata.category(ch)[0] in ("C", "Z") for ch in target):  # controls, format chars, every space
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, home: str) -> str:
    """`target` when it is a path on this site (also after percent-decoding, twice), else `home`."""
    if not target or len(target) > MAX_NEXT:
        return home
    once = unquote(target)
    if all(_plain_path(form) for form in (target, once, unquote(once))):
        return target
    return home
