"""What the ranker reads (the curator's decisions, the waiting items) and writes (scores)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from ..model import Item, ItemStatus, parse_utc, utc_iso
from .items import get_items

# Items brought in by `newsletter history import`: published, never mailed.
HISTORY_SOURCE = "history"


@dataclass(frozen=True)
class Decision:
    item: Item
    status: ItemStatus  # approved / published (+), rejected (-), dismissed (weak -)
    when: datetime  # when the curator decided (an imported pick: the date it came with)


def decisions(conn: sqlite3.Connection) -> list[Decision]:
    """Every item the curator decided on, with when."""
    rows = conn.execute(
        "SELECT id, status, coalesce(status_changed, published) AS moment FROM items "
        "WHERE status IN ('approved', 'published', 'rejected', 'dismissed')").fetchall()
    items = {item.id: item for item in get_items(conn, [row["id"] for row in rows])}
    return [Decision(items[row["id"]], ItemStatus(row["status"]), parse_utc(row["moment"]))
            for row in rows if row["id"] in items]


def waiting_items(conn: sqlite3.Connection, now: datetime) -> list[Item]:
    """What the queue shows as waiting: new items, and snoozed ones whose time has come."""
    ids = [row[0] for row in conn.execute(
        "SELECT id FROM items WHERE status = 'new' OR (status = 'snoozed' AND "
        "(snoozed_until IS NULL OR snoozed_until <= ?)) ORDER BY id", (utc_iso(now),))]
    return get_items(conn, ids)


def replace_scores(conn: sqlite3.Connection, scores: Iterable[tuple[int, float, Sequence[str]]],
                   now: datetime) -> int:
    """The new scores of every waiting item; rows of items not scored now are dropped."""
    rows = [(item_id, float(score), json.dumps(list(reasons), ensure_ascii=False), utc_iso(now))
            for item_id, score, reasons in scores]
    conn.execute("DELETE FROM item_scores")
    conn.executemany("INSERT INTO item_scores (item_id, score, reasons, scored) VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def scores_of(conn: sqlite3.Connection, item_ids: Sequence[int]) -> dict[int, tuple[float, tuple[str, ...]]]:
    found: dict[int, tuple[float, tuple[str, ...]]] = {}
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start:start + 500])
        for row in conn.execute(f"SELECT item_id, score, reasons FROM item_scores WHERE item_id IN "
                                f"({','.join('?' * len(chunk))})", chunk):
            found[row["item_id"]] = (row["score"], tuple(json.loads(row["reasons"])))
    return found


def mark_imported(conn: sqlite3.Connection, picked: Sequence[tuple[str, datetime]]) -> None:
    """Imported history: these new items become published, picked at the given moments (no
    issue carried them; the state machine's approved -> published step does not apply)."""
    conn.executemany("UPDATE items SET status = 'published', status_changed = ? WHERE key = ? AND status = 'new'",
                     [(utc_iso(moment), key) for key, moment in picked])


def top_waiting(conn: sqlite3.Connection, now: datetime, limit: int) -> list[int]:
    """The best-scored waiting items, best first."""
    return [row[0] for row in conn.execute(
        "SELECT items.id FROM items JOIN item_scores ON item_scores.item_id = items.id WHERE items.status = 'new' "
        "OR (items.status = 'snoozed' AND (items.snoozed_until IS NULL OR items.snoozed_until <= ?)) "
        "ORDER BY item_scores.score DESC, items.id LIMIT ?", (utc_iso(now), limit))]
