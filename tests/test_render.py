"""Rendering the dated issue from real collected items: HTML (MJML) and text part.

The items come from the real fixtures collected through the loopback server, approved with
Korean commentary and tags the way a curator does it; the helpers here are shared with
test_render_browser.py and test_issue*.py.
"""

from __future__ import annotations

import asyncio
import html
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from itertools import count

import pytest
import yaml
from markupsafe import escape

from conftest import RSS, fixture_bytes
from newsletter.flows import compose
from newsletter.app import build_app
from newsletter.demo.server import Route
from newsletter.errors import ConfigError, RenderError
from newsletter.model import UNSUBSCRIBE_PLACEHOLDER, Entry, ItemKind
from newsletter.render import (GMAIL_CLIP_BYTES, EmailRenderer, email_problems, one_line, render_issue,
                               size_report)
from newsletter.render.email import DEFAULT_TEMPLATE_DIR
from newsletter.store import items as item_store
from newsletter.store import transaction

# 08:30 on Friday 19 July 2024 in Seoul, still the 18th in UTC
SEOUL_MORNING = datetime(2024, 7, 18, 23, 30, tzinfo=timezone.utc)
SITE = "https://news.example.com"
POSTAL = "서울특별시 중구 세종대로 110, AI 뉴스"
X_USER = b'{"data": {"id": "783214", "name": "Twitter", "username": "Twitter"}}'


def ticking_clock(start: datetime = SEOUL_MORNING):
    """A clock that moves one second per reading, so approvals have an order."""
    seconds = count()
    return lambda: start + timedelta(seconds=next(seconds))


