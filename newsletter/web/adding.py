"""Add by hand: the curator pastes an X post URL, an arXiv id or URL, or any web page.

X posts become static snapshots through the collectors' oEmbed resolver, papers come from
the arXiv API, other pages give their OpenGraph/meta title and description (sanitised and
size-capped). Pages are only fetched over http(s), and never from loopback, private,
link-local or otherwise non-public addresses unless settings.web.allow_private_urls: every
address is checked when the host is resolved and again for each redirect hop, at the
transport, just before connecting.
"""

from __future__ import annotations

import asyncio
import codecs
import html
import ipaddress
import re
import socket
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx

from .. import pipeline
from ..collect import arxiv, x
from ..config import Settings
from ..errors import ParseError
from ..model import Entry, ItemKind, SourceKind
from ..store import transaction
from ..store.items import annotate, existing_keys, get_item_by_key, upsert_entries
from ..store.queue import QueueEntry
from ..text import arxiv_id, canonical_url, clean_text, item_key, sanitize_html, truncate, x_status
from .actions import BadInput, entry
from .auth import Curator
from .core import Web
from .present import MANUAL_SOURCE

DEFAULT_ARXIV_API = "https://export.arxiv.org/api/query"
HEAD_BYTES = 512 * 1024  # metadata lives in <head>; nothing further is read
TITLE_CHARS = 300
DESCRIPTION_CHARS = 1000


class RefusedAddress(BadInput):
    """A URL the editor will not fetch: not http(s), or a non-public address."""


@dataclass(frozen=True)
class Added:
    entry: QueueEntry
    created: bool  # False: the item was known already (found by its canonical key)


def _non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


async def check_address(url: str, allow_private: bool) -> None:
    """Refuse anything but http(s) to public addresses (all of a host's addresses are checked)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise RefusedAddress(f"only http(s) URLs can be added, not {parts.scheme or 'a bare'}: {url[:200]}")
    host = parts.hostname
    if not host:
        raise RefusedAddress(f"no host in {url[:200]}")
    if allow_private:
        return
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as e:
            raise RefusedAddress(f"cannot resolve {host}: {e}") from e
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    refused = sorted(str(a) for a in addresses if _non_public(a))
    if refused:
        raise RefusedAddress(f"{host} is a loopback, private or link-local address ({', '.join(refused)}); "
                             "the editor only fetches public pages")


class GuardedTransport(httpx.AsyncHTTPTransport):
    """Checks the address of every request, redirects included, before connecting."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await check_address(str(request.url), self.allow_private)
        return await super().handle_async_request(request)


class _PageMeta(HTMLParser):
    """<title> and the OpenGraph/Twitter/description <meta> of a page's head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = {k.lower(): v or "" for k, v in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            name = (attrs.get("property") or attrs.get("name") or "").lower()
            if name and "content" in attrs:
                self.meta.setdefault(name, attrs["content"])

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title and len(self.title) < 4 * TITLE_CHARS:
            self.title += data


_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)


def decode_page(content: bytes, content_type: str) -> str:
    """Bytes -> text: the charset of the Content-Type, else of a <meta>, else UTF-8 (Korean
    sites still serve EUC-KR)."""
    candidates = re.findall(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", content_type, re.I)
    if match := _CHARSET_RE.search(content[:4096]):
        candidates.append(match[1].decode("ascii"))
    for name in candidates + ["utf-8"]:
        try:
            codecs.lookup(name)
        except LookupError:
            continue
        return content.decode(name, errors="replace")
    return content.decode("utf-8", errors="replace")


def parse_page(content: bytes, *, url: str, content_type: str, now: datetime, added_by: str) -> Entry:
    """An entry from a web page's metadata; pure, for tests and for the fetch below."""
    reader = _PageMeta()
    reader.feed(decode_page(content[:HEAD_BYTES], content_type))
    reader.close()
    meta = reader.meta
    title = clean_text(meta.get("og:title") or meta.get("twitter:title") or reader.title)
    description = clean_text(meta.get("og:description") or meta.get("twitter:description")
                             or meta.get("description") or "")
    parts = urlsplit(url)
    title = truncate(title, TITLE_CHARS) or f"{parts.hostname}{parts.path}"
    description = truncate(description, DESCRIPTION_CHARS)
    published = None
    if stamp := meta.get("article:published_time"):
        try:
            published = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            published = published.astimezone(now.tzinfo) if published.tzinfo else None
        except ValueError:
            published = None
    site = clean_text(meta.get("og:site_name", ""))[:100]
    return Entry(
        key=item_key(url), kind=ItemKind.POST, url=canonical_url(url), title=title,
        summary_html=sanitize_html(f"<p>{html.escape(description)}</p>") if description else "",
        summary_text=description, published=published or now,
        meta={"via": "manual", "added_by": added_by, **({"site_name": site} if site else {})},
    )


