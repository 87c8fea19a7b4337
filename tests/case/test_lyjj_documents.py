"""Fund notices: amounts are formatted once (`money`: ￥40,000.00, never a float artefact), a template's issuing
office may name the case's own office, and a number is never broken over two printed lines."""

from __future__ import annotations

from typing import Any

import pytest

from engine.case.documents import _wrap
from engine.definitions.templates import load_templates, money


@pytest.mark.parametrize(("value", "printed"), [
    (40000, "￥40,000.00"), (40000.0, "￥40,000.00"), (0.1 + 0.2, "￥0.30"), ("1234567.5", "￥1,234,567.50"),
    (0, "￥0.00"), (-12.5, "-￥12.50"), ("n/a", "n/a")])
def test_money_prints_an_amount_once_in_one_format(value: Any, printed: str) -> None:
    assert money(value) == printed


def test_the_office_is_a_template_over_the_case_data() -> None:
    text = "n:\n  title: 公示\n  office: '{{ fund_office }}'\n  body: '{{ budget | money }}'\n"
    [template] = load_templates("documents.yaml", text.encode()).values()
    data = {"fund_office": "江苏路街道楼宇发展基金秘书处", "budget": 40000.0}
    assert template.render_office(data) == "江苏路街道楼宇发展基金秘书处"
    assert template.render(data) == "￥40,000.00"


def test_a_broken_office_template_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match="模板语法错误"):
        load_templates("documents.yaml", b"n:\n  title: t\n  office: '{{ fund_office '\n  body: b\n")


class _Lines:
    """fpdf2's dry-run wrap, stubbed to cut where a character wrap would: inside the amount."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def multi_cell(self, *args: Any, **kwargs: Any) -> list[str]:
        return list(self.lines)


def test_a_number_cut_by_the_character_wrap_moves_down_whole() -> None:
    assert _wrap(_Lines(["项目预算：￥40,000.0", "0，其中认捐"]), "") == ["项目预算：", "￥40,000.00，其中认捐"]
    assert _wrap(_Lines(["公示期：2026-03-0", "2 至 2026-03-09"]), "") == ["公示期：", "2026-03-02 至 2026-03-09"]


def test_lines_that_do_not_cut_a_number_stay_as_they_are() -> None:
    assert _wrap(_Lines(["项目预算 ￥40,000.00", "。其中认捐"]), "") == ["项目预算 ￥40,000.00。", "其中认捐"]
    assert _wrap(_Lines(["123456", "7"]), "") == ["123456", "7"]  # a line all number is not emptied


def test_a_fund_notice_renders_as_pdf_with_every_character_in_the_font() -> None:
    """The yuan sign the `money` filter prints is one the embedded font has (a missing glyph prints blank)."""
    from fontTools.ttLib import TTFont

    from engine.case.documents import FONT, render_pdf
    text = f"项目预算：{money(40000)}，其中认捐 {money(12000.5)}。"
    cmap = TTFont(str(FONT)).getBestCmap()
    assert all(ord(ch) in cmap for ch in text + "中山路街道楼宇发展基金秘书处")
    assert render_pdf("楼宇发展基金项目公示", "370202LYJJ-P20260302000001", text, "中山路街道楼宇发展基金秘书处",
                      "2026年3月2日").startswith(b"%PDF")
