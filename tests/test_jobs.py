"""The scheduled jobs (newsletter.flows.jobs) with an injected clock, a real SQLite file and a real SMTP
server on loopback: the send job's decisions, overlapping triggers, the archive rebuild, the
curator's notes and the source alerts."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta


from newsletter.model import IssueStatus
from newsletter.store import connect, issues, runs, transaction
from newsletter.store import alerts as alert_store
from newsletter.store import sources as source_store
from support.apps import add_active, app_for, readers, ready_issue
from support.clock import EIGHT_SEOUL, ISSUE_DAY, Clock
from support.config import DEAD_FEED, OPS_CONTACT
from support.smtp import SmtpSink

CURATOR = OPS_CONTACT


def send_runs(conn) -> list[dict]:
    return list(reversed(runs.recent_runs(conn, "send")))


def draft_issue(conn, day: date, now: datetime):
    with transaction(conn):
        return issues.create_issue(conn, day, now)


def test_a_ready_issue_goes_out_once_and_the_archive_is_rebuilt(tmp_path):
    clock = Clock(EIGHT_SEOUL)
    with SmtpSink() as sink:
        app = app_for(tmp_path, "ops", sink, clock=clock)
        add_active(app, readers(6), EIGHT_SEOUL)
        ready_issue(app.conn, ISSUE_DAY, EIGHT_SEOUL)

        result = app.jobs.send(ISSUE_DAY)

        assert (result.job, result.outcome) == ("send", "ok")
        assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(readers(6))
        assert issues.get_issue_by_date(app.conn, ISSUE_DAY).status is IssueStatus.SENT
        (send_run,) = send_runs(app.conn)
        assert send_run["outcome"] == "ok" and send_run["detail"]["sent"] == 6 and send_run["finished"]
        (archive_run,) = runs.recent_runs(app.conn, "archive")
        assert archive_run["outcome"] == "ok" and archive_run["detail"]["issues"] == 1
        page = app.archive_dir / "issues" / "2024-07-19" / "index.html"
        assert "Scaling Laws with Vocabulary" in page.read_text(encoding="utf-8")

        clock.advance(minutes=5)
        again = app.jobs.send(ISSUE_DAY)
        assert (again.outcome, again.reason) == ("skipped", "already sent")
        assert sink.count == 6  # nobody got a second copy, and the curator got no note
        assert [(r["outcome"], r["detail"].get("reason")) for r in send_runs(app.conn)] == [
            ("ok", None), ("skipped", "already sent")]
        app.close()


def test_a_draft_or_missing_issue_is_skipped_recorded_and_the_curator_told_in_korean(tmp_path):
    clock = Clock(EIGHT_SEOUL)
    with SmtpSink() as sink:
        app = app_for(tmp_path, "ops", sink, clock=clock)
        add_active(app, readers(3), EIGHT_SEOUL)

        nothing = app.jobs.send(ISSUE_DAY)  # no issue built at all
        draft_issue(app.conn, ISSUE_DAY, EIGHT_SEOUL)
        clock.advance(minutes=1)
        draft = app.jobs.send(ISSUE_DAY)

        assert [(r.outcome, r.reason) for r in (nothing, draft)] == [("skipped", "not ready")] * 2
        recorded = send_runs(app.conn)
        assert [(r["outcome"], r["detail"]["reason"], r["detail"]["status"], r["detail"]["by"]) for r in recorded] == [
            ("skipped", "not ready", None, "scheduler"), ("skipped", "not ready", "draft", "scheduler")]
        assert all(r["detail"]["curator_told"] and r["error"] is None and r["finished"] for r in recorded)
        # the two notes went to the curator, and nothing to any subscriber
        assert [r.rcpt_tos for r in sink.received] == [(CURATOR,), (CURATOR,)]
        first, second = (r.message for r in sink.received)
        assert first["Subject"] == "[AI 뉴스] 2024년 7월 19일 호 발송 안 됨: 준비되지 않음 (issue not sent: not ready)"
        text = first.get_body(("plain",)).get_content()
        assert "예약된 시각(08:00)에 보내지 않았습니다" in text and "아직 만들어지지 않았습니다" in text
        assert "not sent at its scheduled time (08:00 Asia/Seoul)" in text
        assert "마감은 2024-07-20 00:00" in text  # the default deadline: the end of the issue's day
        assert "#1 호가 아직 초안(draft) 상태입니다" in second.get_body(("plain",)).get_content()
        assert second.get_body(("html",)).get_content().count("초안(draft)") == 1
        assert issues.get_issue_by_date(app.conn, ISSUE_DAY).status is IssueStatus.DRAFT
        app.close()


def test_without_smtp_the_skip_is_still_recorded_with_why_the_curator_was_not_told(tmp_path):
    app = app_for(tmp_path, "ops", None, clock=Clock(EIGHT_SEOUL))
    result = app.jobs.send(ISSUE_DAY)
    assert (result.outcome, result.reason) == ("skipped", "not ready")
    (run,) = send_runs(app.conn)
    assert run["detail"]["curator_told"] is False
    assert run["error"].startswith("curator not told: ConfigError") and "NEWSLETTER_SMTP_URL" in run["error"]
    app.close()


def test_a_send_past_its_deadline_is_refused_with_the_reason(tmp_path):
    late = EIGHT_SEOUL + timedelta(days=1, hours=2)  # 10:00 on the 20th: the 19th's issue is too late
    with SmtpSink() as sink:
        app = app_for(tmp_path, "ops", sink, clock=Clock(late))
        add_active(app, readers(2), late)
        ready_issue(app.conn, ISSUE_DAY, EIGHT_SEOUL)
        result = app.jobs.send(ISSUE_DAY)
        assert result.outcome == "refused" and "past its deadline" in result.reason
        (run,) = send_runs(app.conn)
        assert run["outcome"] == "refused" and "past its deadline" in run["detail"]["reason"]
        assert sink.count == 0 and issues.get_issue_by_date(app.conn, ISSUE_DAY).status is IssueStatus.READY
        assert runs.recent_runs(app.conn, "archive") == []
        app.close()


def test_two_overlapping_triggers_send_each_subscriber_one_copy(tmp_path):
    with SmtpSink() as sink:
        app = app_for(tmp_path, "ops", sink, clock=Clock(EIGHT_SEOUL))
        add_active(app, readers(20), EIGHT_SEOUL)
        ready_issue(app.conn, ISSUE_DAY, EIGHT_SEOUL)
        finished = threading.Event()
        # Hold the server on the first message until the other job has finished: the two
        # runs overlap for certain, whichever thread gets to send.
        sink.on_accept = lambda received: finished.wait(20)
        start = threading.Barrier(2)
        results = []

        def trigger() -> None:
            start.wait()
            results.append(app.jobs.send(ISSUE_DAY))
            finished.set()

        threads = [threading.Thread(target=trigger) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert sorted(r.outcome for r in results) == ["ok", "refused"]
        refused = next(r for r in results if r.outcome == "refused")
        assert "being sent by another process" in refused.reason
        assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(readers(20))  # one copy each
        assert issues.get_issue_by_date(app.conn, ISSUE_DAY).status is IssueStatus.SENT
        assert sorted(r["outcome"] for r in send_runs(app.conn)) == ["ok", "refused"]
        assert len(runs.recent_runs(app.conn, "archive")) == 1
        app.close()


# --- source alerts ---------------------------------------------------------------------------


def fail(conn, source_id: str, at: datetime, error: str = "openai: HTTP 503 서비스 불가") -> None:
    with transaction(conn):
        source_store.record_failure(conn, source_id, "feed", at, error)


def test_a_source_failing_for_a_day_is_mailed_once_and_again_only_if_it_comes_back(tmp_path):
    clock = Clock(EIGHT_SEOUL)
    with SmtpSink() as sink:
        app = app_for(tmp_path, "ops", sink, clock=clock, sources=[DEAD_FEED])
        with transaction(app.conn):
            source_store.record_success(app.conn, "openai", "feed", EIGHT_SEOUL - timedelta(hours=30), new_items=3,
                                        etag=None, last_modified=None)
        fail(app.conn, "openai", EIGHT_SEOUL - timedelta(hours=2))

        first = app.jobs.check_alerts()
        assert first.outcome == "ok" and first.detail["mailed"] == 1
        (note,) = sink.received
        assert note.rcpt_tos == (CURATOR,) and "소스 점검 필요: openai" in note.message["Subject"]
        body = note.message.get_body(("plain",)).get_content()
        assert "openai: 하루 넘게 가져오지 못함" in body and "HTTP 503 서비스 불가" in body

        for _ in range(3):  # the next collects still see it: no more mail, no more alert runs
            clock.advance(hours=2)
            fail(app.conn, "openai", clock())
            assert app.jobs.check_alerts() is None
        assert sink.count == 1 and len(runs.recent_runs(app.conn, "alerts")) == 1
        (open_alert,) = alert_store.open_alerts(app.conn)
        assert "4 time(s)" in open_alert.message  # the wording is kept current

        clock.advance(hours=2)
        with transaction(app.conn):
            source_store.record_success(app.conn, "openai", "feed", clock(), new_items=1, etag=None,
                                        last_modified=None)
        assert app.jobs.check_alerts() is None and alert_store.open_alerts(app.conn) == []

        clock.advance(days=2)  # it breaks again, for more than a day: a new alert, a new mail
        fail(app.conn, "openai", clock() - timedelta(hours=1))
        assert app.jobs.check_alerts().detail["mailed"] == 1
        assert sink.count == 2
        app.close()


def test_an_alert_that_could_not_be_mailed_is_tried_after_the_next_collect(tmp_path):
    clock = Clock(EIGHT_SEOUL)
    app = app_for(tmp_path, "ops", None, clock=clock, sources=[DEAD_FEED])  # no SMTP configured yet
    fail(app.conn, "openai", EIGHT_SEOUL - timedelta(hours=26))
    fail(app.conn, "openai", EIGHT_SEOUL - timedelta(hours=1))
    runs_before = app.conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    failed = app.jobs.check_alerts()
    assert failed.outcome == "failed" and "NEWSLETTER_SMTP_URL" in failed.error
    assert app.conn.execute("SELECT count(*) FROM runs").fetchone()[0] == runs_before + 1
    (stored,) = alert_store.open_alerts(app.conn)
    assert stored.mailed is None and "NEWSLETTER_SMTP_URL" in stored.mail_error
    app.close()

    with SmtpSink() as sink:  # the operator sets NEWSLETTER_SMTP_URL and restarts
        clock.advance(hours=2)
        app = app_for(tmp_path, "ops", sink, clock=clock, sources=[DEAD_FEED])
        assert app.jobs.check_alerts().detail["mailed"] == 1
        assert [r.rcpt_tos for r in sink.received] == [(CURATOR,)]
        (stored,) = alert_store.open_alerts(app.conn)
        assert stored.mailed == clock() and stored.mail_error is None
        app.close()


def test_the_collect_job_collects_then_mails_the_new_alert(tmp_path):
    import asyncio

    clock = Clock(EIGHT_SEOUL)
    with SmtpSink() as sink:
        app = app_for(tmp_path, "ops", sink, clock=clock, sources=[DEAD_FEED])
        with transaction(app.conn):  # it last worked yesterday morning, and has failed since
            source_store.record_success(app.conn, "openai", "feed", EIGHT_SEOUL - timedelta(hours=25), new_items=2,
                                        etag=None, last_modified=None)
        fail(app.conn, "openai", EIGHT_SEOUL - timedelta(hours=23))

        result = asyncio.run(app.jobs.collect())  # the feed's port refuses: one more failure

        assert result.outcome == "failed" and result.detail["sources"][0]["status"] == "error"
        (collect_run,) = runs.recent_runs(app.conn, "collect")
        assert collect_run["outcome"] == "failed" and collect_run["finished"]
        assert source_store.all_health(app.conn)["openai"].consecutive_failures == 2
        (note,) = sink.received
        assert note.rcpt_tos == (CURATOR,) and "openai" in note.message["Subject"]
        with connect(tmp_path / "ops.db") as other:  # what another process sees
            assert other.execute("SELECT count(*) FROM source_alerts WHERE mailed IS NOT NULL").fetchone()[0] == 1
        app.close()
