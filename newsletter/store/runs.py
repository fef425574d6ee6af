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
