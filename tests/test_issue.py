"""The issue model: built from approved items, rebuilt without losing the curator's work,
reordered, edited, and moved through draft -> ready -> sending -> sent."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest

from newsletter.flows import compose
from newsletter.errors import IssueError, ItemError
from newsletter.model import IssueStatus, ItemStatus
from newsletter.store import curation
from newsletter.store import issues as issue_store
from newsletter.store import items as item_store
from newsletter.store import transaction
from support.apps import item_id
from support.clock import SEOUL_MORNING
from support.issues import approve_picks


def build(app, when=None, issue_date=None):
    return compose.build_issue(app.settings, app.conn, when or app.clock(), issue_date)


def rendered_titles(app, issue) -> list[str]:
    """Item titles in the order the email shows them."""
    page = compose.render_stored_issue(app.settings, app.conn, issue, app.email).text
    items = compose.issue_items(app.conn, issue)
    return sorted((item.display_title for item in items), key=lambda title: page.index(title[:30]))


def test_the_issue_takes_the_local_date_and_the_picks_order_of_the_editor_queue(issue_app):
    app = issue_app
    x_post, paper_1, openai, deepmind, paper_2 = approve_picks(app)
    # the curator ordered their picks in the queue: the second paper first, DeepMind before OpenAI
    with transaction(app.conn):
        curation.set_pick_order(app.conn, [paper_2, deepmind])
    # and one item was approved by something that knows nothing of picks
    elsewhere = item_id(app, source="openai", nth=4)
    item_store.set_status(app.conn, elsewhere, ItemStatus.APPROVED, app.clock())
    result = build(app, SEOUL_MORNING)
    assert result.created and result.issue.issue_date == date(2024, 7, 19)  # still the 18th in UTC
    assert result.issue.status is IssueStatus.DRAFT and result.issue.number == 1
    # sections in configured order; within each, the picks order, then items without a pick
    assert result.issue.item_ids == (deepmind, openai, elsewhere, paper_2, paper_1, x_post)


def test_rebuilding_keeps_the_curators_arrangement_adds_new_approvals_and_drops_rejections(issue_app):
    app = issue_app
    x_post, paper_1, openai, deepmind, paper_2 = approve_picks(app)
    issue = build(app).issue
    issue = compose.arrange_issue(app.conn, issue, [deepmind, openai, paper_2, paper_1, x_post], app.clock())
    late = item_id(app, source="openai", nth=3)
    compose.approve_item(app.conn, late, app.clock(), commentary="늦게 승인한 소식", tags="늦은-소식")
    item_store.set_status(app.conn, paper_2, ItemStatus.NEW, app.clock())  # un-approved in the queue

    result = build(app)
    assert not result.created and result.added == (late,) and result.dropped == (paper_2,)
    assert result.issue.item_ids == (deepmind, openai, late, paper_1, x_post)
    again = build(app)
    assert again.added == () and again.dropped == () and again.issue.item_ids == result.issue.item_ids


def test_reordering_and_removing_change_what_the_email_shows(issue_app):
    app = issue_app
    x_post, paper_1, openai, deepmind, paper_2 = approve_picks(app)
    issue = build(app).issue
    before = rendered_titles(app, issue)
    issue = compose.arrange_issue(app.conn, issue, [deepmind, openai, paper_2, paper_1, x_post], app.clock())
    after = rendered_titles(app, issue)
    assert after[:4] == [before[1], before[0], before[3], before[2]]
    issue = compose.remove_from_issue(app.conn, issue, openai, app.clock())
    page = compose.render_stored_issue(app.settings, app.conn, issue, app.email).html
    assert item_store.get_item(app.conn, openai).display_title not in page
    assert item_store.get_item(app.conn, openai).status is ItemStatus.APPROVED  # still approved
    with pytest.raises(ItemError, match="only approved items"):
        compose.arrange_issue(app.conn, issue, [*issue.item_ids, item_id(app, source="openai", nth=5)],
                              app.clock())
    with pytest.raises(IssueError, match="listed twice"):
        compose.arrange_issue(app.conn, issue, [deepmind, deepmind], app.clock())
    assert issue_store.get_issue(app.conn, issue.id).item_ids == issue.item_ids  # nothing lost


def test_states_draft_ready_sending_sent_and_what_each_allows(issue_app):
    app = issue_app
    empty = build(app).issue
    with pytest.raises(IssueError, match="no items"):
        compose.mark_ready(app.settings, app.conn, empty, app.clock(), app.email)
    approve_picks(app)
    issue = build(app).issue
    issue = compose.edit_issue(app.conn, issue, app.clock(), subject="오늘의 AI 뉴스", note="**편집자** 노트")
    ready = compose.mark_ready(app.settings, app.conn, issue, app.clock(), app.email)
    assert ready.status is IssueStatus.READY
    # what the curator marked ready is what goes out: no edits, no rebuild, no reorder
    with pytest.raises(IssueError, match="back to draft"):
        compose.edit_issue(app.conn, ready, app.clock(), subject="바뀐 제목")
    with pytest.raises(IssueError, match="back to draft"):
        build(app)
    with pytest.raises(IssueError, match="only a draft"):
        compose.arrange_issue(app.conn, ready, list(reversed(ready.item_ids)), app.clock())
    with pytest.raises(ItemError, match="put that issue back to draft"):
        compose.reject_item(app.conn, ready.item_ids[0], app.clock())
    draft = compose.back_to_draft(app.conn, ready, app.clock())
    assert draft.status is IssueStatus.DRAFT and draft.subject == "오늘의 AI 뉴스"
    ready = compose.mark_ready(app.settings, app.conn, draft, app.clock(), app.email)
    with transaction(app.conn):
        sending = issue_store.set_status(app.conn, ready.id, IssueStatus.SENDING, app.clock())
    with pytest.raises(IssueError, match="is sending; it cannot become draft"):
        compose.back_to_draft(app.conn, sending, app.clock())
    with transaction(app.conn):
        sent = issue_store.set_status(app.conn, ready.id, IssueStatus.SENT, app.clock())
    assert sent.sent is not None
    with pytest.raises(IssueError, match="is sent"):
        compose.edit_issue(app.conn, sent, app.clock(), note="고침")
    with pytest.raises(IssueError, match="only a draft"):
        compose.delete_draft(app.conn, sent)


def test_mark_ready_refuses_items_no_longer_approved(issue_app):
    app = issue_app
    approve_picks(app)
    issue = build(app).issue
    item_store.set_status(app.conn, issue.item_ids[0], ItemStatus.SNOOZED, app.clock())  # from the queue
    with pytest.raises(IssueError, match=rf"no longer approved: {issue.item_ids[0]} \(snoozed\)"):
        compose.mark_ready(app.settings, app.conn, issue, app.clock(), app.email)
    assert issue_store.get_issue(app.conn, issue.id).status is IssueStatus.DRAFT


def test_rejecting_an_item_takes_it_out_of_the_draft(issue_app):
    app = issue_app
    x_post, *_ = approve_picks(app)
    issue = build(app).issue
    compose.reject_item(app.conn, x_post, app.clock())
    assert x_post not in issue_store.get_issue(app.conn, issue.id).item_ids
    assert item_store.get_item(app.conn, x_post).status is ItemStatus.REJECTED


def test_approve_saves_commentary_and_tags_and_refuses_unknown_or_published_items(issue_app):
    app = issue_app
    paper = item_id(app, "arxiv:2407.13623")
    item = compose.approve_item(app.conn, paper, app.clock(), commentary="어휘 크기의 **스케일링 법칙**",
                                tags="#Scaling-Law, 토크나이저 #토크나이저")
    assert item.status is ItemStatus.APPROVED and item.tags == ("scaling-law", "토크나이저")
    kept = compose.approve_item(app.conn, paper, app.clock())  # again, without changes
    assert kept.commentary == "어휘 크기의 **스케일링 법칙**" and kept.tags == item.tags
    with pytest.raises(ItemError, match="item 999999: no such item"):
        compose.approve_item(app.conn, 999999, app.clock())
    item_store.set_status(app.conn, paper, ItemStatus.PUBLISHED, app.clock())
    with pytest.raises(ItemError, match="cannot become approved") as caught:
        compose.approve_item(app.conn, paper, app.clock(), commentary="바뀐 해설")
    assert caught.value.item_id == paper
    assert item_store.get_item(app.conn, paper).commentary == "어휘 크기의 **스케일링 법칙**"  # nothing lost


def test_numbers_follow_dates_and_items_are_not_sent_twice(issue_app):
    app = issue_app
    approve_picks(app)
    first = build(app).issue
    compose.mark_ready(app.settings, app.conn, first, app.clock(), app.email)
    with pytest.raises(IssueError, match="must be dated after"):
        build(app, issue_date=date(2024, 7, 18))
    second = build(app, SEOUL_MORNING + timedelta(days=1)).issue
    # everything approved is committed to the ready issue of the 19th
    assert second.number == 2 and second.item_ids == ()
    late = item_id(app, source="deepmind", nth=2)
    compose.approve_item(app.conn, late, app.clock(), commentary="다음 호에 실릴 소식")
    assert build(app, SEOUL_MORNING + timedelta(days=1)).issue.item_ids == (late,)
    compose.delete_draft(app.conn, second)
    assert issue_store.get_issue_by_date(app.conn, date(2024, 7, 20)) is None
    assert item_store.get_item(app.conn, late).status is ItemStatus.APPROVED
    assert compose.find_issue(app.conn).issue_date == date(2024, 7, 19)
    with pytest.raises(IssueError, match="no such issue"):
        compose.find_issue(app.conn, date(2024, 7, 20))


def test_the_schema_keeps_one_issue_per_date_and_one_item_per_position(issue_app):
    app = issue_app
    approve_picks(app)
    issue = build(app).issue
    with pytest.raises(sqlite3.IntegrityError):
        app.conn.execute("INSERT INTO issues (issue_date, number, created, changed) VALUES "
                         "('2024-07-19', 9, '2024-07-19T00:00:00Z', '2024-07-19T00:00:00Z')")
    with pytest.raises(sqlite3.IntegrityError):
        app.conn.execute("INSERT INTO issue_items (issue_id, item_id, position) VALUES (?, ?, 0)",
                         (issue.id, item_id(app, source="openai", nth=7)))
    with pytest.raises(sqlite3.IntegrityError):
        app.conn.execute("UPDATE issues SET status = 'published' WHERE id = ?", (issue.id,))
