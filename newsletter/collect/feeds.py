"""RSS 0.9x/1.0/2.0 and Atom feeds: fetch with a conditional GET, parse with feedparser.

We decode the bytes ourselves before feedparser sees them. Without chardet (not installed,
and not a dependency of feedparser) feedparser reads every undeclared non-UTF-8 feed as
windows-1252, which turns an EUC-KR Korean feed into mojibake, and it trusts a windows-1252
label on a feed that is really UTF-8. See decode_feed for the rules we use instead.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import io
import re
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

import feedparser

from ..config import Settings, SourceConfig
from ..errors import ParseError
from ..model import Entry, ItemKind, Listing, SourceHealth
from ..text import clean_text, html_to_text, item_key, sanitize_html
from . import Fetched, parse_off_loop
from .http import HttpClient

_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
)
# Without a BOM, UTF-16 and UTF-32 still show themselves by where the NULs sit around the
# document's first "<" (feedparser's and the XML spec's appendix F rule). Those bytes are all
# ASCII, so they must be looked for before anything takes the document for ASCII.
_NUL_PATTERNS = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                 (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"))
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)

# Labels decoded with the superset browsers use (WHATWG Encoding): Korean sites that say
# euc-kr routinely send the extra UHC syllables of cp949, and "iso-8859-1" means windows-1252.
_SUPERSETS = {"euc_kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030", "latin_1": "cp1252",
              "iso8859-1": "cp1252", "ascii": "cp1252"}

# Guesses for a feed that declares nothing usable and is not UTF-8, in order: Korean first,
# since this is a Korean newsletter. A guess is kept only if most of the letters it yields
# are in that encoding's own script; strict EUC-KR and GB2312 need both bytes >= 0xA1, so
# Latin-1 text (accents between ASCII letters) never decodes as them.
_GUESSES = (
    ("euc_kr", "cp949", (0xAC00, 0xD7A3)),  # Hangul syllables
    ("gb2312", "gb18030", (0x4E00, 0x9FFF)),  # CJK ideographs
    ("big5", "big5hkscs", (0x4E00, 0x9FFF)),
)
_LENIENT = "newsletter-utf8-else-cp1252"


def _cp1252_byte(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned
        return "\ufffd"


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start:error.end]
    return "".join(_cp1252_byte(b) for b in bad), error.end


# UTF-8 where the bytes are UTF-8, windows-1252 byte by byte where they are not: feeds that
# paste Latin-1 text into a UTF-8 document come out readable in both halves.
codecs.register_error(_LENIENT, _cp1252_fallback)


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:  # encoding="bogus"
        return None
    return _SUPERSETS.get(name, name)


def _script_share(text: str, low: int, high: int) -> float:
    letters = [c for c in text if ord(c) > 0x7F and c.isalpha()]
    return sum(low <= ord(c) <= high for c in letters) / len(letters) if letters else 0.0


def decode_feed(content: bytes, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The text of a feed and the codec it was read with.

    1. A byte-order mark decides, else NULs around the first "<" (UTF-16/32 without one). 2. Bytes that are valid UTF-8 are UTF-8, whatever the label:
    mislabelled UTF-8 (a "windows-1252" prolog on UTF-8 bytes) is the common mistake, while
    real text in another encoding is practically never valid UTF-8 once it has non-ASCII.
    3. The HTTP charset, then the XML declaration, if the bytes decode with it.
    4. A guess among East Asian encodings. 5. UTF-8 with windows-1252 for the stray bytes.
    """
    for bom, name in _BOMS:
        if content.startswith(bom):
            body = content[len(bom):]
            return body.decode(name, _LENIENT if name == "utf-8" else "replace"), name
    for pattern, name in _NUL_PATTERNS:
        if content.startswith(pattern):
            return content.decode(name, "replace"), name
    if content.isascii():  # reads the same under every ASCII-compatible label
        return content.decode("ascii"), "ascii"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for codec in filter(None, map(_codec, _declared(content, headers))):
        try:
            return content.decode(codec), codec
        except UnicodeDecodeError:
            continue
    for strict, superset, (low, high) in _GUESSES:
        try:
            text = content.decode(strict)
        except UnicodeDecodeError:
            continue
        if _script_share(text, low, high) >= 0.8:
            return content.decode(superset, "replace"), superset
    return content.decode("utf-8", _LENIENT), "utf-8+cp1252"


