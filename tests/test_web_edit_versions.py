"""Saving over newer text: a draft (on the server or in this browser) is offered only when it
is newer than the item's last save, a draft sent after the save it preceded is refused, and a
save based on a version someone saved over since is refused with both texts kept. Over HTTP
(httpx against the editor under uvicorn on loopback) and in Chromium."""

from __future__ import annotations

import re

import pytest

from newsletter.store import transaction
from newsletter.store.items import annotate
from support.apps import PASSWORD, VOCABULARY_PAPER, add_curator, item_id
from support.browser import browser_login
from support.clock import MORNING
from support.web import csrf_of, login

SECOND = "민호"


def edit_form(client, item: int) -> tuple[str, str]:
    """(csrf, the item's edit version the form is based on), as a curator opening the page."""
    page = client.get(f"/items/{item}").text
    return csrf_of(page), version_in(page)


def version_in(page: str) -> str:
    found = re.search(r'<input type="hidden" name="edited" value="([^"]*)">', page)
    return found[1] if found else ""


def save_form(client, item: int, csrf: str, edited: str, commentary: str, **extra):
    return client.post(f"/items/{item}", data={"csrf": csrf, "edited": edited, "commentary": commentary,
                                               "tags": "", "title_override": "", "section_override": "",
                                               "related": "", "next": "/queue", **extra})


def textarea(page: str) -> str:
    return re.search(r'<textarea name="commentary"[^>]*>(.*?)</textarea>', page, re.S)[1]


def stored_commentary(ed, item: int) -> str:
    with ed.reader() as conn:
        return conn.execute("SELECT commentary FROM items WHERE id = ?", (item,)).fetchone()[0]


def test_an_old_draft_is_not_offered_after_a_newer_save(editor):
    ed = editor()
    add_curator(ed.app, SECOND, PASSWORD)
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with ed.client() as jisu, ed.client() as minho:
        csrf = login(jisu)
        assert jisu.post(f"/api/items/{paper}/draft", headers={"X-CSRF-Token": csrf},
                         json={"commentary": "어제 쓰다 만 낡은 문장"}).status_code == 200
        ed.clock.advance(minutes=5)
        login(minho, SECOND)
        assert save_form(minho, paper, *edit_form(minho, paper), "민호가 나중에 저장한 코멘트").status_code == 303

        page = jisu.get(f"/items/{paper}").text
        assert 'id="draft-notice"' not in page and textarea(page) == "민호가 나중에 저장한 코멘트"
        assert "초안" not in re.search(rf'<article[^>]*id="item-{paper}".*?</article>', jisu.get("/queue").text,
                                       re.S)[0]


def test_a_draft_beacon_arriving_after_the_save_does_not_bring_the_old_text_back(editor):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with ed.client() as client:
        login(client)
        csrf, edited = edit_form(client, paper)
        ed.clock.advance(seconds=30)
        assert save_form(client, paper, csrf, edited, "저장한 최종 코멘트: 어휘 크기").status_code == 303
        ed.clock.advance(seconds=1)
        # the page sends what it had when it was left, based on the version it showed
        late = client.post(f"/items/{paper}/draft", data={"csrf": csrf, "edited": edited,
                                                          "commentary": "저장 직전의 낡은 문장", "tags": "",
                                                          "title_override": ""})
        assert late.status_code == 409
        page = client.get(f"/items/{paper}").text
        assert 'id="draft-notice"' not in page and textarea(page) == "저장한 최종 코멘트: 어휘 크기"
    with ed.reader() as conn:
        assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0


