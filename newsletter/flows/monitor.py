"""Which sources need the curator's attention: a pure decision over health and recent runs.

Two things are flagged: a source that has been failing for a day, and a source that usually
brings items but brought none in the last day although it answered. arXiv announces nothing
on weekends and holidays: its "empty listing" answers are normal and never flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from ..model import SourceHealth, parse_utc

FAILING_FOR = timedelta(days=1)
QUIET_FOR = timedelta(days=1)
HISTORY = timedelta(days=7)
USUAL_DAYS = 3  # "usually has items": it brought some on at least this many of the last 7 days


@dataclass(frozen=True)
class Alert:
    source_id: str
    kind: str  # "failing" | "quiet"
    message: str


def source_alerts(health: Mapping[str, SourceHealth], collect_runs: Sequence[Mapping],
                  now: datetime) -> list[Alert]:
    """Alerts for the sources in `health`, from the collect runs' per-source detail
    (`runs.detail["sources"]`, as `collect --json` reports them)."""
    alerts: list[Alert] = []
    for source_id, h in sorted(health.items()):
        if h.consecutive_failures and h.last_attempt:
            since = h.last_success or _first_failure(source_id, collect_runs)
            if since is None or now - since >= FAILING_FOR:
                when = f"since {since:%Y-%m-%d %H:%M} UTC" if since else "every time so far"
                alerts.append(Alert(source_id, "failing",
                                    f"{source_id} has failed {h.consecutive_failures} time(s) {when}: "
                                    f"{h.last_error}"))

    days_with_items: dict[str, set] = defaultdict(set)
    answered_recently: dict[str, int] = defaultdict(int)
    new_recently: dict[str, int] = defaultdict(int)
    for run in collect_runs:
        started = parse_utc(run["started"])
        if now - started > HISTORY:
            continue
        for result in run.get("detail", {}).get("sources", []):
            if result.get("note") == "empty listing":
                continue  # arXiv on a weekend or holiday
            source_id = result["id"]
            if now - started <= QUIET_FOR:
                if result["status"] in ("ok", "not_modified"):
                    answered_recently[source_id] += 1
                    new_recently[source_id] += result.get("new", 0)
            elif result.get("new", 0) > 0:
                days_with_items[source_id].add(started.date())
    for source_id, days in sorted(days_with_items.items()):
        if len(days) >= USUAL_DAYS and answered_recently[source_id] and not new_recently[source_id]:
            alerts.append(Alert(source_id, "quiet",
                                f"{source_id} brought nothing new in the last day, though it usually does "
                                f"(items on {len(days)} of the previous 7 days): is its feed still updated?"))
    return alerts


def _first_failure(source_id: str, collect_runs: Sequence[Mapping]) -> datetime | None:
    failures = [parse_utc(run["started"]) for run in collect_runs
                for result in run.get("detail", {}).get("sources", [])
                if result["id"] == source_id and result["status"] == "error"]
    return min(failures) if failures else None
