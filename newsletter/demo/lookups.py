"""The demo's answers for "add by URL": X posts through oEmbed, papers through the arXiv API,
Bluesky posts through getPostThread.

Both answer from recorded real payloads (see snapshots/SOURCES.md) and, for a post or a
paper the snapshots do not hold, with a 404 whose JSON says so and names what they do hold,
so the editor shows a sentence instead of a bare status.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from typing import Callable
from urllib.parse import parse_qs, urlsplit

from .server import Route

JSON = "application/json; charset=utf-8"
# twarc2 captures of real X API v2 lookups, each with its author under includes.users
OEMBED_SNAPSHOTS = ("twarc2-x-api-v2-media_tweet.jsonl", "twarc2-x-api-v2-edited.jsonl")
# real arXiv API lookups by id_list (2025+ Atom format), recorded as {url, status_code, body}
ARXIV_SNAPSHOTS = ("arxiv-api-new-format-2026-id_list-two-ids.cassette.json",
                   "arxiv-api-new-format-2026-old-style-id-astro-ph.cassette.json")
_STATUS_RE = re.compile(r"/status(?:es)?/(\d+)")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def _not_held(what: str, held: list[str]) -> Route:
    # short: the app quotes at most 200 characters of an error body
    detail = f"the offline demo's snapshots hold no {what}; try {held[0]} (one of {len(held)} they hold)"
    return Route(json.dumps({"detail": detail}).encode(), JSON, status=404, conditional=False)


# --- oEmbed (publish.x.com/oembed) --------------------------------------------------------
def oembed_answer(tweet: dict, user: dict) -> dict:
    """A post from the X API laid into publish.x.com/oembed's documented answer: the
    `blockquote.twitter-tweet` X sends with omit_script=1, links shown as X shows them."""
    text, links = tweet["text"], sorted(_entities(tweet), key=lambda e: e[0])
    parts, at = [], 0
    for start, end, anchor in links:
        parts.append(html.escape(text[at:start], quote=False))
        parts.append(anchor)
        at = end
    parts.append(html.escape(text[at:], quote=False))
    body = "".join(parts).replace("\n", "<br>")
    handle, post_id = user["username"], tweet["id"]
    day = datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
    permalink = f"https://twitter.com/{handle}/status/{post_id}"
    return {
        "url": permalink, "author_name": user["name"], "author_url": f"https://twitter.com/{handle}",
        "html": (f'<blockquote class="twitter-tweet"><p lang="{tweet.get("lang", "en")}" dir="ltr">{body}</p>'
                 f'&mdash; {html.escape(user["name"])} (@{handle}) <a href="{permalink}?ref_src=twsrc%5Etfw">'
                 f'{_MONTHS[day.month - 1]} {day.day}, {day.year}</a></blockquote>\n'),
        "width": 550, "height": None, "type": "rich", "cache_age": "3153600000", "provider_name": "X",
        "provider_url": "https://twitter.com", "version": "1.0",
    }


def _entities(tweet: dict) -> list[tuple[int, int, str]]:
    entities = tweet.get("entities") or {}
    found = [(u["start"], u["end"], f'<a href="{html.escape(u["url"])}">{html.escape(u["display_url"])}</a>')
             for u in entities.get("urls", ())]
    found += [(h["start"], h["end"], f'<a href="https://twitter.com/hashtag/{h["tag"]}?src=hash&amp;'
                                     f'ref_src=twsrc%5Etfw">#{html.escape(h["tag"])}</a>')
              for h in entities.get("hashtags", ())]
    found += [(m["start"], m["end"], f'<a href="https://twitter.com/{m["username"]}?ref_src=twsrc%5Etfw">'
                                     f'@{m["username"]}</a>')
              for m in entities.get("mentions", ())]
    return found


def oembed_route(snapshot: Callable[[str], bytes]) -> Route:
    answers: dict[str, bytes] = {}
    for name in OEMBED_SNAPSHOTS:
        for line in snapshot(name).decode("utf-8").splitlines():
            page = json.loads(line)
            users = {u["id"]: u for u in page.get("includes", {}).get("users", ())}
            for tweet in page["data"]:
                if tweet.get("author_id") in users:
                    answers[tweet["id"]] = json.dumps(oembed_answer(tweet, users[tweet["author_id"]])).encode()
    held = [json.loads(body)["url"].replace("twitter.com", "x.com") for body in answers.values()]

    def answer(query: dict[str, str]) -> Route:
        found = _STATUS_RE.search(query.get("url", ""))
        if found and found[1] in answers:
            return Route(answers[found[1]], JSON)
        return _not_held("answer for this post", held)

    return Route(by_query=answer)


# --- the arXiv API, looked up by id (export.arxiv.org/api/query?id_list=) -----------------
def arxiv_route(snapshot: Callable[[str], bytes]) -> Route:
    """Each recorded lookup answers the ids its request asked for, as it was answered (the
    two-id one holds one paper: arXiv had none for the other, and the editor says so)."""
    answers: dict[str, bytes] = {}
    for name in ARXIV_SNAPSHOTS:
        cassette = json.loads(snapshot(name))
        # the recorder decoded arXiv's charset-less UTF-8 as ISO-8859-1: encoding back restores it
        body = cassette["body"].encode("latin-1")
        for paper in parse_qs(urlsplit(cassette["url"]).query)["id_list"][0].split(","):
            answers[paper] = body

    def answer(query: dict[str, str]) -> Route:
        ids = [re.sub(r"v\d+$", "", i.strip()) for i in query.get("id_list", "").split(",") if i.strip()]
        if ids and len({answers.get(i) for i in ids}) == 1 and ids[0] in answers:
            return Route(answers[ids[0]], "application/atom+xml; charset=utf-8")
        held = [i for i in answers if i.encode() in answers[i]]  # the ids with a paper in their answer
        return _not_held(f"arXiv answer for {', '.join(ids)[:40] or 'that query'}", held)

    return Route(by_query=answer)


# --- Bluesky (app.bsky.feed.getPostThread) ------------------------------------------------
def bluesky_thread_route(snapshot: Callable[[str], bytes], feed_snapshot: str) -> Route:
    """A post of the recorded getAuthorFeed page in getPostThread's answer: the feed's
    `post` objects are the same PostView a thread carries, laid into threadViewPost."""
    posts = {item["post"]["uri"].rsplit("/", 1)[-1]: item["post"]
             for item in json.loads(snapshot(feed_snapshot))["feed"] if "reason" not in item}
    held = [f"https://bsky.app/profile/{post['author']['handle']}/post/{rkey}" for rkey, post in posts.items()]

    def answer(query: dict[str, str]) -> Route:
        rkey = query.get("uri", "").rsplit("/", 1)[-1]
        if rkey in posts:
            thread = {"$type": "app.bsky.feed.defs#threadViewPost", "post": posts[rkey], "replies": []}
            return Route(json.dumps({"thread": thread}).encode(), JSON)
        return _not_held("answer for this post", held)

    return Route(by_query=answer)
