"""Sending an issue (pipeline layer): deadline, delivery rows, the delivery loop, the issue's state.

    send_issue(conn, settings, issue, transport, tokens, renderer=, clock=)  the real send; resumable;
                                   renders the issue itself (or takes its snapshot on a resume)
    plan_send(conn, settings, issue, now)                               what a send would do (--dry-run)
    send_test(conn, settings, rendered, transport, tokens, address, now) one copy to one address
    delivery_report(conn, issue)                                        sent / failed / pending

Order of a send: take the issue's send lock (one send of an issue at a time, across
processes: an flock beside the database, released by the OS if the process dies); refuse a
draft, a sent issue, an issue with nobody to send to, or any start after the deadline (the
issue date's local midnight + mail.deadline_hours) unless forced; write one pending delivery
row per active subscriber (UNIQUE per issue and subscriber, Message-ID fixed in the row), store
the render as the issue's snapshot (store.snapshots) and move the issue to `sending`, in one
transaction, BEFORE the first message; then work through the pending rows (mail.deliver); when
no row is left pending, mark the issue `sent` and its items published.

A send of an issue already `sending` is a resume: it writes no new rows (who subscribed since
gets nothing), mails the stored snapshot rather than the render it was handed, and with no row
pending just finishes the issue, deadline or not.

Crash safety and the duplicate bound. A row is marked sent (its own commit) right after the
server accepts its message, and a worker takes its next row only after that. Killing the
process at any moment and running the send again therefore finishes the issue, never mails
anyone whose row is marked sent, and re-sends only messages that were in flight at the kill:
at most one per SMTP connection, i.e. at most `mail.pool_size` duplicates per crash (each
carrying the same Message-ID as the first copy, so many mailbox providers fold them).
Someone who unsubscribes during a send is checked right before their message is built and
gets nothing more (their pending row is withdrawn).
"""

from __future__ import annotations

import fcntl
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from email.message import EmailMessage
from email.utils import make_msgid
from enum import StrEnum
from typing import Callable, Iterator

from ..config import Settings
from ..errors import ConfigError, MailError, SendRefused
from ..mail.bulk import BulkMessage
from ..mail.deliver import (
    MessageFactory,
    Outcome,
    Policy,
    Tally,
    Transport,
    deliver_all,
)
from ..mail.message import Envelope, list_id_for, message_id_domain, to_wire
from ..mail.smtp import PermanentFailure, TransientFailure, parse_smtp_url
from ..mail.tokens import TokenPurpose, Tokens, link
from ..model import (
    UNSUBSCRIBE_PLACEHOLDER,
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    ItemStatus,
    RenderedIssue,
)
from ..render import EmailRenderer
from ..store import deliveries as delivery_store
from ..store import issues as issue_store
from ..store import items as item_store
from ..store import runs as run_store
from ..store import snapshots as snapshot_store
from ..store import subscribers as subscriber_store
from ..store import transaction
from ..store.db import database_file
from .compose import render_stored_issue

TEST_SUBJECT_PREFIX = "[테스트] "


def deadline(issue: Issue, settings: Settings) -> datetime:
    """The latest moment a send of this issue may start: its local midnight + deadline_hours."""
    midnight = datetime.combine(issue.issue_date, clock_time(0), tzinfo=settings.newsletter.zone)
    return midnight + timedelta(hours=settings.mail.deadline_hours)


class Refusal(StrEnum):
    """Why a send may not start: decided here once, worded by each face."""

    DRAFT = "draft"
    SENT = "sent"
    PAST_DEADLINE = "past_deadline"
    NO_SUBSCRIBERS = "no_subscribers"
    NO_SMTP = "no_smtp"  # NEWSLETTER_SMTP_URL unset
    BAD_SMTP = "bad_smtp"  # NEWSLETTER_SMTP_URL unusable
    NO_SECRET = "no_secret"  # NEWSLETTER_SECRET unset: no unsubscribe links
    PLACEHOLDERS = "placeholders"  # sender, site URL or postal address still as shipped


def refusal_code(issue: Issue, settings: Settings, now: datetime, *, force_late: bool = False) -> Refusal | None:
    if issue.status is IssueStatus.DRAFT:
        return Refusal.DRAFT
    if issue.status is IssueStatus.SENT:
        return Refusal.SENT
    if settings.newsletter.placeholder_refusal():
        return Refusal.PLACEHOLDERS
    if now > deadline(issue, settings) and not force_late:
        return Refusal.PAST_DEADLINE
    return None


