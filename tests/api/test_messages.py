"""marshmallow's messages answered in Chinese and English (api/messages.py): every template the library has is
in the table, the look-up picks the right one where templates overlap, and a real 422 says both."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from marshmallow import Schema, fields, validate

from api.messages import ZH, bilingual
from tests.support.http import bearer

_OPS = {"min_op": (validate.Range.message_gte, validate.Range.message_gt),
        "max_op": (validate.Range.message_lte, validate.Range.message_lt)}


def library_templates() -> Iterator[str]:
    """The messages marshmallow can answer with: its schema's, its fields', its validators' (Range's with each
    of its comparison words, as Range fills them in)."""
    yield from Schema._default_error_messages.values()
    for _, cls in inspect.getmembers(fields, inspect.isclass):
        yield from getattr(cls, "default_error_messages", {}).values()
    for _, cls in inspect.getmembers(validate, inspect.isclass):
        if cls is validate.Range:
            continue
        yield from (v for k, v in vars(cls).items() if isinstance(v, str) and k.endswith(("message", "_min",
                                                                                             "_max", "_all", "_equal")))
    for template in (validate.Range.message_min, validate.Range.message_max, validate.Range.message_all):
        for low in _OPS["min_op"]:
            for high in _OPS["max_op"]:
                yield template.format(min_op=low, max_op=high)


def test_every_message_the_library_has_is_in_the_table() -> None:
    missing = sorted(set(library_templates()) - set(ZH))
    assert not missing, f"marshmallow messages without their Chinese in api/messages.py: {missing}"


@pytest.mark.parametrize(("english", "chinese"), [
    ("Not a valid email address.", "不是有效的电子邮件地址"),  # not "Not a valid {obj_type}."
    ("Not a valid datetime.", "不是有效的时间值 (datetime)"),
    ("Not a valid naive datetime.", "时间须带时区或不带时区，与要求不符 (naive datetime)"),
    ("Must be greater than or equal to 5.", "须大于或等于 5"),  # not "Must be greater than {min}."
    ("Must be greater than 5.", "须大于 5"),
    ("Must be greater than or equal to 1 and less than or equal to 200.", "须在 1 到 200 之间（含两端）"),
    ("Must be one of: a, b.", "须为以下之一：a, b"),
    ("Length must be between 1 and 64.", "长度须在 1 到 64 之间"),
])
def test_each_message_gets_its_own_sentence_with_its_values(english: str, chinese: str) -> None:
    assert bilingual(english) == f"{chinese} ({english})"


def test_tongbans_own_messages_and_unknown_ones_are_left_alone() -> None:
    assert bilingual("不允许包含 NUL 字符 (NUL characters are not allowed)") == \
        "不允许包含 NUL 字符 (NUL characters are not allowed)"
    assert bilingual("Something marshmallow may say one day.") == "Something marshmallow may say one day."


def test_a_refused_request_says_what_is_wrong_in_both_languages(client: FlaskClient) -> None:
    reply = client.post("/api/v1/auth/token", json={"username": "", "password": "x", "otp": 1})
    assert reply.status_code == 422
    assert reply.json["fields"] == {"/username": ["长度须在 1 到 64 之间 (Length must be between 1 and 64.)"],
                                    "/otp": ["不认识的字段 (Unknown field.)"]}
    listed = client.get("/api/v1/tasks?limit=0&scope=nobody", headers=bearer(client, "window"))
    assert listed.status_code == 422
    for messages in listed.json["fields"].values():
        assert all(re.fullmatch(r"[^()]*[\u4e00-\u9fff].* \([^\u4e00-\u9fff]+\)", m) for m in messages), messages
    assert listed.json["fields"]["/limit"] == [
        "须在 1 到 200 之间（含两端） (Must be greater than or equal to 1 and less than or equal to 200.)"]


def test_a_long_text_is_not_matched_against_the_templates() -> None:
    long = "Not a valid " + "a " * 20_000 + "x."  # two open slots against it backtracked for seconds
    assert bilingual(long) == long
