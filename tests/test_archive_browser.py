"""The built archive in Chromium, served by a loopback HTTP server under /archive/ (as the app
mounts it) with the app's Content-Security-Policy: every link resolves inside the site, search
finds Korean and English words, tag pages (Hangul ones too) list their items, the subscribe
form posts to the app, and an issue page reads well on a phone."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, quote, urldefrag

import pytest
from playwright.sync_api import expect

from newsletter.archive import build_archive
from newsletter.demo.server import SnapshotServer
from newsletter.model import Entry, ItemKind
from newsletter.store import items as item_store
from newsletter.store import transaction
from support.apps import item_id
from support.browser import MEASURE
from support.clock import SEOUL_MORNING
from support.issues import HOSTILE_TITLE, TOKENIZER, TOKENIZER_DIR, archive_app, publish
from support.server import ArchiveServer

PREFIX = "/archive"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(app, archive server): three sent issues (support.issues.archive_app) plus one whose item has a
    400-character unbroken title, built and served under /archive/."""
    directory = tmp_path_factory.mktemp("archive-browser")
    out = directory / "site"
    out.mkdir()
    http = ArchiveServer(out).start()
    with SnapshotServer() as snapshots:
        app = archive_app(directory, snapshots, site_url=http.base_url)
    with transaction(app.conn):
        item_store.upsert_entries(app.conn, "openai", [Entry(
            key="https://evil.example/long", kind=ItemKind.POST, url="https://evil.example/long",
            title=HOSTILE_TITLE, summary_text="https://evil.example/" + "x" * 300, published=SEOUL_MORNING)],
            SEOUL_MORNING)
    publish(app, date(2024, 7, 20), [("https://evil.example/long", "", 0, "아주 긴 URL: https://example.org/"
                                      + "가" * 120, "긴-제목")])
    build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    yield app, http
    http.stop()
    app.close()


