"""When jobs run: cron expressions from sources.yaml, read in the newsletter's time zone, and
the APScheduler (3.x) wiring that fires them while `newsletter serve` runs.

    job_triggers(settings), fire_times, next_fire, missed_fire     pure cron arithmetic
    NewsletterScheduler(jobs, settings, clock)                     AsyncIOScheduler + the jobs
    missed_send(conn, settings, now)                               what a start-up catches up
    status(conn, settings, now, scheduler=None)                    `newsletter runs`, /runs

APScheduler keeps its jobs in memory: after a restart it cannot know whether a send it missed
already happened. The issue's state, its delivery rows and the send lock are the truth, so a
missed send is found here (`missed_send`) and the send job itself never sends twice.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from .app import App
from .config import Settings
from .errors import ConfigError
from .flows import monitor
from .flows.jobs import Jobs
from .model import IssueStatus, parse_utc, utc_iso
from .render import local_date
from .store import alerts as alert_store
from .store import issues as issue_store
from .store import runs as run_store
from .store import sources as source_store

log = logging.getLogger("newsletter.schedule")


def cron_trigger(expression: str, zone: ZoneInfo, *, field: str = "schedule") -> CronTrigger:
    try:
        return CronTrigger.from_crontab(expression, timezone=zone)
    except ValueError as e:
        raise ConfigError(f"not a cron expression (minute hour day month weekday): {expression!r}",
                          field=field) from e


def job_triggers(settings: Settings) -> dict[str, CronTrigger]:
    zone = settings.newsletter.zone
    return {
        "collect": cron_trigger(settings.schedule.collect_cron, zone, field="schedule.collect_cron"),
        "send": cron_trigger(settings.schedule.send_cron, zone, field="schedule.send_cron"),
    }


def fire_times(trigger: CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every time the trigger fires in [start, end)."""
    times: list[datetime] = []
    previous = None
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment < end:
        times.append(moment)
        previous = moment
        moment = trigger.get_next_fire_time(previous, moment + timedelta(seconds=1))
    return times


def next_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    return trigger.get_next_fire_time(None, now)


def missed_fire(trigger: CronTrigger, now: datetime, grace: timedelta) -> datetime | None:
    """The latest time the trigger fired within the grace window before now, if any: what a
    service that was down should still run at start-up."""
    missed = fire_times(trigger, now - grace, now + timedelta(microseconds=1))
    return missed[-1] if missed else None


def grace_of(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.schedule.misfire_grace_minutes)


# --- catching up at start-up ------------------------------------------------------------------

# A send job run with one of these outcomes did what the trigger asked; any other (failed, or
# never finished because the process died) leaves the trigger to be caught up.
_DONE = frozenset({"ok", "partial", "skipped", "refused"})


def missed_send(conn: sqlite3.Connection, settings: Settings, now: datetime) -> datetime | None:
    """The send trigger time a service starting at `now` should still run, or None.

    Only a trigger within the grace window counts. Then the truth decides: a sent issue needs
    nothing; a `sending` one was broken off and is resumed; otherwise the send is caught up
    unless a send of that day's issue already ran to an outcome since the trigger (it went
    out, was refused, or was skipped and the curator told)."""
    fired = missed_fire(job_triggers(settings)["send"], now, grace_of(settings))
    if fired is None:
        return None
    day = local_date(fired, settings)
    issue = issue_store.get_issue_by_date(conn, day)
    if issue is not None and issue.status is IssueStatus.SENT:
        return None
    if issue is not None and issue.status is IssueStatus.SENDING:
        return fired
    for run in run_store.recent_runs(conn, "send", limit=50):
        if parse_utc(run["started"]) < fired:
            break
        if run["detail"].get("issue") == day.isoformat() and run["outcome"] in _DONE:
            return None
    return fired


# --- the scheduler ---------------------------------------------------------------------------

SCHEDULED = ("collect", "send")


