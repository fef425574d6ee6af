"""Migration 10: what a source says of an item it mentions (Hugging Face upvotes, comment
count, submitter, organization), and posts on Bluesky as a kind of item."""

from __future__ import annotations

import sqlite3

from .schema_edit import widen_check

_OLD_CHECK = "CHECK (kind IN ('post', 'paper', 'x_post'))"
_NEW_CHECK = "CHECK (kind IN ('post', 'paper', 'x_post', 'bluesky_post'))"

_SQL = """
-- JSON, refreshed on every collect that sees the mention again: numbers such as upvotes
-- change while the item's curator fields never do. '{}' when the source says nothing more.
ALTER TABLE mentions ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
"""


def mentions_v10(conn: sqlite3.Connection, statements) -> None:
    # items.kind gains a value
    widen_check(conn, table="items", old=_OLD_CHECK, new=_NEW_CHECK, migration=10)
    for statement in statements(_SQL):
        conn.execute(statement)
