"""Rendering the dated issue from real collected items: HTML (MJML) and text part.

The items come from the real fixtures collected through the loopback server, approved with
Korean commentary and tags the way a curator does it (support.issues; the conftest fixture
issue_app).
"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from markupsafe import escape

from newsletter.flows import compose
from newsletter.errors import ConfigError, RenderError
from newsletter.model import UNSUBSCRIBE_PLACEHOLDER, Entry, ItemKind
from newsletter.render import (GMAIL_CLIP_BYTES, EmailRenderer, email_problems, one_line, render_issue,
                               size_report)
from newsletter.config import TEMPLATES_DIR
from newsletter.store import items as item_store
from newsletter.store import transaction
from support.apps import item_id
from support.clock import SEOUL_MORNING
from support.config import POSTAL, SITE
from support.issues import HOSTILE_TITLE, PICKS, approve_picks, collected_app


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
    assert compose.render_stored_issue(app.settings, app.conn, first, app.email).subject == "AI 뉴스 #1 — 2024년 7월 19일 (금)"
    compose.mark_ready(app.settings, app.conn, first, app.clock(), app.email)
    # the next morning's issue is #2 and dated Saturday
    second = compose.build_issue(app.settings, app.conn, SEOUL_MORNING + timedelta(days=1)).issue
    assert (second.issue_date, second.number) == (date(2024, 7, 20), 2)
    assert compose.render_stored_issue(app.settings, app.conn, second, app.email).subject == "AI 뉴스 #2 — 2024년 7월 20일 (토)"


def test_subject_template_mistake_names_the_field(issue_app):
    app = issue_app
    approve_picks(app)
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    settings = replace(app.settings, newsletter=replace(app.settings.newsletter,
                                                        subject_template="{title} #{numbr}"))
    with pytest.raises(ConfigError, match="newsletter.subject_template"):
        compose.render_stored_issue(settings, app.conn, issue, app.email)


def test_preheader_comes_from_the_first_items_and_stays_within_the_limit(issue_app):
    app = issue_app
    approve_picks(app)
    issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
    first = compose.issue_items(app.conn, issue)[0]
    generated = compose.render_stored_issue(app.settings, app.conn, issue, app.email).preheader
    assert generated.startswith(first.display_title[:40]) and len(generated) <= 90
    issue = compose.edit_issue(app.conn, issue, app.clock(), preheader="오늘은 어휘 크기와 추론 이야기. " * 10)
    edited = compose.render_stored_issue(app.settings, app.conn, issue, app.email).preheader
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
    for path in (TEMPLATES_DIR / "email").rglob("*.j2"):
        target = broken / path.relative_to(TEMPLATES_DIR / "email")
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
