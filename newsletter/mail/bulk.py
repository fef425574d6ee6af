"""One issue, many recipients: the email package builds the message once, each copy is filled in.

Building a ~40 KB multipart message with the email package costs ~2.5 ms, most of it
encoding the same body again; at thousands of recipients that, not the server, would set
the pace. So `BulkMessage` lets `build_message` make a template per unsubscribe-URL length
(the URL's length decides the layout of quoted-printable lines) with stand-ins for what
differs per recipient, and then fills in the To, Message-ID, Date and List-Unsubscribe lines
and each body part: a quoted-printable, 7bit or 8bit part gets the URL written over the
stand-in's characters (the URL is URL-safe ASCII, so the encoder would have laid it out the
same way), a base64 part is re-encoded whole in C. The result is byte for byte what
`build_message` gives for that recipient (tests/test_mail_bulk.py holds it to that), at a
fraction of the cost.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from ..errors import MailError
from .message import Envelope, build_message, checked_url, mailbox, to_wire

_ALPHABET = string.ascii_letters + string.digits
_SOFT_BREAK = b"=\r\n"
_FIXED_HEADERS = ("To", "Message-ID", "Date")
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")


def header_line(name: str, value: str) -> bytes:
    """A header build_message sets raw: checked ASCII, on one line as it is."""
    return f"{name}: {value}\r\n".encode("ascii")


@dataclass(frozen=True)
class _Slot:
    """Where a stand-in sits in the template body, and where soft line breaks cut it."""

    start: int
    end: int
    cuts: tuple[int, ...]  # offsets into the URL after which '=\r\n' follows


@dataclass(frozen=True)
class _Base64Part:
    start: int
    end: int
    content: bytes  # the part's bytes before encoding, with the stand-in


@dataclass(frozen=True)
class _Template:
    head: tuple[bytes, ...]  # header block pieces around the per-recipient lines
    fields: tuple[str, ...]  # which per-recipient header goes after each head piece
    body: bytes
    stand_in: bytes
    slots: tuple[_Slot, ...]
    base64_parts: tuple[_Base64Part, ...]


class BulkMessage:
    def __init__(self, *, envelope: Envelope, subject: str, text: str, html: str, placeholder: str):
        self.envelope = envelope
        self.subject = subject
        self.text = text
        self.html = html
        self.placeholder = placeholder
        while True:  # fixed for the issue, so every copy shares the template's layout
            self.boundary = "===============" + "".join(secrets.choice(string.digits) for _ in range(19)) + "=="
            if self.boundary not in text and self.boundary not in html:
                break
        self._templates: dict[int, _Template] = {}

    def build(self, *, recipient: str, message_id: str, date: datetime, unsubscribe_url: str) -> EmailMessage:
        """The same message through the email package alone (the reference, and for one-offs)."""
        return build_message(envelope=self.envelope, recipient=recipient, subject=self.subject,
                             text=self.text.replace(self.placeholder, unsubscribe_url),
                             html=self.html.replace(self.placeholder, unsubscribe_url), date=date,
                             message_id=message_id, unsubscribe_url=unsubscribe_url, boundary=self.boundary)

    def wire(self, *, recipient: str, message_id: str, date: datetime, unsubscribe_url: str) -> bytes:
        """The message's wire bytes for one recipient (CRLF, ready for SMTP DATA)."""
        checked_url(unsubscribe_url, field="unsubscribe URL")
        mailbox("", recipient, field="To")  # the same checks build_message makes
        if not _MESSAGE_ID.fullmatch(message_id) or len(message_id) > 250:
            raise MailError(f"not a usable Message-ID: {message_id!r}", recipient=recipient)
        url = unsubscribe_url.encode("ascii")
        template = self._templates.get(len(url)) or self._template(len(url))
        values = {"To": recipient, "Message-ID": message_id, "Date": format_datetime(date)}
        head = [template.head[0]]
        for name, after in zip(template.fields, template.head[1:]):
            head.append(header_line(name, values[name]))
            head.append(after)
        head.append(b"\r\n")
        # List-Unsubscribe keeps its place and folding: the URL has the stand-in's length
        return b"".join(head).replace(template.stand_in, url) + self._fill_body(template, url)

    def _fill_body(self, template: _Template, url: bytes) -> bytes:
        edits = [(slot.start, slot.end, _cut(url, slot.cuts)) for slot in template.slots]
        edits += [(part.start, part.end,
                   base64.encodebytes(part.content.replace(template.stand_in, url)).replace(b"\n", b"\r\n"))
                  for part in template.base64_parts]
        out, position = [], 0
        for start, end, replacement in sorted(edits):
            out.append(template.body[position:start])
            out.append(replacement)
            position = end
        out.append(template.body[position:])
        return b"".join(out)

    def _template(self, url_length: int) -> _Template:
        prefix = "https://stand-in.invalid/"
        if url_length < len(prefix) + 16:
            raise MailError(f"an unsubscribe URL of {url_length} characters is too short")
        while True:  # a stand-in found nowhere in the issue, so it marks only the URL's places
            stand_in = prefix + "".join(secrets.choice(_ALPHABET) for _ in range(url_length - len(prefix)))
            if stand_in not in self.text and stand_in not in self.html and stand_in not in self.subject:
                break
        message = self.build(recipient="stand-in@stand-in.invalid", message_id="<stand-in@stand-in.invalid>",
                             date=datetime(2000, 1, 1).astimezone(), unsubscribe_url=stand_in)
        data = to_wire(message)
        head, body = data.split(b"\r\n\r\n", 1)
        pieces, fields, current = [], [], []
        for line in _header_lines(head + b"\r\n"):
            name = line.split(b":", 1)[0].decode("ascii")
            if name in _FIXED_HEADERS:
                pieces.append(b"".join(current))
                fields.append(name)
                current = []
            else:
                current.append(line)
        pieces.append(b"".join(current))
        marker = stand_in.encode("ascii")
        base64_parts = []
        for part in message.walk():
            if part.is_multipart() or part.get("Content-Transfer-Encoding", "").lower() != "base64":
                continue
            encoded = part.get_payload().replace("\n", "\r\n").encode("ascii")
            start = body.index(encoded)
            base64_parts.append(_Base64Part(start, start + len(encoded), base64.b64decode(encoded)))
        template = _Template(head=tuple(pieces), fields=tuple(fields), body=body, stand_in=marker,
                             slots=tuple(_slots(body, marker, base64_parts)), base64_parts=tuple(base64_parts))
        self._templates[url_length] = template
        return template


