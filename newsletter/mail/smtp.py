"""The SMTP side: NEWSLETTER_SMTP_URL, a pool of reused smtplib connections, a global rate.

    smtp://[user:pass@]host[:25]             plain (a relay on the same host or network)
    smtp+starttls://[user:pass@]host[:587]   STARTTLS, required: no fallback to plain text
    smtps://[user:pass@]host[:465]           TLS from the first byte
    query: ?timeout=30 (seconds), ?cafile=/path/ca.pem (trust a private CA), ?helo=name

A user name or password holding '@', ':' or '/' is percent-encoded in the URL.

`SmtpPool.send` sorts every outcome into three kinds, which the delivery loop acts on:
accepted (returns the server's reply), TransientFailure (a 4xx reply or a dropped connection:
try again later), PermanentFailure (a 5xx reply to this recipient or this message: give up).
What would fail every message alike (cannot connect, login refused, our sender refused)
raises MailError, which stops a send and leaves its pending rows for the next run.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from queue import Empty, LifoQueue
from typing import Callable

from ..config import SmtpConfig, parse_smtp_url  # noqa: F401 (parse_smtp_url: re-exported)
from ..errors import ConfigError, MailError
from .message import to_wire

_IDLE_CHECK_SECONDS = 30.0  # a connection idle longer than this is checked with NOOP first


class TransientFailure(Exception):
    """Try this message again later: a 4xx reply, or the connection dropped mid-message."""

    def __init__(self, reply: str):
        self.reply = reply
        super().__init__(reply)


class PermanentFailure(Exception):
    """Do not try this message again: a 5xx reply about this recipient or this message.
    `bad_address`: the server said the mailbox itself does not exist or cannot be (an
    enhanced status 5.1.x to RCPT TO), so the address should get no more mail."""

    def __init__(self, reply: str, *, bad_address: bool = False):
        self.reply = reply
        self.bad_address = bad_address
        super().__init__(reply)


def reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}"


_BAD_MAILBOX = re.compile(r"^5\d\d 5\.1\.\d{1,3}\b")  # 5.1.1 no such user, 5.1.2 bad domain, ...


def _failure(code: int, message: bytes | str, *, to_rcpt: bool = False) -> Exception:
    reply = reply_text(code, message)
    if 400 <= code < 500:
        return TransientFailure(reply)
    return PermanentFailure(reply, bad_address=to_rcpt and bool(_BAD_MAILBOX.match(reply)))


class RateLimiter:
    """At most `per_second` starts a second across all threads, evenly spaced (no bursts)."""

    def __init__(self, per_second: float, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / per_second
        self.monotonic = monotonic
        self.sleep = sleep
        self.lock = threading.Lock()
        self.next_slot = 0.0

    def wait(self) -> None:
        with self.lock:
            now = self.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


@dataclass
class _Connection:
    smtp: smtplib.SMTP
    last_used: float


class SmtpPool:
    """Up to `size` open connections, each reused for message after message; thread-safe.

    A connection that fails mid-message is thrown away and a fresh one opened for the next.
    """

    def __init__(self, config: SmtpConfig, *, size: int, rate_per_second: float,
                 ssl_context: ssl.SSLContext | None = None, connect_attempts: int = 3,
                 retry_base_seconds: float = 1.0):
        self.config = config
        self.size = max(1, size)
        self.limiter = RateLimiter(rate_per_second)
        try:
            self.ssl_context = ssl_context or ssl.create_default_context(cafile=config.cafile or None)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"cannot read cafile {config.cafile!r}: {e}", field="NEWSLETTER_SMTP_URL") from e
        self.connect_attempts = connect_attempts
        self.retry_base_seconds = retry_base_seconds
        self._idle: LifoQueue[_Connection] = LifoQueue()
        self._slots = threading.Semaphore(self.size)
        self._closed = False

    # -- connections -----------------------------------------------------------------------

    def _connect_once(self) -> smtplib.SMTP:
        c = self.config
        helo = c.helo or None
        if c.security == "tls":
            smtp = smtplib.SMTP_SSL(c.host, c.port, local_hostname=helo, timeout=c.timeout,
                                    context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(c.host, c.port, local_hostname=helo, timeout=c.timeout)
        try:
            smtp.ehlo_or_helo_if_needed()
            if c.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise MailError(f"{c.where} does not offer STARTTLS, which the URL requires")
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, c.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connect(self) -> smtplib.SMTP:
        """Open a connection, retrying a refused or timed-out connect with backoff; a refused
        login or TLS failure is final. Raises MailError."""
        where = self.config.where
        for attempt in range(1, self.connect_attempts + 1):
            try:
                return self._connect_once()
            except UnicodeEncodeError as e:  # smtplib sends credentials as ASCII only
                raise MailError(f"{where}: the SMTP user name and password must be ASCII "
                                "(smtplib cannot send others)") from e
            except smtplib.SMTPAuthenticationError as e:
                raise MailError(f"{where} refused the login for {self.config.username!r}: "
                                f"{reply_text(e.smtp_code, e.smtp_error)}") from e
            except ssl.SSLError as e:
                raise MailError(f"TLS with {where} failed: {e}") from e
            except (OSError, smtplib.SMTPException) as e:
                if attempt == self.connect_attempts:
                    raise MailError(f"cannot connect to {where} ({self.config.security}) after "
                                    f"{attempt} attempts: {e}") from e
                time.sleep(self.retry_base_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _acquire(self) -> _Connection:
        if self._closed:
            raise MailError("the SMTP pool is closed")
        self._slots.acquire()
        try:
            while True:
                try:
                    conn = self._idle.get_nowait()
                except Empty:
                    return _Connection(self._connect(), time.monotonic())
                if time.monotonic() - conn.last_used < _IDLE_CHECK_SECONDS or self._alive(conn.smtp):
                    return conn
                self._discard(conn)
        except BaseException:
            self._slots.release()
            raise

    def _alive(self, smtp: smtplib.SMTP) -> bool:
        try:
            return smtp.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def _release(self, conn: _Connection) -> None:
        conn.last_used = time.monotonic()
        self._idle.put(conn)
        self._slots.release()

    def _discard(self, conn: _Connection) -> None:
        try:
            conn.smtp.close()
        except OSError:
            pass

    # -- sending ---------------------------------------------------------------------------

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Send one message to one recipient at the pool's rate; return the server's reply.

        Raises TransientFailure, PermanentFailure (this message) or MailError (every message)."""
        self.limiter.wait()
        conn = self._acquire()
        try:
            reply = self._transact(conn.smtp, sender, recipient, data)
        except (TransientFailure, PermanentFailure):
            self._reset_or_discard(conn)
            raise
        except BaseException:
            self._discard(conn)
            self._slots.release()
            raise
        self._release(conn)
        return reply

    def _reset_or_discard(self, conn: _Connection) -> None:
        """After a refused message the session may go on (RSET); after a drop it may not."""
        try:
            if conn.smtp.sock is not None and conn.smtp.rset()[0] == 250:
                self._release(conn)
                return
        except (OSError, smtplib.SMTPException):
            pass
        self._discard(conn)
        self._slots.release()

    def _transact(self, smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> str:
        options = [f"SIZE={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        try:
            code, message = smtp.mail(sender, options)
            if code != 250:
                if 500 <= code < 600:
                    raise MailError(f"{self.config.where} refused our sender {sender}: "
                                    f"{reply_text(code, message)}")
                raise _failure(code, message)
            code, message = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise _failure(code, message, to_rcpt=True)
            try:
                code, message = smtp.data(data)
            except smtplib.SMTPDataError as e:  # DATA itself refused
                raise _failure(e.smtp_code, e.smtp_error) from e
            if code != 250:
                raise _failure(code, message)
            return reply_text(code, message)
        except OSError as e:  # smtplib's errors, resets, timeouts: the session is lost
            smtp.close()  # never reuse a connection whose state we no longer know
            raise TransientFailure(f"connection dropped: {type(e).__name__}: {e}".rstrip(": ")) from e

    def send_message(self, message: EmailMessage) -> str:
        """Send a one-off message (a confirmation) to its To address, from its From address."""
        sender = message["From"].addresses[0].addr_spec
        recipient = message["To"].addresses[0].addr_spec
        try:
            return self.send(sender, recipient, to_wire(message))
        except (TransientFailure, PermanentFailure) as e:
            raise MailError(f"not accepted: {e.reply}", recipient=recipient) from e

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                conn = self._idle.get_nowait()
            except Empty:
                return
            try:
                conn.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._discard(conn)

    def __enter__(self) -> SmtpPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
