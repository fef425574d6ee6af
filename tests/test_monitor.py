from __future__ import annotations

from datetime import datetime, timedelta, timezone

from newsletter.model import SourceHealth, utc_iso
from newsletter.flows.monitor import source_alerts

NOW = datetime(2024, 7, 19, 9, 0, tzinfo=timezone.utc)


def run(hours_ago: float, *results: dict) -> dict:
    return {"started": utc_iso(NOW - timedelta(hours=hours_ago)), "detail": {"sources": list(results)}}


def ok(source_id: str, new: int, note: str = "") -> dict:
    return {"id": source_id, "status": "ok", "new": new, "note": note}


def test_a_source_failing_for_a_day_is_flagged_and_a_fresh_failure_is_not():
    health = {
        "openai": SourceHealth("openai", "feed", last_attempt=NOW, last_success=NOW - timedelta(hours=30),
                               last_error="openai: HTTP 503", consecutive_failures=12),
        "deepmind": SourceHealth("deepmind", "feed", last_attempt=NOW, last_success=NOW - timedelta(hours=3),
                                 last_error="deepmind: read timeout", consecutive_failures=1),
    }
    alerts = source_alerts(health, [], NOW)
    assert [(a.source_id, a.kind) for a in alerts] == [("openai", "failing")]
    assert "12 time(s)" in alerts[0].message and "HTTP 503" in alerts[0].message


def test_a_source_that_never_worked_is_flagged_from_its_first_failure():
    health = {"new-lab": SourceHealth("new-lab", "feed", last_attempt=NOW, last_error="new-lab: HTTP 404",
                                      consecutive_failures=13)}
    runs = [run(h, {"id": "new-lab", "status": "error", "new": 0}) for h in (2, 12, 26)]
    assert [a.kind for a in source_alerts(health, runs, NOW)] == ["failing"]
    assert source_alerts(health, runs[:2], NOW) == []  # failing for 12 hours only


def test_a_usually_busy_source_that_went_quiet_is_flagged_but_arxiv_weekends_are_not():
    history = [run(24 * day + 2, ok("openai", 3), ok("arxiv-ai", 40)) for day in range(1, 6)]
    recent = [run(2, ok("openai", 0), ok("arxiv-ai", 0, note="empty listing")),
              run(8, ok("openai", 0), ok("arxiv-ai", 0, note="empty listing"))]
    alerts = source_alerts({}, history + recent, NOW)
    assert [(a.source_id, a.kind) for a in alerts] == [("openai", "quiet")]

    busy_again = [run(1, ok("openai", 2))]
    assert source_alerts({}, history + recent + busy_again, NOW) == []


def test_an_occasional_source_is_not_expected_to_bring_items_every_day():
    history = [run(24 * 3, ok("apple-ml", 1)), run(2, ok("apple-ml", 0))]
    assert source_alerts({}, history, NOW) == []
