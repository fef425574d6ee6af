"""The archive's search in Chromium over an archive of many blocks (the index sharded as at
1,000 issues, in miniature): a Korean word finds its particles and compounds, an English word
finds its titles, a query downloads one bucket per block and word and the few files of the
results shown, not the index; more results come on request; a word typed with an IME is
searched once composed. Served over loopback HTTP under /archive with the app's CSP."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from newsletter.archive import build_archive, paths, search
from newsletter.model import Entry, IssueStatus, ItemKind, ItemStatus
from newsletter.store import issues as issue_store
from newsletter.store import items as item_store
from newsletter.store import transaction
from support.apps import app_for
from support.clock import SEOUL_MORNING
from support.server import ArchiveServer

PREFIX = "/archive"
ISSUES, PER_ISSUE, BLOCK = 30, 8, 4  # 7 full blocks of 4 issues and one of 2, as 20 blocks of 50 would be
FIRST_DAY = date(2024, 1, 1)
COMPOUND = (13, 6)  # (issue, position): the one item whose commentary says "언어모델을"
TRANSFORMER = {(5, 1), (29, 7)}  # the items titled "... Transformer ..."


def commentary(issue: int, position: int) -> str:
    if (issue, position) == COMPOUND:
        return "바이트를 바로 읽는 언어모델을 소개합니다. 토크나이저가 없습니다."
    if position % 3 == 0:
        return f"이번 주 {issue}호의 이야기: 데이터 정제 방법을 다룹니다."
    return f"이 모델을 쓰면 추론이 {position}배 빨라진다는 주장입니다. 실험은 작지만 흥미롭습니다."


def title(issue: int, position: int) -> str:
    if (issue, position) in TRANSFORMER:
        return f"Byte Latent Transformer, part {issue}"
    return f"Study {issue}-{position}: Efficient Data Curation"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """(server, {(issue, position): item id}, bytes of the buckets on disk): ISSUES sent issues
    of PER_ISSUE items, indexed in blocks of BLOCK issues."""
    directory = tmp_path_factory.mktemp("archive-search")
    app = app_for(directory)
    ids = {}
    with transaction(app.conn):
        for issue in range(1, ISSUES + 1):
            entries = [Entry(key=f"https://openai.com/search-test/{issue}/{p}", kind=ItemKind.POST,
                             url=f"https://openai.com/search-test/{issue}/{p}", title=title(issue, p),
                             published=SEOUL_MORNING) for p in range(PER_ISSUE)]
            item_store.upsert_entries(app.conn, "openai", entries, SEOUL_MORNING)
            chosen = [item_store.get_item_by_key(app.conn, entry.key).id for entry in entries]
            for p, item in enumerate(chosen):
                ids[issue, p] = item
                item_store.set_status(app.conn, item, ItemStatus.APPROVED, SEOUL_MORNING)
                item_store.annotate(app.conn, item, SEOUL_MORNING, commentary=commentary(issue, p),
                                    tags=["언어모델" if p == 2 else "데이터"])
            made = issue_store.create_issue(app.conn, FIRST_DAY + timedelta(days=issue - 1), SEOUL_MORNING)
            issue_store.set_items(app.conn, made.id, chosen, SEOUL_MORNING)
            for status in (IssueStatus.READY, IssueStatus.SENDING, IssueStatus.SENT):
                issue_store.set_status(app.conn, made.id, status, SEOUL_MORNING)
            for item in chosen:
                item_store.set_status(app.conn, item, ItemStatus.PUBLISHED, SEOUL_MORNING)
    out = directory / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "SEARCH_PART_ISSUES", BLOCK)
        patch.setattr(search, "SEALED_BUCKETS", 64)
        patch.setattr(search, "OPEN_BUCKETS", 16)
        build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    app.close()
    http = ArchiveServer(out).start()
    yield http, ids, sum(p.stat().st_size for p in (out / "search").glob("b*/*.js"))
    http.stop()


@pytest.fixture
def page(browser):
    """A page that records every response of the archive (to count what a query downloads)
    and every console error and failed request."""
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.problems, page.responses = [], []
    page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("response", lambda response: page.responses.append(response))
    yield page
    page.close()


def downloaded(page, *, headers: bool = True) -> dict[str, int]:
    """{path under /archive: bytes} of what the page has fetched so far (body and headers)."""
    fetched = {}
    for response in page.responses:
        assert response.status < 400, f"{response.status} {response.url}"
        sizes = response.request.sizes()
        fetched[urlsplit(response.url).path.removeprefix(PREFIX + "/")] = (
            sizes["responseBodySize"] + (sizes["responseHeadersSize"] if headers else 0))
    return fetched


def bucket_bytes(page) -> int:
    return sum(size for path, size in downloaded(page, headers=False).items() if path.startswith("search/b"))


def index_files(fetched: dict[str, int]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {"buckets": [], "docs": []}
    for path in fetched:
        if path.startswith("search/b"):
            kinds["buckets"].append(path)
        elif path.startswith("search/docs/"):
            kinds["docs"].append(path)
    return kinds


def result_links(page) -> list[str]:
    return page.locator("#search-results h3 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")


def test_a_korean_word_finds_particles_and_compounds_downloading_a_few_small_files(archive, page):
    http, ids, buckets_on_disk = archive
    page.goto(f"{http.base_url}{PREFIX}/search/index.html")

    page.fill("#q", "언어모델")  # "언어모델을" in one commentary, and the tag #언어모델 of every third item
    expect(page.locator("#search-status")).to_contain_text("검색 결과 31개 (20개 표시)")
    hrefs = result_links(page)
    issue, position = COMPOUND
    compound = f"../issues/{FIRST_DAY + timedelta(days=issue - 1)}/index.html#item-{ids[COMPOUND]}"
    assert len(hrefs) == 20 and hrefs[0] == f"../issues/2024-01-30/index.html#item-{ids[30, 2]}"  # newest first
    assert hrefs[18] == compound  # issue 13, after its tagged item 2

    fetched = downloaded(page)
    kinds = index_files(fetched)
    assert len(kinds["buckets"]) == 8  # one per block, the one word's first two characters hash to
    assert len({path.split("/")[1] for path in kinds["buckets"]}) == 8
    assert len(kinds["docs"]) == 20  # the file of each result shown: 20 issues, DOC_ITEMS items each at most
    assert bucket_bytes(page) < buckets_on_disk / 10, (bucket_bytes(page), buckets_on_disk)
    assert sum(fetched.values()) < 60_000  # the page, its script and style, data.js, 8 buckets, 20 small files

    # more results on request; focus goes to the first new one, so a keyboard user reads on
    page.click("#search-more")
    expect(page.locator("#search-results li")).to_have_count(31)
    expect(page.locator("#search-more")).to_be_hidden()
    assert page.evaluate("document.activeElement.getAttribute('href')") == result_links(page)[20]
    assert result_links(page)[30] == f"../issues/2024-01-01/index.html#item-{ids[1, 2]}"
    expect(page.locator("#search-status")).to_have_text("‘언어모델’ 검색 결과 31개")

    # a particle: "모델" finds "모델을" and "언어모델을" (and the tags)
    page.fill("#q", "모델을")
    expect(page.locator("#search-status")).to_contain_text("검색 결과 151개")
    page.fill("#q", "언어모델을")
    expect(page.locator("#search-results h3 a")).to_have_text(["Study 13-6: Efficient Data Curation"])
    assert result_links(page) == [compound]
    expect(page.locator("#search-results mark")).to_have_text(["언어모델을"])
    assert not page.problems, page.problems


def test_english_words_in_any_case_and_several_words_together(archive, page):
    http, ids, buckets_on_disk = archive
    page.goto(f"{http.base_url}{PREFIX}/search/index.html?q=TRANSFORMER")  # as the header's form sends it
    expect(page.locator("#search-results h3 a")).to_have_text(
        ["Byte Latent Transformer, part 29", "Byte Latent Transformer, part 5"])
    fetched = downloaded(page)
    kinds = index_files(fetched)
    assert len(kinds["buckets"]) == 8 and len(kinds["docs"]) == 2
    assert bucket_bytes(page) < buckets_on_disk / 10, (bucket_bytes(page), buckets_on_disk)
    assert sum(fetched.values()) < 40_000  # of it, the page, its script and style: 23 KB

    page.fill("#q", "transformer 5")  # both words, "5" in the title
    expect(page.locator("#search-results h3 a")).to_have_text(["Byte Latent Transformer, part 5"])
    assert result_links(page) == [f"../issues/2024-01-05/index.html#item-{ids[5, 1]}"]
    page.fill("#q", "curation 토크나이저")  # a title word and a commentary word
    expect(page.locator("#search-results h3 a")).to_have_text(["Study 13-6: Efficient Data Curation"])
    page.fill("#q", "양자컴퓨터")
    expect(page.locator("#search-status")).to_have_text("‘양자컴퓨터’에 맞는 소식이 없습니다.")
    expect(page.locator("#search-results li")).to_have_count(0)
    assert not page.problems, page.problems


def test_a_word_typed_with_an_ime_is_searched_once_composed(archive, page):
    http, ids, _ = archive
    page.goto(f"{http.base_url}{PREFIX}/search/index.html")
    page.focus("#q")
    page.responses.clear()
    ime = page.context.new_cdp_session(page)
    for partial in ("어", "언", "언ㅇ", "언어", "언어ㅁ", "언어모", "언어몯", "언어모델"):
        ime.send("Input.imeSetComposition", {"text": partial, "selectionStart": len(partial),
                                             "selectionEnd": len(partial)})
    assert page.input_value("#q") == "언어모델"  # on screen, still being composed
    page.wait_for_timeout(400)
    assert index_files(downloaded(page))["buckets"] == []  # half-made syllables load nothing
    ime.send("Input.insertText", {"text": "언어모델"})  # the IME commits: compositionend
    expect(page.locator("#search-status")).to_contain_text("검색 결과 31개")
    assert page.input_value("#q") == "언어모델"
    assert len(index_files(downloaded(page))["buckets"]) == 8
    assert not page.problems, page.problems
