"""The log of job runs (collect now; send and archive later)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any, Mapping

from ..model import utc_iso


def start_run(conn: sqlite3.Connection, job: str, now: datetime) -> int:
    return conn.execute("INSERT INTO runs (job, started) VALUES (?, ?)", (job, utc_iso(now))).lastrowid


def finish_run(conn: sqlite3.Connection, run_id: int, now: datetime, *, outcome: str,
               detail: Mapping[str, Any], error: str | None = None) -> None:
    conn.execute(
        "UPDATE runs SET finished = ?, outcome = ?, detail = ?, error = ? WHERE id = ?",
        (utc_iso(now), outcome, json.dumps(detail, ensure_ascii=False), error, run_id),
    )


def recent_runs(conn: sqlite3.Connection, job: str | None = None, limit: int = 20) -> list[dict]:
    sql = "SELECT * FROM runs" + (" WHERE job = ?" if job else "") + " ORDER BY id DESC LIMIT ?"
    rows = conn.execute(sql, ((job, limit) if job else (limit,))).fetchall()
    return [{**dict(row), "detail": json.loads(row["detail"])} for row in rows]


def last_run_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0]


def send_failure_recorded(conn: sqlite3.Connection, after_id: int, error: str) -> bool:
    """Whether a send run since `after_id`, not written by a scheduled job, carries this error."""
    row = conn.execute("SELECT 1 FROM runs WHERE job = 'send' AND id > ? AND error = ? "
                       "AND json_extract(detail, '$.by') IS NULL", (after_id, error)).fetchone()
    return row is not None
