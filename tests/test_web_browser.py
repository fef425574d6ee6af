"""The curator's morning in a real browser: Debian's Chromium (Playwright) against the editor
under uvicorn on loopback, a real SQLite file, items seeded from the real fixtures."""

from __future__ import annotations

import json

import pytest

from support.fixtures import fixture_bytes
from newsletter.demo.server import Route
from newsletter.model import Entry, ItemKind
from newsletter.store import transaction
from newsletter.store.items import annotate, upsert_entries
from support.apps import VOCABULARY_PAPER, item_id
from support.browser import browser_login
from support.clock import MORNING
from support.web import XSS_SUMMARY, XSS_TITLE

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ko-KR")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.dialogs = dialogs
    yield tab
    context.close()


def queue_ids(page) -> list[int]:
    return [int(i) for i in page.eval_on_selector_all("[data-item-card]", "cards => cards.map(c => c.dataset.item)")]


def stored(ed, sql: str, *args):
    with ed.reader() as conn:
        return [tuple(row) for row in conn.execute(sql, args)]


def test_log_in_and_triage_the_queue_with_keys_only(editor, page):
    ed = editor()
    page.goto(ed.url + "/queue")
    expect(page).to_have_url(ed.url + "/login?next=%2Fqueue")
    expect(page.locator("#name")).to_be_focused()
    page.keyboard.insert_text("지수")
    page.keyboard.press("Tab")
    page.keyboard.insert_text("한글 비밀번호 1234")
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue")

    ids = queue_ids(page)
    assert len(ids) == 9
    card = lambda n: page.locator(f'[data-item-card][data-item="{ids[n]}"]')  # noqa: E731
    expect(card(0)).to_have_class("item row status-new selected")

    page.keyboard.press("a")
    expect(card(0)).to_have_attribute("data-status", "approved")
    expect(card(1)).to_have_class("item row status-new selected")
    page.keyboard.press("x")
    expect(card(1)).to_have_attribute("data-status", "rejected")
    page.keyboard.press("s")
    expect(card(2)).to_have_attribute("data-status", "snoozed")
    page.keyboard.press("u")  # undo the snooze
    expect(card(2)).to_have_attribute("data-status", "new")
    expect(card(2)).to_have_class("item row status-new selected")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(card(3)).to_have_attribute("data-status", "approved")
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(card(2)).to_have_class("item row status-new selected")

    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).not_to_have_attribute("open", "")

    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.insert_text("vocabulary")
    page.keyboard.press("Enter")  # the search form, not a shortcut
    page.wait_for_url("**/queue?q=vocabulary**")
    assert queue_ids(page) == [item_id(ed.reader(), VOCABULARY_PAPER)]
    page.keyboard.press("Enter")  # edit the selected item
    page.wait_for_url(f"**/items/{item_id(ed.reader(), VOCABULARY_PAPER)}?next=**")

    status = dict(stored(ed, "SELECT id, status FROM items"))
    assert [status[i] for i in ids[:4]] == ["approved", "rejected", "new", "approved"]
    assert all(status[i] == "new" for i in ids[4:])
    assert [row[0] for row in stored(ed, "SELECT item_id FROM picks ORDER BY position")] == [ids[0], ids[3]]


