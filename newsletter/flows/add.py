"""Add by hand: the curator pastes an X or Bluesky post URL, an arXiv id or URL, or any web page.

X posts become static snapshots through the collectors' oEmbed resolver, Bluesky posts
through the configured (else the public) AppView's getPostThread, papers come from
the configured arXiv API, other pages give their metadata (collect/page.py), fetched only
through the address guard (collect/guard.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import httpx

from ..collect import arxiv, bluesky, x
from ..collect.guard import GuardedTransport, check_address
from ..collect.http import HttpClient
from ..collect.page import parse_page
from ..config import Settings
from ..errors import InputError, ParseError, RefusedAddress
from ..kinds import KINDS
from ..model import Entry, SourceKind
from ..sections import MANUAL_SOURCE
from ..store import transaction
from ..store.items import annotate, existing_keys, get_item_by_key, upsert_entries
from ..store.queue import QueueEntry
from ..text import arxiv_id, bluesky_post, item_key, x_status
from .collecting import linked_mentions
from .curate import Curation

# The app's HTTP client, optionally over a transport of the caller's (the address guard).
HttpFactory = Callable[[httpx.AsyncBaseTransport | None], HttpClient]


@dataclass(frozen=True)
class Added:
    entry: QueueEntry
    created: bool  # False: the item was known already (found by its canonical key)


def arxiv_api_url(settings: Settings) -> str:
    return next((s.api_url for s in settings.sources if s.kind is SourceKind.ARXIV and s.api_url),
                KINDS[SourceKind.ARXIV].api_url)


async def _fetch_entry(settings: Settings, http: HttpFactory, url: str, added_by: str, now) -> Entry:
    if paper := arxiv_id(url):
        async with http(None) as api:  # the configured arXiv API, not a pasted address
            found = await arxiv.lookup([paper[0]], api, settings, api_url=arxiv_api_url(settings))
        wanted = [e for e in found if e.key == f"arxiv:{paper[0]}"]
        if not wanted:
            raise ParseError(f"arXiv has no paper {paper[0]}", source_id="arxiv-api")
        return wanted[0]
    if x_status(url):
        async with http(None) as api:  # the configured oEmbed endpoint
            return await x.resolve_post(url, api, settings)
    if bluesky_post(url):
        async with http(None) as api:  # the configured XRPC base, not a pasted address
            return await bluesky.resolve_post(url, api, settings)
    allow_private = settings.web.allow_private_urls
    await check_address(url, allow_private)
    async with http(GuardedTransport(allow_private)) as client:
        response = await client.get(url, source_id=MANUAL_SOURCE, headers={"Accept": "text/html,*/*;q=0.5"})
    content_type = response.headers.get("content-type", "")
    if content_type and "html" not in content_type.lower():
        raise InputError(f"{url[:200]} is {content_type.split(';')[0]}, not a web page; paste the page about it")
    return parse_page(response.content, url=url, content_type=content_type, now=now, added_by=added_by)


def normalise_input(raw: str) -> str:
    """What the curator pasted -> a URL: arXiv ids become abs URLs; scheme-less hosts are refused."""
    text = raw.strip()
    if not text:
        raise InputError("paste a URL or an arXiv id")
    if len(text) > 2000:
        raise InputError("that URL is longer than 2,000 characters")
    found = arxiv_id(text)
    if found and "://" not in text:
        return f"https://arxiv.org/abs/{found[0]}"
    if "://" not in text and not text.lower().startswith(("file:", "ftp:", "javascript:", "data:")):
        raise InputError(f"not a URL or an arXiv id: {text[:200]} (URLs start with https://)")
    return text


async def add_by_url(desk: Curation, settings: Settings, http: HttpFactory, raw: str, *,
                     added_by: str, section: str = "") -> Added:
    """Find or create the item a pasted URL or id points at."""
    conn = desk.conn
    if section and section not in desk.sections.order:
        raise InputError(f"unknown section {section!r}")
    url = normalise_input(raw)
    try:
        urlsplit(url).port  # a port out of range, a broken [host]: urllib's ValueError
    except ValueError as e:
        raise InputError(f"not a usable URL ({e}): {url[:200]}") from e
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise RefusedAddress(f"only http(s) URLs can be added, not {urlsplit(url).scheme}: {url[:200]}")
    key = item_key(url)
    known = get_item_by_key(conn, key)
    if known is None:
        new_entry = await _fetch_entry(settings, http, url, added_by, desk.clock())
        key = new_entry.key
    now = desk.clock()
    with transaction(conn):
        if known is None and not existing_keys(conn, [key]):
            upsert_entries(conn, MANUAL_SOURCE, [new_entry], now, extra_mentions=linked_mentions([new_entry]))
            created = True
        else:  # known, or it arrived while we fetched: one more mention, no duplicate
            upsert_entries(conn, MANUAL_SOURCE, [], now, extra_mentions=[(key, url)])
            created = False
        item = get_item_by_key(conn, key)
        if section and created:
            annotate(conn, item.id, now, section_override=section)
    return Added(entry=desk.entry(item.id), created=created)
