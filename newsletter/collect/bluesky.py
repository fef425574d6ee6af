"""Bluesky: followed accounts through the public AppView (no auth), pasted posts as snapshots.

GET {api_url}/app.bsky.feed.getAuthorFeed?actor=HANDLE&filter=posts_and_author_threads pages back with
`cursor`; a run stops at the newest post the last run saw (its indexedAt, kept in the source's
state) and after MAX_PAGES pages. A post becomes an item of its own (a static quote, as X
posts are); its links (link facets, the external link card) go to `Entry.links`, so the
pipeline adds "also on Bluesky" mentions to the papers and lab posts they point at.

The payload is other people's records: a facet whose byte range does not fit the text, a
link card without a URL, a quoted post since deleted are skipped with a note, never a
failed source. Parsers take bytes and return data.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple
from urllib.parse import urlsplit

from ..config import Settings, SourceConfig
from ..errors import FetchError, ParseError, SourceError
from ..kinds import KINDS
from ..model import Entry, ItemKind, Listing, SourceHealth, SourceKind
from ..text import bluesky_post, clean_text, item_key, sanitize_html, truncate
from . import Fetched, load_json_object
from .http import HttpClient

TITLE_LIMIT = 120
PAGE_SIZE = 50  # posts a request (the API allows 1-100)
MAX_PAGES = 3  # a run reads at most this many pages; a first run reads one
_LINK = "app.bsky.richtext.facet#link"
_GONE = ("#viewNotFound", "#viewBlocked", "#viewDetached")  # a quoted post deleted, blocked or detached
# What one post's fields can throw at us (a port out of range, a list where a dict belongs, a
# date outside the calendar once in UTC): that post is skipped, never the source.
_MALFORMED = (KeyError, TypeError, AttributeError, ValueError, OverflowError)


class NotABlueskyPost(SourceError, ValueError):
    """A pasted URL that is not a bsky.app post; a ValueError too, since it is bad input."""


class _Segment(NamedTuple):
    text: str  # what the plain text shows (a link's full address)
    href: str | None = None
    label: str = ""  # the link's text as the post shows it (often shortened)


@dataclass(frozen=True)
class FeedPage:
    """One getAuthorFeed page: its posts as entries, what was skipped and why, the cursor to
    the next page, the newest indexedAt on it, and whether it reached what was seen before."""

    entries: tuple[Entry, ...]
    skipped: Mapping[str, int] = field(default_factory=dict)
    cursor: str = ""
    newest: str = ""
    reached_seen: bool = False


def parse_author_feed(content: bytes, *, source_id: str, include_reposts: bool = False,
                      since: str = "") -> FeedPage:
    """Posts of one getAuthorFeed answer newer than `since` (an indexedAt of the last run)."""
    doc = _load(content, source_id)
    feed = doc.get("feed")
    if not isinstance(feed, list):
        raise ParseError("no 'feed' list in the answer", source_id=source_id)
    seen_until = _time(since)
    entries: list[Entry] = []
    skipped: Counter[str] = Counter()
    newest, reached = "", False
    for view in feed:
        post = view.get("post") if isinstance(view, dict) else None
        reason = view.get("reason") if isinstance(view, dict) and isinstance(view.get("reason"), dict) else {}
        # A repost is dated by the repost, which is where it sits in the feed.
        stamp = str(reason.get("indexedAt") or (post or {}).get("indexedAt") or "") if isinstance(post, dict) else ""
        when = _time(stamp)
        if seen_until and when and when <= seen_until:
            reached = True
            break
        if when and (not newest or when > _time(newest)):
            newest = stamp
        if not isinstance(post, dict):
            skipped["malformed posts"] += 1
        elif str(reason.get("$type", "")).endswith("#reasonRepost") and not include_reposts:
            skipped["reposts"] += 1
        else:
            try:
                if _replies_to_another(post):
                    skipped["replies"] += 1
                    continue
                entry = post_entry(post, skipped)
            except _MALFORMED:
                entry = None
            if entry is None:
                skipped["malformed posts"] += 1
            else:
                entries.append(entry)
    cursor = doc.get("cursor") if isinstance(doc.get("cursor"), str) else ""
    return FeedPage(tuple(entries), dict(skipped), cursor, newest, reached)


def _replies_to_another(post: dict) -> bool:
    """A reply to someone else's post; the author's own thread is kept (its later posts
    often carry the links)."""
    reply = post["record"].get("reply") if isinstance(post.get("record"), dict) else None
    if not isinstance(reply, dict):
        return False
    parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
    author = post.get("author") if isinstance(post.get("author"), dict) else {}
    return not str(parent.get("uri") or "").startswith(f"at://{author.get('did', '')}/")


def post_entry(post: dict, skipped: Counter[str]) -> Entry | None:
    """A static snapshot of one post view (app.bsky.feed.defs#postView), or None if it lacks
    what a post needs (uri, author, text); broken links and embeds are counted in `skipped`."""
    author, record, uri = post.get("author"), post.get("record"), post.get("uri")
    if not (isinstance(author, dict) and isinstance(record, dict) and isinstance(uri, str)
            and isinstance(record.get("text", ""), str) and author.get("handle")):
        return None
    match = re.fullmatch(r"at://([^/]+)/app\.bsky\.feed\.post/([A-Za-z0-9._~:-]+)", uri)
    if not match:
        return None
    handle = str(author["handle"]).lower()
    name = clean_text(str(author.get("displayName") or "")) or handle
    url = f"https://bsky.app/profile/{handle}/post/{match[2]}"
    text = record.get("text") or ""
    segments = _segments(text, record.get("facets"), skipped)
    links = [s.href for s in segments if s.href]
    meta: dict[str, Any] = {"post_uri": uri, "did": author.get("did") or match[1], "handle": handle,
                            "author_name": name, "lang": (record.get("langs") or [""])[0] if
                            isinstance(record.get("langs"), list) else ""}
    metrics = {k: post[f"{k}Count"] for k in ("like", "repost", "reply", "quote")
               if isinstance(post.get(f"{k}Count"), int)}
    if metrics:
        meta["metrics"] = metrics
    links += _embed_links(post.get("embed"), record.get("embed"), meta, skipped)
    own = item_key(url)
    published = _time(str(record.get("createdAt") or "")) or _time(str(post.get("indexedAt") or ""))
    plain = re.sub(r"\n{3,}", "\n\n", "".join(s.text for s in segments)).strip()
    # The title reads as the post does: a link's words ("our paper"), not its address.
    shown = "".join(s.label if s.href else s.text for s in segments)
    first_line = next((line for line in shown.split("\n") if line.strip()), "")
    parts = [f'<a href="{html.escape(s.href)}">{html.escape(s.label)}</a>' if s.href
             else html.escape(s.text).replace("\n", "<br>") for s in segments]
    return Entry(
        key=own, kind=ItemKind.BLUESKY_POST, url=url,
        title=truncate(clean_text(first_line), TITLE_LIMIT) or f"Post by @{handle}",
        summary_html=sanitize_html("".join(parts).strip()), summary_text=plain,
        authors=(f"{name} (@{handle})",), published=published,
        links=tuple(dict.fromkeys(link for link in links if item_key(link) != own)), meta=meta)


def _segments(text: str, facets: Any, skipped: Counter[str]) -> list[_Segment]:
    """The text cut at its link facets. Facets index UTF-8 bytes; one whose range is out of
    the text, overlaps another or splits a character, or whose target is not http(s), is
    left as plain text."""
    data = text.encode("utf-8")
    links: list[tuple[int, int, str]] = []
    for facet in facets if isinstance(facets, list) else ():
        features = facet.get("features") if isinstance(facet, dict) else None
        uris = [f.get("uri") for f in (features if isinstance(features, list) else ())
                if isinstance(f, dict) and f.get("$type") == _LINK]
        if not uris:
            continue  # a tag or a mention: not a link out
        index = facet.get("index") if isinstance(facet.get("index"), dict) else {}
        start, end, uri = index.get("byteStart"), index.get("byteEnd"), uris[0]
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data) and _web_link(uri):
            links.append((start, end, uri))
        else:
            skipped["malformed link facets"] += 1
    segments: list[_Segment] = []
    position = 0
    for start, end, uri in sorted(links):
        try:
            before, label = data[position:start].decode("utf-8"), data[start:end].decode("utf-8")
        except UnicodeDecodeError:  # a range that splits a character (or overlaps the last)
            skipped["malformed link facets"] += 1
            continue
        if start < position:
            skipped["malformed link facets"] += 1
            continue
        segments += [_Segment(before), _Segment(uri, uri, label)]
        position = end
    segments.append(_Segment(data[position:].decode("utf-8", "replace")))
    return segments


def _embed_links(view: Any, raw: Any, meta: dict, skipped: Counter[str]) -> list[str]:
    """The link card's URL (also inside a quote-with-media); a quoted post goes to meta."""
    embed = view if isinstance(view, dict) else raw if isinstance(raw, dict) else None
    if embed is None:
        return []
    kind = str(embed.get("$type", ""))
    if "recordWithMedia" in kind:  # a quote with a picture or a card: its record part has no $type
        record = embed.get("record") if isinstance(embed.get("record"), dict) else {}
        _quote(record.get("record"), meta, skipped)
        return _embed_links(embed.get("media"), None, meta, skipped)
    if "embed.external" in kind:
        external = embed.get("external") if isinstance(embed.get("external"), dict) else {}
        uri = external.get("uri")
        if not _web_link(uri):
            skipped["link cards without a URL"] += 1
            return []
        meta["card"] = {"uri": uri, "title": clean_text(str(external.get("title") or ""))}
        return [uri]
    if "embed.record" in kind:
        _quote(embed.get("record"), meta, skipped)
    return []


def _quote(quoted: Any, meta: dict, skipped: Counter[str]) -> None:
    if not isinstance(quoted, dict) or str(quoted.get("$type", "")).endswith(_GONE) or not quoted.get("uri"):
        skipped["quoted posts no longer there"] += 1
    else:
        meta["quoted_uri"] = str(quoted["uri"])


def _web_link(uri: object) -> bool:
    """An http(s) URL with a host and a usable port: what may become a link and a mention."""
    if not isinstance(uri, str):
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # raises for a port out of range or not a number
    except ValueError:  # also "https://[x": a bracketed host that is no IPv6 address
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _time(value: str) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, AttributeError, OverflowError):  # OverflowError: year 1 at +05:00 has no UTC
        return None


