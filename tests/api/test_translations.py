"""zh-CN first, English available: every text the pages mark for translation has an English one."""

from __future__ import annotations

from io import BytesIO

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.support.repo import REPO

CATALOGUE = REPO / "api" / "translations" / "en" / "LC_MESSAGES"


def test_every_marked_text_has_an_english_translation_and_the_mo_is_compiled() -> None:
    with open(REPO / "api" / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    marked = {message for _file, _line, message, _comments, _ctx in
              extract_from_dir(REPO, method_map, options_map, keywords={"_": None, "gettext": None})
              if isinstance(message, str)}
    po = read_po(BytesIO((CATALOGUE / "messages.po").read_bytes()))
    translated = {m.id: m.string for m in po if m.id}
    assert sorted(marked - translated.keys()) == []  # run pybabel extract/update (README)
    assert sorted(k for k in marked if not translated[k]) == []
    mo = read_mo(BytesIO((CATALOGUE / "messages.mo").read_bytes()))
    assert {m.id: m.string for m in mo if m.id} == {k: v for k, v in translated.items() if v}  # pybabel compile
