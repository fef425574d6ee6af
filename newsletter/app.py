"""The composition root: the one place that builds the store, the HTTP client, the SMTP
sender, the email templates and the scheduler's jobs from configuration. Everything else
receives them."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import httpx
import jinja2

from . import archive
from .collect import stop_parsers
from .collect.http import HttpClient
from .config import Settings, load_settings
from .errors import ConfigError, MailError
from .flows import collecting as pipeline
from .flows import drafts, history
from .flows import rank as ranking
from .flows import send as sending
from .flows.curate import Curation
from .flows.jobs import Jobs
from .flows.subscribe import Subscriptions
from .mail.confirm import ConfirmMail
from .mail.smtp import SmtpPool, parse_smtp_url
from .mail.tokens import Tokens
from .model import Delivery, Issue, RenderedIssue, SourceResult
from .render import EmailRenderer
from .sections import sections_of
from .store import connect, model_drafts
from .store import ranking as ranking_store

log = logging.getLogger("newsletter.app")

DEFAULT_DB = "data/newsletter.db"
DEFAULT_CONFIG = "sources.yaml"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class App:
    settings: Settings
    conn: sqlite3.Connection
    db_path: Path
    clock: Callable[[], datetime] = field(default=utc_now)

    def http(self, transport: httpx.AsyncBaseTransport | None = None) -> HttpClient:
        """The polite HTTP client; `transport` lets the editor vet every address it dials."""
        return HttpClient(self.settings.collect, self.settings.newsletter.contact, transport=transport)

    async def collect(self, only: Sequence[str] = (),
                      on_result: Callable[[SourceResult], None] | None = None) -> pipeline.CollectReport:
        async with self.http() as http:
            report = await pipeline.collect_all(self.settings, self.conn, http, clock=self.clock,
                                                only=only, on_result=on_result)
        if report.new:
            try:  # in a worker thread: the web app's event loop keeps answering meanwhile
                await asyncio.to_thread(self.rescore)
            except Exception:  # a ranking failure never fails the collect: the old scores stay
                log.exception("rescoring after the collect failed")
            if self.settings.llm.enabled and self.settings.llm.predraft_top:
                try:  # the collect is stored already; drafts are a bonus, their failures noted per item
                    await self.predraft(self.settings.llm.predraft_top)
                except Exception:
                    log.exception("pre-drafting after the collect failed")
        return report

    # --- model drafts of commentary (flows/drafts.py) ---
    async def draft(self, item_id: int) -> model_drafts.ModelDraft:
        async with self.http() as http:
            return await drafts.draft(self.conn, self.settings, http, item_id, self.clock())

    async def predraft(self, top: int) -> dict[int, str]:
        """Drafts for the `top` best-ranked waiting items that have none; {item id: error}."""
        ranked = ranking_store.top_waiting(self.conn, self.clock(), top)
        async with self.http() as http:
            return await drafts.predraft(self.conn, self.settings, http, ranked, self.clock())

    async def import_history(self, lines: Sequence[history.HistoryLine], bad: Sequence[history.BadLine] = (), *,
                             on_progress: Callable[[int], None] | None = None) -> history.HistoryReport:
        """Past picks as published items (flows/history.py), then a rescore with them."""
        async with self.http() as http:
            report = await history.import_history(self.conn, self.settings, http, lines, self.clock(), bad=bad,
                                                  on_progress=on_progress)
        if report.imported:
            await asyncio.to_thread(self.rescore)
        return report

    # --- the ranker (flows/rank.py) ---
    def rescore(self) -> ranking.RankReport:
        """Score every waiting item from the curator's decisions, on a connection of its own."""
        with self.own_connection() as conn:
            return ranking.rescore(conn, self.clock(), self.settings.newsletter.zone)

    @cached_property
    def rescorer(self) -> ranking.Rescorer:
        """Rescoring off the request path after each decision, one run at a time."""
        return ranking.Rescorer(self.rescore)

    # --- the curator's desk: triage, edits, drafts, picks (flows/curate.py) ---
    @cached_property
    def desk(self) -> Curation:
        return Curation(self.conn, sections_of(self.settings), self.settings.newsletter.zone, self.clock,
                        on_decision=self.rescorer.request)

    # --- templates (the shipped ones, config.TEMPLATES_DIR, or newsletter.templates_dir's) and
    # signed tokens ---
    @cached_property
    def email(self) -> EmailRenderer:
        """The email templates (templates/email/), loaded once per app."""
        return EmailRenderer(self.settings.templates("email"))

    @cached_property
    def confirm_mail(self) -> ConfirmMail:
        return ConfirmMail(self.settings.newsletter, self.settings.templates("email"))

    @cached_property
    def archive_templates(self) -> archive.ArchiveTemplates:
        return archive.ArchiveTemplates(self.settings.templates("archive"), self.settings.templates("email"))

    @cached_property
    def web_templates(self) -> jinja2.Environment:
        """The editor's and public pages' templates (templates/web/, with templates/email/ behind
        it for the words the email uses: section titles); web/ adds its filters."""
        templates = self.settings.templates
        return jinja2.Environment(loader=jinja2.FileSystemLoader([templates("web"), templates("email")]),
                                  autoescape=True,
                                  undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    @property
    def web_static_dir(self) -> Path:
        return self.settings.templates("web") / "static"

    @cached_property
    def tokens(self) -> Tokens:
        """Signed confirm/unsubscribe tokens (ConfigError without NEWSLETTER_SECRET)."""
        return Tokens(self.settings.secret_key)

    # --- connections of their own, for worker threads ---
    @contextmanager
    def own_connection(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection to the same database, closed on exit: work in a worker thread
        never mixes its commits with a web request's transaction."""
        conn = connect(self.db_path)
        try:
            yield conn
        finally:
            conn.close()

    # --- the SMTP sender and the subscriber flows ---
    def smtp_pool(self, size: int | None = None) -> SmtpPool:
        """A new pool of connections to NEWSLETTER_SMTP_URL (ConfigError if unset), sized and
        paced by the mail settings; connections open on first use. The caller closes it."""
        mail = self.settings.mail
        return SmtpPool(parse_smtp_url(self.settings.smtp_url), size=size or mail.pool_size,
                        rate_per_second=mail.rate_per_second, retry_base_seconds=mail.retry_base_seconds)

    @cached_property
    def mailer(self) -> SmtpPool:
        """One reused connection for one-off mail (confirmations), closed with the app."""
        return self.smtp_pool(size=1)

    @cached_property
    def subscriptions(self) -> Subscriptions:
        """subscribe / confirm / unsubscribe for the public pages (ConfigError without NEWSLETTER_SECRET).
        The SMTP sender is built on the first confirmation mail, not here: confirming and
        unsubscribing (RFC 8058 one-click included) never depend on the mail server's settings."""
        return self.subscriptions_on(self.conn)

    def subscriptions_on(self, conn: sqlite3.Connection) -> Subscriptions:
        """The subscriber flows over `conn` (e.g. one of own_connection()), sharing the app's mailer."""
        return Subscriptions(conn, self.settings, self.tokens, self.confirm_mail,
                             _LazyMailer(self) if self.settings.smtp_url else None)

    def send_issue(self, issue: Issue, rendered: RenderedIssue | None = None, *, force_late: bool = False,
                   on_outcome: Callable[[Delivery, object], None] | None = None) -> sending.SendReport:
        """Send or resume `issue` through a fresh pool (see flows/send.py), on a connection
        of its own so its commits never mix with a web request's transaction. The send renders
        the issue itself (or takes its snapshot on a resume) unless `rendered` is given."""
        with self.own_connection() as conn, self.smtp_pool() as pool:
            return sending.send_issue(conn, self.settings, issue, pool, self.tokens, renderer=self.email,
                                      rendered=rendered, clock=self.clock, force_late=force_late,
                                      on_outcome=on_outcome)

    def send_test_copy(self, rendered: RenderedIssue, address: str) -> str:
        """One copy marked "[테스트]" to `address` (no delivery row, no state change), on a
        connection and an SMTP connection of its own (run it in a worker thread). Returns the
        server's reply; SubscriberError, MailError or ConfigError say why not."""
        with self.own_connection() as conn, self.smtp_pool(size=1) as pool:
            return sending.send_test(conn, self.settings, rendered, pool, self.tokens, address, now=self.clock())

    # --- the static archive of sent issues ---
    @property
    def archive_dir(self) -> Path:
        """Where the archive is built by default and what the web app serves at /archive:
        archive/ beside the database."""
        return archive.default_archive_dir(self.db_path)

    def build_archive(self, out_dir: str | os.PathLike | None = None, *,
                      previews: Sequence[date] = ()) -> archive.ArchiveReport:
        """Build or bring up to date the static archive (default: self.archive_dir); the
        issues dated `previews` are shown too, marked as previews, whatever their state."""
        return archive.build_archive(self.conn, self.settings, out_dir or self.archive_dir, self.clock(),
                                     templates=self.archive_templates, previews=previews)

    # --- the jobs `newsletter serve` runs, and their scheduler ---
    @cached_property
    def jobs(self) -> Jobs:
        """collect / send / archive as scheduled jobs; the send and archive jobs open their own
        connections (they run in a worker thread) and mail the curator through a fresh pool."""
        return Jobs(settings=self.settings, connect=lambda: connect(self.db_path), collect_sources=self.collect,
                    send_issue=self.send_issue, mail_pool=lambda: self.smtp_pool(size=1),
                    archive_templates=self.archive_templates,
                    archive_dir=self.archive_dir, clock=self.clock)

    def stop_workers(self) -> None:
        """End the collectors' parser processes; a server calls it as it stops (collect/)."""
        stop_parsers()

    def close(self) -> None:
        if "rescorer" in self.__dict__:
            self.rescorer.wait(timeout=30)
        if "mailer" in self.__dict__:  # only if one was opened
            self.mailer.close()
        self.conn.close()


class _LazyMailer:
    """App.mailer, built when the first message is handed over. An SMTP URL that cannot be
    used becomes a MailError for that message (subscribe reports it) instead of an error
    that would take down every public page."""

    def __init__(self, app: App):
        self.app = app

    def send_message(self, message: EmailMessage) -> str:
        try:
            mailer = self.app.mailer
        except ConfigError as e:
            raise MailError(f"cannot mail: {e}", recipient=str(message["To"] or "")) from e
        return mailer.send_message(message)


def build_app(db_path: str | os.PathLike = DEFAULT_DB, config_path: str | os.PathLike = DEFAULT_CONFIG,
              *, environ: Mapping[str, str] | None = None,
              clock: Callable[[], datetime] = utc_now) -> App:
    """Load and validate the config first (ConfigError), then open the database (StoreError;
    DatabaseDamaged when quick_check finds it corrupt: about 4 ms per MB, once per process)."""
    settings = load_settings(config_path, environ)
    return App(settings=settings, conn=connect(db_path, check=True), db_path=Path(db_path), clock=clock)
