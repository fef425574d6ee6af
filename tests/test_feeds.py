"""Golden tests for the feed collector on real payloads from tests/fixtures (see SOURCES.md)."""

from __future__ import annotations

import asyncio
import codecs
import re
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from newsletter.collect.feeds import collect, decode_feed, parse_feed
from newsletter.collect.http import HttpClient
from newsletter.config import parse_settings
from newsletter.errors import ParseError
from newsletter.model import ItemKind, SourceHealth

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2025, 8, 1, 6, 0, tzinfo=timezone.utc)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str, base_url: str = "https://example.com/feed.xml", source_id: str = "src", **kw):
    return parse_feed(fixture(name), source_id=source_id, base_url=base_url, now=NOW, **kw)


def by_key(listing, key: str):
    matches = [e for e in listing.entries if e.key == key]
    assert len(matches) == 1, f"{key} found {len(matches)} times"
    return matches[0]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# --- lab feeds ---------------------------------------------------------------------------------

def test_openai_news_rss():
    listing = parse("feeds/openai-news-rss-2025-07-28.xml", "https://openai.com/news/rss.xml")
    assert len(listing.entries) == 599
    assert listing.note == ""
    first = listing.entries[0]
    assert first.key == "https://openai.com/index/outtake"
    assert first.url == "https://openai.com/index/outtake"
    assert first.kind is ItemKind.POST
    assert first.title == "Resolving digital threats 100x faster with OpenAI"  # CDATA title
    assert first.published == utc(2025, 7, 24)
    assert first.summary_text.startswith("Discover how Outtake uses GPT-4.1 and OpenAI o3")
    assert first.authors == ()
    assert first.meta == {"guid": "https://openai.com/index/outtake", "image": None, "feed_title": "OpenAI News"}

    unify = by_key(listing, "https://openai.com/index/unify")
    assert unify.title == "Driving scalable growth with OpenAI o3, GPT-4.1, and CUA"
    assert unify.categories == ("API",)
    assert unify.published == utc(2025, 6, 24)
    assert unify.summary_text.startswith("Unify, an AI-powered GTM platform, uses OpenAI’s o3")


def test_google_deepmind_rss_with_media_thumbnail():
    listing = parse("feeds/google-deepmind-blog-rss-2025-07.xml", "https://deepmind.google/blog/rss.xml")
    assert len(listing.entries) == 100
    aeneas = listing.entries[0]
    assert aeneas.key == "https://deepmind.google/discover/blog/aeneas-transforms-how-historians-connect-the-past/"
    assert aeneas.title == "Aeneas transforms how historians connect the past"
    assert aeneas.published == utc(2025, 7, 23, 14, 59)
    assert aeneas.summary_text == ("We’re publishing a paper in Nature introducing Aeneas, the first AI model "
                                   "for contextualizing ancient inscriptions.")
    assert aeneas.meta["image"].startswith("https://lh3.googleusercontent.com/eMe8bNk3nHJU_unVGcgIUKuPiI")
    assert aeneas.meta["feed_title"] == "Google DeepMind Blog"


def test_google_blog_nested_og_and_author_elements_do_not_clobber_fields():
    # Each item carries <og><title>, <author><name/><title>job title</title></author> and a
    # <media:description> alt text: none of them may replace the item's own title or description.
    listing = parse("feeds/google-blog-technology-ai-rss-2025-07.xml", "https://blog.google/technology/ai/rss/")
    assert len(listing.entries) == 20
    guide = by_key(listing, "https://blog.google/products/search/web-guide-labs/")
    assert guide.title == "Web Guide: An experimental AI-organized search results page"
    assert guide.authors == ("Austin Wu",)
    assert guide.categories == ("Search", "AI")
    assert guide.published == utc(2025, 7, 24, 16)
    assert guide.summary_text.startswith("We’re launching Web Guide, a Search Labs experiment")
    assert "Abstract image" not in guide.summary_text
    assert guide.summary_html.startswith(
        '<img src="https://storage.googleapis.com/gweb-uniblog-publish-prod/images/WebGuide_Hero')
    assert guide.meta["image"].endswith("/WebGuide_Hero.max-600x600.format-webp.webp")
    assert not {"Group Product Manager", "Director of Product, Consumer Shopping"} & {e.title for e in listing.entries}


