"""What the curator does to items, for the HTML pages, the JSON API and the CLI alike: each
move is one transaction through the store, so a refusal changes nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from ..errors import InputError, ItemError, NotFound, NotUndone
from ..model import IssueStatus, Item, ItemStatus
from ..store import curation, transaction
from ..store import issues as issue_store
from ..store.curation import RelatedLink
from ..store.items import annotate
from ..store.queue import QueueEntry, Sections, queue_entry, snooze_until, waiting_ids
from ..text import clean_text, parse_tags, safe_url

ACTIONS = {"approve": ItemStatus.APPROVED, "reject": ItemStatus.REJECTED, "snooze": ItemStatus.SNOOZED,
           "restore": ItemStatus.NEW}
MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_TITLE = 500


@dataclass(frozen=True)
class Edit:
    """The edit form; None leaves a field as it is."""

    title_override: str | None = None
    commentary: str | None = None
    tags: str | Sequence[str] | None = None  # typed text ('#언어모델 scaling-law') or a list
    section_override: str | None = None  # "" = by source
    related: str | Sequence[RelatedLink] | None = None  # one 'URL [title]' per line, or links


def parse_related(text: str) -> list[RelatedLink]:
    """'URL title' per line; every bad line is named at once."""
    links, bad = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        url, _, title = line.partition(" ")
        if not safe_url(url):
            bad.append(f"line {number}: {url[:80]!r} is not an http(s) URL")
            continue
        links.append(RelatedLink(url=url, title=clean_text(title)[:300]))
    if bad:
        raise InputError("related links: " + "; ".join(bad))
    return links


def _tags(value: str | Sequence[str]) -> tuple[str, ...]:
    tags = parse_tags(value if isinstance(value, str) else " ".join(value))
    if len(tags) > MAX_TAGS:
        raise InputError(f"at most {MAX_TAGS} tags")
    too_long = [tag for tag in tags if len(tag) > MAX_TAG_CHARS]
    if too_long:
        raise InputError(f"tag longer than {MAX_TAG_CHARS} characters: {too_long[0][:60]}")
    return tags


@dataclass(frozen=True)
class Undo:
    entry: QueueEntry  # the item moved back (the first of a dismissed day)
    restored: int  # how many items moved back


@dataclass(frozen=True)
class Curation:
    """The curator's desk over one connection; `user_id` says who moved what (undo is per user)."""

    conn: sqlite3.Connection
    sections: Sections
    zone: ZoneInfo
    clock: Callable[[], datetime]
    on_decision: Callable[[], None] = lambda: None  # the ranker learns from every move

    def entry(self, item_id: int) -> QueueEntry:
        found = queue_entry(self.conn, self.sections, item_id, self.clock())
        if found is None:
            raise NotFound(f"no item {item_id}", what=item_id)
        return found

    def triage(self, user_id: int | None, item_id: int, action: str) -> QueueEntry:
        """approve | reject | snooze (until the next morning) | restore (back to new)."""
        if action not in ACTIONS:
            raise InputError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
        status = ACTIONS[action]
        now = self.clock()
        until = snooze_until(now, self.zone) if status is ItemStatus.SNOOZED else None
        with transaction(self.conn):
            if status is not ItemStatus.APPROVED:
                leave_draft_issues(self.conn, item_id, now)
            curation.triage(self.conn, item_id, status, now, user_id=user_id, snoozed_until=until)
        self.on_decision()
        return self.entry(item_id)

    def undo(self, user_id: int | None) -> Undo | None:
        """Undo the user's last move (a whole dismissed day at once); None if there is none;
        NotUndone if its item moved on."""
        with transaction(self.conn):
            undone = curation.undo_last(self.conn, user_id, self.clock())
        if undone is None:
            return None
        self.on_decision()
        if undone.refused:
            raise NotUndone(undone.refused, item_id=undone.item.id)
        return Undo(self.entry(undone.item.id), undone.restored)

    def dismiss(self, user_id: int | None, *, section: str = "", before: datetime | None = None) -> int:
        """"Done for today": everything still waiting in `section` (or the whole queue),
        published before `before` if given, becomes dismissed; approved items are never touched.
        One move: the next undo restores exactly this set."""
        if section and section not in self.sections.order:
            raise InputError(f"unknown section {section!r} (one of {', '.join(self.sections.order)})")
        now = self.clock()
        with transaction(self.conn):
            ids = waiting_ids(self.conn, self.sections, now, section=section, before=before)
            moved = curation.dismiss(self.conn, ids, user_id, now)
        if moved:
            self.on_decision()
        return moved

    def apply_edit(self, user_id: int | None, item_id: int, edit: Edit, *,
                   based_on: str | None = None) -> QueueEntry:
        """Save the curator's edits (never touched by a re-fetch) and drop their draft.
        `based_on`: the item's edit version the form showed; EditConflict (nothing saved)
        when someone saved the item since."""
        if edit.commentary is not None and len(edit.commentary) > curation.MAX_COMMENTARY:
            raise InputError(f"commentary longer than {curation.MAX_COMMENTARY:,} characters")
        if edit.title_override is not None and len(edit.title_override) > MAX_TITLE:
            raise InputError(f"title longer than {MAX_TITLE} characters")
        section = edit.section_override
        if section and section not in self.sections.order:
            raise InputError(f"unknown section {section!r} (one of {', '.join(self.sections.order)})")
        tags = _tags(edit.tags) if edit.tags is not None else None
        related = edit.related
        if isinstance(related, str):
            related = parse_related(related)
        elif related is not None:
            related = parse_related("\n".join(f"{link.url} {link.title}" for link in related))
        now = self.clock()
        with transaction(self.conn):
            curation.check_version(self.conn, item_id, based_on)
            annotate(self.conn, item_id, now,
                     commentary=edit.commentary.strip() if edit.commentary is not None else None,
                     tags=tags, title_override=clean_text(edit.title_override)
                     if edit.title_override is not None else None, section_override=section)
            if related is not None:
                curation.set_related_links(self.conn, item_id, related)
            curation.drop_draft(self.conn, item_id, user_id)
        return self.entry(item_id)

    def save_draft(self, user_id: int, item_id: int, *, commentary: str, tags: str = "",
                   title_override: str = "", based_on: str | None = None) -> curation.Draft:
        with transaction(self.conn):
            return curation.save_draft(self.conn, item_id, user_id, self.clock(), commentary=commentary,
                                       tags=tags, title_override=title_override, based_on=based_on)

    def drop_draft(self, user_id: int, item_id: int) -> None:
        with transaction(self.conn):
            curation.drop_draft(self.conn, item_id, user_id)

    def reorder_picks(self, item_ids: Sequence[int]) -> list[Item]:
        with transaction(self.conn):
            return curation.set_pick_order(self.conn, item_ids)

    def move_pick(self, item_id: int, offset: int) -> list[Item]:
        with transaction(self.conn):
            return curation.move_pick(self.conn, item_id, offset)


def leave_draft_issues(conn: sqlite3.Connection, item_id: int, now: datetime) -> None:
    """An item that stops being approved leaves draft issues; one in an issue that is ready
    or further stays put until that issue goes back to draft. Call inside a transaction."""
    for issue in issue_store.issues_with_item(conn, item_id):
        if issue.status is not IssueStatus.DRAFT:
            raise ItemError(f"is in issue {issue.issue_date}, which is {issue.status}; put that "
                            "issue back to draft first", item_id=item_id)
        issue_store.set_items(conn, issue.id, [i for i in issue.item_ids if i != item_id], now)
