"""The one password policy, checked wherever a password is set: `users add|passwd`, the administrators'
pages, the demo's generated passwords, any API that sets one.

NIST SP 800-63B style: a minimum length in characters as a person types them (电池 counts two), a maximum
that keeps hashing cheap, no composition rules (they push people to `Password1!`), and a refusal of what a
guesser tries first: a short deny-list of the passwords most seen in leaks, Chinese sites' and English ones'
(common_passwords.txt, also with digits or symbols appended), the username, one character repeated, and
keyboard or alphabet runs.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from engine.base.errors import FormInvalid

MIN_LENGTH = 10
MAX_LENGTH = 128
POLICY = (f"口令须为 {MIN_LENGTH}–{MAX_LENGTH} 个字符，不能是常见口令、用户名或单一字符重复、键盘或字母顺序 "
          f"(a password needs {MIN_LENGTH} to {MAX_LENGTH} characters and may not be a common password, the "
          f"username, one character repeated or a keyboard or alphabet run)")
_RUNS = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm",
         "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "1q2w3e4r5t6y7u8i9o0p", "zaq12wsxcde34rfvbgt56yhn")
_SUFFIX = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    lines = (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def problem(password: str, username: str | None = None) -> str | None:
    """Why `password` is refused (a short English reason), or None when it may be used."""
    text = unicodedata.normalize("NFKC", password)
    folded = text.casefold()
    if len(text) < MIN_LENGTH:
        return f"shorter than {MIN_LENGTH} characters"
    if len(text) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    if len(set(folded)) == 1:
        return "one character repeated"
    name = unicodedata.normalize("NFKC", username or "").strip().casefold()
    if name and (name == folded or (len(name) >= 4 and name in folded)):
        return "contains the username"
    if folded in common_passwords() or _SUFFIX.sub("", folded) in common_passwords():
        return "a commonly used password"
    if any(folded in run or folded in run[::-1] for run in _RUNS):
        return "a keyboard or alphabet run"
    return None


def check(password: str, username: str | None = None) -> None:
    """FormInvalid naming `/password` with the policy's one message, unless the password may be used."""
    if (reason := problem(password, username)) is not None:
        raise FormInvalid(POLICY, {"/password": [reason]})
