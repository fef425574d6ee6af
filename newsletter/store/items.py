"""Items, their mentions and tags."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Iterable, Sequence

from ..errors import ItemError, ItemLocked, NotFound
from ..model import (
    Entry,
    Item,
    ItemKind,
    ItemStatus,
    Mention,
    RelatedLink,
    can_transition,
    parse_utc,
    utc_iso,
)

# Source-owned columns refresh only when the item's first source sends it again, so a
# paper does not flip between the wording of two listings; curator columns never change here.
# Nor does anything of an item already published or promised to an issue past draft: what
# was marked ready (or sent) is what the archive and a resumed send keep showing.
_UPSERT = """
INSERT INTO items (key, kind, source_id, url, title, summary_html, summary_text, authors,
                   categories, meta, published, first_seen, refreshed)
VALUES (:key, :kind, :source_id, :url, :title, :summary_html, :summary_text, :authors,
        :categories, :meta, :published, :now, :now)
ON CONFLICT (key) DO UPDATE SET
    url = excluded.url, title = excluded.title, summary_html = excluded.summary_html,
    summary_text = excluded.summary_text, authors = excluded.authors,
    categories = excluded.categories, meta = excluded.meta, published = excluded.published,
    refreshed = excluded.refreshed
WHERE items.source_id = excluded.source_id AND items.status != 'published'
  AND NOT EXISTS (SELECT 1 FROM issue_items JOIN issues ON issues.id = issue_items.issue_id
                  WHERE issue_items.item_id = items.id AND issues.status != 'draft')
"""

# A mention's numbers (HF upvotes) are the source's latest word, so they are replaced; a
# mention that says nothing this time ('{}', a link from a post) keeps what it had.
_MENTION = """
INSERT INTO mentions (item_key, source_id, url, first_seen, last_seen, meta)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (item_key, source_id, url) DO UPDATE SET last_seen = excluded.last_seen,
    meta = CASE WHEN excluded.meta = '{}' THEN mentions.meta ELSE excluded.meta END
"""


def upsert_entries(conn: sqlite3.Connection, source_id: str, entries: Sequence[Entry],
                   now: datetime, extra_mentions: Iterable[tuple[str, str]] = ()) -> int:
    """Store one source's entries and their mentions; return how many items are new.

    `extra_mentions` are (item key, url) pairs this source pointed at without carrying the
    item itself (an X post linking a paper). Call inside a transaction.
    """
    stamp = utc_iso(now)
    keys = [entry.key for entry in entries]
    known = existing_keys(conn, keys)
    conn.executemany(_UPSERT, (
        {
            "key": entry.key, "kind": entry.kind.value, "source_id": source_id, "url": entry.url,
            "title": entry.title, "summary_html": entry.summary_html,
            "summary_text": entry.summary_text,
            "authors": json.dumps(list(entry.authors), ensure_ascii=False),
            "categories": json.dumps(list(entry.categories), ensure_ascii=False),
            "meta": json.dumps(dict(entry.meta), ensure_ascii=False, default=str),
            "published": utc_iso(entry.published or now), "now": stamp,
        }
        for entry in entries
    ))
    mentions = [(entry.key, source_id, entry.mention_url or entry.url, stamp, stamp,
                 json.dumps(dict(entry.mention_meta), ensure_ascii=False, default=str)) for entry in entries]
    mentions += [(key, source_id, url, stamp, stamp, "{}") for key, url in extra_mentions]
    conn.executemany(_MENTION, mentions)
    return len(set(keys) - known)


def existing_keys(conn: sqlite3.Connection, keys: Sequence[str]) -> set[str]:
    """Which of these keys the store already has."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(row[0] for row in conn.execute(f"SELECT key FROM items WHERE key IN ({marks})", chunk))
    return found


def list_items(conn: sqlite3.Connection, *, status: ItemStatus | None = None,
               source_id: str | None = None, limit: int | None = None) -> list[Item]:
    """Items, newest first, with their tags and mentions."""
    where, params = [], []
    if status:
        where.append("status = ?")
        params.append(status.value)
    if source_id:
        # An item belongs to a source if that source brought it or mentioned it.
        where.append("(source_id = ? OR key IN (SELECT item_key FROM mentions WHERE source_id = ?))")
        params += [source_id, source_id]
    sql = "SELECT * FROM items"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY published DESC, id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = conn.execute(sql, params).fetchall()
    return _hydrate(conn, rows)


def get_item(conn: sqlite3.Connection, item_id: int) -> Item | None:
    rows = conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchall()
    items = _hydrate(conn, rows)
    return items[0] if items else None


def get_item_by_key(conn: sqlite3.Connection, key: str) -> Item | None:
    rows = conn.execute("SELECT * FROM items WHERE key = ?", (key,)).fetchall()
    items = _hydrate(conn, rows)
    return items[0] if items else None


