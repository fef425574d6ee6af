"""issue build/show/render/edit/ready/draft/delete, approve, reject: composing the dated issue."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..flows import compose
from ..model import Issue, Item, RenderedIssue, utc_iso
from ..render import email_problems, ordered, section_of, size_report, web_url
from . import echo_json, err, handle_errors, main, open_app

DATE_HELP = "The issue's date, YYYY-MM-DD in the newsletter's time zone"


def date_option(default_help: str):
    return click.option("--date", "issue_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                        metavar="YYYY-MM-DD",
                        help=f"{DATE_HELP} (default: {default_help}).")


def _day(value) -> date | None:
    return value.date() if value else None


@main.group()
def issue() -> None:
    """Compose, check and render the dated issue."""


@issue.command()
@date_option("today")
@click.option("--json", "as_json", is_flag=True, help="Print the issue as JSON on stdout.")
@click.pass_context
@handle_errors
def build(ctx: click.Context, issue_date, as_json: bool) -> None:
    """Compose the issue from the approved items (or bring its draft up to date)."""
    app = open_app(ctx)
    result = compose.build_issue(app.settings, app.conn, app.clock(), _day(issue_date))
    verb = "created" if result.created else "updated"
    err.print(f"issue #{result.issue.number} {result.issue.issue_date} {verb}: {len(result.issue.item_ids)} "
              f"item(s), {len(result.added)} added, {len(result.dropped)} dropped", highlight=False)
    if not result.issue.item_ids:
        err.print("[yellow]no approved items yet[/]: approve some with `newsletter approve ID`")
    if as_json:
        echo_json(issue_json(app, result.issue))


@issue.command()
@date_option("the newest issue not sent")
@click.option("--json", "as_json", is_flag=True, help="Print the issue as JSON on stdout.")
@click.pass_context
@handle_errors
def show(ctx: click.Context, issue_date, as_json: bool) -> None:
    """Show an issue: subject, preheader, size and its items in order."""
    app = open_app(ctx)
    found = compose.find_issue(app.conn, _day(issue_date))
    document = issue_json(app, found)
    if as_json:
        echo_json(document)
        return
    out = Console()
    out.print(f"[bold]#{found.number} {found.issue_date}[/] ({found.status})  {document['subject']}",
              highlight=False)
    out.print(f"preheader: {document['preheader']}", highlight=False)
    size = document["size"]
    out.print(f"HTML {size['kb']} KB ({size['status']}); web: {document['web_url']}", highlight=False)
    for problem in document["problems"]:
        out.print(f"[red]problem:[/] {problem}", highlight=False)
    table = Table("#", "id", "section", "kind", "status", "title", "tags", box=None)
    for position, item in enumerate(document["items"], 1):
        table.add_row(str(position), str(item["id"]), item["section"], item["kind"], item["status"],
                      item["title"], " ".join(f"#{t}" for t in item["tags"]))
    out.print(table)


@issue.command()
@date_option("the newest issue not sent")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the email HTML here.")
@click.option("--text", "text_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the text/plain part here.")
@click.pass_context
@handle_errors
def render(ctx: click.Context, issue_date, html_path: Path | None, text_path: Path | None) -> None:
    """Render an issue's email to files, exactly as it would go out (the unsubscribe link is
    still the per-recipient placeholder)."""
    if not html_path and not text_path:
        raise click.UsageError("give --html FILE, --text FILE or both")
    app = open_app(ctx)
    found = compose.find_issue(app.conn, _day(issue_date))
    rendered = compose.render_stored_issue(app.settings, app.conn, found, app.email)
    for path, content in ((html_path, rendered.html), (text_path, rendered.text)):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            err.print(f"wrote {path}", highlight=False)
    report = size_report(rendered.html)
    colour = {"ok": "green", "warn": "yellow", "clipped": "red"}[report.status]
    err.print(f"subject: {rendered.subject}\nHTML [{colour}]{report.kb} KB[/] ({report.status}; Gmail "
              f"clips above {report.clip_bytes // 1024} KB)", highlight=False)


@issue.command()
@date_option("the newest issue not sent")
@click.option("--subject", default=None, help="Subject line ('' = from newsletter.subject_template).")
@click.option("--preheader", default=None, help="Preheader ('' = from the first items).")
@click.option("--note", default=None, help="Editor's note, Markdown subset ('' = none).")
@click.pass_context
@handle_errors
def edit(ctx: click.Context, issue_date, subject: str | None, preheader: str | None, note: str | None) -> None:
    """Change a draft's subject, preheader or editor's note."""
    app = open_app(ctx)
    found = compose.find_issue(app.conn, _day(issue_date))
    updated = compose.edit_issue(app.conn, found, app.clock(), subject=subject, preheader=preheader, note=note)
    rendered = compose.render_stored_issue(app.settings, app.conn, updated, app.email)
    err.print(f"issue {updated.issue_date}: subject {rendered.subject!r}, preheader {rendered.preheader!r}",
              highlight=False)


@issue.command()
@date_option("the newest issue not sent")
@click.pass_context
@handle_errors
def ready(ctx: click.Context, issue_date) -> None:
    """Mark an issue ready to send (draft -> ready), after checking it."""
    app = open_app(ctx)
    found = compose.find_issue(app.conn, _day(issue_date))
    done = compose.mark_ready(app.settings, app.conn, found, app.clock(), app.email)
    err.print(f"issue #{done.number} {done.issue_date} is [green]{done.status}[/]", highlight=False)


@issue.command()
@date_option("the newest issue not sent")
@click.pass_context
@handle_errors
def draft(ctx: click.Context, issue_date) -> None:
    """Put a ready issue back to draft so it can change again."""
    app = open_app(ctx)
    found = compose.find_issue(app.conn, _day(issue_date))
    done = compose.back_to_draft(app.conn, found, app.clock())
    err.print(f"issue #{done.number} {done.issue_date} is {done.status}", highlight=False)


@issue.command()
@click.option("--date", "issue_date", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              metavar="YYYY-MM-DD", help=f"{DATE_HELP}.")
@click.pass_context
@handle_errors
def delete(ctx: click.Context, issue_date) -> None:
    """Delete a draft issue (its items stay approved)."""
    app = open_app(ctx)
    found = compose.find_issue(app.conn, _day(issue_date))
    compose.delete_draft(app.conn, found)
    err.print(f"deleted draft issue #{found.number} {found.issue_date}", highlight=False)


@main.command()
@click.argument("item_id", type=int)
@click.option("--comment", default=None, help="Korean commentary, Markdown subset (links, bold, italic, code).")
@click.option("--tags", default=None, help="Hashtags: 'a,b' or '#a #b' ('' clears them).")
@click.pass_context
@handle_errors
def approve(ctx: click.Context, item_id: int, comment: str | None, tags: str | None) -> None:
    """Approve item ITEM_ID for the next issue, with commentary and tags."""
    app = open_app(ctx)
    item = compose.approve_item(app.conn, item_id, app.clock(), commentary=comment, tags=tags)
    app.rescore()  # the ranker learns from the move before the next look at the queue
    err.print(f"item {item.id} approved: {item.display_title}"
              + (f"  {' '.join('#' + t for t in item.tags)}" if item.tags else ""), highlight=False)


@main.command()
@click.argument("item_id", type=int)
@click.pass_context
@handle_errors
def reject(ctx: click.Context, item_id: int) -> None:
    """Reject item ITEM_ID (and take it out of a draft issue)."""
    app = open_app(ctx)
    item = compose.reject_item(app.conn, item_id, app.clock())
    app.rescore()
    err.print(f"item {item.id} rejected: {item.display_title}", highlight=False)


def issue_json(app, found: Issue) -> dict:
    """An issue as `issue show --json` prints it: effective subject and preheader, the
    curator's overrides, the HTML size against Gmail's clipping, problems, and the items in
    the order the email shows them."""
    items = ordered(found, compose.issue_items(app.conn, found), app.settings)
    rendered: RenderedIssue = compose.render_stored_issue(app.settings, app.conn, found, app.email)
    return {
        "id": found.id, "date": found.issue_date.isoformat(), "number": found.number,
        "status": found.status.value, "subject": rendered.subject, "preheader": rendered.preheader,
        "subject_override": found.subject, "preheader_override": found.preheader, "note": found.note,
        "web_url": web_url(app.settings, found.issue_date), "created": utc_iso(found.created),
        "sent": utc_iso(found.sent) if found.sent else None,
        "size": size_report(rendered.html).as_json(), "problems": email_problems(rendered.html),
        "items": [item_summary(app, item) for item in items],
    }


def item_summary(app, item: Item) -> dict:
    return {"id": item.id, "kind": item.kind.value, "section": section_of(item, app.settings),
            "title": item.display_title, "url": item.url, "status": item.status.value,
            "commentary": item.commentary, "tags": list(item.tags)}
