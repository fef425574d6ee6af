"""arXiv: the daily listing from rss.arxiv.org, and the export API for lookups by id.

Both payloads are plain, well-formed XML in UTF-8 with a fixed structure, so they are read
with ElementTree rather than feedparser: we want arXiv's own fields (announce type, primary
category, version, comment) exactly as sent, not a generic feed's approximation of them.
arXiv's terms ask for one connection and at least 3 s between requests: every request here
goes through HttpClient with min_interval=settings.collect.arxiv_interval.
"""

from __future__ import annotations

import email.utils
import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import Collection, Sequence

from ..config import Settings, SourceConfig
from ..errors import FetchError, ParseError
from ..model import Entry, ItemKind, Listing, SourceHealth
from ..text import arxiv_id, clean_text, sanitize_html
from . import Fetched, parse_off_loop
from .http import HttpClient

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"

# "arXiv:2407.13623v1 Announce Type: new \nAbstract: Research on ..."
_DESCRIPTION = re.compile(
    r"^\s*arXiv:(?P<id>\S+?)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?(?P<abstract>.*)$", re.S)
_LOOKUP_BATCH = 100  # ids per API request: keeps the URL short and the answer one page


def _xml(content: bytes, source_id: str, what: str) -> ET.Element:
    # arXiv never sends a DTD; refusing one keeps entity tricks out of the parser.
    if not content.strip():
        raise ParseError(f"empty response body, expected {what}", source_id=source_id)
    if b"<!DOCTYPE" in content[:2048].upper():
        raise ParseError(f"unexpected DOCTYPE in {what}", source_id=source_id)
    try:
        return ET.fromstring(content)
    except ET.ParseError as e:
        # arXiv signals throttling with a bare "Rate exceeded." body: show what came instead.
        start = clean_text(content[:80].decode("utf-8", "replace"))
        raise ParseError(f"not {what} ({e}); the body starts {start!r}", source_id=source_id) from e


def _text(element: ET.Element | None) -> str:
    return clean_text(element.text or "") if element is not None else ""


