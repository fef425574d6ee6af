"""`newsletter demo`: the whole pipeline offline, on real snapshots served on loopback.

The collectors are the real ones; only the addresses differ, through each source's
base-URL override, exactly as an operator would point them at a mirror.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator, Mapping

import yaml

from ..app import App, build_app
from ..errors import IssueError
from ..flows import compose
from ..store import items as item_store
from .lookups import arxiv_route, bluesky_thread_route, oembed_route
from .server import Route, SnapshotServer

RSS = "application/rss+xml; charset=utf-8"
# The real user-lookup answer is not among the recorded payloads; 783214 is @Twitter's
# account id, which is what the recorded /2/users/783214/tweets response belongs to.
X_USER = {"data": {"id": "783214", "name": "Twitter", "username": "Twitter"}}
ARXIV_CATEGORIES = "cs.CL+cs.LG+cs.AI"
HF_SNAPSHOT = "hf-daily-papers-api-2026-06-12-limit30.json"
BLUESKY_SNAPSHOT = "bsky-getAuthorFeed-chriskenny-2025-05-19.body-derived.json"
BLUESKY_HANDLE = "chriskenny.bsky.social"  # the account the recorded feed page belongs to

FEEDS = {
    # id: (name, snapshot); the community feeds' readers see the lab's own name (DISPLAY_NAMES)
    "openai": ("OpenAI News", "openai-news-rss-2025-07-28.xml"),
    "google-deepmind": ("Google DeepMind", "google-deepmind-blog-rss-2025-07.xml"),
    "google-ai": ("Google AI (The Keyword)", "google-blog-technology-ai-rss-2025-07.xml"),
    "microsoft-ai": ("Microsoft AI Blog", "microsoft-ai-blog-rss-2025-07-28.xml"),
    "anthropic": ("Anthropic News (community feed)", "community-anthropic-news.turing-ai-rss-feeds.rss.xml"),
    "mistral": ("Mistral AI News (community feed)", "community-mistral-news.turing-ai-rss-feeds.rss.xml"),
}


DISPLAY_NAMES = {"anthropic": "Anthropic", "mistral": "Mistral AI"}


def snapshot(name: str) -> bytes:
    return resources.files(__package__).joinpath("snapshots", name).read_bytes()


def demo_routes() -> dict[str, Route]:
    routes = {f"/feeds/{source_id}.xml": Route(snapshot(file), RSS) for source_id, (_, file) in FEEDS.items()}
    routes[f"/arxiv/rss/{ARXIV_CATEGORIES}"] = Route(snapshot("arxiv-listing-cs.CL-2024-07-19.rss.xml"), RSS)
    routes["/x/2/users/by/username/Twitter"] = Route(json.dumps(X_USER).encode(), "application/json")
    routes["/x/2/users/783214/tweets"] = Route(snapshot("x-api-v2-users-783214-tweets-2022-10.json"),
                                              "application/json")
    routes["/oembed"] = oembed_route(snapshot)  # add by URL: X posts
    routes["/arxiv/api/query"] = arxiv_route(snapshot)  # add by URL: arXiv ids
    routes["/hf/api/daily_papers"] = Route(snapshot(HF_SNAPSHOT), "application/json")
    routes["/bsky/xrpc/app.bsky.feed.getAuthorFeed"] = Route(snapshot(BLUESKY_SNAPSHOT), "application/json")
    routes["/bsky/xrpc/app.bsky.feed.getPostThread"] = bluesky_thread_route(snapshot, BLUESKY_SNAPSHOT)  # add by URL
    return routes


def demo_config(base_url: str) -> dict:
    sources = [
        {"id": source_id, "kind": "feed", "name": name, "url": f"{base_url}/feeds/{source_id}.xml",
         "section": "labs", **({"display_name": DISPLAY_NAMES[source_id]} if source_id in DISPLAY_NAMES else {})}
        for source_id, (name, _) in FEEDS.items()
    ]
    sources.append({"id": "arxiv-ai", "kind": "arxiv", "name": "arXiv cs.CL, cs.LG, cs.AI",
                    "categories": ARXIV_CATEGORIES.split("+"), "url": f"{base_url}/arxiv/rss/",
                    "api_url": f"{base_url}/arxiv/api/query", "section": "papers"})
    sources.append({"id": "x-twitter", "kind": "x", "name": "@Twitter", "handle": "Twitter",
                    "api_url": f"{base_url}/x/2", "section": "x"})
    sources.append({"id": "hf-daily-papers", "kind": "hf_papers", "name": "Hugging Face Daily Papers",
                    "url": f"{base_url}/hf/api/daily_papers", "section": "papers"})
    sources.append({"id": "bsky-chriskenny", "kind": "bluesky", "name": "@chriskenny.bsky.social",
                    "handle": BLUESKY_HANDLE, "api_url": f"{base_url}/bsky/xrpc", "section": "bluesky"})
    return {
        "newsletter": {"title": "AI 뉴스 (데모)", "timezone": "Asia/Seoul",
                       "site_url": "http://127.0.0.1:8000", "contact": "demo@example.com",
                       "sender_email": "demo@example.com", "postal_address": "서울특별시 중구 세종대로 110 (데모)"},
        "collect": {"arxiv_interval": 0.1, "oembed_url": f"{base_url}/oembed"},
        "sources": sources,
    }


@contextmanager
def demo_environment(directory: str | Path,
                     environ: Mapping[str, str] | None = None) -> Iterator[tuple[App, SnapshotServer]]:
    """Start the snapshot server, write a config pointing at it and build the app on it.

    The environment (default os.environ) counts as for any config, so NEWSLETTER_SMTP_URL
    and NEWSLETTER_SECRET make the demo's test send work; only the X token is the demo's own,
    since its X API is the snapshot server (a real token would be handed to it for nothing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with SnapshotServer(demo_routes()) as server:
        config_path = directory / "sources.yaml"
        config_path.write_text(
            "# Written by `newsletter demo`: the real collectors pointed at bundled snapshots.\n"
            + yaml.safe_dump(demo_config(server.base_url), allow_unicode=True, sort_keys=False),
            encoding="utf-8")
        environ = {**(os.environ if environ is None else environ), "X_BEARER_TOKEN": "demo-token"}
        app = build_app(directory / "newsletter.db", config_path, environ=environ)
        try:
            yield app, server
        finally:
            app.close()


# --- the demo approves a few items and renders today's issue ----------------------------
# (item key or "newest from <source id>", commentary, tags): what a curator might write.
DEMO_PICKS = (
    ("arxiv:2407.13623",
     "연산량에 따라 최적의 Vocabulary 수에 대한 Scaling Law. 투입하는 연산량이 커질수록 모델 크기뿐 아니라 "
     "**어휘 크기**도 함께 키워야 한다는 결론으로, 대부분의 LLM이 어휘를 *너무 작게* 잡고 있다고 지적합니다.",
     "scaling-law, 토크나이저"),
    ("newest from openai",
     "OpenAI의 새 소식입니다. 실제 서비스에 어떻게 적용되는지 사례 위주로 정리되어 있어 "
     "[원문](https://openai.com/news/)과 함께 읽어 보시길 권합니다.",
     "openai, 에이전트"),
    ("newest from google-deepmind",
     "Google DeepMind의 최근 연구 소식. 모델 자체보다 **평가 방법**에 대한 이야기가 많아 "
     "연구자라면 눈여겨볼 만합니다.",
     "deepmind, 평가"),
    ("newest from x-twitter",
     "트윗 하나에 여러 종류의 미디어를 섞어 올릴 수 있게 되었다는 공지. 데모용 X 게시물 예시입니다.",
     "x, 데모"),
    ("newest from bsky-chriskenny",
     "Bluesky에서 본 연구자의 소식. X와 같은 정적 인용으로 실리며, 글에 담긴 링크는 해당 항목에 "
     "\"Bluesky에서도\" 언급으로 붙습니다.",
     "bluesky, 데모"),
)


def demo_issue(app: App, directory: str | Path) -> tuple[Path, Path]:
    """Approve the demo picks with sample Korean commentary and tags, build today's issue and
    write its HTML and text next to the demo database; return the two paths."""
    now = app.clock()
    for pick, commentary, tags in DEMO_PICKS:
        if pick.startswith("newest from "):
            newest = item_store.list_items(app.conn, source_id=pick.removeprefix("newest from "), limit=1)
            found = newest[0] if newest else None
        else:
            found = item_store.get_item_by_key(app.conn, pick)
        if found:  # a snapshot without the pick still gives an issue of the others
            compose.approve_item(app.conn, found.id, now, commentary=commentary, tags=tags)
    try:
        issue = compose.build_issue(app.settings, app.conn, now).issue
    except IssueError:  # today's issue was already marked ready by hand: show it as it is
        issue = compose.find_issue(app.conn, compose.local_date(now, app.settings))
    rendered = compose.render_stored_issue(app.settings, app.conn, issue, app.email)
    html_path, text_path = Path(directory) / "issue.html", Path(directory) / "issue.txt"
    html_path.write_text(rendered.html, encoding="utf-8")
    text_path.write_text(rendered.text, encoding="utf-8")
    return html_path, text_path


# --- the demo issue in the static archive ----------------------------------------------
def demo_archive(app: App, directory: str | Path) -> Path:
    """Build the static archive into `directory`/archive with today's demo issue, which is not
    sent, shown as a preview; return the path of its index.html."""
    issue = compose.find_issue(app.conn, compose.local_date(app.clock(), app.settings))
    report = app.build_archive(Path(directory) / "archive", previews=[issue.issue_date])
    return report.index_path
