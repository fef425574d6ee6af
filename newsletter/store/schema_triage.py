"""Migration 8: "done for today" and the first collect's backfill window (two more item
states), batches of moves undone in one step, and authors in the full-text index."""

from __future__ import annotations

import sqlite3

_OLD_CHECK = "'snoozed', 'published'))"
_NEW_CHECK = "'snoozed', 'published', 'dismissed', 'seen'))"

_SQL = """
-- A move of many items at once (dismissing the rest of the day) shares one batch number, so
-- one undo restores them all. NULL for a single move.
ALTER TABLE triage_log ADD COLUMN batch INTEGER;
CREATE INDEX triage_log_by_batch ON triage_log (batch) WHERE batch IS NOT NULL;

-- The full-text index now holds the authors too ("Muennighoff" finds the paper).
DROP TRIGGER items_fts_after_insert;
DROP TRIGGER items_fts_after_delete;
DROP TRIGGER items_fts_after_update;
DROP TABLE items_fts;
CREATE VIRTUAL TABLE items_fts USING fts5 (
    title, title_override, summary_text, commentary, authors,
    content = 'items', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER items_fts_after_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, title_override, summary_text, commentary, authors)
    VALUES (new.id, new.title, new.title_override, new.summary_text, new.commentary, new.authors);
END;
CREATE TRIGGER items_fts_after_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, title_override, summary_text, commentary, authors)
    VALUES ('delete', old.id, old.title, old.title_override, old.summary_text, old.commentary, old.authors);
END;
CREATE TRIGGER items_fts_after_update AFTER UPDATE OF title, title_override, summary_text, commentary, authors
ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, title_override, summary_text, commentary, authors)
    VALUES ('delete', old.id, old.title, old.title_override, old.summary_text, old.commentary, old.authors);
    INSERT INTO items_fts (rowid, title, title_override, summary_text, commentary, authors)
    VALUES (new.id, new.title, new.title_override, new.summary_text, new.commentary, new.authors);
END;
INSERT INTO items_fts (items_fts) VALUES ('rebuild');
"""


def triage_v8(conn: sqlite3.Connection, statements) -> None:
    # items.status gains two values. Widening a CHECK leaves every stored row valid, so the
    # table is not rebuilt (which would mean dropping the tables that reference it): SQLite's
    # documented way for such changes edits the stored schema and bumps schema_version
    # (https://www.sqlite.org/lang_altertable.html, "otheralter").
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'items'",
                 (_OLD_CHECK, _NEW_CHECK))
    conn.execute(f"PRAGMA schema_version = {version + 1}")
    conn.execute("PRAGMA writable_schema = OFF")
    stored = conn.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'items'").fetchone()[0]
    if _NEW_CHECK not in stored:  # the rollback of this transaction leaves the file as it was
        raise sqlite3.DatabaseError("migration 8: items.status CHECK constraint not found as expected")
    for statement in statements(_SQL):
        conn.execute(statement)
