"""The jobs themselves; see the package docstring."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, Protocol

from .. import archive
from ..config import Settings
from ..errors import NewsletterError, SendRefused
from ..model import FetchOutcome, Issue, IssueStatus
from ..render import local_date
from ..store import alerts as alert_store
from ..store import issues as issue_store
from ..store import runs as run_store
from ..store import sources as source_store
from ..store import transaction
from . import job_notes as notes
from . import monitor
from .collecting import CollectReport
from .send import SendReport

log = logging.getLogger("newsletter.flows.jobs")

# A week of two-hourly collects plus manual ones: what the monitor looks back over.
ALERT_HISTORY_RUNS = 500
BY_SCHEDULER = "scheduler"  # detail.by of the runs a job writes itself


class MailPool(Protocol):
    """What a job needs to mail the curator: newsletter.mail.smtp.SmtpPool."""

    def send_message(self, message: EmailMessage) -> str: ...

    def close(self) -> None: ...


class IssueSender(Protocol):
    """App.send_issue: send or resume `issue` (on a connection of its own); raises SendRefused."""

    def __call__(self, issue: Issue) -> SendReport: ...


@dataclass(frozen=True)
class JobRun:
    """What one run of a job did, as recorded in the runs table."""

    job: str
    outcome: str  # ok | partial | failed | skipped | refused
    reason: str = ""  # why it was skipped or refused
    detail: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.outcome}: {self.reason}" if self.reason else self.outcome


@dataclass(frozen=True)
class Jobs:
    """The scheduled jobs over their dependencies (App.jobs builds it). `connect` opens a
    connection of the job's own: the send and archive jobs run in a worker thread, away from
    the web app's connection and event loop."""

    settings: Settings
    connect: Callable[[], sqlite3.Connection]
    collect_sources: Callable[[], Awaitable[CollectReport]]
    send_issue: IssueSender
    mail_pool: Callable[[], MailPool]
    archive_templates: archive.ArchiveTemplates
    archive_dir: Path
    clock: Callable[[], datetime]

    # --- collect ------------------------------------------------------------------------

    async def collect(self) -> JobRun:
        """Collect every active source (pipeline.collect_all records the run with each
        source's result), then check the sources' alerts."""
        try:
            report = await self.collect_sources()
        except Exception as e:  # the run log must say so, and the next run must still come
            log.exception("collect job failed")
            with closing(self.connect()) as conn:
                return self._record(conn, "collect", self.clock(), "failed", {}, error=_describe(e))
        await asyncio.to_thread(self.check_alerts)
        outcome = "failed" if report.all_failed else (
            "partial" if any(r.status is FetchOutcome.ERROR for r in report.results) else "ok")
        return JobRun("collect", outcome, detail=report.as_json())

    def check_alerts(self) -> JobRun | None:
        """Bring the stored alerts up to date with monitor.source_alerts and mail the curator
        about the ones not mailed yet (each alert once while it lasts; a failed mail is tried
        again after the next collect). Returns the recorded 'alerts' run, or None if there
        was nothing to tell."""
        with closing(self.connect()) as conn:
            now = self.clock()
            configured = {source.id for source in self.settings.sources}
            health = {k: v for k, v in source_store.all_health(conn).items() if k in configured}
            current = monitor.source_alerts(health, run_store.recent_runs(conn, "collect", ALERT_HISTORY_RUNS), now)
            with transaction(conn):
                still_open = alert_store.sync_alerts(conn, [(a.source_id, a.kind, a.message) for a in current], now)
            untold = [alert for alert in still_open if alert.mailed is None]
            if not untold:
                return None
            error = self._tell_curator(lambda: notes.alerts_note(self.settings, untold, now))
            with transaction(conn):
                if error:
                    alert_store.mark_mail_failed(conn, [a.id for a in untold], error)
                else:
                    alert_store.mark_mailed(conn, [a.id for a in untold], self.clock())
            detail = {"alerts": [alert.as_json() for alert in untold], "mailed": 0 if error else len(untold)}
            return self._record(conn, "alerts", now, "failed" if error else "ok", detail, error=error)

    # --- send ---------------------------------------------------------------------------

    def send(self, issue_date: date | None = None) -> JobRun:
        """Send the issue of `issue_date` (default: today in the newsletter's zone) if it is
        ready, or resume it if it is sending; otherwise record why not (and mail the curator
        if it is not ready). The issue's state, its delivery rows and the send lock decide:
        run it twice, at once or one after the other, and each subscriber gets one copy.
        After a send that finished the issue, the archive is rebuilt (its own run)."""
        with closing(self.connect()) as conn:
            return self._send(conn, issue_date or local_date(self.clock(), self.settings))

    def _send(self, conn: sqlite3.Connection, day: date) -> JobRun:
        started = self.clock()
        issue = issue_store.get_issue_by_date(conn, day)
        detail: dict[str, Any] = {"issue": day.isoformat()}
        if issue is None or issue.status is IssueStatus.DRAFT:
            detail["status"] = issue.status.value if issue else None
            error = self._tell_curator(lambda: notes.not_ready_note(self.settings, day, issue, started))
            detail["curator_told"] = error is None
            return self._record(conn, "send", started, "skipped", detail, reason="not ready", error=error)
        if issue.status is IssueStatus.SENT:
            return self._record(conn, "send", started, "skipped", detail, reason="already sent")
        last_run = run_store.last_run_id(conn)
        try:
            report = self.send_issue(issue)
        except SendRefused as e:  # refused before anything was written: ours to record
            return self._record(conn, "send", started, "refused", detail, reason=str(e))
        except Exception as e:
            log.exception("send job failed for issue %s", day)
            error = _describe(e)
            if not run_store.send_failure_recorded(conn, last_run, error):
                self._record(conn, "send", started, "failed", detail, error=error)
            return JobRun("send", "failed", detail=detail, error=error)
        # send_issue recorded this run itself (job 'send', with the delivery counts)
        result = JobRun("send", "ok" if report.counts.failed == 0 else "partial", detail=report.as_json())
        if report.status is IssueStatus.SENT:
            self.rebuild_archive(conn)
        return result

    # --- archive ------------------------------------------------------------------------

    def rebuild_archive(self, conn: sqlite3.Connection | None = None) -> JobRun:
        """Bring the static archive (archive_dir, served at /archive) up to date."""
        if conn is None:
            with closing(self.connect()) as own:
                return self.rebuild_archive(own)
        started = self.clock()
        try:
            report = archive.build_archive(conn, self.settings, self.archive_dir, started,
                                           templates=self.archive_templates)
        except (NewsletterError, OSError) as e:
            log.exception("archive rebuild failed")
            return self._record(conn, "archive", started, "failed", {"out_dir": str(self.archive_dir)},
                                error=_describe(e))
        return self._record(conn, "archive", started, "ok", {
            "out_dir": str(report.out_dir), "issues": len(report.issues), "files": report.files,
            "written": len(report.written), "unchanged": report.unchanged, "deleted": len(report.deleted)})

    # --- shared -------------------------------------------------------------------------

    def _tell_curator(self, build: Callable[[], EmailMessage]) -> str | None:
        """Mail the curator; the error if that could not be done (no SMTP URL, a refusal)."""
        try:
            message = build()
            with closing(self.mail_pool()) as pool:
                pool.send_message(message)
        except (NewsletterError, OSError) as e:
            log.warning("could not mail the curator: %s", e)
            return f"curator not told: {_describe(e)}"
        return None

    def _record(self, conn: sqlite3.Connection, job: str, started: datetime, outcome: str,
                detail: Mapping[str, Any], *, reason: str = "", error: str | None = None) -> JobRun:
        full = {**detail, "by": BY_SCHEDULER, **({"reason": reason} if reason else {})}
        run_id = run_store.start_run(conn, job, started)
        run_store.finish_run(conn, run_id, self.clock(), outcome=outcome, detail=full, error=error)
        log.info("%s: %s%s", job, outcome, f": {reason}" if reason else "")
        return JobRun(job, outcome, reason=reason, detail=full, error=error)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