def arxiv_api_url(settings: Settings) -> str:
    return next((s.api_url for s in settings.sources if s.kind is SourceKind.ARXIV and s.api_url),
                DEFAULT_ARXIV_API)


async def _fetch_entry(web: Web, url: str, curator: Curator) -> Entry:
    settings = web.settings
    if paper := arxiv_id(url):
        async with web.app.http() as api:  # the configured arXiv API, not a pasted address
            found = await arxiv.lookup([paper[0]], api, settings, api_url=arxiv_api_url(settings))
        wanted = [e for e in found if e.key == f"arxiv:{paper[0]}"]
        if not wanted:
            raise ParseError(f"arXiv has no paper {paper[0]}", source_id="arxiv-api")
        return wanted[0]
    if x_status(url):
        async with web.app.http() as api:  # the configured oEmbed endpoint
            return await x.resolve_post(url, api, settings)
    await check_address(url, settings.web.allow_private_urls)
    async with web.app.http(transport=GuardedTransport(settings.web.allow_private_urls)) as http:
        response = await http.get(url, source_id=MANUAL_SOURCE, headers={"Accept": "text/html,*/*;q=0.5"})
    content_type = response.headers.get("content-type", "")
    if content_type and "html" not in content_type.lower():
        raise BadInput(f"{url[:200]} is {content_type.split(';')[0]}, not a web page; paste the page about it")
    return parse_page(response.content, url=url, content_type=content_type, now=web.now(),
                      added_by=curator.user.name)


def normalise_input(raw: str) -> str:
    """What the curator pasted -> a URL: arXiv ids become abs URLs; scheme-less hosts are refused."""
    text = raw.strip()
    if not text:
        raise BadInput("paste a URL or an arXiv id")
    if len(text) > 2000:
        raise BadInput("that URL is longer than 2,000 characters")
    found = arxiv_id(text)
    if found and "://" not in text:
        return f"https://arxiv.org/abs/{found[0]}"
    if "://" not in text and not text.lower().startswith(("file:", "ftp:", "javascript:", "data:")):
        raise BadInput(f"not a URL or an arXiv id: {text[:200]} (URLs start with https://)")
    return text


async def add_by_url(web: Web, curator: Curator, raw: str, section: str = "") -> Added:
    """Find or create the item a pasted URL or id points at."""
    if section and section not in web.sections.order:
        raise BadInput(f"unknown section {section!r}")
    url = normalise_input(raw)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise RefusedAddress(f"only http(s) URLs can be added, not {urlsplit(url).scheme}: {url[:200]}")
    key = item_key(url)
    known = get_item_by_key(web.conn, key)
    if known is None:
        new_entry = await _fetch_entry(web, url, curator)
        key = new_entry.key
    now = web.now()
    with transaction(web.conn):
        if known is None and not existing_keys(web.conn, [key]):
            upsert_entries(web.conn, MANUAL_SOURCE, [new_entry], now,
                           extra_mentions=pipeline.linked_mentions([new_entry]))
            created = True
        else:  # known, or it arrived while we fetched: one more mention, no duplicate
            upsert_entries(web.conn, MANUAL_SOURCE, [], now, extra_mentions=[(key, url)])
            created = False
        item = get_item_by_key(web.conn, key)
        if section and created:
            annotate(web.conn, item.id, now, section_override=section)
    return Added(entry=entry(web, item.id), created=created)
