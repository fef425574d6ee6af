"""The editor as the web tests drive it: the real app (support.apps) under uvicorn on loopback
(support.server), a real SQLite file, items seeded from the real fixtures and one curator; for
the public pages and sending, a real aiosmtpd sink for its mail (support.smtp) and site_url
pointing at the editor itself, so the links in its mails open the real pages. The conftest
fixtures `editor` and `mail_editor` start them with Editors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx

from newsletter.app import App
from newsletter.store import connect

from support.apps import CURATOR, PASSWORD, add_curator, app_for, seed
from support.clock import MORNING, Clock
from support.net import loopback_socket
from support.server import AppServer
from support.smtp import SmtpSink

XSS_TITLE = '<script>window.__xss = "title"</script>Evil <b>title</b>'
XSS_SUMMARY = ('<img src="https://example.com/x.png" onerror="window.__xss = \'img\'">'
               '<a href="javascript:window.__xss = \'link\'">click me</a>'
               '<svg onload="window.__xss = \'svg\'"></svg><p onclick="alert(1)">악성 요약</p>')


@dataclass
class Editor:
    server: AppServer
    app: App
    clock: Clock
    db_path: Path
    sink: SmtpSink | None = None
    timeout: float = 10

    @property
    def url(self) -> str:
        return self.server.base_url

    def reader(self):
        """A second connection, as another process would have, to check what was stored."""
        return connect(self.db_path)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=self.timeout, **kwargs)

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


class Editors:
    """Starts editors in one test's directory and stops them all at close()."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._started: list[tuple[Editor, bool]] = []

    def editor(self, base_url: str, *, seeded: bool = True, labs: int = 4, papers: int = 4,
               allow_private: bool = False, secure_cookies: bool = True, login_attempts: int = 10,
               llm: dict | None = None, environ: dict | None = None) -> Editor:
        """The editor preset's sources on `base_url` (the loopback SnapshotServer); `llm`: the
        model settings (a support.llm.ChatStandIn's base_url), `environ` its key."""
        web = {"allow_private_urls": allow_private, "secure_cookies": secure_cookies,
               "login_attempts_per_15_min": login_attempts}
        return self._start("editor", None, seeded=seeded, labs=labs, papers=papers, base_url=base_url, web=web,
                           llm=llm, environ=environ)

    def mail_editor(self, *, site_url: str | None = None, smtp: bool = True, secret: bool = True,
                    web: dict | None = None, mail: dict | None = None) -> Editor:
        """site_url defaults to the editor's own address; its mail goes to a fresh SmtpSink."""
        bound = loopback_socket()
        sink = SmtpSink().__enter__() if smtp else None
        return self._start("mail_editor", sink, bound=bound, environ=None if secret else {}, timeout=20,
                           newsletter={"site_url": site_url or f"http://127.0.0.1:{bound.getsockname()[1]}"},
                           web=web, mail=mail)

    def _start(self, preset: str, sink, *, seeded: bool = True, labs: int = 4, papers: int = 4, bound=None,
               timeout: float = 10, **config) -> Editor:
        clock = Clock(MORNING)
        app = app_for(self.directory, preset, sink, clock=clock, **config)
        if seeded:
            seed(app, labs=labs, papers=papers)
        add_curator(app)
        server = AppServer(app, bound=bound).start()
        started = Editor(server=server, app=app, clock=clock, db_path=app.db_path, sink=sink, timeout=timeout)
        self._started.append((started, preset == "mail_editor"))
        return started

    def close(self) -> None:
        for started, sends_mail in self._started:
            if sends_mail:
                started.send_jobs().wait_all(timeout=30)
            started.server.stop()
            started.app.close()
            if started.sink is not None:
                started.sink.__exit__(None, None, None)


def login(client: httpx.Client, name: str = CURATOR, password: str = PASSWORD) -> str:
    """Log in through the form; return the session's CSRF token."""
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
    answer = client.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/queue"})
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/queue").text)


def csrf_of(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)"', page)[1]


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


def confirm_link(received) -> str:
    """The confirm URL in an opt-in mail's text part."""
    text = received.message.get_body(("plain",)).get_content()
    return next(line.strip() for line in text.splitlines() if "/confirm/" in line)


def unsubscribe_link(received) -> str:
    """The List-Unsubscribe URL of a sent issue, without its angle brackets."""
    return received.message["List-Unsubscribe"].strip()[1:-1]
