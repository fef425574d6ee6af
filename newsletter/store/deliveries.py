"""Deliveries: one row per (issue, subscriber), the ledger a send works through and resumes from."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from ..model import Delivery, DeliveryStatus, SubscriberStatus, parse_utc, utc_iso
from .db import transaction
from .subscribers import set_status

_COLUMNS = "id, issue_id, subscriber_id, email, status, message_id, attempts, last_reply, sent"


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(id=row["id"], issue_id=row["issue_id"], subscriber_id=row["subscriber_id"],
                    email=row["email"], status=DeliveryStatus(row["status"]),
                    message_id=row["message_id"], attempts=row["attempts"], last_reply=row["last_reply"],
                    sent=parse_utc(row["sent"]) if row["sent"] else None)


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.pending

    def as_json(self) -> dict:
        return {"sent": self.sent, "failed": self.failed, "pending": self.pending}


def create_for_issue(conn: sqlite3.Connection, issue_id: int, *, message_id_prefix: str,
                     message_id_domain: str) -> int:
    """Write a pending row for every active subscriber that has none for this issue yet;
    return how many were written. Each row's Message-ID is fixed here:
    <{prefix}.{subscriber id}@{domain}>, so a resend after a crash carries the same one."""
    return conn.execute(
        "INSERT OR IGNORE INTO deliveries (issue_id, subscriber_id, email, message_id) "
        "SELECT ?, id, email_ascii, printf('<%s.%d@%s>', ?, id, ?) FROM subscribers "
        "WHERE status = 'active' ORDER BY id",
        (issue_id, message_id_prefix, message_id_domain)).rowcount


def counts(conn: sqlite3.Connection, issue_id: int) -> DeliveryCounts:
    found = dict(conn.execute("SELECT status, count(*) FROM deliveries WHERE issue_id = ? GROUP BY status",
                              (issue_id,)).fetchall())
    return DeliveryCounts(sent=found.get("sent", 0), failed=found.get("failed", 0),
                          pending=found.get("pending", 0))


def list_for_issue(conn: sqlite3.Connection, issue_id: int, *, status: DeliveryStatus | None = None,
                   limit: int | None = None) -> list[Delivery]:
    sql = f"SELECT {_COLUMNS} FROM deliveries WHERE issue_id = ?"
    params: list = [issue_id]
    if status:
        sql += " AND status = ?"
        params.append(status.value)
    sql += " ORDER BY id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_delivery(row) for row in conn.execute(sql, params)]


class IssueDeliveries:
    """The pending rows of one issue, as the delivery loop (mail.deliver.DeliveryQueue) sees
    them. Safe to share between the loop's threads: every statement runs under one lock, and
    each write commits on its own, so a row marked sent stays sent whatever happens next."""

    def __init__(self, conn: sqlite3.Connection, issue_id: int):
        self.conn = conn
        self.issue_id = issue_id
        self.lock = threading.Lock()

    def due(self, after_id: int, now: datetime, limit: int) -> Sequence[Delivery]:
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM deliveries WHERE issue_id = ? AND status = 'pending' "
                "AND id > ? AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY id LIMIT ?",
                (self.issue_id, after_id, utc_iso(now), limit)).fetchall()
        return [_delivery(row) for row in rows]

    def still_wanted(self, delivery: Delivery) -> bool:
        """Whether the subscriber is still active (they may have left since the row was written)."""
        with self.lock:
            row = self.conn.execute("SELECT status FROM subscribers WHERE id = ?",
                                    (delivery.subscriber_id,)).fetchone()
        return row is not None and row[0] == "active"

    def skip(self, delivery: Delivery) -> None:
        """Withdraw a row never sent (the subscriber left): it is no longer meant to go."""
        with self.lock:
            self.conn.execute("DELETE FROM deliveries WHERE id = ? AND status = 'pending'", (delivery.id,))

    def mark_sent(self, delivery: Delivery, reply: str, now: datetime) -> None:
        with self.lock:
            self.conn.execute(
                "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, last_reply = ?, "
                "sent = ?, next_attempt = NULL WHERE id = ?", (reply, utc_iso(now), delivery.id))

    def mark_deferred(self, delivery: Delivery, reply: str, retry_at: datetime) -> None:
        with self.lock:
            self.conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_reply = ?, next_attempt = ? "
                "WHERE id = ?", (reply, utc_iso(retry_at), delivery.id))

    def mark_failed(self, delivery: Delivery, reply: str, now: datetime, *, bounced: bool = False) -> None:
        """Give the row up; with `bounced` (the mailbox does not exist) the subscriber, if
        still active, becomes bounced too, both in one transaction."""
        with self.lock, transaction(self.conn):
            self.conn.execute(
                "UPDATE deliveries SET status = 'failed', attempts = attempts + 1, last_reply = ?, "
                "next_attempt = NULL WHERE id = ?", (reply, delivery.id))
            if bounced:
                found = self.conn.execute("SELECT status FROM subscribers WHERE id = ?",
                                          (delivery.subscriber_id,)).fetchone()
                if found is not None and found[0] == SubscriberStatus.ACTIVE.value:
                    set_status(self.conn, delivery.subscriber_id, SubscriberStatus.BOUNCED, "bounce", now)

    def next_attempt_at(self, now: datetime) -> datetime | None:
        """When the earliest pending row may be tried (now if one is due), or None if none is left."""
        with self.lock:
            row = self.conn.execute(
                "SELECT count(*), min(coalesce(next_attempt, ?)) FROM deliveries "
                "WHERE issue_id = ? AND status = 'pending'", (utc_iso(now), self.issue_id)).fetchone()
        return parse_utc(row[1]) if row[0] else None

    def counts(self) -> DeliveryCounts:
        with self.lock:
            return counts(self.conn, self.issue_id)


def unplanned_recipients(conn: sqlite3.Connection, issue_id: int) -> int:
    """Active subscribers with no delivery row for the issue yet: who a new send would add."""
    return conn.execute(
        "SELECT count(*) FROM subscribers WHERE status = 'active' AND id NOT IN "
        "(SELECT subscriber_id FROM deliveries WHERE issue_id = ?)", (issue_id,)).fetchone()[0]
