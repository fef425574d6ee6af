"""The rendered email in Chromium at desktop (600 px) and phone (375 px) widths: it fits,
and Hangul is drawn with real CJK glyphs, not missing-glyph boxes."""

from __future__ import annotations

import pytest

from newsletter.flows import compose
from newsletter.model import Entry, ItemKind
from newsletter.store import items as item_store
from newsletter.store import transaction
from support.apps import item_id
from support.browser import MEASURE
from support.clock import SEOUL_MORNING
from support.issues import HOSTILE_TITLE, approve_picks


@pytest.fixture
def rendered_issue(issue_app):
    """An issue of real items with Korean commentary, plus one hostile item whose title is a
    400-character unbroken string."""
    app = issue_app
    approve_picks(app)
    with transaction(app.conn):
        item_store.upsert_entries(app.conn, "openai", [Entry(
            key="https://evil.example/long", kind=ItemKind.POST, url="https://evil.example/long",
            title=HOSTILE_TITLE, summary_text="https://evil.example/" + "x" * 300,
            published=SEOUL_MORNING)], SEOUL_MORNING)
    compose.approve_item(app.conn, item_id(app, "https://evil.example/long"), app.clock(),
                         commentary="아주 긴 URL: https://example.org/" + "가" * 120, tags="긴-제목")
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    return compose.render_stored_issue(app.settings, app.conn, issue, app.email)


@pytest.mark.parametrize("width", [600, 375])
def test_the_email_fits_the_screen_and_draws_hangul(browser, rendered_issue, tmp_path, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.set_content(rendered_issue.html)
        scroll_width, inner_width = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert scroll_width <= inner_width, f"{scroll_width} px of content in a {inner_width} px window"

        # commentary: four Hangul syllables are four full-width glyphs, about one em each
        hangul = page.evaluate(MEASURE, ["연산량에", 4])
        assert hangul, "the commentary is not on the page"
        assert 3.6 * hangul["fontSize"] <= hangul["width"] <= 4.4 * hangul["fontSize"], hangul
        # and the same holds for the section heading and the date line
        for text in ("연구소", "년"):
            glyphs = page.evaluate(MEASURE, [text, len(text)])
            assert 0.85 * len(text) * glyphs["fontSize"] <= glyphs["width"] <= 1.15 * len(text) * glyphs["fontSize"]

        # every item sits inside the 600 px column, long titles wrapped rather than clipped
        right_edges = page.evaluate("Array.from(document.querySelectorAll('a')).map("
                                    "a => a.getBoundingClientRect().right)")
        assert max(right_edges) <= width
        shot = tmp_path / f"issue-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        page.close()