def serve_fixtures(server) -> list[dict]:
    """Real payloads on loopback; returns the sources that collect them."""
    server.routes["/openai.xml"] = Route(fixture_bytes("feeds/openai-news-rss-2025-07-28.xml"), RSS)
    server.routes["/deepmind.xml"] = Route(fixture_bytes("feeds/google-deepmind-blog-rss-2025-07.xml"), RSS)
    server.routes["/rss/cs.CL"] = Route(fixture_bytes("arxiv/arxiv-listing-cs.CL-2024-07-19.rss.xml"), RSS)
    server.routes["/2/users/by/username/Twitter"] = Route(X_USER, "application/json")
    server.routes["/2/users/783214/tweets"] = Route(
        fixture_bytes("x/x-api-v2-users-783214-tweets-2022-10.json"), "application/json")
    return [
        {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": server.url("/openai.xml"), "section": "labs"},
        {"id": "deepmind", "kind": "feed", "name": "Google DeepMind", "url": server.url("/deepmind.xml"),
         "section": "labs"},
        {"id": "arxiv-cl", "kind": "arxiv", "name": "arXiv cs.CL", "categories": ["cs.CL"],
         "url": server.url("/rss/"), "section": "papers"},
        {"id": "x-twitter", "kind": "x", "name": "@Twitter", "handle": "Twitter", "api_url": server.url("/2"),
         "section": "x"},
    ]


def collected_app(tmp_path, server, *, render: dict | None = None, newsletter: dict | None = None):
    """An app on a real SQLite file holding everything the fixtures give, collected for real."""
    config = tmp_path / "sources.yaml"
    config.write_text(yaml.safe_dump({
        "newsletter": {"contact": "test@example.com", "site_url": SITE, "postal_address": POSTAL,
                       **(newsletter or {})},
        "render": render or {},
        "collect": {"connect_timeout": 2, "read_timeout": 2, "arxiv_interval": 0.05},
        "sources": serve_fixtures(server)}, allow_unicode=True), encoding="utf-8")
    app = build_app(tmp_path / "render.db", config, environ={"X_BEARER_TOKEN": "test-token"},
                    clock=ticking_clock())
    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
    with ThreadPoolExecutor(1) as thread:
        report = thread.submit(asyncio.run, app.collect()).result()
    assert {r.status.value for r in report.results} == {"ok"}, report.as_json()
    return app


def item_id(app, key: str = "", *, source: str = "", nth: int = 0) -> int:
    """An item by key, or the nth newest of a source."""
    if key:
        return item_store.get_item_by_key(app.conn, key).id
    return item_store.list_items(app.conn, source_id=source)[nth].id


# The curator's picks, in the order approved: mixed sections on purpose.
PICKS = (
    ("x:1577730467436138524", "", 0, "GIF와 영상을 한 게시물에 섞을 수 있게 된 변화", "x, 소셜"),
    ("arxiv:2407.13623", "", 0, "연산량에 따라 최적의 어휘 크기가 달라진다는 스케일링 법칙", "scaling-law, 토크나이저"),
    ("", "openai", 0, "보안 위협 대응을 백 배 빠르게 만든 에이전트 사례", "openai, 에이전트"),
    ("", "deepmind", 0, "역사학자를 돕는 모델이 비문을 복원하는 방식", "deepmind, 고고학"),
    ("arxiv:2407.13647", "", 0, "약한 감독자로 강한 모델의 추론을 끌어내는 방법", "추론, weak-to-strong"),
)


def approve_picks(app, picks=PICKS) -> list[int]:
    ids = []
    for key, source, nth, sentence, tags in picks:
        found = item_id(app, key, source=source, nth=nth)
        commentary = f"{sentence}. 핵심은 **{tags.split(',')[0]}** 입니다. [원문 보기](https://example.org/read/{found})"
        compose.approve_item(app.conn, found, app.clock(), commentary=commentary, tags=tags)
        ids.append(found)
    return ids


@pytest.fixture
def issue_app(tmp_path, server):
    app = collected_app(tmp_path, server)
    yield app
    app.close()


def positions(haystack: str, needles: list[str]) -> list[int]:
    found = []
    for needle in needles:
        assert needle in haystack, f"{needle!r} is missing"
        found.append(haystack.index(needle))
    return found


def test_every_approved_item_is_in_both_parts_in_section_then_curator_order(issue_app):
    app = issue_app
    approved = approve_picks(app)
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    assert issue.issue_date == date(2024, 7, 19) and issue.number == 1
    rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)

    # sections in newsletter.sections order (labs, papers, x), the curator's order within each
    x_post, paper_1, openai, deepmind, paper_2 = approved
    assert issue.item_ids == (openai, deepmind, paper_1, paper_2, x_post)
    items = compose.issue_items(app.conn, issue)
    for part, text in (("html", rendered.html), ("text", rendered.text)):
        titles = [item.display_title if item.kind is not ItemKind.X_POST else item.summary_text.split("\n")[0]
                  for item in items]
        if part == "html":
            titles = [str(escape(t)) for t in titles]
            links = [f'href="{escape(item.url)}"' for item in items]
        else:
            links = [f"   {item.url}\n" for item in items]
        assert positions(text, titles) == sorted(positions(text, titles)), part
        assert positions(text, links) == sorted(positions(text, links)), part
        sentences = [item.commentary.split(".")[0] for item in items]
        assert positions(text, sentences) == sorted(positions(text, sentences)), part
        for item in items:
            for tag in item.tags:
                assert f"#{tag}" in text, (part, tag)
        headings = positions(text, ["연구소 소식", "논문", "X에서"])
        assert headings == sorted(headings)
    # the Markdown subset: bold and links in HTML, readable in text
    assert "<strong>scaling-law</strong>" in rendered.html
    assert f'<a href="https://example.org/read/{paper_1}"' in rendered.html
    assert f"원문 보기 (https://example.org/read/{paper_1})" in rendered.text
    assert "**" not in rendered.text


