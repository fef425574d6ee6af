"""X (Twitter): followed accounts through the official API v2, pasted posts through oEmbed.

Parsers take bytes and return data. Posts become static snapshots (text, author, date,
link): the newsletter never embeds X's widget script. A post's expanded links are kept in
`Entry.links` so the pipeline can attach "also on X" mentions to the papers and lab posts
it points at.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from ..config import Settings, SourceConfig
from ..errors import FetchError, ParseError, SourceError
from ..model import Entry, ItemKind, Listing, SourceHealth
from ..text import canonical_url, clean_text, sanitize_html, truncate, x_status
from . import Fetched, load_json_object
from .http import HttpClient

TITLE_LIMIT = 120
TWEET_FIELDS = "created_at,entities,referenced_tweets,author_id,lang,public_metrics"
SNOWFLAKE_EPOCH_MS = 1288834974657  # X's epoch: ids carry their creation time in ms since then
_TCO_RE = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
_X_DOMAINS = ("x.com", "twitter.com", "t.co")
_MEDIA_LABELS = ("pic.twitter.com/", "pic.x.com/")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE_RE = re.compile(rf"({'|'.join(_MONTHS)})[a-z]*\.?\s+(\d{{1,2}}),\s*(\d{{4}})", re.I)


class NotAnXPost(SourceError, ValueError):
    """A pasted URL that is not an X post; a ValueError too, since it is bad input."""


class _Segment(NamedTuple):
    text: str  # what the plain text shows
    href: str | None = None  # link target, if this piece is a link
    label: str = ""  # the link's text in HTML


# --- API v2 ----------------------------------------------------------------------------


def parse_user(content: bytes, *, source_id: str) -> dict[str, str]:
    """id, name and username from GET /2/users/by/username/{handle}."""
    doc = load_json_object(content, source_id)
    data = doc.get("data")
    if not isinstance(data, dict) or not data.get("id") or not data.get("username"):
        raise ParseError(_api_errors(doc) or "no user in the answer", source_id=source_id)
    return {"id": str(data["id"]), "name": data.get("name") or data["username"],
            "username": data["username"]}


def parse_posts(content: bytes, *, source_id: str, handle: str, include_replies: bool = False,
                include_reposts: bool = False) -> Listing:
    """A Listing of X_POST entries from GET /2/users/{id}/tweets (or any v2 tweet payload)."""
    doc = load_json_object(content, source_id)
    data = doc.get("data")
    if data is None:
        # Partial errors may come beside data; errors alone mean the request failed.
        if doc.get("errors"):
            raise ParseError(_api_errors(doc), source_id=source_id)
        data = []
    if isinstance(data, dict):  # single-post lookups and the filtered stream
        data = [data]
    if not isinstance(data, list):
        raise ParseError("'data' is neither a list nor a post", source_id=source_id)
    includes = doc.get("includes") or {}
    users = {u["id"]: u for u in includes.get("users") or () if isinstance(u, dict) and "id" in u}

    entries: list[Entry] = []
    skipped: Counter[str] = Counter()
    for index, tweet in enumerate(data):
        try:
            refs = _references(tweet)
            if "replied_to" in refs and not include_replies:
                skipped["replies"] += 1
            elif "retweeted" in refs and not include_reposts:
                skipped["reposts"] += 1
            else:
                entries.append(_post_entry(tweet, refs, users, handle))
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            raise ParseError(f"post #{index + 1} is malformed ({type(e).__name__}: {e})",
                             source_id=source_id) from e

    meta = doc.get("meta") or {}
    ids = [str(t["id"]) for t in data]
    # Skipped replies count too: they must not come back on the next run.
    newest = meta.get("newest_id") or (max(ids, key=int) if ids else None)
    notes = [f"{n} {kind} skipped" for kind, n in sorted(skipped.items())]
    if not data:
        notes.append("no new posts")
    elif meta.get("next_token"):  # one page per run: a busy day loses its oldest posts
        notes.append(f"more than {len(data)} posts; older ones not fetched")
    return Listing(entries=tuple(entries), note="; ".join(notes),
                   state={"since_id": str(newest)} if newest else {})


def _references(tweet: dict) -> dict[str, str | None]:
    """{type: referenced id} of a post: replied_to, retweeted, quoted."""
    refs = tweet.get("referenced_tweets")
    if refs is not None:
        return {r["type"]: str(r.get("id")) for r in refs}
    if "author_id" in tweet or "created_at" in tweet:
        return {}  # fields were requested and X omits the key when there is nothing to say
    # A bare payload (no tweet.fields) says nothing about references; the text convention is
    # all that is left: reposts read "RT @user: ...", replies start with the handles answered.
    text = tweet.get("text", "")
    if text.startswith("RT @"):
        return {"retweeted": None}
    if text.startswith("@"):
        return {"replied_to": None}
    return {}


def _post_entry(tweet: dict, refs: dict, users: dict, handle: str) -> Entry:
    post_id = str(tweet["id"])
    author = users.get(tweet.get("author_id")) or {}
    username = author.get("username") or handle
    name = author.get("name") or username
    urls = {u["url"]: u for u in (tweet.get("entities") or {}).get("urls") or () if u.get("url")}
    # X sends the text HTML-escaped ("&amp;"); unescape before putting expanded URLs in,
    # or an "&lt=" in a query string would turn into "<".
    text = html.unescape(tweet["text"])
    segments: list[_Segment] = []
    position = 0
    for match in _TCO_RE.finditer(text):
        segments.append(_Segment(text[position:match.start()]))
        position = match.end()
        entity = urls.get(match.group())
        if entity is None:  # not expanded by X (a truncated repost): keep the short link
            segments.append(_Segment(match.group(), match.group(), match.group()))
            continue
        target = entity.get("unwound_url") or entity.get("expanded_url") or match.group()
        if _is_media(entity, target, post_id):
            continue  # the post's own photo/video: the snapshot has no media
        segments.append(_Segment(target, target, entity.get("display_url") or target))
    segments.append(_Segment(text[position:]))

    meta: dict[str, Any] = {"post_id": post_id, "handle": username, "author_name": name,
                            "lang": tweet.get("lang", "")}
    if tweet.get("public_metrics"):
        meta["metrics"] = dict(tweet["public_metrics"])
    for kind, key in (("quoted", "quoted_id"), ("replied_to", "reply_to_id"),
                      ("retweeted", "repost_of_id")):
        if refs.get(kind):
            meta[key] = refs[kind]
    return _entry(post_id, username, name, segments, _created(tweet, post_id), meta)


def _is_media(entity: dict, target: str, post_id: str) -> bool:
    """A t.co link to the post's own photo, video or "show more" page."""
    if entity.get("media_key") or entity.get("display_url", "").startswith(_MEDIA_LABELS):
        return True
    found = x_status(target)
    return bool(found and found[1] == post_id)


