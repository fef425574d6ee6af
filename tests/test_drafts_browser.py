"""A model draft in the editor, in Debian's Chromium: it fills the commentary box only while the
box is empty; typed text is replaced only by the curator's own click. The model is a loopback
stand-in answering with a real recorded completion."""

from __future__ import annotations

import pytest
from support.browser import browser_login
from support.llm import ChatStandIn, Reply, completion_saying

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

KEY = "sk-test-never-shown-0042"
DRAFT = "PPO의 긴 응답 생성 비용을 줄이려고 잘린 궤적으로 학습하는 방법입니다. 추론 성능을 유지하면서 학습 속도를 높였다는 점이 흥미롭습니다."


def test_in_the_browser_a_draft_fills_only_an_empty_box(editor, browser):
    with ChatStandIn(Reply(200, completion_saying(DRAFT))) as stand_in:
        ed = editor(llm={"base_url": stand_in.base_url, "model": "gpt-3.5-turbo"},
                    environ={"NEWSLETTER_LLM_API_KEY": KEY})
        context = browser.new_context(locale="ko-KR")
        page = context.new_page()
        page.set_default_timeout(10_000)
        browser_login(page, ed.url)
        first, second = [int(i) for i in page.eval_on_selector_all(
            "[data-item-card]", "cards => cards.map(c => c.dataset.item)")][:2]

        page.goto(f"{ed.url}/items/{first}")
        page.click("#suggest-button")
        expect(page.locator("#commentary")).to_have_value(DRAFT)  # the empty box takes the draft
        expect(page.locator("#model-draft-model")).to_have_text("gpt-3.5-turbo-0125")

        page.goto(f"{ed.url}/items/{second}")
        page.fill("#commentary", "직접 쓰던 코멘터리")
        page.keyboard.press("Control+Shift+S")  # the key, from inside the box
        expect(page.locator("#model-draft-body")).to_have_text(DRAFT)
        expect(page.locator("#commentary")).to_have_value("직접 쓰던 코멘터리")  # typed text stays
        page.click("#use-model-draft")  # only the curator's own action replaces it
        expect(page.locator("#commentary")).to_have_value(DRAFT)
        assert KEY not in page.content()
        context.close()
