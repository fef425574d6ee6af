"""Shared by the test_web_* files (no tests here): the real editor under uvicorn on a
loopback port, a real SQLite file, items seeded from the real fixtures, login helpers."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml

from conftest import FIXTURES
from newsletter.app import App, build_app
from newsletter.collect.arxiv import parse_listing
from newsletter.collect.feeds import parse_feed
from newsletter.store import connect, transaction
from newsletter.store import users as user_store
from newsletter.store.items import upsert_entries
from newsletter.web import create_web_app

# 09:30 in Seoul on the morning of the arXiv listing in the fixtures.
MORNING = datetime(2024, 7, 19, 0, 30, tzinfo=timezone.utc)
CURATOR, PASSWORD = "지수", "한글 비밀번호 1234"
KARPATHY_POST = "https://x.com/karpathy/status/1814339947722158085"
VOCABULARY_PAPER = "arxiv:2407.13623"  # Scaling Laws with Vocabulary


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


def write_editor_config(path: Path, base_url: str = "http://127.0.0.1:9", *, allow_private: bool = False,
                        secure_cookies: bool = True, login_attempts: int = 10) -> Path:
    config = {
        "newsletter": {"contact": "test@example.com", "timezone": "Asia/Seoul", "sections": ["labs", "papers", "x"]},
        "collect": {"connect_timeout": 2, "read_timeout": 2, "arxiv_interval": 0.05, "retry_after_cap": 1,
                    "oembed_url": f"{base_url}/oembed"},
        "web": {"allow_private_urls": allow_private, "secure_cookies": secure_cookies,
                "login_attempts_per_15_min": login_attempts},
        "sources": [
            {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": f"{base_url}/openai.xml", "section": "labs"},
            {"id": "deepmind", "kind": "feed", "name": "Google DeepMind", "url": f"{base_url}/deepmind.xml",
             "section": "labs"},
            {"id": "arxiv-ai", "kind": "arxiv", "name": "arXiv cs.CL", "categories": ["cs.CL"],
             "url": f"{base_url}/arxiv/rss/", "api_url": f"{base_url}/arxiv/api/query", "section": "papers"},
            {"id": "x-karpathy", "kind": "x", "name": "@karpathy", "handle": "karpathy",
             "api_url": f"{base_url}/x/2", "section": "x"},
        ],
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def feed_entries(name: str, source_id: str, now: datetime = MORNING):
    return parse_feed((FIXTURES / "feeds" / name).read_bytes(), source_id=source_id,
                      base_url="https://example.com/", now=now).entries


def paper_entries(now: datetime = MORNING):
    return parse_listing((FIXTURES / "arxiv" / "arxiv-listing-cs.CL-2024-07-19.rss.xml").read_bytes(),
                         source_id="arxiv-ai", now=now).entries


def seed(app: App, *, labs: int = 4, papers: int = 4, now: datetime = MORNING) -> None:
    """Real items: the newest OpenAI posts, a DeepMind post, arXiv papers, and @karpathy's post
    pointing at the vocabulary paper (a mention across sources)."""
    with transaction(app.conn):
        upsert_entries(app.conn, "openai", feed_entries("openai-news-rss-2025-07-28.xml", "openai", now)[:labs], now)
        upsert_entries(app.conn, "deepmind", feed_entries("google-deepmind-blog-rss-2025-07.xml", "deepmind", now)[:1],
                       now)
        upsert_entries(app.conn, "arxiv-ai", paper_entries(now)[:papers], now)
        upsert_entries(app.conn, "x-karpathy", [], now, extra_mentions=[(VOCABULARY_PAPER, KARPATHY_POST)])


def add_curator(app: App, name: str = CURATOR, password: str = PASSWORD) -> None:
    with transaction(app.conn):
        user_store.create_user(app.conn, name, user_store.hash_password(password, n=2**10), app.clock())


class EditorServer:
    """The real editor app under uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.asgi = create_web_app(app)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(self.asgi, log_level="warning", lifespan="on", proxy_headers=True,
                                forwarded_allow_ips="127.0.0.1")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def start(self) -> EditorServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the editor did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(15)
        self._socket.close()


@dataclass
class Editor:
    server: EditorServer
    app: App
    clock: Clock
    db_path: Path

    @property
    def url(self) -> str:
        return self.server.base_url

    def reader(self):
        """A second connection, as another process would have, to check what was stored."""
        return connect(self.db_path)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)


@pytest.fixture
def editor(tmp_path, server):
    """editor(**config) -> Editor: config from write_editor_config, pointing at the loopback
    SnapshotServer `server`; seeded with real items and one curator."""
    running: list[EditorServer] = []
    apps: list[App] = []

    def start(*, seeded: bool = True, labs: int = 4, papers: int = 4, **config) -> Editor:
        clock = Clock(MORNING)
        path = write_editor_config(tmp_path / "sources.yaml", server.base_url, **config)
        app = build_app(tmp_path / "editor.db", path, environ={}, clock=clock)
        apps.append(app)
        if seeded:
            seed(app, labs=labs, papers=papers)
        add_curator(app)
        editor_server = EditorServer(app).start()
        running.append(editor_server)
        return Editor(server=editor_server, app=app, clock=clock, db_path=tmp_path / "editor.db")

    yield start
    for editor_server in running:
        editor_server.stop()
    for app in apps:
        app.close()


def login(client: httpx.Client, name: str = CURATOR, password: str = PASSWORD) -> str:
    """Log in through the form; return the session's CSRF token."""
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
    answer = client.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/queue"})
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/queue").text)


def csrf_of(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', page)[1]


def browser_login(page, base_url: str, name: str = CURATOR, password: str = PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")


def item_id(conn, key: str) -> int:
    return conn.execute("SELECT id FROM items WHERE key = ?", (key,)).fetchone()[0]


XSS_TITLE = '<script>window.__xss = "title"</script>Evil <b>title</b>'
XSS_SUMMARY = ('<img src="https://example.com/x.png" onerror="window.__xss = \'img\'">'
               '<a href="javascript:window.__xss = \'link\'">click me</a>'
               '<svg onload="window.__xss = \'svg\'"></svg><p onclick="alert(1)">악성 요약</p>')


def statuses(editor_) -> dict[str, str]:
    with editor_.reader() as conn:
        return dict(conn.execute("SELECT key, status FROM items").fetchall())


def snapshot(editor_) -> dict:
    """Everything a curator action could change."""
    conn = editor_.reader()
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in
                ("items", "item_tags", "mentions", "drafts", "picks", "related_links", "triage_log")}
    finally:
        conn.close()
