"""collect, items, sources, demo: getting things into the store and looking at them."""

from __future__ import annotations

import asyncio
import sys

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ..model import FetchOutcome, Item, ItemStatus, SourceResult, utc_iso
from ..store import items as item_store
from ..store import sources as source_store
from . import echo_json, err, handle_errors, main, open_app


@main.command()
@click.option("--source", "sources", multiple=True, metavar="ID", help="Collect only this source (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
@handle_errors
def collect(ctx: click.Context, sources: tuple[str, ...], as_json: bool) -> None:
    """Fetch every enabled source once and store what is new.

    Exits 0 unless the config is invalid (2) or every source failed (1).
    """
    app = open_app(ctx)
    total = len(sources) or len(app.settings.active_sources)
    with Progress(TextColumn("[bold]collect"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=err, transient=True) as progress:
        task = progress.add_task("", total=total)

        def done(result: SourceResult) -> None:
            progress.update(task, advance=1, description=result.source_id)

        report = asyncio.run(app.collect(sources, on_result=done))
    if as_json:
        echo_json(report.as_json())
    else:
        print_report(report.results)
        err.print(f"{report.new} new item(s) from {len(report.results)} source(s)")
    if report.all_failed:
        sys.exit(1)


def print_report(results) -> None:
    table = Table("source", "kind", "status", "fetched", "new", "note / error", box=None)
    colour = {FetchOutcome.OK: "green", FetchOutcome.NOT_MODIFIED: "cyan", FetchOutcome.ERROR: "red"}
    for r in results:
        table.add_row(r.source_id, r.kind, f"[{colour[r.status]}]{r.status}[/]", str(r.fetched),
                      str(r.new), r.error or r.note)
    err.print(table)


def item_json(item: Item) -> dict:
    return {
        "id": item.id, "key": item.key, "kind": item.kind.value, "source": item.source_id,
        "title": item.display_title, "url": item.url, "authors": list(item.authors),
        "summary": item.summary_text, "published": utc_iso(item.published),
        "status": item.status.value, "commentary": item.commentary, "tags": list(item.tags),
        # What the source said of the item rides along: HF's upvotes, comments, submitter, organization.
        "mentions": [{"source": m.source_id, "url": m.url, "seen": utc_iso(m.first_seen), **m.said}
                     for m in item.mentions],
    }


@main.command()
@click.option("--status", type=click.Choice([s.value for s in ItemStatus]), help="Only items in this state.")
@click.option("--source", metavar="ID", help="Only items this source brought or mentioned.")
@click.option("--limit", type=int, default=None, help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print the items as JSON on stdout.")
@click.pass_context
@handle_errors
def items(ctx: click.Context, status: str | None, source: str | None, limit: int | None,
          as_json: bool) -> None:
    """List collected items, newest first."""
    app = open_app(ctx)
    found = item_store.list_items(app.conn, status=ItemStatus(status) if status else None,
                                  source_id=source, limit=limit)
    if as_json:
        echo_json([item_json(i) for i in found])
        return
    table = Table("id", "published", "source", "status", "title", box=None)
    zone = app.settings.newsletter.zone
    for item in found:
        seen = f" (+{len(item.mentions) - 1})" if len(item.mentions) > 1 else ""
        table.add_row(str(item.id), item.published.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                      item.source_id + seen, item.status.value, item.display_title)
    Console().print(table)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the health table as JSON on stdout.")
@click.pass_context
@handle_errors
def sources(ctx: click.Context, as_json: bool) -> None:
    """Show each configured source and its health."""
    app = open_app(ctx)
    health = source_store.all_health(app.conn)
    rows = []
    for source in app.settings.sources:
        h = health.get(source.id)
        rows.append({
            "id": source.id, "kind": source.kind.value, "name": source.name, "section": source.section,
            "enabled": not app.settings.disabled_reason(source),
            "disabled_reason": app.settings.disabled_reason(source) or None,
            "last_attempt": utc_iso(h.last_attempt) if h and h.last_attempt else None,
            "last_success": utc_iso(h.last_success) if h and h.last_success else None,
            "last_error": h.last_error if h else None,
            "consecutive_failures": h.consecutive_failures if h else 0,
            "items_last_run": h.items_last_run if h else 0,
        })
    if as_json:
        echo_json(rows)
        return
    table = Table("source", "kind", "section", "last success", "failures", "new last run", "error",
                  box=None)
    for row in rows:
        name = row["id"] if row["enabled"] else f"[dim]{row['id']} ({row['disabled_reason']})[/]"
        table.add_row(name, row["kind"], row["section"], row["last_success"] or "-",
                      str(row["consecutive_failures"]), str(row["items_last_run"]),
                      row["last_error"] or "")
    Console().print(table)


@main.command()
@click.option("--no-serve", is_flag=True, help="Exit after collecting instead of keeping the snapshot server up.")
@click.option("--dir", "directory", default="data/demo", show_default=True, type=click.Path(file_okay=False),
              help="Where the demo database and config go.")
@click.option("--json", "as_json", is_flag=True, help="Print the collect report as JSON on stdout.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the demo's editor on 127.0.0.1 (unless --no-serve).")
@handle_errors
def demo(no_serve: bool, directory: str, as_json: bool, port: int) -> None:
    """Offline end-to-end run on bundled real snapshots served on loopback."""
    from ..demo import demo_archive, demo_environment, demo_issue

    with demo_environment(directory) as (app, server):
        err.print(f"[bold]demo[/]: serving {len(server.routes)} real snapshots on {server.base_url}")
        report = asyncio.run(app.collect())
        if as_json:
            echo_json(report.as_json())
        else:
            print_report(report.results)
        err.print(f"[bold]{report.new}[/] new item(s) stored in {app.db_path}")
        err.print(f"  newsletter --db {app.db_path} --config {app.settings.path} items --limit 20",
                  soft_wrap=True)
        html_path, text_path = demo_issue(app, directory)
        err.print(f"today's issue, rendered: {html_path} (HTML) and {text_path} (text)", soft_wrap=True,
                  highlight=False)
        err.print(f"the archive, with today's issue as a preview: {demo_archive(app, directory)}", soft_wrap=True,
                  highlight=False)
        if not no_serve:
            from .web import serve_demo_editor  # the queue on the demo database

            err.print(f"The snapshot server stays up on {server.base_url}: collect the same config "
                      "again to see 304s. Ctrl-C stops it and the editor.", soft_wrap=True)
            serve_demo_editor(app, port)
