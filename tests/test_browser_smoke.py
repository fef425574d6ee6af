"""The browser the web and render tests rely on renders Hangul with real CJK glyphs."""

from __future__ import annotations


def test_chromium_renders_hangul_with_cjk_glyphs(browser):
    page = browser.new_page()
    page.set_content('<html lang="ko"><body style="font-family: \'Noto Sans CJK KR\', sans-serif">'
                     '<span id="ko">한국어한국어</span></body></html>')
    hangul = page.eval_on_selector("#ko", "e => e.getBoundingClientRect().width")
    # six Hangul syllables are full-width glyphs: about one em each, not missing-glyph boxes
    font_size = page.eval_on_selector("#ko", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert 5.5 * font_size <= hangul <= 6.5 * font_size
    page.close()