@pytest.fixture
def page(browser):
    """A page that records console errors (a CSP refusal is one) and failed requests."""
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.problems = []
    page.on("console", lambda message: page.problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("response", lambda response: page.problems.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    yield page
    page.close()


LINKS = """() => Array.from(document.querySelectorAll(
  'a[href], link[href]:not([rel=canonical]), script[src], img[src], form[action]')).map(e => [
  e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'), e.href || e.src || e.action])"""


def test_every_link_resolves_inside_the_site_served_under_a_prefix(site, page):
    app, http = site
    root = f"{http.base_url}{PREFIX}/"
    pages = {f"{root}index.html"}
    queue, ids, fragments, resources = [f"{root}index.html"], {}, set(), set()
    while queue:
        url = queue.pop()
        response = page.goto(url)
        assert response.status == 200, url
        ids[url] = set(page.eval_on_selector_all("[id]", "elements => elements.map(e => e.id)"))
        for raw, resolved in page.evaluate(LINKS):
            assert not raw.startswith("/"), f"{url}: root-relative link {raw}"  # links are page-relative
            if raw.startswith(("https://", "http://", "mailto:")):
                continue  # external: the items' own links, and the subscribe form's action on the app
            assert resolved.startswith(root), f"{url}: {raw} leaves the archive"
            target, fragment = urldefrag(resolved)
            target = target.split("?")[0]
            if fragment:
                fragments.add((target, fragment))
            if target.endswith(".html"):
                if target not in pages:
                    pages.add(target)
                    queue.append(target)
            else:
                resources.add(target)
    for resource in resources:
        assert page.request.get(resource).status == 200, resource
    for target, fragment in fragments:
        assert fragment in ids[target], f"#{fragment} is not on {target}"
    assert not page.problems, page.problems

    # every page of the site was reached, and the index links every issue
    built = {root + quote(path.relative_to(http.directory).as_posix()) for path in http.directory.rglob("*.html")}
    assert pages == built
    page.goto(f"{root}index.html")
    issue_links = page.eval_on_selector_all(".issues a", "links => links.map(a => a.getAttribute('href'))")
    assert issue_links == [f"issues/{d}/index.html" for d in ("2024-07-20", "2024-07-19", "2024-07-18", "2024-07-17")]
    assert f"{root}tags/{TOKENIZER_DIR}/index.html" in pages and f"{root}feed.xml" in resources


def test_search_finds_a_hangul_word_from_commentary_and_an_english_word_from_a_title(site, page):
    app, http = site
    page.goto(f"{http.base_url}{PREFIX}/search/index.html")
    deepmind = item_id(app, source="deepmind")

    page.fill("#q", "비문")  # from "역사학자를 돕는 모델이 비문을 복원하는 방식"
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-results h3 a").all_inner_texts() == ["Aeneas transforms how historians connect the past"]
    assert page.locator("#search-results h3 a").get_attribute("href") == f"../issues/2024-07-18/index.html#item-{deepmind}"
    assert page.locator("#search-results mark").all_inner_texts() == ["비문"]
    assert "검색 결과 1개" in page.inner_text("#search-status")

    page.fill("#q", "")
    page.focus("#q")
    page.keyboard.insert_text("VOCABULARY")  # any case
    expect(page.locator("#search-results h3 a")).to_have_text(
        ["Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"])
    assert "q=VOCABULARY" in page.url  # the address follows the search, to share it

    page.fill("#q", "모델 추론")  # every word must be there: only the weak-to-strong paper has both
    expect(page.locator("#search-results h3 a")).to_have_text(["Weak-to-Strong Reasoning"])
    page.fill("#q", "#토크나이저")  # a tag
    expect(page.locator("#search-results h3 a")).to_have_text(
        ["Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"])
    page.fill("#q", "양자컴퓨터")
    expect(page.locator("#search-status")).to_have_text("‘양자컴퓨터’에 맞는 소식이 없습니다.")
    expect(page.locator("#search-results li")).to_have_count(0)

    # from the header of any page: the search page opens with the results
    page.goto(f"{http.base_url}{PREFIX}/issues/2024-07-17/index.html")
    page.fill("#site-q", "비문")
    page.press("#site-q", "Enter")
    page.wait_for_selector("#search-results li")
    assert page.locator("#search-results h3 a").inner_text() == "Aeneas transforms how historians connect the past"
    page.click("#search-results h3 a")
    page.wait_for_url(f"**/issues/2024-07-18/index.html#item-{deepmind}")
    assert page.evaluate("document.querySelector(':target').id") == f"item-{deepmind}"
    assert not page.problems, page.problems


def test_a_hangul_tag_page_lists_its_items(site, page):
    app, http = site
    paper = item_id(app, "arxiv:2407.13623")
    page.goto(f"{http.base_url}{PREFIX}/issues/2024-07-17/index.html")
    page.click(f"text=#{TOKENIZER}")
    page.wait_for_url(f"**/tags/{TOKENIZER_DIR}/index.html")
    assert page.inner_text("h1") == f"#{TOKENIZER}"
    assert page.locator(".tagged h3 a").all_inner_texts() == [
        "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"]
    assert "#1 · 2024년 7월 17일 (수) · arXiv cs.CL" in page.inner_text(".tagged")
    page.click(".tagged h3 a")
    page.wait_for_url(f"**/issues/2024-07-17/index.html#item-{paper}")

    page.goto(f"{http.base_url}{PREFIX}/tags/index.html")
    page.click("text=#에이전트")
    assert page.locator(".tagged h3 a").all_inner_texts() == ["Resolving digital threats 100x faster with OpenAI"]
    page.goto(f"{http.base_url}{PREFIX}/tags/index.html")
    page.click("text=#weak-to-strong")
    assert page.locator(".tagged h3 a").all_inner_texts() == ["Weak-to-Strong Reasoning"]
    assert not page.problems, page.problems


def test_the_subscribe_form_posts_the_address_and_an_empty_honeypot_people_never_reach(site, page):
    app, http = site
    page.goto(f"{http.base_url}{PREFIX}/index.html")
    box = page.locator("#subscribe-website").bounding_box()
    assert box["x"] + box["width"] <= 0  # off-screen
    page.focus("#subscribe-email")
    page.keyboard.insert_text("reader@example.com")
    page.keyboard.press("Tab")  # the honeypot is out of the tab order: next comes the button
    assert page.evaluate("document.activeElement.textContent") == "구독하기"
    http.posts.clear()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{http.base_url}/subscribe")
    ((path, body),) = http.posts
    assert path == "/subscribe"
    assert parse_qs(body.decode(), keep_blank_values=True) == {"email": ["reader@example.com"], "website": [""]}


def test_an_issue_page_reads_well_on_a_phone(site, page, tmp_path):
    app, http = site
    page.set_viewport_size({"width": 375, "height": 800})
    for issue_date in ("2024-07-20", "2024-07-17"):
        page.goto(f"{http.base_url}{PREFIX}/issues/{issue_date}/index.html")
        scroll_width, inner_width = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert scroll_width <= inner_width, f"{issue_date}: {scroll_width} px of content in {inner_width} px"
        right_edges = page.evaluate("Array.from(document.querySelectorAll('a, p, h1, h3')).map("
                                    "e => e.getBoundingClientRect().right)")
        assert max(right_edges) <= inner_width
    # Hangul is drawn with real glyphs (about one em each), in the stylesheet's font and size
    hangul = page.evaluate(MEASURE, ["연산량에", 4])
    assert hangul and 3.6 * hangul["fontSize"] <= hangul["width"] <= 4.4 * hangul["fontSize"], hangul
    assert page.evaluate("getComputedStyle(document.body).wordBreak") == "keep-all"
    assert "Apple SD Gothic Neo" in page.evaluate("getComputedStyle(document.body).fontFamily")
    body_size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.commentary')).fontSize)")
    assert body_size >= 15  # readable without zooming
    shot = tmp_path / "issue-375.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert not page.problems, page.problems