def parse_feed(content: bytes, *, source_id: str, base_url: str, now: datetime,
               headers: Mapping[str, str] | None = None) -> Listing:
    """Entries of an RSS or Atom document; ParseError if the bytes are not a feed at all."""
    if not content.strip():
        raise ParseError("empty response body, expected an RSS or Atom feed", source_id=source_id)
    text, codec = decode_feed(content, headers)
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if headers.get("content-location"):  # where the document says it lives: the base of its relative links
        base_url = urljoin(base_url, headers["content-location"].strip())
    # We hand feedparser UTF-8 and say so, so it does not second-guess the decoding above.
    # The bytes go in a BytesIO: given bare bytes, feedparser would try them as a file name.
    response_headers = {"content-type": "application/xml; charset=utf-8", "content-location": base_url}
    if headers.get("content-language"):
        response_headers["content-language"] = headers["content-language"]
    parsed = feedparser.parse(io.BytesIO(text.lstrip().encode("utf-8")), response_headers=response_headers)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        raise ParseError(_not_a_feed(text, parsed), source_id=source_id, url=base_url)

    feed_title = _title(parsed.feed.get("title"))
    site_link = _absolute(base_url, parsed.feed.get("link", "")) or base_url
    entries: dict[str, Entry] = {}
    unusable = 0
    for raw in parsed.entries:
        entry = _entry(raw, source_id=source_id, base_url=base_url, site_link=site_link,
                       feed_title=feed_title, now=now)
        if entry is None:
            unusable += 1
        elif entry.key not in entries:  # the first copy wins
            entries[entry.key] = entry
    notes = []
    if not parsed.entries:
        notes.append("feed has no entries")
    if unusable:
        notes.append(f"{unusable} without link, guid or title skipped")
    declared = _declared(content, headers)
    if codec != "ascii" and _codec(codec) != _codec(declared[0] if declared else "utf-8"):
        notes.append(f"decoded as {codec}, declared {declared[0] if declared else 'nothing'}")
    return Listing(tuple(entries.values()), note="; ".join(notes))


def _declared(content: bytes, headers: Mapping[str, str] | None) -> list[str]:
    """Declared encodings, strongest first: the HTTP charset, then the XML declaration."""
    labels = []
    content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    if match := _CHARSET.search(content_type):
        labels.append(match.group(1))
    if match := _XML_ENCODING.match(content[:1024]):
        labels.append(match.group(1).decode("ascii"))
    return labels


def _not_a_feed(text: str, parsed: Any) -> str:
    head = text[:2048].lower()
    if "<html" in head or "<!doctype html" in head:
        return "got an HTML page, not an RSS or Atom feed"
    reason = parsed.get("bozo_exception")
    return f"not an RSS or Atom feed ({reason})" if reason else "not an RSS or Atom feed"


def _absolute(base: str, url: str) -> str:
    """An absolute http(s) URL, or "" (javascript:, data: and the like are not links)."""
    url = (url or "").strip()
    if not url:
        return ""
    absolute = urljoin(base, url)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else ""


def _title(raw: str | None) -> str:
    # Titles of type html carry markup and entities; a bare "<" in a plain title must survive.
    raw = raw or ""
    return clean_text(html_to_text(raw) if re.search(r"</?[A-Za-z][^<>]*>", raw) else raw)


def _entry(raw: Any, *, source_id: str, base_url: str, site_link: str, feed_title: str,
           now: datetime) -> Entry | None:
    guid = (raw.get("id") or "").strip()  # WordPress feeds send <guid></guid>: ""
    title = _title(raw.get("title"))
    link = _absolute(base_url, raw.get("link", "")) or _absolute(base_url, guid if "://" in guid else "")
    if link:
        key, url = item_key(link), link
    elif guid or title:
        digest = hashlib.sha1((guid or title).encode("utf-8")).hexdigest()[:16]
        key, url = f"{source_id}:{digest}", site_link
    else:
        return None

    contents = raw.get("content") or []
    body = contents[0].get("value", "") if contents else ""
    body = body or raw.get("summary", "")
    summary_html = sanitize_html(body, base_url=url)
    names = [a.get("name", "") for a in raw.get("authors", []) if isinstance(a, Mapping)]
    authors = _unique(clean_text(n) for n in (names or [raw.get("author", "")]))
    categories = _unique(clean_text(t.get("term") or t.get("label") or "") for t in raw.get("tags", []))
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    published = (datetime.fromtimestamp(calendar.timegm(stamp), timezone.utc) if stamp
                 else now.astimezone(timezone.utc))
    return Entry(
        key=key,
        kind=ItemKind.PAPER if key.startswith("arxiv:") else ItemKind.POST,
        url=url,
        title=title,
        summary_html=summary_html,
        summary_text=html_to_text(summary_html),
        authors=authors,
        categories=categories,
        published=published,
        meta={"guid": guid, "image": _image(raw, url), "feed_title": feed_title},
    )


def _unique(values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _image(raw: Any, base: str) -> str | None:
    """The entry's picture: media:thumbnail, else an image media:content, else an image enclosure."""
    candidates = [m.get("url") for m in raw.get("media_thumbnail", [])]
    candidates += [m.get("url") for m in raw.get("media_content", [])
                   if m.get("medium") == "image" or str(m.get("type", "")).startswith("image/")]
    candidates += [e.get("href") for e in raw.get("enclosures", [])
                   if str(e.get("type", "")).startswith("image/")]
    for candidate in candidates:
        url = _absolute(base, candidate or "")
        if url:
            return url
    return None


async def collect(source: SourceConfig, http: HttpClient, health: SourceHealth, settings: Settings,
                  now: datetime) -> Fetched:
    response = await http.get(source.url, source_id=source.id, etag=health.etag,
                              last_modified=health.last_modified)
    if response.not_modified:
        # A 304 need not repeat the validators; keep the ones that earned it.
        return Fetched(Listing(()), not_modified=True, etag=response.etag or health.etag,
                       last_modified=response.last_modified or health.last_modified)
    # Parsing is CPU work: off the event loop, so other fetches (and the web app sharing the
    # loop under `serve`) keep moving meanwhile.
    listing = await parse_off_loop(parse_feed, response.content, source_id=source.id,
                                      base_url=response.url, now=now, headers=response.headers)
    return Fetched(listing, etag=response.etag, last_modified=response.last_modified)