def test_microsoft_wordpress_feed_with_empty_guids():
    # Every item has <guid isPermaLink="false"></guid>: the link must key the item, and an
    # empty guid must not make ten posts collapse into one.
    listing = parse("feeds/microsoft-ai-blog-rss-2025-07-28.xml", "https://www.microsoft.com/en-us/ai/blog/feed/")
    assert len(listing.entries) == 10
    assert len({e.key for e in listing.entries}) == 10
    grid = listing.entries[0]
    assert grid.key == ("https://www.microsoft.com/en-us/industry/blog/energy-and-resources/2025/07/28/"
                        "driving-the-grid-of-the-future-how-microsoft-and-our-partners-are-reenvisioning-energy-with-ai/")
    assert grid.title == ("Driving the grid of the future: How Microsoft and our partners are "
                          "reenvisioning energy with AI")
    assert grid.authors == ("ceprodblogsupp",)  # dc:creator
    assert grid.published == utc(2025, 7, 28, 15)
    assert grid.meta["guid"] == ""
    # content:encoded wins over the description; WordPress classes and ids are stripped
    assert grid.summary_text.startswith("AI for grid operations: Key insights from our latest energy")
    assert grid.summary_html.startswith("<h2>AI for grid operations")
    assert "class=" not in grid.summary_html


def test_community_anthropic_feed_entities_in_titles():
    listing = parse("feeds/community-anthropic-news.turing-ai-rss-feeds.rss.xml", "https://example.org/anthropic.xml")
    assert len(listing.entries) == 267
    sydney = by_key(listing, "https://www.anthropic.com/news/theo-hourmouzis-general-manager-australia-new-zealand")
    assert sydney.title == ("Anthropic names Theo Hourmouzis General Manager of Australia & New Zealand "
                            "and officially opens Sydney office")
    assert sydney.published == utc(2026, 4, 27, 21, 53)
    assert sydney.summary_html == "" and sydney.summary_text == ""  # the scraper gives no description
    assert sydney.meta["feed_title"] == "Anthropic News"


def test_community_mistral_feed():
    listing = parse("feeds/community-mistral-news.turing-ai-rss-feeds.rss.xml")
    seven_b = by_key(listing, "https://mistral.ai/news/announcing-mistral-7b/")
    assert seven_b.title == "Mistral 7B"
    assert seven_b.published == utc(2023, 9, 27)
    assert seven_b.meta["guid"] == "https://mistral.ai/news/announcing-mistral-7b/"


def test_atom_feed_arxiv_api_links_become_paper_keys():
    listing = parse("arxiv/arxiv-api-old-format-quantum-criticality.xml", "http://export.arxiv.org/api/query")
    assert [e.key for e in listing.entries] == ["arxiv:1111.2011", "arxiv:cond-mat/0607501"]
    paper = listing.entries[0]
    assert paper.key == "arxiv:1111.2011"
    assert paper.kind is ItemKind.PAPER
    assert paper.url == "http://arxiv.org/abs/1111.2011v2"
    assert paper.title == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    assert paper.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.published == utc(2011, 11, 8, 18, 48, 36)
    assert paper.summary_text.startswith("Theoretical description of anisotropic systems, such as layered superconductors")


def test_rss_090_rdf_feed_without_dates_falls_back_to_now():
    listing = parse("encoding/heise-online-rdf-rss090-utf8-2018.xml", "https://www.heise.de/newsticker/heise.rdf")
    assert len(listing.entries) == 60
    oled = listing.entries[0]
    assert oled.title == "OLED-TVs: Vorsichtsmaßnahmen gegen Einbrennen"
    assert oled.url.startswith("https://www.heise.de/newsticker/meldung/OLED-TVs-Vorsichtsmassnahmen-gegen-Einbrennen")
    assert oled.published == NOW


# --- encodings ---------------------------------------------------------------------------------

