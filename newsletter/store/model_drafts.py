"""Model drafts of commentary and the count of model calls (migration 9)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from ..model import parse_utc, utc_iso


@dataclass(frozen=True)
class ModelDraft:
    item_id: int
    model: str
    prompt: str  # JSON messages, as sent
    text: str
    error: str
    created: datetime


def get(conn: sqlite3.Connection, item_id: int) -> ModelDraft | None:
    row = conn.execute("SELECT * FROM model_drafts WHERE item_id = ?", (item_id,)).fetchone()
    if row is None:
        return None
    return ModelDraft(row["item_id"], row["model"], row["prompt"], row["text"], row["error"], parse_utc(row["created"]))


def save(conn: sqlite3.Connection, item_id: int, *, model: str, prompt: str, text: str = "", error: str = "",
         now: datetime) -> None:
    """The latest attempt; a failure keeps the last good text and notes why."""
    conn.execute(
        "INSERT INTO model_drafts (item_id, model, prompt, text, error, created) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (item_id) DO UPDATE SET model = excluded.model, prompt = excluded.prompt, "
        "text = CASE WHEN excluded.error = '' THEN excluded.text ELSE model_drafts.text END, "
        "error = excluded.error, created = excluded.created",
        (item_id, model, prompt, text, error, utc_iso(now)))


def record_call(conn: sqlite3.Connection, item_id: int | None, now: datetime, ok: bool) -> None:
    conn.execute("INSERT INTO model_calls (item_id, at, ok) VALUES (?, ?, ?)", (item_id, utc_iso(now), int(ok)))


def calls_since(conn: sqlite3.Connection, since: datetime) -> int:
    return conn.execute("SELECT count(*) FROM model_calls WHERE at >= ?", (utc_iso(since),)).fetchone()[0]


def commented_items(conn: sqlite3.Connection, limit: int = 2000) -> list[int]:
    """Items the curator wrote commentary for and picked, newest decision first."""
    return [row[0] for row in conn.execute(
        "SELECT id FROM items WHERE commentary != '' AND status IN ('approved', 'published') "
        "ORDER BY coalesce(status_changed, published) DESC LIMIT ?", (limit,))]


def tagged_items(conn: sqlite3.Connection, limit: int = 2000) -> list[int]:
    return [row[0] for row in conn.execute(
        "SELECT DISTINCT item_id FROM item_tags ORDER BY item_id DESC LIMIT ?", (limit,))]