def test_shortcuts_never_fire_while_composing_or_typing(editor, page):
    ed = editor()
    browser_login(page, ed.url)
    first = queue_ids(page)[0]
    posts: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))

    # an IME composing Hangul: keydown comes with isComposing and keyCode 229
    seen = page.evaluate("""() => {
        const events = [];
        document.addEventListener('keydown', e => events.push([e.key, e.isComposing, e.keyCode]), {once: true});
        document.body.dispatchEvent(new CompositionEvent('compositionstart', {bubbles: true, data: ''}));
        document.body.dispatchEvent(new KeyboardEvent('keydown',
            {key: 'a', code: 'KeyA', isComposing: true, keyCode: 229, bubbles: true, cancelable: true}));
        return events;
    }""")
    assert seen == [["a", True, 229]]
    # some browsers send the last keydown after compositionend, still as keyCode 229
    page.evaluate("""() => {
        document.body.dispatchEvent(new CompositionEvent('compositionend', {bubbles: true, data: '아'}));
        for (const key of ['a', 'x', 's', 'u'])
            document.body.dispatchEvent(new KeyboardEvent('keydown',
                {key, isComposing: false, keyCode: 229, bubbles: true, cancelable: true}));
    }""")
    # and letters typed into the search box are text, not commands
    page.click("#search")
    page.keyboard.press("a")
    page.keyboard.press("x")
    page.keyboard.insert_text("언어모델")
    expect(page.locator("#search")).to_have_value("ax언어모델")
    page.keyboard.press("Escape")  # leaves the box; now keys are commands again
    page.evaluate("() => fetch('/api/items').then(r => r.json())")  # a round trip: anything sent has arrived
    assert posts == []
    assert stored(ed, "SELECT status FROM items WHERE id = ?", first)[0][0] == "new"

    page.keyboard.press("a")
    expect(page.locator(f'[data-item="{first}"]')).to_have_attribute("data-status", "approved")
    assert stored(ed, "SELECT status FROM items WHERE id = ?", first)[0][0] == "approved"


def test_hangul_commentary_and_tags_are_saved_while_typing_and_survive_a_reload(editor, page):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    browser_login(page, ed.url)
    page.goto(f"{ed.url}/items/{paper}?next=/queue")
    commentary = "연산량에 따라 최적의 Vocabulary 수에 대한 **Scaling Law**. 투입하는 연산량이 커질수록 어휘도 커져야 한다."
    page.click("#commentary")
    page.keyboard.insert_text(commentary)
    page.click("#tags")
    page.keyboard.insert_text("#scaling-law #토크나이저")
    expect(page.locator("#draft-status")).to_have_attribute("data-state", "saved")
    expect(page.locator("#draft-status")).to_contain_text("초안 저장됨")

    page.reload()  # a reload, a crash: the draft is on the server
    expect(page.locator("#commentary")).to_have_value(commentary)
    expect(page.locator("#tags")).to_have_value("#scaling-law #토크나이저")
    expect(page.locator("#draft-notice")).to_be_visible()
    assert stored(ed, "SELECT commentary, tags FROM drafts")[0] == (commentary, "#scaling-law #토크나이저")

    page.click("#commentary")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/queue?notice=saved#item-{paper}")
    card = page.locator(f'[data-item="{paper}"]')
    expect(card.locator(".commentary strong")).to_have_text("Scaling Law")
    expect(card.locator(".tags")).to_contain_text("#scaling-law #토크나이저")
    assert stored(ed, "SELECT commentary FROM items WHERE id = ?", paper)[0][0] == commentary
    assert stored(ed, "SELECT tag FROM item_tags WHERE item_id = ? ORDER BY position", paper) == \
        [("scaling-law",), ("토크나이저",)]
    assert stored(ed, "SELECT count(*) FROM drafts")[0][0] == 0


def test_a_draft_typed_after_the_session_expired_comes_back_after_login(editor, page):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    browser_login(page, ed.url)
    page.goto(f"{ed.url}/items/{paper}?next=/queue")
    with ed.reader() as conn:
        conn.execute("DELETE FROM sessions")  # the session expires while the curator writes
    page.click("#commentary")
    page.keyboard.insert_text("세션이 끝난 뒤에 쓴 문장도 사라지면 안 된다.")
    expect(page.locator("#draft-status")).to_have_attribute("data-state", "failed")
    expect(page.locator("#draft-status")).to_contain_text("이 브라우저에 보관했습니다")
    assert stored(ed, "SELECT count(*) FROM drafts")[0][0] == 0

    page.click("#draft-status a")  # 다시 로그인
    page.fill("#name", "지수")
    page.fill("#password", "한글 비밀번호 1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/items/{paper}?next=**")
    expect(page.locator("#commentary")).to_have_value("세션이 끝난 뒤에 쓴 문장도 사라지면 안 된다.")
    expect(page.locator("#draft-status")).to_have_attribute("data-state", "saved")
    assert stored(ed, "SELECT commentary FROM drafts")[0][0] == "세션이 끝난 뒤에 쓴 문장도 사라지면 안 된다."


