"""queue: the editor in-process on 5,000 waiting items."""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from .common import FIXTURES, LISTING, log, make_app


def bench_queue() -> dict:
    """The editor in-process (Starlette's TestClient, no socket) on 5,000 waiting items of
    real fixture entries under fresh keys, scored by the ranker: the queue page and the approve
    action, median ms (each approval asks for a rescore in the background, as in the editor)."""
    import re as regex
    import warnings
    from dataclasses import replace
    from datetime import timedelta
    from statistics import median

    from newsletter.collect import arxiv, feeds
    from newsletter.store import transaction, users
    from newsletter.store.items import upsert_entries

    warnings.filterwarnings("ignore", message=".*starlette.testclient")  # httpx still works
    from starlette.testclient import TestClient

    from newsletter.web import create_web_app

    now = datetime(2024, 7, 19, 0, 30, tzinfo=timezone.utc)
    posts = feeds.parse_feed((FIXTURES / "feeds" / "openai-news-rss-2025-07-28.xml").read_bytes(), source_id="openai",
                             base_url="https://openai.com/news/rss.xml", now=now).entries
    papers = arxiv.parse_listing(LISTING.read_bytes(), source_id="arxiv-ai", now=now).entries
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), [
            {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": "https://openai.com/news/rss.xml",
             "section": "labs"},
            {"id": "arxiv-ai", "kind": "arxiv", "name": "arXiv", "categories": ["cs.CL"],
             "url": "https://rss.arxiv.org/rss/", "section": "papers"}])
        try:
            with transaction(app.conn):
                upsert_entries(app.conn, "openai", [
                    replace(posts[n % len(posts)], key=f"https://openai.com/bulk/{n}", url=f"https://openai.com/bulk/{n}",
                            published=start + timedelta(minutes=n)) for n in range(4000)], now)
                upsert_entries(app.conn, "arxiv-ai", [
                    replace(papers[n % len(papers)], key=f"arxiv:2407.{30000 + n}", published=start + timedelta(minutes=n))
                    for n in range(1000)], now)
                users.create_user(app.conn, "bench", users.hash_password("bench-password"), now)
            started = time.perf_counter()
            app.rescore()  # what a collect ends with: every waiting item scored, the queue ranked
            rescore_s = time.perf_counter() - started
            with TestClient(create_web_app(app), base_url="https://127.0.0.1") as client:
                form = client.get("/login").text
                token = regex.search(r'name="csrf" value="([^"]+)"', form)[1]
                client.post("/login", data={"name": "bench", "password": "bench-password", "csrf": token})
                page = client.get("/queue")
                csrf = regex.search(r'name="csrf-token" content="([^"]+)"', page.text)[1]
                assert page.status_code == 200 and "5000" in page.text, page.status_code

                def timed(call) -> float:
                    started = time.perf_counter()
                    answer = call()
                    elapsed = (time.perf_counter() - started) * 1000
                    assert answer.status_code == 200, answer.text[:200]
                    return elapsed

                for _ in range(3):
                    timed(lambda: client.get("/queue"))
                page_ms = [timed(lambda: client.get("/queue")) for _ in range(25)]
                later_ms = [timed(lambda: client.get("/queue", params={"page": 60})) for _ in range(25)]
                search_ms = [timed(lambda: client.get("/queue", params={"q": "모델", "status": "all"}))
                             for _ in range(25)]
                ids = [int(i) for i in regex.findall(r'data-item="(\d+)"', client.get("/queue").text)][:30]
                approve_ms = [timed(lambda i=i: client.post(f"/api/items/{i}/approve", headers={"X-CSRF-Token": csrf}))
                              for i in ids]
                app.rescorer.wait(timeout=120)  # the approvals' background rescore, not timed here
                dismiss_ms = timed(lambda: client.post("/api/queue/dismiss", json={"section": "papers"},
                                                       headers={"X-CSRF-Token": csrf}))
                undo_ms = timed(lambda: client.post("/api/undo", headers={"X-CSRF-Token": csrf}))
                app.rescorer.wait(timeout=120)
        finally:
            app.close()
    figures = {"items": 5000, "rescore_s": round(rescore_s, 2), "page_ms_median": round(median(page_ms), 1),
               "page_60_ms_median": round(median(later_ms), 1), "search_short_ms_median": round(median(search_ms), 1),
               "approve_ms_median": round(median(approve_ms), 1), "dismiss_1000_ms": round(dismiss_ms, 1),
               "undo_1000_ms": round(undo_ms, 1), "requests_each": len(page_ms)}
    log(f"queue of 5,000 waiting items: page {figures['page_ms_median']} ms, page 60 "
        f"{figures['page_60_ms_median']} ms, 2-syllable search {figures['search_short_ms_median']} ms, "
        f"approve {figures['approve_ms_median']} ms (medians, in-process); dismiss of 1,000 "
        f"{figures['dismiss_1000_ms']} ms, its undo {figures['undo_1000_ms']} ms")
    return figures


# --- send (delivery issue) ------------------------------------------------------------------
# Messages per second from `send_issue` to an aiosmtpd sink in its own process, against that
# sink's ceiling measured in the same run by a plain smtplib loop over one reused connection;
# and peak RSS of a send to 100,000 subscribers (each send in a fresh process).
