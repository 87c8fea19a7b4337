"""Unified social credit codes (GB 32100) and resident ID numbers (GB 11643): check characters and birth dates,
with real values and values one step off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.base import clock
from engine.base.identity import (
    USCC_ALPHABET,
    IdentityInvalid,
    check_resident_id,
    check_uscc,
    credit_code_valid,
    id_number_valid,
    uscc_check_character,
)
from engine.bpmn.scripting import RestrictedEnvironment


def resident_id(first17: str) -> str:
    """`first17` completed with its MOD 11-2 check character (so only what the test changes is wrong)."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


# -- credit codes ------------------------------------------------------------------------------------
#: published codes of real enterprises (Huawei, Tencent, Haier's parent) and the demo ones
REAL_CODES = ["914403001922038216", "9144030071526726XG", "91370200163562681G", "91370202MA3C4XY01E"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_pass(code: str) -> None:
    check_uscc(code)
    assert credit_code_valid(code)


def test_the_check_character_is_31_minus_the_weighted_sum_and_31_becomes_0() -> None:
    # a prefix whose weighted sum is a multiple of 31: 31 - 0 = 31, written 0
    prefix = "00000000000000000"
    assert uscc_check_character(prefix) == "0" and credit_code_valid(prefix + "0")
    # one step off: a weight of 1 on the first place, so the check becomes 31 - 1 = 30 → Y
    assert uscc_check_character("1" + prefix[1:]) == "Y" and credit_code_valid("1" + prefix[1:] + "Y")


@pytest.mark.parametrize("code", REAL_CODES)
def test_every_other_check_character_is_refused(code: str) -> None:
    for wrong in USCC_ALPHABET.replace(code[17], ""):
        with pytest.raises(IdentityInvalid, match="GB 32100"):
            check_uscc(code[:17] + wrong)


@pytest.mark.parametrize("code, why", [
    ("91370202ma3c4xy01e", "capitals"),             # lower case
    ("91370202MA3C4XY01e", "capitals"),             # only the check character lower case
    ("91370202MA3C4IY01E", "except I, O, Z, S, V"),  # I
    ("91370202MA3C4OY01E", "except I, O, Z, S, V"),  # O
    ("91370202MA3C4ZY01E", "except I, O, Z, S, V"),  # Z
    ("91370202MA3C4SY01E", "except I, O, Z, S, V"),  # S
    ("91370202MA3C4VY01E", "except I, O, Z, S, V"),  # V
    ("9137020AMA3C4XY01E", "digits in places 3–8"),  # a letter in the region code
    ("91370202MA3C4XY01", "18 characters, not 17"),
    ("91370202MA3C4XY01EE", "18 characters, not 19"),
    ("", "18 characters, not 0"),
])
def test_malformed_credit_codes_say_why(code: str, why: str) -> None:
    with pytest.raises(IdentityInvalid, match=why):
        check_uscc(code)
    assert not credit_code_valid(code)


def test_a_single_typo_is_caught() -> None:
    code = "91370202MA3C4XY01E"
    for place in range(17):
        for other in USCC_ALPHABET.replace(code[place], ""):
            typo = code[:place] + other + code[place + 1:]
            if 2 <= place <= 7 and not other.isdigit():
                continue  # refused by its shape already
            assert not credit_code_valid(typo), typo


def test_scripts_may_call_credit_code_valid() -> None:
    env = RestrictedEnvironment()
    assert env.evaluate("credit_code_valid(c)", {"c": "91370202MA3C4XY01E"}) is True
    assert env.evaluate("credit_code_valid(c)", {"c": "91370202MA3C4XY01K"}) is False
    assert env.evaluate("credit_code_valid(c)", {"c": 42}) is False


# -- resident ID numbers -----------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["11010519491231002X", "370202198506120012", resident_id("37020219000101001"),
                                    resident_id("37020220000229001")])  # 1900-01-01; 29 February of a leap year
def test_valid_id_numbers_pass(number: str) -> None:
    check_resident_id(number)
    assert id_number_valid(number)


def test_every_other_check_character_is_refused_for_an_id_number() -> None:
    for wrong in "0123456789X".replace("2", ""):
        with pytest.raises(IdentityInvalid, match="GB 11643"):
            check_resident_id("37020219850612001" + wrong)


@pytest.mark.parametrize("first17, why", [
    ("37020219991399001", "19991399 .*not a date"),     # month 13, day 99
    ("37020219990229001", "19990229 .*not a date"),     # 1999 was not a leap year
    ("37020219850631001", "19850631 .*not a date"),     # 31 June
    ("37020220990101001", "2099-01-01 .*impossible"),   # in the future
    ("37020218991231001", "1899-12-31 .*impossible"),   # before 1900
])
def test_impossible_birth_dates_are_refused_even_with_the_right_check_character(first17: str, why: str) -> None:
    with pytest.raises(IdentityInvalid, match=why):
        check_resident_id(resident_id(first17))
    assert not id_number_valid(resident_id(first17))


def test_born_today_passes_and_tomorrow_does_not_by_the_case_clock() -> None:
    today = date(2026, 3, 2)
    assert check_resident_id(resident_id(f"370202{today:%Y%m%d}001"), today=today) is None
    with pytest.raises(IdentityInvalid, match="impossible"):
        check_resident_id(resident_id(f"370202{today + timedelta(days=1):%Y%m%d}001"), today=today)
    # without a date given, "today" is the runtime's clock (in Beijing time): moved back, a recent birth is future
    recent = resident_id(f"370202{date.today() - timedelta(days=200):%Y%m%d}001")
    assert id_number_valid(recent)
    earlier = clock.Clock()
    earlier.travel(timedelta(days=-400))
    with clock.using(earlier):
        assert not id_number_valid(recent)


def test_a_lower_case_x_is_refused_by_the_format_but_read_as_x_by_the_helper() -> None:
    with pytest.raises(IdentityInvalid, match="capital X"):
        check_resident_id("11010519491231002x")
    assert id_number_valid("11010519491231002x")


@pytest.mark.parametrize("number", ["1101051949123100X2", "11010519491231002", "1101051949123100XX", "",
                                    "A10105194912310020"])
def test_malformed_id_numbers_fail(number: str) -> None:
    with pytest.raises(IdentityInvalid):
        check_resident_id(number)
    assert not id_number_valid(number)


def test_the_helper_refuses_what_is_not_text() -> None:
    assert not id_number_valid(None) and not id_number_valid(True)
    assert id_number_valid(370202198506120012)  # a number as digits, as before