def _created(tweet: dict, post_id: str) -> datetime:
    try:
        return datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")).astimezone(timezone.utc)
    except (KeyError, AttributeError, ValueError):
        return snowflake_time(post_id)  # created_at not requested: the id knows when


def snowflake_time(post_id: str | int) -> datetime:
    """When a post was made, read from its id (X ids are snowflakes since late 2010)."""
    ms = (int(post_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


async def collect(source: SourceConfig, http: HttpClient, health: SourceHealth,
                  settings: Settings, now: datetime) -> Fetched:
    """New posts of one account since the last run. `now` is unused: X tells us the dates."""
    base = source.api_url.rstrip("/")
    headers = {"Authorization": f"Bearer {settings.x_bearer_token}"}
    state = dict(health.state)
    if state.get("handle", source.handle).lower() != source.handle.lower():
        state = {}  # sources.yaml now names another account: its id and since_id are not ours
    # The numeric id survives a rename and saves a request (and rate limit) per run.
    if not (user_id := state.get("user_id")):
        response = await http.get(f"{base}/users/by/username/{source.handle}", source_id=source.id,
                                  headers=headers, params={"user.fields": "name,username"})
        user_id = parse_user(response.content, source_id=source.id)["id"]

    params = {"max_results": str(source.max_results), "tweet.fields": TWEET_FIELDS,
              "expansions": "author_id", "user.fields": "name,username"}
    exclude = [name for name, kept in (("replies", source.include_replies),
                                       ("retweets", source.include_reposts)) if not kept]
    if exclude:
        params["exclude"] = ",".join(exclude)
    if state.get("since_id"):
        params["since_id"] = str(state["since_id"])
    response = await http.get(f"{base}/users/{user_id}/tweets", source_id=source.id,
                              headers=headers, params=params)
    listing = parse_posts(response.content, source_id=source.id, handle=source.handle,
                          include_replies=source.include_replies,
                          include_reposts=source.include_reposts)
    # The old since_id stays when nothing is new (listing.state is then empty).
    new_state = {**state, "user_id": user_id, "handle": source.handle, **listing.state}
    return Fetched(listing=replace(listing, state=new_state))


# --- oEmbed: a post the curator pastes ---------------------------------------------------


class _EmbedReader(HTMLParser):
    """Reads X's embed blockquote: the post's <p> (text, links, lang) and the dated
    permalink after it. Scripts are never read."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.segments: list[_Segment] = []
        self.permalink: tuple[str, str] | None = None  # (href, date text)
        self._state = "before"  # before -> in_p -> after
        self._href: str | None = None
        self._anchor: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._skipping += 1
        elif tag == "p" and self._state == "before":
            self._state, self.lang = "in_p", attrs.get("lang") or ""
        elif tag == "br" and self._state == "in_p":
            self.segments.append(_Segment("\n"))
        elif tag == "a":
            self._href, self._anchor = attrs.get("href") or "", []

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skipping = max(0, self._skipping - 1)
        elif tag == "p" and self._state == "in_p":
            self._state = "after"
        elif tag == "a" and self._href is not None:
            label = "".join(self._anchor)
            if self._state == "in_p" and not label.startswith(_MEDIA_LABELS):
                href = canonical_url(self._href) if self._href else None  # drops ref_src
                self.segments.append(_Segment(label, href, label))
            elif self._state == "after":
                self.permalink = (self._href, label)
            self._href = None

    def handle_data(self, data):
        if self._skipping == 0 and self._href is not None:
            self._anchor.append(data)
        elif self._skipping == 0 and self._state == "in_p":
            self.segments.append(_Segment(data))


def parse_oembed(content: bytes, *, url: str) -> Entry:
    """A static snapshot of one post from publish.x.com/oembed's JSON."""
    doc = load_json_object(content, "x-oembed")
    if not isinstance(doc.get("html"), str):
        raise ParseError("oEmbed answer has no html", source_id="x-oembed", url=url)
    reader = _EmbedReader()
    reader.feed(doc["html"])
    reader.close()
    if reader._state == "before":
        raise ParseError("oEmbed html holds no post text", source_id="x-oembed", url=url)
    found = x_status(doc.get("url") or "") or x_status(url)
    if not found:
        raise ParseError("oEmbed answer names no post", source_id="x-oembed", url=url)
    post_id = found[1]
    author_path = urlsplit(doc.get("author_url") or "").path.strip("/")
    handle = author_path.split("/")[0] if author_path else found[0]
    name = doc.get("author_name") or handle
    published = _embed_date(reader.permalink[1]) if reader.permalink else None
    meta = {"post_id": post_id, "handle": handle, "author_name": name, "lang": reader.lang,
            "via": "oembed"}
    return _entry(post_id, handle, name, reader.segments, published or snowflake_time(post_id), meta)


def _embed_date(text: str) -> datetime | None:
    """"July 19, 2024" -> midnight UTC that day (not strptime: %B follows the locale)."""
    if not (match := _DATE_RE.search(text)):
        return None
    try:
        return datetime(int(match[3]), _MONTHS.index(match[1][:3].lower()) + 1, int(match[2]),
                        tzinfo=timezone.utc)
    except ValueError:
        return None


async def resolve_post(url: str, http: HttpClient, settings: Settings) -> Entry:
    """Snapshot a post URL the curator pasted, through oEmbed (no token needed)."""
    if not x_status(url):
        raise NotAnXPost("not an X post URL", url=url)
    parts = urlsplit(url.strip())
    post_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))  # drops ?s=20&t=...
    try:
        response = await http.get(settings.collect.oembed_url, source_id="x-oembed",
                                  params={"url": post_url, "omit_script": "1", "dnt": "true"})
    except FetchError as e:
        if e.status != 404:
            raise
        # oEmbed's answer for a post it cannot show: say so, not "HTTP 404" and its query string
        because = f" ({e.detail})" if e.detail else " (deleted, protected or mistyped?)"
        raise FetchError(f"X shows no public post at {post_url}{because}", source_id="x-oembed",
                         url=post_url, status=404, detail=e.detail) from e
    return parse_oembed(response.content, url=post_url)


