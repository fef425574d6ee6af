#!/usr/bin/env python3
"""Benchmarks: `scripts/bench.py NAME` prints {"NAME": {figure: number, ...}} on stdout.

    collect   50 loopback feeds answering after 300 ms, concurrent vs one at a time (same run);
              bytes of a second, unchanged run over the first; a 2000-entry arXiv listing
              parsed and stored, time and peak RSS (in a fresh process).
    render    the email of a 40-item issue (papers, lab posts, X posts, Korean commentary):
              median milliseconds per render; HTML kilobytes of the 30-item issue.
    queue     the editor on 5,000 waiting items, in-process: median ms of the queue page and of
              approve (20+ requests each), plus a later page and a 2-syllable Hangul search.
    send      messages per second of a send to 10,000 subscribers (aiosmtpd sink in its own process,
              4 connections) against the sink's ceiling (plain smtplib, one connection, pre-built
              messages), same run; peak RSS preparing and sending to 100,000 (fresh process).
    archive   the static archive of 500 sent issues of 20 items (Korean commentary, ~200 tags):
              seconds of a full build into an empty directory, and of the rebuild after one
              more issue is sent (only changed files rewritten).
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import click
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.app import build_app  # noqa: E402
from newsletter.demo.server import Route, SnapshotServer  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
FEED = FIXTURES / "feeds" / "community-mistral-news.turing-ai-rss-feeds.rss.xml"
LISTING = FIXTURES / "arxiv" / "arxiv-listing-cs.CL-2024-07-19.rss.xml"
RSS = "application/rss+xml; charset=utf-8"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_app(directory: Path, sources: list[dict], **collect):
    config = directory / "sources.yaml"
    config.write_text(yaml.safe_dump({"collect": collect, "sources": sources}), encoding="utf-8")
    return build_app(directory / "bench.db", config, environ={})


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
    out = subprocess.run([sys.executable, __file__, "_arxiv-worker", "2000"], check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out)
    assert result["new"] == 2000, result
    log(f"arXiv listing of 2000 entries ({result['bytes']:,} bytes): {result['seconds']:.2f} s, "
        f"peak RSS {result['peak_rss_mb']:.0f} MB")
    return {"arxiv_2000_s": round(result["seconds"], 3), "arxiv_2000_peak_rss_mb": round(result["peak_rss_mb"], 1)}


# --- render ---------------------------------------------------------------------------
KOREAN_COMMENTARY = (
    "연산량에 따라 최적의 어휘 크기를 예측하는 **스케일링 법칙**을 제안합니다.",
    "투입하는 연산량이 커질수록 모델 크기뿐 아니라 데이터와 토크나이저도 함께 키워야 한다는 결론이 흥미롭습니다.",
    "실험 규모가 크지 않다는 한계는 있지만, 실무에서 바로 참고할 만한 수치를 제시합니다.",
    "에이전트 평가에서 *재현성*이 얼마나 흔들리는지 보여 주는 사례라 눈여겨볼 만합니다.",
    "자세한 내용은 [원문](https://arxiv.org/abs/2407.13623)과 부록의 추가 실험을 함께 보시길 권합니다.",
    "한국어 데이터에 대한 언급은 없지만, 다국어 모델을 다루는 팀이라면 `tokenizer` 설정부터 다시 점검해 볼 일입니다.",
)


def korean_commentary(index: int) -> str:
    """Two or three sentences of curator commentary, different for each item."""
    count = 2 + index % 2
    return " ".join(KOREAN_COMMENTARY[(index + k) % len(KOREAN_COMMENTARY)] for k in range(count))


def sample_issue(directory: Path, papers: int, posts: int, x_posts: int):
    """A stored issue of real fixture items (papers, lab posts, X posts), each approved with
    Korean commentary and tags; returns (settings, issue, items)."""
    from newsletter import compose
    from newsletter.collect import arxiv, feeds, x
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

    from newsletter.render import EmailRenderer, render_issue, size_report

    renderer = EmailRenderer()
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


def bench_queue() -> dict:
    """The editor in-process (Starlette's TestClient, no socket) on 5,000 waiting items of
    real fixture entries under fresh keys: the queue page and the approve action, median ms."""
    import re as regex
    import warnings
    from dataclasses import replace
    from datetime import timedelta
    from statistics import median

    from newsletter.collect import arxiv, feeds
    from newsletter.store import transaction
    from newsletter.store import users
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
        finally:
            app.close()
    figures = {"items": 5000, "page_ms_median": round(median(page_ms), 1),
               "page_60_ms_median": round(median(later_ms), 1), "search_short_ms_median": round(median(search_ms), 1),
               "approve_ms_median": round(median(approve_ms), 1), "requests_each": len(page_ms)}
    log(f"queue of 5,000 waiting items: page {figures['page_ms_median']} ms, page 60 "
        f"{figures['page_60_ms_median']} ms, 2-syllable search {figures['search_short_ms_median']} ms, "
        f"approve {figures['approve_ms_median']} ms (medians, in-process)")
    return figures


# --- send (delivery issue) ------------------------------------------------------------------
# Messages per second from `send_issue` to an aiosmtpd sink in its own process, against that
# sink's ceiling measured in the same run by a plain smtplib loop over one reused connection;
# and peak RSS of a send to 100,000 subscribers (each send in a fresh process).

SEND_SECRET = "bench-secret"
SEND_POOL = 4


def send_sample_issue():
    """A Korean issue as mjml-python emits it: ~20 KB of HTML on long lines, with the
    unsubscribe placeholder in the footer and the text part."""
    from datetime import date

    from mjml import mjml2html

    from newsletter.model import UNSUBSCRIBE_PLACEHOLDER, RenderedIssue

    item = ('<mj-section background-color="#ffffff"><mj-column><mj-text font-size="17px" font-weight="700">'
            '<a href="https://arxiv.org/abs/2407.{n}">Scaling Laws with Vocabulary: Larger Models Deserve Larger '
            'Vocabularies</a></mj-text><mj-text color="#59636e">(Chaofan Tao, Qian Liu, Longxu Dou 외 5명)</mj-text>'
            '<mj-text>Research on scaling large language models (LLMs) has primarily focused on model parameters and '
            'training data size, overlooking the role of vocabulary size.</mj-text><mj-text>{c}</mj-text>'
            '<mj-text color="#0b57d0">#scaling-law #tokenizer</mj-text></mj-column></mj-section>')
    body = "".join(item.format(n=13623 + n, c=korean_commentary(n)) for n in range(8))
    html = mjml2html(f'<mjml lang="ko"><mj-body>{body}<mj-section><mj-column><mj-text>'
                     f'<a href="{UNSUBSCRIBE_PLACEHOLDER}">수신 거부</a></mj-text></mj-column></mj-section>'
                     '</mj-body></mjml>')
    text = "\n\n".join(f"Scaling Laws with Vocabulary\nhttps://arxiv.org/abs/2407.{13623 + n}\n{korean_commentary(n)}"
                       for n in range(8)) + f"\n\n수신 거부: {UNSUBSCRIBE_PLACEHOLDER}\n"
    return RenderedIssue(issue_date=date(2024, 7, 19), number=12, subject="AI 뉴스 #12 — 2024년 7월 19일 (금)",
                         preheader="어휘 크기의 스케일링 법칙", html=html, text=text)


def smtp_sink(port: int) -> None:
    """An aiosmtpd sink that accepts and discards; runs until its stdin closes."""
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server, session, envelope):
            return "250 2.0.0 accepted"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


def start_sink() -> tuple[subprocess.Popen, int]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = subprocess.Popen([sys.executable, __file__, "_smtp-sink", str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    return sink, port


def send_worker(subscribers: int, port: int) -> None:
    """Prepare and send one issue to `subscribers` addresses in a fresh database; print JSON."""
    from newsletter.model import Entry, IssueStatus, ItemKind, ItemStatus, SubscriberStatus
    from newsletter.send import send_issue
    from newsletter.store import issues, items, subscribers as subscriber_store, transaction
    from newsletter.store.subscribers import Address

    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sources.yaml"
        config.write_text(yaml.safe_dump({"mail": {"pool_size": SEND_POOL, "rate_per_second": 1_000_000.0},
                                          "sources": []}), encoding="utf-8")
        app = build_app(Path(tmp) / "bench.db", config, environ={
            "NEWSLETTER_SECRET": SEND_SECRET, "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{port}"})
        today = now.astimezone(app.settings.newsletter.zone).date()
        started = time.perf_counter()
        with transaction(app.conn):
            subscriber_store.add_many(app.conn, (Address(f"reader{n}@example.com", f"reader{n}@example.com")
                                                 for n in range(subscribers)), SubscriberStatus.ACTIVE, "import", now)
            items.upsert_entries(app.conn, "bench", [Entry(key="arxiv:2407.13623", kind=ItemKind.PAPER,
                                                           url="https://arxiv.org/abs/2407.13623", title="Scaling")], now)
            item = items.get_item_by_key(app.conn, "arxiv:2407.13623")
            items.set_status(app.conn, item.id, ItemStatus.APPROVED, now)
            issue = issues.create_issue(app.conn, today, now)
            issues.set_items(app.conn, issue.id, [item.id], now)
            issue = issues.set_status(app.conn, issue.id, IssueStatus.READY, now)
        prepared = time.perf_counter() - started
        rendered = send_sample_issue()
        with app.smtp_pool() as pool:
            started = time.perf_counter()
            report = send_issue(app.conn, app.settings, issue, rendered, pool, clock=app.clock, force_late=True)
            elapsed = time.perf_counter() - started
        app.close()
    print(json.dumps({"sent": report.counts.sent, "failed": report.counts.failed, "seconds": elapsed,
                      "prepare_seconds": prepared, "peak_rss_mb": own_peak_rss_mb()}))


def own_peak_rss_mb() -> float:
    """Peak RSS of this process's own memory. ru_maxrss would not do: Linux carries it over
    exec from the parent it was forked from, so a child reports at least the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def send_ceiling(port: int, count: int, distinct: int = 500) -> tuple[float, int]:
    """Messages per second of a plain smtplib loop sending pre-built messages (the same kind a
    send builds; `distinct` of them, sent round) over one reused connection; and their size."""
    import smtplib

    from newsletter.config import parse_settings
    from newsletter.mail.tokens import Tokens
    from newsletter.model import Delivery, DeliveryStatus
    from newsletter.send import IssueMessages

    settings = parse_settings({}, environ={"NEWSLETTER_SECRET": SEND_SECRET})
    factory = IssueMessages(settings, send_sample_issue(), Tokens(SEND_SECRET), lambda: datetime.now(timezone.utc))
    messages = [(f"reader{n}@example.com", factory(Delivery(n + 1, 1, n + 1, f"reader{n}@example.com",
                                                            DeliveryStatus.PENDING, f"<c.{n}@example.com>")))
                for n in range(min(count, distinct))]
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        started = time.perf_counter()
        for n in range(count):
            recipient, data = messages[n % len(messages)]
            smtp.sendmail(settings.newsletter.sender_email, [recipient], data)
        elapsed = time.perf_counter() - started
    return count / elapsed, sum(len(data) for _, data in messages) // len(messages)


def run_send_worker(subscribers: int, port: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "_send-worker", str(subscribers), str(port)], check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out)
    assert result["sent"] == subscribers and result["failed"] == 0, result
    return result


