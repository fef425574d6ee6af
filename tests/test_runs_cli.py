"""`newsletter runs [--json]` as a user runs it: a subprocess over a real SQLite file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from newsletter.model import parse_utc
from newsletter.store import transaction
from newsletter.store import sources as source_store
from support.apps import app_for
from support.cli import cli_runner
from support.clock import EIGHT_SEOUL, ISSUE_DAY, Clock
from support.config import DEAD_FEED

newsletter = cli_runner("ops")


def test_runs_reports_next_runs_last_runs_and_alerts(tmp_path):
    clock = Clock(EIGHT_SEOUL)
    app = app_for(tmp_path, "ops", None, clock=clock, sources=[DEAD_FEED], schedule={"send_cron": "30 7 * * 1-5"})
    with transaction(app.conn):
        source_store.record_success(app.conn, "openai", "feed", EIGHT_SEOUL - timedelta(hours=30), new_items=3,
                                    etag=None, last_modified=None)
        source_store.record_failure(app.conn, "openai", "feed", EIGHT_SEOUL - timedelta(hours=2),
                                    "openai: HTTP 503 서비스 점검 중")
    app.jobs.send(ISSUE_DAY)
    app.jobs.check_alerts()
    app.jobs.rebuild_archive()
    app.close()

    run = newsletter(tmp_path, "runs", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)  # one JSON document, nothing else on stdout
    assert report["zone"] == "Asia/Seoul" and report["live"] is False
    jobs = {job["id"]: job for job in report["jobs"]}
    assert list(jobs) == ["collect", "send", "archive"]
    assert jobs["send"]["schedule"] == "30 7 * * 1-5" and jobs["archive"]["next_run"] is None
    send_next = datetime.fromisoformat(jobs["send"]["next_run_local"])
    assert (send_next.hour, send_next.minute, send_next.weekday() < 5) == (7, 30, True)
    assert send_next.utcoffset() == timedelta(hours=9) and parse_utc(jobs["send"]["next_run"]) == send_next
    assert [(r["job"], r["outcome"], r["reason"]) for r in report["runs"]] == [
        ("archive", "ok", ""), ("alerts", "failed", ""), ("send", "skipped", "not ready")]
    send_run = report["runs"][2]
    assert send_run["by"] == "scheduler" and send_run["detail"]["issue"] == "2024-07-19"
    assert send_run["error"].startswith("curator not told: ConfigError")
    (alert,) = report["alerts"]
    assert (alert["source"], alert["kind"], alert["mailed"]) == ("openai", "failing", None)
    assert "HTTP 503 서비스 점검 중" in alert["message"] and "NEWSLETTER_SMTP_URL" in alert["mail_error"]
    assert report["failing_sources"] == [{"id": "openai", "failures": 1, "last_error": "openai: HTTP 503 서비스 점검 중",
                                          "last_success": "2024-07-17T17:00:00Z"}]

    table = newsletter(tmp_path, "runs", env={"COLUMNS": "220"})
    assert table.returncode == 0, table.stderr
    assert "skipped: not ready" in table.stdout and "30 7 * * 1-5" in table.stdout
    assert "2024-07-19 08:00" in table.stdout  # run times in Seoul time
    assert "failing" in table.stdout and "HTTP 503 서비스 점검 중" in table.stdout
