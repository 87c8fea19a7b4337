"""GB 11643 resident ID check character (the `id_number_valid` helper forms' x-rules call)."""

import pytest

from engine.bpmn.scripting import RestrictedEnvironment, id_number_valid


@pytest.mark.parametrize("number", ["11010519491231002X", "11010519491231002x", "370202198506120012"])
def test_valid_numbers_pass(number: str) -> None:
    assert id_number_valid(number)


@pytest.mark.parametrize("number", ["370202198506120013", "11010519491231002", "1101051949123100XX", "", None])
def test_wrong_check_character_or_shape_fails(number: str | None) -> None:
    assert not id_number_valid(number)


def test_rules_may_call_it() -> None:
    assert RestrictedEnvironment().evaluate("id_number_valid(agent_id)", {"agent_id": "370202198506120013"}) is False