def refusal(issue: Issue, settings: Settings, now: datetime, *, force_late: bool = False) -> str:
    """Why this issue may not be sent now, or '' if it may."""
    return refusal_text(refusal_code(issue, settings, now, force_late=force_late), issue, settings)


def refusal_text(code: Refusal | None, issue: Issue, settings: Settings) -> str:
    """The operator's wording of a refusal (the CLI's and the logs')."""
    if code is None:
        return ""
    if code is Refusal.DRAFT:
        return f"issue {issue.issue_date} is a draft; mark it ready first (`newsletter issue ready`)"
    if code is Refusal.SENT:
        return f"issue {issue.issue_date} was already sent"
    if code is Refusal.PAST_DEADLINE:
        local = deadline(issue, settings).astimezone(settings.newsletter.zone).strftime("%Y-%m-%d %H:%M %Z")
        return (f"issue {issue.issue_date} is past its deadline ({local}); a send never starts after it "
                "unless forced (--force-late)")
    if code is Refusal.PLACEHOLDERS:
        return settings.newsletter.placeholder_refusal()
    if code is Refusal.NO_SUBSCRIBERS:
        return f"issue {issue.issue_date}: there are no active subscribers; it stays {issue.status}"
    return {Refusal.NO_SMTP: "NEWSLETTER_SMTP_URL is not set", Refusal.BAD_SMTP: "NEWSLETTER_SMTP_URL is unusable",
            Refusal.NO_SECRET: "NEWSLETTER_SECRET is not set: unsubscribe links cannot be signed"}[code]


def mail_setup_refusal(settings: Settings) -> Refusal | None:
    """Whether this configuration can send at all (checked before any issue is looked at)."""
    if not settings.smtp_url:
        return Refusal.NO_SMTP
    try:
        parse_smtp_url(settings.smtp_url)
    except ConfigError:
        return Refusal.BAD_SMTP
    if not settings.secret_key:
        return Refusal.NO_SECRET
    return None


def unsubscribe_url(settings: Settings, tokens: Tokens, subscriber_id: int, wire_address: str) -> str:
    token = tokens.make(TokenPurpose.UNSUBSCRIBE, subscriber_id, wire_address)
    return link(settings.newsletter.site_url, "unsubscribe", token)


class IssueMessages:
    """The message factory for one issue: the one render, with each recipient's unsubscribe
    link put where the placeholder stands, in the body and in List-Unsubscribe. Copies are
    filled into a template the email package built (mail.bulk), byte for byte the same."""

    def __init__(self, settings: Settings, rendered: RenderedIssue, tokens: Tokens,
                 clock: Callable[[], datetime], *, subject_prefix: str = ""):
        n = settings.newsletter
        self.settings = settings
        self.tokens = tokens
        self.clock = clock
        self.bulk = BulkMessage(envelope=Envelope(n.sender_name, n.sender_email, reply_to=n.reply_to,
                                                  list_id=list_id_for(n.title, n.site_url)),
                                subject=subject_prefix + rendered.subject, text=rendered.text, html=rendered.html,
                                placeholder=UNSUBSCRIBE_PLACEHOLDER)

    def _fields(self, recipient: str, subscriber_id: int, message_id: str) -> dict:
        return dict(recipient=recipient, message_id=message_id,
                    date=self.clock().astimezone(self.settings.newsletter.zone),
                    unsubscribe_url=unsubscribe_url(self.settings, self.tokens, subscriber_id, recipient))

    def message(self, recipient: str, subscriber_id: int, message_id: str) -> EmailMessage:
        """The copy for one recipient, built by the email package alone."""
        return self.bulk.build(**self._fields(recipient, subscriber_id, message_id))

    def __call__(self, delivery: Delivery) -> bytes:
        return self.bulk.wire(**self._fields(delivery.email, delivery.subscriber_id, delivery.message_id))


