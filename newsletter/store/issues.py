"""Issues: one per local date, a sequential number, a state, overrides, and items in order.

Writes that belong together (create + fill, reorder, state changes) should run inside
`store.transaction`; each function here checks the state it needs before writing.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import date, datetime
from typing import Sequence

from ..errors import IssueError
from ..model import ISSUE_TRANSITIONS, Issue, IssueStatus, parse_utc, utc_iso


def get_issue(conn: sqlite3.Connection, issue_id: int) -> Issue | None:
    row = conn.execute("SELECT * FROM issues WHERE id = ?", (issue_id,)).fetchone()
    return _hydrate(conn, row) if row else None


def get_issue_by_date(conn: sqlite3.Connection, issue_date: date) -> Issue | None:
    row = conn.execute("SELECT * FROM issues WHERE issue_date = ?", (issue_date.isoformat(),)).fetchone()
    return _hydrate(conn, row) if row else None


def latest_issue(conn: sqlite3.Connection, *, unsent_only: bool = False) -> Issue | None:
    """The issue with the newest date (optionally among those not sent yet)."""
    sql = "SELECT * FROM issues"
    if unsent_only:
        sql += " WHERE status != 'sent'"
    row = conn.execute(sql + " ORDER BY issue_date DESC LIMIT 1").fetchone()
    return _hydrate(conn, row) if row else None


def list_issues(conn: sqlite3.Connection, *, status: IssueStatus | None = None,
                limit: int | None = None) -> list[Issue]:
    """Issues, newest date first."""
    sql, params = "SELECT * FROM issues", []
    if status:
        sql += " WHERE status = ?"
        params.append(status.value)
    sql += " ORDER BY issue_date DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_hydrate(conn, row) for row in conn.execute(sql, params).fetchall()]


def issues_with_item(conn: sqlite3.Connection, item_id: int) -> list[Issue]:
    rows = conn.execute(
        "SELECT issues.* FROM issues JOIN issue_items ON issue_items.issue_id = issues.id "
        "WHERE issue_items.item_id = ? ORDER BY issue_date", (item_id,)).fetchall()
    return [_hydrate(conn, row) for row in rows]


def committed_items(conn: sqlite3.Connection, *, except_issue_id: int | None = None) -> dict[int, Issue]:
    """{item id: issue} for approved items already in an issue that is ready, sending or
    sent: those are promised to that issue and must not go out twice. (Items of a sent issue
    are normally published by then; this also holds if that step was missed.)"""
    rows = conn.execute(
        "SELECT issue_items.item_id, issues.id FROM issue_items "
        "JOIN issues ON issues.id = issue_items.issue_id JOIN items ON items.id = issue_items.item_id "
        "WHERE items.status = 'approved' AND issues.status IN ('ready', 'sending', 'sent') "
        "AND issues.id IS NOT ?", (except_issue_id,)).fetchall()
    issues = {issue_id: get_issue(conn, issue_id) for issue_id in {row[1] for row in rows}}
    return {row[0]: issues[row[1]] for row in rows}


def create_issue(conn: sqlite3.Connection, issue_date: date, now: datetime) -> Issue:
    """A new empty draft numbered after the newest issue. Numbers follow dates, so the
    date must come after every existing issue's date. Call inside a transaction."""
    if get_issue_by_date(conn, issue_date) is not None:
        raise IssueError("already exists", issue_date=issue_date)
    newest = conn.execute("SELECT issue_date, number FROM issues ORDER BY number DESC LIMIT 1").fetchone()
    if newest and newest["issue_date"] > issue_date.isoformat():
        raise IssueError(
            f"issue #{newest['number']} is dated {newest['issue_date']}; issue numbers follow dates, "
            "so a new issue must be dated after it (a mistaken draft can be deleted)",
            issue_date=issue_date)
    number = newest["number"] + 1 if newest else 1
    stamp = utc_iso(now)
    issue_id = conn.execute(
        "INSERT INTO issues (issue_date, number, created, changed) VALUES (?, ?, ?, ?)",
        (issue_date.isoformat(), number, stamp, stamp)).lastrowid
    return get_issue(conn, issue_id)


