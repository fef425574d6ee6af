"""Source alerts the scheduler has seen, and whether the curator has been mailed about them
(table `source_alerts`, migration 5: store/schema_ops.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from ..model import parse_utc, utc_iso


@dataclass(frozen=True)
class StoredAlert:
    id: int
    source_id: str
    kind: str
    message: str
    raised: datetime
    mailed: datetime | None
    mail_error: str | None
    cleared: datetime | None

    def as_json(self) -> dict:
        return {"source": self.source_id, "kind": self.kind, "message": self.message,
                "raised": utc_iso(self.raised), "mailed": utc_iso(self.mailed) if self.mailed else None,
                "mail_error": self.mail_error}


def _alert(row: sqlite3.Row) -> StoredAlert:
    def moment(column: str) -> datetime | None:
        return parse_utc(row[column]) if row[column] else None

    return StoredAlert(id=row["id"], source_id=row["source_id"], kind=row["kind"], message=row["message"],
                       raised=parse_utc(row["raised"]), mailed=moment("mailed"), mail_error=row["mail_error"],
                       cleared=moment("cleared"))


def sync_alerts(conn: sqlite3.Connection, current: Iterable[tuple[str, str, str]], now: datetime) -> list[StoredAlert]:
    """Make the open alerts match `current` (source_id, kind, message): new ones are opened,
    ones still there keep their row (and mailed mark) with the latest message, ones gone are
    cleared. Returns the open alerts. Call inside a transaction."""
    wanted = {(source_id, kind): message for source_id, kind, message in current}
    open_rows = {(row["source_id"], row["kind"]): row["id"]
                 for row in conn.execute("SELECT id, source_id, kind FROM source_alerts WHERE cleared IS NULL")}
    for key, alert_id in open_rows.items():
        if key not in wanted:
            conn.execute("UPDATE source_alerts SET cleared = ? WHERE id = ?", (utc_iso(now), alert_id))
    for (source_id, kind), message in wanted.items():
        if (source_id, kind) in open_rows:
            conn.execute("UPDATE source_alerts SET message = ? WHERE id = ?", (message, open_rows[(source_id, kind)]))
        else:
            conn.execute("INSERT INTO source_alerts (source_id, kind, message, raised) VALUES (?, ?, ?, ?)",
                         (source_id, kind, message, utc_iso(now)))
    return open_alerts(conn)


def open_alerts(conn: sqlite3.Connection) -> list[StoredAlert]:
    rows = conn.execute("SELECT * FROM source_alerts WHERE cleared IS NULL ORDER BY source_id, kind")
    return [_alert(row) for row in rows]


def mark_mailed(conn: sqlite3.Connection, alert_ids: Iterable[int], now: datetime) -> None:
    conn.executemany("UPDATE source_alerts SET mailed = ?, mail_error = NULL WHERE id = ?",
                     [(utc_iso(now), alert_id) for alert_id in alert_ids])


def mark_mail_failed(conn: sqlite3.Connection, alert_ids: Iterable[int], error: str) -> None:
    conn.executemany("UPDATE source_alerts SET mail_error = ? WHERE id = ?",
                     [(error, alert_id) for alert_id in alert_ids])
