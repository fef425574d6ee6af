"""Sending from the composer in a real browser: Debian's Chromium (Playwright) against the editor
under uvicorn on loopback and a real aiosmtpd sink that holds its answers until the test lets
them go. "Send now" asks for a confirmation, returns at once, and the counts on the composer
follow the send: in place with JavaScript, by the page reloading itself without it."""

from __future__ import annotations

import pytest

from support.browser import browser_login
from support.composer import ACTIVE_ON_THE_WIRE, ISSUE_DATE, gate, ready, with_readers
from support.smtp import wait_for_mail

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def contexts(browser):
    opened = []

    def make(*, javascript: bool):
        context = browser.new_context(locale="ko-KR", viewport={"width": 1400, "height": 900},
                                      java_script_enabled=javascript)
        opened.append(context)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        return tab

    yield make
    for context in opened:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_send_now_after_confirming_and_the_counts_follow_the_send(mail_editor, contexts, javascript):
    ed = mail_editor()
    ready(ed)
    with_readers(ed)
    ed.sink.fail("gone@example.com", "550 5.1.1 그런 사용자 없음")
    opened = gate(ed.sink)
    page = contexts(javascript=javascript)
    browser_login(page, ed.url)
    page.click("header.top >> text=다음 호")
    expect(page.locator("#test-to")).to_have_value("jisu@example.com")
    page.click("#send-now")
    page.wait_for_url(f"**/issue/send?date={ISSUE_DATE}")
    expect(page.locator("#send-recipients")).to_contain_text("6곳")

    page.click("#send-form button[type=submit]")  # the checkbox is not ticked: nothing goes
    assert page.url.endswith(f"/issue/send?date={ISSUE_DATE}")  # the browser's own check held it back
    assert ed.sink.count == 0  # (the server's own check, for a form sent anyway: test_web_subscribers_send)

    page.check("#send-confirm")
    page.click("#send-form button[type=submit]")
    page.wait_for_url(f"**/issue?date={ISSUE_DATE}&notice=sending#send-panel")
    wait_for_mail(ed.sink, 1)
    expect(page.locator("#delivery")).to_have_attribute("data-running", "true")
    expect(page.locator("#delivery-sent")).to_have_text("0")
    if javascript:
        page.evaluate("() => { window.__sameDocument = true; }")

    opened.set()  # the server answers: the send finishes in the background
    expect(page.locator("#delivery-sent")).to_have_text("5", timeout=15_000)  # no-script: the next reload
    expect(page.locator("#delivery-failed")).to_have_text("1")
    expect(page.locator("#delivery-pending")).to_have_text("0")
    expect(page.locator("#issue-status")).to_have_text("발송됨")
    expect(page.locator("#delivery-failures")).to_contain_text("gone@example.com: 550 5.1.1 그런 사용자 없음")
    if javascript:
        assert page.evaluate("() => window.__sameDocument === true")  # updated in place, no reload
    for address in ACTIVE_ON_THE_WIRE:
        assert len(ed.sink.to(address)) == 1
    assert ed.sink.count == 5
