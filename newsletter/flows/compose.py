"""Composing the dated issue: build it from the approved items, let the
curator reorder and edit it, mark it ready, and render it.

Every function takes its dependencies (settings, connection, time, renderer) as arguments,
so the CLI, the composer page and the scheduler drive the same code. Writes happen in one
transaction each; a refused change leaves everything as it was.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Sequence

from ..config import Settings
from ..errors import IssueError, ItemError
from ..model import Issue, IssueStatus, Item, ItemStatus, RenderedIssue
from ..render import EmailRenderer, email_problems, local_date, ordered, render_issue
from ..store import curation, snapshots, transaction
from ..store import issues as issue_store
from ..store import items as item_store
from ..text import parse_tags
from .curate import leave_draft_issues

# Items an issue may carry: approved ones; once the issue is sent they become published.
_CARRIABLE = frozenset({ItemStatus.APPROVED, ItemStatus.PUBLISHED})


@dataclass(frozen=True)
class BuildResult:
    issue: Issue
    created: bool  # a new issue, rather than a draft brought up to date
    added: tuple[int, ...]  # item ids newly in the issue
    dropped: tuple[int, ...]  # item ids no longer approved, taken out


def approved_in_curator_order(conn: sqlite3.Connection) -> list[Item]:
    """Approved items in the order the curator gave their picks in the editor queue; items
    approved without a pick position follow, in the order they were approved."""
    return curation.picks(conn)


def build_issue(settings: Settings, conn: sqlite3.Connection, now: datetime,
                issue_date: date | None = None) -> BuildResult:
    """Compose the issue for `issue_date` (default: today in the newsletter's zone) from the
    approved items, grouped by section in newsletter.sections order, in the curator's order.

    Building again brings a draft up to date: items already in it keep their places, newly
    approved ones join the end of their section, items no longer approved leave. Items
    already committed to another issue (ready, sending or sent) are left out."""
    issue_date = issue_date or local_date(now, settings)
    with transaction(conn):
        issue = issue_store.get_issue_by_date(conn, issue_date)
        if issue is not None and issue.status is not IssueStatus.DRAFT:
            hint = "; put it back to draft to rebuild it" if issue.status is IssueStatus.READY else ""
            raise IssueError(f"is {issue.status}{hint}", issue_date=issue_date)
        committed = issue_store.committed_items(conn, except_issue_id=issue.id if issue else None)
        candidates = [item for item in approved_in_curator_order(conn) if item.id not in committed]
        by_id = {item.id: item for item in candidates}
        created = issue is None
        if created:
            issue = issue_store.create_issue(conn, issue_date, now)
        kept = [item_id for item_id in issue.item_ids if item_id in by_id]
        added = [item.id for item in candidates if item.id not in set(issue.item_ids)]
        dropped = [item_id for item_id in issue.item_ids if item_id not in by_id]
        draft = replace(issue, item_ids=tuple(kept + added))
        grouped = [item.id for item in ordered(draft, [by_id[i] for i in kept + added], settings)]
        if created or grouped != list(issue.item_ids):
            issue = issue_store.set_items(conn, issue.id, grouped, now)
    return BuildResult(issue=issue, created=created, added=tuple(added), dropped=tuple(dropped))


def find_issue(conn: sqlite3.Connection, issue_date: date | None = None) -> Issue:
    """The issue of `issue_date`, or without a date the newest issue not yet sent (else the
    newest of all)."""
    if issue_date is not None:
        issue = issue_store.get_issue_by_date(conn, issue_date)
    else:
        issue = issue_store.latest_issue(conn, unsent_only=True) or issue_store.latest_issue(conn)
    if issue is None:
        raise IssueError("no such issue (build it with `newsletter issue build`)" if issue_date
                         else "there is no issue yet (build one with `newsletter issue build`)",
                         issue_date=issue_date)
    return issue


def issue_items(conn: sqlite3.Connection, issue: Issue) -> list[Item]:
    """The issue's items in its stored order."""
    return item_store.get_items(conn, issue.item_ids)


def render_stored_issue(settings: Settings, conn: sqlite3.Connection, issue: Issue,
                        renderer: EmailRenderer) -> RenderedIssue:
    """The email of a stored issue exactly as it would go out (the unsubscribe URL still the
    placeholder): once its send has started, the frozen snapshot it is sent as."""
    frozen = snapshots.get_snapshot(conn, issue)
    if frozen is not None:
        return frozen
    return render_issue(issue, issue_items(conn, issue), settings, renderer)


def edit_issue(conn: sqlite3.Connection, issue: Issue, now: datetime, *, subject: str | None = None,
               preheader: str | None = None, note: str | None = None) -> Issue:
    """Save subject, preheader and note overrides of a draft ('' = back to generated)."""
    with transaction(conn):
        return issue_store.update_issue(conn, issue.id, now, subject=subject, preheader=preheader,
                                        note=note)


def arrange_issue(conn: sqlite3.Connection, issue: Issue, item_ids: Sequence[int], now: datetime) -> Issue:
    """Set a draft's items to `item_ids` in that order: the composer's reorder and remove.
    Only items of the issue or other approved items may appear."""
    with transaction(conn):
        current = issue_store.get_issue(conn, issue.id) or issue
        for item_id in item_ids:
            if item_id in current.item_ids:
                continue
            item = item_store.get_item(conn, item_id)
            if item is None or item.status is not ItemStatus.APPROVED:
                raise ItemError(f"is {item.status if item else 'unknown'}; only approved items "
                                f"can join issue {issue.issue_date}", item_id=item_id)
        return issue_store.set_items(conn, issue.id, list(item_ids), now)


def remove_from_issue(conn: sqlite3.Connection, issue: Issue, item_id: int, now: datetime) -> Issue:
    return arrange_issue(conn, issue, [i for i in issue.item_ids if i != item_id], now)


def mark_ready(settings: Settings, conn: sqlite3.Connection, issue: Issue, now: datetime,
               renderer: EmailRenderer) -> Issue:
    """draft -> ready, once the issue is fit to go: it has items, every one still approved
    and in no other committed issue, and its email renders without problems."""
    if refused := settings.newsletter.placeholder_refusal():
        raise IssueError(refused, issue_date=issue.issue_date)
    with transaction(conn):
        issue = issue_store.get_issue(conn, issue.id) or issue
        items = issue_items(conn, issue)
        unfit = [f"{item.id} ({item.status})" for item in items if item.status not in _CARRIABLE]
        if unfit:
            raise IssueError(f"item(s) no longer approved: {', '.join(unfit)}; run `newsletter issue "
                             "build` to drop them", issue_date=issue.issue_date)
        committed = issue_store.committed_items(conn, except_issue_id=issue.id)
        shared = sorted(item_id for item_id in issue.item_ids if item_id in committed)
        if shared:
            other = committed[shared[0]]
            raise IssueError(f"item(s) {', '.join(map(str, shared))} already in issue {other.issue_date} "
                             f"({other.status})", issue_date=issue.issue_date)
        if issue.item_ids:  # an empty issue is refused by the store with a clear message
            problems = email_problems(render_issue(issue, items, settings, renderer).html)
            if problems:
                raise IssueError(f"the email has problems: {'; '.join(problems)}", issue_date=issue.issue_date)
        return issue_store.set_status(conn, issue.id, IssueStatus.READY, now)


def back_to_draft(conn: sqlite3.Connection, issue: Issue, now: datetime) -> Issue:
    with transaction(conn):
        return issue_store.set_status(conn, issue.id, IssueStatus.DRAFT, now)


def delete_draft(conn: sqlite3.Connection, issue: Issue) -> None:
    with transaction(conn):
        issue_store.delete_issue(conn, issue.id)


def approve_item(conn: sqlite3.Connection, item_id: int, now: datetime, *, commentary: str | None = None,
                 tags: str | Sequence[str] | None = None) -> Item:
    """Approve an item, saving the curator's commentary and tags when given ('a,b' or
    '#a #b'; None keeps what is there)."""
    tag_list = parse_tags(tags if isinstance(tags, str) else " ".join(tags)) if tags is not None else None
    with transaction(conn):
        _require_item(conn, item_id)
        # as the editor queue does it: the item joins today's picks, the move is logged
        curation.triage(conn, item_id, ItemStatus.APPROVED, now, user_id=None)
        return item_store.annotate(conn, item_id, now, commentary=commentary, tags=tag_list)


def reject_item(conn: sqlite3.Connection, item_id: int, now: datetime) -> Item:
    """Reject an item and take it out of any draft issue; an item in an issue that is ready
    (or further) stays until that issue goes back to draft."""
    with transaction(conn):
        _require_item(conn, item_id)
        leave_draft_issues(conn, item_id, now)
        return curation.triage(conn, item_id, ItemStatus.REJECTED, now, user_id=None)


def _require_item(conn: sqlite3.Connection, item_id: int) -> Item:
    item = item_store.get_item(conn, item_id)
    if item is None:
        raise ItemError("no such item", item_id=item_id)
    return item
