"""Sending an issue through a real SMTP server on loopback (aiosmtpd): failures, retries, the
headers of every message on the wire, unsubscribing during a send, deadlines, resuming."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from newsletter.errors import MailError, SendRefused
from newsletter.model import UNSUBSCRIBE_PLACEHOLDER, DeliveryStatus, IssueStatus, ItemStatus, SubscriberStatus
from newsletter.flows.send import plan_send, send_issue, send_test
from newsletter.store import connect, deliveries, issues, items, runs, subscribers
from newsletter.flows.subscribe import LinkOutcome
from support.apps import add_active, app_for, ready_issue
from support.smtp import SmtpSink, korean_issue

ISSUE_DAY = date(2024, 7, 19)
MORNING = datetime(2024, 7, 18, 23, 0, tzinfo=timezone.utc)  # 08:00 on the 19th in Seoul


class FakeTime:
    """A clock that only moves when the loop sleeps, so backoff is observable without waiting."""

    def __init__(self, start: datetime):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


def readers(n: int) -> list[str]:
    return [f"reader{i:03d}@example.com" for i in range(n)]


def unsubscribe_url_of(received) -> str:
    return received.message["List-Unsubscribe"].strip()[1:-1]


def test_transient_failures_are_retried_permanent_ones_marked_failed_the_rest_unaffected(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING, mail={"max_attempts": 4})
        add_active(app, readers(40), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        sink.fail("reader001@example.com", "451 4.7.1 greylisted", "421 4.4.2 busy, try later")
        sink.fail("reader002@example.com", "drop", "drop")
        sink.fail("reader003@example.com", "550 5.1.1 그런 사용자 없음 (no such user)")
        sink.fail("reader004@example.com", "data:554 5.7.1 message refused")
        sink.fail("reader005@example.com", *["451 4.3.0 still busy"] * 10)

        report = app.send_issue(issue, korean_issue())

        rows = {d.email: d for d in deliveries.list_for_issue(app.conn, issue.id)}
        assert len(sink.to("reader001@example.com")) == 1 and rows["reader001@example.com"].attempts == 3
        # "no such user" (5.1.1 to RCPT) bounces the address; a refused message does not
        gone = subscribers.get_by_email(app.conn, "reader003@example.com")
        assert (gone.status, gone.how) == (SubscriberStatus.BOUNCED, "bounce")
        assert subscribers.get_by_email(app.conn, "reader004@example.com").status is SubscriberStatus.ACTIVE
        assert subscribers.get_by_email(app.conn, "reader005@example.com").status is SubscriberStatus.ACTIVE
        assert len(sink.to("reader002@example.com")) == 1 and rows["reader002@example.com"].attempts == 3
        assert rows["reader003@example.com"].status is DeliveryStatus.FAILED
        assert rows["reader003@example.com"].last_reply == "550 5.1.1 그런 사용자 없음 (no such user)"
        assert rows["reader004@example.com"].status is DeliveryStatus.FAILED
        assert rows["reader004@example.com"].last_reply == "554 5.7.1 message refused"
        assert rows["reader005@example.com"].status is DeliveryStatus.FAILED
        assert rows["reader005@example.com"].last_reply == "gave up after 4 attempts: 451 4.3.0 still busy"
        assert sink.attempts["reader005@example.com"] == 4
        for address in ("reader003@example.com", "reader004@example.com", "reader005@example.com"):
            assert sink.to(address) == []
        for address in readers(40)[6:] + ["reader000@example.com"]:  # the rest: exactly one each
            assert len(sink.to(address)) == 1 and rows[address].status is DeliveryStatus.SENT
            assert rows[address].attempts == 1 and rows[address].last_reply.startswith("250")
        assert (report.counts.sent, report.counts.failed, report.counts.pending) == (37, 3, 0)
        assert {email for email, _ in report.failures} == {f"reader00{n}@example.com" for n in (3, 4, 5)}
        assert report.status is IssueStatus.SENT  # nothing pending: the issue is done
        (run,) = runs.recent_runs(app.conn, "send")
        assert run["outcome"] == "partial" and run["detail"]["failed"] == 3
        app.close()


def test_backoff_doubles_between_attempts(tmp_path):
    fake = FakeTime(MORNING)
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=fake, mail={"retry_base_seconds": 2.0, "max_attempts": 5})
        add_active(app, ["kim@example.com"], MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        sink.fail("kim@example.com", "451 a", "451 b", "451 c")
        with app.smtp_pool() as pool:
            send_issue(app.conn, app.settings, issue, pool, app.tokens, rendered=korean_issue(), clock=fake,
                       sleep=fake.sleep)
        assert fake.sleeps == [2.0, 4.0, 8.0]
        assert len(sink.to("kim@example.com")) == 1
        app.close()


def test_every_message_on_the_wire_parses_into_text_and_html_with_the_required_headers(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        addresses = readers(12) + ["Kim.MinJi@Example.COM", "lee@한국.kr"]
        add_active(app, addresses, MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        app.send_issue(issue, korean_issue())

        rows = {d.email: d for d in deliveries.list_for_issue(app.conn, issue.id)}
        assert set(rows) == {a.lower() for a in readers(12)} | {"kim.minji@example.com", "lee@xn--3e0b707e.kr"}
        assert sink.count == len(rows)
        for received in sink.received:
            (recipient,) = received.rcpt_tos
            assert received.mail_from == "news@example.com"
            assert all(len(line) <= 998 for line in received.data.split(b"\r\n"))
            message = received.message
            assert message.get_content_type() == "multipart/alternative"
            text, html = (part.get_content() for part in message.iter_parts())
            assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
            assert message["Subject"] == "AI 뉴스 #12 — 2024년 7월 19일 (금): 어휘 크기의 스케일링 법칙"
            assert message["From"].addresses[0].display_name == "AI 뉴스 편집부"
            assert message["From"].addresses[0].addr_spec == "news@example.com"
            assert [a.addr_spec for a in message["To"].addresses] == [recipient]
            assert message["Date"].datetime == MORNING
            assert message["Message-ID"] == rows[recipient].message_id
            assert re.fullmatch(r"<2024-07-19\.n1\.\d+@example\.com>", message["Message-ID"])
            assert message["List-Id"] == "AI 뉴스 <newsletter.news.example.com>"
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            url = unsubscribe_url_of(received)
            assert url.startswith("https://news.example.com/unsubscribe/")
            assert url in text and f'href="{url}"' in html  # the visible link is the same one
            assert UNSUBSCRIBE_PLACEHOLDER not in text + html
            assert "연산량에 따라 최적의 Vocabulary 수에 대한 Scaling Law" in text and "#한국어" in html
        tokens = {unsubscribe_url_of(r) for r in sink.received}
        assert len(tokens) == len(rows)  # one link per subscriber
        app.close()


def test_one_click_unsubscribe_through_the_function_the_post_route_calls(tmp_path):
    # RFC 8058: a mail client POSTs List-Unsubscribe=One-Click to the header's URL, no cookie.
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, ["kim@example.com", "lee@example.com"], MORNING)
        app.send_issue(ready_issue(app.conn, ISSUE_DAY, MORNING), korean_issue())
        token = unsubscribe_url_of(sink.to("kim@example.com")[0]).rsplit("/", 1)[1]
        subs = app.subscriptions
        later = MORNING + timedelta(hours=3)

        seen = subs.check_unsubscribe(token, later)  # what GET calls: it only looks
        assert seen.outcome is LinkOutcome.VALID and seen.subscriber.email == "kim@example.com"
        assert subscribers.get_by_email(app.conn, "kim@example.com").status is SubscriberStatus.ACTIVE

        done = subs.unsubscribe(token, later, how="one-click")  # what POST calls
        assert done.outcome is LinkOutcome.DONE
        kim = subscribers.get_by_email(app.conn, "kim@example.com")
        assert kim.status is SubscriberStatus.UNSUBSCRIBED and kim.how == "one-click" and kim.changed == later
        assert subs.unsubscribe(token, later + timedelta(minutes=1), how="one-click").outcome is LinkOutcome.ALREADY
        assert subscribers.history(app.conn, kim.id)[-1].at == later  # the repeat changed nothing
        assert subscribers.get_by_email(app.conn, "lee@example.com").status is SubscriberStatus.ACTIVE
        app.close()


def test_someone_who_unsubscribes_during_a_send_gets_nothing_more(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING, mail={"pool_size": 2})
        add_active(app, readers(120), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        leaver = subscribers.get_by_email(app.conn, "reader100@example.com")
        token = app.subscriptions.unsubscribe_url(leaver).rsplit("/", 1)[1]
        web = connect(tmp_path / "mail.db")  # the web app's own connection, as in production

        def unsubscribe_when_reader010_is_accepted(received):
            if received.rcpt_tos == ("reader010@example.com",):
                assert app.subscriptions_on(web).unsubscribe(token, MORNING, how="one-click").ok

        sink.on_accept = unsubscribe_when_reader010_is_accepted
        report = app.send_issue(issue, korean_issue())

        assert sink.to("reader100@example.com") == []
        assert report.this_run.skipped == 1 and report.counts.sent == 119 and report.counts.pending == 0
        assert "reader100@example.com" not in {d.email for d in deliveries.list_for_issue(app.conn, issue.id)}
        assert report.status is IssueStatus.SENT
        web.close()
        app.close()


def test_delivery_rows_exist_for_every_subscriber_before_the_first_message(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(30), MORNING)
        app.subscriptions.subscribe("pending@example.com", "198.51.100.7", "", MORNING)  # never confirmed
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        observer = connect(tmp_path / "mail.db")
        seen: list[tuple[int, str]] = []

        def look(received):
            if not seen and received.rcpt_tos != ("pending@example.com",):
                rows = observer.execute("SELECT count(*) FROM deliveries WHERE issue_id = ?", (issue.id,))
                status = observer.execute("SELECT status FROM issues WHERE id = ?", (issue.id,)).fetchone()[0]
                seen.append((rows.fetchone()[0], status))

        sink.on_accept = look
        app.send_issue(issue, korean_issue())
        assert seen == [(30, "sending")]  # all 30 active, not the pending one, before message one
        assert len(sink.to("pending@example.com")) == 1  # only its opt-in mail
        assert "구독 확인" in sink.to("pending@example.com")[0].message["Subject"]
        observer.close()
        app.close()


def test_no_send_starts_after_the_deadline_unless_forced(tmp_path):
    late = datetime(2024, 7, 19, 15, 0, 1, tzinfo=timezone.utc)  # 00:00:01 on the 20th in Seoul
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: late)
        add_active(app, readers(3), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        plan = plan_send(app.conn, app.settings, issue, late)
        assert plan.deadline == datetime(2024, 7, 20, 0, 0, tzinfo=app.settings.newsletter.zone)
        assert "past its deadline (2024-07-20 00:00 KST)" in plan.refusal and plan.new_rows == 3
        with pytest.raises(SendRefused, match="past its deadline"):
            app.send_issue(issue, korean_issue())
        assert sink.count == 0 and deliveries.counts(app.conn, issue.id).total == 0
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.READY

        report = app.send_issue(issue, korean_issue(), force_late=True)
        assert report.counts.sent == 3 and sink.count == 3
        with pytest.raises(SendRefused, match="already sent"):
            app.send_issue(issue, korean_issue(), force_late=True)
        assert sink.count == 3
        app.close()


def test_the_deadline_is_configurable(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING, mail={"deadline_hours": 6.0})  # 06:00 KST
        add_active(app, readers(2), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        with pytest.raises(SendRefused, match="2024-07-19 06:00 KST"):
            app.send_issue(issue, korean_issue())
        assert sink.count == 0
        app.close()


def test_two_sends_of_one_issue_never_run_at_once(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(20), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        first_accepted, go_on = threading.Event(), threading.Event()

        def hold_the_first_send(received):
            first_accepted.set()
            go_on.wait(timeout=30)

        sink.on_accept = hold_the_first_send
        first = threading.Thread(target=app.send_issue, args=(issue, korean_issue()))
        first.start()
        assert first_accepted.wait(timeout=30)
        with pytest.raises(SendRefused, match="being sent by another process"):
            app.send_issue(issue, korean_issue())  # e.g. the scheduler while the curator sends
        sink.on_accept = None
        go_on.set()
        first.join(timeout=60)
        assert sorted(r.rcpt_tos[0] for r in sink.received) == readers(20)
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.SENT
        app.close()


def test_an_issue_with_nobody_to_send_to_stays_ready(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        app.subscriptions.subscribe("pending@example.com", "198.51.100.7", "", MORNING)  # not active
        with pytest.raises(SendRefused, match="no active subscribers"):
            app.send_issue(issue, korean_issue())
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.READY
        assert [r.rcpt_tos for r in sink.received] == [("pending@example.com",)]  # only its opt-in mail
        app.close()


def test_a_draft_is_never_sent(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(2), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        issues.set_status(app.conn, issue.id, IssueStatus.DRAFT, MORNING)
        with pytest.raises(SendRefused, match="is a draft"):
            app.send_issue(issue, korean_issue())
        assert sink.count == 0 and deliveries.counts(app.conn, issue.id).total == 0
        app.close()


def test_an_smtp_outage_leaves_the_rest_pending_and_a_second_run_finishes(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(25), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)

        def refuse_from_the_tenth(received):
            if sink.count >= 10:
                sink.sender_reply = "554 5.7.0 account suspended"

        sink.on_accept = refuse_from_the_tenth
        with pytest.raises(MailError, match="refused our sender news@example.com: 554"):
            app.send_issue(issue, korean_issue())
        first = deliveries.counts(app.conn, issue.id)
        assert first.sent == sink.count and first.failed == 0 and first.sent + first.pending == 25
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.SENDING
        assert runs.recent_runs(app.conn, "send")[0]["outcome"] == "failed"

        sink.sender_reply, sink.on_accept = "", None
        report = app.send_issue(issue, korean_issue())
        assert report.counts.sent == 25 and report.status is IssueStatus.SENT
        assert sorted(r.rcpt_tos[0] for r in sink.received) == readers(25)  # nobody twice
        (item_id,) = issues.get_issue(app.conn, issue.id).item_ids
        assert items.get_item(app.conn, item_id).status is ItemStatus.PUBLISHED
        app.close()


def test_header_injection_through_settings_and_subject_never_reaches_the_wire(tmp_path):
    evil = "\r\nBcc: victim@evil.example\r\nX-Injected: yes"
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING,
                      newsletter={"title": "AI 뉴스" + evil, "sender_name": "편집부" + evil})
        add_active(app, ["kim@example.com"], MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        rendered = korean_issue()
        rendered = type(rendered)(**{**rendered.__dict__, "subject": rendered.subject + evil})
        app.send_issue(issue, rendered)
        (received,) = sink.received
        assert received.rcpt_tos == ("kim@example.com",)
        head = received.data.split(b"\r\n\r\n", 1)[0]
        assert not re.search(rb"\r\n(Bcc|X-Injected):", head, re.IGNORECASE)
        message = received.message
        assert message["Bcc"] is None and message["X-Injected"] is None
        assert message["From"].addresses[0].display_name.startswith("편집부 Bcc: victim")  # made harmless text
        app.close()


def test_a_test_send_goes_to_one_address_and_changes_nothing(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, clock=lambda: MORNING)
        add_active(app, readers(5), MORNING)
        issue = ready_issue(app.conn, ISSUE_DAY, MORNING)
        issues.set_status(app.conn, issue.id, IssueStatus.DRAFT, MORNING)  # the composer tests drafts
        with app.smtp_pool(size=1) as pool:
            reply = send_test(app.conn, app.settings, korean_issue(), pool, app.tokens, "Curator@Example.com",
                              now=MORNING)
        assert reply.startswith("250")
        (received,) = sink.received
        assert received.rcpt_tos == ("curator@example.com",)
        assert received.message["Subject"].startswith("[테스트] AI 뉴스 #12")
        assert deliveries.counts(app.conn, issue.id).total == 0
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.DRAFT
        token = unsubscribe_url_of(received).rsplit("/", 1)[1]
        assert app.subscriptions.unsubscribe(token, MORNING).outcome is LinkOutcome.INVALID  # not a subscriber
        app.close()
