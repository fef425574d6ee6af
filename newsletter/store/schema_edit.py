"""Widening a CHECK constraint in place, for migrations that let a column take new values.

Widening leaves every stored row valid, so the table is not rebuilt (which would mean dropping
the tables that reference it): SQLite's documented way for such changes edits the stored schema
and bumps schema_version (https://www.sqlite.org/lang_altertable.html, "otheralter").
"""

from __future__ import annotations

import sqlite3


def widen_check(conn: sqlite3.Connection, *, table: str, old: str, new: str, migration: int) -> None:
    """Replace `old` by `new` in `table`'s stored CREATE statement; run inside the migration's
    transaction, whose rollback leaves the file as it was if the text was not found."""
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
                 (old, new, table))
    conn.execute(f"PRAGMA schema_version = {version + 1}")
    conn.execute("PRAGMA writable_schema = OFF")
    stored = conn.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", (table,)).fetchone()[0]
    if new not in stored:
        raise sqlite3.DatabaseError(f"migration {migration}: {table} CHECK constraint not found as expected")
