"""mail.bulk fills copies into a template instead of building each message: every copy must be
byte for byte what the email package builds for that recipient."""

from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest

from newsletter.errors import MailError
from newsletter.mail.bulk import BulkMessage
from newsletter.mail.message import Envelope, list_id_for, to_wire
from newsletter.model import UNSUBSCRIBE_PLACEHOLDER
from support.smtp import korean_issue

WHEN = datetime(2024, 7, 18, 23, 0, tzinfo=timezone.utc)
ENVELOPE = Envelope("AI 뉴스 편집부", "news@example.com", reply_to="curator@example.com",
                    list_id=list_id_for("AI 뉴스", "https://news.example.com"))
RECIPIENTS = ["a@b.co", "reader7@example.com", "kim.min-ji+news@mail.example.co.kr", "x" * 60 + "@example.com",
              "y" * 74 + "@example.com", "first.last" * 12 + "@lists.example.org", "lee@xn--3e0b707e.kr",
              "z" * 64 + "@" + "d" * 60 + ".example.com"]


def bodies():
    issue = korean_issue()
    return {
        "mjml issue (base64 text, quoted-printable HTML)": (issue.subject, issue.text, issue.html),
        "ascii, short lines (7bit)": ("Weekly", f"Hello.\nLeave: {UNSUBSCRIBE_PLACEHOLDER}\n",
                                      f'<p><a href="{UNSUBSCRIBE_PLACEHOLDER}">leave</a></p>\n'),
        "short Hangul lines (base64)": ("짧은 호", f"안녕하세요\n수신 거부\n{UNSUBSCRIBE_PLACEHOLDER}\n",
                                        f'<p>안녕</p><a href="{UNSUBSCRIBE_PLACEHOLDER}">거부</a>\n'),
        "the link twice on one long line": ("x", "본문 " * 400 + UNSUBSCRIBE_PLACEHOLDER + " 그리고 " + UNSUBSCRIBE_PLACEHOLDER,
                                            ("<p>" + "긴 줄 " * 300 + f'<a href="{UNSUBSCRIBE_PLACEHOLDER}">1</a>') * 2),
        "no link in the text part": ("x", "링크 없는 본문\n", f'<a href="{UNSUBSCRIBE_PLACEHOLDER}">거부</a>'),
    }


@pytest.mark.parametrize("name", list(bodies()))
def test_every_copy_is_what_the_email_package_builds(name):
    subject, text, html = bodies()[name]
    bulk = BulkMessage(envelope=ENVELOPE, subject=subject, text=text, html=html, placeholder=UNSUBSCRIBE_PLACEHOLDER)
    for n, recipient in enumerate(RECIPIENTS):
        for subscriber_id in (1, 42, 9_999, 1_234_567, 10 ** 9 + n):
            token = f"WzE{subscriber_id}LCJhYmMiXQ.{'s' * (40 + n)}"  # URLs of many lengths
            fields = dict(recipient=recipient, message_id=f"<2024-07-19.n12.{subscriber_id}@example.com>",
                          date=WHEN, unsubscribe_url=f"https://news.example.com/unsubscribe/{token}")
            fast = bulk.wire(**fields)
            assert fast == to_wire(bulk.build(**fields)), (recipient, subscriber_id)
    parsed = message_from_bytes(fast, policy=policy.default)
    assert parsed["To"].addresses[0].addr_spec == RECIPIENTS[-1]
    url = fields["unsubscribe_url"]
    assert parsed["List-Unsubscribe"] == f"<{url}>"
    assert url in parsed.get_body(("html",)).get_content()
    assert b"stand-in" not in fast


def test_copies_check_their_fields_like_the_package_does():
    issue = korean_issue()
    bulk = BulkMessage(envelope=ENVELOPE, subject=issue.subject, text=issue.text, html=issue.html,
                       placeholder=UNSUBSCRIBE_PLACEHOLDER)
    good = dict(recipient="kim@example.com", message_id="<a.1@example.com>", date=WHEN,
                unsubscribe_url="https://news.example.com/unsubscribe/" + "t" * 80)
    bulk.wire(**good)
    for field, bad in [("recipient", "kim@example.com\r\nBcc: x@evil.example"), ("recipient", "a@b.com, c@d.com"),
                       ("message_id", "<a.1@example.com>\r\nBcc: x@evil.example"),
                       ("unsubscribe_url", "https://news.example.com/u/x\r\nBcc: x@evil.example")]:
        with pytest.raises(MailError):
            bulk.wire(**{**good, field: bad})


def test_every_byte_on_the_wire_is_seven_bit():
    issue = korean_issue()
    bulk = BulkMessage(envelope=ENVELOPE, subject=issue.subject, text="짧은 줄\n", html="<p>짧은 줄</p>\n",
                       placeholder=UNSUBSCRIBE_PLACEHOLDER)
    data = bulk.wire(recipient="kim@example.com", message_id="<a.1@example.com>", date=WHEN,
                     unsubscribe_url="https://news.example.com/unsubscribe/" + "t" * 80)
    assert max(data) < 0x80  # short Hangul lines are not sent as raw 8bit
