"""Golden tests for the arXiv collector: the daily RSS listing and the export API (old and 2025+ formats)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from newsletter.collect.arxiv import collect, listing_url, lookup, parse_api, parse_listing, split_authors
from newsletter.collect.http import HttpClient
from newsletter.config import parse_settings
from newsletter.errors import ParseError
from newsletter.model import ItemKind, SourceHealth

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
LISTING = "arxiv-listing-cs.CL-2024-07-19.rss.xml"
ANNOUNCED = datetime(2024, 7, 19, 4, 0, tzinfo=timezone.utc)  # Fri, 19 Jul 2024 00:00:00 -0400
MORNING_AFTER = datetime(2024, 7, 19, 9, 0, tzinfo=timezone.utc)  # 18:00 in Seoul


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def cassette_body(name: str) -> bytes:
    # The recorder decoded arXiv's UTF-8 bytes as ISO-8859-1 (arXiv sends no charset);
    # encoding the string back as Latin-1 restores the bytes that came over the wire.
    return json.loads(fixture(name))["body"].encode("latin-1")


def listing(**kw):
    kw.setdefault("now", MORNING_AFTER)
    return parse_listing(fixture(LISTING), source_id="arxiv-ai", **kw)


def by_key(entries, key):
    (entry,) = [e for e in entries if e.key == key]
    return entry


# --- daily listing -----------------------------------------------------------------------------

def test_listing_golden_entry_2407_13623():
    result = listing()
    assert result.note == ""
    paper = by_key(result.entries, "arxiv:2407.13623")
    assert paper.kind is ItemKind.PAPER
    assert paper.url == "https://arxiv.org/abs/2407.13623"
    assert paper.title == "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"
    assert paper.authors == ("Chaofan Tao", "Qian Liu", "Longxu Dou", "Niklas Muennighoff", "Zhongwei Wan",
                             "Ping Luo", "Min Lin", "Ngai Wong")
    assert len(paper.authors) == 8
    assert paper.summary_text.startswith(
        "Research on scaling large language models (LLMs) has primarily focused on model parameters")
    assert paper.summary_text.endswith("vocabulary size for efficient scaling.")
    assert "arXiv:" not in paper.summary_text and "Announce Type" not in paper.summary_text
    assert paper.summary_html.startswith("<p>Research on scaling") and paper.summary_html.endswith("</p>")
    assert paper.categories == ("cs.CL", "cs.AI")
    assert paper.published == ANNOUNCED
    assert paper.meta == {
        "arxiv_id": "2407.13623",
        "version": "v1",
        "announce_type": "new",
        "primary_category": "cs.CL",
        "pdf_url": "https://arxiv.org/pdf/2407.13623v1",
    }


def test_listing_cross_lists_and_old_style_ids():
    result = listing()
    cross = by_key(result.entries, "arxiv:2405.13786")
    assert cross.title == "Towards Explainable Test Case Prioritisation with Learning-to-Rank Models"
    assert cross.authors == ("Aurora Ramírez", "Mario Berrios", "José Raúl Romero", "Robert Feldt")
    assert cross.meta["announce_type"] == "cross"
    assert cross.meta["primary_category"] == "cs.SE"  # cross-listed into cs.CL from cs.SE
    old = by_key(result.entries, "arxiv:cond-mat/0412498")
    assert old.url == "https://arxiv.org/abs/cond-mat/0412498"
    assert old.meta["pdf_url"] == "https://arxiv.org/pdf/cond-mat/0412498v1"


def test_listing_skips_replacements_by_default_and_keeps_them_when_asked():
    default = listing()
    types = [e.meta["announce_type"] for e in default.entries]
    assert len(default.entries) == 16 and types.count("new") == 2 and types.count("cross") == 14
    assert "arxiv:2005.14124" not in {e.key for e in default.entries}  # replace-cross

    everything = listing(announce_types=("new", "cross", "replace", "replace-cross"))
    assert len(everything.entries) == 27
    fuzzing = by_key(everything.entries, "arxiv:2005.14124")
    assert fuzzing.title == "Active Fuzzing for Testing and Securing Cyber-Physical Systems"
    assert fuzzing.meta["announce_type"] == "replace-cross"
    assert fuzzing.meta["version"] == "v2"
    assert fuzzing.categories == ("cs.SE", "cs.CR", "cs.LG")

    only_new = listing(announce_types=("new",))
    assert [e.key for e in only_new.entries] == ["arxiv:2407.13623", "arxiv:2407.13647"]


def test_listing_with_everything_filtered_out_says_so():
    result = listing(announce_types=("replace",))
    assert result.entries == ()
    assert result.note == "no items announced as replace (27 skipped)"


def test_empty_listing_is_a_note_not_an_error():
    # The same channel with its items removed, as rss.arxiv.org serves it on weekends and holidays.
    empty = re.sub(rb"\s*<item>.*?</item>", b"", fixture(LISTING), flags=re.S)
    assert b"<item>" not in empty and b"<channel>" in empty
    result = parse_listing(empty, source_id="arxiv-ai", now=MORNING_AFTER)
    assert result.entries == ()
    assert result.note == "empty listing"


def test_stale_listing_keeps_entries_with_a_note():
    # Monday after the weekend: Friday's listing is 3 days old, still fresh with the default 4.
    assert listing(now=datetime(2024, 7, 22, 9, 0, tzinfo=timezone.utc)).note == ""
    stale = listing(now=datetime(2024, 7, 30, 9, 0, tzinfo=timezone.utc))
    assert stale.note == "stale listing (dated 2024-07-19)"
    assert len(stale.entries) == 16
    assert listing(now=datetime(2024, 7, 22, 9, 0, tzinfo=timezone.utc), stale_after_days=2).note == \
        "stale listing (dated 2024-07-19)"


@pytest.mark.parametrize("creators, expected", [
    ("Yuqing Yang, Yan Ma, Pengfei Liu", ("Yuqing Yang", "Yan Ma", "Pengfei Liu")),
    ("Yuqing Yang, Yan Ma, and Pengfei Liu", ("Yuqing Yang", "Yan Ma", "Pengfei Liu")),
    ("Yuqing Yang, Yan Ma and Pengfei Liu", ("Yuqing Yang", "Yan Ma", "Pengfei Liu")),
    ("Anil K. Bera and Yannis Bilias", ("Anil K. Bera", "Yannis Bilias")),
    ("Itsik Bergel", ("Itsik Bergel",)),
    ("Alexander Anderson, Sandra Andrews", ("Alexander Anderson", "Sandra Andrews")),
])
def test_split_authors(creators, expected):
    assert split_authors(creators) == expected


@pytest.mark.parametrize("content, message", [
    (b"", "empty response body"),
    (b"Rate exceeded.", "'Rate exceeded.'"),
    (b"<html><body>Service Unavailable</body></html>", "root element <html>"),
    (fixture("arxiv-api-old-format-quantum-criticality.xml"), "root element <{http://www.w3.org/2005/Atom}feed>"),
    (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa">]><rss/>', "DOCTYPE"),
    (fixture(LISTING)[:5000], "not an arXiv RSS listing"),  # cut off mid-download
])
def test_listing_garbage_raises_parse_error(content, message):
    with pytest.raises(ParseError) as caught:
        parse_listing(content, source_id="arxiv-ai", now=MORNING_AFTER)
    assert message in str(caught.value)
    assert caught.value.source_id == "arxiv-ai"


# --- export API ----------------------------------------------------------------------------------

def test_api_old_format():
    entries = parse_api(fixture("arxiv-api-old-format-quantum-criticality.xml"))
    assert [e.key for e in entries] == ["arxiv:1111.2011", "arxiv:cond-mat/0607501"]
    paper = entries[0]
    assert paper.kind is ItemKind.PAPER
    assert paper.url == "https://arxiv.org/abs/1111.2011"
    # the API hard-wraps titles and abstracts; whitespace is collapsed
    assert paper.title == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    assert paper.summary_text.startswith("Theoretical description of anisotropic systems, such as layered "
                                         "superconductors and coupled spin chains")
    assert paper.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.published == datetime(2011, 11, 8, 18, 48, 36, tzinfo=timezone.utc)
    assert paper.meta["version"] == "v2"
    assert paper.meta["primary_category"] == "cond-mat.str-el"
    assert paper.meta["pdf_url"] == "https://arxiv.org/pdf/1111.2011v2"
    assert paper.meta["comment"] == "8 pages, 3 figures. Published version"
    assert paper.meta["journal_ref"] == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.meta["doi"] == "10.1103/PhysRevB.85.115117"
    assert paper.meta["updated"] == "2012-04-02T12:38:54Z"

    assert len(parse_api(fixture("arxiv-api-old-format-au-del_maestro-10entries.xml"))) == 10
    assert len(parse_api(fixture("arxiv-api-old-format-andnot-query.xml"))) == 10


def test_api_new_format_2026():
    body = cassette_body("arxiv-api-new-format-2026-q_testing-m15.cassette.json")
    assert body == fixture("arxiv-api-new-format-2026-q_testing-m15.body-derived.xml")
    entries = parse_api(body)
    assert len(entries) == 15
    paper = by_key(entries, "arxiv:2405.13786")
    assert paper.title == "Towards Explainable Test Case Prioritisation with Learning-to-Rank Models"
    assert paper.authors == ("Aurora Ramírez", "Mario Berrios", "José Raúl Romero", "Robert Feldt")
    assert paper.categories == ("cs.SE", "cs.AI")
    assert paper.published == datetime(2024, 5, 22, 16, 11, 45, tzinfo=timezone.utc)
    assert paper.summary_text.startswith("Test case prioritisation (TCP) is a critical task in regression testing")
    assert paper.meta["primary_category"] == "cs.SE"
    assert paper.meta["pdf_url"] == "https://arxiv.org/pdf/2405.13786v1"
    assert paper.meta["comment"].startswith("3rd International Workshop on Artificial Intelligence in Software")


def test_api_new_format_id_list_and_old_style_id():
    # Two ids asked for; arXiv silently drops the malformed 0808.05394 and answers with one.
    (proceedings,) = parse_api(cassette_body("arxiv-api-new-format-2026-id_list-two-ids.cassette.json"))
    assert proceedings.key == "arxiv:1707.08567"
    assert proceedings.title == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    assert len(proceedings.authors) == 34
    assert proceedings.authors[0] == "Kees A. Schouhamer Immink" and "Dirk Wübben" in proceedings.authors
    assert proceedings.meta["comment"] == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    assert proceedings.meta["doi"] == ""

    (jupiters,) = parse_api(cassette_body("arxiv-api-new-format-2026-old-style-id-astro-ph.cassette.json"))
    assert jupiters.key == "arxiv:astro-ph/0601001"
    assert jupiters.meta["version"] == "v1"
    assert jupiters.meta["primary_category"] == "astro-ph"
    assert jupiters.meta["journal_ref"] == "ActaAstron.56:1-50,2006"
    assert jupiters.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    # "V_max<17.5" is text: escaped in the HTML, literal in the plain text
    assert "V_max<17.5" in jupiters.summary_text and "V_max&lt;17.5" in jupiters.summary_html


# The error answer documented in the arXiv API user manual (HTTP 200, one entry titled Error).
API_ERROR = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <link href="http://arxiv.org/api/query?search_query=&amp;id_list=1234.12345&amp;start=0&amp;max_results=10"
        rel="self" type="application/atom+xml"/>
  <title>ArXiv Query: search_query=&amp;id_list=1234.12345&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/kvuntZ8c9a4Eq5CF7KY03nMug+Q</id>
  <updated>2007-10-12T00:00:00-04:00</updated>
  <opensearch:totalResults>1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.12345</summary>
    <updated>2007-10-12T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345" rel="alternate" type="text/html"/>
    <author><name>arXiv api core</name></author>
  </entry>
</feed>"""


