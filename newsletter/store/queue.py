"""The editor queue: items waiting for a decision, grouped by section, filtered, searched, paged.

A snoozed item whose time has passed is waiting again: that is a rule of these queries (no
job has to wake it), so it holds whatever the clock says and costs no write.
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..errors import InputError
from ..model import Item, ItemStatus, parse_utc, utc_iso
from ..sections import Sections
from .items import get_items
from .ranking import scores_of

# Snoozed items come back at this local hour: the next collect of the morning runs at 06:00.
SNOOZE_WAKE_HOUR = 6
MIN_TRIGRAM = 3  # the trigram tokenizer cannot match anything shorter
STATUS_FILTERS = ("waiting", "approved", "rejected", "snoozed", "published", "dismissed", "seen", "all")
ORDERS = ("score", "newest")


def snooze_until(now: datetime, zone: ZoneInfo, wake_hour: int = SNOOZE_WAKE_HOUR) -> datetime:
    """The next morning in the newsletter's zone: the next local `wake_hour`:00 after now
    (the same day when snoozing before dawn), in UTC."""
    local = now.astimezone(zone)
    wake = datetime.combine(local.date(), time(wake_hour), tzinfo=zone)
    if wake <= local:
        wake = datetime.combine(local.date() + timedelta(days=1), time(wake_hour), tzinfo=zone)
    return wake.astimezone(now.tzinfo)


def effective_status(status: ItemStatus, snoozed_until: datetime | None, now: datetime) -> ItemStatus:
    """What the queue shows: a snoozed item whose time has passed is new again."""
    if status is ItemStatus.SNOOZED and (snoozed_until is None or snoozed_until <= now):
        return ItemStatus.NEW
    return status


@dataclass(frozen=True)
class QueueFilter:
    status: str = "waiting"  # one of STATUS_FILTERS
    section: str = ""
    source: str = ""
    day: date | None = None  # published on this local date
    query: str = ""
    order: str = "score"  # "score": the ranker's order within each section; "newest": newest first

    def __post_init__(self):
        if self.order not in ORDERS:
            raise InputError(f"unknown order {self.order!r} (one of {', '.join(ORDERS)})")
        if self.status not in STATUS_FILTERS:
            raise InputError(f"unknown status filter {self.status!r} (one of {', '.join(STATUS_FILTERS)})")


@dataclass(frozen=True)
class QueueEntry:
    item: Item
    section: str
    status: ItemStatus  # effective: a snoozed item past its time shows as new
    snoozed_until: datetime | None
    score: float | None = None  # the ranker's, while the item waits
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueuePage:
    entries: tuple[QueueEntry, ...]
    total: int
    page: int
    pages: int
    per_page: int
    section_counts: tuple[tuple[str, int], ...] = field(default=())  # all sections, in order

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page


def search_terms(query: str) -> list[str]:
    """Words of a search, quotes dropped; '"large language"' stays one phrase."""
    terms = re.findall(r'"([^"]+)"|(\S+)', query)
    return [t.strip() for pair in terms for t in pair if t.strip()]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search_sql(query: str) -> tuple[list[str], list]:
    """One condition per term, all must hold. Terms of 3+ characters use the trigram index;
    shorter ones (2-syllable Korean words are common: 모델, 연구) a LIKE scan. Hashtags match too."""
    where, params = [], []
    for term in search_terms(query):
        tag = _like(term.lstrip("#").lower())
        in_tags = "items.id IN (SELECT item_id FROM item_tags WHERE tag LIKE ? ESCAPE '\\')"
        if len(term) >= MIN_TRIGRAM:
            where.append(f"(items.id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?) OR {in_tags})")
            params += ['"' + term.replace('"', '""') + '"', tag]
        else:
            pattern = _like(term)
            columns = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in
                                  ("items.title", "items.title_override", "items.summary_text", "items.commentary",
                                   "items.authors"))
            where.append(f"({columns} OR {in_tags})")
            params += [pattern] * 5 + [tag]
    return where, params


def _relevance_sql(query: str) -> tuple[str, list]:
    """Columns that order search results: the whole query as the title, the query inside the
    title, then FTS5's bm25 over the words long enough for the index (lower is better)."""
    whole = query.strip().strip('"').lower()
    long_terms = [term for term in search_terms(query) if len(term) >= MIN_TRIGRAM]
    bm25 = ("(SELECT bm25(items_fts) FROM items_fts WHERE items_fts MATCH ? AND items_fts.rowid = items.id)"
            if long_terms else "NULL")
    sql = ("(lower(items.title) = ? OR lower(coalesce(items.title_override, '')) = ?) AS exact_title, "
           "(instr(lower(items.title), ?) > 0 OR instr(lower(coalesce(items.title_override, '')), ?) > 0) AS in_title, "
           f"coalesce({bm25}, 0) AS relevance")
    params = [whole, whole, whole, whole]
    if long_terms:
        params.append(" ".join('"' + term.replace('"', '""') + '"' for term in long_terms))
    return sql, params


def _filter_sql(flt: QueueFilter, now: datetime, zone: ZoneInfo) -> tuple[list[str], list]:
    """WHERE conditions for everything but the section."""
    where, params = [], []
    stamp = utc_iso(now)
    if flt.status == "waiting":
        where.append("(items.status = 'new' OR (items.status = 'snoozed' AND "
                     "(items.snoozed_until IS NULL OR items.snoozed_until <= ?)))")
        params.append(stamp)
    elif flt.status == "snoozed":
        where.append("items.status = 'snoozed' AND items.snoozed_until > ?")
        params.append(stamp)
    elif flt.status != "all":
        where.append("items.status = ?")
        params.append(flt.status)
    if flt.source:
        where.append("(items.source_id = ? OR items.key IN (SELECT item_key FROM mentions WHERE source_id = ?))")
        params += [flt.source, flt.source]
    if flt.day:
        start = datetime.combine(flt.day, time(0), tzinfo=zone)
        end = datetime.combine(flt.day + timedelta(days=1), time(0), tzinfo=zone)
        where.append("items.published >= ? AND items.published < ?")
        params += [utc_iso(start), utc_iso(end)]
    if flt.query.strip():
        terms, term_params = _search_sql(flt.query)
        where += terms
        params += term_params
    return where, params