def _entry(post_id: str, handle: str, name: str, segments: list[_Segment], published: datetime,
           meta: dict[str, Any]) -> Entry:
    # Dropping a media link leaves stray spaces behind; tidy each line.
    lines = "".join(s.text for s in segments).split("\n")
    text = "\n".join(re.sub(r"[ \t]{2,}", " ", line).strip() for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    parts = [f'<a href="{html.escape(s.href)}">{html.escape(s.label)}</a>' if s.href
             else html.escape(s.text).replace("\n", "<br>") for s in segments]
    first_line = next((line for line in text.split("\n") if line.strip()), "")
    links = [s.href for s in segments if s.href and not _on_x(s.href)]
    return Entry(
        key=f"x:{post_id}",
        kind=ItemKind.X_POST,
        url=f"https://x.com/{handle or 'i/web'}/status/{post_id}",
        title=truncate(clean_text(first_line), TITLE_LIMIT) or f"Post by @{handle}",
        summary_html=sanitize_html(re.sub(r"(?:\s|<br>)+$", "", "".join(parts)).strip()),
        summary_text=text,
        authors=(f"{name} (@{handle})",),
        published=published,
        links=tuple(dict.fromkeys(links)),
        meta=meta,
    )


def _on_x(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in _X_DOMAINS)


def _api_errors(doc: dict) -> str:
    """X's error objects as one readable line ("Not Found Error: Could not find user ...")."""
    return "; ".join(": ".join(p for p in (e.get("title"), e.get("detail") or e.get("message")) if p)
                     for e in doc.get("errors") or () if isinstance(e, dict))