@dataclass(frozen=True)
class SendReport:
    issue_id: int
    issue_date: str
    number: int
    status: IssueStatus  # the issue's state after this run
    counts: delivery_store.DeliveryCounts
    this_run: Tally = field(default_factory=Tally)
    failures: tuple[tuple[str, str], ...] = ()  # (address, server reply), first 50

    def as_json(self) -> dict:
        return {"issue_id": self.issue_id, "date": self.issue_date, "number": self.number,
                "status": self.status.value, **self.counts.as_json(),
                "this_run": {"sent": self.this_run.sent, "failed": self.this_run.failed,
                             "deferred": self.this_run.deferred, "skipped": self.this_run.skipped},
                "failures": [{"email": email, "reply": reply} for email, reply in self.failures]}


def delivery_report(conn: sqlite3.Connection, issue: Issue, this_run: Tally | None = None) -> SendReport:
    """The issue's sent / failed / pending counts and its failed addresses with their replies."""
    current = issue_store.get_issue(conn, issue.id) or issue
    failed = delivery_store.list_for_issue(conn, issue.id, status=DeliveryStatus.FAILED, limit=50)
    return SendReport(issue_id=issue.id, issue_date=issue.issue_date.isoformat(), number=issue.number,
                      status=current.status, counts=delivery_store.counts(conn, issue.id),
                      this_run=this_run or Tally(), failures=tuple((d.email, d.last_reply) for d in failed))


@dataclass(frozen=True)
class SendPlan:
    issue: Issue
    deadline: datetime
    refusal: str  # '' if a send may start now
    code: Refusal | None  # why not, for the faces to word
    new_rows: int  # active subscribers without a delivery row yet
    counts: delivery_store.DeliveryCounts  # rows already written (a resumed send)

    def as_json(self) -> dict:
        return {"issue_id": self.issue.id, "date": self.issue.issue_date.isoformat(),
                "number": self.issue.number, "status": self.issue.status.value,
                "deadline": self.deadline.isoformat(), "refused": self.refusal or None,
                "would_send": self.new_rows + self.counts.pending, "new_rows": self.new_rows,
                **self.counts.as_json()}


def plan_send(conn: sqlite3.Connection, settings: Settings, issue: Issue, now: datetime, *,
              force_late: bool = False) -> SendPlan:
    """What `send_issue` would do now, without writing or mailing anything."""
    issue = issue_store.get_issue(conn, issue.id) or issue
    counts = delivery_store.counts(conn, issue.id)
    if issue.status is IssueStatus.SENDING:
        # A started send's audience is the rows written before its first message: nobody who
        # subscribed since joins it. With none pending it only has to be marked sent, which
        # no deadline forbids: the mail has all gone out, only the bookkeeping was cut short.
        code = refusal_code(issue, settings, now, force_late=force_late) if counts.pending else None
        new_rows = 0
    else:
        new_rows = delivery_store.unplanned_recipients(conn, issue.id)
        code = refusal_code(issue, settings, now, force_late=force_late)
        if code is None and new_rows == 0 and counts.total == 0:  # a sent issue cannot go again: keep it
            code = Refusal.NO_SUBSCRIBERS
    return SendPlan(issue=issue, deadline=deadline(issue, settings), refusal=refusal_text(code, issue, settings),
                    code=code, new_rows=new_rows, counts=counts)


@contextmanager
def send_lock(conn: sqlite3.Connection, issue: Issue) -> Iterator[None]:
    """Hold the issue's send lock, or raise SendRefused if another send of it is running."""
    database = database_file(conn)
    if not database:  # an in-memory database has no other process to fear
        yield
        return
    with open(f"{database}.send-{issue.id}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise SendRefused(f"issue {issue.issue_date} is being sent by another process right now",
                              issue_id=issue.id) from e
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def send_issue(conn: sqlite3.Connection, settings: Settings, issue: Issue, transport: Transport,
               tokens: Tokens, *, renderer: EmailRenderer | None = None, rendered: RenderedIssue | None = None,
               clock: Callable[[], datetime], sleep: Callable[[float], None] = time.sleep,
               force_late: bool = False, build: MessageFactory | None = None,
               on_outcome: Callable[[Delivery, Outcome], None] | None = None) -> SendReport:
    """Send (or resume sending) `issue` to every active subscriber; see the module docstring.

    Raises SendRefused before writing anything if the issue may not go now, ConfigError if
    NEWSLETTER_SECRET is unset, MailError if the SMTP server became unusable (the rows not
    yet sent stay pending: run again to resume)."""
    with send_lock(conn, issue):
        return _send_locked(conn, settings, issue, renderer, rendered, transport, tokens, clock=clock, sleep=sleep,
                            force_late=force_late, build=build, on_outcome=on_outcome)


