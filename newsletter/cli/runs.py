"""runs: what the scheduler will do next, what the jobs did, and the sources that need a look."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from ..model import parse_utc
from ..schedule import status
from . import echo_json, handle_errors, main, open_app


@main.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="How many recent runs to show.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"zone", "live", "jobs", "runs", "alerts", "failing_sources"} as JSON on stdout.')
@click.pass_context
@handle_errors
def runs(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Show the scheduled jobs' next run times (when `newsletter serve` runs them), the last
    job runs (collect, send, archive, alerts: start, end, outcome, counts, error) and the
    sources flagged as failing for a day or unusually quiet."""
    app = open_app(ctx)
    report = status(app.conn, app.settings, app.clock(), limit=limit)
    if as_json:
        echo_json(report)
        return
    zone = app.settings.newsletter.zone
    out = Console()

    def local(text: str | None) -> str:
        return parse_utc(text).astimezone(zone).strftime("%Y-%m-%d %H:%M") if text else "-"

    jobs = Table("job", "schedule", f"next run ({report['zone']})", box=None,
                 title="scheduled jobs (run by `newsletter serve`)", title_justify="left")
    for job in report["jobs"]:
        jobs.add_row(job["id"], job["schedule"], local(job["next_run"]))
    out.print(jobs)
    table = Table("id", "job", "started", "finished", "outcome", "detail", "error", box=None,
                  title="last runs", title_justify="left")
    for run in report["runs"]:
        outcome = run["outcome"] or "unfinished"
        if run["reason"]:
            outcome += f": {run['reason']}"
        detail = {k: v for k, v in run["detail"].items()
                  if k in ("issue", "new", "sent", "failed", "pending", "written", "issues", "mailed")}
        table.add_row(str(run["id"]), run["job"], local(run["started"]), local(run["finished"]), outcome,
                      ", ".join(f"{k} {v}" for k, v in detail.items()), run["error"] or "")
    out.print(table)
    if report["alerts"]:
        out.print("[bold]sources that need a look[/]")
        for alert in report["alerts"]:
            told = f"mailed {local(alert['mailed'])}" if alert["mailed"] else (alert["mail_error"] or "not mailed yet")
            out.print(f"  [red]{alert['kind']}[/] {alert['message']} ({told})", highlight=False, soft_wrap=True)
    else:
        out.print("no source alerts")
