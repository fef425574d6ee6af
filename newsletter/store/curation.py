"""The curator's work beside the item columns: triage with undo, today's picks and their
order, drafts saved while typing, related links and tag suggestions.

Functions that write expect to be called inside a transaction.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from ..errors import EditConflict, InputError, ItemLocked, NotFound
from ..model import Item, ItemStatus, RelatedLink, parse_utc, utc_iso
from . import items as item_store
from .items import get_item, get_items, set_status

MAX_COMMENTARY = 20_000  # characters; a few sentences are the norm
MAX_RELATED = 20


@dataclass(frozen=True)
class Draft:
    commentary: str
    tags: str  # as typed
    title_override: str
    saved: datetime


# --- triage -------------------------------------------------------------------------------


def triage(conn: sqlite3.Connection, item_id: int, status: ItemStatus, now: datetime, *,
           user_id: int | None, snoozed_until: datetime | None = None) -> Item:
    """Move an item (approve, reject, snooze, back to new), keep today's picks in step and log
    the move so it can be undone. ItemError for a move the model forbids."""
    row = conn.execute("SELECT status, snoozed_until FROM items WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise NotFound(f"no item {item_id}", what=item_id)
    before = ItemStatus(row["status"])
    position = _pick_position(conn, item_id)
    item = set_status(conn, item_id, status, now, snoozed_until=snoozed_until)
    if before is status and row["snoozed_until"] == (utc_iso(snoozed_until) if snoozed_until else None):
        return item
    conn.execute(
        "INSERT INTO triage_log (user_id, item_id, from_status, from_snoozed_until, from_pick_position, "
        "to_status, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, item_id, before.value, row["snoozed_until"], position, status.value, utc_iso(now)))
    _follow_status(conn, item_id, status)
    return item


def _follow_status(conn: sqlite3.Connection, item_id: int, status: ItemStatus,
                   position: int | None = None) -> None:
    if status is ItemStatus.APPROVED:
        if position is None:
            position = conn.execute("SELECT coalesce(max(position), 0) + 1 FROM picks").fetchone()[0]
        conn.execute("INSERT INTO picks (item_id, position) VALUES (?, ?) "
                     "ON CONFLICT (item_id) DO UPDATE SET position = excluded.position", (item_id, position))
    else:
        conn.execute("DELETE FROM picks WHERE item_id = ?", (item_id,))


def _pick_position(conn: sqlite3.Connection, item_id: int) -> int | None:
    row = conn.execute("SELECT position FROM picks WHERE item_id = ?", (item_id,)).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Undone:
    item: Item  # as it is now (the first of a batch)
    refused: str = ""  # why the move was not undone (the item moved on since); "" when it was
    restored: int = 1  # items moved back (a dismissed day: all of them at once)


def dismiss(conn: sqlite3.Connection, item_ids: Sequence[int], user_id: int | None, now: datetime) -> int:
    """"Done for today": these waiting items become dismissed, as one move (one batch in the
    log, undone together). Only new or snoozed items move; returns how many did."""
    batch = conn.execute("SELECT coalesce(max(batch), 0) + 1 FROM triage_log").fetchone()[0]
    stamp, moved = utc_iso(now), 0
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start:start + 500])
        marks = ",".join("?" * len(chunk))
        conn.execute(
            "INSERT INTO triage_log (user_id, item_id, from_status, from_snoozed_until, from_pick_position, "
            f"to_status, at, batch) SELECT ?, id, status, snoozed_until, NULL, 'dismissed', ?, ? FROM items "
            f"WHERE id IN ({marks}) AND status IN ('new', 'snoozed')", [user_id, stamp, batch, *chunk])
        moved += conn.execute(
            f"UPDATE items SET status = 'dismissed', status_changed = ?, snoozed_until = NULL "
            f"WHERE id IN ({marks}) AND status IN ('new', 'snoozed')", [stamp, *chunk]).rowcount
    return moved


def _undo_batch(conn: sqlite3.Connection, batch: int, now: datetime) -> Undone:
    """Every item of a dismissed day back to where it was; one moved on since stays put."""
    moved, first_id = conn.execute("SELECT count(*), min(item_id) FROM triage_log WHERE batch = ?",
                                   (batch,)).fetchone()
    conn.execute("UPDATE triage_log SET undone = 1 WHERE batch = ?", (batch,))
    restored = conn.execute(
        "UPDATE items SET status = log.from_status, snoozed_until = log.from_snoozed_until, status_changed = ? "
        "FROM triage_log AS log WHERE log.batch = ? AND log.item_id = items.id AND items.status = 'dismissed'",
        (utc_iso(now), batch)).rowcount
    kept = moved - restored
    return Undone(get_item(conn, first_id), restored=restored,
                  refused=f"{kept} of {moved} items moved on since and stayed" if kept and not restored else "")


def undo_last(conn: sqlite3.Connection, user_id: int | None, now: datetime) -> Undone | None:
    """Undo this curator's latest triage move not yet undone; None when there is none.
    A move whose item has changed since (another curator, a send) is not undone but
    used up all the same, with the reason, so the next undo reaches the move before it."""
    row = conn.execute(
        "SELECT * FROM triage_log WHERE user_id IS ? AND NOT undone ORDER BY id DESC LIMIT 1",
        (user_id,)).fetchone()
    if row is None:
        return None
    if row["batch"] is not None:
        return _undo_batch(conn, row["batch"], now)
    conn.execute("UPDATE triage_log SET undone = 1 WHERE id = ?", (row["id"],))
    item = get_item(conn, row["item_id"])
    if item.status.value != row["to_status"]:
        return Undone(item, refused=f"item {item.id} is {item.status} now (changed since); "
                                    f"its move to {row['to_status']} was not undone")
    previous = ItemStatus(row["from_status"])
    until = parse_utc(row["from_snoozed_until"]) if row["from_snoozed_until"] else None
    item = set_status(conn, item.id, previous, now, snoozed_until=until)
    _follow_status(conn, item.id, previous, row["from_pick_position"])
    return Undone(item)


# --- today's picks ------------------------------------------------------------------------


def picks(conn: sqlite3.Connection) -> list[Item]:
    """The approved items for the next issue, in the curator's order (those approved
    elsewhere, without a position, last, oldest approval first)."""
    ids = [row[0] for row in conn.execute(
        "SELECT items.id FROM items LEFT JOIN picks ON picks.item_id = items.id WHERE items.status = 'approved' "
        "ORDER BY picks.position IS NULL, picks.position, items.status_changed, items.id")]
    return get_items(conn, ids)


def set_pick_order(conn: sqlite3.Connection, item_ids: Sequence[int]) -> list[Item]:
    """Put these approved items first, in this order; the rest keep theirs after them."""
    current = [item.id for item in picks(conn)]
    unknown = [item_id for item_id in item_ids if item_id not in current]
    if unknown:
        raise InputError(f"not among today's picks: {', '.join(map(str, unknown))}")
    wanted = list(dict.fromkeys(item_ids))
    order = wanted + [item_id for item_id in current if item_id not in wanted]
    conn.execute("DELETE FROM picks")
    conn.executemany("INSERT INTO picks (item_id, position) VALUES (?, ?)",
                     [(item_id, position) for position, item_id in enumerate(order, start=1)])
    return picks(conn)


def move_pick(conn: sqlite3.Connection, item_id: int, offset: int) -> list[Item]:
    """Move one pick up (negative) or down (positive), clamped at the ends."""
    order = [item.id for item in picks(conn)]
    if item_id not in order:
        raise InputError(f"item {item_id} is not among today's picks")
    index = order.index(item_id)
    order.insert(max(0, min(len(order) - 1, index + offset)), order.pop(index))
    return set_pick_order(conn, order)


# --- drafts and edit versions ---------------------------------------------------------------


def edit_version(conn: sqlite3.Connection, item_id: int) -> str:
    """When the item's curator fields were last saved, as stored ('' = never): the version
    an edit form is based on."""
    row = conn.execute("SELECT edited FROM items WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise NotFound(f"no item {item_id}", what=item_id)
    return row["edited"] or ""


def check_version(conn: sqlite3.Connection, item_id: int, based_on: str | None) -> None:
    """EditConflict when the item was saved since `based_on` (None: the caller does not say)."""
    if based_on is None:
        return
    current = edit_version(conn, item_id)
    if current != based_on.strip():
        raise EditConflict(item_id, based_on.strip(), current or None)


def save_draft(conn: sqlite3.Connection, item_id: int, user_id: int, now: datetime, *, commentary: str,
               tags: str = "", title_override: str = "", based_on: str | None = None) -> Draft:
    """Keep what the curator is typing. A draft based on a version saved over since (a beacon
    sent as the page was left after its own save) is refused: it would bring old text back."""
    if len(commentary) > MAX_COMMENTARY:
        raise InputError(f"commentary longer than {MAX_COMMENTARY:,} characters")
    check_version(conn, item_id, based_on)
    conn.execute(
        "INSERT INTO drafts (item_id, user_id, commentary, tags, title_override, saved) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (item_id, user_id) DO UPDATE SET commentary = excluded.commentary, tags = excluded.tags, "
        "title_override = excluded.title_override, saved = excluded.saved",
        (item_id, user_id, commentary, tags[:2000], title_override[:1000], utc_iso(now)))
    return Draft(commentary, tags[:2000], title_override[:1000], now)


# A draft only counts while it is newer than the item's last saved edit: an older one would
# put back text that was saved over (the stored forms are same-width ISO, so text order is time order).
_NEWER_THAN_EDIT = "(items.edited IS NULL OR drafts.saved > items.edited)"


def get_draft(conn: sqlite3.Connection, item_id: int, user_id: int) -> Draft | None:
    """This curator's draft of the item, if it is newer than the item's last saved edit."""
    row = conn.execute(
        f"SELECT drafts.* FROM drafts JOIN items ON items.id = drafts.item_id "
        f"WHERE drafts.item_id = ? AND drafts.user_id = ? AND {_NEWER_THAN_EDIT}", (item_id, user_id)).fetchone()
    if row is None:
        return None
    return Draft(row["commentary"], row["tags"], row["title_override"], parse_utc(row["saved"]))


def drop_draft(conn: sqlite3.Connection, item_id: int, user_id: int) -> None:
    conn.execute("DELETE FROM drafts WHERE item_id = ? AND user_id = ?", (item_id, user_id))


def drafted(conn: sqlite3.Connection, user_id: int, item_ids: Sequence[int]) -> set[int]:
    """Which of these items this curator has an unsaved draft for."""
    if not item_ids:
        return set()
    marks = ",".join("?" * len(item_ids))
    return {row[0] for row in conn.execute(
        f"SELECT drafts.item_id FROM drafts JOIN items ON items.id = drafts.item_id "
        f"WHERE drafts.user_id = ? AND drafts.item_id IN ({marks}) AND {_NEWER_THAN_EDIT}", [user_id, *item_ids])}


# --- related links ------------------------------------------------------------------------


def set_related_links(conn: sqlite3.Connection, item_id: int, links: Iterable[RelatedLink]) -> None:
    links = list(links)
    if len(links) > MAX_RELATED:
        raise InputError(f"at most {MAX_RELATED} related links")
    locked = item_store.locking_issue(conn, item_id)
    if locked:
        raise ItemLocked(item_id, *locked)
    conn.execute("DELETE FROM related_links WHERE item_id = ?", (item_id,))
    conn.executemany("INSERT INTO related_links (item_id, position, url, title) VALUES (?, ?, ?, ?)",
                     [(item_id, position, link.url, link.title) for position, link in enumerate(links)])


# --- tags ---------------------------------------------------------------------------------


def suggest_tags(conn: sqlite3.Connection, fragment: str, limit: int = 10) -> list[str]:
    """Tags already used that contain `fragment` (normalised): those starting with it first,
    then the most used."""
    pattern = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute(
        "SELECT tag, count(*) AS uses FROM item_tags WHERE tag LIKE ? ESCAPE '\\' GROUP BY tag "
        "ORDER BY tag LIKE ? ESCAPE '\\' DESC, uses DESC, tag LIMIT ?",
        (f"%{pattern}%", f"{pattern}%", limit)).fetchall()
    return [row[0] for row in rows]