def test_the_email_is_korean_dark_mode_ready_and_has_the_required_links(issue_app):
    app = issue_app
    approve_picks(app)
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)
    page = rendered.html

    assert re.search(r'<html lang="ko"', page)
    assert "Apple SD Gothic Neo" in page and "Malgun Gothic" in page and "Noto Sans KR" in page
    assert re.search(r"<!--\[if mso\]><style>[^<]*font-family:'Malgun Gothic'", page)  # Outlook override
    assert "word-break:keep-all" in page and "overflow-wrap:anywhere" in page
    assert '<meta name="color-scheme" content="light dark"' in page
    assert "prefers-color-scheme:dark" in page
    # hidden preheader, then the visible issue
    hidden = re.search(r'<div style="display:none;[^"]*">([^<]*)</div>', page)
    assert hidden and html.unescape(hidden[1]).strip() == rendered.preheader
    web = f"{SITE}/issues/2024-07-19/"
    assert f'<a href="{web}"' in page and "웹에서 보기" in page
    assert f'<a href="{UNSUBSCRIBE_PLACEHOLDER}"' in page and ">수신 거부</a>" in page
    assert POSTAL in page
    # text part: the same links as full URLs
    assert f"웹에서 보기: {web}" in rendered.text
    assert f"수신 거부: {UNSUBSCRIBE_PLACEHOLDER}" in rendered.text and POSTAL in rendered.text
    assert rendered.subject == "AI 뉴스 #1 — 2024년 7월 19일 (금)"
    assert rendered.text.startswith(rendered.subject + "\n")


def test_no_scripts_no_relative_links_and_every_image_has_alt_text(issue_app):
    app = issue_app
    approve_picks(app)
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    page = compose.render_stored_issue(app.settings, app.conn, issue, app.email).html
    assert email_problems(page) == []
    assert not re.search(r"<script", page, re.I)
    hrefs = re.findall(r'(?:href|src)="([^"]*)"', page)
    assert len(hrefs) > 15 and all(h.startswith(("https://", "http://")) for h in hrefs), hrefs
    images = re.findall(r"<img\b[^>]*>", page)
    assert all(re.search(r'alt="[^"]+"', img) for img in images), images


def test_the_checker_finds_what_would_make_an_email_unsafe():
    bad = ('<p><a href="/issues/2024-07-19/">rel</a><a href="javascript:alert(1)">js</a>'
           '<img src="https://a.test/x.png"><img src="https://a.test/y.png" alt="로고">'
           '<span onclick="x()">s</span><script>alert(1)</script><a href="mailto:a@b.c">m</a></p>')
    problems = email_problems(bad)
    assert len(problems) == 5, problems
    assert any("'/issues/2024-07-19/'" in p for p in problems)
    assert any("javascript:" in p for p in problems)
    assert any("x.png" in p and "alt" in p for p in problems)
    assert any("onclick" in p for p in problems) and any("<script>" in p for p in problems)


HOSTILE_TITLE = ("Breaking\r\nBcc: victim@example.com\r\n\r\n<script>alert('t')</script> "
                 "<img src=x onerror=alert(1)> " + "ㅋ" * 20 + "A" * 400)


def test_hostile_titles_commentary_and_subject_come_out_inert(issue_app):
    app = issue_app
    entry = Entry(key="https://evil.example/post", kind=ItemKind.POST, url="javascript:alert(document.cookie)",
                  title=HOSTILE_TITLE, summary_text="<b>not bold</b>\u202eevil\u202c", published=SEOUL_MORNING)
    with transaction(app.conn):
        item_store.upsert_entries(app.conn, "openai", [entry], SEOUL_MORNING)
    hostile = item_id(app, "https://evil.example/post")
    compose.approve_item(app.conn, hostile, app.clock(), tags="안전, <script>",
                         commentary='<script>alert(2)</script> [클릭](javascript:alert(3)) '
                                    '<a href="https://evil.example" onclick="x()">링크</a> **굵게**')
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    issue = compose.edit_issue(app.conn, issue, app.clock(), subject="속보\r\nBcc: all@example.com\x00 " + "가" * 300)
    rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)

    assert email_problems(rendered.html) == []
    assert "<script" not in rendered.html.lower() and not re.search(r"<[^>]*\son\w+=", rendered.html)
    # shown as the text it is
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;" in rendered.html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in rendered.html
    assert not re.search(r"(href|src)=\"\s*javascript:", rendered.html, re.I)
    assert "[클릭](javascript:alert(3))" in rendered.html and "<strong>굵게</strong>" in rendered.html
    assert 'onclick="x()"&gt;링크&lt;/a&gt;' in rendered.html  # typed HTML is text, not markup
    assert "\u202e" not in rendered.html and "\u202e" not in rendered.text
    # the subject is one safe header line, capped
    assert "\r" not in rendered.subject and "\n" not in rendered.subject and "\x00" not in rendered.subject
    assert rendered.subject.startswith("속보 Bcc: all@example.com 가") and len(rendered.subject) <= 150
    # in the text part the title is one line, and no header-looking line appears
    title_line = one_line(HOSTILE_TITLE, 300)
    assert f"1. {title_line}\n" in rendered.text
    assert not re.search(r"^Bcc:", rendered.text, re.M)