def _send_locked(conn, settings, issue, renderer, rendered, transport, tokens, *, clock, sleep, force_late, build,
                 on_outcome) -> SendReport:
    plan = plan_send(conn, settings, issue, clock(), force_late=force_late)
    issue = plan.issue
    if plan.refusal:
        raise SendRefused(plan.refusal, issue_id=issue.id, code=plan.code)
    starting = issue.status is IssueStatus.READY
    if not starting:
        # Resuming: what the first run froze goes out, whatever the items say now. (An issue
        # left sending by a version without snapshots has none: a render is all there is.)
        rendered = snapshot_store.get_snapshot(conn, issue) or rendered
    if rendered is None:
        if renderer is None:
            raise TypeError("send_issue needs a renderer or a rendered issue")  # a caller's bug
        rendered = render_stored_issue(settings, conn, issue, renderer)
    build = build or IssueMessages(settings, rendered, tokens, clock)
    if starting:
        with transaction(conn):
            delivery_store.create_for_issue(
                conn, issue.id, message_id_prefix=f"{issue.issue_date.isoformat()}.n{issue.number}",
                message_id_domain=message_id_domain(settings.newsletter.sender_email))
            snapshot_store.save_snapshot(conn, issue, rendered, clock())
            issue = issue_store.set_status(conn, issue.id, IssueStatus.SENDING, clock())
    run_id = run_store.start_run(conn, "send", clock())
    policy = Policy(sender=settings.newsletter.sender_email, workers=settings.mail.pool_size,
                    max_attempts=settings.mail.max_attempts,
                    retry_base_seconds=settings.mail.retry_base_seconds)
    try:
        tally = deliver_all(delivery_store.IssueDeliveries(conn, issue.id), transport, build, policy,
                            clock=clock, sleep=sleep, on_outcome=on_outcome)
    except BaseException as e:
        report = delivery_report(conn, issue)
        run_store.finish_run(conn, run_id, clock(), outcome="failed",
                             detail={"issue": issue.issue_date.isoformat(), **report.counts.as_json()},
                             error=f"{type(e).__name__}: {e}")
        raise
    if delivery_store.counts(conn, issue.id).pending == 0:
        finish_issue(conn, issue, clock())
    report = delivery_report(conn, issue, tally)
    outcome = "ok" if report.counts.failed == 0 else "partial"
    run_store.finish_run(conn, run_id, clock(), outcome=outcome, detail={
        "issue": issue.issue_date.isoformat(), **report.counts.as_json(), "skipped": tally.skipped})
    return report


def finish_issue(conn: sqlite3.Connection, issue: Issue, now: datetime) -> Issue:
    """sending -> sent, and the issue's items become published, together."""
    with transaction(conn):
        done = issue_store.set_status(conn, issue.id, IssueStatus.SENT, now)
        for item_id in done.item_ids:
            item = item_store.get_item(conn, item_id)
            if item is not None and item.status is ItemStatus.APPROVED:
                item_store.set_status(conn, item_id, ItemStatus.PUBLISHED, now)
    return done


def send_test(conn: sqlite3.Connection, settings: Settings, rendered: RenderedIssue, transport: Transport,
              tokens: Tokens, address: str, *, now: datetime) -> str:
    """Mail one copy, subject marked as a test, to `address`: no delivery row, no state
    change, no deadline. Its unsubscribe link is the subscriber's own if the address is one
    (so the flow can be tried), else a link that changes nothing. Returns the server's reply;
    raises SubscriberError for a bad address, MailError if it was not accepted."""
    wanted = subscriber_store.normalise_address(address)
    subscriber = subscriber_store.get_by_email(conn, wanted.email)
    factory = IssueMessages(settings, rendered, tokens, lambda: now,
                            subject_prefix=TEST_SUBJECT_PREFIX)
    message = factory.message(wanted.ascii, subscriber.id if subscriber else 0,
                              make_msgid("test", domain=message_id_domain(settings.newsletter.sender_email)))
    try:
        return transport.send(settings.newsletter.sender_email, wanted.ascii, to_wire(message))
    except (TransientFailure, PermanentFailure) as e:
        raise MailError(f"test message not accepted: {e.reply}", recipient=wanted.ascii) from e