def _load(content: bytes, source_id: str) -> dict:
    doc = load_json_object(content, source_id)
    if doc.get("error") and "feed" not in doc and "thread" not in doc:  # XRPC's error shape
        raise ParseError(f"{doc['error']}: {clean_text(str(doc.get('message') or ''))[:200]}", source_id=source_id)
    return doc


def _notes(skipped: Mapping[str, int]) -> list[str]:
    return [f"{n} {what} skipped" for what, n in sorted(skipped.items())]


async def collect(source: SourceConfig, http: HttpClient, health: SourceHealth, settings: Settings,
                  now: datetime) -> Fetched:
    """New posts of one account since the last run. `now` is unused: Bluesky dates its posts."""
    handle = source.handle.lower()
    state = dict(health.state)
    if state.get("handle", handle) != handle:
        state = {}  # sources.yaml now names another account: what was seen is not ours
    since = str(state.get("newest") or "")
    url = source.api_url.rstrip("/") + "/app.bsky.feed.getAuthorFeed"
    entries: list[Entry] = []
    skipped: Counter[str] = Counter()
    newest, cursor, etag, last_modified = since, "", None, None
    pages = MAX_PAGES if since else 1
    for page in range(pages):
        # posts_and_author_threads, not posts_no_replies: the account's own thread replies
        # are where a "🧵" puts its links; replies to others are dropped here and above.
        params = {"actor": handle, "filter": "posts_and_author_threads", "limit": str(PAGE_SIZE)}
        if cursor:
            params["cursor"] = cursor
        first = page == 0
        response = await http.get(url, source_id=source.id, params=params, headers={"Accept": "application/json"},
                                  etag=health.etag if first else None,
                                  last_modified=health.last_modified if first else None)
        if first and response.not_modified:
            return Fetched(Listing(()), not_modified=True, etag=response.etag or health.etag,
                           last_modified=response.last_modified or health.last_modified)
        if first:
            etag, last_modified = response.etag, response.last_modified
        parsed = parse_author_feed(response.content, source_id=source.id,
                                   include_reposts=source.include_reposts, since=since)
        entries += parsed.entries
        skipped.update(parsed.skipped)
        if parsed.newest and (not newest or _time(parsed.newest) > _time(newest)):
            newest = parsed.newest
        cursor = parsed.cursor
        if parsed.reached_seen or not cursor:
            break
    notes = _notes(skipped)
    if cursor and not parsed.reached_seen:  # a busy account: what is older waits for no one
        notes.append(f"more than {pages} page(s) of posts; older ones not fetched")
    if not entries and not notes:
        notes.append("no new posts")
    new_state = {**state, "handle": handle, **({"newest": newest} if newest else {})}
    listing = Listing(tuple(dict((e.key, e) for e in entries).values()), note="; ".join(notes), state=new_state)
    return Fetched(listing, etag=etag, last_modified=last_modified)


