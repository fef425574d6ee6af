"""history import: the curator's past picks, so the queue ranks by their taste from day one."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ..flows.history import parse_history
from . import echo_json, err, handle_errors, main, open_app


@main.group()
def history() -> None:
    """The curator's past picks: what the ranker learns their taste from."""


@history.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
@handle_errors
def import_command(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Import past picks from FILE: one arXiv id or URL (abs/pdf, any version) or other URL a
    line, optionally followed by a date (YYYY-MM-DD), or CSV rows `id,date`.

    Papers get their metadata from the arXiv API (batches of 100, 3 s apart). The rows become
    published items dated as given (never mailed). Running it again skips what is there; bad
    lines are listed with their numbers and the rest is imported. Exits 1 only if no line could
    be imported or was known already.
    """
    app = open_app(ctx)
    text = file.read_bytes().decode("utf-8-sig", errors="replace")
    lines, bad = parse_history(text)
    with Progress(TextColumn("[bold]history"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True) as progress:
        task = progress.add_task("", total=len(lines))
        report = asyncio.run(app.import_history(lines, bad, on_progress=lambda n: progress.update(task, advance=n)))
    if as_json:
        echo_json(report.as_json())
    else:
        for line in report.bad:
            err.print(f"[yellow]line {line.number}:[/] {line.error} ({line.text})", highlight=False, soft_wrap=True)
        err.print(f"{report.imported} imported, {report.known} known already, {len(report.bad)} bad line(s)",
                  highlight=False)
    if report.bad and not report.imported and not report.known:
        sys.exit(1)
