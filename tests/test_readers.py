"""What a reader sees of an item in both parts of the email and on the archive: the related
links the curator added, every author of a paper, links that read as links, a text part that
names its issue, plain links without tracking parameters, and nothing stray or hidden-but-spammy.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from newsletter.archive import build_archive
from newsletter.errors import IssueError
from newsletter.flows import compose
from newsletter.flows import send as sending
from newsletter.flows.curate import Edit
from newsletter.model import Entry, IssueStatus, ItemKind
from newsletter.sections import MANUAL_SOURCE
from newsletter.store import issues as issue_store
from newsletter.store import items as item_store
from newsletter.store import transaction
from support.apps import app_for, item_id
from support.clock import SEOUL_MORNING, ticking_clock
from support.config import SITE
from support.fixtures import serve_fixtures
from support.issues import PICKS, approve_picks, collected_app, publish

ROOT = Path(__file__).resolve().parent.parent

KARPATHY = "https://x.com/karpathy/status/1814038096218083497"
RELATED = f"{KARPATHY} Karpathy의 GPT-4o mini 설명\nhttps://github.com/openai/simple-evals?utm_source=newsletter&tab=1"
PAPER = PICKS[4]  # Weak-to-Strong Reasoning (arxiv:2407.13647)


def render(app, issue_date=None, subject=None):
    issue = compose.build_issue(app.settings, app.conn, app.clock(), issue_date).issue
    if subject:
        issue = compose.edit_issue(app.conn, issue, app.clock(), subject=subject)
    return compose.render_stored_issue(app.settings, app.conn, issue, app.email)


def test_related_links_sit_right_below_their_item_in_both_parts_and_on_the_archive(tmp_path, server):
    app = collected_app(tmp_path, server)
    try:
        [paper] = approve_picks(app, [PAPER])
        app.desk.apply_edit(None, paper, Edit(related=RELATED))
        rendered = render(app)
        publish(app, date(2024, 7, 19), [PAPER])
        build_archive(app.conn, app.settings, tmp_path / "site", app.clock(), templates=app.archive_templates)
    finally:
        app.close()
    page = rendered.html
    commentary, tags = page.index("약한 감독자로"), page.index("#추론")
    link = page.index(f'<a href="{KARPATHY}"')
    assert commentary < link < tags and "관련 링크" in page[commentary:tags]
    assert ">Karpathy의 GPT-4o mini 설명</a>" in page
    # no title: the link shows its host and path; the tracking parameter is gone, the rest kept
    assert '<a href="https://github.com/openai/simple-evals?tab=1" style="color:#0b57d0">github.com/openai/simple-evals</a>' in page

    text = rendered.text
    assert text.index("약한 감독자로") < text.index(f"- Karpathy의 GPT-4o mini 설명: {KARPATHY}") < text.index("#추론")
    assert "https://github.com/openai/simple-evals?tab=1" in text and "utm_source" not in text

    archived = (tmp_path / "site" / "issues" / "2024-07-19" / "index.html").read_text()
    assert f'<a href="{KARPATHY}">Karpathy의 GPT-4o mini 설명</a>' in archived
    assert "simple-evals?tab=1" in archived and "utm_source" not in archived


def test_a_paper_lists_every_author_by_default_and_folds_only_a_very_long_list(tmp_path, server):
    app = collected_app(tmp_path, server)
    try:
        approve_picks(app, PICKS[1:2])  # arxiv:2407.13623: eight authors
        rendered = render(app)
        many = Entry(key="arxiv:2407.99999", kind=ItemKind.PAPER, url="https://arxiv.org/abs/2407.99999",
                     title="대규모 공동 연구", authors=tuple(f"저자{n}" for n in range(1, 31)),
                     published=SEOUL_MORNING)
        with transaction(app.conn):
            item_store.upsert_entries(app.conn, "arxiv-cl", [many], SEOUL_MORNING)
        compose.approve_item(app.conn, item_id(app, "arxiv:2407.99999"), app.clock(), commentary="저자가 많은 논문")
        crowded = render(app, date(2024, 7, 20))
    finally:
        app.close()
    every = ("Chaofan Tao, Qian Liu, Longxu Dou, Niklas Muennighoff, Zhongwei Wan, Ping Luo, "
             "Min Lin, Ngai Wong")
    assert every in rendered.html and every in rendered.text and "외 " not in rendered.html
    assert "저자1, 저자2" in crowded.html and "저자20 외 10명" in crowded.html and "저자21" not in crowded.html


def test_titles_read_as_links_blue_and_underlined_in_light_mode(tmp_path, server):
    app = collected_app(tmp_path, server)
    try:
        approve_picks(app, PICKS[1:4])
        page = render(app).html
    finally:
        app.close()
    titles = re.findall(r'<div style="font-size:17px;font-weight:700;line-height:1.45"><a href="[^"]+" style="([^"]+)"', page)
    assert len(titles) == 3
    for style in titles:
        assert "color:#0b57d0" in style and "text-decoration:underline" in style


def test_with_a_custom_subject_the_text_part_still_opens_with_number_and_date(tmp_path, server):
    app = collected_app(tmp_path, server)
    try:
        approve_picks(app, [PAPER])
        rendered = render(app, subject="약한 모델이 강한 모델을 가르친다")
    finally:
        app.close()
    first, second = rendered.text.split("\n")[:2]
    assert first == "AI 뉴스 #1 — 2024년 7월 19일 (금)" and second == "약한 모델이 강한 모델을 가르친다"


def test_mailed_links_drop_tracking_parameters_from_the_feed(tmp_path, server):
    app = collected_app(tmp_path, server)
    try:
        post = Entry(key="https://openai.com/index/gpt-4o-mini/", kind=ItemKind.POST,
                     url="https://openai.com/index/gpt-4o-mini/?utm_source=rss&utm_medium=feed",
                     title="GPT-4o mini: 비용 효율적인 지능", published=SEOUL_MORNING)
        with transaction(app.conn):
            item_store.upsert_entries(app.conn, "openai", [post], SEOUL_MORNING)
        compose.approve_item(app.conn, item_id(app, post.key), app.clock(), commentary="작고 싼 모델")
        rendered = render(app)
    finally:
        app.close()
    assert 'href="https://openai.com/index/gpt-4o-mini/"' in rendered.html
    assert "utm_" not in rendered.html and "utm_" not in rendered.text
    assert "   https://openai.com/index/gpt-4o-mini/\n" in rendered.text


def test_the_hidden_preheader_has_no_colour_and_archive_pages_no_stray_pilcrow(tmp_path, server):
    app = collected_app(tmp_path, server)
    try:
        approve_picks(app, [PAPER])
        rendered = render(app)
        publish(app, date(2024, 7, 19), [PAPER])
        build_archive(app.conn, app.settings, tmp_path / "site", app.clock(), templates=app.archive_templates)
    finally:
        app.close()
    hidden = re.search(r'<div style="(display:none;[^"]*)">([^<]*)</div>', rendered.html)
    assert hidden and hidden[2].strip() == rendered.preheader
    # SpamAssassin's HTML_FONT_LOW_CONTRAST: hidden text coloured like the page it sits on
    assert "color" not in hidden[1] and "#ffffff;line-height:1px" not in rendered.html
    archived = (tmp_path / "site" / "issues" / "2024-07-19" / "index.html").read_text()
    assert "¶" not in archived and "#추론" in archived


def test_readers_see_a_sources_display_name_and_an_added_pages_site_name(tmp_path, server):
    sources = serve_fixtures(server)
    sources[0].update(name="OpenAI News (RSS, 운영자용 이름)", display_name="OpenAI")
    app = app_for(tmp_path, "render", clock=ticking_clock(), sources=sources)
    try:
        asyncio.run(app.collect())
        approve_picks(app, PICKS[2:3])  # the newest OpenAI post
        added = Entry(key="https://www.anthropic.com/news/claude-3-5-sonnet", kind=ItemKind.POST,
                      url="https://www.anthropic.com/news/claude-3-5-sonnet", title="Claude 3.5 Sonnet",
                      published=SEOUL_MORNING, meta={"via": "manual", "site_name": "Anthropic"})
        with transaction(app.conn):
            item_store.upsert_entries(app.conn, MANUAL_SOURCE, [added], SEOUL_MORNING)
        compose.approve_item(app.conn, item_id(app, added.key), app.clock(), commentary="직접 추가한 글")
        rendered = render(app)
    finally:
        app.close()
    for part in (rendered.html, rendered.text):
        assert "OpenAI · " in part and "Anthropic · " in part
        assert "운영자용" not in part and "직접 추가 ·" not in part


def test_the_shipped_placeholders_never_reach_a_reader(tmp_path, server):
    shipped = yaml.safe_load((ROOT / "sources.yaml").read_text(encoding="utf-8"))["newsletter"]
    app = app_for(tmp_path, "render", clock=ticking_clock(), sources=serve_fixtures(server),
                  newsletter={**shipped, "site_url": SITE})  # the operator set only the site
    try:
        asyncio.run(app.collect())
        approve_picks(app, [PAPER])
        issue = compose.build_issue(app.settings, app.conn, app.clock()).issue
        with pytest.raises(IssueError) as refused:
            compose.mark_ready(app.settings, app.conn, issue, app.clock(), app.email)
        with transaction(app.conn):  # as if it had been marked ready before the config changed
            issue_store.set_status(app.conn, issue.id, IssueStatus.READY, app.clock())
        plan = sending.plan_send(app.conn, app.settings, issue, app.clock())
    finally:
        app.close()
    message = str(refused.value)
    assert "예시 값 그대로" in message and "newsletter.sender_email (보내는 주소)" in message
    assert "newsletter.postal_address (우편 주소)" in message and "site_url" not in message
    assert plan.code is sending.Refusal.PLACEHOLDERS and plan.refusal == app.settings.newsletter.placeholder_refusal()
