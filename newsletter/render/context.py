"""What the email templates see: an issue and its items turned into display-ready views.

Pure functions of (issue, items, settings). Plain strings are escaped by the templates;
fields holding HTML are `Markup` built here from escaped text, so nothing an item or a
curator typed can add markup of its own.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Sequence
from urllib.parse import urlsplit

from markupsafe import Markup

from ..config import Settings
from ..errors import ConfigError, RenderError
from ..model import SOCIAL_POSTS, UNSUBSCRIBE_PLACEHOLDER, Issue, Item, ItemKind
from ..sections import item_source_name, section_of, source_name  # noqa: F401 (render's API)
from ..text import markdown_subset, truncate, without_tracking

WEEKDAYS = "월화수목금토일"
SUBJECT_MAX_CHARS = 150  # one header line; RFC 2047 folding takes care of the bytes
TITLE_MAX_CHARS = 300

# Characters that must never reach a header or a one-line title: controls (CR, LF, NUL ...),
# line/paragraph separators, zero-width and bidirectional controls (they can disguise text).
_UNSAFE_IN_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+")
_TRAILING_PUNCTUATION = ".,;:!?)]}'\"。、"


def one_line(text: str, limit: int | None = None) -> str:
    """Text made safe for a header or a title: unsafe characters become spaces, runs of
    whitespace collapse, and it is cut at `limit` characters (with an ellipsis)."""
    text = unicodedata.normalize("NFC", text or "")
    text = re.sub(r"\s+", " ", _UNSAFE_IN_LINE.sub(" ", text)).strip()
    return truncate(text, limit) if limit else text


def korean_date(day: date, *, weekday: bool = True) -> str:
    """2024년 7월 19일 (금)"""
    label = f"{day.year}년 {day.month}월 {day.day}일"
    return f"{label} ({WEEKDAYS[day.weekday()]})" if weekday else label


def absolute_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL safe to put in an href, else "". Tracking
    parameters (utm_* from a feed, fbclid ...) are dropped: readers get the plain link."""
    url = (url or "").strip()
    if not url or _UNSAFE_IN_LINE.search(url) or re.search(r"\s", url):
        return ""
    try:
        parts = urlsplit(url)
        usable = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a bracketed host that is not an IPv6 address
        return ""
    return without_tracking(url) if usable else ""


def link_label(url: str) -> str:
    """A link's text when the curator gave none: host and path, without scheme or "www."."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return truncate(host + (parts.path.rstrip("/") or ""), 60)


def web_url(settings: Settings, issue_date: date) -> str:
    """The issue's page in the archive: site_url + /issues/YYYY-MM-DD/."""
    return f"{settings.newsletter.site_url.rstrip('/')}/issues/{issue_date.isoformat()}/"


def subject_line(issue: Issue, settings: Settings) -> str:
    """The curator's subject, else newsletter.subject_template, as one safe header line."""
    if issue.subject.strip():
        return one_line(issue.subject, SUBJECT_MAX_CHARS)
    template = settings.newsletter.subject_template
    try:
        subject = template.format_map({"title": settings.newsletter.title, "number": issue.number,
                                       "date": korean_date(issue.issue_date)})
    except (KeyError, IndexError, ValueError, AttributeError) as e:
        raise ConfigError(f"cannot fill {template!r} ({type(e).__name__}: {e}); the fields are "
                          "{title}, {number} and {date}", path=settings.path,
                          field="newsletter.subject_template") from e
    return one_line(subject, SUBJECT_MAX_CHARS)


def preheader_line(issue: Issue, ordered_items: Sequence[Item], settings: Settings) -> str:
    """The curator's preheader, else the first items' titles; at most preheader_chars."""
    limit = settings.render.preheader_chars
    if issue.preheader.strip():
        return one_line(issue.preheader, limit)
    titles = [one_line(item.display_title) for item in ordered_items[:5]]
    return one_line(" · ".join(t for t in titles if t), limit)