# --- a post the curator pastes -----------------------------------------------------------


def parse_thread(content: bytes, *, url: str) -> Entry:
    """A static snapshot of the post at the root of a getPostThread answer."""
    doc = _load(content, "bluesky-post")
    thread = doc.get("thread") if isinstance(doc.get("thread"), dict) else {}
    kind = str(thread.get("$type", ""))
    if kind.endswith(("#notFoundPost", "#blockedPost")):
        raise ParseError("Bluesky has no such post (deleted, or not public)", source_id="bluesky-post", url=url)
    try:
        entry = post_entry(thread.get("post"), Counter()) if isinstance(thread.get("post"), dict) else None
    except _MALFORMED as e:
        raise ParseError(f"the post is malformed ({type(e).__name__}: {e})", source_id="bluesky-post", url=url) from e
    if entry is None:
        raise ParseError("getPostThread answer holds no post", source_id="bluesky-post", url=url)
    return entry


def api_url(settings: Settings) -> str:
    """The XRPC base a pasted post is fetched from: the first Bluesky source's, else the public one."""
    return next((s.api_url for s in settings.sources if s.kind is SourceKind.BLUESKY and s.api_url),
                KINDS[SourceKind.BLUESKY].api_url)


async def resolve_post(url: str, http: HttpClient, settings: Settings) -> Entry:
    """Snapshot a bsky.app post URL the curator pasted (no account needed)."""
    found = bluesky_post(url)
    if not found:
        raise NotABlueskyPost("not a Bluesky post URL", url=url)
    actor, rkey = found
    try:
        response = await http.get(api_url(settings).rstrip("/") + "/app.bsky.feed.getPostThread",
                                  source_id="bluesky-post", headers={"Accept": "application/json"},
                                  params={"uri": f"at://{actor}/app.bsky.feed.post/{rkey}", "depth": "0",
                                          "parentHeight": "0"})
    except FetchError as e:
        if e.status not in (400, 404):  # XRPC answers a missing post 400 NotFound
            raise
        because = f" ({e.detail})" if e.detail else " (deleted or mistyped?)"
        raise FetchError(f"Bluesky shows no post at {url}{because}", source_id="bluesky-post", url=url,
                         status=e.status, detail=e.detail) from e
    return parse_thread(response.content, url=url)
