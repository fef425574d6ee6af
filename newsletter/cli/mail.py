"""subscribers add/import/export/list/remove, send: the subscriber roster and delivering an issue."""

from __future__ import annotations

import sqlite3
import sys
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ..errors import NewsletterError, SubscriberError
from ..flows import compose
from ..flows import send as sending
from ..flows.roster import (
    AddOutcome,
    RowVerdict,
    add_addresses,
    apply_import,
    decode_csv,
    export_csv,
    preview_import,
    remove_addresses,
)
from ..model import Subscriber, SubscriberStatus, utc_iso
from ..store import subscribers as subscriber_store
from . import echo_json, err, handle_errors, main, open_app


def subscriber_json(subscriber: Subscriber) -> dict:
    return {"id": subscriber.id, "email": subscriber.email, "status": subscriber.status.value,
            "created": utc_iso(subscriber.created), "changed": utc_iso(subscriber.changed), "how": subscriber.how}


@main.group()
def subscribers() -> None:
    """Manage subscribers: add, import, export, list, remove."""


PENDING_HELP = "Send them the double opt-in mail instead; they stay pending until they confirm."


def _print_add_results(results) -> None:
    colour = {AddOutcome.ADDED: "green", AddOutcome.ACTIVATED: "green", AddOutcome.INVITED: "cyan",
              AddOutcome.ALREADY: "dim", AddOutcome.OPTED_OUT: "yellow", AddOutcome.INVALID: "red",
              AddOutcome.MAIL_FAILED: "red"}
    for r in results:
        detail = f"  {r.detail}" if r.detail else ""
        err.print(f"[{colour[r.outcome]}]{r.outcome}[/] {r.email or r.given}{detail}", highlight=False,
                  soft_wrap=True)
    counts = {}
    for r in results:
        counts[r.outcome.value] = counts.get(r.outcome.value, 0) + 1
    err.print(", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "nothing to do")


@subscribers.command("add")
@click.argument("addresses", nargs=-1, required=True)
@click.option("--pending", is_flag=True, help=PENDING_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one result per address as JSON on stdout.")
@click.pass_context
@handle_errors
def add_command(ctx: click.Context, addresses: tuple[str, ...], pending: bool, as_json: bool) -> None:
    """Add the subscribers ADDRESSES. They become active: you vouch for them."""
    app = open_app(ctx)
    results = add_addresses(app.subscriptions, addresses, app.clock(), how="cli", pending=pending)
    if as_json:
        echo_json([r.as_json() for r in results])
    else:
        _print_add_results(results)
    if any(r.outcome in (AddOutcome.INVALID, AddOutcome.MAIL_FAILED) for r in results):
        sys.exit(1)


@subscribers.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pending", is_flag=True, help=PENDING_HELP)
@click.option("--dry-run", is_flag=True, help="Only show what the import would do (the preview).")
@click.option("--json", "as_json", is_flag=True, help="Print the preview (and results) as JSON on stdout.")
@click.pass_context
@handle_errors
def import_command(ctx: click.Context, csv_file: Path, pending: bool, dry_run: bool, as_json: bool) -> None:
    """Import addresses from CSV_FILE (a column named email or 이메일, or addresses in the first
    column), deduplicated by normalised address. UTF-8 or CP949."""
    app = open_app(ctx)
    preview = preview_import(app.conn, decode_csv(csv_file.read_bytes()))
    summary = ", ".join(f"{preview.count(v)} {v}" for v in RowVerdict)
    err.print(f"{csv_file.name}: column {preview.column or '-'}: {summary}", highlight=False)
    for row in preview.rows:
        if row.verdict in (RowVerdict.INVALID, RowVerdict.DUPLICATE):
            err.print(f"  line {row.line}: [yellow]{row.verdict}[/] {row.given}  {row.detail}", highlight=False,
                      soft_wrap=True)
    results = [] if dry_run else apply_import(app.subscriptions, preview, app.clock(), pending=pending)
    if as_json:
        echo_json({"preview": preview.as_json(), "results": [r.as_json() for r in results]})
    elif results:
        _print_add_results([r for r in results if r.outcome is not AddOutcome.ALREADY])
    if any(r.outcome is AddOutcome.MAIL_FAILED for r in results):
        sys.exit(1)


@subscribers.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (UTF-8 with a BOM, so Excel reads Hangul) instead of stdout.")
@click.pass_context
@handle_errors
def export_command(ctx: click.Context, output: Path | None) -> None:
    """Export every subscriber as CSV: email, status, created, changed, how."""
    app = open_app(ctx)
    if output:
        with output.open("w", encoding="utf-8-sig", newline="") as out:
            count = export_csv(app.conn, out)
    else:
        count = export_csv(app.conn, click.get_text_stream("stdout"))
    err.print(f"{count} subscriber(s) exported")


@subscribers.command("list")
@click.option("--status", type=click.Choice([s.value for s in SubscriberStatus]), help="Only this state.")
@click.option("--search", metavar="TEXT", help="Only addresses containing TEXT.")
@click.option("--limit", type=int, default=None, help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the subscribers and counts as JSON on stdout.")
@click.pass_context
@handle_errors
def list_command(ctx: click.Context, status: str | None, search: str | None, limit: int | None,
                 as_json: bool) -> None:
    """List subscribers, newest first, with counts by state."""
    app = open_app(ctx)
    found = subscriber_store.list_subscribers(app.conn, status=SubscriberStatus(status) if status else None,
                                              search=search, limit=limit)
    counts = subscriber_store.counts(app.conn)
    if as_json:
        echo_json({"counts": counts, "subscribers": [subscriber_json(s) for s in found]})
        return
    table = Table("id", "email", "status", "since", "how", box=None)
    zone = app.settings.newsletter.zone
    for s in found:
        table.add_row(str(s.id), s.email, s.status.value, s.changed.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                      s.how)
    Console().print(table)
    err.print(", ".join(f"{n} {state}" for state, n in counts.items()), highlight=False)


@subscribers.command("remove")
@click.argument("addresses", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one result per address as JSON on stdout.")
@click.pass_context
@handle_errors
def remove_command(ctx: click.Context, addresses: tuple[str, ...], as_json: bool) -> None:
    """Unsubscribe ADDRESSES on your word (the record is kept; you can add them back)."""
    app = open_app(ctx)
    results = remove_addresses(app.subscriptions, addresses, app.clock(), how="cli")
    if as_json:
        echo_json([{"given": given, "outcome": outcome.value} for given, outcome in results])
    else:
        for given, outcome in results:
            err.print(f"{outcome} {given}", highlight=False)
    if any(outcome.value in ("invalid", "not_found") for _, outcome in results):
        sys.exit(1)


# --- send -------------------------------------------------------------------------------------------

@main.command("send")
@click.option("--date", "issue_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The issue's date, YYYY-MM-DD (default: the newest issue not sent).")
@click.option("--test-to", metavar="ADDR", help="Send one copy, marked as a test, to ADDR only: no delivery "
              "rows, no state change, works for drafts.")
@click.option("--dry-run", is_flag=True, help="Say what a send would do now; send and write nothing.")
@click.option("--force-late", is_flag=True, help="Send even though the issue's deadline has passed.")
@click.option("--json", "as_json", is_flag=True, help="Print the report (or plan) as JSON on stdout.")
@click.pass_context
@handle_errors
def send_command(ctx: click.Context, issue_date, test_to: str | None, dry_run: bool, force_late: bool,
                 as_json: bool) -> None:
    """Send an issue to every active subscriber, or resume a send that stopped.

    Safe to run again after a crash: nobody already marked sent is mailed again. Exits 1 if
    the issue may not go now or the SMTP server became unusable (run again to resume)."""
    app = open_app(ctx)
    day: date | None = issue_date.date() if issue_date else None
    issue = compose.find_issue(app.conn, day)
    if dry_run:
        plan = sending.plan_send(app.conn, app.settings, issue, app.clock(), force_late=force_late)
        if as_json:
            echo_json(plan.as_json())
        else:
            err.print(f"issue #{issue.number} {issue.issue_date} ({plan.issue.status}): would send "
                      f"{plan.new_rows + plan.counts.pending}, already sent {plan.counts.sent}, failed "
                      f"{plan.counts.failed}; deadline {plan.deadline:%Y-%m-%d %H:%M %Z}", highlight=False)
            if plan.refusal:
                err.print(f"[red]refused:[/] {plan.refusal}", highlight=False, soft_wrap=True)
        if plan.refusal:
            sys.exit(1)
        return
    if test_to:
        rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)
        try:
            with app.smtp_pool(size=1) as pool:
                reply = sending.send_test(app.conn, app.settings, rendered, pool, app.tokens, test_to, now=app.clock())
        except SubscriberError as e:
            raise click.BadParameter(str(e), param_hint="--test-to") from e
        if as_json:
            echo_json({"test_to": test_to, "reply": reply})
        err.print(f"test of issue #{issue.number} sent to {test_to}: {reply}", highlight=False)
        return
    plan = sending.plan_send(app.conn, app.settings, issue, app.clock(), force_late=force_late)
    with Progress(TextColumn("[bold]send"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  TextColumn("{task.description}"), console=err, transient=True) as progress:
        task = progress.add_task("", total=plan.new_rows + plan.counts.pending)

        def advance(delivery, outcome) -> None:
            if outcome.value != "deferred":
                progress.update(task, advance=1, description=f"{outcome} {delivery.email}")

        try:
            report = app.send_issue(issue, force_late=force_late, on_outcome=advance)
        except (NewsletterError, sqlite3.Error) as e:
            if as_json:  # a stopped send still says where it stands (the error itself goes to stderr too)
                echo_json({**_standing(app, issue), "error": str(e)})
            raise
    if as_json:
        echo_json(report.as_json())
    for email, reply in report.failures:
        err.print(f"[red]failed[/] {email}: {reply}", highlight=False, soft_wrap=True)
    c = report.counts
    err.print(f"issue #{report.number} {report.issue_date} is {report.status}: {c.sent} sent, {c.failed} failed, "
              f"{c.pending} pending ({report.this_run.sent} sent now, {report.this_run.skipped} skipped: "
              "unsubscribed meanwhile)", highlight=False)


def _standing(app, issue) -> dict:
    try:
        return sending.delivery_report(app.conn, issue).as_json()
    except sqlite3.Error:  # the database that stopped the send may not answer either
        return {"date": issue.issue_date.isoformat(), "number": issue.number}
