"""Shared by test_web_public*.py and test_web_subscribers*.py (no tests here): the real editor
under uvicorn on loopback, a real aiosmtpd sink on loopback for its mail, NEWSLETTER_SECRET set,
and newsletter.site_url pointing at the editor itself, so the links in the mails it sends open
the real pages."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml

from newsletter.app import App, build_app
from newsletter.store import connect
from newsletter.web import create_web_app
from test_mail_sink import SECRET, SmtpSink
from test_web_support import MORNING, Clock, EditorServer, add_curator, seed, write_editor_config


class BoundEditorServer(EditorServer):
    """The editor under uvicorn on a socket bound beforehand, so site_url can name its port."""

    def __init__(self, app: App, bound: socket.socket) -> None:
        # not super().__init__(), which would bind a port of its own
        self.app = app
        self.asgi = create_web_app(app)
        self._socket = bound
        config = uvicorn.Config(self.asgi, log_level="warning", lifespan="on", proxy_headers=True,
                                forwarded_allow_ips="127.0.0.1")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [bound]}, daemon=True)


@dataclass
class MailEditor:
    server: EditorServer
    app: App
    clock: Clock
    sink: SmtpSink | None
    db_path: Path

    @property
    def url(self) -> str:
        return self.server.base_url

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=20, **kwargs)

    def reader(self):
        """A second connection, as another process would have, to check what was stored."""
        return connect(self.db_path)

    def subscriber(self, email: str) -> tuple | None:
        """(status, how) of the subscriber with this normalised address, as stored."""
        conn = self.reader()
        try:
            row = conn.execute("SELECT status, how FROM subscribers WHERE email = ? OR email_ascii = ?",
                               (email, email)).fetchone()
            return tuple(row) if row else None
        finally:
            conn.close()

    def written(self) -> dict:
        """Everything a subscribe, confirm or unsubscribe could write."""
        conn = self.reader()
        try:
            return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                    for table in ("subscribers", "subscriber_events", "subscribe_attempts")}
        finally:
            conn.close()

    def send_jobs(self):
        return self.server.asgi.state.send_jobs


def write_mail_editor_config(path: Path, site_url: str, *, web: dict | None = None, mail: dict | None = None) -> None:
    write_editor_config(path, secure_cookies=True)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["newsletter"].update({"title": "AI 뉴스", "site_url": site_url, "sender_name": "AI 뉴스 편집부",
                                 "sender_email": "news@example.com", "contact": "jisu@example.com"})
    config["web"].update(web or {})
    config["mail"] = {"pool_size": 2, "rate_per_second": 10_000.0, "max_attempts": 3, "retry_base_seconds": 0.01,
                      **(mail or {})}
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def mail_editor(tmp_path):
    """mail_editor(site_url=None, smtp=True, secret=True, web={...}, mail={...}) -> MailEditor:
    seeded with the real fixture items and one curator; its mail goes to a fresh SmtpSink."""
    running: list[tuple[EditorServer, App, SmtpSink | None]] = []

    def start(*, site_url: str | None = None, smtp: bool = True, secret: bool = True, web: dict | None = None,
              mail: dict | None = None) -> MailEditor:
        bound = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bound.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{bound.getsockname()[1]}"
        sink = SmtpSink().__enter__() if smtp else None
        write_mail_editor_config(tmp_path / "sources.yaml", site_url or base, web=web, mail=mail)
        environ = {"NEWSLETTER_SECRET": SECRET} if secret else {}
        if sink is not None:
            environ["NEWSLETTER_SMTP_URL"] = sink.url
        clock = Clock(MORNING)
        app = build_app(tmp_path / "editor.db", tmp_path / "sources.yaml", environ=environ, clock=clock)
        seed(app)
        add_curator(app)
        server = BoundEditorServer(app, bound).start()
        running.append((server, app, sink))
        return MailEditor(server=server, app=app, clock=clock, sink=sink, db_path=tmp_path / "editor.db")

    yield start
    for server, app, sink in running:
        server.asgi.state.send_jobs.wait_all(timeout=30)
        server.stop()
        app.close()
        if sink is not None:
            sink.__exit__(None, None, None)


def wait_for_mail(sink: SmtpSink, count: int, timeout: float = 15.0) -> None:
    """Mail is accepted by the sink in its own thread: wait until `count` messages came."""
    deadline = time.monotonic() + timeout
    while sink.count < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} message(s) in the sink, got {sink.count}")
        time.sleep(0.02)


def confirm_link(received) -> str:
    """The confirm URL in an opt-in mail's text part."""
    text = received.message.get_body(("plain",)).get_content()
    return next(line.strip() for line in text.splitlines() if "/confirm/" in line)


def unsubscribe_link(received) -> str:
    """The List-Unsubscribe URL of a sent issue, without its angle brackets."""
    return received.message["List-Unsubscribe"].strip()[1:-1]