def get_items(conn: sqlite3.Connection, ids: Sequence[int]) -> list[Item]:
    """Items by id, in the order given; unknown ids are left out."""
    rows: list[sqlite3.Row] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        rows += conn.execute(f"SELECT * FROM items WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    by_id = {item.id: item for item in _hydrate(conn, rows)}
    return [by_id[item_id] for item_id in ids if item_id in by_id]


def _hydrate(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Item]:
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    keys = [row["key"] for row in rows]
    tags: dict[int, list[str]] = {}
    mentions: dict[str, list[Mention]] = {}
    related: dict[int, list[RelatedLink]] = {}
    for start in range(0, len(rows), 500):
        id_chunk, key_chunk = ids[start:start + 500], keys[start:start + 500]
        marks = ",".join("?" * len(id_chunk))
        for row in conn.execute(
                f"SELECT item_id, tag FROM item_tags WHERE item_id IN ({marks}) ORDER BY position",
                id_chunk):
            tags.setdefault(row[0], []).append(row[1])
        for row in conn.execute(
                f"SELECT item_id, url, title FROM related_links WHERE item_id IN ({marks}) ORDER BY position",
                id_chunk):
            related.setdefault(row[0], []).append(RelatedLink(row[1], row[2]))
        for row in conn.execute(
                f"SELECT * FROM mentions WHERE item_key IN ({marks}) ORDER BY first_seen, source_id",
                key_chunk):
            mentions.setdefault(row["item_key"], []).append(Mention(
                source_id=row["source_id"], url=row["url"],
                first_seen=parse_utc(row["first_seen"]), last_seen=parse_utc(row["last_seen"]),
                meta=json.loads(row["meta"])))
    return [
        Item(
            id=row["id"], key=row["key"], kind=ItemKind(row["kind"]), source_id=row["source_id"],
            url=row["url"], title=row["title"], summary_html=row["summary_html"],
            summary_text=row["summary_text"], authors=tuple(json.loads(row["authors"])),
            categories=tuple(json.loads(row["categories"])), published=parse_utc(row["published"]),
            first_seen=parse_utc(row["first_seen"]), status=ItemStatus(row["status"]),
            commentary=row["commentary"], title_override=row["title_override"],
            section_override=row["section_override"], tags=tuple(tags.get(row["id"], ())),
            mentions=tuple(mentions.get(row["key"], ())), meta=json.loads(row["meta"]),
            related=tuple(related.get(row["id"], ())),
        )
        for row in rows
    ]




def locking_issue(conn: sqlite3.Connection, item_id: int) -> tuple[str, str] | None:
    """(issue date, status) of an issue past draft that holds the item, or None: such an item
    is frozen (DESIGN: what was marked ready is what goes out; a sent issue never changes)."""
    row = conn.execute(
        "SELECT issues.issue_date, issues.status FROM issue_items JOIN issues ON issues.id = issue_items.issue_id "
        "WHERE issue_items.item_id = ? AND issues.status != 'draft' ORDER BY issues.issue_date DESC LIMIT 1",
        (item_id,)).fetchone()
    return (row[0], row[1]) if row else None


def set_status(conn: sqlite3.Connection, item_id: int, status: ItemStatus, now: datetime,
               *, snoozed_until: datetime | None = None) -> Item:
    """Move an item to a new state; raise ItemError for a move the model forbids, and
    ItemLocked for any move of an item in a ready, sending or sent issue but
    the one a finished send makes (approved -> published, its issue sent by then)."""
    item = get_item(conn, item_id)
    if item is None:
        raise NotFound(f"no item {item_id}", what=item_id)
    if item.status != status and not can_transition(item.status, status):
        raise ItemError(f"is {item.status}; it cannot become {status}", item_id=item_id)
    locked = locking_issue(conn, item_id)
    if locked and not (status is ItemStatus.PUBLISHED and locked[1] == "sent"):
        if item.status == status:
            return item  # nothing would change
        raise ItemLocked(item_id, *locked)
    conn.execute(
        "UPDATE items SET status = ?, status_changed = ?, snoozed_until = ? WHERE id = ?",
        (status.value, utc_iso(now), utc_iso(snoozed_until) if snoozed_until else None, item_id))
    return get_item(conn, item_id)


def annotate(conn: sqlite3.Connection, item_id: int, now: datetime, *, commentary: str | None = None,
             tags: Sequence[str] | None = None, title_override: str | None = None,
             section_override: str | None = None) -> Item:
    """Save the curator's edits; fields left None stay as they are. Call inside a transaction.
    Raises ItemLocked if any field is given for an item in a ready, sending or
    sent issue."""
    if get_item(conn, item_id) is None:
        raise NotFound(f"no item {item_id}", what=item_id)
    if any(value is not None for value in (commentary, tags, title_override, section_override)):
        locked = locking_issue(conn, item_id)
        if locked:
            raise ItemLocked(item_id, *locked)
    updates = {"commentary": commentary, "title_override": title_override,
               "section_override": section_override}
    for column, value in updates.items():
        if value is not None:
            conn.execute(f"UPDATE items SET {column} = ?, edited = ? WHERE id = ?",
                         (value or None if column != "commentary" else value, utc_iso(now), item_id))
    if tags is not None:
        conn.execute("DELETE FROM item_tags WHERE item_id = ?", (item_id,))
        conn.executemany("INSERT OR IGNORE INTO item_tags (item_id, tag, position) VALUES (?, ?, ?)",
                         [(item_id, tag, position) for position, tag in enumerate(tags)])
        conn.execute("UPDATE items SET edited = ? WHERE id = ?", (utc_iso(now), item_id))
    return get_item(conn, item_id)


def mark_seen(conn: sqlite3.Connection, keys: Sequence[str], now: datetime) -> None:
    """New items that never wait in the queue (older than a first collect's window): stored,
    searchable and approvable, not waiting. Call inside a transaction."""
    for start in range(0, len(keys), 500):
        chunk = list(keys[start:start + 500])
        conn.execute(f"UPDATE items SET status = 'seen', status_changed = ? WHERE status = 'new' AND key IN "
                     f"({','.join('?' * len(chunk))})", [utc_iso(now), *chunk])
