"""Message building: the headers bulk-sender rules ask for, Hangul through RFC 2047, CRLF wire
bytes, and no way for any field to become an extra header."""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest

from newsletter.errors import MailError
from newsletter.mail.message import Envelope, build_message, list_id_for, to_wire
from support.smtp import korean_issue

SEOUL = ZoneInfo("Asia/Seoul")
WHEN = datetime(2024, 7, 19, 8, 0, tzinfo=SEOUL)
UNSUB = "https://news.example.com/unsubscribe/WzEsImFiYyJd.c2lnbmF0dXJl"


def build(**overrides):
    issue = korean_issue()
    fields = dict(envelope=Envelope("AI 뉴스 편집부", "news@example.com", reply_to="curator@example.com",
                                    list_id=list_id_for("AI 뉴스", "https://news.example.com")),
                  recipient="reader@example.com", subject=issue.subject, text=issue.text, html=issue.html,
                  date=WHEN, message_id="<2024-07-19.n12.7@example.com>", unsubscribe_url=UNSUB)
    fields.update(overrides)
    return build_message(**fields)


def test_wire_bytes_are_crlf_short_lines_and_ascii_headers():
    data = to_wire(build())
    lines = data.split(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")  # no bare LF (DESIGN: "Line too long")
    assert max(len(line) for line in lines) <= 998
    head = data.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # Hangul only in RFC 2047 encoded-words
    assert b"=?utf-8?" in head


def test_parses_into_text_and_html_with_every_required_header_and_hangul_intact():
    issue = korean_issue()
    parsed = message_from_bytes(to_wire(build()), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    # MIME's canonical line end is CRLF, inside the encoded parts too
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == issue.text
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n").strip() == issue.html.strip()
    assert parsed["Subject"] == "AI 뉴스 #12 — 2024년 7월 19일 (금): 어휘 크기의 스케일링 법칙"
    assert parsed["From"].addresses[0].display_name == "AI 뉴스 편집부"
    assert parsed["From"].addresses[0].addr_spec == "news@example.com"
    assert parsed["To"].addresses[0].addr_spec == "reader@example.com"
    assert parsed["Reply-To"].addresses[0].addr_spec == "curator@example.com"
    assert parsed["Message-ID"] == "<2024-07-19.n12.7@example.com>"
    assert parsed["Date"].datetime == WHEN
    assert parsed["List-Id"] == "AI 뉴스 <newsletter.news.example.com>"
    assert parsed["List-Unsubscribe"].strip() == f"<{UNSUB}>"  # folded onto its own line when long
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["MIME-Version"] == "1.0"


def test_a_one_off_message_has_no_list_headers():
    parsed = message_from_bytes(to_wire(build(unsubscribe_url="", envelope=Envelope("AI 뉴스", "news@example.com"))),
                                policy=policy.default)
    assert parsed["List-Unsubscribe"] is None and parsed["List-Unsubscribe-Post"] is None
    assert parsed["List-Id"] is None and parsed["Reply-To"] is None


INJECTION = "\r\nBcc: victim@evil.example\r\nX-Injected: yes"


@pytest.mark.parametrize("field", ["subject", "sender_name", "sender_email", "reply_to", "recipient",
                                   "unsubscribe_url", "list_id", "message_id"])
@pytest.mark.parametrize("payload", [INJECTION, "\nBcc: victim@evil.example", "\rBcc: victim@evil.example",
                                     "\u2028Bcc: victim@evil.example"])
def test_no_field_can_add_a_header(field, payload):
    envelope = dict(sender_name="AI 뉴스", sender_email="news@example.com", reply_to="curator@example.com",
                    list_id="AI 뉴스 <newsletter.news.example.com>")
    message_fields = dict(subject="AI 뉴스 #12", recipient="reader@example.com", unsubscribe_url=UNSUB,
                          message_id="<a.1@example.com>")
    target = envelope if field in envelope else message_fields
    target[field] = target[field] + payload
    try:
        data = to_wire(build(envelope=Envelope(**envelope), **message_fields))
    except MailError:
        return  # refused outright: nothing reaches the wire
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    head = data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"\r\n(Bcc|X-Injected):", head, re.IGNORECASE)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["reader@example.com"]


@pytest.mark.parametrize("recipient", ["a@b.com, victim@evil.example", '"x"@example.com', "a@b.com>",
                                       "victim@evil.example\n", "독자@example.com", ""])
def test_anything_but_a_plain_wire_address_is_refused_as_recipient(recipient):
    with pytest.raises(MailError):
        build(recipient=recipient)


def test_an_unsubscribe_url_must_be_a_plain_http_url():
    for bad in ("javascript:alert(1)", "https://news.example.com/u/<x>", "https://news.example.com/u x", "/relative"):
        with pytest.raises(MailError):
            build(unsubscribe_url=bad)
