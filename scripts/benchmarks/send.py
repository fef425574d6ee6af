"""send: a send to 10,000 subscribers against the sink's own ceiling; peak RSS for 100,000."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

from .common import BENCH, build_app, korean_commentary, log, own_peak_rss_mb

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
    sink = subprocess.Popen([sys.executable, str(BENCH), "_smtp-sink", str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    return sink, port


def send_worker(subscribers: int, port: int) -> None:
    """Prepare and send one issue to `subscribers` addresses in a fresh database; print JSON."""
    from newsletter.flows.send import send_issue
    from newsletter.model import (
        Entry,
        IssueStatus,
        ItemKind,
        ItemStatus,
        SubscriberStatus,
    )
    from newsletter.store import issues, items, transaction
    from newsletter.store import subscribers as subscriber_store
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
            report = send_issue(app.conn, app.settings, issue, rendered, pool, app.tokens, clock=app.clock, force_late=True)
            elapsed = time.perf_counter() - started
        app.close()
    print(json.dumps({"sent": report.counts.sent, "failed": report.counts.failed, "seconds": elapsed,
                      "prepare_seconds": prepared, "peak_rss_mb": own_peak_rss_mb()}))




def send_ceiling(port: int, count: int, distinct: int = 500) -> tuple[float, int]:
    """Messages per second of a plain smtplib loop sending pre-built messages (the same kind a
    send builds; `distinct` of them, sent round) over one reused connection; and their size."""
    import smtplib

    from newsletter.config import parse_settings
    from newsletter.flows.send import IssueMessages
    from newsletter.mail.tokens import Tokens
    from newsletter.model import Delivery, DeliveryStatus

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
    out = subprocess.run([sys.executable, str(BENCH), "_send-worker", str(subscribers), str(port)], check=True,
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