def test_tag_autocomplete_offers_a_hangul_tag(editor, page):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    other = item_id(ed.reader(), "arxiv:2407.13647")
    with transaction(ed.app.conn):
        annotate(ed.app.conn, other, MORNING, tags=("언어모델", "reasoning"))
    browser_login(page, ed.url)
    page.goto(f"{ed.url}/items/{paper}")
    page.click("#tags")
    page.keyboard.insert_text("#언")
    suggestion = page.locator('#tag-suggestions li[data-tag="언어모델"]')
    expect(suggestion).to_be_visible()
    expect(suggestion).to_have_text("#언어모델")
    page.keyboard.press("Enter")  # takes the suggestion, does not submit the form
    expect(page.locator("#tags")).to_have_value("#언어모델 ")
    expect(page.locator("#tag-suggestions")).to_be_hidden()
    page.keyboard.insert_text("reas")
    page.locator('#tag-suggestions li[data-tag="reasoning"]').click()
    expect(page.locator("#tags")).to_have_value("#언어모델 #reasoning ")
    page.click("#edit-form button[type=submit] >> nth=0")
    page.wait_for_url("**notice=saved**")
    assert stored(ed, "SELECT tag FROM item_tags WHERE item_id = ? ORDER BY position", paper) == \
        [("언어모델",), ("reasoning",)]


def test_add_an_x_post_by_url_through_an_oembed_stand_in(editor, server, page):
    server.routes["/oembed"] = Route(fixture_bytes("x/oembed-example.json"), "application/json")
    ed = editor()
    browser_login(page, ed.url)
    page.click("text=직접 추가")
    page.fill("#url", "https://x.com/karpathy/status/1814339947722158085?s=20")
    page.click("button[type=submit] >> text=추가")
    page.wait_for_url("**/items/*?notice=added")
    expect(page.locator("h3.title")).to_contain_text("Tokenizers are still the most underrated part of LLMs")
    expect(page.locator(".summary-full")).to_contain_text("한국어")
    assert server.hits("/oembed")[0].query.startswith("url=https%3A%2F%2Fx.com%2Fkarpathy%2Fstatus%2F1814339947722158085")

    page.goto(ed.url + "/queue?section=x")
    expect(page.locator('section[data-section="x"] [data-item-card]')).to_have_count(1)
    # pasting it again finds the same item
    page.goto(ed.url + "/add")
    page.fill("#url", "https://twitter.com/karpathy/status/1814339947722158085")
    page.click("button[type=submit] >> text=추가")
    page.wait_for_url("**/items/*?notice=known")
    assert stored(ed, "SELECT count(*) FROM items WHERE key = 'x:1814339947722158085'")[0][0] == 1


