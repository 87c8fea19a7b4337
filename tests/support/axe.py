"""axe-core in a page: the critical and serious accessibility violations it finds."""

from __future__ import annotations

from playwright.sync_api import Page

AXE = "/static/vendor/axe-core/axe.min.js"


def violations(page: Page) -> list[str]:
    """Critical and serious axe violations of the page as loaded, one line each with the offending nodes."""
    page.wait_for_load_state("networkidle")
    page.add_script_tag(url=AXE)
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .filter((v) => v.impact === 'critical' || v.impact === 'serious')
        .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)""")
    return [f"{page.url}: {line}" for line in found]

