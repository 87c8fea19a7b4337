"""Parse untrusted XML (BPMN, DMN) with no DTD, no entity expansion and no network access.

Process files come from designers and uploads; a DOCTYPE is never needed by BPMN or DMN,
so any document declaring one is refused outright instead of being half-trusted.
"""

from __future__ import annotations

from lxml import etree

from engine.base.problems import Problem


class UnsafeXml(ValueError):
    """The document carries a DOCTYPE or entity declaration, or is not well-formed."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(content: bytes, filename: str) -> etree._ElementTree:
    """Parse `content`, refusing DTDs and entities with a message that names the file and line."""
    if b"<!ENTITY" in content or b"<!DOCTYPE" in content:
        first = min(i for i in (content.find(b"<!DOCTYPE"), content.find(b"<!ENTITY")) if i >= 0)
        line = content[:first].count(b"\n") + 1
        raise UnsafeXml(
            Problem(
                filename,
                line,
                None,
                "文件含有 DOCTYPE 或实体声明，出于安全原因拒绝解析 "
                "(DOCTYPE and entity declarations are refused: BPMN and DMN never need them)",
            )
        )
    try:
        tree = etree.ElementTree(etree.fromstring(content, _parser()))
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(Problem(filename, exc.lineno, None, f"XML 格式错误 (malformed XML): {exc.msg}")) from exc
    if tree.docinfo.doctype:  # defensive: a DOCTYPE written in an unusual encoding
        raise UnsafeXml(Problem(filename, 1, None, "文件含有 DOCTYPE 声明，拒绝解析 (DOCTYPE refused)"))
    return tree
