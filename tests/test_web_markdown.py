"""text.markdown_subset: the curator's commentary (links, bold, italic, code) as safe HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from newsletter.text import markdown_subset

REL = 'rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize("source, html", [
    ("**중요**한 [논문](https://arxiv.org/abs/2407.13623)",
     f'<p><strong>중요</strong>한 <a href="https://arxiv.org/abs/2407.13623" {REL}>논문</a></p>'),
    ("*강조*합니다, _기울임_ 그리고 snake_case_name",
     "<p><em>강조</em>합니다, <em>기울임</em> 그리고 snake_case_name</p>"),
    ("`<b>tokenizer</b>` 설정", "<p><code>&lt;b&gt;tokenizer&lt;/b&gt;</code> 설정</p>"),
    ("첫 문단\n둘째 줄\n\n\n둘째 문단", "<p>첫 문단<br>둘째 줄</p><p>둘째 문단</p>"),
    ("원문: https://openai.com/index/gpt-4o/?a=1&b=2. 참고",
     f'<p>원문: <a href="https://openai.com/index/gpt-4o/?a=1&amp;b=2" {REL}>'
     'https://openai.com/index/gpt-4o/?a=1&amp;b=2</a>. 참고</p>'),
    ("(자세히는 https://example.com/a)", f'<p>(자세히는 <a href="https://example.com/a" {REL}>https://example.com/a</a>)</p>'),
    ("[**굵은** `code` 링크](https://x.com/karpathy)",
     f'<p><a href="https://x.com/karpathy" {REL}><strong>굵은</strong> <code>code</code> 링크</a></p>'),
    ("2 * 3 * 4 = 24", "<p>2 * 3 * 4 = 24</p>"),
    ("", ""),
    ("   \n  ", ""),
])
def test_markdown_subset(source, html):
    assert markdown_subset(source) == html


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[클릭](javascript:alert(1))",
    "[클릭](https://example.com/\" onmouseover=\"alert(1))",
    "[클릭](data:text/html;base64,PHNjcmlwdD4=)",
    "`</code><script>alert(1)</script>`",
    "**<a href='javascript:alert(1)'>x</a>**",
    "https://example.com/\"><script>alert(1)</script>",
])
def test_markdown_subset_never_lets_markup_through(hostile):
    parser = _Tags()
    parser.feed(markdown_subset(hostile))
    for tag, attrs in parser.found:
        assert tag in {"p", "br", "a", "strong", "em", "code"}, (hostile, tag)
        assert set(attrs) <= {"href", "rel"}, (hostile, attrs)
        if "href" in attrs:
            assert urlsplit(attrs["href"]).scheme in ("http", "https", "mailto"), (hostile, attrs)
            assert '"' not in attrs["href"]
