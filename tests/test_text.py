from __future__ import annotations

import pytest

from newsletter.text import (arxiv_id, canonical_url, html_to_text, item_key, normalise_tag, parse_tags,
                             sanitize_html, x_status)


@pytest.mark.parametrize("url, key", [
    ("https://arxiv.org/abs/2407.13623v1", "arxiv:2407.13623"),
    ("http://arxiv.org/pdf/2407.13623v2.pdf", "arxiv:2407.13623"),
    ("https://export.arxiv.org/abs/hep-th/9901001", "arxiv:hep-th/9901001"),
    ("arXiv:2407.13647", "arxiv:2407.13647"),
    ("https://x.com/karpathy/status/1815842603377779140?s=20", "x:1815842603377779140"),
    ("https://twitter.com/i/web/status/1815842603377779140", "x:1815842603377779140"),
    ("HTTPS://OpenAI.com:443/index/gpt-4o/?utm_source=newsletter&utm_medium=email#top",
     "https://openai.com/index/gpt-4o/"),
    ("https://www.example.com/a?id=3&fbclid=abc&ref=hn", "https://www.example.com/a?id=3"),
    ("https://example.com", "https://example.com/"),
    # what urllib cannot take apart is its own key, never an exception in a collector
    ("https://arxiv.org:99999/abs/x", "https://arxiv.org:99999/abs/x"),
    ("https://[x/abs ", "https://[x/abs"),
    ("http://a.example:abc/", "http://a.example:abc/"),
])
def test_item_keys(url, key):
    assert item_key(url) == key


def test_arxiv_id_keeps_the_version_apart():
    assert arxiv_id("https://arxiv.org/abs/2407.13623v3") == ("2407.13623", "v3")
    assert arxiv_id("https://example.com/abs/2407.13623") is None
    assert x_status("https://x.com/karpathy/status/12") == ("karpathy", "12")
    assert x_status("https://example.com/karpathy/status/12") is None
    assert canonical_url("https://www.Example.com/") == "https://www.example.com/"


def test_sanitize_makes_hostile_html_inert_and_links_absolute():
    hostile = ('<p onclick="steal()">Hi <a href="/post">post</a> <a href="javascript:alert(1)">x</a>'
               '<img src="img.png" onerror="alert(1)"><script>alert(1)</script>'
               '<iframe src="https://evil.test"></iframe><style>p{}</style></p>')
    clean = sanitize_html(hostile, "https://lab.test/blog/")
    assert "script" not in clean and "onerror" not in clean and "onclick" not in clean
    assert "javascript:" not in clean and "iframe" not in clean and "<style" not in clean
    assert 'href="https://lab.test/post"' in clean and 'src="https://lab.test/blog/img.png"' in clean


def test_html_to_text_keeps_paragraphs_and_hangul():
    assert html_to_text("<p>첫 문단&nbsp;입니다.</p><p>Second <b>para</b></p><script>x()</script>") == \
        "첫 문단 입니다.\n\nSecond para"


def test_tags_normalise_latin_and_keep_hangul():
    assert normalise_tag("#Scaling Law") == "scaling-law"
    assert normalise_tag("#토크나이저") == "토크나이저"
    assert parse_tags("#LLM, #토크나이저 scaling_law #llm") == ("llm", "토크나이저", "scaling-law")
