"""Save an edited diagram by patching only the changed elements into the file's original text.

bpmn-js and dmn-js write a whole new document: XML comments are dropped and every line is re-indented,
so a one-label change would rewrite the whole file under review. Here the saved file is the original text
with each element the editor changed re-written in place: unchanged elements keep their exact bytes
(attribute layout, comments, blank lines), comments inside a changed element's unchanged children stay,
added elements are written after the sibling the editor put them after, with their neighbours' indentation, and
removed ones disappear with their line. Elements are matched by `id` (by position among siblings of the same tag
when they have none); a decision table whose rows the editor re-ordered is re-written whole (their order is the
table's meaning), while a process keeps its file's order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from engine.base.xmlsafe import parse_xml

_TOKEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>"
    r"|</[^\s>]+\s*>"
    r"|<[^\s/>!?]+(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/?>",
    re.S)
_ATTRIBUTE_ESCAPES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
#: BPMN attributes at their schema default, which bpmn-js leaves out of what it writes: the same meaning, kept
_DEFAULTS = {"cancelActivity": "true", "isInterrupting": "true", "isForCompensation": "false",
             "startQuantity": "1", "completionQuantity": "1", "parallelMultiple": "false", "isImmediate": "true"}


def _order_matters(element: etree._Element) -> bool:
    """A decision table's rules, inputs and entries are read in order; a process's elements and shapes are not
    (bpmn-js writes boundary events' shapes after the others), so those keep the file's order."""
    return "/DMN/" in (etree.QName(element).namespace or "")


def _meaningful(attributes: etree._Attrib) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in attributes.items() if _DEFAULTS.get(k) != v))


@dataclass
class _Span:
    """Where one element of the original sits in its text: start tag, content and end."""

    start: int
    tag_end: int
    end: int = -1
    content_end: int = -1
    #: the content in order: ("text", start, end), ("comment", start, end) and ("element", _Span)
    parts: list[tuple] = field(default_factory=list)
    element: etree._Element | None = None

    @property
    def children(self) -> list[_Span]:
        return [p[1] for p in self.parts if p[0] == "element"]


def _spans(text: str) -> _Span:
    """The element tree of `text` with offsets (the text is well-formed: it has been parsed already)."""
    stack: list[_Span] = []
    root: _Span | None = None
    position = 0
    for match in _TOKEN.finditer(text):
        if stack and match.start() > position:
            stack[-1].parts.append(("text", position, match.start()))
        token = match.group()
        position = match.end()
        if token.startswith("</"):
            span = stack.pop()
            span.content_end, span.end = match.start(), match.end()
        elif token.startswith(("<!--", "<![CDATA[", "<?")):
            if stack:
                stack[-1].parts.append(("comment" if token.startswith("<!--") else "text", match.start(), position))
        else:
            span = _Span(match.start(), match.end())
            if stack:
                stack[-1].parts.append(("element", span))
            else:
                root = root or span
            if token.endswith("/>"):
                span.end = span.content_end = match.end()
            else:
                stack.append(span)
    if root is None:
        raise ValueError("no root element")
    return root


def _attach(span: _Span, element: etree._Element) -> None:
    span.element = element
    children = [c for c in element if isinstance(c.tag, str)]
    if len(children) != len(span.children):
        raise ValueError("the text and its parse disagree")
    for child_span, child in zip(span.children, children, strict=True):
        _attach(child_span, child)


def _canonical(element: etree._Element) -> tuple:
    """What an element means, without comments, whitespace between elements or namespace prefixes."""
    children = [c for c in element if isinstance(c.tag, str)]
    texts = [t.strip() for t in [element.text, *(c.tail for c in element if not isinstance(c.tag, str)),
                                 *(c.tail for c in children)] if t and t.strip()]
    return (element.tag, _meaningful(element.attrib),
            (element.text or "") if not children else tuple(texts), tuple(_canonical(c) for c in children))


def _keys(elements: list[etree._Element]) -> list[tuple[str, str]]:
    seen: dict[str, int] = {}
    keys = []
    for element in elements:
        if element.get("id"):
            keys.append(("id", element.get("id")))
        else:
            seen[element.tag] = seen.get(element.tag, -1) + 1
            keys.append((element.tag, str(seen[element.tag])))
    return keys


class _Merger:
    def __init__(self, text: str, root: _Span) -> None:
        self.text = text
        self.prefixes = {uri: prefix for prefix, uri in root.element.nsmap.items()}
        self.declare: dict[str, str] = {}  # namespace → prefix the original root must now declare

    def _qname(self, name: str, nsmap: dict[str | None, str]) -> str:
        qname = etree.QName(name)
        if qname.namespace is None:
            return qname.localname
        if qname.namespace == "http://www.w3.org/XML/1998/namespace":
            return f"xml:{qname.localname}"
        if qname.namespace not in self.prefixes:
            prefix = next((p for p, uri in nsmap.items() if uri == qname.namespace and p), None) or "ns0"
            self.prefixes[qname.namespace] = self.declare[qname.namespace] = prefix
        prefix = self.prefixes[qname.namespace]
        return f"{prefix}:{qname.localname}" if prefix else qname.localname

    def generate(self, element: etree._Element) -> str:
        """A new or wholly re-written element, with the editor's own indentation inside it."""
        attributes = "".join(f' {self._qname(k, element.nsmap)}="{escape(v, _ATTRIBUTE_ESCAPES)}"'
                             for k, v in element.attrib.items())
        tag = self._qname(element.tag, element.nsmap)
        inner = escape(element.text or "")
        for child in element:
            if isinstance(child.tag, str):
                inner += self.generate(child)
            inner += escape(child.tail or "")
        return f"<{tag}{attributes}>{inner}</{tag}>" if inner else f"<{tag}{attributes} />"

    def start_tag(self, span: _Span, edited: etree._Element) -> str:
        """The original start tag with only the changed, removed and added attributes touched."""
        tag = self.text[span.start:span.tag_end]
        before, after = span.element.attrib, edited.attrib
        for name in before:
            qname = self._qname(name, span.element.nsmap)
            pattern = re.compile(rf"(\s+){re.escape(qname)}\s*=\s*(\"[^\"]*\"|'[^']*')")
            if name not in after and _DEFAULTS.get(name) != before[name]:
                tag = pattern.sub("", tag, count=1)
            elif after[name] != before[name]:
                replacement = f'{qname}="{escape(after[name], _ATTRIBUTE_ESCAPES)}"'
                tag = pattern.sub(lambda m, r=replacement: m.group(1) + r, tag, count=1)
        added = "".join(f' {self._qname(k, edited.nsmap)}="{escape(v, _ATTRIBUTE_ESCAPES)}"'
                        for k, v in after.items() if k not in before)
        closing = len(tag) - (2 if tag.endswith("/>") else 1)
        body = tag[:closing].rstrip()
        return body + added + (" " if tag.endswith("/>") and not body.endswith(" ") else "") + tag[closing:]

    def render(self, span: _Span, edited: etree._Element) -> str:
        original = span.element
        if _canonical(original) == _canonical(edited):
            return self.text[span.start:span.end]
        old_children = span.children
        new_children = [c for c in edited if isinstance(c.tag, str)]
        if original.tag != edited.tag:
            return self.generate(edited)
        if not old_children and not new_children and (original.text or "") == (edited.text or ""):
            return self.start_tag(span, edited) + self.text[span.tag_end:span.end]  # only attributes changed
        if not old_children or not new_children:
            return self.generate(edited)
        old_texts = [p for p in span.parts if p[0] == "text" and self.text[p[1]:p[2]].strip()]
        if old_texts or (edited.text or "").strip() or any((c.tail or "").strip() for c in edited):
            return self.generate(edited)  # mixed content: re-written whole
        new_at = {key: i for i, key in enumerate(_keys(new_children))}
        matched = [(s, new_at.get(key)) for s, key in zip(old_children, _keys([s.element for s in old_children]),
                                                          strict=True)]
        order = [i for _, i in matched if i is not None]
        if len(order) != len(set(order)) or (order != sorted(order) and _order_matters(edited)):
            return self.generate(edited)
        return self.start_tag(span, edited) + self._content(span, matched, new_children) + \
            self.text[span.content_end:span.end]

    def _content(self, span: _Span, matched: list[tuple[_Span, int | None]], new_children: list) -> str:
        """The original content with kept children rendered, removed ones cut out and new ones slotted in."""
        by_span = {id(s): i for s, i in matched}
        kept = sorted(i for _, i in matched if i is not None)
        texts = [p for p in span.parts if p[0] == "text"]
        # the whitespace before the last child (children written on one line get none)
        indent = self.text[texts[-2][1]:texts[-2][2]] if len(texts) > 1 else ""
        out: list[str] = []
        pending_ws = ""
        written = -1

        def insert_new(upto: int, ws: str) -> None:
            nonlocal written
            for i in range(written + 1, upto):
                if i not in kept:
                    out.append(ws + self.generate(new_children[i]))
            written = max(written, upto)

        for part in span.parts:
            if part[0] == "text":
                pending_ws += self.text[part[1]:part[2]]
                continue
            if part[0] == "comment":
                out.append(pending_ws + self.text[part[1]:part[2]])
                pending_ws = ""
                continue
            child = part[1]
            target = by_span[id(child)]
            if target is None:
                pending_ws = pending_ws[:pending_ws.rfind("\n")] if "\n" in pending_ws else ""  # goes with its line
                continue
            insert_new(target, pending_ws or indent)
            out.append(pending_ws + self.render(child, new_children[target]))
            pending_ws = ""
        insert_new(len(new_children), indent)
        return "".join(out) + pending_ws

    def declarations(self, merged: str, root: _Span) -> str:
        if not self.declare:
            return merged
        added = "".join(f' xmlns:{prefix}="{uri}"' for uri, prefix in self.declare.items())
        end = _TOKEN.match(merged, root.start).end() - 1  # the root's start tag is where it was
        return merged[:end] + added + merged[end:]


def merge(original: str, edited: str, filename: str) -> str:
    """`edited` (the editor's output) as a patch of `original`: only what changed is re-written."""
    old = parse_xml(original.encode("utf-8"), filename).getroot()
    new = parse_xml(edited.encode("utf-8"), filename).getroot()
    if old.tag != new.tag:
        return edited
    try:
        root = _spans(original)
        _attach(root, old)
    except (ValueError, IndexError):  # a construct the scanner does not know: the editor's text, as before
        return edited
    merger = _Merger(original, root)
    body = merger.render(root, new)
    merged = original[:root.start] + body + original[root.end:]
    return merger.declarations(merged, root)
