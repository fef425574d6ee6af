"""serve, user add, user token: the editor and the curators who use it."""

from __future__ import annotations

import json
import secrets
import sys

import click

from ..app import App
from ..flows import users
from ..store import users as user_store
from . import err, handle_errors, main, open_app


def save_curator(app: App, name: str, password: str, *, reset: bool = False) -> user_store.User:
    """Create a curator (or, with reset, change their password and end their sessions)."""
    return users.save_curator(app.conn, name, password, app.clock(), reset=reset)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (keep loopback behind a reverse proxy).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--no-scheduler", is_flag=True,
              help="Serve the web app only: no scheduled collect, send or archive jobs in this process.")
@click.option("--forwarded-allow-ips", envvar="FORWARDED_ALLOW_IPS", default="127.0.0.1,::1", show_default=True,
              help="Addresses (comma-separated; networks allowed) of the reverse proxy whose X-Forwarded-Proto "
                   "and X-Forwarded-For are believed (env FORWARDED_ALLOW_IPS).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, no_scheduler: bool, forwarded_allow_ips: str) -> None:
    """Run the web app (the curator's editor, /runs, the archive at /archive) and, in the same
    process, the scheduler: collect, send and archive jobs from `schedule:` in sources.yaml,
    in the newsletter's time zone. Runs until Ctrl-C or SIGTERM."""
    from ..web import serve as serve_editor
    from ..web.runs import with_scheduler

    app = open_app(ctx)
    if not user_store.list_users(app.conn):
        err.print("[yellow]no curator account yet:[/] create one with `newsletter user add NAME`")
    schedule = app.settings.schedule
    if no_scheduler:
        err.print("scheduler off (--no-scheduler): nothing is collected or sent on its own")
    else:
        err.print(f"scheduler: collect '{schedule.collect_cron}', send '{schedule.send_cron}' "
                  f"({app.settings.newsletter.timezone}); see /runs or `newsletter runs`", highlight=False)
    err.print(f"editor on http://{host}:{port}/ (Ctrl-C stops it)")
    serve_editor(app, host, port, lifespan=None if no_scheduler else with_scheduler(app),
                 forwarded_allow_ips=forwarded_allow_ips)


@main.group()
def user() -> None:
    """Curator accounts for the editor."""


@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts).")
@click.option("--reset", is_flag=True, help="If NAME exists, set a new password (ends their sessions).")
@click.pass_context
@handle_errors
def user_add(ctx: click.Context, name: str, password_stdin: bool, reset: bool) -> None:
    """Create the curator account NAME; the password is prompted for (twice) unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    app = open_app(ctx)
    existed = user_store.get_user(app.conn, name) is not None
    saved = save_curator(app, name, password, reset=reset)
    err.print(f"{'password changed for' if existed else 'created'} curator [bold]{saved.name}[/]")


@user.command("token")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help='Print {"user": ..., "token": ...} on stdout.')
@click.pass_context
@handle_errors
def user_token(ctx: click.Context, name: str, as_json: bool) -> None:
    """Create an API token for NAME and print it once (only its hash is kept).

    Use it as `Authorization: Bearer <token>` on the editor's /api.
    """
    app = open_app(ctx)
    token = users.create_token(app.conn, name, app.clock())
    if as_json:
        click.echo(json.dumps({"user": name, "token": token}, ensure_ascii=False))
    else:
        click.echo(token)
        err.print("Store it now: it cannot be shown again. Send it as 'Authorization: Bearer <token>'.")


DEMO_CURATOR = "demo"


def serve_demo_editor(app: App, port: int) -> None:
    """`newsletter demo`: the editor on the demo database, with a demo curator whose fresh
    password is printed (a new one each run)."""
    from ..web import serve as serve_editor

    password = secrets.token_urlsafe(9)
    save_curator(app, DEMO_CURATOR, password, reset=True)
    err.print(f"[bold]editor[/]: http://127.0.0.1:{port}/  user: {DEMO_CURATOR}  password: {password}",
              soft_wrap=True, highlight=False)
    serve_editor(app, "127.0.0.1", port)
