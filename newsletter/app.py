"""The composition root: the one place that builds the store, the HTTP client, the SMTP
sender, the email templates and the scheduler's jobs from configuration. Everything else
receives them."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Callable, Mapping, Sequence

import httpx

from . import archive
from .flows import collecting as pipeline
from .flows import send as sending
from .collect.http import HttpClient
from .config import Settings, load_settings
from .errors import ConfigError, MailError
from .flows.curate import Curation
from .flows.jobs import Jobs
from .sections import sections_of
from .mail.smtp import SmtpPool, parse_smtp_url
from .model import Delivery, Issue, RenderedIssue, SourceResult
from .render import EmailRenderer
from .store import connect
from .flows.subscribe import Subscriptions

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
            return await pipeline.collect_all(self.settings, self.conn, http, clock=self.clock,
                                              only=only, on_result=on_result)

    # --- the curator's desk: triage, edits, drafts, picks (flows/curate.py) ---
    @cached_property
    def desk(self) -> Curation:
        return Curation(self.conn, sections_of(self.settings), self.settings.newsletter.zone, self.clock)

    # --- the email templates (templates/email/), loaded once per app ---
    @cached_property
    def email(self) -> EmailRenderer:
        return EmailRenderer()

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
        return Subscriptions(self.conn, self.settings, _LazyMailer(self) if self.settings.smtp_url else None)

    def send_issue(self, issue: Issue, rendered: RenderedIssue, *, force_late: bool = False,
                   on_outcome: Callable[[Delivery, object], None] | None = None) -> sending.SendReport:
        """Send or resume `issue` through a fresh pool (see newsletter/send.py), on a connection
        of its own so its commits never mix with a web request's transaction."""
        conn = connect(self.db_path)
        try:
            with self.smtp_pool() as pool:
                return sending.send_issue(conn, self.settings, issue, rendered, pool, clock=self.clock,
                                          force_late=force_late, on_outcome=on_outcome)
        finally:
            conn.close()

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
                                     previews=previews)

    # --- the jobs `newsletter serve` runs, and their scheduler ---
    @cached_property
    def jobs(self) -> Jobs:
        """collect / send / archive as scheduled jobs; the send and archive jobs open their own
        connections (they run in a worker thread) and mail the curator through a fresh pool."""
        return Jobs(settings=self.settings, connect=lambda: connect(self.db_path), collect_sources=self.collect,
                    send_issue=self.send_issue, mail_pool=lambda: self.smtp_pool(size=1), renderer=self.email,
                    archive_dir=self.archive_dir, clock=self.clock)

    def close(self) -> None:
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
    """Load and validate the config first (ConfigError), then open the database (StoreError)."""
    settings = load_settings(config_path, environ)
    return App(settings=settings, conn=connect(db_path), db_path=Path(db_path), clock=clock)
