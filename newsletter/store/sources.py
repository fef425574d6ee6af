"""Source health: what each source last did and the validators for its next fetch."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any, Mapping

from ..model import SourceHealth, parse_utc, utc_iso


def get_health(conn: sqlite3.Connection, source_id: str, kind: str) -> SourceHealth:
    row = conn.execute("SELECT * FROM sources WHERE id = ?", (source_id,)).fetchone()
    return _health(row) if row else SourceHealth(source_id=source_id, kind=kind)


def all_health(conn: sqlite3.Connection) -> dict[str, SourceHealth]:
    return {row["id"]: _health(row) for row in conn.execute("SELECT * FROM sources ORDER BY id")}


def _health(row: sqlite3.Row) -> SourceHealth:
    def moment(column: str) -> datetime | None:
        return parse_utc(row[column]) if row[column] else None

    return SourceHealth(
        source_id=row["id"], kind=row["kind"], etag=row["etag"], last_modified=row["last_modified"],
        last_attempt=moment("last_attempt"), last_success=moment("last_success"),
        last_error=row["last_error"], consecutive_failures=row["consecutive_failures"],
        items_last_run=row["items_last_run"], state=json.loads(row["state"]),
    )


def record_success(conn: sqlite3.Connection, source_id: str, kind: str, now: datetime, *,
                   new_items: int, etag: str | None, last_modified: str | None,
                   state: Mapping[str, Any] | None = None, note: str = "") -> None:
    """A fetch that worked (including 304). `note` keeps a non-error remark such as
    "empty listing" in last_error's place so the health table can show it."""
    stamp = utc_iso(now)
    conn.execute(
        """
        INSERT INTO sources (id, kind, etag, last_modified, last_attempt, last_success, last_error,
                             consecutive_failures, items_last_run, state)
        VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?, ?)
        ON CONFLICT (id) DO UPDATE SET
            kind = excluded.kind,
            etag = coalesce(excluded.etag, sources.etag),
            last_modified = coalesce(excluded.last_modified, sources.last_modified),
            last_attempt = excluded.last_attempt, last_success = excluded.last_success,
            last_error = NULL, consecutive_failures = 0,
            items_last_run = excluded.items_last_run,
            state = CASE WHEN ? THEN excluded.state ELSE sources.state END
        """,
        (source_id, kind, etag, last_modified, stamp, stamp, new_items,
         json.dumps(dict(state or {})), state is not None),
    )


def record_failure(conn: sqlite3.Connection, source_id: str, kind: str, now: datetime,
                   error: str) -> None:
    conn.execute(
        """
        INSERT INTO sources (id, kind, last_attempt, last_error, consecutive_failures, items_last_run)
        VALUES (?, ?, ?, ?, 1, 0)
        ON CONFLICT (id) DO UPDATE SET
            last_attempt = excluded.last_attempt, last_error = excluded.last_error,
            consecutive_failures = sources.consecutive_failures + 1, items_last_run = 0
        """,
        (source_id, kind, utc_iso(now), error),
    )
