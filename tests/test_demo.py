"""`newsletter demo` as a new user meets it: the environment's mail settings count, "add by
URL" works offline for X posts and arXiv papers, and stopping it leaves no process behind."""

from __future__ import annotations

import asyncio
import signal
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import psutil

from newsletter.demo import demo_environment
from support.apps import add_curator
from support.cli import Running
from support.net import free_port
from support.server import AppServer
from support.smtp import SmtpSink, wait_for_mail
from support.web import csrf_of, login

HELD_POST = "https://x.com/IgorBrigadir/status/1558553189766631429"  # in the demo's recorded payloads
HELD_PAPER = "1707.08567"  # in a recorded arXiv API lookup, not in the demo's listing


def in_thread(coroutine):
    """asyncio.run off the main thread: the session's Playwright keeps a loop on it."""
    result = {}
    worker = threading.Thread(target=lambda: result.update(value=asyncio.run(coroutine)))
    worker.start()
    worker.join()
    return result["value"]


def test_demo_adds_x_posts_bluesky_posts_and_arxiv_papers_by_url_offline(tmp_path):
    with demo_environment(tmp_path / "demo", environ={}) as (app, _):
        in_thread(app.collect())
        add_curator(app)
        with AppServer(app) as server, server.client() as client:
            csrf = login(client)

            def add(url: str) -> httpx.Response:
                return client.post("/api/add-url", headers={"X-CSRF-Token": csrf}, json={"url": url})

            post = add(HELD_POST)
            assert post.status_code == 201, post.text
            item = post.json()["item"]
            assert item["title"] == "She's GOING with it! 🐍" and item["kind"] == "x_post"
            assert "Igor Brigadir" in item["authors"][0] and item["published"].startswith("2022-08-13")
            paper = add(f"https://arxiv.org/abs/{HELD_PAPER}v1")
            assert paper.status_code == 201, paper.text
            item = paper.json()["item"]
            assert item["title"] == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
            assert "Dirk Wübben" in item["authors"]  # UTF-8 as arXiv sent it
            assert add(HELD_PAPER).json()["created"] is False  # found again, no duplicate
            old_style = add("https://arxiv.org/abs/astro-ph/0601001")
            assert old_style.status_code == 201 and old_style.json()["item"]["title"].startswith(
                "Frequency of Hot Jupiters and Very Hot Jupiters")

            skeet = add("https://bsky.app/profile/chriskenny.bsky.social/post/3lof7sovfok2h")
            assert skeet.status_code == 201, skeet.text
            assert skeet.json()["item"]["kind"] == "bluesky_post"
            assert skeet.json()["item"]["url"] == "https://bsky.app/profile/chriskenny.bsky.social/post/3lof7sovfok2h"

            # what the snapshots do not hold gets a sentence, not a status code and a query string
            for missing, says in (("https://x.com/someone/status/1234567890123456789", "X shows no public post"),
                                  ("2501.00001", "no arXiv answer for 2501.00001"),
                                  ("https://bsky.app/profile/chriskenny.bsky.social/post/3lpjz2qbqjk2k",
                                   "Bluesky shows no post")):
                answer = add(missing)
                assert answer.status_code == 502
                error = answer.json()["error"]
                assert says in error and "offline demo's snapshots hold no" in error, error
                assert "HTTP 404" not in error and "?" not in error.split("(")[0], error


def test_demo_sends_its_test_copy_with_the_environments_mail_settings_and_leaves_no_process_behind(tmp_path):
    port = free_port()
    with SmtpSink() as sink:
        running = Running(tmp_path, "demo", "--dir", str(tmp_path / "demo"), "--port", str(port),
                          profile="mail", sink=sink)  # NEWSLETTER_SECRET and NEWSLETTER_SMTP_URL set
        children: list[psutil.Process] = []
        try:
            found = running.wait_for(r"editor\S*: http://127\.0\.0\.1:\d+/\s+user: (\S+)\s+password: (\S+)")
            children = psutil.Process(running.process.pid).children(recursive=True)
            assert any("forkserver" in " ".join(child.cmdline()) for child in children)  # the parsers' pool
            today = datetime.now(ZoneInfo("Asia/Seoul")).date().isoformat()
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                login(client, found[1], found[2])
                csrf = csrf_of(client.get("/issue", params={"date": today}).text)
                sent = client.post("/issue/test", data={"csrf": csrf, "date": today, "address": "me@example.com"})
                assert sent.status_code == 200 and "테스트 메일을 me@example.com 주소로 보냈습니다" in sent.text, sent.text
            wait_for_mail(sink, 1)
            message = sink.received[0].message
            assert message["Subject"].startswith("[테스트] AI 뉴스 (데모)")
            assert "연산량에 따라 최적의 Vocabulary 수에 대한 Scaling Law" in message.get_body(("html",)).get_content()

            running.process.send_signal(signal.SIGTERM)
            running.process.wait(30)
            _, alive = psutil.wait_procs(children, timeout=15)
            assert alive == [], [" ".join(p.cmdline()) for p in alive]
        finally:
            if running.process.poll() is None:
                running.process.kill()
            for child in children:  # a failed run leaves no orphans to later tests
                if child.is_running():
                    child.kill()