def test_euc_kr_korean_feed_without_declaration():
    # feedparser alone (no chardet installed) reads these bytes as windows-1252: mojibake.
    listing = parse("encoding/feedparser-euckr-korean-no-encoding-declared.rss.xml",
                    "https://blog.example.kr/index.xml", source_id="kr-blog")
    (entry,) = listing.entries
    assert entry.title == "EUC-KR 에서 TypeKey 한글닉네임 표시하기"
    assert entry.summary_text.startswith("TypeKey 시스템이 UTF-8로 돌아가는데, 거기서 한글로 된 닉네임을")
    # no link and no guid: a key made from the title, pointing at the feed's own URL
    assert re.fullmatch(r"kr-blog:[0-9a-f]{16}", entry.key)
    assert entry.url == "https://blog.example.kr/index.xml"
    assert entry.published == NOW
    assert listing.note == "decoded as cp949, declared nothing"


def test_declared_euc_kr():
    text, codec = decode_feed(fixture("encoding/feedparser-euc-kr-declared-item.rss.xml"))
    assert codec == "cp949"  # the superset Korean sites actually send under the euc-kr label
    assert "<description>년</description>" in text


def test_other_undeclared_cjk_encodings():
    listing = parse("encoding/feedparser-gb2312-no-encoding-declared.rss.xml")
    assert listing.entries[0].title == "不归移民漫画系列：专业工作"
    text, codec = decode_feed(fixture("encoding/feedparser-big5-no-encoding-declared.atom.xml"))
    assert codec == "big5hkscs"
    assert "<title>我希望??很容易?其翻?成中文，并有助于改??件。" in text


def test_declared_windows_1252_but_utf8_bytes():
    raw = fixture("encoding/miniflux-declared-windows-1252-but-utf8-bytes.xml")
    text, codec = decode_feed(raw)
    assert codec == "utf-8"
    assert "<title>Euro €</title>" in text
    listing = parse_feed(raw, source_id="euro", base_url="https://example.com/rss", now=NOW)
    assert listing.entries == ()
    assert listing.note == "feed has no entries; decoded as utf-8, declared windows-1252"
    # the same document with an item added: the entry and the feed title come out right
    with_item = raw.replace(b"</channel>", "<item><title>Preis: 5 €</title><link>/p/1</link></item></channel>"
                            .encode("utf-8"))
    (entry,) = parse_feed(with_item, source_id="euro", base_url="https://example.com/rss", now=NOW).entries
    assert entry.title == "Preis: 5 €"
    assert entry.url == "https://example.com/p/1"
    assert entry.meta["feed_title"] == "Euro €"


def test_iso_8859_1_golem_umlauts():
    listing = parse("encoding/golem-de-rss-iso-8859-1-2018.xml", "https://rss.golem.de/rss.php?feed=RSS2.0")
    assert len(listing.entries) == 40
    assert listing.note == ""
    week = by_key(listing, "https://www.golem.de/news/wochenrueckblick-wilder-westen-buntes-handy-nutzloses-siegel"
                           "-1810-137318-rss.html")
    assert week.title == "Wochenrückblick: Wilder Westen, buntes Handy, nutzloses Siegel"
    assert week.published == utc(2018, 10, 27, 7, 2)
    assert week.meta["guid"] == "https://www.golem.de/1810/137318-rss.html"
    assert listing.entries[0].summary_text.startswith("Viele Spieler wünschen sich eine PC-Version")


def test_windows_1251_cyrillic():
    listing = parse("encoding/ibash-org-ru-rss-windows-1251-2018.xml", "http://ibash.org.ru/rss.xml")
    quote = listing.entries[0]
    assert quote.key == "http://ibash.org.ru/quote.php?id=17703"
    assert quote.title == "Цитата #17703"
    assert quote.published == datetime(2018, 3, 21, 7, 27, 32, tzinfo=timezone.utc)
    assert quote.summary_text.startswith("xxx: есть у кого жаба программер\nxxx: кот немного пхп знает?")


def test_latin1_bytes_without_declaration_and_mixed_bytes_after_a_bom():
    listing = parse("encoding/le-cercle-psy-rss-latin1-bytes-no-xml-declaration-2018.xml")
    assert listing.entries[0].summary_text.startswith(
        "Si leur impact semble discret au premier abord, nombre d'études montrent")
    # UTF-8 BOM, one valid UTF-8 letter and one stray Latin-1 byte: both halves readable
    text, codec = decode_feed(fixture("encoding/feedparser-bozo-invalid-bytes-with-utf8-bom.rss.xml"))
    assert codec == "utf-8"
    assert "<title>Valid UTF8: ѨInvalid UTF8: España</title>" in text


