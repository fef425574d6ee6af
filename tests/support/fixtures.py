"""Real payloads from tests/fixtures: read as bytes, parsed into entries, or served on the
loopback SnapshotServer (the conftest `server` fixture)."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

from newsletter.collect.arxiv import parse_listing
from newsletter.collect.feeds import parse_feed
from newsletter.demo.server import Route

from support.clock import MORNING

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RSS = "application/rss+xml; charset=utf-8"
X_USER = b'{"data": {"id": "783214", "name": "Twitter", "username": "Twitter"}}'


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def feed_entries(name: str, source_id: str, now: datetime = MORNING):
    return parse_feed((FIXTURES / "feeds" / name).read_bytes(), source_id=source_id,
                      base_url="https://example.com/", now=now).entries


def paper_entries(now: datetime = MORNING):
    return parse_listing((FIXTURES / "arxiv" / "arxiv-listing-cs.CL-2024-07-19.rss.xml").read_bytes(),
                         source_id="arxiv-ai", now=now).entries


def serve_fixtures(server) -> list[dict]:
    """Real payloads on loopback; returns the sources that collect them."""
    server.routes["/openai.xml"] = Route(fixture_bytes("feeds/openai-news-rss-2025-07-28.xml"), RSS)
    server.routes["/deepmind.xml"] = Route(fixture_bytes("feeds/google-deepmind-blog-rss-2025-07.xml"), RSS)
    server.routes["/rss/cs.CL"] = Route(fixture_bytes("arxiv/arxiv-listing-cs.CL-2024-07-19.rss.xml"), RSS)
    server.routes["/2/users/by/username/Twitter"] = Route(X_USER, "application/json")
    server.routes["/2/users/783214/tweets"] = Route(
        fixture_bytes("x/x-api-v2-users-783214-tweets-2022-10.json"), "application/json")
    return [
        {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": server.url("/openai.xml"), "section": "labs"},
        {"id": "deepmind", "kind": "feed", "name": "Google DeepMind", "url": server.url("/deepmind.xml"),
         "section": "labs"},
        {"id": "arxiv-cl", "kind": "arxiv", "name": "arXiv cs.CL", "categories": ["cs.CL"],
         "url": server.url("/rss/"), "section": "papers"},
        {"id": "x-twitter", "kind": "x", "name": "@Twitter", "handle": "Twitter", "api_url": server.url("/2"),
         "section": "x"},
    ]


BSKY_FEED = "bluesky/bsky-getAuthorFeed-chriskenny-2025-05-19.body-derived.json"


def bluesky_feed() -> dict:
    return json.loads(fixture_bytes(BSKY_FEED))


def bluesky_post_linking(url: str, label: str = "arxiv.org/abs/2407...") -> dict:
    """The real feed's link-card post (feed[4]) with Korean text linking `url`: the record's
    shape is the recorded one (facets, external card, metrics); only the words and the link
    target are ours. Facet offsets count UTF-8 bytes, so Hangul before the link tests them."""
    view = copy.deepcopy(bluesky_feed()["feed"][4])
    record = view["post"]["record"]
    before = "어휘 크기에 대한 스케일링 법칙 논문, 꼭 읽어 보세요:\n\n"
    record["text"] = before + label
    start = len(before.encode("utf-8"))
    record["facets"] = [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
                         "index": {"byteStart": start, "byteEnd": start + len(label.encode("utf-8"))}}]
    record["langs"] = ["ko"]
    record["embed"]["external"]["uri"] = url
    view["post"]["embed"]["external"].update(uri=url, title="Scaling Laws with Vocabulary")
    return view
