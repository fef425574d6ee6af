"""What the curator does, shared by the HTML pages and the JSON API: each action is one
transaction through the store, so a failure changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from ..model import IssueStatus, Item, ItemStatus
from ..store import curation, transaction
from ..store import issues as issue_store
from ..store.curation import RelatedLink
from ..store.items import annotate
from ..store.queue import STATUS_FILTERS, QueueEntry, QueueFilter, queue_entry, snooze_until
from ..text import clean_text, parse_tags
from .auth import Curator
from .core import Web
from .present import safe_url

ACTIONS = {"approve": ItemStatus.APPROVED, "reject": ItemStatus.REJECTED, "snooze": ItemStatus.SNOOZED,
           "restore": ItemStatus.NEW}
MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_TITLE = 500


class BadInput(ValueError):
    """What the curator sent cannot be saved as it is; the message says why."""


def entry(web: Web, item_id: int) -> QueueEntry:
    found = queue_entry(web.conn, web.sections, item_id, web.now())
    if found is None:
        raise LookupError(f"no item {item_id}")
    return found


def triage(web: Web, curator: Curator, item_id: int, action: str) -> QueueEntry:
    """approve | reject | snooze (until the next morning) | restore (back to new)."""
    if action not in ACTIONS:
        raise BadInput(f"unknown action {action!r} (one of {', '.join(ACTIONS)})")
    status = ACTIONS[action]
    now = web.now()
    until = snooze_until(now, web.zone) if status is ItemStatus.SNOOZED else None
    with transaction(web.conn):
        if status is not ItemStatus.APPROVED:
            _leave_issues(web, item_id, now)
        curation.triage(web.conn, item_id, status, now, user_id=curator.user.id, snoozed_until=until)
    return entry(web, item_id)


def _leave_issues(web: Web, item_id: int, now) -> None:
    """An item that stops being approved leaves draft issues; one in an issue that is ready
    or further stays put until that issue goes back to draft (as `newsletter reject` does)."""
    for issue in issue_store.issues_with_item(web.conn, item_id):
        if issue.status is not IssueStatus.DRAFT:
            raise ValueError(f"item {item_id} is in the issue of {issue.issue_date}, which is {issue.status}; "
                             "put that issue back to draft first")
        issue_store.set_items(web.conn, issue.id, [i for i in issue.item_ids if i != item_id], now)


class NotUndone(ValueError):
    """The last move was not undone: its item changed since. The move is used up all the same."""


def undo(web: Web, curator: Curator) -> QueueEntry | None:
    """Undo the curator's last triage move; None if there is none; NotUndone if its item moved on."""
    with transaction(web.conn):
        undone = curation.undo_last(web.conn, curator.user.id, web.now())
    if undone is None:
        return None
    if undone.refused:
        raise NotUndone(undone.refused)
    return entry(web, undone.item.id)


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
        raise BadInput("related links: " + "; ".join(bad))
    return links


def _tags(value: str | Sequence[str]) -> tuple[str, ...]:
    tags = parse_tags(value if isinstance(value, str) else " ".join(value))
    if len(tags) > MAX_TAGS:
        raise BadInput(f"at most {MAX_TAGS} tags")
    too_long = [tag for tag in tags if len(tag) > MAX_TAG_CHARS]
    if too_long:
        raise BadInput(f"tag longer than {MAX_TAG_CHARS} characters: {too_long[0][:60]}")
    return tags


def apply_edit(web: Web, curator: Curator, item_id: int, edit: Edit, *, based_on: str | None = None) -> QueueEntry:
    """Save the curator's edits (never touched by a re-fetch) and drop their draft.
    `based_on`: the item's edit version the form showed; curation.EditConflict (nothing
    saved) when someone saved the item since."""
    if edit.commentary is not None and len(edit.commentary) > curation.MAX_COMMENTARY:
        raise BadInput(f"commentary longer than {curation.MAX_COMMENTARY:,} characters")
    if edit.title_override is not None and len(edit.title_override) > MAX_TITLE:
        raise BadInput(f"title longer than {MAX_TITLE} characters")
    section = edit.section_override
    if section and section not in web.sections.order:
        raise BadInput(f"unknown section {section!r} (one of {', '.join(web.sections.order)})")
    tags = _tags(edit.tags) if edit.tags is not None else None
    related = edit.related
    if isinstance(related, str):
        related = parse_related(related)
    elif related is not None:
        related = parse_related("\n".join(f"{link.url} {link.title}" for link in related))
    now = web.now()
    with transaction(web.conn):
        curation.check_version(web.conn, item_id, based_on)
        annotate(web.conn, item_id, now, commentary=edit.commentary.strip() if edit.commentary is not None else None,
                 tags=tags, title_override=clean_text(edit.title_override) if edit.title_override is not None
                 else None, section_override=section)
        if related is not None:
            curation.set_related_links(web.conn, item_id, related)
        curation.drop_draft(web.conn, item_id, curator.user.id)
    return entry(web, item_id)


def save_draft(web: Web, curator: Curator, item_id: int, *, commentary: str, tags: str = "",
               title_override: str = "", based_on: str | None = None) -> curation.Draft:
    try:
        with transaction(web.conn):
            return curation.save_draft(web.conn, item_id, curator.user.id, web.now(), commentary=commentary,
                                       tags=tags, title_override=title_override, based_on=based_on)
    except curation.EditConflict:
        raise
    except ValueError as e:
        raise BadInput(str(e)) from e


def reorder_picks(web: Web, item_ids: Sequence[int]) -> list[Item]:
    try:
        with transaction(web.conn):
            return curation.set_pick_order(web.conn, item_ids)
    except ValueError as e:
        raise BadInput(str(e)) from e


def move_pick(web: Web, item_id: int, offset: int) -> list[Item]:
    try:
        with transaction(web.conn):
            return curation.move_pick(web.conn, item_id, offset)
    except ValueError as e:
        raise BadInput(str(e)) from e


def parse_filter(params) -> tuple[QueueFilter, list[str]]:
    """Queue filters from query parameters; a bad value is dropped and named, not fatal."""
    problems = []
    status = params.get("status") or "waiting"
    if status == "new":
        status = "waiting"
    if status not in STATUS_FILTERS:
        problems.append(f"unknown status {status!r}")
        status = "waiting"
    day = None
    if raw_day := (params.get("date") or "").strip():
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            problems.append(f"not a date (YYYY-MM-DD): {raw_day[:40]!r}")
    return QueueFilter(status=status, section=(params.get("section") or "").strip(),
                       source=(params.get("source") or "").strip(), day=day,
                       query=(params.get("q") or "").strip()[:200]), problems


def page_number(params, name: str = "page") -> int:
    try:
        return max(1, int(params.get(name) or 1))
    except ValueError:
        return 1