def test_the_second_save_based_on_a_stale_version_is_refused_and_keeps_both_texts(editor):
    ed = editor()
    add_curator(ed.app, SECOND, PASSWORD)
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with ed.client() as jisu, ed.client() as minho:
        login(jisu)
        login(minho, SECOND)
        jisu_form, minho_form = edit_form(jisu, paper), edit_form(minho, paper)  # both open the item
        ed.clock.advance(minutes=2)
        assert save_form(jisu, paper, *jisu_form, "지수의 코멘트: 어휘도 키워야 한다").status_code == 303
        ed.clock.advance(minutes=1)
        refused = save_form(minho, paper, *minho_form, "민호의 코멘트: 토크나이저가 병목", then="approve")
        assert refused.status_code == 409
        alert = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', refused.text, re.S)[1]
        assert "다른 저장이 있었습니다" in alert and "지수의 코멘트: 어휘도 키워야 한다" in alert
        assert textarea(refused.text) == "민호의 코멘트: 토크나이저가 병목"  # nothing typed is lost
        assert stored_commentary(ed, paper) == "지수의 코멘트: 어휘도 키워야 한다"  # nothing overwritten
        with ed.reader() as conn:
            assert conn.execute("SELECT status FROM items WHERE id = ?", (paper,)).fetchone()[0] == "new"

        # having read both, 민호 saves again from the refused page: now deliberately
        again = version_in(refused.text)
        assert again and again != minho_form[1]
        assert save_form(minho, paper, minho_form[0], again, "두 사람의 코멘트를 합친 문장").status_code == 303
        assert stored_commentary(ed, paper) == "두 사람의 코멘트를 합친 문장"


def test_a_failed_follow_up_action_says_the_text_was_saved(editor):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with transaction(ed.app.conn):
        ed.app.conn.execute("UPDATE items SET status = 'published' WHERE id = ?", (paper,))
    with ed.client() as client:
        login(client)
        answer = save_form(client, paper, *edit_form(client, paper), "발행된 글에 덧붙인 코멘트", then="approve")
        assert answer.status_code == 409
        alert = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', answer.text, re.S)[1]
        assert "저장했습니다" in alert and "승인하지 못했습니다" in alert and "published" in alert
        assert "저장하지 못했습니다" not in alert
    assert stored_commentary(ed, paper) == "발행된 글에 덧붙인 코멘트"


# --- in the browser ---------------------------------------------------------------------------

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ko-KR")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def test_saving_right_after_typing_sends_no_late_draft(editor, page):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    browser_login(page, ed.url)
    page.goto(f"{ed.url}/items/{paper}?next=/queue")
    beacons: list[str] = []
    page.on("request", lambda request: beacons.append(request.url)
            if request.url.endswith(f"/items/{paper}/draft") and "/api/" not in request.url else None)
    page.click("#commentary")
    page.keyboard.insert_text("바로 저장하는 한국어 코멘트")
    page.keyboard.press("Control+Enter")  # within the 500 ms before the autosave
    page.wait_for_url(f"**/queue?notice=saved#item-{paper}")
    page.goto(f"{ed.url}/items/{paper}?next=/queue")
    expect(page.locator("#commentary")).to_have_value("바로 저장하는 한국어 코멘트")
    expect(page.locator("#draft-notice")).to_have_count(0)
    assert beacons == []
    assert page.evaluate(f"localStorage.getItem('newsletter-draft:{paper}')") is None
    with ed.reader() as conn:
        assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0


def test_a_browser_copy_older_than_the_last_save_is_not_restored(editor, page):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with transaction(ed.app.conn):  # saved at 00:30 UTC
        annotate(ed.app.conn, paper, MORNING, commentary="나중에 저장된 코멘트")
    browser_login(page, ed.url)
    # a copy this browser kept at 00:00 UTC, before that save
    page.evaluate("([key, at]) => localStorage.setItem(key, JSON.stringify("
                  "{commentary: '그보다 오래된 문장', tags: '', title_override: '', at: Date.parse(at)}))",
                  [f"newsletter-draft:{paper}", "2024-07-19T00:00:00Z"])
    page.goto(f"{ed.url}/items/{paper}")
    expect(page.locator("#commentary")).to_have_value("나중에 저장된 코멘트")
    expect(page.locator("#flash")).not_to_contain_text("되살렸습니다")
    assert page.evaluate(f"localStorage.getItem('newsletter-draft:{paper}')") is None
    with ed.reader() as conn:
        assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0
