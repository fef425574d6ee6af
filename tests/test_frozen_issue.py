"""What was marked ready is what goes out, and a started send keeps its audience: the send
snapshot (migration 6), the store refusing edits to items of a ready/sending/sent issue, a
re-fetch leaving them alone, and a send that died after its last message being finished."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from newsletter.flows import compose
from newsletter.errors import ItemError, MailError
from newsletter.model import Entry, IssueStatus, ItemKind, ItemStatus
from newsletter.flows.send import plan_send
from newsletter.store import connect, curation, deliveries, issues, items, snapshots, transaction
from newsletter.errors import ItemLocked
from support.apps import add_active, app_for, readers, ready_issue
from support.clock import MORNING as EDITOR_MORNING
from support.smtp import SmtpSink, korean_issue
from support.web import login

ISSUE_DAY = date(2024, 7, 19)
MORNING = datetime(2024, 7, 18, 23, 0, tzinfo=timezone.utc)  # 08:00 on the 19th in Seoul
PAST_DEADLINE = datetime(2024, 7, 19, 15, 0, 1, tzinfo=timezone.utc)  # 00:00:01 on the 20th in Seoul
PAPER = "arxiv:2407.13623"


def the_item(conn, issue):
    (item_id,) = issues.get_issue(conn, issue.id).item_ids
    return items.get_item(conn, item_id)


def refetch(conn, key: str, title: str, now) -> None:
    with transaction(conn):
        items.upsert_entries(conn, "arxiv-ai", [Entry(key=key, kind=ItemKind.PAPER, title=title,
                                                      url="https://arxiv.org/abs/2407.13623")], now)


# --- (1a) the snapshot: a resumed send mails what the first run froze ---------------------


def test_a_resumed_send_mails_the_stored_snapshot_not_a_fresh_render(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(12), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        first_render = korean_issue()

        def refuse_from_the_fifth(received):
            if sink.count >= 5:
                sink.sender_reply = "554 5.7.0 account suspended"

        sink.on_accept = refuse_from_the_fifth
        with pytest.raises(MailError):
            app.send_issue(issue, first_render)
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.SENDING
        stored = snapshots.get_snapshot(app.conn, issue)
        assert (stored.subject, stored.preheader, stored.html, stored.text) == (
            first_render.subject, first_render.preheader, first_render.html, first_render.text)

        sink.sender_reply, sink.on_accept = "", None
        changed_render = replace(korean_issue(items=2), subject="바뀐 제목: 보내면 안 되는 판")
        report = app.send_issue(issue, changed_render)
        assert report.status is IssueStatus.SENT and report.counts.sent == 12
        assert {r.message["Subject"] for r in sink.received} == {first_render.subject}
        assert sorted(r.rcpt_tos[0] for r in sink.received) == readers(12)
        app.close()


def test_the_snapshot_is_written_with_the_delivery_rows_before_the_first_message(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(3), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        seen = []

        def look(received):
            with connect(tmp_path / "mail.db") as other:  # another connection: only committed state
                seen.append((snapshots.get_snapshot(other, issue), deliveries.counts(other, issue.id).total))

        sink.on_accept = look
        app.send_issue(issue, korean_issue())
        assert seen[0][0] is not None and seen[0][0].subject == korean_issue().subject and seen[0][1] == 3
        app.close()


# --- (1b) the store refuses edits to an item of a ready / sending / sent issue ------------


def test_items_of_a_ready_issue_cannot_be_annotated_or_moved_but_a_draft_can(tmp_path):
    app = app_for(tmp_path, "mail", clock=lambda: MORNING)
    issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
    item = the_item(app.conn, issue)

    with pytest.raises(ItemLocked, match=rf"item {item.id}: is in the issue of 2024-07-19, which is ready") as caught:
        with transaction(app.conn):
            items.annotate(app.conn, item.id, MORNING, commentary="발송 직전에 바꾼 논평")
    assert isinstance(caught.value, ItemError)  # the faces answer every ItemError with a 409
    assert "back to draft" in str(caught.value)
    for status in (ItemStatus.REJECTED, ItemStatus.SNOOZED, ItemStatus.NEW, ItemStatus.PUBLISHED):
        with pytest.raises(ItemLocked):
            items.set_status(app.conn, item.id, status, MORNING)
    with pytest.raises(ItemLocked):
        curation.set_related_links(app.conn, item.id, [curation.RelatedLink("https://example.com/관련", "관련 글")])
    assert items.get_item(app.conn, item.id).related == ()
    with pytest.raises(ItemError, match="is in the issue of 2024-07-19, which is ready"):
        compose.approve_item(app.conn, item.id, MORNING, commentary="다시 승인하며 논평 변경")
    assert items.get_item(app.conn, item.id).commentary == "" and items.get_item(app.conn, item.id).status \
        is ItemStatus.APPROVED
    # approving what is already approved, with nothing to save, is not an edit
    assert compose.approve_item(app.conn, item.id, MORNING).status is ItemStatus.APPROVED

    compose.back_to_draft(app.conn, issue, MORNING)
    with transaction(app.conn):
        edited = items.annotate(app.conn, item.id, MORNING, commentary="초안이면 고칠 수 있다", tags=["한국어"])
    assert edited.commentary == "초안이면 고칠 수 있다" and edited.tags == ("한국어",)
    app.close()


def test_a_sent_issue_publishes_its_items_and_then_they_never_change(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(2), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        assert app.send_issue(issue, korean_issue()).status is IssueStatus.SENT  # the published move is allowed
        item = the_item(app.conn, issue)
        assert item.status is ItemStatus.PUBLISHED
        with pytest.raises(ItemLocked, match="which is sent: it cannot change"):
            with transaction(app.conn):
                items.annotate(app.conn, item.id, MORNING, title_override="보낸 뒤 바꾼 제목")
        assert items.get_item(app.conn, item.id).title_override is None
        app.close()


def test_the_editor_api_answers_409_with_the_reason_for_an_item_of_a_ready_issue(editor):
    ed = editor()
    with ed.client() as client:
        headers = {"X-CSRF-Token": login(client)}
        item_id = client.get("/api/items").json()["items"][0]["id"]
        client.post(f"/api/items/{item_id}/approve", headers=headers)
        with transaction(ed.app.conn):
            draft = issues.create_issue(ed.app.conn, date(2024, 7, 19), EDITOR_MORNING)
            issues.set_items(ed.app.conn, draft.id, [item_id], EDITOR_MORNING)
            issues.set_status(ed.app.conn, draft.id, IssueStatus.READY, EDITOR_MORNING)
        refused = client.post(f"/api/items/{item_id}/annotate", headers=headers,
                              json={"commentary": "준비된 호의 항목을 고치려는 시도"})
        assert refused.status_code == 409
        assert f"item {item_id}" in refused.json()["error"] and "2024-07-19" in refused.json()["error"]
    with ed.reader() as conn:
        assert items.get_item(conn, item_id).commentary == ""


# --- (1c) a re-fetch leaves items of non-draft issues and published items alone ----------


def test_a_refetch_refreshes_a_draft_items_title_but_not_one_promised_or_published(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(1), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        item = the_item(app.conn, issue)
        later = MORNING + timedelta(minutes=30)

        refetch(app.conn, item.key, "arXiv v2: 바뀐 제목", later)  # ready: frozen
        assert items.get_item(app.conn, item.id).title == item.title

        compose.back_to_draft(app.conn, issue, later)
        refetch(app.conn, item.key, "arXiv v2: 초안이라 바뀐 제목", later)  # draft: the source's wording wins
        assert items.get_item(app.conn, item.id).title == "arXiv v2: 초안이라 바뀐 제목"

        compose.mark_ready(app.settings, app.conn, issues.get_issue(app.conn, issue.id), later, app.email)
        app.send_issue(issue, korean_issue())
        refetch(app.conn, item.key, "arXiv v3: 발송 후 바뀐 제목", later + timedelta(hours=1))  # published
        assert items.get_item(app.conn, item.id).title == "arXiv v2: 초안이라 바뀐 제목"
        app.close()


# --- (2) a send that died after its last message; a resume keeps its audience -------------


def died_after_the_last_message(app, issue) -> None:
    """The state a process killed between the last mark_sent and finish_issue leaves."""
    with transaction(app.conn):
        app.conn.execute("UPDATE issues SET status = 'sending', sent = NULL WHERE id = ?", (issue.id,))
        app.conn.execute("UPDATE items SET status = 'approved' WHERE id IN "
                         "(SELECT item_id FROM issue_items WHERE issue_id = ?)", (issue.id,))


@pytest.mark.parametrize("how", ["send", "catch-up job"])
def test_a_send_that_died_after_its_last_message_is_finished_past_the_deadline_mailing_nobody(tmp_path, how):
    now = [MORNING]
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: now[0])
        add_active(app, readers(4), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        app.send_issue(issue, korean_issue())
        died_after_the_last_message(app, issue)
        assert sink.count == 4

        now[0] = PAST_DEADLINE
        add_active(app, ["newcomer@example.com"], PAST_DEADLINE)  # subscribed after the send
        plan = plan_send(app.conn, app.settings, issue, PAST_DEADLINE)
        assert plan.refusal == "" and plan.new_rows == 0 and plan.counts.pending == 0
        if how == "send":
            report = app.send_issue(issue, korean_issue())
            assert report.status is IssueStatus.SENT
        else:
            assert app.jobs.send(ISSUE_DAY).outcome == "ok"
        assert sink.count == 4 and not sink.to("newcomer@example.com")
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.SENT
        assert the_item(app.conn, issue).status is ItemStatus.PUBLISHED
        assert deliveries.counts(app.conn, issue.id).total == 4
        app.close()


def test_force_late_on_a_sending_issue_never_writes_rows_for_newcomers(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: PAST_DEADLINE)
        add_active(app, readers(3), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        app.send_issue(issue, korean_issue(), force_late=True)
        died_after_the_last_message(app, issue)
        add_active(app, ["newcomer@example.com"], PAST_DEADLINE)
        app.send_issue(issue, korean_issue(), force_late=True)
        assert sink.count == 3 and not sink.to("newcomer@example.com")
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.SENT
        app.close()


def test_a_resume_after_a_new_subscriber_became_active_does_not_mail_the_newcomer(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(10), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)

        def refuse_from_the_fourth(received):
            if sink.count >= 4:
                sink.sender_reply = "554 5.7.0 account suspended"

        sink.on_accept = refuse_from_the_fourth
        with pytest.raises(MailError):
            app.send_issue(issue, korean_issue())
        assert deliveries.counts(app.conn, issue.id).pending > 0

        add_active(app, ["newcomer@example.com"], MORNING + timedelta(minutes=5))
        sink.sender_reply, sink.on_accept = "", None
        assert plan_send(app.conn, app.settings, issue, MORNING).new_rows == 0
        report = app.send_issue(issue, korean_issue())
        assert report.status is IssueStatus.SENT and report.counts.sent == 10
        assert sorted(r.rcpt_tos[0] for r in sink.received) == readers(10)
        assert not sink.to("newcomer@example.com")
        app.close()


def test_once_its_send_started_an_issue_renders_as_its_snapshot_everywhere(tmp_path):
    """The composer preview, `send --test-to` and the scheduler's resume all go through
    render_stored_issue: after the send started they must show what subscribers got."""
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(2), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        sent_as = korean_issue()
        app.send_issue(issue, sent_as)
        sent = issues.get_issue(app.conn, issue.id)
        shown = compose.render_stored_issue(app.settings, app.conn, sent, app.email)
        assert (shown.subject, shown.preheader, shown.html, shown.text) == (
            sent_as.subject, sent_as.preheader, sent_as.html, sent_as.text)
        app.close()