def _rfc822(value: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def split_authors(creators: str) -> tuple[str, ...]:
    """dc:creator is one comma-separated string; the last name may come after "and"
    ("A, B, and C" or "A and B"), which must not glue two people into one."""
    parts = [p.strip() for p in clean_text(creators).split(",")]
    if parts and " and " in parts[-1]:
        parts[-1:] = parts[-1].split(" and ")
    names = (re.sub(r"^and\s+", "", p).strip() for p in parts)
    return tuple(n for n in names if n)


def _paragraph(abstract: str) -> str:
    # Abstracts are plain text with LaTeX ("V_max<17.5"): escape, never interpret.
    return sanitize_html(f"<p>{html.escape(abstract)}</p>") if abstract else ""


def parse_listing(content: bytes, *, source_id: str, announce_types: Collection[str] = ("new", "cross"),
                  now: datetime, stale_after_days: int = 4) -> Listing:
    """Papers of one rss.arxiv.org daily listing whose announce type is wanted."""
    root = _xml(content, source_id, "an arXiv RSS listing")
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ParseError(f"not an arXiv RSS listing (root element <{root.tag}>)", source_id=source_id)
    dated = _rfc822(_text(channel.find("pubDate"))) or _rfc822(_text(channel.find("lastBuildDate")))
    published = dated.astimezone(timezone.utc) if dated else now.astimezone(timezone.utc)
    items = channel.findall("item")
    if not items:  # weekends and holidays: nothing announced, which is not an error
        return Listing((), note="empty listing")

    entries: dict[str, Entry] = {}
    skipped = 0
    for item in items:
        entry = _listing_entry(item, published)
        if entry is None:
            continue
        if entry.meta["announce_type"] not in announce_types:
            skipped += 1
        elif entry.key not in entries:  # one paper cross-listed in several requested categories
            entries[entry.key] = entry

    notes = []
    if dated and dated < now - timedelta(days=stale_after_days):
        # The date as arXiv wrote it (US Eastern), which is the announce date people know.
        notes.append(f"stale listing (dated {dated.date().isoformat()})")
    if not entries:
        notes.append(f"no items announced as {'/'.join(announce_types)} ({skipped} skipped)")
    return Listing(tuple(entries.values()), note="; ".join(notes))


def _listing_entry(item: ET.Element, published: datetime) -> Entry | None:
    description = item.findtext("description") or ""
    match = _DESCRIPTION.match(description)
    found = (arxiv_id(match["id"]) if match else None) or arxiv_id(
        (item.findtext("guid") or "").removeprefix("oai:arXiv.org:")) or arxiv_id(item.findtext("link") or "")
    if found is None:
        return None
    paper, version = found
    announce_type = _text(item.find(f"{ARXIV}announce_type")) or (match["type"] if match else "new")
    abstract = clean_text(match["abstract"] if match else description)
    categories = tuple(dict.fromkeys(_text(c) for c in item.findall("category") if _text(c)))
    return Entry(
        key=f"arxiv:{paper}",
        kind=ItemKind.PAPER,
        url=f"https://arxiv.org/abs/{paper}",
        title=_text(item.find("title")),
        summary_html=_paragraph(abstract),
        summary_text=abstract,
        authors=split_authors(", ".join(_text(c) for c in item.findall(f"{DC}creator"))),
        categories=categories,
        published=published,
        meta={
            "arxiv_id": paper,
            "version": version,
            "announce_type": announce_type,
            # arXiv lists a paper's categories primary first; the RSS has no other marker.
            "primary_category": categories[0] if categories else "",
            "pdf_url": f"https://arxiv.org/pdf/{paper}{version}",
        },
    )


def parse_api(content: bytes, *, source_id: str = "arxiv-api") -> tuple[Entry, ...]:
    """Papers in an arXiv API (Atom) response, old or 2025+ format; ParseError on API errors."""
    root = _xml(content, source_id, "an arXiv API response")
    if root.tag != f"{ATOM}feed":
        raise ParseError(f"not an arXiv API response (root element <{root.tag}>)", source_id=source_id)
    entries = []
    for node in root.findall(f"{ATOM}entry"):
        raw_id = _text(node.find(f"{ATOM}id"))
        if "arxiv.org/api/errors" in raw_id:  # the API reports bad queries as an entry
            summary = _text(node.find(f"{ATOM}summary")) or raw_id
            raise ParseError(f"arXiv API error: {summary}", source_id=source_id, url=raw_id)
        found = arxiv_id(raw_id)
        if found is None:
            continue
        paper, version = found
        categories = tuple(dict.fromkeys(c.get("term", "") for c in node.findall(f"{ATOM}category")
                                         if c.get("term")))
        primary = node.find(f"{ARXIV}primary_category")
        pdf = next((link.get("href", "") for link in node.findall(f"{ATOM}link")
                    if link.get("title") == "pdf"), "") or f"https://arxiv.org/pdf/{paper}{version}"
        abstract = _text(node.find(f"{ATOM}summary"))
        published = _iso(_text(node.find(f"{ATOM}published")))
        entries.append(Entry(
            key=f"arxiv:{paper}",
            kind=ItemKind.PAPER,
            url=f"https://arxiv.org/abs/{paper}",
            title=_text(node.find(f"{ATOM}title")),
            summary_html=_paragraph(abstract),
            summary_text=abstract,
            authors=tuple(_text(a.find(f"{ATOM}name")) for a in node.findall(f"{ATOM}author")
                          if _text(a.find(f"{ATOM}name"))),
            categories=categories,
            published=published,
            meta={
                "arxiv_id": paper,
                "version": version,
                "primary_category": primary.get("term", "") if primary is not None else
                (categories[0] if categories else ""),
                "pdf_url": re.sub(r"^http://", "https://", pdf),
                "comment": _text(node.find(f"{ARXIV}comment")),
                "journal_ref": _text(node.find(f"{ARXIV}journal_ref")),
                "doi": _text(node.find(f"{ARXIV}doi")),
                "updated": _text(node.find(f"{ATOM}updated")),
            },
        ))
    return tuple(entries)


def _iso(value: str) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def listing_url(source: SourceConfig) -> str:
    """One request for all categories: https://rss.arxiv.org/rss/cs.CL+cs.LG+cs.AI."""
    return source.url.rstrip("/") + "/" + "+".join(source.categories)


async def collect(source: SourceConfig, http: HttpClient, health: SourceHealth, settings: Settings,
                  now: datetime) -> Fetched:
    response = await http.get(listing_url(source), source_id=source.id, etag=health.etag,
                              last_modified=health.last_modified, min_interval=settings.collect.arxiv_interval)
    if response.not_modified:
        return Fetched(Listing(()), not_modified=True, etag=response.etag or health.etag,
                       last_modified=response.last_modified or health.last_modified)
    listing = await parse_off_loop(  # CPU work off the event loop, as in feeds.collect
        parse_listing, response.content, source_id=source.id, announce_types=source.announce_types,
        now=now, stale_after_days=settings.collect.stale_after_days)
    return Fetched(listing, etag=response.etag, last_modified=response.last_modified)


async def lookup(ids: Sequence[str], http: HttpClient, settings: Settings, *, api_url: str) -> tuple[Entry, ...]:
    """Papers by arXiv id (any version, or abs/pdf URLs), from the export API.

    Versions are dropped so the API answers with the latest one. Something that is not an
    arXiv id raises ParseError before any request is made (the API would fail the whole batch).
    """
    wanted: dict[str, None] = {}
    for raw in ids:
        found = arxiv_id(raw)
        if found is None:
            raise ParseError(f"not an arXiv id: {raw!r}", source_id="arxiv-api")
        wanted.setdefault(found[0], None)
    papers = list(wanted)
    entries: list[Entry] = []
    for start in range(0, len(papers), _LOOKUP_BATCH):
        batch = papers[start:start + _LOOKUP_BATCH]
        try:
            response = await http.get(api_url, source_id="arxiv-api", min_interval=settings.collect.arxiv_interval,
                                      params={"id_list": ",".join(batch), "max_results": str(len(batch))})
        except FetchError as e:
            if e.status != 404:
                raise
            # the configured API (a mirror, the demo's snapshots) holds no answer for these ids:
            # its own words say more than "HTTP 404" and a query string would
            because = f" ({e.detail})" if e.detail else f" (HTTP 404 from {api_url})"
            raise FetchError(f"no arXiv answer for {', '.join(batch)}{because}", source_id="arxiv-api",
                             url=e.url, status=404, detail=e.detail) from e
        entries.extend(parse_api(response.content))
    return tuple(entries)
