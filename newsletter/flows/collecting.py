"""Collecting: every active source concurrently, fetch -> parse -> store, one transaction a
source; one source's failure never stops the others."""

from __future__ import annotations

import asyncio
import importlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Protocol, Sequence

from ..collect import Fetched
from ..collect.http import HttpClient
from ..config import CollectSettings, Settings, SourceConfig
from ..errors import ConfigError, SourceError, StoreError
from ..kinds import KINDS
from ..model import Entry, FetchOutcome, SourceHealth, SourceKind, SourceResult
from ..store import items as item_store
from ..store import runs as run_store
from ..store import sources as source_store
from ..store import is_damage, transaction
from ..text import item_key


log = logging.getLogger(__name__)


class Collector(Protocol):
    def __call__(self, source: SourceConfig, http: HttpClient, health: SourceHealth,
                 settings: Settings, now: datetime) -> Awaitable[Fetched]: ...


# Each kind's collector, from the one registry (newsletter/kinds.py).
COLLECTORS: dict[SourceKind, Collector] = {
    kind: importlib.import_module(spec.collector).collect for kind, spec in KINDS.items()}


@dataclass(frozen=True)
class CollectReport:
    results: tuple[SourceResult, ...]

    @property
    def new(self) -> int:
        return sum(result.new for result in self.results)

    @property
    def all_failed(self) -> bool:
        return bool(self.results) and all(r.status is FetchOutcome.ERROR for r in self.results)

    def as_json(self) -> dict:
        return {
            "sources": [
                {"id": r.source_id, "kind": r.kind, "status": r.status.value, "fetched": r.fetched,
                 "new": r.new, "error": r.error, "note": r.note}
                for r in self.results
            ],
            "new": self.new,
        }


async def collect_all(settings: Settings, conn: sqlite3.Connection, http: HttpClient, *,
                      clock: Callable[[], datetime], only: Sequence[str] = (),
                      on_result: Callable[[SourceResult], None] | None = None) -> CollectReport:
    """Collect every active source (or those in `only`) concurrently; one source's failure
    never stops the others. Each source's results land in one transaction."""
    if only:
        unknown = [source_id for source_id in only if source_id not in {s.id for s in settings.sources}]
        if unknown:
            raise ConfigError(f"no such source: {', '.join(unknown)}", path=settings.path)
        sources = [settings.source(source_id) for source_id in only]
    else:
        sources = list(settings.active_sources)
    run_id = run_store.start_run(conn, "collect", clock())

    async def one(source: SourceConfig) -> SourceResult:
        reason = settings.disabled_reason(source)
        if reason:
            result = SourceResult(source.id, source.kind.value, FetchOutcome.ERROR,
                                  error=f"{source.id}: not collected: {reason}")
        else:
            result = await collect_source(source, settings, conn, http, clock)
        if on_result:
            on_result(result)
        return result

    results = await asyncio.gather(*(one(source) for source in sources))
    report = CollectReport(tuple(results))
    outcome = "failed" if report.all_failed else (
        "partial" if any(r.status is FetchOutcome.ERROR for r in results) else "ok")
    try:
        run_store.finish_run(conn, run_id, clock(), outcome=outcome, detail=report.as_json())
    except sqlite3.Error as e:
        raise StoreError(f"collect run {run_id} ended ({outcome}) but the database refused to record it: {e}") from e
    return report


async def collect_source(source: SourceConfig, settings: Settings, conn: sqlite3.Connection,
                         http: HttpClient, clock: Callable[[], datetime]) -> SourceResult:
    kind = source.kind.value
    health = source_store.get_health(conn, source.id, kind)
    try:
        fetched = await COLLECTORS[source.kind](source, http, health, settings, clock())
    except SourceError as e:
        return _failed(conn, source, clock(), str(e) if e.source_id else f"{source.id}: {e}")
    except Exception as e:  # a bug in one collector must not stop the others
        return _failed(conn, source, clock(), f"{source.id}: internal error: {type(e).__name__}: {e}")

    try:
        return _store(source, settings, conn, health, fetched, clock())
    except sqlite3.Error as e:  # a full disk, a damaged file: this source's rows were rolled back
        damage = " (the database file is damaged: restore a backup)" if is_damage(e) else ""
        return _failed(conn, source, clock(), f"{source.id}: fetched {len(fetched.listing.entries)} entries "
                                              f"but could not store them: {e}{damage}")


def _failed(conn: sqlite3.Connection, source: SourceConfig, now: datetime, error: str) -> SourceResult:
    try:
        source_store.record_failure(conn, source.id, source.kind.value, now, error)
    except sqlite3.Error:  # the store that failed the source may refuse this too: the result still says it
        log.exception("%s: could not record the failure in the database", source.id)
    return SourceResult(source.id, source.kind.value, FetchOutcome.ERROR, error=error)


def _store(source: SourceConfig, settings: Settings, conn: sqlite3.Connection, health: SourceHealth,
           fetched: Fetched, now: datetime) -> SourceResult:
    """One source's entries, mentions and health in one transaction: all or nothing."""
    kind = source.kind.value
    listing = fetched.listing
    first_collect = health.last_success is None
    with transaction(conn):
        old = backfill(listing.entries, now, settings.collect) if first_collect else []
        known = item_store.existing_keys(conn, old)
        unseen = [key for key in old if key not in known]  # an item another source brought keeps its state
        new = item_store.upsert_entries(conn, source.id, listing.entries, now,
                                        extra_mentions=linked_mentions(listing.entries))
        item_store.mark_seen(conn, unseen, now)
        source_store.record_success(
            conn, source.id, kind, now, new_items=new, etag=fetched.etag,
            last_modified=fetched.last_modified,
            state={**health.state, **listing.state} if listing.state else None)
    status = FetchOutcome.NOT_MODIFIED if fetched.not_modified else FetchOutcome.OK
    return SourceResult(source.id, kind, status, fetched=len(listing.entries), new=new,
                        note=listing.note)


def backfill(entries: Sequence[Entry], now: datetime, collect: CollectSettings) -> list[str]:
    """Keys of the entries a first collect stores as already seen: those older than the
    backfill window, except the newest `backfill_keep` (a quiet blog still shows its latest).
    The window ends at the source's newest entry if that is older than now, so a listing or a
    snapshot collected late (the offline demo's) keeps its own last days, not none of them."""
    newest_first = sorted(entries, key=lambda entry: entry.published or now, reverse=True)
    if not newest_first:
        return []
    window = min(now, newest_first[0].published or now) - timedelta(days=collect.backfill_days)
    return [entry.key for entry in newest_first[collect.backfill_keep:] if (entry.published or now) < window]


def linked_mentions(entries) -> list[tuple[str, str]]:
    """(item key, url) for what each entry links to: an X post linking a paper or a lab post
    becomes a mention of that item ("also on X"), wherever that item came from."""
    pairs = []
    for entry in entries:
        for link in entry.links:
            key = item_key(link)
            if key != entry.key:
                pairs.append((key, entry.url))
    return pairs
