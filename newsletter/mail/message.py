"""Building messages: headers that follow the 2024 bulk-sender rules, parts the wire accepts.

Every message is an `email.message.EmailMessage` under `policy.SMTP`, so its bytes end lines
with CRLF: smtplib passes bytes through untouched, and bare LFs would arrive as one endless
"line" that a server refuses ("500 Line too long", RFC 5321 4.5.3.1.6). The email package
picks each part's transfer encoding; mjml-python's very long HTML lines and Hangul come out
as base64 (4 bytes a syllable, against 9 for quoted-printable), never longer than 78.

Header values never carry a line break: display text (subject, names) is folded onto one line
here, and anything that must be exact (addresses, URLs, Message-IDs) is refused with a
MailError if it holds one, so nothing a visitor or a template types can become a header.
Those exact, per-recipient values (To, Date, Message-ID, List-Unsubscribe) are checked ASCII
and set raw, one line each: left to the package, a long URL would come out as RFC 2047
encoded-words, which no client reads as a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from ..errors import MailError

_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x00\x85\u2028\u2029]+")
_UNSAFE_IN_URL = re.compile(r"[\s<>\"]")
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")


# policy.SMTP (CRLF), 7-bit clean (short Hangul lines would otherwise go as raw 8bit, which a
# relay without 8BITMIME may refuse or mangle), and headers set raw are written as they are.
_POLICY = policy.SMTP.clone(refold_source="none", cte_type="7bit")


def one_line(text: str) -> str:
    """Display text as one header line: line breaks and control whitespace become spaces."""
    return " ".join(_LINE_BREAKS.sub(" ", text or "").split())


def mailbox(name: str, email: str, *, field: str) -> Address:
    """An address with an optional display name (Hangul is RFC 2047 encoded on output).

    The address itself must be a plain ASCII dot-atom one (the wire form): anything else,
    a comma or a quote included, could smuggle a second recipient into the header."""
    local, _, domain = (email or "").rpartition("@")
    if not _LOCAL_PART.fullmatch(local) or not _DOMAIN.fullmatch(domain) or len(email) > 254:
        raise MailError(f"{field}: not a usable address {email!r}: expected local@domain in ASCII", recipient=email)
    try:
        return Address(display_name=one_line(name), username=local, domain=domain)
    except (ValueError, TypeError) as e:
        raise MailError(f"{field}: not a usable address {email!r}: {e}", recipient=email) from e


def checked_url(url: str, *, field: str) -> str:
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname or _UNSAFE_IN_URL.search(url)
            or len(url) > 900):  # it goes on one header line, at most 998 bytes
        raise MailError(f"{field}: not a usable http(s) URL: {url!r}")
    return url


@dataclass(frozen=True)
class Envelope:
    """What a message says about where it comes from; fixed for a whole send."""

    sender_name: str
    sender_email: str
    reply_to: str = ""
    list_id: str = ""  # 'Title <list.host>' (RFC 2919); empty for one-off mail

    @property
    def from_address(self) -> Address:
        return mailbox(self.sender_name, self.sender_email, field="newsletter.sender_email")


def list_id_for(title: str, site_url: str) -> str:
    """'AI 뉴스 <newsletter.news.example.com>': a stable list identifier under our own domain."""
    host = (urlsplit(site_url).hostname or "").strip(".").lower()
    if not host or len(host) > 60:  # longer would be folded into encoded-words
        raise MailError(f"newsletter.site_url needs a host of at most 60 characters: {site_url!r}")
    return f"{one_line(title)} <newsletter.{host}>"


def message_id_domain(sender_email: str) -> str:
    return sender_email.rpartition("@")[2].lower() or "localhost"


def build_message(*, envelope: Envelope, recipient: str, subject: str, text: str, html: str, date: datetime,
                  message_id: str = "", unsubscribe_url: str = "", boundary: str = "") -> EmailMessage:
    """A multipart/alternative (text, then HTML) message with every header the rules ask for.

    With `unsubscribe_url` it carries List-Unsubscribe (https, between angle brackets) and
    List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058) for a one-click POST.
    """
    message = EmailMessage(policy=_POLICY)
    try:
        # What differs per recipient is plain checked ASCII, set raw so it stays on one line
        # exactly as given (mail.bulk relies on that to fill copies in).
        message["From"] = envelope.from_address
        message.set_raw("To", mailbox("", recipient, field="To").addr_spec)
        message["Subject"] = one_line(subject)
        message.set_raw("Date", format_datetime(date))
        if message_id:
            if not _MESSAGE_ID.fullmatch(message_id) or len(message_id) > 250:
                raise MailError(f"not a usable Message-ID: {message_id!r}", recipient=recipient)
            message.set_raw("Message-ID", message_id)
        if envelope.reply_to:
            message["Reply-To"] = mailbox("", envelope.reply_to, field="newsletter.reply_to")
        if envelope.list_id:
            message["List-Id"] = one_line(envelope.list_id)
        if unsubscribe_url:
            # Raw, on one line: the email package would turn a URL longer than a header line
            # into RFC 2047 encoded-words, which no mail client reads as a URL.
            message.set_raw("List-Unsubscribe", f"<{checked_url(unsubscribe_url, field='unsubscribe URL')}>")
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(text, subtype="plain", charset="utf-8")
        message.add_alternative(html, subtype="html", charset="utf-8")
        if boundary:  # else the generator picks a random one
            message.set_boundary(boundary)
    except MailError:
        raise
    except (ValueError, TypeError) as e:  # the email package refuses CR/LF in any header
        raise MailError(f"cannot build the message: {e}", recipient=recipient) from e
    return message


def to_wire(message: EmailMessage) -> bytes:
    """The message as SMTP DATA: CRLF line ends, no line over 998 bytes."""
    return message.as_bytes(policy=_POLICY)