class NewsletterScheduler:
    """An AsyncIOScheduler holding the collect and send jobs from settings.schedule, in the
    newsletter's zone: one instance of a job at a time, missed runs coalesced into one, late
    runs allowed within schedule.misfire_grace_minutes. The collect job runs on the event
    loop (it is async); the send job and the archive rebuild run in a worker thread."""

    def __init__(self, jobs: Jobs, settings: Settings, clock: Callable[[], datetime], *,
                 connect: Callable[[], sqlite3.Connection] | None = None):
        self.jobs = jobs
        self.settings = settings
        self.clock = clock
        self.connect = connect or jobs.connect
        self.triggers = job_triggers(settings)
        self.grace = grace_of(settings)
        self.caught_up: datetime | None = None
        self.scheduler = AsyncIOScheduler(timezone=settings.newsletter.zone)
        now = clock()
        for job_id, func in (("collect", self._collect), ("send", self._send)):
            self.scheduler.add_job(func, self.triggers[job_id], id=job_id, name=job_id,
                                   next_run_time=next_fire(self.triggers[job_id], now),
                                   max_instances=1, coalesce=True,
                                   misfire_grace_time=int(self.grace.total_seconds()))

    async def _collect(self) -> None:
        await self.jobs.collect()

    async def _send(self) -> None:
        # The issue this run is for is the day of the trigger it answers (a run late within
        # the grace window, or a catch-up, may fall after local midnight).
        now = self.clock()
        fired = missed_fire(self.triggers["send"], now, self.grace) or now
        await asyncio.to_thread(self.jobs.send, local_date(fired, self.settings))

    async def _rebuild_archive(self) -> None:
        await asyncio.to_thread(self.jobs.rebuild_archive)

    def start(self, *, paused: bool = False) -> None:
        """Start on the running event loop. A send missed while the service was down runs
        now if still within its grace window (see missed_send); the archive is brought up to
        date once, so /archive serves what was sent before."""
        self.scheduler.start(paused=paused)
        conn = self.connect()
        try:
            self.caught_up = missed_send(conn, self.settings, self.clock())
        finally:
            conn.close()
        right_away = datetime.now(timezone.utc)  # APScheduler's own clock decides "now" for it
        if self.caught_up is not None:
            log.info("catching up the send due at %s", self.caught_up.isoformat())
            self.scheduler.modify_job("send", next_run_time=right_away)
        self.scheduler.add_job(self._rebuild_archive, "date", run_date=right_away, id="archive", name="archive",
                               misfire_grace_time=int(self.grace.total_seconds()))

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[NewsletterScheduler]:
        self.start()
        try:
            yield self
        finally:
            self.shutdown()

    def next_runs(self) -> dict[str, datetime | None]:
        """The next run time APScheduler holds for each scheduled job."""
        return {job.id: job.next_run_time for job in self.scheduler.get_jobs() if job.id in SCHEDULED}


# --- what `newsletter runs` and the /runs page show -------------------------------------------

@dataclass(frozen=True)
class PlannedJob:
    id: str
    schedule: str  # the cron expression, or when it runs instead
    next_run: datetime | None

    def as_json(self, zone: ZoneInfo) -> dict:
        return {"id": self.id, "schedule": self.schedule,
                "next_run": utc_iso(self.next_run) if self.next_run else None,
                "next_run_local": self.next_run.astimezone(zone).isoformat() if self.next_run else None}


def planned_jobs(settings: Settings, now: datetime, scheduler: NewsletterScheduler | None = None) -> list[PlannedJob]:
    """Each job with its next run: as the running scheduler holds it, else from the config."""
    held = scheduler.next_runs() if scheduler else {}
    crons = {"collect": settings.schedule.collect_cron, "send": settings.schedule.send_cron}
    triggers = job_triggers(settings)
    jobs = [PlannedJob(job_id, crons[job_id], held[job_id] if scheduler else next_fire(triggers[job_id], now))
            for job_id in SCHEDULED]
    return [*jobs, PlannedJob("archive", "after each send (and at start-up)", None)]


def status(conn: sqlite3.Connection, settings: Settings, now: datetime, *,
           scheduler: NewsletterScheduler | None = None, limit: int = 30) -> dict:
    """Next run times, the last runs and the sources needing a look, as one JSON document."""
    zone = settings.newsletter.zone
    configured = {source.id for source in settings.sources}
    health = {k: v for k, v in source_store.all_health(conn).items() if k in configured}
    collects = run_store.recent_runs(conn, "collect", limit=500)
    told = {(a.source_id, a.kind): a for a in alert_store.open_alerts(conn)}
    alerts = []
    for alert in monitor.source_alerts(health, collects, now):
        stored = told.get((alert.source_id, alert.kind))
        alerts.append({"source": alert.source_id, "kind": alert.kind, "message": alert.message,
                       "mailed": utc_iso(stored.mailed) if stored and stored.mailed else None,
                       "mail_error": stored.mail_error if stored else None})
    failing = [{"id": h.source_id, "failures": h.consecutive_failures, "last_error": h.last_error,
                "last_success": utc_iso(h.last_success) if h.last_success else None}
               for h in health.values() if h.consecutive_failures]
    runs = [{"id": run["id"], "job": run["job"], "started": run["started"], "finished": run["finished"],
             "outcome": run["outcome"], "reason": run["detail"].get("reason", ""),
             "by": run["detail"].get("by", ""), "detail": run["detail"], "error": run["error"]}
            for run in run_store.recent_runs(conn, limit=limit)]
    return {"zone": settings.newsletter.timezone, "live": scheduler is not None,
            "jobs": [job.as_json(zone) for job in planned_jobs(settings, now, scheduler)],
            "runs": runs, "alerts": alerts, "failing_sources": failing}


def scheduler_for(app: App) -> NewsletterScheduler:
    """A new APScheduler wiring of the app's jobs (start it on a running event loop)."""
    return NewsletterScheduler(app.jobs, app.settings, app.clock)