def test_approved_items_appear_in_todays_picks_in_the_chosen_order(editor, page):
    ed = editor()
    browser_login(page, ed.url)
    ids = queue_ids(page)
    page.keyboard.press("a")
    expect(page.locator(f'[data-item="{ids[0]}"]')).to_have_attribute("data-status", "approved")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(page.locator(f'[data-item="{ids[2]}"]')).to_have_attribute("data-status", "approved")
    page.keyboard.press("a")
    expect(page.locator(f'[data-item="{ids[3]}"]')).to_have_attribute("data-status", "approved")
    # ids[0], ids[2], ids[3] approved in that order
    page.click("text=오늘의 선택")
    page.wait_for_url("**/picks")
    assert queue_ids(page) == [ids[0], ids[2], ids[3]]
    page.keyboard.press("j")
    page.keyboard.press("j")
    with page.expect_response("**/api/picks/reorder"):
        page.keyboard.press("Shift+K")  # the third pick moves up
    assert queue_ids(page) == [ids[0], ids[3], ids[2]]
    with page.expect_response("**/api/picks/reorder"):
        page.keyboard.press("Shift+K")
    page.reload()
    assert queue_ids(page) == [ids[3], ids[0], ids[2]]
    expect(page.locator(".position").first).to_have_text("1")
    page.locator(f'#pick-{ids[3]} button[value="down"]').click()  # the plain form works too
    page.wait_for_url("**/picks**")
    assert queue_ids(page) == [ids[0], ids[3], ids[2]]
    assert [r[0] for r in stored(ed, "SELECT item_id FROM picks ORDER BY position")] == [ids[0], ids[3], ids[2]]
    page.keyboard.press("e")  # the moved pick is still the selected one
    page.wait_for_url(f"**/items/{ids[3]}?next=/picks")


def test_every_page_works_without_javascript(editor, browser):
    ed = editor()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        browser_login(page, ed.url)
        first = queue_ids(page)[0]
        page.locator(f'#item-{first} button[value="approve"]').click()
        page.wait_for_url(f"**/queue#item-{first}")
        expect(page.locator(f"#item-{first}")).to_have_count(0)  # decided: no longer waiting
        expect(page.locator("#picks-count")).to_have_text("1")
        page.locator('header.top button:has-text("되돌리기")').click()
        page.wait_for_url("**notice=undone**")
        expect(page.locator(f"#item-{first}")).to_have_attribute("data-status", "new")
        expect(page.locator("p.notice")).to_contain_text("되돌렸습니다")
        page.locator(f'#item-{first} button[value="reject"]').click()
        page.wait_for_url(f"**/queue#item-{first}")  # the one-time notice does not come back
        expect(page.locator("p.notice")).to_have_count(0)

        page.fill("#search", "어휘")
        page.click("button:has-text('보기')")
        expect(page.locator("[data-item-card]")).to_have_count(0)
        paper = item_id(ed.reader(), VOCABULARY_PAPER)
        page.goto(f"{ed.url}/items/{paper}?next=/queue")
        page.fill("#commentary", "자바스크립트 없이도 저장된다: 어휘 크기")
        page.fill("#tags", "#어휘")
        page.click("button[name=then][value=approve]")
        page.wait_for_url(f"**/queue?notice=saved#item-{paper}")
        page.goto(ed.url + "/queue?q=어휘&status=all")
        assert queue_ids(page) == [paper]
        page.goto(ed.url + "/picks")
        assert queue_ids(page) == [paper]
        page.goto(ed.url + "/sources")
        expect(page.locator("table.health tbody tr")).to_have_count(4)
    finally:
        context.close()


def test_hostile_feed_content_stays_inert_in_the_browser(editor, page):
    ed = editor()
    hostile = Entry(key="https://evil.example/post", kind=ItemKind.POST, url="javascript:window.__xss='url'",
                    title=XSS_TITLE, summary_html=XSS_SUMMARY, summary_text=XSS_SUMMARY, published=MORNING)
    with transaction(ed.app.conn):
        upsert_entries(ed.app.conn, "openai", [hostile], MORNING)
    hostile_id = item_id(ed.reader(), hostile.key)
    browser_login(page, ed.url)
    expect(page.locator(f"#item-{hostile_id} h3")).to_contain_text('<script>window.__xss = "title"</script>Evil')
    page.locator(f"#item-{hostile_id} h3 a").click()
    page.goto(f"{ed.url}/items/{hostile_id}")
    page.locator(".summary-full a", has_text="click me").click()
    page.locator(".summary-full p").click()
    assert page.evaluate("() => window.__xss") is None
    assert page.dialogs == []
    assert json.loads(page.evaluate("() => JSON.stringify(document.querySelectorAll('[onerror],[onload],[onclick]').length)")) == 0