def test_api_error_entry_raises_parse_error():
    with pytest.raises(ParseError, match="arXiv API error: incorrect id format for 1234.12345"):
        parse_api(API_ERROR)


def test_api_garbage_raises_parse_error():
    with pytest.raises(ParseError, match="Rate exceeded"):
        parse_api(b"Rate exceeded.")
    with pytest.raises(ParseError, match="root element <rss>"):
        parse_api(fixture(LISTING))


# --- collect and lookup through the real HttpClient on an in-process transport -------------------

SETTINGS = parse_settings({
    "collect": {"arxiv_interval": 0.05},
    "sources": [{"id": "arxiv-ai", "kind": "arxiv", "url": "https://rss.arxiv.org/rss/",
                 "categories": ["cs.CL", "cs.LG", "cs.AI"]}],
})


def serve(handler):
    async def go(work):
        async with HttpClient(SETTINGS.collect, "test@example.com", transport=httpx.MockTransport(handler)) as http:
            return await work(http)
    return lambda work: asyncio.run(go(work))


def test_collect_one_request_for_all_categories():
    source = SETTINGS.sources[0]
    assert listing_url(source) == "https://rss.arxiv.org/rss/cs.CL+cs.LG+cs.AI"
    requests = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.headers.get("if-none-match") == '"fri"':
            return httpx.Response(304)
        return httpx.Response(200, content=fixture(LISTING), headers={"ETag": '"fri"'})

    run = serve(handler)
    fresh = run(lambda http: collect(source, http, SourceHealth("arxiv-ai", "arxiv"), SETTINGS, MORNING_AFTER))
    assert str(requests[0].url) == "https://rss.arxiv.org/rss/cs.CL+cs.LG+cs.AI"
    assert len(fresh.listing.entries) == 16 and fresh.etag == '"fri"'

    again = run(lambda http: collect(source, http, SourceHealth("arxiv-ai", "arxiv", etag='"fri"'), SETTINGS,
                                     MORNING_AFTER))
    assert again.not_modified and again.listing.entries == () and again.etag == '"fri"'


