"""What a page must pass on a phone in English: no sideways scroll, its labels in English, a table's cells named
when its head is hidden, every control of a part of it reachable with Tab (the checks the 390 px tests share)."""

from __future__ import annotations

import re

from playwright.sync_api import Page

HAN = re.compile(r"[\u3400-\u9fff]")
#: the words people give a page's controls: labels, buttons, headings, table heads, accessible names
_LABELS = """(root) => {
  const own = (el) => [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("");
  return [...document.querySelectorAll(`${root} :is(label, button, summary, legend, th, h2, h3, caption)`)]
    .filter((el) => el.checkVisibility())
    .map((el) => own(el).trim()).concat(
      [...document.querySelectorAll(`${root} [aria-label], ${root} [placeholder]`)]
        .map((el) => `${el.getAttribute("aria-label") || ""} ${el.getAttribute("placeholder") || ""}`.trim()))
    .filter(Boolean);
}"""
#: the controls a keyboard user must reach: visible, enabled, in the tab order (one radio of a group stands for it)
_CONTROLS = """(root) => {
  const seen = new Set();
  return [...document.querySelectorAll(`${root} :is(a[href], button, input, select, textarea, summary)`)]
    .filter((el) => el.checkVisibility() && !el.disabled && el.tabIndex >= 0 && el.type !== "hidden")
    .filter((el) => el.type !== "radio" || (!seen.has(el.name) && seen.add(el.name)))
    .map((el, i) => { el.dataset.kb = el.type === "radio" ? `radio:${el.name}` : `kb${i}`; return el.dataset.kb; });
}"""
#: table cells that, their table's head hidden on a phone, do not say what they hold
_UNLABELLED = """(root) => [...document.querySelectorAll(`${root} table td[data-label]`)]
  .filter((td) => td.checkVisibility() && td.closest("table").tHead?.checkVisibility() === false)
  .filter((td) => !getComputedStyle(td, "::before").content.includes(td.dataset.label))
  .map((td) => td.dataset.label)"""
_FOCUSED = """() => { const el = document.activeElement; if (!el || el === document.body) return null;
  return el.type === "radio" ? `radio:${el.name}` : (el.dataset.kb || "-"); }"""


def sideways(page: Page) -> int:
    """How many pixels the page scrolls sideways (0 on a page that fits its width)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def untranslated(page: Page, root: str) -> list[str]:
    """The control labels under `root` still in Chinese."""
    return [text for text in page.evaluate(_LABELS, root) if HAN.search(text)]


def unreachable(page: Page, root: str, presses: int = 400) -> list[str]:
    """The controls under `root` that Tab, from the top of the page, never focuses (their outer HTML)."""
    wanted = set(page.evaluate(_CONTROLS, root))
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    page.locator("body").focus()
    for _ in range(presses):
        page.keyboard.press("Tab")
        wanted.discard(page.evaluate(_FOCUSED))
        if not wanted:
            break
    return [page.locator(f"[data-kb='{kb}']").first.evaluate("el => el.outerHTML.slice(0, 160)") for kb in wanted]


def settled(page: Page) -> None:
    """Wait for the page's diagrams to be drawn and folded: a phone folds the case's diagram away once it is drawn,
    and a control listed before that (bpmn.io's link) would be counted as one Tab never reaches."""
    page.wait_for_function("() => [...document.querySelectorAll('.diagram')].every((el) => el.dataset.ready)")


def fits_a_phone_in_english(page: Page, root: str) -> None:
    """Once the page has settled, the four checks at once, each failure naming what is wrong."""
    settled(page)
    assert sideways(page) <= 0, f"{page.url} scrolls sideways by {sideways(page)} px"
    chinese = untranslated(page, root)
    assert not chinese, f"{page.url}: untranslated labels under {root}: {chinese}"
    bare = page.evaluate(_UNLABELLED, root)
    assert not bare, f"{page.url}: table cells under {root} without their column's name: {sorted(set(bare))}"
    missed = unreachable(page, root)
    assert not missed, f"{page.url}: controls under {root} not reachable by Tab: {missed}"
