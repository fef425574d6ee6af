"""When jobs run: cron expressions from sources.yaml, read in the newsletter's time zone.

APScheduler (3.x) fires the jobs while `newsletter serve` runs. What it cannot know, after a
restart, is whether a send it missed already happened: the issue's state and its delivery
rows are the truth, so a missed send is found here (`missed_fire`) and the send job itself
refuses to send twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from .config import Settings
from .errors import ConfigError


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
