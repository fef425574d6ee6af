"""The static archive built from real collected items: what it holds, its feed and sitemap,
incremental rebuilds, previews, and the CLI. Chromium drives it in test_archive_browser.py.

Issues here are made as a curator makes them: the real fixtures collected through the
loopback server, items approved with Korean commentary and tags, issues built for several
dates and moved ready -> sending -> sent (support.issues).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from datetime import date
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest

from newsletter.flows import compose
from newsletter.archive import MANIFEST, build_archive, pages, paths, search, tag_slug
from newsletter.demo.server import SnapshotServer
from newsletter.errors import ArchiveError, IssueError
from newsletter.render import web_url
from newsletter.store import issues as issue_store
from support.apps import item_id
from support.cli import newsletter
from support.issues import (HOSTILE_SUBJECT, ISSUES, TOKENIZER, TOKENIZER_DIR, approve_picks, archive_app,
                            collected_app, publish)


@pytest.fixture(scope="module")
def archived(tmp_path_factory):
    """(app, out_dir, report): the three issues built once for the read-only tests."""
    directory = tmp_path_factory.mktemp("archive")
    with SnapshotServer() as server:
        app = archive_app(directory, server)
    report = build_archive(app.conn, app.settings, directory / "site", app.clock(), templates=app.archive_templates)
    yield app, directory / "site", report
    app.close()


@pytest.fixture
def fresh_app(tmp_path, server):
    app = archive_app(tmp_path, server)
    yield app
    app.close()


def read(out_dir: Path, relative: str) -> str:
    return (out_dir / relative).read_text(encoding="utf-8")


def test_the_site_has_an_index_a_page_per_issue_with_item_anchors_and_a_page_per_tag(archived):
    app, out, report = archived
    assert report.issues == (date(2024, 7, 19), date(2024, 7, 18), date(2024, 7, 17)) and not report.previews
    assert report.written and report.unchanged == 0 and report.deleted == ()
    index = read(out, "index.html")
    assert '<html lang="ko">' in index
    # newest first: number, date, subject, teaser
    rows = re.findall(r'<a href="issues/(\d{4}-\d\d-\d\d)/index.html">\s*<span class="kicker">#(\d+) · '
                      r'<time datetime="[^"]+">([^<]+)</time>', index)
    assert rows == [("2024-07-19", "3", "2024년 7월 19일 (금)"), ("2024-07-18", "2", "2024년 7월 18일 (목)"),
                    ("2024-07-17", "1", "2024년 7월 17일 (수)")]
    assert "AI 뉴스 #3 — 2024년 7월 19일 (금)" in index and "Weak-to-Strong Reasoning" in index  # subject, teaser
    assert "특집 &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;따옴표&#34;" in index
    assert "<script>alert" not in index

    for issue_date, picks in ISSUES.items():
        page = read(out, f"issues/{issue_date}/index.html")
        issue = issue_store.get_issue_by_date(app.conn, issue_date)
        anchors = [int(i) for i in re.findall(r'<article class="item [^"]+" id="item-(\d+)">', page)]
        assert anchors == list(issue.item_ids)  # every item, in the email's order
        assert f'<link rel="canonical" href="{web_url(app.settings, issue_date)}">' in page
        for _, _, _, sentence, _ in picks:
            assert sentence in page  # the curator's commentary
    vocabulary = read(out, "issues/2024-07-17/index.html")
    assert "<strong>scaling-law</strong>" in vocabulary  # the Markdown subset, rendered
    assert f'href="../../tags/{TOKENIZER_DIR}/index.html">#{TOKENIZER}</a>' in vocabulary
    assert 'style="' not in vocabulary  # the app's CSP allows no inline style
    special = read(out, "issues/2024-07-18/index.html")
    assert '<div class="note"><p>이번 호는 <strong>에이전트</strong> 특집입니다.</p></div>' in special
    assert 'href="../../issues/2024-07-17/index.html" rel="prev"' in special

    # a Hangul tag is a UTF-8 directory of its own and lists its item, linked to its anchor
    tag_page = read(out, f"tags/{TOKENIZER}/index.html")
    paper = item_id(app, "arxiv:2407.13623")
    assert f'href="../../issues/2024-07-17/index.html#item-{paper}">Scaling Laws with Vocabulary' in tag_page
    assert '#1 · 2024년 7월 17일 (수)</a> · arXiv cs.CL' in tag_page  # its issue and source
    tags = read(out, "tags/index.html")
    for tag in ("x", "소셜", "scaling-law", TOKENIZER, "openai", "에이전트", "deepmind", "고고학", "추론",
                "weak-to-strong"):
        assert (out / "tags" / tag / "index.html").is_file()
        assert f'href="../tags/{quote(tag)}/index.html">#{tag} <span class="count">1</span>' in tags


def test_the_subscribe_form_posts_email_and_an_empty_honeypot_to_the_app(archived):
    _, out, _ = archived
    for page in ("index.html", "issues/2024-07-19/index.html", f"tags/{TOKENIZER}/index.html"):
        html = read(out, page)
        form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
        assert form and form[1] == "https://news.example.com/subscribe"
        assert re.search(r'<input id="subscribe-email" name="email" type="email" required', form[2])
        assert re.search(r'<div class="hp" aria-hidden="true">.*<input id="subscribe-website" name="website" '
                         r'type="text" value="" tabindex="-1" autocomplete="off">', form[2], re.S)


def test_the_atom_feed_parses_and_lists_the_sent_issues_with_absolute_links(archived):
    app, out, _ = archived
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "AI 뉴스" and feed.feed.link == "https://news.example.com/"
    assert [entry.link for entry in feed.entries] == [
        "https://news.example.com/issues/2024-07-19/", "https://news.example.com/issues/2024-07-18/",
        "https://news.example.com/issues/2024-07-17/"]
    assert [entry.title for entry in feed.entries] == [
        "AI 뉴스 #3 — 2024년 7월 19일 (금)", HOSTILE_SUBJECT, "AI 뉴스 #1 — 2024년 7월 17일 (수)"]
    content = feed.entries[2].content[0].value
    assert "Scaling Laws with Vocabulary" in content and "연산량에 따라 최적의 어휘 크기가" in content
    assert "#토크나이저" in content
    assert all(entry.published_parsed and entry.id.startswith("https://") for entry in feed.entries)


def test_the_sitemap_lists_the_index_issues_and_tags_with_absolute_urls(archived):
    _, out, _ = archived
    root = ElementTree.fromstring((out / "sitemap.xml").read_bytes())
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [loc.text for loc in root.findall("s:url/s:loc", namespace)]
    assert locations[:2] == ["https://news.example.com/", "https://news.example.com/tags/"]
    for issue_date in ISSUES:
        assert f"https://news.example.com/issues/{issue_date}/" in locations
    assert f"https://news.example.com/tags/{TOKENIZER_DIR}/" in locations
    assert len(locations) == len(set(locations)) == 2 + 3 + 10


def loaded(out: Path, relative: str):
    """The data of a search index file: a script calling window.ARCHIVE_SEARCH_LOADED(name, data)."""
    script = read(out, relative)
    name = relative.removeprefix("search/").removesuffix(".js")
    assert script.startswith(f'window.ARCHIVE_SEARCH_LOADED("{name}",') and script.endswith(");\n")
    return json.loads(script.removeprefix(f'window.ARCHIVE_SEARCH_LOADED("{name}",').removesuffix(");\n"))


def test_the_search_index_holds_titles_commentary_and_tags_without_link_targets(archived):
    app, out, _ = archived
    listing = read(out, "search/data.js")
    assert listing.startswith("window.ARCHIVE_SEARCH={") and listing.endswith("};\n")
    (block,) = json.loads(listing.removeprefix("window.ARCHIVE_SEARCH=").removesuffix(";\n"))["blocks"]
    assert block["dir"] == "b0001" and re.fullmatch(r"[0-9a-f]{10}", block["v"]) and block["buckets"] == 32
    assert block["issues"] == [["2024-07-17", 1, 2], ["2024-07-18", 2, 2], ["2024-07-19", 3, 1]]
    assert len(list((out / "search" / "b0001").iterdir())) == 32

    doc = loaded(out, "search/docs/2024-07-17-1.js")
    assert doc["link"] == "../issues/2024-07-17/index.html" and doc["number"] == 1 and doc["preview"] == 0
    assert doc["date"] == "2024년 7월 17일 (수)"
    paper = item_id(app, "arxiv:2407.13623")
    (entry,) = [row for row in doc["items"] if row[0] == paper]
    assert entry[1].startswith("Scaling Laws with Vocabulary")
    assert entry[2].startswith("연산량에 따라 최적의 어휘 크기가") and "https://" not in entry[2]
    assert entry[3] == "scaling-law 토크나이저"
    for path in (out / "search").rglob("*.js"):  # the hostile subject and title cannot close a script
        assert "</script" not in path.read_text(encoding="utf-8"), path
    assert not (out / "search" / "part-0001.js").exists()


def test_a_rebuild_after_one_new_issue_rewrites_only_what_it_changes(fresh_app, tmp_path):
    app, out = fresh_app, tmp_path / "site"
    first = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    assert len(first.written) == first.files
    again = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    assert again.written == () and again.deleted == () and again.unchanged == first.files

    late = item_id(app, source="openai", nth=1)
    publish(app, date(2024, 7, 20), [("", "openai", 1, "토크나이저 없이 바이트를 바로 읽는 모델", f"{TOKENIZER}, 바이트")])
    report = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    search = {path for path in report.written if path.startswith("search/")}
    assert set(report.written) - search == {"issues/2024-07-20/index.html", "index.html", "feed.xml", "sitemap.xml",
                                            "tags/index.html", f"tags/{TOKENIZER}/index.html", "tags/바이트/index.html"}
    # of the search index: the list of blocks, the new issue's file and some of its block's 32 buckets
    assert {"search/data.js", "search/docs/2024-07-20-1.js"} < search
    assert all(re.fullmatch(r"search/b0001/[0-9a-f]{3}\.js", path) for path in search - {
        "search/data.js", "search/docs/2024-07-20-1.js"})
    assert report.deleted == () and report.unchanged == report.files - len(report.written)
    assert f"#item-{late}" in read(out, "tags/바이트/index.html")
    assert len(re.findall(r"issues/[\d-]+/index.html#item-", read(out, f"tags/{TOKENIZER}/index.html"))) == 2

    # a file lost on the host is noticed and written again; files of others are left alone
    (out / "issues/2024-07-18/index.html").unlink()
    (out / "CNAME").write_text("news.example.com\n")
    repaired = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    assert repaired.written == ("issues/2024-07-18/index.html",)
    assert (out / "CNAME").read_text() == "news.example.com\n"


def test_a_new_issue_rewrites_the_search_files_of_its_own_block_only(fresh_app, tmp_path, monkeypatch):
    app, out = fresh_app, tmp_path / "site"
    monkeypatch.setattr(paths, "SEARCH_PART_ISSUES", 2)  # issues 1-2 fill a block; issue 3 starts the next
    build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    assert len(list((out / "search/b0001").iterdir())) == search.SEALED_BUCKETS
    assert len(list((out / "search/b0002").iterdir())) == search.OPEN_BUCKETS
    sealed = {p.name: p.stat().st_mtime_ns for p in (out / "search/b0001").iterdir()}

    publish(app, date(2024, 7, 20), [("", "openai", 1, "토크나이저 없이 바이트를 바로 읽는 모델", "바이트")])
    filled = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    searched = {path for path in filled.written if path.startswith("search/")}
    # block 2 is full now: spread over more buckets, once; block 1 is left as it was
    assert len({path for path in searched if path.startswith("search/b0002/")}) <= search.SEALED_BUCKETS
    assert len(list((out / "search/b0002").iterdir())) == search.SEALED_BUCKETS
    assert {p.name: p.stat().st_mtime_ns for p in (out / "search/b0001").iterdir()} == sealed
    assert not any(path.startswith(("search/b0001/", "search/docs/2024-07-1")) for path in searched)

    publish(app, date(2024, 7, 21), [("", "openai", 2, "에이전트 이야기", "에이전트")])
    added = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    searched = {path for path in added.written if path.startswith("search/")}
    assert {"search/data.js", "search/docs/2024-07-21-1.js"} < searched
    assert len(searched) <= 2 + search.OPEN_BUCKETS and all(
        path.startswith("search/b0003/") for path in searched - {"search/data.js", "search/docs/2024-07-21-1.js"})
    assert added.deleted == ()


def test_a_busy_tag_is_paged_from_its_oldest_items_so_old_pages_stay_as_they_are(fresh_app, tmp_path, monkeypatch):
    app, out = fresh_app, tmp_path / "site"
    monkeypatch.setattr(pages, "TAG_PAGE_ITEMS", 1)  # a page per item: five items make four pages
    for day, nth in ((20, 1), (21, 2), (22, 3), (23, 4)):
        publish(app, date(2024, 7, day), [("", "openai", nth, f"토크나이저 이야기 {nth}", TOKENIZER)])
    build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    tag_dir = out / "tags" / TOKENIZER
    assert sorted(p.name for p in tag_dir.iterdir()) == ["index.html", "page-1.html", "page-2.html", "page-3.html"]

    def shown(name: str) -> list[str]:
        return re.findall(r'href="../../issues/(2024-07-\d\d)/index.html#item-', read(tag_dir, name))

    assert shown("index.html") == ["2024-07-23", "2024-07-22"]  # the newest two, newest first
    assert shown("page-3.html") == ["2024-07-21"] and shown("page-1.html") == ["2024-07-17"]
    assert 'href="../../tags/' + TOKENIZER_DIR + '/page-3.html" rel="next">더 이전 소식' in read(tag_dir, "index.html")
    assert 'href="../../tags/' + TOKENIZER_DIR + '/page-1.html" rel="next"' in read(tag_dir, "page-2.html")
    assert "rel=\"next\"" not in read(tag_dir, "page-1.html")
    assert "소식 5개 · 최신순" in read(tag_dir, "index.html") and "이전 소식 2쪽" in read(tag_dir, "page-2.html")

    publish(app, date(2024, 7, 24), [("", "openai", 5, "토크나이저 이야기 5", TOKENIZER)])
    report = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    tag_files = sorted(p for p in report.written if p.startswith("tags/"))
    assert tag_files == ["tags/index.html", f"tags/{TOKENIZER}/index.html", f"tags/{TOKENIZER}/page-4.html"]
    assert shown("index.html") == ["2024-07-24", "2024-07-23"] and shown("page-4.html") == ["2024-07-22"]


def test_a_preview_is_marked_kept_out_of_feed_and_sitemap_and_deleted_when_dropped(fresh_app, tmp_path):
    app, out = fresh_app, tmp_path / "site"
    approve_picks(app, [("", "deepmind", 2, "아직 보내지 않은 호의 소식", "미리보기-전용")])
    draft = compose.build_issue(app.settings, app.conn, app.clock(), date(2024, 7, 22)).issue
    report = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates, previews=[draft.issue_date])
    assert report.issues[0] == date(2024, 7, 22) and report.previews == (date(2024, 7, 22),)
    page = read(out, "issues/2024-07-22/index.html")
    assert "<strong>미리보기</strong> 아직 발송되지 않은 호입니다" in page
    assert '<meta name="robots" content="noindex">' in page
    assert '<span class="badge">미리보기</span>' in read(out, "index.html")
    assert "2024-07-22" not in read(out, "feed.xml") and "2024-07-22" not in read(out, "sitemap.xml")
    assert "미리보기-전용" not in read(out, "sitemap.xml")
    assert (out / "tags/미리보기-전용/index.html").is_file()

    dropped = build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates)
    assert set(dropped.deleted) == {"issues/2024-07-22/index.html", "tags/미리보기-전용/index.html",
                                    "search/docs/2024-07-22-1.js"}  # the preview is no longer searched
    assert not (out / "issues/2024-07-22").exists() and not (out / "tags/미리보기-전용").exists()
    assert "2024-07-22" not in read(out, "index.html")
    manifest = json.loads(read(out, MANIFEST))
    assert "issues/2024-07-22/index.html" not in manifest["files"]

    with pytest.raises(IssueError, match="2024-07-30: no such issue to show as a preview"):
        build_archive(app.conn, app.settings, out, app.clock(), templates=app.archive_templates, previews=[date(2024, 7, 30)])


def test_a_directory_holding_other_things_is_refused_and_left_alone(fresh_app, tmp_path):
    app = fresh_app
    home = tmp_path / "someone-elses"
    home.mkdir()
    (home / "index.html").write_text("내 홈페이지", encoding="utf-8")
    with pytest.raises(ArchiveError, match="holds other files \\(index.html, ...\\) and no .archive-manifest.json"):
        build_archive(app.conn, app.settings, home, app.clock(), templates=app.archive_templates)
    assert (home / "index.html").read_text(encoding="utf-8") == "내 홈페이지"
    assert sorted(p.name for p in home.iterdir()) == [".archive.lock", "index.html"]


def test_tags_become_safe_distinct_directory_names():
    assert tag_slug("scaling-law") == "scaling-law" and tag_slug(TOKENIZER) == TOKENIZER
    assert tag_slug("gpt-4.5") == "gpt-4.5" and tag_slug("c++") == "c++"
    # anything normalise_tag would not have produced is cleaned and made distinct with a hash
    assert re.fullmatch(r"gpt-[0-9a-f]{8}", tag_slug("GPT")) and tag_slug("GPT") != tag_slug("gpt")
    assert re.fullmatch(r"tag-[0-9a-f]{8}", tag_slug(".."))
    assert re.fullmatch(r"a-b-[0-9a-f]{8}", tag_slug("a/b"))
    assert tag_slug("a/b") != tag_slug("a-b") and ".." not in tag_slug("../../etc")
    long = tag_slug("가" * 100)
    assert len(long.encode()) <= 120 and long.startswith("가" * 30)
    # the decomposed form macOS may hand over is the same tag
    assert tag_slug("\u1110\u1169\u110f\u1173\u11ab") == tag_slug("토큰")


def test_cli_builds_the_archive_and_reports_json(archived, tmp_path):
    app, _, _ = archived
    out = tmp_path / "public"
    args = ["--db", str(app.db_path), "--config", app.settings.path, "archive", "build", "--out", str(out)]
    run = newsletter(tmp_path, *args, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["index"] == str(out / "index.html") and report["issues"] == 3 and report["tags"] == 10
    assert report["written"] == report["files"] and report["unchanged"] == 0 and report["deleted"] == 0
    run = newsletter(tmp_path, *args)  # for people: a summary on stderr, the index's path on stdout
    assert run.returncode == 0 and run.stdout == f"{out / 'index.html'}\n"
    assert "3 issue(s), 10 tag(s)" in run.stderr and "0 written" in run.stderr

    run = newsletter(tmp_path, *args, "--preview", "2024-08-01")
    assert run.returncode == 1 and "issue 2024-08-01: no such issue to show as a preview" in run.stderr

    # drafts never go where the app serves the public /archive: by default, or named there
    served = app.archive_dir
    for where in ([], ["--out", str(served)], ["--out", str(served) + "/"]):
        run = newsletter(tmp_path, "--db", str(app.db_path), "--config", app.settings.path, "archive", "build",
                         *where, "--preview", "2024-07-19")
        assert run.returncode == 2 and "--preview" in run.stderr and "/archive" in run.stderr, where
        assert not served.exists()


def test_cli_builds_an_empty_archive_before_anything_is_sent(tmp_path, server):
    app = collected_app(tmp_path, server)
    app.close()
    out = tmp_path / "empty"
    run = newsletter(tmp_path, "--db", str(app.db_path), "--config", app.settings.path, "archive", "build",
                     "--out", str(out), "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["issues"] == 0
    assert "아직 발행된 호가 없습니다" in read(out, "index.html")
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo and feed.entries == []
