"""archive build, backup: publishing past issues, and keeping a copy of the database."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from ..store.backup import backup_database
from . import err, handle_errors, main, open_app


@main.group()
def archive() -> None:
    """The public archive: a static site of the sent issues."""


@archive.command("build")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Directory to build into. Default: archive/ beside the database, which the web app "
                   "serves at /archive. It must be empty or hold an archive built before.")
@click.option("--preview", "previews", multiple=True, type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Also show the issue of this date though it is not sent, marked as a preview (repeatable). "
                   "Needs --out naming a directory other than the one the web app serves publicly.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON on stdout.")
@click.pass_context
@handle_errors
def build(ctx: click.Context, out_dir: str | None, previews: tuple[datetime, ...], as_json: bool) -> None:
    """Build the archive, or bring it up to date: only files whose content changed are
    written, and pages of issues no longer there are deleted. Prints the path of index.html."""
    app = open_app(ctx)
    if previews and (out_dir is None or _same_directory(Path(out_dir), app.archive_dir)):
        # Drafts must never land where the public /archive is served from.
        err.print(f"[red]error:[/] --preview builds unsent issues: give --out a directory other than "
                  f"{app.archive_dir}, which the web app serves publicly at /archive", highlight=False, soft_wrap=True)
        sys.exit(2)
    report = app.build_archive(out_dir, previews=[moment.date() for moment in previews])
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    shown = f" ({len(report.previews)} as preview)" if report.previews else ""
    err.print(f"archive: {len(report.issues)} issue(s){shown}, {report.tags} tag(s), {report.files} files: "
              f"{len(report.written)} written, {report.unchanged} unchanged, {len(report.deleted)} deleted",
              highlight=False)
    click.echo(str(report.index_path))


def _same_directory(one: Path, other: Path) -> bool:
    return one.expanduser().resolve() == other.expanduser().resolve()


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the backup report as JSON on stdout.")
@click.pass_context
@handle_errors
def backup(ctx: click.Context, file: str, as_json: bool) -> None:
    """Copy the database to FILE with SQLite's online backup API: safe while `newsletter
    serve` runs and writes. The copy is checked (integrity_check) before it replaces FILE.
    To restore: stop the service, delete the database's -wal and -shm files, and put the
    copy in the database's place."""
    report = backup_database(ctx.obj["db"], file)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    err.print(f"backed up {report.source} to {report.target} ({report.bytes:,} bytes, schema version "
              f"{report.schema_version})", highlight=False, soft_wrap=True)
