"""collect: concurrency, conditional GET savings, a 2000-entry arXiv listing."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from newsletter.demo.server import Route, SnapshotServer

from .common import BENCH, FEED, FIXTURES, LISTING, RSS, log, make_app, own_peak_rss_mb


def collect_with(servers: list[SnapshotServer], concurrency: int) -> tuple[float, int]:
    """Seconds for one collect of every server's feed into a fresh database, and items stored."""
    with tempfile.TemporaryDirectory() as tmp:
        sources = [{"id": f"lab-{i}", "kind": "feed", "url": s.url("/feed.xml")} for i, s in enumerate(servers)]
        app = make_app(Path(tmp), sources, concurrency=concurrency, per_host=2)
        try:
            started = time.perf_counter()
            report = asyncio.run(app.collect())
            elapsed = time.perf_counter() - started
        finally:
            app.close()
    assert all(r.status == "ok" for r in report.results), report.as_json()
    return elapsed, report.new


def bench_concurrency() -> dict:
    body = FEED.read_bytes()
    # one server per loopback address: 50 distinct hosts, as 50 labs would be
    servers = [SnapshotServer({"/feed.xml": Route(body, RSS, delay=0.3)}, host=f"127.0.0.{i + 1}").start()
               for i in range(50)]
    try:
        collect_with(servers[:2], concurrency=2)  # warm-up: starts the parser processes
        concurrent_s, items = collect_with(servers, concurrency=16)
        sequential_s, _ = collect_with(servers, concurrency=1)
    finally:
        with ThreadPoolExecutor(len(servers)) as pool:  # each stop waits out a poll interval
            list(pool.map(SnapshotServer.stop, servers))
    log(f"50 feeds x 300 ms: concurrent {concurrent_s:.2f} s, sequential {sequential_s:.2f} s ({items} items)")
    return {"concurrent_s": round(concurrent_s, 3), "sequential_s": round(sequential_s, 3),
            "speedup": round(sequential_s / concurrent_s, 1)}


def bench_second_run() -> dict:
    bodies = [p.read_bytes() for p in sorted((FIXTURES / "feeds").glob("*.xml"))]
    with SnapshotServer({f"/{i}.xml": Route(b, RSS) for i, b in enumerate(bodies)}) as server, \
            tempfile.TemporaryDirectory() as tmp:
        sources = [{"id": f"lab-{i}", "kind": "feed", "url": server.url(f"/{i}.xml")} for i in range(len(bodies))]
        app = make_app(Path(tmp), sources)
        try:
            asyncio.run(app.collect())
            first = server.bytes_sent
            asyncio.run(app.collect())
            second = server.bytes_sent - first
        finally:
            app.close()
    log(f"{len(bodies)} real feeds: first run {first:,} bytes, unchanged second run {second:,} bytes")
    return {"first_run_bytes": first, "second_run_bytes": second,
            "second_run_bytes_ratio": round(second / first, 4)}


def big_listing(entries: int) -> bytes:
    """The documented-format listing with its real items repeated under fresh arXiv ids."""
    text = LISTING.read_text(encoding="utf-8")
    head, rest = text.split("<item>", 1)
    items = ["<item>" + chunk for chunk in rest.split("<item>")]
    items[-1], tail = items[-1].split("</channel>", 1)
    out = []
    for n in range(entries):
        item = items[n % len(items)]
        new_id = f"2407.{20000 + n:05d}"
        # every entry announced as new, so all 2000 are kept
        item = re.sub(r"(Announce Type: |<arxiv:announce_type>)[a-z-]+", r"\1new", item)
        out.append(re.sub(r"\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7}", new_id, item))
    return (head + "".join(out) + "</channel>" + tail).encode()


def arxiv_worker(entries: int) -> None:
    """Run in a fresh process so its peak RSS is this workload's alone."""
    from newsletter.collect import arxiv
    from newsletter.store import connect, transaction
    from newsletter.store.items import upsert_entries

    body = big_listing(entries)
    now = datetime(2024, 7, 19, 6, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "bench.db")
        started = time.perf_counter()
        listing = arxiv.parse_listing(body, source_id="arxiv-ai", now=now)
        with transaction(conn):
            new = upsert_entries(conn, "arxiv-ai", listing.entries, now)
        elapsed = time.perf_counter() - started
    peak_mb = own_peak_rss_mb()
    print(json.dumps({"seconds": elapsed, "new": new, "peak_rss_mb": peak_mb, "bytes": len(body)}))


def bench_arxiv() -> dict:
    out = subprocess.run([sys.executable, str(BENCH), "_arxiv-worker", "2000"], check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out)
    assert result["new"] == 2000, result
    log(f"arXiv listing of 2000 entries ({result['bytes']:,} bytes): {result['seconds']:.2f} s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB")
    return {"arxiv_2000_s": round(result["seconds"], 3), "arxiv_2000_peak_rss_mb": round(result["peak_rss_mb"], 1)}
