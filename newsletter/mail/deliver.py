"""The delivery loop: work through an issue's pending deliveries with a pool of SMTP workers.

The loop knows its collaborators only by the small Protocols below (the store's
IssueDeliveries, the SmtpPool, the send pipeline's message factory), so it can be driven by
anything that keeps those promises.

Per delivery, in this order: check the subscriber still wants it (else withdraw the row),
build the message, send it, record the outcome and only then take the next row. A row is
marked sent right after the server accepts it, so at any moment each worker holds at most one
message that the server may have accepted but the ledger does not yet show as sent. Killing
the process can therefore re-send at most `workers` messages on the next run (the
duplicate bound, documented in newsletter/send.py and the README).

Outcomes: accepted -> sent. TransientFailure (4xx, dropped connection) -> stays pending with
attempts counted and a retry after retry_base_seconds x 2^(attempts-1), or failed once
max_attempts is reached. PermanentFailure (5xx) -> failed, the reply kept; if it said the mailbox does not exist
(5.1.x to RCPT TO), the subscriber becomes bounced and gets no more issues. A MailError (the
server cannot be reached, refuses our login or sender) stops the loop: every row not yet
sent stays pending for the next run.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Callable, Protocol, Sequence

from ..errors import MailError
from ..model import Delivery
from .smtp import PermanentFailure, TransientFailure


class DeliveryQueue(Protocol):
    def due(self, after_id: int, now: datetime, limit: int) -> Sequence[Delivery]: ...
    def still_wanted(self, delivery: Delivery) -> bool: ...
    def skip(self, delivery: Delivery) -> None: ...
    def mark_sent(self, delivery: Delivery, reply: str, now: datetime) -> None: ...
    def mark_deferred(self, delivery: Delivery, reply: str, retry_at: datetime) -> None: ...
    def mark_failed(self, delivery: Delivery, reply: str, now: datetime, *, bounced: bool = False) -> None: ...
    def next_attempt_at(self, now: datetime) -> datetime | None: ...


class Transport(Protocol):
    def send(self, sender: str, recipient: str, data: bytes) -> str: ...


class MessageFactory(Protocol):
    def __call__(self, delivery: Delivery) -> bytes: ...


class Outcome(StrEnum):
    SENT = "sent"
    DEFERRED = "deferred"  # transient failure, will be retried
    FAILED = "failed"
    SKIPPED = "skipped"  # the subscriber left before their message went


@dataclass
class Tally:
    """What one run of the loop did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


@dataclass(frozen=True)
class Policy:
    sender: str  # the envelope sender (MAIL FROM)
    workers: int  # = the pool size: one message in flight per worker
    max_attempts: int
    retry_base_seconds: float
    batch: int = 200


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """Backoff after the n-th failed attempt: base, 2 x base, 4 x base, ..."""
    return timedelta(seconds=base_seconds * 2 ** max(0, attempts - 1))


def deliver_one(delivery: Delivery, ledger: DeliveryQueue, transport: Transport, build: MessageFactory,
                policy: Policy, clock: Callable[[], datetime]) -> Outcome:
    if not ledger.still_wanted(delivery):
        ledger.skip(delivery)
        return Outcome.SKIPPED
    try:
        data = build(delivery)
    except MailError as e:  # this recipient's message cannot be built: theirs alone fails
        ledger.mark_failed(delivery, f"not sent: {e}", clock())
        return Outcome.FAILED
    try:
        reply = transport.send(policy.sender, delivery.email, data)
    except PermanentFailure as e:
        ledger.mark_failed(delivery, e.reply, clock(), bounced=e.bad_address)
        return Outcome.FAILED
    except TransientFailure as e:
        attempts = delivery.attempts + 1
        if attempts >= policy.max_attempts:
            ledger.mark_failed(delivery, f"gave up after {attempts} attempts: {e.reply}", clock())
            return Outcome.FAILED
        ledger.mark_deferred(delivery, e.reply, clock() + retry_delay(attempts, policy.retry_base_seconds))
        return Outcome.DEFERRED
    ledger.mark_sent(delivery, reply, clock())
    return Outcome.SENT


def deliver_all(ledger: DeliveryQueue, transport: Transport, build: MessageFactory, policy: Policy, *,
                clock: Callable[[], datetime], sleep: Callable[[float], None],
                on_outcome: Callable[[Delivery, Outcome], None] | None = None) -> Tally:
    """Deliver every pending row, retrying transient failures, until none is left pending.

    Raises MailError (after the workers have stopped) if the server became unusable."""
    tally = Tally()
    tally_lock = threading.Lock()
    jobs: queue.Queue[Delivery | None] = queue.Queue(maxsize=policy.workers * 2)
    stop = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        while (delivery := jobs.get()) is not None:
            try:
                if not stop.is_set():
                    outcome = deliver_one(delivery, ledger, transport, build, policy, clock)
                    with tally_lock:
                        tally.add(outcome)
                    if on_outcome:
                        on_outcome(delivery, outcome)
            except BaseException as e:  # MailError, or a bug: stop everyone, report it once
                errors.append(e)
                stop.set()
            finally:
                jobs.task_done()
        jobs.task_done()

    workers = [threading.Thread(target=work, name=f"smtp-worker-{n}", daemon=True)
               for n in range(policy.workers)]
    for worker in workers:
        worker.start()
    try:
        while not stop.is_set():
            started = clock()
            after = 0
            while not stop.is_set() and (batch := ledger.due(after, started, policy.batch)):
                for delivery in batch:
                    if stop.is_set():
                        break
                    jobs.put(delivery)
                after = batch[-1].id
            jobs.join()  # every row of this pass has an outcome before we look again
            if stop.is_set():
                break
            wake = ledger.next_attempt_at(clock())
            if wake is None:
                break
            delay = (wake - clock()).total_seconds()
            if delay > 0:
                sleep(delay)
    except BaseException:  # Ctrl-C or a failing ledger: let the workers drop what is queued
        stop.set()
        raise
    finally:
        for _ in workers:
            jobs.put(None)
        for worker in workers:
            worker.join()
    if errors:
        raise errors[0]
    return tally