def queue_page(conn: sqlite3.Connection, sections: Sections, flt: QueueFilter, *, now: datetime,
               zone: ZoneInfo, page: int = 1, per_page: int = 50) -> QueuePage:
    """One page of the queue: sections in their configured order; within each, the ranker's
    order (best first, unscored items after) or, with order "newest", newest first; with the
    count of every section under the same filters (whatever section is chosen)."""
    section_sql, section_params = sections.sql()
    where, params = _filter_sql(flt, now, zone)
    searching = bool(flt.query.strip())
    relevance_sql, relevance_params = _relevance_sql(flt.query) if searching else ("0 AS relevance", [])
    base = (f"SELECT items.id, items.published, items.status, items.snoozed_until, {section_sql} AS section, "
            f"item_scores.score AS score, {relevance_sql} FROM items "
            "LEFT JOIN item_scores ON item_scores.item_id = items.id"
            + (" WHERE " + " AND ".join(where) if where else ""))
    base_params = section_params + relevance_params + params

    counts = dict(conn.execute(f"SELECT section, count(*) FROM ({base}) GROUP BY section",
                               base_params).fetchall())
    ordered = sorted(counts, key=lambda name: (sections.rank(name), name))
    section_counts = tuple((name, counts[name]) for name in ordered)
    total = counts.get(flt.section, 0) if flt.section else sum(counts.values())

    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rank_sql = "CASE section " + " ".join("WHEN ? THEN ?" for _ in sections.order) + \
        f" ELSE {len(sections.order)} END" if sections.order else "0"
    rank_params = [value for index, name in enumerate(sections.order) for value in (name, index)]
    # Scores rank waiting items only: a decided item keeps its last score, which means nothing now.
    within = "score IS NULL, score DESC," if flt.order == "score" and flt.status == "waiting" else ""
    if searching:  # what was searched for comes first, whatever its section; then the ranker's order
        order_sql = "exact_title DESC, in_title DESC, relevance, score IS NULL, score DESC, published DESC, id DESC"
        rank_params = []
    else:
        order_sql = f"{rank_sql}, section, {within} published DESC, id DESC"
    sql = f"SELECT * FROM ({base})" + (" WHERE section = ?" if flt.section else "") + \
        f" ORDER BY {order_sql} LIMIT ? OFFSET ?"
    rows = conn.execute(sql, base_params + ([flt.section] if flt.section else []) + rank_params
                        + [per_page, (page - 1) * per_page]).fetchall()
    ids = [row["id"] for row in rows]
    items = {item.id: item for item in get_items(conn, ids)}
    scores = scores_of(conn, ids)
    entries = []
    for row in rows:
        until = parse_utc(row["snoozed_until"]) if row["snoozed_until"] else None
        status = effective_status(ItemStatus(row["status"]), until, now)
        score, reasons = scores.get(row["id"], (None, ())) if status is ItemStatus.NEW else (None, ())
        entries.append(QueueEntry(item=items[row["id"]], section=row["section"], status=status,
                                  snoozed_until=until, score=score, reasons=reasons))
    return QueuePage(entries=tuple(entries), total=total, page=page, pages=pages, per_page=per_page,
                     section_counts=section_counts)


def queue_entry(conn: sqlite3.Connection, sections: Sections, item_id: int, now: datetime) -> QueueEntry | None:
    row = conn.execute("SELECT snoozed_until FROM items WHERE id = ?", (item_id,)).fetchone()
    found = get_items(conn, [item_id])
    if row is None or not found:
        return None
    item = found[0]
    until = parse_utc(row["snoozed_until"]) if row["snoozed_until"] else None
    status = effective_status(item.status, until, now)
    score, reasons = scores_of(conn, [item_id]).get(item_id, (None, ())) if status is ItemStatus.NEW else (None, ())
    return QueueEntry(item=item, section=sections.of(item), status=status, snoozed_until=until,
                      score=score, reasons=reasons)


def waiting_count(conn: sqlite3.Connection, now: datetime) -> int:
    return conn.execute(
        "SELECT count(*) FROM items WHERE status = 'new' OR (status = 'snoozed' AND "
        "(snoozed_until IS NULL OR snoozed_until <= ?))", (utc_iso(now),)).fetchone()[0]


def waiting_ids(conn: sqlite3.Connection, sections: Sections, now: datetime, *, section: str = "",
                before: datetime | None = None) -> list[int]:
    """The waiting items of one section (or all), published before `before` if given."""
    section_sql, params = sections.sql()
    where, where_params = _filter_sql(QueueFilter(status="waiting"), now, ZoneInfo("UTC"))
    if before is not None:
        where.append("items.published < ?")
        where_params.append(utc_iso(before))
    sql = f"SELECT id, {section_sql} AS section FROM items WHERE " + " AND ".join(where)
    rows = conn.execute(f"SELECT id FROM ({sql})" + (" WHERE section = ?" if section else "") + " ORDER BY id",
                        params + where_params + ([section] if section else [])).fetchall()
    return [row[0] for row in rows]
