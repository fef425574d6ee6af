"""Sending an issue from the composer: sends run in a background thread of their own, and the
composer shows how far they got.

    SendJobs                       one per web app (request.app.state.send_jobs); start() runs
                                   App.send_issue in a thread, so "send now" answers at once
    send_refusal(web, issue, jobs) '' or, in Korean, why "send now" cannot start now
    send_panel(web, jobs, issue)   what the composer's send controls show
    delivery_json(...)             the same counts for /api/issue/delivery (the page polls it)

App.send_issue opens its own database connection and takes the issue's send lock (a file lock
beside the database), so a send started here and one from the CLI or the scheduler never work
through the same rows; the crash-safety of newsletter/send.py holds whoever started it. If the
server stops mid-send, the rest stays pending and "send now" (or `newsletter send`) resumes it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import date, datetime

from ..app import App
from ..errors import ConfigError, NewsletterError, SendRefused
from ..flows import send as sending
from ..mail.smtp import parse_smtp_url
from ..model import Issue, IssueStatus
from ..store import subscribers as subscriber_store
from .core import Web

log = logging.getLogger("newsletter.web.send")


@dataclass(frozen=True)
class SendJob:
    issue_id: int
    issue_date: date
    started: datetime
    finished: datetime | None = None
    error: str = ""  # why it stopped early; the rows not sent stay pending
    report: sending.SendReport | None = None

    @property
    def running(self) -> bool:
        return self.finished is None


class SendJobs:
    """The sends this process started, by issue id (the latest one per issue)."""

    def __init__(self) -> None:
        self._jobs: dict[int, SendJob] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def get(self, issue_id: int) -> SendJob | None:
        with self._lock:
            return self._jobs.get(issue_id)

    def start(self, app: App, issue: Issue) -> SendJob:
        with self._lock:
            current = self._jobs.get(issue.id)
            if current is not None and current.running:
                raise SendRefused(f"issue {issue.issue_date} is being sent already", issue_id=issue.id)
            job = SendJob(issue_id=issue.id, issue_date=issue.issue_date, started=app.clock())
            self._jobs[issue.id] = job
            thread = threading.Thread(target=self._run, args=(app, issue), daemon=True,
                                      name=f"send-{issue.issue_date}")
            self._threads[issue.id] = thread
        thread.start()
        return job

    def _run(self, app: App, issue: Issue) -> None:
        report, error = None, ""
        try:
            report = app.send_issue(issue)
        except NewsletterError as e:  # refused, or the SMTP server became unusable: the rest stays pending
            error = str(e)
            log.warning("send of issue %s stopped: %s", issue.issue_date, e)
        except Exception as e:  # a bug must show on the composer, not vanish with the thread
            error = f"{type(e).__name__}: {e}"
            log.exception("send of issue %s failed", issue.issue_date)
        with self._lock:
            self._jobs[issue.id] = replace(self._jobs[issue.id], finished=app.clock(), error=error, report=report)

    def wait(self, issue_id: int, timeout: float | None = None) -> SendJob | None:
        """Block until this issue's send thread ends (for shutdown and tests)."""
        with self._lock:
            thread = self._threads.get(issue_id)
        if thread is not None:
            thread.join(timeout)
        return self.get(issue_id)

    def wait_all(self, timeout: float | None = None) -> None:
        """Block until every send thread started here has ended (or `timeout` each)."""
        with self._lock:
            issue_ids = list(self._threads)
        for issue_id in issue_ids:
            self.wait(issue_id, timeout)


def send_refusal(web: Web, issue: Issue, jobs: SendJobs, plan: sending.SendPlan | None = None) -> str:
    """'' if "send now" may start; else the reason, for the curator."""
    settings = web.settings
    setup = sending.mail_setup_refusal(settings)
    if setup is sending.Refusal.BAD_SMTP:
        try:
            parse_smtp_url(settings.smtp_url)
        except ConfigError as e:
            return f"{REFUSALS[setup]}: {e}"
    if setup is not None:
        return REFUSALS[setup]
    job = jobs.get(issue.id)
    if job is not None and job.running:
        return "이 호는 지금 발송 중입니다."
    plan = plan or sending.plan_send(web.conn, settings, issue, web.now())
    if plan.code is None:
        return ""
    if plan.code is sending.Refusal.PLACEHOLDERS:
        return settings.newsletter.placeholder_refusal()
    if plan.code is sending.Refusal.PAST_DEADLINE:
        local = plan.deadline.astimezone(web.zone).strftime("%Y-%m-%d %H:%M")
        return (f"발송 마감({local})이 지났습니다: 마감 뒤에는 발송을 시작하지 않습니다. 꼭 보내야 한다면 명령줄에서 "
                f"newsletter send --date {plan.issue.issue_date} --force-late 를 쓰세요.")
    return REFUSALS[plan.code]


# The curator's wording of flows.send.Refusal (the deadline's, with its time, is above).
REFUSALS = {
    sending.Refusal.NO_SMTP: "메일 서버가 설정되지 않았습니다: NEWSLETTER_SMTP_URL을 설정하고 편집기를 다시 시작하세요.",
    sending.Refusal.BAD_SMTP: "메일 서버 설정(NEWSLETTER_SMTP_URL)이 잘못되었습니다",
    sending.Refusal.NO_SECRET: "NEWSLETTER_SECRET이 설정되지 않아 수신 거부 링크를 만들 수 없습니다.",
    sending.Refusal.DRAFT: "아직 초안입니다: 먼저 '발송 준비됨으로 표시'를 누르세요.",
    sending.Refusal.SENT: "이미 발송된 호입니다.",
    sending.Refusal.NO_SUBSCRIBERS: "구독 중인 사람이 없습니다: 보낼 곳이 없습니다.",
}


@dataclass(frozen=True)
class SendPanel:
    issue: Issue  # as stored now
    report: sending.SendReport  # sent / failed / pending so far
    job: SendJob | None
    refusal: str
    recipients: int  # how many a send started now would mail
    active: int  # active subscribers
    deadline: str  # local time

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    @property
    def state(self) -> str:
        """idle | running | stopped (sending, rows pending, no send running) | done | failed"""
        counts = self.report.counts
        if self.running:
            return "running"
        if self.issue.status is IssueStatus.SENT:
            return "done"
        if self.job is not None and self.job.error:
            return "failed"
        if self.issue.status is IssueStatus.SENDING and counts.pending:
            return "stopped"
        return "idle"

    def as_json(self) -> dict:
        counts = self.report.counts
        return {"date": self.issue.issue_date.isoformat(), "number": self.issue.number,
                "status": self.issue.status.value, "state": self.state, "running": self.running,
                "error": self.job.error if self.job else "", **counts.as_json(), "total": counts.total,
                "failures": [{"email": email, "reply": reply} for email, reply in self.report.failures]}


def send_panel(web: Web, jobs: SendJobs, issue: Issue) -> SendPanel:
    report = sending.delivery_report(web.conn, issue)
    plan = sending.plan_send(web.conn, web.settings, issue, web.now())
    return SendPanel(issue=plan.issue, report=report, job=jobs.get(issue.id),
                     refusal=send_refusal(web, issue, jobs, plan), recipients=plan.new_rows + plan.counts.pending,
                     active=subscriber_store.counts(web.conn)["active"],
                     deadline=plan.deadline.astimezone(web.zone).strftime("%Y-%m-%d %H:%M"))