def bench_send() -> dict:
    sink, port = start_sink()
    try:
        send_ceiling(port, 300)  # warm-up
        ceiling, size = send_ceiling(port, 3000)
        ten_k = run_send_worker(10_000, port)
        ceiling_after, _ = send_ceiling(port, 3000)
        ceiling = max(ceiling, ceiling_after)  # the sink's best, so the ratio is not flattered
        hundred_k = run_send_worker(100_000, port)
    finally:
        sink.stdin.close()
        sink.wait(timeout=30)
    rate = 10_000 / ten_k["seconds"]
    log(f"send: {size:,}-byte messages; 10,000 subscribers in {ten_k['seconds']:.1f} s = {rate:.0f} msg/s with "
        f"{SEND_POOL} connections; the sink's ceiling {ceiling:.0f} msg/s (smtplib, one connection, pre-built); "
        f"100,000 subscribers: {hundred_k['seconds']:.0f} s, peak RSS {hundred_k['peak_rss_mb']:.0f} MB")
    return {"msgs_per_s": round(rate, 1), "ceiling_msgs_per_s": round(ceiling, 1),
            "ratio": round(rate / ceiling, 3), "peak_rss_mb_100k": round(hundred_k["peak_rss_mb"], 1)}


# --- archive (archive issue) ----------------------------------------------------------------
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
            full = build_archive(app.conn, app.settings, out, now)
            full_s, full_cpu = time.perf_counter() - started, time.process_time() - cpu
            add_sent_issues(app, date.fromordinal(first_day.toordinal() + 500), 1, 20, 500 * 20, now)
            started, cpu = time.perf_counter(), time.process_time()
            incremental = build_archive(app.conn, app.settings, out, now)
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


@click.command()
@click.argument("name", type=click.Choice(["collect", "render", "queue", "_arxiv-worker",
                                                 "send", "_send-worker", "_smtp-sink", "archive"]))
@click.argument("entries", required=False, type=int, default=2000)
@click.argument("port", required=False, type=int, default=0)  # send: the sink's port
def main(name: str, entries: int, port: int) -> None:
    """Run one benchmark and print its JSON figures on stdout."""
    if name == "_send-worker":  # send: the sending process (ENTRIES subscribers, the sink on PORT)
        send_worker(entries, port)
        return
    if name == "_smtp-sink":  # send: the sink process (listening on port ENTRIES)
        smtp_sink(entries)
        return
    if name == "_arxiv-worker":
        arxiv_worker(entries)
        return
    if name == "render":
        figures = bench_render()
    elif name == "queue":
        figures = bench_queue()
    elif name == "send":
        figures = bench_send()
    elif name == "archive":
        figures = bench_archive()
    else:
        figures = {**bench_concurrency(), **bench_second_run(), **bench_arxiv()}
    print(json.dumps({name: figures}, indent=2))


if __name__ == "__main__":
    main()
