"""Migration 10: what a source says of an item it mentions (Hugging Face upvotes, comment
count, submitter, organization), and posts on Bluesky as a kind of item."""

from __future__ import annotations

import sqlite3

_OLD_CHECK = "CHECK (kind IN ('post', 'paper', 'x_post'))"
_NEW_CHECK = "CHECK (kind IN ('post', 'paper', 'x_post', 'bluesky_post'))"

_SQL = """
-- JSON, refreshed on every collect that sees the mention again: numbers such as upvotes
-- change while the item's curator fields never do. '{}' when the source says nothing more.
ALTER TABLE mentions ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
"""


def mentions_v10(conn: sqlite3.Connection, statements) -> None:
    # items.kind gains a value; as in migration 8, widening a CHECK leaves every row valid, so
    # the stored schema is edited instead of rebuilding a table others reference.
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'items'",
                 (_OLD_CHECK, _NEW_CHECK))
    conn.execute(f"PRAGMA schema_version = {version + 1}")
    conn.execute("PRAGMA writable_schema = OFF")
    stored = conn.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'items'").fetchone()[0]
    if _NEW_CHECK not in stored:  # the rollback of this transaction leaves the file as it was
        raise sqlite3.DatabaseError("migration 10: items.kind CHECK constraint not found as expected")
    for statement in statements(_SQL):
        conn.execute(statement)
