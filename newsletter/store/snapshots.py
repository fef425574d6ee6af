"""The send snapshot of an issue: the rendered email frozen when its send starts (migration 6).

    save_snapshot(conn, issue, rendered, now)   call in the transaction that moves it to sending
    get_snapshot(conn, issue)                   the frozen RenderedIssue, or None if none was taken
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from ..model import Issue, RenderedIssue, utc_iso


def save_snapshot(conn: sqlite3.Connection, issue: Issue, rendered: RenderedIssue, now: datetime) -> None:
    """Store `rendered` as what this issue is sent as. Call inside the transaction that writes
    the delivery rows and moves the issue to sending, so the two never exist one without the other."""
    conn.execute(
        "UPDATE issues SET sent_subject = ?, sent_preheader = ?, sent_html = ?, sent_text = ?, "
        "snapshot_taken = ? WHERE id = ?",
        (rendered.subject, rendered.preheader, rendered.html, rendered.text, utc_iso(now), issue.id))


def get_snapshot(conn: sqlite3.Connection, issue: Issue) -> RenderedIssue | None:
    row = conn.execute(
        "SELECT sent_subject, sent_preheader, sent_html, sent_text, snapshot_taken FROM issues WHERE id = ?",
        (issue.id,)).fetchone()
    if row is None or row["snapshot_taken"] is None:
        return None
    return RenderedIssue(issue_date=issue.issue_date, number=issue.number, subject=row["sent_subject"],
                         preheader=row["sent_preheader"], html=row["sent_html"], text=row["sent_text"])
