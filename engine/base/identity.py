"""Identity numbers a pattern cannot check: the unified social credit code and the resident ID number.

One implementation for the forms' JSON-Schema formats (`"format": "uscc"`, `"format": "resident-id"`,
engine/definitions/forms.py) and the script helpers `credit_code_valid` / `id_number_valid`, so a rule
and a form never disagree about a number.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from engine.base.clock import now

#: GB 32100-2015: the 31 characters a code may use (no I, O, Z, S, V) and the weights of positions 1–17
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
#: GB 11643-1999: 6-digit area, 8-digit birth date, 3-digit sequence, ISO 7064 MOD 11-2 check character
RESIDENT_ID_SHAPE = re.compile(r"\d{17}[0-9X]")
RESIDENT_ID_CHECK = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)
_LOCAL = ZoneInfo("Asia/Shanghai")


class IdentityInvalid(ValueError):
    """Why a number is not a valid one, in Chinese and English (a form names the field in front)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} ({en})")
        self.zh, self.en = zh, en


def uscc_check_character(first17: str) -> str:
    """The 18th character of a credit code whose first 17 are `first17` (all from USCC_ALPHABET)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def check_uscc(value: str) -> None:
    """Raise IdentityInvalid unless `value` is an 18-character credit code with the right check character."""
    if len(value) != 18:
        raise IdentityInvalid(f"须为 18 位，现为 {len(value)} 位",
                              f"a unified social credit code has 18 characters, not {len(value)}")
    if not USCC_SHAPE.fullmatch(value):
        raise IdentityInvalid("只能用数字和大写字母（不用 I、O、Z、S、V），第 3–8 位须为数字",
                              "a unified social credit code uses digits and capitals except I, O, Z, S, V, "
                              "with digits in places 3–8")
    if value[17] != uscc_check_character(value[:17]):
        raise IdentityInvalid("校验码不符（GB 32100），请核对是否抄错",
                              "not a valid unified social credit code: the check character does not match "
                              "(GB 32100)")


def check_resident_id(value: str, today: date | None = None) -> None:
    """Raise IdentityInvalid unless `value` is an 18-character ID number with a real birth date (from 1900,
    not after today in Beijing time) and the right MOD 11-2 check character (an upper-case X for ten)."""
    if len(value) != 18:
        raise IdentityInvalid(f"须为 18 位，现为 {len(value)} 位",
                              f"a resident ID number has 18 characters, not {len(value)}")
    if not RESIDENT_ID_SHAPE.fullmatch(value):
        raise IdentityInvalid("前 17 位须为数字，末位为数字或大写 X",
                              "a resident ID number is 17 digits and a digit or capital X")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdentityInvalid(f"其中的出生日期 {value[6:14]} 不是有效日期",
                              f"the birth date {value[6:14]} in the ID number is not a date") from None
    today = today or now().astimezone(_LOCAL).date()
    if not EARLIEST_BIRTH <= born <= today:
        raise IdentityInvalid(f"其中的出生日期 {born.isoformat()} 不可能"
                              f"（不早于 {EARLIEST_BIRTH.year} 年、不晚于今天）",
                              f"the birth date {born.isoformat()} in the ID number is impossible (from "
                              f"{EARLIEST_BIRTH.year}, not in the future)")
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(value[:17]))
    if value[17] != RESIDENT_ID_CHECK[total % 11]:
        raise IdentityInvalid("校验码不符（GB 11643），请核对是否抄错",
                              "not a valid resident ID number: the check character does not match (GB 11643)")


def credit_code_valid(value: Any) -> bool:
    """Script helper: a valid unified social credit code (upper case, as GB 32100 writes it)."""
    return _passes(check_uscc, value)


def id_number_valid(value: Any) -> bool:
    """Script helper: a valid resident ID number; a lower-case x is read as X (what people type)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _passes(check_resident_id, value.upper() if isinstance(value, str) else value)


def _passes(check: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        check(value)
    except IdentityInvalid:
        return False
    return True
