"""Injected clocks, and the fixed moments the tests are set at."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from itertools import count

NOW = datetime(2024, 7, 19, 9, 0, tzinfo=timezone.utc)
# 09:30 in Seoul on the morning of the arXiv listing in the fixtures (the editor's clock).
MORNING = datetime(2024, 7, 19, 0, 30, tzinfo=timezone.utc)
# 08:30 on Friday 19 July 2024 in Seoul, still the 18th in UTC (the renderer's tests).
SEOUL_MORNING = datetime(2024, 7, 18, 23, 30, tzinfo=timezone.utc)
# 08:00 on the 19th in Seoul: the default send time (the jobs and the scheduler).
EIGHT_SEOUL = datetime(2024, 7, 18, 23, 0, tzinfo=timezone.utc)
ISSUE_DAY = date(2024, 7, 19)


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


def fixed_clock(moment: datetime):
    return lambda: moment


def ticking_clock(start: datetime = SEOUL_MORNING):
    """A clock that moves one second per reading, so approvals have an order."""
    seconds = count()
    return lambda: start + timedelta(seconds=next(seconds))