def test_subject_from_template_follows_the_local_date_and_numbers_follow_issues(issue_app):
    app = issue_app
    approve_picks(app)
    first = compose.build_issue(app.settings, app.conn, app.clock()).issue
    assert compose.render_stored_issue(app.settings, app.conn, first).subject == "AI 뉴스 #1 — 2024년 7월 19일 (금)"
    compose.mark_ready(app.settings, app.conn, first, app.clock())
    # the next morning's issue is #2 and dated Saturday
    second = compose.build_issue(app.settings, app.conn, SEOUL_MORNING + timedelta(days=1)).issue
    assert (second.issue_date, second.number) == (date(2024, 7, 20), 2)
    assert compose.render_stored_issue(app.settings, app.conn, second).subject == "AI 뉴스 #2 — 2024년 7월 20일 (토)"


def test_subject_template_mistake_names_the_field(issue_app):
    app = issue_app
    approve_picks(app)
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    settings = replace(app.settings, newsletter=replace(app.settings.newsletter,
                                                        subject_template="{title} #{numbr}"))
    with pytest.raises(ConfigError, match="newsletter.subject_template"):
        compose.render_stored_issue(settings, app.conn, issue)


def test_preheader_comes_from_the_first_items_and_stays_within_the_limit(issue_app):
    app = issue_app
    approve_picks(app)
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    first = compose.issue_items(app.conn, issue)[0]
    generated = compose.render_stored_issue(app.settings, app.conn, issue).preheader
    assert generated.startswith(first.display_title[:40]) and len(generated) <= 90
    issue = compose.edit_issue(app.conn, issue, app.clock(), preheader="오늘은 어휘 크기와 추론 이야기. " * 10)
    edited = compose.render_stored_issue(app.settings, app.conn, issue).preheader
    assert edited.startswith("오늘은 어휘 크기와 추론 이야기.") and len(edited) <= 90


def test_papers_show_a_few_authors_and_trim_long_abstracts_with_a_link(tmp_path, server):
    app = collected_app(tmp_path, server, render={"authors_shown": 2, "abstract_chars": 160})
    try:
        approve_picks(app, PICKS[1:2])
        issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
        rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)
    finally:
        app.close()
    assert "Chaofan Tao, Qian Liu 외 6명" in rendered.html and "Chaofan Tao, Qian Liu 외 6명" in rendered.text
    assert "Longxu Dou" not in rendered.html
    abstract = re.search(r"Research on scaling large language models[^<]*", rendered.html)[0]
    assert len(html.unescape(abstract).strip()) <= 160 and abstract.rstrip().endswith("…")
    assert '<a href="https://arxiv.org/abs/2407.13623">더 보기</a>' in rendered.html
    assert 'href="https://arxiv.org/pdf/2407.13623v1"' in rendered.html