def authors_line(authors: Sequence[str], shown: int) -> str:
    """"A, B, C 외 7명" """
    names = [one_line(a) for a in authors if one_line(a)]
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} 외 {len(names) - shown}명"


def byline(item: Item, settings: Settings) -> str:
    """Authors (the first few) or, when there are none, whose item it is."""
    return authors_line(item.authors, settings.render.authors_shown) or item_source_name(item, settings)


def linkified(text: str) -> Markup:
    """Plain text as HTML: escaped, http(s) URLs made links, line breaks kept."""
    pieces, position = [], 0
    for match in _URL_IN_TEXT.finditer(text):
        url = match.group().rstrip(_TRAILING_PUNCTUATION)
        end = match.start() + len(url)
        pieces.append(html.escape(text[position:match.start()], quote=False))
        pieces.append(f'<a href="{html.escape(absolute_url(url) or url)}" style="color:#0b57d0">'
                      f'{html.escape(url, quote=False)}</a>')
        position = end
    pieces.append(html.escape(text[position:], quote=False))
    return Markup("<br>".join("".join(pieces).split("\n")))


_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*((?:https?://|mailto:)[^\s)]+)\s*\)")


def markdown_plain(text: str) -> str:
    """The Markdown subset (links, bold, italic, code) as plain text: "label (URL)", no markers."""
    text = _MD_LINK.sub(lambda m: m[1] if m[1] == m[2] else f"{m[1]} ({m[2]})", text or "")
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])", r"\2", text)
    text = re.sub(r"`([^`\n]+)`", r"\1", text)
    lines = [re.sub(r"[ \t]+", " ", _UNSAFE_IN_LINE.sub(" ", line)).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def commentary_markup(source: str) -> Markup:
    """The curator's Markdown subset as email HTML: text.markdown_subset (escaped, then
    sanitised) with paragraph margins inline, since mail clients disagree on <p> defaults."""
    if not (source or "").strip():
        return Markup("")
    fragment = markdown_subset(source)
    # sanitize_html leaves <p> without attributes, so this only ever adds a style
    fragment = fragment.replace("<p>", '<p style="margin:8px 0 0">').replace(
        '<p style="margin:8px 0 0">', '<p style="margin:0">', 1)
    return Markup(fragment)


@dataclass(frozen=True)
class LinkView:
    url: str  # absolute http(s), tracking parameters dropped
    label: str  # the curator's title, else the link's host and path


@dataclass(frozen=True)
class ItemView:
    id: int
    kind: str  # ItemKind value: selects the partial
    section: str
    title: str
    url: str  # absolute http(s), or "" when the item's own URL is not usable
    source_name: str
    date_label: str
    authors: str  # "A, B, C 외 N명" (papers); "" otherwise
    summary: str  # plain text, trimmed at render.abstract_chars
    summary_trimmed: bool
    commentary_html: Markup
    commentary_text: str
    tags: tuple[str, ...]
    category: str = ""  # arXiv primary category
    pdf_url: str = ""
    handle: str = ""  # X
    author_name: str = ""  # X
    quote_html: Markup = Markup("")  # X post text with its links
    related: tuple[LinkView, ...] = ()  # the curator's 관련 링크, right below the item


@dataclass(frozen=True)
class SectionView:
    id: str
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class IssueView:
    issue_date: date
    number: int
    title: str  # the newsletter's title
    subject: str
    preheader: str
    date_label: str
    web_url: str
    note_html: Markup
    note_text: str
    sections: tuple[SectionView, ...]
    unsubscribe_url: str
    postal_address: str
    site_url: str

    @property
    def items(self) -> tuple[ItemView, ...]:
        return tuple(item for section in self.sections for item in section.items)


def ordered(issue: Issue, items: Sequence[Item], settings: Settings) -> list[Item]:
    """The issue's items grouped by section (newsletter.sections order, then any others in
    order of first appearance), each section in the curator's order."""
    by_id = {item.id: item for item in items}
    missing = [item_id for item_id in issue.item_ids if item_id not in by_id]
    if missing:
        raise RenderError(f"item(s) {', '.join(map(str, missing))} of the issue were not given",
                          issue_date=issue.issue_date)
    in_order = [by_id[item_id] for item_id in issue.item_ids]
    rank = {name: index for index, name in enumerate(settings.newsletter.sections)}
    first_seen: dict[str, int] = {}
    for item in in_order:
        first_seen.setdefault(section_of(item, settings), len(rank) + len(first_seen))
    return sorted(in_order, key=lambda item: rank.get(section_of(item, settings),
                                                      first_seen[section_of(item, settings)]))


def item_view(item: Item, settings: Settings) -> ItemView:
    zone = settings.newsletter.zone
    if item.kind in SOCIAL_POSTS:  # a post keeps its line breaks
        summary_full = "\n".join(one_line(line) for line in item.summary_text.strip().splitlines())
    else:
        summary_full = one_line(item.summary_text)
    summary = truncate(summary_full, settings.render.abstract_chars)
    if summary != summary_full:  # a URL cut in half would be a wrong link
        summary = re.sub(r"\s*https?://\S*…$", "…", summary)
    meta = item.meta or {}
    common = dict(
        id=item.id, kind=item.kind.value, section=section_of(item, settings),
        title=one_line(item.display_title, TITLE_MAX_CHARS) or "(제목 없음)",
        url=absolute_url(item.url), source_name=one_line(item_source_name(item, settings)),
        date_label=korean_date(item.published.astimezone(zone).date(), weekday=False),
        summary=summary, summary_trimmed=summary != summary_full,
        commentary_html=commentary_markup(item.commentary),
        commentary_text=markdown_plain(item.commentary),
        tags=tuple(one_line(tag).replace(" ", "-") for tag in item.tags if one_line(tag)),
        related=related_views(item),
    )
    if item.kind is ItemKind.PAPER:
        return ItemView(**common, authors=authors_line(item.authors, settings.render.authors_shown),
                        category=one_line(str(meta.get("primary_category") or "")),
                        pdf_url=absolute_url(str(meta.get("pdf_url") or "")))
    if item.kind in SOCIAL_POSTS:
        handle = one_line(str(meta.get("handle") or ""))
        return ItemView(**common, authors="", handle=handle,
                        author_name=one_line(str(meta.get("author_name") or handle)),
                        quote_html=linkified(summary))
    return ItemView(**common, authors="")


def related_views(item: Item) -> tuple[LinkView, ...]:
    views = []
    for link in item.related:
        if url := absolute_url(link.url):
            views.append(LinkView(url, one_line(link.title, TITLE_MAX_CHARS) or link_label(url)))
    return tuple(views)


def issue_view(issue: Issue, items: Sequence[Item], settings: Settings, *,
               unsubscribe_url: str = UNSUBSCRIBE_PLACEHOLDER) -> IssueView:
    in_order = ordered(issue, items, settings)
    views = [item_view(item, settings) for item in in_order]
    sections: list[SectionView] = []
    for view in views:
        if sections and sections[-1].id == view.section:
            sections[-1] = SectionView(view.section, sections[-1].items + (view,))
        else:
            sections.append(SectionView(view.section, (view,)))
    return IssueView(
        issue_date=issue.issue_date, number=issue.number, title=one_line(settings.newsletter.title),
        subject=subject_line(issue, settings), preheader=preheader_line(issue, in_order, settings),
        date_label=korean_date(issue.issue_date), web_url=web_url(settings, issue.issue_date),
        note_html=commentary_markup(issue.note),
        note_text=markdown_plain(issue.note), sections=tuple(sections),
        unsubscribe_url=unsubscribe_url, postal_address=one_line(settings.newsletter.postal_address),
        site_url=settings.newsletter.site_url.rstrip("/") + "/",
    )


def local_date(moment: datetime, settings: Settings) -> date:
    """The date of `moment` in the newsletter's zone: the date an issue built now carries."""
    return moment.astimezone(settings.newsletter.zone).date()
