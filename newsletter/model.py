"""The newsletter's data: frozen dataclasses and the states things move through.

Standard library only; every other module may import this one and it imports none of them.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Any, Mapping


class SourceKind(StrEnum):
    FEED = "feed"
    ARXIV = "arxiv"
    X = "x"
    HF_PAPERS = "hf_papers"
    BLUESKY = "bluesky"


class ItemKind(StrEnum):
    POST = "post"  # a lab blog post or any feed entry
    PAPER = "paper"  # an arXiv paper
    X_POST = "x_post"  # a post on X
    BLUESKY_POST = "bluesky_post"  # a post on Bluesky


# Posts on a social network: shown as static quotes (author, handle, text, date, link).
SOCIAL_POSTS = frozenset({ItemKind.X_POST, ItemKind.BLUESKY_POST})


class ItemStatus(StrEnum):
    NEW = "new"
    APPROVED = "approved"
    REJECTED = "rejected"
    SNOOZED = "snoozed"
    PUBLISHED = "published"
    DISMISSED = "dismissed"  # "done for today": left unpicked when the curator cleared the day
    SEEN = "seen"  # older than the backfill window on its source's first collect: never waited


# The curator may change their mind about anything not yet published; publishing happens
# only when the item's issue is sent, and a published item stays published.
_LATER = frozenset({ItemStatus.NEW, ItemStatus.APPROVED, ItemStatus.REJECTED, ItemStatus.SNOOZED})
ITEM_TRANSITIONS: Mapping[ItemStatus, frozenset[ItemStatus]] = {
    ItemStatus.NEW: frozenset({ItemStatus.APPROVED, ItemStatus.REJECTED, ItemStatus.SNOOZED, ItemStatus.DISMISSED}),
    ItemStatus.SNOOZED: frozenset({ItemStatus.NEW, ItemStatus.APPROVED, ItemStatus.REJECTED, ItemStatus.DISMISSED}),
    ItemStatus.DISMISSED: _LATER,  # still searchable, approvable later
    ItemStatus.SEEN: _LATER,
    ItemStatus.APPROVED: frozenset(
        {ItemStatus.NEW, ItemStatus.REJECTED, ItemStatus.SNOOZED, ItemStatus.PUBLISHED}
    ),
    ItemStatus.REJECTED: frozenset({ItemStatus.NEW, ItemStatus.APPROVED, ItemStatus.SNOOZED}),
    ItemStatus.PUBLISHED: frozenset(),
}


def can_transition(current: ItemStatus, target: ItemStatus) -> bool:
    return target in ITEM_TRANSITIONS[current]


class FetchOutcome(StrEnum):
    """What one source's collect came to (the `status` of `collect --json`)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


@dataclass(frozen=True)
class Entry:
    """One thing a collector found, parsed and cleaned, before it meets the store.

    `key` is the canonical key (see text.item_key). `summary_html` is already sanitised;
    `summary_text` is its plain-text form. `links` are absolute URLs the entry points at
    (an X post linking a paper): the pipeline turns those into mentions of other items.
    `meta` holds kind-specific data (arXiv version and announce type, X handle, ...).
    `mention_url` and `mention_meta` are what this source's own mention of the item records
    when they differ from the item: Hugging Face's paper page and its upvotes for an arXiv
    paper. Unlike the item's fields they are refreshed by every collect.
    """

    key: str
    kind: ItemKind
    url: str
    title: str
    summary_html: str = ""
    summary_text: str = ""
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    published: datetime | None = None
    links: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    mention_url: str = ""
    mention_meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    """The parsed payload of one fetch: its entries plus what the source said about itself.

    `note` is a human remark that is not an error ("empty listing", "stale listing ...").
    `state` is source-private data to keep for the next fetch (an X user id, a since_id).
    """

    entries: tuple[Entry, ...]
    note: str = ""
    state: Mapping[str, Any] = field(default_factory=dict)


# What a mention may say of its item, as `items --json` shows it (mentions[].upvotes, ...).
MENTION_FIELDS = ("upvotes", "comments", "submitter", "organization")


