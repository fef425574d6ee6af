"""The `newsletter` command: thin click commands over the library, one module per area.

`--json` prints one JSON document to stdout and nothing else there; progress, tables meant
for people and logs go to stderr.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from functools import wraps

import click
from rich.console import Console

from ..app import DEFAULT_CONFIG, DEFAULT_DB, App, build_app
from ..errors import ConfigError, DatabaseDamaged, NewsletterError
from ..store import is_damage

err = Console(stderr=True)


def handle_errors(command):
    """Known errors become one readable line and an exit code: 2 for configuration, else 1."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ConfigError as e:
            err.print(f"[red]config error:[/] {e}", highlight=False, soft_wrap=True)
            sys.exit(2)
        except NewsletterError as e:
            err.print(f"[red]error:[/] {e}", highlight=False, soft_wrap=True)
            sys.exit(1)
        except sqlite3.Error as e:  # met mid-command: a full disk, or damage quick_check could not see
            db = click.get_current_context().find_root().obj.get("db", "")
            if is_damage(e):
                e = DatabaseDamaged(db, str(e))
            err.print(f"[red]error:[/] the database {db} refused the work: {e}; what was committed is kept, "
                      "and running the command again resumes", highlight=False, soft_wrap=True)
            sys.exit(1)

    return wrapper


def echo_json(document) -> None:
    """The one JSON document a `--json` command prints on stdout."""
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def open_app(ctx: click.Context) -> App:
    if "app" not in ctx.obj:
        ctx.obj["app"] = build_app(ctx.obj["db"], ctx.obj["config"])
        ctx.call_on_close(ctx.obj["app"].close)
    return ctx.obj["app"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="NEWSLETTER_DB", default=DEFAULT_DB, show_default=True,
              type=click.Path(dir_okay=False), help="SQLite database file (env NEWSLETTER_DB).")
@click.option("--config", envvar="NEWSLETTER_CONFIG", default=DEFAULT_CONFIG, show_default=True,
              type=click.Path(dir_okay=False), help="sources.yaml (env NEWSLETTER_CONFIG).")
@click.version_option(package_name="newsletter")
@click.pass_context
def main(ctx: click.Context, db: str, config: str) -> None:
    """Collect, curate and send a Korean daily AI newsletter."""
    ctx.ensure_object(dict)
    ctx.obj.update(db=db, config=config)




# Each module adds its commands to `main` when imported.
from . import (
    archive,  # noqa: E402,F401
    collect,  # noqa: E402,F401
    draft,  # noqa: E402,F401
    history,  # noqa: E402,F401
    issue,  # noqa: E402,F401
    mail,  # noqa: E402,F401
    runs,  # noqa: E402,F401
    web,  # noqa: E402,F401
)
