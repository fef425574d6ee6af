"""The morning at real scale in Debian's Chromium: a real day's papers ranked in dense rows,
keys that work with the keyboard left in Hangul mode, "done for today" and its undo, counts
that follow each decision, the abstract opened in place."""

from __future__ import annotations

import pytest

from newsletter.store import transaction
from newsletter.store.items import upsert_entries
from support.browser import browser_login
from support.clock import MORNING
from support.ranking import DAY_A, candidates, paper_entry

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.fixture
def morning(editor):
    """The editor with a real day's 191 papers waiting beside the seeded lab posts, scored."""
    ed = editor()
    with transaction(ed.app.conn):
        upsert_entries(ed.app.conn, "arxiv-ai", [paper_entry(record, DAY_A) for record in candidates(DAY_A)], MORNING)
    ed.app.rescore()
    return ed


def waiting(ed) -> set[int]:
    with ed.reader() as conn:
        return {row[0] for row in conn.execute("SELECT id FROM items WHERE status = 'new'")}


def selected_id(page) -> str:
    return page.locator('[data-item-card][aria-current="true"]').get_attribute("data-item")


def keydown(page, key: str, code: str, key_code: int) -> None:
    """A keydown as Chromium reports it with a Korean IME in Hangul mode and no field focused."""
    page.evaluate("""([key, code, keyCode]) => document.body.dispatchEvent(new KeyboardEvent('keydown',
        {key, code, keyCode, which: keyCode, bubbles: true, cancelable: true}))""", [key, code, key_code])


def test_hangul_mode_keys_move_the_selection_and_rows_are_dense(morning, page):
    browser_login(page, morning.url)
    page.goto(morning.url + "/queue?section=papers")
    rows = page.locator("[data-item-card]")
    visible = page.evaluate("""() => [...document.querySelectorAll('[data-item-card]')]
        .filter(r => { const b = r.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; }).length""")
    page.screenshot(path=str(morning.db_path.parent / "queue-1280x800.png"))
    assert visible >= 15, visible

    first = rows.nth(0).get_attribute("data-item")
    assert selected_id(page) == first
    keydown(page, "ㅓ", "KeyJ", 74)  # j, Hangul mode
    second = rows.nth(1).get_attribute("data-item")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    keydown(page, "ㅓ", "KeyJ", 229)  # the same key, as some IMEs report it
    expect(rows.nth(2)).to_have_attribute("aria-current", "true")
    keydown(page, "ㅏ", "KeyK", 229)  # k
    assert selected_id(page) == second
    # an IME's leftover keydown (no physical key) after a composition moves nothing
    keydown(page, "Process", "", 229)
    assert selected_id(page) == second

    # o (ㅐ in Hangul mode) opens the abstract in place, and closes it again
    more = rows.nth(1).locator("details.more")
    expect(more).not_to_have_attribute("open", "")
    keydown(page, "ㅐ", "KeyO", 229)
    expect(more).to_have_attribute("open", "")
    expect(more.locator(".summary")).to_be_visible()
    page.keyboard.press("o")
    expect(more).not_to_have_attribute("open", "")

    # a (ㅁ) approves: the counts in the nav and the tabs follow without a reload
    waiting_before = int(page.locator("#waiting-count").inner_text())
    tab_before = int(page.locator('.section-tabs [data-section-count="papers"]').inner_text())
    picks_before = int(page.locator("#picks-count").inner_text())
    keydown(page, "ㅁ", "KeyA", 229)
    expect(page.locator(f'[data-item="{second}"]')).to_have_attribute("data-status", "approved")
    expect(page.locator("#waiting-count")).to_have_text(str(waiting_before - 1))
    expect(page.locator('.section-tabs [data-section-count="papers"]')).to_have_text(str(tab_before - 1))
    expect(page.locator("#picks-count")).to_have_text(str(picks_before + 1))
    expect(page.locator("#flash")).to_contain_text("승인")


def test_done_for_today_then_undo_restores_the_exact_set(morning, page):
    browser_login(page, morning.url)
    page.goto(morning.url + "/queue?section=papers")
    page.keyboard.press("a")  # one approval first: "done for today" never touches it
    expect(page.locator("[data-item-card]").nth(0)).to_have_attribute("data-status", "approved")
    before = waiting(morning)
    with morning.reader() as conn:
        labs = {row[0] for row in conn.execute("SELECT id FROM items WHERE status = 'new' AND kind != 'paper'")}
    keydown(page, "ㅇ", "KeyD", 229)  # d
    page.wait_for_url("**notice=dismissed**")
    expect(page.locator(".notice")).to_contain_text("오늘은 여기까지")
    assert waiting(morning) == labs  # the papers' section only; the lab posts still wait
    assert before - waiting(morning) == before - labs
    with morning.reader() as conn:
        assert conn.execute("SELECT count(*) FROM items WHERE status = 'approved'").fetchone()[0] == 1
    page.keyboard.press("u")
    page.wait_for_load_state("load")
    expect(page.locator("[data-item-card]").first).to_be_visible()
    assert waiting(morning) == before
