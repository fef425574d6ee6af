"""render: a 40-item issue's render time and the 30-item Korean issue's size."""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from .common import FIXTURES, LISTING, korean_commentary, log, make_app


def sample_issue(directory: Path, papers: int, posts: int, x_posts: int):
    """A stored issue of real fixture items (papers, lab posts, X posts), each approved with
    Korean commentary and tags; returns (settings, issue, items)."""
    from newsletter.collect import arxiv, feeds, x
    from newsletter.flows import compose
    from newsletter.store import transaction
    from newsletter.store.items import get_item_by_key, upsert_entries

    now = datetime(2024, 7, 19, 0, 30, tzinfo=timezone.utc)
    directory.mkdir(parents=True, exist_ok=True)
    app = make_app(directory, [
        {"id": "arxiv-ai", "kind": "arxiv", "name": "arXiv", "categories": ["cs.CL"], "url": "https://rss.arxiv.org/rss/"},
        {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": "https://openai.com/news/rss.xml"},
        {"id": "x-home", "kind": "x", "name": "X", "handle": "TwitterDev", "api_url": "https://api.x.com/2"},
    ])
    listing = arxiv.parse_listing(LISTING.read_bytes(), source_id="arxiv-ai", now=now).entries
    lab = feeds.parse_feed((FIXTURES / "feeds" / "openai-news-rss-2025-07-28.xml").read_bytes(), source_id="openai",
                           base_url="https://openai.com/news/rss.xml", now=now).entries
    timeline = x.parse_posts((FIXTURES / "x" / "x-api-v2-home-timeline-reverse-chronological.json").read_bytes(),
                             source_id="x-home", handle="TwitterDev").entries
    chosen = [("arxiv-ai", e) for e in listing[:papers]] + [("openai", e) for e in lab[:posts]] + \
             [("x-home", e) for e in timeline[:x_posts]]
    assert len(chosen) == papers + posts + x_posts, "not enough fixture items"
    with transaction(app.conn):
        for source_id, entry in chosen:
            upsert_entries(app.conn, source_id, [entry], now)
    for index, (_, entry) in enumerate(chosen):
        item_id = get_item_by_key(app.conn, entry.key).id
        compose.approve_item(app.conn, item_id, now, commentary=korean_commentary(index),
                             tags=["언어모델", "scaling-law", "평가"][: 1 + index % 3])
    issue = compose.build_issue(app.settings, app.conn, now).issue
    items = compose.issue_items(app.conn, issue)
    settings = app.settings
    app.close()
    return settings, issue, items


def bench_render() -> dict:
    from statistics import median

    from newsletter.config import TEMPLATES_DIR
    from newsletter.render import EmailRenderer, render_issue, size_report

    renderer = EmailRenderer(TEMPLATES_DIR / "email")
    with tempfile.TemporaryDirectory() as tmp:
        settings, issue40, items40 = sample_issue(Path(tmp) / "40", papers=16, posts=16, x_posts=8)
        settings30, issue30, items30 = sample_issue(Path(tmp) / "30", papers=12, posts=12, x_posts=6)
    render_issue(issue40, items40, settings, renderer)  # warm-up: templates compiled once
    timings = []
    for _ in range(30):
        started = time.perf_counter()
        render_issue(issue40, items40, settings, renderer)
        timings.append((time.perf_counter() - started) * 1000)
    html30 = render_issue(issue30, items30, settings30, renderer).html
    size = size_report(html30)
    log(f"40-item issue: median {median(timings):.1f} ms per render; 30-item Korean issue: {size.kb} KB HTML")
    return {"render_ms_median": round(median(timings), 2), "html_kb_30_items": size.kb}


# --- queue (editor issue) -------------------------------------------------------------
