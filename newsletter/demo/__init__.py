"""`newsletter demo`: the whole pipeline offline, on real snapshots served on loopback.

The collectors are the real ones; only the addresses differ, through each source's
base-URL override, exactly as an operator would point them at a mirror.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import yaml

from ..app import App, build_app
from .server import Route, SnapshotServer

RSS = "application/rss+xml; charset=utf-8"
# The real user-lookup answer is not among the recorded payloads; 783214 is @Twitter's
# account id, which is what the recorded /2/users/783214/tweets response belongs to.
X_USER = {"data": {"id": "783214", "name": "Twitter", "username": "Twitter"}}
ARXIV_CATEGORIES = "cs.CL+cs.LG+cs.AI"

FEEDS = {
    # id: (name, snapshot)
    "openai": ("OpenAI News", "openai-news-rss-2025-07-28.xml"),
    "google-deepmind": ("Google DeepMind", "google-deepmind-blog-rss-2025-07.xml"),
    "google-ai": ("Google AI (The Keyword)", "google-blog-technology-ai-rss-2025-07.xml"),
    "microsoft-ai": ("Microsoft AI Blog", "microsoft-ai-blog-rss-2025-07-28.xml"),
    "anthropic": ("Anthropic News (community feed)", "community-anthropic-news.turing-ai-rss-feeds.rss.xml"),
    "mistral": ("Mistral AI News (community feed)", "community-mistral-news.turing-ai-rss-feeds.rss.xml"),
}


def snapshot(name: str) -> bytes:
    return resources.files(__package__).joinpath("snapshots", name).read_bytes()


def demo_routes() -> dict[str, Route]:
    routes = {f"/feeds/{source_id}.xml": Route(snapshot(file), RSS) for source_id, (_, file) in FEEDS.items()}
    routes[f"/arxiv/rss/{ARXIV_CATEGORIES}"] = Route(snapshot("arxiv-listing-cs.CL-2024-07-19.rss.xml"), RSS)
    routes["/x/2/users/by/username/Twitter"] = Route(json.dumps(X_USER).encode(), "application/json")
    routes["/x/2/users/783214/tweets"] = Route(snapshot("x-api-v2-users-783214-tweets-2022-10.json"),
                                              "application/json")
    return routes


def demo_config(base_url: str) -> dict:
    sources = [
        {"id": source_id, "kind": "feed", "name": name, "url": f"{base_url}/feeds/{source_id}.xml",
         "section": "labs"}
        for source_id, (name, _) in FEEDS.items()
    ]
    sources.append({"id": "arxiv-ai", "kind": "arxiv", "name": "arXiv cs.CL, cs.LG, cs.AI",
                    "categories": ARXIV_CATEGORIES.split("+"), "url": f"{base_url}/arxiv/rss/",
                    "api_url": f"{base_url}/arxiv/api/query", "section": "papers"})
    sources.append({"id": "x-twitter", "kind": "x", "name": "@Twitter", "handle": "Twitter",
                    "api_url": f"{base_url}/x/2", "section": "x"})
    return {
        "newsletter": {"title": "AI 뉴스 (데모)", "timezone": "Asia/Seoul",
                       "site_url": "http://127.0.0.1:8000", "contact": "demo@example.com"},
        "collect": {"arxiv_interval": 0.1, "oembed_url": f"{base_url}/oembed"},
        "sources": sources,
    }


@contextmanager
def demo_environment(directory: str | Path) -> Iterator[tuple[App, SnapshotServer]]:
    """Start the snapshot server, write a config pointing at it and build the app on it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with SnapshotServer(demo_routes()) as server:
        config_path = directory / "sources.yaml"
        config_path.write_text(
            "# Written by `newsletter demo`: the real collectors pointed at bundled snapshots.\n"
            + yaml.safe_dump(demo_config(server.base_url), allow_unicode=True, sort_keys=False),
            encoding="utf-8")
        app = build_app(directory / "newsletter.db", config_path, environ={"X_BEARER_TOKEN": "demo-token"})
        try:
            yield app, server
        finally:
            app.close()
