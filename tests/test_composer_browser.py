"""The composer in a real browser: Debian's Chromium (Playwright) against the editor under uvicorn
on loopback, a real SQLite file, fixture items approved with Korean commentary. The preview is
read from inside its sandboxed iframe: after a reorder (button or key) the email's order changes."""

from __future__ import annotations

import json

import pytest

from support.browser import browser_login
from support.composer import ISSUE_DATE, approve_picks, build_now, stored_issue

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ko-KR", viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def email_titles(page, titles):
    """A locator of the item titles inside the preview, in the email's order."""
    selector = ", ".join(f"a:text-is({json.dumps(title)})" for title in titles)
    return page.frame_locator("#preview").locator(selector)


def mark_unreloaded(page) -> None:
    page.evaluate("() => { window.__sameDocument = true; }")


def still_the_same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def test_build_from_picks_then_the_preview_follows_a_reorder_by_button_and_by_key(editor, page):
    ed = editor()
    picked = approve_picks(ed)
    labs = picked.ids[:3]
    browser_login(page, ed.url)
    page.click("header.top >> text=다음 호")
    page.wait_for_url("**/issue")
    expect(page.locator("#no-issue")).to_contain_text(f"{ISSUE_DATE} 호가 아직 없습니다")
    page.click("#build-form button")
    page.wait_for_url(f"**/issue?date={ISSUE_DATE}&notice=built")

    lab_titles = [picked.titles[i] for i in labs]
    preview_labs = email_titles(page, lab_titles)
    # the first item's title is what the email shows first
    expect(preview_labs.first).to_have_text(picked.title(0))
    expect(preview_labs).to_have_text(lab_titles)
    expect(page.frame_locator("#preview").locator("body")).to_contain_text("보안 위협 대응을 백 배 빠르게")

    mark_unreloaded(page)
    with page.expect_response("**/api/issue/reorder"):
        page.locator(f"#issue-item-{labs[0]} button[value=down]").click()
    expect(preview_labs).to_have_text([lab_titles[1], lab_titles[0], lab_titles[2]])
    expect(page.locator("#issue-item-%d .position" % labs[0])).to_have_text("2")
    assert stored_issue(ed)[4][:3] == [labs[1], labs[0], labs[2]]

    # by key: the moved item is still selected; K moves it up again, j then J moves the next one down
    expect(page.locator(f"#issue-item-{labs[0]}")).to_have_class("issue-item selected")
    with page.expect_response("**/api/issue/reorder"):
        page.keyboard.press("Shift+K")
    expect(preview_labs).to_have_text(lab_titles)
    page.keyboard.press("j")
    with page.expect_response("**/api/issue/reorder"):
        page.keyboard.press("Shift+J")
    expect(preview_labs).to_have_text([lab_titles[0], lab_titles[2], lab_titles[1]])
    assert stored_issue(ed)[4][:3] == [labs[0], labs[2], labs[1]]
    # the text part followed too, all without reloading the page
    text = page.locator("#text-part").inner_text()
    assert text.index(lab_titles[2]) < text.index(lab_titles[1])
    assert still_the_same_document(page)


def test_editing_the_subject_in_hangul_and_removing_an_item_update_the_preview(editor, page):
    ed = editor()
    picked = approve_picks(ed)
    build_now(ed)
    browser_login(page, ed.url)
    page.goto(ed.url + "/issue")
    expect(page.locator("#subject-line")).to_have_text("AI 뉴스 #1 — 2024년 7월 19일 (금)")
    expect(page.locator("#subject")).to_have_attribute("placeholder", "AI 뉴스 #1 — 2024년 7월 19일 (금)")
    mark_unreloaded(page)

    subject = "오늘의 AI — 어휘 크기와 스케일링 법칙"
    page.click("#subject")
    page.keyboard.insert_text(subject)
    page.click("#note")
    page.keyboard.insert_text("**편집자 노트**: 이번 주는 토크나이저 이야기가 많았습니다.")
    with page.expect_response("**/api/issue/edit"):
        page.keyboard.press("Control+Enter")
    expect(page.locator("#subject-line")).to_have_text(subject)
    frame = page.frame_locator("#preview")
    expect(frame.locator("title")).to_have_js_property("textContent", subject)
    expect(frame.locator("strong", has_text="편집자 노트")).to_be_visible()
    assert stored_issue(ed)[1] == subject

    # x takes the selected (first) item out; the preview loses it, the approval stays
    first = picked.ids[0]
    expect(page.locator(f"#issue-item-{first}")).to_have_class("issue-item selected")
    page.keyboard.press("Escape")  # out of the note: keys are commands again
    with page.expect_response("**/api/issue/remove"):
        page.keyboard.press("x")
    expect(page.locator(f"#issue-item-{first}")).to_have_count(0)
    expect(email_titles(page, [picked.title(1)])).to_have_count(1)
    expect(email_titles(page, [picked.title(0)])).to_have_count(0)
    expect(page.locator("#item-count")).to_have_text("4")
    assert first not in stored_issue(ed)[4]
    assert still_the_same_document(page)