def test_http_charset_wins_over_the_xml_declaration():
    body = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>' \
           '<item><title>Привет</title><link>https://example.com/a</link></item></channel></rss>'
    listing = parse_feed(body.encode("cp1251"), source_id="ru", base_url="https://example.com/", now=NOW,
                         headers={"Content-Type": "application/rss+xml; charset=windows-1251"})
    assert listing.entries[0].title == "Привет"


# --- hostile and broken input ------------------------------------------------------------------

HOSTILE = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Evil &lt;b&gt;blog&lt;/b&gt;</title><link>https://evil.example/</link>
<item>
  <title>Click &lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;here&lt;/b&gt; &amp;amp; win</title>
  <link>/posts/1?utm_source=rss&amp;id=7#comments</link>
  <description><![CDATA[<p onclick="steal()">Hi <script>alert('x')</script><img src="/img/a.png" onerror="alert(2)">
  <a href="javascript:alert(3)">js</a> <a href="../about">about</a> <iframe src="https://evil.example/x"></iframe>
  <style>body{display:none}</style><a href="data:text/html;base64,PHNjcmlwdD4=">data</a></p>]]></description>
  <author>mallory@evil.example (Mallory)</author>
</item>
<item><title>Scripted link</title><link>javascript:alert(4)</link><guid isPermaLink="false">not-a-url-42</guid></item>
<item><title>Duplicate of the first</title><link>https://evil.example/posts/1?id=7&amp;utm_medium=feed</link></item>
<item><description>no link, guid or title: dropped</description></item>
</channel></rss>"""


def test_hostile_html_comes_out_inert_and_absolute():
    listing = parse_feed(HOSTILE, source_id="evil", base_url="https://evil.example/feed/rss.xml", now=NOW)
    first, scripted = listing.entries  # the duplicate and the empty item are gone
    assert first.key == "https://evil.example/posts/1?id=7"  # tracking parameter and fragment dropped
    assert first.url == "https://evil.example/posts/1?utm_source=rss&id=7#comments"
    assert first.title == "Click here & win"
    html = first.summary_html
    for bad in ("<script", "alert(", "onerror", "onclick", "javascript:", "<iframe", "<style", "data:"):
        assert bad not in html, bad
    assert '<img src="https://evil.example/img/a.png">' in html
    assert 'href="https://evil.example/about"' in html
    assert first.summary_text.startswith("Hi")
    assert first.meta["feed_title"] == "Evil blog"
    assert listing.note == "1 without link, guid or title skipped"
    # a javascript: link is no link: the item is keyed by its guid and points at the site
    assert re.fullmatch(r"evil:[0-9a-f]{16}", scripted.key)
    assert scripted.url == "https://evil.example/"
    assert scripted.meta["guid"] == "not-a-url-42"


def test_entry_without_link_uses_an_http_guid_and_plain_titles_keep_their_angle_brackets():
    body = b"""<rss version="2.0"><channel><title>t</title><link>https://example.com/</link>
    <item><title>Why x &lt; y matters &amp; a&lt;b</title><guid isPermaLink="false">https://example.com/p/9</guid></item>
    </channel></rss>"""
    (entry,) = parse_feed(body, source_id="g", base_url="https://example.com/rss", now=NOW).entries
    assert entry.key == entry.url == "https://example.com/p/9"
    assert entry.title == "Why x < y matters & a<b"


@pytest.mark.parametrize("content, message", [
    (b"", "empty response body"),
    (b"   \n", "empty response body"),
    (b"<!DOCTYPE html><html><head><title>Login</title></head><body>Sign in</body></html>", "HTML page"),
    (b'{"items": []}', "not an RSS or Atom feed"),
    (bytes(range(256)) * 4, "not an RSS or Atom feed"),
    (b"/etc/passwd", "not an RSS or Atom feed"),  # bytes feedparser would open as a file name
    (fixture("encoding/feedparser-bozo-invalid-bytes-with-utf8-bom.rss.xml"), "unclosed token"),
])
def test_unparseable_payloads_raise_parse_error(content, message):
    with pytest.raises(ParseError) as caught:
        parse_feed(content, source_id="broken", base_url="https://example.com/feed", now=NOW)
    assert message in str(caught.value)
    assert caught.value.source_id == "broken"
    assert str(caught.value).startswith("broken: ")


# --- collect: conditional GET through the real HttpClient on an in-process transport ------------

SETTINGS = parse_settings({"sources": [{"id": "openai", "kind": "feed", "url": "https://openai.com/news/rss.xml"}]})


def run_collect(handler, health: SourceHealth):
    async def go():
        async with HttpClient(SETTINGS.collect, "test@example.com", transport=httpx.MockTransport(handler)) as http:
            return await collect(SETTINGS.sources[0], http, health, SETTINGS, NOW)
    return asyncio.run(go())


def test_collect_parses_against_the_final_url_and_keeps_validators():
    body = fixture("feeds/openai-news-rss-2025-07-28.xml")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/news/rss.xml":
            return httpx.Response(301, headers={"Location": "https://openai.com/news/rss/"})
        return httpx.Response(200, content=body, headers={"ETag": '"v2"', "Last-Modified": "Mon, 28 Jul 2025 23:32:40 GMT"})

    fetched = run_collect(handler, SourceHealth("openai", "feed"))
    assert not fetched.not_modified
    assert len(fetched.listing.entries) == 599
    assert fetched.etag == '"v2"' and fetched.last_modified == "Mon, 28 Jul 2025 23:32:40 GMT"


def test_collect_not_modified():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(304)

    health = SourceHealth("openai", "feed", etag='"v1"', last_modified="Sun, 27 Jul 2025 00:00:00 GMT")
    fetched = run_collect(handler, health)
    assert seen["if-none-match"] == '"v1"' and seen["if-modified-since"] == "Sun, 27 Jul 2025 00:00:00 GMT"
    assert fetched.not_modified and fetched.listing.entries == ()
    assert fetched.etag == '"v1"' and fetched.last_modified == "Sun, 27 Jul 2025 00:00:00 GMT"


# --- UTF-16 and UTF-32 without a byte-order mark; Content-Location -----------------------------

KOREAN_FEED = ('<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>연구 소식</title>'
               '<link>https://lab.example/</link><item><title>언어 모델의 추론</title><link>posts/1</link>'
               '<description>한국어 요약입니다.</description></item></channel></rss>')


@pytest.mark.parametrize("codec", ["utf-16-be", "utf-16-le", "utf-32-be", "utf-32-le"])
def test_utf16_and_utf32_without_a_bom_are_read_from_their_nul_pattern(codec):
    # as feedparser's corpus has them: the declaration names the encoding, no BOM comes first;
    # all of those bytes are ASCII, which once made them look like an ASCII document
    body = KOREAN_FEED.format(encoding=codec.rsplit("-", 1)[0]).encode(codec)
    assert not body.startswith((codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF32_LE))
    listing = parse_feed(body, source_id="lab", base_url="https://lab.example/feed.xml", now=NOW)
    (entry,) = listing.entries
    assert (entry.title, entry.summary_text, entry.url) == (
        "언어 모델의 추론", "한국어 요약입니다.", "https://lab.example/posts/1")


def test_relative_links_resolve_against_the_content_location_header_as_feedparser_does():
    body = KOREAN_FEED.format(encoding="utf-8").encode("utf-8")
    listing = parse_feed(body, source_id="lab", base_url="https://cdn.example/feeds/lab.xml", now=NOW,
                         headers={"Content-Type": "application/rss+xml", "Content-Location": "https://lab.example/blog/"})
    assert listing.entries[0].url == "https://lab.example/blog/posts/1"
    relative = parse_feed(body, source_id="lab", base_url="https://cdn.example/feeds/lab.xml", now=NOW,
                          headers={"Content-Location": "/mirror/lab.xml"})
    assert relative.entries[0].url == "https://cdn.example/mirror/posts/1"