def set_items(conn: sqlite3.Connection, issue_id: int, item_ids: Sequence[int], now: datetime) -> Issue:
    """Replace the issue's items with `item_ids`, in that order. Only a draft changes.
    Call inside a transaction (the old list is deleted before the new one is written)."""
    issue = _require(conn, issue_id)
    _require_draft(issue, "its items")
    duplicates = {item_id for item_id, times in Counter(item_ids).items() if times > 1}
    if duplicates:
        raise IssueError(f"item(s) listed twice: {', '.join(map(str, sorted(duplicates)))}",
                         issue_date=issue.issue_date)
    known = {row[0] for row in conn.execute(
        f"SELECT id FROM items WHERE id IN ({','.join('?' * len(item_ids))})", list(item_ids))} if item_ids else set()
    missing = [i for i in item_ids if i not in known]
    if missing:
        raise IssueError(f"no such item(s): {', '.join(map(str, missing))}", issue_date=issue.issue_date)
    conn.execute("DELETE FROM issue_items WHERE issue_id = ?", (issue_id,))
    conn.executemany("INSERT INTO issue_items (issue_id, item_id, position) VALUES (?, ?, ?)",
                     [(issue_id, item_id, position) for position, item_id in enumerate(item_ids)])
    conn.execute("UPDATE issues SET changed = ? WHERE id = ?", (utc_iso(now), issue_id))
    return get_issue(conn, issue_id)


def update_issue(conn: sqlite3.Connection, issue_id: int, now: datetime, *, subject: str | None = None,
                 preheader: str | None = None, note: str | None = None) -> Issue:
    """Save the curator's subject, preheader and note ('' = generated); None leaves a field
    as it is. Only a draft changes: what a curator marked ready is what goes out."""
    issue = _require(conn, issue_id)
    updates = {"subject": subject, "preheader": preheader, "note": note}
    updates = {column: value for column, value in updates.items() if value is not None}
    if not updates:
        return issue
    _require_draft(issue, "its " + ", ".join(updates))
    assignments = ", ".join(f"{column} = ?" for column in updates)
    conn.execute(f"UPDATE issues SET {assignments}, changed = ? WHERE id = ?",
                 (*updates.values(), utc_iso(now), issue_id))
    return get_issue(conn, issue_id)


def set_status(conn: sqlite3.Connection, issue_id: int, status: IssueStatus, now: datetime) -> Issue:
    """Move an issue along draft -> ready -> sending -> sent (ready may go back to draft).
    Moving to the state it is already in is a no-op."""
    issue = _require(conn, issue_id)
    if issue.status == status:
        return issue
    if status not in ISSUE_TRANSITIONS[issue.status]:
        raise IssueError(f"is {issue.status}; it cannot become {status}", issue_date=issue.issue_date)
    if status is IssueStatus.READY and not issue.item_ids:
        raise IssueError("has no items; an empty issue cannot be ready", issue_date=issue.issue_date)
    stamp = utc_iso(now)
    conn.execute("UPDATE issues SET status = ?, changed = ?, sent = ? WHERE id = ?",
                 (status.value, stamp, stamp if status is IssueStatus.SENT else None, issue_id))
    return get_issue(conn, issue_id)


def delete_issue(conn: sqlite3.Connection, issue_id: int) -> None:
    """Delete a draft (its items go back to being merely approved)."""
    issue = _require(conn, issue_id)
    _require_draft(issue, "it")
    conn.execute("DELETE FROM issues WHERE id = ?", (issue_id,))


def _require(conn: sqlite3.Connection, issue_id: int) -> Issue:
    issue = get_issue(conn, issue_id)
    if issue is None:
        raise IssueError(f"no issue with id {issue_id}")
    return issue


def _require_draft(issue: Issue, what: str) -> None:
    if issue.status is not IssueStatus.DRAFT:
        hint = " (put it back to draft first)" if issue.status is IssueStatus.READY else ""
        raise IssueError(f"is {issue.status}; only a draft can change {what}{hint}",
                         issue_date=issue.issue_date)


def _hydrate(conn: sqlite3.Connection, row: sqlite3.Row) -> Issue:
    item_ids = tuple(r[0] for r in conn.execute(
        "SELECT item_id FROM issue_items WHERE issue_id = ? ORDER BY position", (row["id"],)))
    return Issue(
        id=row["id"], issue_date=date.fromisoformat(row["issue_date"]), number=row["number"],
        status=IssueStatus(row["status"]), subject=row["subject"], preheader=row["preheader"],
        note=row["note"], item_ids=item_ids, created=parse_utc(row["created"]),
        sent=parse_utc(row["sent"]) if row["sent"] else None,
    )