@dataclass(frozen=True)
class Mention:
    """A source pointing at an item. `meta` is what that source last said of it (Hugging
    Face: upvotes, comments, submitter, organization; a post: the author's handle)."""

    source_id: str
    url: str
    first_seen: datetime
    last_seen: datetime
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def said(self) -> dict[str, Any]:
        """The MENTION_FIELDS this source gave, for JSON (`mentions[].upvotes`, ...)."""
        return {name: self.meta[name] for name in MENTION_FIELDS if self.meta.get(name) not in (None, "")}

    @property
    def upvotes(self) -> int | None:
        value = self.meta.get("upvotes")
        return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class RelatedLink:
    """A link the curator put under an item (관련 링크): an X post, a code repository..."""

    url: str
    title: str = ""


@dataclass(frozen=True)
class Item:
    """An item as the store holds it: source data plus the curator's edits."""

    id: int
    key: str
    kind: ItemKind
    source_id: str  # the source that first brought it
    url: str
    title: str
    summary_html: str
    summary_text: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    published: datetime
    first_seen: datetime
    status: ItemStatus
    commentary: str = ""
    title_override: str | None = None
    section_override: str | None = None
    tags: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    related: tuple[RelatedLink, ...] = ()  # the curator's, in their order

    @property
    def display_title(self) -> str:
        return self.title_override or self.title


@dataclass(frozen=True)
class SourceHealth:
    source_id: str
    kind: str
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    items_last_run: int = 0
    state: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceResult:
    """One source's share of a collect run, as `collect --json` reports it."""

    source_id: str
    kind: str
    status: FetchOutcome
    fetched: int = 0
    new: int = 0
    error: str | None = None
    note: str = ""


class IssueStatus(StrEnum):
    DRAFT = "draft"
    READY = "ready"  # the curator says it may go
    SENDING = "sending"  # delivery rows exist; a crash resumes from them
    SENT = "sent"  # immutable except for an explicit correction


ISSUE_TRANSITIONS: Mapping[IssueStatus, frozenset[IssueStatus]] = {
    IssueStatus.DRAFT: frozenset({IssueStatus.READY}),
    IssueStatus.READY: frozenset({IssueStatus.DRAFT, IssueStatus.SENDING}),
    IssueStatus.SENDING: frozenset({IssueStatus.SENT}),
    IssueStatus.SENT: frozenset(),
}


@dataclass(frozen=True)
class Issue:
    """One issue per local date (the newsletter's zone)."""

    id: int
    issue_date: date
    number: int
    status: IssueStatus
    subject: str  # "" means: from newsletter.subject_template
    preheader: str  # "" means: generated from the first items
    note: str  # the editor's note, Markdown subset
    item_ids: tuple[int, ...]  # in the curator's order
    created: datetime
    sent: datetime | None = None


# Stands in the rendered HTML and text wherever the per-recipient unsubscribe URL goes; it is
# an absolute https URL so the one render per issue passes the same link checks as the rest.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/__UNSUBSCRIBE__"


@dataclass(frozen=True)
class RenderedIssue:
    issue_date: date
    number: int
    subject: str  # one safe header line
    preheader: str
    html: str
    text: str


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # double opt-in mail sent, not confirmed
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str  # normalised
    status: SubscriberStatus
    created: datetime
    changed: datetime
    how: str = ""  # how the last change happened: "form", "import", "one-click", "cli", ...


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # written before the first message goes out
    SENT = "sent"
    FAILED = "failed"  # permanent (5xx, or attempts exhausted)


@dataclass(frozen=True)
class Delivery:
    id: int
    issue_id: int
    subscriber_id: int
    email: str
    status: DeliveryStatus
    message_id: str  # fixed per row, so a resend after a crash carries the same Message-ID
    attempts: int = 0
    last_reply: str = ""
    sent: datetime | None = None


def utc_iso(moment: datetime) -> str:
    """The one text form of a datetime: ISO 8601 in UTC with a 'Z', to the second."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: every datetime here is aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
