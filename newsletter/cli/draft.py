"""draft: a model draft of an item's commentary, in the curator's voice (llm: in sources.yaml)."""

from __future__ import annotations

import asyncio

import click

from ..model import utc_iso
from . import echo_json, err, handle_errors, main, open_app


@main.command()
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the draft as JSON on stdout.")
@click.pass_context
@handle_errors
def draft(ctx: click.Context, item_id: int, as_json: bool) -> None:
    """Ask the configured model for 2-3 Korean sentences of commentary on item ITEM_ID, in the
    style of your own commentary on the most similar past items.

    The draft is kept as a proposal beside the item (shown on its edit page); the item's saved
    commentary is never changed. Exits 1 with the reason (in Korean) if the model is off, over
    llm.daily_max_requests today, or fails.
    """
    app = open_app(ctx)
    found = asyncio.run(app.draft(item_id))
    if as_json:
        echo_json({"item": item_id, "draft": found.text, "model": found.model, "created": utc_iso(found.created)})
    else:
        click.echo(found.text)
        err.print(f"model draft for item {item_id} ({found.model}); its commentary is unchanged", highlight=False)
