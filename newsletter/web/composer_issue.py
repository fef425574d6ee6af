"""What the composer does to an issue, for its pages and its JSON alike: which issue is meant,
building it from the picks, moving and removing items, editing subject / preheader / note, the
state moves, and the issue as the composer shows it (its email rendered, sized and checked)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Sequence
from urllib.parse import urlencode

from ..errors import ConfigError, InputError, IssueError, NotFound, RenderError
from ..flows import compose
from ..model import Issue, IssueStatus, Item, RenderedIssue
from ..render import (
    SizeReport,
    byline,
    email_problems,
    local_date,
    ordered,
    render_issue,
    section_of,
    size_report,
    subject_line,
)
from ..render.context import preheader_line
from ..sections import item_source_name
from ..store import curation
from ..store import issues as issue_store
from .core import Web

MOVES = {"up": -1, "down": 1, "top": -10**6, "bottom": 10**6}
MAX_SUBJECT = 300
MAX_PREHEADER = 300


# --- which issue ---------------------------------------------------------------------------


def requested_date(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise InputError(f"not a date (YYYY-MM-DD): {value[:40]!r}") from e


def today(web: Web) -> date:
    return local_date(web.now(), web.settings)


def unsent_issues(web: Web) -> list[Issue]:
    """Drafts, ready and sending issues, oldest date first (few: sent ones are not read)."""
    found = [issue for status in (IssueStatus.DRAFT, IssueStatus.READY, IssueStatus.SENDING)
             for issue in issue_store.list_issues(web.conn, status=status)]
    return sorted(found, key=lambda issue: issue.issue_date)


def next_issue(web: Web, requested: date | None) -> Issue | None:
    if requested is not None:
        return issue_store.get_issue_by_date(web.conn, requested)
    upcoming = [issue for issue in unsent_issues(web) if issue.issue_date >= today(web)]
    return upcoming[0] if upcoming else issue_store.get_issue_by_date(web.conn, today(web))


def require_issue(web: Web, requested: date | None) -> Issue:
    issue = next_issue(web, requested)
    if issue is None:
        raise NotFound(f"no issue dated {requested}" if requested else
                          "there is no issue yet: build one from today's picks", what=requested)
    return issue


def build_date(issue: Issue | None, requested: date | None, day: date) -> date | None:
    """The date the "build from picks" button fills: the draft shown, the date asked for, today,
    or the day after a sent issue; None for a ready issue (back to draft first)."""
    if issue is None:
        return requested or day
    if issue.status is IssueStatus.DRAFT:
        return issue.issue_date
    if issue.status is IssueStatus.READY:
        return None
    return max(issue.issue_date + timedelta(days=1), day)


# --- what the curator does: one transaction each (in compose), so a refusal changes nothing ---


def _require_draft(issue: Issue) -> None:
    if issue.status is IssueStatus.READY:
        raise IssueError("is ready; only a draft can change (put it back to draft first)",
                         issue_date=issue.issue_date)
    if issue.status is not IssueStatus.DRAFT:
        raise IssueError(f"is {issue.status}; it is read-only", issue_date=issue.issue_date)


def in_email_order(web: Web, issue: Issue) -> list[Item]:
    """The issue's items as the email shows them: by section, the curator's order within each."""
    return ordered(issue, compose.issue_items(web.conn, issue), web.settings)


def build(web: Web, requested: date | None) -> compose.BuildResult:
    return compose.build_issue(web.settings, web.conn, web.now(), requested)


def move(web: Web, issue: Issue, item_id: int, offset: int) -> Issue:
    """Move an item within its section (the email groups by section whatever the order)."""
    _require_draft(issue)
    items = in_email_order(web, issue)
    ids = [item.id for item in items]
    if item_id not in ids:
        raise NotFound(f"item {item_id} is not in issue {issue.issue_date}", what=item_id)
    section = section_of(items[ids.index(item_id)], web.settings)
    places = [n for n, item in enumerate(items) if section_of(item, web.settings) == section]
    in_section = [ids[n] for n in places]
    position = in_section.index(item_id)
    target = max(0, min(len(in_section) - 1, position + offset))
    if target == position:
        return issue
    in_section.insert(target, in_section.pop(position))
    for place, moved_id in zip(places, in_section):
        ids[place] = moved_id
    return compose.arrange_issue(web.conn, issue, ids, web.now())


def reorder(web: Web, issue: Issue, item_ids: Sequence[int]) -> Issue:
    """Put the issue's items in this order (kept grouped by section, as the email shows them)."""
    _require_draft(issue)
    if sorted(item_ids) != sorted(issue.item_ids):
        raise InputError(f"ids must list the items of issue {issue.issue_date} ({', '.join(map(str, issue.item_ids))}), "
                       "each once; use remove to take one out")
    items = compose.issue_items(web.conn, issue)
    grouped = [item.id for item in ordered(replace(issue, item_ids=tuple(item_ids)), items, web.settings)]
    return compose.arrange_issue(web.conn, issue, grouped, web.now())


