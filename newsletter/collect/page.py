"""A web page's metadata as an entry: <title> and the OpenGraph/Twitter/description <meta>
of its head (sanitised and size-capped). Pure: bytes in, an Entry out."""

from __future__ import annotations

import codecs
import html
import re
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

from ..model import Entry, ItemKind
from ..text import canonical_url, clean_text, item_key, sanitize_html, truncate

HEAD_BYTES = 512 * 1024  # metadata lives in <head>; nothing further is read
TITLE_CHARS = 300
DESCRIPTION_CHARS = 1000


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