def test_size_meter_widths_and_a_sandboxed_preview(editor, page):
    ed = editor()
    picked = approve_picks(ed)
    build_now(ed)
    browser_login(page, ed.url)
    page.goto(ed.url + "/issue")
    meter = page.locator("#size-meter")
    expect(meter).to_be_visible()
    assert 0 < float(meter.get_attribute("value")) < 90 * 1024
    expect(page.locator("#size")).to_have_attribute("data-status", "ok")
    expect(page.locator("#size-text")).to_contain_text("KB / 102 KB")

    frame = page.locator("#preview")
    assert frame.get_attribute("sandbox") == ""  # no allow-scripts, no allow-same-origin
    assert page.evaluate("() => document.getElementById('preview').sandbox.contains('allow-scripts')") is False
    # an opaque origin: the editor's page cannot reach into the preview, nor the preview out
    assert page.evaluate("() => { try { return document.getElementById('preview').contentDocument; }"
                         " catch (e) { return 'blocked'; } }") in (None, "blocked")
    assert frame.bounding_box()["width"] == pytest.approx(600, abs=1)
    page.click("label[for=width-mobile]")
    expect(frame).to_have_css("width", "375px")
    body = page.frame_locator("#preview").locator("body")
    expect(body).to_contain_text(picked.title(0))
    # at phone width the email still fits: nothing sticks out sideways
    assert body.evaluate("b => b.ownerDocument.scrollingElement.scrollWidth") <= 375
    page.click("label[for=width-desktop]")
    expect(frame).to_have_css("width", "600px")


def test_mark_ready_then_back_to_draft(editor, page):
    ed = editor()
    picked = approve_picks(ed)
    build_now(ed)
    browser_login(page, ed.url)
    page.goto(ed.url + "/issue")
    expect(page.locator("#issue-status")).to_have_text("초안")
    page.click("#ready-form button")
    page.wait_for_url("**notice=ready")
    expect(page.locator("#issue-status")).to_have_text("발송 준비됨")
    expect(page.locator("#subject")).to_be_disabled()
    expect(page.locator("form[data-composer=move]")).to_have_count(0)
    assert stored_issue(ed)[0] == "ready"
    posts: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    page.keyboard.press("Shift+J")  # nothing to move in a ready issue
    page.keyboard.press("x")
    page.evaluate("() => fetch('/api/issue').then(r => r.json())")  # a round trip: anything sent has arrived
    assert posts == [] and stored_issue(ed)[4] == picked.ids

    page.click("#draft-form button")
    page.wait_for_url("**notice=draft")
    expect(page.locator("#issue-status")).to_have_text("초안")
    expect(page.locator("#subject")).to_be_enabled()
    assert stored_issue(ed)[0] == "draft"


def test_the_composer_without_javascript(editor, browser):
    ed = editor()
    picked = approve_picks(ed)
    build_now(ed)
    labs = picked.ids[:3]
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, ed.url)
        page.goto(ed.url + "/issue")
        page.locator(f"#issue-item-{labs[1]} button[value=up]").click()
        page.wait_for_url(f"**notice=moved#issue-item-{labs[1]}")
        lab_titles = [picked.titles[i] for i in (labs[1], labs[0], labs[2])]
        expect(email_titles(page, lab_titles)).to_have_text(lab_titles)

        page.fill("#subject", "스크립트 없이 바꾼 제목")
        page.click("#issue-form button[type=submit]")
        page.wait_for_url("**notice=saved")
        expect(page.locator("#subject-line")).to_have_text("스크립트 없이 바꾼 제목")
        expect(page.frame_locator("#preview").locator("title")).to_have_js_property("textContent", "스크립트 없이 바꾼 제목")

        page.click("label[for=width-mobile]")  # the widths are CSS alone
        expect(page.locator("#preview")).to_have_css("width", "375px")
        page.locator(f"#issue-item-{labs[2]} form[data-composer=remove] button").click()
        page.wait_for_url("**notice=removed")
        assert stored_issue(ed)[4] == [labs[1], labs[0], *picked.ids[3:]]
    finally:
        context.close()