def test_x_posts_are_static_quotes_with_author_handle_date_and_link(issue_app):
    app = issue_app
    approve_picks(app, PICKS[:1])
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)
    assert "<b>Twitter</b>" in rendered.html and "@Twitter" in rendered.html
    assert 'href="https://x.com/Twitter/status/1577730467436138524"' in rendered.html
    assert "2022년 10월 6일" in rendered.html  # 5 Oct 2022 in UTC, the 6th in Seoul
    assert '<a href="https://t.co/3OQ4eGsUku"' in rendered.html  # links in the post stay links
    assert "platform.twitter.com" not in rendered.html and "twitter-tweet" not in rendered.html
    assert "   > whoa, it works\n" in rendered.text
    assert "Twitter (@Twitter) · 2022년 10월 6일" in rendered.text


def thirty_korean_items(app) -> list[int]:
    """30 real items, approved with two or three sentences of Korean commentary each."""
    ids = [item.id for item in item_store.list_items(app.conn, source_id="arxiv-cl")[:12]]
    ids += [item.id for item in item_store.list_items(app.conn, source_id="openai")[:8]]
    ids += [item.id for item in item_store.list_items(app.conn, source_id="deepmind")[:8]]
    ids += [item.id for item in item_store.list_items(app.conn, source_id="x-twitter")[:2]]
    assert len(ids) == 30
    for n, found in enumerate(ids):
        compose.approve_item(app.conn, found, app.clock(), tags="언어모델, 평가, scaling-law",
                             commentary=f"{n + 1}번째 소식. 연산량에 따라 최적의 어휘 크기가 달라진다는 **스케일링 법칙**을 "
                                        "다룹니다. 실무에서 바로 참고할 만한 수치를 제시하며, 한국어 모델을 만드는 팀이라면 "
                                        "토크나이저 설정부터 다시 점검해 볼 만합니다.")
    return ids


def test_a_thirty_item_korean_issue_stays_under_90_kb(issue_app):
    app = issue_app
    thirty_korean_items(app)
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)
    assert len(issue.item_ids) == 30
    assert rendered.html.count("번째 소식") == 30 and rendered.text.count("번째 소식") == 30
    report = size_report(rendered.html)
    assert report.bytes < 90 * 1024 and report.status == "ok", report
    # and the meter does call out an issue Gmail would clip
    assert size_report(rendered.html * 2).status == "clipped" and GMAIL_CLIP_BYTES == 102 * 1024


def test_a_broken_template_is_a_render_error_naming_the_file(issue_app, tmp_path):
    app = issue_app
    approve_picks(app, PICKS[:2])
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    broken = tmp_path / "templates"
    broken.mkdir()
    for path in DEFAULT_TEMPLATE_DIR.rglob("*.j2"):
        target = broken / path.relative_to(DEFAULT_TEMPLATE_DIR)
        target.parent.mkdir(exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (broken / "items" / "paper.mjml.j2").write_text("{{ item.no_such_field }}", encoding="utf-8")
    with pytest.raises(RenderError, match=r"items/paper\.mjml\.j2") as caught:
        render_issue(issue, compose.issue_items(app.conn, issue), app.settings, EmailRenderer(broken))
    assert caught.value.issue_date == issue.issue_date


def test_the_editors_note_opens_both_parts(issue_app):
    app = issue_app
    approve_picks(app, PICKS[:2])
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    issue = compose.edit_issue(app.conn, issue, app.clock(),
                               note="오늘은 **어휘 크기** 이야기.\n\n다음 주는 휴간합니다. [공지](https://news.example.com/notice)")
    rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)
    assert "<strong>어휘 크기</strong> 이야기." in rendered.html
    assert '<a href="https://news.example.com/notice"' in rendered.html
    assert rendered.html.index("휴간합니다") < rendered.html.index("논문")
    note = "오늘은 어휘 크기 이야기.\n\n다음 주는 휴간합니다. 공지 (https://news.example.com/notice)"
    assert note in rendered.text and rendered.text.index(note) < rendered.text.index("■ 논문")
