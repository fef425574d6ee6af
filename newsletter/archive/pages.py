"""What the archive holds and how each file of it is made.

`gather` reads the issues to publish and their items; `Site.outputs` turns them into a list
of `Output`s: a path, a fingerprint of everything the file is made from, and a function that
renders it. Rendering is deferred so a rebuild renders only the files whose fingerprint
changed (see build.py). Pages reuse the email's views (render.issue_view) and words
(templates/email/labels.j2), so the archive says what the email said, in the same look.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Sequence

import jinja2
from markupsafe import Markup

from ..config import Settings
from ..errors import ArchiveError, IssueError
from ..model import SOCIAL_POSTS, Issue, IssueStatus, Item, utc_iso
from ..render import ItemView, issue_view, korean_date, ordered, subject_line
from ..render.context import TITLE_MAX_CHARS, markdown_plain, one_line, preheader_line
from ..sections import item_source_name
from ..store import issues as issue_store
from ..store import items as item_store
from ..text import markdown_subset
from . import paths
from .search import SearchIndex, SearchIssue, SearchItem

FEED_ISSUES = 20  # the newest sent issues in feed.xml; the index and sitemap list them all
TAG_PAGE_ITEMS = 100  # a tag's older items come in pages of this many (see Site.tag_pages)
# Code the pages are made by: a change here re-renders every page (the bytes still decide
# what is written).
_CODE = (Path(__file__).parent, Path(__file__).resolve().parents[1] / "render" / "context.py")
# X quotes come from render's linkified(), which styles its links inline for mail clients;
# the archive's Content-Security-Policy (style-src 'self') would refuse those attributes.
_INLINE_LINK_STYLE = re.compile(r'(<a href="[^"]*") style="[^"]*">')


@dataclass(frozen=True)
class ArchivedIssue:
    issue: Issue
    items: tuple[Item, ...]  # in the email's order: by section, the curator's order within
    preview: bool  # not sent: shown because the caller asked, marked as a preview

    @property
    def path(self) -> str:
        return paths.issue_path(self.issue.issue_date)

    @cached_property
    def item_fingerprints(self) -> dict[int, str]:
        return {item.id: item_fingerprint(item) for item in self.items}

    @cached_property
    def fingerprint(self) -> str:
        issue = self.issue
        return _digest(issue.issue_date, issue.number, issue.subject, issue.preheader, issue.note,
                       issue.sent and utc_iso(issue.sent), self.preview, list(self.item_fingerprints.values()))


def item_fingerprint(item: Item) -> str:
    """Everything of an item a page can show (mentions and timestamps of re-fetches are not)."""
    return _digest(item.id, item.kind, item.source_id, item.url, item.title, item.title_override,
                   item.summary_text, item.authors, item.published, item.commentary, item.tags,
                   item.section_override, item.meta)  # meta: as stored, in the same key order


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def gather(conn: sqlite3.Connection, settings: Settings, previews: Iterable[date] = ()) -> list[ArchivedIssue]:
    """The sent issues, plus the issues of `previews` (any state), newest first."""
    chosen = {issue.id: (issue, False) for issue in issue_store.list_issues(conn, status=IssueStatus.SENT)}
    for issue_date in previews:
        issue = issue_store.get_issue_by_date(conn, issue_date)
        if issue is None:
            raise IssueError("no such issue to show as a preview", issue_date=issue_date)
        chosen.setdefault(issue.id, (issue, True))
    issues = sorted(chosen.values(), key=lambda pair: pair[0].issue_date, reverse=True)
    items = {item.id: item for item in item_store.get_items(
        conn, [item_id for issue, _ in issues for item_id in issue.item_ids])}
    return [ArchivedIssue(issue, tuple(ordered(issue, [items[i] for i in issue.item_ids if i in items],
                                               settings)), preview)
            for issue, preview in issues]


# --- templates ---------------------------------------------------------------------------

class ArchiveTemplates:
    """templates/archive/ (pages, feed, sitemap, static/) with templates/email/ behind it for
    labels.j2, the words and font stack the email uses."""

    def __init__(self, template_dir: str | Path, shared_dir: str | Path):
        self.template_dir, self.shared_dir = Path(template_dir), Path(shared_dir)
        if not (self.template_dir / "base.html.j2").is_file():
            raise ArchiveError("not an archive template directory (base.html.j2 is missing)",
                               path=self.template_dir)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(self.template_dir), str(self.shared_dir)]), autoescape=True,
            trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)

    @property
    def static_dir(self) -> Path:
        return self.template_dir / "static"

    def static_files(self) -> dict[str, bytes]:
        """{name: content} of the hand-written CSS and JS, copied as they are."""
        return {p.name: p.read_bytes() for p in sorted(self.static_dir.iterdir()) if p.is_file()}

    @cached_property
    def fingerprint(self) -> str:
        """Every template, static file and line of code the pages are made from."""
        files = [p for p in sorted(self.template_dir.rglob("*")) if p.is_file()]
        files.append(self.shared_dir / "labels.j2")
        for code in _CODE:
            files += sorted(code.rglob("*.py")) if code.is_dir() else [code]
        digest = hashlib.sha256()
        for path in files:
            digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:32]

    def render(self, name: str, **context) -> bytes:
        try:
            return self.env.get_template(name).render(**context).encode("utf-8")
        except jinja2.TemplateSyntaxError as e:
            raise ArchiveError(f"line {e.lineno}: {e.message}", path=e.filename or name) from e
        except jinja2.TemplateError as e:
            raise ArchiveError(f"cannot render: {e}", path=self.template_dir / name) from e


# --- what the templates see --------------------------------------------------------------

@dataclass(frozen=True)
class TagLink:
    name: str
    path: str


@dataclass(frozen=True)
class ArchiveItem:
    v: ItemView  # the email's view of the item
    commentary_html: Markup  # the curator's Markdown subset, without the email's inline styles
    quote_html: Markup  # X posts: the text with its links
    tags: tuple[TagLink, ...]


@dataclass(frozen=True)
class TagPage:
    path: str
    entries: list[tuple[ArchivedIssue, Item]]  # newest first
    number: int | None  # None: the tag's index.html, with the newest items
    older: str | None  # the page before it


@dataclass(frozen=True)
class Output:
    """One file of the site: `inputs` fingerprints what it is made from (None: always
    render it); `render` makes its bytes."""

    path: str
    inputs: str | None
    render: Callable[[], bytes]


class Site:
    """The files of one build, planned by `outputs` and rendered on demand."""

    def __init__(self, settings: Settings, issues: Sequence[ArchivedIssue], templates: ArchiveTemplates,
                 now: datetime):
        self.settings, self.issues, self.templates, self.now = settings, list(issues), templates, now
        self.statics = templates.static_files()
        self.generator = _digest(templates.fingerprint, settings.newsletter, settings.render,
                                 [(s.id, s.name, s.section, s.kind.value) for s in settings.sources])
        self.tagged: dict[str, list[tuple[ArchivedIssue, Item]]] = {}
        for archived in self.issues:
            for item in archived.items:
                for tag in item.tags:
                    self.tagged.setdefault(unicodedata.normalize("NFC", tag), []).append((archived, item))
        self.slugs = {tag: paths.tag_slug(tag) for tag in self.tagged}

    # -- the plan --
    def outputs(self) -> list[Output]:
        always = [Output(paths.INDEX, None, self.index), Output(paths.FEED, None, self.feed),
                  Output(paths.SITEMAP, None, self.sitemap), Output(paths.TAGS_INDEX, None, self.tags_index),
                  Output(paths.SEARCH_PAGE, self.generator, self.search_page)]
        search = [Output(path, inputs, render) for path, inputs, render in self.search_index.planned()]
        statics = [Output(f"{paths.STATIC}/{name}", None, lambda body=body: body)
                   for name, body in self.statics.items()]
        issues = []
        for position, archived in enumerate(self.issues):
            older = self.issues[position + 1] if position + 1 < len(self.issues) else None
            inputs = _digest(self.generator, archived.fingerprint, older and (older.issue.issue_date,
                                                                              older.issue.number))
            issues.append(Output(archived.path, inputs,
                                 lambda archived=archived, older=older: self.issue_page(archived, older)))
        tags = []
        for tag in self.tagged:
            for page in self.tag_pages(tag):
                total = len(self.tagged[tag]) if page.number is None else None  # older pages do not count
                shown = [(a.issue.issue_date, a.issue.number, a.preview, a.item_fingerprints[i.id])
                         for a, i in page.entries]
                inputs = _digest(self.generator, tag, page.path, page.older, page.number, total,
                                 self._preview_only(tag), shown)
                tags.append(Output(page.path, inputs, lambda tag=tag, page=page: self.tag_page(tag, page)))
        return always + search + statics + issues + tags

    # -- pages --
    def _page(self, template: str, path: str, **context) -> bytes:
        def url(to: str, fragment: str = "") -> str:
            return paths.relative_url(path, to, fragment)

        def asset(name: str) -> str:  # a content hash in the URL, so browsers never keep a stale copy
            return f"{url(f'{paths.STATIC}/{name}')}?v={hashlib.sha256(self.statics[name]).hexdigest()[:10]}"

        newsletter = self.settings.newsletter
        site = {"title": one_line(newsletter.title), "subscribe_action": f"{newsletter.site_url.rstrip('/')}/subscribe",
                "postal_address": one_line(newsletter.postal_address)}
        return self.templates.render(template, page=path, url=url, asset=asset, paths=paths, site=site,
                                     **context)

    def index(self) -> bytes:
        rows = [{"path": a.path, "number": a.issue.number, "date": a.issue.issue_date.isoformat(),
                 "date_label": korean_date(a.issue.issue_date), "subject": subject_line(a.issue, self.settings),
                 "teaser": preheader_line(a.issue, a.items, self.settings), "preview": a.preview}
                for a in self.issues]
        return self._page("index.html.j2", paths.INDEX, rows=rows, canonical=paths.public_url(self.settings))

    def issue_page(self, archived: ArchivedIssue, older: ArchivedIssue | None) -> bytes:
        view = issue_view(archived.issue, archived.items, self.settings)
        by_id = {item.id: item for item in archived.items}
        sections = [{"id": section.id, "items": [self._item(by_id[v.id], v) for v in section.items]}
                    for section in view.sections]
        previous = older and {"path": older.path, "number": older.issue.number,
                              "date_label": korean_date(older.issue.issue_date)}
        return self._page("issue.html.j2", archived.path, v=view, sections=sections, preview=archived.preview,
                          note_html=Markup(markdown_subset(archived.issue.note)), previous=previous,
                          canonical=view.web_url, item_count=len(archived.items), noindex=archived.preview)

    def _item(self, item: Item, view: ItemView) -> ArchiveItem:
        quote = Markup("")
        if item.kind in SOCIAL_POSTS:
            quote = Markup(_INLINE_LINK_STYLE.sub(r"\1>", str(view.quote_html)))
        tags = tuple(TagLink(tag, paths.tag_path(self.slugs[unicodedata.normalize("NFC", tag)])) for tag in item.tags)
        return ArchiveItem(v=view, commentary_html=Markup(markdown_subset(item.commentary)), quote_html=quote,
                           tags=tags)

    def tag_pages(self, tag: str) -> list[TagPage]:
        """A busy tag's items in pages of TAG_PAGE_ITEMS, counted from the oldest so a new item
        changes only the newest pages: index.html shows the newest one or two (up to twice
        TAG_PAGE_ITEMS items), page-1.html, page-2.html ... the older ones, never rewritten
        as new items arrive."""
        slug = self.slugs[tag]
        oldest_first = self.tagged[tag][::-1]
        chunks = [oldest_first[start:start + TAG_PAGE_ITEMS] for start in range(0, len(oldest_first), TAG_PAGE_ITEMS)]
        older = chunks[:-2]
        pages = [TagPage(paths.tag_path(slug), [e for chunk in chunks[-2:] for e in chunk][::-1], None,
                         paths.tag_page_path(slug, len(older)) if older else None)]
        for number, chunk in enumerate(older, start=1):
            pages.append(TagPage(paths.tag_page_path(slug, number), chunk[::-1], number,
                                 paths.tag_page_path(slug, number - 1) if number > 1 else None))
        return pages

    def tag_page(self, tag: str, page: TagPage) -> bytes:
        """One page of a tag, newest first, one compact row per item: title linked to the item
        in its issue, the issue, the source."""
        entries = [{"issue_path": archived.path, "id": item.id, "title": _title(item), "number": archived.issue.number,
                    "date_label": korean_date(archived.issue.issue_date), "preview": archived.preview,
                    "source": one_line(item_source_name(item, self.settings))}
                   for archived, item in page.entries]
        return self._page("tag.html.j2", page.path, tag=tag, entries=entries, page_number=page.number,
                          older=page.older, first=paths.tag_path(self.slugs[tag]),
                          total=len(self.tagged[tag]) if page.number is None else None,
                          canonical=paths.public_url(self.settings, page.path),
                          noindex=self._preview_only(tag))

    def _preview_only(self, tag: str) -> bool:
        return all(archived.preview for archived, _ in self.tagged[tag])

    def tags_index(self) -> bytes:
        tags = sorted(self.tagged, key=lambda tag: (-len(self.tagged[tag]), tag))
        rows = [{"name": tag, "path": paths.tag_path(self.slugs[tag]), "count": len(self.tagged[tag])} for tag in tags]
        return self._page("tags.html.j2", paths.TAGS_INDEX, rows=rows,
                          canonical=paths.public_url(self.settings, paths.TAGS_INDEX))

    def search_page(self) -> bytes:
        return self._page("search.html.j2", paths.SEARCH_PAGE, noindex=True,
                          canonical=paths.public_url(self.settings, paths.SEARCH_PAGE))

    @cached_property
    def search_index(self) -> SearchIndex:
        """The search index (search.py) over titles, commentary as plain text and tags, each
        NFKC-normalised and without link targets."""
        def items(archived: ArchivedIssue) -> list[SearchItem]:
            return [SearchItem(item.id, _searchable(_title(item)), _searchable(markdown_plain(item.commentary)),
                               _searchable(" ".join(item.tags))) for item in archived.items]

        issues = [SearchIssue(link=paths.relative_url(paths.SEARCH_PAGE, a.path), number=a.issue.number,
                              date=a.issue.issue_date.isoformat(), date_label=korean_date(a.issue.issue_date),
                              preview=a.preview, fingerprint=a.fingerprint, count=len(a.items),
                              make_items=lambda a=a: items(a))
                  for a in self.issues]
        return SearchIndex(issues, self.generator, _digest)

    def feed(self) -> bytes:
        sent = [a for a in self.issues if not a.preview][:FEED_ISSUES]
        entries = []
        for archived in sent:
            view = issue_view(archived.issue, archived.items, self.settings)
            by_id = {item.id: item for item in archived.items}
            entries.append({"view": view, "sent": utc_iso(archived.issue.sent or archived.issue.created),
                            "items": [(v, Markup(markdown_subset(by_id[v.id].commentary))) for v in view.items]})
        updated = max((e["sent"] for e in entries), default=utc_iso(self.now))
        return self.templates.render("feed.xml.j2", site_title=one_line(self.settings.newsletter.title),
                                     feed_url=paths.public_url(self.settings, paths.FEED),
                                     home_url=paths.public_url(self.settings), updated=updated, entries=entries)

    def sitemap(self) -> bytes:
        urls = [(paths.public_url(self.settings), None), (paths.public_url(self.settings, paths.TAGS_INDEX), None)]
        for archived in self.issues:
            if not archived.preview:
                urls.append((paths.public_url(self.settings, archived.path), _day(archived.issue)))
        for tag, entries in sorted(self.tagged.items()):
            sent = [_day(a.issue) for a, _ in entries if not a.preview]
            if sent:
                urls.append((paths.public_url(self.settings, paths.tag_path(self.slugs[tag])), max(sent)))
        return self.templates.render("sitemap.xml.j2", urls=urls)


def _title(item: Item) -> str:
    return one_line(item.display_title, TITLE_MAX_CHARS) or "(제목 없음)"


def _day(issue: Issue) -> str:
    return (issue.sent or issue.created).date().isoformat()


# Link targets in commentary ("원문 (https://…)"): nobody searches for them, and they are long.
_URLS = re.compile(r"\s*\(?https?://[^\s)]+\)?")


def _searchable(text: str) -> str:
    return unicodedata.normalize("NFKC", _URLS.sub("", text)).strip()
