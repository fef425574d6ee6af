"""archive: a full build of 500 issues of 20 items, then an incremental one."""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from .common import FIXTURES, LISTING, korean_commentary, log, make_app

ARCHIVE_TAGS = ("언어모델", "scaling-law", "평가", "에이전트", "토크나이저", "추론", "멀티모달", "rlhf", "오픈소스", "안전성")


def archive_bench_items(count: int, offset: int, now: datetime):
    """`count` real fixture entries (papers, lab posts, X posts) under fresh keys."""
    from dataclasses import replace
    from datetime import timedelta

    from newsletter.collect import arxiv, feeds, x

    papers = arxiv.parse_listing(LISTING.read_bytes(), source_id="arxiv-ai", now=now).entries
    posts = feeds.parse_feed((FIXTURES / "feeds" / "openai-news-rss-2025-07-28.xml").read_bytes(), source_id="openai",
                             base_url="https://openai.com/news/rss.xml", now=now).entries
    tweets = x.parse_posts((FIXTURES / "x" / "x-api-v2-home-timeline-reverse-chronological.json").read_bytes(),
                           source_id="x-home", handle="TwitterDev").entries
    chosen = []
    for n in range(offset, offset + count):
        stamp = now - timedelta(minutes=n)
        if n % 10 < 6:
            chosen.append(("arxiv-ai", replace(papers[n % len(papers)], key=f"arxiv:2407.{40000 + n}", published=stamp)))
        elif n % 10 < 9:
            url = f"https://openai.com/archive-bench/{n}"
            chosen.append(("openai", replace(posts[n % len(posts)], key=url, url=url, published=stamp)))
        else:
            chosen.append(("x-home", replace(tweets[n % len(tweets)], key=f"x:{9_000_000 + n}", published=stamp)))
    return chosen


def add_sent_issues(app, first_day, issues: int, per_issue: int, offset: int, now: datetime) -> None:
    """Store `issues` sent issues of `per_issue` approved items each, from `first_day` on,
    through the store as the pipeline leaves them."""
    from datetime import timedelta

    from newsletter.model import IssueStatus, ItemStatus
    from newsletter.store import issues as issue_store
    from newsletter.store import items as item_store
    from newsletter.store import transaction

    chosen = archive_bench_items(issues * per_issue, offset, now)
    with transaction(app.conn):
        for source_id, entry in chosen:
            item_store.upsert_entries(app.conn, source_id, [entry], now)
        ids = [item_store.get_item_by_key(app.conn, entry.key).id for _, entry in chosen]
        for n, item_id in enumerate(ids, start=offset):
            item_store.set_status(app.conn, item_id, ItemStatus.APPROVED, now)
            tags = [ARCHIVE_TAGS[n % len(ARCHIVE_TAGS)], f"주제-{n % 97}", f"topic-{n % 101}"][: 1 + n % 3]
            item_store.annotate(app.conn, item_id, now, commentary=korean_commentary(n), tags=tags)
        for day in range(issues):
            issue = issue_store.create_issue(app.conn, first_day + timedelta(days=day), now)
            issue_store.set_items(app.conn, issue.id, ids[day * per_issue:(day + 1) * per_issue], now)
            for status in (IssueStatus.READY, IssueStatus.SENDING, IssueStatus.SENT):
                issue_store.set_status(app.conn, issue.id, status, now)
            for item_id in ids[day * per_issue:(day + 1) * per_issue]:
                item_store.set_status(app.conn, item_id, ItemStatus.PUBLISHED, now)


def bench_archive() -> dict:
    from datetime import date

    from newsletter.archive import build_archive

    now = datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), [
            {"id": "arxiv-ai", "kind": "arxiv", "name": "arXiv", "categories": ["cs.CL"], "url": "https://rss.arxiv.org/rss/",
             "section": "papers"},
            {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": "https://openai.com/news/rss.xml",
             "section": "labs"},
            {"id": "x-home", "kind": "x", "name": "X", "handle": "TwitterDev", "api_url": "https://api.x.com/2",
             "section": "x"}])
        try:
            first_day = date(2024, 8, 1)
            add_sent_issues(app, first_day, 500, 20, 0, now)
            out = Path(tmp) / "site"
            started, cpu = time.perf_counter(), time.process_time()
            full = build_archive(app.conn, app.settings, out, now, templates=app.archive_templates)
            full_s, full_cpu = time.perf_counter() - started, time.process_time() - cpu
            add_sent_issues(app, date.fromordinal(first_day.toordinal() + 500), 1, 20, 500 * 20, now)
            started, cpu = time.perf_counter(), time.process_time()
            incremental = build_archive(app.conn, app.settings, out, now, templates=app.archive_templates)
            incremental_s, incremental_cpu = time.perf_counter() - started, time.process_time() - cpu
            search_kb = sum(part.stat().st_size for part in (out / "search").glob("*.js")) / 1024
        finally:
            app.close()
    assert len(full.issues) == 500 and len(incremental.issues) == 501, (len(full.issues), len(incremental.issues))
    log(f"archive of 500 issues x 20 items: full build {full_s:.2f} s ({full_cpu:.2f} s CPU; {full.files} files, "
        f"{full.tags} tags); after one more issue {incremental_s:.2f} s ({incremental_cpu:.2f} s CPU; "
        f"{len(incremental.written)} files written); search index {search_kb:.0f} KB")
    # the CPU figures tell a slow machine from a busy one
    return {"full_build_s": round(full_s, 3), "incremental_s": round(incremental_s, 3),
            "full_build_cpu_s": round(full_cpu, 3), "incremental_cpu_s": round(incremental_cpu, 3),
            "files": full.files, "incremental_written": len(incremental.written),
            "search_index_kb": round(search_kb)}
