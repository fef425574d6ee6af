"""What the public pages call: subscribe (double opt-in), confirm, unsubscribe.

    subs = Subscriptions(conn, settings, tokens, confirm_mail, mailer)   (App.subscriptions_on builds it)
    subs.subscribe(email, ip, honeypot, now) -> SubscribeResult   the form's POST
    subs.check_confirm(token, now) -> LinkResult                  the confirm link's GET: changes nothing
    subs.confirm(token, now) -> LinkResult                        its POST (link scanners only GET)
    subs.check_unsubscribe(token, now) -> LinkResult              the unsubscribe link's GET
    subs.unsubscribe(token, now, how) -> LinkResult               its POST; how="one-click" for RFC 8058

Outcomes are values, not exceptions: each is a page to show. The honeypot and both rate
limits are checked before anything is written or mailed. A page should show HONEYPOT and
ALREADY_ACTIVE exactly like CONFIRMATION_SENT, so the form tells a bot nothing and tells
no one whether an address is subscribed.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol

from ..config import Settings
from ..errors import MailError, SubscriberError
from ..mail.confirm import ConfirmMail
from ..mail.tokens import BadToken, TokenProblem, TokenPurpose, Tokens, link
from ..model import Subscriber, SubscriberStatus
from ..store import subscribers as subscriber_store
from ..store import transaction

S = SubscriberStatus
ATTEMPT_LOG_DAYS = 2  # attempts older than this are deleted: long enough for the daily limit


class Mailer(Protocol):
    def send_message(self, message: EmailMessage) -> str: ...


class SubscribeOutcome(StrEnum):
    CONFIRMATION_SENT = "confirmation_sent"
    ALREADY_ACTIVE = "already_active"  # nothing written or mailed; show as CONFIRMATION_SENT
    HONEYPOT = "honeypot"  # nothing written or mailed; show as CONFIRMATION_SENT
    INVALID_ADDRESS = "invalid_address"
    RATE_LIMITED = "rate_limited"
    MAIL_FAILED = "mail_failed"  # the subscriber is pending; they may try again later


@dataclass(frozen=True)
class SubscribeResult:
    outcome: SubscribeOutcome
    email: str  # the normalised address ('' when it was not valid)
    detail: str = ""  # for the operator's log, never for the page

    @property
    def looks_sent(self) -> bool:
        """What the visitor may be told: 'check your inbox'."""
        return self.outcome in (SubscribeOutcome.CONFIRMATION_SENT, SubscribeOutcome.ALREADY_ACTIVE,
                                SubscribeOutcome.HONEYPOT)


class LinkOutcome(StrEnum):
    VALID = "valid"  # check_*: the link is good; show the page with its button
    DONE = "done"  # confirmed / unsubscribed just now
    ALREADY = "already"  # it was already so; nothing changed
    EXPIRED = "expired"  # a confirm link older than CONFIRM_TOKEN_DAYS
    INVALID = "invalid"  # forged, altered, for another address, or no longer meaningful


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    subscriber: Subscriber | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in (LinkOutcome.VALID, LinkOutcome.DONE, LinkOutcome.ALREADY)


def wire_address(subscriber: Subscriber) -> str:
    return subscriber_store.normalise_address(subscriber.email).ascii


class Subscriptions:
    def __init__(self, conn: sqlite3.Connection, settings: Settings, tokens: Tokens, confirm_mail: ConfirmMail,
                 mailer: Mailer | None = None):
        self.conn = conn
        self.settings = settings
        self.tokens = tokens
        self.confirm_mail = confirm_mail
        self.mailer = mailer

    # -- subscribing -------------------------------------------------------------------------

    def _ip_hash(self, ip: str) -> str:
        return hmac.new(self.settings.secret_key.encode(), b"ip:" + (ip or "").encode(),
                        hashlib.sha256).hexdigest()[:32]

    def subscribe(self, email: str, ip: str, honeypot: str, now: datetime) -> SubscribeResult:
        """The subscribe form: a new or returning address becomes pending and gets the
        confirmation mail. Honeypot, syntax and rate limits come before any write or mail."""
        if (honeypot or "").strip():
            return SubscribeResult(SubscribeOutcome.HONEYPOT, "", "honeypot field filled")
        try:
            address = subscriber_store.normalise_address(email)
        except SubscriberError as e:
            return SubscribeResult(SubscribeOutcome.INVALID_ADDRESS, "", str(e))
        limits = self.settings.web
        ip_hash = self._ip_hash(ip)
        with transaction(self.conn):
            by_ip = subscriber_store.attempts_since(self.conn, now - timedelta(hours=1), ip_hash=ip_hash)
            by_address = subscriber_store.attempts_since(self.conn, now - timedelta(days=1), email=address.email)
            if by_ip >= limits.subscribe_per_ip_per_hour or by_address >= limits.subscribe_per_address_per_day:
                return SubscribeResult(SubscribeOutcome.RATE_LIMITED, address.email,
                                       f"{by_ip} attempt(s) from this IP in the last hour, {by_address} for "
                                       "this address in the last day")
            subscriber_store.prune_attempts(self.conn, now - timedelta(days=ATTEMPT_LOG_DAYS))
            subscriber_store.record_attempt(self.conn, ip_hash, address.email, now)
            subscriber = subscriber_store.get_by_email(self.conn, address.email)
            if subscriber is not None and subscriber.status is S.ACTIVE:
                return SubscribeResult(SubscribeOutcome.ALREADY_ACTIVE, address.email)
            if subscriber is None:
                subscriber = subscriber_store.create(self.conn, address, S.PENDING, "form", now)
            else:
                subscriber = subscriber_store.set_status(self.conn, subscriber.id, S.PENDING, "form", now)
        try:
            self.send_confirmation(subscriber, now)
        except MailError as e:
            return SubscribeResult(SubscribeOutcome.MAIL_FAILED, address.email, str(e))
        return SubscribeResult(SubscribeOutcome.CONFIRMATION_SENT, address.email)

    def confirm_url(self, subscriber: Subscriber, now: datetime) -> str:
        token = self.tokens.make(TokenPurpose.CONFIRM, subscriber.id, wire_address(subscriber), now)
        return link(self.settings.newsletter.site_url, "confirm", token)

    def unsubscribe_url(self, subscriber: Subscriber) -> str:
        token = self.tokens.make(TokenPurpose.UNSUBSCRIBE, subscriber.id, wire_address(subscriber))
        return link(self.settings.newsletter.site_url, "unsubscribe", token)

    def send_confirmation(self, subscriber: Subscriber, now: datetime) -> str:
        """Mail the double opt-in message; raises MailError if it cannot go."""
        if self.mailer is None:
            raise MailError("no SMTP sender configured (NEWSLETTER_SMTP_URL)", recipient=subscriber.email)
        message = self.confirm_mail.build(email=subscriber.email, wire_address=wire_address(subscriber),
                                          confirm_url=self.confirm_url(subscriber, now), now=now)
        return self.mailer.send_message(message)

    # -- links -------------------------------------------------------------------------------

    def _holder(self, purpose: TokenPurpose, token: str, now: datetime) -> LinkResult:
        """The subscriber a token was made for, if it is genuine, current and still theirs."""
        try:
            claim = self.tokens.read(purpose, token, now)
        except BadToken as e:
            expired = e.problem is TokenProblem.EXPIRED
            return LinkResult(LinkOutcome.EXPIRED if expired else LinkOutcome.INVALID)
        subscriber = subscriber_store.get(self.conn, claim.subscriber_id)
        if subscriber is None or not self.tokens.matches(claim, wire_address(subscriber)):
            return LinkResult(LinkOutcome.INVALID)
        return LinkResult(LinkOutcome.VALID, subscriber)

    def check_confirm(self, token: str, now: datetime) -> LinkResult:
        found = self._holder(TokenPurpose.CONFIRM, token, now)
        if not found.ok:
            return found
        status = found.subscriber.status
        if status is S.ACTIVE:
            return LinkResult(LinkOutcome.ALREADY, found.subscriber)
        if status is not S.PENDING:  # they left or bounced since: an old link must not re-add them
            return LinkResult(LinkOutcome.INVALID, found.subscriber)
        return found

    def confirm(self, token: str, now: datetime) -> LinkResult:
        with transaction(self.conn):
            found = self.check_confirm(token, now)
            if found.outcome is not LinkOutcome.VALID:
                return found
            subscriber = subscriber_store.set_status(self.conn, found.subscriber.id, S.ACTIVE, "confirm", now)
        return LinkResult(LinkOutcome.DONE, subscriber)

    def check_unsubscribe(self, token: str, now: datetime) -> LinkResult:
        found = self._holder(TokenPurpose.UNSUBSCRIBE, token, now)
        if found.ok and found.subscriber.status is S.UNSUBSCRIBED:
            return LinkResult(LinkOutcome.ALREADY, found.subscriber)
        return found

    def unsubscribe(self, token: str, now: datetime, how: str = "page") -> LinkResult:
        """Unsubscribe the link's subscriber; idempotent. `how` is recorded: "one-click" for
        an RFC 8058 POST from a mail client, "page" for the button on our page."""
        with transaction(self.conn):
            found = self.check_unsubscribe(token, now)
            if found.outcome is not LinkOutcome.VALID:
                return found
            subscriber = subscriber_store.set_status(self.conn, found.subscriber.id, S.UNSUBSCRIBED, how, now)
        return LinkResult(LinkOutcome.DONE, subscriber)