def test_lookup_strips_versions_dedupes_and_paces_requests():
    body = cassette_body("arxiv-api-new-format-2026-id_list-two-ids.cassette.json")
    seen: list[tuple[float, dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((time.monotonic(), parse_qs(urlsplit(str(request.url)).query)))
        return httpx.Response(200, content=body)

    run = serve(handler)
    api = "https://export.arxiv.org/api/query"
    entries = run(lambda http: lookup(["1707.08567v1", "https://arxiv.org/abs/0808.05394", "1707.08567"],
                                      http, SETTINGS, api_url=api))
    assert [e.key for e in entries] == ["arxiv:1707.08567"]
    assert seen[0][1] == {"id_list": ["1707.08567,0808.05394"], "max_results": ["2"]}

    # 150 ids: two requests, the second at least arxiv_interval after the first
    seen.clear()
    many = [f"2407.{n:05d}" for n in range(150)]
    run(lambda http: lookup(many, http, SETTINGS, api_url=api))
    assert [q["max_results"] for _, q in seen] == [["100"], ["50"]]
    # (paced start to start inside the client; 0.8 allows for the first request's own setup time)
    assert seen[1][0] - seen[0][0] >= 0.8 * SETTINGS.collect.arxiv_interval

    with pytest.raises(ParseError, match="not an arXiv id"):
        run(lambda http: lookup(["https://openai.com/index/outtake"], http, SETTINGS, api_url=api))
    assert run(lambda http: lookup([], http, SETTINGS, api_url=api)) == ()
