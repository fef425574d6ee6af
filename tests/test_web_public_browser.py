"""Subscribing in a real browser: Debian's Chromium (Playwright) against the editor under uvicorn on
loopback, its opt-in mail caught by a real aiosmtpd sink. The confirm link from that mail shows a
page (nothing changes) and only its button confirms."""

from __future__ import annotations

import pytest

from support.smtp import wait_for_mail
from support.web import confirm_link

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ko-KR", viewport={"width": 900, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


@pytest.mark.parametrize("typed, wire", [("Minji.Kim@한국.kr", "minji.kim@xn--3e0b707e.kr"),
                                         ("seojun@example.com", "seojun@example.com")],
                         ids=["hangul-domain", "plain"])
def test_subscribe_through_the_form_then_confirm_with_the_button_in_the_mail_link(mail_editor, page, typed, wire):
    ed = mail_editor()
    page.goto(ed.url + "/subscribe")
    assert page.get_attribute("html", "lang") == "ko"
    expect(page.locator("h1")).to_contain_text("AI 뉴스 구독")
    # people never reach the honeypot: it is off-screen and Tab skips it
    expect(page.locator("#website")).not_to_be_in_viewport()
    page.focus("#email")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "구독하기"

    page.fill("#email", typed)
    page.click("#subscribe-form button[type=submit]")
    expect(page.locator("#subscribed")).to_contain_text("구독 확인 메일을 보냈습니다")
    assert ed.subscriber(wire)[0] == "pending"

    wait_for_mail(ed.sink, 1)
    (mail,) = ed.sink.received
    assert mail.rcpt_tos == (wire,)
    link = confirm_link(mail)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("구독 확인")
    expect(page.locator("#confirm-form button")).to_have_text("구독 확인하기")
    page.reload()  # opening the link again (as a scanner would) still changes nothing
    assert ed.subscriber(wire) == ("pending", "form")

    page.click("#confirm-form button")
    expect(page.locator("h1")).to_have_text("구독이 시작되었습니다")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "done")
    assert ed.subscriber(wire) == ("active", "confirm")


def test_a_forged_link_shows_a_clear_page_in_the_browser(mail_editor, page):
    ed = mail_editor()
    response = page.goto(ed.url + "/unsubscribe/WzEsImFiYyJd.forged-signature")
    assert response.status == 400
    expect(page.locator("h1")).to_have_text("쓸 수 없는 링크입니다")
    expect(page.locator("#link-state")).to_contain_text("아무것도 바뀌지 않았습니다")