def _header_lines(head: bytes) -> list[bytes]:
    """The header block as one entry per header, continuation lines kept with theirs."""
    lines: list[bytes] = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and lines:
            lines[-1] += line + b"\r\n"
        else:
            lines.append(line + b"\r\n")
    return lines


def _slots(body: bytes, marker: bytes, skip: list[_Base64Part]) -> list[_Slot]:
    """Every place the stand-in appears in a non-base64 part, soft line breaks and all."""
    pattern = re.compile(b"(?:=\r\n)?".join(re.escape(marker[i:i + 1]) for i in range(len(marker))))
    slots = []
    for match in pattern.finditer(body):
        if any(part.start <= match.start() < part.end for part in skip):
            continue
        cuts, seen = [], 0
        text = match.group()
        index = 0
        while index < len(text):
            if text.startswith(_SOFT_BREAK, index):
                cuts.append(seen)
                index += len(_SOFT_BREAK)
            else:
                seen += 1
                index += 1
        slots.append(_Slot(match.start(), match.end(), tuple(cuts)))
    return slots


def _cut(url: bytes, cuts: tuple[int, ...]) -> bytes:
    if not cuts:
        return url
    pieces, last = [], 0
    for cut in cuts:
        pieces.append(url[last:cut])
        last = cut
    pieces.append(url[last:])
    return _SOFT_BREAK.join(pieces)
