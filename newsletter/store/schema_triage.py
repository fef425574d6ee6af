"""Migration 8: "done for today" and the first collect's backfill window (two more item
states), batches of moves undone in one step, and authors in the full-text index."""

from __future__ import annotations

import sqlite3

from .schema_edit import widen_check

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
    # items.status gains two values
    widen_check(conn, table="items", old=_OLD_CHECK, new=_NEW_CHECK, migration=8)
    for statement in statements(_SQL):
        conn.execute(statement)
