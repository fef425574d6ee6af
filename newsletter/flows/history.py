"""Cold start: the curator's past picks, imported as published items that were never mailed.

A history file holds one arXiv id or URL (abs/pdf, any version) or any other http(s) URL a
line, optionally followed by a date (`2407.13623 2024-07-19`), or CSV rows `id,date` (a header
row is skipped). Papers get their metadata from the arXiv API in batches of at most 100 ids,
spaced as arXiv asks; other URLs are kept as they are. Known items are left alone, so running
it again imports only what is new; bad lines are reported with their numbers and the rest goes
in. The ranker learns from these items as it does from approved ones.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Callable, Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ..collect import arxiv
from ..collect.http import HttpClient
from ..config import Settings
from ..errors import InputError, SourceError
from ..model import Entry, ItemKind
from ..store import ranking, transaction
from ..store.items import existing_keys, upsert_entries
from ..text import arxiv_id, canonical_url, item_key
from .add import arxiv_api_url

BATCH = 100  # ids per arXiv API request (its limit for a short URL and one page)


@dataclass(frozen=True)
class HistoryLine:
    number: int
    key: str  # arxiv:<id> or the canonical URL
    url: str
    day: date | None


@dataclass(frozen=True)
class BadLine:
    number: int
    text: str
    error: str

    def as_json(self) -> dict:
        return {"line": self.number, "text": self.text, "error": self.error}


@dataclass
class HistoryReport:
    imported: int = 0
    known: int = 0
    bad: list[BadLine] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"imported": self.imported, "known": self.known, "bad": [b.as_json() for b in self.bad]}


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError as e:
        raise InputError(f"not a date (YYYY-MM-DD): {text.strip()[:40]!r}") from e


def _line(number: int, ref: str, day_text: str) -> HistoryLine:
    ref = ref.strip()
    day = _day(day_text) if day_text.strip() else None
    if found := arxiv_id(ref):
        return HistoryLine(number, f"arxiv:{found[0]}", f"https://arxiv.org/abs/{found[0]}", day)
    if urlsplit(ref).scheme.lower() in ("http", "https") and urlsplit(ref).netloc:
        return HistoryLine(number, item_key(ref), canonical_url(ref), day)
    raise InputError(f"not an arXiv id or an http(s) URL: {ref[:80]!r}")


def parse_history(text: str) -> tuple[list[HistoryLine], list[BadLine]]:
    """Pure: the lines of a history file, and the ones that are not lines of one."""
    lines, bad, seen = [], [], set()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "," in stripped:
            cells = next(csv.reader(io.StringIO(stripped)))
            ref, day_text = (cells + ["", ""])[:2]
            if number == 1 and ref.strip().lower() in ("id", "url", "arxiv", "arxiv_id"):
                continue  # the CSV header
        else:
            ref, _, day_text = stripped.partition(" ")
        try:
            line = _line(number, ref, day_text)
        except InputError as e:
            bad.append(BadLine(number, stripped[:200], str(e)))
            continue
        if line.key not in seen:
            seen.add(line.key)
            lines.append(line)
    return lines, bad


def _published(entry: Entry, line: HistoryLine, zone: ZoneInfo) -> datetime:
    """When the curator picked it: the line's date (noon, local), else the paper's own date."""
    if line.day is None:
        return entry.published
    return datetime.combine(line.day, time(12), tzinfo=zone)


def _url_entry(line: HistoryLine, now: datetime) -> Entry:
    parts = urlsplit(line.url)
    return Entry(key=line.key, kind=ItemKind.POST, url=line.url, title=f"{parts.hostname}{parts.path}",
                 summary_html="", summary_text="", published=now, meta={"via": "history"})


async def import_history(conn: sqlite3.Connection, settings: Settings, http: HttpClient,
                         lines: Sequence[HistoryLine], now: datetime, *, bad: Sequence[BadLine] = (),
                         on_progress: Callable[[int], None] | None = None) -> HistoryReport:
    """Import what is not known yet (`bad`: the file's unreadable lines, reported along);
    `on_progress(n)` after each batch of n lines."""
    report = HistoryReport(bad=list(bad))
    known = existing_keys(conn, [line.key for line in lines])
    report.known = len(known)
    todo = [line for line in lines if line.key not in known]
    zone = settings.newsletter.zone
    papers = [line for line in todo if line.key.startswith("arxiv:")]
    others = [line for line in todo if not line.key.startswith("arxiv:")]
    if others:
        report.imported += _store(conn, [(_url_entry(line, now), line) for line in others], now, zone)
        if on_progress:
            on_progress(len(others))
    for start in range(0, len(papers), BATCH):
        batch = papers[start:start + BATCH]
        try:
            found = await arxiv.lookup([line.key.removeprefix("arxiv:") for line in batch], http, settings,
                                       api_url=arxiv_api_url(settings))
        except SourceError as e:  # this batch is lost, not the import: run again to retry it
            report.bad += [BadLine(line.number, line.url, f"arXiv API: {e}") for line in batch]
        else:
            by_key = {entry.key: entry for entry in found}
            pairs = [(by_key[line.key], line) for line in batch if line.key in by_key]
            report.bad += [BadLine(line.number, line.url, "arXiv has no such paper")
                           for line in batch if line.key not in by_key]
            report.imported += _store(conn, pairs, now, zone)
        if on_progress:
            on_progress(len(batch))
    report.bad.sort(key=lambda b: b.number)
    return report


def _store(conn: sqlite3.Connection, pairs: Sequence[tuple[Entry, HistoryLine]], now: datetime,
           zone: ZoneInfo) -> int:
    if not pairs:
        return 0
    with transaction(conn):
        new = upsert_entries(conn, ranking.HISTORY_SOURCE, [entry for entry, _ in pairs], now)
        ranking.mark_imported(conn, [(entry.key, _published(entry, line, zone)) for entry, line in pairs])
    return new