def remove(web: Web, issue: Issue, item_id: int) -> Issue:
    _require_draft(issue)
    if item_id not in issue.item_ids:
        raise NotFound(f"item {item_id} is not in issue {issue.issue_date}", what=item_id)
    return compose.remove_from_issue(web.conn, issue, item_id, web.now())


def edit(web: Web, issue: Issue, *, subject: str | None = None, preheader: str | None = None,
         note: str | None = None) -> Issue:
    """Subject, preheader, editor's note ('' = the default; None = leave as it is)."""
    _require_draft(issue)
    for name, value, limit in (("subject", subject, MAX_SUBJECT), ("preheader", preheader, MAX_PREHEADER),
                               ("note", note, curation.MAX_COMMENTARY)):
        if value is not None and len(value) > limit:
            raise InputError(f"{name} longer than {limit:,} characters")
    return compose.edit_issue(web.conn, issue, web.now(), subject=subject.strip() if subject is not None else None,
                              preheader=preheader.strip() if preheader is not None else None,
                              note=note.strip() if note is not None else None)


def mark_ready(web: Web, issue: Issue) -> Issue:
    return compose.mark_ready(web.settings, web.conn, issue, web.now(), web.app.email)


def back_to_draft(web: Web, issue: Issue) -> Issue:
    return compose.back_to_draft(web.conn, issue, web.now())


# --- what the page and the API show --------------------------------------------------------


@dataclass(frozen=True)
class Composed:
    issue: Issue
    items: list[Item]  # in the email's order
    rendered: RenderedIssue | None  # None when it does not render; `error` says why
    error: str
    default_subject: str
    default_preheader: str
    size: SizeReport | None  # of the HTML, against Gmail's clipping
    problems: list[str]  # what would break or endanger the email in a mail client

    @property
    def editable(self) -> bool:
        return self.issue.status is IssueStatus.DRAFT


def composed(web: Web, issue: Issue) -> Composed:
    items = in_email_order(web, issue)
    try:
        rendered = render_issue(issue, items, web.settings, web.app.email)
        default_subject = subject_line(replace(issue, subject=""), web.settings)
        error = ""
    except (RenderError, ConfigError) as e:
        rendered, default_subject, error = None, "", str(e)
    default_preheader = preheader_line(replace(issue, preheader=""), items, web.settings)
    return Composed(issue=issue, items=items, rendered=rendered, error=error, default_subject=default_subject,
                    default_preheader=default_preheader, size=size_report(rendered.html) if rendered else None,
                    problems=email_problems(rendered.html) if rendered else [])


def preview_url(issue: Issue) -> str:
    return "/issue/preview.html?" + urlencode({"date": issue.issue_date.isoformat()})


def sections_of(web: Web, items: Sequence[Item]) -> list[dict]:
    groups: list[dict] = []
    for position, item in enumerate(items, start=1):
        section = section_of(item, web.settings)
        if not groups or groups[-1]["section"] != section:
            groups.append({"section": section, "entries": []})
        groups[-1]["entries"].append({"item": item, "position": position, "byline": byline(item, web.settings),
                                      "source": item_source_name(item, web.settings)})
    return groups


# --- pages ---------------------------------------------------------------------------------


def picks_changed(web: Web, issue: Issue) -> str:
    """"2개 추가, 1개 빠짐" while a draft issue differs from today's picks; "" when in step."""
    if issue.status is not IssueStatus.DRAFT:
        return ""
    picked = [item.id for item in curation.picks(web.conn)]
    added = [item_id for item_id in picked if item_id not in issue.item_ids]
    gone = [item_id for item_id in issue.item_ids if item_id not in picked]
    return ", ".join(part for part in (f"{len(added)}개 추가" if added else "", f"{len(gone)}개 빠짐" if gone else "")
                     if part)
